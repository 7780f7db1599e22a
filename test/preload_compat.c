/* SPDX-License-Identifier: MIT */
/*
 * The compatibility suite: real programs nobody here wrote, run with
 * and without libkt.  Scripts and fixtures are in test/compat/, the plumbing
 * (runs, comparisons, counters, the stale-kill scenario, strace) in test/compat.c.
 *
 * Three kinds of check, each asserting something that differs without libkt
 * or would catch libkt changing the program:
 *
 *   parity     the same program run twice, plain and under libkt: the same
 *              output, the same exit status, its children dying the same way
 *              (PIDs in stderr masked);
 *   counters   under libkt, libkt's own counters (include/kt.h) prove the
 *              children were registered and the kills went through pidfds.  A
 *              real program never asks for them, so test/helpers/libktcount.so
 *              is preloaded after libkt.so and appends each process's own counts
 *              to a file when it exits normally (see that file); libkt's own
 *              KT_STATS summary is checked against it once.  For the two
 *              programs that end by their own signal (make after SIGTERM,
 *              timeout after --kill-after) strace shows the calls instead:
 *              pidfd_send_signal with libkt, kill without;
 *   protection the program kills a child it has already reaped, after the reuse
 *              helper put a stranger on the freed PID in a private PID namespace
 *              (test/helpers/reuse.c, CMD mode, fds 3 and 4): without libkt the
 *              stranger dies, with libkt it lives and the program's kill fails.
 *
 * Already covered elsewhere, not repeated here: test/preload_programs.c (bash
 * kill $p after wait, after its SIGCHLD handler reaped it; dash kill after wait;
 * CPython os.kill after Popen.wait; timeout killing from SIGALRM; reports),
 * test/preload_programs_children.c (dash vforked commands and group kills,
 * CPython subprocess parity and registration, make -j parity).
 *
 * Programs that cannot be covered, and the one shown here to pass through
 * unchanged (glibc's system() and popen()), are described in docs/compat.md.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "scenario.h"
#include "testlib.h"

/* ------------------------------------------------------------------- tests */

/* The counter checks read what libktcount.so leaves behind. */
START_TEST(test_counter_library_built)
{
	const char *what = "libktcount.so";
	ck_assert_msg(access(kt_test_helper("libktcount.so"), R_OK) == 0,
	              "%s is not built: the counter checks cannot work", what);
}
END_TEST

/* ---- bash ---------------------------------------------------------------- */

START_TEST(test_bash_job_control)
{
	const char *what = "bash: kill %1, kill $!, stop/continue, trapping job, trap, wait -n";
	if (!kt_test_installed(BASH, what))
		return;
	char *argv[] = { BASH, (char *)fixture("bash_jobs.sh"), NULL };
	static struct run r;
	same_both_ways(what, argv, NULL, NULL, NULL, 0, &r);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "%s: status 0x%x\n%s", what,
	              r.status, r.err);
	static const char want[] = "kill %1: 143\n"
	                           "kill $!: 143\n"
	                           "kill -HUP %1: 129\n"
	                           "stopped: [1]+\n"
	                           "after STOP/CONT, kill %1: 143\n"
	                           "job: got TERM\n"
	                           "trapping job: 7\n"
	                           "shell: got USR1\n"
	                           "wait -n: 3\n"
	                           "wait -n: 4\n"
	                           "kill of a reaped job: 1\n";
	ck_assert_msg(strcmp(r.out, want) == 0, "%s: output:\n%s\nexpected:\n%s", what, r.out, want);
	/* Seven kills reach children: kill %1 (killpg, through the group
	 * flag), kill $!, -HUP, -STOP, -CONT, and two more kill %1.  kill -USR1
	 * $$ names no child and is not counted; the subshells (named bash too)
	 * make none. */
	struct counts c = expect_counts(&r, "bash", what);
	expect_count(c, kills_via_pidfd, ==, 7, what, &r);
	/* The script's own bash exits last.  It made 8 jobs, and more children
	 * for command substitutions and pipelines, and reaped every one. */
	c = counts_of(&r, "bash", 1);
	expect_count(c, children_tracked, >=, 9, what, &r);
	expect_count(c, reaps_seen, ==, c.children_tracked, what, &r);
}
END_TEST

/* dash exits through _exit(), so no counters: parity only. */
START_TEST(test_dash_jobs)
{
	const char *what = "dash: kill %1 of a live job (no such group), kill $!, trap, wait";
	if (!kt_test_installed(DASH, what))
		return;
	char *argv[] = { DASH, (char *)fixture("dash_jobs.sh"), NULL };
	static struct run r;
	same_both_ways(what, argv, NULL, NULL, NULL, 0, &r);
	static const char want[] = "kill %1 of a live job: 1\n"
	                           "the job is alive: 0\n"
	                           "kill $!: 143\n"
	                           "job: got TERM\n"
	                           "trapping job: 7\n"
	                           "shell: got USR1\n"
	                           "wait: 3\n";
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0 && strcmp(r.out, want) == 0,
	              "%s: status 0x%x, output:\n%s\nstderr:\n%s", what, r.status, r.out, r.err);
}
END_TEST

