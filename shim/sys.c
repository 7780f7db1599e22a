/* Raw syscalls: see sys.h for why they return -errno. */
#include "sys.h"

#include "hot.h"

#include <errno.h>
#include <sys/statfs.h>
#include <sys/wait.h>

KT_CHILD_PATH long kt_syscall(long nr, long a, long b, long c, long d, long e)
{
#if defined(__x86_64__)
	/* The syscall instruction itself, as glibc's INTERNAL_SYSCALL issues it:
	 * the kernel already answers -errno, so there is no errno to save and
	 * restore (a TLS access through __errno_location) and no call through
	 * the PLT into glibc's syscall().  This is the whole of libkt's cost on
	 * the miss path, kill() of a PID that is not a registered child, which
	 * is meant to stay within a few percent of a bare kill(). */
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	long r;
	__asm__ volatile("syscall"
	                 : "=a"(r)
	                 : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
	                 : "rcx", "r11", "memory");
	return r;
#else
	int saved = errno;
	long r = syscall(nr, a, b, c, d, e);
	if (r == -1) {
		r = -errno;
		errno = saved;
	}
	return r;
#endif
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
