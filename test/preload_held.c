/* SPDX-License-Identifier: MIT */
/* The kept pidfds under concurrency (test/helpers/heldrace.c): each case is
 * one interleaving of a kill that keeps or uses a pidfd with a vfork child,
 * another thread, a fork or an fd guard, the window held open from outside
 * with strace's delay injection where nothing else can.  Every verdict is by
 * outcome: who got the signal, what dup2 and close answered, which fds the
 * program still has. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kt.h>

#include "testlib.h"

#define STRACE "/usr/bin/strace"
#define DELAY "400000"

static char max_fds_kv[64];

/* This run's identity mode, and KT_MAX_FDS when MAX_FDS is set. */
static char **run_env(const char *max_fds)
{
	if (max_fds)
		snprintf(max_fds_kv, sizeof max_fds_kv, "KT_MAX_FDS=%s", max_fds);
	return kt_test_identity_env(max_fds ? max_fds_kv : NULL);
}

/* 1 if this run keeps pidfds at all (else a SKIP line): without pidfds, or
 * under KT_IDENTITY=none, nothing is kept and none of these can happen. */
static int keeps_pidfds(const char *what)
{
	if (!kt_test_have_pidfd() || kt_test_identity() == KT_IDENTITY_NONE) {
		printf("SKIP: %s: no pidfd is kept in this run\n", what);
		return 0;
	}
	return 1;
}

/* The sanitizer runtimes define vfork themselves: libkt's trampoline, which
 * is how libkt knows a vfork child, is not reached. */
static int vfork_is_libkts(const char *what)
{
	if (getenv("KT_SANITIZER")) {
		printf("SKIP: %s: the sanitizer runtime takes vfork over\n", what);
		return 0;
	}
	return 1;
}

/* Runs heldrace CASE with or without libkt, under strace holding INJECT's
 * system call when INJECT is set; returns the "case=" line. */
static const char *heldrace(int preload, const char *name, const char *trace,
                            const char *inject, const char *max_fds, char *out, size_t size)
{
	char pre[4200], tr[64];
	char *argv[16];
	int n = 0;
	if (inject) {
		snprintf(tr, sizeof tr, "trace=%s", trace);
		n = kt_test_strace_argv(argv, tr, inject);
		if (preload) {
			/* libkt for the program only, not for strace. */
			snprintf(pre, sizeof pre, "LD_PRELOAD=%s", kt_test_lib());
			argv[n++] = "-E";
			argv[n++] = pre;
		}
	}
	argv[n++] = (char *)kt_test_helper("heldrace");
	argv[n++] = (char *)name;
	argv[n] = NULL;
	int st = kt_test_run(inject ? 0 : preload, argv, run_env(max_fds), out, size, 1, 90);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "heldrace %s (%s libkt): 0x%x\n%s",
	              name, preload ? "with" : "without", st, out);
	const char *line = strstr(out, "case=");
	ck_assert_msg(line, "heldrace %s: no result in:\n%s", name, out);
	return line;
}

static void expect(const char *line, const char *kv, const char *what)
{
	char want[96];
	snprintf(want, sizeof want, "%s", kv);
	size_t len = strlen(want);
	const char *p = line;
	while ((p = strstr(p, want)) && p[len] && p[len] != ' ' && p[len] != '\n')
		p += len;
	ck_assert_msg(p != NULL, "%s: expected %s in:\n%s", what, kv, line);
}

/* A vfork child signals Y after another thread kept Y's pidfd, at the
 * number X's had (KT_MAX_FDS=1: X's was evicted) or at a new one: the vfork
 * child's fd table is its own copy, made when it was born, so it must not
 * send through the parent's records of it. */
static void vfork_after_keep(const char *max_fds)
{
	const char *what = max_fds ? "a vfork child's kill after an eviction"
	                           : "a vfork child's kill of a pidfd kept after its birth";
	if (!keeps_pidfds(what) || !vfork_is_libkts(what))
		return;
	char out[4096];
	const char *line = heldrace(1, "vfork_after_keep", NULL, NULL, max_fds, out, sizeof out);
	expect(line, "ret=0", what);
	expect(line, "x_got=0", what);
	expect(line, "y_got=1", what);
	line = heldrace(0, "vfork_after_keep", NULL, NULL, max_fds, out, sizeof out);
	expect(line, "y_got=1", what);
}

START_TEST(a_vfork_child_never_sends_through_a_number_reused_since_its_birth)
{
	vfork_after_keep("1");
}
END_TEST

