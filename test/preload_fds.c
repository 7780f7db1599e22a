/* SPDX-License-Identifier: MIT */
/* libkt and the program's file descriptors (docs/design.md, held pidfds):
 * the program must not be able to tell libkt is there, so with live
 * children the program sees the same fds, gets the same numbers from open(),
 * can open as many files, and no close-all loop, close_range, closefrom,
 * dup2 or dup3 can turn a kill toward another process.  A child nobody has signalled costs no fd in any mode; a kill
 * keeps a pidfd of its child above the program's numbers, CLOEXEC, budgeted
 * and guarded (test/preload_lazy.c checks those).  Nothing of libkt crosses
 * an exec.
 *
 * The program is test/helpers/fdgames; each test runs it with libkt and,
 * where the claim is "as without libkt", without it too.  The identity mode
 * is set per test, so these tests mean the same in every run of the suite. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <kt.h>

#include "testlib.h"

static char plain[65536], hooked[65536];

static void run(int preload, char *const env[], char *out, size_t n, int merge, const char *a1,
                const char *a2, const char *a3)
{
	char *argv[] = { (char *)kt_test_helper("fdgames"), (char *)a1, (char *)a2, (char *)a3,
	                 NULL };
	int st = kt_test_run(preload, argv, env, out, n, merge, 60);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fdgames %s %s (%s libkt): status 0x%x\n%s",
	              a1, a2 ? a2 : "", preload ? "with" : "without", st, out);
}

/* The value of "KEY=" at the start of a line of OUT ("" if absent). */
static const char *field(const char *out, const char *key, char *buf, size_t n)
{
	size_t k = strlen(key);
	buf[0] = '\0';
	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, key, k) == 0 && p[k] == '=') {
			size_t len = strcspn(p + k + 1, "\n");
			if (len >= n)
				len = n - 1;
			memcpy(buf, p + k + 1, len);
			buf[len] = '\0';
			break;
		}
	}
	return buf;
}


/* Inode mode: 40 live children and not one extra fd, not even in
 * /proc/self/fd, and the next open() gets the number it gets without libkt. */
START_TEST(inode_mode_fds_are_exactly_the_programs)
{
	char *env[] = { "KT_IDENTITY=inode", NULL };
	run(0, env, plain, sizeof plain, 1, "fds", "40", NULL);
	run(1, env, hooked, sizeof hooked, 1, "fds", "40", NULL);
	ck_assert_str_eq(hooked, plain);
	ck_assert_ptr_nonnull(strstr(hooked, "next_open="));
}
END_TEST

/* Tests of what fd mode holds for a signalled child need pidfds; under the
 * seccomp runs there are none to hold (the games tests cover that case). */
#define NEED_PIDFDS()                                                           \
	do {                                                                    \
		if (!kt_test_have_pidfd()) {                                    \
			printf("SKIP: %s: pidfd_open is refused here\n", __func__); \
			return;                                                 \
		}                                                               \
	} while (0)

/* Fd mode holds a pidfd only for a child a kill has proven (test/preload_lazy.c
 * checks where and how many): 40 children never signalled cost the program
 * no fd at all, exactly as in inode mode. */
START_TEST(fd_mode_holds_nothing_for_unsignalled_children)
{
	char *env[] = { "KT_IDENTITY=fd", NULL };
	run(0, env, plain, sizeof plain, 1, "fds", "40", NULL);
	run(1, env, hooked, sizeof hooked, 1, "fds", "40", NULL);
	ck_assert_str_eq(hooked, plain);
	ck_assert_ptr_nonnull(strstr(hooked, "next_open="));
}
END_TEST

/* Under a low RLIMIT_NOFILE the program opens exactly as many files as
 * without libkt (inode mode: nothing held). */
START_TEST(inode_mode_low_nofile_same_capacity)
{
	char *env[] = { "KT_IDENTITY=inode", NULL };
	run(0, env, plain, sizeof plain, 1, "nofile", "48", "30");
	run(1, env, hooked, sizeof hooked, 1, "nofile", "48", "30");
	ck_assert_str_eq(hooked, plain);
}
END_TEST

/* Fd mode too, for children never signalled. */
START_TEST(fd_mode_low_nofile_same_capacity)
{
	char *env[] = { "KT_IDENTITY=fd", NULL };
	run(0, env, plain, sizeof plain, 1, "nofile", "48", "30");
	run(1, env, hooked, sizeof hooked, 1, "nofile", "48", "30");
	ck_assert_str_eq(hooked, plain);
}
END_TEST

