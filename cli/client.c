/* SPDX-License-Identifier: MIT */
/* client.c - the `loom` side of the control protocol, plus output helpers. */
#include "cli/loom.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/rundir.h"
#include "loom/control.h"

/*
 * Strings from netd, a VMM or a file reach the terminal: control bytes
 * (escape sequences could rewrite the screen) become '?'. @keep_lines
 * keeps newlines and tabs, for multi-line messages.
 */
static void make_printable(char *s, bool keep_lines)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch < 0x20 || ch == 0x7f) &&
		    !(keep_lines && (ch == '\n' || ch == '\t')))
			*s = '?';
	}
}

static void make_printable_at(json_t *v, int depth)
{
	const char *key;
	json_t *item;
	size_t i;

	/* Bounded like the parser's nesting; deeper values are never printed
	 * by the tables anyway. */
	if (!v || depth > 64)
		return;
	if (json_is_string(v)) {
		/* A string with a NUL inside is shown up to the NUL. */
		char *copy = strdup(json_string_value(v));

		if (copy) {
			make_printable(copy, false);
			json_string_set(v, copy);
			free(copy);
		}
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, item)
			make_printable_at(item, depth + 1);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			make_printable_at(item, depth + 1);
	}
}

void json_make_printable(json_t *v)
{
	make_printable_at(v, 0);
}

static bool loom_err_off;

void loom_err_quiet(bool on)
{
	loom_err_off = on;
}

void loom_err(const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	if (loom_err_off)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	make_printable(msg, true);
	fprintf(stderr, "loom: %s\n", msg);
}

int loom_usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "loom: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'loom %s --help'.\n", cmd);
	return LOOM_EXIT_USAGE;
}

