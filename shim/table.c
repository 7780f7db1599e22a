/* The PID table: layout and concurrency rules are in table.h. */
#include "table.h"

#include "hot.h"

#include <sys/mman.h>

/* A PID's slot and its report facts side by side, padded to one cache line,
 * so a registration (and a reap) writes one page of the leaf, not two.  Right
 * after fork() every page the parent writes is a copy-on-write fault while
 * the child lives; with the slots and the facts in separate arrays each
 * registration would pay two page copies.  The kill path still reads one
 * cache line. */
struct kt_entry {
	struct kt_slot slot;
	struct kt_slot_info info;
} __attribute__((aligned(64)));

struct kt_leaf {
	struct kt_entry entry[KT_LEAF_PIDS];
};

_Static_assert(sizeof(struct kt_entry) == 64, "a PID's entry is one cache line");

#define KT_TOP_ENTRIES (KT_PID_LIMIT >> KT_LEAF_BITS)
#define KT_TOP_BYTES (KT_TOP_ENTRIES * sizeof(struct kt_leaf *))

/* The top array (128 KiB of leaf pointers) is mmap()ed by the first
 * registration, not kept in .bss: a .bss that large makes the dynamic
 * loader map an extra anonymous region at every process start (one more
 * mmap, one more VMA for every later fork and exit to copy and tear down).
 * Untouched, its pages cost nothing. */
/* Every registration writes kt_seq: beside the counters (hot.h). */
static struct kt_leaf *_Atomic *_Atomic kt_top KT_FORK_DATA;
static _Atomic uint64_t kt_seq KT_FORK_DATA;
static _Atomic size_t kt_bytes KT_FORK_DATA;

/* mmap, not malloc: we may be inside a signal handler or a vfork-shared
 * address space, and the memory starts zeroed (NULL leaves, EMPTY slots). */
static void *zeroed_pages(size_t n)
{
	void *mem = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return mem == MAP_FAILED ? NULL : mem;
}

static KT_CHILD_PATH struct kt_leaf *_Atomic *top_array(int create)
{
	struct kt_leaf *_Atomic *top = atomic_load_explicit(&kt_top, memory_order_acquire);
	if (top || !create)
		return top;
	struct kt_leaf *_Atomic *mem = zeroed_pages(KT_TOP_BYTES);
	if (!mem)
		return NULL;
	if (atomic_compare_exchange_strong_explicit(&kt_top, &top, mem, memory_order_acq_rel,
	                                            memory_order_acquire))
		return mem;
	munmap((void *)mem, KT_TOP_BYTES); /* someone else installed theirs first */
	return top;
}

static KT_CHILD_PATH struct kt_leaf *leaf_for(pid_t pid, int create)
{
	if (pid <= 0 || (uint32_t)pid >= KT_PID_LIMIT)
		return NULL;
	struct kt_leaf *_Atomic *top = top_array(create);
	if (!top)
		return NULL;
	struct kt_leaf *_Atomic *ref = &top[(uint32_t)pid >> KT_LEAF_BITS];
	struct kt_leaf *leaf = atomic_load_explicit(ref, memory_order_acquire);
	if (leaf || !create)
		return leaf;

	void *mem = zeroed_pages(sizeof(struct kt_leaf));
	if (!mem)
		return NULL;
	struct kt_leaf *expected = NULL;
	if (atomic_compare_exchange_strong_explicit(ref, &expected, (struct kt_leaf *)mem,
	                                            memory_order_acq_rel,
	                                            memory_order_acquire)) {
		atomic_fetch_add_explicit(&kt_bytes, sizeof(struct kt_leaf), memory_order_relaxed);
		return mem;
	}
	/* Another thread (or a signal handler that interrupted us) won the race. */
	munmap(mem, sizeof(struct kt_leaf));
	return expected;
}

KT_CHILD_PATH struct kt_slot *kt_table_find(pid_t pid)
{
	struct kt_leaf *leaf = leaf_for(pid, 0);
	return leaf ? &leaf->entry[(uint32_t)pid & (KT_LEAF_PIDS - 1)].slot : NULL;
}

struct kt_slot *kt_table_get(pid_t pid)
{
	struct kt_leaf *leaf = leaf_for(pid, 1);
	return leaf ? &leaf->entry[(uint32_t)pid & (KT_LEAF_PIDS - 1)].slot : NULL;
}

