/* SPDX-License-Identifier: MIT */
/* Unit tests of the PID table (shim/table.c), linked without any hook. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "table.h"
#include "testlib.h"

static void setup(void) { kt_table_reset_for_test(); }

START_TEST(empty_table_finds_nothing_and_allocates_nothing)
{
	ck_assert_ptr_null(kt_table_find(1234));
	ck_assert_ptr_null(kt_table_info(1234));
	ck_assert_uint_eq(kt_table_bytes(), 0);
}
END_TEST

START_TEST(out_of_range_pids_have_no_slot)
{
	ck_assert_ptr_null(kt_table_get(0));
	ck_assert_ptr_null(kt_table_get(-1));
	ck_assert_ptr_null(kt_table_get((pid_t)KT_PID_LIMIT));
	ck_assert_ptr_null(kt_table_get(0x7fffffff));
	ck_assert_ptr_nonnull(kt_table_get((pid_t)KT_PID_LIMIT - 1));
}
END_TEST

START_TEST(memory_grows_with_the_pids_used)
{
	kt_table_get(100);
	size_t one = kt_table_bytes();
	ck_assert_uint_gt(one, 0);
	kt_table_get(101); /* same chunk */
	ck_assert_uint_eq(kt_table_bytes(), one);
	kt_table_get(100 + KT_CHUNK_PIDS); /* next chunk */
	ck_assert_uint_eq(kt_table_bytes(), 2 * one);
	/* A chunk is address space for 65536 PIDs, not a table for pid_max. */
	ck_assert_uint_eq(one, KT_CHUNK_PIDS * sizeof(struct kt_entry));
}
END_TEST

START_TEST(publish_live_then_retire)
{
	struct kt_slot *s = kt_table_get(42);
	ck_assert_uint_eq(kt_word_state(atomic_load(&s->word)), KT_SLOT_EMPTY);
	kt_slot_publish(s, 987654321, KT_SLOT_LIVE);
	uint64_t w = atomic_load(&s->word);
	ck_assert_uint_eq(kt_word_state(w), KT_SLOT_LIVE);
	ck_assert_uint_eq(kt_word_ident(w), 987654321);
	ck_assert_int_eq(kt_slot_retire(s, w), 1);
	uint64_t r = atomic_load(&s->word);
	ck_assert_uint_eq(kt_word_state(r), KT_SLOT_REAPED);
	ck_assert_uint_eq(kt_word_ident(r), 987654321);
	/* Retiring twice, or from a stale word, changes nothing. */
	ck_assert_int_eq(kt_slot_retire(s, w), 0);
	ck_assert_int_eq(kt_slot_retire(s, r), 0);
}
END_TEST

START_TEST(unverified_registrations_are_distinct)
{
	struct kt_slot *s = kt_table_get(43);
	kt_slot_publish(s, 5, KT_SLOT_LIVE_UNVERIFIED);
	uint64_t a = atomic_load(&s->word);
	kt_slot_publish(s, 5, KT_SLOT_LIVE_UNVERIFIED);
	uint64_t b = atomic_load(&s->word);
	ck_assert_uint_eq(kt_word_state(b), KT_SLOT_LIVE_UNVERIFIED);
	/* The identity is the registration number, not the caller's value. */
	ck_assert_uint_ne(kt_word_ident(a), kt_word_ident(b));
	/* So a retire computed from the first registration cannot hit the second. */
	ck_assert_int_eq(kt_slot_retire(s, a), 0);
	ck_assert_uint_eq(kt_word_state(atomic_load(&s->word)), KT_SLOT_LIVE_UNVERIFIED);
}
END_TEST

START_TEST(tombstone_does_not_overwrite_a_newer_registration)
{
	struct kt_slot *s = kt_table_get(44);
	uint64_t before = atomic_load(&s->word);
	kt_slot_publish(s, 777, KT_SLOT_LIVE); /* another thread's fork got the PID */
	kt_slot_publish_tombstone(s, before);
	ck_assert_uint_eq(kt_word_state(atomic_load(&s->word)), KT_SLOT_LIVE);
	ck_assert_uint_eq(kt_word_ident(atomic_load(&s->word)), 777);

	before = atomic_load(&s->word);
	kt_slot_publish_tombstone(s, before);
	ck_assert_uint_eq(kt_word_state(atomic_load(&s->word)), KT_SLOT_REAPED);
}
END_TEST

