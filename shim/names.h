/* The words reports use for libkt's enums, each table in one place
 * (names.c).  Look-ups are bounds-checked: a report's facts are read without
 * a lock (table.h) and must never index past a table. */
#ifndef KT_NAMES_H
#define KT_NAMES_H

#include <stddef.h>

#include "config.h"
#include "table.h"

/* Reasons libkt falls back to plain behaviour; each is reported once. */
enum kt_degraded {
	KT_DEGRADED_NO_PIDFD = 0,   /* pidfd_open: ENOSYS or EPERM (old kernel, seccomp) */
	KT_DEGRADED_NO_PIDFS,       /* pidfds exist but carry no unique inode (< 6.9) */
	KT_DEGRADED_FD_EXHAUSTED,   /* EMFILE/ENFILE/ENOMEM taking an identity */
	KT_DEGRADED_NO_MEMORY,      /* no memory for the PID table */
	KT_DEGRADED_NO_CLONE_PIDFD, /* clone refuses CLONE_PIDFD (< 5.2, qemu-user, seccomp) */
	KT_DEGRADED_NO_PGRP_SIGNAL, /* no PIDFD_SIGNAL_PROCESS_GROUP (< 6.9) */
	KT_DEGRADED_FD_BUDGET,      /* fd mode: no room left to hold a child's pidfd */
	KT_DEGRADED_REASONS
};

extern const char *const kt_made_by_name[KT_MADE_BY_COUNT];     /* "fork", ... */
extern const char *const kt_reaped_by_key[KT_REAPED_BY_COUNT];  /* "waitpid", ... */
extern const char *const kt_reaped_by_text[KT_REAPED_BY_COUNT]; /* "by waitpid()", ... */
extern const char *const kt_degraded_key[KT_DEGRADED_REASONS];  /* "no_pidfd", ... */
extern const char *const kt_degraded_text[KT_DEGRADED_REASONS]; /* a sentence */
extern const char *const kt_mode_name[KT_MODE_ENFORCE + 1];     /* "off", ... */

/* TABLE[I], or NULL when I is out of range or has no word. */
#define KT_NAME(table, i) \
	((size_t)(i) < sizeof(table) / sizeof(table)[0] ? (table)[(size_t)(i)] : (const char *)0)

#endif
