# tests/: tier scripts, fuzz targets and their replay in make check.
# Included last, so every module has declared its FUZZ_TARGETS by now.
#
# A fuzz target NAME lives in tests/fuzz/NAME.c and defines
# LLVMFuzzerTestOneInput(). Its module sets FUZZ_LIBS_NAME (archives to link)
# and optionally FUZZ_LDLIBS_NAME. Two builds of each:
#   make fuzz          build-fuzz/NAME, clang libFuzzer + ASan/UBSan, to explore
#   make check         build-asan/fuzz/replay-NAME: replays tests/fuzz/corpus/NAME/
#                      (gcc or clang, ASan/UBSan), every file once, as a test

FUZZ_REPLAY := $(FUZZ_TARGETS:%=build-asan/fuzz/replay-%)
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -I. \
	-fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer

define fuzz_target_rules
$(BUILD)/fuzz/replay-$(1): tests/fuzz/$(1).c tests/fuzz/replay_main.c $$(FUZZ_LIBS_$(1))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) -DFUZZ_CORPUS='"tests/fuzz/corpus/$(1)"' \
		-o $$@ tests/fuzz/$(1).c tests/fuzz/replay_main.c \
		$$(FUZZ_LIBS_$(1)) $$(ALL_LDFLAGS) $$(FUZZ_LDLIBS_$(1))
build-fuzz/$(1): tests/fuzz/$(1).c $$(FUZZ_LIBS_$(1):$(BUILD)/%=build-fuzz/%)
	@mkdir -p $$(dir $$@)
	clang $$(FUZZ_CFLAGS) -o $$@ $$^ $$(FUZZ_LDLIBS_$(1))
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_target_rules,$(t))))

.PHONY: fuzz-replay-build
fuzz-replay-build:
	$(MAKE) SANITIZE=1 $(FUZZ_REPLAY)

# make fuzz: the libraries rebuilt with clang's fuzzer instrumentation.
fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang \
		CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" \
		$(FUZZ_TARGETS:%=build-fuzz/%)
	@echo "run: build-fuzz/NAME tests/fuzz/corpus/NAME  (NAME: $(FUZZ_TARGETS))"

TEST_SCRIPTS += $(foreach t,$(sort $(wildcard tests/*/*.sh)),\
	$(if $(filter tests/bench/% tests/lib/% tests/nested/lib%,$(t)),,\
	$(word 2,$(subst /, ,$(t))):$(t)))
