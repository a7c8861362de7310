# kernel/: the kernel objects netd owns on the kernel path (bridges, veths)
# through libnl-route-3, and its nftables tables (libnftables). A link that
# pulls in libloomkernel.a also needs $(KERNEL_LDLIBS) (libnl, libnftables,
# libbpf).
KERNEL_SRCS := kernel/nl.c kernel/bridge.c kernel/veth.c kernel/vlan.c kernel/nft.c \
	kernel/antispoof.c
KERNEL_LIB := $(BUILD)/libloomkernel.a
KERNEL_CFLAGS := $(shell pkg-config --cflags libnl-route-3.0 2>/dev/null || echo -I/usr/include/libnl3)
KERNEL_LDLIBS := $(shell pkg-config --libs libnl-route-3.0 2>/dev/null || echo -lnl-route-3 -lnl-3) \
	$(shell pkg-config --libs libnftables 2>/dev/null || echo -lnftables) \
	$(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf)
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

# The anti-spoofing eBPF program: clang -target bpf, then a libbpf skeleton
# (bpftool gen skeleton) that embeds the object in loom-netd. The program
# shares common/antispoof.h with the built-in switch.
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
BPF_CLANG ?= clang
KERNEL_BPF_OBJ := $(BUILD)/kernel/bpf/antispoof.bpf.o
KERNEL_SKEL := $(BUILD)/kernel/antispoof.skel.h
$(KERNEL_BPF_OBJ): kernel/bpf/antispoof.bpf.c common/antispoof.h
	@mkdir -p $(dir $@)
	$(BPF_CLANG) -O2 -g -target bpf -Wall -Werror -I. \
		-I/usr/include/$(shell gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu) \
		-c $< -o $@
$(KERNEL_SKEL): $(KERNEL_BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name antispoof_bpf >$@.tmp && mv $@.tmp $@
$(BUILD)/kernel/antispoof.o: $(KERNEL_SKEL)
$(BUILD)/kernel/antispoof.o: ALL_CFLAGS += -I$(BUILD)/kernel
