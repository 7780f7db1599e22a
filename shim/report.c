/* Reports: one event per stale kill, one per reason libkt degraded, the
 * configuration warnings and the KT_STATS exit summary, as text or JSON lines
 * — written only where KT_LOG points, never anywhere else.  Everything here
 * runs inside kill(), so inside signal handlers: raw syscalls and the
 * allocation-free formatter only. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

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

/* ---- pieces shared by every event ---------------------------------------- */

static uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts); /* vDSO: async-signal-safe */
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Wall-clock seconds with milliseconds, as JSON numbers: 1764240000.123. */
static void json_time(struct kt_buf *b, uint64_t ns)
{
	uint64_t ms = ns / 1000000;
	kt_buf_u64(b, ms / 1000);
	kt_buf_char(b, '.');
	unsigned frac = (unsigned)(ms % 1000);
	kt_buf_char(b, (char)('0' + frac / 100));
	kt_buf_char(b, (char)('0' + frac / 10 % 10));
	kt_buf_char(b, (char)('0' + frac % 10));
}

/* A CLOCK_MONOTONIC stamp from the table, as wall-clock time. */
static uint64_t mono_to_wall(uint64_t mono, uint64_t now_mono, uint64_t now_wall)
{
	return now_wall - (now_mono - mono);
}

static void json_key(struct kt_buf *b, const char *key)
{
	kt_buf_str(b, ",\"");
	kt_buf_str(b, key);
	kt_buf_str(b, "\":");
}

static void json_str(struct kt_buf *b, const char *s, size_t max)
{
	kt_buf_char(b, '"');
	kt_buf_json(b, s, max);
	kt_buf_char(b, '"');
}

static void json_kv_str(struct kt_buf *b, const char *key, const char *s)
{
	json_key(b, key);
	if (s)
		json_str(b, s, (size_t)-1);
	else
		kt_buf_str(b, "null");
}

static void json_kv_u64(struct kt_buf *b, const char *key, uint64_t v)
{
	json_key(b, key);
	kt_buf_u64(b, v);
}

static int64_t self_pid(void)
{
	return kt_syscall(SYS_getpid, 0, 0, 0, 0, 0);
}

/* {"event":NAME,"time":...,"process":{"pid":...,"comm":...}: every JSON
 * event starts so, since one log file collects the events of every process
 * that inherited KT_LOG. */
static void json_begin(struct kt_buf *b, const char *event)
{
	kt_buf_str(b, "{\"event\":\"");
	kt_buf_str(b, event);
	kt_buf_char(b, '"');
	json_key(b, "time");
	json_time(b, realtime_ns());
	json_key(b, "process");
	kt_buf_str(b, "{\"pid\":");
	kt_buf_i64(b, self_pid());
	/* glibc's pointer into our own argv[0], set before any constructor: a
	 * plain memory read, unlike /proc/self/comm. */
	json_kv_str(b, "comm", program_invocation_short_name);
	kt_buf_char(b, '}');
}

/* Every text line starts "libkt: " (what people and scripts grep for) and
 * ends naming the process, since one log collects every process that
 * inherited KT_LOG: " [pid 1234 name]". */
static void text_begin(struct kt_buf *b)
{
	kt_buf_str(b, "libkt: ");
}

static void text_end(struct kt_buf *b)
{
	kt_buf_str(b, " [pid ");
	kt_buf_i64(b, self_pid());
	kt_buf_char(b, ' ');
	kt_buf_quoted(b, program_invocation_short_name, 32);
	kt_buf_char(b, ']');
}

static int json_wanted(void)
{
	return kt_state.config.log_format == KT_LOG_JSON;
}

static const char *mode_name(enum kt_mode m)
{
	switch (m) {
	case KT_MODE_OFF: return "off";
	case KT_MODE_AUDIT: return "audit";
	default: return "enforce";
	}
}

/* ---- configuration warnings, degradation ---------------------------------- */

