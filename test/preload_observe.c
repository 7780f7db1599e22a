/* SPDX-License-Identifier: MIT */
/* KT_OBSERVE: a kill of a number the program saw under /proc reaches the
 * process it saw there, or nobody (shim/observe.h).
 *
 * Every case runs test/helpers/observe_race: in a private PID namespace a
 * target process is found by the program under test (real pkill and
 * killall, CPython, the scanner helper through each libc entry point), then
 * the target goes and a stranger (placed with clone3's set_tid, a child of
 * another process) takes its number, then the program signals the number.
 * pkill and killall do not wait for anyone: strace holds up their close of
 * the target's last /proc file while the stranger is placed.  Verdicts are
 * by outcome: the stranger lives (or dies of the program's signal, without
 * libkt), the call's answer, and for live targets, how many queued signals
 * arrived (exactly one) and the program's exit status and output, compared
 * with a run without libkt.
 *
 * Where this run has no pidfds (KT_IDENTITY=none, the seccomp runs)
 * nothing can be proven about a process, and kills go by number: those
 * cases expect what plain libc does. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <kt.h>

#include "jsonline.h"
#include "scenario.h"
#include "testlib.h"

#define STRACE "/usr/bin/strace"
#define PKILL "/usr/bin/pkill"
#define KILLALL "/usr/bin/killall"
#define PYTHON "/usr/bin/python3"
/* pkill -f's pattern: matches the target's command line, and not itself
 * (nor the supervisor's or strace's, which hold it as written). */
#define TARGET_PATTERN "kt-obs-targe[t]"
#define TARGET_NAME "ktobstarget"
/* How long strace holds the program up (microseconds): the supervisor puts
 * the stranger in place well within it. */
#define HOLD_US "1500000"
#define RUN_TIMEOUT 40

/* One run of observe_race: its output and result line (the scenario), and
 * the program's own output, decoded. */
struct obs {
	struct scenario s;
	char prog[8192];
};

static const char *field(const struct obs *r, const char *key, char *buf, size_t size)
{
	return scenario_field(&r->s, key, buf, size);
}

static void decode(const char *in, char *out, size_t size)
{
	size_t n = 0;
	for (; *in && *in != ' ' && n + 1 < size; in++) {
		unsigned v;
		if (in[0] == '\\' && in[1] == 'x' && sscanf(in + 2, "%2x", &v) == 1) {
			out[n++] = (char)v;
			in += 3;
		} else {
			out[n++] = *in;
		}
	}
	out[n] = '\0';
}

/* The LD_PRELOAD the programs under test get: the run's (the sanitizer runs
 * put their runtime first), else libkt. */
static const char *preload_value(void)
{
	const char *all = getenv("KT_TEST_PRELOAD");
	return all && *all ? all : kt_test_lib();
}

/* 1 if libkt can tell processes apart in this run. */
static int can_prove(void)
{
	return kt_test_have_pidfd() && kt_test_identity() != KT_IDENTITY_NONE;
}

static int possible(const char *what, const char *program)
{
	/* procps's pkill hangs in textdomain() under the ASan runtime alone,
	 * libkt or not. */
	if (program && strcmp(program, PKILL) == 0 && getenv("KT_SANITIZER")) {
		printf("SKIP: %s: pkill hangs under the %s runtime, without libkt too\n", what,
		       getenv("KT_SANITIZER"));
		return 0;
	}
	return scenario_possible(what) && (!program || kt_test_installed(program, what));
}

/* The environment of a run: KT_IDENTITY as this run of the suite has it,
 * then ENV (NULL-terminated, may be NULL). */
static char **run_env(char *const *env)
{
	static char identity_kv[64];
	static char *all[16];
	const char *id = getenv("KT_IDENTITY");
	int n = 0;
	if (id && *id) {
		snprintf(identity_kv, sizeof identity_kv, "KT_IDENTITY=%s", id);
		all[n++] = identity_kv;
	}
	for (; env && *env && n < 15; env++)
		all[n++] = *env;
	all[n] = NULL;
	return all;
}

static int obs_run_once(struct obs *r, char *const argv[], char *const env[],
                        const char *what);

