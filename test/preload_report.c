/* SPDX-License-Identifier: MIT */
/* Reports (KT_LOG, KT_LOG_FORMAT, KT_STATS): every key of every event, in
 * text and JSON, in enforce and audit mode.
 *
 * The program is test/helpers/stale_kill: fork a job, reap it, kill() the old
 * number from cancel_job().  With nobody on the number the holder is "none";
 * the PID-reuse harness (test/helpers/reuse) supplies the runs where a
 * stranger holds it.  Without libkt none of these lines exist, so every
 * assertion here would fail with the hooks removed. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jsonline.h"
#include "scenario.h"
#include "testlib.h"

#include <kt.h>

struct run {
	char out[16384];
	int status;
};

/* Where pidfds are refused (the suite's seccomp runs) libkt says so once,
 * in one "degraded" event of its own: these tests count and parse the other
 * lines, so that one is taken out.  test_degraded checks the events. */
static void drop_no_pidfd_event(char *out)
{
	if (kt_test_have_pidfd())
		return;
	char *line = out;
	while (*line) {
		char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line + 1) : strlen(line);
		if (strstr(line, "degraded") &&
		    (strstr(line, "pidfd_open is unavailable") || strstr(line, "no_pidfd")) &&
		    (!end || strstr(line, "degraded") < end))
			memmove(line, line + len, strlen(line + len) + 1);
		else
			line += len;
	}
}

/* Fallbacks counted in a stale_kill run: the refused pidfd_open is one. */
#define FALLBACKS (kt_test_have_pidfd() ? "0" : "1")

/* stale_kill with libkt, ENV added, output (stdout+stderr) captured. */
static void run_stale(struct run *r, char *const env[], const char *arg)
{
	char *argv[] = { (char *)kt_test_helper("stale_kill"), (char *)arg, NULL };
	r->status = kt_test_run(1, argv, env, r->out, sizeof r->out, 1, 10);
	drop_no_pidfd_event(r->out);
	ck_assert_msg(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0,
	              "stale_kill failed, status 0x%x:\n%s", r->status, r->out);
}

/* run_stale with KT_LOG=stderr in log FORMAT and KT_MODE=MODE. */
static void run_stale_logged(struct run *r, const char *format, const char *mode)
{
	char kv_format[32], kv_mode[32];
	snprintf(kv_format, sizeof kv_format, "KT_LOG_FORMAT=%s", format);
	snprintf(kv_mode, sizeof kv_mode, "KT_MODE=%s", mode);
	char *env[] = { "KT_LOG=stderr", kv_format, kv_mode, NULL };
	run_stale(r, env, NULL);
}

/* The job's PID, from the helper's own result line. */
static int job_pid(const struct run *r)
{
	const char *p = strstr(r->out, "job=");
	ck_assert_msg(p != NULL, "no result line in:\n%s", r->out);
	return atoi(p + 4);
}

static void expect_valid_json(const char *out)
{
	char bad[16384]; /* a stale kill's line holds three stacks */
	const char *b = json_first_invalid(out, bad, sizeof bad);
	ck_assert_msg(b == NULL, "invalid JSON line: %s", b);
}

/* Nothing is written anywhere unless asked. */
START_TEST(test_silent_without_kt_log)
{
	struct run r;
	char *env[] = { "KT_LOG_FORMAT=json", "KT_STATS=1", NULL };
	run_stale(&r, env, NULL);
	int pid = job_pid(&r);
	char expect[64];
	snprintf(expect, sizeof expect, "job=%d kill=-1 errno=ESRCH\n", pid);
	ck_assert_str_eq(r.out, expect);
}
END_TEST

static const char *const modes[] = { "enforce", "audit" };

