/* SPDX-License-Identifier: MIT */
/* Raw system calls libkt issues itself, the clocks, and errno.
 *
 * Everything here is a single syscall (or a vDSO clock read): async-signal-
 * safe, no locks, no malloc.  Each wrapper returns the kernel's answer as
 * -errno instead of touching errno, so hooks decide for themselves what the
 * program's errno ends up as; kt_sys_result is the one place that turns such
 * an answer into libc's convention.  Numbers and flags newer than the build
 * machine's headers are defined here. */
#ifndef KT_SYS_H
#define KT_SYS_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 /* same number on every architecture (5.3) */
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424 /* 5.1 */
#endif
#define KT_PIDFD_SIGNAL_PROCESS_GROUP 4u /* linux/pidfd.h, 6.9 */
#define KT_P_PIDFD 3 /* waitid's idtype for a pidfd (5.4); glibc's enum is newer */
#define KT_PIDFS_MAGIC 0x50494446u /* "PIDF": pidfs (6.9), unique inode per process */

/* One system call: returns the result or -errno, never writes errno (the
 * hooks decide what the program's errno becomes).  The system call
 * instruction itself on every architecture: glibc's syscall() is hooked. */
static inline __attribute__((always_inline)) long kt_syscall6(long nr, long a, long b, long c,
                                                              long d, long e, long f)
{
	/* The system call instruction itself, as glibc's INTERNAL_SYSCALL issues
	 * it: the kernel already answers -errno, so there is no errno to save and
	 * restore (a TLS access through __errno_location) and no call through
	 * the PLT into glibc's syscall() — which, besides, is one of libkt's own
	 * hooks (hooks_syscall.c).  This is the whole of libkt's cost on the miss
	 * path, kill() of a PID that is not a registered child, which is meant
	 * to stay within a few percent of a bare kill().
	 *
	 * Inline, so that the instruction sits in the hook itself: after a
	 * system call the CPU's return predictions are often gone (kernel
	 * entry mitigations refill or flush them), and each function return
	 * between the instruction and the program then costs a misprediction.
	 * Measured on x86_64 with PTI: about 20 cycles per extra frame. */
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

/* A kernel answer R (a result, or -errno) as libc returns it: R itself, or
 * -1 with errno set.  Inline for the hooks; sys.c also emits it out of line
 * for the assembly entry of syscall() (syscall_ARCH.S). */
inline long kt_sys_result(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* Put errno back to SAVED, writing it only if it changed.  Right after a
 * fork the parent shares every page with its child copy-on-write, errno's
 * thread-local page included: an unconditional store would cost a page copy
 * on every fork. */
#define KT_ERRNO_RESTORE(saved)      \
	do {                             \
		if (errno != (saved))        \
			errno = (saved);         \
	} while (0)

static inline long kt_syscall(long nr, long a, long b, long c, long d, long e)
{
	return kt_syscall6(nr, a, b, c, d, e, 0);
}

static inline int kt_pidfd_open(pid_t pid)
{
	return (int)kt_syscall(SYS_pidfd_open, pid, 0, 0, 0, 0);
}

static inline int kt_pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned flags)
{
	return (int)kt_syscall(SYS_pidfd_send_signal, pidfd, sig, (long)info, flags, 0);
}

static inline int kt_kill(pid_t pid, int sig)
{
	return (int)kt_syscall(SYS_kill, pid, sig, 0, 0, 0);
}

static inline int kt_close(int fd)
{
	return (int)kt_syscall(SYS_close, fd, 0, 0, 0, 0);
}

/* Who holds a PID's number now, as pidfd_open sees it.  The same answer on
 * every kernel: before 6.16 pidfd_open refuses a thread's number and a
 * number only a process group or session still uses alike (EINVAL); from
 * 6.16 on it says ENOENT for a thread and ESRCH for the group's number. */
enum kt_holder {
	KT_HOLDER_PROCESS, /* a process (running or a zombie): *FD is a pidfd of it */
	KT_HOLDER_THREAD,  /* a thread of some process, not a process */
	KT_HOLDER_NONE,    /* no process or thread (a group or session may use it) */
	KT_HOLDER_UNKNOWN, /* no pidfd could be opened (*ERR: -EMFILE, -ENOSYS, ...) */
};
enum kt_holder kt_holder_open(pid_t pid, int *fd, int *err);

/* CLOCK_MONOTONIC and CLOCK_REALTIME in nanoseconds (vDSO: no syscall,
 * async-signal-safe). */
uint64_t kt_now_ns(void);
uint64_t kt_wall_ns(void);

/* The inode number of an fd, or -errno. */
int64_t kt_fd_inode(int fd);

/* The pidfs inode of process PID (a pidfd opened and closed), or 0: no
 * such process, no pidfds, or no pidfs (before 6.9). */
uint64_t kt_pidfs_inode_of(pid_t pid);

/* 1 if fd lives on pidfs (so its inode names one process for the life of the
 * system), 0 if not, -errno on failure. */
int kt_fd_is_pidfs(int fd);

/* waitid(P_PIDFD, pidfd, WEXITED|WNOHANG|WNOWAIT|__WALL): 0 if the process is
 * a child of this process (running or zombie) — the verification that closes
 * the fork→registration race — or -errno (ECHILD: not our child). */
int kt_pidfd_is_my_child(int pidfd);

/* The same question by number, for when there is no pidfd: 0 if PID is a
 * child of this process that has not been reaped, -ECHILD if not.  Weaker
 * than the pidfd form (the answer is about whoever holds the number at the
 * time of the call) but it needs nothing newer than waitid itself. */
int kt_pid_is_my_child(pid_t pid);

/* N bytes of fresh, zeroed, private pages, or NULL: mmap, not malloc, so
 * from a signal handler too. */
void *kt_zeroed_pages(size_t n);

/* Copy LEN bytes at ADDR in our own memory into OUT without ever faulting
 * (process_vm_readv on ourselves): 0, or -1 if any of it is unmapped. */
int kt_peek_self(const void *addr, void *out, size_t len);

#endif