static int holder_answer;
static int holder_calls;
static int fake_holder_is(pid_t pid, uint64_t word)
{
	(void)pid;
	(void)word;
	holder_calls++;
	return holder_answer;
}

START_TEST(reap_of_a_child_registered_before_the_wait_marks_without_asking)
{
	struct kt_slot *s = kt_table_get(45);
	kt_slot_publish(s, 1000, KT_SLOT_LIVE);
	uint64_t seq = kt_table_last_seq(); /* the wait starts after registration */
	holder_calls = 0;
	holder_answer = 1;
	ck_assert_int_eq(kt_slot_mark_reaped(s, 45, seq, fake_holder_is), 1);
	ck_assert_int_eq(holder_calls, 0);
	ck_assert_uint_eq(kt_word_state(atomic_load(&s->word)), KT_SLOT_REAPED);
}
END_TEST

START_TEST(reap_racing_a_new_registration_asks_the_identity)
{
	struct kt_slot *s = kt_table_get(46);
	uint64_t seq = kt_table_last_seq(); /* the wait starts first */
	kt_slot_publish(s, 2000, KT_SLOT_LIVE); /* then a child is registered */

	/* The registered process still holds the PID: it is not the one reaped. */
	holder_calls = 0;
	holder_answer = 1;
	ck_assert_int_eq(kt_slot_mark_reaped(s, 46, seq, fake_holder_is), 0);
	ck_assert_int_eq(holder_calls, 1);
	ck_assert_uint_eq(kt_word_state(atomic_load(&s->word)), KT_SLOT_LIVE);

	/* It does not: it is the child this wait reaped. */
	holder_answer = 0;
	ck_assert_int_eq(kt_slot_mark_reaped(s, 46, seq, fake_holder_is), 1);
	ck_assert_uint_eq(kt_word_state(atomic_load(&s->word)), KT_SLOT_REAPED);
}
END_TEST

/* A child registered without an identity (taken lazily) is asked about
 * too: the holder check then looks at whose child holds the number. */
START_TEST(reap_racing_an_unverified_registration_asks_too)
{
	struct kt_slot *s = kt_table_get(47);
	uint64_t seq = kt_table_last_seq();
	kt_slot_publish(s, 0, KT_SLOT_LIVE_UNVERIFIED);
	holder_calls = 0;
	holder_answer = 1;
	ck_assert_int_eq(kt_slot_mark_reaped(s, 47, seq, fake_holder_is), 0);
	ck_assert_int_eq(holder_calls, 1);
	ck_assert_uint_eq(kt_word_state(atomic_load(&s->word)), KT_SLOT_LIVE_UNVERIFIED);
	holder_answer = 0;
	ck_assert_int_eq(kt_slot_mark_reaped(s, 47, seq, fake_holder_is), 1);
	ck_assert_uint_eq(kt_word_state(atomic_load(&s->word)), KT_SLOT_REAPED);
}
END_TEST

START_TEST(reap_of_empty_or_reaped_slot_is_a_no_op)
{
	struct kt_slot *s = kt_table_get(48);
	ck_assert_int_eq(kt_slot_mark_reaped(s, 48, 0, NULL), 0);
	ck_assert_uint_eq(atomic_load(&s->word), 0);
	kt_slot_publish(s, 9, KT_SLOT_LIVE);
	ck_assert_int_eq(kt_slot_mark_reaped(s, 48, kt_table_last_seq(), NULL), 1);
	uint64_t w = atomic_load(&s->word);
	ck_assert_int_eq(kt_slot_mark_reaped(s, 48, kt_table_last_seq(), NULL), 0);
	ck_assert_uint_eq(atomic_load(&s->word), w);
}
END_TEST

/* Many threads creating chunks at once: every slot pointer must be stable and
 * the byte count exact (a lost CAS race must unmap, not leak or double-count). */
#define RACE_THREADS 8
static pthread_barrier_t race_barrier;
static struct kt_slot *race_result[RACE_THREADS][64];

