/* SPDX-License-Identifier: MIT */
/* kernel_cache.h - a bzImage's kernel decompressed once on the host and kept, so later boots skip the guest's decompressor. */
#ifndef LOOM_VMM_KERNEL_CACHE_H
#define LOOM_VMM_KERNEL_CACHE_H

#include <stddef.h>
#include <stdint.h>

/*
 * A bzImage carries the kernel (a vmlinux ELF) compressed; the guest's own
 * decompressor unpacks it before Linux starts. Under nested or emulated KVM
 * that costs seconds of guest time on every boot (8 s for Debian's xz
 * kernel in the nested harness), natively a fraction of a second. loom-vmm
 * decompresses the payload on the host instead, keeps the vmlinux in a
 * per-user cache keyed by the bzImage's contents, and enters it directly
 * (boot_elf_load). The guest then runs without the decompressor's KASLR:
 * --no-kernel-cache keeps it.
 */

/* Entries kept per cache directory, the most recently used. */
#define KERNEL_CACHE_KEEP 8

/* Largest decompressed kernel accepted (the boot files' own limit). */
#define KERNEL_CACHE_MAX_OUT (1ull << 30)

enum kernel_codec {
	KERNEL_CODEC_NONE,	/* unknown or not supported here */
	KERNEL_CODEC_GZIP,
	KERNEL_CODEC_XZ,
	KERNEL_CODEC_ZSTD,
};

/**
 * kernel_payload() - find a bzImage's compressed payload.
 * @bz: bzImage bytes (already accepted by boot_linux_check()).
 * @len: their length.
 * @payload: set to the payload (without the 4-byte size the kernel build
 *	appends).
 * @payload_len: its length.
 * @out_len: the decompressed size that trailer announces.
 *
 * Return: the payload's codec (KERNEL_CODEC_NONE for lz4, lzo, bzip2, lzma
 * or anything else: those boot through the guest's decompressor).
 */
enum kernel_codec kernel_payload(const uint8_t *bz, size_t len,
				 const uint8_t **payload, size_t *payload_len,
				 uint64_t *out_len);

/**
 * kernel_decompress() - decompress a bzImage's kernel into fresh memory.
 * @bz: bzImage bytes.
 * @len: their length.
 * @out: set to an anonymous mapping holding the vmlinux (munmap() it with
 *	@out_len).
 * @out_len: its length.
 * @err: buffer for the reason on failure.
 * @errlen: its size.
 *
 * The output must be exactly the size the payload announces (at most
 * KERNEL_CACHE_MAX_OUT) and end the compressed stream; it is not yet checked
 * as an ELF (boot_elf_check() does that).
 *
 * Return: 0, -ENOTSUP for a codec not built in, -EINVAL for a corrupt or
 * inconsistent payload, -ENOMEM.
 */
int kernel_decompress(const uint8_t *bz, size_t len, uint8_t **out,
		      size_t *out_len, char *err, size_t errlen);

/**
 * kernel_cache_dir() - the cache directory to use, created if missing.
 * @explicit_dir: --kernel-cache DIR, or NULL for the default:
 *	$LOOM_CACHE_DIR/kernels, else /var/cache/loom/kernels as root, else
 *	$XDG_CACHE_HOME/loom/kernels or ~/.cache/loom/kernels.
 * @buf: receives the path.
 * @buflen: its size.
 * @err: buffer for why no cache can be used.
 * @errlen: its size.
 *
 * The directory must belong to the effective user and be writable by it
 * alone: a cache others can write could hand this VMM another kernel. A
 * read-only one (a prepared image) serves hits; fillers then fail quietly.
 *
 * Return: 0 or negative errno.
 */
int kernel_cache_dir(const char *explicit_dir, char *buf, size_t buflen,
		     char *err, size_t errlen);

/**
 * kernel_cache_path() - the cache file for a bzImage: DIR/bz-<hash>-<len>.vmlinux.
 * @dir: from kernel_cache_dir().
 * @bz: bzImage bytes (the key is a 64-bit hash of all of them).
 * @len: their length.
 * @buf: receives the path.
 * @buflen: its size.
 *
 * Return: 0 or -ENAMETOOLONG.
 */
int kernel_cache_path(const char *dir, const uint8_t *bz, size_t len,
		      char *buf, size_t buflen);

/**
 * kernel_cache_store() - write a decompressed kernel to @path atomically.
 * @path: from kernel_cache_path().
 * @vmlinux: the bytes.
 * @len: their length.
 *
 * Written to PATH.part (created exclusively: a second VMM filling the same
 * entry backs off with -EEXIST unless that file is older than ten minutes,
 * left by a filler that died), synced, then renamed over @path. Then the
 * directory keeps its KERNEL_CACHE_KEEP most recently used entries.
 *
 * Return: 0 or negative errno.
 */
int kernel_cache_store(const char *path, const uint8_t *vmlinux, size_t len);

/**
 * kernel_cache_touch() - mark an entry used now (its mtime), for pruning.
 * @path: the entry.
 */
void kernel_cache_touch(const char *path);

/**
 * kernel_cache_fill_async() - decompress and store in a background process.
 * @bz: bzImage bytes (inherited by the child).
 * @len: their length.
 * @path: the cache file to fill.
 *
 * Forks a detached process at the lowest CPU priority, so that this boot
 * (which goes through the guest's decompressor) is not slowed and the next
 * finds the cache filled. Call before any thread is started.
 *
 * Return: 0 when the filler started, negative errno otherwise.
 */
int kernel_cache_fill_async(const uint8_t *bz, size_t len, const char *path);

#endif