START_TEST(test_bash_stale_kill_job)
{
	char *cmd[] = { BASH, (char *)fixture("stale_kill_job.sh"), NULL };
	stale_kill("bash set -m: kill %1 of an ended, unreported job (killpg)", cmd, "killpg(%s,", 1,
	           "bash", NULL, NULL);
}
END_TEST

START_TEST(test_bash_stale_kill_trap)
{
	char *cmd[] = { BASH, (char *)fixture("stale_kill_trap.sh"), NULL };
	stale_kill("bash: trap '...kill $p' EXIT after wait $p", cmd, "kill(%s,", 1, "bash", NULL, NULL);
}
END_TEST

START_TEST(test_dash_stale_kill_trap)
{
	char *cmd[] = { DASH, (char *)fixture("stale_kill_trap.sh"), NULL };
	/* dash leaves through _exit(), so no counters: the report is the proof. */
	stale_kill("dash: trap '...kill $p' EXIT after wait $p", cmd, "kill(%s,", 1, NULL, NULL, NULL);
}
END_TEST

START_TEST(test_dash_stale_kill_job)
{
	char *cmd[] = { DASH, (char *)fixture("stale_kill_job_dash.sh"), NULL };
	stale_kill("dash: kill %1 of an ended, unreported job (kill(-pid))", cmd, "kill(-%s,", 1,
	           NULL, NULL, NULL);
}
END_TEST

START_TEST(test_bash_stale_kill_wait_n)
{
	/* bash's kill returns 0 when any one PID was signalled, so the status is
	 * 0 both ways; the live second worker must die of SIGTERM both ways. */
	char *cmd[] = { BASH, (char *)fixture("stale_kill_wait_n.sh"), NULL };
	stale_kill("bash: wait -n, then kill $first $second", cmd, "kill(%s,", 0, "bash", "second", "143");
}
END_TEST

/* ---- Perl ------------------------------------------------------------------ */

START_TEST(test_perl_children)
{
	const char *what = "perl: fork, kill, waitpid, open '-|', SIGCHLD reaper, system";
	if (!kt_test_installed(PERL, what))
		return;
	char *argv[] = { PERL, (char *)fixture("perl_children.pl"), NULL };
	static struct run r;
	same_both_ways(what, argv, NULL, NULL, NULL, 0, &r);
	static const char want[] = "fork, kill TERM: signal 15\n"
	                           "fork, exit 5: status 5\n"
	                           "kill 0 of a live child: 1\n"
	                           "waitpid: pid, signal 9\n"
	                           "kill 0 after the reap: 0 (ESRCH)\n"
	                           "kill TERM => -pgid: signal 15\n"
	                           "open '-|' LIST: from a piped child\n"
	                           "close: status 0\n"
	                           "open '-|' (fork): from a forked writer\n"
	                           "open '-|', kill TERM, close: signal 15\n"
	                           "SIGCHLD handler reaped: 1,2,3\n"
	                           "backticks: hello\n"
	                           "system: status 3\n";
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0 && strcmp(r.out, want) == 0,
	              "%s: status 0x%x, output:\n%s\nstderr:\n%s", what, r.status, r.out, r.err);
	/* Twelve children, each created by Perl's own fork (system and backticks
	 * included: Perl does not use glibc's system/popen); five kills of live
	 * children (TERM, kill 0, KILL, the group TERM, the piped child's TERM). */
	struct counts c = expect_counts(&r, "perl", what);
	expect_count(c, children_tracked, ==, 12, what, &r);
	expect_count(c, reaps_seen, ==, 12, what, &r);
	expect_count(c, kills_via_pidfd, ==, 5, what, &r);
}
END_TEST

/* Another project's shim preloaded after libkt (test/helpers/libwrap_next.so)
 * wraps close, open and fork as well: libkt must hand each call on to that
 * next definition, as dlsym(RTLD_NEXT) gives it, not past it to libc (the
 * constructor finds libc's functions in libc's own hash table only when
 * nothing else after libkt defines them). */
START_TEST(test_perl_next_shim_sees_the_calls)
{
	const char *what = "perl's fork, open and close, with another shim after libkt";
	if (!kt_test_installed(PERL, what))
		return;
	char file[] = "/tmp/kt-wrapnext-XXXXXX";
	temp_file(file, NULL);
	const char *all = getenv("KT_TEST_PRELOAD");
	static char preload[2 * PATH_MAX + 16], where[64];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s:%s", all && *all ? all : kt_test_lib(),
	         kt_test_helper("libwrap_next.so"));
	snprintf(where, sizeof where, "WRAPNEXT_FILE=%s", file);
	char *env[] = { preload, where, NULL };
	char *argv[] = { PERL, "-e",
		         "my $p = fork; exit 0 if $p == 0; waitpid($p, 0);"
		         "open(my $f, '<', '/dev/null') or die; close $f;",
		         NULL };
	char out[512];
	int st = kt_test_run(0, argv, env, out, sizeof out, 1, 30);
	char lines[1024];
	slurp(file, lines, sizeof lines);
	unlink(file);
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: status 0x%x:\n%s",
	              what, st, out);
	/* The parent's line (the child's exit writes one too, first). */
	const char *last = strrchr(lines, 'c');
	int closes = -1, opens = -1, forks = -1;
	ck_assert_msg(last && sscanf(last, "close=%d open=%d fork=%d", &closes, &opens, &forks) == 3,
	              "%s: no counts from libwrap_next.so: \"%s\"", what, lines);
	ck_assert_msg(forks == 1 && opens >= 1 && closes >= 1,
	              "%s: the next shim saw close=%d open=%d fork=%d (libkt went past it)", what,
	              closes, opens, forks);
}
END_TEST

