/* Who holds a PID now, as /proc says: for the report of a stale kill, taken
 * before an audit-mode kill is let through.  Raw syscalls only. */
#ifndef KT_HOLDER_H
#define KT_HOLDER_H

#include <stdint.h>
#include <sys/types.h>

#define KT_HOLDER_COMM 20

/* 1 with COMM (NUL-terminated) and PPID filled if a process holds PID, 0 if
 * nobody does, -1 if we cannot tell (not our PID namespace's /proc, or not
 * readable). */
int kt_holder_of(pid_t pid, char comm[KT_HOLDER_COMM], int64_t *ppid);

#endif
