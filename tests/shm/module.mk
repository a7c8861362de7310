# tests/shm/: shared-memory port tests (unit, hostile peer) and fuzz targets.
SHM_TEST_LIBS := $(BACKENDS_LIB) $(COMMON_LIB)

$(BUILD)/tests/unit/test_shm_ring: $(BUILD)/tests/unit/test_shm_ring.o \
		$(SHM_TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka -lpthread
UNIT_TESTS += $(BUILD)/tests/unit/test_shm_ring
