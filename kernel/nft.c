// SPDX-License-Identifier: MIT
/* nft.c - netd's nftables tables through libnftables: the ruleset text, one transaction per change, the stray sweep. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <nftables/libnftables.h>

#include "kernel/nft.h"

/*
 * Why libnftables and not libnftnl: a table is small and changes only when
 * a user declares something, so the cost that matters is the next
 * engineer's: the nft language reads like the rules it makes (a reviewer
 * can paste kernel_nft_ruleset()'s output into `nft -f`), one buffer is
 * one atomic transaction, and the library resolves the expressions
 * (fib, ct, dnat, masquerade) that libnftnl would have us assemble
 * register by register. docs/architecture.md, "Bridge networks: NAT".
 */

int kernel_nft_table_name(const char *instance, const char *net, char *buf,
			  size_t len)
{
	int n = snprintf(buf, len, KERNEL_NFT_PREFIX "%s_%s", instance, net);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

struct out {
	char *buf;
	size_t len, used;
	bool full;
};

static void __attribute__((format(printf, 2, 3)))
out_add(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->used)
		o->full = true;
	else
		o->used += (size_t)n;
}

static const char *ip4(uint32_t a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* The DNAT rules, the same in prerouting (from elsewhere) and output
 * (from the host itself). */
static void dnat_rules(struct out *o, const struct kernel_nft_nat *t)
{
	char h[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];

	for (uint32_t i = 0; i < t->nfwd; i++) {
		const struct kernel_nft_forward *f = &t->fwd[i];
		const char *proto = f->udp ? "udp" : "tcp";

		if (f->host_addr)
			out_add(o, "\t\tip daddr %s ", ip4(f->host_addr, h));
		else
			out_add(o, "\t\tmeta nfproto ipv4 fib daddr type local ");
		out_add(o, "%s dport %u dnat ip to %s:%u\n", proto,
			f->host_port, ip4(f->guest_addr, g), f->guest_port);
	}
}

int kernel_nft_ruleset(const struct kernel_nft_nat *t, char *buf, size_t len)
{
	struct out o = {.buf = buf, .len = len};
	char sub[INET_ADDRSTRLEN];

	if (!len)
		return -ENOSPC;
	buf[0] = '\0';
	/* "add" then "delete": the delete never fails on a missing table. */
	out_add(&o, "add table inet %s\ndelete table inet %s\n", t->table,
		t->table);
	if (!t->masquerade && !t->nfwd)
		return o.full ? -ENOSPC : (int)o.used;
	out_add(&o, "table inet %s {\n", t->table);
	out_add(&o, "\tcomment \"loom-netd: bridge %s\"\n", t->bridge);
	if (t->nfwd) {
		out_add(&o, "\tchain prerouting {\n\t\ttype nat hook prerouting "
			    "priority -100; policy accept;\n");
		dnat_rules(&o, t);
		out_add(&o, "\t}\n\tchain output {\n\t\ttype nat hook output "
			    "priority -100; policy accept;\n");
		dnat_rules(&o, t);
		out_add(&o, "\t}\n");
	}
	out_add(&o, "\tchain postrouting {\n\t\ttype nat hook postrouting "
		    "priority 100; policy accept;\n");
	if (t->nfwd)
		out_add(&o, "\t\toifname \"%s\" ct status dnat masquerade\n",
			t->bridge);
	if (t->masquerade)
		out_add(&o, "\t\tip saddr %s/%u oifname != \"%s\" masquerade\n",
			ip4(t->subnet, sub), t->prefix, t->bridge);
	out_add(&o, "\t}\n}\n");
	return o.full ? -ENOSPC : (int)o.used;
}

/* A context whose output and errors go to buffers, or NULL. */
static struct nft_ctx *nft_open(bool json)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);

	if (!ctx)
		return NULL;
	if (nft_ctx_buffer_output(ctx) || nft_ctx_buffer_error(ctx)) {
		nft_ctx_free(ctx);
		return NULL;
	}
	if (json)
		nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON);
	return ctx;
}

int kernel_nft_run(const char *cmds, char *err, size_t errlen)
{
	struct nft_ctx *ctx = nft_open(false);
	const char *msg;
	size_t n;
	int ret = 0;

	if (!ctx) {
		snprintf(err, errlen, "nftables: cannot set up libnftables");
		return -ENOMEM;
	}
	if (nft_run_cmd_from_buffer(ctx, cmds)) {
		msg = nft_ctx_get_error_buffer(ctx);
		msg = msg && *msg ? msg : "refused";
		/* nft's message ends with the offending line: keep line 1. */
		n = strcspn(msg, "\n");
		snprintf(err, errlen, "nftables: %.*s", (int)n, msg);
		ret = strstr(msg, "Operation not permitted") ? -EPERM : -EINVAL;
	}
	nft_ctx_free(ctx);
	return ret;
}

int kernel_nft_table_delete(const char *name, char *err, size_t errlen)
{
	char cmds[2 * KERNEL_NFT_TABLE_MAX + 64];

	snprintf(cmds, sizeof(cmds), "add table inet %s\ndelete table inet %s\n",
		 name, name);
	return kernel_nft_run(cmds, err, errlen);
}

/*
 * Walk the inet tables whose name starts with @prefix; delete them when
 * @del. Return: how many, or a negative errno.
 */
static int nft_tables_walk(const char *prefix, bool del)
{
	struct nft_ctx *ctx = nft_open(true);
	json_t *root, *arr, *e;
	char err[256];
	size_t i;
	int n = 0;

	if (!ctx)
		return -ENOMEM;
	if (nft_run_cmd_from_buffer(ctx, "list tables inet")) {
		nft_ctx_free(ctx);
		return -EPERM;
	}
	root = json_loads(nft_ctx_get_output_buffer(ctx), 0, NULL);
	nft_ctx_free(ctx);
	arr = json_object_get(root, "nftables");
	json_array_foreach(arr, i, e)
	{
		const char *name = json_string_value(json_object_get(
		    json_object_get(e, "table"), "name"));

		if (!name || strncmp(name, prefix, strlen(prefix)) ||
		    strlen(name) >= KERNEL_NFT_TABLE_MAX)
			continue;
		if (del && kernel_nft_table_delete(name, err, sizeof(err)))
			continue;
		n++;
	}
	json_decref(root);
	return n;
}

int kernel_nft_sweep(const char *prefix)
{
	return nft_tables_walk(prefix, true);
}

int kernel_nft_table_count(const char *prefix)
{
	return nft_tables_walk(prefix, false);
}
