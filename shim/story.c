/* SPDX-License-Identifier: MIT */
/* A child's story for reports: see story.h. */
#include "story.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>

#include "fmt.h"
#include "holder.h"
#include "real.h"
#include "sys.h"
#include "table.h"
#include "vfork_child.h"

struct kt_story {
	uint64_t reg_seq; /* the registration this story belongs to (table.h), */
	uintptr_t table;  /* in this table (the one its writer owned) */
	uint64_t ino;     /* the child's pidfs inode, or 0 */
	uint8_t spawned_n, reaped_n;
	char name[KT_STORY_NAME];
	uintptr_t spawned[KT_CALLER_FRAMES];
	uintptr_t reaped[KT_CALLER_FRAMES];
};

/* Leaves of 256 stories, mapped as the PIDs they hold are first used. */
#define KT_STORY_LEAF_BITS 8
#define KT_STORY_LEAF_PIDS (1u << KT_STORY_LEAF_BITS)

struct kt_story_leaf {
	struct kt_story story[KT_STORY_LEAF_PIDS];
};

#define KT_STORY_TOP_ENTRIES (KT_PID_LIMIT >> KT_STORY_LEAF_BITS)

static struct kt_story_leaf *_Atomic *_Atomic kt_story_top;

void kt_story_open(void)
{
	/* Untouched, the top array's pages cost nothing but address space. */
	struct kt_story_leaf *_Atomic *top =
		kt_zeroed_pages(KT_STORY_TOP_ENTRIES * sizeof(struct kt_story_leaf *));
	if (top)
		atomic_store_explicit(&kt_story_top, top, memory_order_release);
}

int kt_story_on(void)
{
	return atomic_load_explicit(&kt_story_top, memory_order_relaxed) != NULL;
}

static struct kt_story *story_of(pid_t pid, int create)
{
	struct kt_story_leaf *_Atomic *top =
		atomic_load_explicit(&kt_story_top, memory_order_acquire);
	if (!top || pid <= 0 || (uint32_t)pid >= KT_PID_LIMIT)
		return NULL;
	struct kt_story_leaf *_Atomic *ref = &top[(uint32_t)pid >> KT_STORY_LEAF_BITS];
	struct kt_story_leaf *leaf = atomic_load_explicit(ref, memory_order_acquire);
	if (!leaf && create) {
		struct kt_story_leaf *mem = kt_zeroed_pages(sizeof *mem);
		if (!mem)
			return NULL;
		if (atomic_compare_exchange_strong_explicit(ref, &leaf, mem, memory_order_acq_rel,
		                                            memory_order_acquire))
			leaf = mem;
		else
			munmap(mem, sizeof *mem); /* another thread, or a handler, won */
	}
	return leaf ? &leaf->story[(uint32_t)pid & (KT_STORY_LEAF_PIDS - 1)] : NULL;
}

static void put_stack(uintptr_t *to, uint8_t *n, const struct kt_origin *origin)
{
	struct kt_caller c;
	kt_caller_capture(&c, origin->ret, origin->frame);
	kt_caller_trim_self(&c);
	for (int i = 0; i < c.n; i++)
		KT_INFO_SET(to[i], c.pc[i]);
	KT_INFO_SET(*n, (uint8_t)c.n);
}

void kt_story_spawned(pid_t pid, const struct kt_origin *origin)
{
	kt_story_spawned_ino(pid, origin, 0);
}

void kt_story_spawned_ino(pid_t pid, const struct kt_origin *origin, uint64_t ino)
{
	if (kt_in_vfork_child())
		return;
	struct kt_story *s = story_of(pid, 1);
	if (!s)
		return;
	/* A new child on this number: the last one's reap and name go. */
	const struct kt_slot *slot = kt_table_find(pid);
	KT_INFO_SET(s->reg_seq, slot ? atomic_load_explicit(&slot->reg_seq, memory_order_relaxed) : 0);
	KT_INFO_SET(s->table, (uintptr_t)atomic_load_explicit(&kt_table_nearest,
	                                                        memory_order_relaxed));
	KT_INFO_SET(s->ino, ino);
	KT_INFO_SET(s->reaped_n, (uint8_t)0);
	KT_INFO_SET(s->name[0], '\0');
	put_stack(s->spawned, &s->spawned_n, origin);
}

void kt_story_reaped(pid_t pid, const struct kt_origin *origin, const char *name)
{
	if (kt_in_vfork_child())
		return;
	struct kt_story *s = story_of(pid, 0);
	if (!s)
		return;
	if (name) {
		size_t i = 0;
		for (; i + 1 < KT_STORY_NAME && name[i]; i++)
			KT_INFO_SET(s->name[i], name[i]);
		KT_INFO_SET(s->name[i], '\0');
	}
	put_stack(s->reaped, &s->reaped_n, origin);
}

