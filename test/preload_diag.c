/* SPDX-License-Identifier: MIT */
/* Diagnostics that change nothing, and say everything: the three stacks of a
 * stale-kill report (spawned from, reaped from, killed from), the child
 * named by what it became, kt-symbolize, kt-run --exitcode (KT_EXITCODE),
 * a log that holds no descriptor in the program and never writes into an
 * fd 2 the program gave to a file of its own, and logs that cannot be
 * opened or values that are wrong said once.
 *
 * The program is mostly test/helpers/stale_kill (start_job forks, reap_job
 * waits, cancel_job sends the stale kill), built once with -rdynamic and
 * once as stale_kill_nodyn without it. */
#include <check.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jsonline.h"
#include "testlib.h"

static char src_dir[4096], ktrun_kv[4200], sym_kv[4200], helpers_kv[4200], preload_kv[8400];

static void setup(void)
{
	char lib[4096];
	snprintf(lib, sizeof lib, "%s", kt_test_lib());
	char *build = dirname(lib); /* $KT_BUILD */
	snprintf(helpers_kv, sizeof helpers_kv, "H=%s/test/helpers", build);
	/* The source tree: the first directory above $KT_BUILD (build, or
	 * build/asan for the sanitizer runs) that holds scripts/kt-run. */
	snprintf(src_dir, sizeof src_dir, "%s", build);
	for (int up = 0; up < 4; up++) {
		char probe[4200];
		snprintf(probe, sizeof probe, "%s/scripts/kt-run", src_dir);
		if (access(probe, X_OK) == 0)
			break;
		char tmp[4096];
		snprintf(tmp, sizeof tmp, "%s", src_dir);
		snprintf(src_dir, sizeof src_dir, "%s", dirname(tmp));
	}
	snprintf(ktrun_kv, sizeof ktrun_kv, "KTRUN=%s/scripts/kt-run", src_dir);
	snprintf(sym_kv, sizeof sym_kv, "KTSYM=%s/scripts/kt-symbolize", src_dir);
	/* What the suite preloads (a sanitizer run puts its runtime first), for
	 * the scripts that set LD_PRELOAD themselves. */
	const char *pre = getenv("KT_TEST_PRELOAD");
	snprintf(preload_kv, sizeof preload_kv, "LIB=%s", pre && *pre ? pre : kt_test_lib());
}

/* bash -c SCRIPT with $KTRUN, $KTSYM and $H set, libkt not preloaded (what
 * the script runs under kt-run is), stdout and stderr merged. */
static void sh(struct kt_test_output *r, const char *script, const char *extra)
{
	char *argv[] = { "/bin/bash", "-c", (char *)script, NULL };
	char *env[] = { ktrun_kv, sym_kv, helpers_kv, (char *)extra, NULL };
	r->status = kt_test_run(0, argv, env, r->out, sizeof r->out, 1, 60);
	ck_assert_msg(r->status != -1, "could not run bash");
}

