/* SPDX-License-Identifier: MIT */
/* Registering children and noticing their reaps.
 *
 * A child's identity is not taken when it is registered: it is taken by the
 * first kill that needs it (judge_unproven in hooks_signal.c), because an
 * unreaped child's number cannot be given to anyone else.  At that kill,
 *
 *   1. pidfd_open(pid) pins whatever process holds the number then;
 *   2. waitid(P_PIDFD, fd, WEXITED|WNOHANG|WNOWAIT|__WALL) succeeds only if
 *      that process is an unreaped child of ours; it reaps nothing;
 *   3. the signal goes through that pidfd (and the pidfd is kept, heldfd.c).
 *
 * If the process is not our child, the registered child was reaped where no
 * hook saw it (SIGCHLD ignored, a raw system call) and the number is someone
 * else's: the kill is stale.  If it is our child, it is the registered one,
 * or a later child of ours that took the number after the registered one was
 * reaped unseen: the process kill(pid) addresses anyway.  The fork→
 * registration race (the child reaped and its number reused before fork()
 * returns to us) is closed the same way: nothing about the number is
 * trusted before the proof, and no signalling hook sends by number to a
 * registered child without it.  A child that is never signalled costs no
 * system call at all.
 *
 * Children made together with a pidfd (CLONE_PIDFD, pidfd_spawn) are named
 * by that pidfd's pidfs inode where there is one: one fstat, and the only
 * identity a CLONE_PARENT child (our sibling, which waitid cannot see) can
 * have.  Without pidfds (identity mode none) the number is all there is:
 * the wait hooks' tombstones, and waitid by number, judge kills. */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "registry.h"

#include "counters.h"
#include "heldfd.h"
#include "identity.h"
#include "report.h"
#include "sys.h"
#include "vfork_child.h"

static void fill_info(pid_t pid, enum kt_made_by how, const char *name)
{
	struct kt_slot_info *info = kt_table_info(pid);
	if (!info)
		return;
	KT_INFO_SET(info->made_ns, kt_now_ns());
	KT_INFO_SET(info->reaped_ns, (uint64_t)0);
	KT_INFO_SET(info->made_by, (uint8_t)how);
	KT_INFO_SET(info->reaped_by, (uint8_t)KT_REAPED_UNKNOWN);
	if (!name)
		name = program_invocation_short_name; /* a fork runs our own image */
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	size_t i = 0;
	for (; i + 1 < sizeof info->name && base[i]; i++)
		KT_INFO_SET(info->name[i], base[i]);
	KT_INFO_SET(info->name[i], '\0');
}

static void mark_gone_at_birth(pid_t pid, struct kt_slot *s, uint64_t before)
{
	kt_slot_publish_tombstone(s, before);
	struct kt_slot_info *info = kt_table_info(pid);
	if (info) {
		KT_INFO_SET(info->reaped_ns, KT_INFO_GET(info->made_ns));
		KT_INFO_SET(info->reaped_by, (uint8_t)KT_REAPED_BEFORE_REGISTRATION);
	}
}

/* Without an identity, the number is all we have: still, a child that is
 * already not ours (reaped, maybe replaced) is known dead. */
static void publish_unverified(pid_t pid, struct kt_slot *s, uint64_t before)
{
	if (kt_pid_is_my_child(pid) == -ECHILD)
		mark_gone_at_birth(pid, s, before);
	else
		kt_slot_publish(s, 0, KT_SLOT_LIVE_UNVERIFIED);
}

/* The slot for a child about to be registered, or NULL if it goes untracked.
 * A vfork child runs in its parent's memory: anything it wrote here would be
 * its parent's table, describing a grandchild the parent cannot reap, so a
 * process in that state registers nothing (vfork_child.h). */
static struct kt_slot *slot_for_new_child(pid_t pid, enum kt_made_by how, const char *name)
{
	if (pid <= 0 || kt_in_vfork_child())
		return NULL;
	struct kt_slot *s = kt_table_get(pid);
	if (!s) {
		kt_count(KT_N_FALLBACKS);
		kt_report_degraded(KT_DEGRADED_NO_MEMORY, ENOMEM);
		return NULL;
	}
	kt_count(KT_N_CHILDREN_TRACKED);
	fill_info(pid, how, name);
	return s;
}

