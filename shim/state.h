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
	KT_DEGRADED_REASONS
};

struct kt_state {
	struct kt_config config;
	_Atomic int idmode;          /* enum kt_identity_mode or KT_IDMODE_UNPROBED */
	_Atomic int init_state;      /* 0 not started, 1 running, 2 done */
	int log_fd;                  /* -1: no logging */
	uint64_t log_dev, log_ino;   /* what log_fd must still be (KT_LOG=PATH) */
	_Atomic int degraded_said[KT_DEGRADED_REASONS];
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
/* A wait hook reaped PID; the wait started when kt_table_last_seq() was SEQ. */
void kt_note_reaped(pid_t pid, uint64_t seq, enum kt_reaped_by how);
/* In a forked child, before it returns to the program: see registry.c. */
void kt_child_forget_self(void);
/* The identity mode in force, probing it if need be (from a live pidfd). */
int kt_identity_mode(void);

/* ---- reports (report.c) --------------------------------------------------- */
struct kt_stale {
	pid_t pid;
	int sig;
	const char *call;       /* "kill" */
	int delivered;          /* audit mode: the kill went through */
	int delivered_errno;    /* and the kernel's answer (0: signal sent) */
	int holder;             /* who held the PID before any delivery: 1 another
	                           process (comm, ppid below), 0 nobody, -1 unknown */
	char holder_comm[20];
	int64_t holder_ppid;
};
/* 1 if reports go anywhere: callers skip gathering facts otherwise. */
static inline int kt_report_wanted(void) { return kt_state.log_fd >= 0; }
/* Fill ev->holder* from /proc (call before delivering an audit-mode kill). */
void kt_report_find_holder(struct kt_stale *ev);
void kt_report_stale(const struct kt_stale *ev);
void kt_report_degraded(enum kt_degraded why, int err);
/* Write the configuration warnings collected by the parser (constructor). */
void kt_report_config_warnings(void);
/* Open the log named by the configuration (constructor). */
void kt_log_open(void);

uint64_t kt_now_ns(void);

#endif
