/* The PID table: what libkt knows about each child, keyed by PID.
 *
 * Two levels, so memory grows with the PIDs actually used: a top array of
 * leaf pointers mmap()ed by the first registration (a process that does not
 * fork never has one), and 256-PID leaves mmap()ed on first use and installed
 * with a compare-and-swap.  mmap is a plain syscall, so registration stays
 * async-signal-safe; leaves are never freed (tombstones of reaped children
 * must outlive them, and a leaf is at most a few pages).
 *
 * A slot's state and identity share one 64-bit atomic word, so a reader (the
 * kill path, possibly a signal handler that interrupted a writer in the same
 * thread) always sees a consistent pair without any lock:
 *
 *     word = identity << 2 | state
 *
 * identity is the pidfs inode number (62 bits are plenty: pidfs numbers
 * processes from a 64-bit counter that would take centuries to pass 2^62) or,
 * without pidfds, the slot's registration number, which is unique too. */
#ifndef KT_TABLE_H
#define KT_TABLE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* PID_MAX_LIMIT on 64-bit Linux: no PID is ever at or above it. */
#define KT_PID_LIMIT (1u << 22)
#define KT_LEAF_BITS 8
#define KT_LEAF_PIDS (1u << KT_LEAF_BITS)

enum kt_slot_state {
	KT_SLOT_EMPTY = 0,  /* never registered */
	KT_SLOT_LIVE = 1,   /* registered child with a verified identity */
	KT_SLOT_REAPED = 2, /* registered child known to be gone: kills are stale */
	KT_SLOT_LIVE_UNVERIFIED = 3, /* registered child whose identity is not taken:
	                                not yet (it is taken when a kill first
	                                needs it), or it cannot be (no pidfds:
	                                kills are judged by number) */
};

#define KT_IDENT_MAX ((UINT64_C(1) << 62) - 1)

static inline uint64_t kt_word(uint64_t ident, unsigned state)
{
	return (ident & KT_IDENT_MAX) << 2 | (state & 3u);
}
static inline unsigned kt_word_state(uint64_t w) { return (unsigned)(w & 3u); }
static inline uint64_t kt_word_ident(uint64_t w) { return w >> 2; }

/* How a child came to be, and how it went: for reports (their words are in
 * names.c). */
enum kt_made_by {
	KT_MADE_FORK = 1, KT_MADE__FORK, KT_MADE_POSIX_SPAWN, KT_MADE_POSIX_SPAWNP,
	KT_MADE_VFORK, KT_MADE_CLONE, KT_MADE_PIDFD_SPAWN, KT_MADE_PIDFD_SPAWNP,
	KT_MADE_SYSCALL, /* syscall(SYS_clone / SYS_clone3 / SYS_fork) */
	KT_MADE_BY_COUNT
};
enum kt_reaped_by {
	KT_REAPED_UNKNOWN = 0, KT_REAPED_WAIT, KT_REAPED_WAITPID, KT_REAPED_WAIT3,
	KT_REAPED_WAIT4, KT_REAPED_WAITID,
	KT_REAPED_UNSEEN, /* found gone at kill time: reaped outside libkt's hooks
	                     (SIGCHLD ignored, a glibc-internal wait) */
	KT_REAPED_BEFORE_REGISTRATION, /* gone before fork() returned to us */
	KT_REAPED_BY_COUNT
};

struct kt_slot {
	_Atomic uint64_t word;
	/* Value of the table's registration counter when this slot was last
	 * registered: lets a wait hook tell "the child I just reaped" from "a new
	 * child that took the same PID after my reap" (see hooks_wait.c). */
	_Atomic uint64_t reg_seq;
};

/* Facts for reports.  Written by the registering or reaping thread and read
 * only to describe a stale kill: best effort, never used for a decision. */
struct kt_slot_info {
	uint64_t made_ns;   /* CLOCK_MONOTONIC at registration */
	uint64_t reaped_ns; /* CLOCK_MONOTONIC when a hook saw the reap, or 0 */
	uint8_t made_by;    /* enum kt_made_by */
	uint8_t reaped_by;  /* enum kt_reaped_by */
	char name[22];      /* what ran: spawned file's basename, or our own name */
};

/* Report facts are written by whichever thread registers or reaps a child
 * and read by a stale-kill report in another: relaxed atomic accesses, so
 * each field is read whole and the race is a defined one (TSan agrees). */
