/* SPDX-License-Identifier: MIT */
/* The errno/return parity matrix: outside stale kills, every call returns
 * the value and errno plain libc gives, so a program cannot tell libkt is there.
 *
 * test/helpers/parity runs a fixed list of kill/killpg/sigqueue/wait-family
 * cases and prints "NAME RET ERRNO" per case, with no raw PIDs.  This suite runs
 * it without libkt and with libkt (each mode) and requires identical output,
 * line by line.  Because two equally broken runs would also compare equal, it
 * also pins the lines whose answer is a known kernel fact, in both runs.  The
 * helper's "stranger." lines are the exception by design: a stranger holds
 * the child's number, and they are judged per mode instead. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

#include <kt.h>

#define OUTSZ (64 * 1024)
/* The most a failure message lists: Check refuses (and aborts the run on)
 * a message longer than CK_MAX_MSG_SIZE, 4096 bytes by default. */
#define KT_MSG_MAX 3072
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Runs the parity helper; asserts it finished cleanly and returns its output
 * (static storage: one per slot so two runs can be compared). */
static const char *run_parity(int slot, int preload, char *const extra_env[],
                              const char *arg, const char *what)
{
	static char outs[2][OUTSZ];
	char *out = outs[slot & 1];
	char *argv[] = { (char *)kt_test_helper("parity"), (char *)arg, NULL };
	int st = kt_test_run(preload, argv, extra_env, out, OUTSZ, 0, 60);
	ck_assert_msg(st != -1, "could not start %s", argv[0]);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	              "parity helper %s: %s %d; output so far:\n%s", what,
	              WIFSIGNALED(st) ? "killed by signal" : "exit status",
	              WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), out);
	ck_assert_msg(strstr(out, "\n# done\n") != NULL,
	              "parity helper %s did not reach its end; output:\n%s", what, out);
	return out;
}

/* Next line of *P that is a case line (not '#' information); copies it into
 * LINE without the newline.  Returns 0 at the end. */
static int next_case_line(const char **p, char *line, size_t size)
{
	while (**p) {
		const char *nl = strchr(*p, '\n');
		size_t len = nl ? (size_t)(nl - *p) : strlen(*p);
		const char *start = *p;
		*p = nl ? nl + 1 : start + len;
		if (len == 0 || start[0] == '#')
			continue;
		if (len >= size)
			len = size - 1;
		memcpy(line, start, len);
		line[len] = '\0';
		return 1;
	}
	return 0;
}

/* The helper's "stranger." lines are where libkt must differ: they are
 * judged per mode (check_strangers), not compared. */
static int next_parity_line(const char **p, char *line, size_t size)
{
	while (next_case_line(p, line, size))
		if (strncmp(line, "stranger.", 9) != 0)
			return 1;
	return 0;
}

/* Asserts PLAIN and WITH have the same case lines, naming every difference. */
static void assert_same_lines(const char *plain, const char *with, const char *mode)
{
	char msg[KT_MSG_MAX] = "";
	size_t used = 0;
	int differences = 0, lineno = 0;
	const char *a = plain, *b = with;
	char la[256], lb[256];
	for (;;) {
		int ha = next_parity_line(&a, la, sizeof la);
		int hb = next_parity_line(&b, lb, sizeof lb);
		if (!ha && !hb)
			break;
		lineno++;
		if (ha && hb && strcmp(la, lb) == 0)
			continue;
		differences++;
		if (used < sizeof msg - 1)
			used += (size_t)snprintf(msg + used, sizeof msg - used,
			                         "\n  case line %d:\n    without libkt: %s\n    with libkt (%s): %s",
			                         lineno, ha ? la : "(missing)", mode, hb ? lb : "(missing)");
		if (used >= sizeof msg)
			used = sizeof msg - 1;
	}
	ck_assert_msg(differences == 0, "%d case(s) differ with libkt (%s):%s", differences,
	              mode, msg);
}

