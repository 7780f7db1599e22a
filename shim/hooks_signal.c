/* Signalling: kill, killpg, sigqueue.  Deliver to the registered child
 * itself (or its process group), or refuse if it is gone.
 *
 * Lock-free and async-signal-safe: one table lookup, then (for a registered
 * live child) pidfd_open + fstat + pidfd_send_signal + close.  Four syscalls
 * where plain kill() is one; no fewer is possible without holding an fd per
 * child: the pidfd is what makes the delivery exact (the kernel resolves the
 * PID once, into the pidfd, and fstat proves that process is our child).
 *
 * Process groups (kill(-pgid), killpg(pgid), where pgid is a registered
 * child's PID).  A group's number is its leader's PID, and the kernel never
 * hands a number out again while any process or any group still uses it: a
 * group outlives its leader, and pins the number, as long as one member is
 * left.  So:
 *   - leader alive or a zombie (its pidfd's inode is the one we recorded):
 *     pidfd_send_signal(leader, PIDFD_SIGNAL_PROCESS_GROUP) (6.9+) signals
 *     exactly the group named by that process, never a recycled one;
 *   - the number now belongs to another process (a different inode, or a
 *     thread): the number was free at some point, so every member of our
 *     group was gone; the group kill is stale, refused with ESRCH;
 *   - nobody holds the number and the leader is known reaped: either members
 *     of our group survive (a legitimate kill; the number is pinned for them)
 *     or they all died, a stranger got the number, made a group of it and
 *     died itself leaving members of its own.  Without an fd held from
 *     before, the two look the same, so this goes by number: the one case
 *     libkt does not protect (it needs a full PID wrap plus a stranger that
 *     leads a group and exits before its members, between our leader's reap
 *     and the kill).
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

#include "heldfd.h"
#include "state.h"
#include "sys.h"

/* Where the program called a hook from: the exported hook's own return
 * address and frame, taken in that frame (a level deeper the return address
 * names libkt).  The hook passes the address of this local down, which also
 * keeps the compiler from turning its call into a tail call that would pop
 * the frame record the caller walk starts from.  Only read when a stale kill
 * is reported (report.c, caller.c). */
struct kt_origin {
	void *ret;
	void *frame;
};
#define KT_ORIGIN { __builtin_return_address(0), __builtin_frame_address(0) }