int loom_print_json(const json_t *result)
{
	json_dumpf(result, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	return LOOM_EXIT_OK;
}

int loom_parse_u32(const char *s, long long *out)
{
	long long v = 0;
	size_t i, len = strlen(s);

	if (len == 0 || len > 10)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*out = v;
	return 0;
}

void loom_path_to_flag(const char *path, char *buf, size_t len)
{
	const char *field = strrchr(path, '.');
	size_t i;

	field = field ? field + 1 : path;
	snprintf(buf, len, "--%s", field);
	for (i = 2; buf[i]; i++) {
		if (buf[i] == '_')
			buf[i] = '-';
		if (buf[i] == '[') {
			buf[i] = '\0';
			break;
		}
	}
}

/* ---------------------------------------------------------------------- */
/* Connection */

int client_socket_path(struct loom_ctx *ctx)
{
	struct rundir run;
	char msg[512];
	int n;

	if (ctx->socket_opt) {
		n = snprintf(ctx->socket_path, sizeof(ctx->socket_path), "%s",
			     ctx->socket_opt);
		goto check;
	}
	/* The rule loom-netd places its socket by (common/rundir.h). */
	if (rundir_resolve(ctx->run_dir_opt, &run) < 0) {
		loom_err("run dir name too long (at most %d bytes)",
			 RUNDIR_PATH_MAX - 1);
		return -1;
	}
	if (rundir_check(&run, msg, sizeof(msg)) < 0) {
		loom_err("%s", msg);
		return -1;
	}
	n = rundir_join(&run, LOOM_CONTROL_SOCKET, ctx->socket_path,
			sizeof(ctx->socket_path))
		? -1
		: (int)strlen(ctx->socket_path);
check:
	if (n < 0 || (size_t)n >= sizeof(ctx->socket_path)) {
		loom_err("socket path too long (at most %zu bytes)",
			 sizeof(ctx->socket_path) - 1);
		return -1;
	}
	return 0;
}

static int client_connect(struct loom_ctx *ctx)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *hint;
	int fd, e;

	if (ctx->fd >= 0)
		return 0;
	if (client_socket_path(ctx))
		return -1;
	memcpy(sa.sun_path, ctx->socket_path, strlen(ctx->socket_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		loom_err("socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		close(fd);
		if (e == EACCES || e == EPERM)
			hint = "run as root or as the user running loom-netd";
		else
			hint = "is loom-netd running?";
		loom_err("cannot reach loom-netd at %s: %s (%s)",
			 ctx->socket_path, strerror(e), hint);
		return -1;
	}
	ctx->fd = fd;
	return 0;
}

void client_close(struct loom_ctx *ctx)
{
	if (ctx->fd >= 0)
		close(ctx->fd);
	ctx->fd = -1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads exactly @len bytes before @deadline; Return: 0, or -errno. */
static int read_full(int fd, void *buf, size_t len, long long deadline)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	size_t got = 0;
	long long left;
	ssize_t n;

	while (got < len) {
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		got += (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = send(fd, (const char *)buf + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

/* An fd to send along with the next request (client_call_fd), or -1. */
static int client_pass_fd = -1;

/* Sends @len bytes of @buf with @fd attached (SCM_RIGHTS). Return: 0 or -errno. */
static int send_with_fd(int sock, const void *buf, size_t len, int fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec iov = {(void *)buf, len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cm.b, .msg_controllen = sizeof(cm.b)};
	struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
	ssize_t n;

	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : write_full(sock, (const char *)buf + n,
						  len - (size_t)n);
}

/* Sends one framed request. Return: 0, or a loom_exit value. */
static int client_send(struct loom_ctx *ctx, const char *cmd, json_t *args,
		       long long id)
{
	json_t *req;
	char *body;
	size_t len;
	uint8_t hdr[LOOM_CONTROL_HDR_LEN];
	int rc;

	req = json_pack("{s:I, s:s}", "id", (json_int_t)id, "cmd", cmd);
	if (!req || (args && json_object_set(req, "args", args))) {
		json_decref(req);
		loom_err("out of memory");
		return LOOM_EXIT_NETD;
	}
	body = json_dumps(req, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(req);
	if (!body) {
		loom_err("out of memory");
		return LOOM_EXIT_NETD;
	}
	len = strlen(body);
	if (len > LOOM_CONTROL_MSG_MAX) {
		free(body);
		loom_err("request too large for loom-netd: %zu bytes, at most "
			 "%d (split the file into several)",
			 len, LOOM_CONTROL_MSG_MAX);
		return LOOM_EXIT_USAGE;
	}
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
	rc = client_pass_fd >= 0 ?
		     send_with_fd(ctx->fd, hdr, sizeof(hdr), client_pass_fd) :
		     write_full(ctx->fd, hdr, sizeof(hdr));
	if (!rc)
		rc = write_full(ctx->fd, body, len);
	free(body);
	if (rc) {
		loom_err("lost the connection to loom-netd at %s: %s",
			 ctx->socket_path, strerror(-rc));
		return LOOM_EXIT_UNREACHABLE;
	}
	return 0;
}

/* Receives one framed reply into *out. Return: 0, or a loom_exit value. */
static int client_recv(struct loom_ctx *ctx, json_t **out)
{
	long long deadline = now_ms() + LOOM_REPLY_TIMEOUT_SECS * 1000LL;
	uint8_t hdr[LOOM_CONTROL_HDR_LEN];
	json_error_t jerr;
	uint32_t len;
	char *body;
	int rc;

	rc = read_full(ctx->fd, hdr, sizeof(hdr), deadline);
	if (rc)
		goto io_err;
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	      (uint32_t)hdr[2] << 8 | hdr[3];
	if (len == 0 || len > LOOM_CONTROL_REPLY_MAX) {
		loom_err("loom-netd at %s sent a malformed reply (length %u)",
			 ctx->socket_path, len);
		return LOOM_EXIT_UNREACHABLE;
	}
	body = malloc(len);
	if (!body) {
		loom_err("out of memory for a %u-byte reply", len);
		return LOOM_EXIT_NETD;
	}
	rc = read_full(ctx->fd, body, len, deadline);
	if (rc) {
		free(body);
		goto io_err;
	}
	*out = json_loadb(body, len, 0, &jerr);
	free(body);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		loom_err("loom-netd at %s sent a reply that is not a JSON "
			 "object: %s",
			 ctx->socket_path, jerr.text);
		return LOOM_EXIT_UNREACHABLE;
	}
	return 0;
io_err:
	if (rc == -ETIMEDOUT)
		loom_err("no reply from loom-netd at %s within %d s",
			 ctx->socket_path, LOOM_REPLY_TIMEOUT_SECS);
	else if (rc == -ECONNRESET)
		loom_err(
		    "loom-netd at %s closed the connection without a reply",
		    ctx->socket_path);
	else
		loom_err("lost the connection to loom-netd at %s: %s",
			 ctx->socket_path, strerror(-rc));
	return LOOM_EXIT_UNREACHABLE;
}

/* Prints netd's error reply for a person (and, with --json, the error
 * object on stdout for scripts). Return: the exit status. */
static int client_print_error(const struct loom_ctx *ctx, const char *cmd,
			      const json_t *reply)
{
	const json_t *e = json_object_get(reply, "error");
	const char *code = jstr(e, "code"), *msg = jstr(e, "message");

	if (!code)
		code = "EFAULT";
	if (!msg || !msg[0])
		msg = "unspecified error";
	if (!strcmp(code, LOOM_ERR_NOSYS))
		loom_err("this loom-netd does not know the command '%s' (is it "
			 "older than this loom?): %s",
			 cmd, msg);
	else if (!strcmp(code, LOOM_ERR_PERM) &&
		 json_is_null(json_object_get(reply, "id")))
		loom_err("loom-netd refused this connection: %s (run as root "
			 "or as the user running loom-netd)",
			 msg);
	else
		loom_err("%s (%s)", msg, code);
	if (ctx->json) {
		json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code,
				      "message", msg);

		if (o) {
			json_dumpf(o, stdout, JSON_INDENT(2));
			fputc('\n', stdout);
			json_decref(o);
		}
	}
	return LOOM_EXIT_NETD;
}

int client_call(struct loom_ctx *ctx, const char *cmd, json_t *args,
		json_t **result)
{
	json_t *reply = NULL, *idv, *res;
	long long id = ++ctx->next_id;
	int rc;

	*result = NULL;
	if (client_connect(ctx)) {
		json_decref(args);
		return LOOM_EXIT_UNREACHABLE;
	}
	rc = client_send(ctx, cmd, args, id);
	json_decref(args);
	if (rc)
		return rc;
	rc = client_recv(ctx, &reply);
	if (rc)
		return rc;
	if (!ctx->json)
		json_make_printable(reply);
	idv = json_object_get(reply, "id");
	if (json_is_true(json_object_get(reply, "ok"))) {
		if (!json_is_integer(idv) || json_integer_value(idv) != id) {
			loom_err(
			    "loom-netd answered request %lld with id %s", id,
			    json_is_integer(idv) ? "of another" : "missing");
			json_decref(reply);
			return LOOM_EXIT_UNREACHABLE;
		}
		res = json_object_get(reply, "result");
		*result = res ? json_incref(res) : json_object();
		json_decref(reply);
		return LOOM_EXIT_OK;
	}
	rc = client_print_error(ctx, cmd, reply);
	json_decref(reply);
	return rc;
}

int client_call_fd(struct loom_ctx *ctx, const char *cmd, json_t *args,
		   int fd, json_t **result)
{
	int rc;

	client_pass_fd = fd;
	rc = client_call(ctx, cmd, args, result);
	client_pass_fd = -1;
	return rc;
}

int client_recv_event(struct loom_ctx *ctx, json_t **event)
{
	int rc = client_recv(ctx, event);

	if (!rc && !ctx->json)
		json_make_printable(*event);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Output helpers */

const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

const char *jint(const json_t *o, const char *key, char *buf)
{
	const json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		snprintf(buf, 24, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, 24, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, 24, "%s", json_is_true(v) ? "yes" : "no");
	else
		snprintf(buf, 24, "-");
	return buf;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "-");

	if (!d) {
		loom_err("out of memory");
		exit(LOOM_EXIT_NETD);
	}
	make_printable(d, false);
	return d;
}

void table_init(struct table *t, size_t ncols, ...)
{
	va_list ap;
	size_t i;

	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->cap = 16;
	t->cells = calloc(t->cap * ncols, sizeof(*t->cells));
	if (!t->cells) {
		loom_err("out of memory");
		exit(LOOM_EXIT_NETD);
	}
	va_start(ap, ncols);
	for (i = 0; i < ncols; i++)
		t->cells[i] = xstrdup(va_arg(ap, const char *));
	va_end(ap);
	t->nrows = 1;
}

void table_add(struct table *t, ...)
{
	va_list ap;
	size_t i;
	char **n;

	if (t->nrows == t->cap) {
		n = realloc(t->cells, t->cap * 2 * t->ncols * sizeof(*n));
		if (!n) {
			loom_err("out of memory");
			exit(LOOM_EXIT_NETD);
		}
		t->cells = n;
		t->cap *= 2;
	}
	va_start(ap, t);
	for (i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] =
		    xstrdup(va_arg(ap, const char *));
	va_end(ap);
	t->nrows++;
}

void table_print(struct table *t)
{
	size_t r, c, w[16] = {0}, len;

	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols && c < 16; c++) {
			len = strlen(t->cells[r * t->ncols + c]);
			if (len > w[c])
				w[c] = len;
		}
	for (r = 0; r < t->nrows; r++) {
		for (c = t->skip_first; c < t->ncols; c++) {
			if (c + 1 == t->ncols)
				printf("%s\n", t->cells[r * t->ncols + c]);
			else
				printf("%-*s  ", (int)(c < 16 ? w[c] : 0),
				       t->cells[r * t->ncols + c]);
		}
	}
}

void table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

int loom_opt_err(const char *cmd, char **argv, int c)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return loom_usage_err(cmd, "option '%s' needs a value", arg);
	if (arg && arg[0] == '-' && arg[1] != '-' && optopt)
		return loom_usage_err(cmd, "unknown option '-%c'", optopt);
	return loom_usage_err(cmd, "unknown option '%s'", arg);
}

int loom_parse_simple(struct loom_ctx *ctx, const char *cmd,
		      const char *usage, int argc, char **argv, int min,
		      int max, const char *missing)
{
	enum { OPT_JSON = 1000 };
	static const struct option opts[] = {
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c, n;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_JSON) {
			ctx->json = true;
		} else if (c == 'h') {
			fputs(usage, stdout);
			return LOOM_EXIT_OK;
		} else {
			return loom_opt_err(cmd, argv, c);
		}
	}
	n = argc - optind;
	if (n < min)
		return loom_usage_err(cmd, "missing %s", missing);
	if (n > max)
		return loom_usage_err(cmd, "unexpected argument '%s'",
				      argv[optind + max]);
	return -1;
}
