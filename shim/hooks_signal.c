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

#include "counters.h"
#include "heldfd.h"
#include "holder.h"
#include "identity.h"
#include "init.h"
#include "log.h"
#include "registry.h"
#include "report.h"
#include "sys.h"
#include "vfork_child.h"

/* Where the program called a hook from: the exported hook's own return
 * address and frame, taken in that frame (a level deeper the return address
 * names libkt).  The hook passes the address of this local down, which also
 * keeps the compiler from turning its call into a tail call that would pop
 * the frame record the caller walk starts from.  Only read when a stale kill
 * is reported (report_stale.c, caller.c). */
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

/* The same, as libc returns it. */
static int send_plain(const struct kt_send *k)
{
	return (int)kt_sys_result(plain_send(k));
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
	 * without libkt, and refusing it would change the program.  One waitid,
	 * paid only by a kill that is stale or about to be delivered anyway. */
	if (!k->group && !kt_in_vfork_child() && kt_pid_is_my_child(k->pid) == 0)
		return send_plain(k);
	struct kt_stale ev = { .pid = k->pid, .sig = k->sig, .call = k->call,
	                       .group = k->group, .holder = -1 };
	int want = kt_log_wanted();
	if (want) {
		ev.holder = kt_holder_of(ev.pid, ev.holder_comm, &ev.holder_ppid);
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

/* The number-only judgement: 1 if the registered child behind K->pid (or
 * its group) is certainly gone.  If no child of ours holds the number, our
 * child was reaped where no hook saw it (SIGCHLD ignored) and the number may
 * be someone else's now.  Not asked: an entry inherited from our parent (it
 * names a sibling, which waitid cannot ask about), a vfork child's view of
 * its parent's table (same).  A group outlives its leader, but never while a
 * process holds the leader's number: the kernel reuses no number that still
 * names a group, so a holder that is not our child means the group is gone
 * too. */
static int gone_by_number(const struct kt_send *k, struct kt_slot *s)
{
	if (kt_registry_inherited(s) || kt_in_vfork_child() ||
	    kt_pid_is_my_child(k->pid) != -ECHILD)
		return 0;
	return !k->group || kt_kill(k->pid, 0) != -ESRCH;
}

/* Fd mode (heldfd.c): the live child's own pidfd is held, and the send
 * borrows it.  Audit mode, and group sends on a kernel without
 * PIDFD_SIGNAL_PROCESS_GROUP, only ask it whether the child is still there
 * (signal 0) and then go by number, as the inode path does. */
static int send_held(const struct kt_send *k, struct kt_slot *s, uint64_t w, enum kt_mode mode)
{
	int pg = k->group && !pgrp_flag_known_refused();
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
			return send_plain(k);
		if (fd >= 0)
			kt_close(fd);
		return stale_send(k, mode);
	}
	if (r == KT_HELD_NOFD || probe)
		return send_plain(k);
	if (r == -EINVAL && pg)
		r = group_flag_refused(k);
	else if (r == 0)
		kt_count(KT_N_KILLS_VIA_PIDFD);
	return (int)kt_sys_result(r);
}

/* What to do with a signal for a registered number, once judged. */
enum verdict {
	SEND_PLAIN, /* by number, as libc would: not ours to judge, or no way to */
	SEND_STALE, /* the registered child is gone: stale_send */
	SEND_PIDFD, /* through the pidfd just checked to name the child */
};

/* pidfd_open(K->pid) failed with ERR (-errno); the slot's state is ST. */
static enum verdict judge_without_pidfd(const struct kt_send *k, struct kt_slot *s,
                                        uint64_t w, int err)
{
	unsigned st = kt_word_state(w);
	if (err == -ESRCH) {
		/* Nobody holds the PID: our child was reaped (perhaps where no hook
		 * of ours saw it).  A process is then gone; a group may live on in
		 * its other members, and the number is still theirs. */
		kt_slot_retire_unseen(k->pid, s, w);
		return k->group ? SEND_PLAIN : SEND_STALE;
	}
	if (err == -EINVAL) {
		/* Only a thread of some other process holds the number: the child
		 * is gone, and with it every member of its group (see the top of
		 * this file). */
		kt_slot_retire_unseen(k->pid, s, w);
		return SEND_STALE;
	}
	/* EMFILE, or pidfd_open refused outright (a seccomp profile that still
	 * let CLONE_PIDFD register the child with an inode): judge by number, as
	 * without an identity, else do what libc does. */
	kt_count(KT_N_FALLBACKS);
	if (err == -ENOSYS || err == -EPERM)
		kt_report_degraded(KT_DEGRADED_NO_PIDFD, -err);
	else
		kt_report_degraded(KT_DEGRADED_FD_EXHAUSTED, -err);
	if (st == KT_SLOT_LIVE && gone_by_number(k, s)) {
		kt_slot_retire_unseen(k->pid, s, w);
		return SEND_STALE;
	}
	/* A group kill after the leader's hooked reap: stale if a process holds
	 * the number again (as below, without a pidfd to say so). */
	if (st == KT_SLOT_REAPED && kt_kill(k->pid, 0) != -ESRCH)
		return SEND_STALE;
	return SEND_PLAIN;
}

/* A live child registered with its pidfs inode, or (for a group send) a
 * reaped group leader: is the process holding K->pid now that child?  On
 * SEND_PIDFD, *FD is a pidfd of it, for the caller to send through. */
static enum verdict judge_by_pidfd(const struct kt_send *k, struct kt_slot *s, uint64_t w,
                                   int *fd)
{
	int pidfd = kt_pidfd_open(k->pid);
	if (pidfd < 0)
		return judge_without_pidfd(k, s, w, pidfd);
	if (kt_word_state(w) == KT_SLOT_REAPED) {
		/* A group kill after the leader's reap, and a process holds the
		 * number again: a stranger, so our group is gone. */
		kt_close(pidfd);
		return SEND_STALE;
	}
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

/* Deliver K to the registered child (or its group) K->pid, through a pidfd
 * of it, or refuse if it is gone.  Unregistered targets go by number. */
static int send_registered(const struct kt_send *k, enum kt_mode mode)
{
	struct kt_slot *s = kt_table_find(k->pid);
	if (!s)
		return send_plain(k);
	uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);
	enum verdict v;
	int fd = -1;
	switch (kt_word_state(w)) {
	case KT_SLOT_LIVE_UNVERIFIED:
		/* No identity (no pidfds, or none could be opened): the number is
		 * still ours to judge. */
		v = SEND_PLAIN;
		if (gone_by_number(k, s)) {
			kt_slot_retire_unseen(k->pid, s, w);
			v = SEND_STALE;
		}
		break;
	case KT_SLOT_REAPED:
		v = k->group ? judge_by_pidfd(k, s, w, &fd) : SEND_STALE;
		break;
	case KT_SLOT_LIVE:
		if (kt_identity_mode() == KT_IDENTITY_FD)
			return send_held(k, s, w, mode);
		v = judge_by_pidfd(k, s, w, &fd);
		break;
	default:
		v = SEND_PLAIN; /* never registered */
		break;
	}
	if (v == SEND_STALE)
		return stale_send(k, mode);
	if (v == SEND_PIDFD)
		return deliver(k, fd, mode);
	return send_plain(k);
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
		return (int)kt_sys_result(kt_kill(pid, sig));
	/* Most kills name a number libkt never registered (not a child of ours,
	 * or a group no registered child leads): one lookup, then exactly
	 * libc's kill.  send_registered reaches the same plain kill, but with
	 * the set-up of a registered kill: the miss path is meant to stay within
	 * a few percent of a bare kill(). */
	struct kt_slot *s = kt_table_find(pid < 0 ? -pid : pid);
	if (!s || kt_word_state(atomic_load_explicit(&s->word, memory_order_acquire)) ==
	                  KT_SLOT_EMPTY)
		return (int)kt_sys_result(kt_kill(pid, sig));
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
		return send_plain(&k);
	return send_registered(&k, mode);
}
