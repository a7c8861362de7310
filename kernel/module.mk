# kernel/: the kernel objects netd owns on the kernel path (bridges, veths)
# through libnl-route-3, and its nftables tables (libnftables). A link that
# pulls in libloomkernel.a also needs $(KERNEL_LDLIBS) (libnl, libnftables).
KERNEL_SRCS := kernel/nl.c kernel/bridge.c kernel/veth.c kernel/vlan.c kernel/nft.c
KERNEL_LIB := $(BUILD)/libloomkernel.a
KERNEL_CFLAGS := $(shell pkg-config --cflags libnl-route-3.0 2>/dev/null || echo -I/usr/include/libnl3)
KERNEL_LDLIBS := $(shell pkg-config --libs libnl-route-3.0 2>/dev/null || echo -lnl-route-3 -lnl-3) \
	$(shell pkg-config --libs libnftables 2>/dev/null || echo -lnftables)
$(KERNEL_SRCS:%.c=$(BUILD)/%.o): ALL_CFLAGS += $(KERNEL_CFLAGS)
$(KERNEL_LIB): $(KERNEL_SRCS:%.c=$(BUILD)/%.o)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

# Unit test: PARENT.VID names, a bridge network's defaults and rules.
UNIT_TESTS += $(BUILD)/tests/unit/test_kernel
$(BUILD)/tests/unit/test_kernel: $(BUILD)/tests/unit/test_kernel.o \
		$(KERNEL_LIB) $(BUILD)/libloomcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(KERNEL_LDLIBS) -lcyaml -lyaml -ljansson -lcmocka -lpthread
