/* SPDX-License-Identifier: MIT */
/* Running the PID-reuse scenario helper (test/helpers/reuse.c) from a Check
 * suite and reading its one result line.  Header-only (static functions) so the
 * suites that use it need no extra object in the Makefile's preload rule. */
#ifndef KT_TEST_SCENARIO_H
#define KT_TEST_SCENARIO_H

#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "testlib.h"

/* The shell half of the helper's protocol for a program (reuse -- CMD), once
 * the script has reaped its child $p: report the freed PID on fd 3, wait on
 * fd 4 until the stranger holds it, run KILL (a command using $p) and report
 * its status. */
#define SH_STALE_KILL(kill)                                    \
	"echo \"freed $p\" >&3\n"                               \
	"read -r ready <&4\n"                                    \
	kill "\n"                                                \
	"echo \"result pid=$p kill_status=$?\" >&3\n"

/* The helper's exit status when no PID namespace can be made (see reuse.c). */
#define SCENARIO_NO_PIDNS 77
/* Seconds one helper run may take before kt_test_run kills it; the helper's
 * own alarms fire first, so this only catches a helper that cannot. */
#define SCENARIO_TIMEOUT 15

/* Outcome of one helper run: its output (stdout and stderr merged, so a
 * failure message carries the helper's complaint) and the result line. */
struct scenario {
	char out[8192];
	char line[1024];  /* a copy of the "creation=..." line */
};

/* 1 if the test should go on; 0 after printing the SKIP line the runner counts
 * when this machine cannot make a PID namespace. */
static inline int scenario_possible(const char *what)
{
	const char *why = NULL;
	if (kt_test_can_pidns(&why))
		return 1;
	printf("SKIP: %s: %s\n", what, why ? why : "no PID namespace");
	fflush(stdout);
	return 0;
}

/* Runs ARGV (the reuse helper and its arguments) with or without libkt and
 * ENV added; returns 0 if the scenario could not run for want of a PID
 * namespace (SKIP printed), 1 otherwise.  Fails the test on any other setup
 * failure or a missing result line. */
static inline int scenario_run(struct scenario *s, int preload, char *const argv[],
                               char *const env[], const char *what)
{
	memset(s, 0, sizeof *s);
	int st = kt_test_run(preload, argv, env, s->out, sizeof s->out, 1, SCENARIO_TIMEOUT);
	ck_assert_msg(st != -1, "%s: could not start %s", what, argv[0]);
	if (WIFEXITED(st) && WEXITSTATUS(st) == SCENARIO_NO_PIDNS) {
		printf("SKIP: %s: the helper could not make a PID namespace: %s\n", what, s->out);
		fflush(stdout);
		return 0;
	}
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	              "%s (%s libkt): helper failed, status 0x%x, output:\n%s", what,
	              preload ? "with" : "without", st, s->out);
	/* The result line is the one that starts with creation=; anything else is
	 * the program's own stderr (a shell's error, a libkt report). */
	const char *p = s->out;
	while (p && strncmp(p, "creation=", 9) != 0) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	ck_assert_msg(p != NULL, "%s (%s libkt): no result line in:\n%s", what,
	              preload ? "with" : "without", s->out);
	size_t n = strcspn(p, "\n");
	if (n >= sizeof s->line)
		n = sizeof s->line - 1;
	memcpy(s->line, p, n);
	s->line[n] = '\0';
	return 1;
}

