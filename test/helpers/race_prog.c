/* SPDX-License-Identifier: MIT */
/* race_prog: the fork→registration race, forced open from outside.  Run as
 * `reuse -- race_prog` (the reuse helper's protocol on fds 3 and 4) under
 * `strace -f -e inject=pidfd_open:delay_enter=200000`, so libkt's
 * pidfd_open in the fork hook starts 200 ms after fork() made the child.
 * Meanwhile the child exits, another thread reaps it with waitpid(-1) and
 * tells the supervisor, which puts a stranger on the freed number.  fork()
 * then returns the number, which is the stranger's by now; kill() of it must
 * be refused (with libkt) or kills the stranger (without).
 *
 * Prints (on fd 3) "result pid=P kill_ret=R kill_errno=E reaped_before=B",
 * B=1 when the reaper had the child before fork() returned (the race was
 * really open). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../older_glibc.h"
#include "selfcheck.h"

static _Atomic int freed_pid, ready;

static void *reaper(void *arg)
{
	(void)arg;
	int st;
	pid_t p;
	/* ECHILD: the fork has not happened yet. */
	while ((p = waitpid(-1, &st, 0)) < 0 && (errno == EINTR || errno == ECHILD))
		usleep(100);
	atomic_store(&freed_pid, p);
	dprintf(3, "freed %d\n", (int)p);
	char line[64];
	if (read_line(4, line, sizeof line) >= 0 && strcmp(line, "ready") == 0)
		atomic_store(&ready, 1);
	return NULL;
}

int main(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, reaper, NULL) != 0)
		return 2;
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return 2;
	int reaped_before = atomic_load(&freed_pid) == pid;
	pthread_join(t, NULL);
	if (!atomic_load(&ready) || atomic_load(&freed_pid) != pid)
		return 3;
	errno = 0;
	int r = kill(pid, SIGTERM);
	int e = errno;
	dprintf(3, "result pid=%d kill_ret=%d kill_errno=%s reaped_before=%d\n", (int)pid, r,
	        e ? strerrorname_np(e) : "0", reaped_before);
	return 0;
}