void kt_report_config_warnings(void)
{
	for (int i = 0; i < kt_state.config.n_warnings; i++) {
		char line[KT_CONFIG_WARNING_LEN + 160];
		struct kt_buf b = KT_BUF(line);
		if (json_wanted()) {
			json_begin(&b, "warning");
			json_kv_str(&b, "message", kt_state.config.warnings[i]);
			kt_buf_char(&b, '}');
		} else {
			kt_buf_str(&b, kt_state.config.warnings[i]);
		}
		log_line(&b);
	}
}

void kt_report_degraded(enum kt_degraded why, int err)
{
	static const char *const key[KT_DEGRADED_REASONS] = {
		[KT_DEGRADED_NO_PIDFD] = "no_pidfd",
		[KT_DEGRADED_NO_PIDFS] = "no_pidfs",
		[KT_DEGRADED_FD_EXHAUSTED] = "fd_exhausted",
		[KT_DEGRADED_NO_MEMORY] = "no_memory",
		[KT_DEGRADED_NO_CLONE_PIDFD] = "no_clone_pidfd",
		[KT_DEGRADED_NO_PGRP_SIGNAL] = "no_pgrp_signal",
		[KT_DEGRADED_FD_BUDGET] = "fd_budget",
	};
	static const char *const text[KT_DEGRADED_REASONS] = {
		[KT_DEGRADED_NO_PIDFD] =
			"pidfd_open is unavailable (kernel < 5.3 or a seccomp filter): "
			"children are told apart only by libkt's own wait hooks",
		[KT_DEGRADED_NO_PIDFS] =
			"this kernel has no pidfs (< 6.9): pidfds carry no process identity, "
			"so libkt holds one pidfd per live child, in the top of the fd space",
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
		[KT_DEGRADED_FD_BUDGET] =
			"no room to hold another pidfd (KT_MAX_FDS, RLIMIT_NOFILE): "
			"further children are tracked without one",
	};
	int expected = 0;
	if (!atomic_compare_exchange_strong(&kt_state.degraded_said[why], &expected, 1))
		return;
	if (kt_state.log_fd < 0)
		return;
	int saved = errno;
	char line[512];
	struct kt_buf b = KT_BUF(line);
	if (json_wanted()) {
		json_begin(&b, "degraded");
		json_kv_str(&b, "reason", key[why]);
		json_kv_u64(&b, "errno", (uint64_t)err);
		json_kv_str(&b, "message", text[why]);
		kt_buf_char(&b, '}');
	} else {
		text_begin(&b);
		kt_buf_str(&b, "degraded: ");
		kt_buf_str(&b, text[why]);
		if (err) {
			kt_buf_str(&b, " (errno ");
			kt_buf_i64(&b, err);
			kt_buf_char(&b, ')');
		}
		text_end(&b);
	}
	log_line(&b);
	errno = saved;
}

/* ---- the exit summary ---------------------------------------------------- */

void kt_report_summary(void)
{
	if (kt_state.log_fd < 0)
		return;
	int saved = errno;
	const struct kt_counters_atomic *n = &kt_state.n;
	uint64_t tracked = atomic_load(&n->children_tracked),
		 via_pidfd = atomic_load(&n->kills_via_pidfd),
		 refused = atomic_load(&n->stale_refused),
		 delivered = atomic_load(&n->stale_delivered),
		 fallbacks = atomic_load(&n->fallbacks), reaps = atomic_load(&n->reaps_seen);
	char line[512];
	struct kt_buf b = KT_BUF(line);
	if (json_wanted()) {
		json_begin(&b, "summary");
		json_kv_str(&b, "mode", mode_name(kt_state.config.mode));
		json_kv_u64(&b, "children_tracked", tracked);
		json_kv_u64(&b, "kills_via_pidfd", via_pidfd);
		json_kv_u64(&b, "stale_refused", refused);
		json_kv_u64(&b, "stale_delivered", delivered);
		json_kv_u64(&b, "fallbacks", fallbacks);
		json_kv_u64(&b, "reaps_seen", reaps);
		kt_buf_char(&b, '}');
	} else {
		text_begin(&b);
		kt_buf_str(&b, "summary (");
		kt_buf_str(&b, mode_name(kt_state.config.mode));
		kt_buf_str(&b, " mode): ");
		kt_buf_u64(&b, tracked);
		kt_buf_str(&b, " children tracked, ");
		kt_buf_u64(&b, reaps);
		kt_buf_str(&b, " reaps seen, ");
		kt_buf_u64(&b, via_pidfd);
		kt_buf_str(&b, " kills delivered through pidfds, ");
		kt_buf_u64(&b, refused);
		kt_buf_str(&b, " stale kills refused, ");
		kt_buf_u64(&b, delivered);
		kt_buf_str(&b, " stale kills let through, ");
		kt_buf_u64(&b, fallbacks);
		kt_buf_str(&b, " fallbacks");
		text_end(&b);
	}
	log_line(&b);
	errno = saved;
}

