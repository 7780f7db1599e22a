/* SPDX-License-Identifier: MIT */
/* kt_probe: small in-process checks the preload_core suite runs with and
 * without libkt.  Each subcommand prints "key=value" facts on stdout; the
 * suite asserts on them.  Prints no PIDs, so two runs compare equal. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kt.h>
#include "../older_glibc.h"

#include "../stranger.h"

extern char **environ;

static int pid_state(pid_t pid)
{
	int (*fn)(pid_t) = (int (*)(pid_t))dlsym(RTLD_DEFAULT, "kt_pid_state");
	return fn ? fn(pid) : -1; /* -1: libkt not loaded */
}

static struct kt_counters counters(void)
{
	struct kt_counters c;
	memset(&c, 0, sizeof c);
	int (*fn)(struct kt_counters *, size_t) =
		(int (*)(struct kt_counters *, size_t))dlsym(RTLD_DEFAULT, "kt_counters");
	if (fn)
		fn(&c, sizeof c);
	return c;
}

static pid_t child_that_exits(int code)
{
	pid_t p = fork();
	if (p == 0)
		_exit(code);
	return p;
}

/* Fork, reap, then kill the reaped PID: the canonical stale kill.  With
 * PLACER, a stranger (the placer's child, never ours) holds the number by
 * then, and the line ends with its fate. */
static int stale_kill(struct stranger *placer)
{
	pid_t p = child_that_exits(0);
	int st;
	waitpid(p, &st, 0);
	if (placer && stranger_place(placer, p) < 0) {
		printf("setup=no-stranger %s\n", strerrorname_np(errno));
		return 1;
	}
	errno = 0;
	int r = kill(p, SIGTERM);
	int e = errno;
	struct kt_counters c = counters();
	printf("kill=%d errno=%s state=%d refused=%llu delivered=%llu", r,
	       e ? strerrorname_np(e) : "0", pid_state(p), (unsigned long long)c.stale_refused,
	       (unsigned long long)c.stale_delivered);
	char fate[64];
	if (placer)
		printf(" %s", stranger_fate(placer, fate, sizeof fate));
	printf("\n");
	return 0;
}

static int cmd_stale(void)
{
	return stale_kill(NULL);
}

static int stale_in_pidns(void *arg)
{
	(void)arg;
	struct stranger placer;
	if (stranger_start(&placer, -1) < 0)
		return 1;
	return stale_kill(&placer);
}

/* The stale kill with a stranger on the number, run as PID 1 of a private
 * PID namespace (needs root or unprivileged user namespaces). */
static int cmd_stale_stranger(void)
{
	int code = stranger_in_pidns(stale_in_pidns, NULL);
	if (code == STRANGER_NO_PIDNS)
		printf("setup=no-namespace\n");
	return code == STRANGER_NO_PIDNS ? 0 : code;
}

static void report_state(const char *name, pid_t p)
{
	printf("%s=%d\n", name, pid_state(p));
}

/* Every reaping entry point marks the child reaped; looks that are not
 * reaps (WNOWAIT, a stop report) do not. */
static int cmd_waits(void)
{
	int st;
	struct rusage ru;
	siginfo_t si;
	pid_t p;

	p = child_that_exits(0);
	report_state("before_wait", p);
	wait(&st);
	report_state("wait", p);

	p = child_that_exits(0);
	wait(NULL);
	report_state("wait_null", p);

	p = child_that_exits(0);
	waitpid(p, &st, 0);
	report_state("waitpid", p);

	p = child_that_exits(0);
	waitpid(-1, NULL, 0);
	report_state("waitpid_any_null", p);

	p = child_that_exits(0);
	wait3(&st, 0, &ru);
	report_state("wait3", p);

	p = child_that_exits(0);
	wait4(p, NULL, 0, NULL);
	report_state("wait4_null", p);

	p = child_that_exits(0);
	waitid(P_PID, (id_t)p, &si, WEXITED);
	report_state("waitid", p);

	p = child_that_exits(0);
	waitid(P_ALL, 0, NULL, WEXITED);
	report_state("waitid_all_null", p);

	p = child_that_exits(0);
	waitid(P_PID, (id_t)p, &si, WEXITED | WNOWAIT);
	report_state("waitid_nowait", p);
	waitpid(p, &st, 0);
	report_state("after_nowait_reaped", p);

	p = fork();
	if (p == 0) {
		raise(SIGSTOP);
		_exit(0);
	}
	waitpid(p, &st, WUNTRACED);
	printf("stop_report=%d\n", WIFSTOPPED(st));
	report_state("stopped", p);
	kill(p, SIGKILL);
	waitpid(p, &st, 0);
	report_state("killed_reaped", p);

	/* WNOHANG with nothing to reap returns 0 and marks nothing. */
	p = fork();
	if (p == 0) {
		pause();
		_exit(0);
	}
	printf("wnohang=%d\n", waitpid(p, &st, WNOHANG));
	report_state("wnohang_state", p);
	kill(p, SIGKILL);
	waitpid(p, &st, 0);
	return 0;
}

