/* SPDX-License-Identifier: MIT */
/* The PID tables: layout, sharing and concurrency rules are in table.h. */
#include "table.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "hot.h"
#include "sys.h"

_Static_assert(sizeof(struct kt_entry) == 64, "a PID's entry is one cache line");
_Static_assert(sizeof(struct kt_table_head) <= 4096, "a table's head fits its page");

#define KT_HEAD_BYTES 4096
#define KT_CHUNK_BYTES ((size_t)KT_CHUNK_PIDS * sizeof(struct kt_entry))
#define KT_SELF_BYTES 4096
_Static_assert(sizeof(struct kt_self) <= KT_SELF_BYTES, "the self page fits its page");

struct kt_table_head *_Atomic kt_table_nearest;
struct kt_self *_Atomic kt_self_page;
struct kt_fork_mark kt_fork_mark;

/* 0 if the kernel refused MADV_WIPEONFORK (before 4.14): a forked child
 * then disowns its parent's table by itself (kt_table_forget). */
static _Atomic int kt_wipes_on_fork = 1;
/* Counted into before this process has a self page (a registration that
 * found no memory for it). */
static _Atomic uint64_t kt_counters_before[KT_SELF_COUNTERS];

/* Shared, zeroed, never copied by fork: see table.h.  MAP_NORESERVE: a
 * chunk is mostly untouched address space. */
