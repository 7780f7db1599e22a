/* SPDX-License-Identifier: MIT */
/* Held pidfds: their region, references, guards and the cache's eviction.
 * The design is in heldfd.h. */
#include "heldfd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "config.h"
#include "counters.h"
#include "hot.h"
#include "report.h"
#include "sys.h"

/* Entry word: gen << 18 | refs << 3 | PENDING << 2 | DEAD << 1 | INUSE.
 * PENDING: claimed, but its slot does not name it yet (kt_held_settle). */
#define H_INUSE UINT64_C(1)
#define H_DEAD UINT64_C(2)
#define H_PENDING UINT64_C(4)
#define H_REF_SHIFT 3
#define H_REF_ONE (UINT64_C(1) << H_REF_SHIFT)
#define H_REF_MAX 0x7fffu
#define H_GEN_SHIFT 18
#define H_GEN_MASK ((UINT64_C(1) << 37) - 1)

/* Slot identity of a held child: KT_HELD_ID_TAG | gen << 24 | fd. */
#define H_ID_TAG KT_HELD_ID_TAG
#define H_ID_FD_BITS 24

/* How many times a guard yields, waiting for a kill's reference or a
 * releaser's close to end, before it gives up (dup2 then fails with EBUSY,
 * which Linux documents for a race with open()).  Kills and closes take
 * microseconds; one that does not end is one that the caller, a signal
 * handler, interrupted. */
#define H_WAIT_YIELDS 10000

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

/* The region: entry i is fd number KT_HELD_FLOOR + i.  Made once, published
 * whole with one compare-and-swap (a fork cannot copy it half made), never
 * unmapped. */
struct held_region {
	int count;
	struct held_entry e[];
};
static struct held_region *_Atomic held_reg;
static long held_max_fds = KT_MAX_FDS_DEFAULT; /* KT_MAX_FDS, set at start-up */

/* Guards between their check and their call: low 32 bits the number now,
 * high 32 bits how many ever began (so an adoption sees a guard that began
 * and ended while it was under way).  Sequentially consistent, with the
 * adoption's reads (Dekker). */
#define H_GUARD_ONE (UINT64_C(1) | UINT64_C(1) << 32)
#define H_GUARD_COUNT(g) ((uint32_t)(g))
static _Atomic uint64_t held_guards;

/* The cache's clock: a claim moves it on, so an entry's "used" says which
 * claims it has been signalled since.  Kills only read it: a kill through a
 * held fd writes one word of its own entry, and only when the clock moved. */
static _Atomic uint64_t held_tick;
static _Atomic int held_in_use; /* entries claimed and not yet closed (a hint) */

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

/* How many pidfds may be held, from the floor up: KT_MAX_FDS, at most
 * KT_HELD_MAX, at most a quarter of the soft RLIMIT_NOFILE, and below it. */
static long budget_now(void)
{
	struct rlimit rl;
	long soft = KT_MAX_FDS_LIMIT;
	if (kt_syscall(SYS_getrlimit, RLIMIT_NOFILE, (long)&rl, 0, 0, 0) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)soft)
		soft = (long)rl.rlim_cur;
	long budget = held_max_fds;
	if (budget == KT_MAX_FDS_DEFAULT) /* at most KT_MAX_FDS_MAX (config.c) */
		budget = KT_HELD_MAX;
	/* Leave the program at least three quarters of its descriptors. */
	if (budget > soft / 4)
		budget = soft / 4;
	if (budget > soft - KT_HELD_FLOOR)
		budget = soft - KT_HELD_FLOOR;
	return budget;
}

/* The region, made at the first pidfd kept: a process that never signals a
 * child pays nothing.  NULL when there is no room for one. */
static struct held_region *region_made(void)
{
	struct held_region *r = atomic_load_explicit(&held_reg, memory_order_acquire);
	if (r)
		return r;
	long budget = budget_now();
	if (budget <= 0)
		return NULL;
	size_t bytes = sizeof *r + (size_t)budget * sizeof(struct held_entry);
	struct held_region *mine = kt_zeroed_pages(bytes);
	if (!mine) {
		kt_report_degraded(KT_DEGRADED_NO_MEMORY, ENOMEM);
		return NULL;
	}
	mine->count = (int)budget;
	if (atomic_compare_exchange_strong_explicit(&held_reg, &r, mine, memory_order_acq_rel,
	                                            memory_order_acquire))
		return mine;
	munmap(mine, bytes); /* another thread, or a handler, made it first */
	return r;
}

