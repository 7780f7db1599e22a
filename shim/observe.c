/* SPDX-License-Identifier: MIT */
/* Observation: see observe.h.
 *
 * Which process the program opened.  The program's open looked /proc/N up
 * and got a file of one process X (a /proc file refers to the process, not
 * to its number).  Inside the hook, before the program has its descriptor
 * back, libkt opens a pidfd of N.  Either X is unreaped then, so it still
 * holds N and the pidfd names X; or X was reaped in between, and then every
 * read through the program's descriptor fails (a /proc/N file of a reaped
 * process answers ESRCH, the directory ENOENT): the program learns nothing
 * of X through it, and the pidfd names a later process, or nobody (pidfd_open
 * answers ESRCH; recorded as GONE).  So whenever the program reads anything
 * through what it opened, the pidfd named the process it read about.  No
 * descriptor is kept: what outlives the pidfd is its pidfs inode number.
 *
 * Why inode order settles the kill.  pidfs numbers its inodes from one
 * counter as processes are created.  At the kill, libkt opens a pidfd of
 * the number again: the same inode is the process observed; a larger one is
 * a process created after it, and since a process keeps its number until it
 * is reaped and no two processes hold one number at once, the observed
 * process no longer holds N: the kill is stale.  A smaller one cannot happen
 * (it would go by number).  GONE: whoever holds N at the kill came later.
 *
 * Without unique inodes (before 6.9, or KT_IDENTITY=fd) the start time the
 * kernel keeps for the process stands in: /proc/N/stat is read after the
 * pidfd is opened and taken as that process's only if the pidfd's process
 * is still alive afterwards.  Different start times are different
 * processes.  The same start time and a different process needs N reused
 * within one clock tick of the observed process's creation, which takes a
 * privileged hand (ns_last_pid, clone3's set_tid); the kill then goes
 * through, as it would without libkt. */
#include "observe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "fmt.h"
#include "holder.h"
#include "identity.h"
#include "log.h"
#include "sys.h"
#include "vfork_child.h"

struct kt_observe_hot kt_observe_hot;

void kt_observe_configure(enum kt_mode observe, enum kt_mode mode)
{
	/* KT_MODE=audit changes nothing, and off does nothing: observation
	 * does no more than the mode allows. */
	atomic_store(&kt_observe_hot.mode, (int)(observe < mode ? observe : mode));
}

enum kt_mode kt_observe_mode(void)
{
	return (enum kt_mode)atomic_load_explicit(&kt_observe_hot.mode, memory_order_relaxed);
}

/* ---- the table ---------------------------------------------------------------
 *
 * Buckets of ways, a PID hashed to one bucket; in it, a new observation of
 * a PID replaces that PID's entry, else the bucket's empty or oldest one.
 * Each bucket has a sequence lock: a writer takes it with a compare-and-swap
 * and never waits for it (a signal handler may have interrupted the holder
 * in its own thread).  A writer that finds it taken marks the bucket dirty
 * and drops its observation; the holder, seeing the mark when it lets go,
 * empties the bucket, so no older observation of the dropped one's number
 * stays behind to judge a kill by (forgotten numbers go by number).  A
 * reader retries once if a write came between its two reads of the lock,
 * then gives up: by number. */

#define KT_OBS_BUCKET_BITS 10
#define KT_OBS_BUCKETS (1u << KT_OBS_BUCKET_BITS)
#define KT_OBS_WAYS 7        /* a bucket in two cache lines */
#define KT_OBS_BUSY 1u
#define KT_OBS_DIRTY 2u
#define KT_OBS_VERSION 4u
/* How long a reader or writer waits for another thread's write, in loads:
 * a write takes well under a microsecond; a descheduled writer is not
 * waited for. */
#define KT_OBS_SPIN 2000

struct kt_obs_entry {
	_Atomic uint32_t pid_kind; /* pid << 2 | enum kt_sighting_kind; 0: empty */
	_Atomic uint32_t seq;      /* table-wide order of writes: the oldest goes first */
	_Atomic uint64_t ident;    /* inode number or start time; 0 for GONE */
};

