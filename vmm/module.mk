# vmm/: loom-vmm core (KVM set-up, boot, PCI bus, legacy devices, control).
# vmm/guest_mem.c and vmm/virtio/ are built into libloomvirtio.a by
# vmm/virtio/module.mk; the two libraries call each other, hence the group.
VMM_SRCS := $(filter-out vmm/main.c vmm/guest_mem.c,$(wildcard vmm/*.c)) \
	$(wildcard vmm/net/*.c vmm/hw/*.c)
VMM_LIB := $(BUILD)/libloomvmm.a
VMM_LINK = -Wl,--start-group $(VMM_LIB) $(BUILD)/libloomvirtio.a \
	$(COMMON_LIB) -Wl,--end-group -ljansson -lpthread -llzma -lzstd -lz
$(VMM_LIB): $(VMM_SRCS:%.c=$(BUILD)/%.o)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

BINS += $(BUILD)/loom-vmm
$(BUILD)/loom-vmm: $(BUILD)/vmm/main.o $(VMM_LIB) $(BUILD)/libloomvirtio.a \
		$(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(BUILD)/vmm/main.o $(VMM_LINK)

# Unit tests (tier 1-2): the bus, boot loader and control protocol, no KVM;
# virtio-net driven as a guest driver would, through a test NIC backend.
VMM_UNIT := test_vmm_pci test_vmm_boot test_vmm_serial test_virtio_net
UNIT_TESTS += $(VMM_UNIT:%=$(BUILD)/tests/unit/%)
$(VMM_UNIT:%=$(BUILD)/tests/unit/%): $(BUILD)/tests/unit/%: \
		$(BUILD)/tests/unit/%.o $(VMM_LIB) $(BUILD)/libloomvirtio.a \
		$(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(VMM_LINK) -lcmocka

# Fuzz target: guest config space / BAR / MSI-X traffic against the bus.
FUZZ_TARGETS += vmm_pci_config
FUZZ_LIBS_vmm_pci_config := $(VMM_LIB) $(BUILD)/libloomvirtio.a $(COMMON_LIB) \
	$(VMM_LIB)
FUZZ_LDLIBS_vmm_pci_config := -ljansson -lpthread

# Fuzz targets: the control socket's framing and commands (the target
# compiles vmm/control.c itself), the bzImage loader, the legacy ports.
FUZZ_TARGETS += vmm_control vmm_boot vmm_legacy_pio
FUZZ_LIBS_vmm_control := $(FUZZ_LIBS_vmm_pci_config)
FUZZ_LIBS_vmm_boot := $(FUZZ_LIBS_vmm_pci_config)
FUZZ_LIBS_vmm_legacy_pio := $(FUZZ_LIBS_vmm_pci_config)
FUZZ_LDLIBS_vmm_control := -ljansson -lpthread
FUZZ_LDLIBS_vmm_boot := -ljansson -lpthread
FUZZ_LDLIBS_vmm_legacy_pio := -ljansson -lpthread
$(BUILD)/fuzz/replay-vmm_control: vmm/control.c

# Fuzz target: the vmlinux (ELF64) loader.
FUZZ_TARGETS += vmm_elf
FUZZ_LIBS_vmm_elf := $(FUZZ_LIBS_vmm_pci_config)
FUZZ_LDLIBS_vmm_elf := -ljansson -lpthread

# Bare-metal test guests (tier 4): flat images for loom-vmm --raw IMG@0x100000.
GUEST_CFLAGS := -std=c11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-pic \
	-fno-pie -fno-stack-protector -mno-red-zone -mgeneral-regs-only \
	-fcf-protection=none -fno-asynchronous-unwind-tables -m64
GUEST_NAMES := hello vblk reset triple halt spin
GUEST_BINS := $(GUEST_NAMES:%=$(BUILD)/tests/vmm/guests/%.bin)
TEST_BINS += $(GUEST_BINS)
$(BUILD)/tests/vmm/guests/%.elf: tests/vmm/guests/%.c tests/vmm/guests/start.S \
		tests/vmm/guests/lib.h tests/vmm/guests/guest.ld
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -nostdlib -static -Wl,--build-id=none \
		-Wl,-T,tests/vmm/guests/guest.ld -o $@ \
		tests/vmm/guests/start.S $<
$(BUILD)/tests/vmm/guests/%.bin: $(BUILD)/tests/vmm/guests/%.elf
	objcopy -O binary $< $@

# Fuzz target: the kernel cache's payload decoder (bzImage in, vmlinux out).
FUZZ_TARGETS += vmm_kernel_decompress
FUZZ_LIBS_vmm_kernel_decompress := $(FUZZ_LIBS_vmm_pci_config)
FUZZ_LDLIBS_vmm_kernel_decompress := -ljansson -lpthread -llzma -lzstd -lz

# Fuzz target: virtio-net's guest-facing paths (TX chains, RX buffers, the
# control queue) and frames from a backend with arbitrary offload fields.
FUZZ_TARGETS += vmm_virtio_net
FUZZ_LIBS_vmm_virtio_net := $(BUILD)/libloomvirtio.a $(VMM_LIB) \
	$(BUILD)/libloomvirtio.a $(VMM_LIB) $(COMMON_LIB)
FUZZ_LDLIBS_vmm_virtio_net := -ljansson -lpthread

# Benchmark program (tests/bench/virtio-net.sh runs it against a private
# loom-netd): two virtio-net devices through netd's switch, synthetic driver.
TEST_BINS += $(BUILD)/tests/bench/bench_virtio_net
$(BUILD)/tests/bench/bench_virtio_net: $(BUILD)/tests/bench/bench_virtio_net.o \
		$(VMM_LIB) $(BUILD)/libloomvirtio.a $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(VMM_LINK)

# tests/netns helper: a VM NIC through loom-vmm's NIC backends (tap, shm).
TEST_BINS += $(BUILD)/tests/netns/nic_tap_peer
$(BUILD)/tests/netns/nic_tap_peer: $(BUILD)/tests/netns/nic_tap_peer.o \
		$(VMM_LIB) $(BUILD)/libloomvirtio.a $(BUILD)/libloomcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(VMM_LINK)
