/* SPDX-License-Identifier: MIT */
/* Unit tests of the settings parser (shim/config.c), linked without any hook:
 * the defaults, each variable's valid values, the rule every variable follows
 * for bad input (what was in force stays and one warning names the
 * variable), libkt.conf's lines, and the environment over the file. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "heldfd.h"
#include "testlib.h"

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* The configuration of an environment that holds an unrelated variable and
 * then A, B and C ("K=V"; the first NULL ends the list), parsed as a
 * secure-execution (set-user-ID) program would when SECURE. */
static struct kt_config parse(int secure, const char *a, const char *b, const char *c)
{
	char *env[] = { "HOME=/root", (char *)a, (char *)b, (char *)c, NULL };
	struct kt_config cfg;
	kt_config_parse(&cfg, env, secure);
	return cfg;
}

/* One variable, not secure. */
static struct kt_config parse1(const char *kv)
{
	return parse(0, kv, NULL, NULL);
}

static void expect_defaults(const struct kt_config *c)
{
	ck_assert_int_eq(c->mode, KT_MODE_ENFORCE);
	ck_assert_int_eq(c->identity, KT_IDENTITY_INODE);
	ck_assert_int_eq(c->log_target, KT_LOG_NONE);
	ck_assert_int_eq(c->log_format, KT_LOG_TEXT);
	ck_assert_int_eq(c->stats, 0);
	ck_assert_int_eq(c->exitcode, 0);
	ck_assert_int_eq(c->max_fds, KT_MAX_FDS_DEFAULT);
	ck_assert_int_eq(c->provoke_fd, -1);
	ck_assert_int_eq(c->observe, KT_MODE_OFF);
}

/* ---- defaults and names ---------------------------------------------------- */

START_TEST(defaults_without_variables)
{
	struct kt_config c = parse(0, NULL, NULL, NULL);
	expect_defaults(&c);
	ck_assert_int_eq(c.n_warnings, 0);
	/* A NULL environment is an empty one. */
	kt_config_parse(&c, NULL, 0);
	expect_defaults(&c);
	ck_assert_int_eq(c.n_warnings, 0);
}
END_TEST

START_TEST(names_must_match_exactly)
{
	/* KT_MODES and KT_MOD are other variables, not KT_MODE. */
	struct kt_config c = parse(0, "KT_MODES=off", "KT_MOD=off", NULL);
	ck_assert_int_eq(c.mode, KT_MODE_ENFORCE);
	ck_assert_int_eq(c.n_warnings, 0);
}
END_TEST

/* ---- KT_MODE and KT_IDENTITY ------------------------------------------------- */

START_TEST(every_valid_mode_and_identity)
{
	ck_assert_int_eq(parse1("KT_MODE=off").mode, KT_MODE_OFF);
	ck_assert_int_eq(parse1("KT_MODE=audit").mode, KT_MODE_AUDIT);
	ck_assert_int_eq(parse1("KT_MODE=enforce").mode, KT_MODE_ENFORCE);
	/* auto and inode are one wish, the strongest mode (config.h). */
	ck_assert_int_eq(parse1("KT_IDENTITY=auto").identity, KT_IDENTITY_INODE);
	ck_assert_int_eq(parse1("KT_IDENTITY=inode").identity, KT_IDENTITY_INODE);
	ck_assert_int_eq(parse1("KT_IDENTITY=none").identity, KT_IDENTITY_NONE);
	struct kt_config c = parse1("KT_IDENTITY=fd");
	ck_assert_int_eq(c.identity, KT_IDENTITY_FD);
	ck_assert_int_eq(c.n_warnings, 0);
}
END_TEST

