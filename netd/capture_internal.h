/* SPDX-License-Identifier: MIT */
/* capture_internal.h - what netd/capture*.c share: a capture's state and the writer's entry points. */
#ifndef LOOM_NETD_CAPTURE_INTERNAL_H
#define LOOM_NETD_CAPTURE_INTERNAL_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/evloop.h"
#include "loom/control.h"
#include "netd/capture_ring.h"
#include "netd/netd.h"

/* docs/capture.md describes the design. */

enum {
	CAPTURE_RING_BYTES = 8 << 20, /* per capture */
	CAPTURE_OBUF_BYTES = 1 << 20, /* pcapng bytes built before a write */
	CAPTURE_POLL_MS = 5,	      /* drain period while frames flow */
	CAPTURE_TURN_RECORDS = 8192,  /* records per drain call */
	CAPTURE_LINGER_MS = 2000,     /* at the end: wait this long for a
					 slow reader to take what is left */
	CAPTURE_IF_MAX = 1024,	      /* interface blocks per capture */
	/* Kernel-path ports (capture_pcap.c): capture port ids past the
	 * switch's: one per declared port, then one per VM NIC's TAP
	 * (nic.open, kport.c) in the order netd lists them. */
	CAPTURE_KPORT_BASE = SWITCH_MAX_PORTS_MAX,
	CAPTURE_VMTAP_BASE = CAPTURE_KPORT_BASE + NETCONF_PORTS_MAX,
	CAPTURE_VMTAP_MAX = 1024, /* kport.c's NETD_KPORTS_MAX */
	CAPTURE_PORTS_MAX = CAPTURE_VMTAP_BASE + CAPTURE_VMTAP_MAX,
};

enum capture_state {
	CAPTURE_RUNNING,
	CAPTURE_ENDING, /* mirror removed; writing out what is left */
};

struct capture_if {
	uint32_t port_id;
	char name[SWITCH_PORT_NAME_MAX + NETCONF_NAME_MAX + 2];
	char descr[256]; /* kept: each rotated file repeats the block */
};

struct capture_pcap;
struct netd_capture {
	/* Read by the data path (set before the mirror is added). */
	struct capture_ring ring;
	uint32_t snaplen;
	bool all_ports;
	bool has_prog;
	int skip_port; /* all ports but this one (a bridge's switch link), -1 */
	struct bpf_program prog;
	/* Selected ports by capture port id: switch port ids, then
	 * CAPTURE_KPORT_BASE + declared index for kernel-path ports. */
	uint64_t port_mask[CAPTURE_PORTS_MAX / 64];
	_Atomic uint64_t filtered; /* written by the data path only */

	/* Control thread only. */
	struct netd *d;
	struct netd_net *net;
	int id;
	int mirror_id;
	int sock;   /* the client's control connection */
	int out_fd; /* where pcapng goes */
	bool out_watched; /* out_fd is on the loop for EPOLLOUT */
	bool efd_watched; /* the ring's eventfd is on the loop */
	bool kefd_watched; /* the kernel ports' ring's eventfd is */
	bool sock_watched;
	bool busy;	  /* poll timer running; the ring is not armed */
	enum capture_state state;
	unsigned int dirs;
	char filter[LOOM_CAPTURE_FILTER_MAX];
	char out_kind[8];
	char reason[128];
	uint64_t count_max; /* 0: no limit */
	uint64_t written;     /* frames built into obuf or written */
	uint64_t in_obuf;     /* of those, frames still (partly) in obuf */
	uint64_t lost_at_end; /* taken from the ring, never written */
	uint64_t started_ms;
	time_t started;
	struct evloop_timer *poll_timer, *end_timer;
	uint8_t *obuf;
	size_t olen, ooff;
	struct capture_pcap *kp; /* kernel-path ports' reader, or NULL */
	int16_t *ifid_of; /* per capture port id: its IDB, -1 none yet */
	struct capture_if *ifs;
	uint32_t n_if;
	/* Declared captures (network file): netd's own rotating files
	 * ROT_PATH.0 .. ROT_PATH.(rot_files - 1); rot_path[0] == 0 else. */
	char decl_name[NETCONF_NAME_MAX];
	char rot_path[4096];
	uint64_t rot_size;
	unsigned int rot_files, rot_index;
	uint64_t file_bytes;  /* written to the current file */
	uint64_t file_frames; /* frames in it */
};

