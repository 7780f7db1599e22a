/* SPDX-License-Identifier: MIT */
/* kill_race: the kill-time identity window, forced open from outside.
 *
 * Run as `reuse -- kill_race REAPER SEND [FIRST]` (the reuse helper's
 * protocol on fds 3 and 4) under strace with a delay injected into one of
 * the system calls libkt's kill makes: pidfd_open's exit (before the waitid
 * proof), waitid's entry (the proof itself), or pidfd_send_signal's entry
 * (after the proof).  The program forks a child that waits on a pipe, then
 * calls kill(child, SIGTERM) (or sigqueue).  While that call sits in the
 * delayed system call, the child is made to exit, is reaped, and the
 * supervisor puts a stranger on its number.  The signal must then reach
 * nobody: with libkt the call fails with ESRCH and the stranger lives.
 *
 *   REAPER  thread:  another thread reaps the child with waitpid(pid);
 *           handler: a SIGCHLD handler in the signalling thread reaps it
 *                    (waitpid(-1, WNOHANG)), running between two of
 *                    libkt's system calls as the delayed one returns.
 *   SEND    kill or sigqueue.
 *   FIRST   "first" (default): this is the first signal the child gets;
 *           "second": a kill(pid, 0) went before, so libkt may already
 *           hold an identity for it and only the send is left to delay.
 *
 * Prints (on fd 3) "result pid=P kill_ret=R kill_errno=E window=W", W=1
 * when the stranger held the number before the signalling call returned
 * (the window really was open while the call was in progress). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../older_glibc.h"
#include "selfcheck.h"

enum { CTL_FD = 3, REPLY_FD = 4 };

/* How long after the signalling call starts the child is let go: well inside
 * the injected delay (the test's), well after the call entered it. */
#define LET_GO_MS 150

static pid_t child;
static int go_pipe[2];
static _Atomic int freed, stranger_placed, started;

/* The child is reaped: tell the supervisor and wait for the stranger. */
static void reaped(pid_t p)
{
	atomic_store(&freed, p);
	dprintf(CTL_FD, "freed %d\n", (int)p);
	char line[64];
	if (read_line(REPLY_FD, line, sizeof line) >= 0 && strcmp(line, "ready") == 0)
		atomic_store(&stranger_placed, 1);
}

static void on_sigchld(int sig)
{
	(void)sig;
	int saved = errno;
	int st;
	pid_t p = waitpid(-1, &st, WNOHANG);
	if (p == child)
		reaped(p);
	errno = saved;
}

/* Lets the child go once the signalling call has started; with REAP, reaps
 * it here too. */
static void *letgo(void *arg)
{
	int reap = *(int *)arg;
	while (!atomic_load(&started))
		sleep_ms(1);
	sleep_ms(LET_GO_MS);
	close(go_pipe[1]);
	if (reap) {
		int st;
		while (waitpid(child, &st, 0) < 0 && errno == EINTR)
			;
		reaped(child);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int by_thread = strcmp(argv[1], "thread") == 0;
	int by_handler = strcmp(argv[1], "handler") == 0;
	int use_sigqueue = strcmp(argv[2], "sigqueue") == 0;
	int second = argc > 3 && strcmp(argv[3], "second") == 0;
	if (!by_thread && !by_handler)
		return 2;

	if (pipe(go_pipe) < 0)
		return 2;
	child = fork();
	if (child < 0)
		return 2;
	if (child == 0) {
		char c;
		close(go_pipe[1]);
		while (read(go_pipe[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(go_pipe[0]);

	if (by_handler) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_sigchld;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGCHLD, &sa, NULL);
	}
	/* The helper thread must not take the SIGCHLD: only the signalling
	 * thread has it unblocked, so the handler runs inside its call. */
	sigset_t chld, old;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, &old);
	pthread_t t;
	int reap = by_thread;
	if (pthread_create(&t, NULL, letgo, &reap) != 0)
		return 2;
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	if (second && kill(child, 0) != 0)
		return 3;
	atomic_store(&started, 1);
	errno = 0;
	int r;
	if (use_sigqueue) {
		union sigval v = { .sival_int = 7 };
		r = sigqueue(child, SIGTERM, v);
	} else {
		r = kill(child, SIGTERM);
	}
	int e = errno;
	int window = atomic_load(&stranger_placed);
	pthread_join(t, NULL);
	/* The handler may still be due (the call was not delayed at all, say):
	 * wait for the reap, so the supervisor always gets its "freed". */
	for (int i = 0; i < 2000 && !atomic_load(&freed); i++)
		sleep_ms(1);
	if (!atomic_load(&freed) || !atomic_load(&stranger_placed))
		return 3;
	dprintf(CTL_FD, "result pid=%d kill_ret=%d kill_errno=%s window=%d\n", (int)child, r,
	        e ? strerrorname_np(e) : "0", window);
	return 0;
}
