/* SPDX-License-Identifier: MIT */
/* Signalling: kill, killpg, sigqueue.  Deliver to the registered child
 * itself (or its process group), or refuse if it is gone.
 *
 * Lock-free and async-signal-safe: one table lookup, then, for a registered
 * live child,
 *   - a pidfd kept from an earlier kill (heldfd.c): pidfd_send_signal
 *     through it, one system call, as plain kill() is;
 *   - no identity taken yet (judge_unproven): pidfd_open, the waitid proof
 *     that it names our unreaped child, pidfd_send_signal through it, and a
 *     copy kept for the next kill (F_DUPFD_CLOEXEC above the program's
 *     numbers, then close);
 *   - a pidfs inode from its creation (CLONE_PIDFD, pidfd_spawn): pidfd_open,
 *     fstat to compare the inode, then the same send and copy.
 * The pidfd is what makes the delivery exact: the kernel resolves the number
 * once, into the pidfd, and nothing that happens to the number afterwards
 * can redirect a signal sent through it.
 *
 * Process groups (kill(-pgid), killpg(pgid), where pgid is a registered
 * child's PID).  A group's number is its leader's PID, and the kernel never
 * hands a number out again while any process or any group still uses it: a
 * group outlives its leader, and pins the number, as long as one member is
 * left.  So:
 *   - leader alive or a zombie (its pidfd is proven, or its inode is the
 *     one we recorded): pidfd_send_signal(leader,
 *     PIDFD_SIGNAL_PROCESS_GROUP) (6.9+) signals exactly the group named by
 *     that process, never a recycled one;
 *   - the number now belongs to another process (not our child, a
 *     different inode, or a thread): the number was free at some point, so
 *     every member of our group was gone; the group kill is stale, refused
 *     with ESRCH;
 *   - the leader is reaped and a pidfd of it is held from before (heldfd.c):
 *     PIDFD_SIGNAL_PROCESS_GROUP through it still reaches exactly its group
 *     (the kernel signals the members attached to that struct pid, whoever
 *     holds the number now), and answers ESRCH once no member is left;
 *   - the leader is reaped and no pidfd of it is held: if no process or
 *     thread holds the number, either members of our group survive (a
 *     legitimate kill; the number is pinned for them) or they all died, a
 *     stranger got the number, made a group of it and died itself leaving
 *     members of its own.  The two look the same, so this goes by number:
 *     the one case libkt does not protect (it needs a full PID wrap plus a
 *     stranger that leads a group and exits before its members, between our
 *     leader's reap and the kill).  One function decides it,
 *     group_after_leader, on every kernel and whatever pidfd_open answers.
 * Where the kernel lacks PIDFD_SIGNAL_PROCESS_GROUP (EINVAL), the live-leader
 * case goes by number too, after the same identity check.
 *
 * sigqueue goes through pidfd_send_signal with the siginfo glibc's sigqueue
 * builds (SI_QUEUE, our pid and uid, the value): the receiver sees what plain
 * sigqueue shows it.  The kernel takes a caller-made siginfo for another
 * process only with si_code < 0; SI_QUEUE is -1. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>

#include "counters.h"
#include "exitcode.h"
#include "heldfd.h"
#include "holder.h"
#include "identity.h"
#include "init.h"
#include "log.h"
#include "observe.h"
#include "registry.h"
#include "report.h"
#include "sys.h"
#include "tree.h"
#include "vfork_child.h"

/* One signal to send, as the program asked for it. */
struct kt_send {
	const char *call; /* "kill", "killpg", "sigqueue": for reports */
	const struct kt_origin *origin;
	pid_t pid;        /* the child, or the group's number (positive) */
	int sig;
	int group;        /* signal the process group PID, not the process */
	siginfo_t *info;  /* sigqueue's siginfo, or NULL */
	const struct kt_sighting *seen; /* not a child: the observation judged by (observe.h) */
};

/* Set once pidfd_send_signal has refused PIDFD_SIGNAL_PROCESS_GROUP. */
static _Atomic int kt_no_pgrp_flag;