START_TEST(garbage_gets_the_default_and_one_warning_each)
{
	struct kt_config c = parse(0, "KT_MODE=Enforce", "KT_IDENTITY=pidfs", "KT_LOG=stderr");
	ck_assert_int_eq(c.mode, KT_MODE_ENFORCE);
	ck_assert_int_eq(c.identity, KT_IDENTITY_INODE);
	ck_assert_int_eq(c.n_warnings, 2);
	ck_assert_ptr_nonnull(strstr(c.warnings[0], "KT_MODE=\"Enforce\""));
	ck_assert_ptr_nonnull(strstr(c.warnings[0], "using enforce"));
	ck_assert_ptr_nonnull(strstr(c.warnings[1], "KT_IDENTITY=\"pidfs\""));

	/* Off is never guessed from a near miss: "of" is not "off". */
	c = parse1("KT_MODE=of");
	ck_assert_int_eq(c.mode, KT_MODE_ENFORCE);
	c = parse1("KT_MODE=");
	ck_assert_int_eq(c.mode, KT_MODE_ENFORCE);
	ck_assert_int_eq(c.n_warnings, 1);
	c = parse1("KT_MODE=audit ");
	ck_assert_int_eq(c.mode, KT_MODE_ENFORCE);
	/* Nor fd mode from another case. */
	c = parse1("KT_IDENTITY=FD");
	ck_assert_int_eq(c.identity, KT_IDENTITY_INODE);
	ck_assert_int_eq(c.n_warnings, 1);
	ck_assert_ptr_nonnull(strstr(c.warnings[0], "auto, inode, fd or none"));
}
END_TEST

START_TEST(hostile_values_are_quoted_and_bounded)
{
	char big[5000];
	memset(big, 'x', sizeof big);
	memcpy(big, "KT_MODE=", 8);
	big[sizeof big - 1] = '\0';
	struct kt_config c = parse(0, big, "KT_IDENTITY=a\"\n\033[31m", NULL);
	ck_assert_int_eq(c.n_warnings, 2);
	ck_assert_uint_lt(strlen(c.warnings[0]), KT_CONFIG_WARNING_LEN);
	/* No raw newline, quote or escape can reach the log line. */
	ck_assert_ptr_null(strchr(c.warnings[1], '\n'));
	ck_assert_ptr_null(strchr(c.warnings[1], '\033'));
	ck_assert_ptr_nonnull(strstr(c.warnings[1], "a\\x22\\x0a\\x1b"));
}
END_TEST

/* ---- KT_LOG, KT_LOG_FORMAT, KT_STATS, KT_EXITCODE ---------------------------- */

START_TEST(log_targets)
{
	ck_assert_int_eq(parse1("KT_LOG=stderr").log_target, KT_LOG_STDERR);
	struct kt_config c = parse(0, "KT_LOG=/tmp/kt.log", "KT_MODE=audit", NULL);
	ck_assert_int_eq(c.log_target, KT_LOG_FILE);
	ck_assert_str_eq(c.log_path, "/tmp/kt.log");
	ck_assert_int_eq(c.mode, KT_MODE_AUDIT);
	ck_assert_int_eq(c.n_warnings, 0);
	c = parse1("KT_LOG="); /* empty: as if unset */
	ck_assert_int_eq(c.log_target, KT_LOG_NONE);
	ck_assert_int_eq(c.n_warnings, 0);
}
END_TEST

START_TEST(log_paths_must_be_absolute_and_never_in_secure_mode)
{
	struct kt_config c = parse1("KT_LOG=kt.log");
	ck_assert_int_eq(c.log_target, KT_LOG_NONE);
	ck_assert_int_eq(c.n_warnings, 1);
	/* Set-user-ID: no file named by the caller, stderr still fine. */
	c = parse(1, "KT_LOG=/tmp/kt.log", NULL, NULL);
	ck_assert_int_eq(c.log_target, KT_LOG_NONE);
	ck_assert_int_eq(c.n_warnings, 1);
	c = parse(1, "KT_LOG=stderr", NULL, NULL);
	ck_assert_int_eq(c.log_target, KT_LOG_STDERR);
}
END_TEST

