/* SPDX-License-Identifier: MIT */
/* Is this process a vfork child still running in its parent's memory?
 * Such a process must leave libkt's state as it found it: every word it
 * wrote would land in its parent's table, describing a grandchild the parent
 * cannot reap.  The answer comes from the per-thread slots the vfork
 * trampoline claims (hooks_vfork.c says how the slots keep the child's pidfd
 * out of the child's reach).  Thread-local memory and raw syscalls only:
 * async-signal-safe. */
#ifndef KT_VFORK_CHILD_H
#define KT_VFORK_CHILD_H

#include <sys/types.h>

/* One vfork in progress in this thread. */
struct kt_vfork_slot {
	int pidfd;   /* first: the trampolines pass its address to clone */
	pid_t owner; /* the process that claimed the slot */
};

/* 1 if this process is a vfork child still sharing its parent's memory. */
int kt_in_vfork_child(void);

/* In a fork child: no vfork of the forking thread is in progress here. */
void kt_vfork_forget(void);

/* Claim the next slot for a vfork this process is about to make, or NULL
 * when vforks are nested too deep (then it is registered after the fact). */
struct kt_vfork_slot *kt_vfork_claim(void);
/* The parent is back from the vfork that claimed SLOT: give it back, after
 * reading what the kernel wrote there. */
void kt_vfork_give_back(struct kt_vfork_slot *slot);

#endif
