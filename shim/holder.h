/* SPDX-License-Identifier: MIT */
/* Who holds a PID now, as /proc says: for the report of a stale kill, taken
 * before an audit-mode kill is let through.  Raw syscalls only. */
#ifndef KT_HOLDER_H
#define KT_HOLDER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KT_HOLDER_COMM 20

/* 1 with COMM (NUL-terminated) and PPID filled if a process holds PID, 0 if
 * nobody does, -1 if we cannot tell (not our PID namespace's /proc, or not
 * readable). */
int kt_holder_of(pid_t pid, char comm[KT_HOLDER_COMM], int64_t *ppid);

/* Read up to CAP-1 bytes of /proc/PID/FILE into BUF, NUL-terminated: the
 * count, or -errno (-EXDEV if /proc is not our PID namespace's). */
long kt_proc_read(pid_t pid, const char *file, char *buf, size_t cap);

/* 1 if /proc is the /proc of our own PID namespace, so its numbers are ours. */
int kt_proc_is_ours(void);

#endif
