/* SPDX-License-Identifier: MIT */
/* A child's story, for stale-kill reports: the stack it was spawned from,
 * the stack it was reaped from, and the name it had when it was reaped (what
 * it exec'd), like a memory error report's "allocated by" and "freed by".
 *
 * Kept only while reports are on.  It lives in a side table of its own,
 * mapped by the constructor of a process whose reports go somewhere and
 * keyed by PID (a top array of leaf pointers, leaves mmap()ed on first use
 * and installed with a compare-and-swap), so that with
 * reports off the PID table's entries, and what fork, wait and kill do to
 * them, stay exactly as they are.  It is private memory: a forked child
 * keeps the stories of the children its parent registered before the fork,
 * for its reports of a stale kill of one of them (tree.h).
 *
 * Writers are the hooks that register and reap children, readers the
 * stale-kill report, possibly in a signal handler of the same thread: every
 * field is read and written whole with relaxed atomics, and a story is best
 * effort, never used for a decision.  A vfork child writes nothing (its
 * writes would land in its parent's table, see vfork_child.h). */
#ifndef KT_STORY_H
#define KT_STORY_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "caller.h"

/* Bytes of a name after exec: the kernel's comm, 15 characters and a NUL. */
#define KT_STORY_NAME 16

struct kt_story_view {
	struct kt_caller spawned; /* n == 0: not seen */
	struct kt_caller reaped;
	char name[KT_STORY_NAME]; /* "" if not known */
	uint64_t ino;             /* the child's pidfs inode, 0 if libkt had none */
};

/* Map the side table (constructor, when reports are on). */
void kt_story_open(void);
/* 1 if stories are kept (reports are on and the table could be mapped). */
int kt_story_on(void);
/* A hook at ORIGIN registered child PID: remember where from. */
void kt_story_spawned(pid_t pid, const struct kt_origin *origin);
/* The same for a child whose pidfs inode INO the registration recorded
 * (kt_registered_inode, registry.h), or 0. */
void kt_story_spawned_ino(pid_t pid, const struct kt_origin *origin, uint64_t ino);
/* A hook at ORIGIN reaped child PID, whose comm was NAME (or NULL). */
void kt_story_reaped(pid_t pid, const struct kt_origin *origin, const char *name);
/* Copy PID's story; 0 if there is none.  REG_SEQ: the registration it must
 * belong to, when the child is an ancestor's (its number in the ancestor's
 * table: a forked child inherits its parent's stories with its memory), or
 * 0 for a child of this process's own table. */
int kt_story_get(pid_t pid, uint64_t reg_seq, struct kt_story_view *out);

/* Which child a wait call is about to reap, and its name (story.c). */
struct kt_peek {
	pid_t pid; /* 0: none, or not a death */
	char name[KT_STORY_NAME];
};
/* Before a waitid(IDTYPE, ID, ..., OPTIONS): see which child it will reap
 * and read its name.  -EINTR if the wait would have been interrupted (the
 * hook then returns that), else 0. */
int kt_story_peek(idtype_t idtype, id_t id, int options, struct kt_peek *peek);
/* The same before waitpid/wait4(PID, ..., OPTIONS). */
int kt_story_peek_waitpid(pid_t pid, int options, struct kt_peek *peek);

#endif
