/* SPDX-License-Identifier: MIT */
/* Where a stale kill came from: see caller.h for why it is done this way. */
#include "caller.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "sys.h"

#define KT_MAX_MODULES 64

struct kt_module {
	uintptr_t base;          /* load bias (0 for a non-PIE executable) */
	uintptr_t lo, hi;        /* span of its executable PT_LOAD segments */
	const char *name;        /* the link map's own string: lives as long as the object */
	const ElfW(Sym) *symtab; /* .dynsym, or NULL */
	const char *strtab;
	size_t strsz;
	uint32_t nsyms;
};

/* Only a process whose reports go somewhere takes the map, so it lives in
 * pages mmap()ed then.  As static arrays it would make .bss run past
 * libkt's last file page, and the dynamic loader would map an extra
 * anonymous region for it at the start of every process: one more mmap, and
 * one more VMA for every fork and exit. */
struct kt_module_map {
	int n;
	/* dl_iterate_phdr names the main program "": the kernel's name for it. */
	char exe_path[512];
	struct kt_module m[KT_MAX_MODULES];
};
static struct kt_module_map *_Atomic kt_map;

/* The number of symbols in a DT_GNU_HASH table: the highest symbol index
 * any bucket or chain reaches, plus one (the table stores no count). */
static uint32_t gnu_hash_count(const uint32_t *h)
{
	uint32_t nbuckets = h[0], symoffset = h[1], bloom_size = h[2];
	const ElfW(Addr) *bloom = (const ElfW(Addr) *)(h + 4);
	const uint32_t *buckets = (const uint32_t *)(bloom + bloom_size);
	const uint32_t *chain = buckets + nbuckets;
	uint32_t max = 0;
	for (uint32_t i = 0; i < nbuckets; i++)
		if (buckets[i] > max)
			max = buckets[i];
	if (max < symoffset)
		return symoffset;
	while (!(chain[max - symoffset] & 1))
		max++;
	return max + 1;
}

/* glibc rewrites the dynamic section's addresses to absolute ones when it
 * relocates an object, except where that section is read-only (the vDSO);
 * an address below the load base is still relative. */
static uintptr_t dyn_addr(uintptr_t base, ElfW(Addr) v)
{
	return v < base ? base + v : v;
}

static int add_module(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	struct kt_module_map *map = data;
	if (map->n >= KT_MAX_MODULES)
		return 1;
	struct kt_module m = { .base = info->dlpi_addr };
	const ElfW(Dyn) *dyn = NULL;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			uintptr_t lo = m.base + ph->p_vaddr, hi = lo + ph->p_memsz;
			if (!m.lo || lo < m.lo)
				m.lo = lo;
			if (hi > m.hi)
				m.hi = hi;
		} else if (ph->p_type == PT_DYNAMIC) {
			dyn = (const ElfW(Dyn) *)(m.base + ph->p_vaddr);
		}
	}
	if (!m.hi)
		return 0;
	const uint32_t *gnu_hash = NULL, *sysv_hash = NULL;
	for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_SYMTAB: m.symtab = (const ElfW(Sym) *)dyn_addr(m.base, dyn->d_un.d_ptr); break;
		case DT_STRTAB: m.strtab = (const char *)dyn_addr(m.base, dyn->d_un.d_ptr); break;
		case DT_STRSZ: m.strsz = dyn->d_un.d_val; break;
		case DT_GNU_HASH: gnu_hash = (const uint32_t *)dyn_addr(m.base, dyn->d_un.d_ptr); break;
		case DT_HASH: sysv_hash = (const uint32_t *)dyn_addr(m.base, dyn->d_un.d_ptr); break;
		}
	}
	if (m.symtab && m.strtab && m.strsz) {
		if (sysv_hash)
			m.nsyms = sysv_hash[1]; /* nchain: one entry per symbol */
		else if (gnu_hash)
			m.nsyms = gnu_hash_count(gnu_hash);
	}
	if (!m.nsyms)
		m.symtab = NULL;
	m.name = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : map->exe_path;
	map->m[map->n++] = m;
	return 0;
}

