# cli/: `loom`, the command-line client; also the link flags of common/netconf_*.c.
#
# NETCONF_LDLIBS: what a program linking common/netconf_*.c (the network file
# model, in libloomcommon.a) needs; netd reuses it.
NETCONF_LDLIBS := -lcyaml -lyaml -ljansson

CLI_SRCS := $(wildcard cli/*.c)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)

ifneq ($(CLI_SRCS),)
BINS += $(BUILD)/loom
$(BUILD)/loom: $(CLI_OBJS) $(BUILD)/libloomcommon.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(NETCONF_LDLIBS)
endif

# Unit tests of the network file model.
UNIT_TESTS += $(BUILD)/tests/unit/test_netconf
$(BUILD)/tests/unit/test_netconf: $(BUILD)/tests/unit/test_netconf.o \
		$(BUILD)/libloomcommon.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(NETCONF_LDLIBS) -lcmocka

# Fuzz target: the YAML loader from a memory buffer.
FUZZ_TARGETS += netconf_yaml
FUZZ_LIBS_netconf_yaml := $(BUILD)/libloomcommon.a
FUZZ_LDLIBS_netconf_yaml := $(NETCONF_LDLIBS)

# Fuzz target: the JSON twin, which netd parses from control clients.
FUZZ_TARGETS += netconf_json
FUZZ_LIBS_netconf_json := $(BUILD)/libloomcommon.a
FUZZ_LDLIBS_netconf_json := $(NETCONF_LDLIBS)

# Fuzz target: the client's reading of netd's and a VMM's replies, through
# to the commands' output; it compiles cli/main.c itself (main renamed).
FUZZ_TARGETS += cli_reply
FUZZ_LIBS_cli_reply := $(filter-out $(BUILD)/cli/main.o,$(CLI_OBJS)) \
	$(BUILD)/libloomcommon.a
FUZZ_LDLIBS_cli_reply := $(NETCONF_LDLIBS) -lpthread
$(BUILD)/fuzz/replay-cli_reply: cli/main.c

# Unit tests of `loom capture`'s frame summaries (cli/capture_fmt.h).
UNIT_TESTS += $(BUILD)/tests/unit/test_capture_fmt
$(BUILD)/tests/unit/test_capture_fmt: $(BUILD)/tests/unit/test_capture_fmt.o \
		$(BUILD)/cli/capture_fmt.o $(BUILD)/libloomcommon.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -ljansson -lcmocka

# Fuzz target: what `loom capture` reads from netd's pcapng stream (any
# bytes), through to the summary lines.
FUZZ_TARGETS += capture_read
FUZZ_LIBS_capture_read := $(BUILD)/cli/capture_fmt.o $(BUILD)/libloomcommon.a
FUZZ_LDLIBS_capture_read := -ljansson
