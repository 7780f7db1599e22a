/* Unit tests of the reporting side of the configuration (KT_LOG,
 * KT_LOG_FORMAT, KT_STATS, KT_PROVOKE_FD) and of the JSON/hex formatters the
 * reports are built with.  Pure code: no hooks, no preload. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fmt.h"
#include "testlib.h"

static struct kt_config parse(char *const *env)
{
	struct kt_config c;
	kt_config_parse(&c, env, 0);
	return c;
}

START_TEST(test_defaults)
{
	struct kt_config c = parse(NULL);
	ck_assert_int_eq(c.log_target, KT_LOG_NONE);
	ck_assert_int_eq(c.log_format, KT_LOG_TEXT);
	ck_assert_int_eq(c.stats, 0);
	ck_assert_int_eq(c.provoke_fd, -1);
	ck_assert_int_eq(c.n_warnings, 0);
}
END_TEST

START_TEST(test_log_format)
{
	char *json[] = { "KT_LOG_FORMAT=json", NULL };
	char *text[] = { "KT_LOG_FORMAT=text", NULL };
	struct kt_config c = parse(json);
	ck_assert_int_eq(c.log_format, KT_LOG_JSON);
	ck_assert_int_eq(c.n_warnings, 0);
	c = parse(text);
	ck_assert_int_eq(c.log_format, KT_LOG_TEXT);
	ck_assert_int_eq(c.n_warnings, 0);
}
END_TEST

/* Strict: case, spaces and empty values are typos, warned about once, and the
 * default stays. */
static const char *const bad_formats[] = { "JSON", "json ", "", "jsonl", "xml" };

START_TEST(test_log_format_bad)
{
	char kv[64] = "KT_LOG_FORMAT=";
	strcat(kv, bad_formats[_i]);
	char *env[] = { kv, NULL };
	struct kt_config c = parse(env);
	ck_assert_int_eq(c.log_format, KT_LOG_TEXT);
	ck_assert_int_eq(c.n_warnings, 1);
	ck_assert_ptr_nonnull(strstr(c.warnings[0], "KT_LOG_FORMAT"));
	ck_assert_ptr_nonnull(strstr(c.warnings[0], "text or json"));
}
END_TEST

START_TEST(test_stats)
{
	char *on[] = { "KT_STATS=1", NULL };
	char *off[] = { "KT_STATS=0", NULL };
	char *bad[] = { "KT_STATS=yes", NULL };
	ck_assert_int_eq(parse(on).stats, 1);
	ck_assert_int_eq(parse(off).stats, 0);
	struct kt_config c = parse(bad);
	ck_assert_int_eq(c.stats, 0);
	ck_assert_int_eq(c.n_warnings, 1);
}
END_TEST

START_TEST(test_log_targets)
{
	char *err[] = { "KT_LOG=stderr", NULL };
	char *file[] = { "KT_LOG=/tmp/kt.log", NULL };
	char *rel[] = { "KT_LOG=kt.log", NULL };
	ck_assert_int_eq(parse(err).log_target, KT_LOG_STDERR);
	struct kt_config c = parse(file);
	ck_assert_int_eq(c.log_target, KT_LOG_FILE);
	ck_assert_str_eq(c.log_path, "/tmp/kt.log");
	c = parse(rel);
	ck_assert_int_eq(c.log_target, KT_LOG_NONE);
	ck_assert_int_eq(c.n_warnings, 1);
	/* Set-user-ID: no file named by the caller, stderr still fine. */
	kt_config_parse(&c, file, 1);
	ck_assert_int_eq(c.log_target, KT_LOG_NONE);
	kt_config_parse(&c, err, 1);
	ck_assert_int_eq(c.log_target, KT_LOG_STDERR);
}
END_TEST

START_TEST(test_provoke_fd)
{
	char *ok[] = { "KT_PROVOKE_FD=1000:123456789012", NULL };
	struct kt_config c = parse(ok);
	ck_assert_int_eq(c.provoke_fd, 1000);
	ck_assert_uint_eq(c.provoke_ino, 123456789012ULL);
	ck_assert_int_eq(c.n_warnings, 0);
}
END_TEST

static const char *const bad_fds[] = {
	"", "1000", "2:5", "0:5", "1000:", ":5", "1000:0", " 1000:5", "1000:5 ", "-5:5",
	"+5:5", "99999999:5", "a:5", "1000:x", "1000:5:6", "1000:99999999999999999999999",
};

START_TEST(test_provoke_fd_bad)
{
	char kv[64] = "KT_PROVOKE_FD=";
	strcat(kv, bad_fds[_i]);
	char *env[] = { kv, NULL };
	struct kt_config c = parse(env);
	ck_assert_msg(c.provoke_fd == -1, "accepted \"%s\"", bad_fds[_i]);
	ck_assert_int_eq(c.n_warnings, 1);
}
END_TEST

START_TEST(test_json_escape)
{
	char out[128];
	struct kt_buf b = KT_BUF(out);
	kt_buf_json(&b, "a\"b\\c\n\x01\x7f\xe9z", 64);
	ck_assert_str_eq(out, "a\\\"b\\\\c\\u000a\\u0001\\u007f\\u00e9z");
	/* MAX bounds what is read. */
	struct kt_buf b2 = KT_BUF(out);
	kt_buf_json(&b2, "abcdef", 3);
	ck_assert_str_eq(out, "abc");
}
END_TEST

START_TEST(test_hex)
{
	char out[64];
	struct kt_buf b = KT_BUF(out);
	kt_buf_hex(&b, 0);
	kt_buf_char(&b, ' ');
	kt_buf_hex(&b, 0x7f12ab);
	kt_buf_char(&b, ' ');
	kt_buf_hex(&b, UINT64_MAX);
	ck_assert_str_eq(out, "0x0 0x7f12ab 0xffffffffffffffff");
}
END_TEST

/* A report line never overflows its buffer: truncation keeps it terminated. */
START_TEST(test_truncation)
{
	char out[8];
	struct kt_buf b = KT_BUF(out);
	kt_buf_json(&b, "\n\n\n\n", 4);
	ck_assert_uint_lt(b.len, sizeof out);
	ck_assert_int_eq(out[b.len], '\0');
}
END_TEST

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

int main(void)
{
	Suite *s = suite_create("config_log");
	TCase *tc = tcase_create("config");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_log_format);
	tcase_add_loop_test(tc, test_log_format_bad, 0, N_OF(bad_formats));
	tcase_add_test(tc, test_stats);
	tcase_add_test(tc, test_log_targets);
	tcase_add_test(tc, test_provoke_fd);
	tcase_add_loop_test(tc, test_provoke_fd_bad, 0, N_OF(bad_fds));
	suite_add_tcase(s, tc);
	tc = tcase_create("fmt");
	tcase_add_test(tc, test_json_escape);
	tcase_add_test(tc, test_hex);
	tcase_add_test(tc, test_truncation);
	suite_add_tcase(s, tc);
	return kt_test_main(s);
}
