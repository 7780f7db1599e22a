/* SPDX-License-Identifier: MIT */
/* Real programs nobody here wrote, the final judges, with and without libkt: bash,
 * dash, coreutils `timeout`, CPython's subprocess.  Two kinds of test:
 *
 *   ordinary kills of live children must behave exactly as without libkt
 *   (bash `kill $!`, timeout killing from its SIGALRM handler);
 *
 *   a stale kill — the program kills a PID it has already reaped, after the
 *   reuse helper put a stranger (a child of another process) on it in a
 *   private PID namespace — kills the stranger without libkt and is refused
 *   with libkt.  The program speaks the helper's protocol on fds 3 and 4
 *   (see test/helpers/reuse.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scenario.h"
#include "testlib.h"

/* Seconds one program run may take before it is killed. */
enum { RUN_TIMEOUT_S = 10 };

/* Shell half of the protocol: fork a child, reap it with `wait`, report the
 * PID, wait for the stranger, then the stale kill and its status. */
#define SH_STALE_AFTER_WAIT                                   \
	"true & p=$!\n"                                       \
	"wait $p\n"                                           \
	SH_STALE_KILL("kill $p")

/* The same, but no `wait`: bash reaps the child in its SIGCHLD handler
 * (waitpid(-1, WNOHANG) inside the handler), and the script notices only
 * because `kill -0` starts failing. */
#define SH_STALE_AFTER_HANDLER_REAP                           \
	"true & p=$!\n"                                       \
	"while kill -0 $p 2>/dev/null; do :; done\n"          \
	SH_STALE_KILL("kill $p")

/* CPython: subprocess.Popen (vfork + exec on Linux), Popen.wait, then the
 * os.kill of the old pid that asyncio-style cancel paths do. */
#define PY_STALE_AFTER_WAIT                                              \
	"import os, signal, subprocess\n"                                \
	"p = subprocess.Popen(['true']); p.wait()\n"                     \
	"os.write(3, b'freed %d\\n' % p.pid)\n"                          \
	"os.read(4, 64)\n"                                               \
	"try:\n"                                                         \
	"    os.kill(p.pid, signal.SIGTERM); st = 0\n"                   \
	"except ProcessLookupError:\n"                                   \
	"    st = 1\n"                                                   \
	"os.write(3, b'result pid=%d kill_status=%d\\n' % (p.pid, st))\n"

/* Job control (set -m): the job's subshell leads process group $p and leaves
 * a `sleep 30` behind in it; bash reaps the leader, then kills the group.  The
 * group still exists, so its number cannot have been reused: this kill is not
 * stale and must reach the orphan, with libkt as without.  The orphan is not
 * bash's child, so its death is read from /proc (gone or a zombie). */
#define SH_GROUP_OUTLIVES_LEADER                                          \
	"set -m\n"                                                         \
	"T=$(mktemp)\n"                                                    \
	"(sleep 30 & echo $! >\"$T\"; sleep 0.05) & p=$!\n"                \
	"wait $p\n"                                                        \
	"q=$(cat \"$T\"); rm -f \"$T\"\n"                                  \
	"[ \"$(cut -d' ' -f5 /proc/$q/stat)\" = \"$p\" ] || echo not-in-group\n" \
	"kill -TERM -- -$p; echo kill_status=$?\n"                         \
	"for i in $(seq 200); do\n"                                        \
	"  s=$(cut -d' ' -f3 /proc/$q/stat 2>/dev/null)\n"                 \
	"  { [ -z \"$s\" ] || [ \"$s\" = Z ]; } && break\n"                 \
	"  sleep 0.01\n"                                                   \
	"done\n"                                                           \
	"if [ -z \"$s\" ] || [ \"$s\" = Z ]; then echo orphan=dead;\n"      \
	"else echo orphan=alive; kill $q; fi\n"

/* The stale-kill scenario for one real program (CMD), both halves (see
 * scenario_program_stale_kill).  When REFUSAL_TEXT is set, the with-libkt
 * output must contain it (the program's own error message). */
static void check_stale_kill(const char *what, char *const cmd[], const char *refusal_text)
{
	struct scenario s;
	if (!scenario_program_stale_kill(&s, cmd, what))
		return;
	if (refusal_text)
		ck_assert_msg(strstr(s.out, refusal_text) != NULL,
		              "%s (with libkt): expected \"%s\" from the program, output:\n%s",
		              what, refusal_text, s.out);
	/* Nothing from libkt on the program's stdout or stderr unless asked. */
	ck_assert_msg(strcasestr(s.out, "stale") == NULL && strstr(s.out, "libkt") == NULL,
	              "%s (with libkt, no KT_LOG): libkt wrote output:\n%s", what, s.out);
}

/* The everyday case must be untouched: kill of a live background job. */
START_TEST(test_bash_kill_live_job)
{
	char *argv[] = { "/bin/bash", "-c", "sleep 30 & kill $!; wait $!", NULL };
	char out[1024];
	double secs;
	for (int preload = 0; preload <= 1; preload++) {
		int st = kt_test_run_timed(preload, argv, out, sizeof out, RUN_TIMEOUT_S, &secs);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 143,
		              "bash (%s libkt): status 0x%x, expected exit 143, output:\n%s",
		              preload ? "with" : "without", st, out);
	}
}
END_TEST

