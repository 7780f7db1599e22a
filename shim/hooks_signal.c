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

#include "state.h"
#include "sys.h"

#define KT_PIDFD_SIGNAL_PROCESS_GROUP 4u /* linux/pidfd.h, 6.9 */

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
			info->reaped_by = KT_REAPED_UNSEEN;
			info->reaped_ns = 0;
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
		 * vfork child's view of its parent's table (same), and a group,
		 * which may outlive its leader. */
		if (!k->group &&
		    atomic_load_explicit(&s->reg_seq, memory_order_relaxed) >
		            atomic_load_explicit(&kt_state.own_seq_floor, memory_order_relaxed) &&
		    !kt_in_vfork_child() && kt_pid_is_my_child(k->pid) == -ECHILD) {
			retire_unseen(k->pid, s, w);
			return stale_send(k, mode);
		}
		return set_errno(plain_send(k));
	}
	if (st != KT_SLOT_LIVE && st != KT_SLOT_REAPED)
		return set_errno(plain_send(k)); /* never registered */

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
		/* EMFILE and friends: we cannot check, so do what libc does. */
		kt_count(&kt_state.n.fallbacks);
		kt_report_degraded(KT_DEGRADED_FD_EXHAUSTED, -fd);
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

/* kill(PID, SIG) and killpg's kill(-PGID, SIG), named CALL in reports. */
static int kill_common(pid_t pid, int sig, const char *call, const struct kt_origin *origin)
{
	enum kt_mode mode = kt_mode();
	struct kt_send k = { .call = call, .origin = origin, .pid = pid, .sig = sig };
	/* 0 and -1 name our own group and everyone; -INT_MIN does not exist;
	 * an out-of-range signal is refused by the kernel whatever the target.
	 * None is ours to judge. */
	if (pid == 0 || pid == -1 || pid == INT_MIN || sig < 0 || sig >= _NSIG ||
	    mode == KT_MODE_OFF)
		return set_errno(kt_kill(pid, sig));
	if (pid < 0) {
		k.pid = -pid;
		k.group = 1;
	}
	return send_registered(&k, mode);
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