/* What libc does: one syscall.  0 or -errno. */
static int plain_send(const struct kt_send *k)
{
	if (k->info)
		return (int)kt_syscall(SYS_rt_sigqueueinfo, k->pid, k->sig, (long)k->info, 0, 0);
	return kt_kill(k->group ? -k->pid : k->pid, k->sig);
}

/* The same, as libc returns it. */
static int send_plain(const struct kt_send *k)
{
	return (int)kt_sys_result(plain_send(k));
}

/* A signal whose registered target is gone.  Enforce: refuse with ESRCH, as
 * the kernel would have if the PID had not been reused.  Audit: let it
 * through unchanged and say what it hit. */
static int stale_send(const struct kt_send *k, enum kt_mode mode,
                      const struct kt_tree_origin *tree)
{
	/* The registered child is gone, but its number may now be another child
	 * of ours that libkt never saw being made: one from a creation path
	 * that another interposer took over (a sanitizer runtime's vfork, a
	 * shim that forks by raw system call), inline assembly, or glibc's own
	 * system() and popen().  The kill then names a live child, as it would
	 * without libkt, and refusing it would change the program.  One waitid,
	 * paid only by a kill that is stale or about to be delivered anyway.
	 * A vfork child asks too: waitid answers about its own children, which
	 * may have landed on a number its parent's table has tombstoned. */
	if (!k->group && kt_pid_is_my_child(k->pid) == 0)
		return send_plain(k);
	struct kt_stale ev = { .pid = k->pid, .sig = k->sig, .call = k->call,
	                       .group = k->group, .holder = -1, .seen = k->seen };
	if (tree) {
		ev.ancestor_pid = tree->ancestor_pid;
		ev.ancestor_name = tree->ancestor_name;
		ev.ancestor_facts = tree->facts;
		ev.ancestor_reg_seq = tree->reg_seq;
	}
	if (!kt_in_vfork_child()) /* a vfork child would mark its parent */
		kt_exitcode_note_stale();
	int want = kt_log_wanted();
	if (want) {
		/* Audit mode is about to deliver, which may end the holder: the
		 * report says who it was.  Enforce mode sends nothing, and the
		 * report describes the holder as it writes the line. */
		if (mode == KT_MODE_AUDIT)
			ev.holder = kt_holder_describe(ev.pid, &ev.holder_seen);
		kt_caller_capture(&ev.caller, k->origin->ret, k->origin->frame);
	}
	if (mode == KT_MODE_AUDIT) {
		int r = plain_send(k);
		kt_count(KT_N_STALE_DELIVERED);
		ev.delivered = 1;
		ev.delivered_errno = r < 0 ? -r : 0;
		if (want)
			kt_report_stale(&ev);
		return (int)kt_sys_result(r);
	}
	kt_count(KT_N_STALE_REFUSED);
	if (want)
		kt_report_stale(&ev);
	errno = ESRCH;
	return -1;
}

/* pidfd_send_signal refused PIDFD_SIGNAL_PROCESS_GROUP (EINVAL): a kernel
 * before 6.9 knows no such flag.  Send K by number (the identity was
 * checked) and stop asking.  The signal number was range-checked, so the
 * flag is the only thing the kernel can object to; if the plain kill objects
 * too, it was something else and we learn nothing.  0 or -errno. */
static int group_flag_refused(const struct kt_send *k)
{
	int r = plain_send(k);
	if (r != -EINVAL && !atomic_exchange(&kt_no_pgrp_flag, 1)) {
		kt_count(KT_N_FALLBACKS);
		kt_report_degraded(KT_DEGRADED_NO_PGRP_SIGNAL, EINVAL);
	}
	return r;
}

static int pgrp_flag_known_refused(void)
{
	return atomic_load_explicit(&kt_no_pgrp_flag, memory_order_relaxed);
}

/* Send K through FD, a pidfd of the registered child whose identity was just
 * checked, and close FD.  Audit mode changes nothing, not even the delivery
 * path, and a group send on a kernel without the group flag has no pidfd
 * path: both go by number. */
