/* SPDX-License-Identifier: MIT */
/* Shared plumbing for every Check suite: the one main() they all have, and for
 * the preload suites where the build is, running a helper program with or
 * without libkt preloaded, and proving libkt is loaded. */
#ifndef KT_TESTLIB_H
#define KT_TESTLIB_H
#include <check.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>

/* main() of every suite: runs S (CK_FORK and CK_DEFAULT_TIMEOUT come from the
 * environment; scripts/run-tests runs each suite with CK_FORK=yes and =no) and
 * returns the process's exit status, EXIT_FAILURE when any test failed. */
int kt_test_main(Suite *s);

/* A new test case NAME in S holding the tests named after TIMEOUT_S, in
 * order; Check's timeout is raised to TIMEOUT_S seconds when that is not 0
 * (real programs on a loaded machine can take a while).  Returns the case,
 * for loop tests and fixtures. */
#define kt_test_tcase(s, name, timeout_s, ...)                                        \
	kt_test_tcase_with((s), (name), (timeout_s),                                  \
	                   (const TTest *const[]){ __VA_ARGS__ __VA_OPT__(,) NULL })
TCase *kt_test_tcase_with(Suite *s, const char *name, int timeout_s, const TTest *const tests[]);

/* suite_create(NAME) for a preload suite, with its first case "loaded": the
 * test that fails when libkt is not preloaded into the suite itself (wrong or
 * missing LD_PRELOAD), so no later result is mistaken for libkt's. */
Suite *kt_test_preload_suite(const char *name);

/* Absolute path of build/libkt.so, taken from $KT_BUILD (set by `make test`). */
const char *kt_test_lib(void);
/* Absolute path of a helper program: $KT_BUILD/test/helpers/NAME. */
const char *kt_test_helper(const char *name);
/* Path of a script or input under test/compat/ (fails the test if it is
 * missing); four stay valid at once. */
const char *kt_test_fixture(const char *name);

/* Run ARGV (argv[0] is a path) with libkt preloaded or not, with EXTRA_ENV
 * ("K=V" strings, NULL-terminated, may be NULL) added to a copy of the current
 * environment from which LD_PRELOAD and every KT_* variable were removed.
 * Captures up to OUTSZ-1 bytes of stdout (stderr too when MERGE_STDERR) into OUT,
 * NUL-terminated.  Kills the program after TIMEOUT_S seconds.  Returns its wait
 * status, or -1 if it could not be started. */
int kt_test_run(int preload, char *const argv[], char *const extra_env[],
                char *out, size_t outsz, int merge_stderr, int timeout_s);

/* kt_test_run for a program's whole output (stdout and stderr merged) that
 * fails the test when ARGV cannot be started; *SECS gets the time it took. */
int kt_test_run_timed(int preload, char *const argv[], char *out, size_t outsz,
                      int timeout_s, double *secs);

/* A program's wait status and its output (stdout and stderr merged), as the
 * suites that run scripts keep them. */
struct kt_test_output {
	char out[32768];
	int status;
};

/* The exit code in wait status STATUS, or -1 if the program did not exit. */
int kt_test_exit_code(int status);

/* Assertions about a run R (a struct kt_test_output *) or a text HAY; WHAT
 * names the check in the failure message.  Macros, so a failure names the
 * test's own line. */
#define kt_test_expect_exit(r, code, what)                                              \
	ck_assert_msg(kt_test_exit_code((r)->status) == (code),                         \
	              "%s: expected exit %d, got status 0x%x:\n%s", (what), (code),   \
	              (r)->status, (r)->out)
#define kt_test_expect_in(hay, needle, what)                                            \
	ck_assert_msg(strstr((hay), (needle)) != NULL, "%s: expected \"%s\" in:\n%s",   \
	              (what), (needle), (hay))

/* Assert that TEXT (a text report) says SAID and, after it and the
 * holder's "PID:INODE " where the report knows its inode, NAME. */
#define kt_test_expect_holder(text, said, name, what)                                   \
	ck_assert_msg(kt_test_holder_named((text), (said), (name)),                      \
	              "%s: expected \"%s\", [PID:INODE ], \"%s\" in:\n%s", (what), (said), \
	              (name), (text))
int kt_test_holder_named(const char *text, const char *said, const char *name);

/* Print the "SKIP: WHAT: WHY" line scripts/run-tests counts as a skip. */
void kt_test_skip(const char *what, const char *why);

/* An environment for kt_test_run holding this run's KT_IDENTITY (which
 * scripts/run-tests sets per mode, and kt_test_run passes on to no program by
 * itself), then EXTRA ("K=V", or NULL); valid until the next call. */
char **kt_test_identity_env(const char *extra);

/* The start of an argv that runs a program under strace, the window of a
 * race held open by its delay injection: "strace -f -qq -o /dev/null -e
 * TRACE -e INJECT" (e.g. "trace=kill", "inject=kill:delay_enter=900000").
 * Returns how many entries it wrote (at most 9). */
int kt_test_strace_argv(char **argv, const char *trace, const char *inject);

/* CLOCK_MONOTONIC in seconds. */
double kt_test_now_s(void);

/* 1 if PATH can be run; 0 after printing the "SKIP: WHAT: PATH is not
 * installed" line scripts/run-tests counts as a skip. */
int kt_test_installed(const char *path, const char *what);

/* ck_assert that the hooked kill() in this process comes from libkt.so. */
void kt_test_assert_loaded(void);

/* libkt's API through dlsym(RTLD_DEFAULT), the way a program that is not
 * linked against libkt reaches it.  kt_test_pid_state returns -1 and
 * kt_test_counters all zeroes when libkt is not loaded. */
struct kt_counters;
int kt_test_pid_state(pid_t pid);
void kt_test_counters(struct kt_counters *out);
void *kt_test_api(const char *name);

/* The identity mode libkt is expected to settle on in the programs the tests
 * run (enum kt_identity_mode): what KT_IDENTITY in the test's environment
 * asks for (scripts/run-tests runs the preload suites once per mode), and
 * KT_IDENTITY_NONE when pidfds are refused (the seccomp runs). */
int kt_test_identity(void);
/* 1 if pidfd_open works here (0 under the seccomp launcher, old kernels). */
int kt_test_have_pidfd(void);
/* 1 if libkt can send a group kill through the leader's pidfd here: the
 * identity mode has pidfds, and the kernel takes PIDFD_SIGNAL_PROCESS_GROUP
 * (6.9 and later; before it, group kills go by number). */
int kt_test_group_by_pidfd(void);

/* 1 if this machine can create a private PID namespace for a test (as root, or
 * through an unprivileged user namespace); 0 with *why set otherwise. */
int kt_test_can_pidns(const char **why);

/* 1 if this process's glibc defines NAME at VERSION (e.g. "_Fork",
 * "GLIBC_2.34").  Asked of libc.so.6 itself: a lookup through the global
 * scope would find libkt's hook of that name first. */
int kt_test_glibc_has(const char *name, const char *version);
#endif
