/* SPDX-License-Identifier: MIT */
/* control.c - newline-delimited JSON control socket of one VM. */
#include "vmm/control.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/rundir.h"
#include "vmm/hw/serial.h"
#include "vmm/net/nic.h"
#include "vmm/pci.h"
#include "vmm/vm.h"

LOG_MODULE("vmm-control");

struct control_client {
	int fd;
	char buf[CONTROL_LINE_MAX];
	unsigned int len;
};

static struct {
	struct vm *vm;
	const struct control_info *info;
	int listen_fd;
	char path[108];
	struct control_client clients[CONTROL_MAX_CLIENTS];
} ctl = { .listen_fd = -1 };

int control_default_dir(char *buf, unsigned long len)
{
	struct rundir run;
	char msg[512];
	int ret;

	ret = rundir_resolve(NULL, &run);
	if (ret)
		return ret;
	/* The run dir is checked (and created) here, where its rule lives;
	 * control_init() creates the vm/ directory below it. */
	ret = rundir_prepare(&run, msg, sizeof(msg));
	if (ret) {
		log_err(MOD, "%s", msg);
		return ret;
	}
	return rundir_join(&run, "vm", buf, len);
}

static json_t *control_status(struct vm *vm, const struct control_info *info)
{
	json_t *o, *devs;
	unsigned int s;
	const char *state = vm->exit_code >= 0 ? "stopping" :
			    vm->paused	       ? "paused" :
						 "running";

	o = json_pack("{s:b, s:s, s:s, s:I, s:f, s:I, s:i}", "ok", 1,
		      "name", info->name ? info->name : "", "state", state,
		      "pid", (json_int_t)getpid(), "uptime_s",
		      (double)(vm_now_ns() - vm->start_ns) / 1e9, "mem_bytes",
		      (json_int_t)info->mem_bytes, "cpus", (int)vm->nr_vcpus);
	if (!o)
		return NULL;
	if (info->kernel)
		json_object_set_new(o, "kernel", json_string(info->kernel));
	if (info->console)
		json_object_set_new(o, "console", json_string(info->console));
	devs = json_array();
	for (s = 0; vm->pci && s < PCI_MAX_DEVS; s++) {
		struct pci_dev *d = vm->pci->devs[s];
		char id[16];

		if (!d)
			continue;
		snprintf(id, sizeof(id), "%04x:%04x",
			 pci_dev_cfg_read(d, PCI_CFG_VENDOR_ID, 2),
			 pci_dev_cfg_read(d, PCI_CFG_DEVICE_ID, 2));
		json_array_append_new(
			devs, json_pack("{s:i, s:s, s:s, s:b, s:s}", "slot",
					(int)s, "name", d->name ? d->name : "",
					"id", id, "broken", d->broken,
					"reason", d->broken_reason));
	}
	json_object_set_new(o, "pci", devs);
	json_object_set_new(o, "nics", nic_list_status());
	return o;
}

static json_t *control_counters(struct vm *vm, const struct control_info *info)
{
	const struct vm_counters *c = &vm->counters;
	struct serial *s = info->serial;

	return json_pack("{s:b, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
			 "s:I, s:I, s:I}}",
			 "ok", 1, "counters",
			 "exits_io", (json_int_t)c->exits_io,
			 "io_coalesced", (json_int_t)c->coalesced,
			 "exits_mmio", (json_int_t)c->exits_mmio,
			 "exits_hlt", (json_int_t)c->exits_hlt,
			 "exits_other", (json_int_t)c->exits_other,
			 "io_unhandled", (json_int_t)c->io_unhandled,
			 "irqs_injected", (json_int_t)c->irqs_injected,
			 "pci_bad_accesses",
			 (json_int_t)(vm->pci ? vm->pci->bad_accesses : 0),
			 "serial_tx_bytes", (json_int_t)(s ? s->tx_bytes : 0),
			 "serial_rx_bytes", (json_int_t)(s ? s->rx_bytes : 0),
			 "serial_tx_dropped",
			 (json_int_t)(s ? s->tx_dropped : 0));
}

static json_t *reply_error(const char *msg)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

/* {"cmd":"link","port":"P","up":BOOL}: a NIC's carrier by hand. */
static json_t *control_link(json_t *req)
{
	const char *port = NULL;
	int up = 0, ret;

	if (json_unpack(req, "{s:s, s:b}", "port", &port, "up", &up))
		return reply_error("link wants \"port\" (a string) and \"up\" "
				   "(true or false)");
	ret = nic_list_set_admin(port, up);
	if (ret == -ENOENT)
		return reply_error("no NIC with that port name");
	if (ret)
		return reply_error(strerror(-ret));
	return json_pack("{s:b, s:s, s:s}", "ok", 1, "port", port, "link",
			 up ? "up" : "down");
}

