/* SPDX-License-Identifier: MIT */
#include "testlib.h"

#include <kt.h>

#include <check.h>
#include <limits.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *build_dir(void)
{
	const char *b = getenv("KT_BUILD");
	return b && *b ? b : "build";
}

const char *kt_test_lib(void)
{
	static char path[4096];
	snprintf(path, sizeof path, "%s/libkt.so", build_dir());
	return path;
}

const char *kt_test_helper(const char *name)
{
	/* A small ring so two helper paths can be live in one expression. */
	static char ring[4][4096];
	static int next;
	char *p = ring[next++ & 3];
	snprintf(p, 4096, "%s/test/helpers/%s", build_dir(), name);
	return p;
}

static int is_ours(const char *kv)
{
	return strncmp(kv, "LD_PRELOAD=", 11) == 0 || strncmp(kv, "KT_", 3) == 0;
}

/* Variables of the test run itself that the programs under test keep:
 * the build directory, and the identity mode the suite is being run in
 * (unless the test sets one of its own in EXTRA). */
static int is_kept(const char *kv, char *const extra[])
{
	if (strncmp(kv, "KT_BUILD=", 9) == 0)
		return 1;
	if (strncmp(kv, "KT_IDENTITY=", 12) != 0)
		return 0;
	for (size_t i = 0; extra && extra[i]; i++)
		if (strncmp(extra[i], "KT_IDENTITY=", 12) == 0)
			return 0;
	return 1;
}

int kt_test_run(int preload, char *const argv[], char *const extra_env[],
                char *out, size_t outsz, int merge_stderr, int timeout_s)
{
	size_t n = 0, extra = 0;
	while (environ[n])
		n++;
	while (extra_env && extra_env[extra])
		extra++;
	char **env = calloc(n + extra + 2, sizeof *env);
	char preload_kv[4200];
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!is_ours(environ[i]) || is_kept(environ[i], extra_env))
			env[k++] = environ[i];
	if (preload) {
		/* KT_TEST_PRELOAD: the whole LD_PRELOAD for the sanitizer runs
		 * (`make check-asan`: the ASan runtime, then build/asan/libkt.so). */
		const char *all = getenv("KT_TEST_PRELOAD");
		snprintf(preload_kv, sizeof preload_kv, "LD_PRELOAD=%s",
		         all && *all ? all : kt_test_lib());
		env[k++] = preload_kv;
	}
	for (size_t i = 0; i < extra; i++)
		env[k++] = extra_env[i];
	env[k] = NULL;

	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		free(env);
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		free(env);
		return -1;
	}
	if (pid == 0) {
		dup2(pfd[1], 1);
		if (merge_stderr)
			dup2(pfd[1], 2);
		execve(argv[0], argv, env);
		_exit(127);
	}
	free(env);
	close(pfd[1]);

	size_t len = 0;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left_ms = timeout_s * 1000L - ((now.tv_sec - start.tv_sec) * 1000L +
		                                   (now.tv_nsec - start.tv_nsec) / 1000000L);
		if (left_ms <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		int r = poll(&p, 1, (int)left_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		char tmp[4096];
		ssize_t got = read(pfd[0], tmp, sizeof tmp);
		if (got <= 0)
			break;
		for (ssize_t i = 0; i < got && out && len + 1 < outsz; i++)
			out[len++] = tmp[i];
	}
	if (out && outsz)
		out[len] = '\0';
	close(pfd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

int kt_test_run_timed(int preload, char *const argv[], char *out, size_t outsz,
                      int timeout_s, double *secs)
{
	double t0 = kt_test_now_s();
	int st = kt_test_run(preload, argv, NULL, out, outsz, 1, timeout_s);
	*secs = kt_test_now_s() - t0;
	ck_assert_msg(st != -1, "could not start %s", argv[0]);
	return st;
}

double kt_test_now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int kt_test_exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int kt_test_holder_named(const char *text, const char *said, const char *name)
{
	const char *p = strstr(text, said);
	if (!p)
		return 0;
	p += strlen(said);
	size_t digits = strspn(p, "0123456789:");
	if (digits && p[digits] == ' ' && memchr(p, ':', digits))
		p += digits + 1;
	return strncmp(p, name, strlen(name)) == 0;
}

void kt_test_skip(const char *what, const char *why)
{
	printf("SKIP: %s: %s\n", what, why);
	fflush(stdout);
}

int kt_test_installed(const char *path, const char *what)
{
	if (access(path, X_OK) == 0)
		return 1;
	char why[4200];
	snprintf(why, sizeof why, "%s is not installed", path);
	kt_test_skip(what, why);
	return 0;
}

void kt_test_assert_loaded(void)
{
	Dl_info info;
	void *k = dlsym(RTLD_DEFAULT, "kill");
	ck_assert_msg(k != NULL, "kill not found");
	ck_assert_msg(dladdr(k, &info) && info.dli_fname,
	              "dladdr(kill) failed");
	ck_assert_msg(strstr(info.dli_fname, "libkt.so") != NULL,
	              "kill() resolves to %s, not libkt.so: is LD_PRELOAD set?",
	              info.dli_fname);
	ck_assert_msg(dlsym(RTLD_DEFAULT, "kt_version") != NULL,
	              "kt_version not exported");
}

START_TEST(libkt_is_loaded)
{
	kt_test_assert_loaded();
}
END_TEST

TCase *kt_test_tcase_with(Suite *s, const char *name, int timeout_s, const TTest *const tests[])
{
	TCase *tc = tcase_create(name);
	if (timeout_s)
		tcase_set_timeout(tc, timeout_s);
	for (size_t i = 0; tests[i]; i++)
		tcase_add_test(tc, tests[i]);
	suite_add_tcase(s, tc);
	return tc;
}

Suite *kt_test_preload_suite(const char *name)
{
	Suite *s = suite_create(name);
	kt_test_tcase(s, "loaded", 0, libkt_is_loaded);
	return s;
}

int kt_test_main(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static const char *fixture_dir(void)
{
	/* $KT_BUILD is <repo>/build under `make test`; the fixtures are in
	 * <repo>/test/compat.  Run by hand from the top directory (or from a
	 * sanitizer build, whose KT_BUILD is deeper), it is test/compat. */
	static char dir[PATH_MAX];
	if (dir[0])
		return dir;
	const char *b = getenv("KT_BUILD");
	if (b && *b) {
		snprintf(dir, sizeof dir, "%s/../test/compat", b);
		if (access(dir, R_OK) == 0)
			return dir;
	}
	snprintf(dir, sizeof dir, "test/compat");
	return dir;
}

const char *kt_test_fixture(const char *name)
{
	static char ring[4][PATH_MAX + 64];
	static int next;
	char *p = ring[next++ & 3];
	snprintf(p, sizeof ring[0], "%s/%s", fixture_dir(), name);
	ck_assert_msg(access(p, R_OK) == 0, "fixture %s is missing", p);
	return p;
}

int kt_test_can_pidns(const char **why)
{
	/* Try it for real in a throwaway child: the answer depends on root, on
	 * user-namespace sysctls and on seccomp, which no single file tells. */
	pid_t pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWPID) == 0)
			_exit(0);
		if (unshare(CLONE_NEWUSER | CLONE_NEWPID) == 0)
			_exit(0);
		_exit(1);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		if (why)
			*why = "neither root nor unprivileged user namespaces can make a PID namespace here";
		return 0;
	}
	return 1;
}

