/* SPDX-License-Identifier: MIT */
/* The per-thread vfork slots (vfork_child.h). */
#include "vfork_child.h"

#include <stdatomic.h>

#include "hot.h"
#include "sys.h"

/* vfork nests only through signal handlers of the vforking thread (its
 * child never claims a slot), so a handful of levels is plenty; past them a
 * vfork is registered after the fact, like a fork. */
#define KT_VFORK_DEPTH 8

struct kt_vfork_tls {
	unsigned depth;
	struct kt_vfork_slot slot[KT_VFORK_DEPTH];
};

/* initial-exec: a plain %fs/tpidr_el0-relative access, no __tls_get_addr
 * (which may allocate) on this path.  libkt is preloaded, so it gets static
 * TLS at start-up. */
static __thread struct kt_vfork_tls kt_vf __attribute__((tls_model("initial-exec")));

static pid_t raw_getpid(void)
{
	return (pid_t)kt_syscall(SYS_getpid, 0, 0, 0, 0, 0);
}

int kt_in_vfork_child(void)
{
	unsigned d = kt_vf.depth;
	if (d == 0)
		return 0;
	if (d > KT_VFORK_DEPTH)
		d = KT_VFORK_DEPTH;
	return kt_vf.slot[d - 1].owner != raw_getpid();
}

KT_CHILD_PATH void kt_vfork_forget(void)
{
	/* A forked child has memory of its own: whatever vfork was in progress
	 * in the thread that forked (a fork from a signal handler, or from a
	 * vfork child) is not this process's.  Stored only when it is not zero
	 * already: an unconditional store costs every forked child a page copy. */
	if (kt_vf.depth)
		kt_vf.depth = 0;
}

struct kt_vfork_slot *kt_vfork_claim(void)
{
	unsigned d = kt_vf.depth;
	if (d >= KT_VFORK_DEPTH)
		return NULL;
	struct kt_vfork_slot *s = &kt_vf.slot[d];
	/* Owner before depth, and the caller's marker after: a handler that runs
	 * in between either takes this same slot and gives it back (and sees us
	 * as the owner), or takes the next one. */
	s->owner = raw_getpid();
	atomic_signal_fence(memory_order_seq_cst);
	kt_vf.depth = d + 1;
	atomic_signal_fence(memory_order_seq_cst);
	return s;
}

void kt_vfork_give_back(struct kt_vfork_slot *slot)
{
	atomic_signal_fence(memory_order_seq_cst);
	kt_vf.depth = (unsigned)(slot - kt_vf.slot);
}
