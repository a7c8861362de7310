# vmm/: loom-vmm core (KVM set-up, boot, PCI bus, legacy devices, control).
# vmm/guest_mem.c and vmm/virtio/ are built into libloomvirtio.a by
# vmm/virtio/module.mk; the two libraries call each other, hence the group.
VMM_SRCS := $(filter-out vmm/main.c vmm/guest_mem.c,$(wildcard vmm/*.c))
VMM_LIB := $(BUILD)/libloomvmm.a
VMM_LINK = -Wl,--start-group $(VMM_LIB) $(BUILD)/libloomvirtio.a \
	$(COMMON_LIB) -Wl,--end-group -ljansson -lpthread
$(VMM_LIB): $(VMM_SRCS:%.c=$(BUILD)/%.o)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

BINS += $(BUILD)/loom-vmm
$(BUILD)/loom-vmm: $(BUILD)/vmm/main.o $(VMM_LIB) $(BUILD)/libloomvirtio.a \
		$(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(BUILD)/vmm/main.o $(VMM_LINK)

# Unit tests (tier 1-2): the bus, boot loader and control protocol, no KVM.
VMM_UNIT := test_vmm_pci
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
