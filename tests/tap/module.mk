# tests/tap/: the TAP backend against a real TAP (needs root; skips without).
$(BUILD)/tests/tap/test_tap: $(BUILD)/tests/tap/test_tap.o $(TAP_OBJS) \
		$(SWITCH_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TAP_LDLIBS) -lcmocka -lpthread
$(BUILD)/tests/tap/test_tap.o: ALL_CFLAGS += $(TAP_CFLAGS)
UNIT_TESTS += $(BUILD)/tests/tap/test_tap
