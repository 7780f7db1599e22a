/* SPDX-License-Identifier: MIT */
/* clone: the glibc wrapper, clone(fn, stack, flags, arg, ...
 *        /+ pid_t *parent_tid, void *tls, pid_t *child_tid +/).
 *
 * The child runs fn on the caller's stack and exits from inside glibc; it
 * never returns through this frame, so unlike vfork a C hook is sound.  Every
 * variadic argument is read and forwarded: glibc's own clone.S takes all
 * three from registers/stack whatever the flags say, so reading them here is
 * what the callee does anyway.
 *
 * When can we add CLONE_PIDFD ourselves, and so register with no race?
 *   - not CLONE_THREAD: a thread is not a child; never registered at all;
 *   - not CLONE_PARENT_SETTID: for clone() the kernel writes the pidfd
 *     through the same parent_tid pointer, so the two are exclusive (EINVAL);
 *   - not CLONE_DETACHED: the kernel refuses it with CLONE_PIDFD (EINVAL);
 *   - not CLONE_FILES: the pidfd would appear in a descriptor table the
 *     running child shares, where it could close it or dup2 over it before we
 *     read the inode; those children are registered after the fact instead;
 *   - CLONE_VM is fine: the child runs on its own stack, never on our frame
 *     where the kernel writes the fd, and with CLONE_VFORK we are asleep
 *     until it execs anyway.  (A CLONE_VM child shares our memory, so what it
 *     registers itself lands in our table, as a thread's would.)
 * If the caller passed CLONE_PIDFD itself, its fd gives the identity; we
 * read it (fstat) and leave it alone. */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>

#include "clone_pidfd.h"
#include "init.h"
#include "real.h"
#include "registry.h"
#include "story.h"
#include "sys.h"
#include "table.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

KT_EXPORT int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	pid_t *parent_tid = va_arg(ap, pid_t *);
	void *tls = va_arg(ap, void *);
	pid_t *child_tid = va_arg(ap, pid_t *);
	va_end(ap);

	kt_real_clone_t real = KT_REAL(clone);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	if ((flags & CLONE_THREAD) || kt_mode() == KT_MODE_OFF)
		return real(fn, stack, flags, arg, parent_tid, tls, child_tid);

	/* A child with memory of its own inherits what we know (table.h). */
	if (!(flags & CLONE_VM))
		kt_table_before_fork();
	int theirs = flags & CLONE_PIDFD;
	int ours = !theirs && kt_clone_pidfd_usable() &&
		!(flags & (CLONE_PARENT_SETTID | CLONE_DETACHED | CLONE_FILES));
	int pidfd = -1;
	int r;
	if (ours) {
		r = real(fn, stack, flags | CLONE_PIDFD, arg, &pidfd, tls, child_tid);
		if (r < 0 && (errno == EINVAL || errno == ENOSYS || errno == EPERM)) {
			/* Ours or the caller's flags?  Only a retry without ours can
			 * tell; a failed clone has no side effects to undo. */
			int first = errno;
			ours = 0;
			r = real(fn, stack, flags, arg, parent_tid, tls, child_tid);
			if (r >= 0)
				kt_clone_pidfd_refused(first);
		}
	} else {
		r = real(fn, stack, flags, arg, parent_tid, tls, child_tid);
	}
	if (r <= 0)
		return r; /* failed, errno as clone left it (the child never returns here) */

	int saved = errno;
	if (ours) {
		kt_register_child_pidfd(r, pidfd, KT_MADE_CLONE, NULL, flags & CLONE_PARENT);
		kt_close(pidfd);
	} else {
		kt_register_clone_child(r, (unsigned)flags, theirs ? (const int *)parent_tid : NULL,
		                        KT_MADE_CLONE);
	}
	if (kt_story_on()) {
		struct kt_origin origin = KT_ORIGIN;
		kt_story_spawned_ino(r, &origin, kt_registered_inode(r));
	}
	errno = saved;
	return r;
}
