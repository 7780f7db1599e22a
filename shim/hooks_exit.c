/* SPDX-License-Identifier: MIT */
/* _exit and _Exit: a program that ends this way, not through exit(), still
 * exits with KT_EXITCODE's status after a stale kill (exitcode.c). */
#include "exitcode.h"
#include "init.h"
#include "sys.h"

/* What glibc's _exit does: exit_group, and never return. */
static __attribute__((noreturn)) void end_process(int status)
{
	int n = kt_exit_status(status);
	for (;;)
		kt_syscall(SYS_exit_group, n, 0, 0, 0, 0);
}

KT_EXPORT void _exit(int status)
{
	end_process(status);
}

KT_EXPORT void _Exit(int status)
{
	end_process(status);
}
