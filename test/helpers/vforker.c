/* SPDX-License-Identifier: MIT */
/*
 * vforker — vfork's semantics under libkt, self-checking.
 *
 *   vforker CASE...      run the named cases (all when none is named)
 *
 * Plain C with no test framework, so the same source is cross-built for
 * aarch64 and run under qemu-user (test/preload_children.c).  Prints one line
 * per case, "ok CASE ...", "FAIL CASE: why" or "skip CASE: why" (what this
 * platform cannot show: qemu-user emulates vfork with fork, so nothing is
 * shared, and has no seccomp), then "path=pidfd|fallback"
 * (whether this kernel or emulator accepts clone(CLONE_PIDFD), i.e. which
 * path libkt's trampoline takes here), and exits 0 only if every case passed.
 * libkt's introspection API is looked up with dlsym, so the same binary runs
 * with and without libkt ("libkt=no": the kt_* checks are skipped).
 *
 * Cases:
 *   basic        vfork + exec: the parent sleeps until the exec, the child is
 *                registered live, then reaped; errno untouched on success
 *   failed_exec  the child's exec fails and it _exit(127)s
 *   shares       the child really shares memory and runs first (vfork, not fork)
 *   nested       a vfork child vforks again: the grandchild is not written
 *                into the (shared) table, the child is
 *   threads      4 threads vfork + exec concurrently
 *   enomem       vfork fails (seccomp says EAGAIN to every clone): -1/EAGAIN
 *   fallback     clone refuses CLONE_PIDFD (seccomp says EINVAL): vfork still
 *                works and the child is still registered
 */
#include <dlfcn.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kt.h"
#include "../older_glibc.h"
#include "selfcheck.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

extern char **environ;

static int (*pid_state)(pid_t);
/* Our environment without LD_PRELOAD, for the programs we exec: under
 * qemu-user they are host binaries, which an aarch64 libkt cannot load into. */
static char **exec_env;
/* 0 once "shares" found that vfork shares no memory here (qemu-user). */
static int vfork_shares = 1;
static int (*counters)(struct kt_counters *, size_t);
static const char *state_name(pid_t pid)
{
	return kt_state_word(pid, "none");
}

/* libkt absent: every kt check passes vacuously (the suite runs us both ways
 * and asserts "libkt=yes" where it preloaded us). */
static int state_is(pid_t pid, const char *want)
{
	return !pid_state || strcmp(state_name(pid), want) == 0;
}

static uint64_t tracked(void)
{
	struct kt_counters c;
	if (!counters || counters(&c, sizeof c) < 0)
		return 0;
	return c.children_tracked;
}

static char *const true_argv[] = { "true", NULL };

static void case_basic(void)
{
	errno = 1234;
	pid_t pid = vfork();
	if (pid == 0) {
		execve("/bin/true", true_argv, exec_env);
		_exit(127);
	}
	int err = errno;
	const char *born = state_name(pid);
	int st = reap(pid);
	int ok = pid > 0 && err == 1234 && st == 0 && state_is(pid, "reaped");
	if (pid_state)
		ok = ok && strcmp(born, "live") == 0;
	say(ok, "basic", "pid>0=%d errno_kept=%d status=0x%x born=%s after=%s", pid > 0,
	    err == 1234, st, born, state_name(pid));
}

static void case_failed_exec(void)
{
	pid_t pid = vfork();
	if (pid == 0) {
		execve("/nonexistent/program", true_argv, exec_env);
		_exit(127);
	}
	/* The child's failed exec wrote errno in memory it shares with us: glibc's
	 * vfork gives the same, so only report it. */
	int err = errno;
	int st = reap(pid);
	int ok = pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 127 && state_is(pid, "reaped");
	say(ok, "failed_exec", "status=0x%x errno=%s after=%s", st,
	    strerrorname_np(err) ? strerrorname_np(err) : "other", state_name(pid));
}

static volatile int shared_word;

static void case_shares(void)
{
	shared_word = 0;
	pid_t pid = vfork();
	if (pid == 0) {
		shared_word = (int)syscall(SYS_getpid);
		_exit(0);
	}
	/* By the time vfork returns here the child has run and written. */
	int seen = shared_word;
	int st = reap(pid);
	if (pid > 0 && seen == 0 && st == 0) {
		vfork_shares = 0;
		skip("shares", "vfork shares no memory here (an emulator's fork-based vfork)");
		return;
	}
	say(pid > 0 && seen == pid && st == 0, "shares", "child wrote %d, pid %d", seen, pid);
}

static volatile pid_t grandchild;
static volatile int grandchild_status;

static void case_nested(void)
{
	if (!vfork_shares) {
		skip("nested", "the grandchild's PID comes back through shared memory");
		return;
	}
	uint64_t before = tracked();
	grandchild = 0;
	grandchild_status = -1;
	pid_t pid = vfork();
	if (pid == 0) {
		pid_t g = vfork();
		if (g == 0)
			_exit(5);
		grandchild = g;
		int st;
		grandchild_status = waitpid(g, &st, 0) == g ? st : -2;
		_exit(g > 0 ? 0 : 1);
	}
	const char *child_born = state_name(pid);
	uint64_t after = tracked();
	int st = reap(pid);
	pid_t g = grandchild;
	int ok = pid > 0 && st == 0 && g > 0 && WIFEXITED(grandchild_status) &&
		WEXITSTATUS(grandchild_status) == 5 && state_is(g, "untracked");
	if (pid_state)
		ok = ok && strcmp(child_born, "live") == 0 && after == before + 1;
	say(ok, "nested", "child=%s grandchild=%s grandchild_status=0x%x tracked+%llu",
	    child_born, state_name(g), grandchild_status, (unsigned long long)(after - before));
}

