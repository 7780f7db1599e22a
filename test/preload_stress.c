/* SPDX-License-Identifier: MIT */
/* The stress test (test/helpers/stress.c), bounded in time: threads forking,
 * vforking and spawning, killing and reaping at once, a SIGCHLD handler
 * reaping with waitid/waitpid, an interval timer's handler sending pending
 * and stale kills, and sentinel processes placed on freed PIDs.  With libkt:
 * no signal reaches a process it was not meant for, no kill to a live child
 * fails, every child dies of the signal it was sent, no fd is left behind,
 * nothing deadlocks (the helper is killed after a timeout).
 *
 * The helper runs in the suite's identity mode (KT_IDENTITY is passed on).
 * Without libkt the sentinels do get killed (it is how the helper was
 * checked), but that half is probabilistic and not asserted here. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testlib.h"

START_TEST(stress_with_libkt)
{
	static char out[65536];
	const char *secs = getenv("KT_STRESS_SECONDS");
	char *argv[] = { (char *)kt_test_helper("stress"), (char *)(secs ? secs : "2"), "3", NULL };
	int st = kt_test_run(1, argv, NULL, out, sizeof out, 1, 90);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
		printf("SKIP: stress: no PID namespace here\n");
		return;
	}
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "stress: status 0x%x\n%s", st, out);
	ck_assert_msg(strstr(out, "stress=ok "), "%s", out);
	/* It really ran: thousands of children, timer kills, stale kills. */
	const char *c = strstr(out, "children=");
	ck_assert_msg(c && atoi(c + 9) >= 200, "%s", out);
}
END_TEST

int main(void)
{
	Suite *s = kt_test_preload_suite("stress");
	kt_test_tcase(s, "stress", 120, stress_with_libkt);
	return kt_test_main(s);
}
