/* SPDX-License-Identifier: MIT */
/* Fd identity mode: held pidfds, their region, references and guards.
 * The design is in heldfd.h. */
#include "heldfd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "config.h"
#include "counters.h"
#include "report.h"
#include "sys.h"

/* Entry word. */
#define H_INUSE UINT64_C(1)
#define H_DEAD UINT64_C(2)
#define H_REF_SHIFT 2
#define H_REF_ONE (UINT64_C(1) << H_REF_SHIFT)
#define H_REF_MAX 0xffffu
#define H_GEN_SHIFT 18
#define H_GEN_MASK ((UINT64_C(1) << 37) - 1)

/* Slot identity of a held child: KT_HELD_ID_TAG | gen << 24 | fd. */
#define H_ID_TAG KT_HELD_ID_TAG
#define H_ID_FD_BITS 24

static inline unsigned w_refs(uint64_t w) { return (unsigned)(w >> H_REF_SHIFT) & H_REF_MAX; }
static inline uint64_t w_gen(uint64_t w) { return (w >> H_GEN_SHIFT) & H_GEN_MASK; }
/* DEAD with no reference out: whoever made it so is closing the fd now. */
static inline int w_closing(uint64_t w) { return (w & H_DEAD) && w_refs(w) == 0; }

static inline uint64_t id_make(int fd, uint64_t gen)
{
	return H_ID_TAG | gen << H_ID_FD_BITS | (uint64_t)fd;
}
static inline int id_is_held(uint64_t id) { return (id & H_ID_TAG) != 0; }
static inline int id_fd(uint64_t id) { return (int)(id & ((1u << H_ID_FD_BITS) - 1)); }
static inline uint64_t id_gen(uint64_t id) { return (id & ~H_ID_TAG) >> H_ID_FD_BITS; }

struct held_entry {
	_Atomic uint64_t word;
	_Atomic pid_t pid;     /* whose pidfd it is: for evictions */
	_Atomic uint64_t ino;  /* the child's pidfs inode if its slot had one, else 0 */
	_Atomic uint64_t used; /* held_tick at the last kill through it (the cache's LRU) */
};

/* The region: entry i is fd number held_floor + i.  held_floor and
 * held_count are written before held_tab is published (release), and never
 * change after. */
static struct held_entry *_Atomic held_tab;
static _Atomic int held_floor = INT_MAX;
static int held_count;
static _Atomic int held_setup_state; /* 0 not yet, 1 being set up, 2 ready, 3 impossible */
static _Atomic int held_guards;      /* fd guards between their check and their call */
static long held_max_fds = KT_MAX_FDS_DEFAULT; /* KT_MAX_FDS, set at start-up */
/* The cache's clock: a claim moves it on, so an entry's "used" says which
 * claims it has been signalled since.  Kills only read it: a kill through a
 * held fd writes one word of its own entry, and only when the clock moved. */
static _Atomic uint64_t held_tick;
static _Atomic int held_in_use;      /* entries claimed and not yet closed (a hint) */

static void note_used(struct held_entry *e)
{
	uint64_t now = atomic_load_explicit(&held_tick, memory_order_relaxed);
	if (atomic_load_explicit(&e->used, memory_order_relaxed) != now)
		atomic_store_explicit(&e->used, now, memory_order_relaxed);
}

void kt_held_configure(long max_fds)
{
	held_max_fds = max_fds;
}

/* Reserve the region, once.  Lazily, at the first pidfd kept: a process
 * that never signals a child pays nothing. */
static int held_setup(void)
{
	if (atomic_load_explicit(&held_tab, memory_order_acquire))
		return 1;
	int expected = 0;
	if (!atomic_compare_exchange_strong(&held_setup_state, &expected, 1))
		return 0; /* impossible, or being set up by a thread we interrupted */

	struct rlimit rl;
	long soft = KT_MAX_FDS_LIMIT;
	if (kt_syscall(SYS_getrlimit, RLIMIT_NOFILE, (long)&rl, 0, 0, 0) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)soft)
		soft = (long)rl.rlim_cur;
	/* A few fds, just above where programs usually keep theirs: a process's
	 * fd table grows to its highest open number, and every fork copies the
	 * table whole (an fd held at the top of a large soft limit made each
	 * fork copy thousands of entries). */
	long budget = held_max_fds;
	if (budget == KT_MAX_FDS_DEFAULT) /* at most KT_MAX_FDS_MAX (config.c) */
		budget = KT_HELD_MAX;
	/* Leave the program at least three quarters of its descriptors. */
	if (budget > soft / 4)
		budget = soft / 4;
	long floor = soft - budget < KT_HELD_FLOOR ? soft - budget : KT_HELD_FLOOR;
	void *mem = MAP_FAILED;
	if (budget > 0)
		mem = mmap(NULL, (size_t)budget * sizeof(struct held_entry),
		           PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		if (budget > 0)
			kt_report_degraded(KT_DEGRADED_NO_MEMORY, ENOMEM);
		atomic_store(&held_setup_state, 3);
		return 0;
	}
	held_count = (int)budget;
	atomic_store_explicit(&held_floor, (int)floor, memory_order_relaxed);
	atomic_store_explicit(&held_tab, (struct held_entry *)mem, memory_order_release);
	atomic_store(&held_setup_state, 2);
	return 1;
}

