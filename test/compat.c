/* SPDX-License-Identifier: MIT */
/* The compatibility suite's plumbing (declared and described in compat.h). */
#include "compat.h"

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
enum { COMPAT_RUN_TIMEOUT_S = 15 };

/* ------------------------------------------------------------------ plumbing */

const char *fixture(const char *name)
{
	return kt_test_fixture(name);
}

const char *preload_value(void)
{
	static char v[2 * PATH_MAX + 16];
	snprintf(v, sizeof v, "LD_PRELOAD=%s:%s", kt_test_lib(), kt_test_helper("libktcount.so"));
	return v;
}

void slurp(const char *path, char *buf, size_t size)
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

void start(struct started *s, int preload, char *const argv[], char *const extra[],
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
	s->t0 = kt_test_now_s();
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

void finish(struct started *s, struct run *r)
{
	memset(r, 0, sizeof *r);
	struct timespec ms = { 0, 5 * 1000 * 1000 };
	pid_t got;
	int killed = 0;
	while ((got = waitpid(s->pid, &r->status, WNOHANG)) == 0) {
		if (!killed && kt_test_now_s() - s->t0 > COMPAT_RUN_TIMEOUT_S) {
			kill(s->pid, SIGKILL);
			killed = 1;
		}
		nanosleep(&ms, NULL);
	}
	ck_assert_msg(got == s->pid, "waitpid: %s", strerror(errno));
	r->secs = kt_test_now_s() - s->t0;
	slurp(s->out_path, r->out, sizeof r->out);
	slurp(s->err_path, r->err, sizeof r->err);
	slurp(s->count_path, r->counts, sizeof r->counts);
	unlink(s->out_path);
	unlink(s->err_path);
	unlink(s->count_path);
	ck_assert_msg(!killed, "%s: still running after %d s; stdout:\n%s\nstderr:\n%s",
	              "program", COMPAT_RUN_TIMEOUT_S, r->out, r->err);
}

void run(struct run *r, int preload, char *const argv[], char *const extra[],
         const char *dir, const char *in)
{
	struct started s;
	start(&s, preload, argv, extra, dir, in, 0);
	finish(&s, r);
}

const char *with_libkt(int preload)
{
	return preload ? "with libkt" : "without libkt";
}

void mask_digits(const char *in, char *out, size_t size)
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

void sort_lines(char *text, size_t size)
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

void same_both_ways(const char *what, char *const argv[], char *const extra[],
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

struct counts counts_of(const struct run *r, const char *comm, int only_last)
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

struct counts expect_counts(const struct run *r, const char *comm, const char *what)
{
	struct counts c = counts_of(r, comm, 0);
	ck_assert_msg(c.processes > 0,
	              "%s: no counter line from a process named %s (is libktcount.so built?):\n%s",
	              what, comm, r->counts);
	/* Where pidfds are refused (the seccomp runs) falling back is the job:
	 * once per process that registers a child. */
	if (kt_test_have_pidfd())
		ck_assert_msg(c.fallbacks == 0, "%s: %s fell back to plain behaviour %lld times:\n%s",
		              what, comm, c.fallbacks, r->counts);
	return c;
}

/* ---- protection: the reuse helper's PID namespace (fds 3 and 4) -------------- */

void temp_file(char *path, const char *content)
{
	int fd = mkstemp(path);
	ck_assert_msg(fd >= 0, "mkstemp: %s", strerror(errno));
	size_t n = content ? strlen(content) : 0;
	ck_assert_msg(write(fd, content ? content : "", n) == (ssize_t)n, "write %s: %s", path,
	              strerror(errno));
	close(fd);
}

void count_file(char *path, char *kv)
{
	strcpy(path, "/tmp/kt-compat-cnt-XXXXXX");
	temp_file(path, NULL);
	snprintf(kv, 64, "KTCOUNT_FILE=%s", path);
}

void read_count_file(const char *path, struct run *r)
{
	memset(r, 0, sizeof *r);
	slurp(path, r->counts, sizeof r->counts);
	unlink(path);
}

void stale_kill(const char *what, char *const cmd[], const char *report, int status_check,
                const char *comm, const char *key, const char *value)
{
	if (!scenario_possible(what) || !kt_test_installed(cmd[0], what))
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

/* ---- strace ------------------------------------------------------------------ */

void strace_argv(int preload, const char *path, char *const argv[], char *pre,
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

void squeeze_spaces(char *text)
{
	char *w = text;
	for (const char *p = text; *p; p++)
		if (!(*p == ' ' && p[1] == ' '))
			*w++ = *p;
	*w = '\0';
}

int ptrace_denied(const char *strace_err)
{
	return strstr(strace_err, "ptrace") != NULL || strstr(strace_err, "PTRACE") != NULL;
}

int traced(int preload, char *const argv[], char *trace, size_t size, int *status)
{
	char path[] = "/tmp/kt-compat-trace-XXXXXX";
	temp_file(path, NULL);
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
