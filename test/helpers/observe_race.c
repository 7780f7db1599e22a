/* SPDX-License-Identifier: MIT */
/*
 * observe_race — a program reads a process's /proc entry, the process goes
 * and a stranger takes its number, then the program signals the number: the
 * scan-then-kill race of KT_OBSERVE (shim/observe.h), made deterministic in
 * a private PID namespace (docs/testing.md).
 *
 *   observe_race [--preload=LIB] [--action=A] [--watch=FILE] [--group] -- CMD [ARG...]
 *
 * Three kinds of process take part, in a private PID namespace with a /proc
 * of its own:
 *
 *   supervisor  pid 1.  Starts the target, then CMD; acts when CMD has seen
 *               the target; says what became of everyone.
 *   target      what CMD looks for: this program again, its command line
 *               holding "kt-obs-target", its name "ktobstarget", leading a
 *               process group of its own.  It counts the SIGRTMIN+3 it gets
 *               (queued signals: a second delivery shows) and dies of
 *               anything else.
 *   CMD         the program under test (pkill, killall, python3, the scanner
 *               helper, often under strace).  Every "%T" in its arguments
 *               becomes the target's PID; it gets KT_OBS_TARGET=PID in its
 *               environment, and LD_PRELOAD=LIB with --preload.
 *
 * When CMD has seen the target, the supervisor does A (default reuse):
 *   reuse   SIGKILL the target, reap it and put a stranger (a child of the
 *           supervisor, never of CMD) exactly on its number (clone3 set_tid);
 *           with --group the stranger leads a process group of that number
 *   vanish  SIGKILL and reap the target, and leave its number free
 *   live    nothing
 *
 * How the supervisor knows CMD has seen the target:
 *   - a cooperating CMD writes "seen PID" on fd 3 after reading the target's
 *     entry, and waits for "go" on fd 4 before it signals; it may instead
 *     write "freed PID" for a child of its own that it reaped, and the
 *     supervisor puts a stranger on that number;
 *   - --watch=FILE: once a process of the namespace that has /proc/TARGET/FILE
 *     open is in its close (CMD is run under strace, which holds up the
 *     close of that file, so the window stays open while the supervisor
 *     acts; the program has read all it wanted of the file).
 *
 * Output, one line on stdout (exit 0):
 *   result target=PID triggered=0|1 window=0|1 status=N signal=S
 *     stranger=alive|killed-SIGX|none target_end=alive|gone target_rt=N out=TEXT
 * window=0: the target was already dead when the supervisor came to end it
 * (CMD's signal got there first: the run proves nothing and should be
 * repeated).  status and signal are CMD's exit status or killing signal (0
 * when none);
 * stranger=killed-SIGX means it died of CMD's signal, alive that it was
 * still there to be SIGKILLed by us; target_rt counts the SIGRTMIN+3 the
 * target got (0 once gone); TEXT is CMD's stdout and stderr with spaces,
 * backslashes and unprintable bytes as \xHH.
 *
 * Exit 77 with a message when no PID namespace can be made here, 2 for any
 * other setup failure.  Every role arms alarm() so nothing can hang.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../older_glibc.h"
#include "../stranger.h"

enum { EXIT_SETUP = 2, EXIT_NO_PIDNS = 77 };
enum { ALARM_OUTER = 40, ALARM_SUPERVISOR = 35, ALARM_TARGET = 30 };
enum { CMD_CTL_FD = 3, CMD_REPLY_FD = 4 };

#define TARGET_MARK "kt-obs-target"
#define TARGET_NAME "ktobstarget"
#define OUT_MAX 8192

struct opts {
	const char *role;   /* NULL (outer), "supervisor", "target" */
	const char *preload;
	const char *action; /* reuse, vanish, live */
	const char *watch;  /* FILE under /proc/TARGET, or NULL */
	int group;
	char **cmd;
};

static __attribute__((noreturn, format(printf, 2, 3))) void die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "observe_race: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(code);
}

static const char *self_path(void)
{
	static char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		die(EXIT_SETUP, "readlink /proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	return self;
}

/* ---- the target ------------------------------------------------------------ */

static int run_target(void)
{
	alarm(ALARM_TARGET);
	prctl(PR_SET_NAME, TARGET_NAME);
	setpgid(0, 0);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 3);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("ready\n");
	fflush(stdout);
	int rt = 0;
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);
		if (sig == SIGRTMIN + 3) {
			rt++;
		} else if (sig == SIGUSR2) {
			/* SIGUSR2 is taken before a queued real-time signal that
			 * arrived with it: count those too. */
			sigset_t rtset;
			sigemptyset(&rtset);
			sigaddset(&rtset, SIGRTMIN + 3);
			struct timespec none = { 0, 0 };
			while (sigtimedwait(&rtset, &si, &none) == SIGRTMIN + 3)
				rt++;
			printf("rt=%d\n", rt);
			fflush(stdout);
			return 0;
		}
	}
}

