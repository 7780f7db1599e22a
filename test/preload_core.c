/* SPDX-License-Identifier: MIT */
/* preload_core: the library itself, run under LD_PRELOAD=libkt.so.
 * Exports and dependencies, errno, every wait entry point, the modes, the
 * log, bad configuration, and hooks that run before libkt's constructor. */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kt.h>

#include "older_glibc.h"
#include "stranger.h"
#include "testlib.h"

static char out[16384];

/* 1, after the SKIP line, when the library under test is a sanitizer build
 * (KT_SANITIZER set), against which TEST is not meaningful. */
static int skip_under_sanitizer(const char *test)
{
	const char *san = getenv("KT_SANITIZER");
	if (san)
		printf("SKIP: %s: not meaningful against the %s build\n", test, san);
	return san != NULL;
}

/* Runs a shell pipeline and returns its stdout (trimmed). */
static const char *shell(const char *cmd)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	int st = kt_test_run(0, argv, NULL, out, sizeof out, 0, 30);
	ck_assert_msg(st == 0, "'%s' failed with status %d", cmd, st);
	size_t n = strlen(out);
	while (n && out[n - 1] == '\n')
		out[--n] = '\0';
	return out;
}

START_TEST(exports_exactly_the_hooks_and_the_api)
{
	/* Instrumented code exports the sanitizer's hooks too. */
	if (skip_under_sanitizer(__func__))
		return;
	char cmd[4200];
	snprintf(cmd, sizeof cmd,
	         "nm -D --defined-only '%s' | awk '{print $3}' | sort | tr '\\n' ' '",
	         kt_test_lib());
	/* pidfd_spawn* are hidden GLIBC_2.39 versions (one '@'): see
	 * shim/hooks_pidfd_spawn.c. */
	ck_assert_str_eq(shell(cmd),
	                 "GLIBC_2.15 GLIBC_2.2.5 GLIBC_2.39 _Exit _Fork __open64_2 __open_2 "
	                 "__openat64_2 __openat_2 _exit clone close close_range "
	                 "closefrom "
	                 "dup2 dup3 fopen fopen64 fork kill killpg "
	                 "kt_counters kt_pid_state kt_version open open64 openat openat64 opendir "
	                 "pidfd_spawn@GLIBC_2.39 "
	                 "pidfd_spawnp@GLIBC_2.39 posix_spawn@@GLIBC_2.15 posix_spawn@GLIBC_2.2.5 "
	                 "posix_spawnp@@GLIBC_2.15 posix_spawnp@GLIBC_2.2.5 sigqueue syscall vfork wait "
	                 "wait3 wait4 waitid waitpid ");
}
END_TEST

START_TEST(needs_nothing_but_libc)
{
	/* A sanitizer build needs its runtime libraries. */
	if (skip_under_sanitizer(__func__))
		return;
	char cmd[4200];
	/* libdl too where libkt was built against a glibc whose libc has no
	 * dlsym (before 2.34): its dlsym reference then has libdl's version,
	 * older than the GLIBC_2.34 of libc's. */
	snprintf(cmd, sizeof cmd,
	         "readelf -W --dyn-syms '%s' | awk '$8 ~ /^dlsym@/ {print $8}'", kt_test_lib());
	char dlsym_ref[128];
	snprintf(dlsym_ref, sizeof dlsym_ref, "%s", shell(cmd));
	const char *want = strcmp(dlsym_ref, "dlsym@GLIBC_2.34") == 0
	                           ? "[libc.so.6] "
	                           : "[libdl.so.2] [libc.so.6] ";
	snprintf(cmd, sizeof cmd,
	         "readelf -d '%s' | awk '/NEEDED/ {print $5}' | tr '\\n' ' '", kt_test_lib());
	const char *needed = shell(cmd);
	ck_assert_msg(strcmp(needed, want) == 0, "NEEDED: %s, expected %s (dlsym reference: %s)",
	              needed, want, dlsym_ref);
}
END_TEST

typedef int (*counters_fn)(struct kt_counters *, size_t);
#define kt_counters(o, n) (((counters_fn)kt_test_api("kt_counters"))((o), (n)))
#define kt_pid_state kt_test_pid_state

START_TEST(version_and_counters_api)
{
	const char *(*version)(void) = (const char *(*)(void))kt_test_api("kt_version");
	ck_assert_str_eq(version(), "0.1.0");
	struct kt_counters c;
	ck_assert_int_eq(kt_counters(NULL, sizeof c), -1);
	ck_assert_int_eq(kt_counters(&c, sizeof c), (int)sizeof c);
	/* A caller built against an older, shorter struct gets only its part. */
	unsigned char small[8];
	memset(small, 0xAA, sizeof small);
	ck_assert_int_eq(kt_counters((struct kt_counters *)small, 4), (int)sizeof c);
	ck_assert_uint_eq(small[4], 0xAA);
	ck_assert_uint_eq(c.mode, 2);
	ck_assert_int_eq(kt_pid_state(-5), KT_PID_UNTRACKED);
	ck_assert_int_eq(kt_pid_state(0x7fffffff), KT_PID_UNTRACKED);
}
END_TEST

/* A case run as PID 1 of a private PID namespace, in a fork of this process
 * (libkt and its table come along); it writes one result line to FD. */
struct ns_case {
	int fd;
	int use_sigqueue; /* send with sigqueue, not kill */
};

static int send_sig(const struct ns_case *c, pid_t pid, int sig)
{
	if (c->use_sigqueue)
		return sigqueue(pid, sig, (union sigval){ .sival_int = 42 });
	return kill(pid, sig);
}

static const char *errname(int e)
{
	return e ? strerrorname_np(e) : "0";
}

/* Runs BODY in a private PID namespace and returns its result line, or NULL
 * after the SKIP line when this machine cannot make one. */
static const char *run_in_pidns(const char *what, int (*body)(void *), int use_sigqueue,
                                char *line, size_t size)
{
	const char *why;
	if (!kt_test_can_pidns(&why)) {
		printf("SKIP: %s: %s\n", what, why);
		return NULL;
	}
	int fds[2];
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	struct ns_case c = { .fd = fds[1], .use_sigqueue = use_sigqueue };
	int code = stranger_in_pidns(body, &c);
	close(fds[1]);
	ssize_t n = read(fds[0], line, size - 1);
	close(fds[0]);
	line[n > 0 ? n : 0] = '\0';
	ck_assert_msg(code == 0, "%s: exit code %d, result \"%s\"", what, code, line);
	ck_assert_msg(n > 0, "%s: no result line", what);
	return line;
}

/* Fork, reap, put a stranger (a child of another process) on the freed
 * number, then signal that number. */
static int stale_kill_body(void *arg)
{
	const struct ns_case *c = arg;
	struct kt_counters before, after;
	kt_test_counters(&before);
	struct stranger s;
	if (stranger_start(&s, -1) < 0)
		return 3;
	pid_t p = fork();
	if (p == 0)
		_exit(0);
	int st;
	if (waitpid(p, &st, 0) != p)
		return 4;
	int state = kt_pid_state(p);
	if (stranger_place(&s, p) < 0)
		return 5;
	/* The number is taken again, asked past libkt's hook. */
	int held = syscall(SYS_kill, p, 0) == 0;
	errno = 0;
	int r = send_sig(c, p, SIGTERM);
	int e = errno;
	kt_test_counters(&after);
	char fate[64];
	stranger_fate(&s, fate, sizeof fate);
	dprintf(c->fd, "held=%d state=%d kill=%d errno=%s %s refused=+%llu", held, state, r,
	        errname(e), fate,
	        (unsigned long long)(after.stale_refused - before.stale_refused));
	return 0;
}