START_TEST(log_format_and_stats)
{
	struct kt_config c = parse1("KT_LOG_FORMAT=json");
	ck_assert_int_eq(c.log_format, KT_LOG_JSON);
	ck_assert_int_eq(c.n_warnings, 0);
	c = parse1("KT_LOG_FORMAT=text");
	ck_assert_int_eq(c.log_format, KT_LOG_TEXT);
	ck_assert_int_eq(c.n_warnings, 0);
	ck_assert_int_eq(parse1("KT_STATS=1").stats, 1);
	ck_assert_int_eq(parse1("KT_STATS=0").stats, 0);
}
END_TEST

START_TEST(exitcode_from_1_to_255)
{
	ck_assert_int_eq(parse1("KT_EXITCODE=66").exitcode, 66);
	ck_assert_int_eq(parse1("KT_EXITCODE=1").exitcode, 1);
	ck_assert_int_eq(parse1("KT_EXITCODE=255").exitcode, 255);
	ck_assert_int_eq(parse1("KT_EXITCODE=255").n_warnings, 0);
	/* Empty: unset, as the shipped libkt.conf shows it ("exitcode ="). */
	struct kt_config c = parse1("KT_EXITCODE=");
	expect_defaults(&c);
	ck_assert_int_eq(c.n_warnings, 0);
}
END_TEST

/* ---- KT_MAX_FDS and KT_PROVOKE_FD ---------------------------------------------- */

START_TEST(max_fds_valid_values)
{
	ck_assert_int_eq(parse1("KT_MAX_FDS=0").max_fds, 0);
	ck_assert_int_eq(parse1("KT_MAX_FDS=1").max_fds, 1);
	ck_assert_int_eq(parse1("KT_MAX_FDS=256").max_fds, 256);
	ck_assert_int_eq(parse1("KT_MAX_FDS=007").max_fds, 7);
	ck_assert_int_eq(parse1("KT_MAX_FDS=1024").max_fds, KT_MAX_FDS_MAX);
	ck_assert_int_eq(parse1("KT_MAX_FDS=1024").n_warnings, 0);
	/* The default the warnings and kt-run --config name is heldfd's. */
	char tmp[32];
	struct kt_config c = parse(0, NULL, NULL, NULL);
	ck_assert_str_eq(kt_setting_value(&c, KT_SET_MAX_FDS, tmp, sizeof tmp), "64");
	ck_assert_int_eq(KT_HELD_MAX, 64);
}
END_TEST

START_TEST(provoke_fd_valid_value)
{
	struct kt_config c = parse1("KT_PROVOKE_FD=1000:123456789012");
	ck_assert_int_eq(c.provoke_fd, 1000);
	ck_assert_uint_eq(c.provoke_ino, 123456789012ULL);
	ck_assert_int_eq(c.n_warnings, 0);
}
END_TEST

/* KT_OBSERVE takes KT_MODE's words; unset, observation is off. */
START_TEST(observe_values)
{
	ck_assert_int_eq(parse1("KT_OBSERVE=off").observe, KT_MODE_OFF);
	ck_assert_int_eq(parse1("KT_OBSERVE=audit").observe, KT_MODE_AUDIT);
	struct kt_config c = parse(0, "KT_OBSERVE=enforce", "KT_MODE=audit", NULL);
	ck_assert_int_eq(c.observe, KT_MODE_ENFORCE);
	ck_assert_int_eq(c.mode, KT_MODE_AUDIT); /* each variable its own setting */
	ck_assert_int_eq(c.n_warnings, 0);
}
END_TEST

/* ---- strictness: every bad value ---------------------------------------------- */

/* Parsed strictly: case, spaces, signs, other bases, suffixes, overflow and
 * empty values are typos (a budget or a socket half-understood is worse than
 * the default).  Each leaves every setting at its default and gives exactly
 * one warning, which contains WARNING (and ALSO when set). */
