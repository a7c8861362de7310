/* SPDX-License-Identifier: MIT */
/* netd.h - loom-netd internals: daemon state, networks, data path, control. */
#ifndef LOOM_NETD_NETD_H
#define LOOM_NETD_NETD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "common/netconf.h"
#include "switch/switch.h"

/* docs/architecture.md describes the threads and how they share these. */

/* Marks netd's kernel objects: "loom:<instance>:<network>:<port>". */
#define NETD_ALIAS_PREFIX "loom:"

enum netd_limits {
	NETD_NETS_MAX = 256,
	NETD_BUSY_POLL_NS = 200000, /* poll this long idle before sleeping */
	NETD_DP_NICE = 0,	    /* the data-path thread's nice value */
	NETD_POLLED_MAX = 1024,	    /* ports polled every round (shm) */
	NETD_VMS_MAX = 1024,	    /* VMM NICs attached, all networks */
};

/*
 * struct netd_dp_port - a port as the data-path thread polls it: the epoll
 * data of its poll fd. Created and freed by the control thread under the
 * data-path lock.
 */
struct netd_dp_port {
	struct switch_core *sw;
	struct port *port;
	uint32_t port_id;
	int fd;
	bool poll_always;   /* recv every round, re-arm via poll_fd to sleep */
	atomic_bool broken; /* recv failed: no longer polled */
};

/*
 * struct netd_vmport - a VMM NIC attached over the control socket (shm
 * port). Not declared state: it lives as long as the VMM's connection.
 */
struct netd_net;
struct netd;
struct netd_vmport {
	struct netd *d;
	struct netd_net *net;
	char name[SWITCH_PORT_NAME_MAX]; /* the VMM's port name, or vm-XXXXXXXX */
	uint8_t mac[6];
	uint8_t model;
	bool gso; /* takes GSO and partial-checksum frames */
	int port_id;
	int fd; /* the attach connection, until the VMM closes it */
	struct netd_dp_port *dp;
};

/* struct netd_port - runtime side of a declared port. */
struct tap_dev;
struct netd_port {
	int port_id;	     /* switch port id, -1 when down */
	struct netd_dp_port *dp;
	int kifindex;	     /* bridge networks: the port's interface, 0 down */
	struct tap_dev *ktap; /* bridge networks: a TAP port's device */
	bool antispoof;	     /* bridge networks: eBPF policy on kifindex */
	char error[256];     /* why it is down */
};

/*
 * struct netd_net - one network: its declared configuration (@conf,
 * conf.ports included) and, index for index, the runtime side of each port.
 */
struct netd_nat;
struct netd_bridge;
struct netd_net {
	struct netconf_net conf;
	struct netd_port *rt; /* conf.port_count entries */
	struct switch_core *sw;
	struct netd_nat *nat; /* mode nat: the uplink and forwards (nat.c) */
	struct netd_bridge *br; /* mode bridge: the Linux bridge (bridge.c) */
	struct netd_gw *gw; /* the gateway port; NULL without a subnet */
	struct netd_antispoof *as; /* bridge: the eBPF program (antispoof.c) */
};

/* struct netd_dp - the data-path thread and what it polls. */
struct netd_dp {
	pthread_t thread;
	pthread_mutex_t lock; /* guards @sws; held by the thread per round */
	struct switch_core *sws[NETD_NETS_MAX];
	unsigned int nsws;
	int epfd;    /* the ports' poll fds (data.ptr: netd_dp_port) + @wakefd */
	int wakefd;  /* eventfd: the list changed, or stop */
	bool stop;
	struct frame_batch batch; /* the data-path thread's, reused */
	struct netd_dp_port *polled[NETD_POLLED_MAX];
	unsigned int npolled;
	atomic_int waiters; /* control thread waits for @lock: yield it */
	uint64_t busy_poll_ns; /* NETD_BUSY_POLL_NS, or $LOOM_NETD_BUSY_POLL_US */
	bool yield;	       /* sched_yield() in empty busy rounds */
	int nice;	       /* NETD_DP_NICE, or $LOOM_NETD_DP_NICE */
	uint64_t rounds, sleeps;
};

