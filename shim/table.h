/* SPDX-License-Identifier: MIT */
/* The PID tables: what libkt knows about children, keyed by PID.
 *
 * Each process that registers a child owns one table.  A forked child keeps
 * reading the tables of the processes it descends from (its ancestors'),
 * as they stood when it was forked: their children are its siblings and
 * cousins, whose numbers it learned from its parent's memory (a shell's
 * `( sleep 9; kill $p ) &`), so a kill of one of those numbers is judged
 * for it too (tree.c).  Its own children go into a table of its own.
 *
 * Why shared memory.  A table's entries live in MAP_SHARED mappings, which
 * fork() neither copies nor write-protects: a registration after a fork
 * costs no page copy, and a fork costs nothing whatever the table's size
 * (with private memory, every fork copied one page-table entry per table
 * page, and the first registration after it copied a page).  The price is
 * that a descendant sees its ancestor's table as it is now, not as it was
 * at the fork; what the descendant may know is recovered from registration
 * numbers instead:
 *
 *   - every registration takes the next number of its table (seq), and
 *     before every fork-like call the parent notes its table and seq in its
 *     own memory (the fork mark), which the child thus inherits as they
 *     were when it was forked.  An entry of an ancestor's table is visible
 *     to a descendant only if it was registered at or before the fork that
 *     separated the two (its seq <= that fork's mark): a number registered
 *     later cannot be in the descendant's memory;
 *   - each entry keeps the registration it replaced (`before`), so a number
 *     the ancestor registered again after the fork still shows the
 *     descendant what it knew;
 *   - chunks of entries made after the fork are not even mapped in the
 *     descendant: each chunk records the seq at which it was made.
 *
 * Layout: a table is a head page and up to KT_CHUNKS chunks of KT_CHUNK_PIDS
 * entries, each chunk one shared mapping made on first use (MAP_NORESERVE:
 * untouched pages cost nothing).  mmap is a plain system call, so
 * registration stays async-signal-safe; nothing is ever unmapped (tombstones
 * of reaped children must outlive them).  Which table is this process's own
 * is kept in a private page mapped MADV_WIPEONFORK (the "self" page): a
 * forked child sees it zeroed, owns nothing, and makes its own table at its
 * first registration.  The self page also holds the counters, so a forked
 * child counts from zero.
 *
 * A slot's state and identity share one 64-bit atomic word, so a reader (the
 * kill path, possibly a signal handler that interrupted a writer in the same
 * thread) always sees a consistent pair without any lock:
 *
 *     word = identity << 2 | state
 *
 * identity is the pidfs inode number (62 bits are plenty: pidfs numbers
 * processes from a 64-bit counter that would take centuries to pass 2^62),
 * a held pidfd (heldfd.h), or, without either, the registration number,
 * which is unique within its table too. */
#ifndef KT_TABLE_H
#define KT_TABLE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* PID_MAX_LIMIT on 64-bit Linux: no PID is ever at or above it. */
#define KT_PID_LIMIT (1u << 22)
#define KT_CHUNK_BITS 16
#define KT_CHUNK_PIDS (1u << KT_CHUNK_BITS)
#define KT_CHUNKS (KT_PID_LIMIT >> KT_CHUNK_BITS)
/* Ancestors' tables followed at most; older ones are not looked at (their
 * numbers go by number, as without libkt). */
#define KT_TREE_DEPTH 32

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
	/* The table's registration counter when this slot was last registered:
	 * lets a wait hook tell "the child I just reaped" from "a new child that
	 * took the same PID after my reap" (see hooks_wait.c), and a descendant
	 * tell what it may know (see the top of this file). */
	_Atomic uint64_t reg_seq;
};

/* Facts for reports.  Written by the registering or reaping thread and read
 * only to describe a stale kill: best effort, never used for a decision. */
struct kt_slot_info {
	uint64_t made_ns;   /* CLOCK_MONOTONIC at registration */
	uint64_t reaped_ns; /* CLOCK_MONOTONIC when a hook saw the reap, or 0 */
	uint8_t made_by;    /* enum kt_made_by */
	uint8_t reaped_by;  /* enum kt_reaped_by */
	char name[14];      /* what ran: spawned file's basename, or our own name */
};

/* Report facts are written by whichever thread registers or reaps a child
 * and read by a stale-kill report in another: relaxed atomic accesses, so
 * each field is read whole and the race is a defined one (TSan agrees). */
#define KT_INFO_SET(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)
#define KT_INFO_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

/* A PID's entry: its slot, the registration the slot replaced (for
 * descendants, see the top of this file) and its report facts, in one cache
 * line, so a registration writes one page. */
struct kt_entry {
	struct kt_slot slot;
	struct kt_slot before;
	struct kt_slot_info info;
} __attribute__((aligned(64)));

/* A table's head page, shared with the owner's descendants like its chunks.
 * The owner's facts are written before the table is published and never
 * change; seq and the chunks grow. */
struct kt_table_head {
	_Atomic uint64_t seq;    /* the last registration number handed out */
	_Atomic size_t bytes;    /* chunk memory mapped (stats, the memory bench) */
	pid_t owner_pid;
	unsigned depth;          /* ancestors' tables above this one */
	char owner_name[16];
	/* The pidfs inode of the owner (0: unknown): the creation-order mark of
	 * what the parent table's entries may name (tree.c). */
	uint64_t owner_ino;
	/* The table of the process the owner was forked from, and the fork seq
	 * of the owner in it (0: no parent table, or nothing in it visible). */
	const struct kt_table_head *parent;
	uint64_t parent_fork_seq;
	struct kt_entry *_Atomic chunk[KT_CHUNKS];
	/* The seq when each chunk was made: a descendant uses only chunks made
	 * at or before its fork seq, the ones mapped in its memory. */
	_Atomic uint64_t chunk_seq[KT_CHUNKS];
};

