# services/: the gateway host's protocols (ARP/ICMP/NDP, DHCPv4, DNS) as a
# library: no daemon in it, so units and fuzz targets link it alone.
SERVICES_SRCS := $(wildcard services/*.c)
SERVICES_LIB := $(BUILD)/libloomservices.a
$(SERVICES_LIB): $(SERVICES_SRCS:%.c=$(BUILD)/%.o)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^
