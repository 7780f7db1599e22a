/* Unit tests of the KT_* parser (shim/config.c) and the allocation-free
 * formatter (shim/fmt.c), linked without any hook. */
#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fmt.h"
#include "testlib.h"

static struct kt_config parse(int secure, char *a, char *b, char *c)
{
	char *env[] = { "HOME=/root", a, b, c, NULL };
	struct kt_config cfg;
	kt_config_parse(&cfg, env, secure);
	return cfg;
}

START_TEST(defaults_without_variables)
{
	struct kt_config c = parse(0, NULL, NULL, NULL);
	ck_assert_int_eq(c.mode, KT_MODE_ENFORCE);
	ck_assert_int_eq(c.identity, KT_IDPREF_AUTO);
	ck_assert_int_eq(c.log_target, KT_LOG_NONE);
	ck_assert_int_eq(c.n_warnings, 0);
	/* A NULL environment is an empty one. */
	kt_config_parse(&c, NULL, 0);
	ck_assert_int_eq(c.mode, KT_MODE_ENFORCE);
}
END_TEST

START_TEST(every_valid_value)
{
	ck_assert_int_eq(parse(0, "KT_MODE=off", NULL, NULL).mode, KT_MODE_OFF);
	ck_assert_int_eq(parse(0, "KT_MODE=audit", NULL, NULL).mode, KT_MODE_AUDIT);
	ck_assert_int_eq(parse(0, "KT_MODE=enforce", NULL, NULL).mode, KT_MODE_ENFORCE);
	ck_assert_int_eq(parse(0, "KT_IDENTITY=auto", NULL, NULL).identity, KT_IDPREF_AUTO);
	ck_assert_int_eq(parse(0, "KT_IDENTITY=inode", NULL, NULL).identity, KT_IDPREF_INODE);
	ck_assert_int_eq(parse(0, "KT_IDENTITY=none", NULL, NULL).identity, KT_IDPREF_NONE);
	struct kt_config c = parse(0, "KT_LOG=stderr", NULL, NULL);
	ck_assert_int_eq(c.log_target, KT_LOG_STDERR);
	c = parse(0, "KT_LOG=/tmp/kt.log", "KT_MODE=audit", NULL);
	ck_assert_int_eq(c.log_target, KT_LOG_FILE);
	ck_assert_str_eq(c.log_path, "/tmp/kt.log");
	ck_assert_int_eq(c.mode, KT_MODE_AUDIT);
	ck_assert_int_eq(c.n_warnings, 0);
}
END_TEST

START_TEST(garbage_gets_the_default_and_one_warning_each)
{
	struct kt_config c = parse(0, "KT_MODE=Enforce", "KT_IDENTITY=pidfs", "KT_LOG=stderr");
	ck_assert_int_eq(c.mode, KT_MODE_ENFORCE);
	ck_assert_int_eq(c.identity, KT_IDPREF_AUTO);
	ck_assert_int_eq(c.n_warnings, 2);
	ck_assert_ptr_nonnull(strstr(c.warnings[0], "KT_MODE=\"Enforce\""));
	ck_assert_ptr_nonnull(strstr(c.warnings[0], "using enforce"));
	ck_assert_ptr_nonnull(strstr(c.warnings[1], "KT_IDENTITY=\"pidfs\""));

	/* Off is never guessed from a near miss: "of" is not "off". */
	c = parse(0, "KT_MODE=of", NULL, NULL);
	ck_assert_int_eq(c.mode, KT_MODE_ENFORCE);
	c = parse(0, "KT_MODE=", NULL, NULL);
	ck_assert_int_eq(c.mode, KT_MODE_ENFORCE);
	ck_assert_int_eq(c.n_warnings, 1);
	c = parse(0, "KT_MODE=audit ", NULL, NULL);
	ck_assert_int_eq(c.mode, KT_MODE_ENFORCE);
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

START_TEST(log_paths_must_be_absolute_and_never_in_secure_mode)
{
	struct kt_config c = parse(0, "KT_LOG=kt.log", NULL, NULL);
	ck_assert_int_eq(c.log_target, KT_LOG_NONE);
	ck_assert_int_eq(c.n_warnings, 1);
	c = parse(1, "KT_LOG=/tmp/kt.log", NULL, NULL);
	ck_assert_int_eq(c.log_target, KT_LOG_NONE);
	ck_assert_int_eq(c.n_warnings, 1);
	c = parse(1, "KT_LOG=stderr", NULL, NULL);
	ck_assert_int_eq(c.log_target, KT_LOG_STDERR);
	c = parse(0, "KT_LOG=", NULL, NULL); /* empty: as if unset */
	ck_assert_int_eq(c.log_target, KT_LOG_NONE);
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

START_TEST(formatter_numbers)
{
	char s[64];
	struct kt_buf b = KT_BUF(s);
	kt_buf_i64(&b, 0);
	kt_buf_char(&b, ' ');
	kt_buf_i64(&b, -42);
	kt_buf_char(&b, ' ');
	kt_buf_i64(&b, INT64_MIN);
	kt_buf_char(&b, ' ');
	kt_buf_u64(&b, UINT64_MAX);
	ck_assert_str_eq(s, "0 -42 -9223372036854775808 18446744073709551615");
	b.len = 0;
	kt_buf_secs(&b, 1234567890);
	kt_buf_char(&b, ' ');
	kt_buf_secs(&b, 5000000);
	ck_assert_str_eq(s, "1.234s 0.005s");
}
END_TEST

START_TEST(formatter_truncates_safely)
{
	char s[8];
	struct kt_buf b = KT_BUF(s);
	kt_buf_str(&b, "0123456789");
	ck_assert_str_eq(s, "0123456");
	ck_assert_uint_eq(b.len, 7);
	struct kt_buf z = { s, 0, 0 }; /* zero capacity writes nothing */
	kt_buf_str(&z, "abc");
	ck_assert_str_eq(s, "0123456");
}
END_TEST

START_TEST(signal_names)
{
	char t[16];
	ck_assert_str_eq(kt_signal_name(SIGTERM, t), "SIGTERM");
	ck_assert_str_eq(kt_signal_name(SIGKILL, t), "SIGKILL");
	ck_assert_str_eq(kt_signal_name(0, t), "0");
	ck_assert_str_eq(kt_signal_name(34, t), "SIGRT2");
	ck_assert_str_eq(kt_signal_name(64, t), "SIGRT32");
	ck_assert_ptr_null(kt_signal_name(65, t));
	ck_assert_ptr_null(kt_signal_name(-1, t));
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	tcase_add_test(tc, defaults_without_variables);
	tcase_add_test(tc, every_valid_value);
	tcase_add_test(tc, garbage_gets_the_default_and_one_warning_each);
	tcase_add_test(tc, hostile_values_are_quoted_and_bounded);
	tcase_add_test(tc, log_paths_must_be_absolute_and_never_in_secure_mode);
	tcase_add_test(tc, names_must_match_exactly);
	suite_add_tcase(s, tc);
	TCase *tf = tcase_create("fmt");
	tcase_add_test(tf, formatter_numbers);
	tcase_add_test(tf, formatter_truncates_safely);
	tcase_add_test(tf, signal_names);
	suite_add_tcase(s, tf);
	return s;
}

int main(void)
{
	return kt_test_main(config_suite());
}
