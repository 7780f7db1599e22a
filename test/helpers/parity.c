/* SPDX-License-Identifier: MIT */
/*
 * parity — the errno/return parity matrix for kill/killpg/sigqueue and the wait
 * family: outside stale kills, every call must return what plain libc returns,
 * errno included, so libkt is invisible.
 *
 * Runs a fixed list of cases and prints one line per case:
 *
 *     NAME RET ERRNO
 *
 * RET is the return value, with PIDs replaced by "child" (the case's own child)
 * or "other", and an optional "/..." describing the wait status; ERRNO is
 * "unchanged" when errno still holds the sentinel set before the call (what a
 * successful call must leave), else its symbolic name.  No raw PID ever appears,
 * so a run with libkt and a run without compare equal line by line
 * (test/preload_parity.c does that).
 *
 * Options (the case lines must stay the same under each, with or without libkt):
 *   --orphaned-groups-full          only the orphaned-group cases with libkt's
 *                                   kept-pidfd cache full (run by the matrix
 *                                   itself, with KT_MAX_FDS=1)
 *   --deny-pidfd=ENOSYS|EPERM       install a seccomp filter that fails
 *                                   pidfd_open and pidfd_send_signal, then
 *                                   re-exec, so libkt starts without pidfds
 *   --deny-pidfd-late=ENOSYS|EPERM  the same filter, installed after libkt
 *                                   started (a program that sandboxes itself)
 *
 * Lines starting with '#' are information that differs between the runs (libkt's
 * counters); the comparison skips them.  Lines starting with "stranger." put a
 * stranger on a child's number, where libkt must differ (see stranger_cases);
 * the suite judges those per mode.
 *
 * Safety: terminating signals only ever go to our own live children (or to a
 * zombie); pid -1 and foreign PIDs only ever get signal 0 or an invalid signal
 * number, which the kernel rejects before delivery.  The one exception is
 * SIGCONT to a just-reaped number (kill.reaped.SIGCONT), harmless even if the
 * number had been reused within those microseconds.  The stranger cases send
 * SIGTERM and SIGUSR1 by number, but only inside a private PID namespace where
 * every process is ours.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kt.h"
#include "../older_glibc.h"

#include "../orphan_group.h"
#include "../stranger.h"

#define SENTINEL 4242

extern char **environ;

/* Unbuffered output: sub-processes print too, and a stdio buffer copied by
 * fork() would print lines twice. */
static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line)
		n = sizeof line - 1;
	for (int off = 0; off < n;) {
		ssize_t w = write(STDOUT_FILENO, line + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += (int)w;
	}
}

static const char *errno_token(int e)
{
	static char buf[32];
	if (e == SENTINEL)
		return "unchanged";
	const char *name = strerrorname_np(e);
	if (name)
		return name;
	snprintf(buf, sizeof buf, "E%d", e);
	return buf;
}

static const char *sig_token(int sig)
{
	static char buf[32];
	const char *a = sigabbrev_np(sig);
	if (a)
		snprintf(buf, sizeof buf, "SIG%s", a);
	else
		snprintf(buf, sizeof buf, "sig%d", sig);
	return buf;
}

/* A return value with PIDs hidden: CHILD is the pid this case expects. */
static const char *ret_token(long ret, pid_t child)
{
	static char buf[32];
	if (child > 0 && ret == child)
		return "child";
	if (ret >= -1 && ret <= 0)
		snprintf(buf, sizeof buf, "%ld", ret);
	else
		return "other";
	return buf;
}

static const char *status_token(int st)
{
	static char buf[48];
	if (WIFEXITED(st))
		snprintf(buf, sizeof buf, "exit(%d)", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, sizeof buf, "killed(%s)", sig_token(WTERMSIG(st)));
	else if (WIFSTOPPED(st))
		snprintf(buf, sizeof buf, "stopped(%s)", sig_token(WSTOPSIG(st)));
	else if (WIFCONTINUED(st))
		snprintf(buf, sizeof buf, "continued");
	else
		snprintf(buf, sizeof buf, "raw(%#x)", st);
	return buf;
}

static void report(const char *name, long ret, int err, pid_t child)
{
	out("%s %s %s\n", name, ret_token(ret, child), errno_token(err));
}

/* posix_spawn returns an error number instead of setting errno. */
static void report_errret(const char *name, int ret, int err)
{
	const char *r = ret == 0 ? "0" : strerrorname_np(ret);
	out("%s %s %s\n", name, r ? r : "?", errno_token(err));
}

/* Same, with the wait status appended to RET when the call returned a pid. */
static void report_status(const char *name, long ret, int err, pid_t child, int st)
{
	if (ret > 0)
		out("%s %s/%s %s\n", name, ret_token(ret, child), status_token(st),
		    errno_token(err));
	else
		report(name, ret, err, child);
}

/* waitid returns 0 whether or not it found a child; what it found is in SI. */
static void report_waitid(const char *name, int ret, int err, pid_t child,
                          const siginfo_t *si)
{
	const char *who = si->si_pid == 0 ? "none" : si->si_pid == child ? "child" : "other";
	const char *code = "";
	switch (si->si_code) {
	case CLD_EXITED: code = "/exited"; break;
	case CLD_KILLED: code = "/killed"; break;
	case CLD_DUMPED: code = "/dumped"; break;
	case CLD_STOPPED: code = "/stopped"; break;
	case CLD_CONTINUED: code = "/continued"; break;
	}
	if (ret == 0)
		out("%s 0/si=%s%s %s\n", name, who, si->si_pid ? code : "", errno_token(err));
	else
		report(name, ret, err, child);
}

/* Evaluate EXPR with errno set to the sentinel, then report what it did with
 * REPORTER (its arguments after the child: the wait status or siginfo it
 * shows).  A macro only so that the errno capture sits right after the call. */