/* ---- stale kills ----------------------------------------------------------- */

/* How a child was made / reaped: the words of the JSON reports (the text
 * ones read as prose, below). */
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
	case KT_MADE_SYSCALL: return "syscall";
	default: return NULL;
	}
}

static const char *reaped_by_key(unsigned how)
{
	switch (how) {
	case KT_REAPED_WAIT: return "wait";
	case KT_REAPED_WAITPID: return "waitpid";
	case KT_REAPED_WAIT3: return "wait3";
	case KT_REAPED_WAIT4: return "wait4";
	case KT_REAPED_WAITID: return "waitid";
	case KT_REAPED_UNSEEN: return "unseen";
	case KT_REAPED_BEFORE_REGISTRATION: return "before_registration";
	default: return NULL;
	}
}

static const char *reaped_by_text(unsigned how)
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

static int holder_is_decoy(const struct kt_stale *ev)
{
	return ev->holder == 1 && strcmp(ev->holder_comm, KT_DECOY_COMM) == 0;
}

/* Room kept free after the caller frames: a JSON line must still close
 * ("]}"), a text line still name its process (text_end). */
#define KT_JSON_TAIL 8
#define KT_TEXT_TAIL 160
/* Bytes a module path may take in a report; longer ones keep their end. */
#define KT_MODULE_MAX 160

/* A frame is written whole or not at all: if it left less than TAIL bytes
 * free, take it back (to MARK, where it began) and say so.  Escaping makes a
 * frame's length unknowable in advance (a byte can become six). */
static int frame_fits(struct kt_buf *b, size_t mark, size_t tail)
{
	if (b->cap - 1 - b->len >= tail)
		return 1;
	b->len = mark;
	b->p[mark] = '\0';
	return 0;
}

static void where_module(struct kt_buf *b, const char *path, int json)
{
	size_t len = strlen(path);
	const char *p = len > KT_MODULE_MAX ? path + len - KT_MODULE_MAX : path;
	if (json)
		kt_buf_json(b, p, KT_MODULE_MAX);
	else
		kt_buf_quoted(b, p, KT_MODULE_MAX);
}

static void json_caller(struct kt_buf *b, const struct kt_caller *c)
{
	json_key(b, "caller");
	kt_buf_char(b, '[');
	for (int i = 0; i < c->n; i++) {
		size_t mark = b->len;
		struct kt_where w;
		int known = kt_caller_where(c->pc[i], &w);
		if (i)
			kt_buf_char(b, ',');
		kt_buf_str(b, "{\"pc\":\"");
		kt_buf_hex(b, c->pc[i]);
		kt_buf_char(b, '"');
		json_key(b, "module");
		if (known) {
			kt_buf_char(b, '"');
			where_module(b, w.module, 1);
			kt_buf_char(b, '"');
			json_key(b, "offset");
			kt_buf_char(b, '"');
			kt_buf_hex(b, w.offset);
			kt_buf_char(b, '"');
		} else {
			kt_buf_str(b, "null");
		}
		json_key(b, "symbol");
		if (known && w.symbol) {
			kt_buf_char(b, '"');
			kt_buf_json(b, w.symbol, w.symbol_len < 64 ? w.symbol_len : 64);
			kt_buf_str(b, "+");
			kt_buf_hex(b, w.symbol_offset);
			kt_buf_char(b, '"');
		} else {
			kt_buf_str(b, "null");
		}
		kt_buf_char(b, '}');
		if (!frame_fits(b, mark, KT_JSON_TAIL))
			break;
	}
	kt_buf_char(b, ']');
}

