/* SPDX-License-Identifier: MIT */
/* The real libc functions (the list and the rules are in real.h).
 *
 * A function is looked up with dlsym(RTLD_NEXT), or dlvsym when its version
 * matters (the constructor's lookups first in libc's hash table, symbols.h),
 * once: the answer, found or not, is kept, so a function this libc
 * lacks is not looked up again at every call (where that call may be in a
 * signal handler or a vfork child).  Racing resolvers store the same value,
 * so a plain atomic store is enough. */
#include "real.h"
#include "symbols.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Names held as arrays, not pointers: a table of pointers would cost the
 * dynamic loader one relocation per pointer in every process start. */
struct real_fn {
	char symbol[16];
	char version[12]; /* "" for the default version */
	char eager;
};

static const struct real_fn functions[KT_REAL_COUNT] = {
#define KT_REAL_ROW(id, symbol, version, eager, ...) \
	[KT_REAL_ID_##id] = { symbol, version, eager },
	KT_REAL_FUNCTIONS(KT_REAL_ROW)
#undef KT_REAL_ROW
};

/* Each function's address, ABSENT once the lookup found none, NULL before
 * the lookup. */
static void *_Atomic resolved[KT_REAL_COUNT];
static const char absent_marker;
#define ABSENT ((void *)&absent_marker)

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
 * another library calls _end.  A range check is two compares, where dladdr()
 * would scan the whole symbol table of libc for every function resolved,
 * in every process that loads libkt. */
extern const char __ehdr_start[] __attribute__((visibility("hidden")));
extern const char _end[] __attribute__((visibility("hidden")));

static int is_ours(const void *p)
{
	return (const char *)p >= __ehdr_start && (const char *)p < _end;
}

void *kt_real_get(enum kt_real_id id)
{
	void *p = atomic_load_explicit(&resolved[id], memory_order_acquire);
	if (p)
		return p == ABSENT ? NULL : p;
	const struct real_fn *f = &functions[id];
	p = f->version[0] ? dlvsym(RTLD_NEXT, f->symbol, f->version)
	                  : dlsym(RTLD_NEXT, f->symbol);
	if (p && is_ours(p))
		die_self_resolved(f->symbol);
	atomic_store_explicit(&resolved[id], p ? p : ABSENT, memory_order_release);
	return p;
}

void kt_real_resolve(void)
{
	/* libc's own functions straight from its hash table (symbols.h: a
	 * tenth of dlsym's cost); dlsym for whatever that cannot vouch for. */
	kt_symbols_open();
	for (int id = 0; id < KT_REAL_COUNT; id++) {
		const struct real_fn *f = &functions[id];
		if (!f->eager || atomic_load_explicit(&resolved[id], memory_order_acquire))
			continue;
		void *p = f->version[0] ? NULL : kt_symbols_next(f->symbol);
		if (p && !is_ours(p))
			atomic_store_explicit(&resolved[id], p, memory_order_release);
		else
			kt_real_get((enum kt_real_id)id);
	}
	kt_symbols_close();
}
