/* SPDX-License-Identifier: MIT */
/* Unit tests of the allocation-free formatter (shim/fmt.c) the reports and
 * warnings are built with, linked without any hook: numbers, JSON and hex,
 * signal names, and truncation that always leaves a terminated string. */
#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "fmt.h"
#include "testlib.h"

START_TEST(numbers)
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

START_TEST(hex)
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

START_TEST(json_escape)
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

/* A report line never overflows its buffer: truncation keeps it terminated. */
START_TEST(truncates_safely)
{
	char s[8];
	struct kt_buf b = KT_BUF(s);
	kt_buf_str(&b, "0123456789");
	ck_assert_str_eq(s, "0123456");
	ck_assert_uint_eq(b.len, 7);
	struct kt_buf z = { s, 0, 0 }; /* zero capacity writes nothing */
	kt_buf_str(&z, "abc");
	ck_assert_str_eq(s, "0123456");

	struct kt_buf j = KT_BUF(s);
	kt_buf_json(&j, "\n\n\n\n", 4);
	ck_assert_uint_lt(j.len, sizeof s);
	ck_assert_int_eq(s[j.len], '\0');
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fmt");
	kt_test_tcase(s, "fmt", 0, numbers, hex, json_escape, signal_names, truncates_safely);
	return kt_test_main(s);
}
