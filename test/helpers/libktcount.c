/* SPDX-License-Identifier: MIT */
/*
 * libktcount.so — a test-only companion preloaded after libkt.so
 *
 *     LD_PRELOAD="libkt.so:libktcount.so" KTCOUNT_FILE=/abs/path program ...
 *
 * libkt's counters (include/kt.h) live inside each process; a real program never
 * asks for them.  This library asks on the program's behalf: when a process that
 * has it loaded exits normally (return from main, exit()), it appends one line
 *
 *     pid=N ppid=N comm=NAME loaded=1 children_tracked=N kills_via_pidfd=N
 *     stale_refused=N stale_delivered=N fallbacks=N reaps_seen=N identity=N mode=N
 *
 * to $KTCOUNT_FILE (loaded=0 and no counters when kt_counters is not found).
 *
 * The counts are this process's own: a forked child's counters start from
 * zero (kt.h); a fork handler still takes a snapshot and the line carries the
 * difference, so a libkt whose children inherited counts reads right too.  A process that ends by a signal, _exit() or exec() writes nothing;
 * the suite falls back on strace for the two programs that die of their own
 * signal (make after SIGINT, timeout after --kill-after).
 *
 * Without KTCOUNT_FILE it does nothing at all.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "kt.h"

typedef int (*kt_counters_fn)(struct kt_counters *, size_t);

static char out_path[4096];
static struct kt_counters at_start; /* the counts this process inherited */

static kt_counters_fn lookup(void)
{
	return (kt_counters_fn)dlsym(RTLD_DEFAULT, "kt_counters");
}

/* Runs in the child inside fork(), before fork() returns to the program:
 * async-signal-safe calls only (kt_counters is). */
static void forked_child(void)
{
	kt_counters_fn f = lookup();
	if (f)
		f(&at_start, sizeof at_start);
}

__attribute__((constructor)) static void ktcount_start(void)
{
	const char *p = getenv("KTCOUNT_FILE");
	if (!p || p[0] != '/' || strlen(p) >= sizeof out_path)
		return;
	strcpy(out_path, p);
	pthread_atfork(NULL, NULL, forked_child);
}

__attribute__((destructor)) static void ktcount_dump(void)
{
	if (!out_path[0])
		return;
	char comm[17] = "";
	prctl(PR_GET_NAME, comm, 0, 0, 0);
	char line[512];
	int n;
	kt_counters_fn f = lookup();
	struct kt_counters c;
	memset(&c, 0, sizeof c);
	if (f && f(&c, sizeof c) > 0) {
		n = snprintf(line, sizeof line,
		             "pid=%d ppid=%d comm=%s loaded=1 children_tracked=%llu "
		             "kills_via_pidfd=%llu stale_refused=%llu stale_delivered=%llu "
		             "fallbacks=%llu reaps_seen=%llu identity=%u mode=%u\n",
		             (int)getpid(), (int)getppid(), comm,
		             (unsigned long long)(c.children_tracked - at_start.children_tracked),
		             (unsigned long long)(c.kills_via_pidfd - at_start.kills_via_pidfd),
		             (unsigned long long)(c.stale_refused - at_start.stale_refused),
		             (unsigned long long)(c.stale_delivered - at_start.stale_delivered),
		             (unsigned long long)(c.fallbacks - at_start.fallbacks),
		             (unsigned long long)(c.reaps_seen - at_start.reaps_seen),
		             c.identity_mode, c.mode);
	} else {
		n = snprintf(line, sizeof line, "pid=%d ppid=%d comm=%s loaded=0\n",
		             (int)getpid(), (int)getppid(), comm);
	}
	/* One write on an O_APPEND file: lines of concurrent processes never mix. */
	int fd = open(out_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (n > 0 && write(fd, line, (size_t)n) < 0) {
		/* a test will notice the missing line */
	}
	close(fd);
}
