# services/: the gateway host's protocols (ARP/ICMP/NDP, DHCPv4, DNS) as a
# library: no daemon in it, so units and fuzz targets link it alone.
SERVICES_SRCS := $(wildcard services/*.c)
SERVICES_LIB := $(BUILD)/libloomservices.a
$(SERVICES_LIB): $(SERVICES_SRCS:%.c=$(BUILD)/%.o)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

# Fuzz targets: one per parser (DHCP, DNS, the gateway's ARP/ICMP/NDP, the
# lease journal).
FUZZ_TARGETS += services_dhcp services_dns services_gateway services_lease
FUZZ_LIBS_services_dhcp := $(SERVICES_LIB) $(COMMON_LIB)
FUZZ_LIBS_services_dns := $(SERVICES_LIB) $(COMMON_LIB)
FUZZ_LIBS_services_lease := $(SERVICES_LIB) $(COMMON_LIB)
FUZZ_LIBS_services_gateway := $(SERVICES_LIB) $(COMMON_LIB)
FUZZ_LDLIBS_services_gateway := -lpthread

# The DHCP server's capacity without the network (make bench).
$(BUILD)/tests/bench/bench_dhcp: $(BUILD)/tests/bench/bench_dhcp.o \
		$(SERVICES_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(ALL_LDFLAGS) -lpthread
BENCH_BINS += $(BUILD)/tests/bench/bench_dhcp

# The DNS server's answer rate for a local name without the network.
$(BUILD)/tests/bench/bench_dns: $(BUILD)/tests/bench/bench_dns.o \
		$(SERVICES_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(ALL_LDFLAGS) -lpthread
BENCH_BINS += $(BUILD)/tests/bench/bench_dns
