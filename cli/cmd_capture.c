/* SPDX-License-Identifier: MIT */
/* cmd_capture.c - `loom capture`: start a capture in loom-netd, write or summarise its pcapng, list captures. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/capture_fmt.h"
#include "cli/loom.h"
#include "common/pcapng.h"
#include "loom/control.h"

static const char usage_capture[] =
    "Usage: loom capture NET[:PORT[,PORT...]] [-f FILTER | FILTER...]\n"
    "                    [-w FILE|-] [-c COUNT] [--duration SECONDS]\n"
    "                    [--snaplen BYTES] [--direction in|out|both] [-q]\n"
    "                    [--rotate-size MB [--rotate-files N]]\n"
    "       loom capture list\n"
    "\n"
    "Capture the frames crossing ports of network NET (every port, those\n"
    "added later too, unless PORTs are named) in loom-netd's switch; on a\n"
    "bridge network also its veth and TAP ports, read on the device.\n"
    "\n"
    "  -f, --filter EXPR   a BPF filter in tcpdump's syntax (pcap-filter(7));\n"
    "                      words after NET are taken as the filter too\n"
    "  -w, --write FILE    write pcapng to FILE (created as you, mode 0644),\n"
    "                      or '-' for stdout: loom capture lan -w - | tshark -r -\n"
    "                      One interface per port, named NET:PORT, with the\n"
    "                      direction of each frame. Without -w: one line per\n"
    "                      frame (time, port, direction, summary); --json: a\n"
    "                      JSON object per line\n"
    "  -c, --count N       stop after N frames\n"
    "      --duration S    stop after S seconds (decimals allowed)\n"
    "  -s, --snaplen N     keep at most N bytes per frame (1..262144, default\n"
    "                      262144)\n"
    "      --direction D   in (into the switch from the port), out (from the\n"
    "                      switch to the port) or both (default)\n"
    "      --rotate-size MB  with -w FILE: write FILE.0, FILE.1, ... of about MB\n"
    "                      MiB each, each a whole pcapng with every port;\n"
    "      --rotate-files N  then start over at FILE.0 (default 10 files)\n"
    "  -q, --quiet         no 'capturing on' line\n"
    "      --json          frames and the end summary as JSON lines\n"
    "\n"
    "Ctrl-C ends the capture; the summary on stderr counts the frames\n"
    "captured and those dropped because the reader was too slow (the\n"
    "network itself never waits for a capture). At most 8 captures run per\n"
    "network.\n";

static volatile sig_atomic_t stop_pipe_w = -1;

static void on_stop_signal(int sig)
{
	int e = errno;
	char c = (char)sig;

	if (stop_pipe_w >= 0 && write(stop_pipe_w, &c, 1) < 0) {
		/* the pipe is full: a stop is pending anyway */
	}
	errno = e;
}

struct cap_reader {
	struct pcapng_reader r;
	uint8_t *buf;
	size_t len, cap;
	bool json;
	bool broken;
	uint64_t frames;
	/* --rotate-size: files written here, by loom, as the user. */
	const char *rot_base;
	uint64_t rot_size;   /* bytes per file before the next one */
	unsigned int rot_files; /* files kept: BASE.0 .. BASE.(N-1) */
	unsigned int rot_index;
	int rot_fd;
	uint64_t rot_written;
	uint8_t *head;	/* the SHB and every IDB so far: each file starts so */
	size_t head_len, head_cap;
};

