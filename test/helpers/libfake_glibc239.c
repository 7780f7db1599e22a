/* SPDX-License-Identifier: MIT */
/*
 * libfake_glibc239 — a stand-in for glibc 2.39's pidfd_spawn, pidfd_spawnp and
 * pidfd_getpid, for machines whose glibc is older (this one has 2.36).
 *
 * Loaded after libkt (LD_PRELOAD="libkt.so libfake_glibc239.so"), it is what
 * libkt's dlvsym(RTLD_NEXT, "pidfd_spawn", "GLIBC_2.39") finds, so libkt's
 * pidfd_spawn hook and its registration from the caller's pidfd run here as
 * they would on a newer glibc.  Exported under GLIBC_2.39 (see the .map).
 *
 * Only what the tests use: the file actions and attributes are ignored; the
 * child comes from clone(CLONE_PIDFD), as glibc's comes from clone3.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int fake_pidfd_spawn(int *, const char *, const posix_spawn_file_actions_t *,
                     const posix_spawnattr_t *, char *const[], char *const[]);
int fake_pidfd_spawnp(int *, const char *, const posix_spawn_file_actions_t *,
                      const posix_spawnattr_t *, char *const[], char *const[]);
pid_t fake_pidfd_getpid(int);

static int spawn(int *pidfd, const char *file, char *const argv[], char *const envp[],
                 int search)
{
	int fd = -1, err[2];
	if (pipe2(err, O_CLOEXEC) < 0)
		return errno;
	/* A fork-like clone: the child has its own memory, so exec's failure
	 * can go back through a close-on-exec pipe. */
	long pid = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &fd, 0, 0);
	if (pid == 0) {
		close(err[0]);
		if (search)
			execvpe(file, argv, envp);
		else
			execve(file, argv, envp);
		int e = errno;
		if (write(err[1], &e, sizeof e) < 0) {
			/* nothing to do */
		}
		_exit(127);
	}
	close(err[1]);
	if (pid < 0) {
		int e = errno;
		close(err[0]);
		return e;
	}
	int e = 0;
	ssize_t n = read(err[0], &e, sizeof e);
	close(err[0]);
	if (n == sizeof e) {
		/* Like glibc: the failed child is reaped, no fd is returned. */
		siginfo_t si;
		waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WEXITED);
		close(fd);
		return e;
	}
	*pidfd = fd;
	return 0;
}

int fake_pidfd_spawn(int *pidfd, const char *path, const posix_spawn_file_actions_t *fa,
                     const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	(void)fa;
	(void)attr;
	return spawn(pidfd, path, argv, envp, 0);
}

int fake_pidfd_spawnp(int *pidfd, const char *file, const posix_spawn_file_actions_t *fa,
                      const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	(void)fa;
	(void)attr;
	return spawn(pidfd, file, argv, envp, 1);
}

/* glibc's way: the "Pid:" line of /proc/self/fdinfo/FD. */
pid_t fake_pidfd_getpid(int fd)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
	int f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -1;
	ssize_t n = read(f, buf, sizeof buf - 1);
	close(f);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	const char *p = strstr(buf, "\nPid:");
	if (!p)
		return -1;
	int pid = atoi(p + 5);
	if (pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	return pid;
}

__asm__(".symver fake_pidfd_spawn, pidfd_spawn@@GLIBC_2.39");
__asm__(".symver fake_pidfd_spawnp, pidfd_spawnp@@GLIBC_2.39");
__asm__(".symver fake_pidfd_getpid, pidfd_getpid@@GLIBC_2.39");
