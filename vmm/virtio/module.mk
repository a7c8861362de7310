# vmm/virtio/: guest memory access, virtqueues, virtio-pci, virtio-blk.
# libloomvirtio.a also carries vmm/guest_mem.o (owned here): the VMM core
# links it instead of compiling guest_mem.c itself.
VIRTIO_SRCS := vmm/guest_mem.c $(wildcard vmm/virtio/*.c)
VIRTIO_LIB := $(BUILD)/libloomvirtio.a
$(VIRTIO_LIB): $(VIRTIO_SRCS:%.c=$(BUILD)/%.o)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

# Unit tests (tier 2: the device model driven as a guest driver would).
$(BUILD)/tests/unit/test_virtq: $(BUILD)/tests/unit/test_virtq.o \
		$(VIRTIO_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka -lpthread
UNIT_TESTS += $(BUILD)/tests/unit/test_virtq

# Fuzz targets (seed corpora in tests/fuzz/corpus/NAME/).
FUZZ_TARGETS += virtq_walk
FUZZ_LIBS_virtq_walk := $(VIRTIO_LIB) $(COMMON_LIB)

# test_virtio_blk drives the device through the real PCI bus and the VM's
# MMIO dispatch (vmm/pci.c, vmm/vm.c, owned by the VMM core) without KVM.
ifneq ($(wildcard vmm/pci.c vmm/vm.c),)
VIRTIO_VMM_OBJS := $(BUILD)/vmm/pci.o $(BUILD)/vmm/pci_irq.o $(BUILD)/vmm/vm.o \
	$(BUILD)/vmm/vm_irq.o \
	$(BUILD)/vmm/vm_vcpu.o
$(BUILD)/tests/unit/test_virtio_blk: $(BUILD)/tests/unit/test_virtio_blk.o \
		$(VIRTIO_VMM_OBJS) $(VIRTIO_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka -lpthread
UNIT_TESTS += $(BUILD)/tests/unit/test_virtio_blk

FUZZ_TARGETS += virtio_pci_cfg
FUZZ_LIBS_virtio_pci_cfg := $(VIRTIO_VMM_OBJS) $(VIRTIO_LIB) $(COMMON_LIB)
FUZZ_LDLIBS_virtio_pci_cfg := -lpthread

# Fuzz target: request chains straight into virtio-blk (no transport).
FUZZ_TARGETS += virtio_blk_req
FUZZ_LIBS_virtio_blk_req := $(VIRTIO_VMM_OBJS) $(VIRTIO_LIB) $(COMMON_LIB)
FUZZ_LDLIBS_virtio_blk_req := -lpthread
endif

# The virtio-net model against a hostile driver: same synthetic driver
# (tests/unit/virtio_net_drv.h) and link as test_virtio_net (vmm/module.mk).
UNIT_TESTS += $(BUILD)/tests/unit/test_virtio_net_hostile
$(BUILD)/tests/unit/test_virtio_net_hostile: \
		$(BUILD)/tests/unit/test_virtio_net_hostile.o $(BUILD)/libloomvmm.a \
		$(VIRTIO_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(VMM_LINK) -lcmocka
