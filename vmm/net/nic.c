/* SPDX-License-Identifier: MIT */
/* nic.c - --nic: parsing, defaults, the NIC model table, the VM's NIC list. */
#include "vmm/net/nic.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/config.h"
#include "vmm/device.h"
#include "vmm/hw/e1000.h"
#include "vmm/hw/rtl8139.h"
#include "vmm/virtio/net.h"

/* The NIC models: a new model is its own file plus one line here. */
static const struct nic_model nic_models[] = {
	{ "virtio", virtio_net_create },
	{ "e1000", e1000_create },	/* Intel 82540EM: Linux e1000 */
	{ "rtl8139", rtl8139_create },	/* RTL8139C+: Linux 8139cp */
	{ "rtl8139c", rtl8139_create },	/* RTL8139C: Linux 8139too */
};

const struct nic_model *nic_model_find(const char *name)
{
	for (size_t i = 0; i < sizeof(nic_models) / sizeof(nic_models[0]); i++)
		if (!strcmp(nic_models[i].name, name))
			return &nic_models[i];
	return NULL;
}

/* "virtio, e1000, ...": the table's names, for error messages. */
static const char *nic_model_names(void)
{
	static char names[128];
	size_t used = 0;

	if (names[0])
		return names;
	for (size_t i = 0; i < sizeof(nic_models) / sizeof(nic_models[0]); i++) {
		int n = snprintf(names + used, sizeof(names) - used, "%s%s",
				 i ? ", " : "", nic_models[i].name);

		if (n < 0 || (size_t)n >= sizeof(names) - used)
			break;
		used += (size_t)n;
	}
	return names;
}

int nic_create(struct vm *vm, const struct nic_config *cfg)
{
	const struct nic_model *m = nic_model_find(cfg->model);

	return m ? m->create(vm, cfg) : -ENOENT;
}

void nic_mac_format(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
}

/*
 * 52:4c ("L") then 32 bits of FNV-1a over "VM/PORT": locally administered
 * (bit 1 of the first byte), unicast (bit 0 clear), the same on every boot.
 */
void nic_default_mac(const char *vm_name, const char *port, uint8_t mac[6])
{
	uint64_t h = 0xcbf29ce484222325ull;
	const char *parts[3] = { vm_name ? vm_name : "", "/", port };

	for (int p = 0; p < 3; p++)
		for (const char *c = parts[p]; *c; c++) {
			h ^= (uint8_t)*c;
			h *= 0x100000001b3ull;
		}
	h ^= h >> 32;
	mac[0] = 0x52;
	mac[1] = 0x4c;
	for (int i = 0; i < 4; i++)
		mac[2 + i] = (uint8_t)(h >> (8 * i));
}

