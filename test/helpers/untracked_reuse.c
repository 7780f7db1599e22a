/* untracked_reuse: a reaped child's number handed to a child that libkt did
 * not register (made by a raw clone syscall, as system(), popen() or a
 * program's own clone would make one), inside a private PID namespace where
 * ns_last_pid puts it there for sure.  kill() of that number names a live
 * child of ours and must reach it, with or without libkt: libkt's tombstone
 * for the old child must not refuse it.
 *
 * Prints "pid_reused=1 kill_ret=0 child_signal=15" when all is well.
 * Exit 77: no PID namespace (or no ns_last_pid) here. */

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

static int program(void)
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
	/* A raw clone: no hook of libkt's sees it. */
	long c = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (c == 0) {
		for (;;)
			syscall(SYS_pause);
	}
	if (c < 0)
		return 2;
	errno = 0;
	int r = kill((pid_t)c, SIGTERM);
	if (r != 0)
		syscall(SYS_kill, c, SIGKILL); /* refused: end it by hand */
	int st = 0;
	waitpid((pid_t)c, &st, 0);
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("pid_reused=%d kill_ret=%d child_signal=%d\n", c == old, r,
	       WIFSIGNALED(st) ? WTERMSIG(st) : -1);
	return 0;
}

int main(void)
{
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
			_exit(program());
		int st;
		waitpid(p, &st, 0);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 3);
	}
	int st;
	waitpid(init, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 3;
}
