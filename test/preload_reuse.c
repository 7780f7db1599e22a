/* Deterministic PID-reuse tests (DESIGN §5): a child is created by one creation
 * path, reaped by one reap path, and a stranger — a child of another process —
 * is placed exactly on its freed PID in a private PID namespace.  The program
 * then kill()s the old number.  Every test asserts both halves:
 *
 *   without libkt  kill returns 0 and the stranger dies (the bug is real here);
 *   with libkt     kill fails with ESRCH and the stranger lives.
 *
 * The scenario itself is test/helpers/reuse.c; this suite only picks the
 * combinations and judges the result lines. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "testlib.h"

struct combo {
	const char *creation;
	const char *reap;
	/* The reap goes through a hooked wait call, so libkt must know the child
	 * is reaped (contract §2.6) — not merely find the stranger's inode
	 * different.  SIG_IGN auto-reaping has no call to hook. */
	int hooked_reap;
};

/* Every creation path, reaped by waitpid(pid). */
static const struct combo by_creation[] = {
	{ "fork", "waitpid", 1 },
	{ "_Fork", "waitpid", 1 },
	{ "posix_spawn", "waitpid", 1 },
	{ "posix_spawnp", "waitpid", 1 },
	/* Also in the contract (§2.1), though not the first hooks written. */
	{ "vfork", "waitpid", 1 },
	{ "clone", "waitpid", 1 },
};

/* fork, reaped by every reap path. */
static const struct combo by_reap[] = {
	{ "fork", "wait", 1 },
	{ "fork", "waitpid", 1 },
	{ "fork", "waitpid_any", 1 },
	{ "fork", "wait3", 1 },
	{ "fork", "wait4", 1 },
	{ "fork", "waitid_pid", 1 },
	{ "fork", "waitid_all", 1 },
	{ "fork", "waitid_pidfd", 1 },
	{ "fork", "sigchld", 1 },
	{ "fork", "thread", 1 },
	{ "fork", "sigign", 0 },
};

/* A spread of the other pairs: the spawn paths do not go through fork, so
 * their registration must meet each kind of reap on its own. */
static const struct combo crossed[] = {
	{ "_Fork", "waitid_all", 1 },
	{ "_Fork", "sigign", 0 },
	{ "posix_spawn", "sigchld", 1 },
	{ "posix_spawn", "sigign", 0 },
	{ "posix_spawn", "wait", 1 },
	{ "posix_spawnp", "thread", 1 },
	{ "posix_spawnp", "wait3", 1 },
	{ "posix_spawnp", "waitid_pidfd", 1 },
};

/* Runs one combination both ways and asserts both halves.  PLACE chooses how
 * the stranger is put on the PID. */
static void check_combo(const struct combo *c, const char *place)
{
	char what[160];
	snprintf(what, sizeof what, "creation=%s reap=%s place=%s", c->creation, c->reap, place);
	if (!scenario_possible(what))
		return;

	char creation[64], reap[64], placearg[64];
	snprintf(creation, sizeof creation, "--creation=%s", c->creation);
	snprintf(reap, sizeof reap, "--reap=%s", c->reap);
	snprintf(placearg, sizeof placearg, "--place=%s", place);
	char *argv[] = { (char *)kt_test_helper("reuse"), creation, reap, placearg, NULL };
	struct scenario s;

	/* Without libkt: proves the scenario really reuses the PID. */
	if (!scenario_run(&s, 0, argv, NULL, what))
		return;
	scenario_expect(&s, "kill_ret", "0", what, 0);
	scenario_expect(&s, "kill_errno", "0", what, 0);
	scenario_expect(&s, "stranger", "killed", what, 0);

	/* With libkt: the stale kill is refused and nothing is sent. */
	if (!scenario_run(&s, 1, argv, NULL, what))
		return;
	/* Registered at birth.  Under SIG_IGN the kernel may have reaped the child
	 * before we ask, and libkt may already know that. */
	char born[32];
	scenario_field(&s, "kt_born", born, sizeof born);
	if (c->hooked_reap || strcmp(born, "reaped") != 0)
		scenario_expect(&s, "kt_born", "live", what, 1);
	scenario_expect(&s, "kill_ret", "-1", what, 1);
	scenario_expect(&s, "kill_errno", "ESRCH", what, 1);
	scenario_expect(&s, "stranger", "alive", what, 1);
	if (c->hooked_reap)
		scenario_expect(&s, "kt_state", "reaped", what, 1);
}

START_TEST(test_libkt_loaded)
{
	kt_test_assert_loaded();
}
END_TEST

START_TEST(test_by_creation)
{
	check_combo(&by_creation[_i], "auto");
}
END_TEST

START_TEST(test_by_reap)
{
	check_combo(&by_reap[_i], "auto");
}
END_TEST

START_TEST(test_crossed)
{
	check_combo(&crossed[_i], "auto");
}
END_TEST

/* The helper's fallback for kernels where clone3(set_tid) is refused: the
 * stranger placed through /proc/sys/kernel/ns_last_pid must give the same
 * answers, or that fallback would hide a broken scenario. */
START_TEST(test_ns_last_pid_placement)
{
	static const struct combo c = { "fork", "waitpid", 1 };
	check_combo(&c, "ns_last_pid");
}
END_TEST

/* KT_MODE=audit and off change nothing about delivery: the stale kill goes
 * through and kills the stranger, exactly as without libkt. */
static void check_mode_passes_through(const char *mode)
{
	char what[96];
	snprintf(what, sizeof what, "KT_MODE=%s creation=fork reap=waitpid", mode);
	if (!scenario_possible(what))
		return;
	char env_mode[32];
	snprintf(env_mode, sizeof env_mode, "KT_MODE=%s", mode);
	char *env[] = { env_mode, NULL };
	char *argv[] = { (char *)kt_test_helper("reuse"), "--creation=fork", "--reap=waitpid",
	                 NULL };
	struct scenario s;
	if (!scenario_run(&s, 0, argv, NULL, what))
		return;
	scenario_expect(&s, "stranger", "killed", what, 0);
	if (!scenario_run(&s, 1, argv, env, what))
		return;
	scenario_expect(&s, "kill_ret", "0", what, 1);
	scenario_expect(&s, "kill_errno", "0", what, 1);
	scenario_expect(&s, "stranger", "killed", what, 1);
}

START_TEST(test_mode_audit_delivers)
{
	check_mode_passes_through("audit");
}
END_TEST

START_TEST(test_mode_off_delivers)
{
	check_mode_passes_through("off");
}
END_TEST

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *reuse_suite(void)
{
	Suite *s = suite_create("reuse");
	TCase *tc = tcase_create("loaded");
	tcase_add_test(tc, test_libkt_loaded);
	suite_add_tcase(s, tc);

	tc = tcase_create("creation");
	tcase_add_loop_test(tc, test_by_creation, 0, N_OF(by_creation));
	suite_add_tcase(s, tc);

	tc = tcase_create("reap");
	tcase_add_loop_test(tc, test_by_reap, 0, N_OF(by_reap));
	suite_add_tcase(s, tc);

	tc = tcase_create("crossed");
	tcase_add_loop_test(tc, test_crossed, 0, N_OF(crossed));
	suite_add_tcase(s, tc);

	tc = tcase_create("placement");
	tcase_add_test(tc, test_ns_last_pid_placement);
	suite_add_tcase(s, tc);

	tc = tcase_create("modes");
	tcase_add_test(tc, test_mode_audit_delivers);
	tcase_add_test(tc, test_mode_off_delivers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(reuse_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