struct kt_obs_bucket {
	_Atomic uint64_t lock; /* version * KT_OBS_VERSION | DIRTY | BUSY */
	struct kt_obs_entry way[KT_OBS_WAYS];
} __attribute__((aligned(128)));

/* Per-process facts, in the table's own memory: a forked child asks again. */
struct kt_obs_table {
	_Atomic uint32_t seq;
	_Atomic int proc;          /* 0: not asked; 1: /proc is our PID namespace's; -1: not */
	_Atomic uint64_t proc_dev; /* its device number, to know a descriptor of its root */
	_Atomic int self;          /* our PID (0: not asked) */
	struct kt_obs_bucket bucket[KT_OBS_BUCKETS] __attribute__((aligned(128)));
};

/* What a report says about an entry (reports on only), beside the table:
 * written under the bucket's lock, read without it, field by field. */
struct kt_obs_story {
	uint64_t at_ns;
	uint8_t from_n;
	char suffix[KT_SEEN_PATH - 16]; /* the path after "/proc/N" */
	uintptr_t from[KT_CALLER_FRAMES];
};

#define KT_OBS_ENTRIES (KT_OBS_BUCKETS * KT_OBS_WAYS)
#define KT_OBS_SET(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)
#define KT_OBS_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

static struct kt_obs_story *_Atomic stories;
static _Atomic int no_table; /* the table could not be made: observe nothing */
/* Bucket locks this thread holds (a signal handler's write may nest in
 * another's): a handler that interrupted a holder must not wait for it.
 * initial-exec: no __tls_get_addr (the dynamic loader's, which may
 * allocate); libkt is preloaded, so it has static TLS. */
static __thread int writing __attribute__((tls_model("initial-exec")));

#define KT_MADV_WIPEONFORK 18 /* 4.14; older headers lack it */

/* Pages a forked child gets zeroed: its table starts empty (it cannot judge
 * its parent's observations: a child made after an unshare(CLONE_NEWPID)
 * counts in other numbers) and no fork copies them.  Every kernel with
 * pidfds has MADV_WIPEONFORK. */
static void *wiped_pages(size_t n)
{
	void *mem = kt_zeroed_pages(n);
	if (mem && kt_syscall(SYS_madvise, (long)mem, (long)n, KT_MADV_WIPEONFORK, 0, 0) < 0) {
		munmap(mem, n);
		return NULL;
	}
	return mem;
}

static struct kt_obs_table *table_now(void)
{
	return atomic_load_explicit(&kt_observe_hot.table, memory_order_acquire);
}

/* The table, made by the first observation (mmap: async-signal-safe). */
static struct kt_obs_table *table_get(void)
{
	struct kt_obs_table *t = table_now();
	if (t || atomic_load_explicit(&no_table, memory_order_relaxed))
		return t;
	t = wiped_pages(sizeof *t);
	if (!t) {
		atomic_store(&no_table, 1);
		return NULL;
	}
	if (kt_log_wanted() && !atomic_load(&stories)) {
		struct kt_obs_story *s = wiped_pages(KT_OBS_ENTRIES * sizeof *s);
		struct kt_obs_story *none = NULL;
		if (s && !atomic_compare_exchange_strong(&stories, &none, s))
			munmap(s, KT_OBS_ENTRIES * sizeof *s);
	}
	void *expected = NULL;
	if (!atomic_compare_exchange_strong_explicit(&kt_observe_hot.table, &expected, t,
	                                             memory_order_acq_rel, memory_order_acquire)) {
		munmap(t, sizeof *t); /* another thread, or a handler, won */
		t = expected;
	}
	return t;
}

