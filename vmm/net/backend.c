/* SPDX-License-Identifier: MIT */
/* backend.c - NIC backend registry and the checks every backend shares. */
#include "vmm/net/backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/log.h"

LOG_MODULE("nic");

enum { NIC_BACKOFF_FIRST_MS = 100, NIC_BACKOFF_MAX_MS = 5000 };

extern const struct nic_backend_ops nic_shm_ops;
extern const struct nic_backend_ops nic_tap_ops;

/* The registry: a new backend is its own file plus one line here. */
static const struct nic_backend_ops *const nic_backends[] = {
	&nic_shm_ops,
	&nic_tap_ops,	/* a TAP or macvtap fd from netd (nic.open) */
};

static const struct nic_backend_ops *nic_backend_find(const char *name)
{
	for (size_t i = 0; i < sizeof(nic_backends) / sizeof(nic_backends[0]);
	     i++)
		if (!strcmp(nic_backends[i]->name, name))
			return nic_backends[i];
	return NULL;
}

bool nic_backend_known(const char *name)
{
	return nic_backend_find(name) != NULL;
}

int nic_backend_open_ops(struct nic_backend **out,
			 const struct nic_backend_ops *ops,
			 const struct nic_config *cfg, const char *model_name,
			 uint32_t want, const struct nic_backend_events *ev,
			 void *opaque)
{
	static const struct nic_backend_events no_events;
	struct nic_backend *nb;
	int ret;

	struct epoll_event e = { .events = EPOLLIN };

	nb = calloc(1, sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	nb->ops = ops;
	nb->ev = ev ? ev : &no_events;
	nb->opaque = opaque;
	nb->cfg = *cfg;
	nb->notify_fd = -1;
	nb->admin_up = true;
	nb->datapath = "userspace";
	nb->poll_fd = epoll_create1(EPOLL_CLOEXEC);
	nb->admin_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (nb->poll_fd < 0 || nb->admin_fd < 0) {
		ret = -errno;
		goto close_fds;
	}
	e.data.fd = nb->admin_fd;
	if (epoll_ctl(nb->poll_fd, EPOLL_CTL_ADD, nb->admin_fd, &e)) {
		ret = -errno;
		goto close_fds;
	}
	ret = ops->open(nb, &nb->cfg, model_name, want & NIC_OFF_ALL);
	if (ret)
		goto close_fds;
	e.data.fd = nb->notify_fd;
	if (nb->notify_fd >= 0 &&
	    epoll_ctl(nb->poll_fd, EPOLL_CTL_ADD, nb->notify_fd, &e)) {
		ret = -errno;
		ops->close(nb);
		goto close_fds;
	}
	/* A backend may only accept what was asked for. */
	nb->caps &= want & NIC_OFF_ALL;
	nb->shown_up = nb->link_up;
	*out = nb;
	return 0;

close_fds:
	if (nb->poll_fd >= 0)
		close(nb->poll_fd);
	if (nb->admin_fd >= 0)
		close(nb->admin_fd);
	free(nb);
	return ret;
}

int nic_backend_open(struct nic_backend **out, struct vm *vm,
		     const struct nic_config *cfg, const char *model_name,
		     uint32_t want, const struct nic_backend_events *ev,
		     void *opaque)
{
	const struct nic_backend_ops *ops;
	int ret;

	(void)vm;
	if (!cfg->backend[0]) {
		/* A network whose frames move in the kernel gets a kernel
		 * device; netd says -EPROTONOSUPPORT for any other. */
		ret = nic_backend_open_ops(out, &nic_tap_ops, cfg, model_name,
					   want, ev, opaque);
		if (ret != -EPROTONOSUPPORT || cfg->macvtap[0])
			return ret;
		ops = &nic_shm_ops;
	} else {
		ops = nic_backend_find(cfg->backend);
	}
	if (!ops)
		return -ENOENT;
	return nic_backend_open_ops(out, ops, cfg, model_name, want, ev,
				    opaque);
}

void nic_backend_close(struct nic_backend *nb)
{
	if (!nb)
		return;
	nb->ops->close(nb);
	close(nb->poll_fd);
	close(nb->admin_fd);
	free(nb);
}

uint32_t nic_backend_caps(const struct nic_backend *nb)
{
	return nb->caps;
}

bool nic_backend_link_up(const struct nic_backend *nb)
{
	return nb->link_up && nic_backend_admin_up(nb);
}

bool nic_backend_admin_up(const struct nic_backend *nb)
{
	return __atomic_load_n(&nb->admin_up, __ATOMIC_ACQUIRE);
}

int nic_backend_set_admin(struct nic_backend *nb, bool up)
{
	uint64_t one = 1;

	__atomic_store_n(&nb->admin_up, up, __ATOMIC_RELEASE);
	return write(nb->admin_fd, &one, sizeof(one)) < 0 && errno != EAGAIN ?
		       -errno :
		       0;
}

int nic_backend_notify_fd(const struct nic_backend *nb)
{
	return nb->poll_fd;
}

/* Tell the model when what it shows its guest must change. */
static void nic_backend_show_link(struct nic_backend *nb)
{
	bool up = nic_backend_link_up(nb);

	if (up == nb->shown_up)
		return;
	nb->shown_up = up;
	nb->st.link_changes++;
	log_info(MOD, "%s: link %s%s", nb->cfg.port, up ? "up" : "down",
		 nic_backend_admin_up(nb) ? "" : " (set down by hand)");
	if (nb->ev->link_changed)
		nb->ev->link_changed(nb->opaque);
	if (up) {
		nic_backend_signal_rx(nb);
		nic_backend_signal_tx(nb);
	}
}

void nic_backend_poll(struct nic_backend *nb)
{
	uint64_t v;

	if (read(nb->admin_fd, &v, sizeof(v)) > 0)
		nic_backend_show_link(nb);
	nb->ops->poll(nb);
}

uint8_t *nic_backend_tx_alloc(struct nic_backend *nb, uint32_t len)
{
	uint8_t *p;

	if (len < NIC_FRAME_MIN || len > NIC_FRAME_MAX) {
		nb->st.tx_dropped++;
		return NULL;
	}
	if (!nic_backend_link_up(nb))
		return NULL;
	p = nb->ops->tx_alloc(nb, len);
	if (!p)
		nb->st.tx_full++;
	return p;
}

/* Offload metadata a frame of @len may carry given the negotiated @caps. */
static bool nic_offload_ok(uint32_t caps, uint32_t len,
			   const struct frame_offload *off)
{
	uint8_t gso = off->gso_type & (uint8_t)~FRAME_GSO_ECN;

	if (off->flags & ~(FRAME_F_NEEDS_CSUM | FRAME_F_DATA_VALID))
		return false;
	if (off->flags & FRAME_F_NEEDS_CSUM) {
		if (!(caps & NIC_OFF_CSUM) ||
		    (uint32_t)off->csum_start + off->csum_offset + 2 > len)
			return false;
	}
	if ((off->gso_type & FRAME_GSO_ECN) && !(caps & NIC_OFF_GSO_ECN))
		return false;
	switch (gso) {
	case FRAME_GSO_NONE:
		return !(off->gso_type & FRAME_GSO_ECN);
	case FRAME_GSO_TCPV4:
	case FRAME_GSO_TCPV6:
		if (!(caps & NIC_OFF_GSO_TCP))
			return false;
		break;
	case FRAME_GSO_UDP:
	case FRAME_GSO_UDP_L4:
		if (!(caps & NIC_OFF_GSO_UDP))
			return false;
		break;
	default:
		return false;
	}
	/* A GSO frame is segmented by someone: it needs sane sizes. */
	return off->gso_size && off->hdr_len && off->hdr_len < len &&
	       (off->flags & FRAME_F_NEEDS_CSUM);
}

int nic_backend_tx_commit(struct nic_backend *nb, uint32_t len,
			  const struct frame_offload *off)
{
	static const struct frame_offload none;

	if (!off)
		off = &none;
	if (!nic_offload_ok(nb->caps, len, off)) {
		/* The room stays unused: a slot not committed is reused. */
		nb->st.tx_dropped++;
		return -EINVAL;
	}
	nb->ops->tx_commit(nb, len, off);
	nb->st.tx_frames++;
	nb->st.tx_bytes += len;
	return 0;
}

void nic_backend_tx_flush(struct nic_backend *nb)
{
	nb->ops->tx_flush(nb);
}

int nic_backend_rx_next(struct nic_backend *nb, struct nic_frame *f)
{
	int ret;

	if (!nic_backend_link_up(nb))
		return 0;
	ret = nb->ops->rx_next(nb, f);
	if (ret > 0) {
		nb->st.rx_frames++;
		nb->st.rx_bytes += f->len;
	}
	return ret;
}

void nic_backend_rx_done(struct nic_backend *nb)
{
	nb->ops->rx_done(nb);
}

void nic_backend_rx_flush(struct nic_backend *nb)
{
	nb->ops->rx_flush(nb);
}

const struct nic_backend_stats *nic_backend_stats(const struct nic_backend *nb)
{
	return &nb->st;
}

const char *nic_backend_name(const struct nic_backend *nb)
{
	return nb->ops->name;
}

void nic_backend_set_rx_offload(struct nic_backend *nb, uint32_t bits)
{
	if (nb->ops->set_rx_offload)
		nb->ops->set_rx_offload(nb, bits & nb->caps);
}

int nic_backend_kernel_fd(struct nic_backend *nb)
{
	if (!nb->ops->kernel_fd)
		return -EOPNOTSUPP;
	return nb->ops->kernel_fd(nb);
}

void nic_backend_set_datapath(struct nic_backend *nb, const char *datapath)
{
	__atomic_store_n(&nb->datapath, datapath, __ATOMIC_RELEASE);
}

const char *nic_backend_datapath(const struct nic_backend *nb)
{
	return __atomic_load_n(&nb->datapath, __ATOMIC_ACQUIRE);
}

void nic_backend_set_link(struct nic_backend *nb, bool up)
{
	nb->link_up = up;
	nic_backend_show_link(nb);
}

void nic_backend_signal_rx(struct nic_backend *nb)
{
	if (nb->ev->rx_ready)
		nb->ev->rx_ready(nb->opaque);
}

void nic_backend_signal_tx(struct nic_backend *nb)
{
	if (nb->ev->tx_ready)
		nb->ev->tx_ready(nb->opaque);
}

int nic_backoff_init(struct nic_backoff *b)
{
	b->ms = NIC_BACKOFF_FIRST_MS;
	b->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	return b->fd < 0 ? -errno : 0;
}

void nic_backoff_close(struct nic_backoff *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
}

void nic_backoff_again(struct nic_backoff *b)
{
	struct itimerspec its = {
		.it_value.tv_sec = b->ms / 1000,
		.it_value.tv_nsec = (long)(b->ms % 1000) * 1000000,
	};

	timerfd_settime(b->fd, 0, &its, NULL);
	b->ms = b->ms * 2 > NIC_BACKOFF_MAX_MS ? NIC_BACKOFF_MAX_MS : b->ms * 2;
}

void nic_backoff_start(struct nic_backoff *b)
{
	b->ms = NIC_BACKOFF_FIRST_MS;
	nic_backoff_again(b);
}

bool nic_backoff_due(struct nic_backoff *b)
{
	uint64_t n;

	return read(b->fd, &n, sizeof(n)) == sizeof(n);
}
