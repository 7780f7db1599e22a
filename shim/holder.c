/* SPDX-License-Identifier: MIT */
/* Who holds a PID now (holder.h). */
#include "holder.h"

#include <fcntl.h>
#include <string.h>

#include "fmt.h"
#include "sys.h"

/* A program started with `unshare --pid` but no fresh /proc mount sees its
 * parent namespace's numbers there, and a report naming the wrong process is
 * worse than none. */
int kt_proc_is_ours(void)
{
	char buf[24];
	long n = kt_syscall(SYS_readlinkat, AT_FDCWD, (long)"/proc/self", (long)buf,
	                    sizeof buf - 1, 0);
	if (n <= 0)
		return 0;
	int64_t v = 0;
	for (long i = 0; i < n; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return 0;
		v = v * 10 + (buf[i] - '0');
	}
	return v == (int64_t)kt_syscall(SYS_getpid, 0, 0, 0, 0, 0);
}

long kt_proc_read(pid_t pid, const char *file, char *buf, size_t cap)
{
	if (!kt_proc_is_ours())
		return -EXDEV;
	char path[40];
	struct kt_buf p = KT_BUF(path);
	kt_buf_str(&p, "/proc/");
	kt_buf_i64(&p, pid);
	kt_buf_str(&p, "/");
	kt_buf_str(&p, file);
	int fd = (int)kt_syscall(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_CLOEXEC, 0, 0);
	if (fd < 0)
		return fd;
	long n = kt_syscall(SYS_read, fd, (long)buf, (long)cap - 1, 0, 0);
	kt_close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* What /proc/PID/stat says: kt_holder_describe's answer, inode aside. */
static int holder_from_proc(pid_t pid, struct kt_holder_facts *h)
{
	char st[512];
	long n = kt_proc_read(pid, "stat", st, sizeof st);
	if (n == -ENOENT)
		return 0;
	if (n < 0 && n != -ESRCH)
		return -1;
	if (n <= 0)
		return 0;
	/* "pid (comm) state ppid ...": comm may itself hold ')' and spaces. */
	char *open = strchr(st, '(');
	char *close = strrchr(st, ')');
	if (!open || !close || close < open)
		return -1;
	size_t len = (size_t)(close - open - 1);
	if (len > KT_HOLDER_COMM - 1)
		len = KT_HOLDER_COMM - 1;
	memcpy(h->comm, open + 1, len);
	h->comm[len] = '\0';
	h->ppid = 0;
	const char *q = close + 2; /* state */
	while (*q && *q != ' ')
		q++;
	while (*q == ' ')
		q++;
	while (*q >= '0' && *q <= '9')
		h->ppid = h->ppid * 10 + (*q++ - '0');
	return 1;
}

/* Attempts at pinning a holder that dies while it is described: each one
 * that fails means PID changed hands once more during a few system calls. */
#define KT_HOLDER_TRIES 3

int kt_holder_describe(pid_t pid, struct kt_holder_facts *h)
{
	h->ino = 0;
	for (int i = 0; i < KT_HOLDER_TRIES; i++) {
		int fd, err;
		switch (kt_holder_open(pid, &fd, &err)) {
		case KT_HOLDER_NONE:
			return 0;
		case KT_HOLDER_THREAD:  /* /proc/TID describes the thread */
		case KT_HOLDER_UNKNOWN: /* no pidfds here: /proc alone */
			return holder_from_proc(pid, h);
		case KT_HOLDER_PROCESS:
			break;
		}
		int known = holder_from_proc(pid, h);
		/* Signal 0 through the pidfd: the pinned process still exists
		 * (EPERM too: it is there, just not ours to signal), so it held PID
		 * all along and /proc described it. */
		int alive = kt_pidfd_send_signal(fd, 0, NULL, 0);
		if (alive != -ESRCH) {
			if (known == 1 && (alive == 0 || alive == -EPERM) && kt_fd_is_pidfs(fd) == 1) {
				int64_t ino = kt_fd_inode(fd);
				h->ino = ino > 0 ? (uint64_t)ino : 0;
			}
			kt_close(fd);
			return known;
		}
		kt_close(fd);
	}
	return -1;
}
