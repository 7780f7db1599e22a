/* SPDX-License-Identifier: MIT */
/* Unit tests of shim/real.c and shim/symbols.c: the constructor's lookups in
 * libc's own hash table give exactly what dlsym(RTLD_NEXT) gives, and give
 * nothing where they cannot be sure.  Linked into this program, "the object
 * after libkt" is what follows the program: libm and libsubunit (Check's),
 * libc, the loader. */
#include <check.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "real.h"
#include "symbols.h"
#include "testlib.h"

/* Every function the constructor resolves, with the address it keeps. */
struct eager {
	const char *symbol;
	void *(*get)(void);
	int eager, versioned;
};

#define GETTER(id, symbol, version, eager, ...) \
	static void *get_##id(void) { return (void *)KT_REAL(id); }
KT_REAL_FUNCTIONS(GETTER)
#undef GETTER

static const struct eager functions[] = {
#define ROW(id, symbol, version, eager, ...) { symbol, get_##id, eager, version[0] != '\0' },
	KT_REAL_FUNCTIONS(ROW)
#undef ROW
};

START_TEST(eager_functions_are_dlsyms_own)
{
	kt_real_resolve();
	int checked = 0;
	for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
		const struct eager *f = &functions[i];
		if (!f->eager || f->versioned)
			continue;
		void *want = dlsym(RTLD_NEXT, f->symbol);
		ck_assert_msg(f->get() == want, "%s: resolved %p, dlsym says %p", f->symbol,
		              f->get(), want);
		checked++;
	}
	ck_assert_int_ge(checked, 20);
}
END_TEST

START_TEST(hash_lookup_agrees_with_dlsym)
{
	kt_symbols_open();
	/* Found in libc's table, or left to dlsym: never another answer.  Left
	 * only where dlsym's own answer is not a plain libc function (glibc
	 * 2.31's libpthread, linked in for Check, has a compat fork that its
	 * dlsym gives). */
	const char *names[] = { "fork", "close", "open", "opendir", "waitid", "dup3" };
	int found = 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		void *want = dlsym(RTLD_NEXT, names[i]), *got = kt_symbols_next(names[i]);
		ck_assert_ptr_nonnull(want);
		if (got) {
			ck_assert_msg(got == want, "%s: %p, dlsym says %p", names[i], got, want);
			found++;
			continue;
		}
		Dl_info info;
		ck_assert_int_ne(dladdr(want, &info), 0);
		ck_assert_msg(!strstr(info.dli_fname, "/libc.so.6"),
		              "%s: left to dlsym, which finds libc's plain function", names[i]);
	}
	ck_assert_int_ge(found, 5);
	kt_symbols_close();
}
END_TEST

START_TEST(unsure_answers_are_left_to_dlsym)
{
	/* libm is linked in for Check, or opened here: either way loaded after
	 * this program, and not libc. */
	void *libm = dlopen("libm.so.6", RTLD_NOW);
	ck_assert_ptr_nonnull(libm);
	ck_assert_ptr_nonnull(dlsym(libm, "cbrt"));
	kt_symbols_open();
	/* Nobody's. */
	ck_assert_ptr_null(kt_symbols_next("kt_no_such_function_anywhere"));
	/* A function after us, but libm's, not libc's. */
	ck_assert_ptr_null(kt_symbols_next("cbrt"));
	/* Two versions of one name (x86_64's posix_spawn: GLIBC_2.2.5 and the
	 * default GLIBC_2.15): which one dlsym gives changed in glibc 2.35. */
#if defined(__x86_64__)
	ck_assert_ptr_null(kt_symbols_next("posix_spawn"));
#else
	ck_assert_ptr_eq(kt_symbols_next("posix_spawn"), dlsym(RTLD_NEXT, "posix_spawn"));
#endif
	/* libc's data, not a function. */
	ck_assert_ptr_nonnull(dlsym(RTLD_NEXT, "environ"));
	ck_assert_ptr_null(kt_symbols_next("environ"));
	/* An indirect function (glibc picks memcpy's body at load time). */
	ck_assert_ptr_null(kt_symbols_next("memcpy"));
	kt_symbols_close();
	/* Closed: no answers at all. */
	ck_assert_ptr_null(kt_symbols_next("fork"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("real");
	kt_test_tcase(s, "real", 0, eager_functions_are_dlsyms_own, hash_lookup_agrees_with_dlsym,
	              unsure_answers_are_left_to_dlsym);
	return kt_test_main(s);
}
