# tests/services/: unit tests of the gateway services library.
SERVICES_TESTS := test_dhcp test_gateway test_lease_journal test_dns_cache
$(foreach t,$(SERVICES_TESTS),$(eval \
$(BUILD)/tests/services/$(t): $(BUILD)/tests/services/$(t).o \
		$(SERVICES_LIB) $(COMMON_LIB) ; \
	$$(CC) -o $$@ $$^ $$(ALL_LDFLAGS) -lcmocka -lpthread))
UNIT_TESTS += $(SERVICES_TESTS:%=$(BUILD)/tests/services/%)

# dhcp: and dns: of network files (common/netconf_services.c).
$(BUILD)/tests/services/test_netconf_services: \
		$(BUILD)/tests/services/test_netconf_services.o $(COMMON_LIB)
	$(CC) -o $@ $^ $(ALL_LDFLAGS) -lcmocka -lcyaml -lyaml -ljansson
UNIT_TESTS += $(BUILD)/tests/services/test_netconf_services

# DNS over TCP in netd (netd/dns_tcp.c) on loopback sockets.
$(BUILD)/tests/services/test_dns_tcp: $(BUILD)/tests/services/test_dns_tcp.o \
		$(BUILD)/netd/dns_tcp.o $(COMMON_LIB)
	$(CC) -o $@ $^ $(ALL_LDFLAGS) -lcmocka -lpthread
UNIT_TESTS += $(BUILD)/tests/services/test_dns_tcp
