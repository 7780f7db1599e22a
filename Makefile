# SPDX-License-Identifier: MIT
# libkt — one top-level Makefile.  `make V=1` shows full commands.
#
#   make            build build/libkt.so
#   make test       build and run every Check suite (unit + preload), both CK_FORK modes
#   make demo       build, then show a PID-reuse bug without and with libkt
#   make asan       build build/asan/libkt.so with ASan+UBSan (for the sanitizer runs)
#   make aarch64    cross-build build/aarch64/libkt.so (and its test helpers) with
#                   aarch64-linux-gnu-gcc; `make test` runs them under qemu-aarch64
#                   when both are installed
#   make install    install under PREFIX (default /usr/local), staged under DESTDIR
#   make uninstall  remove what install put there
#   make check-matrix  build and test in Debian 11, 12, 13 chroots (root; docs/platforms.md)
#   make check-kernels the parity and refusal suites on Debian's 5.10, 6.1, 6.12 kernels
#                   under qemu and on this machine's kernel (docs/platforms.md)
#   make bench      build and run the benchmark (BENCH_ARGS: e.g. -q, -r 9, -m inode,none,fd)
#   make check-docs check that every relative link in README.md and docs/ resolves,
#                   and docs/layout.md's rules (scripts/check-layout)
#                   and that every source file carries its SPDX licence line
#   make deb        build a Debian package under build/ (make lintian checks it)
#   make deb-portable  (root) the package built in the Debian 11 chroot of the
#                   matrix, for every later release: build/portable/
#   make check-system  (root) that package with /etc/ld.so.preload, in a private
#                   mount namespace: real programs with and without it
#   make bench-system  (root) whole workloads with and without /etc/ld.so.preload
#   make clean

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN    += -Werror
endif
BUILD   := build
LIB     := $(BUILD)/libkt.so

Q := @
ifeq ($(V),1)
Q :=
endif