/* The canonical stale kill, by kill and by sigqueue: refused with ESRCH, and
 * the stranger that holds the number now lives.  The refusal counter is
 * checked too, as an extra: the stranger's life is the proof. */
START_TEST(stale_kill_of_a_reused_pid_is_refused)
{
	char what[64], line[256];
	snprintf(what, sizeof what, "stale %s of a reused pid", _i ? "sigqueue" : "kill");
	if (!run_in_pidns(what, stale_kill_body, _i, line, sizeof line))
		return;
	ck_assert_str_eq(line, "held=1 state=2 kill=-1 errno=ESRCH fate=alive swaps=0 "
	                       "refused=+1");
}
END_TEST

/* A live child whose number changes hands at the very moment it is
 * signalled: the placer kills it and puts a stranger on its number while the
 * send's system call is held up, after any check libkt made before it. */
static int swap_body(void *arg)
{
	const struct ns_case *c = arg;
	/* The kernel reaps the child as it dies, freeing the number at once. */
	signal(SIGCHLD, SIG_IGN);
	pid_t p = fork();
	if (p == 0)
		for (;;)
			pause();
	struct stranger s;
	if (stranger_swap_on_signal(&s, p, SIGUSR1) < 0) {
		dprintf(c->fd, "no seccomp notification: %s", errname(errno));
		syscall(SYS_kill, p, SIGKILL);
		return 0;
	}
	errno = 0;
	int r = send_sig(c, p, SIGUSR1);
	int e = errno;
	char fate[64];
	stranger_fate(&s, fate, sizeof fate);
	dprintf(c->fd, "kill=%d errno=%s %s", r, errname(e), fate);
	return 0;
}

/* With an identity, the send goes to the process that passed the check (its
 * pidfd), so when that process dies meanwhile the send finds it gone: ESRCH,
 * and the stranger lives.  Without one (KT_IDENTITY=none, pidfds refused)
 * libkt has only the number, and the send reaches whoever holds it. */
START_TEST(a_live_kill_never_reaches_the_next_holder_of_the_number)
{
	char what[80], line[256];
	snprintf(what, sizeof what, "%s while the number changes hands",
	         _i ? "sigqueue" : "kill");
	if (!run_in_pidns(what, swap_body, _i, line, sizeof line))
		return;
	if (strncmp(line, "no seccomp", 10) == 0) {
		printf("SKIP: %s: %s\n", what, line);
		return;
	}
	if (kt_test_identity() == KT_IDENTITY_NONE)
		ck_assert_str_eq(line, "kill=0 errno=0 fate=killed-SIGUSR1 swaps=1");
	else
		ck_assert_str_eq(line, "kill=-1 errno=ESRCH fate=alive swaps=1");
}
END_TEST

/* What a recording child got: one record per signal, written by its handler. */
struct got {
	int sig, code, value;
	pid_t from;
};

static int record_fd = -1;

static void record(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	struct got g = { .sig = sig, .code = si->si_code, .value = si->si_value.sival_int,
		         .from = si->si_pid };
	if (write(record_fd, &g, sizeof g) != sizeof g)
		_exit(3);
}

/* A child that records every SIGUSR1 and SIGUSR2 it receives into a pipe,
 * whose read end goes to *RD; a zero record says it is ready. */
static pid_t recording_child(int *rd)
{
	int fds[2];
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	pid_t p = fork();
	ck_assert_int_ge(p, 0);
	if (p == 0) {
		record_fd = fds[1];
		struct sigaction sa = { .sa_sigaction = record, .sa_flags = SA_SIGINFO };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, NULL);
		sigaction(SIGUSR2, &sa, NULL);
		struct got ready = { 0 };
		if (write(fds[1], &ready, sizeof ready) != sizeof ready)
			_exit(3);
		for (;;)
			pause();
	}
	close(fds[1]);
	struct got ready;
	ck_assert_int_eq(read(fds[0], &ready, sizeof ready), (int)sizeof ready);
	*rd = fds[0];
	return p;
}

