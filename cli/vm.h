/* SPDX-License-Identifier: MIT */
/* vm.h - what the `loom vm` files share: VM control sockets (vm_ctl.c), `loom vm run` (cmd_vm_run.c). */
#ifndef LOOM_CLI_VM_H
#define LOOM_CLI_VM_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cli/loom.h"

/*
 * loom-vmm serves one socket per VM, RUN_DIR/vm/NAME.sock, speaking
 * newline-delimited JSON: {"cmd":"status"} -> {"ok":true,...} or
 * {"ok":false,"error":"..."} (docs/vmm-control.md). RUN_DIR follows the same
 * rules as for loom-netd, plus loom-vmm's last resort /tmp/loom-UID.
 */
enum {
	VM_REPLY_MAX = 64 * 1024,
	VM_TIMEOUT_MS = 3000,
	VM_START_TIMEOUT_MS = 10000,
	VM_NAME_MAX = 64,
};

/* RUN_DIR/vm, as loom-vmm's control_default_dir() places it. Return: 0/-1
 * (a message printed). */
int vm_dir(const struct loom_ctx *ctx, char *buf, size_t len);
/* Creates RUN_DIR (checked as loom-netd does) and RUN_DIR/vm (0700). */
int vm_dir_prepare(const struct loom_ctx *ctx, const char *dir);
/* A VM name: [A-Za-z0-9_.-], 1..VM_NAME_MAX, not starting with '.'. */
bool vm_name_ok(const char *name);
/* RUN_DIR/vm/NAME@suffix into @buf. Return: 0/-1 (a message printed). */
int vm_path(const struct loom_ctx *ctx, const char *name, const char *suffix,
	    char *buf, size_t len);
/* CLOCK_MONOTONIC in ms. */
long long vm_ms_now(void);
/* Connects to a Unix stream socket. Return: fd or -errno. */
int unix_connect(const char *path);
/* One request object @json (without its newline) on the VM socket @path,
 * its one-line reply. Return: 0 with *@reply set, or -errno (-EPROTO). */
int vm_request_json(const char *path, const char *json, json_t **reply);
/* vm_request_json() of {"cmd": @cmd}. */
int vm_request(const char *path, const char *cmd, json_t **reply);
/*
 * vm_call() - @cmd (a command name, or a whole request "{...}") to VM
 * @name, with messages for a person; "ok" is removed from *@reply.
 * Return: a loom_exit value.
 */
int vm_call(const struct loom_ctx *ctx, const char *name, const char *cmd,
	    json_t **reply);
/* Parses --json/--help and exactly @npos positionals; -1 to go on. */
int vm_parse(struct loom_ctx *ctx, const char *cmd, const char *usage,
	     int argc, char **argv, int npos);

/* `loom vm run` (cmd_vm_run.c). */
int vm_run(struct loom_ctx *ctx, int argc, char **argv);

#endif
