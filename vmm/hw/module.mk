# vmm/hw/: device models (the sources are built into libloomvmm.a by
# vmm/module.mk). This file (owner: nics) adds the NIC models' tests.
# It is read before vmm/module.mk (sorted), so library paths are spelled
# out here rather than taken from VMM_LIB.
HW_LIBS = $(BUILD)/libloomvmm.a $(BUILD)/libloomvirtio.a $(COMMON_LIB)

# Unit tests (tier 2): each NIC model driven as its guest driver would.
HW_NIC_UNIT := test_e1000 test_rtl8139 test_nic_attach
UNIT_TESTS += $(HW_NIC_UNIT:%=$(BUILD)/tests/unit/%)
$(HW_NIC_UNIT:%=$(BUILD)/tests/unit/%): $(BUILD)/tests/unit/%: \
		$(BUILD)/tests/unit/%.o $(HW_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(VMM_LINK) -lcmocka

# Fuzz targets: register writes + DMA contents + frames per NIC model.
FUZZ_TARGETS += hw_e1000
FUZZ_LIBS_hw_e1000 = $(HW_LIBS) $(BUILD)/libloomvmm.a
FUZZ_LDLIBS_hw_e1000 := -ljansson -lpthread
FUZZ_TARGETS += hw_rtl8139
FUZZ_LIBS_hw_rtl8139 = $(HW_LIBS) $(BUILD)/libloomvmm.a
FUZZ_LDLIBS_hw_rtl8139 := -ljansson -lpthread

# Benchmark: frames/s per model with a synthetic guest driver (make bench).
BENCH_BINS += $(BUILD)/tests/bench/bench_nics
$(BUILD)/tests/bench/bench_nics: $(BUILD)/tests/bench/bench_nics.o $(HW_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(VMM_LINK)

# Unit test: a port's link set down by hand, across the shm port protocol
# (netd's side, backends/shm.c, against loom-vmm's backend, vmm/net/shm.c)
# and in the network model (common/netconf_link.c).
UNIT_TESTS += $(BUILD)/tests/unit/test_port_link
$(BUILD)/tests/unit/test_port_link: $(BUILD)/tests/unit/test_port_link.o \
		$(BUILD)/backends/shm.o $(HW_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/backends/shm.o $(VMM_LINK) \
		-lcyaml -lyaml -lcmocka
