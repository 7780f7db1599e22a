/* SPDX-License-Identifier: MIT */
/* Whether clone may be asked for CLONE_PIDFD here.  vfork's trampoline and
 * the clone hook add the flag so the kernel hands over a pidfd of exactly
 * the new child; once the kernel has refused it (older than 5.2, qemu-user,
 * a seccomp filter), both stop asking and register their children after the
 * fact, like fork's. */
#ifndef KT_CLONE_PIDFD_H
#define KT_CLONE_PIDFD_H

/* 0 once clone has refused CLONE_PIDFD in this process. */
int kt_clone_pidfd_usable(void);
/* Clone refused CLONE_PIDFD with ERR: stop asking, and report it once. */
void kt_clone_pidfd_refused(int err);

#endif