# The library: one file per concern (docs/layout.md maps them).  No -lpthread, and
# -ldl only where dlsym is not in libc (LIBDL below): each extra DT_NEEDED costs every exec.
# vfork and syscall's entry are per-architecture assembly (shim/*_ARCH.S); each architecture
# has its own version script (x86_64 has glibc's GLIBC_2.2.5 compat posix_spawn).
ARCH := $(shell $(CC) -dumpmachine | cut -d- -f1)
SHIM_MAP := $(if $(filter x86_64,$(ARCH)),shim/libkt.map,shim/libkt-$(ARCH).map)
SHIM_SRC := $(wildcard shim/*.c)
SHIM_OBJ := $(SHIM_SRC:shim/%.c=$(BUILD)/shim/%.o) $(BUILD)/shim/vfork_$(ARCH).o \
	$(BUILD)/shim/syscall_$(ARCH).o
SYSCONFDIR ?= /etc
SHIM_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 -fPIC -fvisibility=hidden -DKT_SYSCONFDIR='"$(SYSCONFDIR)"' \
	-D_GNU_SOURCE -Iinclude -Ishim
# The soname is the file's own, unversioned name: nothing links against libkt,
# LD_PRELOAD and /etc/ld.so.preload name it, and ldconfig caches it by it.
SHIM_LDFLAGS := -shared -Wl,--version-script=$(SHIM_MAP) -Wl,-z,relro \
	-Wl,-z,noexecstack -Wl,--no-undefined -Wl,-soname,libkt.so

DECOY   := $(BUILD)/kt-decoy
KTCONFIG := $(BUILD)/kt-config

# ---- libraries that older glibc keeps apart --------------------------------------
# Before glibc 2.34, dlsym/dlvsym live in libdl and the pthread functions in
# libpthread; from 2.34 on both are in libc (the old names remain as empty stubs).
# Each is linked only where a test program does not link without it: found by
# trying the link with $(CC), never from a list of versions.  A libkt.so built
# this way on the oldest glibc therefore needs libdl.so.2, which every newer glibc
# still ships.
try_link = $(shell printf '%s\n' $(1) | $(CC) -D_GNU_SOURCE -x c - -o /dev/null $(2) >/dev/null 2>&1 && echo ok)
needs_lib = $(if $(call try_link,$(1)),,$(if $(call try_link,$(1),-l$(2)),-l$(2)))
DL_PROBE := '\#include <dlfcn.h>' 'int main(void) { return dlsym(RTLD_DEFAULT, "main") == 0; }'
PTHREAD_PROBE := '\#include <pthread.h>' 'static void *f(void *a) { return a; }' \
	'int main(void) { pthread_t t; pthread_barrier_t b; pthread_barrier_init(&b, 0, 1);' \
	'return pthread_create(&t, 0, f, 0) || pthread_join(t, 0); }'
LIBDL      := $(call needs_lib,$(DL_PROBE),dl)
LIBPTHREAD := $(call needs_lib,$(PTHREAD_PROBE),pthread)
TEST_LIBS  := $(LIBDL) $(LIBPTHREAD)

all: $(LIB) $(DECOY) $(KTCONFIG) helpers

$(BUILD)/shim/%.o: shim/%.c $(wildcard shim/*.h) include/kt.h Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(SHIM_CFLAGS) -c $< -o $@

$(BUILD)/shim/%.o: shim/%.S Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AS      $@";)
	$(Q)$(CC) $(CFLAGS) -fPIC -c $< -o $@

$(LIB): $(SHIM_OBJ) $(SHIM_MAP)
	@$(if $(Q),echo "  LD      $@";)
	$(Q)$(CC) $(SHIM_CFLAGS) $(SHIM_LDFLAGS) $(SHIM_OBJ) -o $@ $(LIBDL)

# The reuse provoker behind kt-run --provoke-reuse (a plain program, never
# preloaded; installed to libexec).
$(DECOY): scripts/kt-decoy.c Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE $< -o $@

# The settings as libkt reads them, for kt-run (--config, --check, its checks
# of KT_* values): the library's own parser and file reader, nothing else.
KTCONFIG_SRC := scripts/kt-config.c shim/config.c shim/conffile.c shim/fmt.c shim/sys.c
$(KTCONFIG): $(KTCONFIG_SRC) shim/config.h shim/conffile.h shim/fmt.h shim/sys.h include/kt.h Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -DKT_SYSCONFDIR='"$(SYSCONFDIR)"' \
		-Iinclude -Ishim $(KTCONFIG_SRC) -o $@

# ---- tests ---------------------------------------------------------------------
# test/unit_*.c     Check suites of the pure parts; they link UNIT_DEPS, never the hooks
# test/preload_*.c  Check suites that are run with LD_PRELOAD=build/libkt.so
# test/helpers/*.c  small programs the suites launch (plain executables, each
#                   linked with selfcheck.o); test/README.md maps them
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)
TEST_CFLAGS  := $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude -Ishim -Itest $(CHECK_CFLAGS)
UNIT_DEPS    := shim/table.c shim/sys.c shim/config.c shim/fmt.c
UNIT_SRC     := $(wildcard test/unit_*.c)
PRELOAD_SRC  := $(wildcard test/preload_*.c)
HELPER_SRC   := $(filter-out test/helpers/lib% test/helpers/selfcheck.c,$(wildcard test/helpers/*.c))
HELPER_LIBS  := $(patsubst test/helpers/%.c,$(BUILD)/test/helpers/%.so,$(wildcard test/helpers/lib*.c))
UNIT_BIN     := $(UNIT_SRC:test/%.c=$(BUILD)/test/%)
PRELOAD_BIN  := $(PRELOAD_SRC:test/%.c=$(BUILD)/test/%)
HELPER_BIN   := $(HELPER_SRC:test/helpers/%.c=$(BUILD)/test/helpers/%)
# Objects the suites link, each built once: testlib (every suite's main(), the
# "loaded" case, running programs) and compat (preload_compat's plumbing).
TESTLIB      := $(BUILD)/test/testlib.o
COMPAT_OBJ   := $(BUILD)/test/compat.o
.SECONDARY: $(TESTLIB) $(COMPAT_OBJ)

$(BUILD)/test/%.o: test/%.c $(wildcard test/*.h) include/kt.h Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(TEST_CFLAGS) -c $< -o $@

$(BUILD)/test/unit_%: test/unit_%.c $(UNIT_DEPS) $(TESTLIB) $(wildcard shim/*.h) Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(TEST_CFLAGS) $(UNIT_FLAGS) -DKT_UNIT_TEST $< $(UNIT_DEPS) $(UNIT_EXTRA) $(TESTLIB) \
		-o $@ $(CHECK_LIBS) $(TEST_LIBS)

# The kept pidfds are tested with the table they name slots of.
$(BUILD)/test/unit_heldfd: UNIT_EXTRA := shim/heldfd.c shim/counters.c
$(BUILD)/test/unit_heldfd: shim/heldfd.c shim/counters.c

# The lookups of the real functions: against dlsym, from a program of their own.
$(BUILD)/test/unit_real: UNIT_EXTRA := shim/real.c shim/symbols.c
$(BUILD)/test/unit_real: shim/real.c shim/symbols.c

# The caller-naming code is pure too (no hooks), but only its own suite links
# it; frame records and .dynsym symbols give that suite something to find.
$(BUILD)/test/unit_caller: UNIT_EXTRA := shim/caller.c
$(BUILD)/test/unit_caller: UNIT_FLAGS := -rdynamic -fno-omit-frame-pointer
$(BUILD)/test/unit_caller: shim/caller.c

$(BUILD)/test/preload_%: test/preload_%.c $(TESTLIB) $(wildcard test/*.h) include/kt.h Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(TEST_CFLAGS) $< $(TESTLIB) $(PRELOAD_EXTRA) -o $@ $(CHECK_LIBS) $(TEST_LIBS)

$(BUILD)/test/preload_compat: PRELOAD_EXTRA := $(COMPAT_OBJ)
$(BUILD)/test/preload_compat: $(COMPAT_OBJ)

# selfcheck.o: the plumbing the helper programs share (see its header),
# linked into each of them.
HELPER_OBJ   := $(BUILD)/test/helpers/selfcheck.o

$(HELPER_OBJ): test/helpers/selfcheck.c test/helpers/selfcheck.h include/kt.h Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude -c $< -o $@

$(BUILD)/test/helpers/%: test/helpers/%.c $(HELPER_OBJ) test/helpers/selfcheck.h test/older_glibc.h include/kt.h Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) $(HELPER_FLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude $< $(HELPER_OBJ) -o $@ \
		$(TEST_LIBS)

# The report tests check that a stale kill's caller is named: symbols in
# .dynsym and frame records to walk.
$(BUILD)/test/helpers/stale_kill: HELPER_FLAGS := -rdynamic -fno-omit-frame-pointer
# Helpers that share the suites' stranger-placing header.
$(BUILD)/test/helpers/kt_probe $(BUILD)/test/helpers/parity $(BUILD)/test/helpers/reuse $(BUILD)/test/helpers/tree $(BUILD)/test/helpers/heldrace \
	$(BUILD)/test/helpers/kernel_probe $(BUILD)/test/helpers/observe_race: \
	test/stranger.h
# Helpers that share the group-outliving-its-leader fixture.
$(BUILD)/test/helpers/parity $(BUILD)/test/helpers/kernel_probe $(BUILD)/test/helpers/kernel_libkt: \
	test/orphan_group.h

# The same program as most builds make one: -g and frame pointers but no
# -rdynamic, so libkt can name none of its functions and kt-symbolize must.
$(BUILD)/test/helpers/stale_kill_nodyn: test/helpers/stale_kill.c include/kt.h Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) -g -fno-omit-frame-pointer $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude $< -o $@ $(TEST_LIBS)
HELPER_BIN += $(BUILD)/test/helpers/stale_kill_nodyn

$(BUILD)/test/helpers/lib%.so: test/helpers/lib%.c test/older_glibc.h include/kt.h Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) $(LIB_FLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude -shared -fPIC $< -o $@ $(TEST_LIBS)

# Loaded after start-up by stale_kill --late: frame records for the walk.
$(BUILD)/test/helpers/liblate_jobs.so: LIB_FLAGS := -fno-omit-frame-pointer

# The glibc 2.39 stand-in defines versioned symbols: it needs its version script.
$(BUILD)/test/helpers/libfake_glibc239.so: test/helpers/libfake_glibc239.c \
		test/helpers/libfake_glibc239.map Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -shared -fPIC \
		-Wl,--version-script=test/helpers/libfake_glibc239.map $< -o $@ $(TEST_LIBS)

helpers: $(HELPER_BIN) $(HELPER_LIBS)

# ---- aarch64 ---------------------------------------------------------------------
# The same sources cross-built into $(BUILD)/aarch64 (library and helpers; Check
# itself is not cross-installed, so the aarch64 cases live in plain helpers that
# test/preload_children.c runs under qemu-aarch64).  `make test` builds this too
# when the cross compiler is there, and the suite says SKIP when it is not.
AARCH64_CC ?= aarch64-linux-gnu-gcc
HAVE_AARCH64 := $(if $(filter x86_64,$(ARCH)),$(shell command -v $(AARCH64_CC) >/dev/null 2>&1 && echo yes))
AARCH64_HELPERS := vforker rawsyscall

aarch64:
	$(Q)$(MAKE) --no-print-directory CC=$(AARCH64_CC) BUILD=$(BUILD)/aarch64 \
		$(BUILD)/aarch64/libkt.so $(AARCH64_HELPERS:%=$(BUILD)/aarch64/test/helpers/%)

TEST_TIMEOUT ?= 600
# Every preload suite runs in each identity mode, and with pidfds refused.
KT_IDENTITIES ?= auto inode fd none
KT_SECCOMP ?= ENOSYS EPERM
test: $(LIB) $(DECOY) $(UNIT_BIN) $(PRELOAD_BIN) $(HELPER_BIN) $(HELPER_LIBS) \
	$(if $(HAVE_AARCH64),aarch64)
	$(Q)KT_BUILD=$(CURDIR)/$(BUILD) TEST_TIMEOUT=$(TEST_TIMEOUT) KT_IDENTITIES="$(KT_IDENTITIES)" \
		KT_SECCOMP="$(KT_SECCOMP)" scripts/run-tests $(UNIT_BIN) -- $(PRELOAD_BIN)

# ---- sanitizers (`make check-sanitizers`; what CI runs) --------------------------
# check-asan      every preload suite against build/asan/libkt.so (ASan+UBSan), the
#                 ASan runtime first in LD_PRELOAD, in each identity mode
# check-tsan      the stress helper and libkt both built with TSan, run together
# check-valgrind  valgrind memcheck over the unit suites (CK_FORK=no)
ASAN_DIR   := $(BUILD)/asan
TSAN_DIR   := $(BUILD)/tsan
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
TSAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer
SAN_OPT    := -O1 -g
ASAN_RT    := $(shell $(CC) -print-file-name=libasan.so)

asan: $(ASAN_DIR)/libkt.so

# The sanitizer builds leave out the vfork trampoline (the runtimes define
# vfork themselves) but keep syscall()'s assembly entry.
SAN_SRC := $(SHIM_SRC) shim/syscall_$(ARCH).S

$(ASAN_DIR)/libkt.so: $(SAN_SRC) $(wildcard shim/*.h) include/kt.h shim/libkt.map Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(SHIM_CFLAGS) $(SAN_OPT) $(ASAN_FLAGS) $(SHIM_LDFLAGS) $(SAN_SRC) -o $@ $(LIBDL)

$(TSAN_DIR)/libkt.so: $(SAN_SRC) $(wildcard shim/*.h) include/kt.h shim/libkt.map Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(SHIM_CFLAGS) $(SAN_OPT) $(TSAN_FLAGS) $(SHIM_LDFLAGS) $(SAN_SRC) -o $@ $(LIBDL)

$(TSAN_DIR)/stress: test/helpers/stress.c Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(SAN_OPT) $(WARN) $(TSAN_FLAGS) -std=gnu11 -D_GNU_SOURCE -Iinclude $< -o $@ $(TEST_LIBS)

# The suites find their helpers under $KT_BUILD/test: the plain build's.
# Left out: suites whose subject is vfork (directly, or through CPython and
# dash: children, programs, programs_children, compat) or kt-run.  The ASan runtime, first
# in LD_PRELOAD, defines vfork itself, so libkt's vfork trampoline is never
# reached (its children go unregistered: expectations fail, no memory error);
# preload_ktrun needs the installed-layout build directory.  Tests that
# cannot hold under ASan skip themselves when KT_SANITIZER is set.
ASAN_SUITES := $(filter-out $(BUILD)/test/preload_children $(BUILD)/test/preload_programs \
	$(BUILD)/test/preload_programs_children $(BUILD)/test/preload_ktrun \
	$(BUILD)/test/preload_compat,$(PRELOAD_BIN))
check-asan: $(ASAN_DIR)/libkt.so $(PRELOAD_BIN) $(HELPER_BIN) $(HELPER_LIBS)
	@ln -sfn ../test $(ASAN_DIR)/test
	$(Q)KT_BUILD=$(CURDIR)/$(ASAN_DIR) KT_TEST_PRELOAD="$(ASAN_RT) $(CURDIR)/$(ASAN_DIR)/libkt.so" \
		KT_SANITIZER=asan ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:abort_on_error=0 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 TEST_TIMEOUT=$(TEST_TIMEOUT) \
		KT_IDENTITIES="auto fd none" KT_SECCOMP="" scripts/run-tests -- $(ASAN_SUITES)

# The last run has reports on (into a file), so the children's stories, written
# by reaping threads and read by killing ones, are raced too.
# The kept pidfds' own unit suite, its threaded case raced under TSan.
$(TSAN_DIR)/unit_heldfd: test/unit_heldfd.c test/testlib.c $(UNIT_DEPS) shim/heldfd.c \
		shim/counters.c $(wildcard shim/*.h) $(wildcard test/*.h) Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(SAN_OPT) $(WARN) $(TSAN_FLAGS) -std=gnu11 -D_GNU_SOURCE -DKT_UNIT_TEST -Iinclude \
		-Ishim -Itest $(CHECK_CFLAGS) test/unit_heldfd.c test/testlib.c $(UNIT_DEPS) \
		shim/heldfd.c shim/counters.c -o $@ $(CHECK_LIBS) $(TEST_LIBS)

check-tsan: $(TSAN_DIR)/libkt.so $(TSAN_DIR)/stress $(TSAN_DIR)/unit_heldfd
	$(Q)echo "tsan: unit_heldfd"; \
		TSAN_OPTIONS=halt_on_error=1:exitcode=66 CK_FORK=no timeout -k 5 300 \
		$(TSAN_DIR)/unit_heldfd > $(TSAN_DIR)/out 2>&1 || { cat $(TSAN_DIR)/out; exit 1; }; \
		tail -n 1 $(TSAN_DIR)/out
	$(Q)for id in auto fd none auto+log; do \
		log=; [ "$$id" = auto+log ] && { id=auto; log=$(CURDIR)/$(TSAN_DIR)/reports.log; rm -f "$$log"; }; \
		echo "tsan: stress, KT_IDENTITY=$$id$${log:+, reports on}"; \
		TSAN_OPTIONS=halt_on_error=1:exitcode=66:report_signal_unsafe=0 KT_IDENTITY=$$id \
			KT_LOG=$$log \
			LD_PRELOAD=$(CURDIR)/$(TSAN_DIR)/libkt.so timeout -k 5 300 $(TSAN_DIR)/stress 3 3 \
			> $(TSAN_DIR)/out 2>&1; \
		grep -q '^stress=ok ' $(TSAN_DIR)/out || { cat $(TSAN_DIR)/out; exit 1; }; \
		tail -n 1 $(TSAN_DIR)/out; \
	done

# unit_heldfd is left to TSan: the valgrind of Debian 12 (3.19) does not know
# pidfd_open, which every one of its cases needs.
VALGRIND_BIN := $(filter-out $(BUILD)/test/unit_heldfd,$(UNIT_BIN))
check-valgrind: $(VALGRIND_BIN)
	$(Q)for t in $(VALGRIND_BIN); do \
		echo "valgrind: $$t"; \
		CK_FORK=no valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
			$$t >/dev/null || exit 1; \
	done

check-sanitizers: check-asan check-tsan check-valgrind

# ---- glibc matrix (`make check-matrix`; what CI runs last) -------------------------
# A -Werror build and `make test` in Debian 11, 12 and 13 chroots (glibc 2.31,
# 2.36, 2.41) made with debootstrap under $(BUILD)/matrix, then the libkt.so
# built on the oldest under the newest one's suites.  Needs root; see
# scripts/check-matrix and docs/platforms.md.
check-matrix:
	$(Q)KT_MATRIX_DIR=$(CURDIR)/$(BUILD)/matrix scripts/check-matrix

# ---- kernel matrix (`make check-kernels`; CI runs it after make test) ---------------
# Debian 11's, 12's and 13's kernels booted under qemu-system-x86_64 with an
# initramfs of this build, and this machine's kernel natively: kernel_probe,
# kernel_libkt and the suites below in two identity modes, one line per
# kernel.  See scripts/check-kernels and docs/platforms.md.
KERNEL_SUITES := parity core reuse lazy children tree
check-kernels: $(LIB) $(KERNEL_SUITES:%=$(BUILD)/test/preload_%) $(HELPER_BIN) $(HELPER_LIBS)
	$(Q)KT_BUILD=$(CURDIR)/$(BUILD) KT_KERNEL_SUITES="$(KERNEL_SUITES)" scripts/check-kernels

# The Debian package built in the oldest chroot of the matrix (Debian 11), so
# that it installs on every release of it: build/portable/ (root; CI also
# installs it in the Debian 13 chroot, DEB_PORTABLE_ARGS=--install-in trixie).
DEB_PORTABLE_ARGS ?=
deb-portable:
	$(Q)KT_MATRIX_DIR=$(CURDIR)/$(BUILD)/matrix scripts/deb-portable $(DEB_PORTABLE_ARGS)

demo: $(LIB) $(HELPER_BIN) $(HELPER_LIBS)
	$(Q)KT_BUILD=$(CURDIR)/$(BUILD) scripts/demo

# ---- bench ---------------------------------------------------------------------
# Measured, never asserted: prints one table of medians and ratios (docs/bench.md).
# empty.so is the floor any LD_PRELOAD shim pays, built with the library's flags;
# exit0 is static so the spawn cycles measure hooks, not the child's start-up.
BENCH_ARGS ?=
$(BUILD)/bench/empty.so: test/bench/empty.c Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@";)
	$(Q)$(CC) $(SHIM_CFLAGS) -shared -Wl,-z,relro $< -o $@

$(BUILD)/bench/exit0: test/bench/exit0.c Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@";)
	$(Q)$(CC) -O2 $(WARN) -static -nostdlib -fno-stack-protector $< -o $@

$(BUILD)/bench/bench: test/bench/bench.c include/kt.h Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude $< -o $@ $(TEST_LIBS)

# libkt.so reading a libkt.conf of the bench's own (bench/etc: the shipped file
# with every key uncommented), for the start-up cost of the file: the same
# objects but conffile's, which names that directory instead of SYSCONFDIR.
BENCH_ETC := $(CURDIR)/$(BUILD)/bench/etc
$(BUILD)/bench/conffile.o: shim/conffile.c $(wildcard shim/*.h) include/kt.h Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(SHIM_CFLAGS) -UKT_SYSCONFDIR -DKT_SYSCONFDIR='"$(BENCH_ETC)"' -c $< -o $@

$(BUILD)/bench/libkt-conf.so: $(filter-out $(BUILD)/shim/conffile.o,$(SHIM_OBJ)) \
		$(BUILD)/bench/conffile.o $(SHIM_MAP)
	@$(if $(Q),echo "  LD      $@";)
	$(Q)$(CC) $(SHIM_CFLAGS) $(SHIM_LDFLAGS) $(filter %.o,$^) -o $@ $(LIBDL)

$(BUILD)/bench/etc/libkt.conf: docs/examples/libkt.conf Makefile
	@mkdir -p $(dir $@)
	$(Q)sed -E 's/^#([a-z_]+ =)/\1/' $< > $@

bench: $(LIB) $(BUILD)/bench/empty.so $(BUILD)/bench/exit0 $(BUILD)/bench/bench \
	$(BUILD)/bench/libkt-conf.so $(BUILD)/bench/etc/libkt.conf
	$(Q)$(BUILD)/bench/bench -b $(BUILD) $(BENCH_ARGS)
	$(Q)$(MAKE) --no-print-directory bench-system

# ---- install ------------------------------------------------------------------
# PREFIX is where things will live; DESTDIR (for packagers) is prepended to
# every path written, never to paths kt-run looks at: kt-run finds libkt.so
# and kt-decoy relative to itself (../lib, ../libexec/libkt by default; the
# installed copy is told LIBDIR and LIBEXECDIR relative to BINDIR, so
# LIBDIR=$(PREFIX)/lib/<multiarch> works and the tree stays relocatable).
PREFIX     ?= /usr/local
BINDIR     := $(PREFIX)/bin
LIBDIR     := $(PREFIX)/lib
LIBEXECDIR := $(PREFIX)/libexec/libkt
INCLUDEDIR := $(PREFIX)/include
MANDIR     := $(PREFIX)/share/man
INSTALL    ?= install

INSTALLED := $(LIBDIR)/libkt.so $(BINDIR)/kt-run $(BINDIR)/kt-symbolize $(LIBEXECDIR)/kt-decoy \
	$(LIBEXECDIR)/kt-config \
	$(INCLUDEDIR)/kt.h $(MANDIR)/man1/kt-run.1 $(MANDIR)/man1/kt-symbolize.1 $(MANDIR)/man7/libkt.7

install: $(LIB) $(DECOY) $(KTCONFIG)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(LIBEXECDIR) \
		$(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	$(INSTALL) -m 755 $(LIB) $(DESTDIR)$(LIBDIR)/libkt.so
	sed -e "s|^installed_lib_rel=.*|installed_lib_rel=$$(realpath -m --relative-to=$(BINDIR) $(LIBDIR))|" \
	    -e "s|^installed_libexec_rel=.*|installed_libexec_rel=$$(realpath -m --relative-to=$(BINDIR) $(LIBEXECDIR))|" \
	    scripts/kt-run > $(DESTDIR)$(BINDIR)/kt-run.tmp
	chmod 755 $(DESTDIR)$(BINDIR)/kt-run.tmp
	mv -f $(DESTDIR)$(BINDIR)/kt-run.tmp $(DESTDIR)$(BINDIR)/kt-run
	$(INSTALL) -m 755 scripts/kt-symbolize $(DESTDIR)$(BINDIR)/kt-symbolize
	$(INSTALL) -m 755 $(DECOY) $(DESTDIR)$(LIBEXECDIR)/kt-decoy
	$(INSTALL) -m 755 $(KTCONFIG) $(DESTDIR)$(LIBEXECDIR)/kt-config
	$(INSTALL) -m 644 include/kt.h $(DESTDIR)$(INCLUDEDIR)/kt.h
	$(INSTALL) -m 644 man/kt-run.1 $(DESTDIR)$(MANDIR)/man1/kt-run.1
	$(INSTALL) -m 644 man/kt-symbolize.1 $(DESTDIR)$(MANDIR)/man1/kt-symbolize.1
	$(INSTALL) -m 644 man/libkt.7 $(DESTDIR)$(MANDIR)/man7/libkt.7

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(LIBEXECDIR) 2>/dev/null

# ---- Debian package, and the whole machine under libkt --------------------------
# make deb           build/libkt_VERSION_ARCH.deb (scripts/mkdeb, scripts/deb/;
#                    `scripts/deps deb` installs the tools)
# make lintian       lintian over that package; fails on a warning or an error
# make check-system  (root) installs the package in a private mount namespace over
#                    overlays of /etc, /usr and /var, turns on /etc/ld.so.preload
#                    there and runs real programs with and without it
deb: $(LIB) $(DECOY) $(KTCONFIG)
	$(Q)CC="$(CC)" MAKE="$(MAKE)" scripts/mkdeb $(BUILD)

# The package is not meant for Debian's archive: no ITP bug for its changelog
# to close.
lintian: deb
	$(Q)lintian --fail-on error,warning --suppress-tags initial-upload-closes-no-bugs \
		$(BUILD)/libkt_*.deb

check-system: deb $(HELPER_BIN)
	$(Q)KT_BUILD=$(CURDIR)/$(BUILD) test/system/check-system

# The same workloads with and without /etc/ld.so.preload (root; the file only in a
# private mount namespace); `make bench` runs it after its own table.
BENCH_SYSTEM_ARGS ?= $(if $(findstring -q,$(BENCH_ARGS)),-q)
bench-system: $(LIB) $(BUILD)/bench/empty.so
	$(Q)KT_BUILD=$(CURDIR)/$(BUILD) test/bench/system $(BENCH_SYSTEM_ARGS)

.PHONY: deb lintian check-system bench-system

# Every relative link in the documents names a file, and a heading there;
# docs/layout.md's rules hold for shim/ (includes, and the built objects'
# symbols), and every source, script, test, Makefile and man page carries its
# SPDX line.
check-docs: $(SHIM_OBJ) $(LIB)
	$(Q)scripts/check-links README.md docs/*.md
	$(Q)scripts/check-layout $(BUILD)
	$(Q)scripts/check-spdx

clean:
	rm -rf $(BUILD)

.PHONY: all test demo clean helpers aarch64
.PHONY: all test demo clean helpers install uninstall
.PHONY: asan check-asan check-tsan check-valgrind check-sanitizers
.PHONY: bench check-docs
.PHONY: check-matrix check-kernels deb-portable