/* A stale kill nobody holds the number of: JSON, every key. */
START_TEST(test_json_stale_no_holder)
{
	const char *mode = modes[_i];
	struct run r;
	run_stale_logged(&r, "json", mode);
	int audit = strcmp(mode, "audit") == 0;
	int pid = job_pid(&r);
	expect_valid_json(r.out);
	/* Let through or refused, the kernel's answer and libkt's agree here:
	 * nobody holds the number. */
	kt_test_expect_in(r.out, "kill=-1 errno=ESRCH", mode);

	char line[16384], want[128];
	ck_assert_msg(json_find_event(r.out, "stale_kill", line, sizeof line),
	              "%s: no stale_kill event in:\n%s", mode, r.out);
	kt_test_expect_in(line, "\"time\":", mode);
	kt_test_expect_in(line, "\"process\":{\"pid\":", mode);
	kt_test_expect_in(line, "\"comm\":\"stale_kill\"}", mode);
	kt_test_expect_in(line, "\"call\":\"kill\"", mode);
	snprintf(want, sizeof want, "\"pid\":%d,\"sig\":15,\"signame\":\"SIGTERM\"", pid);
	kt_test_expect_in(line, want, mode);
	kt_test_expect_in(line, audit ? "\"action\":\"delivered\"" : "\"action\":\"refused\"", mode);
	kt_test_expect_in(line, "\"errno\":3", mode);
	kt_test_expect_in(line, audit ? "\"mode\":\"audit\"" : "\"mode\":\"enforce\"", mode);
	/* A fork's child has no inode libkt could have taken: no id. */
	kt_test_expect_in(line, "\"child\":{\"name\":\"stale_kill\",\"id\":null,"
	                "\"spawned_by\":\"fork\",\"spawned_at\":", mode);
	kt_test_expect_in(line, "\"reaped_by\":\"waitpid\",\"reaped_from\":[{\"pc\":", mode);
	ck_assert_msg(!strstr(line, "\"reaped_at\":null"), "%s: reap time missing: %s", mode, line);
	kt_test_expect_in(line, "\"holder\":null", mode);
	/* The caller: the exact return address into cancel_job, then the frame
	 * walk (the helper keeps frame pointers) up to main. */
	kt_test_expect_in(line, "\"caller\":[{\"pc\":\"0x", mode);
	kt_test_expect_in(line, "/test/helpers/stale_kill\",\"offset\":\"0x", mode);
	kt_test_expect_in(line, "\"symbol\":\"cancel_job+0x", mode);
	kt_test_expect_in(line, "\"symbol\":\"main+0x", mode);
	const char *caller = strstr(line, "\"caller\":[");
	ck_assert_msg(caller && strstr(caller, "cancel_job") < strstr(caller, "main+0x"),
	              "%s: frames out of order: %s", mode, line);
}
END_TEST

START_TEST(test_text_stale_no_holder)
{
	const char *mode = modes[_i];
	struct run r;
	run_stale_logged(&r, "text", mode);
	int audit = strcmp(mode, "audit") == 0;
	int pid = job_pid(&r);
	char want[160];
	snprintf(want, sizeof want, audit ? "libkt: stale kill(%d, SIGTERM), let through (audit mode): "
	                                  : "libkt: refused stale kill(%d, SIGTERM) with ESRCH: ", pid);
	kt_test_expect_in(r.out, want, mode);
	snprintf(want, sizeof want, "child %d (\"stale_kill\", fork ", pid);
	kt_test_expect_in(r.out, want, mode);
	kt_test_expect_in(r.out, " ago by waitpid()", mode);
	snprintf(want, sizeof want, "no process holds PID %d now", pid);
	kt_test_expect_in(r.out, want, mode);
	if (audit)
		kt_test_expect_in(r.out, "(kill failed: errno 3)", mode);
	kt_test_expect_in(r.out, "; called from 0x", mode);
	kt_test_expect_in(r.out, "(cancel_job+0x", mode);
	kt_test_expect_in(r.out, "/test/helpers/stale_kill+0x", mode);
	kt_test_expect_in(r.out, " <- 0x", mode);
	kt_test_expect_in(r.out, "(main+0x", mode);
	kt_test_expect_in(r.out, ") [pid ", mode);
	kt_test_expect_in(r.out, " stale_kill]\n", mode);
	/* One line per event: the report is one line, the program's is another. */
	int lines = 0;
	for (const char *p = r.out; (p = strchr(p, '\n')); p++)
		lines++;
	ck_assert_msg(lines == 2, "%s: expected 2 lines, got %d:\n%s", mode, lines, r.out);
}
END_TEST