static int rot_write(struct cap_reader *cr, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(cr->rot_fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			loom_err("capture: writing %s.%u: %s", cr->rot_base,
				 cr->rot_index, strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
		cr->rot_written += (uint64_t)n;
	}
	return 0;
}

/* Open the next file of the rotation and start it with the header blocks. */
static int rot_next(struct cap_reader *cr)
{
	char path[4096];

	if (cr->rot_fd >= 0) {
		close(cr->rot_fd);
		cr->rot_index = (cr->rot_index + 1) % cr->rot_files;
	}
	snprintf(path, sizeof(path), "%s.%u", cr->rot_base, cr->rot_index);
	cr->rot_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (cr->rot_fd < 0) {
		loom_err("capture: cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	cr->rot_written = 0;
	return rot_write(cr, cr->head, cr->head_len);
}

/* A block for the rotation: headers are kept for the next files too. */
static int rot_block(struct cap_reader *cr, int kind, const uint8_t *p,
		     size_t len)
{
	if (kind == PCAPNG_BLOCK_SECTION)
		cr->head_len = 0;
	if (kind == PCAPNG_BLOCK_SECTION || kind == PCAPNG_BLOCK_INTERFACE) {
		if (cr->head_len + len > cr->head_cap) {
			size_t cap = (cr->head_len + len) * 2;
			uint8_t *h = realloc(cr->head, cap);

			if (!h)
				return -1;
			cr->head = h;
			cr->head_cap = cap;
		}
		memcpy(cr->head + cr->head_len, p, len);
		cr->head_len += len;
		if (cr->rot_fd < 0)
			return 0; /* the first file opens with the first packet */
		return rot_write(cr, p, len);
	}
	if (kind != PCAPNG_BLOCK_PACKET)
		return 0;
	if ((cr->rot_fd < 0 || cr->rot_written + len > cr->rot_size) &&
	    rot_next(cr) < 0)
		return -1;
	return rot_write(cr, p, len);
}

/* Print every complete block in the buffer. Return: 0, or -1 on bad data. */
static int reader_consume(struct cap_reader *cr)
{
	size_t off = 0;

	for (;;) {
		struct pcapng_packet pkt;
		size_t used = 0;
		int k = pcapng_read_block(&cr->r, cr->buf + off, cr->len - off,
					  &used, &pkt);

		if (k == 0)
			break;
		if (k < 0) {
			loom_err("capture: unreadable pcapng from loom-netd (%s)",
				 strerror(-k));
			return -1;
		}
		if (cr->rot_base) {
			if (rot_block(cr, k, cr->buf + off, used) < 0)
				return -1;
		} else if (k == PCAPNG_BLOCK_PACKET) {
			const struct pcapng_if *ifc =
				pcapng_reader_if(&cr->r, pkt.ifid);
			const char *dir = pkt.dir == PCAPNG_DIR_IN  ? "in" :
					  pkt.dir == PCAPNG_DIR_OUT ? "out" :
								      "-";
			struct capture_summary s;

			capture_summarize(pkt.data, pkt.caplen, pkt.orig_len,
					  &s);
			if (cr->json) {
				json_t *j = capture_summary_json(
					pkt.ts_ns, ifc->name, dir, pkt.caplen,
					pkt.orig_len, &s);

				if (j) {
					json_dumpf(j, stdout, JSON_COMPACT);
					fputc('\n', stdout);
					json_decref(j);
				}
			} else {
				char line[512];

				capture_format_line(line, sizeof(line),
						    pkt.ts_ns, ifc->name, dir,
						    &s);
				for (char *p = line; *p; p++)
					if ((unsigned char)*p < 0x20)
						*p = '?';
				puts(line);
			}
			cr->frames++;
		}
		off += used;
	}
	memmove(cr->buf, cr->buf + off, cr->len - off);
	cr->len -= off;
	fflush(stdout);
	if (ferror(stdout))
		return -1; /* e.g. | head went away: stop */
	return 0;
}

/* Read what the pipe holds. Return: 1 on EOF, 0, -1 to stop. */
static int reader_read(struct cap_reader *cr, int fd)
{
	ssize_t n;

	if (cr->len == cr->cap)
		return -1; /* a block above PCAPNG_BLOCK_MAX: cannot be */
	n = read(fd, cr->buf + cr->len, cr->cap - cr->len);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	if (n == 0)
		return 1;
	cr->len += (size_t)n;
	return reader_consume(cr);
}

/* The end summary: JSON on stdout (stderr when stdout is the pcapng), or a line on stderr. */
static void print_end(struct loom_ctx *ctx, const json_t *ev, bool quiet,
		      bool stdout_is_pcapng)
{
	FILE *f = stdout_is_pcapng ? stderr : stdout;
	char a[24], b[24], c[24];

	if (ctx->json) {
		json_dumpf(ev, f, JSON_COMPACT);
		fputc('\n', f);
		fflush(f);
		return;
	}
	if (quiet)
		return;
	fprintf(stderr, "%s frames captured, %s dropped (reader too slow), "
			"%s filtered out; %s\n",
		jint(ev, "captured", a), jint(ev, "dropped", b),
		jint(ev, "filtered", c),
		jstr(ev, "reason") ? jstr(ev, "reason") : "ended");
}

static int capture_list(struct loom_ctx *ctx, int argc, char **argv)
{
	json_t *res, *caps, *c;
	struct table t;
	size_t i;
	int rc;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage_capture, stdout);
		return LOOM_EXIT_OK;
	}
	if (argc > 1)
		return loom_usage_err("capture list", "unexpected argument '%s'",
				      argv[1]);
	rc = client_call(ctx, LOOM_CMD_CAPTURE_LIST, NULL, &res);
	if (rc)
		return rc;
	if (ctx->json) {
		loom_print_json(res);
		json_decref(res);
		return LOOM_EXIT_OK;
	}
	caps = json_object_get(res, "captures");
	table_init(&t, 9, "ID", "NET", "PORTS", "FILTER", "DIR", "CAPTURED",
		   "DROPPED", "OUTPUT", "STATE");
	json_array_foreach(caps, i, c)
	{
		char id[24], cap[24], drop[24], ports[256] = "", out[64];
		json_t *ifs = json_object_get(c, "interfaces"), *f;
		size_t k;

		if (json_is_true(json_object_get(c, "all_ports")))
			snprintf(ports, sizeof(ports), "all");
		else
			json_array_foreach(ifs, k, f)
			{
				const char *n = json_string_value(f);
				const char *colon = n ? strchr(n, ':') : NULL;
				size_t used = strlen(ports);

				snprintf(ports + used, sizeof(ports) - used,
					 "%s%s", k ? "," : "",
					 colon ? colon + 1 : (n ? n : "?"));
			}
		if (jstr(c, "declared"))
			snprintf(out, sizeof(out), "declared %s",
				 jstr(c, "declared"));
		else
			snprintf(out, sizeof(out), "%s",
				 jstr(c, "output") ? jstr(c, "output") : "-");
		table_add(&t, jint(c, "capture", id), jstr(c, "net"), ports,
			  jstr(c, "filter") && jstr(c, "filter")[0] ?
				  jstr(c, "filter") :
				  NULL,
			  jstr(c, "direction"), jint(c, "captured", cap),
			  jint(c, "dropped", drop), out,
			  jstr(c, "state"));
	}
	if (json_array_size(caps))
		table_print(&t);
	else
		puts("no captures running");
	table_free(&t);
	json_decref(res);
	return LOOM_EXIT_OK;
}

/* "NET[:PORT[,PORT...]]" into args. Return: 0, or a usage error. */
static int parse_target(const char *target, json_t *args)
{
	char *dup = strdup(target), *colon, *save = NULL, *p;
	json_t *ports;

	if (!dup)
		return LOOM_EXIT_NETD;
	colon = strchr(dup, ':');
	if (colon)
		*colon = '\0';
	if (!dup[0]) {
		free(dup);
		return loom_usage_err("capture", "no network name in '%s'",
				      target);
	}
	json_object_set_new(args, "net", json_string(dup));
	if (colon) {
		ports = json_array();
		for (p = strtok_r(colon + 1, ",", &save); p;
		     p = strtok_r(NULL, ",", &save))
			json_array_append_new(ports, json_string(p));
		if (!json_array_size(ports)) {
			json_decref(ports);
			free(dup);
			return loom_usage_err("capture",
					      "no port names after ':' in '%s'",
					      target);
		}
		json_object_set_new(args, "ports", ports);
	}
	free(dup);
	return 0;
}

/* Seconds with decimals into ms. Return: 0 or -1. */
static int parse_seconds(const char *s, long long *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v <= 0 || v > 366.0 * 86400)
		return -1;
	*ms = (long long)(v * 1000 + 0.5);
	if (*ms < 1)
		*ms = 1;
	return 0;
}

