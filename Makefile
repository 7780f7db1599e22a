# libkt — one top-level Makefile.  `make V=1` shows full commands.
#
#   make            build build/libkt.so
#   make test       build and run every Check suite (unit + preload), both CK_FORK modes
#   make demo       build, then show a PID-reuse bug without and with libkt
#   make asan       build build/asan/libkt.so with ASan+UBSan (for the sanitizer runs)
#   make bench      build and run the benchmark (BENCH_ARGS: e.g. -q, -r 9, -m inode,none,fd)
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

# The library: one file per concern (see README "Layout").  No -ldl, no -lpthread:
# on glibc >= 2.34 both live in libc, and each extra DT_NEEDED costs every exec.
SHIM_SRC := $(wildcard shim/*.c)
SHIM_OBJ := $(SHIM_SRC:shim/%.c=$(BUILD)/shim/%.o)
SHIM_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 -fPIC -fvisibility=hidden \
	-D_GNU_SOURCE -Iinclude -Ishim
SHIM_LDFLAGS := -shared -Wl,--version-script=shim/libkt.map -Wl,-z,relro \
	-Wl,--no-undefined

all: $(LIB) helpers

$(BUILD)/shim/%.o: shim/%.c $(wildcard shim/*.h) include/kt.h Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(SHIM_CFLAGS) -c $< -o $@

$(LIB): $(SHIM_OBJ) shim/libkt.map
	@$(if $(Q),echo "  LD      $@";)
	$(Q)$(CC) $(SHIM_CFLAGS) $(SHIM_LDFLAGS) $(SHIM_OBJ) -o $@

# ---- tests ---------------------------------------------------------------------
# test/unit_*.c     Check suites of the pure parts; they link UNIT_DEPS, never the hooks
# test/preload_*.c  Check suites that are run with LD_PRELOAD=build/libkt.so
# test/helpers/*.c  small programs the suites launch (plain executables)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)
TEST_CFLAGS  := $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude -Ishim -Itest $(CHECK_CFLAGS)
UNIT_DEPS    := shim/table.c shim/config.c shim/fmt.c
UNIT_SRC     := $(wildcard test/unit_*.c)
PRELOAD_SRC  := $(wildcard test/preload_*.c)
HELPER_SRC   := $(filter-out test/helpers/lib%,$(wildcard test/helpers/*.c))
HELPER_LIBS  := $(patsubst test/helpers/%.c,$(BUILD)/test/helpers/%.so,$(wildcard test/helpers/lib*.c))
UNIT_BIN     := $(UNIT_SRC:test/%.c=$(BUILD)/test/%)
PRELOAD_BIN  := $(PRELOAD_SRC:test/%.c=$(BUILD)/test/%)
HELPER_BIN   := $(HELPER_SRC:test/helpers/%.c=$(BUILD)/test/helpers/%)
TESTLIB      := test/testlib.c

$(BUILD)/test/unit_%: test/unit_%.c $(UNIT_DEPS) $(wildcard shim/*.h) Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(TEST_CFLAGS) -DKT_UNIT_TEST $< $(UNIT_DEPS) -o $@ $(CHECK_LIBS)

$(BUILD)/test/preload_%: test/preload_%.c $(TESTLIB) $(wildcard test/*.h) include/kt.h Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(TEST_CFLAGS) $< $(TESTLIB) -o $@ $(CHECK_LIBS)

$(BUILD)/test/helpers/%: test/helpers/%.c include/kt.h Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude $< -o $@

$(BUILD)/test/helpers/lib%.so: test/helpers/lib%.c include/kt.h Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude -shared -fPIC $< -o $@

helpers: $(HELPER_BIN) $(HELPER_LIBS)

TEST_TIMEOUT ?= 600
test: $(LIB) $(UNIT_BIN) $(PRELOAD_BIN) $(HELPER_BIN) $(HELPER_LIBS)
	$(Q)KT_BUILD=$(CURDIR)/$(BUILD) TEST_TIMEOUT=$(TEST_TIMEOUT) scripts/run-tests $(UNIT_BIN) -- $(PRELOAD_BIN)

demo: $(LIB) $(HELPER_BIN) $(HELPER_LIBS)
	$(Q)KT_BUILD=$(CURDIR)/$(BUILD) scripts/demo

# ---- bench ---------------------------------------------------------------------
# Measured, never asserted: prints one table of medians and ratios (BENCH.md).
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
	$(Q)$(CC) $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude $< -o $@

bench: $(LIB) $(BUILD)/bench/empty.so $(BUILD)/bench/exit0 $(BUILD)/bench/bench
	$(Q)$(BUILD)/bench/bench -b $(BUILD) $(BENCH_ARGS)

clean:
	rm -rf $(BUILD)

.PHONY: all test demo clean helpers bench
