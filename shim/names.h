/* SPDX-License-Identifier: MIT */
/* The words reports use for libkt's enums, each table in one place
 * (names.c).  Look-ups are bounds-checked: a report's facts are read without
 * a lock (table.h) and must never index past a table.  The tables hold
 * arrays of characters, not pointers: a table of pointers would cost the
 * dynamic loader one relocation per entry in every process start. */
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

extern const char kt_made_by_name[KT_MADE_BY_COUNT][16];      /* "fork", ... */
extern const char kt_reaped_by_key[KT_REAPED_BY_COUNT][24];    /* "waitpid", ... */
extern const char kt_reaped_by_text[KT_REAPED_BY_COUNT][72];   /* "by waitpid()", ... */
extern const char kt_degraded_key[KT_DEGRADED_REASONS][16];    /* "no_pidfd", ... */
extern const char kt_degraded_text[KT_DEGRADED_REASONS][168];  /* a sentence */
extern const char kt_mode_name[KT_MODE_ENFORCE + 1][8];        /* "off", ... */

/* TABLE[I], or NULL when I is out of range or has no word. */
#define KT_NAME(table, i)                                                     \
	((size_t)(i) < sizeof(table) / sizeof(table)[0] && (table)[(size_t)(i)][0] \
	         ? (const char *)(table)[(size_t)(i)]                                \
	         : (const char *)0)

#endif
