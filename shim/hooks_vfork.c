/* SPDX-License-Identifier: MIT */
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
 *     gets a plain vfork and registers nothing (vfork_child.h), because
 *     every word it wrote would land in its parent's table;
 *   - a signal handler in the parent that vforks between prepare and finish
 *     claims the next slot up and gives it back before returning.
 *
 * Where the kernel refuses CLONE_PIDFD (older than 5.2, or qemu-user, or a
 * seccomp filter), the trampoline falls back to a plain vfork and the child
 * is registered afterwards the way fork's children are (registry.c), with
 * the same verification.
 *
 * The slots themselves are vfork_child.c's.  All of this is
 * async-signal-safe: thread-local memory, raw syscalls. */
#include <errno.h>
#include <stddef.h>

#include "clone_pidfd.h"
#include "init.h"
#include "registry.h"
#include "story.h"
#include "sys.h"
#include "vfork_child.h"

/* Markers the trampoline reads in a slot's pidfd field before the clone. */
#define KT_VFORK_WANT_PIDFD (-1) /* clone with CLONE_PIDFD into this field */
#define KT_VFORK_PLAIN (-2)      /* the kernel refused CLONE_PIDFD before */

/* Called by the trampoline; hidden, but not static. */
struct kt_vfork_slot *kt_vfork_prepare(void);
long kt_vfork_refused(long ret);
long kt_vfork_finish(long ret, struct kt_vfork_slot *slot, void *retaddr);

struct kt_vfork_slot *kt_vfork_prepare(void)
{
	int saved = errno;
	struct kt_vfork_slot *s = NULL;
	if (kt_mode() != KT_MODE_OFF && !kt_in_vfork_child()) {
		s = kt_vfork_claim();
		if (s)
			s->pidfd = kt_clone_pidfd_usable() ? KT_VFORK_WANT_PIDFD : KT_VFORK_PLAIN;
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
 * answer, RETADDR vfork's return address (the trampoline keeps it in a
 * register: vfork has no frame record); returns vfork's answer, setting
 * errno on failure as glibc's does. */
long kt_vfork_finish(long ret, struct kt_vfork_slot *slot, void *retaddr)
{
	if (ret < 0) {
		/* A failed clone installs no fd, whatever it wrote. */
		if (slot)
			kt_vfork_give_back(slot);
		return kt_sys_result(ret);
	}
	int saved = errno;
	int fd = -1;
	if (slot) {
		fd = slot->pidfd;
		kt_vfork_give_back(slot);
	}
	if (fd >= 0) {
		kt_register_child_pidfd((pid_t)ret, fd, KT_MADE_VFORK, NULL, 0);
		kt_close(fd);
	} else if (kt_mode() != KT_MODE_OFF) {
		kt_register_child((pid_t)ret, KT_MADE_VFORK, NULL);
	}
	if (kt_story_on()) {
		struct kt_origin origin = { retaddr, __builtin_frame_address(0) };
		kt_story_spawned_ino((pid_t)ret, &origin, kt_registered_inode((pid_t)ret));
	}
	errno = saved;
	return ret;
}
