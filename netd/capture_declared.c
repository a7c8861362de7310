/* SPDX-License-Identifier: MIT */
/* capture_declared.c - captures declared in the network file: started with the network, netd's own rotating files, restarted when changed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/evloop.h"
#include "common/log.h"
#include "netd/capture_internal.h"
#include "netd/netd.h"

#define MOD "capture"

/* The declared capture @name of @n, if it runs. */
static struct netd_capture *declared_find(struct netd_net *n, const char *name)
{
	for (int i = 0; i < LOOM_CAPTURE_MAX; i++)
		if (capture_table[i] && capture_table[i]->net == n &&
		    !strcmp(capture_table[i]->decl_name, name))
			return capture_table[i];
	return NULL;
}

/* FILE of a declared capture; the default lies in STATE_DIR/captures. */
static int declared_path(struct netd *d, struct netd_net *n,
			 const struct netconf_capture *dc, char *buf,
			 size_t len)
{
	char dir[4096];

	if (dc->file) {
		snprintf(buf, len, "%s", dc->file);
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s/captures", d->state_dir);
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	if ((size_t)snprintf(buf, len, "%s/%s.%s.pcapng", dir, n->conf.name,
			     dc->name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* The file to go on with: the first missing one, else the oldest. */
static unsigned int declared_pick(const char *path, unsigned int files)
{
	unsigned int best = 0;
	struct timespec oldest = {0, 0};

	for (unsigned int i = 0; i < files; i++) {
		char p[4200];
		struct stat st;

		snprintf(p, sizeof(p), "%s.%u", path, i);
		if (stat(p, &st) < 0)
			return i;
		if (!i || st.st_mtim.tv_sec < oldest.tv_sec ||
		    (st.st_mtim.tv_sec == oldest.tv_sec &&
		     st.st_mtim.tv_nsec < oldest.tv_nsec)) {
			oldest = st.st_mtim;
			best = i;
		}
	}
	return best;
}

static int declared_start_one(struct netd *d, struct netd_net *n,
			      const struct netconf_capture *dc, char *err,
			      size_t errlen)
{
	struct netd_capture *c;
	json_t *args, *ports;
	char path[4096];
	int ret, fd, slot = -1;
	unsigned int index;

	ret = declared_path(d, n, dc, path, sizeof(path));
	if (ret < 0) {
		snprintf(err, errlen, "captures dir: %s", strerror(-ret));
		return ret;
	}
	args = json_pack("{s:s,s:s,s:i}", "net", n->conf.name, "filter",
			 dc->filter ? dc->filter : "", "snaplen",
			 (int)dc->snaplen);
	ports = json_array();
	/* A declared port that is down is left out (it is named in the log). */
	for (uint32_t i = 0; args && ports && i < dc->port_count; i++) {
		int k = netd_port_find(n, dc->ports[i]);

		if (k >= 0 && (n->rt[k].port_id >= 0 ||
			       capture_kport_is(n, (uint32_t)k)))
			json_array_append_new(ports, json_string(dc->ports[i]));
		else
			log_warn(MOD, "%s: capture %s: port %s is down, left out",
				 n->conf.name, dc->name, dc->ports[i]);
	}
	if (!args || !ports) {
		json_decref(args);
		json_decref(ports);
		return -ENOMEM;
	}
	if (dc->port_count && !json_array_size(ports)) {
		json_decref(args);
		json_decref(ports);
		snprintf(err, errlen, "capture %s: none of its ports is up",
			 dc->name);
		return -ENOENT;
	}
	if (json_array_size(ports))
		json_object_set_new(args, "ports", ports);
	else
		json_decref(ports);
	index = declared_pick(path, dc->rotate_files);
	fd = capture_rot_open(path, index);
	if (fd < 0) {
		ret = -errno;
		json_decref(args);
		snprintf(err, errlen, "capture %s: cannot write %.300s.%u: %s",
			 dc->name, path, index, strerror(-ret));
		return ret;
	}
	for (int i = 0; i < LOOM_CAPTURE_MAX && slot < 0; i++)
		if (!capture_table[i])
			slot = i;
	c = calloc(1, sizeof(*c));
	ret = c ? capture_setup(d, c, args, fd, err, errlen) : -ENOMEM;
	json_decref(args);
	if (!ret && slot < 0)
		ret = -ENOSPC;
	if (ret < 0) {
		if (c && c->out_fd < 0)
			close(fd);
		else if (!c)
			close(fd);
		if (c)
			capture_free(c);
		return ret;
	}
	snprintf(c->decl_name, sizeof(c->decl_name), "%s", dc->name);
	snprintf(c->rot_path, sizeof(c->rot_path), "%s", path);
	c->rot_size = (uint64_t)dc->rotate_size << 20;
	c->rot_files = dc->rotate_files;
	c->rot_index = index;
	c->id = capture_next_id++;
	capture_table[slot] = c;
	log_info(MOD, "capture %d (%s, declared) on %s started, into %s.%u",
		 c->id, dc->name, n->conf.name, path, index);
	capture_drain(c);
	return 0;
}

/* Start the declared captures of @n that do not run. */
static void declared_start(struct netd *d, struct netd_net *n)
{
	char err[512];

	for (uint32_t i = 0; i < n->conf.capture_count; i++) {
		const struct netconf_capture *dc = &n->conf.captures[i];

		if (declared_find(n, dc->name))
			continue;
		err[0] = '\0';
		if (declared_start_one(d, n, dc, err, sizeof(err)) < 0)
			log_warn(MOD, "%s: declared capture %s not started: %s",
				 n->conf.name, dc->name, err);
	}
}

struct declared_later {
	struct netd *d;
	char net[NETCONF_NAME_MAX];
};

static void declared_start_later(void *arg)
{
	struct declared_later *l = arg;
	struct netd_net *n = netd_net_find(l->d, l->net);

	if (n && n->sw)
		declared_start(l->d, n);
	free(l);
}

/*
 * Service net_start: the declared ports are not up yet, so the captures
 * start on the loop's next round (the network is looked up by name then:
 * it may be gone).
 */
int capture_net_start(struct netd *d, struct netd_net *n,
			     bool restoring, char *err, size_t errlen)
{
	struct declared_later *l;

	(void)restoring;
	(void)err;
	(void)errlen;
	if (!n->conf.capture_count)
		return 0;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->d = d;
	snprintf(l->net, sizeof(l->net), "%s", n->conf.name);
	if (evloop_defer(d->loop, declared_start_later, l) < 0) {
		free(l);
		return -ENOMEM;
	}
	return 0;
}

static void declared_stop(struct netd_net *n)
{
	for (int i = 0; i < LOOM_CAPTURE_MAX; i++) {
		struct netd_capture *c = capture_table[i];

		if (!c || c->net != n || !c->decl_name[0])
			continue;
		capture_set_reason(c, "%s", "declaration changed");
		capture_end(c); /* a file: written out at once */
		if (capture_table[i] == c) {
			capture_discard(c);
			capture_finish(c);
		}
	}
}

static int str_dup(char **dst, const char *s)
{
	*dst = NULL;
	if (!s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static void captures_free(struct netconf_net *net)
{
	for (uint32_t i = 0; i < net->capture_count; i++) {
		struct netconf_capture *c = &net->captures[i];

		for (uint32_t j = 0; j < c->port_count; j++)
			free(c->ports[j]);
		free(c->ports);
		free(c->name);
		free(c->filter);
		free(c->file);
	}
	free(net->captures);
	net->captures = NULL;
	net->capture_count = 0;
}

/* @dst's declared captures become a copy of @src's. */
static int captures_copy(struct netconf_net *dst, const struct netconf_net *src)
{
	int ret = 0;

	captures_free(dst);
	if (!src->capture_count)
		return 0;
	dst->captures = calloc(src->capture_count, sizeof(*dst->captures));
	if (!dst->captures)
		return -ENOMEM;
	dst->capture_count = src->capture_count;
	for (uint32_t i = 0; i < src->capture_count && !ret; i++) {
		const struct netconf_capture *s = &src->captures[i];
		struct netconf_capture *c = &dst->captures[i];

		*c = *s;
		c->ports = NULL;
		c->port_count = 0;
		ret |= str_dup(&c->name, s->name);
		ret |= str_dup(&c->filter, s->filter);
		ret |= str_dup(&c->file, s->file);
		if (s->port_count) {
			c->ports = calloc(s->port_count, sizeof(char *));
			if (!c->ports)
				ret = -ENOMEM;
			for (uint32_t j = 0; c->ports && j < s->port_count; j++) {
				c->port_count++;
				ret |= str_dup(&c->ports[j], s->ports[j]);
			}
		}
	}
	if (ret)
		captures_free(dst);
	return ret ? -ENOMEM : 0;
}

static bool captures_equal(const struct netconf_net *a,
			   const struct netconf_net *b)
{
	json_t *ja = netconf_net_to_json(a), *jb = netconf_net_to_json(b);
	bool eq = ja && jb &&
		  json_equal(json_object_get(ja, "captures"),
			     json_object_get(jb, "captures"));

	/* json_equal(NULL, NULL) is false: both without captures is equal. */
	if (ja && jb && !json_object_get(ja, "captures") &&
	    !json_object_get(jb, "captures"))
		eq = true;
	json_decref(ja);
	json_decref(jb);
	return eq;
}

/* Service net_apply: declared captures changed: restart them all. */
int capture_net_apply(struct netd *d, struct netd_net *n,
			     const struct netconf_net *conf, bool *changed,
			     char *err, size_t errlen)
{
	int ret;

	if (captures_equal(&n->conf, conf))
		return 0;
	declared_stop(n);
	ret = captures_copy(&n->conf, conf);
	if (ret < 0) {
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	*changed = true;
	declared_start(d, n);
	return 0;
}