/* Runs observe_race OPTS -- CMD (both NULL-terminated) with ENV; fails the
 * test unless it ran.  Returns 0 (after a SKIP line) when no namespace. */
static int obs_run(struct obs *r, char *const opts[], char *const cmd[], char *const env[],
                   const char *what)
{
	char *argv[64];
	int n = 0;
	argv[n++] = (char *)kt_test_helper("observe_race");
	for (; opts && *opts; opts++)
		argv[n++] = *opts;
	argv[n++] = "--";
	for (; *cmd && n < 63; cmd++)
		argv[n++] = *cmd;
	argv[n] = NULL;
	/* A loaded machine can hold the supervisor up past strace's delay:
	 * then the program's signal reaches the target before the stranger
	 * is in place, and the run is repeated. */
	for (int tries = 0; tries < 3; tries++) {
		if (!obs_run_once(r, argv, env, what))
			return 0;
		if (!strstr(r->s.line, " window=0 "))
			return 1;
		printf("NOTE: %s: the window closed before the stranger was in place; again\n", what);
	}
	ck_abort_msg("%s: the window closed three times: %s", what, r->s.line);
	return 0;
}

/* One run of ARGV; see obs_run. */
static int obs_run_once(struct obs *r, char *const argv[], char *const env[], const char *what)
{
	memset(r, 0, sizeof *r);
	int st = kt_test_run(0, argv, run_env(env), r->s.out, sizeof r->s.out, 1, RUN_TIMEOUT);
	ck_assert_msg(st != -1, "%s: could not start observe_race", what);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
		printf("SKIP: %s: no PID namespace: %s\n", what, r->s.out);
		fflush(stdout);
		return 0;
	}
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: observe_race failed (0x%x):\n%s",
	              what, st, r->s.out);
	const char *p = strstr(r->s.out, "result target=");
	ck_assert_msg(p != NULL, "%s: no result line in:\n%s", what, r->s.out);
	const char *out = strstr(p, " out=");
	size_t len = strcspn(p, "\n");
	if (len >= sizeof r->s.line)
		len = sizeof r->s.line - 1;
	memcpy(r->s.line, p, len);
	r->s.line[len] = '\0';
	if (out)
		decode(out + 5, r->prog, sizeof r->prog);
	return 1;
}

static void expect(const struct obs *r, const char *key, const char *want, const char *what)
{
	char v[256];
	field(r, key, v, sizeof v);
	ck_assert_msg(strcmp(v, want) == 0, "%s: %s=%s, expected %s\n  line: %s\n  program said: %s",
	              what, key, v, want, r->s.line, r->prog);
}

static void expect_prog(const struct obs *r, const char *needle, int present, const char *what)
{
	ck_assert_msg((strstr(r->prog, needle) != NULL) == present,
	              "%s: the program's output %s \"%s\":\n%s\n  line: %s", what,
	              present ? "lacks" : "has", needle, r->prog, r->s.line);
}

/* The stranger's fate with observation on, in this run: alive where libkt
 * can prove anything, else (no pidfds) killed by number as without libkt. */
static const char *protected_fate(const char *sig)
{
	static char killed[48];
	snprintf(killed, sizeof killed, "killed-%s", sig);
	return can_prove() ? "alive" : killed;
}

/* SIGRTMIN+3 as the programs take it on their command lines. */
static const char *rt_number(void)
{
	static char n[16];
	snprintf(n, sizeof n, "%d", SIGRTMIN + 3);
	return n;
}

/* ---- pkill (procps) --------------------------------------------------------------
 * procps 4.0 reads stat, status, cmdline and cgroup of each process, then
 * signals the matches with kill(); procps 3.3 (Debian 11) status and
 * cmdline.  The window is held open at the close of the last file pkill
 * opens for the target: every read of it is done, the kill not yet sent.
 * (A number that changes hands between two of the program's opens is judged
 * by the later one.) */

/* The first number of TOOL's version ("pkill from procps-ng 3.3.17",
 * "killall (PSmisc) 23.4"), times 100, plus the second; 0 if unknown. */
