/* libkt's process-wide state: configuration, identity mode, counters, and
 * the real libc functions.  Everything a hook reads here is valid from the
 * first instruction of the process (static initialisers hold the defaults),
 * so a hook that runs before the constructor still behaves. */
#ifndef KT_STATE_H
#define KT_STATE_H

#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <kt.h>

#include "caller.h"
#include "config.h"
#include "table.h"

#define KT_EXPORT __attribute__((visibility("default")))

/* The identity mode actually in force (enum kt_identity_mode in kt.h), or
 * KT_IDMODE_UNPROBED until the first child is registered: probing needs a
 * pidfd, and a process that never forks should not pay for one. */
#define KT_IDMODE_UNPROBED (-1)

struct kt_counters_atomic {
	_Atomic uint64_t children_tracked;
	_Atomic uint64_t kills_via_pidfd;
	_Atomic uint64_t stale_refused;
	_Atomic uint64_t stale_delivered;
	_Atomic uint64_t fallbacks;
	_Atomic uint64_t reaps_seen;
};

/* Reasons libkt falls back to plain behaviour; each is reported once. */
enum kt_degraded {
	KT_DEGRADED_NO_PIDFD = 0,   /* pidfd_open: ENOSYS or EPERM (old kernel, seccomp) */
	KT_DEGRADED_NO_PIDFS,       /* pidfds exist but carry no unique inode (< 6.9) */
	KT_DEGRADED_FD_EXHAUSTED,   /* EMFILE/ENFILE/ENOMEM taking an identity */
	KT_DEGRADED_NO_MEMORY,      /* no memory for the PID table */
	KT_DEGRADED_NO_CLONE_PIDFD, /* clone refuses CLONE_PIDFD (< 5.2, qemu-user, seccomp) */
	KT_DEGRADED_NO_PGRP_SIGNAL, /* no PIDFD_SIGNAL_PROCESS_GROUP (< 6.9) */
	KT_DEGRADED_FD_BUDGET,      /* fd mode: no room left to hold a child's pidfd */
	KT_DEGRADED_REASONS
};

struct kt_state {
	struct kt_config config;
	_Atomic int idmode;          /* enum kt_identity_mode or KT_IDMODE_UNPROBED */
	_Atomic int init_state;      /* 0 not started, 1 running, 2 done */
	int log_fd;                  /* -1: no logging */
	uint64_t log_dev, log_ino;   /* what log_fd must still be (KT_LOG=PATH) */
	_Atomic int degraded_said[KT_DEGRADED_REASONS];
	uint64_t provoke_dev, provoke_ino; /* what the KT_PROVOKE_FD socket must be */
	/* Registrations numbered above this were made by this process; those at
	 * or below it came with the table from the parent at fork.  Only our own
	 * children can be asked about with waitid. */
	_Atomic uint64_t own_seq_floor;
	struct kt_counters_atomic n;
};

extern struct kt_state kt_state;

/* Run the constructor's work now if it has not run yet (a hook called before
 * it, e.g. from another library's constructor).  Cheap once done. */
void kt_init_once(void);

static inline enum kt_mode kt_mode(void)
{
	if (atomic_load_explicit(&kt_state.init_state, memory_order_acquire) != 2) {
		kt_init_once();
		/* Still not done: we interrupted the constructor itself. */
		if (atomic_load_explicit(&kt_state.init_state, memory_order_acquire) != 2)
			return KT_MODE_ENFORCE;
	}
	return kt_state.config.mode;
}

