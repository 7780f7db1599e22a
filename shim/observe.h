/* SPDX-License-Identifier: MIT */
/* Observation (KT_OBSERVE): a kill of a number the program saw under /proc
 * reaches the process it saw there, or nobody.
 *
 * Scanners (pkill, psutil-style tools, supervisors) read /proc/N/..., decide,
 * then kill(N).  Between the two, N can exit and its number go to a new
 * process.  When the program opens something under /proc/N (N not a child
 * it registered), the open hooks (hooks_open.c) hand the path here, and
 * libkt writes down which process N was at that moment; a later kill of N
 * (hooks_signal.c, for numbers no table slot names) asks kt_observe_judge
 * whether the process holding N now is that one.
 *
 * Which process N was, taken right after the program's own open returned:
 * a pidfd of N, and its pidfs inode number (6.9+), or where pidfds carry
 * no unique inode (before 6.9, or KT_IDENTITY=fd), the start time of the
 * process the pidfd names, read from /proc/N/stat while the pidfd proves
 * that process still held N.  Why that pidfd names the process the program
 * opened, and why inode order settles the kill, is in observe.c.
 *
 * The record is a small table (a few thousand observations, the oldest of
 * a bucket out), holds no descriptor, and is written and read with raw
 * system calls and atomics only: async-signal-safe and thread-safe.  A
 * forked child starts with an empty one (its kills of numbers its parent
 * saw go by number); a vfork child records nothing. */
#ifndef KT_OBSERVE_H
#define KT_OBSERVE_H

#include <stdatomic.h>
#include <sys/types.h>

#include "caller.h"
#include "config.h"
#include "report.h"

/* Read inline by the hooks, so that a program with observation off, or one
 * that never opened anything under /proc, pays one load:
 *   MODE   KT_OBSERVE in force, capped by KT_MODE (set by the constructor
 *          only; KT_MODE_OFF until then);
 *   TABLE  the observations, NULL until the first is recorded. */
struct kt_observe_hot {
	_Atomic int mode;
	void *_Atomic table;
};
extern struct kt_observe_hot kt_observe_hot;

/* Start-up: KT_OBSERVE wants OBSERVE; KT_MODE is MODE. */
void kt_observe_configure(enum kt_mode observe, enum kt_mode mode);

/* 1 if the open hooks should look at paths. */
static inline int kt_observe_on(void)
{
	return atomic_load_explicit(&kt_observe_hot.mode, memory_order_relaxed) != KT_MODE_OFF;
}

/* 1 if a kill of an unregistered number must ask kt_observe_judge. */
static inline int kt_observe_active(void)
{
	return atomic_load_explicit(&kt_observe_hot.table, memory_order_relaxed) != NULL;
}

/* The mode a judged kill is carried out in: audit or enforce. */
enum kt_mode kt_observe_mode(void);

/* PATH could name something under /proc/N: "/proc/" and a digit, or (for
 * a path relative to a directory) a leading digit.  Two or three byte
 * compares: every other path the program opens costs no more. */
static inline int kt_observe_candidate(const char *path)
{
	if (path[0] == '/')
		return path[1] == 'p' && path[2] == 'r' && path[3] == 'o' && path[4] == 'c' &&
		       path[5] == '/' && path[6] >= '1' && path[6] <= '9';
	return path[0] >= '1' && path[0] <= '9';
}

/* The program opened PATH (a kt_observe_candidate) relative to DIRFD
 * (AT_FDCWD for its working directory) successfully, from ORIGIN: record
 * which process it names, if it names one.  Leaves errno alone. */
void kt_observe_opened(int dirfd, const char *path, const struct kt_origin *origin);

/* What a kill of an unregistered number gets. */
enum kt_observed {
	KT_OBSERVED_NOT = 0, /* never observed, or nothing could be proven: by number */
	KT_OBSERVED_HOLDER,  /* the process observed holds it: send through *PIDFD */
	KT_OBSERVED_LATER,   /* a process created after the observation holds it: stale */
	KT_OBSERVED_NOBODY,  /* observed, and no process holds the number (a process
	                        kill; a group may outlive its leader, so a group
	                        kill of a free number is NOT) */
};

/* Judge a kill of PID (GROUP: of the process group PID names).  On
 * KT_OBSERVED_HOLDER, *PIDFD is a pidfd of the observed process, for the
 * caller to send through and close. */
enum kt_observed kt_observe_judge(pid_t pid, int group, int *pidfd);

/* The observation of PID a stale kill's report tells: 1 with *OUT filled,
 * 0 if there is none now. */
int kt_observe_describe(pid_t pid, struct kt_sighting *out);

#endif