/* libkt's own exit summary (KT_STATS=1, written where KT_LOG points) is a
 * second witness: for the perl process it must give the numbers
 * libktcount.so read through kt_counters(). */
START_TEST(test_perl_children_summary_agrees)
{
	if (!kt_test_have_pidfd()) {
		/* About delivery through pidfds, which this run refuses. */
		printf("SKIP: %s: pidfd_open is refused here\n", __func__);
		return;
	}
	const char *what = "perl: KT_STATS summary against libktcount";
	if (!kt_test_installed(PERL, what))
		return;
	char log_path[] = "/tmp/kt-compat-log-XXXXXX";
	temp_file(log_path, NULL);
	char log_kv[64];
	snprintf(log_kv, sizeof log_kv, "KT_LOG=%s", log_path);
	char *env[] = { "KT_STATS=1", log_kv, NULL };
	char *argv[] = { PERL, (char *)fixture("perl_children.pl"), NULL };
	static struct run r;
	run(&r, 1, argv, env, NULL, NULL);
	static char log[16384];
	slurp(log_path, log, sizeof log);
	unlink(log_path);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "%s: status 0x%x\n%s", what,
	              r.status, r.err);
	struct counts c = expect_counts(&r, "perl", what);
	const char *line = strstr(r.counts, " comm=perl ");
	ck_assert(line != NULL);
	while (line > r.counts && line[-1] != '\n')
		line--;
	char want[256];
	snprintf(want, sizeof want,
	         "%lld children tracked, %lld reaps seen, %lld kills delivered through pidfds, "
	         "%lld stale kills refused, 0 stale kills let through, 0 fallbacks [pid %lld perl]",
	         c.children_tracked, c.reaps_seen, c.kills_via_pidfd, c.stale_refused,
	         atoll(line + strlen("pid=")));
	ck_assert_msg(strstr(log, want) != NULL, "%s: no \"%s\" in the KT_LOG file:\n%s\ncounters:\n%s",
	              what, want, log, r.counts);
}
END_TEST

static void perl_stale(const char *how, const char *what)
{
	char *cmd[] = { PERL, (char *)fixture("perl_stale_kill.pl"), (char *)how, NULL };
	stale_kill(what, cmd, "kill(%s,", 1, "perl", NULL, NULL);
}

START_TEST(test_perl_stale_kill_fork)
{
	perl_stale("fork", "perl: kill TERM => $pid after fork and waitpid");
}
END_TEST

START_TEST(test_perl_stale_kill_open)
{
	perl_stale("open", "perl: kill TERM => $pid after open '-|' and close");
}
END_TEST

START_TEST(test_perl_stale_kill_sigchld)
{
	perl_stale("sigchld", "perl: kill TERM => $pid after a SIGCHLD handler reaped it");
}
END_TEST

/* ---- CPython ----------------------------------------------------------------- */

START_TEST(test_python_fork_and_asyncio)
{
	const char *what = "python3: os.fork/os.kill/os.waitpid, asyncio subprocesses";
	if (!kt_test_installed(PYTHON, what))
		return;
	char *argv[] = { PYTHON, "-I", "-S", (char *)fixture("py_children.py"), NULL };
	static struct run r;
	same_both_ways(what, argv, NULL, NULL, NULL, 0, &r);
	static const char want[] = "os.fork, os.kill TERM: -15\n"
	                           "os.kill 0 after the reap: ProcessLookupError\n"
	                           "terminate: -15\n"
	                           "wait_for timed out, kill: -9\n"
	                           "communicate: out 3\n"
	                           "shell that signals itself: -10\n"
	                           "send_signal INT: -2\n"
	                           "send_signal after the exit: ProcessLookupError\n"
	                           "gather: [0, 1, 2, 3]\n";
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0 && strcmp(r.out, want) == 0,
	              "%s: status 0x%x, output:\n%s\nstderr:\n%s", what, r.status, r.out, r.err);
	/* One os.fork and ten asyncio children; four kills of live children
	 * (os.kill, terminate, kill, send_signal).  The asyncio children are
	 * reaped by the child watcher's thread: reaps_seen shows the wait hooks
	 * saw those too. */
	struct counts c = expect_counts(&r, "python3", what);
	expect_count(c, children_tracked, ==, 11, what, &r);
	expect_count(c, reaps_seen, ==, 11, what, &r);
	expect_count(c, kills_via_pidfd, ==, 4, what, &r);
}
END_TEST

