/* SPDX-License-Identifier: MIT */
/* Real programs on the vfork and spawn paths, with and without libkt: dash
 * (vfork for every external command), CPython's subprocess (vfork + exec), GNU
 * make -j (posix_spawn, then /bin/sh's vfork), and a child that makes its own
 * process group in shell form, whose parent then kills the group.
 *
 * Ordinary use must behave exactly as without libkt; where a stale kill is
 * possible, the reuse helper's PID namespace shows it refused.  (CPython's
 * stale os.kill after Popen.wait is test/preload_programs.c's.) */
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
enum { RUN_TIMEOUT_S = 20 };

/* Both ways: exit status WANT, in under MAX_S seconds. */
static void expect_both(char *const argv[], int want, double max_s, const char *what)
{
	char out[4096];
	double secs;
	for (int preload = 0; preload <= 1; preload++) {
		int st = kt_test_run_timed(preload, argv, out, sizeof out, RUN_TIMEOUT_S, &secs);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == want,
		              "%s (%s libkt): status 0x%x, expected exit %d, output:\n%s", what,
		              preload ? "with" : "without", st, want, out);
		ck_assert_msg(secs < max_s, "%s (%s libkt): took %.1f s", what,
		              preload ? "with" : "without", secs);
	}
}

/* ---- dash ---------------------------------------------------------------- */

START_TEST(test_dash_kill_background_job)
{
	if (!kt_test_installed("/bin/dash", "dash kill $!"))
		return;
	char *argv[] = { "/bin/dash", "-c", "sleep 30 & kill $!; wait $!", NULL };
	expect_both(argv, 143, 5.0, "dash: sleep 30 & kill $!; wait $!");
}
END_TEST

/* Foreground commands: dash vforks each one.  A loop of them must run as
 * usual, exit statuses included. */
START_TEST(test_dash_foreground_commands)
{
	if (!kt_test_installed("/bin/dash", "dash foreground commands"))
		return;
	char *argv[] = { "/bin/dash", "-c",
	                 "i=0; while [ $i -lt 50 ]; do /bin/true || exit 9; i=$((i+1)); done; "
	                 "/bin/false; s=$?; /nonexistent/cmd 2>/dev/null; echo $s $?", NULL };
	char out[4096];
	double secs;
	for (int preload = 0; preload <= 1; preload++) {
		int st = kt_test_run_timed(preload, argv, out, sizeof out, RUN_TIMEOUT_S, &secs);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0 && strcmp(out, "1 127\n") == 0,
		              "dash (%s libkt): status 0x%x, output '%s'",
		              preload ? "with" : "without", st, out);
	}
}
END_TEST

/* The stale kill of a child that dash made with vfork (a foreground command,
 * whose PID it learns from the command itself) and reaped. */
#define DASH_STALE_VFORKED                                                    \
	"t=$(mktemp)\n"                                                       \
	"/bin/sh -c 'echo $$' > \"$t\"\n"                                     \
	"read p < \"$t\"; rm -f \"$t\"\n"                                     \
	SH_STALE_KILL("kill $p")

START_TEST(test_dash_stale_kill_of_vforked_command)
{
	const char *what = "dash: kill of a vforked foreground command's old PID";
	char *cmd[] = { "/bin/dash", "-c", DASH_STALE_VFORKED, NULL };
	struct scenario s;
	scenario_program_stale_kill(&s, cmd, what);
}
END_TEST

/* ---- a child that leads its own group, killed by group ------------------ */

#define SH_GROUP_KILL                                                        \
	"t=$(mktemp -u); mkfifo \"$t\"\n"                                     \
	"setsid sh -c \"echo > $t; exec sleep 30\" &\n"                       \
	"read _ < \"$t\"; rm -f \"$t\"\n"                                     \
	"kill -TERM -$!\n"                                                    \
	"wait $!\n"

START_TEST(test_dash_kill_own_group)
{
	if (!kt_test_installed("/bin/dash", "dash kill -$!") || !kt_test_installed("/usr/bin/setsid", "setsid"))
		return;
	char *argv[] = { "/bin/dash", "-c", SH_GROUP_KILL, NULL };
	expect_both(argv, 143, 5.0, "dash: setsid child, kill -TERM -$!");
}
END_TEST

/* The same, stale: the group's leader has been reaped and its number given
 * to a stranger who leads a group of it. */
#define SH_STALE_GROUP_KILL                                                  \
	"setsid /bin/true & p=$!\n"                                           \
	"wait $p\n"                                                           \
	SH_STALE_KILL("kill -TERM -$p")

START_TEST(test_dash_stale_group_kill)
{
	const char *what = "dash: kill -TERM -$p after wait $p";
	if (!kt_test_installed("/usr/bin/setsid", what))
		return;
	char *cmd[] = { "/bin/dash", "-c", SH_STALE_GROUP_KILL, NULL };
	struct scenario s;
	scenario_program_stale_kill(&s, cmd, what);
}
END_TEST

/* ---- CPython -------------------------------------------------------------- */

/* Each line: NAME=RESULT; the suite compares them with and without libkt,
 * and "tracked" shows libkt registered Popen's (vforked) child. */
