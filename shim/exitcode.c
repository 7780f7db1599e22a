/* SPDX-License-Identifier: MIT */
/* KT_EXITCODE=N (kt-run --exitcode N): a process that sent a stale kill
 * exits with N where it would have exited 0, as a sanitizer's exitcode
 * does, so that a test run under libkt fails on a PID-reuse bug even when
 * the kill itself did no visible harm.  Any other status is the program's
 * own and is kept.
 *
 * Which process fails: the one that sent the stale kill (refused, or let
 * through in audit mode), not its parent.  A stale kill in a child or
 * grandchild reaches the top only as far as each parent passes its
 * children's statuses on, as shells and make do for the commands they run;
 * the log, and the KT_STATS summary, name every process that sent one.
 *
 * Three ways out of a process, three places to change the status:
 *
 *  - exit() and return from main: an on_exit() handler, registered by the
 *    constructor, so it runs after every handler the program registers
 *    later (exit runs them last-registered first) and after the library
 *    destructors.  glibc hands it the status; it flushes stdio, which exit
 *    would do next, and ends the process with N;
 *  - _exit() and _Exit() called by the program: hooks_exit.c (glibc's exit
 *    ends with its own internal _exit, which no hook sees, hence the
 *    handler);
 *  - a raw exit_group system call or a death by signal: not changed. */
#include "exitcode.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "sys.h"

/* KT_EXITCODE, or 0; set once, by the constructor. */
static int exitcode;
/* The process that sent a stale kill: a PID, so that a forked child, which
 * inherits this memory, does not inherit its parent's stale kill. */
static _Atomic pid_t stale_sender;

void kt_exitcode_note_stale(void)
{
	if (!exitcode)
		return; /* nobody asked: a refused kill stays one system call */
	atomic_store_explicit(&stale_sender, (pid_t)kt_syscall(SYS_getpid, 0, 0, 0, 0, 0),
	                      memory_order_relaxed);
}

static int sent_stale_kill(void)
{
	pid_t who = atomic_load_explicit(&stale_sender, memory_order_relaxed);
	return who && who == (pid_t)kt_syscall(SYS_getpid, 0, 0, 0, 0, 0);
}

int kt_exit_status(int status)
{
	if (status == 0 && exitcode && sent_stale_kill())
		return exitcode;
	return status;
}

static void exiting(int status, void *arg)
{
	(void)arg;
	int n = kt_exit_status(status);
	if (n == status)
		return;
	fflush(NULL);
	for (;;)
		kt_syscall(SYS_exit_group, n, 0, 0, 0, 0);
}

void kt_exitcode_arm(int code)
{
	exitcode = code;
	if (code)
		on_exit(exiting, NULL);
}