static int deliver(const struct kt_send *k, int fd, enum kt_mode mode)
{
	int r;
	if (mode == KT_MODE_AUDIT || (k->group && pgrp_flag_known_refused())) {
		r = plain_send(k);
	} else {
		r = kt_pidfd_send_signal(fd, k->sig, k->info,
		                         k->group ? KT_PIDFD_SIGNAL_PROCESS_GROUP : 0);
		if (r == -EINVAL && k->group)
			r = group_flag_refused(k);
		else if (r == 0)
			kt_count(KT_N_KILLS_VIA_PIDFD);
	}
	kt_close(fd);
	return (int)kt_sys_result(r);
}

/* What to do with a signal for a registered number, once judged. */
enum verdict {
	SEND_PLAIN, /* by number, as libc would: not ours to judge, or no way to */
	SEND_STALE, /* the registered child is gone: stale_send */
	SEND_PIDFD, /* through the pidfd just checked to name the child */
};

/* A group kill whose leader is known gone, with no pidfd of the leader to
 * send through: the one rule for it (see the top of this file).  A process
 * or a thread holding the number means the number was free at some point,
 * so every member of our group was gone; nobody holding it means members
 * may live on, and the number is theirs.  kill(pid, 0) asks exactly that,
 * with no descriptor to open and the same answer on every kernel. */
static enum verdict group_after_leader(const struct kt_send *k)
{
	return kt_kill(k->pid, 0) == -ESRCH ? SEND_PLAIN : SEND_STALE;
}

/* The number-only judgement: 1 if the registered child behind K->pid (or
 * its group) is certainly gone.  If no child of ours holds the number, our
 * child was reaped where no hook saw it (SIGCHLD ignored) and the number may
 * be someone else's now.  Not asked: a vfork child's view of its parent's
 * table (it names siblings, which waitid cannot ask about).  For a group,
 * group_after_leader then decides. */
static int gone_by_number(const struct kt_send *k)
{
	if (kt_in_vfork_child() || kt_pid_is_my_child(k->pid) != -ECHILD)
		return 0;
	return !k->group || group_after_leader(k) == SEND_STALE;
}

/* pidfd_open(K->pid) for a kill of the registered child in slot S (word
 * W): 1 with *FD a pidfd of the process holding the number now, or 0 with
 * *V the verdict when there is none:
 *   - nobody, or a thread of some other process, holds the number: our
 *     child was reaped, perhaps where no hook of ours saw it.  A process is
 *     then gone; a group may live on in its other members, unless a thread
 *     holds the number now;
 *   - no pidfd could be opened (EMFILE, or pidfd_open refused by a seccomp
 *     profile that still let CLONE_PIDFD register the child with an
 *     inode): judged by number, as without an identity. */
static int open_holder(const struct kt_send *k, struct kt_slot *s, uint64_t w, int *fd,
                       enum verdict *v)
{
	int err;
	enum kt_holder holder = kt_holder_open(k->pid, fd, &err);
	if (holder == KT_HOLDER_PROCESS)
		return 1;
	if (holder == KT_HOLDER_UNKNOWN) {
		kt_count(KT_N_FALLBACKS);
		if (err == -ENOSYS || err == -EPERM)
			kt_report_degraded(KT_DEGRADED_NO_PIDFD, -err);
		else
			kt_report_degraded(KT_DEGRADED_FD_EXHAUSTED, -err);
		*v = gone_by_number(k) ? SEND_STALE : SEND_PLAIN;
	} else {
		*v = k->group && holder == KT_HOLDER_NONE ? SEND_PLAIN : SEND_STALE;
	}
	if (*v == SEND_STALE)
		kt_slot_retire_unseen(k->pid, s, w);
	return 0;
}

/* A registered child whose identity was never taken (LIVE_UNVERIFIED): take
 * it now.  Its number cannot have been given to anyone else while it is
 * unreaped, so a pidfd opened for the number and proven by waitid to name an
 * unreaped child of ours names that child (or a later child of ours that took
 * the number: the process kill(pid) addresses anyway).  Not our child: the
 * registered one was reaped where no hook saw it, and the number is someone
 * else's now.  The pidfd pins what it names, so neither a reap nor a reuse
 * between the proof and the send can redirect the signal: a send to a
 * process reaped meanwhile answers ESRCH, which is what the program gets.
 * A vfork child (its view of the table names its siblings) and a process
 * without pidfds judge by number.  On SEND_PIDFD, *FD is the proven pidfd. */
