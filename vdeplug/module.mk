# vdeplug/: libvdeplug_loom.so, the vdeplug4 plugin that lets any VDE program
# (vde_plug, QEMU's -netdev vde, ...) join a loom network as loom://NET.
# Position-independent copies of the common/ sources it needs: it is loaded
# into other programs, so it carries its own and exports only vdeplug_ops.
# Not built with SANITIZE=1: it is dlopen()ed by programs without ASan.
VDEPLUG_SRCS := vdeplug/libvdeplug_loom.c common/shm_peer.c common/shm_ring.c \
	common/shm_sock.c common/rundir.c
VDEPLUG_PIC_OBJS := $(VDEPLUG_SRCS:%.c=$(BUILD)/pic/%.o)
VDEPLUG_SO := $(BUILD)/libvdeplug_loom.so

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(VDEPLUG_SO): $(VDEPLUG_PIC_OBJS)
	$(CC) -shared -Wl,-z,defs -Wl,-soname,libvdeplug_loom.so \
		$(ALL_LDFLAGS) -o $@ $^

ifneq ($(SANITIZE),1)
BINS += $(VDEPLUG_SO)
endif

# Where Debian's libvdeplug looks for plugins: the vdeplug/ folder next to
# libvdeplug.so.2 (or $VDEPLUGIN_PATH, which replaces the search path).
VDEPLUG_DIR ?= $(shell dirname $$(realpath $$(ldconfig -p 2>/dev/null | \
	awk '/libvdeplug.so.2 /{print $$NF; exit}') 2>/dev/null) 2>/dev/null)/vdeplug
.PHONY: install-vdeplug
install-vdeplug: $(VDEPLUG_SO)
	install -D -m 0644 $(VDEPLUG_SO) $(DESTDIR)$(VDEPLUG_DIR)/libvdeplug_loom.so
