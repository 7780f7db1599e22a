/* SPDX-License-Identifier: MIT */
/* The process tree: a kill, in a forked descendant, of a number one of its
 * ancestors registered before the fork (a subshell's `kill $p`, a forked
 * watchdog's kill of its sibling, a grandchild's).  The descendant judges it
 * as that ancestor would:
 *
 *   - a child the ancestor knew reaped, or whose number it has registered
 *     again since (so the child was gone by then): stale;
 *   - a child made with a pidfd (its pidfs inode recorded): the process
 *     holding the number now is that child if its inode is the one recorded;
 *   - any other child still unreaped as far as the ancestor knew: the holder
 *     is that child if and only if it was created before the process forked
 *     from the ancestor on this line.  pidfs hands inode numbers out in
 *     creation order (one 64-bit counter, under the lock that hands out the
 *     PIDs), so an inode below that process's means "created before it", so
 *     "held the number when the ancestor's memory was copied", when the
 *     registered child held it.  Without pidfs (before 6.9) that cannot be
 *     proven: such a kill goes by number.
 * What the descendant may know of the ancestor's table, and how, is in
 * table.h.  The process's own children and reaps come first (its own
 * table); a vfork child acts as its parent.  Raw syscalls and atomics only:
 * async-signal-safe. */
#ifndef KT_TREE_H
#define KT_TREE_H

#include <sys/types.h>

#include "table.h"

enum kt_tree_verdict {
	KT_TREE_UNKNOWN,     /* no ancestor's table names the number: as unregistered */
	KT_TREE_PLAIN,       /* named, but not ours to judge or no way to: by number */
	KT_TREE_STALE,       /* the ancestor's child is gone */
	KT_TREE_LEADER_GONE, /* a group kill whose leader is gone: the group may live on */
	KT_TREE_PIDFD,       /* the holder is the ancestor's child: send through *FD */
};

/* Whose child a judged number was, for the report of a stale kill. */
struct kt_tree_origin {
	pid_t ancestor_pid;
	const char *ancestor_name;        /* in the ancestor's table head */
	const struct kt_slot_info *facts; /* the child's report facts, or NULL */
	uint64_t reg_seq;                 /* its registration in the ancestor's table */
};

/* Judge a kill of PID (GROUP: of the group PID leads) that this process's own
 * table does not name.  On KT_TREE_PIDFD, *FD is a pidfd of the ancestor's
 * child for the caller to send through and close.  *ORIGIN is filled for
 * every verdict but KT_TREE_UNKNOWN. */
enum kt_tree_verdict kt_tree_judge(pid_t pid, int group, int *fd,
                                   struct kt_tree_origin *origin);

/* 1 if this process has tables of ancestors to look in at all: the kill
 * path's cheap question before kt_tree_judge. */
static inline int kt_tree_inherits(void)
{
	const struct kt_table_head *h =
		atomic_load_explicit(&kt_table_nearest, memory_order_acquire);
	return h && (h->parent || !kt_table_owned(h));
}

#endif
