/* SPDX-License-Identifier: MIT */
/* gateway.c - the gateway port backend: port_ops over services/gateway.c's queues. */
#include "backends/gateway.h"

#include "services/gateway.h"
#include "switch/switch.h"

static int gw_open(struct port *port, const void *args)
{
	port->priv = (void *)args;
	return 0;
}

static int gw_recv(struct port *port, struct frame_batch *batch)
{
	return gateway_port_recv(port->priv, batch);
}

static void gw_recv_done(struct port *port, struct frame_batch *batch)
{
	gateway_port_recv_done(port->priv, batch);
}

static int gw_send(struct port *port, struct frame_batch *batch)
{
	return gateway_port_send(port->priv, batch);
}

static int gw_poll_fd(struct port *port)
{
	return gateway_port_fd(port->priv);
}

static void gw_close(struct port *port)
{
	port->priv = NULL; /* the owner frees the gateway */
}

const struct port_ops gateway_port_ops = {
	.name = "gateway",
	/* Its poll fd is an epoll set of level-triggered eventfds; partial
	 * checksums are completed, GSO frames passed on to the uplink. */
	.caps = PORT_CAP_POLL_LEVEL | PORT_CAP_TAKES_GSO,
	.open = gw_open,
	.recv = gw_recv,
	.recv_done = gw_recv_done,
	.send = gw_send,
	.poll_fd = gw_poll_fd,
	.close = gw_close,
};
