/* SPDX-License-Identifier: MIT */
/* The process tree: a forked process's kill of a number its ancestor
 * registered (test/helpers/tree.c runs each scenario in a private PID
 * namespace).  With libkt, a kill of a child the ancestor reaped, before or
 * after the fork, misses the stranger now on its number and fails with ESRCH;
 * without it, the stranger dies (each such case runs both ways).  Live
 * siblings, a sibling's group, the sender's own child and its own parent on
 * a number the ancestor once used get their signal exactly once, both ways.
 * Real programs run the same: the shell timeout idiom under bash and dash, a
 * forked watchdog in Perl and in Python.  The race cases hold the forked
 * process's kill open with strace's syscall delay injection while the
 * ancestor reaps and a stranger takes the number. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kt.h>

#include "testlib.h"

#define STRACE "/usr/bin/strace"
#define NO_PIDNS 77
#define RUN_TIMEOUT 20

struct outcome {
	char out[8192];
	const char *line; /* the "case=" or "script_status=" line */
};

/* Runs ARGV with or without libkt; 0 after a SKIP line when no PID namespace
 * can be made here, else 1 with the result line found. */
static int run(int preload, char *const argv[], const char *key, struct outcome *o,
               const char *what)
{
	memset(o, 0, sizeof *o);
	int st = kt_test_run(preload, argv, kt_test_identity_env(NULL), o->out, sizeof o->out, 1, RUN_TIMEOUT);
	ck_assert_msg(st != -1, "%s: could not start %s", what, argv[0]);
	if (WIFEXITED(st) && WEXITSTATUS(st) == NO_PIDNS) {
		printf("SKIP: %s: no PID namespace here: %s\n", what, o->out);
		return 0;
	}
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	              "%s (%s libkt): helper failed, status 0x%x:\n%s", what,
	              preload ? "with" : "without", st, o->out);
	o->line = strstr(o->out, key);
	ck_assert_msg(o->line, "%s (%s libkt): no %s line in:\n%s", what,
	              preload ? "with" : "without", key, o->out);
	return 1;
}

static int possible(const char *what)
{
	const char *why = NULL;
	if (kt_test_can_pidns(&why))
		return 1;
	printf("SKIP: %s: %s\n", what, why ? why : "no PID namespace");
	return 0;
}

/* "KEY=value" of the result line holds EXPECT. */
static void expect(const struct outcome *o, int preload, const char *kv, const char *what)
{
	const char *end = strchr(o->line, '\n');
	size_t len = end ? (size_t)(end - o->line) : strlen(o->line);
	char line[512];
	snprintf(line, sizeof line, "%.*s ", (int)len, o->line);
	char want[96];
	snprintf(want, sizeof want, "%s ", kv);
	ck_assert_msg(strstr(line, want) != NULL, "%s (%s libkt): expected %s in:\n%s", what,
	              preload ? "with" : "without", kv, o->out);
}

/* 1 if this run's libkt can take identities with pidfds on a pidfs kernel:
 * only then is a child whose reap its ancestor never saw told from a
 * stranger (tree.h); elsewhere such a kill goes by number. */
static int creation_order_known(void)
{
	if (!kt_test_have_pidfd() || kt_test_identity() == KT_IDENTITY_NONE)
		return 0;
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (fd < 0)
		return 0;
	struct statfs sfs;
	int pidfs = fstatfs(fd, &sfs) == 0 && (unsigned)sfs.f_type == 0x50494446u;
	close(fd);
	return pidfs;
}

/* Each "KEY=value" of the space-separated KVS in the result line. */
static void expect_all(const struct outcome *o, int preload, const char *kvs, const char *what)
{
	char kv[256];
	snprintf(kv, sizeof kv, "%s", kvs);
	for (char *t = strtok(kv, " "); t; t = strtok(NULL, " "))
		expect(o, preload, t, what);
}

/* ARGV (the tree helper) with libkt, then without: its KEY line says WITH,
 * then WITHOUT. */
