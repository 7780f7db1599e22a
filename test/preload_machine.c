/* SPDX-License-Identifier: MIT */
/* The machine's settings and the system log: /etc/libkt.conf read at start-up
 * (which files are trusted, bad lines, a file too long, the environment over
 * it), and KT_LOG=syslog (the exact reports, as datagrams on /dev/log, text
 * and JSON; a missing or full /dev/log changes nothing for the program, never
 * blocks it, and the lost reports are counted).
 *
 * Each case runs a bash script that starts test/helpers/machine_ns, which
 * runs the program in a private mount namespace whose /etc/libkt.conf and
 * /dev/log are the test's (root, or a user namespace; SKIP without either).
 * The program under test is mostly test/helpers/stale_kill: one stale kill,
 * refused (enforce) or let through (audit). */
#include <check.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "jsonline.h"
#include "testlib.h"

struct run {
	char out[32768];
	int status;
	int skipped;
};

static char helpers_kv[4200], lib_kv[8400];

static void setup(void)
{
	char lib[4096];
	snprintf(lib, sizeof lib, "%s", kt_test_lib());
	snprintf(helpers_kv, sizeof helpers_kv, "H=%s/test/helpers", dirname(lib));
	/* What the suite preloads (a sanitizer run puts its runtime first). */
	const char *pre = getenv("KT_TEST_PRELOAD");
	snprintf(lib_kv, sizeof lib_kv, "LIB=%s", pre && *pre ? pre : kt_test_lib());
}

/* bash -c SCRIPT, not preloaded, with $H and $LIB set and $D a fresh
 * directory; stdout and stderr merged.  A script whose machine_ns could not
 * make its namespace is a skip (R->skipped), said once. */
static void sh(struct run *r, const char *script)
{
	char full[8192];
	snprintf(full, sizeof full, "D=$(mktemp -d) || exit 1; trap 'rm -rf \"$D\"' EXIT\n%s", script);
	char *argv[] = { "/bin/bash", "-c", full, NULL };
	char *env[] = { helpers_kv, lib_kv, NULL };
	r->status = kt_test_run(0, argv, env, r->out, sizeof r->out, 1, 60);
	ck_assert_msg(r->status != -1, "could not run bash");
	const char *skip = strstr(r->out, "SKIP: machine_ns: ");
	r->skipped = skip != NULL;
	if (skip) {
		printf("%.*s\n", (int)strcspn(skip, "\n"), skip);
		fflush(stdout);
	}
}


