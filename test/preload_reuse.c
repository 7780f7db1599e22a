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
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kt.h>

#include "scenario.h"
#include "testlib.h"

struct combo {
	const char *creation;
	const char *reap;
	/* The reap goes through a hooked wait call, so libkt must know the child
	 * is reaped (contract §2.6) — not merely find the stranger's inode
	 * different.  SIG_IGN auto-reaping has no call to hook. */
	int hooked_reap;
	const char *send;  /* --send= of the helper; NULL: kill */
	const char *from;  /* --from= of the helper; NULL: main */
	const char *place; /* --place= of the helper; NULL: auto */
	int logged;        /* with libkt, also run with KT_LOG=stderr and expect a
	                      report naming the pid */
	const char *identity; /* KT_IDENTITY= for the with-libkt run; NULL: unset */
};

/* Every creation path, reaped by waitpid(pid). */
static const struct combo by_creation[] = {
	{ .creation = "fork", .reap = "waitpid", .hooked_reap = 1 },
	{ .creation = "_Fork", .reap = "waitpid", .hooked_reap = 1 },
	{ .creation = "posix_spawn", .reap = "waitpid", .hooked_reap = 1 },
	{ .creation = "posix_spawnp", .reap = "waitpid", .hooked_reap = 1 },
	/* Also in the contract (§2.1), though not the first hooks written. */
	{ .creation = "vfork", .reap = "waitpid", .hooked_reap = 1 },
	{ .creation = "clone", .reap = "waitpid", .hooked_reap = 1 },
};

/* fork, reaped by every reap path. */
static const struct combo by_reap[] = {
	{ .creation = "fork", .reap = "wait", .hooked_reap = 1 },
	{ .creation = "fork", .reap = "waitpid", .hooked_reap = 1 },
	{ .creation = "fork", .reap = "waitpid_any", .hooked_reap = 1 },
	{ .creation = "fork", .reap = "wait3", .hooked_reap = 1 },
	{ .creation = "fork", .reap = "wait4", .hooked_reap = 1 },
	{ .creation = "fork", .reap = "waitid_pid", .hooked_reap = 1 },
	{ .creation = "fork", .reap = "waitid_all", .hooked_reap = 1 },
	{ .creation = "fork", .reap = "waitid_pidfd", .hooked_reap = 1 },
	{ .creation = "fork", .reap = "sigchld", .hooked_reap = 1 },
	{ .creation = "fork", .reap = "thread", .hooked_reap = 1 },
	{ .creation = "fork", .reap = "sigign", .hooked_reap = 0 },
};

/* A spread of the other pairs: the spawn paths do not go through fork, so
 * their registration must meet each kind of reap on its own. */
static const struct combo crossed[] = {
	{ .creation = "_Fork", .reap = "waitid_all", .hooked_reap = 1 },
	{ .creation = "_Fork", .reap = "sigign", .hooked_reap = 0 },
	{ .creation = "posix_spawn", .reap = "sigchld", .hooked_reap = 1 },
	{ .creation = "posix_spawn", .reap = "sigign", .hooked_reap = 0 },
	{ .creation = "posix_spawn", .reap = "wait", .hooked_reap = 1 },
	{ .creation = "posix_spawnp", .reap = "thread", .hooked_reap = 1 },
	{ .creation = "posix_spawnp", .reap = "wait3", .hooked_reap = 1 },
	{ .creation = "posix_spawnp", .reap = "waitid_pidfd", .hooked_reap = 1 },
};

/* 1 if a line of OUT other than the result line says "stale" and names PID. */
static int has_stale_report(const char *out, const char *pid)
{
	for (const char *line = out; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[1024];
		if (len >= sizeof buf)
			len = sizeof buf - 1;
		memcpy(buf, line, len);
		buf[len] = '\0';
		if (strncmp(buf, "creation=", 9) != 0 && strcasestr(buf, "stale"))
			for (const char *p = strstr(buf, pid); p; p = strstr(p + 1, pid))
				if ((p == buf || !isdigit((unsigned char)p[-1])) &&
				    !isdigit((unsigned char)p[strlen(pid)]))
					return 1;
		line = end ? end + 1 : NULL;
	}
	return 0;
}