#define CASE_WITH(reporter, name, child, expr, ...)                            \
	do {                                                                   \
		errno = SENTINEL;                                              \
		long r_ = (long)(expr);                                        \
		int e_ = errno;                                                \
		reporter((name), r_, e_, (child), ##__VA_ARGS__);              \
	} while (0)
#define CASE(name, child, expr) CASE_WITH(report, name, child, expr)
/* A wait call, reported with the status it stored in ST. */
#define STATUS_CASE(name, child, st, expr) CASE_WITH(report_status, name, child, expr, st)
/* A waitid call, reported with what it found in SI. */
#define WAITID_CASE(name, child, si, expr) CASE_WITH(report_waitid, name, child, expr, si)

/* ---- children ------------------------------------------------------------------ */

static void child_pause(void)
{
	for (;;)
		pause();
}

/* A child that waits in pause(): alive until we kill it. */
static pid_t spawn_pausing(void)
{
	pid_t pid = fork();
	if (pid == 0)
		child_pause();
	if (pid < 0) {
		perror("parity: fork");
		exit(2);
	}
	return pid;
}

/* A child that exits at once with CODE. */
static pid_t spawn_exiting(int code)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(code);
	if (pid < 0) {
		perror("parity: fork");
		exit(2);
	}
	return pid;
}