static struct kt_obs_bucket *bucket_of(struct kt_obs_table *t, pid_t pid)
{
	/* Fibonacci hashing: consecutive PIDs land far apart. */
	uint32_t h = (uint32_t)pid * 2654435769u;
	return &t->bucket[h >> (32 - KT_OBS_BUCKET_BITS)];
}

static int way_index(struct kt_obs_table *t, struct kt_obs_bucket *b, int way)
{
	return (int)(b - t->bucket) * KT_OBS_WAYS + way;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

/* Wait (boundedly) while another thread writes B; the lock word, or one
 * still BUSY when this thread's own write is the one in progress. */
static uint64_t lock_settled(struct kt_obs_bucket *b)
{
	uint64_t w = atomic_load_explicit(&b->lock, memory_order_acquire);
	for (int i = 0; (w & KT_OBS_BUSY) && !writing && i < KT_OBS_SPIN; i++) {
		cpu_relax();
		w = atomic_load_explicit(&b->lock, memory_order_acquire);
	}
	return w;
}

/* Take B's lock; 0 (and the bucket marked dirty) if another write holds it
 * after the wait. */
static int bucket_lock(struct kt_obs_bucket *b, uint64_t *held)
{
	uint64_t w = lock_settled(b);
	for (;;) {
		/* A failed compare-and-swap reloads W: each turn either takes the
		 * lock or leaves the holder a mark. */
		if (!(w & KT_OBS_BUSY)) {
			if (atomic_compare_exchange_weak_explicit(&b->lock, &w, w | KT_OBS_BUSY,
			                                          memory_order_acquire,
			                                          memory_order_relaxed)) {
				*held = w | KT_OBS_BUSY;
				writing++;
				return 1;
			}
		} else if ((w & KT_OBS_DIRTY) ||
		           atomic_compare_exchange_weak_explicit(&b->lock, &w, w | KT_OBS_DIRTY,
		                                                 memory_order_relaxed,
		                                                 memory_order_relaxed)) {
			return 0;
		}
	}
}

static void bucket_unlock(struct kt_obs_bucket *b, uint64_t held)
{
	uint64_t next = (held & ~(uint64_t)(KT_OBS_BUSY | KT_OBS_DIRTY)) + KT_OBS_VERSION;
	uint64_t w = held;
	if (!atomic_compare_exchange_strong_explicit(&b->lock, &w, next, memory_order_release,
	                                             memory_order_relaxed)) {
		/* Dirty: a write was dropped meanwhile; forget everything here. */
		for (int i = 0; i < KT_OBS_WAYS; i++)
			atomic_store_explicit(&b->way[i].pid_kind, 0, memory_order_relaxed);
		atomic_store_explicit(&b->lock, next, memory_order_release);
	}
	writing--;
}

/* The way of B that holds PID, else -1. */
static int find_way(struct kt_obs_bucket *b, pid_t pid)
{
	for (int i = 0; i < KT_OBS_WAYS; i++)
		if (atomic_load_explicit(&b->way[i].pid_kind, memory_order_relaxed) >> 2 ==
		    (uint32_t)pid)
			return i;
	return -1;
}

/* The way a new observation of PID goes to: PID's own, else an empty one,
 * else the oldest. */
static int victim_way(struct kt_obs_bucket *b, pid_t pid, uint32_t now)
{
	int w = find_way(b, pid);
	if (w >= 0)
		return w;
	uint32_t oldest = 0;
	for (int i = 0; i < KT_OBS_WAYS; i++) {
		if (!atomic_load_explicit(&b->way[i].pid_kind, memory_order_relaxed))
			return i;
		uint32_t age = now - atomic_load_explicit(&b->way[i].seq, memory_order_relaxed);
		if (w < 0 || age > oldest) {
			w = i;
			oldest = age;
		}
	}
	return w;
}

/* What a report will say about the entry at INDEX. */
static void write_story(int index, const char *suffix, const struct kt_caller *from)
{
	struct kt_obs_story *s = atomic_load_explicit(&stories, memory_order_acquire);
	if (!s)
		return;
	s += index;
	KT_OBS_SET(s->at_ns, kt_now_ns());
	size_t i = 0;
	for (; i + 1 < sizeof s->suffix && suffix[i]; i++)
		KT_OBS_SET(s->suffix[i], suffix[i]);
	KT_OBS_SET(s->suffix[i], '\0');
	for (int f = 0; f < from->n; f++)
		KT_OBS_SET(s->from[f], from->pc[f]);
	KT_OBS_SET(s->from_n, (uint8_t)from->n);
}

/* Record (KIND, IDENT) as what PID is now; KIND 0 forgets PID. */
static void record(struct kt_obs_table *t, pid_t pid, unsigned kind, uint64_t ident,
                   const char *suffix, const struct kt_origin *origin)
{
	struct kt_caller from = { .n = 0 };
	if (kind && origin && atomic_load_explicit(&stories, memory_order_relaxed)) {
		kt_caller_capture(&from, origin->ret, origin->frame);
		kt_caller_trim_self(&from);
	}
	struct kt_obs_bucket *b = bucket_of(t, pid);
	uint64_t held;
	if (!bucket_lock(b, &held))
		return;
	uint32_t now = atomic_fetch_add_explicit(&t->seq, 1, memory_order_relaxed) + 1;
	if (!kind) {
		int w = find_way(b, pid);
		if (w >= 0)
			atomic_store_explicit(&b->way[w].pid_kind, 0, memory_order_relaxed);
	} else {
		int w = victim_way(b, pid, now);
		struct kt_obs_entry *e = &b->way[w];
		atomic_store_explicit(&e->ident, ident, memory_order_relaxed);
		atomic_store_explicit(&e->seq, now, memory_order_relaxed);
		atomic_store_explicit(&e->pid_kind, (uint32_t)pid << 2 | kind, memory_order_relaxed);
		write_story(way_index(t, b, w), suffix, &from);
	}
	bucket_unlock(b, held);
}

/* PID's entry: 1 with *KIND, *IDENT (and *INDEX) filled; 0 if there is none,
 * or none can be read consistently now. */
static int lookup(struct kt_obs_table *t, pid_t pid, unsigned *kind, uint64_t *ident,
                  int *index)
{
	struct kt_obs_bucket *b = bucket_of(t, pid);
	for (int attempt = 0; attempt < 2; attempt++) {
		uint64_t before = lock_settled(b);
		if (before & KT_OBS_BUSY)
			return 0;
		int w = find_way(b, pid);
		uint32_t pk = 0;
		uint64_t id = 0;
		if (w >= 0) {
			pk = atomic_load_explicit(&b->way[w].pid_kind, memory_order_relaxed);
			id = atomic_load_explicit(&b->way[w].ident, memory_order_relaxed);
		}
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&b->lock, memory_order_relaxed) != before)
			continue;
		if (w < 0 || pk >> 2 != (uint32_t)pid)
			return 0;
		*kind = pk & 3;
		*ident = id;
		if (index)
			*index = way_index(t, b, w);
		return 1;
	}
	return 0;
}

