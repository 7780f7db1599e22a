/*
 * The compatibility suite (issue 7): real programs nobody here wrote, run with
 * and without libkt.  Scripts and fixtures are in test/compat/.
 *
 * Three kinds of check, each asserting something that differs without libkt
 * or would catch libkt changing the program:
 *
 *   parity     the same program run twice, plain and under libkt: the same
 *              output, the same exit status, its children dying the same way
 *              (PIDs in stderr masked);
 *   counters   under libkt, libkt's own counters (include/kt.h) prove the
 *              children were registered and the kills went through pidfds.  A
 *              real program never asks for them, so test/helpers/libktcount.so
 *              is preloaded after libkt.so and appends each process's own counts
 *              to a file when it exits normally (see that file); libkt's own
 *              KT_STATS summary is checked against it once.  For the two
 *              programs that end by their own signal (make after SIGTERM,
 *              timeout after --kill-after) strace shows the calls instead:
 *              pidfd_send_signal with libkt, kill without;
 *   protection the program kills a child it has already reaped, after the reuse
 *              helper put a stranger on the freed PID in a private PID namespace
 *              (test/helpers/reuse.c, CMD mode, fds 3 and 4): without libkt the
 *              stranger dies, with libkt it lives and the program's kill fails.
 *
 * Already covered elsewhere, not repeated here: test/preload_programs.c (bash
 * kill $p after wait, after its SIGCHLD handler reaped it; dash kill after wait;
 * CPython os.kill after Popen.wait; timeout killing from SIGALRM; reports),
 * test/preload_programs_children.c (dash vforked commands and group kills,
 * CPython subprocess parity and registration, make -j parity).
 *
 * Programs that cannot be covered, and the one shown here to pass through
 * unchanged (glibc's system() and popen()), are described in README-compat.md.
 */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scenario.h"
#include "testlib.h"

extern char **environ;

/* Seconds any one program run may take before it is killed (each normally
 * takes well under one). */
enum { RUN_TIMEOUT = 15 };

#define BASH "/bin/bash"
#define DASH "/bin/dash"
#define PERL "/usr/bin/perl"
#define PYTHON "/usr/bin/python3" /* not a pyenv shim from PATH */
#define TIMEOUT "/usr/bin/timeout"
#define MAKE "/usr/bin/make"
#define XARGS "/usr/bin/xargs"
#define FIND "/usr/bin/find"
#define STRACE "/usr/bin/strace"

/* ------------------------------------------------------------------ plumbing */

