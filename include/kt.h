/*
 * kt.h — libkt's public introspection API.
 *
 * libkt is an LD_PRELOAD library: a program is usually NOT linked against it.
 * Look these functions up at run time so the same binary works with or without
 * libkt loaded:
 *
 *     int (*pid_state)(pid_t) = (int (*)(pid_t))dlsym(RTLD_DEFAULT, "kt_pid_state");
 *     if (pid_state) ...   // libkt is loaded
 *
 * Every function here is async-signal-safe and thread-safe, never changes errno,
 * and may be called at any moment, including before libkt's constructor.
 * The ABI is stable within a major version: fields are only ever appended to
 * struct kt_counters, and kt_counters() copies no more than the caller's size.
 */
#ifndef KT_H
#define KT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KT_VERSION_MAJOR 0
#define KT_VERSION_MINOR 1
#define KT_VERSION_PATCH 0

/* "MAJOR.MINOR.PATCH" of the loaded library. */
const char *kt_version(void);

/* What libkt knows about a PID in this process. */
enum kt_pid_state {
	KT_PID_UNTRACKED = 0, /* not a child libkt registered (or never seen) */
	KT_PID_LIVE = 1,      /* a registered child not known to be reaped */
	KT_PID_REAPED = 2,    /* a registered child that has been reaped: a kill() to
	                         this PID is stale */
};
int kt_pid_state(pid_t pid);

/* How libkt names a child (enum values are stable). */
enum kt_identity_mode {
	KT_IDENTITY_NONE = 0,  /* no pidfds: only hooked reaps are known */
	KT_IDENTITY_INODE = 1, /* pidfs inode number (kernel >= 6.9), no fd held */
	KT_IDENTITY_FD = 2,    /* one held pidfd per live child (kernel 5.3 - 6.8) */
};

/* Process-wide counters since libkt was loaded in this process image (a forked
 * child starts from its parent's values). */
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

#ifdef __cplusplus
}
#endif
#endif
