/* SPDX-License-Identifier: MIT */
/* nft.h - netd's nftables tables (libnftables): a bridge network's NAT and port forwards. */
#ifndef LOOM_KERNEL_NFT_H
#define LOOM_KERNEL_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One table per network, family inet, named "loom_<instance>_<network>"
 * (KERNEL_NFT_PREFIX + the instance id + '_' + the network name, which is
 * [A-Za-z0-9_.-]: an nft identifier), so the stray sweep at start finds
 * every table an earlier run of the same instance left. Each change
 * replaces the whole table in one transaction: a half-built table is
 * never seen. Control thread only.
 */
#define KERNEL_NFT_PREFIX "loom_"
#define KERNEL_NFT_TABLE_MAX 128

/* struct kernel_nft_forward - one forward: host end -> guest end, IPv4. */
struct kernel_nft_forward {
	bool udp;
	uint32_t host_addr; /* network order; 0: every local address */
	uint16_t host_port;
	uint32_t guest_addr; /* network order */
	uint16_t guest_port;
};

/*
 * struct kernel_nft_nat - what one network's table holds.
 * @table: its name (kernel_nft_table_name)
 * @bridge: the bridge's interface name
 * @subnet, @prefix: the network's IPv4 subnet (network order)
 * @masquerade: the subnet leaves through the host's other interfaces
 *              with the host's address
 * @fwd, @nfwd: the forwards; their connections enter the bridge with
 *              the host's address there, so the guest's reply comes back
 *              whatever its default route
 */
struct kernel_nft_nat {
	const char *table;
	const char *bridge;
	uint32_t subnet;
	uint8_t prefix;
	bool masquerade;
	const struct kernel_nft_forward *fwd;
	uint32_t nfwd;
};

/* kernel_nft_table_name - "loom_<instance>_<net>" into @buf. Return: 0,
 * or -ENAMETOOLONG. */
int kernel_nft_table_name(const char *instance, const char *net, char *buf,
			  size_t len);

/*
 * kernel_nft_ruleset - the nft commands that replace table @t->table with
 * what @t describes (or delete it when it holds nothing). Pure: no I/O.
 * Return: the length written, or -ENOSPC.
 */
int kernel_nft_ruleset(const struct kernel_nft_nat *t, char *buf,
		       size_t len);

/* kernel_nft_run - run nft commands @cmds as one transaction.
 * Return: 0, or a negative errno with nft's message in @err. */
int kernel_nft_run(const char *cmds, char *err, size_t errlen);

/* kernel_nft_table_delete - delete inet table @name if it exists. */
int kernel_nft_table_delete(const char *name, char *err, size_t errlen);

/*
 * kernel_nft_sweep - delete every inet table whose name starts with
 * @prefix ("loom_<instance>_": what an earlier run left).
 * Return: tables deleted, or a negative errno.
 */
int kernel_nft_sweep(const char *prefix);

/* kernel_nft_table_count - inet tables whose name starts with @prefix. */
int kernel_nft_table_count(const char *prefix);

#endif
