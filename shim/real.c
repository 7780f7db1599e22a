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

void *kt_real_get(void *_Atomic *slot, const char *name, const char *version)
{
	void *p = atomic_load_explicit(slot, memory_order_acquire);
	if (p)
		return p;
	p = version ? dlvsym(RTLD_NEXT, name, version) : dlsym(RTLD_NEXT, name);
	if (p) {
		Dl_info self, found;
		if (dladdr((void *)kt_real_get, &self) && dladdr(p, &found) &&
		    self.dli_fbase == found.dli_fbase)
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
	kt_real_get((void *_Atomic *)&kt_real.pidfd_spawn, "pidfd_spawn", "GLIBC_2.39");
	kt_real_get((void *_Atomic *)&kt_real.pidfd_spawnp, "pidfd_spawnp", "GLIBC_2.39");
	kt_real_get((void *_Atomic *)&kt_real.pidfd_getpid, "pidfd_getpid", "GLIBC_2.39");
#if defined(__x86_64__)
	kt_real_get((void *_Atomic *)&kt_real.posix_spawn, "posix_spawn", "GLIBC_2.15");
	kt_real_get((void *_Atomic *)&kt_real.posix_spawnp, "posix_spawnp", "GLIBC_2.15");
	kt_real_get((void *_Atomic *)&kt_real.posix_spawn_compat, "posix_spawn", "GLIBC_2.2.5");
	kt_real_get((void *_Atomic *)&kt_real.posix_spawnp_compat, "posix_spawnp", "GLIBC_2.2.5");
#else
	RESOLVE(posix_spawn);
	RESOLVE(posix_spawnp);
#endif
}