#define EXPECT_ERRNO_KEPT(label, call)                                              \
	do {                                                                        \
		errno = 4242;                                                       \
		long r_ = (long)(call);                                             \
		printf("%s ok=%d errno_kept=%d\n", label, r_ >= 0, errno == 4242); \
	} while (0)

/* On success a hook leaves errno exactly as it found it. */
static int cmd_errno(void)
{
	errno = 4242;
	pid_t p = fork();
	if (p == 0) {
		pause();
		_exit(0);
	}
	printf("fork ok=%d errno_kept=%d\n", p > 0, errno == 4242);
	EXPECT_ERRNO_KEPT("kill0", kill(p, 0));
	EXPECT_ERRNO_KEPT("killterm", kill(p, SIGTERM));
	int st;
	EXPECT_ERRNO_KEPT("waitpid", waitpid(p, &st, 0));

	pid_t q;
	char *argv[] = { "true", NULL };
	errno = 4242;
	int r = posix_spawnp(&q, "true", NULL, NULL, argv, environ);
	/* glibc's posix_spawnp may leave the ENOENT of its PATH search behind
	 * even on success: compared with plain libc, not asserted. */
	printf("posix_spawnp ok=%d errno_kept=%d\n", r == 0, errno == 4242);
	EXPECT_ERRNO_KEPT("wait", wait(&st));

	/* Failures set errno as libc does. */
	errno = 0;
	r = kill(getpid(), 1000);
	printf("kill_einval=%d %s\n", r, strerrorname_np(errno));
	errno = 0;
	r = waitpid(-1, &st, WNOHANG);
	printf("waitpid_echild=%d %s\n", r, strerrorname_np(errno));
	return 0;
}

/* Old binaries bind posix_spawn@GLIBC_2.2.5, which runs a #!-less script
 * through /bin/sh; new ones bind @@GLIBC_2.15, which reports ENOEXEC. */
int posix_spawn_old(pid_t *, const char *, const posix_spawn_file_actions_t *,
                    const posix_spawnattr_t *, char *const[], char *const[]);
int posix_spawn_new(pid_t *, const char *, const posix_spawn_file_actions_t *,
                    const posix_spawnattr_t *, char *const[], char *const[]);
__asm__(".symver posix_spawn_old, posix_spawn@GLIBC_2.2.5");
__asm__(".symver posix_spawn_new, posix_spawn@GLIBC_2.15");

static int cmd_spawn_versions(const char *dir)
{
	char script[4096];
	snprintf(script, sizeof script, "%s/no-shebang.sh", dir);
	int fd = open(script, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (fd < 0)
		return 2;
	static const char body[] = "exit 7\n";
	(void)!write(fd, body, sizeof body - 1);
	close(fd);

	char *argv[] = { script, NULL };
	pid_t p = 0;
	int st = 0;
	int r = posix_spawn_old(&p, script, NULL, NULL, argv, environ);
	printf("old_ret=%d", r);
	if (r == 0) {
		printf(" old_state=%d", pid_state(p));
		waitpid(p, &st, 0);
		printf(" old_exit=%d old_reaped_state=%d", WEXITSTATUS(st), pid_state(p));
	}
	printf("\n");
	r = posix_spawn_new(&p, script, NULL, NULL, argv, environ);
	printf("new_ret=%s\n", r ? strerrorname_np(r) : "0");
	if (r == 0)
		waitpid(p, &st, 0);
	unlink(script);
	return 0;
}

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

/* A forked child whose PID equals a reaped sibling's (a tombstone in the
 * table it inherited) must still be able to kill(getpid()).  Needs to run as
 * PID 1's child in a private PID namespace with its own /proc, so that
 * ns_last_pid steers the next fork onto the freed number. */
static int cmd_self_kill(void)
{
	pid_t old = child_that_exits(0);
	int st;
	waitpid(old, &st, 0);
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
	if (fd < 0) {
		printf("setup=no_ns_last_pid\n");
		return 0;
	}
	char num[16];
	int n = snprintf(num, sizeof num, "%d", (int)old - 1);
	int w = (int)write(fd, num, (size_t)n);
	close(fd);
	pid_t p = fork();
	if (p == 0) {
		signal(SIGUSR1, on_usr1);
		int r = kill(getpid(), SIGUSR1);
		_exit(r == 0 && got_usr1 ? 0 : 1);
	}
	waitpid(p, &st, 0);
	printf("setup=%s reused=%d self_kill_ok=%d\n", w == n ? "ok" : "write_failed",
	       p == old, WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc >= 2 && strcmp(argv[1], "stale") == 0)
		return cmd_stale();
	if (argc >= 2 && strcmp(argv[1], "stale-stranger") == 0)
		return cmd_stale_stranger();
	if (argc >= 2 && strcmp(argv[1], "waits") == 0)
		return cmd_waits();
	if (argc >= 2 && strcmp(argv[1], "errno") == 0)
		return cmd_errno();
	if (argc >= 2 && strcmp(argv[1], "self-kill") == 0)
		return cmd_self_kill();
	if (argc >= 3 && strcmp(argv[1], "spawn-versions") == 0)
		return cmd_spawn_versions(argv[2]);
	fprintf(stderr, "usage: kt_probe stale|stale-stranger|waits|errno|spawn-versions DIR\n");
	return 2;
}