/* The close-all loop, close_range, closefrom, dup2/dup3 of a decoy's pidfd
 * over every number: each kill still reaches its own child, which dies of
 * the signal it was sent, and no other process is touched. */
static void games_in(const char *mode, const char *games)
{
	char kv[64], a[64];
	snprintf(kv, sizeof kv, "KT_IDENTITY=%s", mode);
	char *env[] = { kv, NULL };
	run(0, env, plain, sizeof plain, 1, games, "40", NULL);
	ck_assert_msg(strstr(plain, "games=ok\n"), "without libkt: %s", plain);
	run(1, env, hooked, sizeof hooked, 1, games, "40", NULL);
	ck_assert_msg(strstr(hooked, "games=ok\n"), "%s, KT_IDENTITY=%s: %s", games, mode, hooked);
	/* 40 children and the decoy, all through a pidfd (if there are any). */
	const char *k = strstr(hooked, "kills_via_pidfd=");
	ck_assert_msg(k && atoi(k + 16) == (kt_test_have_pidfd() ? 41 : 0), "%s", hooked);
	const char *left = strstr(hooked, "pidfds_left=");
	ck_assert_msg(left && left[12] == '\n', "fds left behind: %s", hooked);
	/* Where glibc has no close_range, the helper finds libkt's with dlsym:
	 * only the run without libkt goes without. */
	ck_assert_msg(!strstr(hooked, "close_range=absent"), "libkt's close_range not found: %s",
	              hooked);
	if (strstr(plain, "close_range=absent"))
		printf("NOTE: without libkt, fd games without close_range/closefrom: this glibc "
		       "has neither (2.34 and later have them)\n");
	(void)a;
}

START_TEST(fd_games_inode_mode)
{
	games_in("inode", "games");
}
END_TEST

START_TEST(fd_games_fd_mode)
{
	games_in("fd", "games");
}
END_TEST

/* The same games through syscall(SYS_close, ...) and its kin: in fd mode a
 * raw close of a held number, then a child's pidfd adopted on it, made a
 * kill reach another child (or fail with EBADF) before syscall() sent these
 * calls through the guards. */
START_TEST(fd_games_raw_syscalls_fd_mode)
{
	games_in("fd", "rawgames");
}
END_TEST

START_TEST(fd_games_raw_syscalls_inode_mode)
{
	games_in("inode", "rawgames");
}
END_TEST

/* Children reaped by the kernel (SIGCHLD ignored) that were never signalled
 * leave nothing held behind; a live one is still killed, stale kills of the
 * others are still refused. */
START_TEST(fd_mode_auto_reaped_children_leave_nothing_held)
{
	NEED_PIDFDS();
	char *env[] = { "KT_IDENTITY=fd", "KT_MAX_FDS=20", NULL };
	char held[8192];
	run(1, env, hooked, sizeof hooked, 1, "autoreap", "20", NULL);
	ck_assert_msg(strstr(hooked, "kill_live=0\n"), "%s", hooked);
	ck_assert_msg(strstr(hooked, "stale_kills_failed=1\n"), "%s", hooked);
	/* The lines are there (an absent one would read as empty too). */
	ck_assert_msg(strstr(hooked, "held_after_autoreap=") &&
	              strstr(hooked, "held_after_next_children="), "%s", hooked);
	ck_assert_str_eq(field(hooked, "held_after_autoreap", held, sizeof held), "");
	ck_assert_str_eq(field(hooked, "held_after_next_children", held, sizeof held), "");
}
END_TEST

/* Exec: the new image has the fds and environment it has without libkt;
 * libkt in it starts clean (no tracked children, zero counters). */
static void exec_in(const char *mode)
{
	char kv[64];
	snprintf(kv, sizeof kv, "KT_IDENTITY=%s", mode);
	char *env[] = { kv, NULL };
	run(0, env, plain, sizeof plain, 0, "exec", "10", NULL);
	run(1, env, hooked, sizeof hooked, 0, "exec", "10", NULL);
	ck_assert_str_eq(hooked, plain);
	run(1, env, hooked, sizeof hooked, 1, "exec", "10", NULL);
	ck_assert_msg(strstr(hooked, "kt tracked=0 kills=0 reaps=0\n"), "%s", hooked);
	ck_assert_msg(!strstr(hooked, "kt pid_state 1") && !strstr(hooked, "kt pid_state 2"), "%s",
	              hooked);
}

START_TEST(exec_leaves_nothing_inode_mode)
{
	exec_in("inode");
}
END_TEST

