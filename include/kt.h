/* SPDX-License-Identifier: MIT */
/*
 * kt.h — libkt's public introspection API.
 *
 * libkt is an LD_PRELOAD library: a program is usually NOT linked against it.
 * Look these functions up at run time so the same binary works with or without
 * libkt loaded.  The simplest way is the inline helper at the end of this
 * header, which does the dlsym() lookups for you:
 *
 *     #include <kt.h>
 *     struct kt_api kt;
 *     if (kt_api_load(&kt)) {                 // libkt is loaded
 *             printf("libkt %s\n", kt.version());
 *             if (kt.pid_state(pid) == KT_PID_REAPED) ...
 *     }
 *     kt_pid_state_or_not_loaded(pid);        // KT_PID_NOT_LOADED without libkt
 *
 * or by hand:
 *
 *     int (*pid_state)(pid_t) = (int (*)(pid_t))dlsym(RTLD_DEFAULT, "kt_pid_state");
 *     if (pid_state) ...   // libkt is loaded
 *
 * Every kt_* function in libkt is async-signal-safe and thread-safe, never
 * changes errno, and may be called at any moment, including before libkt's
 * constructor.  The lookup helpers call dlsym(), which is none of those: call
 * kt_api_load() once (at start-up), then use the pointers anywhere.
 *
 * Stability: the ABI is stable within a major version.  Functions and enum
 * values are only ever added; fields are only ever appended to struct
 * kt_counters, and kt_counters() copies no more than the caller's size, so a
 * program built against an older header keeps working with a newer libkt
 * and the other way round.  Define KT_NO_LOOKUP_HELPERS before including
 * this header to leave out the inline helpers (and <dlfcn.h>).
 *
 * Linking: on glibc >= 2.34 dlsym is in libc; older glibc needs -ldl.
 */
#ifndef KT_H
#define KT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header; kt_version() gives the loaded library's. */
#define KT_VERSION_MAJOR 0
#define KT_VERSION_MINOR 1
#define KT_VERSION_PATCH 0

/* "MAJOR.MINOR.PATCH" of the loaded library (a static string). */
const char *kt_version(void);

/* What libkt knows about a PID in this process. */
enum kt_pid_state {
	KT_PID_UNTRACKED = 0, /* not a child libkt registered (or never seen) */
	KT_PID_LIVE = 1,      /* a registered child not known to be reaped */
	KT_PID_REAPED = 2,    /* a registered child that has been reaped: a kill() to
	                         this PID is stale */
	KT_PID_NOT_LOADED = -1, /* only from the helpers below: libkt is not loaded */
};
int kt_pid_state(pid_t pid);

/* How libkt names a child (enum values are stable). */
enum kt_identity_mode {
	KT_IDENTITY_NONE = 0,  /* no pidfds: only hooked reaps are known */
	KT_IDENTITY_INODE = 1, /* a pidfd proven at the first kill, or the pidfs inode
	                          of the pidfd a child was made with (kernel >= 6.9) */
	KT_IDENTITY_FD = 2,    /* a pidfd proven at the first kill (kernel >= 5.3) */
};

/* Process-wide counters since libkt was loaded in this process image (a forked
 * child starts from zero: they count what the child itself does). */
struct kt_counters {
	uint64_t children_tracked;  /* children registered */
	uint64_t kills_via_pidfd;   /* kill/killpg/sigqueue delivered through a pidfd */
	uint64_t stale_refused;     /* stale kills refused with ESRCH (enforce mode) */
	uint64_t stale_delivered;   /* stale kills let through (audit mode) */
	uint64_t fallbacks;         /* times libkt fell back to plain behaviour */
	uint64_t reaps_seen;        /* reaps of registered children seen by wait hooks */
	uint32_t identity_mode;     /* enum kt_identity_mode in force */
	uint32_t mode;              /* 0 off, 1 audit, 2 enforce */
};

/* Copies min(size, sizeof(struct kt_counters)) bytes into *out; returns the
 * number of bytes libkt knows of (sizeof its struct), or -1 if out is NULL. */
int kt_counters(struct kt_counters *out, size_t size);

/* ---- lookup helpers (header-only; not part of libkt itself) --------------- */
#ifndef KT_NO_LOOKUP_HELPERS
#include <dlfcn.h>
#include <string.h>

/* RTLD_DEFAULT without requiring _GNU_SOURCE from the includer: the value
 * is (void *)0 on glibc and musl alike. */
#ifdef RTLD_DEFAULT
#define KT_RTLD_DEFAULT_ RTLD_DEFAULT
#else
#define KT_RTLD_DEFAULT_ ((void *)0)
#endif

/* libkt's functions, looked up at run time. */
struct kt_api {
	const char *(*version)(void);
	int (*pid_state)(pid_t pid);
	int (*counters)(struct kt_counters *out, size_t size);
};

/* dlsym's object pointer into a function pointer slot.  Copied, not cast:
 * ISO C has no conversion between the two (POSIX guarantees the
 * representation), and a copy compiles cleanly under -pedantic and C++. */
static inline void kt_lookup_(void *slot, const char *name)
{
	void *p = dlsym(KT_RTLD_DEFAULT_, name);
	memcpy(slot, &p, sizeof p);
}

/* Fill *API and return 1 if libkt is loaded in this process; otherwise set
 * every pointer to NULL and return 0.  Not async-signal-safe (dlsym). */
static inline int kt_api_load(struct kt_api *api)
{
	kt_lookup_(&api->version, "kt_version");
	kt_lookup_(&api->pid_state, "kt_pid_state");
	kt_lookup_(&api->counters, "kt_counters");
	if (!api->version || !api->pid_state || !api->counters) {
		api->version = 0;
		api->pid_state = 0;
		api->counters = 0;
		return 0;
	}
	return 1;
}

/* kt_pid_state(PID), or KT_PID_NOT_LOADED when libkt is not loaded.  Looks
 * the function up on every call: for a loop, use kt_api_load() once. */
static inline int kt_pid_state_or_not_loaded(pid_t pid)
{
	struct kt_api api;
	return kt_api_load(&api) ? api.pid_state(pid) : KT_PID_NOT_LOADED;
}
#endif /* KT_NO_LOOKUP_HELPERS */

#ifdef __cplusplus
}
#endif
#endif
