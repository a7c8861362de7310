/* SPDX-License-Identifier: MIT */
/* vhost_user_msg.h - vhost-user messages (back-end side): wire format and a strict parser. */
#ifndef LOOM_BACKENDS_VHOST_USER_MSG_H
#define LOOM_BACKENDS_VHOST_USER_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The vhost-user protocol (QEMU's docs/interop/vhost-user.rst): a front end
 * (QEMU, cloud-hypervisor) drives a back end over a Unix stream socket.
 * Each message is a 12-byte header {request, flags, size} followed by
 * `size` payload bytes, with file descriptors as SCM_RIGHTS on the same
 * sendmsg. Everything here is the front end's word, hence untrusted: the
 * parser accepts only the requests loom's back end implements, each with
 * exactly its payload size and fd count, version 1, no unknown flag bits.
 * Anything else is an error, and the front end loses its port.
 */

enum vhost_user_request {
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_LOG_BASE = 6,
	VHOST_USER_SET_LOG_FD = 7,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_SEND_RARP = 19,
	VHOST_USER_NET_SET_MTU = 20,
	VHOST_USER_REQUEST_MAX = 20, /* the highest one parsed */
};

enum {
	VHOST_USER_HDR_SIZE = 12,
	VHOST_USER_VERSION = 1,
	VHOST_USER_FLAG_VERSION_MASK = 0x3,
	VHOST_USER_FLAG_REPLY = 1u << 2,
	VHOST_USER_FLAG_NEED_REPLY = 1u << 3,
	VHOST_USER_MEM_REGIONS_MAX = 8, /* also the most fds a message has */
	/* SET_VRING_KICK/CALL/ERR: u64 = index | this when no fd rides along */
	VHOST_USER_VRING_NOFD = 1u << 8,
	VHOST_USER_VRING_IDX_MASK = 0xff,
	/* loom serves one queue pair: vring 0 receives, vring 1 transmits */
	VHOST_USER_VRINGS_MAX = 2,
	VHOST_USER_VRING_SIZE_MAX = 32768, /* virtio's limit */
	VHOST_USER_VRING_F_LOG = 1u << 0,
};

/* Sizes of the payloads this parser knows. */
struct vhost_user_vring_state {
	uint32_t index;
	uint32_t num;
};

struct vhost_user_vring_addr {
	uint32_t index;
	uint32_t flags; /* VHOST_USER_VRING_F_LOG */
	uint64_t desc_uva;  /* front end's virtual addresses ... */
	uint64_t used_uva;
	uint64_t avail_uva;
	uint64_t log_gpa;   /* ... and a guest-physical one */
};

struct vhost_user_mem_region {
	uint64_t gpa;	      /* guest_phys_addr */
	uint64_t size;	      /* memory_size */
	uint64_t uva;	      /* userspace_addr: the front end's mapping */
	uint64_t mmap_offset; /* where the region starts in its fd */
};

struct vhost_user_memory {
	uint32_t nregions;
	uint32_t padding;
	struct vhost_user_mem_region regions[VHOST_USER_MEM_REGIONS_MAX];
};

struct vhost_user_log {
	uint64_t mmap_size;
	uint64_t mmap_offset;
};

/*
 * struct vhost_user_msg - one parsed request, a private copy (the payload
 * is copied out of the receive buffer; host byte order, the protocol's).
 * @nfds: fds that came with it (their count is checked, not their kind).
 */
struct vhost_user_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	union {
		uint64_t u64;
		struct vhost_user_vring_state state;
		struct vhost_user_vring_addr addr;
		struct vhost_user_memory memory;
		struct vhost_user_log log;
	} payload;
	int fds[VHOST_USER_MEM_REGIONS_MAX];
	unsigned int nfds;
};

/* Largest payload accepted: a full memory table. */
enum { VHOST_USER_PAYLOAD_MAX = sizeof(struct vhost_user_memory) };

/*
 * vhost_user_msg_parse() - validate @len bytes (header + payload) that
 * arrived with @nfds fds, and fill @msg (fds are not copied: the caller
 * owns and closes them, whatever the result).
 * @why: on failure, what is wrong, for the log line.
 * Checks: a whole header; version 1; no REPLY or unknown flag bits; a
 * request this back end implements; its exact payload size (size == len -
 * 12) and fd count; vring indices < VHOST_USER_VRINGS_MAX, vring sizes a
 * power of 2 up to 32768, no unknown bits in a vring u64 or flags; a
 * memory table with 1..8 regions and as many fds. Where addresses lie is
 * the memory table's business (vhost_user_mem_check()).
 * Return: 0, or -EPROTO (malformed), -EOPNOTSUPP (a request we do not do).
 */
int vhost_user_msg_parse(const void *buf, size_t len, unsigned int nfds,
			 struct vhost_user_msg *msg, char *why, size_t whylen);

/* vhost_user_request_name() - "SET_MEM_TABLE", or "?" (for logs). */
const char *vhost_user_request_name(uint32_t request);

#endif
