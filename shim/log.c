/* SPDX-License-Identifier: MIT */
/* The log sink (log.h).
 *
 * The log holds no descriptor in the program between reports: a KT_LOG file
 * is opened, appended to and closed for each line, and a syslog message
 * goes out through a socket made and closed for it (open, socket, sendmsg,
 * write and close are async-signal-safe), so the program's descriptor table
 * is exactly what it would be without libkt, and a program that closes
 * every fd it does not know, or lists them (CPython's subprocess tests do),
 * finds nothing.
 *
 * KT_LOG=syslog sends each line as one datagram to /dev/log, the local
 * syslog socket that journald or rsyslogd reads: "<PRI>libkt[PID]: LINE",
 * the RFC 3164 form glibc's syslog() sends there, less the timestamp.  A
 * timestamp there is in local time, and turning the clock into local time
 * takes the time zone (localtime: a lock, a file read), which a report made
 * inside a signal handler cannot do; a message without one is stamped by
 * the receiver with its own clock on arrival (RFC 3164 4.3.2), which is what
 * journald and rsyslogd's local socket use anyway.  MSG_DONTWAIT: a full or
 * stuck receiver drops the line (counted) instead of stopping the program.
 *
 * KT_LOG=stderr writes to fd 2 only while fd 2 is still the file the process
 * started with (same device and inode as at start-up): a program that closed
 * its stderr and got the number back for a data file of its own must not
 * find reports in it.  When fd 2 has changed, a line goes to the start-up
 * stderr by its path instead, reopened with O_APPEND, but only where the
 * program cannot write over it afterwards: a terminal (or other character
 * device), or a regular file that every write of the program appends to
 * (its start-up stderr was opened with O_APPEND, and stdout, if it is the
 * same file, too).  In `prog >out 2>&1` the program writes at its own
 * offset, which an appended line does not move: its next write would land
 * on the report.  That is how an exit summary reaches the user of a program
 * that closed its stderr before exiting, as most coreutils do.  Otherwise
 * the line is dropped and counted, and the summary says how many were. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/auxv.h>
#include <stddef.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

#include "sys.h"

/* The stderr the process started with, when reports go there: pages taken
 * by kt_log_open only then, not .bss that every process would map (see
 * caller.c). */
struct kt_stderr_place {
	uint64_t dev, ino;
	int reopenable;  /* a terminal, or a regular file only appended to */
	char path[256];  /* its path at start-up, for reopening */
};
static struct kt_stderr_place *kt_stderr_place;

static int log_target;                  /* enum kt_log_target, once reports are on */
static const char *log_path;            /* KT_LOG=PATH: points into the environment */
static int log_json;
static _Atomic uint64_t log_dropped;    /* lines the log could not take */

/* Why a log could not be opened, in words, for its one message (strerror is
 * not async-signal-safe, and start-up may run inside a hook). */
static const char *open_error_text(int err, char tmp[16])
{
	switch (err) {
	case ENOENT: return "No such file or directory";
	case ENOTDIR: return "a component of the path is not a directory";
	case EACCES: return "Permission denied";
	case EPERM: return "Operation not permitted";
	case EISDIR: return "it is a directory";
	case ELOOP: return "it is a symbolic link (libkt follows none, so that a link planted "
	                   "in a shared directory cannot redirect its writes)";
	case EROFS: return "Read-only file system";
	case ENOSPC: return "No space left on device";
	case EDQUOT: return "Disk quota exceeded";
	case ENAMETOOLONG: return "File name too long";
	case EMFILE: return "Too many open files";
	case ENFILE: return "Too many open files in system";
	case ETXTBSY: return "Text file busy";
	default: {
		struct kt_buf b = { tmp, 0, 16 };
		kt_buf_str(&b, "errno ");
		kt_buf_i64(&b, err);
		return tmp;
	}
	}
}

static int open_append(const char *path, int flags)
{
	return (int)kt_syscall(SYS_openat, AT_FDCWD, (long)path,
	                       O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | flags, 0600, 0);
}

/* Make one more descriptor number available when every one is taken
 * (EMFILE: the soft RLIMIT_NOFILE reached) and the hard limit allows: the
 * soft limit is raised by one, for the length of one report, and put back
 * by put_back_limit.  (Another thread opening a file in that moment could
 * get the extra number too; it keeps it, as it would had the program raised
 * the limit itself.)  Returns 0 if the limit was raised. */
static int one_more_fd(struct rlimit *restore)
{
	struct rlimit rl;
	if (kt_syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, (long)&rl, 0) < 0 ||
	    rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= rl.rlim_max)
		return -1;
	struct rlimit more = { rl.rlim_cur + 1, rl.rlim_max };
	if (kt_syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, (long)&more, 0, 0) < 0)
		return -1;
	*restore = rl;
	return 0;
}