/* ---- the supervisor --------------------------------------------------------- */

static pid_t target, stranger, cmd_pid;
static int target_out = -1;
static struct timespec target_born;

static void mount_private_proc(void)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		die(EXIT_SETUP, "no /proc of our own: %s", strerror(errno));
}

static void start_target(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		die(EXIT_SETUP, "pipe: %s", strerror(errno));
	target = fork();
	if (target < 0)
		die(EXIT_SETUP, "fork: %s", strerror(errno));
	if (target == 0) {
		dup2(p[1], 1);
		const char *self = self_path();
		/* Through /proc/self/exe: in a chroot the link's text names the
		 * file as the outer root sees it. */
		execl("/proc/self/exe", self, "--role=target", TARGET_MARK, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	target_out = p[0];
	clock_gettime(CLOCK_MONOTONIC, &target_born);
	char buf[16] = "";
	ssize_t n = read(target_out, buf, sizeof buf - 1);
	if (n <= 0 || strncmp(buf, "ready", 5) != 0)
		die(EXIT_SETUP, "the target did not start");
}

/* ARGV with every "%T" replaced by the target's PID. */
static char **cmd_argv(char **argv)
{
	static char *out[64];
	static char args[64][4096];
	int i = 0;
	for (; argv[i] && i < 63; i++) {
		const char *a = argv[i];
		char *o = args[i];
		size_t n = 0;
		for (; *a && n + 12 < sizeof args[i]; a++) {
			if (a[0] == '%' && a[1] == 'T') {
				n += (size_t)snprintf(o + n, sizeof args[i] - n, "%d", (int)target);
				a++;
			} else {
				o[n++] = *a;
			}
		}
		o[n] = '\0';
		out[i] = o;
	}
	out[i] = NULL;
	return out;
}

static void start_cmd(const struct opts *o, int ctl_w, int reply_r, int out_w)
{
	cmd_pid = fork();
	if (cmd_pid < 0)
		die(EXIT_SETUP, "fork: %s", strerror(errno));
	if (cmd_pid)
		return;
	char kv[32];
	snprintf(kv, sizeof kv, "%d", (int)target);
	setenv("KT_OBS_TARGET", kv, 1);
	if (o->preload)
		setenv("LD_PRELOAD", o->preload, 1);
	dup2(out_w, 1);
	dup2(out_w, 2);
	if (dup2(ctl_w, CMD_CTL_FD) < 0 || dup2(reply_r, CMD_REPLY_FD) < 0)
		_exit(126);
	char **argv = cmd_argv(o->cmd);
	execvp(argv[0], argv);
	fprintf(stderr, "observe_race: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* 1 once a process of the namespace holds /proc/TARGET/FILE open. */
/* 1 if process PID (a /proc name) is stopped at the entry of close(FD):
 * strace holds it there, every read of the file done. */
static int closing(const char *pid, const char *fd)
{
	char path[300], text[128];
	snprintf(path, sizeof path, "/proc/%s/syscall", pid);
	int sfd = open(path, O_RDONLY | O_CLOEXEC);
	if (sfd < 0)
		return 0;
	ssize_t n = read(sfd, text, sizeof text - 1);
	close(sfd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	long nr;
	unsigned long arg0;
	return sscanf(text, "%ld 0x%lx", &nr, &arg0) == 2 && nr == SYS_close &&
	       arg0 == strtoul(fd, NULL, 10);
}

/* 1 once a process of the namespace holds /proc/TARGET/FILE open and has
 * entered its close: not at the open alone, where ending the target would
 * race the program's read of the file (an empty read is no match, and the
 * program never signals). */
static int someone_is_closing(const char *file)
{
	char want[64];
	snprintf(want, sizeof want, "/proc/%d/%s", (int)target, file);
	DIR *proc = opendir("/proc");
	if (!proc)
		return 0;
	int found = 0;
	struct dirent *e;
	while (!found && (e = readdir(proc))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		char dir[300];
		snprintf(dir, sizeof dir, "/proc/%s/fd", e->d_name);
		DIR *fds = opendir(dir);
		if (!fds)
			continue;
		struct dirent *f;
		while (!found && (f = readdir(fds))) {
			char link[600], to[96];
			snprintf(link, sizeof link, "%s/%s", dir, f->d_name);
			ssize_t n = readlink(link, to, sizeof to - 1);
			if (n > 0) {
				to[n] = '\0';
				found = strcmp(to, want) == 0 && closing(e->d_name, f->d_name);
			}
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

/* Where pidfds carry no unique inode, libkt tells processes apart by start
 * time, in clock ticks (10 ms): a stranger made within a tick of the
 * target would pass for it.  Real reuse needs a whole turn of the PID
 * space, so a stranger is put in place no sooner than 30 ms after the
 * target started. */
static void wait_past_target_tick(void)
{
	struct timespec due = target_born;
	due.tv_nsec += 30000000;
	if (due.tv_nsec >= 1000000000) {
		due.tv_sec++;
		due.tv_nsec -= 1000000000;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
		;
}

static void place_stranger(pid_t pid, int group)
{
	wait_past_target_tick();
	stranger = stranger_make(pid);
	if (stranger != pid)
		die(EXIT_SETUP, "could not put a stranger on %d: %s", (int)pid, strerror(errno));
	if (group && setpgid(stranger, stranger) < 0)
		die(EXIT_SETUP, "setpgid(stranger): %s", strerror(errno));
	/* Named before the program goes on, so a report names it. */
	char path[64], comm[32];
	snprintf(path, sizeof path, "/proc/%d/comm", (int)stranger);
	for (int i = 0; i < 1000; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, comm, sizeof comm - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n > 0 && strncmp(comm, "stranger", 8) == 0)
			break;
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
}

/* 0 once the window was missed: the target was already dead when the
 * supervisor came to end it (CMD's signal got there first, the supervisor
 * having been held up past strace's delay on a loaded machine). */
static int window_open = 1;

/* The target is gone: killed and reaped by us, its parent. */
static void end_target(void)
{
	int st;
	if (waitpid(target, &st, WNOHANG) == target) {
		window_open = 0;
		return;
	}
	syscall(SYS_kill, target, SIGKILL);
	while (waitpid(target, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
		window_open = 0;
}

static void act(const struct opts *o)
{
	if (strcmp(o->action, "live") == 0)
		return;
	pid_t t = target;
	end_target();
	target = -t; /* remembered, but gone */
	if (strcmp(o->action, "reuse") == 0)
		place_stranger(t, o->group);
}

static void append_escaped(char *out, size_t *len, const char *buf, ssize_t n)
{
	for (ssize_t i = 0; i < n && *len + 5 < OUT_MAX; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c > ' ' && c < 0x7f && c != '\\')
			out[(*len)++] = (char)c;
		else
			*len += (size_t)snprintf(out + *len, OUT_MAX - *len, "\\x%02x", c);
	}
	out[*len] = '\0';
}

static int run_supervisor(const struct opts *o)
{
	alarm(ALARM_SUPERVISOR);
	mount_private_proc();
	start_target();
	int ctl[2], reply[2], out[2];
	if (pipe2(ctl, O_CLOEXEC) < 0 || pipe2(reply, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		die(EXIT_SETUP, "pipe: %s", strerror(errno));
	start_cmd(o, ctl[1], reply[0], out[1]);
	close(ctl[1]);
	close(reply[0]);
	close(out[1]);

	static char text[OUT_MAX];
	size_t text_len = 0;
	char line[128];
	size_t line_len = 0;
	int triggered = 0, status = -1, out_open = 1;
	while (status < 0 || out_open) {
		struct pollfd p[2] = { { .fd = ctl[0], .events = POLLIN },
			               { .fd = out_open ? out[0] : -1, .events = POLLIN } };
		poll(p, 2, 2);
		if (p[0].revents & (POLLIN | POLLHUP)) {
			char c;
			if (read(ctl[0], &c, 1) == 1) {
				if (c != '\n' && line_len + 1 < sizeof line) {
					line[line_len++] = c;
				} else if (c == '\n') {
					line[line_len] = '\0';
					line_len = 0;
					int pid;
					if (sscanf(line, "seen %d", &pid) == 1) {
						if (!triggered)
							act(o);
						triggered = 1;
					} else if (sscanf(line, "freed %d", &pid) == 1) {
						place_stranger(pid, o->group);
						triggered = 1;
					}
					if (write(reply[1], "go\n", 3) != 3)
						die(EXIT_SETUP, "write: %s", strerror(errno));
				}
			} else {
				close(ctl[0]);
				ctl[0] = -1;
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			char buf[512];
			ssize_t n = read(out[0], buf, sizeof buf);
			if (n > 0)
				append_escaped(text, &text_len, buf, n);
			else
				out_open = 0;
		}
		if (o->watch && !triggered && target > 0 && someone_is_closing(o->watch)) {
			act(o);
			triggered = 1;
		}
		int st;
		if (status < 0 && waitpid(cmd_pid, &st, WNOHANG) == cmd_pid)
			status = st;
	}

	char fate[48] = "none";
	if (stranger > 0)
		stranger_judge(stranger, fate, sizeof fate);
	int rt = 0;
	const char *target_end = "gone";
	if (target > 0) {
		int st = 0;
		pid_t r = waitpid(target, &st, WNOHANG);
		if (r == 0) {
			syscall(SYS_kill, target, SIGUSR2);
			char buf[32] = "";
			if (read(target_out, buf, sizeof buf - 1) > 0)
				sscanf(buf, "rt=%d", &rt);
			waitpid(target, &st, 0);
			target_end = "alive";
		} else if (r == target && WIFSIGNALED(st)) {
			static char how[32];
			snprintf(how, sizeof how, "killed-SIG%s", sigabbrev_np(WTERMSIG(st)));
			target_end = how;
		}
	}
	printf("result target=%d triggered=%d window=%d status=%d signal=%d stranger=%s target_end=%s "
	       "target_rt=%d out=%s\n",
	       target > 0 ? (int)target : (int)-target, triggered, window_open,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 0,
	       WIFSIGNALED(status) ? WTERMSIG(status) : 0, fate, target_end, rt, text);
	fflush(stdout);
	return 0;
}

/* ---- the outer process ------------------------------------------------------ */

static int run_outer(char **argv)
{
	alarm(ALARM_OUTER);
	fflush(NULL);
	int made = stranger_unshare_pidns();
	if (made > 0) {
		fprintf(stderr, "observe_race: no PID namespace here: %s\n", strerror(errno));
		return EXIT_NO_PIDNS;
	}
	if (made < 0 || unshare(CLONE_NEWNS) < 0)
		die(EXIT_SETUP, "namespaces: %s", strerror(errno));
	pid_t sup = fork();
	if (sup < 0)
		die(EXIT_SETUP, "fork: %s", strerror(errno));
	if (sup == 0) {
		/* As pid 1, by re-running ourselves, so the supervisor starts
		 * clean. */
		const char *self = self_path();
		char *args[80];
		int n = 0;
		args[n++] = (char *)self;
		args[n++] = "--role=supervisor";
		for (int i = 1; argv[i] && n < 79; i++)
			args[n++] = argv[i];
		args[n] = NULL;
		execv("/proc/self/exe", args);
		_exit(EXIT_SETUP);
	}
	int st;
	while (waitpid(sup, &st, 0) < 0)
		if (errno != EINTR)
			die(EXIT_SETUP, "waitpid: %s", strerror(errno));
	return WIFEXITED(st) ? WEXITSTATUS(st) : EXIT_SETUP;
}

int main(int argc, char **argv)
{
	struct opts o = { .action = "reuse" };
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--role=", 7) == 0)
			o.role = a + 7;
		else if (strncmp(a, "--preload=", 10) == 0)
			o.preload = a + 10;
		else if (strncmp(a, "--action=", 9) == 0)
			o.action = a + 9;
		else if (strncmp(a, "--watch=", 8) == 0)
			o.watch = a + 8;
		else if (strcmp(a, "--group") == 0)
			o.group = 1;
		else if (strcmp(a, "--") == 0)
			break;
		else if (o.role && strcmp(o.role, "target") == 0)
			break; /* the target's mark */
		else
			die(EXIT_SETUP, "unknown argument %s", a);
	}
	if (o.role && strcmp(o.role, "target") == 0)
		return run_target();
	if (strcmp(o.action, "reuse") && strcmp(o.action, "vanish") && strcmp(o.action, "live"))
		die(EXIT_SETUP, "--action: reuse, vanish or live");
	if (i >= argc - 1)
		die(EXIT_SETUP, "usage: observe_race [--preload=LIB] [--action=A] [--watch=FILE] "
		                "[--group] -- CMD [ARG...]");
	o.cmd = argv + i + 1;
	if (o.role && strcmp(o.role, "supervisor") == 0)
		return run_supervisor(&o);
	return run_outer(argv);
}
