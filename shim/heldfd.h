/* Fd identity mode (KT_IDENTITY=fd; the automatic choice on kernels 5.3-6.8,
 * which have pidfds but no pidfs inode to name a process by): one pidfd held
 * per live child, kept where the program cannot see or break it.
 *
 * Where the fds live.  When fd mode starts, libkt reserves the top of the
 * fd space: numbers [floor, floor + budget), budget = KT_MAX_FDS or a
 * quarter of the soft RLIMIT_NOFILE, floor = the soft limit - budget.  A held
 * fd is moved there with F_DUPFD_CLOEXEC, so it is never among the low
 * numbers open() hands the program, never crosses an exec, and the count is
 * bounded by the region's size.  A child that finds no room is tracked
 * without an fd (KT_SLOT_LIVE_UNVERIFIED): nothing fails.  The fds do show
 * in /proc/self/fd: "invisible" means "not among the low numbers, not
 * closable or dup2-able by the program", not absent from /proc.
 *
 * Naming and reference counting.  Each number in the region has an entry:
 *
 *     word = gen << 18 | refs << 2 | DEAD << 1 | INUSE
 *
 * and a held child's slot word (table.h) carries ident = gen << 24 | fd.
 * A kill takes a reference with a compare-and-swap that also checks gen and
 * that the entry is not DEAD, so it can never pick up a number that was
 * released and handed to another child.  Releasing marks the entry DEAD; the
 * fd is closed by whoever drops the last reference (the releaser itself when
 * none is out), so no fd number is closed while a kill still uses it.  All of
 * it is lock-free and made of raw syscalls: safe in signal handlers and
 * between threads.  A slot stops naming an entry before the entry is
 * released, so a kill whose reference is refused re-reads the slot.
 *
 * Guards.  The program's close(), close_range(), closefrom(), dup2() and
 * dup3() go through hooks_fd.c, which asks kt_held_owns(): close() of a
 * held fd fails with EBADF (what plain libc says of an fd the program never
 * opened) and the fd stays; close_range/closefrom skip held fds; dup2/dup3
 * onto a held number first move our fd elsewhere (kt_held_evict). */
#ifndef KT_HELDFD_H
#define KT_HELDFD_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "table.h"

/* KT_MAX_FDS (config.h): the most fds fd mode may hold (constructor). */
void kt_held_configure(long max_fds);

/* Hold a copy of PIDFD, a pidfd already verified to name our child PID.
 * Returns the identity to publish with KT_SLOT_LIVE, or 0 if no fd can be
 * held for it.  PIDFD itself is closed, unless BORROWED (the caller's own,
 * e.g. from CLONE_PIDFD). */
uint64_t kt_held_adopt(int pidfd, pid_t pid, int borrowed);

/* The slot no longer names IDENT: give its fd up (closed now, or by the
 * last kill still using it).  Idempotent. */
void kt_held_release(uint64_t ident);

/* kt_held_signal's answers besides 0 / -errno from pidfd_send_signal. */
#define KT_HELD_STALE 1 /* the child is gone (reaped): slot retired, fd released */
#define KT_HELD_NOFD 2  /* no held fd names this child any more: decide without one */

/* Send SIG (with INFO and FLAGS, as pidfd_send_signal takes them) to the
 * child registered in slot S of PID, whose word was W (state LIVE), through
 * its held fd. */
int kt_held_signal(pid_t pid, struct kt_slot *s, uint64_t w, int sig, siginfo_t *info,
                   unsigned flags);

/* 1 if IDENT's held fd names a process that is not reaped (running or a
 * zombie); 0 otherwise. */
int kt_held_names_live_child(uint64_t ident);

/* Look for held children that were reaped where no hook saw it (SIGCHLD
 * ignored, a glibc-internal wait): poll up to MAX held fds and release the
 * ones whose process is gone. */
void kt_held_sweep(int max);

/* ---- for the fd guards (hooks_fd.c) -------------------------------------- */

/* 1 if FD is one of our held fds: the program must not close or replace it. */
int kt_held_owns(int fd);
/* The lowest held fd in [FROM, TO], or -1. */
int kt_held_next(unsigned from, unsigned to);
/* Move our held fd away from number FD so the program may dup2 onto it.
 * 0 when FD is no longer ours, -EBUSY if a kill kept using it too long. */
int kt_held_evict(int fd);
/* Bracket a guard's check and its real call, so that a registration in
 * another thread never adopts a number a guard has just judged "not ours". */
void kt_held_guard_begin(void);
void kt_held_guard_end(void);
/* Where held fds can be: fds below this never need a guard's attention. */
int kt_held_floor(void);

#endif
