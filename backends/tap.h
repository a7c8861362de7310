/* SPDX-License-Identifier: MIT */
/* tap.h - TAP port backend: a kernel TAP device with virtio-net headers. */
#ifndef LOOM_BACKENDS_TAP_H
#define LOOM_BACKENDS_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "switch/port.h"

/*
 * A TAP port is created with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR (12-byte
 * header), non-persistent: the kernel removes the interface when the fd is
 * closed, so a crash of netd leaves no TAP behind. Every TAP gets an
 * ifalias "loom:<instance>:<net>:<port>" (TAP_ALIAS_PREFIX, then the
 * daemon's instance id), which is how a netd knows its own interfaces
 * (tap_cleanup_stray()) without touching another instance's.
 *
 * Memory: FRAME_BATCH_MAX receive buffers of FRAME_MAX_LEN + 12 bytes per
 * port (about 4 MiB of address space, touched only as large frames arrive),
 * allocated once at creation; no allocation per frame.
 */

#define TAP_ALIAS_PREFIX "loom:"

/*
 * struct tap_args - what tap_dev_create() sets up.
 * @ifname: interface name (1..15 bytes)
 * @alias: ifalias, should start with TAP_ALIAS_PREFIX
 * @netns: `ip netns` name to move the TAP into (/run/netns/NAME), or NULL
 * @address: "ADDR/PREFIX" to set on the TAP, or NULL
 * @mtu: 0 keeps the kernel's default
 * @offload: negotiate checksum and TSO4/6 offloads (frames up to 64 KiB)
 * @device: a character device to open instead of /dev/net/tun, for an
 *	interface that exists already and is driven like a TAP (a macvtap's
 *	/dev/tapN): TUNSETIFF then only sets the flags; NULL for a new TAP
 */
struct tap_args {
	const char *ifname;
	const char *alias;
	const char *netns;
	const char *address;
	uint32_t mtu;
	bool offload;
	const char *device;
};

struct tap_dev;

/*
 * tap_dev_create - create, configure and bring up a TAP.
 * @err: a message for a person on failure
 * Return: 0 with *@out set, or a negative errno (-EEXIST: an interface of
 * that name exists; -ENOENT: no such netns; -EPERM: no CAP_NET_ADMIN).
 */
int tap_dev_create(const struct tap_args *args, struct tap_dev **out,
		   char *err, size_t errlen);

/* tap_dev_destroy - close the TAP: the kernel removes the interface. */
void tap_dev_destroy(struct tap_dev *tap);

/* tap_dev_ifindex - the interface index (in its namespace). */
int tap_dev_ifindex(const struct tap_dev *tap);

/*
 * tap_dev_set_offload - turn checksum/TSO offloads of frames the kernel
 * hands us on or off (a network with a port that takes neither needs them
 * off). Safe from any thread: one ioctl on the fd.
 * Return: 0, or a negative errno (offloads stay as they were).
 */
int tap_dev_set_offload(struct tap_dev *tap, bool on);

/*
 * tap_dev_set_carrier - the carrier the TAP's side of the kernel sees
 * (TUNSETCARRIER): without it the interface is NO-CARRIER and frames the
 * switch sends it are dropped (the kernel would deliver them). Any thread.
 * Return: 0, or a negative errno.
 */
int tap_dev_set_carrier(struct tap_dev *tap, bool up);

/* tap_dev_fd - the TAP's fd (the port's poll fd). */
int tap_dev_fd(const struct tap_dev *tap);

/* tap_dev_offload - whether offloads (GSO frames) were negotiated. */
bool tap_dev_offload(const struct tap_dev *tap);

/*
 * tap_cleanup_stray - delete every interface whose ifalias starts with
 * @prefix ("loom:<instance>:"), in this namespace and in every /run/netns/
 * namespace. Called at start, before anything is created, to remove
 * leftovers of a previous run of the same instance.
 * Return: interfaces deleted, or a negative errno.
 */
int tap_cleanup_stray(const char *prefix);

/*
 * tap_port_ops - the port backend. open() takes a struct tap_dev * made by
 * tap_dev_create() (the caller creates it outside the switch lock) and
 * takes ownership of it; close() destroys it.
 */
extern const struct port_ops tap_port_ops;

#endif
