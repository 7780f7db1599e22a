/* The log sink (log.h). */
#include "log.h"

#include <fcntl.h>
#include <sys/resource.h>

#include "sys.h"

/* Where a KT_LOG=PATH file goes: high, out of the range the program's own
 * open() calls return, so its fd numbering is unchanged. */
#define KT_LOG_FD_CEILING 1023

static int log_fd = -1;              /* -1: no logging */
static int log_is_file;              /* KT_LOG=PATH: check it is still ours */
static int log_json;
static uint64_t log_dev, log_ino;    /* what log_fd must still be */

/* A copy of FD as high as it will go below the ceiling (or the soft
 * RLIMIT_NOFILE), or FD itself. */
static int move_high(int fd)
{
	struct rlimit rl;
	long want = KT_LOG_FD_CEILING;
	if (kt_syscall(SYS_getrlimit, RLIMIT_NOFILE, (long)&rl, 0, 0, 0) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur - 1 < want)
		want = (long)rl.rlim_cur - 1;
	/* Search downwards from the ceiling for a free number. */
	for (long target = want; target > fd && target > want - 64; target--) {
		int high = (int)kt_syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, target, 0, 0);
		if (high == target) {
			kt_close(fd);
			return high;
		}
		if (high >= 0)
			kt_close(high); /* F_DUPFD found a higher free number: not ours to take */
		else
			break;
	}
	return fd;
}

void kt_log_open(const struct kt_config *c)
{
	log_json = c->log_format == KT_LOG_JSON;
	if (c->log_target == KT_LOG_STDERR) {
		log_fd = 2;
		return;
	}
	if (c->log_target != KT_LOG_FILE)
		return;
	int fd = (int)kt_syscall(SYS_openat, AT_FDCWD, (long)c->log_path,
	                         O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
	                         0600, 0);
	if (fd < 0)
		return; /* nowhere to say so: KT_LOG names the only place we may write */
	fd = move_high(fd);
	struct stat st;
	if (kt_syscall(SYS_fstat, fd, (long)&st, 0, 0, 0) == 0) {
		log_dev = st.st_dev;
		log_ino = st.st_ino;
	}
	log_is_file = 1;
	log_fd = fd;
}

int kt_log_wanted(void)
{
	return log_fd >= 0;
}

int kt_log_json(void)
{
	return log_json;
}

/* Write one line, all or nothing, and only to the file we opened: a program
 * that closed our fd and got the number back for a file of its own must not
 * find our reports in it. */
void kt_log_line(struct kt_buf *b)
{
	int fd = log_fd;
	if (fd < 0)
		return;
	if (log_is_file) {
		struct stat st;
		if (kt_syscall(SYS_fstat, fd, (long)&st, 0, 0, 0) < 0 ||
		    st.st_dev != log_dev || st.st_ino != log_ino)
			return;
	}
	if (b->len + 1 >= b->cap)
		b->len = b->cap - 2; /* truncated: still end the line */
	b->p[b->len++] = '\n';
	b->p[b->len] = '\0';
	size_t off = 0;
	while (off < b->len) {
		long r = kt_syscall(SYS_write, fd, (long)(b->p + off), (long)(b->len - off), 0, 0);
		if (r == -EINTR)
			continue;
		if (r <= 0)
			return;
		off += (size_t)r;
	}
}