struct evloop;
struct dns_tcp;

struct netd {
	/* The control thread's loop (common/evloop.h): the control socket,
	 * signals, VM attach connections and every service's fds and timers
	 * register here. Runs in netd_control_run(). */
	struct evloop *loop;
	const char *run_dir;
	const char *state_dir;
	char sock_path[256];
	char state_path[256];
	char alias_prefix[32]; /* "loom:<instance>:" on our TAPs */
	char instance[16];     /* hash of the state dir's real path */
	uid_t uid;
	time_t started;
	bool have_net_admin;
	struct netd_net *nets[NETD_NETS_MAX];
	unsigned int nnets;
	struct netd_dp dp;
	unsigned int nclients;
	struct netd_vmport *vms[NETD_VMS_MAX];
	const char *dns_listen; /* --dns-listen ADDR:PORT, or NULL */
	int dns_host_fd;	/* its UDP socket (gateway_host_dns.c), -1 */
	struct dns_tcp *dns_host_tcp; /* and its TCP listener, or NULL */
};

/* net.c */
struct netd_net *netd_net_find(struct netd *d, const char *name);
int netd_net_create(struct netd *d, const struct netconf_net *conf,
		    bool restoring, char *err, size_t errlen);
void netd_net_destroy(struct netd *d, struct netd_net *n);
int netd_net_delete(struct netd *d, const char *name, char *err,
		    size_t errlen);
int netd_port_add(struct netd *d, struct netd_net *n,
		  const struct netconf_port *pc, char *err, size_t errlen);
int netd_port_del(struct netd *d, struct netd_net *n, const char *port,
		  char *err, size_t errlen);
int netd_port_find(const struct netd_net *n, const char *name);
json_t *netd_port_status(struct netd_net *n, unsigned int i);
/* netd_port_counters - a switch port's counters as the JSON object
 * "counters" of port.list (rx/tx frames and bytes, drops by reason). */
json_t *netd_port_counters(struct switch_core *sw, uint32_t port_id);
json_t *netd_net_json(struct netd_net *n);
int netd_mode_check_port(const struct netconf_net *net,
			 const struct netconf_port *pc, char *err,
			 size_t errlen);
bool netd_net_gso_ok(struct netd *d, const struct netd_net *n);
void netd_net_sync_offload(struct netd *d, struct netd_net *n);
int netd_net_apply(struct netd *d, const struct netconf_net *conf,
		   const char **outcome, char *err, size_t errlen);
void netd_shutdown(struct netd *d);

/* nat.c: a nat network's uplink and forwards: netd_nat_service. */
/*
 * gateway.c: the gateway port and its DHCP/DNS services
 * (netd_gateway_service, listed before nat so libslirp can go behind it).
 */
struct netd_gw;
json_t *netd_gw_port_status(struct netd_net *n);
/* netd_gw_lease_of - @mac's bound lease on @n (network order). Return:
 * 0, or -ENOENT (no lease, no DHCP). */
int netd_gw_lease_of(struct netd_net *n, const uint8_t mac[6], uint32_t *ip);
/* netd_gw_gateway - the services' gateway (an uplink attaches there). */
struct gateway *netd_gw_gateway(struct netd_gw *g);
void netd_gw_leases_forget(struct netd *d, const char *net);
/*
 * netd_gw_addr4 - the IPv4 address (host order) netd's DNS gives host
 * @name of @n: the gateway, a static host or lease, an attached VM.
 * Return: 0, or -ENOENT.
 */
int netd_gw_addr4(struct netd_net *n, const char *name, uint32_t *ip);

/* bridge.c: mode bridge. The frames move in the kernel; the network's
 * switch stays empty. netd_bridge_start() is a no-op for other modes. */