/* PID:INODE, as util-linux's kill(1) and systemd name a process, in REPORT
 * (a JSON line, or text) of the reuse helper's run S (--ids): the child where
 * libkt has its inode (one made with a pidfd, here clone() with the
 * CLONE_PIDFD libkt adds, in inode mode), the holder where a pidfd of it can
 * be taken (pidfs, 6.9+): in audit mode as the hook saw it before the
 * delivery.  The inodes are the ones the helper took with pidfds of its own. */
static void check_ids(const struct scenario *s, const char *report, int json, const char *what)
{
	char pid[16], child_ino[32], stranger_ino[32], child_id[64], holder_id[64], no_id[64];
	scenario_field(s, "pid", pid, sizeof pid);
	scenario_field(s, "child_ino", child_ino, sizeof child_ino);
	scenario_field(s, "stranger_ino", stranger_ino, sizeof stranger_ino);
	int child_known = kt_test_identity() == KT_IDENTITY_INODE;
	int holder_known = kt_test_have_pidfd() && strcmp(stranger_ino, "0") != 0;
	ck_assert_msg(!child_known || strcmp(child_ino, "0") != 0, "%s: %s", what, s->line);
	if (json) {
		snprintf(child_id, sizeof child_id, "\"id\":\"%s:%s\"", pid, child_ino);
		snprintf(holder_id, sizeof holder_id, "\"holder\":{\"pid\":%s,\"id\":\"%s:%s\",", pid,
		         pid, stranger_ino);
		snprintf(no_id, sizeof no_id, "\"child\":{\"name\":\"reuse\",\"id\":null,");
	} else {
		snprintf(child_id, sizeof child_id, "child %s:%s (", pid, child_ino);
		snprintf(holder_id, sizeof holder_id, "another process: %s:%s \"", pid, stranger_ino);
		snprintf(no_id, sizeof no_id, "child %s (\"reuse\", clone ", pid);
	}
	/* Where pidfd_open is refused, clone's CLONE_PIDFD may still give libkt
	 * the child's inode, but the helper has no way to learn it too. */
	if (!kt_test_have_pidfd())
		kt_test_skip(what, "the child's inode: pidfd_open is refused, nothing to check it by");
	else
		kt_test_expect_in(report, child_known ? child_id : no_id, what);
	if (holder_known)
		kt_test_expect_in(report, holder_id, what);
	else
		kt_test_expect_in(report, json ? "\"id\":null,\"comm\":" : "another process: \"", what);
}

/* A stale kill whose number a stranger holds (the reuse harness): holder,
 * and the names PID:INODE of the child and the holder. */
static void holder_case(const char *format, const char *mode)
{
	char what[96];
	snprintf(what, sizeof what, "holder format=%s mode=%s", format, mode);
	if (!scenario_possible(what))
		return;
	char kv_format[32], kv_mode[32];
	snprintf(kv_format, sizeof kv_format, "KT_LOG_FORMAT=%s", format);
	snprintf(kv_mode, sizeof kv_mode, "KT_MODE=%s", mode);
	char *env[] = { "KT_LOG=stderr", kv_format, kv_mode, NULL };
	char *argv[] = { (char *)kt_test_helper("reuse"), "--creation=clone", "--reap=waitpid",
	                 "--ids", NULL };
	struct scenario s;
	if (!scenario_run(&s, 1, argv, env, what))
		return;
	int audit = strcmp(mode, "audit") == 0;
	scenario_expect(&s, "stranger", audit ? "killed" : "alive", what, 1);
	if (strcmp(format, "json") == 0) {
		char line[16384];
		expect_valid_json(s.out);
		ck_assert_msg(json_find_event(s.out, "stale_kill", line, sizeof line),
		              "%s: no stale_kill event in:\n%s", what, s.out);
		/* The stranger is the reuse supervisor's child: pid 1's.  It names
		 * itself "stranger" only once it runs, which may be after the
		 * program's kill (reuse.c says "ready" as soon as clone3 returns),
		 * so until then it carries the supervisor's name. */
		ck_assert_msg(strstr(line, "\"comm\":\"stranger\",\"ppid\":1,\"decoy\":false}") ||
		              strstr(line, "\"comm\":\"reuse\",\"ppid\":1,\"decoy\":false}"),
		              "%s: holder is not the stranger: %s", what, line);
		kt_test_expect_in(line, "\"holder\":{\"pid\":", what);
		kt_test_expect_in(line, audit ? "\"action\":\"delivered\",\"errno\":0"
		                      : "\"action\":\"refused\",\"errno\":3", what);
		kt_test_expect_in(line, "/test/helpers/reuse\"", what);
		check_ids(&s, line, 1, what);
	} else {
		const char *said = audit ? "; the signal hit another process: "
		                         : "; PID now held by another process: ";
		ck_assert_msg(kt_test_holder_named(s.out, said, "\"stranger\" (parent 1)") ||
		              kt_test_holder_named(s.out, said, "\"reuse\" (parent 1)"),
		              "%s: holder is not the stranger:\n%s", what, s.out);
		check_ids(&s, s.out, 0, what);
	}
}

