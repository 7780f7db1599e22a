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
	int late;                /* mapped after start-up: read through process_vm_readv */
};

/* Read N bytes of M's memory at ADDR: directly for an object of the
 * start-up map (never unmapped), without ever faulting for one mapped later
 * (a dlclose() in another thread may unmap it).  0, or -1 if it is gone. */
static int module_read(const struct kt_module *m, const void *addr, void *out, size_t n)
{
	if (!m->late) {
		memcpy(out, addr, n);
		return 0;
	}
	return kt_peek_self(addr, out, n);
}

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

/* The number of symbols in M's DT_GNU_HASH table H: the highest symbol
 * index any bucket or chain reaches, plus one (the table stores no count).
 * 0 if the table cannot be read. */
static uint32_t gnu_hash_count(const struct kt_module *m, const uint32_t *h)
{
	uint32_t head[4];
	if (module_read(m, h, head, sizeof head) < 0)
		return 0;
	uint32_t nbuckets = head[0], symoffset = head[1], bloom_size = head[2];
	const ElfW(Addr) *bloom = (const ElfW(Addr) *)(h + 4);
	const uint32_t *buckets = (const uint32_t *)(bloom + bloom_size);
	const uint32_t *chain = buckets + nbuckets;
	uint32_t max = 0, part[64];
	for (uint32_t i = 0; i < nbuckets; i += 64) {
		uint32_t k = nbuckets - i < 64 ? nbuckets - i : 64;
		if (module_read(m, buckets + i, part, k * sizeof *part) < 0)
			return 0;
		for (uint32_t j = 0; j < k; j++)
			if (part[j] > max)
				max = part[j];
	}
	if (max < symoffset)
		return symoffset;
	for (;; max++) {
		uint32_t c;
		if (module_read(m, &chain[max - symoffset], &c, sizeof c) < 0)
			return 0;
		if (c & 1)
			return max + 1;
	}
}

/* glibc rewrites the dynamic section's addresses to absolute ones when it
 * relocates an object, except where that section is read-only (the vDSO);
 * an address below the load base is still relative. */
static uintptr_t dyn_addr(uintptr_t base, ElfW(Addr) v)
{
	return v < base ? base + v : v;
}

/* Fill M (base and late already set) from its PHNUM program headers PH:
 * its executable span and its dynamic symbol table.  0 if it has no
 * executable segment. */
static int module_fill(struct kt_module *m, const ElfW(Phdr) *ph, int phnum)
{
	const ElfW(Dyn) *dyn = NULL;
	for (int i = 0; i < phnum; i++) {
		if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X)) {
			uintptr_t lo = m->base + ph[i].p_vaddr, hi = lo + ph[i].p_memsz;
			if (!m->lo || lo < m->lo)
				m->lo = lo;
			if (hi > m->hi)
				m->hi = hi;
		} else if (ph[i].p_type == PT_DYNAMIC) {
			dyn = (const ElfW(Dyn) *)(m->base + ph[i].p_vaddr);
		}
	}
	if (!m->hi)
		return 0;
	const uint32_t *gnu_hash = NULL, *sysv_hash = NULL;
	for (int i = 0; dyn && i < 256; i++) {
		ElfW(Dyn) d;
		if (module_read(m, &dyn[i], &d, sizeof d) < 0 || d.d_tag == DT_NULL)
			break;
		switch (d.d_tag) {
		case DT_SYMTAB: m->symtab = (const ElfW(Sym) *)dyn_addr(m->base, d.d_un.d_ptr); break;
		case DT_STRTAB: m->strtab = (const char *)dyn_addr(m->base, d.d_un.d_ptr); break;
		case DT_STRSZ: m->strsz = d.d_un.d_val; break;
		case DT_GNU_HASH: gnu_hash = (const uint32_t *)dyn_addr(m->base, d.d_un.d_ptr); break;
		case DT_HASH: sysv_hash = (const uint32_t *)dyn_addr(m->base, d.d_un.d_ptr); break;
		}
	}
	if (m->symtab && m->strtab && m->strsz) {
		uint32_t nchain;
		if (sysv_hash && module_read(m, sysv_hash + 1, &nchain, sizeof nchain) == 0)
			m->nsyms = nchain; /* one entry per symbol */
		else if (gnu_hash)
			m->nsyms = gnu_hash_count(m, gnu_hash);
	}
	if (!m->nsyms)
		m->symtab = NULL;
	return 1;
}