struct kt_slot_info *kt_table_info(pid_t pid)
{
	struct kt_leaf *leaf = leaf_for(pid, 0);
	return leaf ? &leaf->entry[(uint32_t)pid & (KT_LEAF_PIDS - 1)].info : NULL;
}

uint64_t kt_table_next_seq(void)
{
	return atomic_fetch_add_explicit(&kt_seq, 1, memory_order_acq_rel) + 1;
}

KT_CHILD_PATH uint64_t kt_table_last_seq(void)
{
	return atomic_load_explicit(&kt_seq, memory_order_acquire);
}

void kt_slot_publish(struct kt_slot *s, uint64_t ident, unsigned state)
{
	uint64_t seq = kt_table_next_seq();
	if (state != KT_SLOT_LIVE)
		ident = seq;
	/* reg_seq first, word last with release: a reader that sees the new word
	 * also sees its registration number (see kt_slot_mark_reaped). */
	atomic_store_explicit(&s->reg_seq, seq, memory_order_relaxed);
	atomic_store_explicit(&s->word, kt_word(ident, state), memory_order_release);
}

void kt_slot_publish_tombstone(struct kt_slot *s, uint64_t expected)
{
	uint64_t seq = kt_table_next_seq();
	uint64_t w = kt_word(seq, KT_SLOT_REAPED);
	atomic_compare_exchange_strong_explicit(&s->word, &expected, w,
	                                        memory_order_acq_rel, memory_order_acquire);
}

int kt_slot_retire(struct kt_slot *s, uint64_t w)
{
	unsigned st = kt_word_state(w);
	if (st != KT_SLOT_LIVE && st != KT_SLOT_LIVE_UNVERIFIED)
		return 0;
	uint64_t reaped = kt_word(kt_word_ident(w), KT_SLOT_REAPED);
	return atomic_compare_exchange_strong_explicit(&s->word, &w, reaped,
	                                               memory_order_acq_rel,
	                                               memory_order_acquire);
}

int kt_slot_retire_unseen(pid_t pid, struct kt_slot *s, uint64_t w)
{
	if (!kt_slot_retire(s, w))
		return 0;
	struct kt_slot_info *info = kt_table_info(pid);
	if (info) {
		KT_INFO_SET(info->reaped_by, (uint8_t)KT_REAPED_UNSEEN);
		KT_INFO_SET(info->reaped_ns, (uint64_t)0);
	}
	return 1;
}

int kt_slot_mark_reaped(struct kt_slot *s, pid_t pid, uint64_t seq_before,
                        int (*holder_is)(pid_t pid, uint64_t ident))
{
	for (;;) {
		uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);
		unsigned st = kt_word_state(w);
		if (st != KT_SLOT_LIVE && st != KT_SLOT_LIVE_UNVERIFIED)
			return 0;
		uint64_t seq = atomic_load_explicit(&s->reg_seq, memory_order_relaxed);
		/* Registered before the wait began: the PID was this child's when the
		 * wait started and has just been freed by our reap, so the child is
		 * gone.  Registered later: either a child forked during the wait and
		 * reaped by it (common), or a new child that took the freed PID after
		 * the reap (needs a full PID wrap in between).  Only an identity can
		 * tell them apart; without one, assume the common case. */
		if (seq > seq_before && st == KT_SLOT_LIVE && holder_is &&
		    holder_is(pid, kt_word_ident(w)))
			return 0;
		if (kt_slot_retire(s, w))
			return 1;
		/* The word changed under us (a registration, or another reaper): look
		 * again. */
	}
}

size_t kt_table_bytes(void)
{
	return atomic_load_explicit(&kt_bytes, memory_order_relaxed);
}

#ifdef KT_UNIT_TEST
void kt_table_reset_for_test(void)
{
	struct kt_leaf *_Atomic *top = atomic_exchange(&kt_top, NULL);
	for (size_t i = 0; top && i < KT_TOP_ENTRIES; i++) {
		struct kt_leaf *leaf = atomic_load(&top[i]);
		if (leaf)
			munmap(leaf, sizeof *leaf);
	}
	if (top)
		munmap((void *)top, KT_TOP_BYTES);
	atomic_store(&kt_seq, 0);
	atomic_store(&kt_bytes, 0);
}
#endif
