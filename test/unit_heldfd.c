/* SPDX-License-Identifier: MIT */
/* Unit tests of the kept pidfds (shim/heldfd.c) with the PID table, linked
 * without any hook: claims, borrows and returns, generations, references
 * against releases, evictions (pending claims are never evicted), guards
 * against adoptions, a forked child's inherited region, and a threaded run
 * (made to be run under ThreadSanitizer too: make check-tsan). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "heldfd.h"
#include "report.h"
#include "table.h"
#include "testlib.h"

/* heldfd.c reports when it cannot keep a pidfd; nothing to report here. */
void kt_report_degraded(enum kt_degraded why, int err)
{
	(void)why;
	(void)err;
}

#define CHILDREN 4
static pid_t child[CHILDREN];

static void start_children(void)
{
	for (int i = 0; i < CHILDREN; i++) {
		child[i] = fork();
		if (child[i] == 0) {
			pause();
			_exit(0);
		}
	}
}

static void end_children(void)
{
	for (int i = 0; i < CHILDREN; i++) {
		kill(child[i], SIGKILL);
		waitpid(child[i], NULL, 0);
	}
}

static int pidfd_of(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static ino_t ino_of(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

/* Keeps a pidfd of child I, settled in a slot of our table that names it;
 * returns its identity. */
static uint64_t keep(int i)
{
	struct kt_slot *s = kt_table_get(child[i]);
	ck_assert_ptr_nonnull(s);
	kt_slot_publish(s, 0, KT_SLOT_LIVE_UNVERIFIED);
	uint64_t w = atomic_load(&s->word);
	int fd = pidfd_of(child[i]);
	ck_assert_int_ge(fd, 0);
	uint64_t id = kt_held_adopt(fd, child[i], 0, 0);
	if (!id)
		return 0;
	int named = atomic_compare_exchange_strong(&s->word, &w, kt_word(id, KT_SLOT_LIVE));
	kt_held_settle(id, named);
	return id;
}

static void setup(void)
{
	kt_held_reset_for_test();
	kt_table_reset_for_test();
	kt_held_configure(-1);
	start_children();
}

static void teardown(void)
{
	end_children();
}

START_TEST(a_kept_pidfd_is_above_the_floor_and_names_the_child)
{
	uint64_t id = keep(0);
	ck_assert(kt_held_is_ident(id));
	struct kt_held_ref ref;
	int fd = kt_held_borrow(id, &ref);
	ck_assert_int_ge(fd, KT_HELD_FLOOR);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	int mine = pidfd_of(child[0]);
	ck_assert_uint_eq(ino_of(fd), ino_of(mine));
	close(mine);
	kt_held_return(&ref);
	ck_assert_int_eq(kt_held_owns(fd), 1);
	ck_assert_int_eq(kt_held_names_live_child(id), 1);
}
END_TEST

START_TEST(a_release_waits_for_the_last_reference)
{
	uint64_t id = keep(0);
	struct kt_held_ref ref;
	int fd = kt_held_borrow(id, &ref);
	kt_held_release(id);
	/* Still open while the kill uses it; no new borrow. */
	ck_assert_int_ge(fcntl(fd, F_GETFD), 0);
	struct kt_held_ref again;
	ck_assert_int_eq(kt_held_borrow(id, &again), -1);
	kt_held_return(&ref);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(kt_held_owns(fd), 0);
	kt_held_release(id); /* idempotent */
}
END_TEST

START_TEST(a_number_kept_again_gets_a_new_generation)
{
	uint64_t a = keep(0);
	kt_held_release(a);
	uint64_t b = keep(1);
	struct kt_held_ref ref;
	int fd = kt_held_borrow(b, &ref);
	ck_assert_int_eq(fd, KT_HELD_FLOOR); /* the same number... */
	kt_held_return(&ref);
	ck_assert_uint_ne(a, b);             /* ...another identity */
	ck_assert_int_eq(kt_held_borrow(a, &ref), -1);
}
END_TEST

START_TEST(a_pending_claim_is_never_evicted)
{
	kt_held_configure(1);
	kt_slot_publish(kt_table_get(child[0]), 0, KT_SLOT_LIVE_UNVERIFIED);
	uint64_t a = kt_held_adopt(pidfd_of(child[0]), child[0], 0, 0);
	ck_assert(a);
	/* Not settled: a second keep finds no room rather than evicting it. */
	kt_slot_publish(kt_table_get(child[1]), 0, KT_SLOT_LIVE_UNVERIFIED);
	ck_assert_uint_eq(kt_held_adopt(pidfd_of(child[1]), child[1], 0, 0), 0);
	struct kt_held_ref ref;
	ck_assert_int_eq(kt_held_borrow(a, &ref), -1); /* nor is it borrowed yet */
	kt_held_settle(a, 1);
	ck_assert_int_eq(kt_held_borrow(a, &ref), KT_HELD_FLOOR);
	kt_held_return(&ref);
	/* Settled, it is the least recently used: the next keep evicts it. */
	uint64_t b = keep(1);
	ck_assert(b);
	ck_assert_int_eq(kt_held_borrow(a, &ref), -1);
}
END_TEST

START_TEST(an_unnamed_claim_is_given_up)
{
	kt_slot_publish(kt_table_get(child[0]), 0, KT_SLOT_LIVE_UNVERIFIED);
	uint64_t a = kt_held_adopt(pidfd_of(child[0]), child[0], 0, 0);
	kt_held_settle(a, 0);
	struct kt_held_ref ref;
	ck_assert_int_eq(kt_held_borrow(a, &ref), -1);
	ck_assert_int_eq(kt_held_owns(KT_HELD_FLOOR), 0);
}
END_TEST

START_TEST(an_eviction_moves_the_fd_and_renames_the_slot)
{
	uint64_t a = keep(0);
	struct kt_slot *s = kt_table_find(child[0]);
	ck_assert_int_eq(kt_held_evict(KT_HELD_FLOOR), 0);
	ck_assert_int_eq(kt_held_owns(KT_HELD_FLOOR), 0);
	uint64_t w = atomic_load(&s->word);
	ck_assert_uint_eq(kt_word_state(w), KT_SLOT_LIVE);
	uint64_t moved = kt_word_ident(w);
	ck_assert_uint_ne(moved, a);
	struct kt_held_ref ref;
	int fd = kt_held_borrow(moved, &ref);
	ck_assert_int_gt(fd, KT_HELD_FLOOR);
	int mine = pidfd_of(child[0]);
	ck_assert_uint_eq(ino_of(fd), ino_of(mine));
	close(mine);
	kt_held_return(&ref);
}
END_TEST

START_TEST(a_guard_during_a_keep_makes_it_give_up)
{
	kt_held_guard_begin();
	ck_assert_uint_eq(keep(0), 0);
	kt_held_guard_end();
	ck_assert(keep(1));
	kt_held_guard_end(); /* an end with none begun takes nothing away */
	ck_assert(keep(2));
}
END_TEST

/* In a forked child the region is its parent's: guarded, but its first keep
 * gives the inherited fds up. */
static int child_region(pid_t other)
{
	if (kt_held_owns(KT_HELD_FLOOR) != 1)
		return 10;
	struct kt_slot *s = kt_table_get(other);
	kt_slot_publish(s, 0, KT_SLOT_LIVE_UNVERIFIED);
	uint64_t w = atomic_load(&s->word);
	uint64_t id = kt_held_adopt(pidfd_of(other), other, 0, 0);
	if (!id)
		return 11;
	kt_held_settle(id, atomic_compare_exchange_strong(&s->word, &w, kt_word(id, KT_SLOT_LIVE)));
	struct kt_held_ref ref;
	int fd = kt_held_borrow(id, &ref);
	/* The inherited fd is gone, so ours took its number. */
	if (fd != KT_HELD_FLOOR)
		return 12;
	int mine = pidfd_of(other);
	int same = ino_of(fd) == ino_of(mine);
	kt_held_return(&ref);
	return same ? 0 : 13;
}

START_TEST(a_forked_child_gives_the_inherited_region_up)
{
	keep(0);
	pid_t p = fork();
	if (p == 0)
		_exit(child_region(child[1]));
	int st;
	waitpid(p, &st, 0);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: %d", WEXITSTATUS(st));
	ck_assert_int_eq(kt_held_owns(KT_HELD_FLOOR), 1); /* ours is untouched */
}
END_TEST

/* Threads borrow, return, release and keep at once: a borrowed fd always
 * names the child its identity was made for. */
#define STRESS_ROUNDS 2000
static uint64_t stress_id[CHILDREN];
static ino_t stress_ino[CHILDREN];
static _Atomic int stress_bad;

static void *stress_borrower(void *arg)
{
	(void)arg;
	for (int r = 0; r < STRESS_ROUNDS; r++) {
		int i = r % CHILDREN;
		struct kt_held_ref ref;
		uint64_t id = __atomic_load_n(&stress_id[i], __ATOMIC_ACQUIRE);
		int fd = kt_held_borrow(id, &ref);
		if (fd >= 0) {
			if (ino_of(fd) != stress_ino[i])
				atomic_fetch_add(&stress_bad, 1);
			kt_held_return(&ref);
		}
	}
	return NULL;
}

static void *stress_keeper(void *arg)
{
	(void)arg;
	for (int r = 0; r < STRESS_ROUNDS / 10; r++) {
		int i = r % CHILDREN;
		uint64_t old = __atomic_load_n(&stress_id[i], __ATOMIC_ACQUIRE);
		uint64_t id = keep(i);
		if (id)
			__atomic_store_n(&stress_id[i], id, __ATOMIC_RELEASE);
		kt_held_release(old);
	}
	return NULL;
}

START_TEST(borrowers_and_keepers_at_once_never_cross_children)
{
	kt_held_configure(2); /* fewer numbers than children: evictions too */
	for (int i = 0; i < CHILDREN; i++) {
		int fd = pidfd_of(child[i]);
		stress_ino[i] = ino_of(fd);
		close(fd);
		stress_id[i] = keep(i);
	}
	pthread_t t[4];
	pthread_create(&t[0], NULL, stress_keeper, NULL);
	for (int i = 1; i < 4; i++)
		pthread_create(&t[i], NULL, stress_borrower, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(atomic_load(&stress_bad), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("heldfd");
	TCase *tc = kt_test_tcase(s, "heldfd", 60,
	                          a_kept_pidfd_is_above_the_floor_and_names_the_child,
	                          a_release_waits_for_the_last_reference,
	                          a_number_kept_again_gets_a_new_generation,
	                          a_pending_claim_is_never_evicted, an_unnamed_claim_is_given_up,
	                          an_eviction_moves_the_fd_and_renames_the_slot,
	                          a_guard_during_a_keep_makes_it_give_up,
	                          a_forked_child_gives_the_inherited_region_up,
	                          borrowers_and_keepers_at_once_never_cross_children);
	tcase_add_checked_fixture(tc, setup, teardown);
	return kt_test_main(s);
}