static bool nic_name_ok(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (!len || len > max || s[0] == '.' || s[0] == '-' || s[0] == '_')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

static int nic_mac_parse(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &end) != 6 || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	/* Unicast and not all zero: netd refuses anything else. */
	if (mac[0] & 1 || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return -EINVAL;
	return 0;
}

__attribute__((format(printf, 3, 4)))
static int nic_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int nic_config_parse(struct nic_config *cfg, const char *arg,
		     const char *vm_name, unsigned int index,
		     const char *netd_sock, char *err, size_t errlen)
{
	char buf[512], *save = NULL, *kv;
	bool have_mac = false;
	const char *mode = NULL;

	memset(cfg, 0, sizeof(*cfg));
	if (strlen(arg) >= sizeof(buf))
		return nic_err(err, errlen, "too long");
	strcpy(buf, arg);
	for (kv = strtok_r(buf, ",", &save); kv;
	     kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '=');

		if (!v)
			return nic_err(err, errlen, "'%s': want KEY=VALUE "
				       "(net, model, mac, port, backend)", kv);
		*v++ = '\0';
		if (!strcmp(kv, "net")) {
			if (!nic_name_ok(v, NIC_PORT_NAME_MAX))
				return nic_err(err, errlen, "net=%s: a network "
					       "name (1-%d of A-Z a-z 0-9 _ . -)",
					       v, NIC_PORT_NAME_MAX);
			snprintf(cfg->net, sizeof(cfg->net), "%s", v);
		} else if (!strcmp(kv, "model")) {
			if (!nic_model_find(v))
				return nic_err(err, errlen, "model=%s: unknown "
					       "(%s)", v, nic_model_names());
			snprintf(cfg->model, sizeof(cfg->model), "%s", v);
		} else if (!strcmp(kv, "mac")) {
			if (nic_mac_parse(v, cfg->mac))
				return nic_err(err, errlen, "mac=%s: want a "
					       "unicast MAC like "
					       "52:54:00:12:34:56", v);
			have_mac = true;
		} else if (!strcmp(kv, "port")) {
			if (!nic_name_ok(v, NIC_PORT_NAME_MAX))
				return nic_err(err, errlen, "port=%s: 1-%d of "
					       "A-Z a-z 0-9 _ . -", v,
					       NIC_PORT_NAME_MAX);
			snprintf(cfg->port, sizeof(cfg->port), "%s", v);
		} else if (!strcmp(kv, "backend")) {
			if (!nic_backend_known(v))
				return nic_err(err, errlen, "backend=%s: "
					       "unknown (shm, tap)", v);
			snprintf(cfg->backend, sizeof(cfg->backend), "%s", v);
		} else if (!strcmp(kv, "macvtap")) {
			if (!nic_name_ok(v, sizeof(cfg->macvtap) - 1))
				return nic_err(err, errlen, "macvtap=%s: an "
					       "interface name (1-15 of A-Z a-z "
					       "0-9 _ . -)", v);
			snprintf(cfg->macvtap, sizeof(cfg->macvtap), "%s", v);
		} else if (!strcmp(kv, "mode")) {
			if (strcmp(v, "bridge") && strcmp(v, "private") &&
			    strcmp(v, "vepa") && strcmp(v, "passthru"))
				return nic_err(err, errlen, "mode=%s: bridge, "
					       "private, vepa or passthru", v);
			mode = v;
			snprintf(cfg->macvtap_mode, sizeof(cfg->macvtap_mode),
				 "%s", v);
		} else if (!strcmp(kv, "vhost")) {
			if (strcmp(v, "on") && strcmp(v, "off"))
				return nic_err(err, errlen, "vhost=%s: on or "
					       "off", v);
			cfg->no_vhost = !strcmp(v, "off");
		} else if (!strcmp(kv, "vlan")) {
			char *end;
			long vid = strtol(v, &end, 10);

			if (*end || vid < 1 || vid > 4094)
				return nic_err(err, errlen, "vlan=%s: 1..4094",
					       v);
			cfg->vlan = (uint16_t)vid;
		} else {
			return nic_err(err, errlen, "unknown key '%s' (net, "
				       "macvtap, mode, model, mac, port, "
				       "backend, vlan, vhost)", kv);
		}
	}
	if (!cfg->net[0] && !cfg->macvtap[0])
		return nic_err(err, errlen, "net=NAME or macvtap=PARENT is "
			       "required");
	if (cfg->net[0] && cfg->macvtap[0])
		return nic_err(err, errlen, "net= or macvtap=, not both");
	if (mode && !cfg->macvtap[0])
		return nic_err(err, errlen, "mode= is a macvtap's: give "
			       "macvtap=PARENT");
	if (cfg->macvtap[0] && (cfg->vlan || !strcmp(cfg->backend, "shm")))
		return nic_err(err, errlen, "a macvtap NIC has no vlan= and "
			       "no shm backend (it is on PARENT's LAN)");
	if (cfg->macvtap[0])
		snprintf(cfg->net, sizeof(cfg->net), "(macvtap:%s)",
			 cfg->macvtap);
	if (!cfg->model[0])
		snprintf(cfg->model, sizeof(cfg->model), "virtio");
	if (!cfg->port[0]) {
		int n;

		if (!vm_name)
			return nic_err(err, errlen, "give the VM a --name (its "
				       "ports are named after it) or port=");
		n = index ? snprintf(cfg->port, sizeof(cfg->port), "%s.%u",
				     vm_name, index) :
			    snprintf(cfg->port, sizeof(cfg->port), "%s",
				     vm_name);
		if (n < 0 || n > NIC_PORT_NAME_MAX ||
		    !nic_name_ok(cfg->port, NIC_PORT_NAME_MAX))
			return nic_err(err, errlen, "the port name '%s' made "
				       "from the VM name is not a valid port "
				       "name (1-%d of A-Z a-z 0-9 _ . -): "
				       "give port=", cfg->port,
				       NIC_PORT_NAME_MAX);
	}
	if (!have_mac)
		nic_default_mac(vm_name, cfg->port, cfg->mac);
	cfg->index = index;
	cfg->netd_sock = netd_sock;
	return 0;
}

