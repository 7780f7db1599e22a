/* SPDX-License-Identifier: MIT */
/*
 * signaller — kill, killpg, kill(-pgid) and sigqueue to live children,
 * self-checking, run with and without libkt by test/preload_children.c.
 *
 *   signaller parity MODE   MODE: kill, killpg, kill_neg, sigqueue.  A child
 *                           (leading its own group) catches SIGUSR1 with
 *                           SA_SIGINFO and reports what it saw; we print
 *                             info signo=N code=C from_us=0|1 uid=U value=V
 *                             via_pidfd=N     (libkt's counter delta, or "none")
 *                           The suite compares the info line with and without
 *                           libkt.
 *   signaller CASE...       the cases below; "ok CASE ..." / "FAIL CASE: why"
 *
 * Cases (each must hold with and without libkt):
 *   group_live      killpg of a live group reaches the leader and a member
 *   group_orphaned  the leader is reaped, a member lives on: kill(-pgid)
 *                   still reaches it (the group, and its number, outlive the
 *                   leader); once the member is gone too, ESRCH (probed
 *                   with signal 0: the number is free by then)
 *   not_leader      killpg(child) where the child leads no group: ESRCH
 *   killpg_args     killpg(-5) is EINVAL with no syscall; killpg(0, 0) is 0
 *   errno_kept      successful kill, killpg, sigqueue leave errno alone
 *   zombie          kill/killpg/sigqueue of an unreaped zombie leader: 0
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kt.h"
#include "selfcheck.h"

static int (*counters)(struct kt_counters *, size_t);

static long via_pidfd(void)
{
	struct kt_counters c;
	if (!counters || counters(&c, sizeof c) < 0)
		return -1;
	return (long)c.kills_via_pidfd;
}

static void verdict(int ok, const char *name, const char *detail)
{
	say(ok, name, "%s", detail);
}

/* ---- parity ------------------------------------------------------------ */

static int report_fd = -1;

static void catch_usr1(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	char line[256];
	int n = snprintf(line, sizeof line, "signo=%d code=%d pid=%d uid=%d value=%d\n", sig,
	                 si->si_code, (int)si->si_pid, (int)si->si_uid,
	                 si->si_code == SI_QUEUE ? si->si_value.sival_int : -1);
	if (write(report_fd, line, (size_t)n) < 0)
		_exit(3);
	_exit(0);
}