START_TEST(test_python_asyncio_stale_kill)
{
	char *cmd[] = { PYTHON, "-I", "-S", (char *)fixture("py_stale_kill.py"), NULL };
	stale_kill("python3: os.kill(proc.pid) after await proc.wait() (asyncio)", cmd, "kill(%s,", 1,
	           "python3", NULL, NULL);
}
END_TEST

/* ---- glibc's own spawns: untracked, and shown to pass through unchanged ------ */

START_TEST(test_glibc_system_popen_untracked)
{
	static const char *const modes[] = { "system", "popen" };
	for (int i = 0; i < 2; i++) {
		char what[96];
		snprintf(what, sizeof what, "python3: kill of a reaped %s() child (glibc-internal)",
		         modes[i]);
		if (!scenario_possible(what) || !kt_test_installed(PYTHON, what))
			return;
		char *argv[] = { (char *)kt_test_helper("reuse"), "--", PYTHON, "-I", "-S",
			         (char *)fixture("py_glibc_spawn.py"), (char *)modes[i], NULL };
		struct scenario s;
		for (int preload = 0; preload <= 1; preload++) {
			char count_path[32], count_kv[64];
			count_file(count_path, count_kv);
			char *env[] = { "KT_LOG=stderr", count_kv,
				        preload ? (char *)preload_value() : NULL, NULL };
			if (!scenario_run(&s, 0, argv, env, what)) {
				unlink(count_path);
				return;
			}
			/* Passes through unchanged: the stranger dies with libkt
			 * too, libkt says nothing, and never knew the child. */
			scenario_expect(&s, "kill_status", "0", what, preload);
			scenario_expect(&s, "stranger", "killed", what, preload);
			scenario_expect(&s, "exit", "3", what, preload);
			scenario_expect(&s, "tracked", preload ? "0" : "none", what, preload);
			ck_assert_msg(strstr(s.out, "stale") == NULL,
			              "%s (%s): a stale report for an untracked child:\n%s", what,
			              with_libkt(preload), s.out);
			static struct run r;
			read_count_file(count_path, &r);
			if (!preload)
				continue;
			struct counts c = expect_counts(&r, "python3", what);
			expect_count(c, children_tracked, ==, 0, what, &r);
			expect_count(c, kills_via_pidfd, ==, 0, what, &r);
			expect_count(c, stale_refused, ==, 0, what, &r);
		}
	}
}
END_TEST

/* ---- coreutils timeout --------------------------------------------------------- */

/* timeout cannot make a stale kill: once waitpid has reaped the child it
 * blocks its own timer and termination signals before looking at anything
 * else (coreutils' "Ensure we don't cleanup() after waitpid() reaps the
 * child").  So the checks here are parity and pidfd delivery; the last case
 * shows that a child that exits in time is never signalled at all. */
START_TEST(test_timeout_signal_and_kill_after)
{
	const char *what = "timeout --signal/--kill-after/--preserve-status";
	if (!kt_test_installed(TIMEOUT, what))
		return;
	static struct {
		const char *name;
		char *argv[12];
		int exit_code;
		long long kills; /* exact count of kills through a pidfd */
		/* What an older timeout exits with for the same outcome, if it
		 * differs (0: none): accepted only as what it also does without
		 * libkt, which same_both_ways has checked by then. */
		int older_exit_code;
	} cases[] = {
		{ "--signal=USR1 --preserve-status (child dies of USR1)",
		  { TIMEOUT, "--signal=USR1", "--preserve-status", "0.2", "sleep", "5", NULL },
		  128 + SIGUSR1, 2 /* USR1, then CONT */, 0 },
		{ "-s HUP (exit 124)",
		  { TIMEOUT, "-s", "HUP", "0.2", "sleep", "5", NULL }, 124, 2 /* HUP, CONT */, 0 },
		{ "--foreground --kill-after=0.3 -s INT, child ignores INT",
		  /* exec: an ignored signal stays ignored, and no orphan is left */
		  { TIMEOUT, "--foreground", "--kill-after=0.3", "-s", "INT", "0.2", "/bin/sh", "-c",
		    "trap '' INT; exec sleep 5", NULL },
		  128 + SIGKILL, 2 /* INT, KILL */,
		  /* Older coreutils report a --foreground child killed after
		   * --kill-after as a plain timeout. */
		  124 },
		{ "child exits 7 in time",
		  { TIMEOUT, "5", "/bin/sh", "-c", "exit 7", NULL }, 7, 0, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char name[160];
		snprintf(name, sizeof name, "timeout %s", cases[i].name);
		static struct run r;
		same_both_ways(name, cases[i].argv, NULL, NULL, NULL, 0, &r);
		int want = cases[i].exit_code;
		if (cases[i].older_exit_code && WIFEXITED(r.status) &&
		    WEXITSTATUS(r.status) == cases[i].older_exit_code) {
			printf("SKIP: %s: exit %d: this timeout exits %d instead, without libkt "
			       "as well (an older coreutils); the kills are still checked\n",
			       name, want, cases[i].older_exit_code);
			fflush(stdout);
			want = cases[i].older_exit_code;
		}
		ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == want,
		              "%s: status 0x%x, expected exit %d\n%s", name, r.status, want, r.err);
		ck_assert_msg(r.secs < 3.0, "%s: took %.1f s: the child was not killed", name, r.secs);
		struct counts c = expect_counts(&r, "timeout", name);
		expect_count(c, children_tracked, ==, 1, name, &r);
		expect_count(c, reaps_seen, ==, 1, name, &r);
		expect_count(c, kills_via_pidfd, ==, cases[i].kills, name, &r);
		expect_count(c, stale_refused, ==, 0, name, &r);
	}
}
END_TEST

