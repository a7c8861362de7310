/* SPDX-License-Identifier: MIT */
/* kernel_cache.c - decompress a bzImage's kernel on the host (gzip, xz, zstd) and keep it in a per-user cache. */
#include "vmm/kernel_cache.h"

#include "vmm/boot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/* Setup header fields (Documentation/arch/x86/boot.rst). */
enum {
	HDR_SETUP_SECTS = 0x1f1,
	HDR_PAYLOAD_OFFSET = 0x248,
	HDR_PAYLOAD_LENGTH = 0x24c,
	PART_STALE_SECS = 600,
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

enum kernel_codec kernel_payload(const uint8_t *bz, size_t len,
				 const uint8_t **payload, size_t *payload_len,
				 uint64_t *out_len)
{
	static const uint8_t gzip_magic[] = { 0x1f, 0x8b };
	static const uint8_t xz_magic[] = { 0xfd, '7', 'z', 'X', 'Z', 0 };
	static const uint8_t zstd_magic[] = { 0x28, 0xb5, 0x2f, 0xfd };
	uint64_t start, plen;
	const uint8_t *p;

	if (len < HDR_PAYLOAD_LENGTH + 4)
		return KERNEL_CODEC_NONE;
	/* payload_offset counts from the protected-mode code. */
	start = ((uint64_t)(bz[HDR_SETUP_SECTS] ? bz[HDR_SETUP_SECTS] : 4) +
		 1) * 512 + get_le32(bz + HDR_PAYLOAD_OFFSET);
	plen = get_le32(bz + HDR_PAYLOAD_LENGTH);
	if (plen < 16 || start > len || plen > len - start)
		return KERNEL_CODEC_NONE;
	p = bz + start;
	/* The kernel build appends the decompressed size, little-endian. */
	*out_len = get_le32(p + plen - 4);
	*payload = p;
	*payload_len = (size_t)plen - 4;
	if (!memcmp(p, xz_magic, sizeof(xz_magic)))
		return KERNEL_CODEC_XZ;
	if (!memcmp(p, zstd_magic, sizeof(zstd_magic)))
		return KERNEL_CODEC_ZSTD;
	if (!memcmp(p, gzip_magic, sizeof(gzip_magic)))
		return KERNEL_CODEC_GZIP;
	return KERNEL_CODEC_NONE;
}

static int decompress_xz(const uint8_t *in, size_t in_len, uint8_t *out,
			 size_t out_len, char *err, size_t errlen)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret r;

	/* The kernel's xz uses a dictionary of at most 64 MiB. */
	if (lzma_stream_decoder(&s, 256ull << 20, 0) != LZMA_OK) {
		set_err(err, errlen, "xz: decoder set-up failed");
		return -ENOMEM;
	}
	s.next_in = in;
	s.avail_in = in_len;
	s.next_out = out;
	s.avail_out = out_len;
	r = lzma_code(&s, LZMA_FINISH);
	lzma_end(&s);
	if (r != LZMA_STREAM_END || s.avail_out) {
		set_err(err, errlen, "xz: %s",
			r == LZMA_STREAM_END ? "shorter than its size trailer" :
			r == LZMA_OK || r == LZMA_BUF_ERROR ?
					       "longer than its size trailer or cut short" :
					       "corrupt stream");
		return -EINVAL;
	}
	return 0;
}

static int decompress_zstd(const uint8_t *in, size_t in_len, uint8_t *out,
			   size_t out_len, char *err, size_t errlen)
{
	size_t frame = ZSTD_findFrameCompressedSize(in, in_len);
	size_t n;

	if (ZSTD_isError(frame)) {
		set_err(err, errlen, "zstd: %s", ZSTD_getErrorName(frame));
		return -EINVAL;
	}
	n = ZSTD_decompress(out, out_len, in, frame);
	if (ZSTD_isError(n) || n != out_len) {
		set_err(err, errlen, "zstd: %s",
			ZSTD_isError(n) ? ZSTD_getErrorName(n) :
					  "shorter than its size trailer");
		return -EINVAL;
	}
	return 0;
}

static int decompress_gzip(const uint8_t *in, size_t in_len, uint8_t *out,
			   size_t out_len, char *err, size_t errlen)
{
	z_stream s;
	int r;

	memset(&s, 0, sizeof(s));
	/* 16 + 15: a gzip wrapper around a 32 KiB window. */
	if (inflateInit2(&s, 16 + 15) != Z_OK) {
		set_err(err, errlen, "gzip: decoder set-up failed");
		return -ENOMEM;
	}
	/* zlib counts in uInt: feed and drain in pieces below 4 GiB. */
	s.next_in = (Bytef *)(uintptr_t)in;
	s.next_out = out;
	do {
		size_t in_left = in_len - (size_t)((const uint8_t *)s.next_in - in);
		size_t out_left = out_len - (size_t)(s.next_out - out);

		s.avail_in = (uInt)(in_left > UINT_MAX ? UINT_MAX : in_left);
		s.avail_out = (uInt)(out_left > UINT_MAX ? UINT_MAX : out_left);
		r = inflate(&s, Z_FINISH);
	} while (r == Z_BUF_ERROR && s.avail_out && s.avail_in);
	inflateEnd(&s);
	if (r != Z_STREAM_END || (size_t)(s.next_out - out) != out_len) {
		set_err(err, errlen, "gzip: %s",
			r == Z_STREAM_END ? "shorter than its size trailer" :
			r == Z_BUF_ERROR ? "longer than its size trailer or cut short" :
					   "corrupt stream");
		return -EINVAL;
	}
	return 0;
}