static int add_module(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	struct kt_module_map *map = data;
	if (map->n >= KT_MAX_MODULES)
		return 1;
	struct kt_module m = { .base = info->dlpi_addr };
	if (!module_fill(&m, info->dlpi_phdr, info->dlpi_phnum))
		return 0;
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

/* Name the nearest .dynsym function of M at or below PC in W (a function's
 * size, where known, must reach PC). */
static void name_symbol(const struct kt_module *m, uintptr_t pc, struct kt_where *w)
{
	ElfW(Sym) part[16], best;
	uintptr_t best_addr = 0;
	int found = 0;
	for (uint32_t i = 0; m->symtab && i < m->nsyms; i += 16) {
		uint32_t k = m->nsyms - i < 16 ? m->nsyms - i : 16;
		if (module_read(m, &m->symtab[i], part, k * sizeof *part) < 0)
			return;
		for (uint32_t j = 0; j < k; j++) {
			const ElfW(Sym) *s = &part[j];
			unsigned type = ELF64_ST_TYPE(s->st_info);
			if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s->st_shndx == SHN_UNDEF ||
			    !s->st_value || s->st_name >= m->strsz)
				continue;
			uintptr_t a = m->base + s->st_value;
			if (a > pc - 1 || (s->st_size && pc - 1 >= a + s->st_size))
				continue;
			if (!found || a > best_addr) {
				best = *s;
				best_addr = a;
				found = 1;
			}
		}
	}
	if (!found)
		return;
	size_t len = m->strsz - best.st_name;
	if (!m->late) {
		w->symbol = m->strtab + best.st_name;
		w->symbol_len = len;
	} else {
		/* A copy: the string table may go with the object. */
		if (len > sizeof w->symbol_copy - 1)
			len = sizeof w->symbol_copy - 1;
		if (module_read(m, m->strtab + best.st_name, w->symbol_copy, len) < 0)
			return;
		w->symbol_copy[len] = '\0';
		w->symbol = w->symbol_copy;
		w->symbol_len = strlen(w->symbol_copy);
	}
	w->symbol_offset = pc - best_addr;
}

/* ---- objects mapped after start-up: /proc/self/maps ------------------------ */

static const char *parse_hex(const char *p, uintptr_t *v)
{
	*v = 0;
	for (;; p++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else
			return p;
		*v = *v << 4 | d;
	}
}

/* One line of /proc/self/maps: "START-END PERMS OFFSET MAJ:MIN INODE PATH". */
struct map_line {
	uintptr_t start, end, offset, dev, inode;
	int exec;
	const char *path; /* "" for an anonymous mapping */
};

static int parse_map_line(const char *p, struct map_line *l)
{
	uintptr_t maj, min;
	p = parse_hex(p, &l->start);
	if (*p++ != '-')
		return 0;
	p = parse_hex(p, &l->end);
	if (*p++ != ' ' || !p[0] || !p[1] || !p[2] || !p[3])
		return 0;
	l->exec = p[2] == 'x';
	p += 4;
	if (*p++ != ' ')
		return 0;
	p = parse_hex(p, &l->offset);
	if (*p++ != ' ')
		return 0;
	p = parse_hex(p, &maj);
	if (*p++ != ':')
		return 0;
	p = parse_hex(p, &min);
	l->dev = maj << 20 | min;
	if (*p++ != ' ')
		return 0;
	l->inode = 0;
	for (; *p >= '0' && *p <= '9'; p++)
		l->inode = l->inode * 10 + (uintptr_t)(*p - '0');
	while (*p == ' ')
		p++;
	l->path = p;
	return 1;
}

/* What /proc/self/maps says of PC: the file of the executable mapping that
 * holds it (its path's end copied to W->path) and the address of that
 * file's first mapping (offset 0: its ELF header), 0 if none precedes it. */
struct map_hit {
	struct map_line exec;
	uintptr_t head;
};