/* The device table's row: --nic net=NAME[,...], repeatable. */
static int nic_row_parse(const char *arg, const struct vmm_config *vcfg,
			 unsigned int index, void **opt, char *err,
			 size_t errlen)
{
	struct nic_config *cfg = malloc(sizeof(*cfg));
	int ret;

	if (!cfg)
		return -ENOMEM;
	ret = nic_config_parse(cfg, arg, vcfg->name, index, vcfg->netd_sock,
			       err, errlen);
	if (ret) {
		free(cfg);
		return ret;
	}
	*opt = cfg;
	return 0;
}

static int nic_row_create(struct vm *vm, void *opt)
{
	return nic_create(vm, opt);
}

const struct vmm_device nic_device = {
	.name = "nic",
	.arg = "net=NET|macvtap=DEV[,mode=M][,model=M][,mac=MAC][,port=PORT]"
	       "[,vlan=N][,backend=shm|tap][,vhost=off]",
	.help = "a NIC on loom-netd's network NET, or a macvtap on\n"
		"                       DEV (mode bridge, private, vepa,\n"
		"                       passthru) netd makes (repeatable);\n"
		"                       on a bridge network netd makes a TAP\n"
		"                       (vlan=N: its access VLAN) and virtio\n"
		"                       hands it to vhost-net where it can;\n"
		"                       model virtio (default), e1000 (Intel\n"
		"                       82540EM), rtl8139 (RTL8139C+: Linux\n"
		"                       8139cp), rtl8139c (RTL8139C: 8139too);\n"
		"                       default MAC from the VM and port names,\n"
		"                       port NAME, then NAME.1, NAME.2, ...\n",
	.max = NIC_MAX,
	.parse = nic_row_parse,
	.create = nic_row_create,
};

/* The VM's NICs, for the control socket (its thread reads, models add). */
static struct {
	struct nic_config cfg;
	struct nic_backend *nb;
} nic_list[NIC_MAX];
static pthread_mutex_t nic_list_lock = PTHREAD_MUTEX_INITIALIZER;

int nic_list_add(const struct nic_config *cfg, struct nic_backend *nb)
{
	int ret = -ENOSPC;

	pthread_mutex_lock(&nic_list_lock);
	for (int i = 0; i < NIC_MAX; i++) {
		if (nic_list[i].nb)
			continue;
		nic_list[i].cfg = *cfg;
		nic_list[i].nb = nb;
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&nic_list_lock);
	return ret;
}

int nic_list_set_admin(const char *port, bool up)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&nic_list_lock);
	for (int i = 0; i < NIC_MAX; i++)
		if (nic_list[i].nb && !strcmp(nic_list[i].cfg.port, port))
			ret = nic_backend_set_admin(nic_list[i].nb, up);
	pthread_mutex_unlock(&nic_list_lock);
	return ret;
}

void nic_list_remove(const struct nic_backend *nb)
{
	pthread_mutex_lock(&nic_list_lock);
	for (int i = 0; i < NIC_MAX; i++)
		if (nic_list[i].nb == nb)
			nic_list[i].nb = NULL;
	pthread_mutex_unlock(&nic_list_lock);
}

json_t *nic_list_status(void)
{
	json_t *a = json_array();
	char mac[18];

	if (!a)
		return NULL;
	pthread_mutex_lock(&nic_list_lock);
	for (int i = 0; i < NIC_MAX; i++) {
		const struct nic_backend *nb = nic_list[i].nb;
		const struct nic_backend_stats *st;

		if (!nb)
			continue;
		st = nic_backend_stats(nb);
		nic_mac_format(nic_list[i].cfg.mac, mac);
		json_array_append_new(
			a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:I, "
				     "s:I, s:I, s:I, s:I, s:I, s:I}}",
				     "net", nic_list[i].cfg.net, "mac", mac,
				     "port", nic_list[i].cfg.port, "model",
				     nic_list[i].cfg.model, "backend",
				     nic_backend_name(nb), "datapath",
				     nic_backend_datapath(nb), "link",
				     nic_backend_link_up(nb) ? "up" : "down",
				     "admin",
				     nic_backend_admin_up(nb) ? "up" : "down",
				     "counters", "tx_frames",
				     (json_int_t)st->tx_frames, "tx_bytes",
				     (json_int_t)st->tx_bytes, "tx_dropped",
				     (json_int_t)st->tx_dropped,
				     "rx_frames", (json_int_t)st->rx_frames,
				     "rx_bytes", (json_int_t)st->rx_bytes,
				     "link_changes",
				     (json_int_t)st->link_changes,
				     "reconnects", (json_int_t)st->reconnects));
	}
	pthread_mutex_unlock(&nic_list_lock);
	return a;
}
