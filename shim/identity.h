/* SPDX-License-Identifier: MIT */
/* The identity mode in force: how a registered child is told apart from a
 * later process with the same number (enum kt_identity_mode, kt.h).
 *
 * It is decided in one place, kt_identity_settle, from what the
 * configuration wants (config.h) and what the kernel shows: the first pidfd
 * of a child tells whether pidfs gives each process its own inode, and a
 * pidfd_open refused with ENOSYS or EPERM means there are no pidfds at all.
 * Until the first child the mode is KT_IDENTITY_UNDECIDED: deciding needs a
 * pidfd, and a process that never forks should not pay for one. */
#ifndef KT_IDENTITY_H
#define KT_IDENTITY_H

#include <kt.h>

#define KT_IDENTITY_UNDECIDED (-1)
/* kt_identity_settle's evidence when there is none yet (start-up): below
 * every -errno. */
#define KT_IDENTITY_NO_EVIDENCE (-4096)

/* The mode in force: an enum kt_identity_mode, or KT_IDENTITY_UNDECIDED. */
int kt_identity_mode(void);

/* Start-up: remember the mode the configuration WANTS (a wish for "none"
 * is in force at once). */
void kt_identity_want(enum kt_identity_mode wanted);

/* Decide the mode from EVIDENCE: a child's pidfd (>= 0), or what
 * pidfd_open answered instead (-errno; -ENOSYS and -EPERM mean no pidfds,
 * which overrides any earlier decision), or KT_IDENTITY_NO_EVIDENCE.
 * Returns the mode in force afterwards. */
int kt_identity_settle(int evidence);

#endif
