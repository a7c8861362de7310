/* SPDX-License-Identifier: MIT */
/* vmm_control.c - fuzz loom-vmm's control socket: a client's byte stream through line framing and the JSON commands. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>

/*
 * The framing (client_cb) is static in vmm/control.c: the file is compiled
 * into this target so the real code runs unchanged (the archive's copy is
 * then never pulled in).
 */
#include "vmm/control.c"
#include "tests/fuzz/fd_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: byte 0 picks how the stream is cut into the chunks the socket
 * delivers (1 + byte 0 bytes each; 0: all at once); the rest is what the
 * client sends. One connection per input, on a socketpair whose other end
 * is the client; the VM is KVM-less with a PCI bus (status lists devices).
 *
 * Checked: every reply is one line holding a JSON object with a boolean
 * "ok"; nothing follows a "line too long" reply; the stream ends with a
 * cut-off line only when the VMM closed the connection first (a client
 * that does not read its replies); a closed client is closed for good.
 */
enum { MAX_CHUNKS = 4096 };

/* Read what the VMM sent and check every complete line. */
static void check_replies(int fd, bool *closed_reply, bool cut_ok)
{
	static char buf[CONTROL_LINE_MAX * 4];
	static size_t have;
	ssize_t n;
	char *nl;

	do {
		n = recv(fd, buf + have, sizeof(buf) - have, MSG_DONTWAIT);
		if (n > 0)
			have += (size_t)n;
		while ((nl = memchr(buf, '\n', have))) {
			json_t *rep, *ok;

			if (*closed_reply)
				abort();	/* something after the last words */
			rep = json_loadb(buf, (size_t)(nl - buf), 0, NULL);
			ok = json_object_get(rep, "ok");
			if (!json_is_object(rep) || !json_is_boolean(ok))
				abort();
			if (json_is_false(ok) &&
			    !json_is_string(json_object_get(rep, "error")))
				abort();
			if (json_is_false(ok) &&
			    !strcmp(json_string_value(
					    json_object_get(rep, "error")),
				    "line too long"))
				*closed_reply = true;
			json_decref(rep);
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have);
		}
		if (have == sizeof(buf))
			abort();	/* a reply line this long: no */
	} while (n > 0);
	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		/* EOF in the middle of a line: only where the VMM closed a
		 * client that did not read its replies. */
		if (have && !cut_ok)
			abort();
		have = 0;
	}
}

/* What the VM loop does while the socket is readable (level-triggered). */
static void serve(struct control_client *c)
{
	struct pollfd pfd = { .events = POLLIN };
	unsigned int k;

	for (k = 0; k < 64 && c->fd >= 0; k++) {
		pfd.fd = c->fd;
		if (poll(&pfd, 1, 0) != 1)
			return;
		client_cb(c, c->fd, EPOLLIN);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct control_info info = {
		.name = "fuzz", .kernel = "/boot/vmlinuz", .console = "none",
		.mem_bytes = 64u << 20,
	};
	struct control_client c;
	struct pci_bus bus;
	struct vm vm;
	size_t chunk, off = 0;
	unsigned int rounds = 0;
	bool closed_reply = false, closed_early = false;
	int sv[2];

	if (size < 1)
		return 0;
	log_max_level = LOG_ERR;
	if (vm_init_nokvm(&vm, 0) || pci_bus_init(&bus, &vm))
		abort();
	vm.pci = &bus;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	ctl.vm = &vm;
	ctl.info = &info;
	c.fd = sv[0];
	c.len = 0;
	chunk = data[0] ? (size_t)data[0] + 1 : size;
	data++;
	size--;
	while (off < size && c.fd >= 0 && rounds++ < MAX_CHUNKS) {
		size_t n = size - off < chunk ? size - off : chunk;

		if (send(sv[1], data + off, n, MSG_DONTWAIT) != (ssize_t)n)
			abort();
		off += n;
		serve(&c);
		closed_early = c.fd < 0;
		check_replies(sv[1], &closed_reply, closed_early);
	}
	/* The client hangs up: whatever is buffered without a newline is
	 * dropped, and the connection closes. */
	shutdown(sv[1], SHUT_WR);
	serve(&c);
	if (c.fd >= 0)
		abort();
	check_replies(sv[1], &closed_reply, closed_early);
	close(sv[1]);
	pci_bus_destroy(&bus);
	vm_destroy(&vm);
	fd_check_no_leak();
	return 0;
}
