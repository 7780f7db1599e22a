/* SPDX-License-Identifier: MIT */
/* The identity mode in force (identity.h). */
#include "identity.h"

#include <errno.h>
#include <stdatomic.h>

#include "report.h"
#include "sys.h"

static enum kt_identity_mode wanted = KT_IDENTITY_INODE; /* set at start-up only */
static _Atomic int in_force = KT_IDENTITY_UNDECIDED;

int kt_identity_mode(void)
{
	return atomic_load_explicit(&in_force, memory_order_acquire);
}

void kt_identity_want(enum kt_identity_mode mode)
{
	wanted = mode;
	kt_identity_settle(KT_IDENTITY_NO_EVIDENCE);
}

/* The mode WANTED comes down to, given EVIDENCE (identity.h).  On pidfs
 * (6.9+) every process has its own inode; before it, every pidfd shares one
 * anonymous inode and names nothing, so a child is named by holding its
 * pidfd (fd mode, heldfd.c).  A wish for fd mode is granted even on pidfs,
 * which is how CI tests it on a new kernel. */
int kt_identity_settle(int evidence)
{
	int mode;
	if (evidence == -ENOSYS || evidence == -EPERM) {
		/* No pidfds at all (kernel < 5.3, or a seccomp profile): stop
		 * trying.  Hooked reaps still make stale kills refusable. */
		atomic_store(&in_force, KT_IDENTITY_NONE);
		kt_report_degraded(KT_DEGRADED_NO_PIDFD, -evidence);
		return KT_IDENTITY_NONE;
	}
	if (wanted == KT_IDENTITY_NONE) {
		atomic_store(&in_force, KT_IDENTITY_NONE);
		return KT_IDENTITY_NONE;
	}
	if (evidence < 0)
		return kt_identity_mode(); /* nothing to judge by yet */
	if (wanted == KT_IDENTITY_INODE && kt_fd_is_pidfs(evidence) == 1) {
		mode = KT_IDENTITY_INODE;
	} else {
		if (wanted == KT_IDENTITY_INODE)
			kt_report_degraded(KT_DEGRADED_NO_PIDFS, 0);
		mode = KT_IDENTITY_FD;
	}
	int expected = KT_IDENTITY_UNDECIDED;
	atomic_compare_exchange_strong(&in_force, &expected, mode);
	return kt_identity_mode();
}