static struct held_entry *entry_for(int fd)
{
	struct held_entry *tab = atomic_load_explicit(&held_tab, memory_order_acquire);
	if (!tab)
		return NULL;
	int floor = atomic_load_explicit(&held_floor, memory_order_relaxed);
	if (fd < floor || fd - floor >= held_count)
		return NULL;
	return &tab[fd - floor];
}

int kt_held_floor(void)
{
	return atomic_load_explicit(&held_floor, memory_order_acquire);
}

/* Close FD, whose entry E we just made DEAD with no reference (word W),
 * then mark the entry free.  If another child already got the number (its
 * adoption replaces a closing word), the final swap just fails. */
static void finish_close(struct held_entry *e, int fd, uint64_t w)
{
	kt_close(fd);
	atomic_fetch_sub_explicit(&held_in_use, 1, memory_order_relaxed);
	uint64_t free_word = w_gen(w) << H_GEN_SHIFT;
	atomic_compare_exchange_strong(&e->word, &w, free_word);
}

/* Take a reference on ID's fd: its entry (*FD its number), or NULL if ID no
 * longer names a held fd (released, or the number now belongs to another
 * child). */
static struct held_entry *held_get(uint64_t id, int *fd)
{
	if (!id_is_held(id))
		return NULL;
	*fd = id_fd(id);
	struct held_entry *e = entry_for(*fd);
	if (!e)
		return NULL;
	uint64_t w = atomic_load_explicit(&e->word, memory_order_acquire);
	for (;;) {
		if (!(w & H_INUSE) || (w & H_DEAD) || w_gen(w) != id_gen(id) ||
		    w_refs(w) == H_REF_MAX)
			return NULL;
		if (atomic_compare_exchange_weak_explicit(&e->word, &w, w + H_REF_ONE,
		                                          memory_order_acq_rel,
		                                          memory_order_acquire))
			return e;
	}
}

/* Drop the reference held_get took on FD (whose entry is E).  A plain
 * subtraction: while we hold a reference nobody else can free or re-claim
 * the entry, so every other writer's compare-and-swap simply retries. */
static void held_put(struct held_entry *e, int fd)
{
	uint64_t nw = atomic_fetch_sub_explicit(&e->word, H_REF_ONE, memory_order_acq_rel) -
	              H_REF_ONE;
	if (w_closing(nw))
		finish_close(e, fd, nw);
}

void kt_held_release(uint64_t id)
{
	if (!id_is_held(id))
		return;
	int fd = id_fd(id);
	struct held_entry *e = entry_for(fd);
	if (!e)
		return;
	uint64_t w = atomic_load_explicit(&e->word, memory_order_acquire);
	for (;;) {
		if (!(w & H_INUSE) || (w & H_DEAD) || w_gen(w) != id_gen(id))
			return; /* already released */
		uint64_t nw = w | H_DEAD;
		if (atomic_compare_exchange_weak_explicit(&e->word, &w, nw, memory_order_acq_rel,
		                                          memory_order_acquire)) {
			if (w_closing(nw))
				finish_close(e, fd, nw);
			return;
		}
	}
}

/* Record that fd number G (in the region, just returned by the kernel, so
 * free) holds PID's pidfd.  Returns its identity, or 0 if the entry says the
 * number is still in use: then the program closed one of our fds behind our
 * back (a raw syscall), and neither number can be trusted. */
static uint64_t held_claim(int g, pid_t pid, uint64_t ino)
{
	struct held_entry *e = entry_for(g);
	if (!e)
		return 0;
	uint64_t w = atomic_load_explicit(&e->word, memory_order_acquire);
	for (;;) {
		/* A closing word is fine to take over: its fd is already closed,
		 * or the kernel could not have handed us the number. */
		if ((w & H_INUSE) && !w_closing(w))
			return 0;
		uint64_t gen = (w_gen(w) + 1) & H_GEN_MASK;
		if (gen == 0)
			gen = 1;
		atomic_store_explicit(&e->pid, pid, memory_order_relaxed);
		atomic_store_explicit(&e->ino, ino, memory_order_relaxed);
		/* Newer than every entry claimed or used before. */
		atomic_store_explicit(&e->used, atomic_fetch_add(&held_tick, 1) + 1,
		                      memory_order_relaxed);
		if (atomic_compare_exchange_weak(&e->word, &w, gen << H_GEN_SHIFT | H_INUSE)) {
			atomic_fetch_add_explicit(&held_in_use, 1, memory_order_relaxed);
			return id_make(g, gen);
		}
	}
}