static int maps_find(uintptr_t pc, struct kt_where *w, struct map_hit *hit)
{
	int fd = (int)kt_syscall(SYS_openat, AT_FDCWD, (long)"/proc/self/maps",
	                         O_RDONLY | O_CLOEXEC, 0, 0);
	if (fd < 0)
		return 0;
	char *buf = w->scratch;
	size_t cap = sizeof w->scratch - 1, have = 0;
	uintptr_t head = 0, head_dev = 0, head_inode = 0;
	/* DONE once the mapping holding PC is seen: FOUND if it names a file. */
	int done = 0, found = 0, skipping = 0;
	while (!done) {
		long n = kt_syscall(SYS_read, fd, (long)(buf + have), (long)(cap - have), 0, 0);
		if (n <= 0)
			break;
		have += (size_t)n;
		size_t used = 0;
		for (;;) {
			char *nl = memchr(buf + used, '\n', have - used);
			if (!nl)
				break;
			*nl = '\0';
			struct map_line l;
			if (!skipping && parse_map_line(buf + used, &l)) {
				if (l.offset == 0 && l.inode) {
					head = l.start;
					head_dev = l.dev;
					head_inode = l.inode;
				}
				if (l.exec && pc - 1 >= l.start && pc - 1 < l.end) {
					done = 1;
					found = l.path[0] != '\0';
					if (found) {
						size_t len = strlen(l.path), keep = sizeof w->path - 1;
						const char *p = len > keep ? l.path + len - keep : l.path;
						memcpy(w->path, p, strlen(p) + 1);
						hit->exec = l;
						hit->exec.path = w->path;
						hit->head = l.inode && l.inode == head_inode &&
						                    l.dev == head_dev && head <= l.start
						            ? head
						            : 0;
					}
					break;
				}
			}
			skipping = 0;
			used = (size_t)(nl - buf) + 1;
		}
		if (done)
			break;
		if (used == 0 && have == cap) {
			/* A line longer than the buffer: drop what we have of it. */
			have = 0;
			skipping = 1;
			continue;
		}
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	kt_close(fd);
	return found;
}

/* The load base of the file whose ELF header is mapped at HEAD: HEAD less
 * the address its first PT_LOAD asks for (0 for a shared object or a PIE).
 * The program headers go to PH (room for MAX); *PHNUM gets their count.
 * 0 if HEAD holds no ELF header we can read. */
static int elf_base(uintptr_t head, ElfW(Phdr) *ph, int max, int *phnum, uintptr_t *base)
{
	ElfW(Ehdr) eh;
	if (!head || kt_peek_self((const void *)head, &eh, sizeof eh) < 0 ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_phentsize != sizeof *ph ||
	    eh.e_phnum == 0 || eh.e_phnum > max ||
	    kt_peek_self((const void *)(head + eh.e_phoff), ph, eh.e_phnum * sizeof *ph) < 0)
		return 0;
	for (int i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0) {
			*base = head - ph[i].p_vaddr;
			*phnum = eh.e_phnum;
			return 1;
		}
	}
	return 0;
}

/* PC in code mapped after start-up (dlopen): named from /proc/self/maps,
 * its symbols read without trusting that the object stays mapped. */
static int where_late(uintptr_t pc, struct kt_where *w)
{
	struct map_hit hit = { .head = 0 };
	if (!maps_find(pc, w, &hit))
		return 0;
	w->module = w->path;
	struct kt_module m = { .late = 1, .name = w->path };
	/* The scratch held the maps lines; now it holds the program headers. */
	ElfW(Phdr) *ph = (ElfW(Phdr) *)(void *)w->scratch;
	int max = (int)(sizeof w->scratch / sizeof *ph), phnum = 0;
	if (!elf_base(hit.head, ph, max, &phnum, &m.base)) {
		/* No ELF header to read: assume the segment's address and file
		 * offset differ by the load base, as linkers lay text out. */
		w->offset = pc - (hit.exec.start - hit.exec.offset);
		return 1;
	}
	w->offset = pc - m.base;
	if (module_fill(&m, ph, phnum) && pc - 1 >= m.lo && pc - 1 < m.hi)
		name_symbol(&m, pc, w);
	return 1;
}

int kt_caller_where(uintptr_t pc, struct kt_where *w)
{
	w->module = NULL;
	w->offset = 0;
	w->symbol = NULL;
	w->symbol_len = 0;
	w->symbol_offset = 0;
	/* A return address points after the call; pc - 1 is inside the calling
	 * function even when the call was its last instruction. */
	const struct kt_module *m = module_of(pc - 1);
	if (!m)
		return pc > 1 ? where_late(pc, w) : 0;
	w->module = m->name;
	w->offset = pc - m->base;
	name_symbol(m, pc, w);
	return 1;
}