/* The other ways to send a signal to a child (contract §2.2, §2.3): a
 * sigqueue, and the group forms where the child and the stranger each lead a
 * process group named by the reused number. */
static const struct combo by_send[] = {
	{ .creation = "fork", .reap = "waitpid", .hooked_reap = 1, .send = "sigqueue" },
	{ .creation = "fork", .reap = "waitpid", .hooked_reap = 1, .send = "killpg" },
	{ .creation = "fork", .reap = "waitpid", .hooked_reap = 1, .send = "kill_neg" },
	{ .creation = "posix_spawn", .reap = "waitpid", .hooked_reap = 1, .send = "killpg" },
	{ .creation = "posix_spawn", .reap = "sigign", .hooked_reap = 0, .send = "kill_neg" },
};

/* The stale kill sent from a signal handler, where libkt may use nothing but
 * async-signal-safe means — with a report to write, too. */
static const struct combo in_handler[] = {
	{ .creation = "fork", .reap = "waitpid", .hooked_reap = 1, .from = "handler" },
	{ .creation = "fork", .reap = "waitpid", .hooked_reap = 1, .from = "handler", .logged = 1 },
	{ .creation = "posix_spawn", .reap = "sigchld", .hooked_reap = 1, .from = "handler",
	  .logged = 1 },
	{ .creation = "fork", .reap = "sigign", .hooked_reap = 0, .from = "handler", .logged = 1 },
	{ .creation = "fork", .reap = "waitpid", .hooked_reap = 1, .send = "killpg",
	  .from = "handler" },
};

/* Forced identity modes.  With KT_IDENTITY=none libkt holds no pidfd and
 * cannot recognise a stranger, but the wait hooks still know which children
 * were reaped, so a stale kill after a hooked reap must still be refused
 * (DESIGN §3, "Degradation").  Even SIG_IGN auto-reaping is caught: at
 * kill time libkt asks waitid(WNOWAIT) whether the number is still a child
 * of ours, and a stranger is not. */
static const struct combo by_identity[] = {
	{ .creation = "fork", .reap = "waitpid", .hooked_reap = 1, .identity = "none" },
	{ .creation = "posix_spawn", .reap = "sigchld", .hooked_reap = 1, .identity = "none" },
	{ .creation = "fork", .reap = "thread", .hooked_reap = 1, .identity = "none" },
	{ .creation = "_Fork", .reap = "waitid_all", .hooked_reap = 1, .identity = "none",
	  .from = "handler" },
	{ .creation = "fork", .reap = "sigign", .hooked_reap = 0, .identity = "none" },
	{ .creation = "posix_spawn", .reap = "sigign", .hooked_reap = 0, .identity = "none",
	  .from = "handler" },
	{ .creation = "fork", .reap = "waitpid", .hooked_reap = 1, .identity = "inode" },
	{ .creation = "posix_spawnp", .reap = "sigign", .hooked_reap = 0, .identity = "inode" },
};

