/* SPDX-License-Identifier: MIT */
/* syscall(): children made by the raw clone, clone3 and fork system calls.
 *
 * Why hook syscall() at all.  A reaped child's number stays refused (its
 * tombstone) until a child libkt registers takes the number.  A program that
 * makes some children with syscall(SYS_clone, ...) knows them by the number
 * that call returned; were such a child to land on a tombstoned number, the
 * program's kill() of its own live child would be refused.  Registering these
 * children as well closes that hole without any work on the kill path: the
 * refusal of a stale kill stays a table lookup, no system call.
 *
 * What stays unregistered, and why that is right: children made inside glibc
 * (system, popen, wordexp) never reach any exported function, but the program
 * never learns their numbers either, so a kill() of such a number can only be
 * meant for the reaped child that had it before: refusing it protects them.
 * A clone issued by inline assembly is out of reach (README, "Not covered").
 *
 * The entry point is assembly (syscall_ARCH.S): every call that libkt does
 * not take over is made there exactly as glibc's syscall() makes it, with no
 * frame of ours on the stack, so even a clone onto a new stack behaves as
 * without libkt; nothing is resolved with dlsym, so syscall() stays
 * async-signal-safe from the first call on.  Only the fork-like creation
 * calls come here: clone and clone3 without CLONE_VM, CLONE_THREAD or a new
 * stack, and fork.  vfork, and clones that share our memory or switch stacks,
 * pass through unregistered (README, "Not covered").  close, close_range,
 * dup2 and dup3 go to hooks_fd.c's guards instead (kt_syscall_fd).
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>

#include "heldfd.h"
#include "init.h"
#include "registry.h"
#include "story.h"
#include "sys.h"
#include "table.h"
#include "vfork_child.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif

/* The head of the kernel's struct clone_args (linux/sched.h): every field is
 * 64 bits wide, and the first size the kernel accepts (VER0) covers these. */
struct kt_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};
#define KT_CLONE_ARGS_SIZE_VER0 64

/* The first KT_SYSCALL_SNAPSHOT bytes of clone3's arguments are checked and
 * the call is made with that copy (syscall_ARCH.S keeps it in its frame), so
 * what the kernel acts on is what was checked, whatever other threads do to
 * the program's copy meanwhile.  Larger argument blocks (a kernel accepts up
 * to a page of zeroes past the fields it knows) pass through unregistered. */
#define KT_SYSCALL_SNAPSHOT 256

/* Called from syscall_ARCH.S only (which also calls kt_sys_result, sys.h,
 * for the errno of the calls it makes itself). */
int kt_syscall_makes_child(long nr, long a, long b, void *snapshot);
long kt_syscall_make_child(long nr, long a, long b, long c, long d, long e, long f,
                           const void *snapshot);

/* What a creation call asks for. */
struct creation {
	uint64_t flags;
	uint64_t stack;
	int *pidfd_out; /* where the kernel puts a CLONE_PIDFD fd */
};

static void creation_of_clone(long a, long b, long c, struct creation *out)
{
	/* clone(flags, stack, parent_tid, ...) on both architectures; with
	 * CLONE_PIDFD the fd goes where parent_tid points. */
	*out = (struct creation){ (unsigned long)a, (unsigned long)b, (int *)c };
}

static void creation_of_clone3(const struct kt_clone_args *args, struct creation *out)
{
	*out = (struct creation){ args->flags, args->stack, (int *)(uintptr_t)args->pidfd };
}

/* Called by syscall_ARCH.S for clone, clone3 and fork, with the number and
 * the first two arguments: 1 if the call makes a fork-like child, a process
 * that carries on from a copy of the caller's stack (no new stack, no
 * CLONE_VM, no CLONE_THREAD), which kt_syscall_make_child may then make.  For
 * clone3, SNAPSHOT receives the argument block.  0: the call is made as it is.
 *
 * The others are left alone: a thread is not a child; a child on a new stack
 * returns through what the caller put there, never through a frame of ours;
 * one that shares our memory on our stack (vfork-like) would overwrite the
 * frames the parent later returns through.  So are calls with libkt off. */
int kt_syscall_makes_child(long nr, long a, long b, void *snapshot)
{
	struct creation cr;
	if (nr == SYS_clone) {
		creation_of_clone(a, b, 0, &cr);
	} else if (nr == SYS_clone3) {
		/* A bad pointer or size is the kernel's to refuse (EFAULT,
		 * EINVAL), not ours to fault on. */
		size_t size = (unsigned long)b;
		if (size < KT_CLONE_ARGS_SIZE_VER0 || size > KT_SYSCALL_SNAPSHOT ||
		    kt_peek_self((const void *)a, snapshot, size) < 0)
			return 0;
		creation_of_clone3(snapshot, &cr);
#ifdef SYS_fork
	} else if (nr == SYS_fork) {
		cr = (struct creation){ 0, 0, NULL };
#endif
	} else {
		return 0;
	}
	if ((cr.flags & (CLONE_THREAD | CLONE_VM)) || cr.stack)
		return 0;
	return kt_mode() != KT_MODE_OFF;
}

/* Makes the fork-like child kt_syscall_makes_child accepted and registers
 * it: the parent's answer, or 0 in the child, as glibc's syscall() returns. */
long kt_syscall_make_child(long nr, long a, long b, long c, long d, long e, long f,
                           const void *snapshot)
{
	struct creation cr;
	if (nr == SYS_clone3) {
		creation_of_clone3(snapshot, &cr);
		a = (long)snapshot;
	} else if (nr == SYS_clone) {
		creation_of_clone(a, b, c, &cr);
	} else {
		cr = (struct creation){ 0, 0, NULL };
	}
	kt_table_before_fork(); /* what the child will know (table.h) */
	long r = kt_syscall6(nr, a, b, c, d, e, f);
	if (r == 0) {
		/* The child, on its copy of this frame: forget the parent's vfork
		 * and its table, as a fork child does. */
		kt_vfork_forget();
		kt_table_forget();
		kt_held_forget_guards();
		return 0;
	}
	if (r < 0)
		return kt_sys_result(r);
	int saved = errno;
	kt_register_clone_child((pid_t)r, cr.flags,
	                        (cr.flags & CLONE_PIDFD) ? cr.pidfd_out : NULL, KT_MADE_SYSCALL);
	if (kt_story_on()) {
		/* syscall_ARCH.S gives its entry a frame record, so the walk goes
		 * from here through it to the program; its own frame is dropped. */
		struct kt_origin origin = KT_ORIGIN;
		kt_story_spawned_ino((pid_t)r, &origin, kt_registered_inode((pid_t)r));
	}
	KT_ERRNO_RESTORE(saved);
	return r;
}
