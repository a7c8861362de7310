/* SPDX-License-Identifier: MIT */
/* slirp_port.c - a network's NAT uplink (backends/slirp.c) as a port of its switch. */
#include <errno.h>

#include "backends/slirp.h"
#include "switch/switch.h"

/*
 * The port does not own the uplink: netd's network does (forwards live on
 * it, and the gateway port may front it instead). open() takes the
 * struct slirp_uplink * itself as @args; close() leaves it running.
 */
static int slirp_port_open(struct port *port, const void *args)
{
	if (!args)
		return -EINVAL;
	port->priv = (void *)args;
	return 0;
}

static int slirp_port_recv(struct port *port, struct frame_batch *batch)
{
	return slirp_uplink_output_peek(port->priv, batch);
}

static void slirp_port_recv_done(struct port *port, struct frame_batch *batch)
{
	slirp_uplink_output_release(port->priv);
}

static int slirp_port_send(struct port *port, struct frame_batch *batch)
{
	int sent = 0;

	for (uint32_t i = 0; i < batch->count; i++)
		if (!slirp_uplink_input(port->priv, &batch->f[i]))
			sent++;
	return sent;
}

/* The outbound FIFO's eventfd: readable exactly while frames wait. */
static int slirp_port_poll_fd(struct port *port)
{
	return slirp_uplink_output_fd(port->priv);
}

static void slirp_port_close(struct port *port)
{
	port->priv = NULL;
}

/* Its poll fd is level-triggered (the FIFO's eventfd); takes no GSO. */
const struct port_ops slirp_port_ops = {
	.name = "slirp",
	/* The outbound FIFO's eventfd is readable while frames wait; GSO
	 * frames are completed and handed to libslirp whole. */
	.caps = PORT_CAP_POLL_LEVEL | PORT_CAP_TAKES_GSO,
	.open = slirp_port_open,
	.recv = slirp_port_recv,
	.recv_done = slirp_port_recv_done,
	.send = slirp_port_send,
	.poll_fd = slirp_port_poll_fd,
	.close = slirp_port_close,
};