/* Without --foreground, timeout signals its child and then its whole group,
 * itself included, so after --kill-after it dies of its own SIGKILL and
 * leaves no counters.  strace shows the child's signals instead. */
START_TEST(test_timeout_kill_after_group)
{
	if (!kt_test_have_pidfd()) {
		/* About delivery through pidfds, which this run refuses. */
		printf("SKIP: %s: pidfd_open is refused here\n", __func__);
		return;
	}
	const char *what = "timeout --kill-after (dies of its own SIGKILL), strace";
	if (!kt_test_installed(TIMEOUT, what) || !kt_test_installed(STRACE, what))
		return;
	char *argv[] = { TIMEOUT, "--kill-after=0.3", "0.2", "/bin/sh", "-c",
		         "trap '' TERM; sleep 5", NULL };
	static char trace[2][8192];
	for (int preload = 0; preload <= 1; preload++) {
		int st;
		if (!traced(preload, argv, trace[preload], sizeof trace[preload], &st)) {
			printf("SKIP: %s: strace cannot trace here\n", what);
			return;
		}
		/* strace ends as its tracee did: killed by SIGKILL. */
		ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		              "%s (%s): status 0x%x\n%s", what, with_libkt(preload), st, trace[preload]);
	}
	ck_assert_msg(strstr(trace[0], "kill(0, SIGKILL)") && strstr(trace[0], ", SIGKILL) = 0") &&
	                      !strstr(trace[0], "pidfd_send_signal"),
	              "%s (without libkt): trace:\n%s", what, trace[0]);
	/* With libkt: the child's TERM, CONT and KILL go through a pidfd; the
	 * group's kill(0, ...) passes through (pid 0 is not a child). */
	ck_assert_msg(strstr(trace[1], "pidfd_send_signal(") &&
	                      strstr(trace[1], ", SIGTERM, NULL, 0) = 0") &&
	                      strstr(trace[1], ", SIGKILL, NULL, 0) = 0") &&
	                      strstr(trace[1], "kill(0, SIGKILL)"),
	              "%s (with libkt): trace:\n%s", what, trace[1]);
	for (const char *p = trace[1]; (p = strstr(p, " kill(")) != NULL; p++)
		ck_assert_msg(strncmp(p, " kill(0,", 8) == 0,
		              "%s (with libkt): a child was signalled by number:\n%s", what, trace[1]);
}
END_TEST

/* ---- GNU make -j, interrupted ------------------------------------------------- */

/* Makes a private copy of the make fixture; returns its directory. */
static const char *make_dir(char *dir)
{
	strcpy(dir, "/tmp/kt-compat-make-XXXXXX");
	ck_assert(mkdtemp(dir) != NULL);
	char cmd[PATH_MAX * 2 + 32];
	snprintf(cmd, sizeof cmd, "cp %s %s/Makefile", fixture("make-interrupt.mk"), dir);
	ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
	return dir;
}

static void remove_dir(const char *dir)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert(system(cmd) == 0);
}

/* Starts make -j3 (under strace when TRACE), waits for the three recipes to
 * be running, then sends SIG to make.  With THEN_GROUP, once make's handler is
 * under way (it has said "Deleting file" for all three targets and now waits
 * for the recipes), SIG goes to the whole process group as well: a terminal's
 * ^C, made deterministic.  Sent to the group at once, make 4.3 can reap a
 * recipe in its main loop just before its handler runs, and the handler then
 * fails with "wait: No child processes.  Stop." (exit 2): 4 times in 40 runs
 * here, without libkt.  Collects the run, and checks that make reaped every
 * recipe before it died. */
