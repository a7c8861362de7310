/* SPDX-License-Identifier: MIT */
/* capture_pcap.c - captures of kernel-path ports: libpcap on the device, a reader thread, a ring the writer merges. */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "common/log.h"
#include "netd/capture_internal.h"

#define MOD "capture"

/*
 * The ports of a bridge network (veths, TAPs, VLAN interfaces on the Linux
 * bridge) move their frames in the kernel: netd's switch and its mirror
 * never see them. For those, a capture opens libpcap on the port's host
 * interface, one handle per direction it wants (pcap_setdirection: IN is
 * what the port sent into the bridge, OUT what the bridge sent out of it,
 * as for a switch port), with the capture's BPF filter compiled for that
 * handle and run in the kernel, and a thread of its own reads them all:
 * it merges their packets by timestamp and copies each into a ring (the
 * same record ring as the switch's, capture_ring.h), which the writer
 * merges with the switch's ring into one pcapng stream, one interface
 * block per port.
 *
 * Nothing here can hold the network back: an AF_PACKET socket never
 * pushes back on the device (a full kernel buffer drops the packet,
 * pcap_stats' ps_drop counts it), and the thread never waits on the
 * writer (a full ring drops and counts, as on the switch side).
 */

enum {
	KRING_BYTES = 8 << 20,	   /* the reader's ring, as the switch's */
	KPCAP_BUFFER = 4 << 20,	   /* kernel buffer per handle */
	KTURN = 4096,		   /* packets per merge turn, then poll */
	KSTATS_MS = 500,	   /* how often the drop counters are read */
};

struct kpcap_handle {
	pcap_t *p;
	uint32_t port_id; /* capture port id (CAPTURE_KPORT_BASE + index) */
	uint8_t dir;	  /* SWITCH_DIR_* */
	bool dead;	  /* the interface went away: no longer read */
	uint64_t drops;	  /* ps_drop, last read */
	/* The packet read but not yet copied (the merge's head). */
	bool have;
	struct pcap_pkthdr *hdr;
	const u_char *data;
	char ifname[IF_NAMESIZE];
};

/* A kernel-path port of the capture, as it was when the capture started. */
struct kpcap_port {
	uint32_t id; /* capture port id */
	int ifindex;
	char name[SWITCH_PORT_NAME_MAX + NETCONF_NAME_MAX + 2];
	char descr[256];
};

struct capture_pcap {
	struct capture_ring ring;
	struct kpcap_port *ports;
	unsigned int nports;
	struct kpcap_handle *h;
	unsigned int n;
	int stop_efd;
	pthread_t thread;
	bool running;
	_Atomic uint64_t kernel_drops; /* sum of the handles' ps_drop */
};

bool capture_kport_is(const struct netd_net *n, uint32_t i)
{
	return n->br && i < n->conf.port_count && n->rt[i].kifindex > 0;
}

static void kport_describe(struct netd_net *n, uint32_t i,
			   struct kpcap_port *kp)
{
	const struct netconf_port *pc = &n->conf.ports[i];
	const char *type = netconf_port_type(pc);

	kp->id = CAPTURE_KPORT_BASE + i;
	kp->ifindex = n->rt[i].kifindex;
	snprintf(kp->name, sizeof(kp->name), "%s:%s", n->conf.name, pc->name);
	if (!strcmp(type, NETCONF_PORT_TYPE_VETH))
		snprintf(kp->descr, sizeof(kp->descr),
			 "loom port %s of network %s: veth %s on bridge %s, "
			 "its peer in netns %s", pc->name, n->conf.name,
			 pc->tap, n->conf.bridge, pc->netns);
	else
		snprintf(kp->descr, sizeof(kp->descr),
			 "loom port %s of network %s: %s %s on bridge %s",
			 pc->name, n->conf.name,
			 !strcmp(type, NETCONF_PORT_TYPE_TAP) ? "TAP" : type,
			 pc->tap, n->conf.bridge);
}

/*
 * The VM NICs' TAPs on @n (nic.open), as netd lists them (kport.c): the
 * j-th is capture port CAPTURE_VMTAP_BASE + j. The list does not change
 * between a capture's request and its start (both on the control thread).
 */
static json_t *vmtaps_list(struct netd *d, struct netd_net *n)
{
	json_t *arr = json_array();

	if (arr && n->br)
		netd_kport_list(d, n, arr);
	return arr;
}