static int tool_version(const char *tool)
{
	char *argv[] = { (char *)tool, "-V", NULL };
	char out[512];
	if (kt_test_run(0, argv, NULL, out, sizeof out, 1, 10) == -1)
		return 0;
	for (const char *p = out; *p; p++) {
		int major, minor;
		if (*p >= '0' && *p <= '9' && (p == out || p[-1] == ' ') &&
		    sscanf(p, "%d.%d", &major, &minor) == 2)
			return major * 100 + minor;
	}
	return 0;
}

/* The last /proc/TARGET file pkill reads before it signals. */
static const char *pkill_last_file(void)
{
	return tool_version(PKILL) >= 400 ? "cgroup" : "cmdline";
}

/* In OUT: PROGRAM ARGS... under strace, which holds up the close of
 * /proc/TARGET/FILE for HOLD_US; with LIBKT, libkt and ENV ("K=V", NULL-
 * terminated) are handed to PROGRAM only (strace runs plain). */
static void held(char **out, const char *file, int libkt, char *const env[],
                 char *const program[])
{
	static char pre[4300], path[64];
	snprintf(pre, sizeof pre, "LD_PRELOAD=%s", preload_value());
	snprintf(path, sizeof path, "/proc/%%T/%s", file);
	char *head[] = { STRACE, "-f", "-qq", "-o", "/dev/null", "-P", path, "-e", "trace=close",
		         "-e", "inject=close:delay_enter=" HOLD_US, NULL };
	int n = 0;
	for (char **h = head; *h; h++)
		out[n++] = *h;
	for (; libkt && env && *env; env++) {
		out[n++] = "-E";
		out[n++] = *env;
	}
	if (libkt) {
		out[n++] = "-E";
		out[n++] = pre;
	}
	for (; *program; program++)
		out[n++] = *program;
	out[n] = NULL;
}

static void pkill_run(struct obs *r, int libkt, char *const env[], const char *action,
                      const char *what)
{
	char act[32];
	snprintf(act, sizeof act, "--action=%s", action);
	char watch[32];
	snprintf(watch, sizeof watch, "--watch=%s", pkill_last_file());
	char *opts[] = { act, watch, NULL };
	char *program[] = { PKILL, "-f", TARGET_PATTERN, NULL };
	char *cmd[40];
	held(cmd, pkill_last_file(), libkt, env, program);
	if (!obs_run(r, opts, cmd, NULL, what))
		return;
	expect(r, "triggered", "1", what);
}

static char *enforce_env[] = { "KT_OBSERVE=enforce", NULL };

START_TEST(pkill_without_libkt_kills_the_stranger)
{
	const char *what = "pkill without libkt, target replaced after its scan";
	if (!possible(what, PKILL) || !kt_test_installed(STRACE, what))
		return;
	struct obs r;
	pkill_run(&r, 0, NULL, "reuse", what);
	expect(&r, "stranger", "killed-SIGTERM", what);
	expect(&r, "status", "0", what);
}
END_TEST

START_TEST(pkill_under_enforce_leaves_the_stranger_alone)
{
	const char *what = "pkill under KT_OBSERVE=enforce, target replaced after its scan";
	if (!possible(what, PKILL) || !kt_test_installed(STRACE, what))
		return;
	struct obs with, vanished;
	pkill_run(&with, 1, enforce_env, "reuse", what);
	expect(&with, "stranger", protected_fate("SIGTERM"), what);
	if (!can_prove())
		return;
	/* What plain pkill does when its match is gone and nobody took the
	 * number: kill() answers ESRCH, nothing is signalled. */
	pkill_run(&vanished, 0, NULL, "vanish", "plain pkill, target gone after its scan");
	char st[16];
	expect(&with, "status", field(&vanished, "status", st, sizeof st), what);
	ck_assert_str_eq(with.prog, vanished.prog);
}
END_TEST

