/* SPDX-License-Identifier: MIT */
/* KT_EXITCODE=N: a process that sent a stale kill exits with N where it
 * would have exited 0 (exitcode.c says how, and which process). */
#ifndef KT_EXITCODE_H
#define KT_EXITCODE_H

/* Remember CODE (KT_EXITCODE, 0 if unset) and, if set, register the exit
 * handler (constructor). */
void kt_exitcode_arm(int code);
/* This process has just sent a stale kill (refused or let through).
 * Async-signal-safe. */
void kt_exitcode_note_stale(void);
/* The status a process ending with STATUS ends with: N instead of 0 when
 * it sent a stale kill and KT_EXITCODE is N.  Async-signal-safe. */
int kt_exit_status(int status);

#endif
