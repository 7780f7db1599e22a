/* SPDX-License-Identifier: MIT */
/* Plumbing for the compatibility suite (test/preload_compat.c), built once
 * as an object: running a real program plain and under libkt with stdout,
 * stderr and libkt's counters (test/helpers/libktcount.so) apart; comparing
 * two runs; reading counters; the reuse helper's stale-kill scenario for a
 * real program; strace of a program's kills. */
#ifndef KT_TEST_COMPAT_H
#define KT_TEST_COMPAT_H

#include <check.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>

#include "testlib.h"

#define BASH "/bin/bash"
#define DASH "/bin/dash"
#define PERL "/usr/bin/perl"
#define PYTHON "/usr/bin/python3" /* not a pyenv shim from PATH */
#define TIMEOUT "/usr/bin/timeout"
#define MAKE "/usr/bin/make"
#define XARGS "/usr/bin/xargs"
#define FIND "/usr/bin/find"
#define STRACE "/usr/bin/strace"

/* One program run: stdout and stderr apart, the wait status, the time taken,
 * and (under libkt) the counter lines its processes left. */
struct run {
	int status;
	double secs;
	char out[8192];
	char err[8192];
	char counts[8192];
};

/* A program start() launched: its PID, when, and the temporary files its
 * stdout, stderr and counter lines go to until finish() reads them. */
struct started {
	pid_t pid;
	double t0;
	char out_path[64], err_path[64], count_path[64];
};

/* The counter lines (see test/helpers/libktcount.c) of every process whose
 * name is COMM, added up. */
struct counts {
	int processes;
	long long children_tracked, kills_via_pidfd, stale_refused, fallbacks, reaps_seen;
};

/* Where pidfds are refused (the suite's seccomp runs) nothing goes through
 * one: a kills_via_pidfd expectation is then checked against 0. */
#define expect_count(c, key, op, want, what, r)                                              \
	do {                                                                                 \
		long long want_ = strcmp(#key, "kills_via_pidfd") == 0 && !kt_test_have_pidfd() \
		                          ? 0 : (long long)(want);                           \
		ck_assert_msg((c).key op want_, "%s: %s " #key "=%lld, expected " #op " %lld\n%s", \
		              (what), #key, (long long)(c).key, want_, (r)->counts);         \
	} while (0)

/* test/compat/NAME; fails the test when the fixture is missing. */
const char *fixture(const char *name);

/* LD_PRELOAD value for a counted run: libkt first, the counter dumper after. */
const char *preload_value(void);

/* The file PATH into BUF, NUL-terminated (empty when it cannot be read). */
void slurp(const char *path, char *buf, size_t size);

/* Starts ARGV (argv[0] a path) in directory DIR (NULL: here), with stdin from
 * /dev/null or the file IN, in a copy of our environment without LD_PRELOAD
 * and KT_* variables, plus EXTRA ("K=V", NULL-terminated, may be NULL) and,
 * when PRELOAD, libkt and the counter dumper.  With OWN_GROUP it leads a
 * process group of its own, as a shell's foreground job does. */
void start(struct started *s, int preload, char *const argv[], char *const extra[],
           const char *dir, const char *in, int own_group);

/* Waits for S's program (SIGKILL after COMPAT_RUN_TIMEOUT_S seconds, a test
 * failure) and collects its run. */
void finish(struct started *s, struct run *r);

/* start() (in our process group, stdin from IN or /dev/null), then finish(). */
void run(struct run *r, int preload, char *const argv[], char *const extra[],
         const char *dir, const char *in);

/* "with libkt" or "without libkt", for messages. */
const char *with_libkt(int preload);

/* Every run of digits replaced by '#' and every run of spaces by one: job
 * numbers, PIDs (which bash pads to a width) and line numbers in a shell's
 * stderr differ from run to run; the words around them must not. */
void mask_digits(const char *in, char *out, size_t size);

/* TEXT with its lines sorted (for output of parallel jobs); in place. */
void sort_lines(char *text, size_t size);

/* Runs ARGV plain and under libkt; asserts the same wait status, stdout and
 * (digits masked) stderr, with lines sorted when SORTED.  LIBKT gets the
 * libkt run for the counter checks. */
void same_both_ways(const char *what, char *const argv[], char *const extra[],
                    const char *dir, const char *in, int sorted, struct run *libkt);

/* The counters of the processes named COMM that left a line: all of them
 * added up, or (ONLY_LAST) those of the last one to exit, which is the
 * program itself when its subprocesses of the same name (subshells) end
 * before it. */
struct counts counts_of(const struct run *r, const char *comm, int only_last);

/* At least one process named COMM left its counters. */
struct counts expect_counts(const struct run *r, const char *comm, const char *what);

/* A new file from PATH, a mkstemp template (rewritten with the name),
 * holding CONTENT (NULL: empty); fails the test if it cannot be made. */
void temp_file(char *path, const char *content);

/* A fresh, empty counter file: its path in PATH (room for 32) and the
 * KTCOUNT_FILE=PATH setting in KV (room for 64). */
void count_file(char *path, char *kv);

/* The counter lines left in PATH, which is removed. */
void read_count_file(const char *path, struct run *r);

/* Both halves of a stale kill by CMD.  Without libkt the kill succeeds
 * (kill_status=0) and the stranger dies; with libkt (enforce, the default) the
 * stranger lives and, when STATUS_CHECK, the program's kill fails
 * (kill_status=1).  With libkt KT_LOG=stderr is set and a report must contain
 * "stale " and REPORT, a format with %s for the PID ("kill(%s,"); the
 * counters of the program's processes named COMM (NULL: a program that never
 * exits normally) must show the child and the refusal.  KEY=VALUE in the
 * result line, when KEY is given, must hold both ways. */
void stale_kill(const char *what, char *const cmd[], const char *report, int status_check,
                const char *comm, const char *key, const char *value);

/* An strace command line for ARGV, with libkt given to the traced program only
 * (strace's -E) when PRELOAD: a trace of kill and pidfd_send_signal into PATH.
 * Only the program's own process is traced (no -f): the kills under test are
 * its own, and one traced process gives no interleaved lines.  PRE holds the
 * LD_PRELOAD string; OUT has room for 32 entries. */
void strace_argv(int preload, const char *path, char *const argv[], char *pre,
                 size_t pre_size, char *out[32]);

/* strace pads the " = result" to a column: make it one space, in place. */
void squeeze_spaces(char *text);

/* 1 if STRACE_ERR says ptrace is not allowed here (a container's seccomp
 * profile, say): the caller then skips. */
int ptrace_denied(const char *strace_err);

/* Runs ARGV under strace (see strace_argv); TRACE gets the trace.  Returns 0
 * when ptrace is not allowed here. */
int traced(int preload, char *const argv[], char *trace, size_t size, int *status);

#endif
