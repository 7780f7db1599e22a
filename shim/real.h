/* SPDX-License-Identifier: MIT */
/* The real libc functions behind libkt's hooks: the one way to reach them.
 *
 * KT_REAL(id) is the function, or NULL where this libc has none (_Fork,
 * close_range and closefrom before glibc 2.34, pidfd_spawn before 2.39).  Each
 * function is listed once below, with the symbol version to ask for when one
 * matters (the two posix_spawn versions of x86_64, glibc 2.39's additions),
 * and whether the constructor resolves it or its first caller does.
 *
 * Resolving means asking the dynamic loader (dlsym), which takes the
 * loader's lock: not async-signal-safe, and in a vfork child, which shares
 * its parent's memory, it waits for a lock another thread of the parent may
 * hold (a dlopen whose constructor waits for that child) for ever.  So every
 * function a signal handler or a vfork child may reach is resolved by the
 * constructor, where a lookup is safe: fork, _Fork, clone, the wait family,
 * the fd guards' close, close_range, closefrom, dup2 and dup3 (a vfork
 * child's first close() before its exec is a textbook pattern), and the
 * /proc observer's open family (a vfork child opening its stdin before its
 * exec is another; fopen and opendir too, as a first call may still be in
 * a child or a handler, whatever else it risks there).  The constructor
 * finds them in libc's own hash table (symbols.h), asking dlsym only what
 * that cannot vouch for; after it they cost a pointer load.  Reaching the kernel directly
 * instead would change libc's semantics: close() and open() are
 * cancellation points, closefrom() has a fallback without close_range,
 * fopen and opendir are whole stdio and dirent objects, and a library
 * preloaded after libkt that wraps the same call would be skipped.
 *
 * Left to their first caller: the spawns and pidfd_getpid, which are not
 * async-signal-safe themselves, so a lookup there adds no hazard, and which
 * most processes never call.  Before the constructor (another library's
 * constructor calling a hook) any function is looked up on the spot. */
#ifndef KT_REAL_H
#define KT_REAL_H

#include <dirent.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

typedef int (*kt_spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                           const posix_spawnattr_t *, char *const[], char *const[]);
typedef int (*kt_pidfd_spawn_fn)(int *, const char *, const posix_spawn_file_actions_t *,
                                 const posix_spawnattr_t *, char *const[], char *const[]);

/* posix_spawn and posix_spawnp exist in two versions on x86_64 (see
 * libkt.map); the current one is GLIBC_2.15.  Elsewhere there is one. */
#if defined(__x86_64__)
#define KT_SPAWN_VERSION "GLIBC_2.15"
#else
#define KT_SPAWN_VERSION ""
#endif

/* X(id, symbol, version ("" for the default), resolved at start-up (1) or
 * on first use (0), type) */
#define KT_REAL_COMMON(X)                                                          \
	X(fork, "fork", "", 1, pid_t (*)(void))                                     \
	X(_Fork, "_Fork", "", 1, pid_t (*)(void))                                   \
	X(wait, "wait", "", 1, pid_t (*)(int *))                                    \
	X(waitpid, "waitpid", "", 1, pid_t (*)(pid_t, int *, int))                  \
	X(wait3, "wait3", "", 1, pid_t (*)(int *, int, struct rusage *))            \
	X(wait4, "wait4", "", 1, pid_t (*)(pid_t, int *, int, struct rusage *))     \
	X(waitid, "waitid", "", 1, int (*)(idtype_t, id_t, siginfo_t *, int))       \
	X(clone, "clone", "", 1, int (*)(int (*)(void *), void *, int, void *, ...)) \
	X(posix_spawn, "posix_spawn", KT_SPAWN_VERSION, 0, kt_spawn_fn)               \
	X(posix_spawnp, "posix_spawnp", KT_SPAWN_VERSION, 0, kt_spawn_fn)             \
	X(pidfd_spawn, "pidfd_spawn", "GLIBC_2.39", 0, kt_pidfd_spawn_fn)             \
	X(pidfd_spawnp, "pidfd_spawnp", "GLIBC_2.39", 0, kt_pidfd_spawn_fn)           \
	X(pidfd_getpid, "pidfd_getpid", "GLIBC_2.39", 0, pid_t (*)(int))              \
	X(close, "close", "", 1, int (*)(int))                                      \
	X(close_range, "close_range", "", 1, int (*)(unsigned, unsigned, int))      \
	X(closefrom, "closefrom", "", 1, void (*)(int))                             \
	X(dup2, "dup2", "", 1, int (*)(int, int))                                   \
	X(dup3, "dup3", "", 1, int (*)(int, int, int))                                \
	X(open, "open", "", 1, int (*)(const char *, int, ...))                       \
	X(open64, "open64", "", 1, int (*)(const char *, int, ...))                   \
	X(openat, "openat", "", 1, int (*)(int, const char *, int, ...))              \
	X(openat64, "openat64", "", 1, int (*)(int, const char *, int, ...))          \
	X(__open_2, "__open_2", "", 1, int (*)(const char *, int))                    \
	X(__open64_2, "__open64_2", "", 1, int (*)(const char *, int))                \
	X(__openat_2, "__openat_2", "", 1, int (*)(int, const char *, int))           \
	X(__openat64_2, "__openat64_2", "", 1, int (*)(int, const char *, int))       \
	X(fopen, "fopen", "", 1, FILE *(*)(const char *, const char *))               \
	X(fopen64, "fopen64", "", 1, FILE *(*)(const char *, const char *))           \
	X(opendir, "opendir", "", 1, DIR *(*)(const char *))

#if defined(__x86_64__)
/* glibc < 2.15's posix_spawn, kept for old binaries: it retries a file
 * without #! through /bin/sh on ENOEXEC. */
#define KT_REAL_ARCH(X)                                                          \
	X(posix_spawn_compat, "posix_spawn", "GLIBC_2.2.5", 0, kt_spawn_fn)         \
	X(posix_spawnp_compat, "posix_spawnp", "GLIBC_2.2.5", 0, kt_spawn_fn)
#else
#define KT_REAL_ARCH(X)
#endif

#define KT_REAL_FUNCTIONS(X) KT_REAL_COMMON(X) KT_REAL_ARCH(X)

enum kt_real_id {
#define KT_REAL_ID(id, symbol, version, eager, ...) KT_REAL_ID_##id,
	KT_REAL_FUNCTIONS(KT_REAL_ID)
#undef KT_REAL_ID
	KT_REAL_COUNT
};

#define KT_REAL_TYPE(id, symbol, version, eager, ...) \
	typedef __typeof__(__VA_ARGS__) kt_real_##id##_t;
KT_REAL_FUNCTIONS(KT_REAL_TYPE)
#undef KT_REAL_TYPE

/* The function ID names, resolved now if need be (NULL if libc has none).
 * Aborts, loudly, if the next definition is libkt's own (libkt loaded twice):
 * calling it would recurse forever. */
void *kt_real_get(enum kt_real_id id);
#define KT_REAL(id) ((kt_real_##id##_t)kt_real_get(KT_REAL_ID_##id))

/* Resolve the eager ones (constructor). */
void kt_real_resolve(void);

#endif