START_TEST(pkill_under_audit_lets_the_kill_through_and_says_so)
{
	const char *what = "pkill under KT_OBSERVE=audit with KT_LOG=stderr";
	if (!possible(what, PKILL) || !kt_test_installed(STRACE, what))
		return;
	struct obs r;
	char *env[] = { "KT_OBSERVE=audit", "KT_LOG=stderr", NULL };
	pkill_run(&r, 1, env, "reuse", what);
	expect(&r, "stranger", "killed-SIGTERM", what);
	expect(&r, "status", "0", what);
	expect_prog(&r, "let through (audit mode)", can_prove(), what);
	ck_assert_msg(kt_test_holder_named(r.prog, "; the signal hit a later process: ", "\"stranger\"") ==
	                      can_prove(),
	              "%s: the holder, [PID:INODE ], \"stranger\" %s in:\n%s", what,
	              can_prove() ? "missing" : "said", r.prog);
}
END_TEST

/* A live match is signalled once, through libkt or not, and pkill says
 * and returns the same. */
START_TEST(pkill_signals_a_live_match_exactly_once)
{
	const char *what = "pkill --signal RTMIN+3 of a live target";
	if (!possible(what, PKILL))
		return;
	struct obs plain, with;
	char *opts[] = { "--action=live", NULL };
	char *cmd[] = { PKILL, "--signal", (char *)rt_number(), "-e", "-f", TARGET_PATTERN, NULL };
	char pre[4300];
	snprintf(pre, sizeof pre, "--preload=%s", preload_value());
	char *opts_kt[] = { "--action=live", pre, NULL };
	char *env[] = { "KT_OBSERVE=enforce", NULL };
	if (!obs_run(&plain, opts, cmd, NULL, what) || !obs_run(&with, opts_kt, cmd, env, what))
		return;
	expect(&plain, "target_rt", "1", what);
	expect(&with, "target_rt", "1", what);
	expect(&with, "status", "0", what);
	expect(&plain, "status", "0", what);
	ck_assert_str_eq(with.prog, plain.prog);
}
END_TEST

/* ---- killall (psmisc) -------------------------------------------------------------
 * killall opens /proc/N as a directory, reads stat through it and signals
 * through that same descriptor with pidfd_send_signal: it signals the
 * process it read, or nobody, with or without libkt, which must leave it
 * so. */

static void killall_run(struct obs *r, int libkt, const char *action, const char *sig,
                        const char *what)
{
	char act[32];
	snprintf(act, sizeof act, "--action=%s", action);
	char *opts[] = { act, "--watch=stat", NULL };
	char *program[] = { KILLALL, "-s", (char *)sig, TARGET_NAME, NULL };
	char *cmd[40];
	held(cmd, "stat", libkt, enforce_env, program);
	obs_run(r, opts, cmd, NULL, what);
}

/* Without pidfd_send_signal (the seccomp runs) killall falls back to its
 * own kill() by number, or fails: the same with libkt as without. */
START_TEST(killall_stays_safe_and_unchanged)
{
	const char *what = "killall, target replaced after reading its stat";
	if (!possible(what, KILLALL) || !kt_test_installed(STRACE, what))
		return;
	struct obs plain, with;
	killall_run(&plain, 0, "reuse", "TERM", what);
	killall_run(&with, 1, "reuse", "TERM", what);
	expect(&plain, "triggered", "1", what);
	expect(&with, "triggered", "1", what);
	/* psmisc 23.6 signals through the /proc/N directory it read: safe
	 * already, and libkt changes nothing.  Older ones (Debian 11's 23.4)
	 * kill by number, and are what observation is for: the stranger lives
	 * with libkt wherever it can prove what killall saw. */
	if (tool_version(KILLALL) < 2306) {
		expect(&plain, "stranger", "killed-SIGTERM", what);
		if (kt_test_have_pidfd() && kt_test_identity() != KT_IDENTITY_NONE) {
			expect(&with, "stranger", "alive", what);
			return;
		}
	} else if (kt_test_have_pidfd()) {
		expect(&plain, "stranger", "alive", what);
	}
	char v[64];
	expect(&with, "stranger", field(&plain, "stranger", v, sizeof v), what);
	expect(&with, "status", field(&plain, "status", v, sizeof v), what);
	ck_assert_str_eq(with.prog, plain.prog);
}
END_TEST

