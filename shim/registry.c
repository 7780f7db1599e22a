/* Registering children and noticing their reaps.
 *
 * The fork→registration race.  fork() returns a PID in the parent; by the
 * time we look at that PID the child may have exited, been reaped (by
 * another thread's waitpid(-1), by a SIGCHLD handler, by the kernel when
 * SIGCHLD is ignored) and its number handed to a stranger.  A shim that does
 * pidfd_open(pid) and trusts the result registers the stranger.  We close the
 * window by checking what the pidfd names rather than trying to keep the
 * window shut:
 *
 *   1. pidfd_open(pid) pins whatever process holds the PID now;
 *   2. waitid(P_PIDFD, fd, WEXITED|WNOHANG|WNOWAIT|__WALL) succeeds only if
 *      that process is a child of ours (running or zombie, not yet reaped);
 *      it reaps nothing;
 *   3. only then is its pidfs inode recorded.
 *
 * If the process is gone (ESRCH) or is not our child (ECHILD: the PID was
 * reused), our child died before it could be registered: we record a
 * tombstone, so a later kill() of that PID is refused, as it should be.
 * No signal blocking is needed: a SIGCHLD handler that reaps inside the
 * window is just another reaper, and the check sees its effect.  (If another
 * thread's fork got the same PID in between, the pidfd names that child:
 * also our child, also the process that kill(pid) would address.) */
#include <errno.h>
#include <string.h>

#include "heldfd.h"
#include "state.h"
#include "sys.h"

int kt_identity_mode(void)
{
	return atomic_load_explicit(&kt_state.idmode, memory_order_acquire);
}

/* Settle the identity mode from the first pidfd we get.  On pidfs (6.9+)
 * every process has its own inode; before it, every pidfd shares one
 * anonymous inode and names nothing, so a child is named by holding its
 * pidfd (fd mode, heldfd.c).  KT_IDENTITY=fd asks for fd mode even on
 * pidfs, which is how CI tests it on a new kernel. */
static int probe_identity(int pidfd)
{
	int mode = KT_IDENTITY_FD;
	if (kt_state.config.identity != KT_IDPREF_FD) {
		if (kt_fd_is_pidfs(pidfd) == 1)
			mode = KT_IDENTITY_INODE;
		else
			kt_report_degraded(KT_DEGRADED_NO_PIDFS, 0);
	}
	int expected = KT_IDMODE_UNPROBED;
	atomic_compare_exchange_strong(&kt_state.idmode, &expected, mode);
	return kt_identity_mode();
}

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

void kt_register_child(pid_t pid, enum kt_made_by how, const char *name)
{
	if (pid <= 0)
		return;
	struct kt_slot *s = kt_table_get(pid);
	if (!s) {
		kt_count(&kt_state.n.fallbacks);
		kt_report_degraded(KT_DEGRADED_NO_MEMORY, ENOMEM);
		return;
	}
	kt_count(&kt_state.n.children_tracked);
	fill_info(pid, how, name);
	uint64_t before = atomic_load_explicit(&s->word, memory_order_acquire);

	int mode = kt_identity_mode();
	if (mode == KT_IDENTITY_NONE) {
		kt_slot_publish(s, 0, KT_SLOT_LIVE_UNVERIFIED);
		return;
	}

	int fd = kt_pidfd_open(pid);
	if (fd == -ESRCH) {
		mark_gone_at_birth(pid, s, before);
		return;
	}
	if (fd < 0) {
		if (fd == -ENOSYS || fd == -EPERM) {
			/* No pidfds at all (kernel < 5.3, or a seccomp profile): stop
			 * trying.  Hooked reaps still make stale kills refusable. */
			atomic_store(&kt_state.idmode, KT_IDENTITY_NONE);
			kt_report_degraded(KT_DEGRADED_NO_PIDFD, -fd);
		} else {
			kt_report_degraded(KT_DEGRADED_FD_EXHAUSTED, -fd);
		}
		kt_count(&kt_state.n.fallbacks);
		kt_slot_publish(s, 0, KT_SLOT_LIVE_UNVERIFIED);
		return;
	}
	if (mode == KT_IDMODE_UNPROBED)
		mode = probe_identity(fd);

	int mine = kt_pidfd_is_my_child(fd);
	if (mine == -ECHILD) {
		kt_close(fd);
		mark_gone_at_birth(pid, s, before);
		return;
	}
	uint64_t ident = 0;
	if (mine == 0 && mode == KT_IDENTITY_FD) {
		ident = kt_held_adopt(fd, pid); /* closes fd */
	} else {
		int64_t ino = mine == 0 ? kt_fd_inode(fd) : -1;
		kt_close(fd);
		if (ino >= 0)
			ident = (uint64_t)ino;
	}
	if (!ident) {
		kt_count(&kt_state.n.fallbacks);
		kt_slot_publish(s, 0, KT_SLOT_LIVE_UNVERIFIED);
	} else {
		kt_slot_publish(s, ident, KT_SLOT_LIVE);
	}
	/* In fd mode the slot may still have named an earlier child's held fd:
	 * that child is certainly gone (its PID is now this child's) and was
	 * reaped where no hook saw it.  Release is idempotent and ignores
	 * identities that name no held fd. */
	if (mode == KT_IDENTITY_FD && kt_word_state(before) != KT_SLOT_EMPTY)
		kt_held_release(kt_word_ident(before));
}

/* Does the process holding PID right now have pidfs inode IDENT? */
static int holder_is(pid_t pid, uint64_t ident)
{
	int fd = kt_pidfd_open(pid);
	if (fd < 0)
		return 0;
	int64_t ino = kt_fd_inode(fd);
	kt_close(fd);
	return ino >= 0 && (uint64_t)ino == ident;
}

/* Fd mode's answer: is the child held for this identity still ours? */
static int holder_is_held(pid_t pid, uint64_t ident)
{
	(void)pid;
	return kt_held_names_live_child(ident);
}

void kt_note_reaped(pid_t pid, uint64_t seq, enum kt_reaped_by how)
{
	struct kt_slot *s = kt_table_find(pid);
	if (!s)
		return;
	int mode = kt_identity_mode();
	int (*check)(pid_t, uint64_t) = mode == KT_IDENTITY_INODE ? holder_is
	                                : mode == KT_IDENTITY_FD  ? holder_is_held
	                                                          : NULL;
	if (!kt_slot_mark_reaped(s, pid, seq, check))
		return;
	/* The reaped child's held fd goes now, not at the next sweep.  The word
	 * still names it unless a new child already took the slot, in which case
	 * that registration released it. */
	if (mode == KT_IDENTITY_FD) {
		uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);
		if (kt_word_state(w) == KT_SLOT_REAPED)
			kt_held_release(kt_word_ident(w));
	}
	kt_count(&kt_state.n.reaps_seen);
	struct kt_slot_info *info = kt_table_info(pid);
	if (info) {
		KT_INFO_SET(info->reaped_ns, kt_now_ns());
		KT_INFO_SET(info->reaped_by, (uint8_t)how);
	}
}