static void stop_make(int preload, const char *dir, int sig, int then_group, struct run *r,
                      char *trace_out, size_t trace_size)
{
	char make_pid_file[PATH_MAX];
	snprintf(make_pid_file, sizeof make_pid_file, "%s/make.pid", dir);
	char *argv[] = { MAKE, "-j3", "-C", (char *)dir, "all", NULL };
	char trace_path[] = "/tmp/kt-compat-trace-XXXXXX";
	char pre[PATH_MAX + 16], *sargv[32];
	if (trace_out) {
		temp_file(trace_path, NULL);
		strace_argv(preload, trace_path, argv, pre, sizeof pre, sargv);
	}
	struct started s;
	start(&s, trace_out ? 0 : preload, trace_out ? sargv : argv, NULL, NULL, NULL, 1);
	/* Each recipe writes its PID, make's PID, then its .started file. */
	char f[PATH_MAX];
	double t0 = kt_test_now_s();
	int ready = 0;
	while (!ready && kt_test_now_s() - t0 < 10) {
		ready = 1;
		for (const char *t = "abc"; *t; t++) {
			snprintf(f, sizeof f, "%s/%c.started", dir, *t);
			ready &= access(f, F_OK) == 0;
		}
		struct timespec ms = { 0, 5 * 1000 * 1000 };
		nanosleep(&ms, NULL);
	}
	char buf[32];
	slurp(make_pid_file, buf, sizeof buf);
	pid_t make_pid = (pid_t)atoi(buf);
	ck_assert_msg(ready && make_pid > 0, "make: the recipes did not start (%s)", with_libkt(preload));
	ck_assert(kill(make_pid, sig) == 0);
	if (then_group) {
		char err[8192];
		int deleting = 0;
		t0 = kt_test_now_s();
		while (deleting < 3 && kt_test_now_s() - t0 < 10) {
			struct timespec ms = { 0, 2 * 1000 * 1000 };
			nanosleep(&ms, NULL);
			slurp(s.err_path, err, sizeof err);
			deleting = 0;
			for (const char *p = err; (p = strstr(p, "Deleting file")); p++)
				deleting++;
		}
		ck_assert_msg(deleting == 3, "make (%s): its SIGINT handler did not start:\n%s",
		              with_libkt(preload), err);
		ck_assert(kill(-s.pid, sig) == 0);
	}
	finish(&s, r);
	if (trace_out) {
		slurp(trace_path, trace_out, trace_size);
		squeeze_spaces(trace_out);
		unlink(trace_path);
	}
	/* Every recipe is dead: gone, or a zombie that make left to init (make
	 * 4.3 with a jobserver waits for one child in its handler, not all). */
	for (const char *t = "abc"; *t; t++) {
		snprintf(f, sizeof f, "%s/%c.pid", dir, *t);
		slurp(f, buf, sizeof buf);
		pid_t p = (pid_t)atoi(buf);
		ck_assert_msg(p > 0, "make: recipe %c left no PID", *t);
		char stat_path[64], stat[256], state = 'R';
		snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", (int)p);
		for (t0 = kt_test_now_s(); kt_test_now_s() - t0 < 5;) {
			slurp(stat_path, stat, sizeof stat);
			const char *paren = strrchr(stat, ')');
			state = paren && paren[1] == ' ' ? paren[2] : 0;
			if (state == 0 || state == 'Z')
				break;
			struct timespec ms = { 0, 2 * 1000 * 1000 };
			nanosleep(&ms, NULL);
		}
		ck_assert_msg(state == 0 || state == 'Z',
		              "make (%s): recipe %c (pid %d) outlived make (state %c)", with_libkt(preload), *t,
		              (int)p, state);
	}
}

/* make's stderr with each "[Makefile:N: X.out] WORD" line replaced by
 * "[Makefile:#: ?.out] WORD": which recipes make reaps before it dies (at
 * least one) depends on timing, with libkt as without. */
static int mask_reaped_recipes(char *err, const char *word)
{
	int n = 0;
	char pat[32];
	snprintf(pat, sizeof pat, ".out] %s", word);
	for (char *p = err; (p = strstr(p, pat)); p++, n++)
		if (p > err)
			p[-1] = '?';
	return n;
}

/* Parity of an interrupted (SIGINT to make and its group) or terminated
 * (SIGTERM to make, whose handler then kills each recipe itself) build: make
 * dies of the signal, every half-made target is deleted, every recipe is dead,
 * the ones make reaped died of the signal (make's "Interrupt"/"Terminated"
 * lines), and the messages are the same. */
static void make_stopped_same_both_ways(int sig, int then_group, const char *word,
                                        const char *what)
{
	if (!kt_test_installed(MAKE, what))
		return;
	static struct run r[2];
	static char masked[2][8192];
	for (int preload = 0; preload <= 1; preload++) {
		char dir[64];
		make_dir(dir);
		stop_make(preload, dir, sig, then_group, &r[preload], NULL, 0);
		/* make re-raises the signal on itself after cleaning up. */
		ck_assert_msg(WIFSIGNALED(r[preload].status) && WTERMSIG(r[preload].status) == sig,
		              "%s (%s): status 0x%x\n%s", what, with_libkt(preload), r[preload].status,
		              r[preload].err);
		for (const char *t = "abc"; *t; t++) {
			char line[128], f[PATH_MAX];
			snprintf(line, sizeof line, "Deleting file '%c.out'", *t);
			ck_assert_msg(strstr(r[preload].err, line), "%s (%s): no \"%s\":\n%s", what,
			              with_libkt(preload), line, r[preload].err);
			snprintf(f, sizeof f, "%s/%c.out", dir, *t);
			ck_assert_msg(access(f, F_OK) < 0, "%s (%s): %s not deleted", what,
			              with_libkt(preload), f);
		}
		mask_digits(r[preload].err, masked[preload], sizeof masked[preload]);
		ck_assert_msg(mask_reaped_recipes(masked[preload], word) >= 1,
		              "%s (%s): no recipe reported as \"%s\":\n%s", what, with_libkt(preload), word,
		              r[preload].err);
		sort_lines(masked[preload], sizeof masked[preload]);
		remove_dir(dir);
	}
	ck_assert_msg(strcmp(masked[0], masked[1]) == 0,
	              "%s: stderr differs.\nwithout libkt:\n%s\nwith libkt:\n%s", what, r[0].err,
	              r[1].err);
}

