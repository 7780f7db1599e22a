/* SPDX-License-Identifier: MIT */
/* Reports: one event per stale kill, one per reason libkt degraded, the
 * configuration warnings and the KT_STATS exit summary, as text or JSON
 * lines, written only where KT_LOG points (log.h), never anywhere else.
 * Everything but the summary and the warnings runs inside kill() or a
 * registration, so inside signal handlers: raw syscalls and the
 * allocation-free formatter only, and errno is left as it was. */
#ifndef KT_REPORT_H
#define KT_REPORT_H

#include <stdint.h>
#include <sys/types.h>

#include "caller.h"
#include "config.h"
#include "holder.h"
#include "names.h"
#include "table.h"

/* How the process behind an observed number was told apart (observe.c). */
enum kt_sighting_kind {
	KT_SEEN_GONE = 1, /* nobody held the number right after the program's open */
	KT_SEEN_INODE,    /* its pidfs inode number (6.9+) */
	KT_SEEN_START,    /* its start time, clock ticks after boot (older kernels) */
};

/* Bytes of the /proc path kept for a report ("/proc/N/..." cut short). */
#define KT_SEEN_PATH 48

/* A number the program saw under /proc, as a stale kill's report tells it:
 * when, where (the path the program opened and the stack it opened it
 * from) and which process it was.  Best effort, like a child's story. */
struct kt_sighting {
	enum kt_sighting_kind kind;
	uint64_t ident;          /* the inode or the start time; 0 for GONE */
	uint64_t at_ns;          /* CLOCK_MONOTONIC of the observation; 0 if not kept */
	char path[KT_SEEN_PATH]; /* "" if not kept */
	struct kt_caller from;   /* n == 0 if not kept */
};

/* One stale kill: everything a report line says about it.  CALL names the
 * public entry point ("kill", "killpg", "sigqueue"), so every signalling hook
 * reports through the same event. */
struct kt_stale {
	pid_t pid;
	int sig;
	const char *call;
	int group;              /* kill(-pid)/killpg(pid): the signal was for pid's group */
	int delivered;          /* audit mode: the kill went through */
	int delivered_errno;    /* and the kernel's answer (0: signal sent) */
	int holder;             /* audit mode: who held the PID before the delivery,
	                           as kt_holder_describe says (1 another process,
	                           described in holder_seen, 0 nobody, -1 unknown).
	                           Enforce mode sends nothing: the report describes
	                           the holder itself as it writes the line. */
	struct kt_holder_facts holder_seen;
	struct kt_caller caller; /* where in the program the call came from */
	/* The child was an ancestor's (a forked process's kill of its parent's
	 * child, tree.h): that ancestor, and the child's facts as registered
	 * there (NULL: not known).  ANCESTOR_PID is 0 for a child of our own. */
	pid_t ancestor_pid;
	const char *ancestor_name;
	const struct kt_slot_info *ancestor_facts;
	uint64_t ancestor_reg_seq;
	/* Not a child's number but one the program saw under /proc: the
	 * observation it was judged by (the report says that instead of the
	 * child's story).  NULL for a child's. */
	const struct kt_sighting *seen;
};
void kt_report_stale(const struct kt_stale *ev);

/* Libkt fell back to plain behaviour for reason WHY (ERR: the errno behind
 * it, or 0).  Each reason is reported once per process. */
void kt_report_degraded(enum kt_degraded why, int err);

/* The KT_STATS=1 exit summary (destructor); MODE is the mode in force. */
void kt_report_summary(enum kt_mode mode);

/* Write the configuration warnings the parser collected in C (constructor). */
void kt_report_config_warnings(const struct kt_config *c);

/* The comm a reuse decoy gives itself (kt-run --provoke-reuse), so a report
 * can say a stale kill met a decoy rather than a real process. */
#define KT_DECOY_COMM "kt-decoy"

#endif