static void both_ways(char *const argv[], const char *key, const char *with,
                      const char *without, const char *what)
{
	struct outcome o;
	if (!run(1, argv, key, &o, what))
		return;
	expect_all(&o, 1, with, what);
	ck_assert(run(0, argv, key, &o, what));
	expect_all(&o, 0, without, what);
}

/* CASE of the tree helper, with and without libkt. */
static void tree_case(const char *name, const char *with, const char *without)
{
	if (!possible(name))
		return;
	char *argv[] = { (char *)kt_test_helper("tree"), (char *)name, NULL };
	both_ways(argv, "case=", with, without, name);
}

#define DELIVERED "ret=0 errno=0 got=1"
#define REFUSED "ret=-1 errno=ESRCH stranger=alive"
#define HIT "ret=0 errno=0 stranger=killed-SIGTERM"

/* The helper's scenarios, and what the sender's call must give with libkt
 * and without it.  WITH NULL: refused where creation order is known, else
 * by number (see below). */
static const struct {
	const char *name, *with, *without;
} scenarios[] = {
	/* A live sibling gets the signal once, whatever the call or sender. */
	{ "live", DELIVERED, DELIVERED },
	{ "live_grandchild", DELIVERED, DELIVERED },
	{ "live_sigqueue", DELIVERED, DELIVERED },
	{ "live_group", DELIVERED, DELIVERED },
	/* A sibling reaped after or before the fork, and a grandchild sender:
	 * the stranger on the number is not hit. */
	{ "reaped_after_fork", REFUSED, HIT },
	{ "reaped_before_fork", REFUSED, HIT },
	{ "reaped_grandchild", REFUSED, HIT },
	/* The ancestor ignores SIGCHLD: the kernel reaps, no hook sees it.  Only
	 * creation order (pidfs) tells the sibling from the stranger; without
	 * it the kill goes by number, as without libkt (never a false refusal). */
	{ "reaped_unseen", NULL, HIT },
	/* The ancestor's next child took the number: a sibling, the likeliest
	 * stranger of all (a shell forks on). */
	{ "reused_by_sibling", "ret=-1 errno=ESRCH got=0", DELIVERED },
	/* The sender's own child, and its parent, on a number the ancestor
	 * once used; a group outliving its reaped leader. */
	{ "own_child_on_number", DELIVERED, DELIVERED },
	{ "parent_on_number", DELIVERED, DELIVERED },
	{ "group_after_leader", DELIVERED, DELIVERED },
};

START_TEST(scenario)
{
	const char *with = scenarios[_i].with;
	if (!with)
		with = creation_order_known() ? REFUSED : HIT;
	tree_case(scenarios[_i].name, with, scenarios[_i].without);
}
END_TEST

/* A number an ancestor registered that the forked process also saw under
 * /proc (KT_OBSERVE=enforce): the ancestor's registration decides, so the
 * kill of the reaped sibling is refused and reported as the ancestor's
 * child's stale kill, not as a number seen under /proc (send_unregistered's
 * order: the tree, then observation, then by number). */
START_TEST(ancestor_registration_comes_before_observation)
{
	const char *what = "reaped_observed: the sender read /proc/S/stat, then S was reaped";
	if (!possible(what))
		return;
	char **id = kt_test_identity_env("KT_LOG=stderr");
	char *env[] = { id[0], id[1], "KT_OBSERVE=enforce", NULL };
	char *argv[] = { (char *)kt_test_helper("tree"), "reaped_observed", NULL };
	struct outcome o;
	memset(&o, 0, sizeof o);
	int st = kt_test_run(1, argv, env, o.out, sizeof o.out, 1, RUN_TIMEOUT);
	if (WIFEXITED(st) && WEXITSTATUS(st) == NO_PIDNS) {
		printf("SKIP: %s: no PID namespace here: %s\n", what, o.out);
		return;
	}
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: status 0x%x:\n%s", what, st, o.out);
	o.line = strstr(o.out, "case=");
	ck_assert_msg(o.line, "%s: no case= line in:\n%s", what, o.out);
	expect_all(&o, 1, REFUSED, what);
	kt_test_expect_in(o.out, "libkt: refused stale kill(", what);
	kt_test_expect_in(o.out, " of ancestor 1 (\"tree\")", what);
	ck_assert_msg(!strstr(o.out, " was seen at "), "%s: judged as an observed number:\n%s", what,
	              o.out);
}
END_TEST