void kt_register_child_pidfd(pid_t pid, int pidfd, enum kt_made_by how, const char *name,
                             int sibling)
{
	if (pid <= 0 || kt_in_vfork_child())
		return;
	int mode = kt_identity_mode();
	if (mode == KT_IDENTITY_UNDECIDED)
		mode = kt_identity_settle(pidfd);
	/* A sibling (CLONE_PARENT) can only be told by its inode: the waitid
	 * checks used without one would call it "not our child", i.e. dead. */
	if (sibling && mode != KT_IDENTITY_INODE)
		return;
	struct kt_slot *s = slot_for_new_child(pid, how, name);
	if (!s)
		return;
	uint64_t before = atomic_load_explicit(&s->word, memory_order_acquire);
	if (mode == KT_IDENTITY_INODE) {
		/* No race to check for: this pidfd was made by the clone that made
		 * the child (CLONE_PIDFD, pidfd_spawn), so it names that child
		 * whatever has happened to the PID since.  Had the child been
		 * reaped already and the number reused, the inode we record is
		 * still the child's, and the first kill finds the difference and
		 * refuses. */
		int64_t ino = kt_fd_inode(pidfd);
		if (ino < 0) {
			kt_count(KT_N_FALLBACKS);
			kt_slot_publish(s, 0, KT_SLOT_LIVE_UNVERIFIED);
		} else {
			kt_slot_publish(s, (uint64_t)ino, KT_SLOT_LIVE);
		}
	} else if (mode == KT_IDENTITY_NONE) {
		/* No identity, and none to be taken later: the pidfd still tells
		 * exactly whether the child is already reaped. */
		if (kt_pidfd_is_my_child(pidfd) == -ECHILD)
			mark_gone_at_birth(pid, s, before);
		else
			kt_slot_publish(s, 0, KT_SLOT_LIVE_UNVERIFIED);
		return;
	} else {
		/* Fd mode: the identity is taken by the first kill, as for a
		 * fork's child (see kt_register_child). */
		kt_slot_publish(s, 0, KT_SLOT_LIVE_UNVERIFIED);
	}
	/* A held fd the slot named for an earlier child of this number (one
	 * reaped where no hook saw it) is given up. */
	if (kt_word_state(before) != KT_SLOT_EMPTY)
		kt_held_release(kt_word_ident(before));
}

void kt_register_clone_child(pid_t pid, unsigned long flags, const int *pidfd,
                             enum kt_made_by how)
{
	int sibling = (flags & CLONE_PARENT) != 0;
	if (pidfd)
		kt_register_child_pidfd(pid, *pidfd, how, NULL, sibling);
	else if (!sibling)
		/* A CLONE_PARENT child is our sibling: waitid would call it "not
		 * our child" and the after-the-fact check would bury it alive, so
		 * without a pidfd from its birth it stays untracked. */
		kt_register_child(pid, how, NULL);
}

/* Settle the identity mode before any child's pidfd is at hand (a child
 * registered without one gives none): from a pidfd of our own process. */
static int settle_from_self(void)
{
	int fd = kt_pidfd_open((pid_t)kt_syscall(SYS_getpid, 0, 0, 0, 0, 0));
	if (fd < 0) {
		kt_count(KT_N_FALLBACKS);
		if (fd != -ENOSYS && fd != -EPERM)
			kt_report_degraded(KT_DEGRADED_FD_EXHAUSTED, -fd);
		return kt_identity_settle(fd); /* ENOSYS, EPERM: no pidfds, mode none */
	}
	int mode = kt_identity_settle(fd);
	kt_close(fd);
	return mode;
}

void kt_register_child(pid_t pid, enum kt_made_by how, const char *name)
{
	struct kt_slot *s = slot_for_new_child(pid, how, name);
	if (!s)
		return;
	uint64_t before = atomic_load_explicit(&s->word, memory_order_acquire);

	int mode = kt_identity_mode();
	if (mode == KT_IDENTITY_UNDECIDED)
		mode = settle_from_self();
	if (mode == KT_IDENTITY_NONE) {
		publish_unverified(pid, s, before);
		return;
	}
	/* The identity is taken when a signal first needs it (see the top of
	 * this file): until the child is reaped its number cannot be given to
	 * anyone else, so there is nothing to pin now, and a child that is
	 * never signalled costs no system call.  A held fd the slot named for
	 * an earlier child of this number (one reaped where no hook saw it) is
	 * given up. */
	kt_slot_publish(s, 0, KT_SLOT_LIVE_UNVERIFIED);
	if (kt_word_state(before) != KT_SLOT_EMPTY)
		kt_held_release(kt_word_ident(before));
}

/* A wait just reaped PID, and slot word W describes a child registered
 * after that wait began: is the process holding PID now the one W names,
 * rather than the child the wait reaped? */
static int holder_is(pid_t pid, uint64_t w)
{
	uint64_t ident = kt_word_ident(w);
	if (kt_word_state(w) == KT_SLOT_LIVE_UNVERIFIED)
		/* No identity: a child of ours holding the number after our own
		 * reap of it can only be one that took the number since. */
		return kt_pid_is_my_child(pid) == 0;
	if (kt_held_is_ident(ident))
		return kt_held_names_live_child(ident);
	int fd = kt_pidfd_open(pid);
	if (fd < 0)
		return 0;
	int64_t ino = kt_fd_inode(fd);
	kt_close(fd);
	return ino >= 0 && (uint64_t)ino == ident;
}

void kt_note_reaped(pid_t pid, uint64_t seq, enum kt_reaped_by how)
{
	/* A vfork child reaps only its own children, which it never registered. */
	if (kt_in_vfork_child())
		return;
	struct kt_slot *s = kt_table_find(pid);
	if (!s)
		return;
	if (!kt_slot_mark_reaped(s, pid, seq, holder_is))
		return;
	/* The reaped child's held fd goes now.  The word still names it unless
	 * a new child already took the slot, in which case that registration
	 * released it. */
	uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);
	if (kt_word_state(w) == KT_SLOT_REAPED)
		kt_held_release(kt_word_ident(w));
	kt_count(KT_N_REAPS_SEEN);
	struct kt_slot_info *info = kt_table_info(pid);
	if (info) {
		KT_INFO_SET(info->reaped_ns, kt_now_ns());
		KT_INFO_SET(info->reaped_by, (uint8_t)how);
	}
}