/* Print "capturing on ..." for a person. */
static void print_start(const json_t *res, const char *filter)
{
	json_t *ifs = json_object_get(res, "interfaces"), *f;
	size_t i;

	fprintf(stderr, "loom: capture %lld on network %s, ",
		(long long)json_integer_value(json_object_get(res, "capture")),
		jstr(res, "net") ? jstr(res, "net") : "?");
	if (!json_array_size(ifs))
		fputs("no ports yet", stderr);
	json_array_foreach(ifs, i, f)
		fprintf(stderr, "%s%s", i ? ", " : "", json_string_value(f));
	if (filter && filter[0])
		fprintf(stderr, " (filter '%s')", filter);
	fputs("; Ctrl-C to stop\n", stderr);
}

enum { OPT_DURATION = 256, OPT_DIRECTION, OPT_JSON, OPT_ROT_SIZE, OPT_ROT_FILES };

int cmd_capture(struct loom_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{"filter", required_argument, NULL, 'f'},
		{"write", required_argument, NULL, 'w'},
		{"count", required_argument, NULL, 'c'},
		{"snaplen", required_argument, NULL, 's'},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"direction", required_argument, NULL, OPT_DIRECTION},
		{"json", no_argument, NULL, OPT_JSON},
		{"rotate-size", required_argument, NULL, OPT_ROT_SIZE},
		{"rotate-files", required_argument, NULL, OPT_ROT_FILES},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *write_to = NULL, *filter = NULL;
	struct cap_reader cr = {.rot_fd = -1};
	long long rot_mb = 0, rot_files = 0;
	struct sigaction sa = {0};
	json_t *args, *res = NULL, *ev = NULL;
	char *joined = NULL;
	int c, rc, out_fd = -1, pipefd[2] = {-1, -1}, stopfd[2] = {-1, -1};
	bool quiet = false, stopping = false, pipe_eof = false;
	long long v;

	if (argc > 1 && !strcmp(argv[1], "list"))
		return capture_list(ctx, argc - 1, argv + 1);
	args = json_object();
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:w:c:s:qh", opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'f':
			filter = optarg;
			break;
		case 'w':
			write_to = optarg;
			break;
		case 'c':
			if (loom_parse_u32(optarg, &v) || v < 1) {
				json_decref(args);
				return loom_usage_err("capture",
						      "--count: '%s' is not a number >= 1",
						      optarg);
			}
			json_object_set_new(args, "count", json_integer(v));
			break;
		case 's':
			if (loom_parse_u32(optarg, &v) || v < 1 ||
			    v > LOOM_CAPTURE_SNAPLEN_MAX) {
				json_decref(args);
				return loom_usage_err("capture",
						      "--snaplen: '%s' is not in 1..%d",
						      optarg,
						      LOOM_CAPTURE_SNAPLEN_MAX);
			}
			json_object_set_new(args, "snaplen", json_integer(v));
			break;
		case OPT_DURATION:
			if (parse_seconds(optarg, &v)) {
				json_decref(args);
				return loom_usage_err("capture",
						      "--duration: '%s' is not a number of seconds > 0",
						      optarg);
			}
			json_object_set_new(args, "duration_ms",
					    json_integer(v));
			break;
		case OPT_DIRECTION:
			if (strcmp(optarg, "in") && strcmp(optarg, "out") &&
			    strcmp(optarg, "both")) {
				json_decref(args);
				return loom_usage_err("capture",
						      "--direction: '%s' is not in, out or both",
						      optarg);
			}
			json_object_set_new(args, "direction",
					    json_string(optarg));
			break;
		case OPT_JSON:
			ctx->json = true;
			break;
		case OPT_ROT_SIZE:
		case OPT_ROT_FILES:
			if (loom_parse_u32(optarg, &v) || v < 1 ||
			    v > (c == OPT_ROT_SIZE ? 1 << 20 : 100000)) {
				json_decref(args);
				return loom_usage_err("capture",
						      "%s: '%s' is not a number in 1..%d",
						      c == OPT_ROT_SIZE ? "--rotate-size" :
									  "--rotate-files",
						      optarg,
						      c == OPT_ROT_SIZE ? 1 << 20 : 100000);
			}
			if (c == OPT_ROT_SIZE)
				rot_mb = v;
			else
				rot_files = v;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			json_decref(args);
			fputs(usage_capture, stdout);
			return LOOM_EXIT_OK;
		default:
			json_decref(args);
			return loom_opt_err("capture", argv, c);
		}
	}
	if (optind >= argc) {
		json_decref(args);
		return loom_usage_err("capture", "which network? loom capture NET");
	}
	rc = parse_target(argv[optind++], args);
	if (rc) {
		json_decref(args);
		return rc;
	}
	if (optind < argc) {
		/* tcpdump style: the remaining words are the filter. */
		size_t len = 1;

		if (filter) {
			json_decref(args);
			return loom_usage_err("capture",
					      "a filter both in -f and as words ('%s')",
					      argv[optind]);
		}
		for (int i = optind; i < argc; i++)
			len += strlen(argv[i]) + 1;
		joined = calloc(1, len);
		for (int i = optind; joined && i < argc; i++) {
			if (i > optind)
				strcat(joined, " ");
			strcat(joined, argv[i]);
		}
		filter = joined;
	}
	if (filter)
		json_object_set_new(args, "filter", json_string(filter));
	if ((rot_mb || rot_files) &&
	    (!rot_mb || !write_to || !strcmp(write_to, "-"))) {
		json_decref(args);
		free(joined);
		return loom_usage_err("capture",
				      "--rotate-size MB [--rotate-files N] need -w FILE");
	}

	/* The output: opened here, as this user, and handed to netd. */
	if (write_to && !strcmp(write_to, "-")) {
		if (isatty(STDOUT_FILENO)) {
			json_decref(args);
			free(joined);
			return loom_usage_err("capture",
					      "-w -: stdout is a terminal; pipe it into a reader (| tshark -r -) or use -w FILE");
		}
		out_fd = STDOUT_FILENO;
	} else if (write_to && !rot_mb) {
		out_fd = open(write_to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0644);
		if (out_fd < 0) {
			loom_err("cannot write %s: %s", write_to,
				 strerror(errno));
			json_decref(args);
			free(joined);
			return LOOM_EXIT_USAGE;
		}
	} else {
		if (pipe2(pipefd, O_CLOEXEC) < 0) {
			loom_err("pipe: %s", strerror(errno));
			json_decref(args);
			free(joined);
			return LOOM_EXIT_NETD;
		}
		out_fd = pipefd[1];
		cr.cap = 2 * PCAPNG_BLOCK_MAX;
		cr.buf = malloc(cr.cap);
		cr.json = ctx->json;
		if (rot_mb) {
			cr.rot_base = write_to;
			cr.rot_size = (uint64_t)rot_mb << 20;
			cr.rot_files = rot_files ? (unsigned int)rot_files : 10;
		}
		if (!cr.buf || pcapng_reader_init(&cr.r) < 0) {
			loom_err("out of memory");
			rc = LOOM_EXIT_NETD;
			goto out;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(stopfd, O_CLOEXEC | O_NONBLOCK) < 0) {
		loom_err("pipe: %s", strerror(errno));
		rc = LOOM_EXIT_NETD;
		goto out;
	}
	stop_pipe_w = stopfd[1];
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	rc = client_call_fd(ctx, LOOM_CMD_CAPTURE_START, json_incref(args),
			    out_fd, &res);
	/* netd holds its own copy now. */
	if (out_fd != STDOUT_FILENO)
		close(out_fd);
	out_fd = -1;
	pipefd[1] = -1;
	if (rc)
		goto out;
	if (!quiet && !ctx->json)
		print_start(res, filter);

	for (;;) {
		struct pollfd p[3] = {
			{.fd = ctx->fd, .events = POLLIN},
			{.fd = stopfd[0], .events = POLLIN},
			{.fd = pipe_eof ? -1 : pipefd[0], .events = POLLIN},
		};

		if (ev && (pipefd[0] < 0 || pipe_eof))
			break;
		if (ev)
			p[0].fd = -1;
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents) {
			char junk[16];

			while (read(stopfd[0], junk, sizeof(junk)) > 0)
				;
			if (!stopping)
				shutdown(ctx->fd, SHUT_WR);
			stopping = true;
		}
		if (p[2].revents) {
			int r = reader_read(&cr, pipefd[0]);

			if (r == 1) {
				pipe_eof = true;
			} else if (r < 0) {
				/* stdout gone or garbage: stop, drain. */
				if (!stopping)
					shutdown(ctx->fd, SHUT_WR);
				stopping = true;
				pipe_eof = true;
			}
		}
		if (p[0].revents) {
			rc = client_recv_event(ctx, &ev);
			if (rc)
				goto out;
			if (!json_is_object(ev) ||
			    strcmp(jstr(ev, "event") ? jstr(ev, "event") : "",
				   LOOM_EVENT_CAPTURE_END)) {
				loom_err("capture: unexpected message from loom-netd");
				rc = LOOM_EXIT_UNREACHABLE;
				goto out;
			}
		}
	}
	/* A rotation that saw no frame still leaves a file with the ports. */
	if (cr.rot_base && cr.rot_fd < 0 && cr.head_len)
		rot_next(&cr);
	print_end(ctx, ev, quiet, write_to && !strcmp(write_to, "-"));
	rc = LOOM_EXIT_OK;
out:
	stop_pipe_w = -1;
	json_decref(ev);
	json_decref(res);
	json_decref(args);
	free(joined);
	if (out_fd >= 0 && out_fd != STDOUT_FILENO)
		close(out_fd);
	for (int i = 0; i < 2; i++) {
		if (pipefd[i] >= 0)
			close(pipefd[i]);
		if (stopfd[i] >= 0)
			close(stopfd[i]);
	}
	if (cr.rot_fd >= 0)
		close(cr.rot_fd);
	free(cr.head);
	if (cr.buf)
		pcapng_reader_free(&cr.r);
	free(cr.buf);
	return rc;
}