int netd_bridge_start(struct netd *d, struct netd_net *n, char *err,
		      size_t errlen);
void netd_bridge_stop(struct netd *d, struct netd_net *n);
int netd_bridge_port_up(struct netd *d, struct netd_net *n, uint32_t i,
			const char *alias, char *err, size_t errlen);
void netd_bridge_port_down(struct netd *d, struct netd_net *n, uint32_t i);
json_t *netd_bridge_port_status(struct netd_net *n, unsigned int i);
/* The carrier of port @i's far side (a veth's peer, a TAP's kernel side). */
int netd_bridge_port_link(struct netd *d, struct netd_net *n, uint32_t i,
			  bool up, char *err, size_t errlen);
/* The kernel's learnt FDB entries as fdb.show's "entries", or NULL. */
json_t *netd_bridge_fdb(struct netd_net *n, char *err, size_t errlen);
/* Flush port index @port's entries (-1: all). Return: entries gone. */
int netd_bridge_fdb_flush(struct netd_net *n, int port);
json_t *netd_bridge_json(struct netd_net *n);
/* Enslave TAP @ifindex (a VM NIC's) with access VLAN @vlan. Return: 0 or -errno. */
int netd_bridge_tap_join(struct netd_net *n, int ifindex, uint16_t vlan,
			 char *err, size_t errlen);

/*
 * knat.c: a bridge network's nat and forwards in an nftables table (the
 * nat service, nat.c, drives them: one forward interface for both modes).
 */
struct netd_knat;
int netd_knat_start(struct netd *d, struct netd_net *n,
		    struct netd_knat **out, char *err, size_t errlen);
void netd_knat_stop(struct netd_knat *k); /* deletes the table */
int netd_knat_forward_add(struct netd_knat *k, const struct netconf_forward *f,
			  char *err, size_t errlen);
void netd_knat_forward_remove(struct netd_knat *k,
			      const struct netconf_forward *f);
json_t *netd_knat_json(const struct netd_knat *k);
/* Delete the tables an earlier run of this instance left. Return: how
 * many, or -errno. */
int netd_knat_sweep(struct netd *d);
/* The switch port id of @n's switch link (its TAP on the bridge), or -1. */
int netd_bridge_link_port(const struct netd_net *n);

/*
 * antispoof.c: what a guest port may send (common/antispoof.h). Kernel
 * ports: kport_up after the interface is on the bridge, kport_down
 * before it goes, stop with the bridge. Switch ports: swcfg fills the
 * port's switch config. leases_changed: the gateway, before its DHCP
 * replies leave. port_json: "antispoof" of port.list.
 */
struct netd_antispoof;
void netd_antispoof_swcfg(struct netd_net *n, const struct netconf_port *pc,
			  struct switch_port_config *cfg);
int netd_antispoof_kport_up(struct netd_net *n, uint32_t i, char *err,
			    size_t errlen);
void netd_antispoof_kport_down(struct netd_net *n, uint32_t i);
void netd_antispoof_stop(struct netd_net *n);
void netd_antispoof_leases_changed(struct netd_net *n);
json_t *netd_antispoof_port_json(struct netd_net *n, uint32_t i);

/* vmport.c */
int netd_vm_attach(struct netd *d, int fd);
void netd_vm_detach(struct netd *d, int slot);
void netd_vm_detach_net(struct netd *d, struct netd_net *n);
int netd_vm_find(struct netd *d, struct netd_net *n, const char *name);
bool netd_vm_gso_ok(struct netd *d, const struct netd_net *n);
const char *netd_vm_port_name(struct netd *d, struct netd_net *n,
			      uint32_t port_id);
json_t *netd_vm_status(struct netd_vmport *vm);

