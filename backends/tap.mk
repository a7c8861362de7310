# backends/tap.mk: the TAP port backend (backends/tap.c). Included from
# netd/module.mk, its only user so far; link flags in TAP_LDLIBS.
TAP_OBJS := $(BUILD)/backends/tap.o
TAP_CFLAGS := $(shell pkg-config --cflags libnl-route-3.0 2>/dev/null || echo -I/usr/include/libnl3)
TAP_LDLIBS := $(shell pkg-config --libs libnl-route-3.0 2>/dev/null || echo -lnl-route-3 -lnl-3) -luring
$(BUILD)/backends/tap.o: ALL_CFLAGS += $(TAP_CFLAGS)