void *kt_test_api(const char *name)
{
	return dlsym(RTLD_DEFAULT, name);
}

int kt_test_pid_state(pid_t pid)
{
	int (*fn)(pid_t) = (int (*)(pid_t))kt_test_api("kt_pid_state");
	return fn ? fn(pid) : -1;
}

void kt_test_counters(struct kt_counters *out)
{
	int (*fn)(struct kt_counters *, size_t) =
		(int (*)(struct kt_counters *, size_t))kt_test_api("kt_counters");
	memset(out, 0, sizeof *out);
	if (fn)
		fn(out, sizeof *out);
}

int kt_test_have_pidfd(void)
{
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

int kt_test_group_by_pidfd(void)
{
	if (kt_test_identity() == KT_IDENTITY_NONE)
		return 0;
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (fd < 0)
		return 0;
	/* Signal 0 to our own group: an unknown flag is EINVAL before the
	 * target is looked at. */
	int r = (int)syscall(SYS_pidfd_send_signal, fd, 0, NULL, 4u /* PIDFD_SIGNAL_PROCESS_GROUP */);
	int known = r == 0 || errno != EINVAL;
	close(fd);
	return known;
}

int kt_test_identity(void)
{
	if (!kt_test_have_pidfd())
		return KT_IDENTITY_NONE;
	const char *want = getenv("KT_IDENTITY");
	if (want && strcmp(want, "none") == 0)
		return KT_IDENTITY_NONE;
	if (want && strcmp(want, "fd") == 0)
		return KT_IDENTITY_FD;
	/* auto or inode: inode where pidfds live on pidfs (6.9+), fd before. */
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	struct statfs sfs;
	int pidfs = fd >= 0 && fstatfs(fd, &sfs) == 0 && (unsigned)sfs.f_type == 0x50494446u;
	if (fd >= 0)
		close(fd);
	return pidfs ? KT_IDENTITY_INODE : KT_IDENTITY_FD;
}

int kt_test_glibc_has(const char *name, const char *version)
{
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	int has = libc && dlvsym(libc, name, version);
	if (libc)
		dlclose(libc);
	return has;
}

int kt_test_strace_argv(char **argv, const char *trace, const char *inject)
{
	const char *head[] = { "/usr/bin/strace", "-f", "-qq", "-o", "/dev/null", "-e", trace,
		               "-e", inject };
	int n = (int)(sizeof head / sizeof head[0]);
	for (int i = 0; i < n; i++)
		argv[i] = (char *)head[i];
	return n;
}

char **kt_test_identity_env(const char *extra)
{
	static char kv[64];
	static char *env[3];
	const char *id = getenv("KT_IDENTITY");
	snprintf(kv, sizeof kv, "KT_IDENTITY=%s", id ? id : "");
	env[0] = kv;
	env[1] = (char *)extra;
	env[2] = NULL;
	return env;
}