START_TEST(killall_signals_a_live_match_exactly_once)
{
	const char *what = "killall -s RTMIN+3 of a live target";
	if (!possible(what, KILLALL) || !kt_test_installed(STRACE, what))
		return;
	struct obs plain, with;
	killall_run(&plain, 0, "live", rt_number(), what);
	killall_run(&with, 1, "live", rt_number(), what);
	if (kt_test_have_pidfd())
		expect(&plain, "target_rt", "1", what);
	char v[64];
	expect(&with, "target_rt", field(&plain, "target_rt", v, sizeof v), what);
	expect(&with, "status", field(&plain, "status", v, sizeof v), what);
	ck_assert_str_eq(with.prog, plain.prog);
}
END_TEST

/* ---- CPython: read /proc/N/stat, then os.kill(N) ---------------------------------- */

#define PY_SCRIPT                                                               \
	"import errno, os, sys\n"                                                   \
	"t = int(os.environ['KT_OBS_TARGET'])\n"                                   \
	"with open('/proc/%d/stat' % t) as f:\n"                                  \
	"    assert f.read().startswith('%d ' % t)\n"                             \
	"os.write(3, b'seen %d\\n' % t); os.read(4, 8)\n"                          \
	"try:\n"                                                                   \
	"    os.kill(t, int(sys.argv[1])); print('kill_ret=0')\n"                  \
	"except OSError as e:\n"                                                   \
	"    print('kill_errno=' + errno.errorcode[e.errno])\n"

static void python_run(struct obs *r, int libkt, const char *action, const char *sig,
                       const char *what)
{
	char pre[4300];
	snprintf(pre, sizeof pre, "--preload=%s", preload_value());
	char act[32];
	snprintf(act, sizeof act, "--action=%s", action);
	char *opts[] = { act, libkt ? pre : NULL, NULL };
	char *cmd[] = { PYTHON, "-I", "-S", "-c", PY_SCRIPT, (char *)sig, NULL };
	char *env[] = { "KT_OBSERVE=enforce", NULL };
	obs_run(r, opts, cmd, env, what);
}

START_TEST(python_stat_then_kill)
{
	const char *what = "python3: open /proc/N/stat, then os.kill(N) after N was replaced";
	if (!possible(what, PYTHON))
		return;
	struct obs plain, with;
	python_run(&plain, 0, "reuse", "15", what);
	python_run(&with, 1, "reuse", "15", what);
	expect(&plain, "stranger", "killed-SIGTERM", what);
	expect_prog(&plain, "kill_ret=0", 1, what);
	expect(&with, "stranger", protected_fate("SIGTERM"), what);
	expect_prog(&with, can_prove() ? "kill_errno=ESRCH" : "kill_ret=0", 1, what);
}
END_TEST

START_TEST(python_live_target_signalled_once)
{
	const char *what = "python3: open /proc/N/stat, then os.kill(N) of a live N";
	if (!possible(what, PYTHON))
		return;
	struct obs plain, with;
	python_run(&plain, 0, "live", rt_number(), what);
	python_run(&with, 1, "live", rt_number(), what);
	expect(&plain, "target_rt", "1", what);
	expect(&with, "target_rt", "1", what);
	ck_assert_str_eq(with.prog, plain.prog);
}
END_TEST

/* ---- the scanner helper: each libc entry point, each way of signalling ------------ */

static void scanner_run(struct obs *r, int libkt, const char *observe, const char *action,
                        int group, const char *open_how, const char *send, const char *sig,
                        char *const env_more[], const char *what)
{
	char pre[4300];
	snprintf(pre, sizeof pre, "--preload=%s", preload_value());
	char act[32];
	snprintf(act, sizeof act, "--action=%s", action);
	char *opts[4] = { act };
	int n = 1;
	if (libkt)
		opts[n++] = pre;
	if (group)
		opts[n++] = "--group";
	opts[n] = NULL;
	char *cmd[] = { (char *)kt_test_helper("scanner"), (char *)open_how, (char *)send,
		        (char *)sig, NULL };
	char obs_kv[64];
	snprintf(obs_kv, sizeof obs_kv, "KT_OBSERVE=%s", observe);
	char *env[8] = { obs_kv };
	int k = 1;
	for (; env_more && *env_more && k < 7; env_more++)
		env[k++] = *env_more;
	env[k] = NULL;
	obs_run(r, opts, cmd, env, what);
}