static const struct {
	const char *kv, *warning, *also;
} bad_values[] = {
	{ "KT_OBSERVE=Enforce", "KT_OBSERVE", "off, audit or enforce" },
	{ "KT_OBSERVE=on", "KT_OBSERVE", "using off" },
	{ "KT_OBSERVE=", "KT_OBSERVE", NULL },
	{ "KT_LOG_FORMAT=JSON", "KT_LOG_FORMAT", "text or json" },
	{ "KT_LOG_FORMAT=json ", "KT_LOG_FORMAT", "text or json" },
	{ "KT_LOG_FORMAT=", "KT_LOG_FORMAT", "text or json" },
	{ "KT_LOG_FORMAT=jsonl", "KT_LOG_FORMAT", "text or json" },
	{ "KT_LOG_FORMAT=xml", "KT_LOG_FORMAT", "text or json" },
	{ "KT_STATS=yes", "KT_STATS", NULL },
	{ "KT_EXITCODE=0", "KT_EXITCODE", "(expected a number from 1 to 255)" },
	{ "KT_EXITCODE=256", "KT_EXITCODE", "(expected a number from 1 to 255)" },
	{ "KT_EXITCODE=-1", "KT_EXITCODE", NULL },
	{ "KT_EXITCODE=0x42", "KT_EXITCODE", NULL },
	{ "KT_EXITCODE=6 6", "KT_EXITCODE", "using the program's own exit status" },
	{ "KT_MAX_FDS=", "ignoring KT_MAX_FDS=", "using 64" },
	{ "KT_MAX_FDS=-1", "ignoring KT_MAX_FDS=", "using 64" },
	{ "KT_MAX_FDS=+5", "ignoring KT_MAX_FDS=", "using 64" },
	{ "KT_MAX_FDS= 5", "ignoring KT_MAX_FDS=", "using 64" },
	{ "KT_MAX_FDS=5 ", "ignoring KT_MAX_FDS=", "using 64" },
	{ "KT_MAX_FDS=0x10", "ignoring KT_MAX_FDS=", "using 64" },
	{ "KT_MAX_FDS=1e3", "ignoring KT_MAX_FDS=", "using 64" },
	{ "KT_MAX_FDS=12k", "ignoring KT_MAX_FDS=", "using 64" },
	{ "KT_MAX_FDS=1025", "ignoring KT_MAX_FDS=", "(expected a whole number from 0 to 1024); using 64" },
	{ "KT_MAX_FDS=1048576", "ignoring KT_MAX_FDS=", "using 64" },
	{ "KT_MAX_FDS=99999999999999999999999", "ignoring KT_MAX_FDS=",
	  "using 64" },
	{ "KT_MAX_FDS=ten", "ignoring KT_MAX_FDS=", "using 64" },
	{ "KT_PROVOKE_FD=", "KT_PROVOKE_FD", NULL },
	{ "KT_PROVOKE_FD=1000", "KT_PROVOKE_FD", NULL },
	{ "KT_PROVOKE_FD=2:5", "KT_PROVOKE_FD", NULL },
	{ "KT_PROVOKE_FD=0:5", "KT_PROVOKE_FD", NULL },
	{ "KT_PROVOKE_FD=1000:", "KT_PROVOKE_FD", NULL },
	{ "KT_PROVOKE_FD=:5", "KT_PROVOKE_FD", NULL },
	{ "KT_PROVOKE_FD=1000:0", "KT_PROVOKE_FD", NULL },
	{ "KT_PROVOKE_FD= 1000:5", "KT_PROVOKE_FD", NULL },
	{ "KT_PROVOKE_FD=1000:5 ", "KT_PROVOKE_FD", NULL },
	{ "KT_PROVOKE_FD=-5:5", "KT_PROVOKE_FD", NULL },
	{ "KT_PROVOKE_FD=+5:5", "KT_PROVOKE_FD", NULL },
	{ "KT_PROVOKE_FD=99999999:5", "KT_PROVOKE_FD", NULL },
	{ "KT_PROVOKE_FD=a:5", "KT_PROVOKE_FD", NULL },
	{ "KT_PROVOKE_FD=1000:x", "KT_PROVOKE_FD", NULL },
	{ "KT_PROVOKE_FD=1000:5:6", "KT_PROVOKE_FD", NULL },
	{ "KT_PROVOKE_FD=1000:99999999999999999999999", "KT_PROVOKE_FD", NULL },
};

