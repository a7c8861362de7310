# netd/: loom-netd, the network daemon (control socket, state, data path).
include backends/tap.mk

NETD_SRCS := $(wildcard netd/*.c)
NETD_OBJS := $(NETD_SRCS:%.c=$(BUILD)/%.o)
$(NETD_OBJS): ALL_CFLAGS += $(TAP_CFLAGS)

BINS += $(BUILD)/loom-netd
$(BUILD)/loom-netd: $(NETD_OBJS) $(TAP_OBJS) $(BUILD)/libloombackends.a \
		$(BUILD)/libloomkernel.a $(BUILD)/libloomswitch.a \
		$(BUILD)/libloomcommon.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(BACKENDS_LDLIBS) $(KERNEL_LDLIBS) -lcyaml -lyaml -ljansson -lpcap -lpthread

# tests/netns helper: a fake VM NIC on the shm port protocol.
TEST_BINS += $(BUILD)/tests/netns/shm_attach_peer
$(BUILD)/tests/netns/shm_attach_peer: $(BUILD)/tests/netns/shm_attach_peer.o \
		$(BUILD)/libloomcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^

# Fuzz target: the control protocol, framing to handlers, against a real
# daemon state in private namespaces (tests/fuzz/netd_control.c says why);
# it compiles netd/control.c itself.
FUZZ_TARGETS += netd_control
FUZZ_LIBS_netd_control := $(filter-out $(BUILD)/netd/main.o \
	$(BUILD)/netd/control.o,$(NETD_OBJS)) $(TAP_OBJS) \
	$(BUILD)/libloombackends.a $(BUILD)/libloomkernel.a \
	$(BUILD)/libloomswitch.a \
	$(BUILD)/libloomcommon.a
FUZZ_LDLIBS_netd_control := $(BACKENDS_LDLIBS) $(KERNEL_LDLIBS) -lcyaml -lyaml -ljansson -lpcap -lpthread
$(BUILD)/fuzz/replay-netd_control: netd/control.c

# Unit tests of the capture ring between the data path and a capture's
# writer (netd/capture_ring.h), one of them with two threads.
UNIT_TESTS += $(BUILD)/tests/unit/test_capture_ring
$(BUILD)/tests/unit/test_capture_ring: $(BUILD)/tests/unit/test_capture_ring.o \
		$(BUILD)/netd/capture_ring.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka -lpthread
