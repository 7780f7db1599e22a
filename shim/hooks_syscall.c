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
 * A clone issued by inline assembly is out of reach (README, "Limits").
 *
 * Every other system call goes to the kernel as glibc's syscall() sends it:
 * the instruction, then errno from a result in [-4095, -1].  Nothing is
 * resolved with dlsym for those, so syscall() stays async-signal-safe from
 * the first call on.
 *
 * Creation calls whose child would run on this function's frame while the
 * parent still needs it — vfork, and clone with CLONE_VM and no new stack —
 * are passed through untouched: through syscall() they are unusable from C
 * with or without libkt (the child's first call overwrites the return address
 * the parent later returns through).  A clone onto a new stack never comes
 * back through C code in the child (glibc's stub returns through whatever the
 * caller put on that stack), so those go through glibc's own syscall(),
 * resolved on first use, and only the parent registers. */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>

#include "state.h"
#include "sys.h"

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

/* A system call as glibc's syscall() makes it: the result, or -1 and errno. */
static long as_glibc_does(long r)
{
	if ((unsigned long)r > -4096UL) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* What a creation call asks for, read before it is made. */
struct creation {
	uint64_t flags;
	uint64_t stack;
	int *pidfd_out; /* where the kernel puts a CLONE_PIDFD fd */
};

/* 1 if NR with these arguments makes a child process that this hook should
 * register, filling *C; 0 for everything else, which passes through. */
static int creates_child(long nr, long a, long b, long c, struct creation *out)
{
#ifdef SYS_fork
	if (nr == SYS_fork) {
		*out = (struct creation){ 0, 0, NULL };
		return 1;
	}
#endif
	if (nr == SYS_clone) {
		/* clone(flags, stack, parent_tid, ...) on both architectures;
		 * with CLONE_PIDFD the fd goes where parent_tid points. */
		*out = (struct creation){ (unsigned long)a, (unsigned long)b, (int *)c };
	} else if (nr == SYS_clone3) {
		struct kt_clone_args args;
		/* A bad pointer or size is the kernel's to refuse (EFAULT,
		 * EINVAL), not ours to fault on. */
		if ((unsigned long)b < KT_CLONE_ARGS_SIZE_VER0 ||
		    kt_peek_self((const void *)a, &args, sizeof args) < 0)
			return 0;
		*out = (struct creation){ args.flags, args.stack, (int *)(uintptr_t)args.pidfd };
	} else {
		return 0;
	}
	if (out->flags & CLONE_THREAD)
		return 0; /* a thread, not a child */
	if ((out->flags & CLONE_VM) && !out->stack)
		return 0; /* the child would run on our frame: see above */
	return 1;
}

KT_EXPORT long syscall(long nr, ...)
{
	/* glibc's syscall() takes six arguments whatever the call needs, and so
	 * do we: unused ones are whatever the registers hold, never read. */
	va_list ap;
	va_start(ap, nr);
	long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
	long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
	va_end(ap);

	struct creation cr;
	if (!creates_child(nr, a, b, c, &cr) || kt_mode() == KT_MODE_OFF)
		goto pass;

	long r;
	if (cr.stack) {
		long (*real)(long, ...) = KT_REAL(syscall);
		if (!real)
			goto pass;
		r = real(nr, a, b, c, d, e, f); /* the child leaves through its own stack */
	} else {
		r = as_glibc_does(kt_syscall6(nr, a, b, c, d, e, f));
	}
	if (r == 0) {
		/* The child, on a copy of this frame (no CLONE_VM: see
		 * creates_child): forget the parent's vfork and our own PID's
		 * entry, as a fork child does. */
		kt_vfork_forget();
		kt_child_forget_self();
		return 0;
	}
	if (r < 0)
		return r;
	int saved = errno;
	int sibling = (cr.flags & CLONE_PARENT) != 0;
	if ((cr.flags & CLONE_PIDFD) && cr.pidfd_out)
		kt_register_child_pidfd((pid_t)r, *cr.pidfd_out, KT_MADE_SYSCALL, NULL, sibling);
	else if (!sibling) /* without a pidfd a sibling cannot be told (hooks_clone.c) */
		kt_register_child((pid_t)r, KT_MADE_SYSCALL, NULL);
	KT_ERRNO_RESTORE(saved);
	return r;

pass:
	return as_glibc_does(kt_syscall6(nr, a, b, c, d, e, f));
}
