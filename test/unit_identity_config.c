/* Unit tests of the fd-mode settings in the KT_* parser (shim/config.c):
 * KT_IDENTITY=fd and KT_MAX_FDS, which must be parsed strictly — a budget
 * that is half-understood is worse than the default. */
#include <check.h>
#include <string.h>

#include "config.h"
#include "testlib.h"

static struct kt_config parse1(char *kv)
{
	char *env[] = { "PATH=/bin", kv, NULL };
	struct kt_config c;
	kt_config_parse(&c, env, 0);
	return c;
}

START_TEST(identity_fd_is_a_mode)
{
	struct kt_config c = parse1("KT_IDENTITY=fd");
	ck_assert_int_eq(c.identity, KT_IDPREF_FD);
	ck_assert_int_eq(c.n_warnings, 0);
	/* Near misses are typos. */
	c = parse1("KT_IDENTITY=FD");
	ck_assert_int_eq(c.identity, KT_IDPREF_AUTO);
	ck_assert_int_eq(c.n_warnings, 1);
	ck_assert_ptr_nonnull(strstr(c.warnings[0], "auto, inode, fd or none"));
}
END_TEST

START_TEST(max_fds_default_is_the_rlimit_quarter)
{
	struct kt_config c = parse1(NULL);
	ck_assert_int_eq(c.max_fds, KT_MAX_FDS_DEFAULT);
	ck_assert_int_eq(c.n_warnings, 0);
}
END_TEST

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

static const char *const bad_max_fds[] = {
	"KT_MAX_FDS=",            /* empty */
	"KT_MAX_FDS=-1",          /* sign */
	"KT_MAX_FDS=+5",
	"KT_MAX_FDS= 5",          /* spaces */
	"KT_MAX_FDS=5 ",
	"KT_MAX_FDS=0x10",        /* not decimal */
	"KT_MAX_FDS=1e3",
	"KT_MAX_FDS=12k",         /* suffix */
	"KT_MAX_FDS=1048577",     /* past the limit */
	"KT_MAX_FDS=99999999999999999999999", /* overflow */
	"KT_MAX_FDS=ten",
};

START_TEST(max_fds_garbage_gets_the_default_and_a_warning)
{
	struct kt_config c = parse1((char *)bad_max_fds[_i]);
	ck_assert_msg(c.max_fds == KT_MAX_FDS_DEFAULT, "%s gave %ld", bad_max_fds[_i], c.max_fds);
	ck_assert_int_eq(c.n_warnings, 1);
	ck_assert_ptr_nonnull(strstr(c.warnings[0], "ignoring KT_MAX_FDS="));
	ck_assert_ptr_nonnull(strstr(c.warnings[0], "using a quarter of the soft RLIMIT_NOFILE"));
}
END_TEST

static Suite *identity_config_suite(void)
{
	Suite *s = suite_create("identity_config");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, identity_fd_is_a_mode);
	tcase_add_test(tc, max_fds_default_is_the_rlimit_quarter);
	tcase_add_test(tc, max_fds_valid_values);
	tcase_add_loop_test(tc, max_fds_garbage_gets_the_default_and_a_warning, 0,
	                    (int)(sizeof bad_max_fds / sizeof bad_max_fds[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return kt_test_main(identity_config_suite());
}