char *control_handle_line(struct vm *vm, const struct control_info *info,
			  const char *line)
{
	json_t *req, *rep;
	const char *cmd = NULL;
	json_error_t jerr;
	char *out;

	req = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	if (!req || !json_is_object(req)) {
		rep = reply_error("request is not a JSON object");
	} else if (json_unpack(req, "{s:s}", "cmd", &cmd)) {
		rep = reply_error("missing string member \"cmd\"");
	} else if (!strcmp(cmd, "status")) {
		rep = control_status(vm, info);
	} else if (!strcmp(cmd, "counters")) {
		rep = control_counters(vm, info);
	} else if (!strcmp(cmd, "stop")) {
		vm_request_exit(vm, VM_EXIT_STOPPED);
		rep = json_pack("{s:b}", "ok", 1);
	} else if (!strcmp(cmd, "pause")) {
		vm_pause(vm, true);
		rep = json_pack("{s:b, s:s}", "ok", 1, "state", "paused");
	} else if (!strcmp(cmd, "resume")) {
		vm_pause(vm, false);
		rep = json_pack("{s:b, s:s}", "ok", 1, "state", "running");
	} else if (!strcmp(cmd, "link")) {
		rep = control_link(req);
	} else {
		rep = reply_error("unknown cmd (status, counters, stop, pause, "
				  "resume, link)");
	}
	json_decref(req);
	if (!rep)
		return NULL;
	out = json_dumps(rep, JSON_COMPACT);
	json_decref(rep);
	return out;
}

static void client_close(struct vm *vm, struct control_client *c)
{
	vm_loop_del(vm, c->fd);
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

/*
 * Send one reply line whole. Replies are small, but a client that sends
 * requests without reading the replies fills the socket: the line that
 * does not fit may go out in part, and the next one would then be glued
 * to it. The caller closes such a client instead, so the stream never
 * carries anything but whole lines (a cut-off last line, then EOF).
 * Return: true when the whole line went out.
 */
static bool client_send(int fd, const char *s)
{
	size_t len = strlen(s), off = 0;
	char *line = malloc(len + 1);
	ssize_t n;

	if (!line)
		return false;
	memcpy(line, s, len);
	line[len++] = '\n';
	while (off < len) {
		n = send(fd, line + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	free(line);
	return off == len;
}

static void client_cb(void *opaque, int fd, uint32_t events)
{
	struct control_client *c = opaque;
	ssize_t n;
	char *nl;

	n = recv(fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len,
		 MSG_DONTWAIT);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		client_close(ctl.vm, c);
		return;
	}
	c->len += (unsigned int)n;
	c->buf[c->len] = '\0';
	while ((nl = memchr(c->buf, '\n', c->len))) {
		unsigned int used = (unsigned int)(nl - c->buf) + 1;
		char *rep;

		*nl = '\0';
		rep = control_handle_line(ctl.vm, ctl.info, c->buf);
		if (!rep || !client_send(fd, rep)) {
			/* A reply lost: the client's next ones would not match. */
			free(rep);
			client_close(ctl.vm, c);
			return;
		}
		free(rep);
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
		c->buf[c->len] = '\0';
	}
	if (c->len >= sizeof(c->buf) - 1) {
		client_send(fd, "{\"ok\":false,\"error\":\"line too long\"}");
		client_close(ctl.vm, c);
	}
}

static void accept_cb(void *opaque, int fd, uint32_t events)
{
	unsigned int i;
	int c;

	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0)
		return;
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		if (ctl.clients[i].fd >= 0)
			continue;
		ctl.clients[i].fd = c;
		ctl.clients[i].len = 0;
		if (vm_loop_add(ctl.vm, c, client_cb, &ctl.clients[i])) {
			close(c);
			ctl.clients[i].fd = -1;
		}
		return;
	}
	client_send(c, "{\"ok\":false,\"error\":\"too many clients\"}");
	close(c);
}

static int mkdir_p(const char *dir)
{
	char tmp[108];
	char *p;

	if (snprintf(tmp, sizeof(tmp), "%s", dir) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int control_init(struct vm *vm, const char *path,
		 const struct control_info *info)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[108];
	char *slash;
	unsigned int i;
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		ret = mkdir_p(dir);
		if (ret)
			return ret;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A socket left by a dead VMM is replaced; a live one is not. */
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 8)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ctl.vm = vm;
	ctl.info = info;
	ctl.listen_fd = fd;
	snprintf(ctl.path, sizeof(ctl.path), "%s", path);
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		ctl.clients[i].fd = -1;
	return vm_loop_add(vm, fd, accept_cb, NULL);
}

void control_destroy(void)
{
	unsigned int i;

	if (ctl.listen_fd < 0)
		return;
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl.clients[i].fd >= 0)
			client_close(ctl.vm, &ctl.clients[i]);
	vm_loop_del(ctl.vm, ctl.listen_fd);
	close(ctl.listen_fd);
	unlink(ctl.path);
	ctl.listen_fd = -1;
}
