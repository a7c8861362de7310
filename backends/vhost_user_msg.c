/* SPDX-License-Identifier: MIT */
/* vhost_user_msg.c - vhost-user messages (back-end side): a strict parser. */
#include "backends/vhost_user_msg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

_Static_assert(sizeof(struct vhost_user_vring_state) == 8, "wire size");
_Static_assert(sizeof(struct vhost_user_vring_addr) == 40, "wire size");
_Static_assert(sizeof(struct vhost_user_mem_region) == 32, "wire size");
_Static_assert(sizeof(struct vhost_user_memory) == 8 + 8 * 32, "wire size");
_Static_assert(sizeof(struct vhost_user_log) == 16, "wire size");

/* What each request carries. */
enum payload_kind {
	P_NONE,	   /* size 0 */
	P_U64,	   /* 8 bytes */
	P_STATE,   /* struct vhost_user_vring_state */
	P_ADDR,	   /* struct vhost_user_vring_addr */
	P_MEMORY,  /* struct vhost_user_memory, 8 + n * 32 bytes */
	P_LOG,	   /* struct vhost_user_log */
	P_VRING_FD /* u64 index | NOFD, and an fd unless NOFD */
};

static const struct {
	const char *name;
	enum payload_kind kind;
	unsigned int fds; /* fds it must carry (P_MEMORY, P_VRING_FD: see code) */
} requests[VHOST_USER_REQUEST_MAX + 1] = {
	[VHOST_USER_GET_FEATURES] = {"GET_FEATURES", P_NONE, 0},
	[VHOST_USER_SET_FEATURES] = {"SET_FEATURES", P_U64, 0},
	[VHOST_USER_SET_OWNER] = {"SET_OWNER", P_NONE, 0},
	[VHOST_USER_RESET_OWNER] = {"RESET_OWNER", P_NONE, 0},
	[VHOST_USER_SET_MEM_TABLE] = {"SET_MEM_TABLE", P_MEMORY, 0},
	[VHOST_USER_SET_LOG_BASE] = {"SET_LOG_BASE", P_LOG, 1},
	[VHOST_USER_SET_LOG_FD] = {"SET_LOG_FD", P_NONE, 1},
	[VHOST_USER_SET_VRING_NUM] = {"SET_VRING_NUM", P_STATE, 0},
	[VHOST_USER_SET_VRING_ADDR] = {"SET_VRING_ADDR", P_ADDR, 0},
	[VHOST_USER_SET_VRING_BASE] = {"SET_VRING_BASE", P_STATE, 0},
	[VHOST_USER_GET_VRING_BASE] = {"GET_VRING_BASE", P_STATE, 0},
	[VHOST_USER_SET_VRING_KICK] = {"SET_VRING_KICK", P_VRING_FD, 0},
	[VHOST_USER_SET_VRING_CALL] = {"SET_VRING_CALL", P_VRING_FD, 0},
	[VHOST_USER_SET_VRING_ERR] = {"SET_VRING_ERR", P_VRING_FD, 0},
	[VHOST_USER_GET_PROTOCOL_FEATURES] = {"GET_PROTOCOL_FEATURES", P_NONE,
					      0},
	[VHOST_USER_SET_PROTOCOL_FEATURES] = {"SET_PROTOCOL_FEATURES", P_U64,
					      0},
	[VHOST_USER_GET_QUEUE_NUM] = {"GET_QUEUE_NUM", P_NONE, 0},
	[VHOST_USER_SET_VRING_ENABLE] = {"SET_VRING_ENABLE", P_STATE, 0},
	[VHOST_USER_SEND_RARP] = {"SEND_RARP", P_U64, 0},
	[VHOST_USER_NET_SET_MTU] = {"NET_SET_MTU", P_U64, 0},
};

const char *vhost_user_request_name(uint32_t request)
{
	if (request > VHOST_USER_REQUEST_MAX || !requests[request].name)
		return "?";
	return requests[request].name;
}

__attribute__((format(printf, 3, 4))) static int
refuse(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -EPROTO;
}

static int check_vring_index(uint32_t idx, char *why, size_t len)
{
	if (idx >= VHOST_USER_VRINGS_MAX)
		return refuse(why, len, "vring %u: this back end has %d vrings",
			      idx, VHOST_USER_VRINGS_MAX);
	return 0;
}

int vhost_user_msg_parse(const void *buf, size_t len, unsigned int nfds,
			 struct vhost_user_msg *msg, char *why, size_t whylen)
{
	const uint8_t *p = buf;
	uint32_t want_fds = 0, n, req;
	size_t want;
	int ret;

