# vmm/virtio/: guest memory access, virtqueues, virtio-pci, virtio-blk.
# libloomvirtio.a also carries vmm/guest_mem.o (owned here): the VMM core
# links it instead of compiling guest_mem.c itself.
VIRTIO_SRCS := vmm/guest_mem.c $(wildcard vmm/virtio/*.c)
VIRTIO_LIB := $(BUILD)/libloomvirtio.a
$(VIRTIO_LIB): $(VIRTIO_SRCS:%.c=$(BUILD)/%.o)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^