/* The premise of the rule: on pidfs, inode numbers follow creation order,
 * across CPUs (children made by two threads pinned apart, in turn). */
START_TEST(pidfs_inodes_follow_creation_order)
{
	if (!possible("creation order"))
		return;
	char *argv[] = { (char *)kt_test_helper("tree"), "creation_order", NULL };
	struct outcome o;
	if (!run(0, argv, "case=", &o, "creation order"))
		return;
	if (strstr(o.line, "pidfs=0")) {
		printf("SKIP: creation order: no pidfs here (before 6.9, or pidfds refused)\n");
		return;
	}
	expect(&o, 0, "ordered=1", "creation order");
}
END_TEST

/* The report of a forked process's stale kill names whose child the number
 * was, in text and in JSON. */
START_TEST(the_report_names_the_ancestor)
{
	const char *what = "the report of a forked process's stale kill";
	if (!possible(what))
		return;
	char *argv[] = { (char *)kt_test_helper("tree"), "reaped_after_fork", NULL };
	char log_kv[] = "KT_LOG=stderr";
	char text_kv[] = "KT_LOG_FORMAT=text", json_kv[] = "KT_LOG_FORMAT=json";
	char *formats[] = { text_kv, json_kv };
	const char *want[] = { "of ancestor 1 (\"tree\")", "\"ancestor\":{\"pid\":1,\"name\":\"tree\"}" };
	for (int i = 0; i < 2; i++) {
		char **id = kt_test_identity_env(log_kv);
		char *env[] = { id[0], id[1], formats[i], NULL };
		struct outcome o;
		memset(&o, 0, sizeof o);
		int st = kt_test_run(1, argv, env, o.out, sizeof o.out, 1, RUN_TIMEOUT);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: 0x%x\n%s", what, st, o.out);
		ck_assert_msg(strstr(o.out, "errno=ESRCH"), "%s: not refused:\n%s", what, o.out);
		ck_assert_msg(strstr(o.out, want[i]), "%s: expected %s in:\n%s", what, want[i], o.out);
	}
}
END_TEST

/* ---- real programs ------------------------------------------------------------- */

static void script_case(const char *interp, const char *file, const char *with,
                        const char *without)
{
	char what[256];
	snprintf(what, sizeof what, "%s %s", interp, file);
	if (!possible(what) || !kt_test_installed(interp, what))
		return;
	char *argv[] = { (char *)kt_test_helper("tree"), "script", (char *)interp,
		         (char *)kt_test_fixture(file), NULL };
	both_ways(argv, "script_status=", with, without, what);
}

START_TEST(bash_timeout_idiom_misses_the_stranger)
{
	script_case("/bin/bash", "tree_idiom.sh", "stranger=alive", "stranger=killed-SIGTERM");
}
END_TEST

START_TEST(dash_timeout_idiom_misses_the_stranger)
{
	script_case("/bin/dash", "tree_idiom.sh", "stranger=alive", "stranger=killed-SIGTERM");
}
END_TEST

/* bash forgets its jobs in a subshell: `kill %1` there is "no such job"
 * with or without libkt, so the job spec cannot reach a stranger. */
START_TEST(bash_kill_of_a_job_spec_in_a_subshell_is_unchanged)
{
	script_case("/bin/bash", "tree_kill_job.bash", "stranger=alive", "stranger=alive");
}
END_TEST

START_TEST(perl_forked_watchdog_misses_the_stranger)
{
	script_case("/usr/bin/perl", "tree_watchdog.pl", "stranger=alive",
	            "stranger=killed-SIGTERM");
}
END_TEST

