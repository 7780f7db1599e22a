/* SPDX-License-Identifier: MIT */
/* Guards for fd mode's held pidfds: close, close_range, closefrom, dup2, dup3,
 * and the same calls made through syscall().
 *
 * A held fd is one the program never opened, so every answer here is the one
 * plain libc gives for an fd the program does not have: close() of it fails
 * with EBADF and the fd stays; close_range()/closefrom() close everything
 * else in the range; dup2()/dup3() with it as the source fail with EBADF,
 * and onto its number they succeed, after libkt moved its fd elsewhere.
 * Without that, a close-all loop or a dup2 over the number would leave libkt
 * holding a number that now means the program's file, and the next kill
 * through it would reach whatever that file names.
 *
 * Cost: held fds all sit at or above KT_HELD_FLOOR (a constant), so a call
 * on a lower number is the real call plus one comparison.  Calls that reach
 * the floor are checked, whether or not anything is held yet, and bracketed
 * (kt_held_guard_begin/end), so a kill in another thread cannot keep a pidfd
 * at a number between our check and our call.
 *
 * syscall(SYS_close / SYS_close_range / SYS_dup2 / SYS_dup3, ...) comes here
 * too (syscall_ARCH.S): a program that bypasses libc's wrappers still closes
 * or replaces a number, and a held number freed that way would be the next
 * open()'s, or a child's pidfd that libkt then adopts there, so a kill through
 * the stale record would reach another process.
 *
 * Inside the bracket the real work is a raw syscall, so that no thread
 * cancellation can leave the bracket open: close() of a number in the region
 * is therefore not a cancellation point (close() elsewhere is glibc's own). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "heldfd.h"
#include "init.h"
#include "real.h"
#include "sys.h"
#include "vfork_child.h"

#ifndef SYS_close_range
#define SYS_close_range 436 /* 5.9, same number everywhere */
#endif

/* Declared by <unistd.h> from glibc 2.34 on.  libkt defines them on every
 * glibc: a program on an older one can still find them with dlsym. */
int close_range(unsigned first, unsigned last, int flags);
void closefrom(int lowfd);

KT_EXPORT int close(int fd)
{
	if (fd < KT_HELD_FLOOR)
		return KT_REAL(close)(fd);
	kt_held_guard_begin();
	long r = kt_held_owns(fd) ? -EBADF : kt_close(fd);
	kt_held_guard_end();
	return (int)kt_sys_result(r);
}

/* Close [first, last] except held fds, one close_range per gap.  Returns
 * the kernel's answer (0 or -errno) of the first call that failed. */
static long close_range_around_held(unsigned first, unsigned last, int flags)
{
	unsigned from = first;
	for (;;) {
		int h = kt_held_next(from, last);
		if (h < 0 || (unsigned)h > from) {
			unsigned to = h < 0 ? last : (unsigned)h - 1;
			long r = kt_syscall(SYS_close_range, from, to, flags, 0, 0);
			if (r < 0)
				return r;
		}
		if (h < 0 || (unsigned)h == last)
			return 0;
		from = (unsigned)h + 1;
	}
}

KT_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	if (first > last || last < KT_HELD_FLOOR) {
		kt_real_close_range_t real = KT_REAL(close_range);
		if (real)
			return real(first, last, flags);
		/* glibc before 2.34: the system call is all glibc's would be. */
		return (int)kt_sys_result(kt_syscall(SYS_close_range, first, last, flags, 0, 0));
	}
	kt_held_guard_begin();
	long r = close_range_around_held(first, last, flags);
	kt_held_guard_end();
	return (int)kt_sys_result(r);
}