enum { THREADS = 4, PER_THREAD = 50 };

static void *vfork_loop(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER_THREAD; i++) {
		pid_t pid = vfork();
		if (pid == 0) {
			execve("/bin/true", true_argv, exec_env);
			_exit(127);
		}
		if (pid < 0)
			return (void *)1;
		int live = state_is(pid, "live");
		if (reap(pid) != 0 || !live || !state_is(pid, "reaped"))
			return (void *)2;
	}
	return NULL;
}

static void case_threads(void)
{
	pthread_t t[THREADS];
	int bad = 0;
	for (int i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, vfork_loop, NULL) != 0)
			bad++;
	for (int i = 0; i < THREADS; i++) {
		void *r;
		pthread_join(t[i], &r);
		if (r)
			bad++;
	}
	say(bad == 0, "threads", "%d threads x %d vfork+exec, %d bad", THREADS, PER_THREAD, bad);
}

/* A filter answering ERR to clone (all of it, or only with CLONE_PIDFD in
 * its flags) and, where it exists, to vfork.  Installed in a forked child:
 * seccomp cannot be undone. */
static int deny_clone(int err, int only_pidfd)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 2, 0),
#ifdef SYS_vfork
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_vfork, only_pidfd ? 4 : 3, 0),
#else
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffff, 4, 0),
#endif
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* clone: flags are the first argument (low word) on both arches */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, only_pidfd ? CLONE_PIDFD : 0xffffffff, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

/* Runs BODY in a forked child (so its seccomp filter dies with it); the
 * child's exit status is the verdict, its stdout goes to ours. */
static void in_child(const char *name, void (*body)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		failures = 0;
		body();
		fflush(stdout);
		_exit(failures ? 1 : 0);
	}
	int st = reap(pid);
	if (st != 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 1))
		say(0, name, "child died, status 0x%x", st);
	else if (st != 0)
		failures++;
}

static void body_enomem(void)
{
	if (deny_clone(EAGAIN, 0) < 0) {
		if (errno == ENOSYS || errno == EINVAL)
			skip("enomem", "no seccomp filters here");
		else
			say(0, "enomem", "seccomp: %s", strerror(errno));
		return;
	}
	errno = 0;
	pid_t pid = vfork();
	if (pid == 0)
		_exit(0);
	int err = errno;
	say(pid == -1 && err == EAGAIN, "enomem", "vfork=%d errno=%s", pid,
	    strerrorname_np(err) ? strerrorname_np(err) : "0");
}

static void body_fallback(void)
{
	if (deny_clone(EINVAL, 1) < 0) {
		if (errno == ENOSYS || errno == EINVAL)
			skip("fallback", "no seccomp filters here");
		else
			say(0, "fallback", "seccomp: %s", strerror(errno));
		return;
	}
	for (int round = 0; round < 2; round++) { /* the second knows already */
		errno = 777;
		pid_t pid = vfork();
		if (pid == 0) {
			execve("/bin/true", true_argv, exec_env);
			_exit(127);
		}
		int err = errno;
		const char *born = state_name(pid);
		int st = reap(pid);
		int ok = pid > 0 && err == 777 && st == 0 && state_is(pid, "reaped");
		if (pid_state)
			ok = ok && strcmp(born, "live") == 0;
		say(ok, "fallback", "round %d: status=0x%x errno_kept=%d born=%s after=%s", round,
		    st, err == 777, born, state_name(pid));
	}
}

static void case_enomem(void) { in_child("enomem", body_enomem); }
static void case_fallback(void) { in_child("fallback", body_fallback); }

/* Does clone take CLONE_PIDFD here?  Asked with a plain fork-like clone, by
 * raw syscall: libkt's trampoline gets the same answer for its vfork. */
static const char *clone_pidfd_path(void)
{
	int fd = -1;
	/* parent_tid is clone's third argument on every architecture. */
	long r = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &fd, 0, 0);
	if (r == 0)
		_exit(0);
	if (r < 0)
		return errno == EINVAL ? "fallback" : "unknown";
	waitpid((pid_t)r, NULL, 0);
	if (fd >= 0)
		close(fd);
	return "pidfd";
}

static const struct selfcheck_case cases[] = {
	{ "basic", case_basic },
	{ "failed_exec", case_failed_exec },
	{ "shares", case_shares },
	{ "nested", case_nested },
	{ "threads", case_threads },
	{ "enomem", case_enomem },
	{ "fallback", case_fallback },
};

int main(int argc, char **argv)
{
	alarm(60);
	pid_state = (int (*)(pid_t))dlsym(RTLD_DEFAULT, "kt_pid_state");
	counters = (int (*)(struct kt_counters *, size_t))dlsym(RTLD_DEFAULT, "kt_counters");
	printf("libkt=%s\n", pid_state ? "yes" : "no");
	size_t n = 0, k = 0;
	while (environ[n])
		n++;
	exec_env = calloc(n + 1, sizeof *exec_env);
	if (!exec_env)
		return 2;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
			exec_env[k++] = environ[i];
	int ran = run_cases(argc, argv, cases, sizeof cases / sizeof cases[0]);
	printf("path=%s\n", clone_pidfd_path());
	printf("vforker: %d cases, %d failed\n", ran, failures);
	return failures ? 1 : 0;
}