START_TEST(python_forked_watchdog_misses_the_stranger)
{
	script_case("/usr/bin/python3", "tree_watchdog.py", "stranger=alive",
	            "stranger=killed-SIGTERM");
}
END_TEST

/* ---- races ------------------------------------------------------------------------ */

/* The forked process's kill, held open inside one of its steps (strace's
 * delay injection) while the ancestor reaps its child and a stranger takes
 * the number. */
static void race_case(const char *syscall_name, const char *inject, int preload,
                      const char *want, const char *what)
{
	if (!possible(what) || !kt_test_installed(STRACE, what))
		return;
	if (preload && (!kt_test_have_pidfd() || kt_test_identity() == KT_IDENTITY_NONE)) {
		printf("SKIP: %s: no pidfds in this run: the kill goes by number\n", what);
		return;
	}
	/* Without pidfs (before 6.9) a forked process has no creation order to
	 * tell its ancestor's child from a stranger by, and its kill of a child
	 * the ancestor has not seen reaped goes by number (docs/platforms.md). */
	if (preload && !creation_order_known()) {
		printf("SKIP: %s: no pidfs here (before 6.9): the kill goes by number\n", what);
		return;
	}
	char trace[64], pre[4200];
	snprintf(trace, sizeof trace, "trace=%s", syscall_name);
	snprintf(pre, sizeof pre, "--preload=%s", kt_test_lib());
	char *argv[16];
	int n = kt_test_strace_argv(argv, trace, inject);
	argv[n++] = (char *)kt_test_helper("tree");
	/* libkt for the scenario only: strace runs without it. */
	if (preload)
		argv[n++] = pre;
	argv[n++] = "race";
	argv[n] = NULL;
	struct outcome o;
	if (!run(0, argv, "case=", &o, what))
		return;
	expect_all(&o, preload, want, what);
}

START_TEST(race_the_number_changes_hands_before_the_pidfd_is_taken)
{
	race_case("pidfd_open", "inject=pidfd_open:delay_enter=900000", 1, REFUSED,
	          "a forked process's kill held inside pidfd_open");
}
END_TEST

START_TEST(race_the_number_changes_hands_before_the_creation_order_check)
{
	race_case("pidfd_open", "inject=pidfd_open:delay_exit=900000", 1, REFUSED,
	          "a forked process's kill held between pidfd_open and the inode check");
}
END_TEST

START_TEST(race_the_number_changes_hands_before_the_send)
{
	race_case("pidfd_send_signal", "inject=pidfd_send_signal:delay_enter=900000", 1,
	          REFUSED, "a forked process's kill held before pidfd_send_signal");
}
END_TEST

/* The control: without libkt, the same window held inside kill() itself
 * lets the signal reach the stranger, so the races above are real. */
START_TEST(race_without_libkt_the_stranger_is_hit)
{
	race_case("kill", "inject=kill:delay_enter=900000", 0, HIT,
	          "without libkt, a forked process's kill held inside kill()");
}
END_TEST

int main(void)
{
	Suite *s = kt_test_preload_suite("tree");
	TCase *tc = kt_test_tcase(s, "scenarios", 60, pidfs_inodes_follow_creation_order,
	                          the_report_names_the_ancestor,
	                          ancestor_registration_comes_before_observation);
	tcase_add_loop_test(tc, scenario, 0, sizeof scenarios / sizeof scenarios[0]);
	kt_test_tcase(s, "programs", 60, bash_timeout_idiom_misses_the_stranger,
	              dash_timeout_idiom_misses_the_stranger,
	              bash_kill_of_a_job_spec_in_a_subshell_is_unchanged,
	              perl_forked_watchdog_misses_the_stranger,
	              python_forked_watchdog_misses_the_stranger);
	kt_test_tcase(s, "races", 60, race_the_number_changes_hands_before_the_pidfd_is_taken,
	              race_the_number_changes_hands_before_the_creation_order_check,
	              race_the_number_changes_hands_before_the_send,
	              race_without_libkt_the_stranger_is_hit);
	return kt_test_main(s);
}