/* Block until CHILD is a zombie, without reaping it. */
static void wait_zombie(pid_t child)
{
	siginfo_t si;
	while (waitid(P_PID, (id_t)child, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		;
}

static void kill_and_reap(pid_t child)
{
	kill(child, SIGKILL);
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
}

/* A number no process holds right now, below pid_max (so it *could* be a pid).
 * Probed with the raw syscall so the probing never touches libkt's hooks. */
static pid_t free_pid(void)
{
	long max = 32768;
	FILE *f = fopen("/proc/sys/kernel/pid_max", "re");
	if (f) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 32768;
		fclose(f);
	}
	for (long p = max - 1; p > 300; p--)
		if (syscall(SYS_kill, (pid_t)p, 0) < 0 && errno == ESRCH &&
		    syscall(SYS_kill, -(pid_t)p, 0) < 0 && errno == ESRCH)
			return (pid_t)p;
	return 0;
}

/* ---- the matrix ------------------------------------------------------------------ */

/* fork and _Fork leave errno alone on success, in the parent and in the
 * child; libkt's registration work (pidfd_open, fstat, a check that may fail)
 * must not show through.  The child reports by its exit code. */
static void report_fork(const char *name, pid_t (*fork_fn)(void))
{
	char n1[96], n2[96];
	errno = SENTINEL;
	pid_t c = fork_fn();
	int e = errno;
	if (c == 0)
		_exit(e == SENTINEL ? 0 : 1);
	snprintf(n1, sizeof n1, "%s.parent_errno", name);
	out("%s %s %s\n", n1, c > 0 ? "child" : "-1", errno_token(c > 0 ? e : errno));
	if (c < 0)
		return;
	int st = 0;
	while (waitpid(c, &st, 0) < 0 && errno == EINTR)
		;
	snprintf(n2, sizeof n2, "%s.child_errno", name);
	out("%s %s\n", n2, WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "unchanged" : "CHANGED");
}

static pid_t call_fork(void)
{
	return fork();
}

#if HAVE_GLIBC__FORK
static pid_t call_Fork(void)
{
	return _Fork();
}
#endif

/* A forked process inherits libkt's table (the table is copied across fork,
 * not exec) but not the children:
 * signalling a sibling the parent registered is an ordinary kill, and
 * waiting for it is ECHILD. */
static void inherited_table_cases(void)
{
	pid_t sib = spawn_pausing();
	pid_t p = fork();
	if (p == 0) {
		int st;
		CASE("inherited.kill.sibling.sig0", sib, kill(sib, 0));
		CASE("inherited.kill.sibling.SIGCONT", sib, kill(sib, SIGCONT));
		CASE("inherited.waitpid.sibling", sib, waitpid(sib, &st, WNOHANG));
		CASE("inherited.kill.sibling_after_wait.sig0", sib, kill(sib, 0));
		_exit(0);
	}
	while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
		;
	CASE("inherited.kill.own_child.sig0", sib, kill(sib, 0));
	kill_and_reap(sib);
}

static void kill_to_live_child(void)
{
	pid_t c = spawn_pausing();
	union sigval v = { .sival_int = 1 };

	CASE("kill.live.sig0", c, kill(c, 0));
	CASE("kill.live.SIGCONT", c, kill(c, SIGCONT));
	CASE("kill.live.sig-1", c, kill(c, -1));
	CASE("kill.live.sig65", c, kill(c, 65));
	CASE("kill.live.sig1000", c, kill(c, 1000));
	CASE("kill.live.sigINT_MIN", c, kill(c, INT_MIN));
	CASE("sigqueue.live.sig0", c, sigqueue(c, 0, v));
	CASE("sigqueue.live.SIGCONT", c, sigqueue(c, SIGCONT, v));
	CASE("sigqueue.live.sig65", c, sigqueue(c, 65, v));
	/* A forked child is in our process group, not a group of its own: as a
	 * group id its number names nothing. */
	CASE("kill.-live_not_leader.sig0", c, kill(-c, 0));
	CASE("killpg.live_not_leader.sig0", c, killpg(c, 0));
	/* Those ESRCHs were about a group: the child itself still takes signals.
	 * (fd mode once took a group send's ESRCH for the child's death.) */
	CASE("kill.live.after_group_esrch.sig0", c, kill(c, 0));

	/* Targets that are not registered children, while a child is alive (so
	 * kill(-1, 0) has something to find even as an ordinary user). */
	CASE("kill.self.sig0", 0, kill(getpid(), 0));
	CASE("kill.0.sig0", 0, kill(0, 0));
	CASE("kill.0.sig65", 0, kill(0, 65));
	CASE("kill.-1.sig0", 0, kill(-1, 0));
	CASE("kill.-own_pgrp.sig0", 0, kill(-getpgrp(), 0));
	CASE("killpg.own_pgrp.sig0", 0, killpg(getpgrp(), 0));
	CASE("killpg.0.sig0", 0, killpg(0, 0));
	CASE("killpg.negative.sig0", 0, killpg(-getpgrp(), 0));
	/* pid 1 is never ours: 0 as root, EPERM otherwise; libkt must not care. */
	CASE("kill.1.sig0", 0, kill(1, 0));
	CASE("kill.INT_MIN.sig0", 0, kill(INT_MIN, 0));
	CASE("kill.INT_MIN.sig65", 0, kill(INT_MIN, 65));
	CASE("kill.INT_MAX.sig0", 0, kill(INT_MAX, 0));
	CASE("kill.-INT_MAX.sig0", 0, kill(-INT_MAX, 0));
	CASE("killpg.INT_MAX.sig0", 0, killpg(INT_MAX, 0));
	pid_t nobody = free_pid();
	if (nobody > 0) {
		CASE("kill.nonexistent.sig0", 0, kill(nobody, 0));
		/* The kernel looks the target up before it checks the signal. */
		CASE("kill.nonexistent.sig65", 0, kill(nobody, 65));
		CASE("kill.-nonexistent.sig0", 0, kill(-nobody, 0));
		CASE("sigqueue.nonexistent.sig0", 0, sigqueue(nobody, 0, v));
	} else {
		out("# no free pid found; nonexistent-pid cases left out\n");
	}

	kill_and_reap(c);
}

static void kill_to_stopped_child(void)
{
	pid_t c = spawn_pausing();
	int st = 0;

	kill(c, SIGSTOP);
	/* A stop report is not a reap: the child must stay registered and live. */
	STATUS_CASE("waitpid.stopped.WUNTRACED", c, st, waitpid(c, &st, WUNTRACED));
	CASE("kill.stopped.sig0", c, kill(c, 0));
	CASE("kill.stopped.SIGCONT", c, kill(c, SIGCONT));
	STATUS_CASE("waitpid.continued.WCONTINUED", c, st, waitpid(c, &st, WCONTINUED));
	CASE("kill.after_continue.sig0", c, kill(c, 0));

	/* And the same through waitid, which reports stops in siginfo. */
	siginfo_t si;
	kill(c, SIGSTOP);
	memset(&si, 0, sizeof si);
	WAITID_CASE("waitid.stopped.WSTOPPED", c, &si, waitid(P_PID, (id_t)c, &si, WSTOPPED));
	CASE("kill.stopped_waitid.sig0", c, kill(c, 0));
	kill(c, SIGCONT);
	kill_and_reap(c);
}

static void kill_to_zombie_and_reaped(void)
{
	union sigval v = { .sival_int = 1 };
	pid_t c = spawn_exiting(7);
	siginfo_t si;
	int st = 0;

	/* WNOWAIT looks without reaping: the zombie must still be signalable. */
	memset(&si, 0, sizeof si);
	WAITID_CASE("waitid.zombie.WNOWAIT", c, &si, waitid(P_PID, (id_t)c, &si, WEXITED | WNOWAIT));
	CASE("kill.zombie.sig0", c, kill(c, 0));
	CASE("kill.zombie.SIGTERM", c, kill(c, SIGTERM));
	CASE("kill.zombie.sig65", c, kill(c, 65));
	CASE("sigqueue.zombie.sig0", c, sigqueue(c, 0, v));

	STATUS_CASE("waitpid.zombie.reap", c, st, waitpid(c, &st, 0));

	/* Reaped, number not reused: the kernel says ESRCH, and so must libkt —
	 * for an invalid signal too, since the kernel looks the pid up first. */
	CASE("kill.reaped.sig0", c, kill(c, 0));
	CASE("kill.reaped.SIGCONT", c, kill(c, SIGCONT));
	CASE("kill.reaped.sig65", c, kill(c, 65));
	CASE("kill.reaped.sig-1", c, kill(c, -1));
	CASE("sigqueue.reaped.sig0", c, sigqueue(c, 0, v));
	CASE("killpg.reaped.sig0", c, killpg(c, 0));
	CASE("kill.-reaped.sig0", c, kill(-c, 0));
	CASE("waitpid.reaped.again", c, waitpid(c, &st, 0));
}

/* A registered child that leads its own process group.  The group outlives its
 * leader while a member lives, and its number cannot be reused meanwhile. */
static void group_leader(void)
{
	int ready[2], go[2], hold[2];
	if (pipe(ready) < 0 || pipe(go) < 0 || pipe(hold) < 0) {
		perror("parity: pipe");
		exit(2);
	}
	pid_t c = fork();
	if (c == 0) {
		char b = 'x';
		setpgid(0, 0);
		close(ready[0]);
		close(go[1]);
		pid_t g = fork();
		if (g == 0) {
			/* The member: lives in group c until the parity process closes
			 * its end of HOLD. */
			close(hold[1]);
			close(ready[1]);
			close(go[0]);
			while (read(hold[0], &b, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		close(hold[0]);
		close(hold[1]);
		/* The group (leader + member) exists: tell the parent, then exit
		 * when it closes GO. */
		if (write(ready[1], &b, 1) != 1)
			_exit(3);
		while (read(go[0], &b, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	close(hold[0]);
	char b;
	ssize_t got;
	while ((got = read(ready[0], &b, 1)) < 0 && errno == EINTR)
		;
	close(ready[0]);
	if (got != 1) {
		out("# group leader did not start\n");
		return;
	}

	CASE("kill.-live_leader.sig0", c, kill(-c, 0));
	CASE("kill.-live_leader.SIGCONT", c, kill(-c, SIGCONT));
	CASE("killpg.live_leader.sig0", c, killpg(c, 0));

	close(go[1]); /* the leader sees EOF and exits */
	int st = 0;
	STATUS_CASE("waitpid.leader.reap", c, st, waitpid(c, &st, 0));

	CASE("kill.reaped_leader.sig0", c, kill(c, 0));
	/* The group still exists, so its number cannot have been reused: plain
	 * kill finds the member, and so must libkt. */
	CASE("kill.-reaped_leader_group_alive.sig0", c, kill(-c, 0));
	CASE("kill.-reaped_leader_group_alive.SIGCONT", c, kill(-c, SIGCONT));
	CASE("killpg.reaped_leader_group_alive.sig0", c, killpg(c, 0));

	/* Release the member.  It is not our child (its parent is gone), so the
	 * system's reaper collects it. */
	close(hold[1]);
}

/* A living group whose leader is gone, killed as a group: the new-session
 * child that exits while its own child lives on (Python's
 * Popen(start_new_session=True), wait(), then os.killpg).  Plain libc: 0,
 * and the member gets the signal exactly once.  However the leader was
 * reaped (waitpid, or the kernel with SIGCHLD ignored), whether its identity
 * was taken while it lived (a kill(leader, 0)), and with libkt's kept-pidfd
 * cache full (KT_MAX_FDS=1, its one pidfd taken by another child since: a
 * copy of this program started with --orphaned-groups-full runs those).
 * Lines: orphan.REAP.IDENTITY.CACHE.CALL RET ERRNO hits=N (test/orphan_group.h). */
static void orphaned_group_cases(int cache_full)
{
	static const char *const reaps[] = { "waitpid", "sigchld_ignored" };
	pid_t filler = cache_full ? spawn_pausing() : 0;
	for (int unseen = 0; unseen < 2; unseen++)
		for (int taken = 0; taken < 2; taken++)
			for (int by_killpg = 1; by_killpg >= 0; by_killpg--) {
				char name[96];
				snprintf(name, sizeof name, "orphan.%s.%s.%s.%s", reaps[unseen],
				         taken ? "identity_taken" : "identity_untaken",
				         cache_full ? "cache_full" : "cache_room",
				         by_killpg ? "killpg" : "kill_neg");
				struct group_kill k;
				if (group_kill_after_reap(unseen, taken, filler, by_killpg, SIGRTMIN + 1,
				                          SENTINEL, &k) < 0) {
					out("%s failed no-group\n", name);
					continue;
				}
				out("%s %s %s hits=%d\n", name, ret_token(k.ret, 0), errno_token(k.err),
				    k.hits);
			}
	if (filler > 0)
		kill_and_reap(filler);
}

/* The cache_full lines, from a copy of this program with KT_MAX_FDS=1. */
static void orphaned_groups_cache_full(char *self)
{
	pid_t p = fork();
	if (p == 0) {
		char *argv[] = { self, "--orphaned-groups-full", NULL };
		setenv("KT_MAX_FDS", "1", 1);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	int st = 0;
	while (p > 0 && waitpid(p, &st, 0) < 0 && errno == EINTR)
		;
	if (p < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		out("orphan.cache_full failed status-0x%x\n", (unsigned)st);
}

static void spawn_family(char *self)
{
	pid_t c = 0;
	char *argv[] = { self, "--pause", NULL };
	errno = SENTINEL;
	int r = posix_spawn(&c, "/proc/self/exe", NULL, NULL, argv, environ);
	int e = errno;
	report_errret("posix_spawn.ok", r, e);
	if (r == 0) {
		CASE("kill.spawned.sig0", c, kill(c, 0));
		CASE("kill.spawned.SIGTERM", c, kill(c, SIGTERM));
		int st = 0;
		STATUS_CASE("waitpid.spawned.reap", c, st, waitpid(c, &st, 0));
		CASE("kill.spawned_reaped.sig0", c, kill(c, 0));
	}

	char *bad_argv[] = { "parity-no-such-program", NULL };
	pid_t c2 = 0;
	errno = SENTINEL;
	r = posix_spawn(&c2, "/nonexistent/parity-no-such-program", NULL, NULL,
	                bad_argv, environ);
	e = errno;
	report_errret("posix_spawn.enoent", r, e);
	/* A PATH of missing directories, so the search ends in ENOENT for every
	 * user (an unreadable directory in the caller's PATH would give EACCES). */
	char *saved_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	setenv("PATH", "/nonexistent/parity-a:/nonexistent/parity-b", 1);
	errno = SENTINEL;
	r = posix_spawnp(&c2, "parity-no-such-program", NULL, NULL, bad_argv, environ);
	e = errno;
	if (saved_path) {
		setenv("PATH", saved_path, 1);
		free(saved_path);
	} else {
		unsetenv("PATH");
	}
	report_errret("posix_spawnp.enoent", r, e);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void wait_family(void)
{
	pid_t c = spawn_pausing();
	int st = 0;
	siginfo_t si;
	struct rusage ru;

	/* Nothing ready: 0, errno untouched, and the child stays live. */
	CASE("waitpid.live.WNOHANG", c, waitpid(c, &st, WNOHANG));
	CASE("waitpid.-1.live.WNOHANG", c, waitpid(-1, &st, WNOHANG));
	CASE("wait3.live.WNOHANG", c, wait3(&st, WNOHANG, &ru));
	CASE("wait4.live.WNOHANG", c, wait4(c, &st, WNOHANG, &ru));
	memset(&si, 0, sizeof si);
	WAITID_CASE("waitid.live.WNOHANG", c, &si, waitid(P_PID, (id_t)c, &si, WEXITED | WNOHANG));
	CASE("waitid.live.NULL_infop.WNOHANG", c, waitid(P_PID, (id_t)c, NULL, WEXITED | WNOHANG));

	/* Bad options: EINVAL, and nothing reaped. */
	CASE("waitpid.live.WNOWAIT_not_allowed", c, waitpid(c, &st, WNOWAIT));
	CASE("waitpid.live.bad_options", c, waitpid(c, &st, 0x4000));
	CASE("wait4.live.bad_options", c, wait4(c, &st, 0x4000, &ru));
	CASE("wait3.bad_options", c, wait3(&st, 0x4000, &ru));
	CASE("waitid.live.no_options", c, waitid(P_PID, (id_t)c, &si, 0));
	CASE("waitid.live.bad_options", c, waitid(P_PID, (id_t)c, &si, WEXITED | 0x4000));
	CASE("waitid.bad_idtype", c, waitid((idtype_t)42, (id_t)c, &si, WEXITED));
	CASE("waitid.P_PIDFD.bad_fd", c, waitid((idtype_t)3 /* P_PIDFD */, 9999, &si, WEXITED));
	CASE("waitpid.INT_MIN", c, waitpid(INT_MIN, &st, WNOHANG));

	/* A wait interrupted by a signal handler without SA_RESTART: EINTR, not a
	 * restart inside the hook. */
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	struct itimerval it = { .it_value = { .tv_sec = 0, .tv_usec = 50000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	CASE("waitpid.live.EINTR", c, waitpid(c, &st, 0));
	setitimer(ITIMER_REAL, &it, NULL);
	CASE("waitid.live.EINTR", c, waitid(P_PID, (id_t)c, &si, WEXITED));
	sigaction(SIGALRM, &old, NULL);

	CASE("kill.live_after_failed_waits.sig0", c, kill(c, 0));

	/* waitid with a NULL infop really reaps (Linux allows it); the hook must
	 * cope without a siginfo to read. */
	kill(c, SIGKILL);
	wait_zombie(c);
	CASE("waitid.zombie.NULL_infop", c, waitid(P_PID, (id_t)c, NULL, WEXITED));
	CASE("kill.reaped_by_waitid_NULL.sig0", c, kill(c, 0));
	CASE("waitpid.reaped_by_waitid_NULL", c, waitpid(c, &st, WNOHANG));

	c = spawn_exiting(3);
	wait_zombie(c);
	CASE("waitid.P_ALL.NULL_infop", c, waitid(P_ALL, 0, NULL, WEXITED));
	CASE("kill.reaped_by_waitid_P_ALL_NULL.sig0", c, kill(c, 0));

	c = spawn_exiting(4);
	wait_zombie(c);
	STATUS_CASE("wait.zombie", c, st, wait(&st));
	CASE("kill.reaped_by_wait.sig0", c, kill(c, 0));

	c = spawn_exiting(5);
	wait_zombie(c);
	CASE("wait.zombie.NULL_status", c, wait(NULL));

	c = spawn_exiting(6);
	wait_zombie(c);
	STATUS_CASE("wait3.zombie", c, st, wait3(&st, 0, &ru));

	c = spawn_exiting(8);
	wait_zombie(c);
	STATUS_CASE("wait4.zombie.NULL_rusage", c, st, wait4(-1, &st, 0, NULL));
	CASE("kill.reaped_by_wait4.sig0", c, kill(c, 0));

	c = spawn_exiting(9);
	wait_zombie(c);
	memset(&si, 0, sizeof si);
	WAITID_CASE("waitid.P_ALL.zombie", c, &si, waitid(P_ALL, 0, &si, WEXITED));
	CASE("kill.reaped_by_waitid.sig0", c, kill(c, 0));

	/* No children at all now. */
	CASE("wait.echild", 0, wait(&st));
	CASE("wait.echild.NULL_status", 0, wait(NULL));
	CASE("waitpid.-1.echild", 0, waitpid(-1, &st, 0));
	CASE("waitpid.-1.WNOHANG.echild", 0, waitpid(-1, &st, WNOHANG));
	CASE("waitpid.0.echild", 0, waitpid(0, &st, 0));
	CASE("waitpid.-own_pgrp.echild", 0, waitpid(-getpgrp(), &st, 0));
	CASE("waitpid.not_our_child.echild", 0, waitpid(1, &st, 0));
	CASE("wait3.echild", 0, wait3(&st, 0, &ru));
	CASE("wait4.echild", 0, wait4(-1, &st, 0, &ru));
	CASE("waitid.P_ALL.echild", 0, waitid(P_ALL, 0, &si, WEXITED));
	CASE("waitid.P_ALL.NULL_infop.echild", 0, waitid(P_ALL, 0, NULL, WEXITED));
	CASE("waitid.P_ALL.WNOHANG.echild", 0, waitid(P_ALL, 0, &si, WEXITED | WNOHANG));
	CASE("waitpid.-1.WNOWAIT.einval_before_echild", 0, waitpid(-1, &st, WNOWAIT));
}

/* EPERM through a registered child.  As root: a forked process keeps a root
 * child of its own, then drops to uid/gid 65534 and signals that child.  The
 * kernel refuses with EPERM, except SIGCONT, which is allowed within a session.
 * And the reverse: a child that drops its own uid is still killable by root. */
static void permission_cases(void)
{
	if (geteuid() != 0) {
		out("eperm.root_child.sig0 skip not-root\n");
		out("kill.child_dropped_uid.sig0 skip not-root\n");
		return;
	}
	pid_t p = fork();
	if (p == 0) {
		int gate[2];
		if (pipe(gate) < 0)
			_exit(2);
		pid_t c = fork();
		if (c == 0) {
			char b;
			close(gate[1]);
			while (read(gate[0], &b, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		close(gate[0]);
		union sigval v = { .sival_int = 1 };
		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0) {
			out("eperm.setup failed %s\n", errno_token(errno));
			_exit(2);
		}
		CASE("eperm.root_child.sig0", c, kill(c, 0));
		CASE("eperm.root_child.SIGTERM", c, kill(c, SIGTERM));
		CASE("eperm.root_child.SIGCONT_same_session", c, kill(c, SIGCONT));
		CASE("eperm.root_child.sig65", c, kill(c, 65));
		CASE("eperm.root_child.sigqueue.sig0", c, sigqueue(c, 0, v));
		close(gate[1]);
		int st = 0;
		STATUS_CASE("eperm.root_child.reap", c, st, waitpid(c, &st, 0));
		CASE("eperm.root_child_reaped.sig0", c, kill(c, 0));
		_exit(0);
	}
	int st;
	while (waitpid(p, &st, 0) < 0 && errno == EINTR)
		;

	int ready[2];
	if (pipe(ready) < 0)
		return;
	pid_t c = fork();
	if (c == 0) {
		close(ready[0]);
		if (setresuid(65534, 65534, 65534) < 0)
			_exit(2);
		char b = 'x';
		if (write(ready[1], &b, 1) != 1)
			_exit(2);
		child_pause();
	}
	close(ready[1]);
	char b;
	if (read(ready[0], &b, 1) != 1)
		out("# child_dropped_uid did not start\n");
	close(ready[0]);
	CASE("kill.child_dropped_uid.sig0", c, kill(c, 0));
	CASE("kill.child_dropped_uid.SIGTERM", c, kill(c, SIGTERM));
	STATUS_CASE("waitpid.child_dropped_uid.reap", c, st, waitpid(c, &st, 0));
}

/* Every fd slot taken (RLIMIT_NOFILE reached): libkt cannot open a pidfd, and
 * must fall back to plain behaviour rather than fail: libkt adds no failure
 * mode of its own. */
static void fd_exhaustion_cases(void)
{
	struct rlimit old, low;
	if (getrlimit(RLIMIT_NOFILE, &old) < 0)
		return;
	/* A low limit keeps the number of fillers small. */
	low = old;
	low.rlim_cur = 64;
	if (old.rlim_cur < low.rlim_cur || setrlimit(RLIMIT_NOFILE, &low) < 0) {
		out("# could not lower RLIMIT_NOFILE; fd exhaustion cases left out\n");
		return;
	}
	/* Fork before filling, so the child exists; then fill every slot. */
	pid_t c = spawn_pausing();
	pid_t z = spawn_exiting(2);
	wait_zombie(z);
	int fillers[64], nfill = 0;
	while (nfill < 64) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			break;
		fillers[nfill++] = fd;
	}
	CASE("emfile.confirm_open", 0, open("/dev/null", O_RDONLY | O_CLOEXEC));
	CASE("emfile.kill.live.sig0", c, kill(c, 0));
	CASE("emfile.kill.live.SIGCONT", c, kill(c, SIGCONT));
	CASE("emfile.kill.live.sig65", c, kill(c, 65));
	CASE("emfile.kill.zombie.sig0", z, kill(z, 0));
	int st = 0;
	STATUS_CASE("emfile.waitpid.zombie.reap", z, st, waitpid(z, &st, 0));
	CASE("emfile.kill.reaped.sig0", z, kill(z, 0));

	/* A child born while no fd is free: registration cannot open a pidfd. */
	report_fork("emfile.fork", call_fork);
	pid_t b = spawn_pausing();
	CASE("emfile.kill.born_without_fd.sig0", b, kill(b, 0));
	CASE("emfile.kill.born_without_fd.SIGTERM", b, kill(b, SIGTERM));
	STATUS_CASE("emfile.waitpid.born_without_fd.reap", b, st, waitpid(b, &st, 0));
	CASE("emfile.kill.born_without_fd_reaped.sig0", b, kill(b, 0));

	CASE("emfile.kill.live.SIGTERM", c, kill(c, SIGTERM));
	STATUS_CASE("emfile.waitpid.live.reap", c, st, waitpid(c, &st, 0));

	while (nfill > 0)
		close(fillers[--nfill]);
	setrlimit(RLIMIT_NOFILE, &old);
}

/* A seccomp filter making pidfd_open and pidfd_send_signal fail with ERR, as
 * container runtimes with old profiles do.  Returns 0 on success. */
static int deny_pidfd(int err)
{
	struct sock_filter filter[] = {
		STRANGER_FILTER_PROLOGUE,
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_send_signal, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
	};
	return stranger_install_filter(filter, sizeof filter / sizeof filter[0], 0);
}

static int parse_err(const char *s)
{
	if (strcmp(s, "ENOSYS") == 0)
		return ENOSYS;
	if (strcmp(s, "EPERM") == 0)
		return EPERM;
	fprintf(stderr, "parity: --deny-pidfd takes ENOSYS or EPERM, not %s\n", s);
	exit(2);
}

/* With SIGCHLD ignored, waitpid's ECHILD can come a moment before the kernel
 * has finished releasing the child (the parent is woken inside the child's
 * exit, before the release), so kill(pid, 0) right after it may still find
 * the dying process — in a plain run as much as under libkt.  Wait, with the
 * raw syscall (not the hook), until the number is really free. */
static void wait_until_pid_free(pid_t pid)
{
	for (int i = 0; i < 2000 && syscall(SYS_kill, pid, 0) == 0; i++)
		usleep(1000);
}

/* SIGCHLD ignored: the kernel reaps children itself, no wait call to hook.
 * waitpid blocks until the child is gone and then says ECHILD. */
static void sigchld_ignored_cases(void)
{
	struct sigaction ign, old;
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGCHLD, &ign, &old);
	pid_t c = spawn_exiting(0);
	int st;
	CASE("sigign.waitpid.autoreaped", c, waitpid(c, &st, 0));
	wait_until_pid_free(c);
	CASE("sigign.kill.autoreaped.sig0", c, kill(c, 0));
	CASE("sigign.kill.autoreaped.sig65", c, kill(c, 65));
	pid_t l = spawn_pausing();
	CASE("sigign.kill.live.sig0", l, kill(l, 0));
	CASE("sigign.kill.live.SIGTERM", l, kill(l, SIGTERM));
	CASE("sigign.waitpid.killed", l, waitpid(l, &st, 0));
	wait_until_pid_free(l);
	CASE("sigign.kill.killed_autoreaped.sig0", l, kill(l, 0));
	sigaction(SIGCHLD, &old, NULL);
}

/* A child that is PID 1 of a new PID namespace: the parent names it by its
 * number in the parent's namespace, and (as for any namespace init) a signal
 * it has no handler for is dropped unless it is SIGKILL/SIGSTOP from outside.
 * Needs root or an unprivileged user namespace; runs in a sub-process so the
 * matrix's own process keeps its namespaces. */
static void pid_namespace_cases(void)
{
	pid_t p = fork();
	if (p == 0) {
		if (unshare(CLONE_NEWPID) < 0 && unshare(CLONE_NEWUSER | CLONE_NEWPID) < 0) {
			out("pidns.setup skip no-namespace\n");
			_exit(0);
		}
		pid_t c = spawn_pausing();
		int st = 0;
		CASE("pidns.kill.init_child.sig0", c, kill(c, 0));
		/* Dropped by the kernel (init without a handler): 0, child lives. */
		CASE("pidns.kill.init_child.SIGTERM", c, kill(c, SIGTERM));
		CASE("pidns.waitpid.init_child.WNOHANG", c, waitpid(c, &st, WNOHANG));
		CASE("pidns.kill.init_child.SIGKILL", c, kill(c, SIGKILL));
		STATUS_CASE("pidns.waitpid.init_child.reap", c, st, waitpid(c, &st, 0));
		CASE("pidns.kill.init_child_reaped.sig0", c, kill(c, 0));
		_exit(0);
	}
	while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
		;
}

/* ---- strangers: where libkt must differ --------------------------------------- */

/* A stale kill, and a live one whose target's number changes hands during
 * the send, each with a stranger (a child of another process) on the number.
 * Without libkt both reach the stranger; that is the bug libkt exists for,
 * so these lines differ by design and the suite judges them per mode.  Each
 * prints "NAME RET ERRNO FATE", FATE being the stranger's: alive, or
 * killed-SIGNAME.  Run as PID 1 of a private PID namespace (test/stranger.h). */
static void report_stranger(const char *name, int ret, int err, const char *fate)
{
	char f[32];
	/* "fate=alive swaps=0": the fate word only. */
	snprintf(f, sizeof f, "%.*s", (int)strcspn(fate + 5, " "), fate + 5);
	out("%s %s %s %s\n", name, ret_token(ret, 0), errno_token(err), f);
}

static int send_by(int by_sigqueue, pid_t pid, int sig)
{
	if (by_sigqueue)
		return sigqueue(pid, sig, (union sigval){ .sival_int = 1 });
	return kill(pid, sig);
}

static int stranger_stale(void *arg)
{
	int by_sigqueue = *(int *)arg;
	struct stranger s;
	if (stranger_start(&s, -1) < 0)
		return 3;
	pid_t c = spawn_exiting(0);
	while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
		;
	if (stranger_place(&s, c) < 0)
		return 4;
	errno = SENTINEL;
	int r = send_by(by_sigqueue, c, SIGTERM);
	int e = errno;
	char fate[64];
	report_stranger(by_sigqueue ? "stranger.stale.sigqueue.SIGTERM"
	                            : "stranger.stale.kill.SIGTERM",
	                r, e, stranger_fate(&s, fate, sizeof fate));
	return 0;
}

static int stranger_swap(void *arg)
{
	int by_sigqueue = *(int *)arg;
	const char *name = by_sigqueue ? "stranger.swap.sigqueue.SIGUSR1"
	                               : "stranger.swap.kill.SIGUSR1";
	/* The kernel reaps the child as it dies, freeing the number at once. */
	signal(SIGCHLD, SIG_IGN);
	pid_t c = spawn_pausing();
	struct stranger s;
	if (stranger_swap_on_signal(&s, c, SIGUSR1) < 0) {
		out("%s skip no-seccomp-notification\n", name);
		syscall(SYS_kill, c, SIGKILL);
		return 0;
	}
	errno = SENTINEL;
	int r = send_by(by_sigqueue, c, SIGUSR1);
	int e = errno;
	char fate[64];
	report_stranger(name, r, e, stranger_fate(&s, fate, sizeof fate));
	return 0;
}

static void stranger_cases(void)
{
	static int (*const body[])(void *) = { stranger_stale, stranger_swap };
	for (int i = 0; i < 4; i++) {
		int by_sigqueue = i & 1;
		int code = stranger_in_pidns(body[i / 2], &by_sigqueue);
		if (code == STRANGER_NO_PIDNS) {
			out("stranger.setup skip no-namespace\n");
			return;
		}
		if (code != 0)
			out("stranger.setup failed %d\n", code);
	}
}

/* Children and kills across threads: a child forked by one thread is a child
 * of the whole process (wait and kill from another thread work), and a thread
 * id is itself a valid kill() target that libkt never registered. */
static void *fork_in_thread(void *arg)
{
	pid_t *c = arg;
	*c = spawn_pausing();
	return NULL;
}

static void *report_own_tid(void *arg)
{
	_Atomic pid_t *tid = arg;
	*tid = gettid();
	return NULL;
}

static void *report_tid_and_pause(void *arg)
{
	_Atomic pid_t *tid = arg;
	*tid = gettid();
	for (;;)
		pause();
	return NULL;
}

/* Wait (bounded) until the thread TID has left the kernel: pthread_join
 * returns when the thread cleared its tid, slightly before its task is gone. */
static int wait_thread_gone(pid_t tid)
{
	for (int i = 0; i < 1000; i++) {
		if (syscall(SYS_tgkill, getpid(), tid, 0) < 0 && errno == ESRCH)
			return 1;
		usleep(1000);
	}
	return 0;
}

static void thread_cases(void)
{
	pid_t c = 0;
	pthread_t t;
	if (pthread_create(&t, NULL, fork_in_thread, &c) != 0 || pthread_join(t, NULL) != 0) {
		out("# pthread_create failed; thread cases left out\n");
		return;
	}
	CASE("thread.kill.child_of_other_thread.sig0", c, kill(c, 0));
	CASE("thread.kill.child_of_other_thread.SIGTERM", c, kill(c, SIGTERM));
	int st = 0;
	STATUS_CASE("thread.waitpid.child_of_other_thread", c, st, waitpid(c, &st, 0));
	CASE("thread.kill.child_of_other_thread_reaped.sig0", c, kill(c, 0));

	/* A live thread's id is a valid kill() target (sig 0 here: it would
	 * signal the whole process); an exited thread's id is ESRCH. */
	_Atomic pid_t live_tid = 0, dead_tid = 0;
	pthread_t live, dead;
	if (pthread_create(&live, NULL, report_tid_and_pause, &live_tid) == 0) {
		while (live_tid == 0)
			sched_yield();
		CASE("thread.kill.live_thread_tid.sig0", 0, kill(live_tid, 0));
		pthread_cancel(live);
		pthread_join(live, NULL);
	}
	if (pthread_create(&dead, NULL, report_own_tid, &dead_tid) == 0 &&
	    pthread_join(dead, NULL) == 0) {
		if (wait_thread_gone(dead_tid))
			CASE("thread.kill.exited_thread_tid.sig0", 0, kill(dead_tid, 0));
		else
			out("thread.kill.exited_thread_tid.sig0 skip thread-did-not-go\n");
	}
}

/* Informational: whether libkt is loaded and what it counted.  Differs between
 * the runs by design, hence the '#'. */
static void libkt_info(void)
{
	int (*counters)(struct kt_counters *, size_t) =
		(int (*)(struct kt_counters *, size_t))dlsym(RTLD_DEFAULT, "kt_counters");
	if (!counters) {
		out("# libkt not loaded\n");
		return;
	}
	struct kt_counters k;
	memset(&k, 0, sizeof k);
	counters(&k, sizeof k);
	out("# libkt loaded: children_tracked=%llu kills_via_pidfd=%llu stale_refused=%llu "
	    "reaps_seen=%llu fallbacks=%llu identity_mode=%u mode=%u\n",
	    (unsigned long long)k.children_tracked, (unsigned long long)k.kills_via_pidfd,
	    (unsigned long long)k.stale_refused, (unsigned long long)k.reaps_seen,
	    (unsigned long long)k.fallbacks, k.identity_mode, k.mode);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--pause") == 0)
		child_pause();
	if (argc > 1 && strcmp(argv[1], "--orphaned-groups-full") == 0) {
		orphaned_group_cases(1);
		return 0;
	}
	if (argc > 1 && strncmp(argv[1], "--deny-pidfd=", 13) == 0) {
		if (deny_pidfd(parse_err(argv[1] + 13)) < 0) {
			perror("parity: seccomp");
			return 2;
		}
		/* Re-exec so that libkt (if preloaded) starts under the filter. */
		char *again[] = { argv[0], NULL };
		execv("/proc/self/exe", again);
		perror("parity: re-exec");
		return 2;
	}
	if (argc > 1 && strncmp(argv[1], "--deny-pidfd-late=", 18) == 0) {
		if (deny_pidfd(parse_err(argv[1] + 18)) < 0) {
			perror("parity: seccomp");
			return 2;
		}
		/* Prove the filter is in force, for the reader of the output. */
		errno = 0;
		out("# pidfd_open now fails: %s\n",
		    syscall(SYS_pidfd_open, getpid(), 0) < 0 ? errno_token(errno) : "no!");
	}

	/* Leftover children (e.g. from a test harness) would change what wait(-1)
	 * finds; we start with none of our own. */
	report_fork("fork", call_fork);
#if HAVE_GLIBC__FORK
	report_fork("_Fork", call_Fork);
#else
	out("# _Fork: not in this glibc (2.34 and later have it)\n");
#endif
	kill_to_live_child();
	inherited_table_cases();
	kill_to_stopped_child();
	kill_to_zombie_and_reaped();
	group_leader();
	orphaned_group_cases(0);
	orphaned_groups_cache_full(argv[0]);
	spawn_family(argv[0]);
	permission_cases();
	wait_family();
	fd_exhaustion_cases();
	sigchld_ignored_cases();
	pid_namespace_cases();
	stranger_cases();
	thread_cases();
	libkt_info();
	out("# done\n");
	return 0;
}
