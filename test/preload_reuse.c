/* SPDX-License-Identifier: MIT */
/* Deterministic PID-reuse tests (docs/testing.md): a child is created by one creation
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

#include <kt.h>

#include "scenario.h"
#include "testlib.h"

struct combo {
	const char *creation;
	const char *reap;
	/* The reap goes through a hooked wait call, which marks the child reaped
	 * before it returns, so libkt must know the child is reaped — not merely
	 * find the stranger's inode different.  SIG_IGN auto-reaping has no call
	 * to hook. */
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
	/* Every creation path libkt hooks registers the child, these too. */
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

/* The other ways to send a signal to a child, each refused when stale: a
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
 * (docs/design.md, degradation).  Even SIG_IGN auto-reaping is caught: at
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
	if (c->logged)
		scenario_expect_stale_report(&s, what);
}

/* The helper's fallback for kernels where clone3(set_tid) is refused: the
 * stranger placed through /proc/sys/kernel/ns_last_pid must give the same
 * answers, or that fallback would hide a broken scenario. */
static const struct combo placement[] = {
	{ .creation = "fork", .reap = "waitpid", .hooked_reap = 1, .place = "ns_last_pid" },
};

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* The tables above, each a test case of its own. */
static const struct {
	const char *name;
	const struct combo *combos;
	int n;
} groups[] = {
	{ "creation", by_creation, N_OF(by_creation) },
	{ "reap", by_reap, N_OF(by_reap) },
	{ "crossed", crossed, N_OF(crossed) },
	{ "send", by_send, N_OF(by_send) },
	{ "handler", in_handler, N_OF(in_handler) },
	{ "identity", by_identity, N_OF(by_identity) },
	{ "placement", placement, N_OF(placement) },
};

/* _i counts through the combinations of every group, one group after another. */
START_TEST(test_combo)
{
	int i = _i;
	size_t g = 0;
	while (i >= groups[g].n)
		i -= groups[g++].n;
	check_combo(&groups[g].combos[i]);
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

int main(void)
{
	Suite *s = kt_test_preload_suite("reuse");
	int first = 0;
	for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
		TCase *tc = kt_test_tcase(s, groups[g].name, 0);
		tcase_add_loop_test(tc, test_combo, first, first + groups[g].n);
		first += groups[g].n;
	}

	kt_test_tcase(s, "modes", 0, test_mode_audit_delivers, test_mode_off_delivers);
	return kt_test_main(s);
}
