/* SPDX-License-Identifier: MIT */
/* loom.h - the `loom` client: context, exit codes, shared helpers. */
#ifndef LOOM_CLI_LOOM_H
#define LOOM_CLI_LOOM_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Exit statuses; docs/cli.md lists them for users and scripts. */
enum loom_exit {
	LOOM_EXIT_OK = 0,
	LOOM_EXIT_NETD = 1,	   /* loom-netd answered with an error */
	LOOM_EXIT_USAGE = 2,	   /* bad command line or argument value */
	LOOM_EXIT_UNREACHABLE = 3, /* no loom-netd, or the connection broke */
	LOOM_EXIT_FILE = 4, /* the network file is invalid or unreadable */
};

/* Seconds to wait for a reply; creating TAPs in namespaces is not instant. */
enum { LOOM_REPLY_TIMEOUT_SECS = 60 };

/**
 * struct loom_ctx - what the global options set, and the connection.
 * @socket_opt: --socket PATH, or NULL.
 * @run_dir_opt: --run-dir DIR, or NULL.
 * @json: print the reply's result as JSON instead of tables.
 * @fd: connection to loom-netd, -1 until client_connect().
 */
struct loom_ctx {
	const char *socket_opt;
	const char *run_dir_opt;
	bool json;
	int fd;
	long long next_id;
	char socket_path[108];
};

/* A subcommand: argv[0] is its own name; returns a loom_exit value. */
struct loom_cmd {
	const char *name;
	int (*run)(struct loom_ctx *ctx, int argc, char **argv);
	const char *summary;
};

/**
 * client_call() - send one request to loom-netd and wait for its reply.
 * @cmd: command name ("net.list").
 * @args: request arguments, reference stolen; NULL for none.
 * @result: set to a new reference of "result" on success.
 *
 * Connects on first use. Prints a message for a person on any failure.
 * Return: LOOM_EXIT_OK, LOOM_EXIT_NETD (netd's error printed) or
 * LOOM_EXIT_UNREACHABLE.
 */
int client_call(struct loom_ctx *ctx, const char *cmd, json_t *args,
		json_t **result);

/**
 * client_call_fd() - client_call() with @fd passed along the request
 * (SCM_RIGHTS): capture.start hands netd the fd it writes to.
 */
int client_call_fd(struct loom_ctx *ctx, const char *cmd, json_t *args,
		   int fd, json_t **result);

/**
 * client_recv_event() - read one more message netd sends on this
 * connection (a capture's end event), waiting up to LOOM_REPLY_TIMEOUT_SECS.
 * Return: LOOM_EXIT_OK with *@event set, or LOOM_EXIT_UNREACHABLE.
 */
int client_recv_event(struct loom_ctx *ctx, json_t **event);

/* client_socket_path() - resolve the socket path into ctx->socket_path.
 * Return: 0, or -1 with a message printed. */
int client_socket_path(struct loom_ctx *ctx);

void client_close(struct loom_ctx *ctx);

/* Prints "loom: " + message to stderr. */
void loom_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* loom_err_quiet() - while on, loom_err() prints nothing (a lookup whose
 * failure only leaves a cell empty, as `loom vm list` asking netd). */
void loom_err_quiet(bool on);

/* Usage error: "loom: CMD: message" + a hint to --help. Return:
 * LOOM_EXIT_USAGE. */
int loom_usage_err(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints @result as indented JSON to stdout. Return: LOOM_EXIT_OK. */
int loom_print_json(const json_t *result);

/* Strict decimal parse; Return: 0 or -1. */
int loom_parse_u32(const char *s, long long *out);

/* Field path of a netconf error ("ports[0].vlan") as the flag ("--vlan"). */
void loom_path_to_flag(const char *path, char *buf, size_t len);

/* A simple text table: columns sized to their widest cell. */
struct table {
	size_t ncols, nrows, cap;
	char **cells;	 /* nrows * ncols, row-major, strdup'ed */
	bool skip_first; /* print without the first column */
};

void table_init(struct table *t, size_t ncols, ...);
/* Adds a row of @ncols cells (NULL prints "-"). */
void table_add(struct table *t, ...);
void table_print(struct table *t);
void table_free(struct table *t);

/* JSON helpers that tolerate missing fields. */
const char *jstr(const json_t *o, const char *key); /* NULL if absent */
/* json_make_printable - control bytes in every string of @v become '?',
 * before a reply from netd or a VMM is printed for a person. */
void json_make_printable(json_t *v);
/* Integer as text, "-" if absent. @buf holds 24 bytes. */
const char *jint(const json_t *o, const char *key, char *buf);

/* Reports a getopt_long() failure (@c is '?' or ':', optstring starts with
 * ':'). Return: LOOM_EXIT_USAGE. */
int loom_opt_err(const char *cmd, char **argv, int c);

/*
 * loom_parse_simple() - the options of a subcommand that has only --json
 * and -h/--help, then between @min and @max positionals (fewer: "missing
 * @missing"), from optind on. Return: -1 to go on, else the exit status
 * (--help printed @usage, or a usage error).
 */
int loom_parse_simple(struct loom_ctx *ctx, const char *cmd,
		      const char *usage, int argc, char **argv, int min,
		      int max, const char *missing);

/* Prints a table of port status objects (net show, port list). */
void loom_print_ports(const json_t *ports, bool with_net);

/* Command groups. */
int cmd_net(struct loom_ctx *ctx, int argc, char **argv);
int cmd_port(struct loom_ctx *ctx, int argc, char **argv);
int cmd_fdb(struct loom_ctx *ctx, int argc, char **argv);
int cmd_status(struct loom_ctx *ctx, int argc, char **argv);
int cmd_vm(struct loom_ctx *ctx, int argc, char **argv);
int cmd_forward(struct loom_ctx *ctx, int argc, char **argv);
int cmd_lease(struct loom_ctx *ctx, int argc, char **argv);
int cmd_capture(struct loom_ctx *ctx, int argc, char **argv);

/* Dispatch argv[1] among @cmds; prints @usage for --help. */
int loom_dispatch(struct loom_ctx *ctx, const char *group,
		  const struct loom_cmd *cmds, const char *usage, int argc,
		  char **argv);

#endif
