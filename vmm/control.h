/* SPDX-License-Identifier: MIT */
/* control.h - the per-VM JSON control socket (docs/vmm-control.md). */
#ifndef LOOM_VMM_CONTROL_H
#define LOOM_VMM_CONTROL_H

#include <stdint.h>

struct vm;
struct serial;

enum {
	CONTROL_MAX_CLIENTS = 8,
	CONTROL_LINE_MAX = 4096,	/* longer request lines: error, close */
};

/**
 * struct control_info - what status reports besides the VM's own state.
 */
struct control_info {
	const char *name;
	const char *kernel;
	const char *console;
	uint64_t mem_bytes;
	struct serial *serial;
};

/**
 * control_default_dir() - directory of VM sockets: RUN_DIR/vm, RUN_DIR
 * placed by common/rundir.h's rule (the one loom-netd and `loom` use), and
 * created and checked here (an unsafe /tmp/loom-UID is refused, logged).
 * @buf: output.
 * @len: its size.
 *
 * Return: 0, -ENAMETOOLONG, or the error of rundir_prepare().
 */
int control_default_dir(char *buf, unsigned long len);

/**
 * control_init() - listen on @path and serve requests from the VM loop.
 * @vm: the VM.
 * @path: socket path (parent directories are created, mode 0700).
 * @info: kept by pointer; must outlive the VM.
 *
 * Return: 0 or negative errno.
 */
int control_init(struct vm *vm, const char *path,
		 const struct control_info *info);

/**
 * control_handle_line() - answer one request line (exposed for tests).
 * @vm: the VM.
 * @info: as for control_init().
 * @line: NUL-terminated JSON request.
 *
 * Return: malloc'd NUL-terminated JSON reply (no newline); NULL on ENOMEM.
 */
char *control_handle_line(struct vm *vm, const struct control_info *info,
			  const char *line);

/**
 * control_destroy() - close clients and the listener, unlink the socket.
 */
void control_destroy(void);

#endif