START_TEST(test_holder_json_enforce) { holder_case("json", "enforce"); }
END_TEST
START_TEST(test_holder_json_audit) { holder_case("json", "audit"); }
END_TEST
START_TEST(test_holder_text_enforce) { holder_case("text", "enforce"); }
END_TEST
START_TEST(test_holder_text_audit) { holder_case("text", "audit"); }
END_TEST

/* libkt falls back: one "degraded" event per reason, once, and the stale
 * kill is still caught by the wait hook.  Two reasons can be staged from
 * inside the program: no descriptor left for a pidfd (RLIMIT_NOFILE), and no
 * pidfd_open at all (a seccomp filter, as on a kernel older than 5.3). */
static const struct {
	const char *arg, *reason, *err, *text;
} degradations[] = {
	{ "--emfile", "fd_exhausted", "24", "could not open a pidfd for a child (no descriptor free)" },
	{ "--deny-pidfd", "no_pidfd", "38", "pidfd_open is unavailable" },
};

START_TEST(test_degraded)
{
	if (kt_test_identity() == KT_IDENTITY_NONE) {
		/* These degradations are provoked on top of working pidfds. */
		printf("SKIP: test_degraded: no pidfds in this run\n");
		return;
	}
	for (int json = 0; json <= 1; json++) {
		const char *what = degradations[_i].arg;
		char *env[] = { "KT_LOG=stderr", json ? "KT_LOG_FORMAT=json" : "KT_LOG_FORMAT=text",
			        NULL };
		struct run r;
		run_stale(&r, env, degradations[_i].arg);
		kt_test_expect_in(r.out, "kill=-1 errno=ESRCH", what);
		char want[160];
		if (json) {
			char line[1024];
			expect_valid_json(r.out);
			ck_assert_msg(json_find_event(r.out, "degraded", line, sizeof line),
			              "%s: no degraded event in:\n%s", what, r.out);
			snprintf(want, sizeof want, "\"reason\":\"%s\",\"errno\":%s,\"message\":\"%s",
			         degradations[_i].reason, degradations[_i].err, degradations[_i].text);
			kt_test_expect_in(line, want, what);
			kt_test_expect_in(line, "\"process\":{\"pid\":", what);
			ck_assert_msg(json_find_event(r.out, "stale_kill", line, sizeof line),
			              "%s: no stale_kill event in:\n%s", what, r.out);
			kt_test_expect_in(line, "\"action\":\"refused\"", what);
		} else {
			snprintf(want, sizeof want, "libkt: degraded: %s", degradations[_i].text);
			kt_test_expect_in(r.out, want, what);
			snprintf(want, sizeof want, "(errno %s) [pid ", degradations[_i].err);
			kt_test_expect_in(r.out, want, what);
			kt_test_expect_in(r.out, "libkt: refused stale kill(", what);
		}
		const char *first = strstr(r.out, "degraded");
		ck_assert_msg(first && !strstr(first + 1, "degraded"), "degraded said twice:\n%s",
		              r.out);
	}
}
END_TEST

