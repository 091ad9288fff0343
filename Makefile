# attnkit: one list of filters (every filters/NAME.c) drives build, man pages,
# install and tests.

.SUFFIXES:

PREFIX    ?= /usr/local
MANPREFIX ?= $(PREFIX)/share/man
DESTDIR   ?=
CC        ?= cc
CFLAGS    ?= -O2 -g
BUILD     ?= build
BINDIR    ?= bin

FILTERS   = $(sort $(notdir $(basename $(wildcard filters/*.c))))
BINS      = $(FILTERS:%=$(BINDIR)/%)
MAN1      = $(FILTERS:%=man/%.1)
MAN7      = man/attnkit.7
COMMON    = $(sort $(wildcard common/*.c))
OBJS      = $(COMMON:common/%.c=$(BUILD)/common/%.o)
LIB       = $(BUILD)/libattnkit.a

# Warnings are errors in CI (CI=true), warnings elsewhere (a newer compiler
# on a user's machine should not stop the build).
WARN      = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-sign-compare
ifneq ($(CI),)
WARN     += -Werror
endif
ifeq ($(SAN),1)
SANFLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
# The real libraries, found through pkg-config (no hard-coded Debian paths):
# OpenBLAS, libhdf5 (h5ad, 10x h5, loom), XGBoost (boosting), igraph (Leiden).
# --as-needed keeps each filter's dependencies to what it really calls.
PKG_CONFIG ?= pkg-config
PKGS      = openblas hdf5 xgboost igraph
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS))
ifneq ($(filter-out clean uninstall,$(or $(MAKECMDGOALS),all)),)
PKG_MISSING := $(strip $(foreach p,$(PKGS),$(if $(shell $(PKG_CONFIG) --exists $(p) && echo y),,$(p))))
ifneq ($(PKG_MISSING),)
$(error pkg-config does not find $(PKG_MISSING): install the packages in packages.txt)
endif
endif
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) -Icommon $(PKG_CFLAGS) -MMD -MP
LDLIBS    = -Wl,--as-needed $(PKG_LIBS) -lz -lm -lpthread

# One compile and one link line for the library, the filters and the units.
COMPILE   = $(CC) $(ALL_CFLAGS) -c -o $@ $<
LINK      = $(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

all: $(BINS)

# C unit tests (tests/unit/NAME.c, a driver each), linked against the library
# in every flavour the suite runs (O2, sanitizers, clang): BINDIR/unit/NAME.
UNITS     = $(sort $(notdir $(basename $(wildcard tests/unit/*.c))))
UNIT_BINS = $(UNITS:%=$(BINDIR)/unit/%)
units: $(UNIT_BINS)

$(BUILD)/unit/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(COMPILE)

$(BINDIR)/unit/%: $(BUILD)/unit/%.o $(LIB)
	@mkdir -p $(@D)
	$(LINK)

$(BUILD)/common/%.o: common/%.c
	@mkdir -p $(@D)
	$(COMPILE)

$(BUILD)/filters/%.o: filters/%.c
	@mkdir -p $(@D)
	$(COMPILE)

$(LIB): $(OBJS)
	@rm -f $@
	ar rcs $@ $(OBJS)

$(BINDIR)/%: $(BUILD)/filters/%.o $(LIB)
	@mkdir -p $(@D)
	$(LINK)

-include $(OBJS:.o=.d) $(FILTERS:%=$(BUILD)/filters/%.d) $(UNITS:%=$(BUILD)/unit/%.d)

# Keep the filters' objects (make would delete them as intermediates, and
# recompile every filter's main file on the next make).
.SECONDARY: $(FILTERS:%=$(BUILD)/filters/%.o) $(UNITS:%=$(BUILD)/unit/%.o)

# The suite runs on the optimised build, then again on an AddressSanitizer +
# UndefinedBehaviorSanitizer build (and partly on a clang one, below). Leak
# checks are valgrind's job (make valgrind): error paths exit without
# freeing, which LeakSanitizer would count.
# The sanitizer pass leaves out the pipeline suites: they run the same
# filters end to end on larger data (each filter's own suite runs under the
# sanitizers), and with them in both passes CI's run took 67 minutes.
# SAN_ALL=1 runs them too.
PIPELINE_SUITES = within-model cross-model network layer-auroc perturbation battery cssi \
	category-vocab pert-inputs reports reports-browser slurm
SAN_SUITES = $(if $(SAN_ALL),,$(filter-out $(PIPELINE_SUITES:%=tests/%.bats),$(wildcard tests/*.bats)))
check: all units
	tests/run $(BINDIR)
	$(MAKE) --no-print-directory SAN=1 BUILD=build-san BINDIR=bin-san all units
	$(SANENV) tests/run bin-san $(SAN_SUITES)
	$(MAKE) --no-print-directory CC=clang SAN=1 BUILD=build-clang BINDIR=bin-clang all units
	$(SANENV) tests/run bin-clang $(CLANG_SUITES:%=tests/%.bats)

# A third pass, clang + sanitizers, over the suites whose code differs by
# compiler (attn-topk's per-ISA kernels: clang builds only the baseline one)
# or that sweep every filter's error paths; clang's UBSan flags things GCC's
# does not (it found a NULL + 0 in edge-join).
SANENV = AK_SAN_PASS=1 ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
CLANG_SUITES = attn-topk keyhist bad-input large-inputs determinism fuzz

# Only the fast tests under valgrind, with leak checking on success paths.
valgrind: all units
	AK_VALGRIND=1 tests/run $(BINDIR)

# AFL++ over every parser (FUZZ_SECONDS per target, default 60).
fuzz:
	./fuzz/run.sh

demo: all
	@./examples/demo.sh

bench: all
	@./bench/run.sh

install: all
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANPREFIX)/man1 $(DESTDIR)$(MANPREFIX)/man7
	cp $(BINS) $(DESTDIR)$(PREFIX)/bin/
	cp $(MAN1) $(DESTDIR)$(MANPREFIX)/man1/
	cp $(MAN7) $(DESTDIR)$(MANPREFIX)/man7/

uninstall:
	rm -f $(FILTERS:%=$(DESTDIR)$(PREFIX)/bin/%) $(FILTERS:%=$(DESTDIR)$(MANPREFIX)/man1/%.1) \
		$(DESTDIR)$(MANPREFIX)/man7/attnkit.7

clean:
	rm -rf build build-san build-afl build-clang bin bin-san bin-afl bin-clang demo-out

.PHONY: all units check valgrind fuzz demo bench install uninstall clean
