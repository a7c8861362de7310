/* SPDX-License-Identifier: MIT */
/* kernel_file.c - reading the kernel and initrd, and the kernel cache's part in it. */
#include "vmm/kernel_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/kernel_cache.h"

LOG_MODULE("kernel-file");

enum { MAX_FILE_SIZE = 1u << 30 };

/*
 * Read a file, or its first @limit bytes, into anonymous memory (freed
 * with munmap() once the guest has its copy). read() rather than mmap():
 * over a network or 9p file system, page faults fetch a file a few pages
 * at a time, large reads fetch it in big requests. With @keep_fd, the file
 * stays open there when only part of it was read.
 */
static const uint8_t *read_file_part(const char *path, size_t limit,
				     size_t *len, uint64_t *file_len,
				     int *keep_fd, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *p;
	size_t got = 0, size;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || !st.st_size ||
	    st.st_size > MAX_FILE_SIZE) {
		snprintf(err, errlen, "%s: not a regular file of 1 byte to "
			 "1 GiB", path);
		close(fd);
		return NULL;
	}
	size = (size_t)st.st_size < limit ? (size_t)st.st_size : limit;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	/* A 16 MiB bzImage is 4k page faults in 4 KiB pages, 8 in 2 MiB. */
	madvise(p, size, MADV_HUGEPAGE);
	while (got < size) {
		ssize_t n = read(fd, p + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: %s", path,
				 n ? strerror(errno) : "file shrank while read");
			munmap(p, size);
			close(fd);
			return NULL;
		}
		got += (size_t)n;
	}
	*len = size;
	*file_len = (uint64_t)st.st_size;
	if (keep_fd && size < (size_t)st.st_size)
		*keep_fd = fd;
	else
		close(fd);
	return p;
}

const uint8_t *kernel_read_file(const char *path, size_t *len, char *err,
				size_t errlen)
{
	uint64_t file_len;

	return read_file_part(path, SIZE_MAX, len, &file_len, NULL, err,
			      errlen);
}

enum { KERNEL_HEAD = 64 << 10 };	/* holds any vmlinux's headers */

static int kernel_file_pread(void *ctx, uint8_t *dst, uint64_t offset,
			     uint64_t len)
{
	const struct kernel_file *k = ctx;

	while (len) {
		ssize_t n = pread(k->fd, dst, len, (off_t)offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EIO;
		dst += n;
		offset += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

void kernel_file_close(struct kernel_file *k)
{
	if (k->buf)
		munmap((void *)k->buf, k->len);
	if (k->fd >= 0)
		close(k->fd);
	k->buf = NULL;
	k->fd = -1;
}

/* Open @path as a kernel: an ELF only in part (unless @raw), else whole. */
int kernel_file_open(struct kernel_file *k, const char *path,
			    bool raw, char *err, size_t errlen)
{
	k->fd = -1;
	k->buf = read_file_part(path, raw ? SIZE_MAX : KERNEL_HEAD, &k->len,
				&k->file_len, &k->fd, err, errlen);
	if (!k->buf)
		return -EIO;
	if (k->len == k->file_len || boot_is_elf(k->buf, k->len))
		return 0;
	kernel_file_close(k);
	k->buf = kernel_read_file(path, &k->len, err, errlen);
	k->file_len = k->len;
	return k->buf ? 0 : -EIO;
}

struct boot_elf_file kernel_file_elf(struct kernel_file *k)
{
	return (struct boot_elf_file){
		k->buf, k->len, k->file_len,
		k->fd >= 0 ? kernel_file_pread : NULL, k,
	};
}

/*
 * A bzImage whose decompressed kernel is in the cache boots as that vmlinux
 * (replacing *k); on a miss a background filler prepares it for the
 * next boot. Any cache trouble only costs the speed-up: the bzImage boots.
 * Returns what the start-up log line says about it.
 */
const char *kernel_from_cache(const char *dir_opt, const char *kernel,
				     struct kernel_file *k, bool *is_elf)
{
	char dir[PATH_MAX], path[PATH_MAX], err[256];
	const uint8_t *payload;
	size_t payload_len;
	uint64_t out_len;
	struct kernel_file cached;
	struct boot_elf_file elf;
	struct stat st;
	int ret;

	if (kernel_payload(k->buf, k->len, &payload, &payload_len, &out_len) ==
	    KERNEL_CODEC_NONE)
		return " (compressed with a codec loom-vmm does not decode)";
	if (kernel_cache_dir(dir_opt, dir, sizeof(dir), err, sizeof(err))) {
		log_info(MOD, "kernel cache off: %s", err);
		return " (no kernel cache)";
	}
	if (kernel_cache_path(dir, k->buf, k->len, path, sizeof(path)))
		return " (no kernel cache)";
	if (lstat(path, &st) && errno == ENOENT) {
		ret = kernel_cache_fill_async(k->buf, k->len, path);
		if (ret)
			log_info(MOD, "kernel cache: no filler: %s",
				 strerror(-ret));
		return " (decompressing for the cache in the background)";
	}
	if (kernel_file_open(&cached, path, false, err, sizeof(err))) {
		log_warn(MOD, "kernel cache: %s", err);
		return " (kernel cache unreadable)";
	}
	elf = kernel_file_elf(&cached);
	if (boot_elf_file_check(&elf, err, sizeof(err))) {
		log_warn(MOD, "kernel cache: %s: %s; removed", path, err);
		unlink(path);
		kernel_file_close(&cached);
		return " (bad cache entry removed)";
	}
	log_info(MOD, "%s: booting its decompressed kernel %s", kernel, path);
	kernel_cache_touch(path);
	kernel_file_close(k);
	*k = cached;
	*is_elf = true;
	return " (decompressed copy from the kernel cache)";
}

/* --cache-kernel: fill the cache entry now and print its path. */
int kernel_cache_now(const char *dir_opt, const char *kernel,
			    const uint8_t *kbuf, size_t klen)
{
	char dir[PATH_MAX], path[PATH_MAX], err[256];
	uint8_t *out;
	size_t out_len;
	struct stat st;
	int ret;

	ret = kernel_cache_dir(dir_opt, dir, sizeof(dir), err, sizeof(err));
	if (!ret)
		ret = kernel_cache_path(dir, kbuf, klen, path, sizeof(path));
	if (ret) {
		fprintf(stderr, "loom-vmm: kernel cache: %s\n",
			ret == -ENAMETOOLONG ? "path too long" : err);
		return ret;
	}
	if (!lstat(path, &st)) {
		puts(path);
		return 0;
	}
	ret = kernel_decompress(kbuf, klen, &out, &out_len, err, sizeof(err));
	if (!ret && boot_elf_check(out, out_len, err, sizeof(err))) {
		munmap(out, out_len);
		ret = -EINVAL;
	}
	if (ret) {
		fprintf(stderr, "loom-vmm: %s: %s\n", kernel, err);
		return ret;
	}
	ret = kernel_cache_store(path, out, out_len);
	munmap(out, out_len);
	if (ret) {
		fprintf(stderr, "loom-vmm: %s: %s\n", path,
			ret == -EEXIST ? "being filled by another loom-vmm" :
					 strerror(-ret));
		return ret;
	}
	puts(path);
	return 0;
}