static enum verdict judge_unproven(const struct kt_send *k, struct kt_slot *s, uint64_t w,
                                   int *fd)
{
	if (kt_identity_mode() == KT_IDENTITY_NONE || kt_in_vfork_child())
		goto by_number;
	int pidfd;
	enum verdict v;
	if (!open_holder(k, s, w, &pidfd, &v))
		return v;
	int mine = kt_pidfd_is_my_child(pidfd);
	if (mine == -ECHILD) {
		/* A process holds the number and it is not our child: a stranger,
		 * so our child, and with it any group it led, is gone. */
		kt_close(pidfd);
		kt_slot_retire_unseen(k->pid, s, w);
		return SEND_STALE;
	}
	if (mine == 0) {
		*fd = pidfd;
		return SEND_PIDFD;
	}
	kt_close(pidfd); /* waitid cannot ask about a pidfd (before 5.4) */
by_number:
	if (gone_by_number(k)) {
		kt_slot_retire_unseen(k->pid, s, w);
		return SEND_STALE;
	}
	return SEND_PLAIN;
}

/* Keep a copy of FD, a pidfd proven to name the child in slot S (word W;
 * pidfs inode INO, or 0), among the held fds (heldfd.c): the slot names the
 * copy from now on, and the next kill is one system call.  Audit mode holds
 * nothing (it changes nothing), nor does a vfork child (its fd table is not
 * the one whose memory it shares).  No room: the next kill proves it again. */
static void keep_identity(const struct kt_send *k, struct kt_slot *s, uint64_t w, int fd,
                          uint64_t ino, enum kt_mode mode)
{
	int idmode = kt_identity_mode();
	if (mode == KT_MODE_AUDIT || (idmode != KT_IDENTITY_INODE && idmode != KT_IDENTITY_FD) ||
	    kt_in_vfork_child())
		return;
	uint64_t id = kt_held_adopt(fd, k->pid, ino, 1);
	if (!id)
		return;
	/* Settled only now (heldfd.h): until the slot names it, no eviction
	 * may give it up, for the slot could not be given its old word back. */
	int named = atomic_compare_exchange_strong_explicit(&s->word, &w, kt_word(id, KT_SLOT_LIVE),
	                                                    memory_order_acq_rel,
	                                                    memory_order_acquire);
	kt_held_settle(id, named);
}

/* A live child registered with its pidfs inode, or (for a group send) a
 * reaped group leader: is the process holding K->pid now that child?  On
 * SEND_PIDFD, *FD is a pidfd of it, for the caller to send through. */
static enum verdict judge_by_pidfd(const struct kt_send *k, struct kt_slot *s, uint64_t w,
                                   int *fd)
{
	if (kt_word_state(w) == KT_SLOT_REAPED)
		return group_after_leader(k); /* a group kill after the leader's reap */
	int pidfd;
	enum verdict v;
	if (!open_holder(k, s, w, &pidfd, &v))
		return v;
	int64_t ino = kt_fd_inode(pidfd);
	if (ino < 0) {
		kt_close(pidfd);
		kt_count(KT_N_FALLBACKS);
		return SEND_PLAIN;
	}
	if ((uint64_t)ino != kt_word_ident(w)) {
		kt_close(pidfd);
		kt_slot_retire_unseen(k->pid, s, w);
		return SEND_STALE;
	}
	*fd = pidfd;
	return SEND_PIDFD;
}

/* Carry out verdict V on K for slot S (word W); FD is the proven pidfd for
 * SEND_PIDFD. */
static int act(const struct kt_send *k, struct kt_slot *s, uint64_t w, enum verdict v, int fd,
               enum kt_mode mode)
{
	if (v == SEND_STALE)
		return stale_send(k, mode, NULL);
	if (v == SEND_PIDFD) {
		/* A live child's proven pidfd (judge_by_pidfd proves only those:
		 * for a reaped leader it answers stale or plain). */
		uint64_t id = kt_word_ident(w);
		uint64_t ino = kt_word_state(w) == KT_SLOT_LIVE && !kt_held_is_ident(id) ? id : 0;
		keep_identity(k, s, w, fd, ino, mode);
		return deliver(k, fd, mode);
	}
	return send_plain(k);
}