START_TEST(test_make_interrupted)
{
	make_stopped_same_both_ways(SIGINT, 1, "Interrupt", "make -j3, ^C (SIGINT to make and its group)");
}
END_TEST

START_TEST(test_make_terminated)
{
	make_stopped_same_both_ways(SIGTERM, 0, "Terminated", "make -j3, SIGTERM to make alone");
}
END_TEST

/* On SIGTERM make's handler kills each running recipe itself (on SIGINT it
 * leaves that to the terminal, which signals the whole group).  make then dies
 * of the signal and leaves no counters, so strace shows the calls: three
 * kill(pid, SIGTERM) without libkt, three pidfd_send_signal with it. */
START_TEST(test_make_terminated_pidfd)
{
	if (!kt_test_have_pidfd()) {
		/* About delivery through pidfds, which this run refuses. */
		printf("SKIP: %s: pidfd_open is refused here\n", __func__);
		return;
	}
	const char *what = "make -j3, SIGTERM: make's kills of its recipes (strace)";
	if (!kt_test_installed(MAKE, what) || !kt_test_installed(STRACE, what))
		return;
	static char trace[2][16384];
	for (int preload = 0; preload <= 1; preload++) {
		char dir[64];
		make_dir(dir);
		static struct run r;
		stop_make(preload, dir, SIGTERM, 0, &r, trace[preload], sizeof trace[preload]);
		remove_dir(dir);
		if (ptrace_denied(r.err)) {
			printf("SKIP: %s: strace cannot trace here\n", what);
			return;
		}
	}
	int by_number = 0, by_pidfd = 0;
	for (const char *p = trace[0]; (p = strstr(p, "kill(")); p++)
		by_number += strncmp(strchr(p, ','), ", SIGTERM) = 0", 14) == 0;
	for (const char *p = trace[1]; (p = strstr(p, "pidfd_send_signal(")); p++)
		by_pidfd += strncmp(strchr(p, ','), ", SIGTERM, NULL, 0) = 0", 23) == 0;
	/* make's final kill of itself may show as unfinished: hence >= 3. */
	ck_assert_msg(by_number >= 3 && !strstr(trace[0], "pidfd_send_signal"),
	              "%s (without libkt): trace:\n%s", what, trace[0]);
	ck_assert_msg(by_pidfd == 3, "%s (with libkt): %d SIGTERMs through pidfds; trace:\n%s", what,
	              by_pidfd, trace[1]);
}
END_TEST

START_TEST(test_make_counts_recipes)
{
	const char *what = "make -j3: a build that completes";
	if (!kt_test_installed(MAKE, what))
		return;
	char dir[64];
	make_dir(dir);
	char *argv[] = { MAKE, "-s", "-j3", "-C", dir, "quick", NULL };
	static struct run r;
	same_both_ways(what, argv, NULL, NULL, NULL, 1, &r);
	remove_dir(dir);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0 &&
	                      strcmp(r.out, "one\nthree\ntwo\n") == 0,
	              "%s: status 0x%x, output:\n%s\n%s", what, r.status, r.out, r.err);
	struct counts c = expect_counts(&r, "make", what);
	expect_count(c, children_tracked, ==, 3, what, &r);
	expect_count(c, reaps_seen, ==, 3, what, &r);
}
END_TEST

/* ---- xargs -P and find -exec ---------------------------------------------------- */

/* Neither signals its children, so there is no kill to protect: the checks are
 * parity (exit statuses 0, 123, 124, 125 and messages) and registration. */