static void text_caller(struct kt_buf *b, const struct kt_caller *c)
{
	if (!c->n)
		return;
	kt_buf_str(b, "; called from ");
	for (int i = 0; i < c->n; i++) {
		size_t mark = b->len;
		struct kt_where w;
		if (i)
			kt_buf_str(b, " <- ");
		kt_buf_hex(b, c->pc[i]);
		if (!kt_caller_where(c->pc[i], &w)) {
			if (!frame_fits(b, mark, KT_TEXT_TAIL))
				break;
			continue;
		}
		kt_buf_str(b, " (");
		if (w.symbol) {
			kt_buf_quoted(b, w.symbol, w.symbol_len < 64 ? w.symbol_len : 64);
			kt_buf_char(b, '+');
			kt_buf_hex(b, w.symbol_offset);
			kt_buf_str(b, " in ");
		}
		where_module(b, w.module, 0);
		kt_buf_char(b, '+');
		kt_buf_hex(b, w.offset);
		kt_buf_char(b, ')');
		if (!frame_fits(b, mark, KT_TEXT_TAIL))
			break;
	}
}

/* The report facts of PID, each field read whole (see KT_INFO_SET), into
 * *COPY; NULL if there are none. */
static const struct kt_slot_info *info_snapshot(pid_t pid, struct kt_slot_info *copy)
{
	const struct kt_slot_info *info = kt_table_info(pid);
	if (!info)
		return NULL;
	copy->made_ns = KT_INFO_GET(info->made_ns);
	copy->reaped_ns = KT_INFO_GET(info->reaped_ns);
	copy->made_by = KT_INFO_GET(info->made_by);
	copy->reaped_by = KT_INFO_GET(info->reaped_by);
	for (size_t i = 0; i < sizeof copy->name; i++)
		copy->name[i] = KT_INFO_GET(info->name[i]);
	copy->name[sizeof copy->name - 1] = '\0';
	return copy;
}

static void json_stale(struct kt_buf *b, const struct kt_stale *ev)
{
	char sigtmp[16];
	const char *sig = kt_signal_name(ev->sig, sigtmp);
	uint64_t now = kt_now_ns(), wall = realtime_ns();

	json_begin(b, "stale_kill");
	json_kv_str(b, "call", ev->call);
	json_key(b, "pid");
	kt_buf_i64(b, ev->pid);
	json_key(b, "sig");
	kt_buf_i64(b, ev->sig);
	json_kv_str(b, "signame", sig);
	if (ev->group) { /* killpg(pid) or kill(-pid): pid names the child and its group */
		json_key(b, "group");
		kt_buf_str(b, "true");
	}
	json_kv_str(b, "action", ev->delivered ? "delivered" : "refused");
	/* What the program's call returned: ESRCH when refused; when let
	 * through, the kernel's own answer (0: a signal was sent to the holder). */
	json_kv_u64(b, "errno", ev->delivered ? (uint64_t)ev->delivered_errno : ESRCH);
	json_kv_str(b, "mode", ev->delivered ? "audit" : "enforce");

	json_key(b, "child");
	struct kt_slot_info facts;
	const struct kt_slot_info *info = info_snapshot(ev->pid, &facts);
	if (info && info->made_by) {
		kt_buf_str(b, "{\"name\":");
		json_str(b, info->name, sizeof info->name);
		json_kv_str(b, "spawned_by", made_by_name(info->made_by));
		json_key(b, "spawned_at");
		json_time(b, mono_to_wall(info->made_ns, now, wall));
		json_key(b, "reaped_at");
		if (info->reaped_ns)
			json_time(b, mono_to_wall(info->reaped_ns, now, wall));
		else
			kt_buf_str(b, "null");
		json_kv_str(b, "reaped_by", reaped_by_key(info->reaped_by));
		kt_buf_char(b, '}');
	} else {
		kt_buf_str(b, "null");
	}

	json_key(b, "holder");
	if (ev->holder == 1) {
		kt_buf_str(b, "{\"pid\":");
		kt_buf_i64(b, ev->pid);
		json_key(b, "comm");
		json_str(b, ev->holder_comm, sizeof ev->holder_comm);
		json_key(b, "ppid");
		kt_buf_i64(b, ev->holder_ppid);
		json_key(b, "decoy");
		kt_buf_str(b, holder_is_decoy(ev) ? "true" : "false");
		kt_buf_char(b, '}');
	} else if (ev->holder == 0) {
		kt_buf_str(b, "null");
	} else {
		/* Somebody may hold it, but /proc cannot say who (not our PID
		 * namespace's /proc, or not readable). */
		kt_buf_str(b, "{\"pid\":");
		kt_buf_i64(b, ev->pid);
		kt_buf_str(b, ",\"comm\":null,\"ppid\":null,\"decoy\":null}");
	}
	json_caller(b, &ev->caller);
	kt_buf_char(b, '}');
}

