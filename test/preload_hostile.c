/* SPDX-License-Identifier: MIT */
/* Hostile conditions, made from outside without test hooks in the library:
 *
 *   - the fork→registration race forced open from outside, with strace's
 *     syscall delay injection on pidfd_open: the stranger that
 *     takes the child's number inside the window survives;
 *   - secure-execution mode (AT_SECURE): a set-user-ID copy of a helper, run
 *     as an ordinary user, loads libkt and must not create the KT_LOG file
 *     the environment names (the same run without AT_SECURE does);
 *   - no address space for the PID table (RLIMIT_AS at the current size):
 *     children go untracked and counted, the program notices nothing. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kt.h>

#include "scenario.h"
#include "testlib.h"

static int have(const char *path)
{
	return access(path, X_OK) == 0;
}

/* ---- the registration race under strace ---------------------------------- */

static void race_run(struct scenario *s, int preload, const char *what)
{
	char pre[4200];
	snprintf(pre, sizeof pre, "--preload=%s", kt_test_lib());
	char *argv_with[] = { "/usr/bin/strace", "-f", "-qq", "-o", "/dev/null",
		              "-e", "trace=pidfd_open",
		              "-e", "inject=pidfd_open:delay_enter=200000",
		              (char *)kt_test_helper("reuse"), pre, "--",
		              (char *)kt_test_helper("race_prog"), NULL };
	char *argv_without[] = { "/usr/bin/strace", "-f", "-qq", "-o", "/dev/null",
		                 "-e", "trace=pidfd_open",
		                 "-e", "inject=pidfd_open:delay_enter=200000",
		                 (char *)kt_test_helper("reuse"), "--",
		                 (char *)kt_test_helper("race_prog"), NULL };
	/* The reuse helper hands libkt to the program only (--preload): strace
	 * and the supervisor run without it. */
	ck_assert(scenario_run(s, 0, preload ? argv_with : argv_without, NULL, what));
}

START_TEST(registration_race_under_strace)
{
	const char *what = "fork, child reaped and its number reused inside pidfd_open's delay";
	if (!scenario_possible(what))
		return;
	if (!have("/usr/bin/strace")) {
		printf("SKIP: %s: no /usr/bin/strace\n", what);
		return;
	}
	if (!kt_test_have_pidfd() || kt_test_identity() == KT_IDENTITY_NONE) {
		printf("SKIP: %s: no pidfd_open in this run to delay\n", what);
		return;
	}
	struct scenario s;
	race_run(&s, 0, what);
	scenario_expect_stranger_killed(&s, what);
	race_run(&s, 1, what);
	/* The window really was open: the reaper had the child (and the
	 * stranger its number) before fork() returned to the program. */
	scenario_expect(&s, "reaped_before", "1", what, 1);
	scenario_expect(&s, "kill_ret", "-1", what, 1);
	scenario_expect(&s, "kill_errno", "ESRCH", what, 1);
	scenario_expect(&s, "stranger", "alive", what, 1);
}
END_TEST

/* ---- AT_SECURE --------------------------------------------------------------- */

/* Runs the set-user-ID copy EXE as user nobody (when AS_NOBODY) with
 * KT_LOG=LOG; returns its output. */
static void run_secure(const char *exe, const char *log, int as_nobody, char *out, size_t n)
{
	int p[2];
	ck_assert(pipe(p) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		if (as_nobody && (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0))
			_exit(90);
		char kv[512];
		snprintf(kv, sizeof kv, "KT_LOG=%s", log);
		char *env[] = { kv, "PATH=/usr/bin:/bin", NULL };
		char *argv[] = { (char *)exe, (char *)kt_test_lib(), NULL };
		execve(exe, argv, env);
		_exit(91);
	}
	close(p[1]);
	ssize_t len = read(p[0], out, n - 1);
	out[len > 0 ? len : 0] = '\0';
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "secure_log: status 0x%x: %s", st, out);
}

START_TEST(secure_execution_never_opens_the_log_file)
{
	if (getenv("KT_SANITIZER")) {
		/* dlopen of an ASan library into a plain program is refused. */
		printf("SKIP: %s: not meaningful against the %s build\n", __func__,
		       getenv("KT_SANITIZER"));
		return;
	}
	if (geteuid() != 0) {
		printf("SKIP: AT_SECURE test: needs root to make a set-user-ID copy\n");
		return;
	}
	char dir[] = "/tmp/kt-secure-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	chmod(dir, 0755); /* nobody may run the copy, not write here */
	char exe[256], log[256], out[512];
	snprintf(exe, sizeof exe, "%s/secure_log", dir);
	snprintf(log, sizeof log, "%s/kt.log", dir);
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", kt_test_helper("secure_log"), exe);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(chmod(exe, 04755), 0);
	/* libkt.so must be readable by the set-user-ID run: it is (root). */

	run_secure(exe, log, 1, out, sizeof out);
	ck_assert_msg(strstr(out, "secure=1 loaded=1"), "not in secure mode, or libkt not loaded: %s",
	              out);
	ck_assert_msg(access(log, F_OK) != 0, "KT_LOG file created by a set-user-ID program");

	/* The control: the same program, not elevated, does open it. */
	run_secure(exe, log, 0, out, sizeof out);
	ck_assert_msg(strstr(out, "secure=0 loaded=1"), "%s", out);
	struct stat st;
	ck_assert_msg(stat(log, &st) == 0, "KT_LOG file not created without AT_SECURE");
	ck_assert_uint_eq(st.st_mode & 0777, 0600);

	unlink(log);
	unlink(exe);
	rmdir(dir);
}
END_TEST

