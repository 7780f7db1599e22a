/* The log sink (log.h).
 *
 * The log holds no descriptor in the program between reports: a KT_LOG file
 * is opened, appended to and closed for each line (open, write and close are
 * async-signal-safe), so the program's descriptor table is exactly what it
 * would be without libkt, and a program that closes every fd it does not
 * know, or lists them (CPython's subprocess tests do), finds nothing.
 *
 * KT_LOG=stderr writes to fd 2 only while fd 2 is still the file the process
 * started with (same device and inode as at start-up): a program that closed
 * its stderr and got the number back for a data file of its own must not
 * find reports in it.  When fd 2 has changed, a line goes to the start-up
 * stderr by its path instead, if it was a terminal or a regular file opened
 * for writing (reopened, and written only if it is still that same file):
 * that is how an exit summary reaches the user of a program that closed its
 * stderr before exiting, as most coreutils do.  Otherwise the line is
 * dropped and counted, and the summary says how many were. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "sys.h"

/* The stderr the process started with, when reports go there: pages taken
 * by kt_log_open only then, not .bss that every process would map (see
 * caller.c). */
struct kt_stderr_place {
	uint64_t dev, ino;
	int reopenable;  /* a terminal or regular file, opened for writing */
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

/* Open the KT_LOG file for one line.  A process whose every descriptor number
 * is taken (EMFILE: the soft RLIMIT_NOFILE reached) gets one more for the
 * length of the write when the hard limit allows: the soft limit is raised
 * by one and put back at once.  (Another thread opening a file in that
 * moment could get the extra number too; it keeps it, as it would had the
 * program raised the limit itself.)  Returns an fd or -errno. */
static int open_log_file(const char *path, struct rlimit *restore)
{
	restore->rlim_cur = RLIM_INFINITY;
	int fd = open_append(path, O_CREAT | O_NOFOLLOW);
	if (fd != -EMFILE)
		return fd;
	struct rlimit rl;
	if (kt_syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, (long)&rl, 0) < 0 ||
	    rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= rl.rlim_max)
		return fd;
	struct rlimit more = { rl.rlim_cur + 1, rl.rlim_max };
	if (kt_syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, (long)&more, 0, 0) < 0)
		return fd;
	*restore = rl;
	return open_append(path, O_CREAT | O_NOFOLLOW);
}

static void close_log_file(int fd, const struct rlimit *restore)
{
	kt_close(fd);
	if (restore->rlim_cur != RLIM_INFINITY)
		kt_syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, (long)restore, 0, 0);
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
	} else {
		struct rlimit restore;
		int fd = open_log_file(log_path, &restore);
		if (fd >= 0) {
			r = write_all(fd, b->p, b->len);
			close_log_file(fd, &restore);
		}
	}
	if (r < 0)
		kt_log_drop();
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
	 * could not), never for a stderr opened read-only. */
	if (!getauxval(AT_SECURE) && fl >= 0 && (fl & O_ACCMODE) != O_RDONLY &&
	    (S_ISCHR(st.st_mode) || S_ISREG(st.st_mode))) {
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
	} else if (c->log_target == KT_LOG_FILE) {
		/* Created now, so an empty log means "nothing to report". */
		struct rlimit restore;
		int fd = open_log_file(c->log_path, &restore);
		if (fd < 0) {
			say_log_unopenable(c->log_path, -fd);
			return;
		}
		close_log_file(fd, &restore);
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