/* The modes: enforce is the default; audit and off change nothing either for
 * cases that are not stale.  KT_LOG=stderr must not touch stdout.  And libkt
 * without pidfds (seccomp says ENOSYS or EPERM, from the start or from a
 * program that sandboxes itself later) must degrade to exactly plain answers. */
static const struct {
	const char *name;
	const char *env[3];
	const char *arg;     /* helper option, or NULL */
	/* libkt runs without pidfds, and must count that as a fallback rather
	 * than fail a call. */
	int expect_fallback;
	int passes_stale;    /* audit or off: a stale kill goes through */
	int by_number;       /* live sends go by number (no identity, or audit/off) */
} modes[] = {
	{ "default (enforce)", { NULL }, NULL, 0, 0, 0 },
	{ "KT_MODE=enforce KT_LOG=stderr", { "KT_MODE=enforce", "KT_LOG=stderr", NULL }, NULL, 0,
	  0, 0 },
	{ "KT_MODE=audit", { "KT_MODE=audit", NULL }, NULL, 0, 1, 1 },
	{ "KT_MODE=off", { "KT_MODE=off", NULL }, NULL, 0, 1, 1 },
	{ "KT_IDENTITY=inode", { "KT_IDENTITY=inode", NULL }, NULL, 0, 0, 0 },
	{ "KT_IDENTITY=none", { "KT_IDENTITY=none", NULL }, NULL, 0, 0, 1 },
	{ "KT_IDENTITY=none KT_MODE=audit", { "KT_IDENTITY=none", "KT_MODE=audit", NULL }, NULL, 0,
	  1, 1 },
	{ "seccomp: pidfd calls fail ENOSYS", { NULL }, "--deny-pidfd=ENOSYS", 1, 0, 1 },
	{ "seccomp: pidfd calls fail EPERM", { NULL }, "--deny-pidfd=EPERM", 1, 0, 1 },
	{ "seccomp installed late: ENOSYS", { NULL }, "--deny-pidfd-late=ENOSYS", 1, 0, 1 },
	{ "seccomp installed late: EPERM", { NULL }, "--deny-pidfd-late=EPERM", 1, 0, 1 },
};

static void check_strangers(const char *out, int passes_stale, int by_number,
                            const char *who);

/* 1 if the mode's environment chooses the identity itself. */
static int sets_identity(const char *const env[])
{
	for (int i = 0; env[i]; i++)
		if (strncmp(env[i], "KT_IDENTITY=", 12) == 0)
			return 1;
	return 0;
}

START_TEST(test_identical_to_plain)
{
	const char *plain = run_parity(0, 0, NULL, NULL, "without libkt");
	const char *with = run_parity(1, 1, (char *const *)modes[_i].env, modes[_i].arg,
	                              modes[_i].name);
	const char *info = strstr(with, "# libkt loaded");
	ck_assert_msg(info != NULL, "libkt not loaded in the parity helper (%s):\n%s",
	              modes[_i].name, with);
	assert_same_lines(plain, with, modes[_i].name);
	/* A fallback is a pidfd call tried and refused: under KT_IDENTITY=none
	 * (this run's, when the mode sets none of its own) none is tried. */
	int tries_pidfds = !(kt_test_identity() == KT_IDENTITY_NONE && !sets_identity(modes[_i].env));
	if (modes[_i].expect_fallback && tries_pidfds) {
		const char *f = strstr(info, "fallbacks=");
		ck_assert_msg(f && strtoull(f + 10, NULL, 10) > 0,
		              "libkt ran without pidfds (%s) but counted no fallback: %.*s",
		              modes[_i].name, (int)strcspn(info, "\n"), info);
	}
	int no_identity = !kt_test_have_pidfd() ||
	                  (kt_test_identity() == KT_IDENTITY_NONE && !sets_identity(modes[_i].env));
	check_strangers(with, modes[_i].passes_stale, modes[_i].by_number || no_identity,
	                modes[_i].name);
}
END_TEST