static inline void kt_count(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* Put errno back to SAVED, writing it only if it changed.  Right after a
 * fork the parent shares every page with its child copy-on-write, errno's
 * thread-local page included: an unconditional store costs a page copy on
 * every fork (measured: one of the four page faults libkt added per fork).
 * Needs <errno.h> in the including file. */
#define KT_ERRNO_RESTORE(saved)      \
	do {                             \
		if (errno != (saved))        \
			errno = (saved);         \
	} while (0)

/* ---- the real functions (real.c) ---------------------------------------- */
struct kt_real {
	pid_t (*fork)(void);
	pid_t (*_Fork)(void);
	pid_t (*wait)(int *);
	pid_t (*waitpid)(pid_t, int *, int);
	pid_t (*wait3)(int *, int, struct rusage *);
	pid_t (*wait4)(pid_t, int *, int, struct rusage *);
	int (*waitid)(idtype_t, id_t, siginfo_t *, int);
	int (*posix_spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
	                   const posix_spawnattr_t *, char *const[], char *const[]);
	int (*posix_spawnp)(pid_t *, const char *, const posix_spawn_file_actions_t *,
	                    const posix_spawnattr_t *, char *const[], char *const[]);
	int (*clone)(int (*)(void *), void *, int, void *, ...);
	/* glibc >= 2.39 (GLIBC_2.39); NULL before. */
	int (*pidfd_spawn)(int *, const char *, const posix_spawn_file_actions_t *,
	                   const posix_spawnattr_t *, char *const[], char *const[]);
	int (*pidfd_spawnp)(int *, const char *, const posix_spawn_file_actions_t *,
	                    const posix_spawnattr_t *, char *const[], char *const[]);
	pid_t (*pidfd_getpid)(int);
#if defined(__x86_64__)
	/* glibc < 2.15 posix_spawn, kept for old binaries: it retries a file
	 * without #! through /bin/sh on ENOEXEC. */
	int (*posix_spawn_compat)(pid_t *, const char *, const posix_spawn_file_actions_t *,
	                          const posix_spawnattr_t *, char *const[], char *const[]);
	int (*posix_spawnp_compat)(pid_t *, const char *, const posix_spawn_file_actions_t *,
	                           const posix_spawnattr_t *, char *const[], char *const[]);
#endif
};
extern struct kt_real kt_real;

/* Resolve every real function (constructor; idempotent). */
void kt_real_resolve(void);
/* Resolve one symbol now if the constructor has not done it yet. */
void *kt_real_get(void *_Atomic *slot, const char *name, const char *version);
#define KT_REAL(fn) \
	((__typeof__(kt_real.fn))kt_real_get((void *_Atomic *)&kt_real.fn, #fn, NULL))

/* ---- children (registry.c) ---------------------------------------------- */
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
/* 1 if this process is a vfork child still sharing its parent's memory
 * (vfork.c): such a process must leave libkt's state as it found it. */
int kt_in_vfork_child(void);
/* In a fork child: no vfork of the forking thread is in progress here. */
void kt_vfork_forget(void);
/* 0 once clone has refused CLONE_PIDFD here (vfork.c); then vfork and clone
 * children are registered after the fact, like fork's. */
int kt_clone_pidfd_usable(void);
void kt_clone_pidfd_refused(int err);
/* A wait hook reaped PID; the wait started when kt_table_last_seq() was SEQ. */
void kt_note_reaped(pid_t pid, uint64_t seq, enum kt_reaped_by how);
/* In a forked child, before it returns to the program: see registry.c. */
void kt_child_forget_self(void);
/* The identity mode in force, probing it if need be (from a live pidfd). */
int kt_identity_mode(void);

/* ---- reports (report.c) --------------------------------------------------- */
/* One stale kill: everything a report line says about it.  CALL names the
 * public entry point ("kill", "killpg", "sigqueue"), so every signalling hook
 * reports through the same event. */
struct kt_stale {
	pid_t pid;
	int sig;
	const char *call;
	int group;              /* kill(-pid)/killpg(pid): the signal was for pid's group */
	int delivered;          /* audit mode: the kill went through */
	int delivered_errno;    /* and the kernel's answer (0: signal sent) */
	int holder;             /* who held the PID before any delivery: 1 another
	                           process (comm, ppid below), 0 nobody, -1 unknown */
	char holder_comm[20];
	int64_t holder_ppid;
	struct kt_caller caller; /* where in the program the call came from */
};
/* 1 if reports go anywhere: callers skip gathering facts otherwise. */
static inline int kt_report_wanted(void) { return kt_state.log_fd >= 0; }
/* Fill ev->holder* from /proc (call before delivering an audit-mode kill). */
void kt_report_find_holder(struct kt_stale *ev);
void kt_report_stale(const struct kt_stale *ev);
void kt_report_degraded(enum kt_degraded why, int err);
/* The KT_STATS=1 exit summary (destructor). */
void kt_report_summary(void);
/* Write the configuration warnings collected by the parser (constructor). */
void kt_report_config_warnings(void);
/* Open the log named by the configuration (constructor). */
void kt_log_open(void);
/* The comm a reuse decoy gives itself (kt-run --provoke-reuse), so a report
 * can say a stale kill met a decoy rather than a real process. */
#define KT_DECOY_COMM "kt-decoy"

/* ---- the reuse provoker (provoke.c) ---------------------------------------- */
/* Check the KT_PROVOKE_FD pipe ends (constructor). */
void kt_provoke_open(void);
/* A wait hook reaped PID: hand the number to the provoker, if there is one,
 * and wait (bounded) until a decoy holds it.  Async-signal-safe. */
void kt_provoke_reaped(pid_t pid);

uint64_t kt_now_ns(void);

#endif