void kt_modules_capture(void)
{
	struct kt_module_map *map = atomic_load(&kt_map);
	if (!map) {
		map = mmap(NULL, sizeof *map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		           -1, 0);
		if (map == MAP_FAILED)
			return; /* reports then name no caller module */
	}
	map->n = 0;
	long n = kt_syscall(SYS_readlinkat, AT_FDCWD, (long)"/proc/self/exe",
	                    (long)map->exe_path, sizeof map->exe_path - 1, 0);
	map->exe_path[n > 0 ? n : 0] = '\0';
	dl_iterate_phdr(add_module, map);
	atomic_store(&kt_map, map); /* filled before it is seen */
}

static const struct kt_module *module_of(uintptr_t pc)
{
	const struct kt_module_map *map = atomic_load(&kt_map);
	for (int i = 0; map && i < map->n; i++)
		if (pc >= map->m[i].lo && pc < map->m[i].hi)
			return &map->m[i];
	return NULL;
}

void kt_caller_capture(struct kt_caller *c, void *ret, void *frame)
{
	c->n = 0;
	if (!ret)
		return;
	c->pc[c->n++] = (uintptr_t)ret;
#if defined(__x86_64__) || defined(__aarch64__)
	/* A frame record on both: [fp] = caller's fp, [fp + 8] = return address.
	 * FRAME is the hook's own record, whose return address is RET; the walk
	 * proper starts one record up, in the code that called kill(). */
	uintptr_t fp = (uintptr_t)frame;
	uintptr_t rec[2];
	if (!fp || kt_peek_self((const void *)fp, rec, sizeof rec) < 0)
		return;
	fp = rec[0];
	while (c->n < KT_CALLER_FRAMES) {
		uintptr_t prev = (uintptr_t)frame;
		/* Stacks grow down, so each older record sits higher, aligned, and
		 * not absurdly far away; anything else is not a frame record. */
		if (fp <= prev || (fp & 7) || fp - prev > (1u << 24))
			break;
		if (kt_peek_self((const void *)fp, rec, sizeof rec) < 0)
			break;
		/* Only code we can place in a loaded object counts as a caller. */
		if (!rec[1] || !module_of(rec[1] - 1))
			break;
		/* An assembly entry with a frame record of its own (aarch64's
		 * vfork) shows the exact return address a second time. */
		if (!(c->n == 1 && rec[1] == c->pc[0]))
			c->pc[c->n++] = rec[1];
		frame = (void *)fp;
		fp = rec[0];
	}
#else
	(void)frame;
#endif
}

void kt_caller_trim_self(struct kt_caller *c)
{
	const struct kt_module *self = module_of((uintptr_t)kt_caller_trim_self);
	int skip = 0;
	while (self && skip < c->n && module_of(c->pc[skip] - 1) == self)
		skip++;
	for (int i = skip; i < c->n; i++)
		c->pc[i - skip] = c->pc[i];
	c->n -= skip;
}

int kt_caller_where(uintptr_t pc, struct kt_where *w)
{
	memset(w, 0, sizeof *w);
	/* A return address points after the call; pc - 1 is inside the calling
	 * function even when the call was its last instruction. */
	const struct kt_module *m = module_of(pc - 1);
	if (!m)
		return 0;
	w->module = m->name;
	w->offset = pc - m->base;
	const ElfW(Sym) *best = NULL;
	uintptr_t best_addr = 0;
	for (uint32_t i = 0; m->symtab && i < m->nsyms; i++) {
		const ElfW(Sym) *s = &m->symtab[i];
		unsigned type = ELF64_ST_TYPE(s->st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s->st_shndx == SHN_UNDEF ||
		    !s->st_value || s->st_name >= m->strsz)
			continue;
		uintptr_t a = m->base + s->st_value;
		if (a > pc - 1 || (s->st_size && pc - 1 >= a + s->st_size))
			continue;
		if (!best || a > best_addr) {
			best = s;
			best_addr = a;
		}
	}
	if (best) {
		w->symbol = m->strtab + best->st_name;
		w->symbol_len = m->strsz - best->st_name;
		w->symbol_offset = pc - best_addr;
	}
	return 1;
}