static void expect_not_in(const char *hay, const char *needle, const char *what)
{
	ck_assert_msg(strstr(hay, needle) == NULL, "%s: did not expect \"%s\" in:\n%s", what,
	              needle, hay);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* ---- /etc/libkt.conf ----------------------------------------------------------- */

/* The file alone turns audit mode and reports on, for a program whose
 * environment says nothing: the stale kill goes through, and is reported.
 * Without the file the same program's kill is refused, silently. */
START_TEST(test_file_sets_mode_and_log)
{
	struct run r;
	sh(&r, "printf 'mode = audit\\nlog = stderr\\n' > $D/conf\n"
	       "$H/machine_ns --conf $D/conf -- env LD_PRELOAD=\"$LIB\" $H/stale_kill\n"
	       "echo \"status=$?\"\n"
	       "env LD_PRELOAD=\"$LIB\" $H/stale_kill\n");
	if (r.skipped)
		return;
	kt_test_expect_exit(&r, 0, "stale_kill with and without the file");
	kt_test_expect_in(r.out, "libkt: stale kill(", "audit mode from the file");
	kt_test_expect_in(r.out, "let through (audit mode)", "audit mode from the file");
	kt_test_expect_in(r.out, "status=0\n", "audit mode from the file");
	/* Both runs print the kill's outcome: ESRCH either way (nobody holds
	 * the number), reported once, by the run with the file. */
	ck_assert_int_eq(count(r.out, "kill=-1 errno=ESRCH"), 2);
	ck_assert_int_eq(count(r.out, "libkt: stale kill("), 1);
	expect_not_in(strstr(r.out, "status=0\n"), "libkt", "reports without the file");
}
END_TEST

/* A file that root does not own, that others may write, or that is no
 * regular file is ignored, and said so where the environment's log goes; a
 * FIFO does not hang the start. */
static const struct {
	const char *options, *why;
	int needs_root;
} untrusted[] = {
	{ "--conf $D/conf --conf-mode 0664", "it is writable by group or others", 0 },
	{ "--conf $D/conf --conf-mode 0646", "it is writable by group or others", 0 },
	{ "--conf $D/conf --conf-uid 1", "it is not owned by root", 1 },
	{ "--conf-fifo", "it is not a regular file", 0 },
};

START_TEST(test_file_untrusted)
{
	if (untrusted[_i].needs_root && geteuid() != 0) {
		printf("SKIP: libkt.conf owned by another user: needs root to give it away\n");
		return;
	}
	char script[1024];
	snprintf(script, sizeof script,
	         "printf 'mode = off\\n' > $D/conf\n"
	         "KT_LOG=stderr timeout 20 $H/machine_ns %s -- env LD_PRELOAD=\"$LIB\" $H/stale_kill\n"
	         "echo \"status=$?\"\n",
	         untrusted[_i].options);
	struct run r;
	sh(&r, script);
	if (r.skipped)
		return;
	char want[200];
	snprintf(want, sizeof want, "libkt: ignoring /etc/libkt.conf: %s\n", untrusted[_i].why);
	kt_test_expect_in(r.out, want, untrusted[_i].options);
	/* Not off: the stale kill is refused and reported. */
	kt_test_expect_in(r.out, "libkt: refused stale kill(", untrusted[_i].options);
	kt_test_expect_in(r.out, "status=0\n", untrusted[_i].options);
}
END_TEST

/* Each bad line gets one warning, in the log the file itself names, once per
 * process; the good lines around it apply. */
START_TEST(test_file_bad_lines)
{
	struct run r;
	sh(&r, "printf 'log = stderr\\nmode = Audit\\nthis is not a setting\\nstats = 1\\n' > $D/conf\n"
	       "$H/machine_ns --conf $D/conf -- env LD_PRELOAD=\"$LIB\" $H/stale_kill\n");
	if (r.skipped)
		return;
	kt_test_expect_exit(&r, 0, "stale_kill with two bad lines");
	kt_test_expect_in(r.out, "libkt: /etc/libkt.conf:2: ignoring mode = \"Audit\" (expected enforce, audit "
	                 "or off); using enforce\n",
	          "bad value");
	kt_test_expect_in(r.out, "libkt: /etc/libkt.conf:3: ignoring \"this is not a setting\" (expected key = "
	                 "value)\n",
	          "bad line");
	ck_assert_int_eq(count(r.out, "ignoring"), 2);
	kt_test_expect_in(r.out, "libkt: refused stale kill(", "mode left at enforce");
	kt_test_expect_in(r.out, "libkt: summary (enforce mode)", "stats = 1 applies");
}
END_TEST

/* Past 8192 bytes nothing is read: the settings before apply, one warning
 * says so, and a half line at the cut is not taken for a setting. */
START_TEST(test_file_too_long)
{
	struct run r;
	sh(&r, "{ echo 'log = stderr'; for i in $(seq 400); do echo '# padding padding padding'; done;\n"
	       "  echo 'mode = audit'; } > $D/conf\n"
	       "$H/machine_ns --conf $D/conf -- env LD_PRELOAD=\"$LIB\" $H/stale_kill\n");
	if (r.skipped)
		return;
	kt_test_expect_exit(&r, 0, "stale_kill with a long file");
	kt_test_expect_in(r.out, "libkt: /etc/libkt.conf: longer than 8192 bytes; the lines past that are "
	                 "ignored\n",
	          "long file");
	kt_test_expect_in(r.out, "libkt: refused stale kill(", "mode = audit past the cut is not read");
}
END_TEST

/* The environment wins over the file, setting by setting. */
START_TEST(test_environment_over_file)
{
	struct run r;
	sh(&r, "printf 'mode = off\\nlog = stderr\\nlog_format = json\\n' > $D/conf\n"
	       "KT_MODE=enforce $H/machine_ns --conf $D/conf -- env LD_PRELOAD=\"$LIB\" $H/stale_kill\n");
	if (r.skipped)
		return;
	kt_test_expect_exit(&r, 0, "KT_MODE=enforce over mode = off");
	char line[8192];
	ck_assert_msg(json_find_event(r.out, "stale_kill", line, sizeof line) != NULL,
	              "no JSON stale_kill report:\n%s", r.out);
	kt_test_expect_in(line, "\"action\":\"refused\"", "KT_MODE=enforce over the file");
}
END_TEST

/* ---- KT_LOG=syslog --------------------------------------------------------------- */

/* Every report one datagram: the same reports, in the same order, as the
 * same program writes into a KT_LOG file (addresses, times and PIDs aside),
 * each "<13>libkt[PID]: " and the line, PID the reporting process's. */
START_TEST(test_syslog_exact_reports)
{
	struct run r;
	sh(&r, "mask() { sed -E 's/0x[0-9a-f]+/ADDR/g; s/[0-9]+/N/g' \"$@\"; }\n"
	       "$H/machine_ns --syslog $D/syslog -- env LD_PRELOAD=\"$LIB\" KT_LOG=syslog KT_STATS=1 \\\n"
	       "  $H/stale_kill --depth=2 --fork-after || exit 1\n"
	       "env LD_PRELOAD=\"$LIB\" KT_LOG=$D/file KT_STATS=1 $H/stale_kill --depth=2 --fork-after \\\n"
	       "  >/dev/null || exit 1\n"
	       "n=$(wc -l < $D/syslog); [ \"$n\" = \"$(wc -l < $D/file)\" ] && echo \"datagrams=lines=$n\"\n"
	       "cat $D/syslog\n"
	       "sed -E 's/^<13>libkt\\[[0-9]+\\]: /libkt: /' $D/syslog | mask > $D/a\n"
	       "mask $D/file > $D/b\n"
	       "cmp -s $D/a $D/b && echo same || diff $D/a $D/b\n"
	       /* The header's PID is the one the line names. */
	       "sed -nE 's/^<13>libkt\\[([0-9]+)\\]: .* \\[pid ([0-9]+) .*$/\\1 \\2/p' $D/syslog |\n"
	       "  while read -r a b; do [ \"$a\" = \"$b\" ] && echo pid-ok || echo \"pid $a != $b\"; done\n");
	if (r.skipped)
		return;
	kt_test_expect_exit(&r, 0, "stale_kill, KT_LOG=syslog");
	/* At least the stale kill, the child's summary (--fork-after: it exits
	 * with exit()) and the program's summary (and, where pidfds are
	 * refused, a degraded event). */
	const char *n = strstr(r.out, "datagrams=lines=");
	ck_assert_msg(n && atoi(n + 16) >= 3, "as many datagrams as lines in a file:\n%s", r.out);
	kt_test_expect_in(r.out, "\nsame\n", "the same reports as in a file");
	kt_test_expect_in(r.out, "<13>libkt[", "RFC 3164 priority and ident");
	kt_test_expect_in(r.out, "]: refused stale kill(", "the text line, its \"libkt: \" in the ident");
	ck_assert_int_eq(count(r.out, "pid-ok"), atoi(n + 16));
	expect_not_in(r.out, " != ", "a header PID that is not the reporter's");
}
END_TEST

/* In JSON each datagram's message is the JSON object. */
START_TEST(test_syslog_json)
{
	struct run r;
	sh(&r, "$H/machine_ns --syslog $D/syslog -- env LD_PRELOAD=\"$LIB\" KT_LOG=syslog \\\n"
	       "  KT_LOG_FORMAT=json KT_STATS=1 $H/stale_kill >/dev/null || exit 1\n"
	       "sed -E 's/^<13>libkt\\[[0-9]+\\]: //' $D/syslog\n");
	if (r.skipped)
		return;
	kt_test_expect_exit(&r, 0, "stale_kill, KT_LOG=syslog, json");
	ck_assert_int_ge(count(r.out, "\n"), 2);
	for (const char *line = r.out; *line; line = strchr(line, '\n') + 1)
		ck_assert_msg(json_line_valid(line), "not one JSON object: %s", line);
	char line[8192];
	ck_assert_ptr_nonnull(json_find_event(r.out, "stale_kill", line, sizeof line));
	ck_assert_ptr_nonnull(json_find_event(r.out, "summary", line, sizeof line));
}
END_TEST

/* No /dev/log: the program does exactly what it does with reports off
 * (same output, same status), and holds no descriptor more than it would. */
START_TEST(test_syslog_absent_changes_nothing)
{
	struct run r;
	sh(&r, "prog='true & p=$!; wait $p; kill $p 2>/dev/null; echo \"kill=$?\"; cd /proc/$$/fd && echo *'\n"
	       "$H/machine_ns --no-syslog -- env LD_PRELOAD=\"$LIB\" KT_LOG=syslog KT_STATS=1 \\\n"
	       "  bash -c \"$prog\" > $D/a 2>&1; echo \"status=$?\"\n"
	       "$H/machine_ns --no-syslog -- env LD_PRELOAD=\"$LIB\" bash -c \"$prog\" > $D/b 2>&1\n"
	       "cat $D/a; cmp -s $D/a $D/b && echo same || diff $D/a $D/b\n"
	       /* A syslog socket does not stay open either. */
	       "$H/machine_ns --syslog $D/syslog -- env LD_PRELOAD=\"$LIB\" KT_LOG=syslog \\\n"
	       "  bash -c \"$prog\" > $D/c 2>&1\n"
	       "cmp -s $D/c $D/b && echo same-with-socket || diff $D/c $D/b\n"
	       "grep -c 'refused stale kill' $D/syslog\n");
	if (r.skipped)
		return;
	kt_test_expect_exit(&r, 0, "bash, KT_LOG=syslog without /dev/log");
	kt_test_expect_in(r.out, "status=0\nkill=1\n", "the stale kill refused");
	kt_test_expect_in(r.out, "\nsame\n", "the same output and status as with reports off");
	kt_test_expect_in(r.out, "\nsame-with-socket\n1\n", "no descriptor left by a sent report");
}
END_TEST

/* A full /dev/log: the report is dropped at once (the program goes on, not
 * blocked), and counted: once the queue has room the exit summary says so. */
START_TEST(test_syslog_full_drops_and_counts)
{
	struct run r;
	sh(&r, "job='(exit 0) & p=$!; wait $p; kill $p 2>/dev/null; echo \"kill=$?\"'\n"
	       /* The reports the same job makes, into a file: as many are lost. */
	       "env LD_PRELOAD=\"$LIB\" KT_LOG=$D/ref bash -c \"$job\" >/dev/null\n"
	       "echo \"made=$(wc -l < $D/ref)\"\n"
	       "timeout 20 $H/machine_ns --syslog-full $D/syslog -- env LD_PRELOAD=\"$LIB\" \\\n"
	       "  KT_LOG=syslog KT_STATS=1 bash -c \"$job\"'; echo drain >&3; read -r a <&3; echo \"$a\"'\n"
	       "echo \"status=$?\"\n"
	       "cat $D/syslog\n");
	if (r.skipped)
		return;
	kt_test_expect_exit(&r, 0, "bash, KT_LOG=syslog, /dev/log full");
	kt_test_expect_in(r.out, "kill=1\ndrained\nstatus=0\n", "the program not held up");
	expect_not_in(r.out, "refused stale kill", "a report sent into a full queue");
	kt_test_expect_in(r.out, ": summary (enforce mode): ", "the summary, after the drain");
	const char *made = strstr(r.out, "made=");
	ck_assert_ptr_nonnull(made);
	char want[128];
	snprintf(want, sizeof want, ", %d reports dropped (the log could not be written) [pid ",
	         atoi(made + 5));
	ck_assert_int_ge(atoi(made + 5), 1);
	kt_test_expect_in(r.out, want, "the dropped reports counted");
}
END_TEST

int main(void)
{
	setup();
	Suite *s = kt_test_preload_suite("machine");
	TCase *tc = kt_test_tcase(s, "libkt.conf", 0, test_file_sets_mode_and_log, test_file_bad_lines,
	                          test_file_too_long, test_environment_over_file);
	tcase_add_loop_test(tc, test_file_untrusted, 0, sizeof untrusted / sizeof untrusted[0]);
	kt_test_tcase(s, "syslog", 0, test_syslog_exact_reports, test_syslog_json,
	              test_syslog_absent_changes_nothing, test_syslog_full_drops_and_counts);
	return kt_test_main(s);
}
