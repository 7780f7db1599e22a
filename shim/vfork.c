/* vfork: the C half of the per-architecture trampolines (vfork_*.S).
 *
 * vfork cannot be a C function: the child returns from it first, through the
 * frame the parent will return through later, and whatever the child's code
 * then pushes lands on that frame.  So the trampoline keeps its return
 * address in a register (glibc's vfork.S does the same) and calls C only
 * where the stack is its own: before the clone, and in the parent after it,
 * when the child has exec'd or exited.
 *
 * The child is registered with no race window at all: the clone carries
 * CLONE_PIDFD, so the kernel hands the parent a pidfd of exactly this child,
 * whatever happens to the PID before the parent wakes.  The kernel writes
 * that fd number to memory (clone's parent_tid argument) before the child
 * runs; the child shares our memory and may write anywhere below the stack
 * pointer, so the number goes to a per-thread slot the child cannot reach
 * through any path of its own:
 *
 *   - prepare claims slot[depth] and raises depth; the parent's finish, and
 *     only it, lowers depth back to that slot's index, read from the slot
 *     pointer that the trampoline kept in a register;
 *   - the child finds depth already raised, so were it to call vfork again
 *     it would claim a higher slot — but it does not even do that: a process
 *     that is a vfork child (slot[depth-1] was claimed by another process)
 *     gets a plain vfork and registers nothing (registry.c), because every
 *     word it wrote would land in its parent's table;
 *   - a signal handler in the parent that vforks between prepare and finish
 *     claims the next slot up and gives it back before returning.
 *
 * Where the kernel refuses CLONE_PIDFD (older than 5.2, or qemu-user, or a
 * seccomp filter), the trampoline falls back to a plain vfork and the child
 * is registered afterwards the way fork's children are (registry.c), with
 * the same verification.
 *
 * All of this is async-signal-safe: thread-local memory, raw syscalls. */
#include <errno.h>
#include <stddef.h>

#include "hot.h"
#include "state.h"
#include "sys.h"

/* Markers the trampoline reads in a slot's pidfd field before the clone. */
#define KT_VFORK_WANT_PIDFD (-1) /* clone with CLONE_PIDFD into this field */
#define KT_VFORK_PLAIN (-2)      /* the kernel refused CLONE_PIDFD before */

/* vfork nests only through signal handlers of the vforking thread (its
 * child never claims a slot), so a handful of levels is plenty; past them a
 * vfork is registered after the fact, like a fork. */
#define KT_VFORK_DEPTH 8

struct kt_vfork_slot {
	int pidfd;   /* first: the trampolines pass its address to clone */
	pid_t owner; /* the process that claimed the slot */
};

struct kt_vfork_tls {
	unsigned depth;
	struct kt_vfork_slot slot[KT_VFORK_DEPTH];
};

/* initial-exec: a plain %fs/tpidr_el0-relative access, no __tls_get_addr
 * (which may allocate) on this path.  libkt is preloaded, so it gets static
 * TLS at start-up. */
static __thread struct kt_vfork_tls kt_vf __attribute__((tls_model("initial-exec")));

/* Set once clone has refused CLONE_PIDFD (shared with the clone hook). */
static _Atomic int kt_vfork_no_pidfd;

int kt_clone_pidfd_usable(void)
{
	return !atomic_load_explicit(&kt_vfork_no_pidfd, memory_order_relaxed);
}

void kt_clone_pidfd_refused(int err)
{
	if (!atomic_exchange(&kt_vfork_no_pidfd, 1))
		kt_report_degraded(KT_DEGRADED_NO_CLONE_PIDFD, err);
}

/* Called by the trampoline; hidden, but not static. */
struct kt_vfork_slot *kt_vfork_prepare(void);
long kt_vfork_refused(long ret);
long kt_vfork_finish(long ret, struct kt_vfork_slot *slot);

static pid_t raw_getpid(void)
{
	return (pid_t)kt_syscall(SYS_getpid, 0, 0, 0, 0, 0);
}

int kt_in_vfork_child(void)
{
	unsigned d = kt_vf.depth;
	if (d == 0)
		return 0;
	if (d > KT_VFORK_DEPTH)
		d = KT_VFORK_DEPTH;
	return kt_vf.slot[d - 1].owner != raw_getpid();
}

KT_CHILD_PATH void kt_vfork_forget(void)
{
	/* A forked child has memory of its own: whatever vfork was in progress
	 * in the thread that forked (a fork from a signal handler, or from a
	 * vfork child) is not this process's.  Stored only when it is not zero
	 * already: an unconditional store costs every forked child a page copy. */
	if (kt_vf.depth)
		kt_vf.depth = 0;
}

struct kt_vfork_slot *kt_vfork_prepare(void)
{
	int saved = errno;
	struct kt_vfork_slot *s = NULL;
	if (kt_mode() != KT_MODE_OFF && !kt_in_vfork_child()) {
		unsigned d = kt_vf.depth;
		if (d < KT_VFORK_DEPTH) {
			s = &kt_vf.slot[d];
			/* Owner before depth, marker after: a handler that runs in
			 * between either takes this same slot and gives it back (and
			 * sees us as the owner), or takes the next one. */
			s->owner = raw_getpid();
			atomic_signal_fence(memory_order_seq_cst);
			kt_vf.depth = d + 1;
			atomic_signal_fence(memory_order_seq_cst);
			s->pidfd = kt_clone_pidfd_usable() ? KT_VFORK_WANT_PIDFD
			                                   : KT_VFORK_PLAIN;
		}
	}
	errno = saved;
	return s;
}

/* The clone with CLONE_PIDFD failed with -RET.  Returns 0 to have the
 * trampoline retry as a plain vfork, or RET to report the failure as is. */
long kt_vfork_refused(long ret)
{
	/* EINVAL: a kernel older than CLONE_PIDFD (5.2) or an emulator that
	 * does not know it; ENOSYS/EPERM: a seccomp filter that judges clone's
	 * flags.  Plain vfork may still be allowed; it is what glibc would do. */
	if (ret != -EINVAL && ret != -ENOSYS && ret != -EPERM)
		return ret;
	kt_clone_pidfd_refused((int)-ret);
	return 0;
}

/* In the parent, once the child has exec'd or exited.  RET is the syscall's
 * answer; returns vfork's, setting errno on failure as glibc's does. */
long kt_vfork_finish(long ret, struct kt_vfork_slot *slot)
{
	int saved = errno;
	int fd = -1;
	if (slot) {
		fd = slot->pidfd;
		atomic_signal_fence(memory_order_seq_cst);
		kt_vf.depth = (unsigned)(slot - kt_vf.slot);
	}
	if (ret < 0) {
		/* A failed clone installs no fd, whatever it wrote. */
		errno = (int)-ret;
		return -1;
	}
	if (fd >= 0) {
		kt_register_child_pidfd((pid_t)ret, fd, KT_MADE_VFORK, NULL, 0);
		kt_close(fd);
	} else if (kt_mode() != KT_MODE_OFF) {
		kt_register_child((pid_t)ret, KT_MADE_VFORK, NULL);
	}
	errno = saved;
	return ret;
}
