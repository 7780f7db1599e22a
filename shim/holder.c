/* Who holds a PID now (holder.h). */
#include "holder.h"

#include <fcntl.h>
#include <string.h>

#include "fmt.h"
#include "sys.h"

/* Is /proc the /proc of our own PID namespace?  A program started with
 * `unshare --pid` but no fresh /proc mount sees its parent namespace's
 * numbers there, and a report naming the wrong process is worse than none. */
static int proc_is_ours(void)
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

int kt_holder_of(pid_t pid, char comm[KT_HOLDER_COMM], int64_t *ppid)
{
	if (!proc_is_ours())
		return -1;
	char path[32];
	struct kt_buf p = KT_BUF(path);
	kt_buf_str(&p, "/proc/");
	kt_buf_i64(&p, pid);
	kt_buf_str(&p, "/stat");
	int fd = (int)kt_syscall(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_CLOEXEC, 0, 0);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return -1;
	char st[512];
	long n = kt_syscall(SYS_read, fd, (long)st, sizeof st - 1, 0, 0);
	kt_close(fd);
	if (n <= 0)
		return n == 0 || n == -ESRCH ? 0 : -1;
	st[n] = '\0';
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