/* coreutils timeout kills its child from a SIGALRM handler: the kill hook's
 * async-signal path.  124 alone does not prove the kill landed (timeout says
 * 124 once the alarm fired, even if the child ran on), so the elapsed time must
 * also be far below sleep's 5 s. */
START_TEST(test_timeout_kills_from_handler)
{
	char *argv[] = { "/usr/bin/timeout", "0.3", "sleep", "5", NULL };
	char out[1024];
	double secs;
	for (int preload = 0; preload <= 1; preload++) {
		int st = kt_test_run_timed(preload, argv, out, sizeof out, RUN_TIMEOUT_S, &secs);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 124,
		              "timeout (%s libkt): status 0x%x, expected exit 124, output:\n%s",
		              preload ? "with" : "without", st, out);
		ck_assert_msg(secs < 3.0,
		              "timeout (%s libkt): took %.1f s, so sleep was not killed",
		              preload ? "with" : "without", secs);
	}
}
END_TEST

START_TEST(test_bash_group_outlives_leader)
{
	char *argv[] = { "/bin/bash", "-c", SH_GROUP_OUTLIVES_LEADER, NULL };
	char out[2048];
	double secs;
	for (int preload = 0; preload <= 1; preload++) {
		int st = kt_test_run_timed(preload, argv, out, sizeof out, RUN_TIMEOUT_S, &secs);
		const char *how = preload ? "with" : "without";
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		              "bash (%s libkt): status 0x%x, output:\n%s", how, st, out);
		ck_assert_msg(strstr(out, "not-in-group") == NULL,
		              "bash (%s libkt): the orphan is not in the job's group; "
		              "the scenario is broken:\n%s", how, out);
		ck_assert_msg(strstr(out, "kill_status=0") && strstr(out, "orphan=dead"),
		              "bash (%s libkt): kill -- -$p of a live group whose leader "
		              "was reaped must reach the group; output:\n%s", how, out);
	}
}
END_TEST

/* Stale kills by real programs: the command, and the program's own message
 * when its kill fails (NULL: none asserted). */
static const struct {
	const char *what;
	const char *cmd[6];
	const char *refusal_text;
} stale_programs[] = {
	{ "bash: kill $p after wait $p", { "/bin/bash", "-c", SH_STALE_AFTER_WAIT },
	  "No such process" },
	{ "bash: kill $p after its SIGCHLD handler reaped $p",
	  { "/bin/bash", "-c", SH_STALE_AFTER_HANDLER_REAP }, "No such process" },
	{ "dash: kill $p after wait $p", { "/bin/dash", "-c", SH_STALE_AFTER_WAIT },
	  "No such process" },
	{ "python3: os.kill(p.pid) after Popen.wait()",
	  { "/usr/bin/python3", "-I", "-S", "-c", PY_STALE_AFTER_WAIT }, NULL },
};

START_TEST(test_stale_kill_refused)
{
	check_stale_kill(stale_programs[_i].what, (char *const *)stale_programs[_i].cmd,
	                 stale_programs[_i].refusal_text);
}
END_TEST

/* KT_LOG=stderr: the refused stale kill is reported on the program's stderr,
 * naming the pid.  (The report's format is libkt's; only "stale" and the pid
 * are asserted.)  In audit mode the kill goes through and is still reported. */
static void check_stale_kill_logged(const char *mode)
{
	char what[96];
	snprintf(what, sizeof what, "bash stale kill, KT_LOG=stderr KT_MODE=%s", mode);
	if (!scenario_possible(what))
		return;
	char env_mode[32];
	snprintf(env_mode, sizeof env_mode, "KT_MODE=%s", mode);
	char *env[] = { "KT_LOG=stderr", env_mode, NULL };
	char *argv[] = { (char *)kt_test_helper("reuse"), "--", "/bin/bash", "-c",
	                 SH_STALE_AFTER_WAIT, NULL };
	struct scenario s;
	int enforce = strcmp(mode, "enforce") == 0;

	/* Without libkt the KT_ variables mean nothing: killed, and no report. */
	if (!scenario_run(&s, 0, argv, env, what))
		return;
	scenario_expect(&s, "stranger", "killed", what, 0);
	ck_assert_msg(strcasestr(s.out, "stale") == NULL, "%s (without libkt): output:\n%s",
	              what, s.out);

	if (!scenario_run(&s, 1, argv, env, what))
		return;
	scenario_expect(&s, "kill_status", enforce ? "1" : "0", what, 1);
	scenario_expect(&s, "stranger", enforce ? "alive" : "killed", what, 1);
	scenario_expect_stale_report(&s, what);
}

START_TEST(test_bash_stale_kill_reported)
{
	check_stale_kill_logged("enforce");
}
END_TEST

START_TEST(test_bash_stale_kill_reported_audit)
{
	check_stale_kill_logged("audit");
}
END_TEST

int main(void)
{
	Suite *s = kt_test_preload_suite("programs");
	kt_test_tcase(s, "live kills", 0, test_bash_kill_live_job,
	              test_timeout_kills_from_handler, test_bash_group_outlives_leader);

	tcase_add_loop_test(kt_test_tcase(s, "stale kills", 0), test_stale_kill_refused, 0,
	                    (int)(sizeof stale_programs / sizeof stale_programs[0]));

	kt_test_tcase(s, "reports", 0, test_bash_stale_kill_reported,
	              test_bash_stale_kill_reported_audit);
	return kt_test_main(s);
}