/* A number no table names, with observation on: the program may have seen
 * it under /proc (observe.h).  Then the kill reaches the process it saw
 * (through a pidfd checked to name it), or, if a later process holds the
 * number, it is stale; if nobody holds it, ESRCH, as the kernel answers.
 * Anything else goes by number. */
static __attribute__((noinline)) int send_observed(const struct kt_send *k)
{
	enum kt_mode mode = kt_observe_mode();
	int fd = -1;
	switch (kt_observe_judge(k->pid, k->group, &fd)) {
	case KT_OBSERVED_HOLDER:
		return deliver(k, fd, mode);
	case KT_OBSERVED_LATER: {
		struct kt_sighting seen = { .kind = 0 };
		struct kt_send ks = *k;
		kt_observe_describe(k->pid, &seen);
		ks.seen = &seen;
		return stale_send(&ks, mode, NULL);
	}
	case KT_OBSERVED_NOBODY:
		if (mode == KT_MODE_AUDIT)
			return send_plain(k);
		errno = ESRCH;
		return -1;
	default:
		return send_plain(k);
	}
}

/* K names a number this process's own table does not.  First a child of
 * one of its ancestors, as far as this process may know (tree.h): an
 * ancestor's registration is the stronger fact, and its verdict stands;
 * then a number the program saw under /proc; else nobody's. */
static int send_unregistered(const struct kt_send *k, enum kt_mode mode)
{
	if (kt_tree_inherits()) {
		struct kt_tree_origin origin;
		int fd = -1;
		switch (kt_tree_judge(k->pid, k->group, &fd, &origin)) {
		case KT_TREE_STALE:
			return stale_send(k, mode, &origin);
		case KT_TREE_LEADER_GONE:
			if (group_after_leader(k) == SEND_STALE)
				return stale_send(k, mode, &origin);
			return send_plain(k);
		case KT_TREE_PIDFD:
			return deliver(k, fd, mode);
		case KT_TREE_PLAIN:
			return send_plain(k);
		default: /* no ancestor registered it */
			break;
		}
	}
	return kt_observe_active() ? send_observed(k) : send_plain(k);
}

/* send_held's answer when the slot moved on under it: judge it afresh. */
#define SEND_AGAIN INT_MIN

/* A held pidfd (heldfd.c): the live child's own pidfd, and the send
 * borrows it.  Audit mode, and group sends on a kernel without
 * PIDFD_SIGNAL_PROCESS_GROUP, only ask it whether the child is still there
 * (signal 0) and then go by number, as the inode path does.  Returns what
 * the hook returns, or SEND_AGAIN. */