/* Lines whose answer is a kernel/glibc fact on Linux, whoever runs the test.
 * Exact text, so a change of the helper's format shows here first. */
static const char *const expected[] = {
	/* fork leaves errno alone on both sides (_Fork: expected_Fork) */
	"fork.parent_errno child unchanged",
	"fork.child_errno unchanged",
	/* a forked process inherits the table, not the children */
	"inherited.kill.sibling.sig0 0 unchanged",
	"inherited.waitpid.sibling -1 ECHILD",
	"inherited.kill.sibling_after_wait.sig0 0 unchanged",
	"inherited.kill.own_child.sig0 0 unchanged",
	/* live child */
	"kill.live.sig0 0 unchanged",
	"kill.live.SIGCONT 0 unchanged",
	"kill.live.sig-1 -1 EINVAL",
	"kill.live.sig65 -1 EINVAL",
	"kill.live.sig1000 -1 EINVAL",
	"kill.live.sigINT_MIN -1 EINVAL",
	"sigqueue.live.sig0 0 unchanged",
	"sigqueue.live.sig65 -1 EINVAL",
	"kill.-live_not_leader.sig0 -1 ESRCH",
	"killpg.live_not_leader.sig0 -1 ESRCH",
	/* targets that are not registered children */
	"kill.self.sig0 0 unchanged",
	"kill.0.sig0 0 unchanged",
	"kill.0.sig65 -1 EINVAL",
	"kill.-1.sig0 0 unchanged",
	"kill.-own_pgrp.sig0 0 unchanged",
	"killpg.own_pgrp.sig0 0 unchanged",
	"killpg.0.sig0 0 unchanged",
	"killpg.negative.sig0 -1 EINVAL",
	"kill.INT_MIN.sig0 -1 ESRCH",
	"kill.INT_MIN.sig65 -1 ESRCH",
	"kill.INT_MAX.sig0 -1 ESRCH",
	"kill.-INT_MAX.sig0 -1 ESRCH",
	"killpg.INT_MAX.sig0 -1 ESRCH",
	"kill.nonexistent.sig0 -1 ESRCH",
	"kill.nonexistent.sig65 -1 ESRCH",
	/* stopped child: a stop report is not a reap */
	"waitpid.stopped.WUNTRACED child/stopped(SIGSTOP) unchanged",
	"kill.stopped.sig0 0 unchanged",
	"kill.stopped.SIGCONT 0 unchanged",
	"waitpid.continued.WCONTINUED child/continued unchanged",
	"kill.after_continue.sig0 0 unchanged",
	"waitid.stopped.WSTOPPED 0/si=child/stopped unchanged",
	"kill.stopped_waitid.sig0 0 unchanged",
	/* zombie: WNOWAIT does not reap */
	"waitid.zombie.WNOWAIT 0/si=child/exited unchanged",
	"kill.zombie.sig0 0 unchanged",
	"kill.zombie.SIGTERM 0 unchanged",
	"kill.zombie.sig65 -1 EINVAL",
	"waitpid.zombie.reap child/exit(7) unchanged",
	/* reaped, number not reused: ESRCH even for a bad signal (lookup first) */
	"kill.reaped.sig0 -1 ESRCH",
	"kill.reaped.SIGCONT -1 ESRCH",
	"kill.reaped.sig65 -1 ESRCH",
	"kill.reaped.sig-1 -1 ESRCH",
	"sigqueue.reaped.sig0 -1 ESRCH",
	"killpg.reaped.sig0 -1 ESRCH",
	"waitpid.reaped.again -1 ECHILD",
	/* process groups of a registered leader */
	"kill.-live_leader.sig0 0 unchanged",
	"killpg.live_leader.sig0 0 unchanged",
	"kill.reaped_leader.sig0 -1 ESRCH",
	"kill.-reaped_leader_group_alive.sig0 0 unchanged",
	"killpg.reaped_leader_group_alive.sig0 0 unchanged",
	/* posix_spawn */
	"posix_spawn.ok 0 unchanged",
	"kill.spawned.sig0 0 unchanged",
	"waitpid.spawned.reap child/killed(SIGTERM) unchanged",
	"kill.spawned_reaped.sig0 -1 ESRCH",
	"posix_spawn.enoent ENOENT ENOENT",
	"posix_spawnp.enoent ENOENT ENOENT",
	/* wait family */
	"waitpid.live.WNOHANG 0 unchanged",
	"wait3.live.WNOHANG 0 unchanged",
	"wait4.live.WNOHANG 0 unchanged",
	"waitid.live.WNOHANG 0/si=none unchanged",
	"waitid.live.NULL_infop.WNOHANG 0 unchanged",
	"waitpid.live.WNOWAIT_not_allowed -1 EINVAL",
	"waitpid.live.bad_options -1 EINVAL",
	"wait4.live.bad_options -1 EINVAL",
	"wait3.bad_options -1 EINVAL",
	"waitid.live.no_options -1 EINVAL",
	"waitid.bad_idtype -1 EINVAL",
	"waitid.P_PIDFD.bad_fd -1 EBADF",
	"waitpid.INT_MIN -1 ESRCH",
	"waitpid.live.EINTR -1 EINTR",
	"waitid.live.EINTR -1 EINTR",
	"kill.live_after_failed_waits.sig0 0 unchanged",
	"waitid.zombie.NULL_infop 0 unchanged",
	"kill.reaped_by_waitid_NULL.sig0 -1 ESRCH",
	"waitid.P_ALL.NULL_infop 0 unchanged",
	"kill.reaped_by_waitid_P_ALL_NULL.sig0 -1 ESRCH",
	"wait.zombie child/exit(4) unchanged",
	"wait.zombie.NULL_status child unchanged",
	"wait3.zombie child/exit(6) unchanged",
	"wait4.zombie.NULL_rusage child/exit(8) unchanged",
	"waitid.P_ALL.zombie 0/si=child/exited unchanged",
	"kill.reaped_by_waitid.sig0 -1 ESRCH",
	"wait.echild -1 ECHILD",
	"waitpid.-1.echild -1 ECHILD",
	"waitpid.-1.WNOHANG.echild -1 ECHILD",
	"waitpid.not_our_child.echild -1 ECHILD",
	"wait3.echild -1 ECHILD",
	"wait4.echild -1 ECHILD",
	"waitid.P_ALL.echild -1 ECHILD",
	"waitid.P_ALL.NULL_infop.echild -1 ECHILD",
	"waitpid.-1.WNOWAIT.einval_before_echild -1 EINVAL",
	/* every fd slot in use: libkt must fall back, not fail */
	"emfile.confirm_open -1 EMFILE",
	"emfile.kill.live.sig0 0 unchanged",
	"emfile.kill.live.sig65 -1 EINVAL",
	"emfile.kill.zombie.sig0 0 unchanged",
	"emfile.kill.reaped.sig0 -1 ESRCH",
	"emfile.fork.parent_errno child unchanged",
	"emfile.fork.child_errno unchanged",
	"emfile.kill.born_without_fd.sig0 0 unchanged",
	"emfile.waitpid.born_without_fd.reap child/killed(SIGTERM) unchanged",
	"emfile.kill.born_without_fd_reaped.sig0 -1 ESRCH",
	"emfile.waitpid.live.reap child/killed(SIGTERM) unchanged",
	/* SIGCHLD ignored: the kernel reaps, no hook sees it */
	"sigign.waitpid.autoreaped -1 ECHILD",
	"sigign.kill.autoreaped.sig0 -1 ESRCH",
	"sigign.kill.autoreaped.sig65 -1 ESRCH",
	"sigign.kill.live.sig0 0 unchanged",
	"sigign.waitpid.killed -1 ECHILD",
	"sigign.kill.killed_autoreaped.sig0 -1 ESRCH",
	/* threads: a child forked by another thread; thread ids as targets */
	"thread.kill.child_of_other_thread.sig0 0 unchanged",
	"thread.waitpid.child_of_other_thread child/killed(SIGTERM) unchanged",
	"thread.kill.child_of_other_thread_reaped.sig0 -1 ESRCH",
	"thread.kill.live_thread_tid.sig0 0 unchanged",
};