int kernel_decompress(const uint8_t *bz, size_t len, uint8_t **out,
		      size_t *out_len, char *err, size_t errlen)
{
	const uint8_t *payload;
	size_t payload_len;
	uint64_t size;
	enum kernel_codec codec;
	uint8_t *buf;
	int ret;

	codec = kernel_payload(bz, len, &payload, &payload_len, &size);
	if (codec == KERNEL_CODEC_NONE) {
		set_err(err, errlen, "kernel payload not gzip, xz or zstd");
		return -ENOTSUP;
	}
	if (size < 64 || size > KERNEL_CACHE_MAX_OUT) {
		set_err(err, errlen, "kernel payload announces %llu bytes "
			"(want 64 to %llu)", (unsigned long long)size,
			(unsigned long long)KERNEL_CACHE_MAX_OUT);
		return -EINVAL;
	}
	/* Untouched pages cost nothing: a lying trailer only costs address space. */
	buf = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (buf == MAP_FAILED) {
		set_err(err, errlen, "%s", strerror(errno));
		return -ENOMEM;
	}
	switch (codec) {
	case KERNEL_CODEC_XZ:
		ret = decompress_xz(payload, payload_len, buf, (size_t)size,
				    err, errlen);
		break;
	case KERNEL_CODEC_ZSTD:
		ret = decompress_zstd(payload, payload_len, buf, (size_t)size,
				      err, errlen);
		break;
	default:
		ret = decompress_gzip(payload, payload_len, buf, (size_t)size,
				      err, errlen);
		break;
	}
	if (ret) {
		munmap(buf, (size_t)size);
		return ret;
	}
	*out = buf;
	*out_len = (size_t)size;
	return 0;
}

/* mkdir -p for the cache's own levels, each private to this user. */
static int make_dirs(char *path)
{
	char *p;

	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0700) && errno != EEXIST) {
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int kernel_cache_dir(const char *explicit_dir, char *buf, size_t buflen,
		     char *err, size_t errlen)
{
	const char *env = getenv("LOOM_CACHE_DIR");
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	struct stat st;
	int n, ret;

	if (explicit_dir)
		n = snprintf(buf, buflen, "%s", explicit_dir);
	else if (env && *env)
		n = snprintf(buf, buflen, "%s/kernels", env);
	else if (geteuid() == 0)
		n = snprintf(buf, buflen, "/var/cache/loom/kernels");
	else if (xdg && *xdg == '/')
		n = snprintf(buf, buflen, "%s/loom/kernels", xdg);
	else if (home && *home == '/')
		n = snprintf(buf, buflen, "%s/.cache/loom/kernels", home);
	else {
		set_err(err, errlen, "no cache directory ($HOME unset)");
		return -ENOENT;
	}
	if (n < 0 || (size_t)n >= buflen) {
		set_err(err, errlen, "cache directory name too long");
		return -ENAMETOOLONG;
	}
	ret = make_dirs(buf);
	if (ret) {
		set_err(err, errlen, "%s: %s", buf, strerror(-ret));
		return ret;
	}
	if (lstat(buf, &st)) {
		ret = -errno;
		set_err(err, errlen, "%s: %s", buf, strerror(errno));
		return ret;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022)) {
		set_err(err, errlen, "%s: not a directory of this user's that "
			"only it can write", buf);
		return -EPERM;
	}
	/* Not W_OK: a read-only cache (a prepared image) still serves hits. */
	if (access(buf, R_OK | X_OK)) {
		ret = -errno;
		set_err(err, errlen, "%s: %s", buf, strerror(errno));
		return ret;
	}
	return 0;
}

/*
 * A content key, not a file key: a bzImage rebuilt in place (same name,
 * size, even mtime) gets a new entry. Word-at-a-time multiply-xorshift: a
 * cache key needs spread, not cryptographic strength, and the whole file
 * is hashed on every boot.
 */
static uint64_t content_hash(const uint8_t *p, size_t len)
{
	const uint64_t k = 0x9e3779b97f4a7c15ull;
	uint64_t h = 0x243f6a8885a308d3ull ^ len;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	for (; i < len; i++)
		h = (h ^ p[i]) * k;
	h ^= h >> 32;
	return h;
}