#define PY_SUBPROCESS                                                                  \
	"import ctypes, subprocess, time\n"                                            \
	"try:\n"                                                                       \
	"    st = ctypes.CDLL(None).kt_pid_state\n"                                    \
	"except AttributeError:\n"                                                     \
	"    st = None\n"                                                              \
	"p = subprocess.Popen(['sleep', '30'])\n"                                      \
	"print('tracked=%s' % (st(p.pid) if st else 'n/a'))\n"                         \
	"p.kill(); print('kill=%d' % p.wait())\n"                                      \
	"print('after_wait=%s' % (st(p.pid) if st else 'n/a'))\n"                      \
	"p = subprocess.Popen(['sleep', '30']); p.terminate()\n"                       \
	"print('terminate=%d' % p.wait())\n"                                           \
	"t0 = time.monotonic()\n"                                                      \
	"try:\n"                                                                       \
	"    subprocess.run(['sleep', '5'], timeout=0.3); print('timeout=none')\n"     \
	"except subprocess.TimeoutExpired:\n"                                          \
	"    print('timeout=expired fast=%d' % (time.monotonic() - t0 < 3))\n"         \
	"try:\n"                                                                       \
	"    subprocess.Popen(['/nonexistent/program']); print('missing=ran')\n"       \
	"except FileNotFoundError:\n"                                                  \
	"    print('missing=FileNotFoundError')\n"                                     \
	"print('run=%d' % subprocess.run(['sh', '-c', 'exit 3']).returncode)\n"

START_TEST(test_python_subprocess)
{
	const char *py = "/usr/bin/python3";
	if (!kt_test_installed(py, "CPython subprocess"))
		return;
	char *argv[] = { (char *)py, "-I", "-S", "-c", PY_SUBPROCESS, NULL };
	char plain[2048], hooked[2048];
	double secs;
	int st = kt_test_run_timed(0, argv, plain, sizeof plain, RUN_TIMEOUT_S, &secs);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "python (without libkt): 0x%x\n%s", st,
	              plain);
	st = kt_test_run_timed(1, argv, hooked, sizeof hooked, RUN_TIMEOUT_S, &secs);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "python (with libkt): 0x%x\n%s", st,
	              hooked);
	static const char *const want[] = { "kill=-9", "terminate=-15", "timeout=expired fast=1",
	                                    "missing=FileNotFoundError", "run=3", NULL };
	for (int i = 0; want[i]; i++) {
		ck_assert_msg(strstr(plain, want[i]), "python without libkt: no '%s' in:\n%s", want[i],
		              plain);
		ck_assert_msg(strstr(hooked, want[i]), "python with libkt: no '%s' in:\n%s", want[i],
		              hooked);
	}
	ck_assert_msg(strstr(plain, "tracked=n/a"), "%s", plain);
	ck_assert_msg(strstr(hooked, "tracked=1\n") && strstr(hooked, "after_wait=2\n"),
	              "python with libkt: Popen's child not registered live, then reaped:\n%s",
	              hooked);
}
END_TEST

/* ---- GNU make -j ------------------------------------------------------------ */

START_TEST(test_make_parallel)
{
	if (!kt_test_installed("/usr/bin/make", "make -j"))
		return;
	char dir[] = "/tmp/kt-make-XXXXXX";
	ck_assert(mkdtemp(dir) != NULL);
	char mk[64];
	snprintf(mk, sizeof mk, "%s/Makefile", dir);
	FILE *f = fopen(mk, "w");
	ck_assert(f != NULL);
	/* Four recipes of 0.4 s: about 0.4 s in parallel, 1.6 s one by one.  The
	 * last recipe kills a job of its own, as make's users' recipes do. */
	fputs("all: a b c d\n"
	      "a b c:\n\t@sleep 0.4; echo $@\n"
	      "d:\n\t@sleep 0.4; sleep 30 & kill $$!; wait $$! || echo d=$$?\n", f);
	fclose(f);
	char *argv[] = { "/usr/bin/make", "-s", "-j4", "-C", dir, NULL };
	char out[4096];
	double secs;
	for (int preload = 0; preload <= 1; preload++) {
		int st = kt_test_run_timed(preload, argv, out, sizeof out, RUN_TIMEOUT_S, &secs);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		              "make (%s libkt): 0x%x\n%s", preload ? "with" : "without", st, out);
		ck_assert_msg(strstr(out, "a\n") && strstr(out, "b\n") && strstr(out, "c\n") &&
		              strstr(out, "d=143\n"), "make (%s libkt): output:\n%s",
		              preload ? "with" : "without", out);
		ck_assert_msg(secs < 1.4, "make -j4 (%s libkt) took %.2f s: not parallel?",
		              preload ? "with" : "without", secs);
	}
	unlink(mk);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = kt_test_preload_suite("programs_children");
	kt_test_tcase(s, "dash", 0, test_dash_kill_background_job,
	              test_dash_foreground_commands, test_dash_stale_kill_of_vforked_command);

	kt_test_tcase(s, "groups", 0, test_dash_kill_own_group, test_dash_stale_group_kill);

	kt_test_tcase(s, "python", 60, test_python_subprocess);

	kt_test_tcase(s, "make", 0, test_make_parallel);
	return kt_test_main(s);
}
