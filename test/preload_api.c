/* SPDX-License-Identifier: MIT */
/* The public header (include/kt.h) as users get it: a program that uses the
 * lookup helpers runs without libkt (everything "not loaded") and with it
 * (version, per-PID state, counters), unchanged. */
#include <check.h>
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kt.h>

#include "testlib.h"

#define STR2(x) #x
#define STR(x) STR2(x)
#define HEADER_VERSION STR(KT_VERSION_MAJOR) "." STR(KT_VERSION_MINOR) "." STR(KT_VERSION_PATCH)

static void run_api_user(int preload, char *const env[], char *out, size_t size)
{
	char *argv[] = { (char *)kt_test_helper("api_user"), NULL };
	int st = kt_test_run(preload, argv, env, out, size, 1, 10);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "api_user status 0x%x:\n%s", st, out);
}

START_TEST(test_without_libkt)
{
	char out[512];
	run_api_user(0, NULL, out, sizeof out);
	ck_assert_str_eq(out, "loaded=0 version=none header=" HEADER_VERSION
	                      " untracked=-1 live=-1 reaped=-1 tracked=0 reaps=0 mode=0\n");
}
END_TEST

START_TEST(test_with_libkt)
{
	char out[512];
	run_api_user(1, NULL, out, sizeof out);
	ck_assert_str_eq(out, "loaded=1 version=" HEADER_VERSION " header=" HEADER_VERSION
	                      " untracked=0 live=1 reaped=2 tracked=1 reaps=1 mode=2\n");
}
END_TEST

START_TEST(test_with_libkt_audit)
{
	char out[512];
	char *env[] = { "KT_MODE=audit", NULL };
	run_api_user(1, env, out, sizeof out);
	ck_assert_str_eq(out, "loaded=1 version=" HEADER_VERSION " header=" HEADER_VERSION
	                      " untracked=0 live=1 reaped=2 tracked=1 reaps=1 mode=1\n");
}
END_TEST

/* In this (preloaded) process: the helpers and the functions agree, and
 * kt_counters honours a smaller caller struct (the header's ABI promise). */
START_TEST(test_in_process)
{
	struct kt_api api;
	ck_assert_int_eq(kt_api_load(&api), 1);
	ck_assert_str_eq(api.version(), HEADER_VERSION);
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	ck_assert_int_gt(child, 0);
	ck_assert_int_eq(kt_pid_state_or_not_loaded(child), KT_PID_LIVE);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	ck_assert_int_eq(api.pid_state(child), KT_PID_REAPED);

	struct kt_counters full;
	ck_assert_int_eq(api.counters(&full, sizeof full), (int)sizeof full);
	ck_assert_uint_ge(full.children_tracked, 1);
	/* An "older" caller that knows only the first field. */
	unsigned char small[sizeof(uint64_t) + 8];
	memset(small, 0xa5, sizeof small);
	ck_assert_int_eq(api.counters((struct kt_counters *)small, sizeof(uint64_t)),
	                 (int)sizeof full);
	for (size_t i = sizeof(uint64_t); i < sizeof small; i++)
		ck_assert_msg(small[i] == 0xa5, "kt_counters wrote past the caller's size");
	ck_assert_int_eq(api.counters(NULL, 0), -1);
}
END_TEST

int main(void)
{
	Suite *s = kt_test_preload_suite("api");
	kt_test_tcase(s, "api", 0, test_without_libkt, test_with_libkt, test_with_libkt_audit,
	              test_in_process);
	return kt_test_main(s);
}