/* _Fork too (glibc 2.34 and later; the helper says when its glibc has none). */
static const char *const expected_Fork[] = {
	"_Fork.parent_errno child unchanged",
	"_Fork.child_errno unchanged",
};
#define NO_FORK_MARK "# _Fork: not in this glibc"

/* A child that is init of a new PID namespace (needs a namespace). */
static const char *const expected_pidns[] = {
	"pidns.kill.init_child.sig0 0 unchanged",
	/* init without a handler: SIGTERM is dropped, the call still succeeds */
	"pidns.kill.init_child.SIGTERM 0 unchanged",
	"pidns.waitpid.init_child.WNOHANG 0 unchanged",
	"pidns.kill.init_child.SIGKILL 0 unchanged",
	"pidns.waitpid.init_child.reap child/killed(SIGKILL) unchanged",
	"pidns.kill.init_child_reaped.sig0 -1 ESRCH",
};

/* Root sees different answers for a few cases; the rest of the matrix is the
 * same for everyone. */
static const char *const expected_root[] = {
	"kill.1.sig0 0 unchanged",
	"eperm.root_child.sig0 -1 EPERM",
	"eperm.root_child.SIGTERM -1 EPERM",
	/* The kernel lets SIGCONT through within a session whatever the uids. */
	"eperm.root_child.SIGCONT_same_session 0 unchanged",
	/* The signal number is checked before the permission. */
	"eperm.root_child.sig65 -1 EINVAL",
	"eperm.root_child.sigqueue.sig0 -1 EPERM",
	"eperm.root_child.reap child/exit(0) unchanged",
	"eperm.root_child_reaped.sig0 -1 ESRCH",
	"kill.child_dropped_uid.sig0 0 unchanged",
	"kill.child_dropped_uid.SIGTERM 0 unchanged",
};
static const char *const expected_user[] = {
	"kill.1.sig0 -1 EPERM",
};

