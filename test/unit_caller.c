/* SPDX-License-Identifier: MIT */
/* Unit tests of shim/caller.c: naming a stale kill's caller.  The property
 * that matters most is that a bad frame pointer can never crash the program
 * (the walk reads memory with process_vm_readv, which fails instead of
 * faulting), then that good frames are named. */
#include <check.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "caller.h"
#include "testlib.h"

/* The shape of a hook: capture from inside a function with a frame record. */
__attribute__((noinline)) void probe(struct kt_caller *c);
__attribute__((noinline)) void probe(struct kt_caller *c)
{
	kt_caller_capture(c, __builtin_return_address(0), __builtin_frame_address(0));
	__asm__ volatile("" ::: "memory"); /* no tail call: keep this frame */
}

__attribute__((noinline)) void probe_caller(struct kt_caller *c);
__attribute__((noinline)) void probe_caller(struct kt_caller *c)
{
	probe(c);
	__asm__ volatile("" ::: "memory");
}

static void setup(void)
{
	kt_modules_capture();
}

START_TEST(test_names_frames)
{
	struct kt_caller c;
	probe_caller(&c);
	ck_assert_int_ge(c.n, 2);
	struct kt_where w;
	ck_assert_int_eq(kt_caller_where(c.pc[0], &w), 1);
	ck_assert_ptr_nonnull(w.module);
	ck_assert_ptr_nonnull(strstr(w.module, "unit_caller"));
	ck_assert_ptr_nonnull(w.symbol);
	ck_assert_int_eq(strncmp(w.symbol, "probe_caller", 12), 0);
	ck_assert_uint_gt(w.symbol_offset, 0);
	/* Frame 1, found by the walk, is in the (static, so unnamed) test
	 * function: this program, at a different place. */
	ck_assert_int_eq(kt_caller_where(c.pc[1], &w), 1);
	ck_assert_ptr_nonnull(strstr(w.module, "unit_caller"));
	ck_assert_uint_ne(c.pc[1], c.pc[0]);
}
END_TEST

/* A libc function, by its address: module libc, an exported name, offset. */
START_TEST(test_names_libc)
{
	struct kt_where w;
	ck_assert_int_eq(kt_caller_where((uintptr_t)&getppid + 5, &w), 1);
	ck_assert_ptr_nonnull(strstr(w.module, "libc.so"));
	ck_assert_ptr_nonnull(w.symbol);
	ck_assert_uint_eq(w.symbol_offset, 5);
}
END_TEST

START_TEST(test_unknown_addresses)
{
	struct kt_where w;
	ck_assert_int_eq(kt_caller_where(0, &w), 0);
	ck_assert_int_eq(kt_caller_where(16, &w), 0);
	ck_assert_int_eq(kt_caller_where(UINTPTR_MAX, &w), 0);
	/* Heap memory is in no object's executable range. */
	void *heap = malloc(16);
	ck_assert_int_eq(kt_caller_where((uintptr_t)heap + 1, &w), 0);
	free(heap);
	ck_assert_ptr_null(w.module);
}
END_TEST

/* A library loaded after the start-up map was taken (dlopen, as CPython
 * loads its extension modules): named from /proc/self/maps, with the
 * offset from where the loader put it and its exported function. */
START_TEST(test_names_late_module)
{
	const char *lib = kt_test_helper("liblate_jobs.so");
	void *h = dlopen(lib, RTLD_NOW);
	ck_assert_msg(h != NULL, "dlopen %s: %s", lib, dlerror());
	void *fn = dlsym(h, "late_cancel_job");
	Dl_info info;
	ck_assert(fn && dladdr(fn, &info));
	struct kt_where w;
	ck_assert_int_eq(kt_caller_where((uintptr_t)fn + 5, &w), 1);
	char *path = realpath(lib, NULL); /* /proc/self/maps names it so */
	ck_assert_ptr_nonnull(path);
	ck_assert_str_eq(w.module, path);
	free(path);
	ck_assert_uint_eq(w.offset, (uintptr_t)fn + 5 - (uintptr_t)info.dli_fbase);
	ck_assert_ptr_nonnull(w.symbol);
	ck_assert_int_eq((int)w.symbol_len, (int)strlen("late_cancel_job"));
	ck_assert_int_eq(strncmp(w.symbol, "late_cancel_job", w.symbol_len), 0);
	ck_assert_uint_eq(w.symbol_offset, 5);
	/* Its data is no code: not named. */
	ck_assert_int_eq(kt_caller_where((uintptr_t)info.dli_fbase + 1, &w), 0);
	dlclose(h);
	/* Unloaded: nothing left to name, and nothing faults. */
	ck_assert_int_eq(kt_caller_where((uintptr_t)fn + 5, &w), 0);
}
END_TEST

/* Garbage frame pointers: the first (exact) address is kept, the walk stops,
 * nothing faults. */
START_TEST(test_bad_frames_never_fault)
{
	struct kt_caller c;
	void *ret = __builtin_return_address(0);

	kt_caller_capture(&c, ret, NULL);
	ck_assert_int_eq(c.n, 1);
	kt_caller_capture(&c, ret, (void *)16);
	ck_assert_int_eq(c.n, 1);
	kt_caller_capture(&c, ret, (void *)UINTPTR_MAX - 7);
	ck_assert_int_eq(c.n, 1);

	/* An unmapped page. */
	void *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(page, MAP_FAILED);
	kt_caller_capture(&c, ret, page);
	ck_assert_int_eq(c.n, 1);
	munmap(page, 4096);

	/* A record pointing to itself (a loop), and one pointing downwards. */
	uintptr_t rec[4];
	rec[0] = (uintptr_t)&rec[0];
	rec[1] = (uintptr_t)ret;
	kt_caller_capture(&c, ret, rec);
	ck_assert_int_eq(c.n, 1);
	rec[0] = (uintptr_t)&rec[2];
	rec[2] = (uintptr_t)&rec[0];
	rec[3] = (uintptr_t)ret;
	kt_caller_capture(&c, ret, rec);
	ck_assert_int_le(c.n, 2);
	/* A record whose return address is no code at all. */
	rec[0] = (uintptr_t)&rec[2];
	rec[2] = 0;
	rec[3] = 0x1234;
	kt_caller_capture(&c, ret, rec);
	ck_assert_int_eq(c.n, 1);
	/* No return address: nothing at all. */
	kt_caller_capture(&c, NULL, rec);
	ck_assert_int_eq(c.n, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("caller");
	TCase *tc = kt_test_tcase(s, "caller", 0, test_names_frames, test_names_libc,
	                          test_unknown_addresses, test_names_late_module,
	                          test_bad_frames_never_fault);
	tcase_add_unchecked_fixture(tc, setup, NULL);
	return kt_test_main(s);
}
