# tests/shm/: shared-memory port tests (unit, hostile peer) and fuzz targets.
SHM_TEST_LIBS := $(BACKENDS_LIB) $(SWITCH_LIB) $(COMMON_LIB)

$(BUILD)/tests/unit/test_shm_ring: $(BUILD)/tests/unit/test_shm_ring.o \
		$(SHM_TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(BACKENDS_LDLIBS) -lcmocka -lpthread
UNIT_TESTS += $(BUILD)/tests/unit/test_shm_ring

# The hostile-peer test: a real switch, two good shm ports, one hostile.
$(BUILD)/tests/shm/test_shm_hostile: $(BUILD)/tests/shm/test_shm_hostile.o \
		$(SHM_TEST_LIBS) $(SWITCH_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(COMMON_LIB) -lcmocka -lpthread
UNIT_TESTS += $(BUILD)/tests/shm/test_shm_hostile

# Fuzz targets: the ring ends against an arbitrary region; the parsers.
FUZZ_TARGETS += shm_ring_consumer shm_attach
FUZZ_LIBS_shm_ring_consumer := $(COMMON_LIB)
FUZZ_LIBS_shm_attach := $(COMMON_LIB)
