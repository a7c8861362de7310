# switch/: the L2 switch library, its unit tests, fuzz target and benchmark.
SWITCH_SRCS := switch/switch.c switch/forward.c switch/fdb.c
SWITCH_LIB := $(BUILD)/libloomswitch.a
$(SWITCH_LIB): $(SWITCH_SRCS:%.c=$(BUILD)/%.o)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

# Unit tests: the switch through an in-memory test port (tests/unit/).
SWITCH_TPORT_OBJ := $(BUILD)/tests/unit/test_switch_port.o
$(BUILD)/tests/unit/test_switch: $(BUILD)/tests/unit/test_switch.o \
		$(SWITCH_TPORT_OBJ) $(SWITCH_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(ALL_LDFLAGS) -lcmocka
UNIT_TESTS += $(BUILD)/tests/unit/test_switch

# make bench: the switch core between two in-memory ports, one thread.
$(BUILD)/tests/bench/bench_switch: $(BUILD)/tests/bench/bench_switch.o \
		$(SWITCH_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(ALL_LDFLAGS)
BENCH_BINS += $(BUILD)/tests/bench/bench_switch

# Fuzz target: arbitrary port configs and frames (tests/fuzz/switch_input.c).
FUZZ_TARGETS += switch_input
FUZZ_LIBS_switch_input := $(SWITCH_LIB) $(COMMON_LIB)