/* Forget a claim without closing its fd: a guard raced with it, and the
 * number may already be the program's.  Nobody else can hold a reference:
 * the identity was never published. */
static void held_abandon(uint64_t id)
{
	struct held_entry *e = entry_for(id_fd(id));
	uint64_t w = atomic_load(&e->word);
	if (w_gen(w) == id_gen(id) &&
	    atomic_compare_exchange_strong(&e->word, &w, w_gen(w) << H_GEN_SHIFT))
		atomic_fetch_sub_explicit(&held_in_use, 1, memory_order_relaxed);
}

/* A copy of FD in the region: its number, or -errno (-EMFILE when the
 * region is full). */
static int held_place(int fd)
{
	int floor = atomic_load_explicit(&held_floor, memory_order_relaxed);
	int g = (int)kt_syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, floor, 0, 0);
	if (g == -EINVAL)
		return -EMFILE; /* the soft limit was lowered below the region */
	if (g < 0)
		return g;
	if (g - floor >= held_count) {
		kt_close(g);
		return -EMFILE;
	}
	return g;
}

/* The slot word a child held at ID goes back to when its fd is given up
 * while it lives: its inode if it had one, else no identity (the next kill
 * proves it again). */
static uint64_t word_without_fd(const struct held_entry *e)
{
	uint64_t ino = atomic_load_explicit(&e->ino, memory_order_relaxed);
	return ino ? kt_word(ino, KT_SLOT_LIVE)
	           : kt_word(kt_table_next_seq(), KT_SLOT_LIVE_UNVERIFIED);
}

/* The cache is full: give up the fd of the child least recently signalled
 * (it goes back to word_without_fd).  1 if one was given up.  Its number is
 * free once no kill still uses it. */
static int evict_least_used(void)
{
	struct held_entry *tab = atomic_load_explicit(&held_tab, memory_order_acquire);
	int floor = atomic_load_explicit(&held_floor, memory_order_relaxed);
	int best = -1;
	uint64_t best_used = UINT64_MAX, best_w = 0;
	for (int i = 0; i < held_count; i++) {
		uint64_t w = atomic_load_explicit(&tab[i].word, memory_order_acquire);
		uint64_t used = atomic_load_explicit(&tab[i].used, memory_order_relaxed);
		if ((w & H_INUSE) && !(w & H_DEAD) && used < best_used) {
			best = i;
			best_used = used;
			best_w = w;
		}
	}
	if (best < 0)
		return 0;
	uint64_t id = id_make(floor + best, w_gen(best_w));
	pid_t pid = atomic_load_explicit(&tab[best].pid, memory_order_relaxed);
	struct kt_slot *s = kt_table_find(pid);
	uint64_t old = kt_word(id, KT_SLOT_LIVE);
	/* If the slot moved on by itself (reaped, registered again), it no
	 * longer names this fd, and the release below is all there is to do. */
	if (s)
		atomic_compare_exchange_strong(&s->word, &old, word_without_fd(&tab[best]));
	kt_held_release(id);
	return 1;
}

uint64_t kt_held_adopt(int pidfd, pid_t pid, uint64_t ino, int borrowed)
{
	if (!held_setup()) {
		if (!borrowed)
			kt_close(pidfd);
		return 0;
	}
	/* Full: give up the fd of the child signalled least recently. */
	if (atomic_load_explicit(&held_in_use, memory_order_relaxed) >= held_count)
		evict_least_used();
	int g = held_place(pidfd);
	if (g == -EMFILE && evict_least_used())
		g = held_place(pidfd);
	if (!borrowed)
		kt_close(pidfd);
	if (g < 0) {
		kt_report_degraded(KT_DEGRADED_FD_BUDGET, -g);
		return 0;
	}
	uint64_t id = held_claim(g, pid, ino);
	if (!id) {
		kt_close(g);
		return 0;
	}
	/* A guard (close, dup2, ...) that judged number g "not ours" before the
	 * claim may be about to close or replace it.  The claim above and the
	 * guard's increment are both sequentially consistent, so either the
	 * guard sees the claim or we see the guard.  If we see one, give the
	 * number up without closing it (it may by now be the program's): at
	 * worst one of our fds stays open, CLOEXEC, in the region. */
	if (atomic_load(&held_guards) != 0) {
		held_abandon(id);
		return 0;
	}
	return id;
}