static void text_stale(struct kt_buf *b, const struct kt_stale *ev)
{
	char sigtmp[16];
	const char *sig = kt_signal_name(ev->sig, sigtmp);

	text_begin(b);
	kt_buf_str(b, ev->delivered ? "stale " : "refused stale ");
	kt_buf_str(b, ev->call);
	kt_buf_char(b, '(');
	if (ev->group && strcmp(ev->call, "kill") == 0)
		kt_buf_char(b, '-'); /* kill(-pgid): show the call as it was made */
	kt_buf_i64(b, ev->pid);
	kt_buf_str(b, ", ");
	kt_buf_str(b, sig ? sig : "?");
	kt_buf_str(b, ev->delivered ? "), let through (audit mode): " : ") with ESRCH: ");

	uint64_t now = kt_now_ns();
	struct kt_slot_info facts;
	const struct kt_slot_info *info = info_snapshot(ev->pid, &facts);
	kt_buf_str(b, ev->group ? "group leader child " : "child ");
	kt_buf_i64(b, ev->pid);
	if (info && info->made_by) {
		kt_buf_str(b, " (\"");
		kt_buf_quoted(b, info->name, sizeof info->name);
		kt_buf_str(b, "\", ");
		kt_buf_str(b, made_by_name(info->made_by));
		kt_buf_char(b, ' ');
		kt_buf_secs(b, now - info->made_ns);
		kt_buf_str(b, " ago)");
		const char *how = reaped_by_text(info->reaped_by);
		if (how && info->reaped_ns) {
			kt_buf_str(b, " was reaped ");
			kt_buf_secs(b, now - info->reaped_ns);
			kt_buf_str(b, " ago ");
			kt_buf_str(b, how);
		} else {
			kt_buf_str(b, " is gone");
			if (how) {
				kt_buf_str(b, ", reaped ");
				kt_buf_str(b, how);
			}
		}
	} else {
		kt_buf_str(b, " is gone");
	}

	if (ev->holder == 1) {
		kt_buf_str(b, ev->delivered ? "; the signal hit" : "; PID now held by");
		kt_buf_str(b, " another process: \"");
		kt_buf_quoted(b, ev->holder_comm, sizeof ev->holder_comm);
		kt_buf_str(b, "\" (parent ");
		kt_buf_i64(b, ev->holder_ppid);
		if (holder_is_decoy(ev))
			kt_buf_str(b, ", a decoy placed by kt-run --provoke-reuse");
		kt_buf_char(b, ')');
	} else if (ev->holder == 0) {
		kt_buf_str(b, "; no process holds PID ");
		kt_buf_i64(b, ev->pid);
		kt_buf_str(b, " now");
	} else {
		kt_buf_str(b, "; cannot tell who holds the PID now");
	}
	if (ev->delivered && ev->delivered_errno) {
		kt_buf_str(b, " (kill failed: errno ");
		kt_buf_i64(b, ev->delivered_errno);
		kt_buf_char(b, ')');
	}
	text_caller(b, &ev->caller);
	text_end(b);
}

void kt_report_stale(const struct kt_stale *ev)
{
	if (kt_state.log_fd < 0)
		return;
	int saved = errno;
	/* On the stack of whatever called kill(), maybe a small sigaltstack:
	 * large enough for six caller frames, no larger. */
	char line[2560];
	struct kt_buf b = KT_BUF(line);
	if (json_wanted())
		json_stale(&b, ev);
	else
		text_stale(&b, ev);
	log_line(&b);
	errno = saved;
}