int capture_vmtap_find(struct netd *d, struct netd_net *n, const char *name)
{
	json_t *arr = vmtaps_list(d, n), *e;
	size_t j;
	int id = -ENOENT;

	json_array_foreach(arr, j, e) {
		const char *nm = json_string_value(json_object_get(e, "name"));

		if (nm && !strcmp(nm, name) && j < CAPTURE_VMTAP_MAX) {
			id = CAPTURE_VMTAP_BASE + (int)j;
			break;
		}
	}
	json_decref(arr);
	return id;
}

static void vmtap_describe(struct netd_net *n, json_t *e, size_t j,
			   struct kpcap_port *kp)
{
	const char *nm = json_string_value(json_object_get(e, "name"));
	const char *ifn = json_string_value(json_object_get(e, "ifname"));
	const char *model = json_string_value(json_object_get(e, "model"));

	kp->id = CAPTURE_VMTAP_BASE + (uint32_t)j;
	kp->ifindex = (int)json_integer_value(json_object_get(e, "ifindex"));
	snprintf(kp->name, sizeof(kp->name), "%s:%s", n->conf.name,
		 nm ? nm : "?");
	snprintf(kp->descr, sizeof(kp->descr),
		 "loom port %s of network %s: VM NIC (%s) on TAP %s, bridge %s",
		 nm ? nm : "?", n->conf.name, model && *model ? model : "tap",
		 ifn ? ifn : "?", n->conf.bridge);
}

void capture_pcap_describe(struct netd_capture *c, uint32_t pid, char *name,
			   size_t nlen, char *descr, size_t dlen)
{
	for (unsigned int i = 0; c->kp && i < c->kp->nports; i++) {
		if (c->kp->ports[i].id != pid)
			continue;
		snprintf(name, nlen, "%s", c->kp->ports[i].name);
		snprintf(descr, dlen, "%s", c->kp->ports[i].descr);
		return;
	}
	snprintf(name, nlen, "%s:port%u", c->net->conf.name, pid);
	snprintf(descr, dlen, "kernel port of network %s (gone)",
		 c->net->conf.name);
}

/* ---- the reader thread ---- */

static uint64_t kpcap_ts_ns(const struct pcap_pkthdr *h)
{
	/* PCAP_TSTAMP_PRECISION_NANO: tv_usec holds nanoseconds. */
	return (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
}

/* Read the next packet of @k into its head. */
static void kpcap_next(struct kpcap_handle *k)
{
	int r;

	k->have = false;
	if (k->dead)
		return;
	r = pcap_next_ex(k->p, &k->hdr, &k->data);
	if (r == 1) {
		k->have = true;
	} else if (r < 0) {
		/* The port was deleted or went down for good. */
		log_info(MOD, "%s: no longer captured: %s", k->ifname,
			 pcap_geterr(k->p));
		k->dead = true;
	}
}

static void kpcap_put(struct capture_pcap *kp, const struct kpcap_handle *k,
		      uint32_t snaplen)
{
	uint32_t caplen = k->hdr->caplen < snaplen ? k->hdr->caplen : snaplen;
	struct capture_rec *rec = capture_ring_reserve(&kp->ring, caplen);

	if (!rec) {
		capture_ring_count_drop(&kp->ring);
		return;
	}
	memcpy(rec->data, k->data, caplen);
	rec->port_id = k->port_id;
	rec->orig_len = k->hdr->len;
	rec->ts_ns = kpcap_ts_ns(k->hdr);
	rec->dir = k->dir;
	capture_ring_commit(&kp->ring);
}

static void kpcap_stats(struct capture_pcap *kp)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < kp->n; i++) {
		struct kpcap_handle *k = &kp->h[i];
		struct pcap_stat st;

		if (!k->dead && pcap_stats(k->p, &st) == 0)
			k->drops = st.ps_drop;
		sum += k->drops;
	}
	atomic_store_explicit(&kp->kernel_drops, sum, memory_order_relaxed);
}

struct kpcap_thread_arg {
	struct capture_pcap *kp;
	uint32_t snaplen;
};

