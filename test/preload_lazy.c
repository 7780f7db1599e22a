/* SPDX-License-Identifier: MIT */
/* The kill-time identity: a child's identity is taken when a signal first
 * needs it (pidfd_open, then waitid(P_PIDFD, WNOHANG|WNOWAIT) proves the
 * pidfd names our unreaped child, then pidfd_send_signal through it).  That
 * is a race window like the fork-time registration was: these tests force it
 * open from outside, with strace's syscall delay injection on each step in
 * turn, while another thread or a SIGCHLD handler reaps the child and the
 * reuse helper puts a stranger on its number.  Every verdict is by outcome:
 * the stranger lives, and the call fails with ESRCH.
 *
 * The same scenario without libkt, the delay on the kill system call
 * itself, kills the stranger: the number really is reused inside the window. */
#include <check.h>
#include <stdio.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kt.h>

#include "scenario.h"
#include "testlib.h"

#define STRACE "/usr/bin/strace"
/* Microseconds each delayed system call waits; the program lets its child go
 * 150 ms into it, and the stranger must be in place before it ends. */
#define DELAY_US "900000"

/* The step of libkt's kill to hold up, as strace injection arguments. */
struct window {
	const char *name;
	const char *trace;  /* -e trace= */
	const char *inject; /* -e inject= */
};

static const struct window before_open_window = {
	"inside pidfd_open (the number is the stranger's when it is opened)",
	"trace=pidfd_open",
	"inject=pidfd_open:delay_enter=" DELAY_US,
};
static const struct window open_window = {
	"between pidfd_open and the waitid proof", "trace=pidfd_open",
	"inject=pidfd_open:delay_exit=" DELAY_US,
};
static const struct window proof_window = {
	"inside the waitid proof", "trace=waitid", "inject=waitid:delay_enter=" DELAY_US,
};
static const struct window send_window = {
	"between the proof and pidfd_send_signal", "trace=pidfd_send_signal",
	"inject=pidfd_send_signal:delay_enter=" DELAY_US,
};
static const struct window raw_kill_window = {
	"inside the kill system call", "trace=kill", "inject=kill:delay_enter=" DELAY_US,
};

/* 1 if the scenario can run here; 0 after a SKIP line saying why. */
static int race_possible(const char *what, int needs_pidfd)
{
	if (!scenario_possible(what))
		return 0;
	if (!kt_test_installed(STRACE, what))
		return 0; /* scripts/deps test installs it */
	if (needs_pidfd && (!kt_test_have_pidfd() || kt_test_identity() == KT_IDENTITY_NONE)) {
		/* Without pidfds a kill is judged by number (waitid, then kill):
		 * there is no identity to take, and no window of this kind. */
		printf("SKIP: %s: no pidfds in this run, so no kill-time identity\n", what);
		return 0;
	}
	return 1;
}

static void race_run(struct scenario *s, int preload, const struct window *w,
                     const char *reaper, const char *send, const char *first, const char *what)
{
	char pre[4200];
	snprintf(pre, sizeof pre, "--preload=%s", kt_test_lib());
	char *argv[20];
	int n = kt_test_strace_argv(argv, w->trace, w->inject);
	argv[n++] = (char *)kt_test_helper("reuse");
	/* The reuse helper hands libkt to the program only: strace, the
	 * supervisor and the stranger run without it. */
	if (preload)
		argv[n++] = pre;
	argv[n++] = "--";
	argv[n++] = (char *)kt_test_helper("kill_race");
	argv[n++] = (char *)reaper;
	argv[n++] = (char *)send;
	argv[n++] = (char *)first;
	argv[n] = NULL;
	ck_assert(scenario_run(s, 0, argv, kt_test_identity_env(NULL), what));
}

/* With libkt, the call made while W was held open reached nobody. */
static void expect_refused(const struct window *w, const char *reaper, const char *send,
                           const char *first)
{
	char what[256];
	snprintf(what, sizeof what, "%s(SIGTERM) of a %s-signalled child, reaped by a %s %s", send,
	         first, reaper, w->name);
	if (!race_possible(what, 1))
		return;
	struct scenario s;
	race_run(&s, 1, w, reaper, send, first, what);
	/* The window really was open: the stranger held the number before the
	 * call returned. */
	scenario_expect(&s, "window", "1", what, 1);
	scenario_expect(&s, "kill_ret", "-1", what, 1);
	scenario_expect(&s, "kill_errno", "ESRCH", what, 1);
	scenario_expect(&s, "stranger", "alive", what, 1);
}

START_TEST(without_libkt_the_delayed_kill_hits_the_stranger)
{
	const char *what = "kill(SIGTERM) without libkt, child reaped and its number reused "
	                   "inside the kill system call's delay";
	if (!race_possible(what, 0))
		return;
	struct scenario s;
	race_run(&s, 0, &raw_kill_window, "thread", "kill", "first", what);
	scenario_expect(&s, "window", "1", what, 0);
	scenario_expect_stranger_killed(&s, what);
}
END_TEST