static int parity(const char *mode)
{
	int ready[2], report[2];
	if (pipe(ready) < 0 || pipe(report) < 0)
		return 2;
	pid_t child = fork();
	if (child == 0) {
		close(ready[0]);
		close(report[0]);
		report_fd = report[1];
		setpgid(0, 0);
		struct sigaction sa = { .sa_sigaction = catch_usr1, .sa_flags = SA_SIGINFO };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, NULL);
		alarm(10);
		if (write(ready[1], "r", 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	close(ready[1]);
	close(report[1]);
	char c;
	if (read(ready[0], &c, 1) != 1)
		return 2;
	long before = via_pidfd();
	int r;
	if (strcmp(mode, "kill") == 0) {
		r = kill(child, SIGUSR1);
	} else if (strcmp(mode, "killpg") == 0) {
		r = killpg(child, SIGUSR1);
	} else if (strcmp(mode, "kill_neg") == 0) {
		r = kill(-child, SIGUSR1);
	} else if (strcmp(mode, "sigqueue") == 0) {
		union sigval v = { .sival_int = 4242 };
		r = sigqueue(child, SIGUSR1, v);
	} else {
		return 2;
	}
	long after = via_pidfd();
	char buf[256] = "";
	ssize_t n = read(report[0], buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	int st = reap(child);
	int signo = 0, code = 0, pid = 0, uid = 0, value = 0;
	if (r != 0 || sscanf(buf, "signo=%d code=%d pid=%d uid=%d value=%d", &signo, &code, &pid,
	                     &uid, &value) != 5 || st != 0) {
		printf("FAIL parity %s: ret=%d report='%s' status=0x%x\n", mode, r, buf, st);
		return 1;
	}
	printf("info signo=%d code=%d from_us=%d uid=%d value=%d\n", signo, code,
	       pid == (int)getpid(), uid, value);
	if (before < 0)
		printf("via_pidfd=none\n");
	else
		printf("via_pidfd=%ld\n", after - before);
	return 0;
}

/* ---- cases --------------------------------------------------------------- */

/* A child that leads its own group and has a member (its own child); both
 * pause.  *member gets the member's PID through a pipe. */
static pid_t make_group(pid_t *member)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t leader = fork();
	if (leader == 0) {
		setpgid(0, 0);
		pid_t m = fork();
		if (m == 0) {
			alarm(10);
			for (;;)
				pause();
		}
		if (write(p[1], &m, sizeof m) != sizeof m)
			_exit(3);
		alarm(10);
		for (;;)
			pause();
	}
	/* Also from here, so the group exists before we use it. */
	setpgid(leader, leader);
	if (read(p[0], member, sizeof *member) != sizeof *member)
		return -1;
	close(p[0]);
	close(p[1]);
	return leader;
}

/* The member is our child's child: as a subreaper we get to reap it once its
 * parent is gone, and waitpid tells us how it died. */
static int member_status(pid_t member)
{
	return reap(member);
}

/* 1 if libkt here sends a group kill through the leader's pidfd: it can
 * send through pidfds at all (not with KT_IDENTITY=none, not where seccomp
 * refuses pidfd_open: the test runs), and the kernel takes
 * PIDFD_SIGNAL_PROCESS_GROUP (6.9; before it pidfd_send_signal refuses every
 * flag with EINVAL, and libkt sends group kills by number). */
static int group_by_pidfd(void)
{
	const char *id = getenv("KT_IDENTITY");
	if (id && strcmp(id, "none") == 0)
		return 0;
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (fd < 0)
		return 0;
	int r = (int)syscall(SYS_pidfd_send_signal, fd, 0, NULL, 4u /* PIDFD_SIGNAL_PROCESS_GROUP */);
	int flag_known = r == 0 || errno != EINVAL;
	close(fd);
	return flag_known;
}

static void case_group_live(void)
{
	pid_t member;
	pid_t leader = make_group(&member);
	if (leader <= 0) {
		verdict(0, "group_live", "could not make a group");
		return;
	}
	long before = via_pidfd();
	int r = killpg(leader, SIGTERM);
	long after = via_pidfd();
	int ls = reap(leader), ms = member_status(member);
	char d[160];
	snprintf(d, sizeof d, "ret=%d leader=0x%x member=0x%x via_pidfd+%ld", r, ls, ms,
	         before < 0 ? 0 : after - before);
	int ok = r == 0 && WIFSIGNALED(ls) && WTERMSIG(ls) == SIGTERM && WIFSIGNALED(ms) &&
		WTERMSIG(ms) == SIGTERM && (before < 0 || after == before + group_by_pidfd());
	verdict(ok, "group_live", d);
}

static void case_group_orphaned(void)
{
	pid_t member;
	pid_t leader = make_group(&member);
	if (leader <= 0) {
		verdict(0, "group_orphaned", "could not make a group");
		return;
	}
	kill(leader, SIGKILL);
	int ls = reap(leader); /* the leader is reaped: libkt knows it is gone */
	int r1 = kill(-leader, SIGTERM);
	int e1 = errno;
	int ms = member_status(member);
	/* Nobody left in the group.  Signal 0: outside a PID namespace the freed
	 * number could already lead some other group on this machine, and
	 * without libkt this kill would reach it. */
	errno = 0;
	int r2 = kill(-leader, 0);
	int e2 = errno;
	char d[200];
	snprintf(d, sizeof d, "leader=0x%x kill(-pgid)=%d/%s member=0x%x then %d/%s", ls, r1,
	         r1 ? strerror(e1) : "0", ms, r2, r2 ? strerror(e2) : "0");
	int ok = WIFSIGNALED(ls) && r1 == 0 && WIFSIGNALED(ms) && WTERMSIG(ms) == SIGTERM &&
		r2 == -1 && e2 == ESRCH;
	verdict(ok, "group_orphaned", d);
}

static void case_not_leader(void)
{
	pid_t child = fork();
	if (child == 0) {
		alarm(10);
		for (;;)
			pause();
	}
	errno = 0;
	int r = killpg(child, SIGTERM);
	int e = errno;
	int r2 = kill(-child, SIGTERM);
	int e2 = errno;
	kill(child, SIGKILL);
	reap(child);
	char d[128];
	snprintf(d, sizeof d, "killpg=%d/%s kill(-pid)=%d/%s", r, strerror(e), r2, strerror(e2));
	verdict(r == -1 && e == ESRCH && r2 == -1 && e2 == ESRCH, "not_leader", d);
}

static void case_killpg_args(void)
{
	errno = 0;
	int r = killpg(-5, SIGTERM);
	int e = errno;
	errno = 99;
	int r0 = killpg(0, 0);
	int e0 = errno;
	char d[128];
	snprintf(d, sizeof d, "killpg(-5)=%d/%s killpg(0,0)=%d errno=%d", r, strerror(e), r0, e0);
	verdict(r == -1 && e == EINVAL && r0 == 0 && e0 == 99, "killpg_args", d);
}

static void case_errno_kept(void)
{
	pid_t member;
	pid_t leader = make_group(&member);
	if (leader <= 0) {
		verdict(0, "errno_kept", "could not make a group");
		return;
	}
	union sigval v = { .sival_int = 1 };
	errno = 123;
	int a = kill(leader, 0);
	int ea = errno;
	int b = killpg(leader, 0);
	int eb = errno;
	int c = sigqueue(leader, 0, v);
	int ec = errno;
	killpg(leader, SIGKILL);
	reap(leader);
	member_status(member);
	char d[128];
	snprintf(d, sizeof d, "kill=%d/%d killpg=%d/%d sigqueue=%d/%d", a, ea, b, eb, c, ec);
	verdict(!a && !b && !c && ea == 123 && eb == 123 && ec == 123, "errno_kept", d);
}

static void case_zombie(void)
{
	pid_t member;
	pid_t leader = make_group(&member);
	if (leader <= 0) {
		verdict(0, "zombie", "could not make a group");
		return;
	}
	kill(member, SIGKILL);
	member_status(member);
	kill(leader, SIGKILL);
	/* Wait for the zombie without reaping it. */
	siginfo_t si;
	waitid(P_PID, (id_t)leader, &si, WEXITED | WNOWAIT);
	union sigval v = { .sival_int = 1 };
	int a = kill(leader, SIGTERM);
	int b = sigqueue(leader, SIGTERM, v);
	/* A group whose only member is its zombie leader still exists for the
	 * kernel: kill(-pgid) succeeds, with or without libkt. */
	errno = 0;
	int c = killpg(leader, SIGTERM);
	int ec = errno;
	reap(leader);
	char d[128];
	snprintf(d, sizeof d, "kill=%d sigqueue=%d killpg=%d/%s", a, b, c, strerror(ec));
	verdict(a == 0 && b == 0 && c == 0, "zombie", d);
}

static const struct selfcheck_case cases[] = {
	{ "group_live", case_group_live },
	{ "group_orphaned", case_group_orphaned },
	{ "not_leader", case_not_leader },
	{ "killpg_args", case_killpg_args },
	{ "errno_kept", case_errno_kept },
	{ "zombie", case_zombie },
};

int main(int argc, char **argv)
{
	alarm(30);
	counters = (int (*)(struct kt_counters *, size_t))dlsym(RTLD_DEFAULT, "kt_counters");
	if (argc == 3 && strcmp(argv[1], "parity") == 0)
		return parity(argv[2]);
	/* Orphaned members come to us, so we can reap them and see their fate. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	run_cases(argc, argv, cases, sizeof cases / sizeof cases[0]);
	printf("signaller: %d failed\n", failures);
	return failures ? 1 : 0;
}