/* The line of OUT whose first word is NAME, into LINE; 0 if there is none. */
static int find_case(const char *out, const char *name, char *line, size_t size)
{
	size_t nlen = strlen(name);
	const char *p = out;
	while (next_case_line(&p, line, size))
		if (strncmp(line, name, nlen) == 0 && line[nlen] == ' ')
			return 1;
	return 0;
}

static void assert_expected(const char *out, const char *const *lines, size_t n,
                            const char *who)
{
	char msg[KT_MSG_MAX] = "";
	size_t used = 0;
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		char name[128], got[256];
		size_t w = strcspn(lines[i], " ");
		snprintf(name, sizeof name, "%.*s", (int)w, lines[i]);
		int found = find_case(out, name, got, sizeof got);
		if (found && strcmp(got, lines[i]) == 0)
			continue;
		bad++;
		if (used < sizeof msg - 1)
			used += (size_t)snprintf(msg + used, sizeof msg - used,
			                         "\n  expected: %s\n  got:      %s", lines[i],
			                         found ? got : "(no such line)");
		if (used >= sizeof msg)
			used = sizeof msg - 1;
	}
	ck_assert_msg(bad == 0, "%d case(s) %s:%s", bad, who, msg);
}

/* A stale kill, and a live send during which the child dies and a stranger
 * takes its number (test/helpers/parity.c).  Plain answers reach the
 * stranger.  libkt in enforce mode refuses the stale kill, and with an
 * identity sends the live one to the process it checked, gone by then: ESRCH,
 * and the stranger lives.  Audit and off change nothing; without an identity
 * the number is all libkt has, and the live send reaches the stranger. */