static void *race_chunk_creation(void *arg)
{
	long t = (long)arg;
	pthread_barrier_wait(&race_barrier);
	for (int i = 0; i < 64; i++)
		race_result[t][i] = kt_table_get(1 + i * (int)KT_CHUNK_PIDS);
	return NULL;
}

START_TEST(concurrent_chunk_creation_agrees)
{
	pthread_t th[RACE_THREADS];
	pthread_barrier_init(&race_barrier, NULL, RACE_THREADS);
	for (long t = 0; t < RACE_THREADS; t++)
		pthread_create(&th[t], NULL, race_chunk_creation, (void *)t);
	for (int t = 0; t < RACE_THREADS; t++)
		pthread_join(th[t], NULL);
	for (int i = 0; i < 64; i++)
		for (int t = 1; t < RACE_THREADS; t++)
			ck_assert_ptr_eq(race_result[t][i], race_result[0][i]);
	kt_table_reset_for_test();
	kt_table_get(1);
	size_t chunk = kt_table_bytes();
	kt_table_reset_for_test();
	for (int i = 0; i < 64; i++)
		kt_table_get(1 + i * (int)KT_CHUNK_PIDS);
	ck_assert_uint_eq(kt_table_bytes(), 64 * chunk);
	pthread_barrier_destroy(&race_barrier);
}
END_TEST


/* What a descendant forked at a mark may know (table.h): registrations up to
 * the mark, and for a number registered again since, the one it replaced. */
START_TEST(entries_registered_after_the_fork_mark_are_invisible)
{
	struct kt_slot *s = kt_table_get(10);
	kt_slot_publish(s, 0, KT_SLOT_LIVE_UNVERIFIED);
	kt_table_before_fork();
	const struct kt_table_head *h = atomic_load(&kt_fork_mark.head);
	uint64_t mark = atomic_load(&kt_fork_mark.seq);
	ck_assert_ptr_eq(h, atomic_load(&kt_table_nearest));
	ck_assert_uint_eq(mark, kt_table_last_seq());
	kt_slot_publish(kt_table_get(11), 0, KT_SLOT_LIVE_UNVERIFIED);

	struct kt_seen seen;
	ck_assert_int_eq(kt_table_entry_seen(h, mark, 10, &seen), 1);
	ck_assert_int_eq(seen.before, 0);
	ck_assert_uint_eq(seen.word, atomic_load(&s->word));
	ck_assert_int_eq(kt_table_entry_seen(h, mark, 11, &seen), 0);
	ck_assert_int_eq(kt_table_entry_seen(h, kt_table_last_seq(), 11, &seen), 1);
	ck_assert_int_eq(kt_table_entry_seen(h, mark, 12, &seen), 0); /* never registered */
	ck_assert_int_eq(kt_table_entry_seen(h, 0, 10, &seen), 0);    /* no mark: nothing */
}
END_TEST

START_TEST(a_number_registered_again_shows_what_was_known)
{
	struct kt_slot *s = kt_table_get(12);
	kt_slot_publish(s, 0, KT_SLOT_LIVE_UNVERIFIED);
	uint64_t first = atomic_load(&s->word);
	kt_table_before_fork();
	uint64_t mark = atomic_load(&kt_fork_mark.seq);
	const struct kt_table_head *h = atomic_load(&kt_fork_mark.head);
	/* After the fork: the child is reaped, and a new one gets its number. */
	ck_assert_int_eq(kt_slot_retire(s, first), 1);
	uint64_t tomb = atomic_load(&s->word);
	kt_slot_publish(s, 0, KT_SLOT_LIVE_UNVERIFIED);

	struct kt_seen seen;
	ck_assert_int_eq(kt_table_entry_seen(h, mark, 12, &seen), 1);
	ck_assert_int_eq(seen.before, 1);
	ck_assert_uint_eq(seen.word, tomb);
	/* A descendant forked after the new registration sees that one. */
	ck_assert_int_eq(kt_table_entry_seen(h, kt_table_last_seq(), 12, &seen), 1);
	ck_assert_int_eq(seen.before, 0);
	ck_assert_uint_eq(seen.word, atomic_load(&s->word));
}
END_TEST