START_TEST(exec_leaves_nothing_fd_mode)
{
	exec_in("fd");
}
END_TEST

/* A program's first close/dup2/dup3/close_range/closefrom in a vfork child,
 * or in a signal handler, while another thread's dlopen holds the dynamic
 * loader's lock in a constructor that waits for that child or handler
 * (test/helpers/firstfd.c): the same output as without libkt.  A hook that
 * looked the real function up at that moment (dlsym takes the same lock)
 * made the program hang until the timeout killed it.  The handler that
 * interrupts dlopen in the lock's own thread never hung (the lock is
 * recursive); it is checked too, since it is the case a program meets. */
static void first_fd_call(const char *which)
{
	char *argv[] = { (char *)kt_test_helper("firstfd"), (char *)which,
		         (char *)kt_test_helper("libslow_ctor.so"), NULL };
	int st = kt_test_run(0, argv, NULL, plain, sizeof plain, 1, 20);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "firstfd %s without libkt: 0x%x\n%s",
	              which, st, plain);
	if (strncmp(plain, "skip ", 5) == 0) {
		printf("SKIP: %s: %s", which, plain + 5);
		return;
	}
	ck_assert_msg(strstr(plain, "dlopen=ok\n"), "%s", plain);
	st = kt_test_run(1, argv, NULL, hooked, sizeof hooked, 1, 20);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	              "firstfd %s with libkt: status 0x%x (0x9: hung and killed)\n%s", which, st,
	              hooked);
	ck_assert_str_eq(hooked, plain);
}

START_TEST(first_close_in_vfork_child)
{
	first_fd_call("vfork-close");
}
END_TEST

START_TEST(first_dup2_in_vfork_child)
{
	first_fd_call("vfork-dup2");
}
END_TEST

START_TEST(first_dup3_in_vfork_child)
{
	first_fd_call("vfork-dup3");
}
END_TEST

START_TEST(first_close_range_in_vfork_child)
{
	first_fd_call("vfork-close_range");
}
END_TEST

START_TEST(first_closefrom_in_vfork_child)
{
	first_fd_call("vfork-closefrom");
}
END_TEST

/* The same for a first open, under each name libkt hooks (hooks_open.c):
 * every process reaches open, and its first may be a vfork child's
 * redirection before exec, or a handler's. */
static const char *const first_opens[] = {
	"vfork-open",
	"vfork-open64",
	"vfork-openat",
	"vfork-openat64",
	"vfork-__open_2",
	"vfork-__open64_2",
	"vfork-__openat_2",
	"vfork-__openat64_2",
	"handler-same-thread-open",
	"handler-other-thread-open",
	"handler-other-thread-fopen",
	"handler-other-thread-opendir",
};

START_TEST(first_open_in_vfork_child_or_handler)
{
	first_fd_call(first_opens[_i]);
}
END_TEST

START_TEST(first_close_in_handler_interrupting_dlopen)
{
	first_fd_call("handler-same-thread");
}
END_TEST

START_TEST(first_close_in_handler_while_dlopen_waits)
{
	first_fd_call("handler-other-thread");
}
END_TEST

int main(void)
{
	Suite *s = kt_test_preload_suite("fds");
	kt_test_tcase(s, "invisible", 0, inode_mode_fds_are_exactly_the_programs,
	              fd_mode_holds_nothing_for_unsignalled_children,
	              inode_mode_low_nofile_same_capacity, fd_mode_low_nofile_same_capacity);

	kt_test_tcase(s, "games", 0, fd_games_inode_mode, fd_games_fd_mode,
	              fd_games_raw_syscalls_fd_mode, fd_games_raw_syscalls_inode_mode,
	              fd_mode_auto_reaped_children_leave_nothing_held);

	kt_test_tcase(s, "exec", 0, exec_leaves_nothing_inode_mode,
	              exec_leaves_nothing_fd_mode);

	TCase *first = kt_test_tcase(s, "first call", 60, first_close_in_vfork_child,
	                             first_dup2_in_vfork_child, first_dup3_in_vfork_child,
	                             first_close_range_in_vfork_child, first_closefrom_in_vfork_child,
	                             first_close_in_handler_interrupting_dlopen,
	                             first_close_in_handler_while_dlopen_waits);
	tcase_add_loop_test(first, first_open_in_vfork_child_or_handler, 0,
	                    (int)(sizeof first_opens / sizeof first_opens[0]));
	return kt_test_main(s);
}
