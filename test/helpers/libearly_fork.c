/* SPDX-License-Identifier: MIT */
/* A library whose constructor forks, reaps and kills before libkt's own
 * constructor has run: preloaded AFTER libkt (LD_PRELOAD="libkt.so
 * libearly_fork.so"), it is initialised first.  Prints what it saw. */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kt.h>
#include "../older_glibc.h"

__attribute__((constructor)) static void early_fork(void)
{
	int (*state)(pid_t) = (int (*)(pid_t))dlsym(RTLD_DEFAULT, "kt_pid_state");
	int (*counters)(struct kt_counters *, size_t) =
		(int (*)(struct kt_counters *, size_t))dlsym(RTLD_DEFAULT, "kt_counters");
	pid_t p = fork();
	if (p == 0)
		_exit(0);
	int live = state ? state(p) : -1;
	int st;
	waitpid(p, &st, 0);
	errno = 0;
	int r = kill(p, SIGTERM);
	int e = errno;
	struct kt_counters c;
	memset(&c, 0, sizeof c);
	if (counters)
		counters(&c, sizeof c);
	printf("early: live=%d reaped=%d kill=%d errno=%s mode=%u refused=%llu delivered=%llu\n",
	       live, state ? state(p) : -1, r, strerrorname_np(e), c.mode,
	       (unsigned long long)c.stale_refused, (unsigned long long)c.stale_delivered);
	fflush(stdout);
}