/* kport.c: VM NICs on the kernel path (nic.open: a TAP or macvtap fd). */
struct netd_kport;
bool netd_kport_is_open(json_t *req);
/* netd_kport_open - make the device @req asks for; *@fd its fd to pass
 * (netd keeps its own), *@reply the reply. Return: the port (then call
 * netd_kport_attach with the connection), or NULL (*@reply is an error). */
struct netd_kport *netd_kport_open(struct netd *d, json_t *req, int *fd,
				   json_t **reply);
/* netd_kport_attach - the port takes connection @sock (its close removes
 * the device). Return: 0 or -errno (the port is gone then). */
int netd_kport_attach(struct netd_kport *kp, int sock);
void netd_kport_detach_net(struct netd *d, struct netd_net *n);
void netd_kport_stop(struct netd *d);
/* Append the ports of @n (NULL: the macvtaps) to port list @arr. */
void netd_kport_list(struct netd *d, struct netd_net *n, json_t *arr);

/*
 * link.c: `loom port set NET PORT link up|down`. The setting is declared
 * state (the network's link_down list, by port name), applied to a port
 * whenever it comes up: a declared port at start or add, a VM port when
 * its VMM attaches (the shm header carries it before the VMM sees it).
 */
/* netd_link_set - apply and record; the caller saves the state (and calls
 * it again with !@up to undo). Return: 0, -ENOENT, -EOPNOTSUPP, errno. */
int netd_link_set(struct netd *d, struct netd_net *n, const char *port,
		  bool up, char *err, size_t errlen);
/* netd_link_port_restore - port @i just came up: apply its recorded link. */
void netd_link_port_restore(struct netd *d, struct netd_net *n, uint32_t i);
/* netd_link_status - add "link" (and, when down, why) to port status @j. */
void netd_link_status(const struct netd_net *n, const char *port, json_t *j);
/* netd_link_apply_conf - net.apply: make @n's link_down @conf's. */
void netd_link_apply_conf(struct netd *d, struct netd_net *n,
			  const struct netconf_net *conf, bool *changed);

/* state.c */
int netd_state_save(struct netd *d);
int netd_state_load(struct netd *d);
int netd_netconf_copy(struct netconf_net *dst, const struct netconf_net *src);
int netd_portconf_copy(struct netconf_port *dst,
		       const struct netconf_port *src);

/* datapath.c */
int netd_dp_start(struct netd *d);
void netd_dp_stop(struct netd *d);
void netd_dp_add_switch(struct netd *d, struct switch_core *sw);
void netd_dp_del_switch(struct netd *d, struct switch_core *sw);
struct netd_dp_port *netd_dp_port_add(struct netd *d, struct switch_core *sw,
				      uint32_t port_id);
void netd_dp_port_remove(struct netd *d, struct netd_dp_port *dpp);

/* control.c: serve the control socket on @d->loop until a signal. */
int netd_control_run(struct netd *d, int sigfd);

/* capture.c: packet captures (docs/capture.md). */
struct netd_capture;
/* netd_capture_is_start - @req is a capture.start request. */
bool netd_capture_is_start(json_t *req);
/*
 * netd_capture_start - set up and start the capture @req asks for, writing
 * to @out_fd (from the client, SCM_RIGHTS; always consumed). Sets *@reply.
 * Return: the capture (then call netd_capture_attach with the connection),
 * or NULL (*@reply is the error reply to send as usual).
 */
struct netd_capture *netd_capture_start(struct netd *d, json_t *req,
					int out_fd, json_t **reply);
/* netd_capture_attach - the capture takes connection @sock (the caller
 * dropped it from the loop), sends @reply (stolen) on it. Return: 0 or
 * -errno (the capture then ended and the socket is closed). */
int netd_capture_attach(struct netd_capture *c, int sock, json_t *reply);
/* capture.list and the end of a network's captures: netd_capture_service. */

/* commands.c */
json_t *netd_command(struct netd *d, json_t *req);
json_t *netd_reply_error(json_t *id, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *netd_errno_code(int err);

#endif