static struct held_entry *entry_for(int fd)
{
	struct held_region *r = atomic_load_explicit(&held_reg, memory_order_acquire);
	if (!r || fd < KT_HELD_FLOOR || fd - KT_HELD_FLOOR >= r->count)
		return NULL;
	return &r->e[fd - KT_HELD_FLOOR];
}

/* 1 if the region in our memory is our own, 0 if it was inherited from the
 * process we were forked from (see heldfd.h). */
static int region_is_ours(void)
{
	struct kt_self *self = atomic_load_explicit(&kt_self_page, memory_order_acquire);
	return self && atomic_load_explicit(&self->held_owned, memory_order_acquire) == 1;
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
	/* A failed compare-and-swap means another kill's reference, or a
	 * release, changed the word: few, and each ends its own turn. */
	for (;;) {
		if (!(w & H_INUSE) || (w & (H_DEAD | H_PENDING)) || w_gen(w) != id_gen(id) ||
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
 * the entry, so every other writer's compare-and-swap simply retries.  A
 * reference taken before a fork by the thread that then forked from a
 * signal handler may come back to an entry the child has since given up
 * (heldfd.h): that one finds no reference to drop. */
static void held_put(struct held_entry *e, int fd)
{
	uint64_t w = atomic_load_explicit(&e->word, memory_order_acquire);
	if (w_refs(w) == 0)
		return;
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
	/* Retried only when a kill's reference or another release changed the
	 * word in between; the second release finds it DEAD and stops. */
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

void kt_held_settle(uint64_t id, int named)
{
	struct held_entry *e = id_is_held(id) ? entry_for(id_fd(id)) : NULL;
	if (!e)
		return;
	uint64_t w = atomic_load_explicit(&e->word, memory_order_acquire);
	/* Nothing else changes a pending entry (evictions and kills leave it
	 * alone, guards wait for it): one turn, or one more if a guard's
	 * abandon raced us. */
	while ((w & H_PENDING) && w_gen(w) == id_gen(id)) {
		uint64_t nw = w & ~H_PENDING;
		if (atomic_compare_exchange_weak(&e->word, &w, nw)) {
			if (!named)
				kt_held_release(id);
			return;
		}
	}
}

/* Close one inherited entry's fd, whatever references the parent's threads
 * had out when we were forked: none of ours can be (only the forking thread
 * is here, and it never sends through an inherited entry). */
static void give_up_inherited(struct held_entry *e, int fd)
{
	uint64_t w = atomic_load_explicit(&e->word, memory_order_acquire);
	/* A turn fails only when another thread of ours changed the word. */
	for (;;) {
		if (!(w & H_INUSE) || w_closing(w))
			return;
		uint64_t closing = (w_gen(w) << H_GEN_SHIFT) | H_DEAD | H_INUSE;
		if (atomic_compare_exchange_weak(&e->word, &w, closing)) {
			finish_close(e, fd, closing);
			return;
		}
	}
}

/* Make the region in our memory our own: in a forked child, first close
 * what was inherited with it.  0 when another thread of ours is doing it
 * right now (the caller then keeps nothing this time). */
static int region_made_ours(struct held_region *r)
{
	struct kt_self *self = atomic_load_explicit(&kt_self_page, memory_order_acquire);
	if (!self)
		return 0; /* no table, so no child to keep a pidfd for */
	int state = atomic_load_explicit(&self->held_owned, memory_order_acquire);
	if (state == 1)
		return 1;
	if (state != 0 || !atomic_compare_exchange_strong(&self->held_owned, &state, 2))
		return 0;
	for (int i = 0; i < r->count; i++)
		give_up_inherited(&r->e[i], KT_HELD_FLOOR + i);
	atomic_store_explicit(&self->held_owned, 1, memory_order_release);
	return 1;
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
	/* Retried only while a releaser finishes its close of this number. */
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
		if (atomic_compare_exchange_weak(&e->word, &w,
		                                 gen << H_GEN_SHIFT | H_PENDING | H_INUSE)) {
			atomic_fetch_add_explicit(&held_in_use, 1, memory_order_relaxed);
			return id_make(g, gen);
		}
	}
}

/* Forget a claim without closing its fd: a guard ran while we made it, and
 * the number may already be the program's.  Nobody else can hold a
 * reference: the identity was never published. */
static void held_abandon(uint64_t id)
{
	struct held_entry *e = entry_for(id_fd(id));
	uint64_t w = atomic_load(&e->word);
	if (w_gen(w) == id_gen(id) &&
	    atomic_compare_exchange_strong(&e->word, &w, w_gen(w) << H_GEN_SHIFT))
		atomic_fetch_sub_explicit(&held_in_use, 1, memory_order_relaxed);
}

/* A copy of FD in the region R: its number, or -errno (-EMFILE when the
 * region is full). */
static int held_place(const struct held_region *r, int fd)
{
	int g = (int)kt_syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, KT_HELD_FLOOR, 0, 0);
	if (g == -EINVAL)
		return -EMFILE; /* the soft limit was lowered below the region */
	if (g < 0)
		return g;
	if (g - KT_HELD_FLOOR >= r->count) {
		kt_close(g);
		return -EMFILE;
	}
	return g;
}

/* Place FD in the region and claim the number for PID, unless a guard ran
 * meanwhile (heldfd.h): the identity, or 0.  Either the guard's count was
 * up when we looked, or its begin moved the count on before our second
 * look: both are sequentially consistent, so one of the two sees the other. */
static uint64_t place_and_claim(struct held_region *r, int fd, pid_t pid, uint64_t ino,
                                int *err)
{
	uint64_t before = atomic_load(&held_guards);
	if (H_GUARD_COUNT(before) != 0) {
		*err = -EBUSY;
		return 0;
	}
	int g = held_place(r, fd);
	if (g < 0) {
		*err = g;
		return 0;
	}
	uint64_t id = held_claim(g, pid, ino);
	if (!id) {
		kt_close(g);
		*err = -EBADF;
		return 0;
	}
	if (atomic_load(&held_guards) != before) {
		held_abandon(id); /* at worst one of our fds stays open, CLOEXEC */
		*err = -EBUSY;
		return 0;
	}
	return id;
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
static int evict_least_used(struct held_region *r)
{
	int best = -1;
	uint64_t best_used = UINT64_MAX, best_w = 0;
	for (int i = 0; i < r->count; i++) {
		uint64_t w = atomic_load_explicit(&r->e[i].word, memory_order_acquire);
		uint64_t used = atomic_load_explicit(&r->e[i].used, memory_order_relaxed);
		/* A pending entry is not given up: its slot is about to name it,
		 * and could not be given its old word back. */
		if ((w & H_INUSE) && !(w & (H_DEAD | H_PENDING)) && used < best_used) {
			best = i;
			best_used = used;
			best_w = w;
		}
	}
	if (best < 0)
		return 0;
	uint64_t id = id_make(KT_HELD_FLOOR + best, w_gen(best_w));
	pid_t pid = atomic_load_explicit(&r->e[best].pid, memory_order_relaxed);
	struct kt_slot *s = kt_table_find(pid);
	uint64_t old = kt_word(id, KT_SLOT_LIVE);
	/* If the slot moved on by itself (reaped, registered again), it no
	 * longer names this fd, and the release below is all there is to do. */
	if (s)
		atomic_compare_exchange_strong(&s->word, &old, word_without_fd(&r->e[best]));
	kt_held_release(id);
	return 1;
}

uint64_t kt_held_adopt(int pidfd, pid_t pid, uint64_t ino, int borrowed)
{
	struct held_region *r = region_made();
	uint64_t id = 0;
	int err = -EMFILE;
	if (r && region_made_ours(r)) {
		/* Full: give up the fd of the child signalled least recently. */
		if (atomic_load_explicit(&held_in_use, memory_order_relaxed) >= r->count)
			evict_least_used(r);
		id = place_and_claim(r, pidfd, pid, ino, &err);
		if (!id && err == -EMFILE && evict_least_used(r))
			id = place_and_claim(r, pidfd, pid, ino, &err);
	}
	if (!borrowed)
		kt_close(pidfd);
	if (!id && err != -EBUSY && err != -EBADF)
		kt_report_degraded(KT_DEGRADED_FD_BUDGET, -err);
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
 * waitid: it must answer the same for a child made with CLONE_PARENT, which
 * is not ours to wait for. */
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
	/* Being closed by its releaser this very moment: answer about the
	 * number as it will be.  A closer that does not finish is the code
	 * this signal handler interrupted; the fd may still be open then, so
	 * the number stays ours. */
	for (int spin = 0;; spin++) {
		uint64_t w = atomic_load(&e->word);
		if (!(w & H_INUSE))
			return 0;
		if (!w_closing(w) || spin >= H_WAIT_YIELDS)
			return 1;
		kt_syscall(SYS_sched_yield, 0, 0, 0, 0, 0);
	}
}

int kt_held_next(unsigned from, unsigned to)
{
	struct held_region *r = atomic_load_explicit(&held_reg, memory_order_acquire);
	if (!r || from > to)
		return -1;
	unsigned end = KT_HELD_FLOOR + (unsigned)r->count - 1;
	if (to < KT_HELD_FLOOR || from > end)
		return -1;
	for (unsigned fd = from < KT_HELD_FLOOR ? KT_HELD_FLOOR : from; fd <= end && fd <= to; fd++)
		if (kt_held_owns((int)fd))
			return (int)fd;
	return -1;
}

void kt_held_guard_begin(void)
{
	atomic_fetch_add(&held_guards, H_GUARD_ONE);
}

void kt_held_guard_end(void)
{
	uint64_t g = atomic_load(&held_guards);
	/* A guard a signal handler had open when it forked ends in the child
	 * after kt_held_forget_guards: there is nothing to take away then. */
	while (H_GUARD_COUNT(g) != 0 && !atomic_compare_exchange_weak(&held_guards, &g, g - 1))
		;
}

KT_CHILD_PATH void kt_held_forget_guards(void)
{
	/* Stored only when it is not zero already: an unconditional store
	 * costs every forked child a page copy. */
	uint64_t g = atomic_load_explicit(&held_guards, memory_order_relaxed);
	if (H_GUARD_COUNT(g) != 0)
		atomic_store_explicit(&held_guards, g & ~UINT64_C(0xffffffff),
		                      memory_order_relaxed);
}

/* Give the child held at number FD (identity ID) a new home in the region,
 * or, if there is none, track it on without an fd; then release ID. */
static void held_move(struct held_region *r, int fd, uint64_t id)
{
	struct held_entry *e = entry_for(fd);
	pid_t pid = atomic_load_explicit(&e->pid, memory_order_relaxed);
	uint64_t nid = 0;
	int g = held_place(r, fd);
	if (g >= 0) {
		nid = held_claim(g, pid, atomic_load_explicit(&e->ino, memory_order_relaxed));
		/* Another guard (ours is counted too) may be closing g. */
		if (nid && H_GUARD_COUNT(atomic_load(&held_guards)) > 1) {
			held_abandon(nid);
			nid = 0;
		} else if (!nid) {
			kt_close(g);
		}
	}
	struct kt_slot *s = kt_table_find(pid);
	uint64_t old = kt_word(id, KT_SLOT_LIVE);
	uint64_t new = nid ? kt_word(nid, KT_SLOT_LIVE) : word_without_fd(e);
	/* Unless the slot moved on by itself (reaped, re-registered). */
	int named = s && atomic_compare_exchange_strong(&s->word, &old, new);
	if (nid)
		kt_held_settle(nid, named);
	else if (named)
		kt_count(KT_N_FALLBACKS);
	kt_held_release(id);
}

int kt_held_evict(int fd)
{
	struct held_entry *e = entry_for(fd);
	if (!e)
		return 0;
	struct held_region *r = atomic_load_explicit(&held_reg, memory_order_acquire);
	if (!region_is_ours()) {
		/* Inherited from the process we were forked from: its fd is of no
		 * use here (heldfd.h); give it up rather than move it. */
		give_up_inherited(e, fd);
	}
	/* Each turn moves our fd away, or waits for a kill's reference, a
	 * releaser's close or a pending claim to end, at most H_WAIT_YIELDS
	 * times. */
	for (int spin = 0;; spin++) {
		uint64_t w = atomic_load(&e->word);
		if (!(w & H_INUSE))
			return 0;
		if (!(w & (H_DEAD | H_PENDING))) {
			held_move(r, fd, id_make(fd, w_gen(w)));
			continue;
		}
		if (spin >= H_WAIT_YIELDS)
			return -EBUSY;
		kt_syscall(SYS_sched_yield, 0, 0, 0, 0, 0);
	}
}

#ifdef KT_UNIT_TEST
void kt_held_reset_for_test(void)
{
	struct held_region *r = atomic_exchange(&held_reg, NULL);
	for (int i = 0; r && i < r->count; i++)
		if (atomic_load(&r->e[i].word) & H_INUSE)
			kt_close(KT_HELD_FLOOR + i);
	if (r)
		munmap(r, sizeof *r + (size_t)r->count * sizeof(struct held_entry));
	atomic_store(&held_in_use, 0);
	atomic_store(&held_guards, 0);
	atomic_store(&held_tick, 0);
}
#endif