/* ---- whether a path names a process ---------------------------------------- */

/* The PID at the start of S ("123/stat", "123"): 1-9 then digits, ended by
 * '/' or the end, below KT_PID_LIMIT; 0 otherwise.  *REST: what follows. */
static pid_t leading_pid(const char *s, const char **rest)
{
	uint32_t v = 0;
	int n = 0;
	if (*s < '1' || *s > '9')
		return 0;
	for (; *s >= '0' && *s <= '9'; s++, n++) {
		if (n == 7)
			return 0;
		v = v * 10 + (uint32_t)(*s - '0');
	}
	if ((*s && *s != '/') || v >= (1u << 22))
		return 0;
	*rest = s;
	return (pid_t)v;
}

/* 1 if /proc is our PID namespace's (its numbers are ours to kill), asked
 * once per process.  A process that mounts another /proc over it later
 * mounts its own namespace's (the only kind it can mount). */
static int proc_is_ours(struct kt_obs_table *t)
{
	int p = atomic_load_explicit(&t->proc, memory_order_relaxed);
	if (p)
		return p > 0;
	struct stat st;
	p = kt_proc_is_ours() &&
	            kt_syscall(SYS_newfstatat, AT_FDCWD, (long)"/proc", (long)&st, 0, 0) == 0
	    ? 1
	    : -1;
	if (p > 0) {
		atomic_store_explicit(&t->proc_dev, (uint64_t)st.st_dev, memory_order_relaxed);
		atomic_store_explicit(&t->self, (int)kt_syscall(SYS_getpid, 0, 0, 0, 0, 0),
		                      memory_order_relaxed);
	}
	atomic_store_explicit(&t->proc, p, memory_order_release);
	return p > 0;
}

