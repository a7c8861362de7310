# tests/lib/: helpers the KVM test tiers use (kvm.sh sources; kvm-probe tells
# a hardware-speed /dev/kvm from an emulated one).
TEST_BINS += $(BUILD)/tests/lib/kvm-probe
$(BUILD)/tests/lib/kvm-probe: $(BUILD)/tests/lib/kvm-probe.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^