/* Runs one combination both ways and asserts both halves. */
static void check_combo(const struct combo *c)
{
	const char *send = c->send ? c->send : "kill";
	const char *from = c->from ? c->from : "main";
	const char *place = c->place ? c->place : "auto";
	char what[224], identity[64] = "";
	if (c->identity)
		snprintf(identity, sizeof identity, " KT_IDENTITY=%s", c->identity);
	snprintf(what, sizeof what, "creation=%s reap=%s send=%s from=%s place=%s%s%s",
	         c->creation, c->reap, send, from, place, c->logged ? " KT_LOG=stderr" : "",
	         identity);
	if (!scenario_possible(what))
		return;
	if (strncmp(c->creation, "vfork", 5) == 0 && getenv("KT_SANITIZER")) {
		/* The sanitizer runtime, first in LD_PRELOAD, defines vfork. */
		printf("SKIP: %s: vfork is the sanitizer runtime's here\n", what);
		return;
	}
	if (strcmp(c->creation, "_Fork") == 0 && !kt_test_glibc_has("_Fork", "GLIBC_2.34")) {
		printf("SKIP: %s: this glibc has no _Fork (2.34 and later have it)\n", what);
		return;
	}
	if (strcmp(c->reap, "waitid_pidfd") == 0 && !kt_test_have_pidfd()) {
		printf("SKIP: %s: the reap itself needs pidfd_open, refused here\n", what);
		return;
	}

	char creation[64], reap[64], sendarg[64], fromarg[64], placearg[64];
	snprintf(creation, sizeof creation, "--creation=%s", c->creation);
	snprintf(reap, sizeof reap, "--reap=%s", c->reap);
	snprintf(sendarg, sizeof sendarg, "--send=%s", send);
	snprintf(fromarg, sizeof fromarg, "--from=%s", from);
	snprintf(placearg, sizeof placearg, "--place=%s", place);
	char *argv[] = { (char *)kt_test_helper("reuse"), creation, reap, sendarg, fromarg,
	                 placearg, NULL };
	char *env[3] = { NULL };
	int n_env = 0;
	if (c->logged)
		env[n_env++] = "KT_LOG=stderr";
	if (c->identity)
		env[n_env++] = identity + 1; /* without the leading space */
	struct scenario s;

	/* Without libkt: proves the scenario really reuses the PID. */
	if (!scenario_run(&s, 0, argv, NULL, what))
		return;
	scenario_expect_stranger_killed(&s, what);

	/* With libkt: the stale kill is refused and nothing is sent. */
	if (!scenario_run(&s, 1, argv, env, what))
		return;
	scenario_expect_refused(&s, what, c->hooked_reap);
	if (c->logged) {
		char pid[32];
		scenario_field(&s, "pid", pid, sizeof pid);
		ck_assert_msg(has_stale_report(s.out, pid),
		              "%s (with libkt): no line mentions \"stale\" and pid %s; output:\n%s",
		              what, pid, s.out);
	}
}

START_TEST(test_libkt_loaded)
{
	kt_test_assert_loaded();
}
END_TEST

START_TEST(test_by_creation)
{
	check_combo(&by_creation[_i]);
}
END_TEST

START_TEST(test_by_reap)
{
	check_combo(&by_reap[_i]);
}
END_TEST

START_TEST(test_crossed)
{
	check_combo(&crossed[_i]);
}
END_TEST

START_TEST(test_by_send)
{
	check_combo(&by_send[_i]);
}
END_TEST

START_TEST(test_in_handler)
{
	check_combo(&in_handler[_i]);
}
END_TEST

START_TEST(test_by_identity)
{
	check_combo(&by_identity[_i]);
}
END_TEST

/* The helper's fallback for kernels where clone3(set_tid) is refused: the
 * stranger placed through /proc/sys/kernel/ns_last_pid must give the same
 * answers, or that fallback would hide a broken scenario. */
START_TEST(test_ns_last_pid_placement)
{
	static const struct combo c = { .creation = "fork", .reap = "waitpid", .hooked_reap = 1,
	                                .place = "ns_last_pid" };
	check_combo(&c);
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

	tc = tcase_create("send");
	tcase_add_loop_test(tc, test_by_send, 0, N_OF(by_send));
	suite_add_tcase(s, tc);

	tc = tcase_create("handler");
	tcase_add_loop_test(tc, test_in_handler, 0, N_OF(in_handler));
	suite_add_tcase(s, tc);

	tc = tcase_create("identity");
	tcase_add_loop_test(tc, test_by_identity, 0, N_OF(by_identity));
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