int kernel_cache_path(const char *dir, const uint8_t *bz, size_t len,
		      char *buf, size_t buflen)
{
	int n = snprintf(buf, buflen, "%s/bz-%016llx-%zu.vmlinux", dir,
			 (unsigned long long)content_hash(bz, len), len);

	return n < 0 || (size_t)n >= buflen ? -ENAMETOOLONG : 0;
}

/* Create PATH.part exclusively; take over one a dead filler left behind. */
static int open_part(const char *part)
{
	struct stat st;
	int fd;

	fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0 || errno != EEXIST)
		return fd >= 0 ? fd : -errno;
	if (lstat(part, &st) || time(NULL) - st.st_mtime < PART_STALE_SECS)
		return -EEXIST;
	unlink(part);
	fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	return fd >= 0 ? fd : -errno;
}

/*
 * Keep the KERNEL_CACHE_KEEP most recently used entries in @path's
 * directory: an entry's mtime is set on every hit (kernel_cache_touch()),
 * so the oldest mtimes go first. Other files there are left alone.
 */
static void cache_prune(const char *path)
{
	struct entry {
		struct timespec mtime;
		char name[NAME_MAX + 1];
	} *e = NULL, *grown, tmp;
	char dir[PATH_MAX], victim[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n = 0, cap = 0, i, j;
	struct dirent *d;
	struct stat st;
	DIR *dp;

	if (!slash || (size_t)(slash - path) >= sizeof(dir))
		return;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = 0;
	dp = opendir(dir);
	if (!dp)
		return;
	while ((d = readdir(dp))) {
		size_t l = strlen(d->d_name);

		if (strncmp(d->d_name, "bz-", 3) || l < 11 ||
		    strcmp(d->d_name + l - 8, ".vmlinux") ||
		    fstatat(dirfd(dp), d->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(e, cap * sizeof(*e));
			if (!grown)
				break;
			e = grown;
		}
		e[n].mtime = st.st_mtim;
		snprintf(e[n].name, sizeof(e[n].name), "%s", d->d_name);
		n++;
	}
	closedir(dp);
	/* Newest first (insertion sort: a cache holds a handful). */
	for (i = 1; i < n; i++) {
		tmp = e[i];
		for (j = i; j > 0 && (e[j - 1].mtime.tv_sec < tmp.mtime.tv_sec ||
				      (e[j - 1].mtime.tv_sec == tmp.mtime.tv_sec &&
				       e[j - 1].mtime.tv_nsec < tmp.mtime.tv_nsec));
		     j--)
			e[j] = e[j - 1];
		e[j] = tmp;
	}
	for (i = KERNEL_CACHE_KEEP; i < n; i++)
		if (snprintf(victim, sizeof(victim), "%s/%s", dir, e[i].name) <
		    (int)sizeof(victim))
			unlink(victim);
	free(e);
}

void kernel_cache_touch(const char *path)
{
	utimensat(AT_FDCWD, path, NULL, 0);
}

int kernel_cache_store(const char *path, const uint8_t *vmlinux, size_t len)
{
	char part[PATH_MAX];
	size_t done = 0;
	int fd, ret = 0;

	if (snprintf(part, sizeof(part), "%s.part", path) >= (int)sizeof(part))
		return -ENAMETOOLONG;
	fd = open_part(part);
	if (fd < 0)
		return fd;
	while (done < len) {
		ssize_t n = write(fd, vmlinux + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	/* Synced before the rename: a crash never leaves a torn entry. */
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(part, path))
		ret = -errno;
	if (ret)
		unlink(part);
	else
		cache_prune(path);
	return ret;
}

int kernel_cache_fill_async(const uint8_t *bz, size_t len, const char *path)
{
	pid_t pid, grandchild, r;
	int status = 0;

	/* Double fork: the filler is nobody's child to reap. */
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid) {
		do
			r = waitpid(pid, &status, 0);
		while (r < 0 && errno == EINTR);
		return r == pid && WIFEXITED(status) && !WEXITSTATUS(status) ?
			       0 : -ECHILD;
	}
	grandchild = fork();
	if (grandchild)
		_exit(grandchild < 0 ? 1 : 0);
	{
		uint8_t *out;
		size_t out_len;
		int fd;

		setsid();
		/* Nothing of the VMM's stays open in the filler. */
		close_range(3, ~0u, 0);
		/* Only spare CPU: the VM this process started comes first. */
		setpriority(PRIO_PROCESS, 0, 19);
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (kernel_decompress(bz, len, &out, &out_len, NULL, 0) ||
		    boot_elf_check(out, out_len, NULL, 0))
			_exit(1);
		_exit(kernel_cache_store(path, out, out_len) ? 1 : 0);
	}
}
