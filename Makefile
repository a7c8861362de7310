# loom: one non-recursive Makefile; each folder adds its parts in its module.mk.
#
#   make              build everything (gcc; CC=clang works too)
#   make check        install what is missing, build, run every test tier
#   make SANITIZE=1   the same with ASan+UBSan, into build-asan/
#   make bench        benchmarks; prints BENCH lines, writes docs/performance.md
#   make fuzz         libFuzzer targets (clang) into build-fuzz/
#   make demo         the built-in default: NAT network, VM, port forward proven

.DEFAULT_GOAL := all
CC ?= gcc
SANITIZE ?= 0
BUILD ?= build
ifeq ($(SANITIZE),1)
BUILD := build-asan
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
endif

WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wvla
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SAN_FLAGS) \
	-Iinclude -I. -MMD -MP
ALL_LDFLAGS := $(LDFLAGS) $(SAN_FLAGS)

# Filled in by the module.mk files.
BINS :=            # programs installed for users
UNIT_TESTS :=      # cmocka and other self-checking programs (tier 1-2)
TEST_BINS :=       # helper programs the script tiers need
TEST_SCRIPTS :=    # tier scripts: tests/<tier>/*.sh, run as root where needed
BENCH_BINS :=
FUZZ_TARGETS :=    # names; sources in tests/fuzz/<name>.c

# Every folder's module.mk (one level of subfolders too); tests/ last, since it
# turns the FUZZ_TARGETS the others declared into rules.
include $(filter-out tests/module.mk,$(sort $(wildcard */module.mk */*/module.mk)))
include tests/module.mk

.PHONY: all check check-unit deps bench fuzz demo clean format
all: $(BINS) $(UNIT_TESTS) $(TEST_BINS) $(BENCH_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

deps:
	@scripts/install-deps.sh

# make check: every tier that exists; everything also built with clang, the
# unit tier and the fuzz corpora also run under ASan/UBSan.
check: deps
	$(MAKE) all
	$(MAKE) CC=clang BUILD=build-clang all
	$(MAKE) SANITIZE=1 $(UNIT_TESTS:build/%=build-asan/%)
	$(MAKE) fuzz-replay-build
	tests/run-tests.sh \
		$(addprefix unit:,$(UNIT_TESTS)) \
		$(addprefix unit-asan:,$(UNIT_TESTS:build/%=build-asan/%)) \
		$(addprefix fuzz-replay:,$(FUZZ_REPLAY)) \
		$(TEST_SCRIPTS)

# make demo: a private netd, a nat network with DHCP and DNS, a Linux VM on
# it (inside the nested L1 where /dev/kvm is too slow), a live port forward
# proven, kill -9 and restart, clean-up (scripts/demo.sh).
demo: deps
	$(MAKE) all
	scripts/demo.sh

check-unit: all
	tests/run-tests.sh $(addprefix unit:,$(UNIT_TESTS))

bench: deps
	@scripts/install-deps.sh --bench
	$(MAKE) all
	tests/bench/run-bench.sh

clean:
	rm -rf build build-asan build-fuzz build-clang

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