START_TEST(a_chunk_made_after_the_fork_mark_is_not_read)
{
	kt_slot_publish(kt_table_get(13), 0, KT_SLOT_LIVE_UNVERIFIED);
	kt_table_before_fork();
	uint64_t mark = atomic_load(&kt_fork_mark.seq);
	const struct kt_table_head *h = atomic_load(&kt_fork_mark.head);
	pid_t far = 13 + 3 * (pid_t)KT_CHUNK_PIDS;
	kt_slot_publish(kt_table_get(far), 0, KT_SLOT_LIVE_UNVERIFIED);
	struct kt_seen seen;
	ck_assert_int_eq(kt_table_entry_seen(h, mark, far, &seen), 0);
	ck_assert_int_eq(kt_table_entry_seen(h, kt_table_last_seq(), far, &seen), 1);
}
END_TEST

/* A forked child owns no table: it reads its parent's, and its first
 * registration makes its own above it, with the parent's mark. */
static int child_view(const struct kt_table_head *parent, uint64_t mark, pid_t self)
{
	if (kt_table_find(14) != NULL)
		return 10; /* the parent's table must not be ours to write */
	if (atomic_load(&kt_table_nearest) != parent || kt_table_last_seq() != 0)
		return 11;
	if (atomic_load(&kt_fork_mark.head) != parent || atomic_load(&kt_fork_mark.seq) != mark)
		return 12;
	struct kt_slot *mine = kt_table_get(15);
	if (!mine)
		return 13;
	kt_slot_publish(mine, 0, KT_SLOT_LIVE_UNVERIFIED);
	const struct kt_table_head *h = atomic_load(&kt_table_nearest);
	if (h == parent || !kt_table_owned(h))
		return 14;
	if (h->parent != parent || h->parent_fork_seq != mark || h->owner_pid != self ||
	    h->depth != parent->depth + 1)
		return 15;
	struct kt_seen seen;
	if (kt_table_entry_seen(h->parent, h->parent_fork_seq, 14, &seen) != 1)
		return 16;
	return 0;
}

START_TEST(a_forked_child_reads_its_parents_table_and_makes_its_own)
{
	kt_slot_publish(kt_table_get(14), 0, KT_SLOT_LIVE_UNVERIFIED);
	kt_table_before_fork();
	const struct kt_table_head *h = atomic_load(&kt_fork_mark.head);
	uint64_t mark = atomic_load(&kt_fork_mark.seq);
	pid_t p = fork();
	if (p == 0)
		_exit(child_view(h, mark, getpid()));
	int st;
	ck_assert_int_eq(waitpid(p, &st, 0), p);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child's view: %d", WEXITSTATUS(st));
	/* The child's registration went into its own table, not ours. */
	struct kt_slot *s = kt_table_find(15);
	ck_assert(!s || kt_word_state(atomic_load(&s->word)) == KT_SLOT_EMPTY);
	ck_assert_ptr_eq(atomic_load(&kt_table_nearest), h);
	ck_assert(kt_table_owned(h));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("table");
	TCase *tc = kt_test_tcase(s, "table", 0,
	                          empty_table_finds_nothing_and_allocates_nothing,
	                          out_of_range_pids_have_no_slot,
	                          memory_grows_with_the_pids_used, publish_live_then_retire,
	                          unverified_registrations_are_distinct,
	                          tombstone_does_not_overwrite_a_newer_registration,
	                          reap_of_a_child_registered_before_the_wait_marks_without_asking,
	                          reap_racing_a_new_registration_asks_the_identity,
	                          reap_racing_an_unverified_registration_asks_too,
	                          reap_of_empty_or_reaped_slot_is_a_no_op,
	                          concurrent_chunk_creation_agrees,
	                          entries_registered_after_the_fork_mark_are_invisible,
	                          a_number_registered_again_shows_what_was_known,
	                          a_chunk_made_after_the_fork_mark_is_not_read,
	                          a_forked_child_reads_its_parents_table_and_makes_its_own);
	tcase_add_checked_fixture(tc, setup, NULL);
	return kt_test_main(s);
}
