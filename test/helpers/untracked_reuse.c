/* SPDX-License-Identifier: MIT */
/* untracked_reuse MODE: a reaped child's number handed to a child made where
 * libkt's fork/spawn hooks do not see it, inside a private PID namespace where
 * ns_last_pid puts it there for sure.  MODE is how that child is made:
 *
 *   clone, clone3, fork   syscall(SYS_clone / SYS_clone3 / SYS_fork): the
 *                         program knows the child by number, so kill() of that
 *                         number names it and must reach it, with or without
 *                         libkt (libkt registers it through its syscall hook);
 *   popen                 inside glibc, never through an exported function:
 *                         libkt cannot tell it from a child made through a
 *                         path another interposer took over, so the kill
 *                         reaches it, with or without libkt.
 *
 * Prints "pid_reused=1 kill_ret=R kill_errno=E child_signal=S".  A child still
 * alive after the kill is ended with SIGKILL by a raw system call, so S is 9
 * when the kill did not reach it.  Exit 77: no PID namespace (or no
 * ns_last_pid) here. */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

/* struct clone_args's first version (linux/sched.h, which clashes with
 * <sched.h>): eight 64-bit fields. */
struct clone_args_v0 {
	unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size,
		tls;
};

static int program(const char *mode)
{
	/* Our own /proc, for this namespace's ns_last_pid. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return 77;
	pid_t old = fork();
	if (old == 0)
		_exit(0);
	if (old < 0 || waitpid(old, NULL, 0) != old)
		return 2;
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || dprintf(fd, "%d", (int)old - 1) < 0)
		return 77;
	close(fd);
	pid_t c = -1;
	FILE *shell = NULL;
	if (strcmp(mode, "popen") == 0) {
		/* The shell execs sleep: one process, on the steered number. */
		shell = popen("exec sleep 30", "r");
		if (!shell)
			return 2;
		c = old;
		char proc[64];
		snprintf(proc, sizeof proc, "/proc/%d", (int)old);
		if (access(proc, F_OK) != 0)
			c = -1; /* not on the number after all: pid_reused=0 */
	} else {
		long r = -1;
		if (strcmp(mode, "clone") == 0) {
			r = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
		} else if (strcmp(mode, "clone3") == 0) {
			struct clone_args_v0 args;
			memset(&args, 0, sizeof args);
			args.exit_signal = SIGCHLD;
			r = syscall(SYS_clone3, &args, sizeof args);
#ifdef SYS_fork
		} else if (strcmp(mode, "fork") == 0) {
			r = syscall(SYS_fork);
#endif
		} else {
			return 2;
		}
		if (r == 0) {
			for (;;)
				syscall(SYS_pause);
		}
		if (r < 0)
			return 2;
		c = (pid_t)r;
	}
	errno = 0;
	int r = kill(c, SIGTERM);
	int err = r ? errno : 0;
	if (r != 0)
		syscall(SYS_kill, c, SIGKILL); /* refused: end it by hand */
	int st = 0;
	if (shell)
		st = pclose(shell);
	else
		waitpid(c, &st, 0);
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("pid_reused=%d kill_ret=%d kill_errno=%d child_signal=%d\n", c == old, r, err,
	       WIFSIGNALED(st) ? WTERMSIG(st) : -1);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "clone";
	if (unshare(CLONE_NEWPID | CLONE_NEWNS) < 0)
		return 77;
	fflush(stdout);
	pid_t init = fork();
	if (init < 0)
		return 2;
	if (init == 0) {
		/* pid 1 of the namespace runs the program as its child, so the
		 * program's numbers are small and nothing else forks there. */
		pid_t p = fork();
		if (p == 0)
			_exit(program(mode));
		int st;
		waitpid(p, &st, 0);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 3);
	}
	int st;
	waitpid(init, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 3;
}
