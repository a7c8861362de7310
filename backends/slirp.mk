# backends/slirp.mk: the NAT uplink (libslirp). libslirp.h needs no glib
# headers, so no pkg-config (slirp.pc asks for libglib2.0-dev).
SLIRP_LDLIBS := -lslirp