static void check_strangers(const char *out, int passes_stale, int by_number, const char *who)
{
	const char *why;
	if (!kt_test_can_pidns(&why)) {
		printf("SKIP: stranger cases (%s): %s\n", who, why);
		return;
	}
	const char *stale = passes_stale ? "0 unchanged killed-SIGTERM" : "-1 ESRCH alive";
	const char *swap = by_number ? "0 unchanged killed-SIGUSR1" : "-1 ESRCH alive";
	char want[4][96], line[256];
	snprintf(want[0], sizeof want[0], "stranger.stale.kill.SIGTERM %s", stale);
	snprintf(want[1], sizeof want[1], "stranger.stale.sigqueue.SIGTERM %s", stale);
	snprintf(want[2], sizeof want[2], "stranger.swap.kill.SIGUSR1 %s", swap);
	snprintf(want[3], sizeof want[3], "stranger.swap.sigqueue.SIGUSR1 %s", swap);
	const char *const lines[] = { want[0], want[1], want[2], want[3] };
	size_t n = N_OF(lines);
	if (find_case(out, "stranger.swap.kill.SIGUSR1", line, sizeof line) &&
	    strstr(line, " skip ")) {
		printf("SKIP: stranger swap cases (%s): %s\n", who, line);
		n = 2;
	}
	char verdict[160];
	snprintf(verdict, sizeof verdict, "with a stranger on the number are wrong (%s)", who);
	assert_expected(out, lines, n, verdict);
}

static void check_expected(const char *out, const char *who)
{
	assert_expected(out, expected, N_OF(expected), who);
	if (geteuid() == 0)
		assert_expected(out, expected_root, N_OF(expected_root), who);
	else
		assert_expected(out, expected_user, N_OF(expected_user), who);
	if (!strstr(out, NO_FORK_MARK))
		assert_expected(out, expected_Fork, N_OF(expected_Fork), who);
	const char *why;
	if (kt_test_can_pidns(&why))
		assert_expected(out, expected_pidns, N_OF(expected_pidns), who);
}

/* The _Fork lines, checked by check_expected where glibc has _Fork; this
 * test says so where it has not. */
START_TEST(test_Fork_cases_ran)
{
	const char *out = run_parity(1, 1, NULL, NULL, "with libkt");
	if (strstr(out, NO_FORK_MARK)) {
		printf("SKIP: _Fork cases: this glibc has no _Fork (2.34 and later have it)\n");
		fflush(stdout);
		return;
	}
	assert_expected(out, expected_Fork, N_OF(expected_Fork), "are wrong WITH libkt");
}
END_TEST

/* Without libkt these are plain kernel answers: a failure here means the
 * expectation (or the kernel) is off, not libkt. */
START_TEST(test_expected_without_libkt)
{
	const char *out = run_parity(0, 0, NULL, NULL, "without libkt");
	check_expected(out, "differ from the kernel's answer WITHOUT libkt (fix the expectation)");
	check_strangers(out, 1, 1, "without libkt");
}
END_TEST

START_TEST(test_expected_with_libkt)
{
	const char *out = run_parity(1, 1, NULL, NULL, "with libkt");
	check_expected(out, "are wrong WITH libkt");
	check_strangers(out, 0, kt_test_identity() == KT_IDENTITY_NONE, "with libkt");
}
END_TEST

/* A living group whose leader is gone, killed by killpg and by kill(-pgid)
 * (the helper's orphaned_group_cases): plain libc returns 0 and signals the
 * member exactly once, and so must libkt, however the leader was reaped
 * (waitpid, or the kernel with SIGCHLD ignored), whether its identity was
 * taken while it lived, and with libkt's kept-pidfd cache full.  _i = 0:
 * without libkt (the kernel's answer), 1: with libkt. */