START_TEST(a_vfork_child_reaches_a_child_whose_pidfd_was_kept_after_its_birth)
{
	vfork_after_keep(NULL);
}
END_TEST

/* A vfork child's own child on a number its parent's table tombstoned: the
 * vfork child asks waitid, which answers about its own children. */
START_TEST(a_vfork_childs_own_child_on_a_tombstoned_number_gets_the_signal)
{
	const char *what = "a vfork child's kill of its own child on a tombstoned number";
	const char *why = NULL;
	if (!kt_test_can_pidns(&why)) {
		printf("SKIP: %s: %s\n", what, why);
		return;
	}
	if (!vfork_is_libkts(what))
		return;
	char out[4096];
	const char *line = heldrace(1, "vfork_own_child", NULL, NULL, NULL, out, sizeof out);
	expect(line, "ret=0", what);
	expect(line, "child_killed=1", what);
}
END_TEST

static int strace_here(const char *what)
{
	return kt_test_installed(STRACE, what) && keeps_pidfds(what);
}

/* The program dup2s its own pidfd of a decoy onto 256 while a kill in
 * another thread is between placing its pidfd there and claiming it. */
START_TEST(a_dup2_onto_a_number_being_kept_wins_over_the_keeping)
{
	const char *what = "dup2 onto the number a kill is keeping";
	if (!strace_here(what))
		return;
	char out[4096];
	const char *line = heldrace(1, "guard_during_adoption", "fcntl",
	                            "inject=fcntl:delay_exit=" DELAY, NULL, out, sizeof out);
	expect(line, "dup2=256", what);
	expect(line, "kill=0", what);
	expect(line, "x_got=1", what);
	expect(line, "decoy_got=0", what);
	expect(line, "close=0", what); /* 256 is the program's */
}
END_TEST

/* The program dup2s a file onto 256 while a reap in another thread is
 * closing the pidfd kept there: the program's file must not be closed
 * under it (dup2 may answer EBUSY instead). */
START_TEST(a_dup2_onto_a_number_being_closed_keeps_the_programs_file)
{
	const char *what = "dup2 onto the number a reap is closing";
	if (!strace_here(what))
		return;
	char out[4096];
	const char *line = heldrace(1, "dup2_during_close", "close",
	                            "inject=close:delay_enter=" DELAY, NULL, out, sizeof out);
	if (strstr(line, "dup2=EBUSY"))
		return;
	expect(line, "dup2=256", what);
	expect(line, "ours_at_256=1", what);
}
END_TEST

/* A fork while another thread holds a reference on a kept pidfd (inside
 * pidfd_send_signal), or is inside a guard: the child can dup2 onto the
 * inherited number, and keeps one pidfd for a child of its own signalled
 * five times (not one per kill, each given up). */
static void fork_during(const char *name, const char *trace, const char *inject,
                        const char *what)
{
	if (!strace_here(what))
		return;
	char out[4096];
	const char *line = heldrace(1, name, trace, inject, NULL, out, sizeof out);
	expect(line, "dup2=256", what);
	expect(line, "child_pidfds=1", what);
}

START_TEST(a_child_forked_during_a_send_inherits_no_reference)
{
	fork_during("fork_during_send", "pidfd_send_signal",
	            "inject=pidfd_send_signal:delay_enter=" DELAY,
	            "fork while a thread sends through a kept pidfd");
}
END_TEST

START_TEST(a_child_forked_during_a_guard_keeps_its_own_pidfds)
{
	fork_during("fork_during_guard", "close", "inject=close:delay_enter=300000",
	            "fork while a thread is inside close() of a high number");
}
END_TEST

int main(void)
{
	Suite *s = kt_test_preload_suite("held");
	kt_test_tcase(s, "interleavings", 120,
	              a_vfork_child_never_sends_through_a_number_reused_since_its_birth,
	              a_vfork_child_reaches_a_child_whose_pidfd_was_kept_after_its_birth,
	              a_vfork_childs_own_child_on_a_tombstoned_number_gets_the_signal,
	              a_dup2_onto_a_number_being_kept_wins_over_the_keeping,
	              a_dup2_onto_a_number_being_closed_keeps_the_programs_file,
	              a_child_forked_during_a_send_inherits_no_reference,
	              a_child_forked_during_a_guard_keeps_its_own_pidfds);
	return kt_test_main(s);
}
