/* The real libc functions behind our hooks.
 *
 * Resolved by the constructor, so hooks on hot paths and in signal handlers
 * only load a pointer.  A hook that runs before the constructor resolves its
 * own function on the spot (dlsym is not async-signal-safe, but a process
 * can only get there from another library's constructor, which is not a
 * signal handler in any program we know of).  Racing resolvers store the same
 * value, so a plain atomic store is enough. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"

struct kt_real kt_real;

static void die_self_resolved(const char *name)
{
	/* RTLD_NEXT handed back our own hook: calling it would recurse forever.
	 * This means libkt was linked into the program as well as preloaded. */
	static const char a[] = "libkt: fatal: the next definition of ";
	static const char b[] = " is libkt's own; is libkt loaded twice?\n";
	(void)!write(2, a, sizeof a - 1);
	(void)!write(2, name, strlen(name));
	(void)!write(2, b, sizeof b - 1);
	abort();
}

/* The linker's bounds of our own image: its ELF header and the end of its
 * .bss.  Hidden, so they name this object and not whatever the program or
 * another library calls _end.  A range check costs two compares where
 * dladdr() scanned the whole symbol table of libc for every function we
 * resolve: that was 90% of the instructions /bin/true ran with libkt
 * preloaded (over a million, measured with callgrind). */
extern const char __ehdr_start[] __attribute__((visibility("hidden")));
extern const char _end[] __attribute__((visibility("hidden")));

static int is_ours(const void *p)
{
	return (const char *)p >= __ehdr_start && (const char *)p < _end;
}

void *kt_real_get(void *_Atomic *slot, const char *name, const char *version)
{
	void *p = atomic_load_explicit(slot, memory_order_acquire);
	if (p)
		return p;
	p = version ? dlvsym(RTLD_NEXT, name, version) : dlsym(RTLD_NEXT, name);
	if (p) {
		if (is_ours(p))
			die_self_resolved(name);
		atomic_store_explicit(slot, p, memory_order_release);
	}
	return p;
}

#define RESOLVE(fn) kt_real_get((void *_Atomic *)&kt_real.fn, #fn, NULL)

void kt_real_resolve(void)
{
	RESOLVE(fork);
	RESOLVE(_Fork); /* glibc >= 2.34; stays NULL before */
	RESOLVE(wait);
	RESOLVE(waitpid);
	RESOLVE(wait3);
	RESOLVE(wait4);
	RESOLVE(waitid);
	RESOLVE(clone);
	/* posix_spawn and posix_spawnp (both versions), and glibc 2.39's
	 * pidfd_spawn, pidfd_spawnp and pidfd_getpid, are resolved by their
	 * hooks on first use, not here.  None is async-signal-safe (POSIX does
	 * not list the spawns), so a lookup on first call is no new hazard, and
	 * it spares every process that never spawns four dlvsym lookups (about
	 * 5,000 instructions) plus, on glibc < 2.39, three that fail, which
	 * cost more still.  fork, _Fork, clone and the wait family, which
	 * signal handlers do call, stay resolved here. */
}