static const char *const entry_points[] = {
	"open", "open64", "openat", "openat64", "__open_2", "__open64_2", "openat_proc",
	"__openat_2_proc", "__openat64_2_proc", "openat_dir", "cwd", "fopen", "fopen64",
	"opendir", "scan",
};

/* Each way of looking: without libkt the stranger dies; with it, it lives
 * and kill answers ESRCH. */
START_TEST(scanner_entry_point_binds_the_kill)
{
	const char *how = entry_points[_i];
	char what[160];
	snprintf(what, sizeof what, "scanner looking through %s, target replaced, then kill",
	         how);
	if (!possible(what, NULL))
		return;
	struct obs plain, with;
	scanner_run(&plain, 0, "enforce", "reuse", 0, how, "kill", "15", NULL, what);
	expect(&plain, "stranger", "killed-SIGTERM", what);
	expect_prog(&plain, "kill_ret=0 kill_errno=0", 1, what);
	scanner_run(&with, 1, "enforce", "reuse", 0, how, "kill", "15", NULL, what);
	expect(&with, "stranger", protected_fate("SIGTERM"), what);
	expect_prog(&with, can_prove() ? "kill_ret=-1 kill_errno=ESRCH" : "kill_ret=0 kill_errno=0",
	            1, what);
}
END_TEST

static const struct send_case {
	const char *send;
	int group;
} sends[] = { { "kill", 0 }, { "sigqueue", 0 }, { "killpg", 1 }, { "kill_neg", 1 } };

/* Each way of signalling a replaced target: refused; a live one: delivered
 * exactly once, with the same answer as without libkt. */
START_TEST(scanner_send_reaches_the_process_seen_or_nobody)
{
	const struct send_case *c = &sends[_i];
	char what[160];
	snprintf(what, sizeof what, "scanner: %s of a replaced target, and of a live one",
	         c->send);
	if (!possible(what, NULL))
		return;
	struct obs plain, with;
	scanner_run(&plain, 0, "enforce", "reuse", c->group, "open", c->send, "15", NULL, what);
	expect(&plain, "stranger", "killed-SIGTERM", what);
	scanner_run(&with, 1, "enforce", "reuse", c->group, "open", c->send, "15", NULL, what);
	expect(&with, "stranger", protected_fate("SIGTERM"), what);
	if (can_prove())
		expect_prog(&with, "kill_ret=-1 kill_errno=ESRCH", 1, what);

	scanner_run(&plain, 0, "enforce", "live", c->group, "open", c->send, "rt", NULL, what);
	scanner_run(&with, 1, "enforce", "live", c->group, "open", c->send, "rt", NULL, what);
	expect(&plain, "target_rt", "1", what);
	expect(&with, "target_rt", "1", what);
	ck_assert_str_eq(with.prog, plain.prog);
}
END_TEST

/* The target gone and its number free: ESRCH, as plain kill answers, and
 * no stale kill reported (a scanner racing an exit is no bug). */
START_TEST(scanner_target_gone_gets_esrch_quietly)
{
	const char *what = "scanner: kill of a target gone, number free";
	if (!possible(what, NULL))
		return;
	struct obs plain, with;
	char *log[] = { "KT_LOG=stderr", NULL };
	scanner_run(&plain, 0, "enforce", "vanish", 0, "open", "kill", "15", NULL, what);
	scanner_run(&with, 1, "enforce", "vanish", 0, "open", "kill", "15", log, what);
	expect_prog(&plain, "seen=2 kill_ret=-1 kill_errno=ESRCH", 1, what);
	expect_prog(&with, "seen=2 kill_ret=-1 kill_errno=ESRCH", 1, what);
	expect_prog(&with, "stale", 0, what);
}
END_TEST

/* A child of the program's own keeps the children's rules: refused as a
 * child's stale kill (its tombstone), not as an observation's. */
