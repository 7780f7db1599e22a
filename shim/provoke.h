/* SPDX-License-Identifier: MIT */
/* The reuse provoker's side inside libkt (kt-run --provoke-reuse): hand
 * each reaped PID to the supervisor, which puts a decoy on it.  Nothing
 * happens unless KT_PROVOKE_FD is set. */
#ifndef KT_PROVOKE_H
#define KT_PROVOKE_H

#include <sys/types.h>

/* Check and keep the KT_PROVOKE_FD socket FD, whose inode must be INO
 * (constructor); FD < 0: no provoker. */
void kt_provoke_open(int fd, unsigned long long ino);
/* A wait hook reaped PID: hand the number to the provoker, if there is one,
 * and wait (bounded) until a decoy holds it.  Async-signal-safe. */
void kt_provoke_reaped(pid_t pid);

#endif