/* KT_STATS=1: the summary at exit — from return and exit(), not _exit(). */
static const char *const exits[] = { "--exit=return", "--exit=exit", "--exit=_exit" };

START_TEST(test_summary)
{
	for (int json = 0; json <= 1; json++) {
		char *env[] = { "KT_LOG=stderr", "KT_STATS=1",
			        json ? "KT_LOG_FORMAT=json" : "KT_LOG_FORMAT=text", NULL };
		struct run r;
		run_stale(&r, env, exits[_i]);
		int expected = _i != 2;
		if (json) {
			char line[1024];
			expect_valid_json(r.out);
			const char *got = json_find_event(r.out, "summary", line, sizeof line);
			ck_assert_msg(!got == !expected, "%s: summary %s:\n%s", exits[_i],
			              expected ? "missing" : "written after _exit", r.out);
			if (got) {
				kt_test_expect_in(line, "\"mode\":\"enforce\"", exits[_i]);
				kt_test_expect_in(line, "\"children_tracked\":1", exits[_i]);
				kt_test_expect_in(line, "\"kills_via_pidfd\":0", exits[_i]);
				kt_test_expect_in(line, "\"stale_refused\":1", exits[_i]);
				kt_test_expect_in(line, "\"stale_delivered\":0", exits[_i]);
				char fb[32];
				snprintf(fb, sizeof fb, "\"fallbacks\":%s", FALLBACKS);
				kt_test_expect_in(line, fb, exits[_i]);
				kt_test_expect_in(line, "\"reaps_seen\":1", exits[_i]);
			}
		} else {
			char want[256];
			snprintf(want, sizeof want,
			         "libkt: summary (enforce mode): 1 children tracked, "
			         "1 reaps seen, 0 kills delivered through pidfds, "
			         "1 stale kills refused, 0 stale kills let through, "
			         "%s fallbacks [pid ", FALLBACKS);
			const char *got = strstr(r.out, want);
			ck_assert_msg(!got == !expected, "%s: text summary %s:\n%s", exits[_i],
			              expected ? "missing" : "written after _exit", r.out);
		}
	}
}
END_TEST

/* In audit mode the summary counts the stale kill as let through, not refused. */
START_TEST(test_summary_audit_counts)
{
	char *env[] = { "KT_LOG=stderr", "KT_STATS=1", "KT_LOG_FORMAT=json", "KT_MODE=audit",
		        NULL };
	struct run r;
	run_stale(&r, env, NULL);
	char line[1024];
	ck_assert_msg(json_find_event(r.out, "summary", line, sizeof line), "no summary:\n%s",
	              r.out);
	kt_test_expect_in(line, "\"mode\":\"audit\"", "audit");
	kt_test_expect_in(line, "\"stale_refused\":0", "audit");
	kt_test_expect_in(line, "\"stale_delivered\":1", "audit");
}
END_TEST