static inline __attribute__((always_inline)) int
send_held(const struct kt_send *k, struct kt_slot *s, uint64_t w, enum kt_mode mode)
{
	int pg = k->group && !pgrp_flag_known_refused();
	int probe = mode == KT_MODE_AUDIT || (k->group && !pg);
	unsigned flags = pg && !probe ? KT_PIDFD_SIGNAL_PROCESS_GROUP : 0;
	struct kt_held_ref ref;
	int fd = kt_held_borrow(kt_word_ident(w), &ref);
	if (fd < 0) {
		/* The slot no longer names a held fd: its pidfd was given up to
		 * make room, or the slot moved on.  Judge it as it is now; if it
		 * still names a pidfd no longer held, as a child never proven. */
		if (atomic_load_explicit(&s->word, memory_order_acquire) != w)
			return SEND_AGAIN;
		int pidfd = -1;
		return act(k, s, w, judge_unproven(k, s, w, &pidfd), pidfd, mode);
	}
	int r = kt_pidfd_send_signal(fd, probe ? 0 : k->sig, probe ? NULL : k->info, flags);
	/* A pidfd answers ESRCH only once its process is reaped (a zombie still
	 * takes signals).  A group send also answers ESRCH when the child lives
	 * but leads no group (kill(-pid) of a child that never called setsid or
	 * setpgid): that is the answer to give, not a sign of its death; or when
	 * the leader is gone and so is every member of its group. */
	int gone = r == -ESRCH && (!flags || kt_pidfd_send_signal(fd, 0, NULL, 0) == -ESRCH);
	/* The leader is gone: does its group live on?  Through the held pidfd,
	 * the kernel knows exactly (see the top of this file); the group send
	 * just made has answered already unless this was a probe. */
	int group_lives = gone && pg && !flags &&
	                  kt_pidfd_send_signal(fd, 0, NULL, KT_PIDFD_SIGNAL_PROCESS_GROUP) == 0;
	kt_held_return(&ref);
	if (gone) {
		/* Reaped where no hook saw it. */
		kt_slot_retire_unseen(k->pid, s, w);
		kt_held_release(kt_word_ident(w));
		if (!k->group)
			return stale_send(k, mode, NULL);
		if (!pg) /* no group flag here: by number */
			return act(k, s, w, group_after_leader(k), -1, mode);
		if (group_lives) /* audit: the members, by number (the number is theirs) */
			return send_plain(k);
		/* Our group is gone.  If no group holds the number now either, this
		 * is what plain kill() answers; if one does, it is a stranger's. */
		if (kt_kill(-k->pid, 0) == -ESRCH) {
			errno = ESRCH;
			return -1;
		}
		return stale_send(k, mode, NULL);
	}
	if (probe)
		return send_plain(k);
	if (r == -EINVAL && pg)
		r = group_flag_refused(k);
	else if (r == 0)
		kt_count(KT_N_KILLS_VIA_PIDFD);
	return (int)kt_sys_result(r);
}

/* Deliver K to the registered child (or its group) K->pid, whose slot is S
 * (NULL: the number has none), through a pidfd of it, or refuse if it is
 * gone.  Unregistered targets go to send_unregistered.  Inlined into its
 * two callers, so that a repeated kill issues its system call two frames
 * below the program rather than five (see kt_syscall6 for why frames
 * matter). */
static inline __attribute__((always_inline)) int
send_registered(const struct kt_send *k, struct kt_slot *s, enum kt_mode mode)
{
	if (!s)
		return send_unregistered(k, mode);
	uint64_t w;
	/* send_held comes back (SEND_AGAIN) only when another thread changed the
	 * slot word (a reap, an eviction, a new registration) since it was read:
	 * each turn follows someone else's change. */
again:
	w = atomic_load_explicit(&s->word, memory_order_acquire);
	enum verdict v;
	int fd = -1;
	switch (kt_word_state(w)) {
	case KT_SLOT_LIVE_UNVERIFIED:
		v = judge_unproven(k, s, w, &fd);
		break;
	case KT_SLOT_REAPED:
		v = k->group ? judge_by_pidfd(k, s, w, &fd) : SEND_STALE;
		break;
	case KT_SLOT_LIVE:
		/* A vfork child has its own copy of the fd table, made when it was
		 * born: the number the slot names may hold another pidfd there, or
		 * none.  It judges as for a child never proven (by number). */
		if (kt_held_is_ident(kt_word_ident(w)) && kt_in_vfork_child()) {
			v = judge_unproven(k, s, w, &fd);
			break;
		}
		if (kt_held_is_ident(kt_word_ident(w))) {
			int r = send_held(k, s, w, mode);
			if (r == SEND_AGAIN)
				goto again;
			return r;
		}
		v = judge_by_pidfd(k, s, w, &fd);
		break;
	default:
		return send_unregistered(k, mode); /* never registered here */
	}
	return act(k, s, w, v, fd, mode);
}

/* kill()/killpg() of a number libkt registered: everything but the miss
 * path, kept out of line so the miss path pays for none of its set-up. */
static __attribute__((noinline)) int kill_registered(pid_t pid, int sig, const char *call,
                                                     const struct kt_origin *origin,
                                                     struct kt_slot *s, enum kt_mode mode)
{
	struct kt_send k = { .call = call, .origin = origin, .pid = pid, .sig = sig };
	if (pid < 0) {
		k.pid = -pid;
		k.group = 1;
	}
	return send_registered(&k, s, mode);
}