static void *kpcap_thread(void *arg)
{
	struct kpcap_thread_arg a = *(struct kpcap_thread_arg *)arg;
	struct capture_pcap *kp = a.kp;
	struct pollfd *pfd = calloc(kp->n + 1, sizeof(*pfd));
	uint64_t stats_at = 0;
	int timeout = 0;

	free(arg);
	if (!pfd)
		return NULL;
	for (;;) {
		unsigned int turn = 0;
		struct timespec now;
		uint64_t ms;

		pfd[0] = (struct pollfd){.fd = kp->stop_efd, .events = POLLIN};
		for (unsigned int i = 0; i < kp->n; i++)
			pfd[i + 1] = (struct pollfd){
				.fd = kp->h[i].dead ?
					      -1 :
					      pcap_get_selectable_fd(kp->h[i].p),
				.events = POLLIN};
		if (poll(pfd, kp->n + 1, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		for (unsigned int i = 0; i < kp->n; i++)
			if (!kp->h[i].have)
				kpcap_next(&kp->h[i]);
		/* Merge the handles' packets by time: a frame seen leaving
		 * one port and entering another lands in order. */
		for (; turn < KTURN; turn++) {
			struct kpcap_handle *first = NULL;

			for (unsigned int i = 0; i < kp->n; i++)
				if (kp->h[i].have &&
				    (!first || kpcap_ts_ns(kp->h[i].hdr) <
						       kpcap_ts_ns(first->hdr)))
					first = &kp->h[i];
			if (!first)
				break;
			kpcap_put(kp, first, a.snaplen);
			kpcap_next(first);
		}
		/* A full turn: more is waiting, poll without sleeping. */
		timeout = turn >= KTURN ? 0 : KSTATS_MS;
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
		if (ms - stats_at >= KSTATS_MS) {
			kpcap_stats(kp);
			stats_at = ms;
		}
	}
	kpcap_stats(kp);
	free(pfd);
	return NULL;
}

/* ---- set-up ---- */

static int kpcap_open(struct netd_capture *c, struct kpcap_handle *k,
		      int kifindex, pcap_direction_t pdir, char *err,
		      size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	int ret;

	if (!if_indextoname((unsigned int)kifindex, k->ifname)) {
		snprintf(err, errlen, "interface %d: %s", kifindex,
			 strerror(errno));
		return -errno;
	}
	k->p = pcap_create(k->ifname, ebuf);
	if (!k->p) {
		snprintf(err, errlen, "libpcap on %s: %s", k->ifname, ebuf);
		return -ENODEV;
	}
	/* No promiscuous mode of our own: a bridge port already is. */
	pcap_set_snaplen(k->p, (int)c->snaplen);
	pcap_set_promisc(k->p, 0);
	pcap_set_immediate_mode(k->p, 1);
	pcap_set_buffer_size(k->p, KPCAP_BUFFER);
	pcap_set_tstamp_precision(k->p, PCAP_TSTAMP_PRECISION_NANO);
	ret = pcap_activate(k->p);
	if (ret < 0) {
		snprintf(err, errlen, "libpcap on %s: %s%s", k->ifname,
			 pcap_statustostr(ret),
			 ret == PCAP_ERROR_PERM_DENIED ?
				 " (loom-netd needs CAP_NET_RAW)" : "");
		return ret == PCAP_ERROR_PERM_DENIED ? -EPERM : -EIO;
	}
	if (pcap_datalink(k->p) != DLT_EN10MB) {
		snprintf(err, errlen, "%s: link type %s, not Ethernet",
			 k->ifname,
			 pcap_datalink_val_to_name(pcap_datalink(k->p)));
		return -EOPNOTSUPP;
	}
	if (pcap_setdirection(k->p, pdir) < 0 ||
	    pcap_setnonblock(k->p, 1, ebuf) < 0) {
		snprintf(err, errlen, "libpcap on %s: %s", k->ifname,
			 pcap_geterr(k->p));
		return -EIO;
	}
	if (c->filter[0]) {
		/* Compiled for this handle (Linux reads VLAN tags from the
		 * packet's metadata) and run in the kernel. */
		if (pcap_compile(k->p, &prog, c->filter, 1,
				 PCAP_NETMASK_UNKNOWN) < 0) {
			snprintf(err, errlen, "filter '%.200s' on %s: %s",
				 c->filter, k->ifname, pcap_geterr(k->p));
			return -EINVAL;
		}
		ret = pcap_setfilter(k->p, &prog);
		pcap_freecode(&prog);
		if (ret < 0) {
			snprintf(err, errlen, "filter on %s: %s", k->ifname,
				 pcap_geterr(k->p));
			return -EINVAL;
		}
	}
	return 0;
}

static bool kport_selected(const struct netd_capture *c, uint32_t id)
{
	return c->all_ports || (c->port_mask[id / 64] >> (id % 64) & 1);
}

/* The selected kernel-path ports of @c's network, into c->kp->ports. */
static int kports_collect(struct netd_capture *c)
{
	struct netd_net *n = c->net;
	struct capture_pcap *kp = c->kp;
	json_t *taps = vmtaps_list(c->d, n), *e;
	size_t j;

	if (!taps)
		return -ENOMEM;
	kp->ports = calloc(n->conf.port_count + json_array_size(taps) + 1,
			   sizeof(*kp->ports));
	if (!kp->ports) {
		json_decref(taps);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n->conf.port_count; i++)
		if (capture_kport_is(n, i) &&
		    kport_selected(c, CAPTURE_KPORT_BASE + i))
			kport_describe(n, i, &kp->ports[kp->nports++]);
	json_array_foreach(taps, j, e) {
		if (j >= CAPTURE_VMTAP_MAX ||
		    !kport_selected(c, CAPTURE_VMTAP_BASE + (uint32_t)j) ||
		    json_integer_value(json_object_get(e, "ifindex")) <= 0)
			continue;
		vmtap_describe(n, e, j, &kp->ports[kp->nports++]);
	}
	json_decref(taps);
	return 0;
}

int capture_pcap_start(struct netd_capture *c, char *err, size_t errlen)
{
	static const struct {
		unsigned int dir;
		pcap_direction_t pdir;
	} dirs[] = {{SWITCH_DIR_INGRESS, PCAP_D_IN},
		    {SWITCH_DIR_EGRESS, PCAP_D_OUT}};
	struct kpcap_thread_arg *arg;
	struct capture_pcap *kp;
	int ret;

	if (!c->net->br)
		return 0;
	kp = calloc(1, sizeof(*kp));
	if (!kp)
		return -ENOMEM;
	kp->stop_efd = -1;
	c->kp = kp;
	ret = kports_collect(c);
	if (ret < 0) {
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	if (!kp->nports) {
		capture_pcap_free(c);
		return 0;
	}
	kp->h = calloc(2 * kp->nports, sizeof(*kp->h));
	kp->stop_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ret = capture_ring_init(&kp->ring, KRING_BYTES);
	if (!kp->h || kp->stop_efd < 0 || ret < 0) {
		snprintf(err, errlen, "out of memory");
		return ret < 0 ? ret : -ENOMEM;
	}
	for (unsigned int i = 0; i < kp->nports; i++) {
		for (unsigned int d = 0; d < 2; d++) {
			struct kpcap_handle *k = &kp->h[kp->n];

			if (!(c->dirs & dirs[d].dir))
				continue;
			k->port_id = kp->ports[i].id;
			k->dir = (uint8_t)dirs[d].dir;
			kp->n++;
			ret = kpcap_open(c, k, kp->ports[i].ifindex,
					 dirs[d].pdir, err, errlen);
			if (ret < 0)
				return ret;
		}
		/* Its interface block goes first, as a switch port's. */
		if (capture_ifid(c, kp->ports[i].id) < 0)
			break;
	}
	arg = malloc(sizeof(*arg));
	if (!arg)
		return -ENOMEM;
	*arg = (struct kpcap_thread_arg){.kp = kp, .snaplen = c->snaplen};
	ret = pthread_create(&kp->thread, NULL, kpcap_thread, arg);
	if (ret) {
		free(arg);
		snprintf(err, errlen, "capture thread: %s", strerror(ret));
		return -ret;
	}
	pthread_setname_np(kp->thread, "loom-capture");
	kp->running = true;
	return 0;
}

void capture_pcap_stop(struct netd_capture *c)
{
	struct capture_pcap *kp = c->kp;
	static const uint64_t one = 1;

	if (!kp || !kp->running)
		return;
	if (write(kp->stop_efd, &one, sizeof(one)) < 0)
		log_err(MOD, "capture %d: cannot stop its reader: %s", c->id,
			strerror(errno));
	pthread_join(kp->thread, NULL);
	kp->running = false;
}

void capture_pcap_free(struct netd_capture *c)
{
	struct capture_pcap *kp = c->kp;

	if (!kp)
		return;
	capture_pcap_stop(c);
	for (unsigned int i = 0; kp->h && i < kp->n; i++)
		if (kp->h[i].p)
			pcap_close(kp->h[i].p);
	free(kp->h);
	free(kp->ports);
	if (kp->stop_efd >= 0)
		close(kp->stop_efd);
	if (kp->ring.buf)
		capture_ring_destroy(&kp->ring);
	free(kp);
	c->kp = NULL;
}

struct capture_ring *capture_pcap_ring(struct netd_capture *c)
{
	return c->kp ? &c->kp->ring : NULL;
}

uint64_t capture_pcap_drops(struct netd_capture *c)
{
	if (!c->kp)
		return 0;
	return capture_ring_drops(&c->kp->ring) +
	       atomic_load_explicit(&c->kp->kernel_drops,
				    memory_order_relaxed);
}
