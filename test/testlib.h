/* Shared plumbing for the preload suites: where the build is, running a helper
 * program with or without libkt preloaded, and proving libkt is loaded. */
#ifndef KT_TESTLIB_H
#define KT_TESTLIB_H
#include <stddef.h>
#include <sys/types.h>

/* Absolute path of build/libkt.so, taken from $KT_BUILD (set by `make test`). */
const char *kt_test_lib(void);
/* Absolute path of a helper program: $KT_BUILD/test/helpers/NAME. */
const char *kt_test_helper(const char *name);

/* Run ARGV (argv[0] is a path) with libkt preloaded or not, with EXTRA_ENV
 * ("K=V" strings, NULL-terminated, may be NULL) added to a copy of the current
 * environment from which LD_PRELOAD and every KT_* variable were removed.
 * Captures up to OUTSZ-1 bytes of stdout (stderr too when MERGE_STDERR) into OUT,
 * NUL-terminated.  Kills the program after TIMEOUT_S seconds.  Returns its wait
 * status, or -1 if it could not be started. */
int kt_test_run(int preload, char *const argv[], char *const extra_env[],
                char *out, size_t outsz, int merge_stderr, int timeout_s);

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

/* 1 if this machine can create a private PID namespace for a test (as root, or
 * through an unprivileged user namespace); 0 with *why set otherwise. */
int kt_test_can_pidns(const char **why);

/* 1 if this process's glibc defines NAME at VERSION (e.g. "_Fork",
 * "GLIBC_2.34").  Asked of libc.so.6 itself: a lookup through the global
 * scope would find libkt's hook of that name first. */
int kt_test_glibc_has(const char *name, const char *version);
#endif
