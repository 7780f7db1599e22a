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
#include <sched.h>
#include <string.h>

#include "registry.h"

#include "counters.h"
#include "heldfd.h"
#include "hot.h"
#include "identity.h"
#include "report.h"
#include "sys.h"
#include "vfork_child.h"

/* Registrations numbered above this were made by this process; those at or
 * below it came with the table from the parent at fork.  Only our own
 * children can be asked about with waitid. */
static _Atomic uint64_t own_seq_floor KT_FORK_DATA;

int kt_registry_inherited(const struct kt_slot *s)
{
	return atomic_load_explicit(&s->reg_seq, memory_order_relaxed) <=
	       atomic_load_explicit(&own_seq_floor, memory_order_relaxed);
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
	/* No race to check for, unlike kt_register_child: this pidfd was made by
	 * the clone that made the child (CLONE_PIDFD, pidfd_spawn), so it names
	 * that child whatever has happened to the PID since.  Had the child been
	 * reaped already and the number reused, the inode we record is still the
	 * child's, and the first kill finds the difference and refuses. */
	if (mode != KT_IDENTITY_INODE) {
		/* No identity: the pidfd still tells exactly whether the child is
		 * already reaped. */
		uint64_t before = atomic_load(&s->word);
		if (kt_pidfd_is_my_child(pidfd) == -ECHILD) {
			mark_gone_at_birth(pid, s, before);
			return;
		}
		/* Fd mode: hold a copy (the caller keeps its own pidfd). */
		uint64_t ident = mode == KT_IDENTITY_FD ? kt_held_adopt(pidfd, pid, 1) : 0;
		if (ident) {
			kt_slot_publish(s, ident, KT_SLOT_LIVE);
		} else {
			if (mode == KT_IDENTITY_FD)
				kt_count(KT_N_FALLBACKS);
			kt_slot_publish(s, 0, KT_SLOT_LIVE_UNVERIFIED);
		}
		if (mode == KT_IDENTITY_FD && kt_word_state(before) != KT_SLOT_EMPTY)
			kt_held_release(kt_word_ident(before));
		return;
	}
	int64_t ino = kt_fd_inode(pidfd);
	if (ino < 0) {
		kt_count(KT_N_FALLBACKS);
		kt_slot_publish(s, 0, KT_SLOT_LIVE_UNVERIFIED);
		return;
	}
	kt_slot_publish(s, (uint64_t)ino, KT_SLOT_LIVE);
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

void kt_register_child(pid_t pid, enum kt_made_by how, const char *name)
{
	struct kt_slot *s = slot_for_new_child(pid, how, name);
	if (!s)
		return;
	uint64_t before = atomic_load_explicit(&s->word, memory_order_acquire);

	int mode = kt_identity_mode();
	if (mode == KT_IDENTITY_NONE) {
		publish_unverified(pid, s, before);
		return;
	}

	int fd = kt_pidfd_open(pid);
	if (fd == -ESRCH) {
		mark_gone_at_birth(pid, s, before);
		return;
	}
	if (fd < 0) {
		if (fd == -ENOSYS || fd == -EPERM)
			kt_identity_settle(fd); /* no pidfds at all: mode none from now on */
		else
			kt_report_degraded(KT_DEGRADED_FD_EXHAUSTED, -fd);
		kt_count(KT_N_FALLBACKS);
		publish_unverified(pid, s, before);
		return;
	}
	if (mode == KT_IDENTITY_UNDECIDED)
		mode = kt_identity_settle(fd);

	int mine = kt_pidfd_is_my_child(fd);
	if (mine == -ECHILD) {
		kt_close(fd);
		mark_gone_at_birth(pid, s, before);
		return;
	}
	uint64_t ident = 0;
	if (mine == 0 && mode == KT_IDENTITY_FD) {
		ident = kt_held_adopt(fd, pid, 0); /* closes fd */
	} else {
		int64_t ino = mine == 0 ? kt_fd_inode(fd) : -1;
		kt_close(fd);
		if (ino >= 0)
			ident = (uint64_t)ino;
	}
	if (!ident) {
		kt_count(KT_N_FALLBACKS);
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
	/* A vfork child reaps only its own children, which it never registered. */
	if (kt_in_vfork_child())
		return;
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
	kt_count(KT_N_REAPS_SEEN);
	struct kt_slot_info *info = kt_table_info(pid);
	if (info) {
		KT_INFO_SET(info->reaped_ns, kt_now_ns());
		KT_INFO_SET(info->reaped_by, (uint8_t)how);
	}
}

/* In a forked child: the table is the parent's.  Its entries describe the
 * parent's children (see own_seq_floor), and it may hold a tombstone
 * for the very PID this child was given (a child of the parent that was
 * reaped before the number came round again).  Left there, the child's own
 * kill(getpid(), sig) would be refused as stale. */
KT_CHILD_PATH void kt_child_forget_self(void)
{
	atomic_store_explicit(&own_seq_floor, kt_table_last_seq(), memory_order_relaxed);
	struct kt_slot *s = kt_table_find((pid_t)kt_syscall(SYS_getpid, 0, 0, 0, 0, 0));
	/* Usually the slot is empty already: storing anyway would copy the
	 * leaf's page (copy-on-write) in every child, delaying its exit. */
	if (s && atomic_load_explicit(&s->word, memory_order_relaxed) != kt_word(0, KT_SLOT_EMPTY))
		atomic_store_explicit(&s->word, kt_word(0, KT_SLOT_EMPTY), memory_order_release);
}
