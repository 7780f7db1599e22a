/* SPDX-License-Identifier: MIT */
/* Raw syscalls: see sys.h for why they return -errno. */
#include "sys.h"

#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <sys/wait.h>

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

uint64_t kt_pidfs_inode_of(pid_t pid)
{
	int fd = kt_pidfd_open(pid);
	if (fd < 0)
		return 0;
	int64_t ino = kt_fd_is_pidfs(fd) == 1 ? kt_fd_inode(fd) : -1;
	kt_close(fd);
	return ino > 0 ? (uint64_t)ino : 0;
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

enum kt_holder kt_holder_open(pid_t pid, int *fd, int *err)
{
	int r = kt_pidfd_open(pid);
	*fd = r >= 0 ? r : -1;
	*err = r < 0 ? r : 0;
	if (r >= 0)
		return KT_HOLDER_PROCESS;
	if (r == -ESRCH)
		return KT_HOLDER_NONE;
	if (r == -ENOENT)
		return KT_HOLDER_THREAD;
	if (r == -EINVAL)
		/* Before 6.16: a thread, or a group's number only.  kill() by number
		 * reaches a thread's process, and finds no process for the
		 * group's number. */
		return kt_kill(pid, 0) == -ESRCH ? KT_HOLDER_NONE : KT_HOLDER_THREAD;
	return KT_HOLDER_UNKNOWN;
}

void *kt_zeroed_pages(size_t n)
{
	void *mem = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return mem == MAP_FAILED ? NULL : mem;
}
