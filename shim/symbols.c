/* SPDX-License-Identifier: MIT */
/* Finding libc's functions for the constructor without a dlsym for each
 * (symbols.h).
 *
 * dlsym(RTLD_NEXT) costs about 850 instructions a symbol, most of it the
 * loader's lock and error handling around a short hash lookup; the
 * constructor resolves two dozen, in every process libkt is loaded into.
 * Here the objects loaded after libkt are listed once (dl_iterate_phdr),
 * and each name is looked up in their GNU hash tables directly.
 *
 * The answer is only trusted when it must be dlsym's: the first object after
 * libkt that defines the name (in load order, which for the objects present
 * at start-up is the order of the global scope RTLD_NEXT searches) must be
 * libc itself (or libpthread, where glibc before 2.34 has its own wrappers).
 * Anything else defining it first (another preloaded shim, a library a
 * constructor opened with RTLD_LOCAL, an indirect function) sends the name
 * back to dlsym, which knows the scope rules; so does everything when an
 * object after libkt has no hash table to search. */
#include "symbols.h"

#include <elf.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* One loaded object, as far as a lookup needs it. */
struct object {
	const ElfW(Sym) *symtab;
	const char *strtab;
	const uint32_t *gnu_hash;  /* the GNU hash table, or NULL */
	const ElfW(Word) *sysv_hash; /* else the classic one (the aarch64 vDSO's) */
	const ElfW(Half) *versym; /* NULL when unversioned */
	ElfW(Addr) base;
	int is_libc;
};

#define MAX_OBJECTS 32

static struct object after_us[MAX_OBJECTS];
static int object_count;
static int usable; /* 1 once the objects after libkt are listed, all usable */

extern ElfW(Dyn) _DYNAMIC[] __attribute__((visibility("hidden")));

/* 1 if NAME (a loader's path) is glibc's libc or libpthread. */
static int names_libc(const char *name)
{
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	return strcmp(base, "libc.so.6") == 0 || strcmp(base, "libpthread.so.0") == 0;
}

/* The address a dynamic entry's pointer names: the loader has relocated it
 * in place on some architectures and not on others, so take whichever
 * reading falls inside one of the object's loaded segments. */
static const void *dyn_address(const struct dl_phdr_info *info, ElfW(Addr) value)
{
	ElfW(Addr) readings[2] = { value, info->dlpi_addr + value };
	for (int r = 0; r < 2; r++)
		for (int i = 0; i < info->dlpi_phnum; i++) {
			const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
			ElfW(Addr) start = info->dlpi_addr + ph->p_vaddr;
			if (ph->p_type == PT_LOAD && readings[r] >= start &&
			    readings[r] < start + ph->p_memsz)
				return (const void *)readings[r];
		}
	return NULL;
}

/* Fills OUT from the object's dynamic section; 0 if it lacks what a lookup
 * needs. */
static int describe(const struct dl_phdr_info *info, const ElfW(Dyn) *dyn, struct object *out)
{
	memset(out, 0, sizeof *out);
	out->base = info->dlpi_addr;
	out->is_libc = names_libc(info->dlpi_name ? info->dlpi_name : "");
	for (; dyn->d_tag != DT_NULL; dyn++) {
		const void *p = NULL;
		switch (dyn->d_tag) {
		case DT_SYMTAB:
		case DT_STRTAB:
		case DT_GNU_HASH:
		case DT_HASH:
		case DT_VERSYM:
			p = dyn_address(info, dyn->d_un.d_ptr);
			if (!p)
				return 0;
			break;
		default:
			continue;
		}
		if (dyn->d_tag == DT_SYMTAB)
			out->symtab = p;
		else if (dyn->d_tag == DT_STRTAB)
			out->strtab = p;
		else if (dyn->d_tag == DT_GNU_HASH)
			out->gnu_hash = p;
		else if (dyn->d_tag == DT_HASH)
			out->sysv_hash = p;
		else
			out->versym = p;
	}
	return out->symtab && out->strtab && (out->gnu_hash || out->sysv_hash);
}

/* dl_iterate_phdr's callback: *SEEN becomes 1 at libkt's own object (the
 * one whose dynamic section is ours); every object after it is listed.
 * Returns non-zero to stop: an object that cannot be searched, or too many. */
static int list_object(struct dl_phdr_info *info, size_t size, void *seen)
{
	(void)size;
	const ElfW(Dyn) *dyn = NULL;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	if (!*(int *)seen) {
		*(int *)seen = dyn == _DYNAMIC;
		return 0;
	}
	if (!dyn)
		return 0; /* nothing to find in it */
	if (object_count == MAX_OBJECTS || !describe(info, dyn, &after_us[object_count]))
		return 1;
	object_count++;
	return 0;
}

void kt_symbols_open(void)
{
	int seen = 0;
	object_count = 0;
	int stopped = dl_iterate_phdr(list_object, &seen);
	usable = seen && !stopped;
}