/* Kills and reaps a recording child; returns how many more records it left. */
static int end_recording(pid_t p, int rd)
{
	struct got g;
	int st, n = 0;
	ck_assert_int_eq(kill(p, SIGKILL), 0);
	ck_assert_int_eq(waitpid(p, &st, 0), p);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	while (read(rd, &g, sizeof g) == sizeof g)
		n++;
	close(rd);
	return n;
}

static void expect_got(int rd, int sig, int code, int value)
{
	struct got g;
	ck_assert_int_eq(read(rd, &g, sizeof g), (int)sizeof g);
	ck_assert_int_eq(g.sig, sig);
	ck_assert_int_eq(g.code, code);
	ck_assert_int_eq(g.from, getpid());
	if (code == SI_QUEUE)
		ck_assert_int_eq(g.value, value);
}

static volatile sig_atomic_t self_hits;
static void count_self(int sig)
{
	(void)sig;
	self_hits++;
}

/* kill and sigqueue of a live child: it receives each signal exactly once,
 * from us, with sigqueue's code and value; its sibling and we ourselves
 * receive nothing.  Through a pidfd where there is an identity (checked on
 * the counter, as an extra). */
START_TEST(a_live_kill_and_sigqueue_reach_the_child_once)
{
	struct kt_counters before, after;
	kt_counters(&before, sizeof before);
	struct sigaction sa = { .sa_handler = count_self }, old1, old2;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, &old1);
	sigaction(SIGUSR2, &sa, &old2);
	self_hits = 0;
	int rd, sibling_rd;
	pid_t p = recording_child(&rd);
	pid_t sibling = recording_child(&sibling_rd);

	ck_assert_int_eq(kill(p, SIGUSR1), 0);
	expect_got(rd, SIGUSR1, SI_USER, 0);
	ck_assert_int_eq(sigqueue(p, SIGUSR2, (union sigval){ .sival_int = 42 }), 0);
	expect_got(rd, SIGUSR2, SI_QUEUE, 42);

	kt_counters(&after, sizeof after);
	ck_assert_int_eq(end_recording(p, rd), 0);
	ck_assert_int_eq(end_recording(sibling, sibling_rd), 0);
	sigaction(SIGUSR1, &old1, NULL);
	sigaction(SIGUSR2, &old2, NULL);
	ck_assert_int_eq(self_hits, 0);
	int id = kt_test_identity();
	ck_assert_uint_eq(after.kills_via_pidfd,
	                  before.kills_via_pidfd + 2 * (id != KT_IDENTITY_NONE));
	ck_assert_uint_eq(after.identity_mode, (unsigned)id);
}
END_TEST

/* Facts printed by kt_probe under libkt, compared with the same run without. */
static void probe(int preload, const char *cmd, char *const env[], char *buf, size_t n)
{
	char *argv[] = { (char *)kt_test_helper("kt_probe"), (char *)cmd, "/tmp", NULL };
	int st = kt_test_run(preload, argv, env, buf, n, 0, 30);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "kt_probe %s: status %d", cmd, st);
}

static char plain[16384], hooked[16384];

