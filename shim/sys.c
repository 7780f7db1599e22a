/* Raw syscalls: see sys.h for why they return -errno. */
#include "sys.h"

#include "hot.h"

#include <sys/statfs.h>
#include <sys/uio.h>
#include <sys/wait.h>

KT_CHILD_PATH long kt_syscall6(long nr, long a, long b, long c, long d, long e, long f)
{
	/* The system call instruction itself, as glibc's INTERNAL_SYSCALL issues
	 * it: the kernel already answers -errno, so there is no errno to save and
	 * restore (a TLS access through __errno_location) and no call through
	 * the PLT into glibc's syscall() — which, besides, is one of libkt's own
	 * hooks (hooks_syscall.c).  This is the whole of libkt's cost on the miss
	 * path, kill() of a PID that is not a registered child, which is meant
	 * to stay within a few percent of a bare kill(). */
#if defined(__x86_64__)
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long r;
	__asm__ volatile("syscall"
	                 : "=a"(r)
	                 : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
	                 : "rcx", "r11", "memory");
	return r;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	__asm__ volatile("svc #0"
	                 : "+r"(x0)
	                 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
	                 : "memory");
	return x0;
#else
#error "libkt: no raw system call for this architecture"
#endif
}

/* The out-of-line copy of the inline in sys.h. */
extern inline long kt_sys_result(long r);

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t kt_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t kt_wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

int kt_peek_self(const void *addr, void *out, size_t len)
{
	struct iovec local = { out, len }, remote = { (void *)addr, len };
	long pid = kt_syscall(SYS_getpid, 0, 0, 0, 0, 0);
	/* Six arguments: the last, flags, must be 0. */
	return kt_syscall6(SYS_process_vm_readv, pid, (long)&local, 1, (long)&remote, 1, 0) ==
	       (long)len ? 0 : -1;
}

int64_t kt_fd_inode(int fd)
{
	struct stat st;
	long r = kt_syscall(SYS_fstat, fd, (long)&st, 0, 0, 0);
	return r < 0 ? r : (int64_t)st.st_ino;
}

int kt_fd_is_pidfs(int fd)
{
	struct statfs sfs;
	long r = kt_syscall(SYS_fstatfs, fd, (long)&sfs, 0, 0, 0);
	if (r < 0)
		return (int)r;
	return (uint32_t)sfs.f_type == KT_PIDFS_MAGIC;
}

int kt_pidfd_is_my_child(int pidfd)
{
	siginfo_t si;
	/* __WALL: a clone child with a non-SIGCHLD exit signal is a child too.
	 * WNOWAIT: look, never reap — the program owns reaping. */
	return (int)kt_syscall(SYS_waitid, KT_P_PIDFD, pidfd, (long)&si,
	                       WEXITED | WNOHANG | WNOWAIT | __WALL, 0);
}

int kt_pid_is_my_child(pid_t pid)
{
	siginfo_t si;
	return (int)kt_syscall(SYS_waitid, P_PID, pid, (long)&si,
	                       WEXITED | WNOHANG | WNOWAIT | __WALL, 0);
}