/* One signal to send, as the program asked for it. */
struct kt_send {
	const char *call; /* "kill", "killpg", "sigqueue": for reports */
	const struct kt_origin *origin;
	pid_t pid;        /* the child, or the group's number (positive) */
	int sig;
	int group;        /* signal the process group PID, not the process */
	siginfo_t *info;  /* sigqueue's siginfo, or NULL */
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

static int set_errno(int r)
{
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

/* A signal whose registered target is gone.  Enforce: refuse with ESRCH, as
 * the kernel would have if the PID had not been reused.  Audit: let it
 * through unchanged and say what it hit. */
static int stale_send(const struct kt_send *k, enum kt_mode mode)
{
	/* The registered child is gone, but its number may now be another child
	 * of ours that libkt never saw being made: one from a creation path
	 * that another interposer took over (a sanitizer runtime's vfork, a
	 * shim that forks by raw system call), inline assembly, or glibc's own
	 * system() and popen().  The kill then names a live child, as it would
	 * without libkt, and refusing it would change the program (the stress
	 * test found this twice: with vfork before its trampoline, and under
	 * ASan, whose runtime keeps vfork to itself).  One waitid, paid only by
	 * a kill that is stale or about to be delivered anyway. */
	if (!k->group && !kt_in_vfork_child() && kt_pid_is_my_child(k->pid) == 0)
		return set_errno(plain_send(k));
	struct kt_stale ev = { .pid = k->pid, .sig = k->sig, .call = k->call,
	                       .group = k->group, .holder = -1 };
	int want = kt_report_wanted();
	if (want) {
		kt_report_find_holder(&ev);
		kt_caller_capture(&ev.caller, k->origin->ret, k->origin->frame);
	}
	if (mode == KT_MODE_AUDIT) {
		int r = plain_send(k);
		kt_count(&kt_state.n.stale_delivered);
		ev.delivered = 1;
		ev.delivered_errno = r < 0 ? -r : 0;
		if (want)
			kt_report_stale(&ev);
		return set_errno(r);
	}
	kt_count(&kt_state.n.stale_refused);
	if (want)
		kt_report_stale(&ev);
	errno = ESRCH;
	return -1;
}

/* The child behind slot S (word W) turned out to be gone at kill time:
 * remember it, so the next kill is refused without a syscall. */
static void retire_unseen(pid_t pid, struct kt_slot *s, uint64_t w)
{
	if (kt_slot_retire(s, w)) {
		struct kt_slot_info *info = kt_table_info(pid);
		if (info) {
			KT_INFO_SET(info->reaped_by, (uint8_t)KT_REAPED_UNSEEN);
			KT_INFO_SET(info->reaped_ns, (uint64_t)0);
		}
	}
}

/* Send to the group whose leader's pidfd is FD (identity already checked). */
static int group_send_pidfd(const struct kt_send *k, int fd)
{
	if (atomic_load_explicit(&kt_no_pgrp_flag, memory_order_relaxed))
		return plain_send(k);
	int r = kt_pidfd_send_signal(fd, k->sig, NULL, KT_PIDFD_SIGNAL_PROCESS_GROUP);
	if (r != -EINVAL) {
		if (r == 0)
			kt_count(&kt_state.n.kills_via_pidfd);
		return r;
	}
	/* A kernel before 6.9 knows no such flag.  (The signal number was
	 * range-checked, so the flag is the only thing it can object to; if the
	 * plain kill objects too, it was something else and we learn nothing.) */
	r = plain_send(k);
	if (r != -EINVAL && !atomic_exchange(&kt_no_pgrp_flag, 1)) {
		kt_count(&kt_state.n.fallbacks);
		kt_report_degraded(KT_DEGRADED_NO_PGRP_SIGNAL, EINVAL);
	}
	return r;
}

/* The number-only judgement (see the LIVE_UNVERIFIED case below): 1 if
 * the registered child behind K->pid (or its group) is certainly gone.  A
 * group outlives its leader, but never while a process holds the leader's
 * number: the kernel reuses no number that still names a group, so a
 * holder that is not our child means the group is gone too. */
static int gone_by_number(const struct kt_send *k, struct kt_slot *s)
{
	if (atomic_load_explicit(&s->reg_seq, memory_order_relaxed) <=
	            atomic_load_explicit(&kt_state.own_seq_floor, memory_order_relaxed) ||
	    kt_in_vfork_child() || kt_pid_is_my_child(k->pid) != -ECHILD)
		return 0;
	return !k->group || kt_kill(k->pid, 0) != -ESRCH;
}

/* Fd mode (heldfd.c): the live child's own pidfd is held, and the send
 * borrows it.  Audit mode, and group sends on a kernel without
 * PIDFD_SIGNAL_PROCESS_GROUP, only ask it whether the child is still there
 * (signal 0) and then go by number, as the inode path does. */
static int send_held(const struct kt_send *k, struct kt_slot *s, uint64_t w, enum kt_mode mode)
{
	int pg = k->group && !atomic_load_explicit(&kt_no_pgrp_flag, memory_order_relaxed);
	int probe = mode == KT_MODE_AUDIT || (k->group && !pg);
	int r = kt_held_signal(k->pid, s, w, probe ? 0 : k->sig, probe ? NULL : k->info,
	                       pg && !probe ? KT_PIDFD_SIGNAL_PROCESS_GROUP : 0);
	if (r == KT_HELD_STALE) {
		if (!k->group)
			return stale_send(k, mode);
		/* The leader is reaped.  Its group lives on, and keeps the number,
		 * while a member does; if a process holds the number, it is a
		 * stranger and our group is gone (see the top of this file). */
		int fd = kt_pidfd_open(k->pid);
		if (fd == -ESRCH)
			return set_errno(plain_send(k));
		if (fd >= 0)
			kt_close(fd);
		return stale_send(k, mode);
	}
	if (r == KT_HELD_NOFD || probe)
		return set_errno(plain_send(k));
	if (r == -EINVAL && pg) {
		/* Before 6.9: no group flag (see group_send_pidfd). */
		r = plain_send(k);
		if (r != -EINVAL && !atomic_exchange(&kt_no_pgrp_flag, 1)) {
			kt_count(&kt_state.n.fallbacks);
			kt_report_degraded(KT_DEGRADED_NO_PGRP_SIGNAL, EINVAL);
		}
		return set_errno(r);
	}
	if (r == 0)
		kt_count(&kt_state.n.kills_via_pidfd);
	return set_errno(r);
}

/* Deliver K to the registered child (or its group) K->pid, through a pidfd
 * of it, or refuse if it is gone.  Unregistered targets go by number. */
static int send_registered(const struct kt_send *k, enum kt_mode mode)
{
	struct kt_slot *s = kt_table_find(k->pid);
	if (!s)
		return set_errno(plain_send(k));
	uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);
	unsigned st = kt_word_state(w);
	if (st == KT_SLOT_REAPED && !k->group)
		return stale_send(k, mode);
	if (st == KT_SLOT_LIVE_UNVERIFIED) {
		/* No identity (no pidfds, or none could be opened): the number is
		 * still ours to judge.  If no child of ours holds it, our child was
		 * reaped where no hook saw it (SIGCHLD ignored) and the number may
		 * be someone else's now.  Not asked: an entry inherited from our
		 * parent (it names a sibling, which waitid cannot ask about), a
		 * vfork child's view of its parent's table (same).  A group may
		 * outlive its leader: see gone_by_number. */
		if (gone_by_number(k, s)) {
			retire_unseen(k->pid, s, w);
			return stale_send(k, mode);
		}
		return set_errno(plain_send(k));
	}
	if (st != KT_SLOT_LIVE && st != KT_SLOT_REAPED)
		return set_errno(plain_send(k)); /* never registered */
	if (st == KT_SLOT_LIVE && kt_identity_mode() == KT_IDENTITY_FD)
		return send_held(k, s, w, mode);

	int fd = kt_pidfd_open(k->pid);
	if (fd == -ESRCH) {
		/* Nobody holds the PID: our child was reaped (perhaps where no hook
		 * of ours saw it).  A process is then gone; a group may live on in
		 * its other members, and the number is still theirs. */
		retire_unseen(k->pid, s, w);
		return k->group ? set_errno(plain_send(k)) : stale_send(k, mode);
	}
	if (fd == -EINVAL) {
		/* Only a thread of some other process holds the number: the child
		 * is gone, and with it every member of its group (see above). */
		retire_unseen(k->pid, s, w);
		return stale_send(k, mode);
	}
	if (fd < 0) {
		/* EMFILE, or pidfd_open refused outright (a seccomp profile that
		 * still let CLONE_PIDFD register the child with an inode): judge by
		 * number, as without an identity, else do what libc does. */
		kt_count(&kt_state.n.fallbacks);
		if (fd == -ENOSYS || fd == -EPERM)
			kt_report_degraded(KT_DEGRADED_NO_PIDFD, -fd);
		else
			kt_report_degraded(KT_DEGRADED_FD_EXHAUSTED, -fd);
		if (st == KT_SLOT_LIVE && gone_by_number(k, s)) {
			retire_unseen(k->pid, s, w);
			return stale_send(k, mode);
		}
		/* A group kill after the leader's hooked reap: stale if a process
		 * holds the number again (as below, without a pidfd to say so). */
		if (st == KT_SLOT_REAPED && kt_kill(k->pid, 0) != -ESRCH)
			return stale_send(k, mode);
		return set_errno(plain_send(k));
	}
	if (st == KT_SLOT_REAPED) {
		/* A group kill after the leader's reap, and a process holds the
		 * number again: a stranger, so our group is gone. */
		kt_close(fd);
		return stale_send(k, mode);
	}
	int64_t ino = kt_fd_inode(fd);
	if (ino < 0) {
		kt_close(fd);
		kt_count(&kt_state.n.fallbacks);
		return set_errno(plain_send(k));
	}
	if ((uint64_t)ino != kt_word_ident(w)) {
		kt_close(fd);
		retire_unseen(k->pid, s, w);
		return stale_send(k, mode);
	}
	if (mode == KT_MODE_AUDIT) {
		/* Audit mode changes nothing, not even the delivery path. */
		kt_close(fd);
		return set_errno(plain_send(k));
	}
	int r;
	if (k->group) {
		r = group_send_pidfd(k, fd);
	} else {
		r = kt_pidfd_send_signal(fd, k->sig, k->info, 0);
		if (r == 0)
			kt_count(&kt_state.n.kills_via_pidfd);
	}
	kt_close(fd);
	return set_errno(r);
}

/* kill()/killpg() of a number libkt registered: everything but the miss
 * path, kept out of line so the miss path pays for none of its set-up. */
static __attribute__((noinline)) int kill_registered(pid_t pid, int sig, const char *call,
                                                     const struct kt_origin *origin,
                                                     enum kt_mode mode)
{
	struct kt_send k = { .call = call, .origin = origin, .pid = pid, .sig = sig };
	if (pid < 0) {
		k.pid = -pid;
		k.group = 1;
	}
	return send_registered(&k, mode);
}

/* kill(PID, SIG) and killpg's kill(-PGID, SIG), named CALL in reports. */
static int kill_common(pid_t pid, int sig, const char *call, const struct kt_origin *origin)
{
	enum kt_mode mode = kt_mode();
	/* 0 and -1 name our own group and everyone; -INT_MIN does not exist;
	 * an out-of-range signal is refused by the kernel whatever the target.
	 * None is ours to judge. */
	if (pid == 0 || pid == -1 || pid == INT_MIN || sig < 0 || sig >= _NSIG ||
	    mode == KT_MODE_OFF)
		return set_errno(kt_kill(pid, sig));
	/* Most kills name a number libkt never registered (not a child of ours,
	 * or a group no registered child leads): one lookup, then exactly
	 * libc's kill.  send_registered reaches the same plain kill, but at 135
	 * instructions a call where this path takes under 80 (callgrind): the
	 * miss path is meant to stay within a few percent of a bare kill(). */
	struct kt_slot *s = kt_table_find(pid < 0 ? -pid : pid);
	if (!s || kt_word_state(atomic_load_explicit(&s->word, memory_order_acquire)) ==
	                  KT_SLOT_EMPTY)
		return set_errno(kt_kill(pid, sig));
	return kill_registered(pid, sig, call, origin, mode);
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
		return set_errno(plain_send(&k));
	return send_registered(&k, mode);
}
