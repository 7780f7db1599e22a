/* SPDX-License-Identifier: MIT */
/* Where a stale kill came from: the hook's return address, a best-effort
 * frame-pointer walk above it, and a module+offset+symbol for each address.
 *
 * All of it runs inside kill(), so possibly inside a signal handler, so:
 *
 *  - no backtrace(): glibc's loads libgcc_s with dlopen (and mallocs) on its
 *    first call;
 *  - no dladdr(): it takes the loader's recursive dl_load_lock, and a handler
 *    that interrupted dlopen in the same thread would walk a half-updated
 *    link map;
 *  - instead, a map of loaded objects taken at start-up (constructor, only
 *    when reports are on) with dl_iterate_phdr: each object's path, load
 *    base, executable range and dynamic symbol table.  Objects loaded before
 *    main are never unloaded by glibc, so the map's pointers stay valid for
 *    the life of the process;
 *  - an address the map does not hold (code dlopen()ed after start-up: a
 *    CPython extension module, a plugin) is looked up in /proc/self/maps,
 *    read with raw system calls when the report is written: the executable
 *    mapping that holds it names the file, the file's first mapping its ELF
 *    header and so its load base, and its dynamic symbol table is read with
 *    process_vm_readv, since a dlclose() in another thread may unmap it at
 *    any moment;
 *  - memory above the hook's frame is read with process_vm_readv on our own
 *    process, which returns EFAULT for a bad address instead of faulting, so
 *    a garbage frame pointer (code built without frame pointers, which is
 *    most distribution code) ends the walk instead of crashing the program.
 *
 * The first address is exact.  The ones after it are only as good as the
 * program's frame pointers: trust them for code built with
 * -fno-omit-frame-pointer, treat them as hints otherwise.  Symbols come from
 * .dynsym only (what dladdr would find too): a function inside an executable
 * is named only if it was linked with -rdynamic; otherwise use the module
 * and offset with `addr2line -f -e MODULE OFFSET`. */
#ifndef KT_CALLER_H
#define KT_CALLER_H

#include <stddef.h>
#include <stdint.h>

#define KT_CALLER_FRAMES 6

struct kt_caller {
	int n;
	uintptr_t pc[KT_CALLER_FRAMES];
};

/* Where the program called a hook from: the exported hook's own return
 * address and frame, taken in that frame (a level deeper the return address
 * names libkt).  A hook that passes the address of such a local down also
 * keeps the compiler from turning its call into a tail call that would pop
 * the frame record the caller walk starts from.  Read only when reports are
 * on (a stale kill's caller, a child's story: story.h). */
struct kt_origin {
	void *ret;
	void *frame;
};
#define KT_ORIGIN { __builtin_return_address(0), __builtin_frame_address(0) }

/* Fill C from a hook's __builtin_return_address(0) and
 * __builtin_frame_address(0) (the latter also makes the compiler give the
 * hook a frame record, which is where the walk starts). */
void kt_caller_capture(struct kt_caller *c, void *ret, void *frame);
/* Drop the frames at the start of C that are libkt's own (an assembly entry
 * point's, which has no frame record of its own to skip it by). */
void kt_caller_trim_self(struct kt_caller *c);

/* Bytes kept of a module path read from /proc/self/maps (its end, the
 * part a report prints), and of a symbol name read from a module mapped
 * after start-up. */
#define KT_WHERE_PATH 512
#define KT_WHERE_SYMBOL 128
/* Room for reading /proc/self/maps: one line, a long path included. */
#define KT_WHERE_SCRATCH 4608

struct kt_where {
	const char *module; /* path of the loaded object, or NULL if unknown */
	uintptr_t offset;   /* pc - load base of that object */
	const char *symbol; /* nearest .dynsym function at or below pc, or NULL */
	size_t symbol_len;  /* bytes of symbol to print (strtab is not ours to trust) */
	uintptr_t symbol_offset;
	/* Where module and symbol point for an object mapped after start-up,
	 * and the memory its lookup works in: a few KiB, so a report keeps a
	 * struct kt_where in pages of its own, off a possibly small signal
	 * stack. */
	char path[KT_WHERE_PATH];
	char symbol_copy[KT_WHERE_SYMBOL];
	char scratch[KT_WHERE_SCRATCH];
};

/* Describe PC: from the start-up map, else from /proc/self/maps (an object
 * mapped later).  0 if PC lies in no executable mapping of a file. */
int kt_caller_where(uintptr_t pc, struct kt_where *w);

/* Take the map of loaded objects (constructor; not async-signal-safe). */
void kt_modules_capture(void);

#endif
