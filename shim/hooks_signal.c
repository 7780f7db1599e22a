/* kill(): deliver to the registered child itself, or refuse if it is gone.
 *
 * Lock-free and async-signal-safe: one table lookup, then (for a registered
 * live child) pidfd_open + fstat + pidfd_send_signal + close.  Four syscalls
 * where plain kill() is one; no fewer is possible without holding an fd per
 * child: the pidfd is what makes the delivery exact (the kernel resolves the
 * PID once, into the pidfd, and fstat proves that process is our child). */
#include <errno.h>
#include <signal.h>

#include "state.h"
#include "sys.h"

/* What libc's kill() does: one syscall, errno on failure. */
static int plain_kill(pid_t pid, int sig)
{
	int r = kt_kill(pid, sig);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

/* A kill whose registered target is gone.  Enforce: refuse with ESRCH, as
 * the kernel would have if the PID had not been reused.  Audit: let it
 * through unchanged and say what it hit. */
static int stale_kill(pid_t pid, int sig, enum kt_mode mode)
{
	struct kt_stale ev = { .pid = pid, .sig = sig, .call = "kill", .holder = -1 };
	int want = kt_report_wanted();
	if (want)
		kt_report_find_holder(&ev);
	if (mode == KT_MODE_AUDIT) {
		int r = kt_kill(pid, sig);
		kt_count(&kt_state.n.stale_delivered);
		ev.delivered = 1;
		ev.delivered_errno = r < 0 ? -r : 0;
		if (want)
			kt_report_stale(&ev);
		if (r < 0) {
			errno = -r;
			return -1;
		}
		return 0;
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

KT_EXPORT int kill(pid_t pid, int sig)
{
	enum kt_mode mode = kt_mode();
	/* pid <= 0 names groups or everyone; an out-of-range signal is refused
	 * by the kernel whatever the target.  Neither is ours to judge. */
	if (pid <= 0 || sig < 0 || sig >= _NSIG || mode == KT_MODE_OFF)
		return plain_kill(pid, sig);
	struct kt_slot *s = kt_table_find(pid);
	if (!s)
		return plain_kill(pid, sig);
	uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);
	switch (kt_word_state(w)) {
	case KT_SLOT_LIVE:
		break;
	case KT_SLOT_REAPED:
		return stale_kill(pid, sig, mode);
	case KT_SLOT_LIVE_UNVERIFIED:
		/* No identity (no pidfds, or none could be opened): the number is
		 * still ours to judge.  If no child of ours holds it, our child was
		 * reaped where no hook saw it (SIGCHLD ignored) and the number may
		 * be someone else's now.  (An entry inherited from our parent names
		 * a sibling, which waitid cannot ask about.) */
		if (atomic_load_explicit(&s->reg_seq, memory_order_relaxed) >
		            atomic_load_explicit(&kt_state.own_seq_floor, memory_order_relaxed) &&
		    kt_pid_is_my_child(pid) == -ECHILD) {
			retire_unseen(pid, s, w);
			return stale_kill(pid, sig, mode);
		}
		return plain_kill(pid, sig);
	default: /* never registered */
		return plain_kill(pid, sig);
	}

	int fd = kt_pidfd_open(pid);
	if (fd == -ESRCH || fd == -EINVAL) {
		/* Nobody holds the PID, or only a thread of some other process
		 * does: our child was reaped where no hook of ours saw it. */
		retire_unseen(pid, s, w);
		return stale_kill(pid, sig, mode);
	}
	if (fd < 0) {
		/* EMFILE and friends: we cannot check, so do what libc does. */
		kt_count(&kt_state.n.fallbacks);
		kt_report_degraded(KT_DEGRADED_FD_EXHAUSTED, -fd);
		return plain_kill(pid, sig);
	}
	int64_t ino = kt_fd_inode(fd);
	if (ino < 0) {
		kt_close(fd);
		kt_count(&kt_state.n.fallbacks);
		return plain_kill(pid, sig);
	}
	if ((uint64_t)ino != kt_word_ident(w)) {
		kt_close(fd);
		retire_unseen(pid, s, w);
		return stale_kill(pid, sig, mode);
	}
	if (mode == KT_MODE_AUDIT) {
		/* Audit mode changes nothing, not even the delivery path. */
		kt_close(fd);
		return plain_kill(pid, sig);
	}
	int r = kt_pidfd_send_signal(fd, sig, NULL, 0);
	kt_close(fd);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	kt_count(&kt_state.n.kills_via_pidfd);
	return 0;
}
