/* SPDX-License-Identifier: MIT */
/* Who holds a PID now, as /proc says, pinned by a pidfd: for the report of a
 * stale kill (taken before an audit-mode kill is let through).  Raw syscalls
 * only. */
#ifndef KT_HOLDER_H
#define KT_HOLDER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KT_HOLDER_COMM 20

/* A process holding a PID, as a report describes it. */
struct kt_holder_facts {
	char comm[KT_HOLDER_COMM]; /* NUL-terminated */
	int64_t ppid;
	uint64_t ino; /* its pidfs inode (PID:INODE names it for good), 0 if unknown */
};

/* Describe who holds PID now into H: 1 if a process does, 0 if nobody does,
 * -1 if we cannot tell (not our PID namespace's /proc, or not readable).
 * The process is pinned with a pidfd before /proc is read and found still
 * there afterwards, so the inode and the rest describe the same process;
 * where there is no pidfd to take (or no pidfs, before 6.9) INO is 0. */
int kt_holder_describe(pid_t pid, struct kt_holder_facts *h);

/* Read up to CAP-1 bytes of /proc/PID/FILE into BUF, NUL-terminated: the
 * count, or -errno (-EXDEV if /proc is not our PID namespace's). */
long kt_proc_read(pid_t pid, const char *file, char *buf, size_t cap);

/* 1 if /proc is the /proc of our own PID namespace, so its numbers are ours. */
int kt_proc_is_ours(void);

#endif
