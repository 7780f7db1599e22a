/* Reports: one line per stale kill, one per reason libkt degraded, and the
 * configuration warnings — written only where KT_LOG points, never anywhere
 * else.  Everything here runs inside kill(), so inside signal handlers: raw
 * syscalls and the allocation-free formatter only. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>

#include "fmt.h"
#include "state.h"
#include "sys.h"

/* Where a KT_LOG=PATH file goes: high, out of the range the program's own
 * open() calls return, so its fd numbering is unchanged. */
#define KT_LOG_FD_CEILING 1023

void kt_log_open(void)
{
	const struct kt_config *c = &kt_state.config;
	if (c->log_target == KT_LOG_STDERR) {
		kt_state.log_fd = 2;
		return;
	}
	if (c->log_target != KT_LOG_FILE)
		return;
	int fd = (int)kt_syscall(SYS_openat, AT_FDCWD, (long)c->log_path,
	                         O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
	                         0600, 0);
	if (fd < 0)
		return; /* nowhere to say so: KT_LOG names the only place we may write */
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
			fd = high;
			break;
		}
		if (high >= 0)
			kt_close(high); /* F_DUPFD found a higher free number: not ours to take */
		else
			break;
	}
	struct stat st;
	if (kt_syscall(SYS_fstat, fd, (long)&st, 0, 0, 0) == 0) {
		kt_state.log_dev = st.st_dev;
		kt_state.log_ino = st.st_ino;
	}
	kt_state.log_fd = fd;
}

/* Write one line, all or nothing, and only to the file we opened: a program
 * that closed our fd and got the number back for a file of its own must not
 * find our reports in it. */