START_TEST(own_child_keeps_the_childrens_rules)
{
	const char *what = "scanner: open /proc/CHILD/stat, reap the child, kill it";
	if (!possible(what, NULL))
		return;
	struct obs r;
	char *env[] = { "KT_LOG=stderr", "KT_LOG_FORMAT=json", NULL };
	scanner_run(&r, 1, "enforce", "reuse", 0, "child", "kill", "15", env, what);
	expect(&r, "stranger", "alive", what);
	expect_prog(&r, "kill_ret=-1 kill_errno=ESRCH", 1, what);
	expect_prog(&r, "\"event\":\"stale_kill\"", 1, what);
	expect_prog(&r, "stale_observed_kill", 0, what);
}
END_TEST

/* ---- the switch ---------------------------------------------------------------- */

START_TEST(observation_is_off_by_default)
{
	const char *what = "scanner under libkt without KT_OBSERVE, target replaced";
	if (!possible(what, NULL))
		return;
	struct obs r;
	char pre[4300];
	snprintf(pre, sizeof pre, "--preload=%s", preload_value());
	char *opts[] = { pre, NULL };
	char *cmd[] = { (char *)kt_test_helper("scanner"), "open", "kill", "15", NULL };
	char *env[] = { "KT_LOG=stderr", NULL };
	if (!obs_run(&r, opts, cmd, env, what))
		return;
	expect(&r, "stranger", "killed-SIGTERM", what);
	expect_prog(&r, "libkt:", 0, what);
}
END_TEST

START_TEST(kt_mode_audit_caps_kt_observe)
{
	const char *what = "scanner under KT_MODE=audit KT_OBSERVE=enforce, target replaced";
	if (!possible(what, NULL))
		return;
	struct obs r;
	char *env[] = { "KT_MODE=audit", "KT_LOG=stderr", NULL };
	scanner_run(&r, 1, "enforce", "reuse", 0, "open", "kill", "15", env, what);
	expect(&r, "stranger", "killed-SIGTERM", what);
	expect_prog(&r, "let through (audit mode)", can_prove(), what);
}
END_TEST

/* ---- the report ------------------------------------------------------------------- */

START_TEST(report_says_when_where_and_who)
{
	const char *what = "scanner: the report of an observed stale kill, text and JSON";
	if (!possible(what, NULL) || !can_prove())
		return;
	struct obs text, json;
	char *log[] = { "KT_LOG=stderr", NULL };
	scanner_run(&text, 1, "enforce", "reuse", 0, "open", "kill", "15", log, what);
	char t[16];
	field(&text, "target", t, sizeof t);
	/* The process seen is named PID:INODE where its pidfs inode was the
	 * identity, else PID and its start time. */
	int by_inode = kt_test_identity() == KT_IDENTITY_INODE;
	char want[256];
	snprintf(want, sizeof want, "libkt: refused stale kill(%s, SIGTERM) with ESRCH: process %s%s", t,
	         t, by_inode ? ":" : " was seen at ");
	expect_prog(&text, want, 1, what);
	snprintf(want, sizeof want, " was seen at \"/proc/%s/stat\" ", t);
	expect_prog(&text, want, 1, what);
	expect_prog(&text, "ticks after boot)", !by_inode, what);
	ck_assert_msg(kt_test_holder_named(text.prog, "; PID now held by a later process: ",
	                                   "\"stranger\" (parent 1)"),
	              "%s: the holder, [PID:INODE ], \"stranger\" (parent 1) missing in:\n%s", what,
	              text.prog);
	expect_prog(&text, "; called from 0x", 1, what);
	expect_prog(&text, "; seen from 0x", 1, what);

	char *jlog[] = { "KT_LOG=stderr", "KT_LOG_FORMAT=json", NULL };
	scanner_run(&json, 1, "enforce", "reuse", 0, "open", "kill", "15", jlog, what);
	char line[4096];
	const char *ev = json_find_event(json.prog, "stale_observed_kill", line, sizeof line);
	ck_assert_msg(ev != NULL, "%s: no stale_observed_kill line in:\n%s", what, json.prog);
	ck_assert_msg(json_line_valid(ev), "%s: invalid JSON: %s", what, ev);
	snprintf(want, sizeof want, "\"observed\":{\"path\":\"/proc/%s/stat\",\"at\":", t);
	ck_assert_msg(strstr(ev, want), "%s: no %s in %s", what, want, ev);
	ck_assert_msg(strstr(ev, by_inode ? "\"identity\":{\"pidfs_inode\":" : "\"identity\":{\"start_ticks\":"),
	              "%s: no identity in %s", what, ev);
	snprintf(want, sizeof want, by_inode ? "\"id\":\"%s:" : "\"id\":null,\"identity\"", t);
	ck_assert_msg(strstr(ev, want), "%s: no %s in %s", what, want, ev);
	ck_assert_msg(strstr(ev, "\"from\":[{\"pc\":"), "%s: no stack in %s", what, ev);
	ck_assert_msg(strstr(ev, "\"action\":\"refused\""), "%s: not refused: %s", what, ev);
	ck_assert_msg(strstr(ev, "\"comm\":\"stranger\""), "%s: no holder in %s", what, ev);
	ck_assert_msg(!strstr(ev, "\"child\":"), "%s: a child's key in %s", what, ev);
}
END_TEST