START_TEST(bad_value_gets_the_default_and_one_warning)
{
	const char *kv = bad_values[_i].kv;
	struct kt_config c = parse1(kv);
	expect_defaults(&c);
	ck_assert_msg(c.n_warnings == 1, "%s: %d warnings", kv, c.n_warnings);
	ck_assert_msg(strstr(c.warnings[0], bad_values[_i].warning) != NULL,
	              "%s: warning without \"%s\": %s", kv, bad_values[_i].warning, c.warnings[0]);
	if (bad_values[_i].also)
		ck_assert_msg(strstr(c.warnings[0], bad_values[_i].also) != NULL,
		              "%s: warning without \"%s\": %s", kv, bad_values[_i].also,
		              c.warnings[0]);
}
END_TEST

/* ---- libkt.conf ------------------------------------------------------------------ */

#define CONF "/etc/libkt.conf"

/* TEXT parsed as the file (a copy: lines are cut in place, and the log path
 * points into it, so it lives in BUF), then ENV ("K=V", NULL-ended, may be
 * NULL) over it. */
static char conf_buf[4][4096];
static int conf_next;

static struct kt_config conf(const char *text, char *const *env, int secure)
{
	char *buf = conf_buf[conf_next++ % 4];
	size_t n = strlen(text);
	ck_assert_uint_lt(n, sizeof conf_buf[0]);
	memcpy(buf, text, n + 1);
	struct kt_config c;
	kt_config_defaults(&c);
	kt_config_file(&c, buf, n, CONF);
	kt_config_env(&c, env, secure);
	return c;
}

START_TEST(file_sets_every_key)
{
	struct kt_config c = conf("# libkt.conf\n"
	                          "\n"
	                          "mode = audit\n"
	                          "log=syslog\n"
	                          "  log_format\t=\tjson  \r\n"
	                          "stats = 1   # a summary at exit\n"
	                          "identity = fd\n"
	                          "max_fds = 128\n"
	                          "   # indented comment\n"
	                          "exitcode = 66\n"
	                          "observe = audit", /* no newline at the end */
	                          NULL, 0);
	ck_assert_int_eq(c.n_warnings, 0);
	ck_assert_int_eq(c.mode, KT_MODE_AUDIT);
	ck_assert_int_eq(c.log_target, KT_LOG_SYSLOG);
	ck_assert_int_eq(c.log_format, KT_LOG_JSON);
	ck_assert_int_eq(c.stats, 1);
	ck_assert_int_eq(c.identity, KT_IDENTITY_FD);
	ck_assert_int_eq(c.max_fds, 128);
	ck_assert_int_eq(c.exitcode, 66);
	ck_assert_int_eq(c.observe, KT_MODE_AUDIT);
	static const unsigned lines[] = { 3, 4, 5, 6, 7, 8, 10, 11 };
	for (int s = KT_SET_MODE; s <= KT_SET_OBSERVE; s++) {
		ck_assert_int_eq(c.source[s], KT_FROM_FILE);
		ck_assert_uint_eq(c.line[s], lines[s]);
	}
	ck_assert_int_eq(c.source[KT_SET_PROVOKE_FD], KT_FROM_DEFAULT);
}
END_TEST

