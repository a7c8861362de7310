# backends/tap.mk: the TAP port backend (backends/tap.c): its flags, for
# every link that pulls it in (loom-netd, and through backends/registry.c
# anything that looks backends up by name). Included from backends/module.mk
# and netd/module.mk; the guard makes the second include a no-op.
ifndef TAP_MK_INCLUDED
TAP_MK_INCLUDED := 1
TAP_OBJS := $(BUILD)/backends/tap.o $(BUILD)/backends/tap_netlink.o
TAP_CFLAGS := $(shell pkg-config --cflags libnl-route-3.0 2>/dev/null || echo -I/usr/include/libnl3)
TAP_LDLIBS := $(shell pkg-config --libs libnl-route-3.0 2>/dev/null || echo -lnl-route-3 -lnl-3) \
	$(shell pkg-config --libs liburing 2>/dev/null || echo -luring)
$(BUILD)/backends/tap.o $(BUILD)/backends/tap_netlink.o $(BUILD)/backends/macvtap.o: ALL_CFLAGS += $(TAP_CFLAGS)
endif