/* procfs's root directory inode number (PROC_ROOT_INO). */
#define KT_PROC_ROOT_INO 1

/* 1 if DIRFD (AT_FDCWD: the working directory) is the root of our /proc. */
static int is_our_proc_root(struct kt_obs_table *t, int dirfd)
{
	struct stat st;
	if (kt_syscall(SYS_newfstatat, dirfd, (long)"", (long)&st, AT_EMPTY_PATH, 0) < 0)
		return 0;
	return st.st_ino == KT_PROC_ROOT_INO &&
	       (uint64_t)st.st_dev == atomic_load_explicit(&t->proc_dev, memory_order_relaxed);
}

/* ---- telling a process apart ------------------------------------------------ */

/* The start time (clock ticks after boot) of PIDFD's process, PID: read
 * from /proc/PID/stat, and its own if that process is still alive after the
 * read (a pidfd answers ESRCH only once its process is reaped).  0 if it
 * cannot be read; *GONE set if the process went meanwhile. */
static uint64_t start_time(pid_t pid, int pidfd, int *gone)
{
	char st[512];
	*gone = 0;
	if (kt_proc_read(pid, "stat", st, sizeof st) <= 0)
		return 0;
	if (kt_pidfd_send_signal(pidfd, 0, NULL, 0) == -ESRCH) {
		*gone = 1;
		return 0;
	}
	/* "pid (comm) state ppid ...": comm may hold spaces and ')'.  The
	 * start time is field 22, the 20th after the closing parenthesis. */
	const char *p = strrchr(st, ')');
	if (!p)
		return 0;
	for (int field = 2; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return 0;
	}
	uint64_t v = 0;
	for (p++; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	return v;
}

/* The identity mode observations follow: the children's (identity.c),
 * settled here from EVIDENCE (a pidfd, or pidfd_open's -errno) when no
 * child has settled it yet. */
static int identity_mode(int evidence)
{
	int mode = kt_identity_mode();
	return mode == KT_IDENTITY_UNDECIDED ? kt_identity_settle(evidence) : mode;
}

/* The program just opened something under /proc/PID: what is PID now? */
static void observe(struct kt_obs_table *t, pid_t pid, const char *suffix,
                    const struct kt_origin *origin)
{
	if (kt_identity_mode() == KT_IDENTITY_NONE)
		return; /* no pidfds: nothing can be proven, kills go by number */
	int fd = kt_pidfd_open(pid);
	int mode = identity_mode(fd);
	unsigned kind = 0;
	uint64_t ident = 0;
	if (fd == -ESRCH) {
		kind = KT_SEEN_GONE;
	} else if (fd >= 0 && mode == KT_IDENTITY_INODE) {
		int64_t ino = kt_fd_inode(fd);
		if (ino > 0) {
			kind = KT_SEEN_INODE;
			ident = (uint64_t)ino;
		}
	} else if (fd >= 0 && mode == KT_IDENTITY_FD) {
		int gone;
		ident = start_time(pid, fd, &gone);
		kind = ident ? KT_SEEN_START : gone ? KT_SEEN_GONE : 0;
	}
	/* Anything else (a thread's number: EINVAL; no descriptor free; no
	 * pidfds) proves nothing, and an older observation of PID must not
	 * judge a kill the program decides on after this look: forgotten. */
	if (fd >= 0)
		kt_close(fd);
	if (mode == KT_IDENTITY_NONE)
		return;
	record(t, pid, kind, ident, suffix, origin);
}

void kt_observe_opened(int dirfd, const char *path, const struct kt_origin *origin)
{
	if (kt_in_vfork_child())
		return; /* its writes would land in its parent's table */
	int saved = errno;
	const char *rest = "";
	pid_t pid = leading_pid(path[0] == '/' ? path + 6 : path, &rest);
	struct kt_obs_table *t = pid > 0 ? table_get() : NULL;
	if (t && proc_is_ours(t) && (path[0] == '/' || is_our_proc_root(t, dirfd)) &&
	    pid != atomic_load_explicit(&t->self, memory_order_relaxed))
		observe(t, pid, rest, origin);
	KT_ERRNO_RESTORE(saved);
}

/* ---- the kill ----------------------------------------------------------------- */

enum kt_observed kt_observe_judge(pid_t pid, int group, int *pidfd)
{
	struct kt_obs_table *t = table_now();
	unsigned kind;
	uint64_t ident;
	if (!t || !lookup(t, pid, &kind, &ident, NULL))
		return KT_OBSERVED_NOT;
	int fd = kt_pidfd_open(pid);
	if (fd == -ESRCH)
		return group ? KT_OBSERVED_NOT : KT_OBSERVED_NOBODY;
	if (fd == -EINVAL)
		return KT_OBSERVED_LATER; /* a thread of some later process holds it */
	if (fd < 0)
		return KT_OBSERVED_NOT; /* no descriptor, no pidfds: by number */
	enum kt_observed v = KT_OBSERVED_NOT;
	if (kind == KT_SEEN_GONE) {
		v = KT_OBSERVED_LATER;
	} else {
		int gone = 0;
		int64_t now = kind == KT_SEEN_INODE ? kt_fd_inode(fd)
		                                    : (int64_t)start_time(pid, fd, &gone);
		if (gone && !group)
			v = KT_OBSERVED_NOBODY; /* the process just opened is reaped too */
		else if (now > 0 && (uint64_t)now == ident)
			v = KT_OBSERVED_HOLDER;
		else if (now > 0 && (uint64_t)now > ident)
			v = KT_OBSERVED_LATER;
	}
	if (v == KT_OBSERVED_HOLDER) {
		*pidfd = fd;
		return v;
	}
	kt_close(fd);
	return v;
}

int kt_observe_describe(pid_t pid, struct kt_sighting *out)
{
	struct kt_obs_table *t = table_now();
	unsigned kind;
	int index;
	memset(out, 0, sizeof *out);
	if (!t || !lookup(t, pid, &kind, &out->ident, &index))
		return 0;
	out->kind = (enum kt_sighting_kind)kind;
	struct kt_obs_story *s = atomic_load_explicit(&stories, memory_order_acquire);
	if (!s)
		return 1;
	s += index;
	out->at_ns = KT_OBS_GET(s->at_ns);
	struct kt_buf b = KT_BUF(out->path);
	kt_buf_str(&b, "/proc/");
	kt_buf_i64(&b, pid);
	char suffix[sizeof s->suffix];
	for (size_t i = 0; i < sizeof suffix; i++)
		suffix[i] = KT_OBS_GET(s->suffix[i]);
	suffix[sizeof suffix - 1] = '\0';
	kt_buf_str(&b, suffix);
	out->from.n = KT_OBS_GET(s->from_n);
	if (out->from.n > KT_CALLER_FRAMES)
		out->from.n = KT_CALLER_FRAMES;
	for (int i = 0; i < out->from.n; i++)
		out->from.pc[i] = KT_OBS_GET(s->from[i]);
	return 1;
}