/* kill()/killpg() of a number this process's own table does not name, in
 * a process that inherited tables (tree.h) or saw numbers under /proc
 * (observe.h): out of line too. */
static __attribute__((noinline)) int kill_unregistered(pid_t pid, int sig, const char *call,
                                                       const struct kt_origin *origin,
                                                       enum kt_mode mode)
{
	struct kt_send k = { .call = call, .origin = origin, .pid = pid, .sig = sig };
	if (pid < 0) {
		k.pid = -pid;
		k.group = 1;
	}
	return send_unregistered(&k, mode);
}

/* kill(PID, SIG) and killpg's kill(-PGID, SIG), named CALL in reports. */
static inline __attribute__((always_inline)) int
kill_common(pid_t pid, int sig, const char *call, const struct kt_origin *origin)
{
	enum kt_mode mode = kt_mode();
	/* 0 and -1 name our own group and everyone; -INT_MIN does not exist;
	 * an out-of-range signal is refused by the kernel whatever the target.
	 * None is ours to judge. */
	if (pid == 0 || pid == -1 || pid == INT_MIN || sig < 0 || sig >= _NSIG ||
	    mode == KT_MODE_OFF)
		return (int)kt_sys_result(kt_kill(pid, sig));
	/* Most kills name a number libkt never registered (not a child of ours,
	 * or a group no registered child leads): one lookup, then exactly
	 * libc's kill.  send_registered reaches the same plain kill, but with
	 * the set-up of a registered kill: the miss path is meant to stay within
	 * a few percent of a bare kill(). */
	struct kt_table_head *h = atomic_load_explicit(&kt_table_nearest, memory_order_acquire);
	if (h) {
		int own = kt_table_owned(h);
		struct kt_entry *e = own ? kt_table_entry_in(h, pid < 0 ? -pid : pid) : NULL;
		if (e && kt_word_state(atomic_load_explicit(&e->slot.word, memory_order_acquire)) !=
		                 KT_SLOT_EMPTY)
			return kill_registered(pid, sig, call, origin, &e->slot, mode);
		/* A forked child: its ancestors' children come next (tree.h). */
		if (!own || h->parent)
			return kill_unregistered(pid, sig, call, origin, mode);
	}
	/* A number the program may have seen under /proc (observe.h): one
	 * load, NULL unless observation is on and something was observed. */
	if (kt_observe_active())
		return kill_unregistered(pid, sig, call, origin, mode);
	return (int)kt_sys_result(kt_kill(pid, sig));
}

KT_EXPORT int kill(pid_t pid, int sig)
{
	struct kt_origin o = KT_ORIGIN;
	return kill_common(pid, sig, "kill", &o);
}

/* glibc's killpg calls its internal kill, which no hook sees: hence this. */
KT_EXPORT int killpg(pid_t pgrp, int sig)
{
	if (pgrp < 0) {
		errno = EINVAL; /* glibc's check, before any syscall */
		return -1;
	}
	/* Exactly glibc's mapping, killpg(0) and killpg(1) included. */
	struct kt_origin o = KT_ORIGIN;
	return kill_common(-pgrp, sig, "killpg", &o);
}

KT_EXPORT int sigqueue(pid_t pid, int sig, const union sigval value)
{
	/* The siginfo glibc's sigqueue builds, field for field. */
	siginfo_t info;
	memset(&info, 0, sizeof info);
	info.si_signo = sig;
	info.si_code = SI_QUEUE;
	info.si_pid = (pid_t)kt_syscall(SYS_getpid, 0, 0, 0, 0, 0);
	info.si_uid = (uid_t)kt_syscall(SYS_getuid, 0, 0, 0, 0, 0);
	info.si_value = value;
	struct kt_origin o = KT_ORIGIN;
	struct kt_send k = { .call = "sigqueue", .origin = &o, .pid = pid, .sig = sig,
	                     .info = &info };
	enum kt_mode mode = kt_mode();
	if (pid <= 0 || sig < 0 || sig >= _NSIG || mode == KT_MODE_OFF)
		return send_plain(&k);
	return send_registered(&k, kt_table_find(pid), mode);
}
