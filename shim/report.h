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
