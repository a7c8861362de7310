# backends/: port backends (one const struct port_ops each) and their registry.
# Other backends add their sources to BACKENDS_SRCS and a line to registry.c;
# a link that pulls in the registry also needs BACKENDS_LDLIBS.
include backends/tap.mk
BACKENDS_SRCS += backends/registry.c backends/shm.c backends/tap.c
BACKENDS_LDLIBS := $(TAP_LDLIBS)
BACKENDS_LIB := $(BUILD)/libloombackends.a
$(BACKENDS_LIB): $(sort $(BACKENDS_SRCS:%.c=$(BUILD)/%.o))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^