/* This process's nearest table: its own, or, in a forked child that has not
 * registered a child yet, its parent's (NULL: none).  Read inline by every
 * kill; written by table.c only. */
extern struct kt_table_head *_Atomic kt_table_nearest;

/* The private, wiped-on-fork page that says which table is this process's
 * own (NULL until this process or an ancestor made a table). */
/* Room for libkt's counters (counters.h, which checks that they fit). */
#define KT_SELF_COUNTERS 16

struct kt_self {
	const struct kt_table_head *_Atomic owned;
	_Atomic uint64_t counters[KT_SELF_COUNTERS];
	/* 1 once the held-pidfd region in this process's memory is this
	 * process's own (heldfd.c): 0 in a forked child, whose inherited
	 * region names its parent's children. */
	_Atomic int held_owned;
};
extern struct kt_self *_Atomic kt_self_page;

/* 1 if H is this process's own table. */
static inline int kt_table_owned(const struct kt_table_head *h)
{
	struct kt_self *self = atomic_load_explicit(&kt_self_page, memory_order_acquire);
	return self && atomic_load_explicit(&self->owned, memory_order_acquire) == h;
}

/* PID's entry in H (a table this process owns or inherited), or NULL if
 * PID is out of range or its chunk was never made.  Never allocates.  In an
 * inherited table, use kt_table_entry_seen instead. */
static inline struct kt_entry *kt_table_entry_in(const struct kt_table_head *h, pid_t pid)
{
	if (!h || pid <= 0 || (uint32_t)pid >= KT_PID_LIMIT)
		return NULL;
	struct kt_entry *c = atomic_load_explicit(&h->chunk[(uint32_t)pid >> KT_CHUNK_BITS],
	                                          memory_order_acquire);
	return c ? &c[(uint32_t)pid & (KT_CHUNK_PIDS - 1)] : NULL;
}

/* The slot for PID in this process's own table, or NULL if it has none.
 * Never allocates: this is the kill path's lookup. */
static inline struct kt_slot *kt_table_find(pid_t pid)
{
	struct kt_table_head *h = atomic_load_explicit(&kt_table_nearest, memory_order_acquire);
	if (!h || !kt_table_owned(h))
		return NULL;
	struct kt_entry *e = kt_table_entry_in(h, pid);
	return e ? &e->slot : NULL;
}
/* Like kt_table_find, but makes this process's table and the chunk if they
 * are missing; NULL only when out of range or out of memory (the child then
 * goes untracked, and is counted). */
struct kt_slot *kt_table_get(pid_t pid);
/* The report facts beside a slot of this process's own table. */
struct kt_slot_info *kt_table_info(pid_t pid);

/* Just before a fork-like call: note the fork mark (this process's table
 * and its seq) for the child to inherit.  A process that inherited tables
 * makes its own here, before its first fork, so that its children find the
 * whole line of tables in their memory. */
void kt_table_before_fork(void);

/* What the last fork noted (kt_table_before_fork): in a forked child, which
 * of its parent's registrations it may know of. */
struct kt_fork_mark {
	const struct kt_table_head *_Atomic head;
	_Atomic uint64_t seq;
};
extern struct kt_fork_mark kt_fork_mark;

/* PID's entry in ancestor table H as a descendant separated from it at fork
 * seq FORK_SEQ may know it: the current registration or the one it
 * replaced, whichever is the newest at or before FORK_SEQ.  Returns 1 and
 * fills *SEEN (BEFORE: 1 if it is the replaced one, i.e. H's owner has
 * registered the number again since), or 0 if nothing visible names PID. */
struct kt_seen {
	uint64_t word;
	uint64_t reg_seq;
	int before;
	const struct kt_entry *entry;
};
int kt_table_entry_seen(const struct kt_table_head *h, uint64_t fork_seq, pid_t pid,
                        struct kt_seen *seen);

/* libkt's counters (counters.h): this process's own. */
_Atomic uint64_t *kt_table_counters(void);

/* In a forked child, before it returns to the program.  (The kernel zeroes
 * the self page in a forked child; this only acts where it cannot, and then
 * costs the child a page copy.) */
void kt_table_forget(void);

/* Take the next registration number (1, 2, ...) of this process's table. */
uint64_t kt_table_next_seq(void);
/* The last registration number handed out by this process's table (0: none). */
uint64_t kt_table_last_seq(void);

/* Record a registered child in slot S: STATE is KT_SLOT_LIVE with IDENT its
 * pidfs inode, or KT_SLOT_LIVE_UNVERIFIED (IDENT is then ignored and the
 * registration number stands in for it, so every registration is distinct).
 * A registration always wins: the child it describes was verified
 * alive and ours after its fork returned, which is later than anything
 * already here. */
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

/* Bytes of chunk memory this process's table has mapped (stats, the memory
 * benchmark). */
size_t kt_table_bytes(void);

#ifdef KT_UNIT_TEST
/* Unit tests only: forget this process's table (unmapping it) and own none. */
void kt_table_reset_for_test(void);
#endif

#endif