START_TEST(test_group_kill_after_leader_reap)
{
	static const char *const reaps[] = { "waitpid", "sigchld_ignored" };
	static const char *const ids[] = { "identity_untaken", "identity_taken" };
	static const char *const caches[] = { "cache_room", "cache_full" };
	static const char *const calls[] = { "killpg", "kill_neg" };
	char want[16][96];
	const char *lines[16];
	size_t n = 0;
	for (int c = 0; c < 2; c++)
		for (int r = 0; r < 2; r++)
			for (int i = 0; i < 2; i++)
				for (int k = 0; k < 2; k++) {
					snprintf(want[n], sizeof want[n], "orphan.%s.%s.%s.%s 0 unchanged hits=1",
					         reaps[r], ids[i], caches[c], calls[k]);
					lines[n] = want[n];
					n++;
				}
	const char *out = run_parity(_i, _i, NULL, NULL, _i ? "with libkt" : "without libkt");
	assert_expected(out, lines, n,
	                _i ? "are wrong WITH libkt (a living group refused or signalled twice)"
	                   : "differ from the kernel's answer WITHOUT libkt (fix the expectation)");
}
END_TEST

/* The EPERM cases need a second uid to drop to, so they need root. */
START_TEST(test_eperm_through_registered_child)
{
	if (geteuid() != 0) {
		printf("SKIP: EPERM through a registered child needs root (to drop a "
		       "forked process to uid 65534)\n");
		fflush(stdout);
		return;
	}
	const char *out = run_parity(1, 1, NULL, NULL, "with libkt");
	char line[256];
	ck_assert_msg(find_case(out, "eperm.root_child.sig0", line, sizeof line) &&
	              strcmp(line, "eperm.root_child.sig0 -1 EPERM") == 0,
	              "kill(root child, 0) from uid 65534 under libkt: %s", line);
}
END_TEST

/* The comparisons above would pass vacuously if the hooks never ran: require
 * that libkt registered the helper's children, saw its reaps and delivered
 * through pidfds. */
START_TEST(test_hooks_fired)
{
	const char *out = run_parity(1, 1, NULL, NULL, "with libkt");
	const char *info = strstr(out, "# libkt loaded:");
	ck_assert_msg(info != NULL, "no libkt counters in the helper's output:\n%s", out);
	unsigned long long tracked = 0, via_pidfd = 0, reaps = 0;
	const char *t = strstr(info, "children_tracked=");
	const char *k = strstr(info, "kills_via_pidfd=");
	const char *r = strstr(info, "reaps_seen=");
	ck_assert(t && k && r);
	tracked = strtoull(t + 17, NULL, 10);
	via_pidfd = strtoull(k + 16, NULL, 10);
	reaps = strtoull(r + 11, NULL, 10);
	/* The helper forks/spawns at least 12 children of its own and signals
	 * live ones many times; exact numbers are libkt's business. */
	ck_assert_msg(tracked >= 12, "children_tracked=%llu, expected >= 12", tracked);
	/* Without an identity (KT_IDENTITY=none, pidfds refused) live kills
	 * are the plain ones. */
	if (kt_test_identity() != KT_IDENTITY_NONE)
		ck_assert_msg(via_pidfd >= 10, "kills_via_pidfd=%llu, expected >= 10", via_pidfd);
	else
		ck_assert_msg(via_pidfd == 0, "kills_via_pidfd=%llu without pidfds", via_pidfd);
	ck_assert_msg(reaps >= 12, "reaps_seen=%llu, expected >= 12", reaps);
}
END_TEST

int main(void)
{
	Suite *s = kt_test_preload_suite("parity");
	TCase *tc = kt_test_tcase(s, "identical", 0);
	tcase_add_loop_test(tc, test_identical_to_plain, 0, N_OF(modes));

	kt_test_tcase(s, "expected", 0, test_expected_without_libkt, test_expected_with_libkt,
	              test_Fork_cases_ran, test_eperm_through_registered_child, test_hooks_fired);
	tc = kt_test_tcase(s, "orphaned_groups", 0);
	tcase_add_loop_test(tc, test_group_kill_after_leader_reap, 0, 2);
	return kt_test_main(s);
}
