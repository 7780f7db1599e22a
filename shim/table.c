/* The PID table: layout and concurrency rules are in table.h. */
#include "table.h"

#include "counters.h"
#include "hot.h"

#include <sys/mman.h>

_Static_assert(sizeof(struct kt_entry) == 64, "a PID's entry is one cache line");

#define KT_TOP_ENTRIES (KT_PID_LIMIT >> KT_LEAF_BITS)
#define KT_TOP_BYTES (KT_TOP_ENTRIES * sizeof(struct kt_leaf *))

/* What every registration writes besides its slot: the registration
 * counter, and libkt's counters (counters.h).  They live at the head of the
 * table's own mapping, not in the library's data, for the reason the leaves
 * are mapped as they are (see zeroed_pages). */
struct kt_table_head {
	_Atomic uint64_t seq;
	_Atomic size_t bytes;
	_Atomic uint64_t counters[KT_N_COUNTERS];
};
#define KT_HEAD_BYTES 4096
_Static_assert(sizeof(struct kt_table_head) <= KT_HEAD_BYTES, "the head fits its page");

/* The head page and the top array (128 KiB of leaf pointers) are one
 * mapping, made by the first registration, not kept in .bss: a .bss that
 * large makes the dynamic loader map an extra anonymous region at every
 * process start (one more mmap, one more VMA for every later fork and exit
 * to copy and tear down).  Untouched, its pages cost nothing.  The one
 * pointer to it is kt_table_top (table.h), the top array's address: the
 * lookup inlined into every kill reads it, and the head sits just below. */
struct kt_leaf *_Atomic *_Atomic kt_table_top;
/* 0 if the kernel refused MADV_WIPEONFORK (before 4.14): a forked child
 * then drops the table it would inherit by itself (kt_table_forget). */
static _Atomic int kt_wipes_on_fork = 1;
/* Counted into before the table exists (a registration that found no
 * memory for it). */
static _Atomic uint64_t kt_counters_before[KT_N_COUNTERS];

/* mmap, not malloc: we may be inside a signal handler or a vfork-shared
 * address space, and the memory starts zeroed (NULL leaves, EMPTY slots).
 *
 * MADV_WIPEONFORK: a forked child gets these pages zeroed instead of shared.
 * The table describes this process's own children, which a forked child
 * cannot wait for and whose numbers it cannot judge (waitid answers only
 * about one's own children); it starts with a table of its own.  And right
 * after fork() every page the parent writes while the child lives costs a
 * page copy: a registration writes its slot, its report facts, the
 * registration counter and a counter, so a shared table cost every fork a
 * copy or two. */
static void *zeroed_pages(size_t n)
{
	void *mem = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	if (madvise(mem, n, MADV_WIPEONFORK) != 0)
		atomic_store_explicit(&kt_wipes_on_fork, 0, memory_order_relaxed);
	return mem;
}

static KT_CHILD_PATH struct kt_leaf *_Atomic *top_array(int create)
{
	struct kt_leaf *_Atomic *top = atomic_load_explicit(&kt_table_top, memory_order_acquire);
	if (top || !create)
		return top;
	char *mem = zeroed_pages(KT_HEAD_BYTES + KT_TOP_BYTES);
	if (!mem)
		return NULL;
	struct kt_leaf *_Atomic *mine = (struct kt_leaf *_Atomic *)(mem + KT_HEAD_BYTES);
	if (atomic_compare_exchange_strong_explicit(&kt_table_top, &top, mine,
	                                            memory_order_acq_rel, memory_order_acquire))
		return mine;
	munmap(mem, KT_HEAD_BYTES + KT_TOP_BYTES); /* someone else installed theirs first */
	return top;
}

static KT_CHILD_PATH struct kt_table_head *head(int create)
{
	struct kt_leaf *_Atomic *top = top_array(create);
	return top ? (struct kt_table_head *)((char *)top - KT_HEAD_BYTES) : NULL;
}