START_TEST(file_log_path_and_empty_values)
{
	struct kt_config c = conf("log = /var/log/libkt.log   # reports\n", NULL, 0);
	ck_assert_int_eq(c.log_target, KT_LOG_FILE);
	ck_assert_str_eq(c.log_path, "/var/log/libkt.log");
	/* "log =" is as if the line were not there; the last of two lines wins. */
	c = conf("log = stderr\nlog =\nmode = off\nmode = audit\n", NULL, 0);
	ck_assert_int_eq(c.log_target, KT_LOG_STDERR);
	ck_assert_uint_eq(c.line[KT_SET_LOG], 1);
	ck_assert_int_eq(c.mode, KT_MODE_AUDIT);
	ck_assert_uint_eq(c.line[KT_SET_MODE], 4);
	ck_assert_int_eq(c.n_warnings, 0);
	/* Nothing but comments and blanks, or nothing at all. */
	c = conf("# mode = audit\n\n   \n\t# log = syslog\n", NULL, 0);
	expect_defaults(&c);
	ck_assert_int_eq(c.n_warnings, 0);
	c = conf("", NULL, 0);
	expect_defaults(&c);
	ck_assert_int_eq(c.n_warnings, 0);
}
END_TEST

/* Each bad line: nothing changes, one warning naming the file and line. */
static const struct {
	const char *line, *words;
} bad_lines[] = {
	{ "mode audit", "ignoring \"mode audit\" (expected key = value)" },
	{ "mdoe = audit", "ignoring unknown key \"mdoe\" (expected mode, log, log_format" },
	{ "KT_MODE = audit", "unknown key \"KT_MODE\"" },
	{ "provoke_fd = 5:6", "unknown key \"provoke_fd\"" },
	{ "= audit", "unknown key \"\"" },
	{ "mode = Audit", "ignoring mode = \"Audit\" (expected enforce, audit or off); using enforce" },
	{ "mode = audit#x", "ignoring mode = \"audit#x\"" },
	{ "log = kt.log", "(expected stderr, syslog or an absolute path); using no log" },
	{ "max_fds = 1025", "(expected a whole number from 0 to 1024); using 64" },
	{ "exitcode = 0", "(expected a number from 1 to 255)" },
	{ "stats = yes", "ignoring stats = \"yes\" (expected 0 or 1); using 0" },
	{ "identity = pidfs", "(expected auto, inode, fd or none); using auto" },
	{ "log_format = JSON", "(expected text or json); using text" },
	{ "observe = on", "(expected off, audit or enforce); using off" },
};

START_TEST(file_bad_line_changes_nothing)
{
	char text[128];
	snprintf(text, sizeof text, "# first\n%s\n", bad_lines[_i].line);
	struct kt_config c = conf(text, NULL, 0);
	expect_defaults(&c);
	ck_assert_msg(c.n_warnings == 1, "%s: %d warnings", bad_lines[_i].line, c.n_warnings);
	ck_assert_msg(strncmp(c.warnings[0], "libkt: " CONF ":2: ", 24) == 0, "%s: %s",
	              bad_lines[_i].line, c.warnings[0]);
	ck_assert_msg(strstr(c.warnings[0], bad_lines[_i].words) != NULL,
	              "%s: warning without \"%s\": %s", bad_lines[_i].line, bad_lines[_i].words,
	              c.warnings[0]);
}
END_TEST

START_TEST(file_nul_byte_and_hostile_text)
{
	char text[] = "mode = au\0dit\nstats = 1\n";
	char buf[sizeof text];
	memcpy(buf, text, sizeof text);
	struct kt_config c;
	kt_config_defaults(&c);
	kt_config_file(&c, buf, sizeof text - 1, CONF);
	ck_assert_int_eq(c.mode, KT_MODE_ENFORCE);
	ck_assert_int_eq(c.stats, 1);
	ck_assert_int_eq(c.n_warnings, 1);
	ck_assert_ptr_nonnull(strstr(c.warnings[0], CONF ":1: ignoring a line holding a NUL byte"));
	/* Escapes and quotes in a bad line cannot forge a log line. */
	c = conf("mode = \033[31m\"x\n", NULL, 0);
	ck_assert_int_eq(c.n_warnings, 1);
	ck_assert_ptr_null(strchr(c.warnings[0], '\033'));
	ck_assert_ptr_nonnull(strstr(c.warnings[0], "\\x1b[31m\\x22x"));
}
END_TEST