static void *shared_pages(size_t n)
{
	void *mem = mmap(NULL, n, PROT_READ | PROT_WRITE,
	                 MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return mem == MAP_FAILED ? NULL : mem;
}

/* The self page, made by the first table of a line of processes and
 * inherited (zeroed) by every forked descendant. */
static struct kt_self *self_page(void)
{
	struct kt_self *self = atomic_load_explicit(&kt_self_page, memory_order_acquire);
	if (self)
		return self;
	void *mem = kt_zeroed_pages(KT_SELF_BYTES);
	if (!mem)
		return NULL;
	if (madvise(mem, KT_SELF_BYTES, MADV_WIPEONFORK) != 0)
		atomic_store_explicit(&kt_wipes_on_fork, 0, memory_order_relaxed);
	if (atomic_compare_exchange_strong_explicit(&kt_self_page, &self, (struct kt_self *)mem,
	                                            memory_order_acq_rel, memory_order_acquire))
		return mem;
	munmap(mem, KT_SELF_BYTES); /* another thread, or a handler, won */
	return self;
}

/* This process's own table, or NULL. */
static struct kt_table_head *own_table(void)
{
	struct kt_table_head *h = atomic_load_explicit(&kt_table_nearest, memory_order_acquire);
	return h && kt_table_owned(h) ? h : NULL;
}

/* Make this process's table, above PARENT (the table it inherited, or
 * NULL), and make it the nearest one. */
static struct kt_table_head *make_table(struct kt_self *self, const struct kt_table_head *parent)
{
	struct kt_table_head *h = shared_pages(KT_HEAD_BYTES);
	if (!h)
		return NULL;
	pid_t pid = (pid_t)kt_syscall(SYS_getpid, 0, 0, 0, 0, 0);
	h->owner_pid = pid;
	strncpy(h->owner_name, program_invocation_short_name, sizeof h->owner_name - 1);
	if (parent && parent->depth + 1 < KT_TREE_DEPTH) {
		h->parent = parent;
		h->depth = parent->depth + 1;
		/* What of the parent's table this process may know: the mark its
		 * parent left before forking it (no fork-like call of its own has
		 * moved it yet: each makes this table first). */
		if (atomic_load_explicit(&kt_fork_mark.head, memory_order_relaxed) == parent)
			h->parent_fork_seq =
				atomic_load_explicit(&kt_fork_mark.seq, memory_order_relaxed);
		h->owner_ino = kt_pidfs_inode_of(pid);
	}
	const struct kt_table_head *none = NULL;
	if (!atomic_compare_exchange_strong_explicit(&self->owned, &none, h,
	                                             memory_order_acq_rel, memory_order_acquire)) {
		/* Another thread, or a handler that interrupted us, made it. */
		munmap(h, KT_HEAD_BYTES);
		return (struct kt_table_head *)none;
	}
	atomic_store_explicit(&kt_table_nearest, h, memory_order_release);
	return h;
}

/* This process's own table, made if need be. */
static struct kt_table_head *own_table_made(void)
{
	struct kt_table_head *h = own_table();
	if (h)
		return h;
	struct kt_self *self = self_page();
	if (!self)
		return NULL;
	h = (struct kt_table_head *)atomic_load_explicit(&self->owned, memory_order_acquire);
	if (h) /* made by a thread that has not published it as nearest yet */
		return h;
	return make_table(self, atomic_load_explicit(&kt_table_nearest, memory_order_acquire));
}

/* PID's entry in this process's table, making the table and the chunk if
 * they are missing. */
static struct kt_entry *entry_made_for(pid_t pid)
{
	if (pid <= 0 || (uint32_t)pid >= KT_PID_LIMIT)
		return NULL;
	struct kt_table_head *h = own_table_made();
	if (!h)
		return NULL;
	struct kt_entry *e = kt_table_entry_in(h, pid);
	if (e)
		return e;
	unsigned c = (uint32_t)pid >> KT_CHUNK_BITS;
	struct kt_entry *mem = shared_pages(KT_CHUNK_BYTES);
	if (!mem)
		return NULL;
	struct kt_entry *expected = NULL;
	if (!atomic_compare_exchange_strong_explicit(&h->chunk[c], &expected, mem,
	                                             memory_order_acq_rel, memory_order_acquire)) {
		/* Another thread (or a signal handler that interrupted us) won. */
		munmap(mem, KT_CHUNK_BYTES);
		return &expected[(uint32_t)pid & (KT_CHUNK_PIDS - 1)];
	}
	/* A seq of its own, after the mapping exists: a descendant whose fork
	 * mark is at least this has the mapping in its memory.  Until it is
	 * stored (0), descendants use none of the chunk. */
	atomic_store_explicit(&h->chunk_seq[c], kt_table_next_seq(), memory_order_release);
	atomic_fetch_add_explicit(&h->bytes, KT_CHUNK_BYTES, memory_order_relaxed);
	return &mem[(uint32_t)pid & (KT_CHUNK_PIDS - 1)];
}

struct kt_slot *kt_table_get(pid_t pid)
{
	struct kt_entry *e = entry_made_for(pid);
	return e ? &e->slot : NULL;
}

struct kt_slot_info *kt_table_info(pid_t pid)
{
	struct kt_entry *e = kt_table_entry_in(own_table(), pid);
	return e ? &e->info : NULL;
}

void kt_table_before_fork(void)
{
	struct kt_table_head *h = atomic_load_explicit(&kt_table_nearest, memory_order_acquire);
	if (!h)
		return; /* no table in this line: the child inherits none */
	if (!kt_table_owned(h)) {
		/* A forked child about to fork: its table goes first, so that its
		 * children see it above the ones it inherited. */
		h = own_table_made();
		if (!h)
			return;
	}
	/* Stored only when it changed: right after a fork every page the
	 * parent writes is a copy-on-write fault. */
	uint64_t seq = atomic_load_explicit(&h->seq, memory_order_acquire);
	if (atomic_load_explicit(&kt_fork_mark.head, memory_order_relaxed) != h)
		atomic_store_explicit(&kt_fork_mark.head, h, memory_order_relaxed);
	if (atomic_load_explicit(&kt_fork_mark.seq, memory_order_relaxed) != seq)
		atomic_store_explicit(&kt_fork_mark.seq, seq, memory_order_relaxed);
}

int kt_table_entry_seen(const struct kt_table_head *h, uint64_t fork_seq, pid_t pid,
                        struct kt_seen *seen)
{
	if (!h || !fork_seq || pid <= 0 || (uint32_t)pid >= KT_PID_LIMIT)
		return 0;
	unsigned c = (uint32_t)pid >> KT_CHUNK_BITS;
	struct kt_entry *chunk = atomic_load_explicit(&h->chunk[c], memory_order_acquire);
	uint64_t made = atomic_load_explicit(&h->chunk_seq[c], memory_order_acquire);
	/* A chunk made after our fork is not mapped here (or, worse, its
	 * address is something else of ours now). */
	if (!chunk || !made || made > fork_seq)
		return 0;
	const struct kt_entry *e = &chunk[(uint32_t)pid & (KT_CHUNK_PIDS - 1)];
	/* The owner may be re-registering the number as we read: kt_slot_publish
	 * empties the word while it moves the old registration to `before`, so
	 * an unchanged word read twice brackets a consistent read. */
	for (int tries = 0; tries < 16; tries++) {
		uint64_t w = atomic_load_explicit(&e->slot.word, memory_order_acquire);
		uint64_t seq = atomic_load_explicit(&e->slot.reg_seq, memory_order_acquire);
		uint64_t bw = atomic_load_explicit(&e->before.word, memory_order_acquire);
		uint64_t bseq = atomic_load_explicit(&e->before.reg_seq, memory_order_acquire);
		if (atomic_load_explicit(&e->slot.word, memory_order_acquire) != w)
			continue;
		if (kt_word_state(w) != KT_SLOT_EMPTY && seq <= fork_seq) {
			*seen = (struct kt_seen){ w, seq, 0, e };
			return 1;
		}
		if (kt_word_state(bw) != KT_SLOT_EMPTY && bseq <= fork_seq) {
			*seen = (struct kt_seen){ bw, bseq, 1, e };
			return 1;
		}
		return 0;
	}
	return 0; /* re-registered under us again and again: know nothing */
}

_Atomic uint64_t *kt_table_counters(void)
{
	struct kt_self *self = atomic_load_explicit(&kt_self_page, memory_order_acquire);
	return self ? self->counters : kt_counters_before;
}

KT_CHILD_PATH void kt_table_forget(void)
{
	/* Normally the kernel has already zeroed the self page in this child:
	 * no store, which would cost the child a page copy. */
	if (atomic_load_explicit(&kt_wipes_on_fork, memory_order_relaxed))
		return;
	struct kt_self *self = atomic_load_explicit(&kt_self_page, memory_order_relaxed);
	if (self && atomic_load_explicit(&self->owned, memory_order_relaxed))
		memset(self, 0, sizeof *self);
}

uint64_t kt_table_next_seq(void)
{
	/* A registration has made the table; an eviction in a process that
	 * holds fds but no table of its own (a forked child) gets 0, which
	 * no slot of its own can ever hold. */
	struct kt_table_head *h = own_table();
	return h ? atomic_fetch_add_explicit(&h->seq, 1, memory_order_acq_rel) + 1 : 0;
}

uint64_t kt_table_last_seq(void)
{
	struct kt_table_head *h = own_table();
	return h ? atomic_load_explicit(&h->seq, memory_order_acquire) : 0;
}

void kt_slot_publish(struct kt_slot *s, uint64_t ident, unsigned state)
{
	uint64_t seq = kt_table_next_seq();
	if (state != KT_SLOT_LIVE)
		ident = seq;
	/* The registration this one replaces stays readable for descendants
	 * forked before now (table.h).  The word is emptied while the old one
	 * moves: a descendant reading meanwhile reads it again, and a kill of
	 * the number here in between goes by number, which reaches the child
	 * being registered. */
	struct kt_slot *before = &((struct kt_entry *)s)->before;
	uint64_t old = atomic_load_explicit(&s->word, memory_order_acquire);
	if (kt_word_state(old) != KT_SLOT_EMPTY) {
		atomic_store_explicit(&s->word, kt_word(0, KT_SLOT_EMPTY), memory_order_release);
		atomic_store_explicit(&before->reg_seq,
		                      atomic_load_explicit(&s->reg_seq, memory_order_relaxed),
		                      memory_order_relaxed);
		atomic_store_explicit(&before->word, old, memory_order_release);
	}
	/* reg_seq first, word last with release: a reader that sees the new word
	 * also sees its registration number (see kt_slot_mark_reaped). */
	atomic_store_explicit(&s->reg_seq, seq, memory_order_release);
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
                        int (*holder_is)(pid_t pid, uint64_t word))
{
	/* Each turn either ends or follows another thread's change to the word
	 * (a registration, another reaper), and a reap is contended only by the
	 * few registrations of this one number. */
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
	}
}

size_t kt_table_bytes(void)
{
	struct kt_table_head *h = own_table();
	return h ? atomic_load_explicit(&h->bytes, memory_order_relaxed) : 0;
}

#ifdef KT_UNIT_TEST
void kt_table_reset_for_test(void)
{
	struct kt_table_head *h = own_table();
	struct kt_self *self = atomic_load(&kt_self_page);
	atomic_store(&kt_table_nearest, NULL);
	if (self)
		atomic_store(&self->owned, NULL);
	for (unsigned c = 0; h && c < KT_CHUNKS; c++) {
		struct kt_entry *chunk = atomic_load(&h->chunk[c]);
		if (chunk)
			munmap(chunk, KT_CHUNK_BYTES);
	}
	if (h)
		munmap(h, KT_HEAD_BYTES);
	atomic_store(&kt_fork_mark.head, NULL);
	atomic_store(&kt_fork_mark.seq, 0);
}
#endif