/* kt_table_leaf, creating the top array and the leaf if they are missing. */
static struct kt_leaf *leaf_made_for(pid_t pid)
{
	struct kt_leaf *leaf = kt_table_leaf(pid);
	if (leaf || pid <= 0 || (uint32_t)pid >= KT_PID_LIMIT)
		return leaf;
	struct kt_leaf *_Atomic *top = top_array(1);
	if (!top)
		return NULL;
	struct kt_leaf *_Atomic *ref = &top[(uint32_t)pid >> KT_LEAF_BITS];
	leaf = atomic_load_explicit(ref, memory_order_acquire);
	if (leaf)
		return leaf;

	void *mem = zeroed_pages(sizeof(struct kt_leaf));
	if (!mem)
		return NULL;
	struct kt_leaf *expected = NULL;
	if (atomic_compare_exchange_strong_explicit(ref, &expected, (struct kt_leaf *)mem,
	                                            memory_order_acq_rel,
	                                            memory_order_acquire)) {
		atomic_fetch_add_explicit(&head(0)->bytes, sizeof(struct kt_leaf),
		                          memory_order_relaxed);
		return mem;
	}
	/* Another thread (or a signal handler that interrupted us) won the race. */
	munmap(mem, sizeof(struct kt_leaf));
	return expected;
}

struct kt_slot *kt_table_get(pid_t pid)
{
	struct kt_leaf *leaf = leaf_made_for(pid);
	return leaf ? &leaf->entry[(uint32_t)pid & (KT_LEAF_PIDS - 1)].slot : NULL;
}

struct kt_slot_info *kt_table_info(pid_t pid)
{
	struct kt_leaf *leaf = kt_table_leaf(pid);
	return leaf ? &leaf->entry[(uint32_t)pid & (KT_LEAF_PIDS - 1)].info : NULL;
}

uint64_t kt_table_next_seq(void)
{
	/* Only a registration takes one, and it has made the table. */
	return atomic_fetch_add_explicit(&head(1)->seq, 1, memory_order_acq_rel) + 1;
}

uint64_t kt_table_last_seq(void)
{
	struct kt_table_head *h = head(0);
	return h ? atomic_load_explicit(&h->seq, memory_order_acquire) : 0;
}

_Atomic uint64_t *kt_table_counters(void)
{
	struct kt_table_head *h = head(0);
	return h ? h->counters : kt_counters_before;
}

KT_CHILD_PATH void kt_table_forget(void)
{
	/* Normally the kernel has already zeroed the table in this child: no
	 * store, which would cost the child a page copy. */
	if (!atomic_load_explicit(&kt_wipes_on_fork, memory_order_relaxed) &&
	    atomic_load_explicit(&kt_table_top, memory_order_relaxed))
		atomic_store_explicit(&kt_table_top, NULL, memory_order_release);
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
		 * the reap (needs a full PID wrap in between).  HOLDER_IS tells
		 * them apart. */
		if (seq > seq_before && holder_is && holder_is(pid, w))
			return 0;
		if (kt_slot_retire(s, w))
			return 1;
		/* The word changed under us (a registration, or another reaper): look
		 * again. */
	}
}

size_t kt_table_bytes(void)
{
	struct kt_table_head *h = head(0);
	return h ? atomic_load_explicit(&h->bytes, memory_order_relaxed) : 0;
}

#ifdef KT_UNIT_TEST
void kt_table_reset_for_test(void)
{
	struct kt_leaf *_Atomic *top = atomic_exchange(&kt_table_top, NULL);
	char *h = top ? (char *)top - KT_HEAD_BYTES : NULL;
	for (size_t i = 0; top && i < KT_TOP_ENTRIES; i++) {
		struct kt_leaf *leaf = atomic_load(&top[i]);
		if (leaf)
			munmap(leaf, sizeof *leaf);
	}
	if (h)
		munmap(h, KT_HEAD_BYTES + KT_TOP_BYTES);
}
#endif