	memset(msg, 0, sizeof(*msg));
	if (whylen)
		why[0] = '\0';
	if (len < VHOST_USER_HDR_SIZE)
		return refuse(why, whylen, "short header: %zu bytes", len);
	memcpy(&msg->request, p, 4);
	memcpy(&msg->flags, p + 4, 4);
	memcpy(&msg->size, p + 8, 4);
	req = msg->request;
	if ((msg->flags & VHOST_USER_FLAG_VERSION_MASK) != VHOST_USER_VERSION)
		return refuse(why, whylen, "version %u (only 1 exists)",
			      msg->flags & VHOST_USER_FLAG_VERSION_MASK);
	if (msg->flags & ~(uint32_t)(VHOST_USER_FLAG_VERSION_MASK |
				     VHOST_USER_FLAG_NEED_REPLY))
		return refuse(why, whylen, "flags 0x%x: reply or unknown bits",
			      msg->flags);
	if (msg->size > VHOST_USER_PAYLOAD_MAX)
		return refuse(why, whylen, "payload of %u bytes (at most %d)",
			      msg->size, (int)VHOST_USER_PAYLOAD_MAX);
	if ((size_t)msg->size != len - VHOST_USER_HDR_SIZE)
		return refuse(why, whylen, "size says %u, %zu bytes came",
			      msg->size, len - VHOST_USER_HDR_SIZE);
	if (nfds > VHOST_USER_MEM_REGIONS_MAX)
		return refuse(why, whylen, "%u fds", nfds);
	if (req == 0 || req > VHOST_USER_REQUEST_MAX || !requests[req].name) {
		if (whylen)
			snprintf(why, whylen, "request %u is not one this back end serves",
				 req);
		return -EOPNOTSUPP;
	}
	memcpy(&msg->payload, p + VHOST_USER_HDR_SIZE, msg->size);
	msg->nfds = nfds;
	want_fds = requests[req].fds;
	switch (requests[req].kind) {
	case P_NONE:
		want = 0;
		break;
	case P_U64:
		want = 8;
		break;
	case P_STATE:
		want = sizeof(struct vhost_user_vring_state);
		break;
	case P_ADDR:
		want = sizeof(struct vhost_user_vring_addr);
		break;
	case P_LOG:
		want = sizeof(struct vhost_user_log);
		break;
	case P_VRING_FD:
		want = 8;
		break;
	case P_MEMORY:
	default:
		/* nregions, padding, then exactly nregions entries. */
		if (msg->size < 8)
			return refuse(why, whylen, "memory table of %u bytes",
				      msg->size);
		n = msg->payload.memory.nregions;
		if (n == 0 || n > VHOST_USER_MEM_REGIONS_MAX)
			return refuse(why, whylen,
				      "memory table of %u regions (1..%d)", n,
				      VHOST_USER_MEM_REGIONS_MAX);
		want = 8 + (size_t)n * sizeof(struct vhost_user_mem_region);
		want_fds = n;
		break;
	}
	if (msg->size != want)
		return refuse(why, whylen, "%s with %u payload bytes (wants %zu)",
			      requests[req].name, msg->size, want);
	switch (requests[req].kind) {
	case P_STATE:
		ret = check_vring_index(msg->payload.state.index, why, whylen);
		if (ret)
			return ret;
		if (req == VHOST_USER_SET_VRING_NUM) {
			n = msg->payload.state.num;
			if (!n || n > VHOST_USER_VRING_SIZE_MAX || (n & (n - 1)))
				return refuse(why, whylen,
					      "vring size %u: a power of 2 "
					      "up to %d", n,
					      VHOST_USER_VRING_SIZE_MAX);
		}
		if (req == VHOST_USER_SET_VRING_ENABLE &&
		    msg->payload.state.num > 1)
			return refuse(why, whylen, "vring enable %u",
				      msg->payload.state.num);
		if (req == VHOST_USER_SET_VRING_BASE &&
		    msg->payload.state.num > 0xffff)
			return refuse(why, whylen, "vring base %u",
				      msg->payload.state.num);
		break;
	case P_ADDR:
		ret = check_vring_index(msg->payload.addr.index, why, whylen);
		if (ret)
			return ret;
		if (msg->payload.addr.flags & ~(uint32_t)VHOST_USER_VRING_F_LOG)
			return refuse(why, whylen, "vring address flags 0x%x",
				      msg->payload.addr.flags);
		break;
	case P_VRING_FD:
		if (msg->payload.u64 & ~(uint64_t)(VHOST_USER_VRING_IDX_MASK |
						   VHOST_USER_VRING_NOFD))
			return refuse(why, whylen, "vring fd word 0x%llx",
				      (unsigned long long)msg->payload.u64);
		ret = check_vring_index(
		    (uint32_t)(msg->payload.u64 & VHOST_USER_VRING_IDX_MASK),
		    why, whylen);
		if (ret)
			return ret;
		want_fds = msg->payload.u64 & VHOST_USER_VRING_NOFD ? 0 : 1;
		break;
	default:
		break;
	}
	if (nfds != want_fds)
		return refuse(why, whylen, "%s with %u fds (wants %u)",
			      requests[req].name, nfds, want_fds);
	return 0;
}