/* Threads and a signal handler observing and probing one live process at
 * once: no probe may find it gone. */
START_TEST(concurrent_looks_never_lose_a_live_process)
{
	const char *what = "four threads and a timer handler: open /proc/T/stat, kill(T, 0)";
	if (!possible(what, NULL))
		return;
	struct obs r;
	scanner_run(&r, 1, "enforce", "live", 0, "stress", "kill", "0", NULL, what);
	expect_prog(&r, "stress_failures=0", 1, what);
	expect(&r, "target_end", "alive", what);
}
END_TEST

/* ---- the hooks change nothing the program sees ----------------------------------- */

START_TEST(open_hooks_keep_return_values_and_errno)
{
	const char *what = "every open entry point: return value and errno, with and without libkt";
	char *argv[] = { (char *)kt_test_helper("scanner"), "errno", NULL };
	char plain[4096], with[4096];
	char *env[] = { "KT_OBSERVE=enforce", NULL };
	int a = kt_test_run(0, argv, NULL, plain, sizeof plain, 1, 20);
	int b = kt_test_run(1, argv, run_env(env), with, sizeof with, 1, 20);
	ck_assert_msg(a == 0 && b == 0, "%s: status 0x%x / 0x%x:\n%s\n%s", what, a, b, plain, with);
	ck_assert_str_eq(with, plain);
	ck_assert_msg(strstr(plain, "created_mode=604"), "%s: mode not passed: %s", what, plain);
}
END_TEST

int main(void)
{
	Suite *s = kt_test_preload_suite("observe");
	kt_test_tcase(s, "pkill", 120, pkill_without_libkt_kills_the_stranger,
	              pkill_under_enforce_leaves_the_stranger_alone,
	              pkill_under_audit_lets_the_kill_through_and_says_so,
	              pkill_signals_a_live_match_exactly_once);
	kt_test_tcase(s, "killall", 120, killall_stays_safe_and_unchanged,
	              killall_signals_a_live_match_exactly_once);
	kt_test_tcase(s, "python", 120, python_stat_then_kill, python_live_target_signalled_once);
	TCase *tc = kt_test_tcase(s, "scanner", 120, scanner_target_gone_gets_esrch_quietly,
	                          own_child_keeps_the_childrens_rules);
	tcase_add_loop_test(tc, scanner_entry_point_binds_the_kill, 0,
	                    (int)(sizeof entry_points / sizeof entry_points[0]));
	tcase_add_loop_test(tc, scanner_send_reaches_the_process_seen_or_nobody, 0,
	                    (int)(sizeof sends / sizeof sends[0]));
	kt_test_tcase(s, "switch", 120, observation_is_off_by_default, kt_mode_audit_caps_kt_observe);
	kt_test_tcase(s, "report", 120, report_says_when_where_and_who);
	kt_test_tcase(s, "hooks", 60, open_hooks_keep_return_values_and_errno,
	              concurrent_looks_never_lose_a_live_process);
	return kt_test_main(s);
}
