/* SPDX-License-Identifier: MIT */
/* Registering children and noticing their reaps: the hooks that make and
 * reap children call here; registry.c says why a child's identity is
 * taken at its first kill, and how that is race-free.  Everything here is async-signal-safe; it may change errno, so
 * the hooks save it around their calls. */
#ifndef KT_REGISTRY_H
#define KT_REGISTRY_H

#include <stdint.h>
#include <sys/types.h>

#include "heldfd.h"
#include "table.h"

/* Register a child that fork/_Fork/posix_spawn* just returned.  NAME: what it
 * runs (a path for the spawns; NULL for a fork, which runs our own image). */
void kt_register_child(pid_t pid, enum kt_made_by how, const char *name);
/* Register a child made together with PIDFD (CLONE_PIDFD, pidfd_spawn): the
 * identity comes from that fd, which is left open for the caller.  SIBLING:
 * a CLONE_PARENT child, our parent's and not ours (tracked by inode only). */
void kt_register_child_pidfd(pid_t pid, int pidfd, enum kt_made_by how, const char *name,
                             int sibling);
/* Register a child a clone made with FLAGS (clone(), or a raw clone through
 * syscall()).  PIDFD: where the kernel put the caller's own CLONE_PIDFD fd,
 * or NULL.  Without one, a CLONE_PARENT child (our sibling) stays untracked. */
void kt_register_clone_child(pid_t pid, unsigned long flags, const int *pidfd,
                             enum kt_made_by how);
/* A wait hook reaped PID; the wait started when kt_table_last_seq() was SEQ. */
void kt_note_reaped(pid_t pid, uint64_t seq, enum kt_reaped_by how);

/* The pidfs inode the registration of the child at PID recorded (a child
 * made with a pidfd, in inode mode), or 0: a live slot's identity is an
 * inode unless it names a held fd, and a child proven at a kill holds one. */
static inline uint64_t kt_registered_inode(pid_t pid)
{
	const struct kt_slot *s = kt_table_find(pid);
	if (!s)
		return 0;
	uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);
	uint64_t id = kt_word_ident(w);
	return kt_word_state(w) == KT_SLOT_LIVE && !kt_held_is_ident(id) ? id : 0;
}

#endif