/* The value of " KEY=" in the result line, copied into BUF ("" when absent). */
static inline const char *scenario_field(const struct scenario *s, const char *key,
                                         char *buf, size_t size)
{
	char pat[64];
	snprintf(pat, sizeof pat, " %s=", key);
	buf[0] = '\0';
	const char *p = strstr(s->line, pat);
	if (!p)
		return buf;
	p += strlen(pat);
	size_t n = strcspn(p, " ");
	if (n >= size)
		n = size - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

/* ck_assert that KEY has value WANT, showing the whole line (and the helper's
 * other output) when not. */
#define scenario_expect(s, key, want, what, preload)                                  \
	do {                                                                          \
		char v_[128];                                                         \
		scenario_field((s), (key), v_, sizeof v_);                            \
		ck_assert_msg(strcmp(v_, (want)) == 0,                                \
		              "%s (%s libkt): %s=%s, expected %s\nresult: %s\noutput:\n%s", \
		              (what), (preload) ? "with" : "without", (key), v_, (want),  \
		              (s)->line, (s)->out);                                   \
	} while (0)

/* The verdict of a --creation run without libkt: the stale kill succeeded
 * and killed the stranger, which proves the number really was reused. */
static inline void scenario_expect_stranger_killed(const struct scenario *s, const char *what)
{
	scenario_expect(s, "kill_ret", "0", what, 0);
	scenario_expect(s, "kill_errno", "0", what, 0);
	scenario_expect(s, "stranger", "killed", what, 0);
}

/* The verdict with libkt: the child was registered at birth, the stale kill
 * was refused with ESRCH and nothing was sent, and if a wait hook saw the reap
 * (HOOKED_REAP) libkt knows the child is reaped.  Under SIGCHLD=SIG_IGN the
 * kernel may reap the child before the helper asks, and libkt may already
 * know that: then "reaped" at birth is right too. */
static inline void scenario_expect_refused(const struct scenario *s, const char *what,
                                           int hooked_reap)
{
	char born[32];
	scenario_field(s, "kt_born", born, sizeof born);
	if (hooked_reap || strcmp(born, "reaped") != 0)
		scenario_expect(s, "kt_born", "live", what, 1);
	scenario_expect(s, "kill_ret", "-1", what, 1);
	scenario_expect(s, "kill_errno", "ESRCH", what, 1);
	scenario_expect(s, "stranger", "alive", what, 1);
	if (hooked_reap)
		scenario_expect(s, "kt_state", "reaped", what, 1);
}

/* ck_assert that a line of the helper's output other than the result line
 * (a libkt report) says "stale" (in any case) and names the result line's
 * pid as a whole number. */
static inline void scenario_expect_stale_report(const struct scenario *s, const char *what)
{
	char pid[32];
	scenario_field(s, "pid", pid, sizeof pid);
	ck_assert_msg(pid[0] != '\0', "%s: no pid in the result line: %s", what, s->line);
	size_t plen = strlen(pid);
	for (const char *line = s->out; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[1024];
		if (len >= sizeof buf)
			len = sizeof buf - 1;
		memcpy(buf, line, len);
		buf[len] = '\0';
		if (strncmp(buf, "creation=", 9) != 0 && strcasestr(buf, "stale"))
			for (const char *p = strstr(buf, pid); p; p = strstr(p + 1, pid))
				if ((p == buf || !isdigit((unsigned char)p[-1])) &&
				    !isdigit((unsigned char)p[plen]))
					return;
		line = end ? end + 1 : NULL;
	}
	ck_assert_msg(0, "%s (with libkt): no line mentions \"stale\" and pid %s; output:\n%s",
	              what, pid, s->out);
}

/* The stale-kill scenario for a real program: CMD (CMD[0] a path) speaks the
 * helper's protocol on fds 3 and 4 (test/helpers/reuse.c, "reuse -- CMD") and
 * kills the PID it reaped after the stranger took it.  Both halves: without
 * libkt the program's kill succeeds (kill_status=0) and the stranger dies;
 * with libkt (the default mode, enforce) the kill fails (kill_status=1) and
 * the stranger lives.  Returns 1 with S holding the run with libkt, or 0 after
 * a SKIP line (no PID namespace here, or CMD[0] not installed). */
static inline int scenario_program_stale_kill(struct scenario *s, char *const cmd[],
                                              const char *what)
{
	if (!scenario_possible(what) || !kt_test_installed(cmd[0], what))
		return 0;
	char *argv[24] = { (char *)kt_test_helper("reuse"), "--" };
	int n = 2;
	for (int i = 0; cmd[i] && n < 23; i++)
		argv[n++] = cmd[i];
	argv[n] = NULL;

	if (!scenario_run(s, 0, argv, NULL, what))
		return 0;
	scenario_expect(s, "kill_status", "0", what, 0);
	scenario_expect(s, "stranger", "killed", what, 0);

	if (!scenario_run(s, 1, argv, NULL, what))
		return 0;
	scenario_expect(s, "kill_status", "1", what, 1);
	scenario_expect(s, "stranger", "alive", what, 1);
	return 1;
}

#endif