static void log_line(struct kt_buf *b)
{
	int fd = kt_state.log_fd;
	if (fd < 0)
		return;
	if (kt_state.config.log_target == KT_LOG_FILE) {
		struct stat st;
		if (kt_syscall(SYS_fstat, fd, (long)&st, 0, 0, 0) < 0 ||
		    st.st_dev != kt_state.log_dev || st.st_ino != kt_state.log_ino)
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

void kt_report_config_warnings(void)
{
	for (int i = 0; i < kt_state.config.n_warnings; i++) {
		char line[KT_CONFIG_WARNING_LEN + 2];
		struct kt_buf b = KT_BUF(line);
		kt_buf_str(&b, kt_state.config.warnings[i]);
		log_line(&b);
	}
}

void kt_report_degraded(enum kt_degraded why, int err)
{
	static const char *const text[KT_DEGRADED_REASONS] = {
		[KT_DEGRADED_NO_PIDFD] =
			"pidfd_open is unavailable (kernel < 5.3 or a seccomp filter): "
			"children are told apart only by libkt's own wait hooks",
		[KT_DEGRADED_NO_PIDFS] =
			"this kernel has no pidfs (< 6.9): pidfds carry no process identity, "
			"so children are told apart only by libkt's own wait hooks",
		[KT_DEGRADED_FD_EXHAUSTED] =
			"could not open a pidfd for a new child; it is tracked without an identity",
		[KT_DEGRADED_NO_MEMORY] =
			"no memory for the PID table; a child goes untracked",
		[KT_DEGRADED_NO_CLONE_PIDFD] =
			"clone refuses CLONE_PIDFD (kernel < 5.2, an emulator, or seccomp): "
			"vfork and clone children are registered after the fact, like fork's",
		[KT_DEGRADED_NO_PGRP_SIGNAL] =
			"pidfd_send_signal lacks PIDFD_SIGNAL_PROCESS_GROUP (kernel < 6.9): "
			"killpg and kill(-pgid) of a live group go by number",
	};
	int expected = 0;
	if (!atomic_compare_exchange_strong(&kt_state.degraded_said[why], &expected, 1))
		return;
	char line[256];
	struct kt_buf b = KT_BUF(line);
	kt_buf_str(&b, "libkt: degraded: ");
	kt_buf_str(&b, text[why]);
	if (err) {
		kt_buf_str(&b, " (errno ");
		kt_buf_i64(&b, err);
		kt_buf_char(&b, ')');
	}
	log_line(&b);
}

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

/* Describe who holds PID now: 1 with comm/ppid filled, 0 if nobody, -1 if
 * we cannot tell. */
static int holder_of(pid_t pid, char comm[20], int64_t *ppid)
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
	if (len > 19)
		len = 19;
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

void kt_report_find_holder(struct kt_stale *ev)
{
	ev->holder = holder_of(ev->pid, ev->holder_comm, &ev->holder_ppid);
}

static const char *made_by_name(unsigned how)
{
	switch (how) {
	case KT_MADE_FORK: return "fork";
	case KT_MADE__FORK: return "_Fork";
	case KT_MADE_POSIX_SPAWN: return "posix_spawn";
	case KT_MADE_POSIX_SPAWNP: return "posix_spawnp";
	case KT_MADE_VFORK: return "vfork";
	case KT_MADE_CLONE: return "clone";
	case KT_MADE_PIDFD_SPAWN: return "pidfd_spawn";
	case KT_MADE_PIDFD_SPAWNP: return "pidfd_spawnp";
	default: return "?";
	}
}

static const char *reaped_by_name(unsigned how)
{
	switch (how) {
	case KT_REAPED_WAIT: return "by wait()";
	case KT_REAPED_WAITPID: return "by waitpid()";
	case KT_REAPED_WAIT3: return "by wait3()";
	case KT_REAPED_WAIT4: return "by wait4()";
	case KT_REAPED_WAITID: return "by waitid()";
	case KT_REAPED_UNSEEN: return "outside libkt's hooks (SIGCHLD ignored, or a libc-internal wait)";
	case KT_REAPED_BEFORE_REGISTRATION: return "before fork returned";
	default: return NULL;
	}
}

void kt_report_stale(const struct kt_stale *ev)
{
	if (kt_state.log_fd < 0)
		return;
	int saved = errno;
	char line[512], sigtmp[16];
	struct kt_buf b = KT_BUF(line);
	const char *sig = kt_signal_name(ev->sig, sigtmp);

	kt_buf_str(&b, ev->delivered ? "libkt: stale " : "libkt: refused stale ");
	kt_buf_str(&b, ev->call);
	kt_buf_char(&b, '(');
	if (ev->group && strcmp(ev->call, "kill") == 0)
		kt_buf_char(&b, '-'); /* kill(-pgid): show the call as it was made */
	kt_buf_i64(&b, ev->pid);
	kt_buf_str(&b, ", ");
	kt_buf_str(&b, sig ? sig : "?");
	kt_buf_str(&b, ev->delivered ? "), let through (audit mode): " : ") with ESRCH: ");

	uint64_t now = kt_now_ns();
	struct kt_slot_info *info = kt_table_info(ev->pid);
	kt_buf_str(&b, ev->group ? "group leader child " : "child ");
	kt_buf_i64(&b, ev->pid);
	if (info && info->made_by) {
		kt_buf_str(&b, " (\"");
		kt_buf_quoted(&b, info->name, sizeof info->name);
		kt_buf_str(&b, "\", ");
		kt_buf_str(&b, made_by_name(info->made_by));
		kt_buf_char(&b, ' ');
		kt_buf_secs(&b, now - info->made_ns);
		kt_buf_str(&b, " ago)");
		const char *how = reaped_by_name(info->reaped_by);
		if (how && info->reaped_ns) {
			kt_buf_str(&b, " was reaped ");
			kt_buf_secs(&b, now - info->reaped_ns);
			kt_buf_str(&b, " ago ");
			kt_buf_str(&b, how);
		} else {
			kt_buf_str(&b, " is gone");
			if (how) {
				kt_buf_str(&b, ", reaped ");
				kt_buf_str(&b, how);
			}
		}
	} else {
		kt_buf_str(&b, " is gone");
	}

	int h = ev->holder;
	if (h == 1) {
		kt_buf_str(&b, ev->delivered ? "; the signal hit" : "; PID now held by");
		kt_buf_str(&b, " another process: \"");
		kt_buf_quoted(&b, ev->holder_comm, sizeof ev->holder_comm);
		kt_buf_str(&b, "\" (parent ");
		kt_buf_i64(&b, ev->holder_ppid);
		kt_buf_char(&b, ')');
	} else if (h == 0) {
		kt_buf_str(&b, "; no process holds PID ");
		kt_buf_i64(&b, ev->pid);
		kt_buf_str(&b, " now");
	} else {
		kt_buf_str(&b, "; cannot tell who holds the PID now");
	}
	if (ev->delivered && ev->delivered_errno) {
		kt_buf_str(&b, " (kill failed: errno ");
		kt_buf_i64(&b, ev->delivered_errno);
		kt_buf_char(&b, ')');
	}
	log_line(&b);
	errno = saved;
}