static const char *compat_dir(void)
{
	/* $KT_BUILD is <repo>/build under `make test`; the fixtures are in
	 * <repo>/test/compat.  Run by hand from the top directory, it is
	 * test/compat. */
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

static const char *fixture(const char *name)
{
	static char ring[4][PATH_MAX + 64];
	static int next;
	char *p = ring[next++ & 3];
	snprintf(p, sizeof ring[0], "%s/%s", compat_dir(), name);
	ck_assert_msg(access(p, R_OK) == 0, "fixture %s is missing", p);
	return p;
}

/* 1 if PATH can be run; 0 after printing the SKIP line the runner counts. */
static int installed(const char *path, const char *what)
{
	if (access(path, X_OK) == 0)
		return 1;
	printf("SKIP: %s: %s is not installed\n", what, path);
	fflush(stdout);
	return 0;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* LD_PRELOAD value for a counted run: libkt first, the counter dumper after. */
static const char *preload_value(void)
{
	static char v[2 * PATH_MAX + 16];
	snprintf(v, sizeof v, "LD_PRELOAD=%s:%s", kt_test_lib(), kt_test_helper("libktcount.so"));
	return v;
}

/* One program run: stdout and stderr apart, the wait status, the time taken,
 * and (under libkt) the counter lines its processes left. */
struct run {
	int status;
	double secs;
	char out[8192];
	char err[8192];
	char counts[8192];
};

static void slurp(const char *path, char *buf, size_t size)
{
	buf[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size_t n = 0;
	ssize_t r;
	while (n + 1 < size && (r = read(fd, buf + n, size - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	close(fd);
}

struct started {
	pid_t pid;
	double t0;
	char out_path[64], err_path[64], count_path[64];
};

/* Starts ARGV (argv[0] a path) in directory DIR (NULL: here), with stdin from
 * /dev/null or the file IN, in a copy of our environment without LD_PRELOAD
 * and KT_* variables, plus EXTRA ("K=V", NULL-terminated, may be NULL) and,
 * when PRELOAD, libkt and the counter dumper.  With OWN_GROUP it leads a
 * process group of its own, as a shell's foreground job does. */
static void start(struct started *s, int preload, char *const argv[], char *const extra[],
                  const char *dir, const char *in, int own_group)
{
	memset(s, 0, sizeof *s);
	strcpy(s->out_path, "/tmp/kt-compat-out-XXXXXX");
	strcpy(s->err_path, "/tmp/kt-compat-err-XXXXXX");
	strcpy(s->count_path, "/tmp/kt-compat-cnt-XXXXXX");
	int o = mkstemp(s->out_path), e = mkstemp(s->err_path), c = mkstemp(s->count_path);
	ck_assert_msg(o >= 0 && e >= 0 && c >= 0, "mkstemp: %s", strerror(errno));
	close(c);

	size_t n = 0, k = 0, x = 0;
	while (environ[n])
		n++;
	while (extra && extra[x])
		x++;
	char **env = calloc(n + x + 3, sizeof *env);
	ck_assert(env != NULL);
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0 &&
		    (strncmp(environ[i], "KT_", 3) != 0 || strncmp(environ[i], "KT_BUILD=", 9) == 0))
			env[k++] = environ[i];
	char count_kv[96];
	if (preload) {
		env[k++] = (char *)preload_value();
		snprintf(count_kv, sizeof count_kv, "KTCOUNT_FILE=%s", s->count_path);
		env[k++] = count_kv;
	}
	for (size_t i = 0; i < x; i++)
		env[k++] = extra[i];
	env[k] = NULL;

	fflush(NULL);
	s->t0 = now_s();
	s->pid = fork();
	ck_assert_msg(s->pid >= 0, "fork: %s", strerror(errno));
	if (s->pid == 0) {
		/* As from a terminal: default dispositions and an empty mask, even
		 * when the test runner was started with SIGINT ignored (a background
		 * job of a non-interactive shell), which make's children would
		 * inherit and survive its SIGINT by. */
		for (int sig = 1; sig < NSIG; sig++)
			if (sig != SIGKILL && sig != SIGSTOP)
				signal(sig, SIG_DFL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (own_group)
			setpgid(0, 0);
		int i = open(in ? in : "/dev/null", O_RDONLY);
		if (i < 0 || dup2(i, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		if (dir && chdir(dir) < 0)
			_exit(126);
		execve(argv[0], argv, env);
		_exit(127);
	}
	free(env);
	close(o);
	close(e);
}

/* Waits for S's program (SIGKILL after RUN_TIMEOUT) and collects its run. */
static void finish(struct started *s, struct run *r)
{
	memset(r, 0, sizeof *r);
	struct timespec ms = { 0, 5 * 1000 * 1000 };
	pid_t got;
	int killed = 0;
	while ((got = waitpid(s->pid, &r->status, WNOHANG)) == 0) {
		if (!killed && now_s() - s->t0 > RUN_TIMEOUT) {
			kill(s->pid, SIGKILL);
			killed = 1;
		}
		nanosleep(&ms, NULL);
	}
	ck_assert_msg(got == s->pid, "waitpid: %s", strerror(errno));
	r->secs = now_s() - s->t0;
	slurp(s->out_path, r->out, sizeof r->out);
	slurp(s->err_path, r->err, sizeof r->err);
	slurp(s->count_path, r->counts, sizeof r->counts);
	unlink(s->out_path);
	unlink(s->err_path);
	unlink(s->count_path);
	ck_assert_msg(!killed, "%s: still running after %d s; stdout:\n%s\nstderr:\n%s",
	              "program", RUN_TIMEOUT, r->out, r->err);
}

static void run(struct run *r, int preload, char *const argv[], char *const extra[],
                const char *dir, const char *in)
{
	struct started s;
	start(&s, preload, argv, extra, dir, in, 0);
	finish(&s, r);
}

static const char *with(int preload)
{
	return preload ? "with libkt" : "without libkt";
}

/* Every run of digits replaced by '#' and every run of spaces by one: job
 * numbers, PIDs (which bash pads to a width) and line numbers in a shell's
 * stderr differ from run to run; the words around them must not. */
static void mask_digits(const char *in, char *out, size_t size)
{
	size_t n = 0;
	for (const char *p = in; *p && n + 1 < size; p++) {
		if (isdigit((unsigned char)*p)) {
			out[n++] = '#';
			while (isdigit((unsigned char)p[1]))
				p++;
		} else if (*p == ' ') {
			out[n++] = ' ';
			while (p[1] == ' ')
				p++;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* TEXT with its lines sorted (for output of parallel jobs); in place. */
static void sort_lines(char *text, size_t size)
{
	char *copy = strdup(text);
	char *lines[512];
	int n = 0;
	for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l && n < 512;
	     l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	qsort(lines, (size_t)n, sizeof *lines, cmp_lines);
	size_t len = 0;
	text[0] = '\0';
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, len < size ? size - len : 0, "%s\n", lines[i]);
	free(copy);
}

/* Runs ARGV plain and under libkt; asserts the same wait status, stdout and
 * (digits masked) stderr, with lines sorted when SORTED.  LIBKT gets the
 * libkt run for the counter checks. */
static void same_both_ways(const char *what, char *const argv[], char *const extra[],
                           const char *dir, const char *in, int sorted, struct run *libkt)
{
	static struct run plain;
	run(&plain, 0, argv, extra, dir, in);
	run(libkt, 1, argv, extra, dir, in);
	ck_assert_msg(plain.status == libkt->status,
	              "%s: wait status 0x%x without libkt, 0x%x with it\n"
	              "stderr without:\n%s\nstderr with:\n%s",
	              what, plain.status, libkt->status, plain.err, libkt->err);
	if (sorted) {
		sort_lines(plain.out, sizeof plain.out);
		sort_lines(libkt->out, sizeof libkt->out);
	}
	ck_assert_msg(strcmp(plain.out, libkt->out) == 0,
	              "%s: stdout differs.\nwithout libkt:\n%s\nwith libkt:\n%s", what, plain.out,
	              libkt->out);
	static char a[8192], b[8192];
	mask_digits(plain.err, a, sizeof a);
	mask_digits(libkt->err, b, sizeof b);
	if (sorted) {
		sort_lines(a, sizeof a);
		sort_lines(b, sizeof b);
	}
	ck_assert_msg(strcmp(a, b) == 0, "%s: stderr differs.\nwithout libkt:\n%s\nwith libkt:\n%s",
	              what, plain.err, libkt->err);
}

/* The counter lines (see test/helpers/libktcount.c) of every process whose
 * name is COMM, added up. */
struct counts {
	int processes;
	long long children_tracked, kills_via_pidfd, stale_refused, fallbacks, reaps_seen;
};

static long long field(const char *line, const char *key)
{
	char pat[48];
	snprintf(pat, sizeof pat, " %s=", key);
	const char *p = strstr(line, pat);
	return p ? atoll(p + strlen(pat)) : -1;
}

/* Adds the counter line LINE (one NUL-terminated line) to C. */
static void add_line(struct counts *c, const char *line)
{
	c->processes++;
	c->children_tracked += field(line, "children_tracked");
	c->kills_via_pidfd += field(line, "kills_via_pidfd");
	c->stale_refused += field(line, "stale_refused");
	c->fallbacks += field(line, "fallbacks");
	c->reaps_seen += field(line, "reaps_seen");
}

/* The counters of the processes named COMM that left a line: all of them
 * added up, or (ONLY_LAST) those of the last one to exit, which is the
 * program itself when its subprocesses of the same name (subshells) end
 * before it. */
static struct counts counts_of(const struct run *r, const char *comm, int only_last)
{
	struct counts c;
	memset(&c, 0, sizeof c);
	char pat[32], line[512];
	snprintf(pat, sizeof pat, " comm=%s ", comm);
	for (const char *l = r->counts; *l;) {
		size_t len = strcspn(l, "\n");
		snprintf(line, sizeof line, "%.*s", (int)len, l);
		if (strstr(line, pat) && strstr(line, " loaded=1 ")) {
			if (only_last)
				memset(&c, 0, sizeof c);
			add_line(&c, line);
		}
		l += len;
		if (*l)
			l++;
	}
	return c;
}

/* At least one process named COMM left its counters. */
static struct counts expect_counts(const struct run *r, const char *comm, const char *what)
{
	struct counts c = counts_of(r, comm, 0);
	ck_assert_msg(c.processes > 0,
	              "%s: no counter line from a process named %s (is libktcount.so built?):\n%s",
	              what, comm, r->counts);
	ck_assert_msg(c.fallbacks == 0, "%s: %s fell back to plain behaviour %lld times:\n%s", what,
	              comm, c.fallbacks, r->counts);
	return c;
}

#define expect_count(c, key, op, want, what, r)                                              \
	ck_assert_msg((c).key op (want), "%s: %s " #key "=%lld, expected " #op " %lld\n%s",  \
	              (what), #key, (long long)(c).key, (long long)(want), (r)->counts)

/* ---- protection: the reuse helper's PID namespace (fds 3 and 4) -------------- */

/* A fresh, empty counter file: its path in PATH (room for 32) and the
 * KTCOUNT_FILE=PATH setting in KV (room for 64). */
static void count_file(char *path, char *kv)
{
	strcpy(path, "/tmp/kt-compat-cnt-XXXXXX");
	int fd = mkstemp(path);
	ck_assert_msg(fd >= 0, "mkstemp: %s", strerror(errno));
	close(fd);
	snprintf(kv, 64, "KTCOUNT_FILE=%s", path);
}

/* The counter lines left in PATH, which is removed. */
static void read_count_file(const char *path, struct run *r)
{
	memset(r, 0, sizeof *r);
	slurp(path, r->counts, sizeof r->counts);
	unlink(path);
}

/* Both halves of a stale kill by CMD.  Without libkt the kill succeeds
 * (kill_status=0) and the stranger dies; with libkt (enforce, the default) the
 * stranger lives and, when STATUS_CHECK, the program's kill fails
 * (kill_status=1).  With libkt KT_LOG=stderr is set and a report must contain
 * "stale " and REPORT, a format with %s for the PID ("kill(%s,"); the
 * counters of the program's processes named COMM (NULL: a program that never
 * exits normally) must show the child and the refusal.  KEY=VALUE in the
 * result line, when KEY is given, must hold both ways. */
static void stale_kill(const char *what, char *const cmd[], const char *report, int status_check,
                       const char *comm, const char *key, const char *value)
{
	if (!scenario_possible(what) || !installed(cmd[0], what))
		return;
	char *argv[24] = { (char *)kt_test_helper("reuse"), "--" };
	int n = 2;
	for (int i = 0; cmd[i] && n < 23; i++)
		argv[n++] = cmd[i];
	argv[n] = NULL;

	char count_path[32], count_kv[64];
	count_file(count_path, count_kv);

	struct scenario s;
	char *plain_env[] = { "KT_LOG=stderr", NULL };
	if (!scenario_run(&s, 0, argv, plain_env, what)) {
		unlink(count_path);
		return;
	}
	if (status_check)
		scenario_expect(&s, "kill_status", "0", what, 0);
	scenario_expect(&s, "stranger", "killed", what, 0);
	if (key)
		scenario_expect(&s, key, value, what, 0);

	/* The helper re-executes itself without LD_PRELOAD and hands the value
	 * to the program only (preload=0 here, LD_PRELOAD in the environment). */
	char *env[] = { (char *)preload_value(), count_kv, "KT_LOG=stderr", NULL };
	ck_assert(scenario_run(&s, 0, argv, env, what));
	if (status_check)
		scenario_expect(&s, "kill_status", "1", what, 1);
	scenario_expect(&s, "stranger", "alive", what, 1);
	if (key)
		scenario_expect(&s, key, value, what, 1);
	char pid[32], call[64], want[80];
	scenario_field(&s, "pid", pid, sizeof pid);
	snprintf(call, sizeof call, report, pid);
	snprintf(want, sizeof want, "stale %s", call);
	ck_assert_msg(strstr(s.out, want) != NULL,
	              "%s (with libkt, KT_LOG=stderr): no report containing \"%s\":\n%s", what, want,
	              s.out);

	static struct run r;
	read_count_file(count_path, &r);
	if (!comm)
		return;
	struct counts c = expect_counts(&r, comm, what);
	expect_count(c, children_tracked, >=, 1, what, &r);
	expect_count(c, stale_refused, >=, 1, what, &r);
}

/* ------------------------------------------------------------------- tests */

START_TEST(test_libkt_loaded)
{
	kt_test_assert_loaded();
	const char *what = "libktcount.so";
	ck_assert_msg(access(kt_test_helper("libktcount.so"), R_OK) == 0,
	              "%s is not built: the counter checks cannot work", what);
}
END_TEST

/* ---- bash ---------------------------------------------------------------- */

START_TEST(test_bash_job_control)
{
	const char *what = "bash: kill %1, kill $!, stop/continue, trapping job, trap, wait -n";
	if (!installed(BASH, what))
		return;
	char *argv[] = { BASH, (char *)fixture("bash_jobs.sh"), NULL };
	static struct run r;
	same_both_ways(what, argv, NULL, NULL, NULL, 0, &r);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "%s: status 0x%x\n%s", what,
	              r.status, r.err);
	static const char want[] = "kill %1: 143\n"
	                           "kill $!: 143\n"
	                           "kill -HUP %1: 129\n"
	                           "stopped: [1]+\n"
	                           "after STOP/CONT, kill %1: 143\n"
	                           "job: got TERM\n"
	                           "trapping job: 7\n"
	                           "shell: got USR1\n"
	                           "wait -n: 3\n"
	                           "wait -n: 4\n"
	                           "kill of a reaped job: 1\n";
	ck_assert_msg(strcmp(r.out, want) == 0, "%s: output:\n%s\nexpected:\n%s", what, r.out, want);
	/* Seven kills reach children: kill %1 (killpg, through the group
	 * flag), kill $!, -HUP, -STOP, -CONT, and two more kill %1.  kill -USR1
	 * $$ names no child and is not counted; the subshells (named bash too)
	 * make none. */
	struct counts c = expect_counts(&r, "bash", what);
	expect_count(c, kills_via_pidfd, ==, 7, what, &r);
	/* The script's own bash exits last.  It made 8 jobs, and more children
	 * for command substitutions and pipelines, and reaped every one. */
	c = counts_of(&r, "bash", 1);
	expect_count(c, children_tracked, >=, 9, what, &r);
	expect_count(c, reaps_seen, ==, c.children_tracked, what, &r);
}
END_TEST

/* dash exits through _exit(), so no counters: parity only. */
START_TEST(test_dash_jobs)
{
	const char *what = "dash: kill %1 of a live job (no such group), kill $!, trap, wait";
	if (!installed(DASH, what))
		return;
	char *argv[] = { DASH, (char *)fixture("dash_jobs.sh"), NULL };
	static struct run r;
	same_both_ways(what, argv, NULL, NULL, NULL, 0, &r);
	static const char want[] = "kill %1 of a live job: 1\n"
	                           "the job is alive: 0\n"
	                           "kill $!: 143\n"
	                           "job: got TERM\n"
	                           "trapping job: 7\n"
	                           "shell: got USR1\n"
	                           "wait: 3\n";
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0 && strcmp(r.out, want) == 0,
	              "%s: status 0x%x, output:\n%s\nstderr:\n%s", what, r.status, r.out, r.err);
}
END_TEST

START_TEST(test_bash_stale_kill_job)
{
	char *cmd[] = { BASH, (char *)fixture("stale_kill_job.sh"), NULL };
	stale_kill("bash set -m: kill %1 of an ended, unreported job (killpg)", cmd, "killpg(%s,", 1,
	           "bash", NULL, NULL);
}
END_TEST

START_TEST(test_bash_stale_kill_trap)
{
	char *cmd[] = { BASH, (char *)fixture("stale_kill_trap.sh"), NULL };
	stale_kill("bash: trap '...kill $p' EXIT after wait $p", cmd, "kill(%s,", 1, "bash", NULL, NULL);
}
END_TEST

START_TEST(test_dash_stale_kill_trap)
{
	char *cmd[] = { DASH, (char *)fixture("stale_kill_trap.sh"), NULL };
	/* dash leaves through _exit(), so no counters: the report is the proof. */
	stale_kill("dash: trap '...kill $p' EXIT after wait $p", cmd, "kill(%s,", 1, NULL, NULL, NULL);
}
END_TEST

START_TEST(test_dash_stale_kill_job)
{
	char *cmd[] = { DASH, (char *)fixture("stale_kill_job_dash.sh"), NULL };
	stale_kill("dash: kill %1 of an ended, unreported job (kill(-pid))", cmd, "kill(-%s,", 1,
	           NULL, NULL, NULL);
}
END_TEST

START_TEST(test_bash_stale_kill_wait_n)
{
	/* bash's kill returns 0 when any one PID was signalled, so the status is
	 * 0 both ways; the live second worker must die of SIGTERM both ways. */
	char *cmd[] = { BASH, (char *)fixture("stale_kill_wait_n.sh"), NULL };
	stale_kill("bash: wait -n, then kill $first $second", cmd, "kill(%s,", 0, "bash", "second", "143");
}
END_TEST

/* ---- Perl ------------------------------------------------------------------ */

START_TEST(test_perl_children)
{
	const char *what = "perl: fork, kill, waitpid, open '-|', SIGCHLD reaper, system";
	if (!installed(PERL, what))
		return;
	char *argv[] = { PERL, (char *)fixture("perl_children.pl"), NULL };
	static struct run r;
	same_both_ways(what, argv, NULL, NULL, NULL, 0, &r);
	static const char want[] = "fork, kill TERM: signal 15\n"
	                           "fork, exit 5: status 5\n"
	                           "kill 0 of a live child: 1\n"
	                           "waitpid: pid, signal 9\n"
	                           "kill 0 after the reap: 0 (ESRCH)\n"
	                           "kill TERM => -pgid: signal 15\n"
	                           "open '-|' LIST: from a piped child\n"
	                           "close: status 0\n"
	                           "open '-|' (fork): from a forked writer\n"
	                           "open '-|', kill TERM, close: signal 15\n"
	                           "SIGCHLD handler reaped: 1,2,3\n"
	                           "backticks: hello\n"
	                           "system: status 3\n";
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0 && strcmp(r.out, want) == 0,
	              "%s: status 0x%x, output:\n%s\nstderr:\n%s", what, r.status, r.out, r.err);
	/* Twelve children, each created by Perl's own fork (system and backticks
	 * included: Perl does not use glibc's system/popen); five kills of live
	 * children (TERM, kill 0, KILL, the group TERM, the piped child's TERM). */
	struct counts c = expect_counts(&r, "perl", what);
	expect_count(c, children_tracked, ==, 12, what, &r);
	expect_count(c, reaps_seen, ==, 12, what, &r);
	expect_count(c, kills_via_pidfd, ==, 5, what, &r);
}
END_TEST

/* libkt's own exit summary (KT_STATS=1, written where KT_LOG points) is a
 * second witness: for the perl process it must give the numbers
 * libktcount.so read through kt_counters(). */
START_TEST(test_perl_children_summary_agrees)
{
	const char *what = "perl: KT_STATS summary against libktcount";
	if (!installed(PERL, what))
		return;
	char log_path[] = "/tmp/kt-compat-log-XXXXXX";
	int fd = mkstemp(log_path);
	ck_assert(fd >= 0);
	close(fd);
	char log_kv[64];
	snprintf(log_kv, sizeof log_kv, "KT_LOG=%s", log_path);
	char *env[] = { "KT_STATS=1", log_kv, NULL };
	char *argv[] = { PERL, (char *)fixture("perl_children.pl"), NULL };
	static struct run r;
	run(&r, 1, argv, env, NULL, NULL);
	static char log[16384];
	slurp(log_path, log, sizeof log);
	unlink(log_path);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "%s: status 0x%x\n%s", what,
	              r.status, r.err);
	struct counts c = expect_counts(&r, "perl", what);
	const char *line = strstr(r.counts, " comm=perl ");
	ck_assert(line != NULL);
	while (line > r.counts && line[-1] != '\n')
		line--;
	char want[256];
	snprintf(want, sizeof want,
	         "%lld children tracked, %lld reaps seen, %lld kills delivered through pidfds, "
	         "%lld stale kills refused, 0 stale kills let through, 0 fallbacks [pid %lld perl]",
	         c.children_tracked, c.reaps_seen, c.kills_via_pidfd, c.stale_refused,
	         atoll(line + strlen("pid=")));
	ck_assert_msg(strstr(log, want) != NULL, "%s: no \"%s\" in the KT_LOG file:\n%s\ncounters:\n%s",
	              what, want, log, r.counts);
}
END_TEST

static void perl_stale(const char *how, const char *what)
{
	char *cmd[] = { PERL, (char *)fixture("perl_stale_kill.pl"), (char *)how, NULL };
	stale_kill(what, cmd, "kill(%s,", 1, "perl", NULL, NULL);
}

START_TEST(test_perl_stale_kill_fork)
{
	perl_stale("fork", "perl: kill TERM => $pid after fork and waitpid");
}
END_TEST

START_TEST(test_perl_stale_kill_open)
{
	perl_stale("open", "perl: kill TERM => $pid after open '-|' and close");
}
END_TEST

START_TEST(test_perl_stale_kill_sigchld)
{
	perl_stale("sigchld", "perl: kill TERM => $pid after a SIGCHLD handler reaped it");
}
END_TEST

/* ---- CPython ----------------------------------------------------------------- */

START_TEST(test_python_fork_and_asyncio)
{
	const char *what = "python3: os.fork/os.kill/os.waitpid, asyncio subprocesses";
	if (!installed(PYTHON, what))
		return;
	char *argv[] = { PYTHON, "-I", "-S", (char *)fixture("py_children.py"), NULL };
	static struct run r;
	same_both_ways(what, argv, NULL, NULL, NULL, 0, &r);
	static const char want[] = "os.fork, os.kill TERM: -15\n"
	                           "os.kill 0 after the reap: ProcessLookupError\n"
	                           "terminate: -15\n"
	                           "wait_for timed out, kill: -9\n"
	                           "communicate: out 3\n"
	                           "shell that signals itself: -10\n"
	                           "send_signal INT: -2\n"
	                           "send_signal after the exit: ProcessLookupError\n"
	                           "gather: [0, 1, 2, 3]\n";
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0 && strcmp(r.out, want) == 0,
	              "%s: status 0x%x, output:\n%s\nstderr:\n%s", what, r.status, r.out, r.err);
	/* One os.fork and ten asyncio children; four kills of live children
	 * (os.kill, terminate, kill, send_signal).  The asyncio children are
	 * reaped by the child watcher's thread: reaps_seen shows the wait hooks
	 * saw those too. */
	struct counts c = expect_counts(&r, "python3", what);
	expect_count(c, children_tracked, ==, 11, what, &r);
	expect_count(c, reaps_seen, ==, 11, what, &r);
	expect_count(c, kills_via_pidfd, ==, 4, what, &r);
}
END_TEST

START_TEST(test_python_asyncio_stale_kill)
{
	char *cmd[] = { PYTHON, "-I", "-S", (char *)fixture("py_stale_kill.py"), NULL };
	stale_kill("python3: os.kill(proc.pid) after await proc.wait() (asyncio)", cmd, "kill(%s,", 1,
	           "python3", NULL, NULL);
}
END_TEST

/* ---- glibc's own spawns: untracked, and shown to pass through unchanged ------ */

START_TEST(test_glibc_system_popen_untracked)
{
	static const char *const modes[] = { "system", "popen" };
	for (int i = 0; i < 2; i++) {
		char what[96];
		snprintf(what, sizeof what, "python3: kill of a reaped %s() child (glibc-internal)",
		         modes[i]);
		if (!scenario_possible(what) || !installed(PYTHON, what))
			return;
		char *argv[] = { (char *)kt_test_helper("reuse"), "--", PYTHON, "-I", "-S",
			         (char *)fixture("py_glibc_spawn.py"), (char *)modes[i], NULL };
		struct scenario s;
		for (int preload = 0; preload <= 1; preload++) {
			char count_path[32], count_kv[64];
			count_file(count_path, count_kv);
			char *env[] = { "KT_LOG=stderr", count_kv,
				        preload ? (char *)preload_value() : NULL, NULL };
			if (!scenario_run(&s, 0, argv, env, what)) {
				unlink(count_path);
				return;
			}
			/* Passes through unchanged: the stranger dies with libkt
			 * too, libkt says nothing, and never knew the child. */
			scenario_expect(&s, "kill_status", "0", what, preload);
			scenario_expect(&s, "stranger", "killed", what, preload);
			scenario_expect(&s, "exit", "3", what, preload);
			scenario_expect(&s, "tracked", preload ? "0" : "none", what, preload);
			ck_assert_msg(strstr(s.out, "stale") == NULL,
			              "%s (%s): a stale report for an untracked child:\n%s", what,
			              with(preload), s.out);
			static struct run r;
			read_count_file(count_path, &r);
			if (!preload)
				continue;
			struct counts c = expect_counts(&r, "python3", what);
			expect_count(c, children_tracked, ==, 0, what, &r);
			expect_count(c, kills_via_pidfd, ==, 0, what, &r);
			expect_count(c, stale_refused, ==, 0, what, &r);
		}
	}
}
END_TEST

/* ---- coreutils timeout --------------------------------------------------------- */

/* timeout cannot make a stale kill: once waitpid has reaped the child it
 * blocks its own timer and termination signals before looking at anything
 * else (coreutils' "Ensure we don't cleanup() after waitpid() reaps the
 * child").  So the checks here are parity and pidfd delivery; the last case
 * shows that a child that exits in time is never signalled at all. */
START_TEST(test_timeout_signal_and_kill_after)
{
	const char *what = "timeout --signal/--kill-after/--preserve-status";
	if (!installed(TIMEOUT, what))
		return;
	static struct {
		const char *name;
		char *argv[12];
		int exit_code;
		long long kills; /* exact count of kills through a pidfd */
	} cases[] = {
		{ "--signal=USR1 --preserve-status (child dies of USR1)",
		  { TIMEOUT, "--signal=USR1", "--preserve-status", "0.2", "sleep", "5", NULL },
		  128 + SIGUSR1, 2 /* USR1, then CONT */ },
		{ "-s HUP (exit 124)",
		  { TIMEOUT, "-s", "HUP", "0.2", "sleep", "5", NULL }, 124, 2 /* HUP, CONT */ },
		{ "--foreground --kill-after=0.3 -s INT, child ignores INT",
		  /* exec: an ignored signal stays ignored, and no orphan is left */
		  { TIMEOUT, "--foreground", "--kill-after=0.3", "-s", "INT", "0.2", "/bin/sh", "-c",
		    "trap '' INT; exec sleep 5", NULL },
		  128 + SIGKILL, 2 /* INT, KILL */ },
		{ "child exits 7 in time",
		  { TIMEOUT, "5", "/bin/sh", "-c", "exit 7", NULL }, 7, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char name[160];
		snprintf(name, sizeof name, "timeout %s", cases[i].name);
		static struct run r;
		same_both_ways(name, cases[i].argv, NULL, NULL, NULL, 0, &r);
		ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == cases[i].exit_code,
		              "%s: status 0x%x, expected exit %d\n%s", name, r.status,
		              cases[i].exit_code, r.err);
		ck_assert_msg(r.secs < 3.0, "%s: took %.1f s: the child was not killed", name, r.secs);
		struct counts c = expect_counts(&r, "timeout", name);
		expect_count(c, children_tracked, ==, 1, name, &r);
		expect_count(c, reaps_seen, ==, 1, name, &r);
		expect_count(c, kills_via_pidfd, ==, cases[i].kills, name, &r);
		expect_count(c, stale_refused, ==, 0, name, &r);
	}
}
END_TEST

/* An strace command line for ARGV, with libkt given to the traced program only
 * (strace's -E) when PRELOAD: a trace of kill and pidfd_send_signal into PATH.
 * Only the program's own process is traced (no -f): the kills under test are
 * its own, and one traced process gives no interleaved lines.  PRE holds the
 * LD_PRELOAD string; OUT has room for 32 entries. */
static void strace_argv(int preload, const char *path, char *const argv[], char *pre,
                        size_t pre_size, char *out[32])
{
	snprintf(pre, pre_size, "LD_PRELOAD=%s", kt_test_lib());
	int n = 0;
	static char *const head[] = { STRACE, "-qq", "-e", "trace=kill,pidfd_send_signal",
		                      "-e", "signal=none", "-o", NULL };
	for (; head[n]; n++)
		out[n] = head[n];
	out[n++] = (char *)path;
	if (preload) {
		out[n++] = "-E";
		out[n++] = pre;
	}
	out[n++] = "--";
	for (int i = 0; argv[i] && n < 31; i++)
		out[n++] = argv[i];
	out[n] = NULL;
}

/* strace pads the " = result" to a column: make it one space, in place. */
static void squeeze_spaces(char *text)
{
	char *w = text;
	for (const char *p = text; *p; p++)
		if (!(*p == ' ' && p[1] == ' '))
			*w++ = *p;
	*w = '\0';
}

/* 1 if STRACE_ERR says ptrace is not allowed here (a container's seccomp
 * profile, say): the caller then skips. */
static int ptrace_denied(const char *strace_err)
{
	return strstr(strace_err, "ptrace") != NULL || strstr(strace_err, "PTRACE") != NULL;
}

/* Runs ARGV under strace (see strace_argv); TRACE gets the trace.  Returns 0
 * when ptrace is not allowed here. */
static int traced(int preload, char *const argv[], char *trace, size_t size, int *status)
{
	char path[] = "/tmp/kt-compat-trace-XXXXXX";
	int fd = mkstemp(path);
	ck_assert(fd >= 0);
	close(fd);
	char pre[PATH_MAX + 16], *sargv[32];
	strace_argv(preload, path, argv, pre, sizeof pre, sargv);
	static struct run r;
	run(&r, 0, sargv, NULL, NULL, NULL);
	*status = r.status;
	slurp(path, trace, size);
	squeeze_spaces(trace);
	unlink(path);
	return !ptrace_denied(r.err);
}

/* Without --foreground, timeout signals its child and then its whole group,
 * itself included, so after --kill-after it dies of its own SIGKILL and
 * leaves no counters.  strace shows the child's signals instead. */
START_TEST(test_timeout_kill_after_group)
{
	const char *what = "timeout --kill-after (dies of its own SIGKILL), strace";
	if (!installed(TIMEOUT, what) || !installed(STRACE, what))
		return;
	char *argv[] = { TIMEOUT, "--kill-after=0.3", "0.2", "/bin/sh", "-c",
		         "trap '' TERM; sleep 5", NULL };
	static char trace[2][8192];
	for (int preload = 0; preload <= 1; preload++) {
		int st;
		if (!traced(preload, argv, trace[preload], sizeof trace[preload], &st)) {
			printf("SKIP: %s: strace cannot trace here\n", what);
			return;
		}
		/* strace ends as its tracee did: killed by SIGKILL. */
		ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		              "%s (%s): status 0x%x\n%s", what, with(preload), st, trace[preload]);
	}
	ck_assert_msg(strstr(trace[0], "kill(0, SIGKILL)") && strstr(trace[0], ", SIGKILL) = 0") &&
	                      !strstr(trace[0], "pidfd_send_signal"),
	              "%s (without libkt): trace:\n%s", what, trace[0]);
	/* With libkt: the child's TERM, CONT and KILL go through a pidfd; the
	 * group's kill(0, ...) passes through (pid 0 is not a child). */
	ck_assert_msg(strstr(trace[1], "pidfd_send_signal(") &&
	                      strstr(trace[1], ", SIGTERM, NULL, 0) = 0") &&
	                      strstr(trace[1], ", SIGKILL, NULL, 0) = 0") &&
	                      strstr(trace[1], "kill(0, SIGKILL)"),
	              "%s (with libkt): trace:\n%s", what, trace[1]);
	for (const char *p = trace[1]; (p = strstr(p, " kill(")) != NULL; p++)
		ck_assert_msg(strncmp(p, " kill(0,", 8) == 0,
		              "%s (with libkt): a child was signalled by number:\n%s", what, trace[1]);
}
END_TEST

/* ---- GNU make -j, interrupted ------------------------------------------------- */

/* Makes a private copy of the make fixture; returns its directory. */
static const char *make_dir(char *dir)
{
	strcpy(dir, "/tmp/kt-compat-make-XXXXXX");
	ck_assert(mkdtemp(dir) != NULL);
	char cmd[PATH_MAX * 2 + 32];
	snprintf(cmd, sizeof cmd, "cp %s %s/Makefile", fixture("make-interrupt.mk"), dir);
	ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
	return dir;
}

static void remove_dir(const char *dir)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert(system(cmd) == 0);
}

/* Starts make -j3 (under strace when TRACE), waits for the three recipes to
 * be running, then sends SIG to make.  With THEN_GROUP, once make's handler is
 * under way (it has said "Deleting file" for all three targets and now waits
 * for the recipes), SIG goes to the whole process group as well: a terminal's
 * ^C, made deterministic.  Sent to the group at once, make 4.3 can reap a
 * recipe in its main loop just before its handler runs, and the handler then
 * fails with "wait: No child processes.  Stop." (exit 2): 4 times in 40 runs
 * here, without libkt.  Collects the run, and checks that make reaped every
 * recipe before it died. */
static void stop_make(int preload, const char *dir, int sig, int then_group, struct run *r,
                      char *trace_out, size_t trace_size)
{
	char make_pid_file[PATH_MAX];
	snprintf(make_pid_file, sizeof make_pid_file, "%s/make.pid", dir);
	char *argv[] = { MAKE, "-j3", "-C", (char *)dir, "all", NULL };
	char trace_path[] = "/tmp/kt-compat-trace-XXXXXX";
	char pre[PATH_MAX + 16], *sargv[32];
	if (trace_out) {
		int fd = mkstemp(trace_path);
		ck_assert(fd >= 0);
		close(fd);
		strace_argv(preload, trace_path, argv, pre, sizeof pre, sargv);
	}
	struct started s;
	start(&s, trace_out ? 0 : preload, trace_out ? sargv : argv, NULL, NULL, NULL, 1);
	/* Each recipe writes its PID, make's PID, then its .started file. */
	char f[PATH_MAX];
	double t0 = now_s();
	int ready = 0;
	while (!ready && now_s() - t0 < 10) {
		ready = 1;
		for (const char *t = "abc"; *t; t++) {
			snprintf(f, sizeof f, "%s/%c.started", dir, *t);
			ready &= access(f, F_OK) == 0;
		}
		struct timespec ms = { 0, 5 * 1000 * 1000 };
		nanosleep(&ms, NULL);
	}
	char buf[32];
	slurp(make_pid_file, buf, sizeof buf);
	pid_t make_pid = (pid_t)atoi(buf);
	ck_assert_msg(ready && make_pid > 0, "make: the recipes did not start (%s)", with(preload));
	ck_assert(kill(make_pid, sig) == 0);
	if (then_group) {
		char err[8192];
		int deleting = 0;
		t0 = now_s();
		while (deleting < 3 && now_s() - t0 < 10) {
			struct timespec ms = { 0, 2 * 1000 * 1000 };
			nanosleep(&ms, NULL);
			slurp(s.err_path, err, sizeof err);
			deleting = 0;
			for (const char *p = err; (p = strstr(p, "Deleting file")); p++)
				deleting++;
		}
		ck_assert_msg(deleting == 3, "make (%s): its SIGINT handler did not start:\n%s",
		              with(preload), err);
		ck_assert(kill(-s.pid, sig) == 0);
	}
	finish(&s, r);
	if (trace_out) {
		slurp(trace_path, trace_out, trace_size);
		squeeze_spaces(trace_out);
		unlink(trace_path);
	}
	/* Every recipe is dead: gone, or a zombie that make left to init (make
	 * 4.3 with a jobserver waits for one child in its handler, not all). */
	for (const char *t = "abc"; *t; t++) {
		snprintf(f, sizeof f, "%s/%c.pid", dir, *t);
		slurp(f, buf, sizeof buf);
		pid_t p = (pid_t)atoi(buf);
		ck_assert_msg(p > 0, "make: recipe %c left no PID", *t);
		char stat_path[64], stat[256], state = 'R';
		snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", (int)p);
		for (t0 = now_s(); now_s() - t0 < 5;) {
			slurp(stat_path, stat, sizeof stat);
			const char *paren = strrchr(stat, ')');
			state = paren && paren[1] == ' ' ? paren[2] : 0;
			if (state == 0 || state == 'Z')
				break;
			struct timespec ms = { 0, 2 * 1000 * 1000 };
			nanosleep(&ms, NULL);
		}
		ck_assert_msg(state == 0 || state == 'Z',
		              "make (%s): recipe %c (pid %d) outlived make (state %c)", with(preload), *t,
		              (int)p, state);
	}
}

/* make's stderr with each "[Makefile:N: X.out] WORD" line replaced by
 * "[Makefile:#: ?.out] WORD": which recipes make reaps before it dies (at
 * least one) depends on timing, with libkt as without. */
static int mask_reaped_recipes(char *err, const char *word)
{
	int n = 0;
	char pat[32];
	snprintf(pat, sizeof pat, ".out] %s", word);
	for (char *p = err; (p = strstr(p, pat)); p++, n++)
		if (p > err)
			p[-1] = '?';
	return n;
}

/* Parity of an interrupted (SIGINT to make and its group) or terminated
 * (SIGTERM to make, whose handler then kills each recipe itself) build: make
 * dies of the signal, every half-made target is deleted, every recipe is dead,
 * the ones make reaped died of the signal (make's "Interrupt"/"Terminated"
 * lines), and the messages are the same. */
static void make_stopped_same_both_ways(int sig, int then_group, const char *word,
                                        const char *what)
{
	if (!installed(MAKE, what))
		return;
	static struct run r[2];
	static char masked[2][8192];
	for (int preload = 0; preload <= 1; preload++) {
		char dir[64];
		make_dir(dir);
		stop_make(preload, dir, sig, then_group, &r[preload], NULL, 0);
		/* make re-raises the signal on itself after cleaning up. */
		ck_assert_msg(WIFSIGNALED(r[preload].status) && WTERMSIG(r[preload].status) == sig,
		              "%s (%s): status 0x%x\n%s", what, with(preload), r[preload].status,
		              r[preload].err);
		for (const char *t = "abc"; *t; t++) {
			char line[128], f[PATH_MAX];
			snprintf(line, sizeof line, "Deleting file '%c.out'", *t);
			ck_assert_msg(strstr(r[preload].err, line), "%s (%s): no \"%s\":\n%s", what,
			              with(preload), line, r[preload].err);
			snprintf(f, sizeof f, "%s/%c.out", dir, *t);
			ck_assert_msg(access(f, F_OK) < 0, "%s (%s): %s not deleted", what,
			              with(preload), f);
		}
		mask_digits(r[preload].err, masked[preload], sizeof masked[preload]);
		ck_assert_msg(mask_reaped_recipes(masked[preload], word) >= 1,
		              "%s (%s): no recipe reported as \"%s\":\n%s", what, with(preload), word,
		              r[preload].err);
		sort_lines(masked[preload], sizeof masked[preload]);
		remove_dir(dir);
	}
	ck_assert_msg(strcmp(masked[0], masked[1]) == 0,
	              "%s: stderr differs.\nwithout libkt:\n%s\nwith libkt:\n%s", what, r[0].err,
	              r[1].err);
}

START_TEST(test_make_interrupted)
{
	make_stopped_same_both_ways(SIGINT, 1, "Interrupt", "make -j3, ^C (SIGINT to make and its group)");
}
END_TEST

START_TEST(test_make_terminated)
{
	make_stopped_same_both_ways(SIGTERM, 0, "Terminated", "make -j3, SIGTERM to make alone");
}
END_TEST

/* On SIGTERM make's handler kills each running recipe itself (on SIGINT it
 * leaves that to the terminal, which signals the whole group).  make then dies
 * of the signal and leaves no counters, so strace shows the calls: three
 * kill(pid, SIGTERM) without libkt, three pidfd_send_signal with it. */
START_TEST(test_make_terminated_pidfd)
{
	const char *what = "make -j3, SIGTERM: make's kills of its recipes (strace)";
	if (!installed(MAKE, what) || !installed(STRACE, what))
		return;
	static char trace[2][16384];
	for (int preload = 0; preload <= 1; preload++) {
		char dir[64];
		make_dir(dir);
		static struct run r;
		stop_make(preload, dir, SIGTERM, 0, &r, trace[preload], sizeof trace[preload]);
		remove_dir(dir);
		if (ptrace_denied(r.err)) {
			printf("SKIP: %s: strace cannot trace here\n", what);
			return;
		}
	}
	int by_number = 0, by_pidfd = 0;
	for (const char *p = trace[0]; (p = strstr(p, "kill(")); p++)
		by_number += strncmp(strchr(p, ','), ", SIGTERM) = 0", 14) == 0;
	for (const char *p = trace[1]; (p = strstr(p, "pidfd_send_signal(")); p++)
		by_pidfd += strncmp(strchr(p, ','), ", SIGTERM, NULL, 0) = 0", 23) == 0;
	/* make's final kill of itself may show as unfinished: hence >= 3. */
	ck_assert_msg(by_number >= 3 && !strstr(trace[0], "pidfd_send_signal"),
	              "%s (without libkt): trace:\n%s", what, trace[0]);
	ck_assert_msg(by_pidfd == 3, "%s (with libkt): %d SIGTERMs through pidfds; trace:\n%s", what,
	              by_pidfd, trace[1]);
}
END_TEST

START_TEST(test_make_counts_recipes)
{
	const char *what = "make -j3: a build that completes";
	if (!installed(MAKE, what))
		return;
	char dir[64];
	make_dir(dir);
	char *argv[] = { MAKE, "-s", "-j3", "-C", dir, "quick", NULL };
	static struct run r;
	same_both_ways(what, argv, NULL, NULL, NULL, 1, &r);
	remove_dir(dir);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0 &&
	                      strcmp(r.out, "one\nthree\ntwo\n") == 0,
	              "%s: status 0x%x, output:\n%s\n%s", what, r.status, r.out, r.err);
	struct counts c = expect_counts(&r, "make", what);
	expect_count(c, children_tracked, ==, 3, what, &r);
	expect_count(c, reaps_seen, ==, 3, what, &r);
}
END_TEST

/* ---- xargs -P and find -exec ---------------------------------------------------- */

/* Neither signals its children, so there is no kill to protect: the checks are
 * parity (exit statuses 0, 123, 124, 125 and messages) and registration. */
START_TEST(test_xargs_parallel)
{
	const char *what = "xargs -P3";
	if (!installed(XARGS, what))
		return;
	char in[] = "/tmp/kt-compat-in-XXXXXX";
	int fd = mkstemp(in);
	ck_assert(fd >= 0);
	ck_assert(write(fd, "1\n2\n3\n4\n5\n6\n", 12) == 12);
	close(fd);
	static const struct {
		const char *name, *script;
		int exit_code;
	} cases[] = {
		{ "all succeed", "sleep 0.1; echo $1", 0 },
		{ "one fails (123)", "sleep 0.1; echo $1; [ $1 != 4 ]", 123 },
		/* How many others finish first is up to the scheduler: no output. */
		{ "one exits 255 (124)", "[ $1 != 2 ] || exit 255; sleep 0.2", 124 },
		{ "one killed by a signal (125)", "[ $1 != 2 ] || kill $$; sleep 0.2", 125 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char name[96];
		snprintf(name, sizeof name, "xargs -P3 -n1, %s", cases[i].name);
		char *argv[] = { XARGS, "-P3", "-n1", "/bin/sh", "-c", (char *)cases[i].script, "sh",
			         NULL };
		static struct run r;
		same_both_ways(name, argv, NULL, NULL, in, 1, &r);
		ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == cases[i].exit_code,
		              "%s: status 0x%x\n%s", name, r.status, r.err);
		if (i == 0) {
			ck_assert_msg(strcmp(r.out, "1\n2\n3\n4\n5\n6\n") == 0, "%s: %s", name, r.out);
			/* xargs leaves no counters when it stops early (it ends with
			 * _exit there), so only the complete run is counted. */
			struct counts c = expect_counts(&r, "xargs", name);
			expect_count(c, children_tracked, ==, 6, name, &r);
			expect_count(c, reaps_seen, ==, 6, name, &r);
		}
	}
	unlink(in);
}
END_TEST

START_TEST(test_find_exec)
{
	const char *what = "find -exec";
	if (!installed(FIND, what))
		return;
	char dir[] = "/tmp/kt-compat-find-XXXXXX";
	ck_assert(mkdtemp(dir) != NULL);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "cd %s && mkdir sub && touch a.txt b.txt sub/c.txt d.log", dir);
	ck_assert(system(cmd) == 0);
	static const struct {
		const char *name;
		char *argv[16];
		int exit_code, children;
		const char *out;
	} cases[] = {
		{ "-exec sh {} ;", { FIND, ".", "-name", "*.txt", "-exec", "/bin/sh", "-c",
		                     "echo \"$1\"", "sh", "{}", ";", NULL },
		  0, 3, "./a.txt\n./b.txt\n./sub/c.txt\n" },
		{ "-exec sh {} + (one child, three names)",
		  { FIND, ".", "-name", "*.txt", "-exec", "/bin/sh", "-c", "echo $#", "sh", "{}", "+",
		    NULL },
		  0, 1, "3\n" },
		{ "-execdir, -exec as a test", { FIND, ".", "-type", "f", "-execdir", "/bin/sh", "-c",
		                                 "case $1 in *.log) exit 1;; esac", "sh", "{}", ";",
		                                 "-print", NULL },
		  0, 4, "./a.txt\n./b.txt\n./sub/c.txt\n" },
		{ "-exec false {} + (exit 1)", { FIND, ".", "-name", "*.txt", "-exec", "/bin/false",
		                                 "{}", "+", NULL },
		  1, 1, "" },
		{ "-exec sh {} ; child killed by a signal", { FIND, ".", "-name", "a.txt", "-exec",
		                                            "/bin/sh", "-c", "kill $$", "sh", "{}",
		                                            ";", NULL },
		  0, 1, "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char name[96];
		snprintf(name, sizeof name, "find %s", cases[i].name);
		static struct run r;
		same_both_ways(name, cases[i].argv, NULL, dir, NULL, 1, &r);
		ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == cases[i].exit_code,
		              "%s: status 0x%x\n%s", name, r.status, r.err);
		ck_assert_msg(strcmp(r.out, cases[i].out) == 0, "%s: output:\n%s\nexpected:\n%s", name,
		              r.out, cases[i].out);
		struct counts c = expect_counts(&r, "find", name);
		expect_count(c, children_tracked, ==, cases[i].children, name, &r);
		expect_count(c, reaps_seen, ==, cases[i].children, name, &r);
	}
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert(system(cmd) == 0);
}
END_TEST

static Suite *compat_suite(void)
{
	Suite *s = suite_create("compat");
	TCase *tc = tcase_create("loaded");
	tcase_add_test(tc, test_libkt_loaded);
	suite_add_tcase(s, tc);

	tc = tcase_create("shells");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_bash_job_control);
	tcase_add_test(tc, test_dash_jobs);
	tcase_add_test(tc, test_bash_stale_kill_job);
	tcase_add_test(tc, test_bash_stale_kill_trap);
	tcase_add_test(tc, test_dash_stale_kill_trap);
	tcase_add_test(tc, test_dash_stale_kill_job);
	tcase_add_test(tc, test_bash_stale_kill_wait_n);
	suite_add_tcase(s, tc);

	tc = tcase_create("perl");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_perl_children);
	tcase_add_test(tc, test_perl_children_summary_agrees);
	tcase_add_test(tc, test_perl_stale_kill_fork);
	tcase_add_test(tc, test_perl_stale_kill_open);
	tcase_add_test(tc, test_perl_stale_kill_sigchld);
	suite_add_tcase(s, tc);

	tc = tcase_create("python");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_python_fork_and_asyncio);
	tcase_add_test(tc, test_python_asyncio_stale_kill);
	tcase_add_test(tc, test_glibc_system_popen_untracked);
	suite_add_tcase(s, tc);

	tc = tcase_create("timeout");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_timeout_signal_and_kill_after);
	tcase_add_test(tc, test_timeout_kill_after_group);
	suite_add_tcase(s, tc);

	tc = tcase_create("make");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_make_interrupted);
	tcase_add_test(tc, test_make_terminated);
	tcase_add_test(tc, test_make_terminated_pidfd);
	tcase_add_test(tc, test_make_counts_recipes);
	suite_add_tcase(s, tc);

	tc = tcase_create("findutils");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_xargs_parallel);
	tcase_add_test(tc, test_find_exec);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(compat_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