START_TEST(test_xargs_parallel)
{
	const char *what = "xargs -P3";
	if (!kt_test_installed(XARGS, what))
		return;
	char in[] = "/tmp/kt-compat-in-XXXXXX";
	temp_file(in, "1\n2\n3\n4\n5\n6\n");
	static const struct {
		const char *name, *script;
		int exit_code;
	} cases[] = {
		{ "all succeed", "sleep 0.1; echo $1", 0 },
		{ "one fails (123)", "sleep 0.1; echo $1; [ $1 != 4 ]", 123 },
		/* How many others finish first is up to the scheduler: no output. */
		{ "one exits 255 (124)", "[ $1 != 2 ] || exit 255; sleep 0.2", 124 },
		{ "one killed by a signal (125)", "[ $1 != 2 ] || kill $$; sleep 0.2", 125 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char name[96];
		snprintf(name, sizeof name, "xargs -P3 -n1, %s", cases[i].name);
		char *argv[] = { XARGS, "-P3", "-n1", "/bin/sh", "-c", (char *)cases[i].script, "sh",
			         NULL };
		static struct run r;
		same_both_ways(name, argv, NULL, NULL, in, 1, &r);
		ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == cases[i].exit_code,
		              "%s: status 0x%x\n%s", name, r.status, r.err);
		if (i == 0) {
			ck_assert_msg(strcmp(r.out, "1\n2\n3\n4\n5\n6\n") == 0, "%s: %s", name, r.out);
			/* xargs leaves no counters when it stops early (it ends with
			 * _exit there), so only the complete run is counted. */
			struct counts c = expect_counts(&r, "xargs", name);
			expect_count(c, children_tracked, ==, 6, name, &r);
			expect_count(c, reaps_seen, ==, 6, name, &r);
		}
	}
	unlink(in);
}
END_TEST

START_TEST(test_find_exec)
{
	const char *what = "find -exec";
	if (!kt_test_installed(FIND, what))
		return;
	char dir[] = "/tmp/kt-compat-find-XXXXXX";
	ck_assert(mkdtemp(dir) != NULL);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "cd %s && mkdir sub && touch a.txt b.txt sub/c.txt d.log", dir);
	ck_assert(system(cmd) == 0);
	static const struct {
		const char *name;
		char *argv[16];
		int exit_code, children;
		const char *out;
	} cases[] = {
		{ "-exec sh {} ;", { FIND, ".", "-name", "*.txt", "-exec", "/bin/sh", "-c",
		                     "echo \"$1\"", "sh", "{}", ";", NULL },
		  0, 3, "./a.txt\n./b.txt\n./sub/c.txt\n" },
		{ "-exec sh {} + (one child, three names)",
		  { FIND, ".", "-name", "*.txt", "-exec", "/bin/sh", "-c", "echo $#", "sh", "{}", "+",
		    NULL },
		  0, 1, "3\n" },
		{ "-execdir, -exec as a test", { FIND, ".", "-type", "f", "-execdir", "/bin/sh", "-c",
		                                 "case $1 in *.log) exit 1;; esac", "sh", "{}", ";",
		                                 "-print", NULL },
		  0, 4, "./a.txt\n./b.txt\n./sub/c.txt\n" },
		{ "-exec false {} + (exit 1)", { FIND, ".", "-name", "*.txt", "-exec", "/bin/false",
		                                 "{}", "+", NULL },
		  1, 1, "" },
		{ "-exec sh {} ; child killed by a signal", { FIND, ".", "-name", "a.txt", "-exec",
		                                            "/bin/sh", "-c", "kill $$", "sh", "{}",
		                                            ";", NULL },
		  0, 1, "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char name[96];
		snprintf(name, sizeof name, "find %s", cases[i].name);
		static struct run r;
		same_both_ways(name, cases[i].argv, NULL, dir, NULL, 1, &r);
		ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == cases[i].exit_code,
		              "%s: status 0x%x\n%s", name, r.status, r.err);
		ck_assert_msg(strcmp(r.out, cases[i].out) == 0, "%s: output:\n%s\nexpected:\n%s", name,
		              r.out, cases[i].out);
		struct counts c = expect_counts(&r, "find", name);
		expect_count(c, children_tracked, ==, cases[i].children, name, &r);
		expect_count(c, reaps_seen, ==, cases[i].children, name, &r);
	}
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert(system(cmd) == 0);
}
END_TEST

int main(void)
{
	Suite *s = kt_test_preload_suite("compat");
	kt_test_tcase(s, "counters", 0, test_counter_library_built);

	kt_test_tcase(s, "shells", 60, test_bash_job_control, test_dash_jobs,
	              test_bash_stale_kill_job, test_bash_stale_kill_trap,
	              test_dash_stale_kill_trap, test_dash_stale_kill_job,
	              test_bash_stale_kill_wait_n);

	kt_test_tcase(s, "perl", 60, test_perl_children, test_perl_children_summary_agrees,
	              test_perl_next_shim_sees_the_calls,
	              test_perl_stale_kill_fork, test_perl_stale_kill_open,
	              test_perl_stale_kill_sigchld);

	kt_test_tcase(s, "python", 60, test_python_fork_and_asyncio,
	              test_python_asyncio_stale_kill, test_glibc_system_popen_untracked);

	kt_test_tcase(s, "timeout", 60, test_timeout_signal_and_kill_after,
	              test_timeout_kill_after_group);

	kt_test_tcase(s, "make", 60, test_make_interrupted, test_make_terminated,
	              test_make_terminated_pidfd, test_make_counts_recipes);

	kt_test_tcase(s, "findutils", 60, test_xargs_parallel, test_find_exec);
	return kt_test_main(s);
}