START_TEST(file_many_bad_lines_are_counted)
{
	char text[2048] = "";
	for (int i = 0; i < 20; i++)
		strcat(text, "nonsense\n");
	strcat(text, "mode = off\n");
	struct kt_config c = conf(text, NULL, 0);
	ck_assert_int_eq(c.mode, KT_MODE_OFF);
	ck_assert_int_eq(c.n_warnings, KT_CONFIG_MAX_WARNINGS);
	ck_assert_ptr_nonnull(strstr(c.warnings[0], CONF ":1: "));
	ck_assert_ptr_nonnull(strstr(c.warnings[KT_CONFIG_MAX_WARNINGS - 2], CONF ":7: "));
	ck_assert_str_eq(c.warnings[KT_CONFIG_MAX_WARNINGS - 1],
	                 "libkt: 13 more warnings about the settings, not shown");
}
END_TEST

/* ---- the environment over the file -------------------------------------------- */

START_TEST(environment_wins_over_file)
{
	char *env[] = { "KT_MODE=enforce", "KT_LOG=stderr", NULL };
	struct kt_config c = conf("mode = audit\nlog = syslog\nstats = 1\n", env, 0);
	ck_assert_int_eq(c.mode, KT_MODE_ENFORCE);
	ck_assert_int_eq(c.source[KT_SET_MODE], KT_FROM_ENV);
	ck_assert_int_eq(c.log_target, KT_LOG_STDERR);
	ck_assert_int_eq(c.source[KT_SET_LOG], KT_FROM_ENV);
	ck_assert_int_eq(c.stats, 1);
	ck_assert_int_eq(c.source[KT_SET_STATS], KT_FROM_FILE);
	ck_assert_int_eq(c.n_warnings, 0);
	/* An empty KT_LOG is as if unset: the file's log stays. */
	char *empty[] = { "KT_LOG=", NULL };
	c = conf("log = syslog\n", empty, 0);
	ck_assert_int_eq(c.log_target, KT_LOG_SYSLOG);
}
END_TEST

/* A bad value in the environment leaves the file's value, and says so. */
START_TEST(bad_environment_value_keeps_the_files)
{
	char *env[] = { "KT_MODE=bogus", NULL };
	struct kt_config c = conf("\nmode = audit\n", env, 0);
	ck_assert_int_eq(c.mode, KT_MODE_AUDIT);
	ck_assert_int_eq(c.source[KT_SET_MODE], KT_FROM_FILE);
	ck_assert_int_eq(c.n_warnings, 1);
	ck_assert_str_eq(c.warnings[0], "libkt: ignoring KT_MODE=\"bogus\" (expected enforce, audit or "
	                                "off); using audit (from " CONF ":2)");
}
END_TEST

/* Secure-execution mode: the environment names no log file, the file may;
 * stderr and syslog from the environment are still taken. */
