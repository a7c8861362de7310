# backends/: port backends (one const struct port_ops each) and their registry.
# Other backends add their sources to BACKENDS_SRCS and a line to registry.c;
# a link that pulls in the registry also needs $(SWITCH_LIB) after it and
# BACKENDS_LDLIBS.
include backends/tap.mk
include backends/slirp.mk
BACKENDS_SRCS += backends/registry.c backends/loopback.c backends/shm.c \
	backends/tap.c backends/tap_netlink.c backends/macvtap.c
# The gateway port carries the services library (services/) with it.
BACKENDS_SRCS += backends/gateway.c $(wildcard services/*.c)
BACKENDS_SRCS += backends/slirp.c backends/slirp_fwd.c backends/slirp_port.c \
	backends/frame_fifo.c
# The VDE port (libvdeplug, Debian's libvdeplug-dev): docs/vde.md.
BACKENDS_SRCS += backends/vde.c
# vhost-user back end: its message parser and memory table (docs/vhost-user.md).
VHOST_USER_SRCS := backends/vhost_user_msg.c backends/vhost_user_mem.c
BACKENDS_SRCS += $(VHOST_USER_SRCS)
# The vhost-user port: the session (vhost_user.c) and the data path
# (vhost_user_net.c); its rings are walked by the VMM's split-ring code, so
# every link of the backends library also takes libloomvirtio.a (virtq.o,
# guest_mem.o), built first, and libloomcommon.a once more after it.
BACKENDS_SRCS += backends/vhost_user.c backends/vhost_user_session.c \
	backends/vhost_user_net.c \
	backends/vhost_user_vring.c
VDE_LDLIBS := -lvdeplug
BACKENDS_LDLIBS := $(BUILD)/libloomvirtio.a $(BUILD)/libloomcommon.a \
	$(TAP_LDLIBS) $(SLIRP_LDLIBS) $(VDE_LDLIBS)
BACKENDS_LIB := $(BUILD)/libloombackends.a
$(BACKENDS_LIB): $(sort $(BACKENDS_SRCS:%.c=$(BUILD)/%.o)) \
		| $(BUILD)/libloomvirtio.a $(BUILD)/libloomcommon.a
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

# Unit test: the frame FIFO and the libslirp uplink, no kernel objects
# (hand-built frames; loopback sockets as the host side).
$(BUILD)/tests/unit/test_slirp: $(BUILD)/tests/unit/test_slirp.o \
		$(BACKENDS_LIB) $(BUILD)/libloomcommon.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(ALL_LDFLAGS) $(SLIRP_LDLIBS) -lcmocka -lpthread
UNIT_TESTS += $(BUILD)/tests/unit/test_slirp

# Unit test: the registry, the classes, the loopback backend through a
# switch (with the switch tests' in-memory port as its peer). The switch
# and common libraries by path: their modules are read after this one.
$(BUILD)/tests/unit/test_backends: $(BUILD)/tests/unit/test_backends.o \
		$(BUILD)/tests/unit/test_switch_port.o $(BACKENDS_LIB) \
		$(BUILD)/libloomswitch.a $(BUILD)/libloomcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(BACKENDS_LDLIBS) -lcmocka -lpthread
UNIT_TESTS += $(BUILD)/tests/unit/test_backends

# tests/netns helper: a fake VM NIC on a nat network (UDP echo, UDP to the
# gateway), for the unprivileged test tests/netns/netd-nat-user.sh.
TEST_BINS += $(BUILD)/tests/netns/nat_udp_peer
$(BUILD)/tests/netns/nat_udp_peer: $(BUILD)/tests/netns/nat_udp_peer.o \
		$(BUILD)/libloomcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^

# Unit test and fuzz target: the vhost-user parser and memory table.
# The ring walk is the VMM's (vmm/virtio/virtq.c, libloomvirtio.a).
$(BUILD)/tests/unit/test_vhost_user: $(BUILD)/tests/unit/test_vhost_user.o \
		$(VHOST_USER_SRCS:%.c=$(BUILD)/%.o) \
		$(BUILD)/backends/vhost_user_vring.o $(BUILD)/libloomvirtio.a \
		$(BUILD)/libloomcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka -lpthread
UNIT_TESTS += $(BUILD)/tests/unit/test_vhost_user
FUZZ_TARGETS += vhost_user_msg
FUZZ_LIBS_vhost_user_msg := $(VHOST_USER_SRCS:%.c=$(BUILD)/%.o)
FUZZ_TARGETS += vhost_user_vring
FUZZ_LIBS_vhost_user_vring := $(VHOST_USER_SRCS:%.c=$(BUILD)/%.o) \
	$(BUILD)/backends/vhost_user_vring.o $(BUILD)/libloomvirtio.a \
	$(BUILD)/libloomcommon.a
FUZZ_LDLIBS_vhost_user_vring := -lpthread

# Unit test (tier 2): the vhost-user port through a real switch, driven
# by a synthetic front end over its socket (memfd, real rings), hostile
# messages and rings included.
$(BUILD)/tests/unit/test_vhost_user_port: \
		$(BUILD)/tests/unit/test_vhost_user_port.o \
		$(BUILD)/tests/unit/test_switch_port.o $(BACKENDS_LIB) \
		$(BUILD)/libloomswitch.a $(BUILD)/libloomcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(BACKENDS_LDLIBS) -lcmocka -lpthread
UNIT_TESTS += $(BUILD)/tests/unit/test_vhost_user_port

# Fuzz target: message sequences into the port's session, the data path
# run between them (tests/fuzz/vhost_user_session.c).
FUZZ_TARGETS += vhost_user_session
FUZZ_LIBS_vhost_user_session := $(BUILD)/backends/vhost_user_session.o \
	$(BUILD)/backends/vhost_user_net.o \
	$(VHOST_USER_SRCS:%.c=$(BUILD)/%.o) \
	$(BUILD)/backends/vhost_user_vring.o $(BUILD)/libloomvirtio.a \
	$(BUILD)/libloomcommon.a
FUZZ_LDLIBS_vhost_user_session := -lpthread