int kt_held_borrow(uint64_t ident, struct kt_held_ref *ref)
{
	struct held_entry *e = held_get(ident, &ref->fd);
	if (!e)
		return -1;
	note_used(e);
	ref->entry = e;
	return ref->fd;
}

void kt_held_return(const struct kt_held_ref *ref)
{
	held_put(ref->entry, ref->fd);
}

/* Is the process behind held fd FD reaped?  Asked with signal 0, not
 * waitid: a forked child inherits its parent's held fds, which name its
 * siblings, and waitid would call every one of them "not my child". */
static int held_gone(int fd)
{
	return kt_pidfd_send_signal(fd, 0, NULL, 0) == -ESRCH;
}

int kt_held_names_live_child(uint64_t id)
{
	int fd;
	struct held_entry *e = held_get(id, &fd);
	if (!e)
		return 0;
	int gone = held_gone(fd);
	held_put(e, fd);
	return !gone;
}

/* ---- guards ---------------------------------------------------------------- */

int kt_held_owns(int fd)
{
	struct held_entry *e = entry_for(fd);
	if (!e)
		return 0;
	for (int spin = 0;; spin++) {
		uint64_t w = atomic_load(&e->word);
		if (!(w & H_INUSE))
			return 0;
		if (!w_closing(w))
			return 1;
		/* Being closed by a releaser this very moment: answer about the
		 * number as it will be.  Bounded, because the closer may be the
		 * code this signal handler interrupted. */
		if (spin >= 100)
			return 0;
		kt_syscall(SYS_sched_yield, 0, 0, 0, 0, 0);
	}
}

int kt_held_next(unsigned from, unsigned to)
{
	struct held_entry *tab = atomic_load_explicit(&held_tab, memory_order_acquire);
	if (!tab || from > to)
		return -1;
	unsigned floor = (unsigned)atomic_load_explicit(&held_floor, memory_order_relaxed);
	unsigned end = floor + (unsigned)held_count - 1;
	if (to < floor || from > end)
		return -1;
	for (unsigned fd = from < floor ? floor : from; fd <= end && fd <= to; fd++)
		if (kt_held_owns((int)fd))
			return (int)fd;
	return -1;
}

void kt_held_guard_begin(void)
{
	atomic_fetch_add(&held_guards, 1);
}

void kt_held_guard_end(void)
{
	atomic_fetch_sub(&held_guards, 1);
}

/* Give the child held at number FD (identity ID) a new home in the region,
 * or, if there is none, track it on without an fd; then release ID. */
static void held_move(int fd, uint64_t id)
{
	struct held_entry *e = entry_for(fd);
	pid_t pid = atomic_load_explicit(&e->pid, memory_order_relaxed);
	uint64_t nid = 0;
	int g = held_place(fd);
	if (g >= 0) {
		nid = held_claim(g, pid, atomic_load_explicit(&e->ino, memory_order_relaxed));
		/* Another guard (ours is counted too) may be closing g. */
		if (nid && atomic_load(&held_guards) > 1) {
			held_abandon(nid);
			nid = 0;
		} else if (!nid) {
			kt_close(g);
		}
	}
	struct kt_slot *s = kt_table_find(pid);
	uint64_t old = kt_word(id, KT_SLOT_LIVE);
	uint64_t new = nid ? kt_word(nid, KT_SLOT_LIVE) : word_without_fd(e);
	if (!s || !atomic_compare_exchange_strong(&s->word, &old, new)) {
		/* The slot moved on by itself (reaped, re-registered). */
		if (nid)
			kt_held_release(nid);
	} else if (!nid) {
		kt_count(KT_N_FALLBACKS);
	}
	kt_held_release(id);
}

int kt_held_evict(int fd)
{
	struct held_entry *e = entry_for(fd);
	if (!e)
		return 0;
	for (int spin = 0;; spin++) {
		uint64_t w = atomic_load(&e->word);
		if (!(w & H_INUSE))
			return 0;
		if (!(w & H_DEAD)) {
			held_move(fd, id_make(fd, w_gen(w)));
			continue;
		}
		/* Released; a kill still holds it, and its last reference will
		 * close it.  Kills take microseconds; one that does not finish is
		 * one that this signal handler interrupted, and dup2 may fail with
		 * EBUSY (Linux documents it for a race with open()). */
		if (spin >= 10000)
			return -EBUSY;
		kt_syscall(SYS_sched_yield, 0, 0, 0, 0, 0);
	}
}
