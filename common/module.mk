# common/: logging, bounds-checked packet access, helpers every binary links.
COMMON_SRCS := $(wildcard common/*.c)
COMMON_LIB := $(BUILD)/libloomcommon.a
$(COMMON_LIB): $(COMMON_SRCS:%.c=$(BUILD)/%.o)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^