START_TEST(secure_mode_takes_the_files_log_path)
{
	char *path_env[] = { "KT_LOG=/tmp/caller.log", NULL };
	struct kt_config c = conf("log = syslog\n", path_env, 1);
	ck_assert_int_eq(c.log_target, KT_LOG_SYSLOG);
	ck_assert_int_eq(c.n_warnings, 1);
	ck_assert_ptr_nonnull(strstr(c.warnings[0], "(expected stderr or syslog in secure-execution "
	                                            "mode); using syslog (from " CONF ":1)"));
	c = conf("log = /var/log/libkt.log\n", NULL, 1);
	ck_assert_int_eq(c.log_target, KT_LOG_FILE);
	ck_assert_str_eq(c.log_path, "/var/log/libkt.log");
	char *syslog_env[] = { "KT_LOG=syslog", NULL };
	c = conf("", syslog_env, 1);
	ck_assert_int_eq(c.log_target, KT_LOG_SYSLOG);
	ck_assert_int_eq(c.n_warnings, 0);
	/* Not secure: the same path from the environment is taken. */
	c = conf("log = syslog\n", path_env, 0);
	ck_assert_int_eq(c.log_target, KT_LOG_FILE);
	ck_assert_str_eq(c.log_path, "/tmp/caller.log");
}
END_TEST

/* ---- values in words (warnings and kt-run --config) ---------------------------- */

START_TEST(values_in_words)
{
	char tmp[48];
	struct kt_config c = parse(0, NULL, NULL, NULL);
	static const char *const defaults[KT_SETTINGS] = {
		"enforce", "no log", "text", "0", "auto", "64", "the program's own exit status",
		"off", "no reuse provoker",
	};
	for (int s = 0; s < KT_SETTINGS; s++)
		ck_assert_str_eq(kt_setting_value(&c, (enum kt_setting)s, tmp, sizeof tmp), defaults[s]);
	char *env[] = { "KT_MODE=off", "KT_LOG=/x/y.log", "KT_LOG_FORMAT=json", "KT_STATS=1",
		        "KT_IDENTITY=none", "KT_MAX_FDS=7", "KT_EXITCODE=9", "KT_OBSERVE=audit",
		        "KT_PROVOKE_FD=12:345", NULL };
	kt_config_parse(&c, env, 0);
	static const char *const set[KT_SETTINGS] = {
		"off", "/x/y.log", "json", "1", "none", "7", "9", "audit", "12:345",
	};
	for (int s = 0; s < KT_SETTINGS; s++) {
		ck_assert_str_eq(kt_setting_value(&c, (enum kt_setting)s, tmp, sizeof tmp), set[s]);
		ck_assert_int_eq(c.source[s], KT_FROM_ENV);
		ck_assert_ptr_nonnull(kt_setting_env((enum kt_setting)s));
	}
	ck_assert_str_eq(kt_setting_key(KT_SET_LOG_FORMAT), "log_format");
	ck_assert_ptr_null(kt_setting_key(KT_SET_PROVOKE_FD));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	kt_test_tcase(s, "defaults", 0, defaults_without_variables, names_must_match_exactly);

	kt_test_tcase(s, "mode and identity", 0, every_valid_mode_and_identity,
	              garbage_gets_the_default_and_one_warning_each,
	              hostile_values_are_quoted_and_bounded);

	kt_test_tcase(s, "reports", 0, log_targets,
	              log_paths_must_be_absolute_and_never_in_secure_mode,
	              log_format_and_stats, exitcode_from_1_to_255);

	kt_test_tcase(s, "fds", 0, max_fds_valid_values, provoke_fd_valid_value);

	kt_test_tcase(s, "observe", 0, observe_values);

	TCase *tc = kt_test_tcase(s, "strict", 0);
	tcase_add_loop_test(tc, bad_value_gets_the_default_and_one_warning, 0, N_OF(bad_values));

	tc = kt_test_tcase(s, "file", 0, file_sets_every_key, file_log_path_and_empty_values,
	                   file_nul_byte_and_hostile_text, file_many_bad_lines_are_counted);
	tcase_add_loop_test(tc, file_bad_line_changes_nothing, 0, N_OF(bad_lines));
	kt_test_tcase(s, "precedence", 0, environment_wins_over_file,
	              bad_environment_value_keeps_the_files, secure_mode_takes_the_files_log_path);
	kt_test_tcase(s, "words", 0, values_in_words);
	return kt_test_main(s);
}
