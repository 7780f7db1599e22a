/* Unit tests of the KT_* parser (shim/config.c), linked without any hook: the
 * defaults, each variable's valid values, and the rule every variable follows
 * for bad input — the default stays and one warning names the variable. */
#include <check.h>
#include <string.h>

#include "config.h"
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
}
END_TEST

/* ---- KT_MAX_FDS and KT_PROVOKE_FD ---------------------------------------------- */

START_TEST(max_fds_valid_values)
{
	ck_assert_int_eq(parse1("KT_MAX_FDS=0").max_fds, 0);
	ck_assert_int_eq(parse1("KT_MAX_FDS=1").max_fds, 1);
	ck_assert_int_eq(parse1("KT_MAX_FDS=256").max_fds, 256);
	ck_assert_int_eq(parse1("KT_MAX_FDS=007").max_fds, 7);
	ck_assert_int_eq(parse1("KT_MAX_FDS=1048576").max_fds, KT_MAX_FDS_LIMIT);
	ck_assert_int_eq(parse1("KT_MAX_FDS=1048576").n_warnings, 0);
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
	{ "KT_EXITCODE=", "KT_EXITCODE", NULL },
	{ "KT_EXITCODE=6 6", "KT_EXITCODE", "using the program's own exit status" },
	{ "KT_MAX_FDS=", "ignoring KT_MAX_FDS=", "using 64" },
	{ "KT_MAX_FDS=-1", "ignoring KT_MAX_FDS=", "using 64" },
	{ "KT_MAX_FDS=+5", "ignoring KT_MAX_FDS=", "using 64" },
	{ "KT_MAX_FDS= 5", "ignoring KT_MAX_FDS=", "using 64" },
	{ "KT_MAX_FDS=5 ", "ignoring KT_MAX_FDS=", "using 64" },
	{ "KT_MAX_FDS=0x10", "ignoring KT_MAX_FDS=", "using 64" },
	{ "KT_MAX_FDS=1e3", "ignoring KT_MAX_FDS=", "using 64" },
	{ "KT_MAX_FDS=12k", "ignoring KT_MAX_FDS=", "using 64" },
	{ "KT_MAX_FDS=1048577", "ignoring KT_MAX_FDS=", "using 64" },
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
	return kt_test_main(s);
}
