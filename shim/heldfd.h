/* SPDX-License-Identifier: MIT */
/* Held pidfds: the pidfds of children a kill has proven (see judge_unproven
 * in hooks_signal.c), kept so that the next kill of the same child is one
 * system call, where the program cannot see or break them.
 *
 * Where the fds live.  The first pidfd kept reserves a region of the fd
 * space: numbers [KT_HELD_FLOOR, KT_HELD_FLOOR + budget), budget = KT_MAX_FDS
 * (at most KT_HELD_MAX, the default), never more than a quarter of the soft
 * RLIMIT_NOFILE, and never past it: under a soft limit that leaves no room
 * above the floor, no pidfd is kept (each kill proves its child again).  The
 * floor is a constant, so a guard knows without asking whether a number can
 * be ours.  A kept fd is moved there with F_DUPFD_CLOEXEC, so it is not among
 * the low numbers open() hands the program, never crosses an exec, and the
 * count is bounded.  The region sits low on purpose: a process's fd table
 * grows to its highest open number, and every fork copies the table whole,
 * so fds held at the top of a large soft limit made every fork slower.  When
 * the region is full the child signalled least recently gives its fd up (its
 * slot goes back to the identity it had before, or none: its next kill
 * proves it again).  Nothing fails for want of room.  The fds do show in
 * /proc/self/fd: "invisible" means "not among the low numbers, not closable
 * or dup2-able by the program", not absent from /proc.
 *
 * Naming and reference counting.  Each number in the region has an entry:
 *
 *     word = gen << 18 | refs << 3 | PENDING << 2 | DEAD << 1 | INUSE
 *
 * and a held child's slot word (table.h) carries ident = KT_HELD_ID_TAG | gen << 24 | fd.
 * A kill takes a reference with a compare-and-swap that also checks gen and
 * that the entry is not DEAD, so it can never pick up a number that was
 * released and handed to another child.  Releasing marks the entry DEAD; the
 * fd is closed by whoever drops the last reference (the releaser itself when
 * none is out), so no fd number is closed while a kill still uses it.  All of
 * it is lock-free and made of raw syscalls: safe in signal handlers and
 * between threads.  A slot stops naming an entry before the entry is
 * released, so a kill whose reference is refused re-reads the slot.  An
 * entry is claimed PENDING, and settled once its slot names it (or given up
 * if the slot moved on): no eviction can release it in between, when the
 * slot could not be given its old word back.
 *
 * Guards.  The program's close(), close_range(), closefrom(), dup2() and
 * dup3() of a number at or above the floor go through hooks_fd.c, which asks
 * kt_held_owns(): close() of a held fd fails with EBADF (what plain libc
 * says of an fd the program never opened) and the fd stays; close_range and
 * closefrom skip held fds; dup2/dup3 onto a held number first move our fd
 * elsewhere (kt_held_evict).  A guard's check and its call are bracketed
 * (kt_held_guard_begin/end), and a kept pidfd is given up, not published,
 * when any guard ran between its F_DUPFD_CLOEXEC and its claim: the number
 * may be the program's by then.
 *
 * A forked child inherits the region's fds and entries, which name its
 * parent's children (it never sends through them: tree.c judges those
 * kills).  They stay guarded in it; its first pidfd kept, or a dup2 onto one
 * of their numbers, closes them, whatever references its parent's threads
 * had out at the fork. */
#ifndef KT_HELDFD_H
#define KT_HELDFD_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "table.h"

/* KT_MAX_FDS (config.h): the most pidfds kept at once (constructor). */
void kt_held_configure(long max_fds);

/* At most this many pidfds held (KT_MAX_FDS may ask for fewer), from this
 * number up. */
#define KT_HELD_MAX 64
#define KT_HELD_FLOOR 256

/* Hold a copy of PIDFD, a pidfd already verified to name our child PID
 * (whose pidfs inode is INO, or 0 if its slot has none).  Returns the
 * identity to publish with KT_SLOT_LIVE, or 0 if no fd can be held for it.
 * PIDFD itself is closed, unless BORROWED (the caller's own, e.g. from
 * CLONE_PIDFD). */
uint64_t kt_held_adopt(int pidfd, pid_t pid, uint64_t ino, int borrowed);

/* A held child's slot identity is tagged so it can never be mistaken for
 * an inode or for the registration number that LIVE_UNVERIFIED and
 * tombstone words carry. */
#define KT_HELD_ID_TAG (UINT64_C(1) << 61)

/* 1 if IDENT (a live slot's identity) names a held fd, 0 if it is an inode
 * or a registration number. */
static inline int kt_held_is_ident(uint64_t ident)
{
	return (ident & KT_HELD_ID_TAG) != 0;
}

/* The slot no longer names IDENT: give its fd up (closed now, or by the
 * last kill still using it).  Idempotent. */
void kt_held_release(uint64_t ident);

/* The slot a kt_held_adopt identity was meant for now names it (NAMED), or
 * moved on first (then the fd is given up): the entry may be evicted and
 * borrowed from now on. */
void kt_held_settle(uint64_t ident, int named);

/* A kill's reference on a held fd: while it is out, the fd number stays
 * open and names the same child, whatever releases or evictions happen. */
struct kt_held_ref {
	void *entry;
	int fd;
};

/* Take a reference on the held fd IDENT (a live slot's identity) names and
 * return its number, or -1 if IDENT no longer names a held fd (its fd was
 * given up to make room, or released).  The caller sends through the fd
 * itself, so that the system call sits in the hook (see kt_syscall6), and
 * then drops the reference with kt_held_return. */
int kt_held_borrow(uint64_t ident, struct kt_held_ref *ref);
void kt_held_return(const struct kt_held_ref *ref);

/* 1 if IDENT's held fd names a process that is not reaped (running or a
 * zombie); 0 otherwise. */
int kt_held_names_live_child(uint64_t ident);

/* ---- for the fd guards (hooks_fd.c) -------------------------------------- */

/* 1 if FD is one of our held fds: the program must not close or replace it.
 * An fd being closed by its releaser at this moment is still ours. */
int kt_held_owns(int fd);
/* The lowest held fd in [FROM, TO], or -1. */
int kt_held_next(unsigned from, unsigned to);
/* Move our held fd away from number FD so the program may dup2 onto it.
 * 0 when FD is no longer ours, -EBUSY if a kill kept using it too long. */
int kt_held_evict(int fd);
/* Bracket a guard's check and its real call, so that a kill in another
 * thread never keeps a pidfd at a number a guard has just judged "not ours". */
void kt_held_guard_begin(void);
void kt_held_guard_end(void);
/* In a forked child, before it returns to the program: guards that other
 * threads had open at the fork do not exist here. */
void kt_held_forget_guards(void);

#ifdef KT_UNIT_TEST
/* Unit tests only: close every kept fd and forget the region. */
void kt_held_reset_for_test(void);
#endif

#endif