/* KT_LOG=PATH: events go to the file (mode 0600, appended), not to stderr. */
START_TEST(test_log_file)
{
	char dir[] = "/tmp/kt-report-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char path[128], kv[160];
	snprintf(path, sizeof path, "%s/kt.log", dir);
	snprintf(kv, sizeof kv, "KT_LOG=%s", path);
	char *env[] = { kv, "KT_LOG_FORMAT=json", "KT_STATS=1", NULL };
	struct run r;
	run_stale(&r, env, NULL);
	run_stale(&r, env, NULL); /* a second process appends */
	ck_assert_msg(strchr(r.out, '{') == NULL, "report on stdout/stderr:\n%s", r.out);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	static char text[16384];
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ssize_t n = read(fd, text, sizeof text - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	text[n] = '\0';
	expect_valid_json(text);
	int events = 0;
	for (const char *p = text; (p = strstr(p, "{\"event\":\"stale_kill\"")); p++)
		events++;
	ck_assert_msg(events == 2, "expected 2 stale_kill events, got %d:\n%s", events, text);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* Configuration warnings follow the format too, so a JSON log stays JSON. */
START_TEST(test_warning_json)
{
	char *env[] = { "KT_LOG=stderr", "KT_LOG_FORMAT=json", "KT_STATS=yes", NULL };
	struct run r;
	run_stale(&r, env, NULL);
	char line[1024];
	expect_valid_json(r.out);
	ck_assert_msg(json_find_event(r.out, "warning", line, sizeof line), "no warning:\n%s",
	              r.out);
	kt_test_expect_in(line, "\"message\":\"libkt: ignoring KT_STATS=\\\"yes\\\"", "warning");
}
END_TEST

/* A program whose path is long and full of bytes that escape to six
 * characters each: the JSON line must stay one valid object (frames that do
 * not fit are left out whole, never cut), the text line one line. */
START_TEST(test_hostile_path_stays_valid)
{
	char dir[] = "/tmp/kt-report-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char sub[512], exe[1024];
	char name[201];
	memset(name, '\x01', 200);
	name[0] = '"';
	name[1] = '\n';
	name[200] = '\0';
	snprintf(sub, sizeof sub, "%s/%s", dir, name);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	snprintf(exe, sizeof exe, "%s/stale_kill", sub);
	int in = open(kt_test_helper("stale_kill"), O_RDONLY), out = open(exe, O_WRONLY | O_CREAT, 0700);
	ck_assert_int_ge(in, 0);
	ck_assert_int_ge(out, 0);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	close(in);
	close(out);

	for (int json = 0; json <= 1; json++) {
		char *env[] = { "KT_LOG=stderr", json ? "KT_LOG_FORMAT=json" : "KT_LOG_FORMAT=text",
			        NULL };
		/* Six frames in the hostile module: more than a line can hold. */
		char *argv[] = { exe, "--depth=5", NULL };
		struct run r;
		r.status = kt_test_run(1, argv, env, r.out, sizeof r.out, 1, 10);
		ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "status 0x%x:\n%s",
		              r.status, r.out);
		drop_no_pidfd_event(r.out);
		int lines = 0;
		for (const char *p = r.out; (p = strchr(p, '\n')); p++)
			lines++;
		ck_assert_msg(lines == 2, "expected 2 lines, got %d:\n%s", lines, r.out);
		if (json) {
			char line[16384];
			expect_valid_json(r.out);
			ck_assert_msg(json_find_event(r.out, "stale_kill", line, sizeof line),
			              "no stale_kill event in:\n%s", r.out);
			kt_test_expect_in(line, "\"symbol\":\"cancel_job+0x", "hostile path");
			kt_test_expect_in(line, "\\u0001\\u0001", "hostile path");
			kt_test_expect_in(line, "}]}", "hostile path");
			/* The kill's own stack, last in the line: */
			const char *caller = strstr(line, "\"caller\":[");
			ck_assert_msg(caller != NULL, "no caller (line of %zu bytes)", strlen(line));
			int frames = 0;
			for (const char *p = caller; (p = strstr(p, "{\"pc\":")); p++)
				frames++;
			ck_assert_msg(frames >= 1 && frames < 6, "%d caller frames: none left out?",
			              frames);
		} else {
			kt_test_expect_in(r.out, "(cancel_job+0x", "hostile path");
			kt_test_expect_in(r.out, " stale_kill]\n", "hostile path");
		}
	}
	unlink(exe);
	rmdir(sub);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = kt_test_preload_suite("report");
	TCase *tc = kt_test_tcase(s, "stale_kill", 0, test_silent_without_kt_log);
	tcase_add_loop_test(tc, test_json_stale_no_holder, 0, 2);
	tcase_add_loop_test(tc, test_text_stale_no_holder, 0, 2);

	kt_test_tcase(s, "holder", 0, test_holder_json_enforce, test_holder_json_audit,
	              test_holder_text_enforce, test_holder_text_audit);

	tc = kt_test_tcase(s, "other events", 0, test_summary_audit_counts, test_log_file,
	                   test_warning_json, test_hostile_path_stays_valid);
	tcase_add_loop_test(tc, test_degraded, 0, (int)(sizeof degradations / sizeof degradations[0]));
	tcase_add_loop_test(tc, test_summary, 0, 3);
	return kt_test_main(s);
}