KT_EXPORT void closefrom(int lowfd)
{
	/* glibc's closes from 0 for a negative LOWFD: held fds included.  Every
	 * closefrom reaches the floor, so every one is bracketed: glibc's own
	 * is the close_range call made here. */
	if (lowfd < 0)
		lowfd = 0;
	int saved = errno;
	kt_held_guard_begin();
	long r = close_range_around_held((unsigned)lowfd, ~0u, 0);
	if (r == -ENOSYS) {
		/* Kernels 5.3-5.8 (fd mode's home) lack close_range: close one by
		 * one up to the soft limit, as glibc's own fallback does through
		 * /proc/self/fd. */
		long max = sysconf(_SC_OPEN_MAX);
		for (long fd = lowfd; fd < max; fd++)
			if (!kt_held_owns((int)fd))
				kt_close((int)fd);
	}
	kt_held_guard_end();
	errno = saved;
}

/* Shared by dup2 and dup3: make NEWFD's number free of held fds. */
static int dup_guarded(int oldfd, int newfd, int flags, int is_dup3)
{
	kt_held_guard_begin();
	long r = 0;
	if (kt_held_owns(oldfd))
		r = -EBADF;
	else if (oldfd != newfd && kt_held_owns(newfd) && !kt_in_vfork_child())
		r = kt_held_evict(newfd); /* 0, or -EBUSY */
	/* A vfork child has its own copy of the fd table but its parent's
	 * memory: replacing the number there leaves the parent's fd alone, and
	 * moving it would rewrite the parent's bookkeeping for nothing. */
	if (r < 0) {
		/* refused: r says why */
	} else if (is_dup3) {
		r = kt_syscall(SYS_dup3, oldfd, newfd, flags, 0, 0);
	} else if (oldfd == newfd) {
		/* dup2's own answer for equal numbers: newfd if it is open. */
		r = kt_syscall(SYS_fcntl, oldfd, F_GETFD, 0, 0, 0);
		if (r >= 0)
			r = newfd;
	} else {
		r = kt_syscall(SYS_dup3, oldfd, newfd, 0, 0, 0);
	}
	kt_held_guard_end();
	return (int)kt_sys_result(r);
}

KT_EXPORT int dup2(int oldfd, int newfd)
{
	if (oldfd < KT_HELD_FLOOR && newfd < KT_HELD_FLOOR)
		return KT_REAL(dup2)(oldfd, newfd);
	return dup_guarded(oldfd, newfd, 0, 0);
}

KT_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	if (oldfd < KT_HELD_FLOOR && newfd < KT_HELD_FLOOR)
		return KT_REAL(dup3)(oldfd, newfd, flags);
	return dup_guarded(oldfd, newfd, flags, 1);
}

/* syscall()'s entry for the four calls above (syscall_ARCH.S tail-jumps
 * here, so this returns to the program: -1 and errno, or the result).  The
 * kernel takes the numbers as unsigned ints, so only their low 32 bits
 * count.  Below the region, and for calls that do not reach it, the raw
 * call as it was asked for. */
long kt_syscall_fd(long nr, long a, long b, long c);
long kt_syscall_fd(long nr, long a, long b, long c)
{
	unsigned floor = KT_HELD_FLOOR, fd = (unsigned)a, fd2 = (unsigned)b;
	long r;
	if (nr == SYS_close && fd >= floor) {
		kt_held_guard_begin();
		r = kt_held_owns((int)fd) ? -EBADF : kt_close((int)fd);
		kt_held_guard_end();
	} else if (nr == SYS_close_range && fd <= fd2 && fd2 >= floor) {
		kt_held_guard_begin();
		r = close_range_around_held(fd, fd2, (int)c);
		kt_held_guard_end();
	} else if (nr == SYS_dup3 && (fd >= floor || fd2 >= floor)) {
		return dup_guarded((int)fd, (int)fd2, (int)c, 1);
#ifdef SYS_dup2
	} else if (nr == SYS_dup2 && (fd >= floor || fd2 >= floor)) {
		return dup_guarded((int)fd, (int)fd2, 0, 0);
#endif
	} else {
		r = kt_syscall(nr, a, b, c, 0, 0);
	}
	return kt_sys_result(r);
}