/* ---- a tombstoned number now held by a child made out of fork's sight ------- */

/* Runs untracked_reuse MODE with or without libkt; returns 0 after printing a
 * SKIP line if this machine has no PID namespace for it. */
static int run_untracked_reuse(const char *mode, int preload, char *out, size_t len)
{
	char *argv[] = { (char *)kt_test_helper("untracked_reuse"), (char *)mode, NULL };
	int st = kt_test_run(preload, argv, NULL, out, len, 1, 20);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
		printf("SKIP: a reaped number given to a %s child: no PID namespace here\n", mode);
		return 0;
	}
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s, %s libkt: 0x%x %s", mode,
	              preload ? "with" : "without", st, out);
	return 1;
}

/* A child the program made with syscall() is known to it by number: the
 * reaped child's tombstone must not refuse the kill (libkt's syscall hook
 * registers the child; preload_children's syscall_* scenarios show that
 * part), and the kill reaches it as without libkt. */
static const char *const raw_modes[] = {
	"clone", "clone3",
#ifdef SYS_fork
	"fork",
#endif
};

START_TEST(raw_syscall_child_on_a_reaped_number)
{
	static char plain[1024], hooked[1024];
	const char *mode = raw_modes[_i];
	if (!run_untracked_reuse(mode, 0, plain, sizeof plain))
		return;
	ck_assert_str_eq(plain, "pid_reused=1 kill_ret=0 kill_errno=0 child_signal=15\n");
	run_untracked_reuse(mode, 1, hooked, sizeof hooked);
	ck_assert_str_eq(hooked, plain);
}
END_TEST

/* popen's child is made inside glibc, where no hook sees it: libkt cannot
 * tell it from a child the program made through a path another interposer
 * took over, so a kill() of its number is delivered, as without libkt,
 * rather than refused by the reaped child's tombstone. */
START_TEST(popen_child_on_a_reaped_number_as_without_libkt)
{
	static char plain[1024], hooked[1024];
	if (!run_untracked_reuse("popen", 0, plain, sizeof plain))
		return;
	ck_assert_str_eq(plain, "pid_reused=1 kill_ret=0 kill_errno=0 child_signal=15\n");
	run_untracked_reuse("popen", 1, hooked, sizeof hooked);
	ck_assert_str_eq(hooked, plain);
}
END_TEST

/* ---- no memory for the table ------------------------------------------------- */

START_TEST(no_address_space_for_the_table)
{
	if (getenv("KT_SANITIZER")) {
		/* The ASan runtime itself needs address space. */
		printf("SKIP: %s: not meaningful against the %s build\n", __func__,
		       getenv("KT_SANITIZER"));
		return;
	}
	static char plain[4096], hooked[4096], both[4096];
	char *argv[] = { (char *)kt_test_helper("nomem"), NULL };
	int st = kt_test_run(0, argv, NULL, plain, sizeof plain, 0, 20);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "without libkt: 0x%x %s", st, plain);
	ck_assert_msg(strstr(plain, "mmap_refused=1\n"), "%s", plain);
	st = kt_test_run(1, argv, NULL, hooked, sizeof hooked, 0, 20);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "with libkt: 0x%x %s", st, hooked);
	ck_assert_str_eq(hooked, plain);
	/* And libkt counted what it could not track. */
	st = kt_test_run(1, argv, NULL, both, sizeof both, 1, 20);
	ck_assert_msg(strstr(both, "fallbacks=3 tracked=0"), "%s", both);
	ck_assert_msg(!strstr(both, "kt_state=1") && !strstr(both, "kt_state=2"), "%s", both);
}
END_TEST

int main(void)
{
	Suite *s = kt_test_preload_suite("hostile");
	TCase *tc = kt_test_tcase(s, "hostile", 60, registration_race_under_strace,
	                          secure_execution_never_opens_the_log_file,
	                          popen_child_on_a_reaped_number_as_without_libkt,
	                          no_address_space_for_the_table);
	tcase_add_loop_test(tc, raw_syscall_child_on_a_reaped_number, 0,
	                    (int)(sizeof raw_modes / sizeof raw_modes[0]));
	return kt_test_main(s);
}