/* Every running capture; the control thread's only. */
extern struct netd_capture *capture_table[LOOM_CAPTURE_MAX];

/* capture_pcap.c: kernel-path ports (a bridge network's veths and TAPs),
 * read with libpcap on the device by a thread of the capture's own into
 * a second ring that the writer merges with the switch's. */
/* capture_kport_is - do declared port @i's frames cross the kernel, not the switch? */
bool capture_kport_is(const struct netd_net *n, uint32_t i);
/* capture_vmtap_find - a VM NIC's TAP named @name on @n: its capture port id, or -ENOENT. */
int capture_vmtap_find(struct netd *d, struct netd_net *n, const char *name);
/* capture_pcap_start - open the selected kernel ports, start the reader. */
int capture_pcap_start(struct netd_capture *c, char *err, size_t errlen);
/* capture_pcap_stop - the reader stops (joined); its ring stays for the writer. */
void capture_pcap_stop(struct netd_capture *c);
void capture_pcap_free(struct netd_capture *c);
struct capture_ring *capture_pcap_ring(struct netd_capture *c);
uint64_t capture_pcap_drops(struct netd_capture *c);
/* capture_pcap_describe - name and describe kernel-path port @pid of @c. */
void capture_pcap_describe(struct netd_capture *c, uint32_t pid, char *name,
			   size_t nlen, char *descr, size_t dlen);

/* capture.c */
extern int capture_next_id;
/* capture_setup - a capture from request @args, writing to @out_fd (all
 * but the client's socket). Return: 0 or -errno with @err set. */
int capture_setup(struct netd *d, struct netd_capture *c, json_t *args,
		  int out_fd, char *err, size_t errlen);

/* capture_declared.c: the capture service's net_start and net_apply. */
int capture_net_start(struct netd *d, struct netd_net *n, bool restoring,
		      char *err, size_t errlen);
int capture_net_apply(struct netd *d, struct netd_net *n,
		      const struct netconf_net *conf, bool *changed, char *err,
		      size_t errlen);

/* capture_writer.c */
/* capture_dropped - every frame lost so far: rings full, kernel, at the end. */
uint64_t capture_dropped(struct netd_capture *c);
/* capture_sources_stop - no frame comes in any more (mirror, pcap reader). */
void capture_sources_stop(struct netd_capture *c);
/* capture_rot_open - open file @index of a declared capture's rotation. */
int capture_rot_open(const char *path, unsigned int index);
void capture_on_frame(void *arg, uint32_t port_id, enum switch_dir dir,
		      const struct frame *f);
bool capture_port_describe(struct netd *d, struct netd_net *n,
			   uint32_t pid, char *name, size_t nlen,
			   char *descr, size_t dlen);
int capture_ifid(struct netd_capture *c, uint32_t pid);
void capture_set_reason(struct netd_capture *c, const char *fmt,
			const char *arg);
void capture_free(struct netd_capture *c);
void capture_finish(struct netd_capture *c);
void capture_discard(struct netd_capture *c);
void capture_end(struct netd_capture *c);
void capture_drain(struct netd_capture *c);
void capture_on_ring(struct evloop *l, int fd, uint32_t events,
		     void *arg);
void capture_on_poll(struct evloop *l, void *arg);
void capture_on_end_timer(struct evloop *l, void *arg);
void capture_on_sock(struct evloop *l, int fd, uint32_t events,
		     void *arg);

#endif