/* The same script with libkt preloaded into bash and everything it runs. */
static void sh_preloaded(struct kt_test_output *r, const char *script, char *const env[])
{
	char *argv[] = { "/bin/bash", "-c", (char *)script, NULL };
	char *full[8] = { ktrun_kv, sym_kv, helpers_kv };
	size_t n = 3;
	for (size_t i = 0; env && env[i] && n < 7; i++)
		full[n++] = env[i];
	full[n] = NULL;
	r->status = kt_test_run(1, argv, full, r->out, sizeof r->out, 1, 120);
	ck_assert_msg(r->status != -1, "could not run bash");
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The part of LINE from KEY's '[' to its matching ']', copied to BUF. */
static const char *json_array(const char *line, const char *key, char *buf, size_t size)
{
	char want[64];
	snprintf(want, sizeof want, "\"%s\":[", key);
	const char *p = strstr(line, want);
	if (!p)
		return NULL;
	p += strlen(want) - 1;
	int depth = 0, in_str = 0;
	const char *q = p;
	for (; *q; q++) {
		if (in_str) {
			if (*q == '\\' && q[1])
				q++;
			else if (*q == '"')
				in_str = 0;
		} else if (*q == '"') {
			in_str = 1;
		} else if (*q == '[') {
			depth++;
		} else if (*q == ']' && --depth == 0) {
			break;
		}
	}
	size_t len = (size_t)(q - p + 1);
	if (!*q || len >= size)
		return NULL;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return buf;
}

/* ---- three stacks ---------------------------------------------------------- */

/* Stack I of a stale_kill JSON LINE (0 caller, 1 spawned_from, 2
 * reaped_from) into ARR; its key. */
static const char *stack_array(const char *line, size_t i, char *arr, size_t size)
{
	static const char *const keys[] = { "caller", "spawned_from", "reaped_from" };
	ck_assert_msg(json_array(line, keys[i], arr, size), "no %s array in: %s", keys[i], line);
	return keys[i];
}

/* JSON: caller, child.spawned_from and child.reaped_from, each an array of
 * frames in the same shape, naming the function that did each thing. */
START_TEST(test_three_stacks_json)
{
	struct kt_test_output r;
	sh_preloaded(&r, "\"$H/stale_kill\"",
	             (char *[]){ "KT_LOG=stderr", "KT_LOG_FORMAT=json", NULL });
	kt_test_expect_exit(&r, 0, "stale_kill");
	char line[16384], arr[8192];
	ck_assert_msg(json_find_event(r.out, "stale_kill", line, sizeof line),
	              "no stale_kill event in:\n%s", r.out);
	ck_assert_msg(json_line_valid(line), "invalid JSON: %s", line);
	static const char *const fns[] = { "\"symbol\":\"cancel_job+0x",
		                           "\"symbol\":\"start_job+0x",
		                           "\"symbol\":\"reap_job+0x" };
	for (size_t i = 0; i < 3; i++) {
		const char *key = stack_array(line, i, arr, sizeof arr);
		kt_test_expect_in(arr, "[{\"pc\":\"0x", key);
		kt_test_expect_in(arr, "/test/helpers/stale_kill\",\"offset\":\"0x", key);
		kt_test_expect_in(arr, fns[i], key);
		kt_test_expect_in(arr, "\"symbol\":\"main+0x", key);
	}
	/* The two child stacks are the child's, inside "child". */
	const char *child = strstr(line, "\"child\":{");
	ck_assert_msg(child && strstr(child, "\"spawned_from\":[") &&
	                      strstr(child, "\"reaped_from\":[") < strstr(line, "\"holder\":"),
	              "spawned_from/reaped_from not inside child: %s", line);
}
END_TEST

START_TEST(test_three_stacks_text)
{
	struct kt_test_output r;
	sh_preloaded(&r, "\"$H/stale_kill\"", (char *[]){ "KT_LOG=stderr", NULL });
	kt_test_expect_exit(&r, 0, "stale_kill");
	const char *killed = strstr(r.out, "; called from 0x");
	const char *spawned = strstr(r.out, "; child spawned from 0x");
	const char *reaped = strstr(r.out, "; reaped from 0x");
	ck_assert_msg(killed && spawned && reaped && killed < spawned && spawned < reaped,
	              "expected called from / child spawned from / reaped from, in that order:\n%s",
	              r.out);
	ck_assert_msg(strstr(killed, "(cancel_job+0x") < spawned, "cancel_job: %s", r.out);
	ck_assert_msg(strstr(spawned, "(start_job+0x") < reaped, "start_job: %s", r.out);
	ck_assert_msg(strstr(reaped, "(reap_job+0x") != NULL, "reap_job: %s", r.out);
	/* Still one line per event: every line is libkt's but the program's
	 * own result (where pidfds are refused, a "degraded" event is another). */
	int lines = count(r.out, "\n"), ours = strncmp(r.out, "libkt: ", 7) == 0;
	ours += count(r.out, "\nlibkt: ");
	ck_assert_msg(ours == lines - 1 && count(r.out, "libkt: refused") == 1, "%s", r.out);
}
END_TEST

/* Code loaded with dlopen after start-up (stale_kill --late, the way
 * CPython's subprocess spawns from its _posixsubprocess extension module):
 * each stack's first frame names that library, the function and the offsets
 * exactly, from where the program itself sees them loaded (dladdr). */
static unsigned long hex_after(const char *s, const char *key)
{
	const char *p = strstr(s, key);
	ck_assert_msg(p != NULL, "no %s in %s", key, s);
	return strtoul(p + strlen(key), NULL, 16);
}

START_TEST(test_late_module_named)
{
	struct kt_test_output r;
	sh_preloaded(&r, "\"$H/stale_kill\" --late=\"$H/liblate_jobs.so\"",
	             (char *[]){ "KT_LOG=stderr", "KT_LOG_FORMAT=json", NULL });
	kt_test_expect_exit(&r, 0, "stale_kill --late");
	kt_test_expect_in(r.out, "errno=ESRCH", "stale_kill --late");
	unsigned long base = hex_after(r.out, "late_base=0x");
	char line[16384], arr[8192];
	ck_assert_msg(json_find_event(r.out, "stale_kill", line, sizeof line),
	              "no stale_kill event in:\n%s", r.out);
	static const char *const fns[] = { "late_cancel_job", "late_start_job", "late_reap_job" };
	for (size_t i = 0; i < 3; i++) {
		const char *key = stack_array(line, i, arr, sizeof arr);
		if (i > 0 && getenv("KT_SANITIZER")) {
			/* The runtime's posix_spawn and waitid interceptors stand
			 * between the library and libkt: the exact frame is theirs,
			 * and the walk ends at the return into code loaded later. */
			kt_test_skip(key, "a sanitizer runtime intercepts the call first");
			continue;
		}
		char printed[64], want[256];
		snprintf(printed, sizeof printed, " %s=0x", fns[i]);
		unsigned long fn = hex_after(r.out, printed);
		unsigned long pc = hex_after(arr, "[{\"pc\":\"0x");
		unsigned long off = hex_after(arr, "\"offset\":\"0x");
		ck_assert_msg(pc > fn && pc - fn < 0x100, "%s: pc 0x%lx, %s at 0x%lx", key, pc, fns[i],
		              fn);
		ck_assert_msg(off == pc - base, "%s: offset 0x%lx, pc 0x%lx, base 0x%lx", key, off, pc,
		              base);
		kt_test_expect_in(arr, "/test/helpers/liblate_jobs.so\",\"offset\":", key);
		snprintf(want, sizeof want, "\"symbol\":\"%s+0x%lx\"}", fns[i], pc - fn);
		kt_test_expect_in(arr, want, key);
	}
	/* The text report says the same. */
	sh_preloaded(&r, "\"$H/stale_kill\" --late=\"$H/liblate_jobs.so\"",
	             (char *[]){ "KT_LOG=stderr", NULL });
	kt_test_expect_in(r.out, "; called from 0x", "text");
	kt_test_expect_in(r.out, " (late_cancel_job+0x", "text");
	kt_test_expect_in(r.out, "/test/helpers/liblate_jobs.so+0x", "text");
	kt_test_expect_in(r.out, "; child spawned from 0x", "text");
	if (!getenv("KT_SANITIZER"))
		kt_test_expect_in(r.out, " (late_start_job+0x", "text");
}
END_TEST

/* The child execs another program: the report names what it became. */
START_TEST(test_child_named_after_exec)
{
	struct kt_test_output r;
	sh_preloaded(&r, "\"$H/stale_kill\" --exec=/bin/true",
	             (char *[]){ "KT_LOG=stderr", "KT_LOG_FORMAT=json", NULL });
	kt_test_expect_exit(&r, 0, "stale_kill --exec");
	char line[16384];
	ck_assert_msg(json_find_event(r.out, "stale_kill", line, sizeof line),
	              "no stale_kill event in:\n%s", r.out);
	kt_test_expect_in(line, "\"child\":{\"name\":\"true\"", "exec'd child");
	sh_preloaded(&r, "\"$H/stale_kill\" --exec=/bin/true", (char *[]){ "KT_LOG=stderr", NULL });
	kt_test_expect_in(r.out, " (\"true\", fork ", "exec'd child, text");
}
END_TEST

/* ---- kt-symbolize ------------------------------------------------------------ */

/* A -g program without -rdynamic: libkt can only say module+offset; piped
 * through kt-symbolize, every stack names its function and file:line. */
static void symbolize_case(const char *format, const char *symbolizer)
{
	char script[1024], what[64];
	snprintf(what, sizeof what, "%s log, %s", format, symbolizer);
	snprintf(script, sizeof script,
	         "command -v %s >/dev/null || { echo 'no symbolizer'; exit 0; }; "
	         "d=$(mktemp -d) && KT_LOG=$d/log KT_LOG_FORMAT=%s LD_PRELOAD=\"$LIB\" "
	         "\"$H/stale_kill_nodyn\" "
	         ">/dev/null && cat \"$d/log\" && echo ==== && "
	         "\"$KTSYM\" --symbolizer=%s <\"$d/log\"; s=$?; rm -rf \"$d\"; exit $s",
	         symbolizer, format, symbolizer);
	struct kt_test_output r;
	sh(&r, script, preload_kv);
	if (strcmp(r.out, "no symbolizer\n") == 0) {
		kt_test_skip(what, "not installed");
		return;
	}
	kt_test_expect_exit(&r, 0, what);
	const char *sep = strstr(r.out, "====\n");
	ck_assert_msg(sep != NULL, "%s: %s", what, r.out);
	/* Before: nothing of the program is named (no .dynsym entry for it). */
	ck_assert_msg(!strstr(r.out, "cancel_job") || strstr(r.out, "cancel_job") > sep,
	              "%s: libkt named cancel_job without -rdynamic:\n%s", what, r.out);
	const char *after = sep + 5;
	if (strcmp(format, "json") == 0) {
		char line[16384], arr[8192];
		ck_assert_msg(json_find_event(after, "stale_kill", line, sizeof line),
		              "%s: no stale_kill event in:\n%s", what, after);
		ck_assert_msg(json_line_valid(line), "%s: invalid JSON: %s", what, line);
		static const char *const keys[] = { "caller", "spawned_from", "reaped_from" };
		static const char *const fns[] = { "\"function\":\"cancel_job\"",
			                           "\"function\":\"start_job\"",
			                           "\"function\":\"reap_job\"" };
		for (int i = 0; i < 3; i++) {
			ck_assert_msg(json_array(line, keys[i], arr, sizeof arr), "%s: no %s: %s",
			              what, keys[i], line);
			kt_test_expect_in(arr, fns[i], what);
			kt_test_expect_in(arr, "/test/helpers/stale_kill.c\",\"line\":", what);
			kt_test_expect_in(arr, "\"function\":\"main\"", what);
		}
	} else {
		kt_test_expect_in(after, "; called from 0x", what);
		kt_test_expect_in(after, " in cancel_job ", what);
		kt_test_expect_in(after, " in start_job ", what);
		kt_test_expect_in(after, " in reap_job ", what);
		kt_test_expect_in(after, " in main ", what);
		kt_test_expect_in(after, "/test/helpers/stale_kill.c:", what);
		kt_test_expect_in(after, "/test/helpers/stale_kill_nodyn+0x", what);
	}
}

START_TEST(test_symbolize_text_llvm) { symbolize_case("text", "llvm-symbolizer"); }
END_TEST
START_TEST(test_symbolize_json_llvm) { symbolize_case("json", "llvm-symbolizer"); }
END_TEST
START_TEST(test_symbolize_text_addr2line) { symbolize_case("text", "addr2line"); }
END_TEST
START_TEST(test_symbolize_json_addr2line) { symbolize_case("json", "addr2line"); }
END_TEST

/* Lines that are not libkt's, and frames it cannot resolve, pass through. */
START_TEST(test_symbolize_passes_through)
{
	struct kt_test_output r;
	sh(&r, "printf 'hello 0x1 (x+0x1)\\nlibkt: summary (enforce mode): 0 children\\n"
	       "libkt: x; called from 0x10 (/nonexistent/mod+0x10) [pid 1 x]\\n' | \"$KTSYM\"",
	   NULL);
	kt_test_expect_exit(&r, 0, "pass-through");
	kt_test_expect_in(r.out, "hello 0x1 (x+0x1)\n", "pass-through");
	kt_test_expect_in(r.out, "libkt: summary (enforce mode): 0 children\n", "pass-through");
	kt_test_expect_in(r.out, "libkt: x; called from 0x10 (/nonexistent/mod+0x10) [pid 1 x]\n",
	          "pass-through");
	kt_test_expect_in(r.out, "kt-symbolize: cannot read /nonexistent/mod", "pass-through");
	sh(&r, "\"$KTSYM\" --bogus </dev/null", NULL);
	kt_test_expect_exit(&r, 2, "bad option");
}
END_TEST

/* ---- exit status ------------------------------------------------------------- */

START_TEST(test_exitcode)
{
	static const struct {
		const char *cmd;
		int code;
	} cases[] = {
		{ "\"$KTRUN\" --exitcode 66 \"$H/stale_kill\"", 66 },
		{ "\"$KTRUN\" --exitcode=66 \"$H/stale_kill\" --exit=exit", 66 },
		{ "\"$KTRUN\" --exitcode 66 \"$H/stale_kill\" --exit=_exit", 66 },
		{ "\"$KTRUN\" --exitcode 66 --audit \"$H/stale_kill\"", 66 },
		{ "\"$KTRUN\" --exitcode 66 --log stderr --json \"$H/stale_kill\"", 66 },
		{ "\"$KTRUN\" --exitcode 66 true", 0 },
		{ "\"$KTRUN\" --exitcode 66 sh -c 'exit 3'", 3 },
		/* A nonzero status of its own is kept even with a stale kill. */
		{ "\"$KTRUN\" --exitcode 66 \"$H/stale_kill\" --code=5", 5 },
		/* Set directly, without kt-run. */
		{ "KT_EXITCODE=66 LD_PRELOAD=\"$LIB\" \"$H/stale_kill\"", 66 },
		/* A stale kill in a child the shell waits for: the child's status. */
		{ "\"$KTRUN\" --exitcode 66 sh -c '\"$H/stale_kill\"; exit $?'", 66 },
		/* The shell's own status is 0 when it ignores its child's. */
		{ "\"$KTRUN\" --exitcode 66 sh -c '\"$H/stale_kill\"; exit 0'", 0 },
		/* A child forked after the stale kill did not send it. */
		{ "\"$KTRUN\" --exitcode 66 \"$H/stale_kill\" --fork-after | grep -q '^after=0$' "
		  "&& exit \"${PIPESTATUS[0]}\"", 66 },
		/* Without --exitcode nothing changes. */
		{ "\"$KTRUN\" \"$H/stale_kill\"", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct kt_test_output r;
		sh(&r, cases[i].cmd, preload_kv);
		kt_test_expect_exit(&r, cases[i].code, cases[i].cmd);
	}
}
END_TEST

/* ---- the log changes nothing --------------------------------------------------- */

/* CPython's own tests of the descriptors a child inherits: they see every fd
 * a preloaded library holds. */
START_TEST(test_cpython_fd_tests)
{
	struct kt_test_output r;
	/* An interpreter whose test package has test_subprocess (Debian splits
	 * it out of the default one). */
	sh(&r, "for p in /usr/bin/python3 \"$(python3 -c 'import sys; print(sys.executable)' "
	       "2>/dev/null)\"; do [ -x \"$p\" ] && \"$p\" -c 'import test.test_subprocess' "
	       "2>/dev/null && { printf %s \"$p\"; exit 0; }; done; exit 1",
	   NULL);
	if (kt_test_exit_code(r.status) != 0) {
		kt_test_skip("CPython fd tests",
		     "no python3 with the test package (test.test_subprocess) is installed");
		return;
	}
	char python[4096], log_kv[256];
	ck_assert_msg(strlen(r.out) < sizeof python, "python path too long: %s", r.out);
	memcpy(python, r.out, strlen(r.out) + 1);
	char dir[] = "/tmp/kt-diag-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(log_kv, sizeof log_kv, "KT_LOG=%s/kt.log", dir);
	char *argv[] = { python, "-m", "test", "-v", "test_subprocess", "-m", "test_pass_fds_redirected",
		         "-m", "test_close_fds_when_max_fd_is_lowered", NULL };
	char *env[] = { log_kv, NULL };
	r.status = kt_test_run(1, argv, env, r.out, sizeof r.out, 1, 300);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	kt_test_expect_in(r.out, "Tests result: SUCCESS", "CPython fd tests with KT_LOG=/abs/file");
	kt_test_expect_in(r.out, "Ran 2 tests", "both CPython tests ran");
	kt_test_expect_exit(&r, 0, "CPython fd tests");
}
END_TEST

/* No descriptor of libkt's is open in a program between reports: with a
 * log, a program sees the same descriptors as without one. */
START_TEST(test_no_log_fd_held)
{
	struct kt_test_output r;
	sh_preloaded(&r, "d=$(mktemp -d); echo \"$(sh -c 'exec ls /proc/self/fd')\"; "
	                 "KT_LOG=$d/log sh -c 'exec ls /proc/self/fd'; rm -rf $d",
	             NULL);
	kt_test_expect_exit(&r, 0, "ls /proc/self/fd");
	const char *second = strstr(r.out, "\n0\n");
	ck_assert_msg(second && strncmp(r.out, second + 1, strlen(second + 1)) == 0 &&
	                      (size_t)(second + 1 - r.out) == strlen(second + 1),
	              "descriptors differ with KT_LOG set (first without, then with):\n%s", r.out);
}
END_TEST

/* The program closed stderr and its data file took fd 2: neither the report
 * nor the summary goes into it. */
START_TEST(test_fd2_takeover)
{
	struct kt_test_output r;
	sh_preloaded(&r, "d=$(mktemp -d); KT_LOG=stderr KT_STATS=1 \"$H/fd2_takeover\" $d/data; "
	                 "s=$?; cat $d/data; rm -rf $d; exit $s",
	             NULL);
	kt_test_expect_exit(&r, 0, "fd2_takeover");
	ck_assert_str_eq(r.out, "data 1\ndata 2\n");
}
END_TEST

/* `prog >out 2>&1`: the program moved fd 2 away and goes on writing to
 * stdout, into the file that was its stderr, at its own offset.  A report
 * appended there would be overwritten by its next write: the report and the
 * summary are dropped, and the file holds the program's lines intact.  With
 * `>>out 2>&1` every write appends, and the reports are there, whole. */
START_TEST(test_stderr_file_shared_with_stdout)
{
	struct kt_test_output r;
	sh_preloaded(&r, "d=$(mktemp -d); KT_LOG=stderr KT_STATS=1 \"$H/fd2_takeover\" --stdout "
	                 ">$d/out 2>&1; s=$?; cat $d/out; echo \"status=$s\"; echo ---;"
	                 "KT_LOG=stderr KT_STATS=1 \"$H/fd2_takeover\" --stdout >>$d/app 2>&1; "
	                 "cat $d/app; rm -rf $d",
	             NULL);
	const char *sep = strstr(r.out, "---\n");
	ck_assert_msg(sep != NULL, "no separator:\n%s", r.out);
	const char *alone = "data 1\ndata 2\nstatus=0\n---\n";
	ck_assert_msg(strncmp(r.out, alone, strlen(alone)) == 0,
	              ">out 2>&1: not the program's two lines alone:\n%s", r.out);
	/* Every line whole: the program's own, or a report of libkt's (a
	 * degraded event first where pidfds are refused). */
	const char *app = sep + 4;
	ck_assert_msg(strncmp(app, "data 1\n", 7) == 0, ">>out 2>&1:\n%s", app);
	for (const char *l = app; *l; l = strchr(l, '\n') + 1) {
		size_t len = strcspn(l, "\n");
		ck_assert_msg(l[len] == '\n' && ((len == 6 && strncmp(l, "data ", 5) == 0) ||
		                                 (strncmp(l, "libkt: ", 7) == 0 && l[len - 1] == ']')),
		              ">>out 2>&1: a line that is not whole: %.*s\n%s", (int)len, l, app);
	}
	const char *refused = strstr(app, "\nlibkt: refused stale kill(");
	const char *data2 = refused ? strstr(refused, "\ndata 2\n") : NULL;
	ck_assert_msg(data2 && strstr(data2, "\nlibkt: summary (enforce mode): "),
	              ">>out 2>&1: not the report, data 2 and the summary in order:\n%s", app);
}
END_TEST

/* A report from a process whose every descriptor number is taken (the soft
 * RLIMIT_NOFILE reached) still reaches the log. */
START_TEST(test_report_with_fds_full)
{
	struct kt_test_output r;
	sh_preloaded(&r, "d=$(mktemp -d); KT_LOG=$d/log \"$H/stale_kill\" --emfile >/dev/null; "
	                 "s=$?; cat $d/log; rm -rf $d; exit $s",
	             NULL);
	kt_test_expect_exit(&r, 0, "stale_kill --emfile");
	kt_test_expect_in(r.out, "libkt: refused stale kill(", "report with every fd taken");
}
END_TEST

/* --stats reaches the terminal or file that was stderr when the program
 * started, even when the program closed it before exit (as coreutils do),
 * where the program could only append to that file. */
START_TEST(test_stats_after_stderr_closed)
{
	struct kt_test_output r;
	sh(&r, "d=$(mktemp -d); \"$KTRUN\" --stats ls / >/dev/null 2>>$d/err; s=$?; cat $d/err; "
	       "rm -rf $d; exit $s",
	   NULL);
	kt_test_expect_exit(&r, 0, "kt-run --stats ls");
	kt_test_expect_in(r.out, "libkt: summary (enforce mode): ", "summary after ls closed stderr");
	ck_assert_int_eq(count(r.out, "libkt: summary"), 1);
}
END_TEST

/* ---- nothing silent ------------------------------------------------------------ */

static const char *const bad_logs[] = {
	/* path setup, path, reason */
	":", "/nonexistent/kt-dir/x.log", "No such file or directory",
	":", "/tmp", "it is a directory",
	"ln -sfn /nonexistent/kt-target $d/link", "$d/link", "symbolic link",
};

/* kt-run says it once, whatever number of processes the command starts. */
START_TEST(test_unopenable_log_ktrun)
{
	const char *setup_cmd = bad_logs[3 * _i], *path = bad_logs[3 * _i + 1],
		   *why = bad_logs[3 * _i + 2];
	char script[1024];
	snprintf(script, sizeof script,
	         "d=$(mktemp -d); %s; \"$KTRUN\" --log %s sh -c '\"$H/stale_kill\"; "
	         "\"$H/stale_kill\"' >/dev/null; s=$?; rm -rf $d; exit $s",
	         setup_cmd, path);
	struct kt_test_output r;
	sh(&r, script, NULL);
	kt_test_expect_exit(&r, 0, script);
	ck_assert_msg(count(r.out, "kt-run: cannot open the log ") == 1 &&
	                      count(r.out, "\n") == 1,
	              "%s: expected one line saying so:\n%s", script, r.out);
	kt_test_expect_in(r.out, why, script);
}
END_TEST

/* Set directly: libkt says it, once per process, on stderr. */
START_TEST(test_unopenable_log_direct)
{
	const char *setup_cmd = bad_logs[3 * _i], *path = bad_logs[3 * _i + 1],
		   *why = bad_logs[3 * _i + 2];
	char script[1024];
	snprintf(script, sizeof script,
	         "d=$(mktemp -d); %s; KT_LOG=%s LD_PRELOAD=\"$LIB\" \"$H/stale_kill\" >/dev/null; "
	         "s=$?; rm -rf $d; exit $s",
	         setup_cmd, path);
	struct kt_test_output r;
	sh(&r, script, preload_kv);
	kt_test_expect_exit(&r, 0, script);
	ck_assert_msg(count(r.out, "libkt: cannot open the log ") == 1 && count(r.out, "\n") == 1,
	              "%s: expected one line saying so:\n%s", script, r.out);
	kt_test_expect_in(r.out, why, script);
}
END_TEST

/* A bad value is said once per kt-run, not once per process. */
START_TEST(test_bad_value_once)
{
	struct kt_test_output r;
	sh(&r, "KT_MODE=bogus KT_STATS=2 \"$KTRUN\" --log stderr sh -c "
	       "'\"$H/stale_kill\" >/dev/null; \"$H/stale_kill\" >/dev/null' 2>&1 | grep ignoring",
	   NULL);
	ck_assert_int_eq(count(r.out, "kt-run: ignoring KT_MODE=\"bogus\""), 1);
	ck_assert_int_eq(count(r.out, "kt-run: ignoring KT_STATS=\"2\""), 1);
	ck_assert_int_eq(count(r.out, "\n"), 2);
}
END_TEST

/* kt-run names what it cannot protect, and says its errors in its own words. */
START_TEST(test_unprotected_command)
{
	struct kt_test_output r;
	sh(&r, "\"$KTRUN\" kt-no-such-command-here; echo \"status=$?\"", NULL);
	ck_assert_str_eq(r.out, "kt-run: kt-no-such-command-here: command not found\nstatus=127\n");
	sh(&r, "d=$(mktemp -d); cp /bin/true $d/t && chown nobody $d/t && chmod u+s,go+rx $d/t "
	       "2>/dev/null || { echo cannot-chown; exit 0; }; \"$KTRUN\" $d/t; s=$?; rm -rf $d; exit $s",
	   NULL);
	if (strcmp(r.out, "cannot-chown\n") == 0) {
		kt_test_skip("set-user-ID command", "cannot give a file to another user here");
	} else {
		kt_test_expect_exit(&r, 0, "set-user-ID true");
		kt_test_expect_in(r.out, "is set-user-ID or set-group-ID", "set-user-ID true");
	}
	sh(&r, "command -v cc >/dev/null || { echo no-cc; exit 0; }; d=$(mktemp -d); "
	       "printf 'int main(void){return 0;}' >$d/s.c && cc -static $d/s.c -o $d/s 2>/dev/null "
	       "|| { echo no-static; rm -rf $d; exit 0; }; \"$KTRUN\" $d/s; s=$?; rm -rf $d; exit $s",
	   NULL);
	if (strcmp(r.out, "no-cc\n") == 0 || strcmp(r.out, "no-static\n") == 0) {
		kt_test_skip("static command", "no C compiler with a static libc here");
	} else {
		kt_test_expect_exit(&r, 0, "static program");
		kt_test_expect_in(r.out, "is statically linked", "static program");
	}
	sh(&r, "\"$KTRUN\" true; \"$KTRUN\" /bin/sh -c true", NULL);
	ck_assert_str_eq(r.out, ""); /* dynamic programs: nothing said */
}
END_TEST

int main(void)
{
	setup();
	Suite *s = kt_test_preload_suite("diagnostics");
	kt_test_tcase(s, "stacks", 0, test_three_stacks_json, test_three_stacks_text,
	              test_late_module_named, test_child_named_after_exec);
	kt_test_tcase(s, "kt-symbolize", 0, test_symbolize_text_llvm, test_symbolize_json_llvm,
	              test_symbolize_text_addr2line, test_symbolize_json_addr2line,
	              test_symbolize_passes_through);
	kt_test_tcase(s, "exit status", 0, test_exitcode);
	kt_test_tcase(s, "changes nothing", 300, test_cpython_fd_tests, test_no_log_fd_held,
	              test_fd2_takeover, test_stderr_file_shared_with_stdout, test_report_with_fds_full,
	              test_stats_after_stderr_closed);
	TCase *tc = kt_test_tcase(s, "nothing silent", 0, test_bad_value_once,
	                          test_unprotected_command);
	tcase_add_loop_test(tc, test_unopenable_log_ktrun, 0, 3);
	tcase_add_loop_test(tc, test_unopenable_log_direct, 0, 3);
	return kt_test_main(s);
}
