# backends/: port backends (one const struct port_ops each) and their registry.
# Other backends add their sources to BACKENDS_SRCS and a line to registry.c.
BACKENDS_SRCS += backends/registry.c backends/shm.c
BACKENDS_LIB := $(BUILD)/libloombackends.a
$(BACKENDS_LIB): $(sort $(BACKENDS_SRCS:%.c=$(BUILD)/%.o))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^