#define KT_INFO_SET(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)
#define KT_INFO_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

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

/* The top array of leaf pointers (KT_PID_LIMIT >> KT_LEAF_BITS of them), or
 * NULL until the first registration maps it.  Written by table.c only; read
 * here so that every kill's lookup is a few instructions in its caller. */
extern struct kt_leaf *_Atomic *_Atomic kt_table_top;

/* The leaf holding PID's entry, or NULL if PID is out of range or the leaf
 * was never created.  Never allocates. */
static inline struct kt_leaf *kt_table_leaf(pid_t pid)
{
	if (pid <= 0 || (uint32_t)pid >= KT_PID_LIMIT)
		return NULL;
	struct kt_leaf *_Atomic *top = atomic_load_explicit(&kt_table_top, memory_order_acquire);
	if (!top)
		return NULL;
	return atomic_load_explicit(&top[(uint32_t)pid >> KT_LEAF_BITS], memory_order_acquire);
}

/* The slot for PID, or NULL if it has none.  Never allocates: this is the
 * kill path's lookup. */
static inline struct kt_slot *kt_table_find(pid_t pid)
{
	struct kt_leaf *leaf = kt_table_leaf(pid);
	return leaf ? &leaf->entry[(uint32_t)pid & (KT_LEAF_PIDS - 1)].slot : NULL;
}
/* Like kt_table_find, but creates the leaf; NULL only when out of range or
 * out of memory (the child then goes untracked, and is counted). */
struct kt_slot *kt_table_get(pid_t pid);
/* The report facts beside a slot returned by kt_table_find/get. */
struct kt_slot_info *kt_table_info(pid_t pid);

/* libkt's counters (counters.h), KT_N_COUNTERS of them.  Kept with the
 * table, so that a forked child starts from zero, as its table does. */
_Atomic uint64_t *kt_table_counters(void);

/* In a forked child, before it returns to the program: start from an empty
 * table.  (The kernel zeroes the table's memory in a forked child; this only
 * acts where it cannot, and then costs the child a page copy.) */
void kt_table_forget(void);

/* Take the next registration number (1, 2, ...). */
uint64_t kt_table_next_seq(void);
/* The last registration number handed out. */
uint64_t kt_table_last_seq(void);

/* Record a registered child in slot S: STATE is KT_SLOT_LIVE with IDENT its
 * pidfs inode, or KT_SLOT_LIVE_UNVERIFIED (IDENT is then ignored and the
 * registration number stands in for it, so every registration is distinct).
 * A registration always wins: the child it describes was verified alive and
 * ours after its fork returned, which is later than anything already here. */
void kt_slot_publish(struct kt_slot *s, uint64_t ident, unsigned state);

/* Record that the child registered in S died before it could be registered
 * (fork returned a PID that was already reaped), unless S changed since
 * EXPECTED was read: a newer registration must not be overwritten. */
void kt_slot_publish_tombstone(struct kt_slot *s, uint64_t expected);

/* Move S from live to reaped if its word is still W (the kill path found the
 * child gone).  Returns 1 if this call made the change. */
int kt_slot_retire(struct kt_slot *s, uint64_t w);
/* The same for a child found gone at kill time, reaped where no hook saw it:
 * its report facts then say so (KT_REAPED_UNSEEN). */
int kt_slot_retire_unseen(pid_t pid, struct kt_slot *s, uint64_t w);

/* A wait hook reaped PID, the wait having started when kt_table_last_seq()
 * was SEQ_BEFORE.  Marks the slot reaped unless it now holds a child that
 * took the PID after the reap.  That can only be a registration newer than
 * SEQ_BEFORE; for those, HOLDER_IS(pid, word) (may be NULL) decides: it
 * returns 1 if the process now holding PID is the one the slot's live WORD
 * describes, not the one just reaped.  Returns 1 if marked. */
int kt_slot_mark_reaped(struct kt_slot *s, pid_t pid, uint64_t seq_before,
                        int (*holder_is)(pid_t pid, uint64_t word));

/* Bytes of leaf memory mapped so far (for stats and the memory benchmark). */
size_t kt_table_bytes(void);

#ifdef KT_UNIT_TEST
/* Unit tests only: forget every leaf (unmapping them) and the counter. */
void kt_table_reset_for_test(void);
#endif

#endif