START_TEST(every_wait_entry_point_marks_reaped_and_only_reaps)
{
	probe(1, "waits", NULL, hooked, sizeof hooked);
	static const char *const want[] = {
		"before_wait=1\n", "wait=2\n", "wait_null=2\n", "waitpid=2\n",
		"waitpid_any_null=2\n", "wait3=2\n", "wait4_null=2\n", "waitid=2\n",
		"waitid_all_null=2\n", "waitid_nowait=1\n", "after_nowait_reaped=2\n",
		"stop_report=1\n", "stopped=1\n", "killed_reaped=2\n", "wnohang=0\n",
		"wnohang_state=1\n",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		ck_assert_msg(strstr(hooked, want[i]), "missing %s in:\n%s", want[i], hooked);
	/* And without libkt the program sees the same wait results. */
	probe(0, "waits", NULL, plain, sizeof plain);
	ck_assert_ptr_nonnull(strstr(plain, "stop_report=1\nstopped=-1\n"));
	ck_assert_ptr_nonnull(strstr(plain, "wnohang=0\n"));
}
END_TEST

START_TEST(errno_is_what_libc_leaves)
{
	probe(0, "errno", NULL, plain, sizeof plain);
	probe(1, "errno", NULL, hooked, sizeof hooked);
	ck_assert_str_eq(hooked, plain);
	ck_assert_ptr_nonnull(strstr(hooked, "fork ok=1 errno_kept=1"));
	ck_assert_ptr_nonnull(strstr(hooked, "kill0 ok=1 errno_kept=1"));
	ck_assert_ptr_nonnull(strstr(hooked, "killterm ok=1 errno_kept=1"));
	ck_assert_ptr_nonnull(strstr(hooked, "waitpid ok=1 errno_kept=1"));
	ck_assert_ptr_nonnull(strstr(hooked, "kill_einval=-1 EINVAL"));
}
END_TEST

START_TEST(both_posix_spawn_versions_keep_their_behaviour)
{
	/* The ASan runtime, first in LD_PRELOAD, defines an unversioned
	 * posix_spawn that forwards to the default version only. */
	if (skip_under_sanitizer(__func__))
		return;
	probe(0, "spawn-versions", NULL, plain, sizeof plain);
	probe(1, "spawn-versions", NULL, hooked, sizeof hooked);
	/* The compat version runs a #!-less script through /bin/sh; the current
	 * one reports ENOEXEC.  Both with and without libkt. */
	ck_assert_str_eq(plain, "old_ret=0 old_state=-1 old_exit=7 old_reaped_state=-1\n"
	                        "new_ret=ENOEXEC\n");
	ck_assert_str_eq(hooked, "old_ret=0 old_state=1 old_exit=7 old_reaped_state=2\n"
	                         "new_ret=ENOEXEC\n");
}
END_TEST

START_TEST(modes_enforce_audit_off)
{
	char *off[] = { "KT_MODE=off", NULL };
	char *audit[] = { "KT_MODE=audit", NULL };
	probe(1, "stale", NULL, hooked, sizeof hooked);
	ck_assert_str_eq(hooked, "kill=-1 errno=ESRCH state=2 refused=1 delivered=0\n");
	/* Off: every hook passes through, nothing is even registered. */
	probe(1, "stale", off, hooked, sizeof hooked);
	ck_assert_str_eq(hooked, "kill=-1 errno=ESRCH state=0 refused=0 delivered=0\n");
	/* Audit: the kill goes to the kernel as it would without libkt (here
	 * nobody holds the PID, so ESRCH from the kernel) and is counted. */
	probe(1, "stale", audit, hooked, sizeof hooked);
	ck_assert_str_eq(hooked, "kill=-1 errno=ESRCH state=2 refused=0 delivered=1\n");

	/* The same with a stranger on the number, where the modes differ in
	 * what happens to it, not only in what libkt counts. */
	probe(1, "stale-stranger", NULL, hooked, sizeof hooked);
	if (strcmp(hooked, "setup=no-namespace\n") == 0) {
		printf("SKIP: modes_enforce_audit_off with a stranger: no PID namespace here\n");
		return;
	}
	ck_assert_str_eq(hooked, "kill=-1 errno=ESRCH state=2 refused=1 delivered=0 "
	                         "fate=alive swaps=0\n");
	probe(1, "stale-stranger", off, hooked, sizeof hooked);
	ck_assert_str_eq(hooked, "kill=0 errno=0 state=0 refused=0 delivered=0 "
	                         "fate=killed-SIGTERM swaps=0\n");
	probe(1, "stale-stranger", audit, hooked, sizeof hooked);
	ck_assert_str_eq(hooked, "kill=0 errno=0 state=2 refused=0 delivered=1 "
	                         "fate=killed-SIGTERM swaps=0\n");
}
END_TEST

static void run_stale_with(char *const env[], int merge_stderr, char *buf, size_t n)
{
	char *argv[] = { (char *)kt_test_helper("kt_probe"), "stale", NULL };
	int st = kt_test_run(1, argv, env, buf, n, merge_stderr, 30);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
}

START_TEST(silent_unless_asked)
{
	char *bad[] = { "KT_MODE=bogus", "KT_IDENTITY=???", NULL };
	run_stale_with(NULL, 1, hooked, sizeof hooked);
	ck_assert_str_eq(hooked, "kill=-1 errno=ESRCH state=2 refused=1 delivered=0\n");
	/* Bad values with no log configured: the defaults, and not a word. */
	run_stale_with(bad, 1, hooked, sizeof hooked);
	ck_assert_str_eq(hooked, "kill=-1 errno=ESRCH state=2 refused=1 delivered=0\n");
}
END_TEST

START_TEST(log_to_stderr_reports_each_stale_kill_and_bad_values_once)
{
	char *env[] = { "KT_LOG=stderr", "KT_MODE=bogus", NULL };
	run_stale_with(env, 1, hooked, sizeof hooked);
	ck_assert_msg(strstr(hooked, "libkt: ignoring KT_MODE=\"bogus\" (expected enforce, "
	                             "audit or off); using enforce\n"),
	              "%s", hooked);
	const char *rep = strstr(hooked, "libkt: refused stale kill(");
	ck_assert_msg(rep != NULL, "%s", hooked);
	ck_assert_ptr_nonnull(strstr(rep, ", SIGTERM) with ESRCH: child "));
	ck_assert_ptr_nonnull(strstr(rep, "(\"kt_probe\", fork "));
	ck_assert_ptr_nonnull(strstr(rep, "ago by waitpid()"));
	ck_assert_ptr_nonnull(strstr(rep, "; no process holds PID "));
	/* Exactly one warning and one report. */
	ck_assert_ptr_null(strstr(strstr(hooked, "ignoring") + 8, "ignoring"));
	ck_assert_ptr_null(strstr(rep + 20, "refused stale"));
}
END_TEST

START_TEST(log_file_is_private_appended_and_never_a_symlink)
{
	char dir[] = "/tmp/kt-log-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char path[256], env_kv[300], link[256];
	snprintf(path, sizeof path, "%s/kt.log", dir);
	snprintf(env_kv, sizeof env_kv, "KT_LOG=%s", path);
	char *env[] = { env_kv, NULL };
	run_stale_with(env, 1, hooked, sizeof hooked);
	run_stale_with(env, 1, hooked, sizeof hooked);
	/* Nothing on the program's own output. */
	ck_assert_str_eq(hooked, "kill=-1 errno=ESRCH state=2 refused=1 delivered=0\n");
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	FILE *f = fopen(path, "r");
	int lines = 0;
	char line[1024];
	while (fgets(line, sizeof line, f))
		lines += strstr(line, "libkt: refused stale kill(") != NULL;
	fclose(f);
	ck_assert_int_eq(lines, 2); /* appended, not truncated */

	/* A symlink planted at the log path is not followed; the program is
	 * told, once, on its stderr, since the log cannot tell it. */
	snprintf(link, sizeof link, "%s/link.log", dir);
	char target[256];
	snprintf(target, sizeof target, "%s/target", dir);
	ck_assert_int_eq(symlink(target, link), 0);
	snprintf(env_kv, sizeof env_kv, "KT_LOG=%s", link);
	run_stale_with(env, 1, hooked, sizeof hooked);
	char said[512];
	snprintf(said, sizeof said, "libkt: cannot open the log %s: it is a symbolic link (", link);
	ck_assert_msg(strncmp(hooked, said, strlen(said)) == 0, "%s", hooked);
	const char *after = strchr(hooked, '\n');
	ck_assert_ptr_nonnull(after);
	ck_assert_str_eq(after + 1, "kill=-1 errno=ESRCH state=2 refused=1 delivered=0\n");
	ck_assert_int_eq(access(target, F_OK), -1);
	unlink(link);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(hooks_work_before_the_constructor)
{
	/* libearly_fork's constructor runs before libkt's (preload order is
	 * initialisation order reversed) and forks, reaps and kills. */
	char preload[8400];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s %s", kt_test_lib(),
	         kt_test_helper("libearly_fork.so"));
	char *env[] = { preload, "KT_MODE=audit", NULL };
	char *argv[] = { "/bin/true", NULL };
	int st = kt_test_run(0, argv, env, hooked, sizeof hooked, 1, 30);
	ck_assert_int_eq(st, 0);
	/* Registered, marked reaped, and KT_MODE read although the constructor
	 * had not run yet. */
	ck_assert_str_eq(hooked, "early: live=1 reaped=2 kill=-1 errno=ESRCH mode=1 refused=0 "
	                         "delivered=1\n");
	char *env2[] = { preload, NULL };
	st = kt_test_run(0, argv, env2, hooked, sizeof hooked, 1, 30);
	ck_assert_int_eq(st, 0);
	ck_assert_str_eq(hooked, "early: live=1 reaped=2 kill=-1 errno=ESRCH mode=2 refused=1 "
	                         "delivered=0\n");
}
END_TEST

START_TEST(a_child_on_a_reaped_siblings_pid_can_kill_itself)
{
	const char *why;
	if (!kt_test_can_pidns(&why)) {
		printf("SKIP: a_child_on_a_reaped_siblings_pid_can_kill_itself: %s\n", why);
		return;
	}
	char *argv_root[] = { "/usr/bin/unshare", "--pid", "--fork", "--mount-proc",
		              (char *)kt_test_helper("kt_probe"), "self-kill", NULL };
	char *argv_user[] = { "/usr/bin/unshare", "--user", "--map-root-user", "--pid",
		              "--fork", "--mount-proc", (char *)kt_test_helper("kt_probe"),
		              "self-kill", NULL };
	char *const *argv = geteuid() == 0 ? argv_root : argv_user;
	int st = kt_test_run(1, argv, NULL, hooked, sizeof hooked, 1, 30);
	ck_assert_msg(st == 0, "status %d: %s", st, hooked);
	ck_assert_str_eq(hooked, "setup=ok reused=1 self_kill_ok=1\n");
}
END_TEST

int main(void)
{
	Suite *s = kt_test_preload_suite("core");
	TCase *tc = kt_test_tcase(s, "core", 60, exports_exactly_the_hooks_and_the_api,
	                          needs_nothing_but_libc, version_and_counters_api,
	                          a_live_kill_and_sigqueue_reach_the_child_once,
	                          every_wait_entry_point_marks_reaped_and_only_reaps,
	                          errno_is_what_libc_leaves,
	                          both_posix_spawn_versions_keep_their_behaviour,
	                          modes_enforce_audit_off, silent_unless_asked,
	                          log_to_stderr_reports_each_stale_kill_and_bad_values_once,
	                          log_file_is_private_appended_and_never_a_symlink,
	                          hooks_work_before_the_constructor,
	                          a_child_on_a_reaped_siblings_pid_can_kill_itself);
	/* Each by kill (0) and by sigqueue (1). */
	tcase_add_loop_test(tc, stale_kill_of_a_reused_pid_is_refused, 0, 2);
	tcase_add_loop_test(tc, a_live_kill_never_reaches_the_next_holder_of_the_number, 0, 2);
	return kt_test_main(s);
}