static void get_stack(struct kt_caller *c, const uintptr_t *from, const uint8_t *n)
{
	c->n = KT_INFO_GET(*n);
	if (c->n > KT_CALLER_FRAMES)
		c->n = KT_CALLER_FRAMES;
	for (int i = 0; i < c->n; i++)
		c->pc[i] = KT_INFO_GET(from[i]);
}

int kt_story_get(pid_t pid, uint64_t reg_seq, struct kt_story_view *out)
{
	const struct kt_story *s = story_of(pid, 0);
	if (!s)
		return 0;
	if (!reg_seq) {
		const struct kt_slot *slot = kt_table_find(pid);
		if (!slot)
			return 0;
		reg_seq = atomic_load_explicit(&slot->reg_seq, memory_order_relaxed);
		if (KT_INFO_GET(s->table) != (uintptr_t)atomic_load_explicit(&kt_table_nearest,
		                                                              memory_order_relaxed))
			return 0;
	}
	/* A story left by an earlier child on this number, registered where no
	 * story was taken (before the constructor), is not this child's; nor is
	 * one of another table's registration with the same number. */
	if (KT_INFO_GET(s->reg_seq) != reg_seq)
		return 0;
	get_stack(&out->spawned, s->spawned, &s->spawned_n);
	get_stack(&out->reaped, s->reaped, &s->reaped_n);
	for (size_t i = 0; i < KT_STORY_NAME; i++)
		out->name[i] = KT_INFO_GET(s->name[i]);
	out->name[KT_STORY_NAME - 1] = '\0';
	out->ino = KT_INFO_GET(s->ino);
	return out->spawned.n > 0;
}

/* ---- the name a child had when it was reaped -------------------------------
 *
 * A forked child usually execs: its report should name what it became
 * ("sleep"), not what forked it ("bash").  The kernel forgets a process once
 * it is reaped, so the name is read just before: a wait hook first asks the
 * same question with WNOWAIT, which reports the same child without reaping
 * it, and reads /proc/PID/comm of that zombie.  The question is asked with
 * the caller's own options (blocking or not, stops and continues included),
 * so it returns exactly when the real call would, which then returns at once;
 * if it fails with EINTR, the hook returns that (the real call would have
 * been interrupted just the same).  Only while stories are kept. */

static void read_comm(pid_t pid, char name[KT_STORY_NAME])
{
	long n = kt_proc_read(pid, "comm", name, KT_STORY_NAME);
	if (n <= 0)
		name[0] = '\0';
	if (n > 0 && name[n - 1] == '\n')
		name[n - 1] = '\0';
}

/* The options each call accepts: anything else, the kernel refuses with
 * EINVAL, and then the question is not asked (it might block where the real
 * call fails at once). */
#define KT_WAIT4_OPTIONS (WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL)
#define KT_WAITID_OPTIONS (KT_WAIT4_OPTIONS | WEXITED | WNOWAIT)

static int peek(idtype_t idtype, id_t id, int options, struct kt_peek *out)
{
	siginfo_t si;
	si.si_pid = 0;
	int saved = errno;
	if (KT_REAL(waitid)(idtype, id, &si, options | WEXITED | WNOWAIT) < 0) {
		int err = errno;
		errno = saved;
		/* Interrupted: so would the real call have been.  Anything else
		 * (ECHILD, EINVAL, EBADF) the real call answers for itself. */
		return err == EINTR ? -EINTR : 0;
	}
	if (si.si_pid > 0 &&
	    (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)) {
		out->pid = si.si_pid;
		read_comm(si.si_pid, out->name);
	}
	errno = saved;
	return 0;
}

int kt_story_peek(idtype_t idtype, id_t id, int options, struct kt_peek *out)
{
	out->pid = 0;
	if (!kt_story_on() || kt_in_vfork_child() || (options & ~KT_WAITID_OPTIONS) ||
	    (options & WNOWAIT) || !(options & WEXITED))
		return 0;
	return peek(idtype, id, options, out);
}

int kt_story_peek_waitpid(pid_t pid, int options, struct kt_peek *out)
{
	out->pid = 0;
	if (!kt_story_on() || kt_in_vfork_child() || (options & ~KT_WAIT4_OPTIONS) ||
	    pid == INT_MIN)
		return 0;
	if (pid < -1)
		return peek(P_PGID, (id_t)-pid, options, out);
	if (pid == -1)
		return peek(P_ALL, 0, options, out);
	if (pid == 0)
		return peek(P_PGID, 0, options, out); /* our own group: Linux 5.4+ */
	return peek(P_PID, (id_t)pid, options, out);
}