/* Each step of the kill held up, each way of reaping inside it. */
static const struct race_case {
	const struct window *w;
	const char *reaper, *send, *first;
} race_cases[] = {
	/* The pidfd names the stranger: only the proof stands between it and
	 * the signal. */
	{ &before_open_window, "thread", "kill", "first" },
	/* The pidfd names our child, reaped before the proof asks. */
	{ &open_window, "thread", "kill", "first" },
	{ &proof_window, "thread", "kill", "first" },
	{ &send_window, "thread", "kill", "first" },
	{ &open_window, "handler", "kill", "first" },
	/* The handler runs as the delayed waitid returns: after the proof. */
	{ &proof_window, "handler", "kill", "first" },
	{ &proof_window, "thread", "sigqueue", "first" },
	/* A kill(pid, 0) went first: whatever libkt kept from it, the send of
	 * the second signal is the last step, and it must not be redirected. */
	{ &send_window, "thread", "kill", "second" },
};

START_TEST(kill_time_window_reaches_nobody)
{
	const struct race_case *c = &race_cases[_i];
	expect_refused(c->w, c->reaper, c->send, c->first);
}
END_TEST

/* ---- the pidfds kept for signalled children ------------------------------- */

/* Runs cache_games (NOFILE: its soft RLIMIT_NOFILE, or NULL) with and
 * without libkt (MAX_FDS: KT_MAX_FDS, or NULL); every kill must reach its own
 * child.  With libkt and pidfds, "kept_many" must be exactly KEPT_MANY, the
 * pidfds libkt holds for 100 children signalled twice over (a full cache). */
static void games(const char *nofile, const char *max_fds, const char *kept_many)
{
	char plain[16384], hooked[16384], kv[64];
	char *argv[] = { (char *)kt_test_helper("cache_games"), (char *)nofile, NULL };
	if (max_fds)
		snprintf(kv, sizeof kv, "KT_MAX_FDS=%s", max_fds);
	char **env = kt_test_identity_env(max_fds ? kv : NULL);
	int st = kt_test_run(0, argv, env, plain, sizeof plain, 1, 60);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0 && strstr(plain, "games=ok\n"),
	              "cache_games %s without libkt: status 0x%x\n%s", nofile ? nofile : "", st,
	              plain);
	st = kt_test_run(1, argv, env, hooked, sizeof hooked, 1, 60);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0 && strstr(hooked, "games=ok\n"),
	              "cache_games %s with libkt: status 0x%x\n%s", nofile ? nofile : "", st, hooked);
	if (!kt_test_have_pidfd() || kt_test_identity() == KT_IDENTITY_NONE)
		return; /* nothing to keep */
	/* What a kill took is kept out of the program's way: above its
	 * numbers, never where its own parked pidfd went, at most the cap. */
	char want[4096];
	snprintf(want, sizeof want, "kept_many=%s\n", kept_many);
	ck_assert_msg(strstr(hooked, want), "expected %s in:\n%s", want, hooked);
	const char *k = strstr(hooked, "kept="), *p = strstr(hooked, "parked=");
	ck_assert(k && p);
	if (*kept_many)
		ck_assert_msg(atoi(k + 5) == atoi(kept_many) && atoi(p + 7) != atoi(k + 5), "%s",
		              hooked);
	else
		ck_assert_msg(strncmp(k, "kept=none\n", 10) == 0, "%s", hooked);
}

/* "FROM,FROM+1,...,FROM+N-1" */
static const char *range(char *buf, size_t size, int from, int n)
{
	size_t o = 0;
	buf[0] = '\0';
	for (int i = 0; i < n && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%d", i ? "," : "", from + i);
	return buf;
}

START_TEST(kept_pidfds_survive_close_all_loops_and_parked_pidfds)
{
	/* A soft limit of 1024, as most systems give: 64 fds from 256. */
	char want[1024];
	games("1024", NULL, range(want, sizeof want, 256, 64));
}
END_TEST

START_TEST(kept_pidfds_under_rlimit_nofile_32)
{
	/* A soft limit that leaves no room above the floor (256): nothing is
	 * kept, so no number below it is ever libkt's (a guard needs no more
	 * than one comparison to know), and every kill still reaches its
	 * child, each proving it again. */
	games("32", NULL, "");
}
END_TEST

START_TEST(kept_pidfds_under_rlimit_nofile_300)
{
	/* Room for 44 above the floor, under the cap of a quarter (75). */
	char want[1024];
	games("300", NULL, range(want, sizeof want, 256, 44));
}
END_TEST

START_TEST(kept_pidfds_budget_from_kt_max_fds)
{
	char want[1024];
	games("1024", "5", range(want, sizeof want, 256, 5));
	/* More than the default, up to KT_MAX_FDS's bound: all 100 children's. */
	games("1024", "100", range(want, sizeof want, 256, 100));
	/* None kept: every kill proves its child again, and still reaches it. */
	games("1024", "0", "");
}
END_TEST

int main(void)
{
	Suite *s = kt_test_preload_suite("lazy");
	TCase *tc = kt_test_tcase(s, "kill_time_window", 120,
	                          without_libkt_the_delayed_kill_hits_the_stranger);
	tcase_add_loop_test(tc, kill_time_window_reaches_nobody, 0,
	                    (int)(sizeof race_cases / sizeof race_cases[0]));
	kt_test_tcase(s, "kept_pidfds", 120, kept_pidfds_survive_close_all_loops_and_parked_pidfds,
	              kept_pidfds_under_rlimit_nofile_32, kept_pidfds_under_rlimit_nofile_300,
	              kept_pidfds_budget_from_kt_max_fds);
	return kt_test_main(s);
}
