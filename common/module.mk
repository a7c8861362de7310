# common/: logging, bounds-checked packet access, helpers every binary links.
COMMON_SRCS := $(wildcard common/*.c)
COMMON_LIB := $(BUILD)/libloomcommon.a
$(COMMON_LIB): $(COMMON_SRCS:%.c=$(BUILD)/%.o)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

# Unit test: the event loop (tests/unit/test_evloop.c).
$(BUILD)/tests/unit/test_evloop: $(BUILD)/tests/unit/test_evloop.o $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka -lpthread
UNIT_TESTS += $(BUILD)/tests/unit/test_evloop

# Unit tests of the address helpers (common/inet.h).
UNIT_TESTS += $(BUILD)/tests/unit/test_inet
$(BUILD)/tests/unit/test_inet: $(BUILD)/tests/unit/test_inet.o $(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka

# Unit tests of the Internet checksum (common/csum.h) against RFC 1071's loop.
UNIT_TESTS += $(BUILD)/tests/unit/test_csum
$(BUILD)/tests/unit/test_csum: $(BUILD)/tests/unit/test_csum.o $(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka

# Unit tests of the run-dir rule (common/rundir.h); tests/cli/rundir.sh runs
# the daemon and the client by it as an ordinary user.
UNIT_TESTS += $(BUILD)/tests/unit/test_rundir
$(BUILD)/tests/unit/test_rundir: $(BUILD)/tests/unit/test_rundir.o $(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka

# Unit tests of logging: module levels, --log specs, the rate limiter
# shared by threads.
UNIT_TESTS += $(BUILD)/tests/unit/test_log
$(BUILD)/tests/unit/test_log: $(BUILD)/tests/unit/test_log.o $(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka -lpthread

# Unit tests of nat networks in the model and the forward text forms
# (common/netconf_nat.c, common/fwdspec.c).
UNIT_TESTS += $(BUILD)/tests/unit/test_netconf_nat
$(BUILD)/tests/unit/test_netconf_nat: $(BUILD)/tests/unit/test_netconf_nat.o \
		$(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcyaml -lyaml -ljansson -lcmocka

# Fuzz target: the forward text forms and a forward's validation.
FUZZ_TARGETS += fwdspec
FUZZ_LIBS_fwdspec := $(COMMON_LIB)
FUZZ_LDLIBS_fwdspec := -lcyaml -lyaml -ljansson

# Unit tests of the pcapng writer and reader (common/pcapng.h).
UNIT_TESTS += $(BUILD)/tests/unit/test_pcapng
$(BUILD)/tests/unit/test_pcapng: $(BUILD)/tests/unit/test_pcapng.o $(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka

# Unit tests of captures declared in the network file (common/netconf_capture.c).
UNIT_TESTS += $(BUILD)/tests/unit/test_netconf_capture
$(BUILD)/tests/unit/test_netconf_capture: $(BUILD)/tests/unit/test_netconf_capture.o \
		$(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcyaml -lyaml -ljansson -lcmocka

# Unit tests of the anti-spoofing policy (common/antispoof.h), shared by
# the eBPF program and the switch (tests/netns/netd-antispoof.sh: both for real).
UNIT_TESTS += $(BUILD)/tests/unit/test_antispoof
$(BUILD)/tests/unit/test_antispoof: $(BUILD)/tests/unit/test_antispoof.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka
