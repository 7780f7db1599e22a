/* SPDX-License-Identifier: MIT */
/* The process tree: the rule is in tree.h, the visibility of an ancestor's
 * entries in table.h. */
#include "tree.h"

#include <errno.h>

#include "heldfd.h"
#include "identity.h"
#include "sys.h"

/* An ancestor's entry that names a number, as this process may know it. */
struct found {
	const struct kt_table_head *table;
	struct kt_seen seen;
	/* The process forked from the table's owner on this process's line:
	 * its pidfs inode (0: unknown), or this very process (SELF). */
	uint64_t line_ino;
	int line_is_self;
};

/* Look for PID in the tables of this process's ancestors, nearest first.
 * The process forked from each table's owner on our line (this process
 * itself for the nearest) holds its number while it lives, and a kill of
 * that number means it: whatever a table above says of the number is older
 * than that process, so it is left to go by number. */
static int find(pid_t pid, struct found *out)
{
	const struct kt_table_head *h =
		atomic_load_explicit(&kt_table_nearest, memory_order_acquire);
	if (!h)
		return 0;
	const struct kt_table_head *t;
	uint64_t fork_seq, line_ino = 0;
	/* The line's processes below the table looked at; 0 stands for this
	 * process, whose number is asked only if an entry is found. */
	pid_t line[KT_TREE_DEPTH + 1];
	unsigned n = 0;
	if (kt_table_owned(h)) {
		t = h->parent;
		fork_seq = h->parent_fork_seq;
		line_ino = h->owner_ino;
		line[n++] = h->owner_pid;
	} else {
		t = h;
		fork_seq = atomic_load_explicit(&kt_fork_mark.head, memory_order_relaxed) == h
		                   ? atomic_load_explicit(&kt_fork_mark.seq, memory_order_relaxed)
		                   : 0;
		line[n++] = 0;
	}
	for (unsigned depth = 0; t && depth < KT_TREE_DEPTH; depth++) {
		if (kt_table_entry_seen(t, fork_seq, pid, &out->seen)) {
			for (unsigned i = 0; i < n; i++) {
				pid_t p = line[i] ? line[i] : (pid_t)kt_syscall(SYS_getpid, 0, 0, 0, 0, 0);
				if (pid == p)
					return 0;
			}
			out->table = t;
			out->line_ino = line_ino;
			out->line_is_self = line[n - 1] == 0;
			return 1;
		}
		line[n++] = t->owner_pid;
		line_ino = t->owner_ino;
		fork_seq = t->parent_fork_seq;
		t = t->parent;
	}
	return 0;
}

/* The registered child was unreaped as far as the ancestor knew, and PIDFD
 * names the process holding its number now: is that the child? */
static enum kt_tree_verdict judge_holder(const struct found *f, int pidfd)
{
	uint64_t id = kt_word_ident(f->seen.word);
	int64_t ino = kt_fd_inode(pidfd);
	if (kt_word_state(f->seen.word) == KT_SLOT_LIVE && !kt_held_is_ident(id)) {
		/* Named by its pidfs inode since its birth. */
		if (ino < 0)
			return KT_TREE_PLAIN;
		return (uint64_t)ino == id ? KT_TREE_PIDFD : KT_TREE_STALE;
	}
	/* Its identity was never taken, or it is a pidfd held in the ancestor's
	 * own fd table: creation order decides (tree.h). */
	uint64_t line = f->line_is_self
		? kt_pidfs_inode_of((pid_t)kt_syscall(SYS_getpid, 0, 0, 0, 0, 0))
		: f->line_ino;
	if (ino < 0 || !line)
		return KT_TREE_PLAIN; /* no pidfs: nothing proves which it is */
	return (uint64_t)ino < line ? KT_TREE_PIDFD : KT_TREE_STALE;
}

enum kt_tree_verdict kt_tree_judge(pid_t pid, int group, int *fd,
                                   struct kt_tree_origin *origin)
{
	struct found f;
	if (!find(pid, &f))
		return KT_TREE_UNKNOWN;
	origin->ancestor_pid = f.table->owner_pid;
	origin->ancestor_name = f.table->owner_name;
	origin->facts = f.seen.before ? NULL : &f.seen.entry->info;
	origin->reg_seq = f.seen.reg_seq;

	/* Registered again by the ancestor since: the number was free by then,
	 * so the child, and any group it led, was gone. */
	if (f.seen.before)
		return KT_TREE_STALE;
	if (kt_word_state(f.seen.word) == KT_SLOT_REAPED)
		return group ? KT_TREE_LEADER_GONE : KT_TREE_STALE;
	if (kt_identity_mode() == KT_IDENTITY_NONE)
		return KT_TREE_PLAIN; /* no pidfds: by number */

	int pidfd, err;
	switch (kt_holder_open(pid, &pidfd, &err)) {
	case KT_HOLDER_NONE:
		/* Reaped since the fork; its group may live on. */
		return group ? KT_TREE_LEADER_GONE : KT_TREE_STALE;
	case KT_HOLDER_THREAD:
		return KT_TREE_STALE; /* the number was free at some point */
	case KT_HOLDER_UNKNOWN:
		return KT_TREE_PLAIN; /* no pidfd (EMFILE, seccomp): cannot tell */
	case KT_HOLDER_PROCESS:
		break;
	}
	enum kt_tree_verdict v = judge_holder(&f, pidfd);
	if (v == KT_TREE_PIDFD)
		*fd = pidfd;
	else
		kt_close(pidfd);
	return v;
}
