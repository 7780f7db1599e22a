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

int kt_holder_of(pid_t pid, char comm[KT_HOLDER_COMM], int64_t *ppid)
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
	memcpy(comm, open + 1, len);
	comm[len] = '\0';
	*ppid = 0;
	const char *q = close + 2; /* state */
	while (*q && *q != ' ')
		q++;
	while (*q == ' ')
		q++;
	while (*q >= '0' && *q <= '9')
		*ppid = *ppid * 10 + (*q++ - '0');
	return 1;
}
