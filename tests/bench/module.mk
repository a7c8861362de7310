# tests/bench/: benchmark programs; `make bench` runs tests/bench/run-bench.sh.
# Add a program to BENCH_BINS (it prints "BENCH <name> <value> <unit>"
# lines) or drop a script tests/bench/NAME.sh: run-bench.sh runs both.
# The capture cases run loom-netd's own mirror callback and ring.
$(BUILD)/tests/bench/bench_shm: $(BUILD)/tests/bench/bench_shm.o \
		$(BUILD)/tests/bench/bench_capture.o \
		$(BUILD)/netd/capture_mirror.o $(BUILD)/netd/capture_ring.o \
		$(BACKENDS_LIB) $(SWITCH_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(ALL_LDFLAGS) -lpcap -lpthread
BENCH_BINS += $(BUILD)/tests/bench/bench_shm

# run-bench.sh asks make for the final list (every module has added to it
# by the time a recipe runs).
.PHONY: bench-list
bench-list:
	@echo $(BENCH_BINS)