/* Close the report's descriptor FD, and put the limit back if one_more_fd
 * raised it (RESTORE's soft limit is RLIM_INFINITY when it did not). */
static void close_report_fd(int fd, const struct rlimit *restore)
{
	kt_close(fd);
	if (restore->rlim_cur != RLIM_INFINITY)
		kt_syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, (long)restore, 0, 0);
}

/* Open the KT_LOG file for one line.  Returns an fd or -errno. */
static int open_log_file(const char *path, struct rlimit *restore)
{
	restore->rlim_cur = RLIM_INFINITY;
	int fd = open_append(path, O_CREAT | O_NOFOLLOW);
	if (fd == -EMFILE && one_more_fd(restore) == 0)
		fd = open_append(path, O_CREAT | O_NOFOLLOW);
	return fd;
}

static int same_file(int fd, uint64_t dev, uint64_t ino)
{
	struct stat st;
	return kt_syscall(SYS_fstat, fd, (long)&st, 0, 0, 0) == 0 && st.st_dev == dev &&
	       st.st_ino == ino;
}

static int write_all(int fd, const char *p, size_t len)
{
	size_t off = 0;
	while (off < len) {
		long r = kt_syscall(SYS_write, fd, (long)(p + off), (long)(len - off), 0, 0);
		if (r == -EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

/* One line to the start-up stderr, or -1 if it is gone. */
static int write_stderr(const char *p, size_t len)
{
	const struct kt_stderr_place *place = kt_stderr_place;
	if (!place)
		return -1;
	if (same_file(2, place->dev, place->ino))
		return write_all(2, p, len);
	if (!place->reopenable)
		return -1;
	int fd = open_append(place->path, 0);
	if (fd < 0)
		return -1;
	int r = same_file(fd, place->dev, place->ino) ? write_all(fd, p, len) : -1;
	kt_close(fd);
	return r;
}

/* The syslog priority of every report: facility user, severity notice
 * (LOG_USER | LOG_NOTICE): a normal but significant event. */
#define KT_SYSLOG_PRI "13"

/* One line (its newline left out) as one datagram to the syslog socket, or
 * -1 if it could not be sent now. */
static int send_syslog(const char *p, size_t len)
{
	/* A text line starts with what the ident says already. */
	if (len >= 7 && memcmp(p, "libkt: ", 7) == 0) {
		p += 7;
		len -= 7;
	}
	char head[48];
	struct kt_buf h = KT_BUF(head);
	kt_buf_str(&h, "<" KT_SYSLOG_PRI ">libkt[");
	kt_buf_i64(&h, kt_syscall(SYS_getpid, 0, 0, 0, 0, 0));
	kt_buf_str(&h, "]: ");
	struct iovec iov[2] = { { head, h.len }, { (void *)p, len } };
	struct sockaddr_un to = { .sun_family = AF_UNIX, .sun_path = KT_SYSLOG_PATH };
	struct msghdr msg = {
		.msg_name = &to,
		.msg_namelen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		                           sizeof KT_SYSLOG_PATH),
		.msg_iov = iov,
		.msg_iovlen = 2,
	};
	struct rlimit restore = { .rlim_cur = RLIM_INFINITY };
	int fd = (int)kt_syscall(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, 0, 0);
	if (fd == -EMFILE && one_more_fd(&restore) == 0)
		fd = (int)kt_syscall(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, 0, 0);
	if (fd < 0) {
		if (restore.rlim_cur != RLIM_INFINITY)
			kt_syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, (long)&restore, 0, 0);
		return -1;
	}
	long r;
	do
		r = kt_syscall(SYS_sendmsg, fd, (long)&msg, MSG_DONTWAIT | MSG_NOSIGNAL, 0, 0);
	while (r == -EINTR);
	close_report_fd(fd, &restore);
	return r < 0 ? -1 : 0;
}

/* Write one line, all or nothing: one write() of the whole line, so lines
 * of the many processes appending to one log do not mix. */
void kt_log_line(struct kt_buf *b)
{
	if (log_target == KT_LOG_NONE)
		return;
	if (b->len + 1 >= b->cap)
		b->len = b->cap - 2; /* truncated: still end the line */
	b->p[b->len++] = '\n';
	b->p[b->len] = '\0';
	int r = -1;
	if (log_target == KT_LOG_STDERR) {
		r = write_stderr(b->p, b->len);
	} else if (log_target == KT_LOG_SYSLOG) {
		r = send_syslog(b->p, b->len - 1);
	} else {
		struct rlimit restore;
		int fd = open_log_file(log_path, &restore);
		if (fd >= 0) {
			r = write_all(fd, b->p, b->len);
			close_report_fd(fd, &restore);
		}
	}
	if (r < 0)
		kt_log_drop();
}

/* 1 if the program's writes to the regular file ST, its stderr at start-up
 * (whose descriptor's flags are FL), all go to the end of it: that
 * descriptor was opened with O_APPEND (`2>>file`), and so was stdout if it
 * is the same file (`>file 2>>file` writes stdout at its own offset).  The
 * flags belong to the open file description, which the shell that opened it
 * shares with every process it started; a program that clears O_APPEND
 * later with fcntl is not foreseen. */
static int only_appended(long fl, const struct stat *st)
{
	if (!(fl & O_APPEND))
		return 0;
	if (!same_file(1, st->st_dev, st->st_ino))
		return 1;
	long out = kt_syscall(SYS_fcntl, 1, F_GETFL, 0, 0, 0);
	return out >= 0 && (out & O_APPEND);
}

/* Take note of the stderr the process started with (KT_LOG=stderr). */
static void note_stderr(void)
{
	struct stat st;
	if (kt_syscall(SYS_fstat, 2, (long)&st, 0, 0, 0) < 0)
		return; /* no stderr at start-up: no later fd 2 is it */
	struct kt_stderr_place *place = kt_zeroed_pages(sizeof *place);
	if (!place)
		return;
	place->dev = st.st_dev;
	place->ino = st.st_ino;
	long fl = kt_syscall(SYS_fcntl, 2, F_GETFL, 0, 0, 0);
	/* Reopened by path only where that cannot reach more than fd 2 could:
	 * never in a set-user-ID program (its privileges open files its caller
	 * could not), never for a stderr opened read-only; and only where no
	 * write of the program can land on the line afterwards (the top of the
	 * file). */
	if (!getauxval(AT_SECURE) && fl >= 0 && (fl & O_ACCMODE) != O_RDONLY &&
	    (S_ISCHR(st.st_mode) || (S_ISREG(st.st_mode) && only_appended(fl, &st)))) {
		long n = kt_syscall(SYS_readlinkat, AT_FDCWD, (long)"/proc/self/fd/2",
		                    (long)place->path, sizeof place->path - 1, 0);
		if (n > 0 && place->path[0] == '/' && n < (long)sizeof place->path - 1) {
			place->path[n] = '\0';
			place->reopenable = 1;
		}
	}
	kt_stderr_place = place;
}

/* Said once, on stderr (which at start-up is the process's own), when the
 * KT_LOG file cannot be opened: otherwise a run with no reports would look
 * like a run with no stale kills.  kt-run checks the log itself before it
 * starts anything, so under kt-run this is never reached for its --log. */
static void say_log_unopenable(const char *path, int err)
{
	char line[512], tmp[16];
	struct kt_buf b = KT_BUF(line);
	kt_buf_str(&b, "libkt: cannot open the log ");
	kt_buf_quoted(&b, path, 256);
	kt_buf_str(&b, ": ");
	kt_buf_str(&b, open_error_text(err, tmp));
	kt_buf_str(&b, "; no reports will be written [pid ");
	kt_buf_i64(&b, kt_syscall(SYS_getpid, 0, 0, 0, 0, 0));
	kt_buf_char(&b, ' ');
	kt_buf_quoted(&b, program_invocation_short_name, 32);
	kt_buf_str(&b, "]\n");
	write_all(2, b.p, b.len);
}

void kt_log_open(const struct kt_config *c)
{
	log_json = c->log_format == KT_LOG_JSON;
	if (c->log_target == KT_LOG_STDERR) {
		note_stderr();
		log_target = KT_LOG_STDERR;
	} else if (c->log_target == KT_LOG_SYSLOG) {
		/* Nothing to check now: the socket is there or not at each report,
		 * as the syslog daemon comes and goes. */
		log_target = KT_LOG_SYSLOG;
	} else if (c->log_target == KT_LOG_FILE) {
		/* Created now, so an empty log means "nothing to report". */
		struct rlimit restore;
		int fd = open_log_file(c->log_path, &restore);
		if (fd < 0) {
			say_log_unopenable(c->log_path, -fd);
			return;
		}
		close_report_fd(fd, &restore);
		log_path = c->log_path;
		log_target = KT_LOG_FILE;
	}
}

int kt_log_wanted(void)
{
	return log_target != KT_LOG_NONE;
}

int kt_log_json(void)
{
	return log_json;
}

void kt_log_drop(void)
{
	atomic_fetch_add_explicit(&log_dropped, 1, memory_order_relaxed);
}

uint64_t kt_log_dropped(void)
{
	return atomic_load_explicit(&log_dropped, memory_order_relaxed);
}