void kt_symbols_close(void)
{
	usable = 0;
	object_count = 0;
}

static uint32_t gnu_hash_of(const char *name)
{
	uint32_t h = 5381;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		h = h * 33 + *c;
	return h;
}

static uint32_t sysv_hash_of(const char *name)
{
	uint32_t h = 0;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
		h = (h << 4) + *c;
		uint32_t g = h & 0xf0000000u;
		h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

enum found { NOT_HERE, FOUND, UNSURE };

/* What one object holds under NAME, over the candidates its hash table
 * gives (each a symbol index that may or may not be NAME). */
struct verdict {
	int defined; /* definitions of NAME seen */
	uint32_t index;
};

static void consider(const struct object *o, uint32_t i, const char *name, struct verdict *v)
{
	const ElfW(Sym) *s = &o->symtab[i];
	if (s->st_shndx != SHN_UNDEF && strcmp(o->strtab + s->st_name, name) == 0) {
		v->defined++;
		v->index = i;
	}
}

/* The verdict on NAME in O: one plain function at one version, or nothing
 * to say, or anything else (two versions of the name, where glibc before
 * 2.35 has dlsym give the oldest and later ones the default; an indirect
 * function; data; a local symbol), which is dlsym's to judge. */
static enum found judge(const struct object *o, const struct verdict *v, void **where)
{
	if (v->defined == 0)
		return NOT_HERE;
	const ElfW(Sym) *s = &o->symtab[v->index];
	/* (ELF32_ST_BIND and _TYPE are the same shifts and masks) */
	unsigned bind = ELF64_ST_BIND(s->st_info), type = ELF64_ST_TYPE(s->st_info);
	if (v->defined > 1 || (bind != STB_GLOBAL && bind != STB_WEAK) || type != STT_FUNC ||
	    (o->versym && (o->versym[v->index] & 0x8000 || o->versym[v->index] == 0)))
		return UNSURE;
	*where = (void *)(o->base + s->st_value);
	return FOUND;
}

/* NAME in O's GNU hash table: nbuckets, symoffset, bloom size, bloom shift,
 * the bloom words, the buckets, then the chain of hash values, bit 0 marking
 * each bucket's last symbol. */
static enum found find_gnu(const struct object *o, const char *name, void **where)
{
	const uint32_t *t = o->gnu_hash, h = gnu_hash_of(name);
	uint32_t nbuckets = t[0], symoffset = t[1], bloom_size = t[2], shift = t[3];
	if (nbuckets == 0 || bloom_size == 0)
		return NOT_HERE;
	const ElfW(Addr) *bloom = (const ElfW(Addr) *)(t + 4);
	const uint32_t *buckets = (const uint32_t *)(bloom + bloom_size);
	const uint32_t *chain = buckets + nbuckets;
	const unsigned bits = sizeof(ElfW(Addr)) * 8;
	ElfW(Addr) word = bloom[(h / bits) & (bloom_size - 1)];
	ElfW(Addr) mask = ((ElfW(Addr))1 << (h % bits)) | ((ElfW(Addr))1 << ((h >> shift) % bits));
	if ((word & mask) != mask)
		return NOT_HERE;
	struct verdict v = { 0, 0 };
	uint32_t i = buckets[h % nbuckets];
	if (i < symoffset)
		return NOT_HERE;
	for (;; i++) {
		uint32_t hi = chain[i - symoffset];
		if ((hi | 1) == (h | 1))
			consider(o, i, name, &v);
		if (hi & 1) /* the bucket's last symbol: ends the walk */
			break;
	}
	return judge(o, &v, where);
}

/* NAME in O's classic hash table: nbucket, nchain, the buckets, the chains;
 * a chain ends at symbol 0. */
static enum found find_sysv(const struct object *o, const char *name, void **where)
{
	const ElfW(Word) *t = o->sysv_hash;
	ElfW(Word) nbucket = t[0], nchain = t[1];
	if (nbucket == 0)
		return NOT_HERE;
	const ElfW(Word) *buckets = t + 2, *chains = buckets + nbucket;
	struct verdict v = { 0, 0 };
	/* nchain bounds the steps: a corrupt table ends the walk too. */
	ElfW(Word) steps = 0;
	for (ElfW(Word) i = buckets[sysv_hash_of(name) % nbucket];
	     i != STN_UNDEF && i < nchain && steps++ < nchain; i = chains[i])
		consider(o, i, name, &v);
	return judge(o, &v, where);
}

void *kt_symbols_next(const char *name)
{
	if (!usable)
		return NULL;
	for (int i = 0; i < object_count; i++) {
		const struct object *o = &after_us[i];
		void *where = NULL;
		enum found f = o->gnu_hash ? find_gnu(o, name, &where) : find_sysv(o, name, &where);
		if (f == NOT_HERE)
			continue;
		/* The first definition after us decides: dlsym's own answer only
		 * when it is libc's plain function. */
		return f == FOUND && o->is_libc ? where : NULL;
	}
	return NULL;
}
