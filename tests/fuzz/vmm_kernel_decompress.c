/* SPDX-License-Identifier: MIT */
/* vmm_kernel_decompress.c - fuzz the kernel cache's bzImage payload decoder (gzip, xz, zstd, size trailer). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vmm/kernel_cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: a bzImage (its setup header's payload offset and length locate
 * the payload). Payloads announcing more than 64 MiB are skipped: the
 * decoder would honour up to KERNEL_CACHE_MAX_OUT, but a fuzzer that
 * decompresses a gigabyte per input finds nothing faster.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *payload;
	size_t payload_len, out_len;
	uint64_t announced;
	enum kernel_codec codec;
	uint8_t *out;
	char err[128] = "";
	int ret;

	codec = kernel_payload(data, size, &payload, &payload_len, &announced);
	if (codec != KERNEL_CODEC_NONE &&
	    (payload < data || payload + payload_len + 4 > data + size))
		abort();
	if (codec != KERNEL_CODEC_NONE && announced > (64u << 20))
		return 0;
	ret = kernel_decompress(data, size, &out, &out_len, err, sizeof(err));
	if (ret == 0) {
		/* What it promises: exactly the announced size. */
		if (codec == KERNEL_CODEC_NONE || out_len != announced)
			abort();
		munmap(out, out_len);
	} else if (ret != -EINVAL && ret != -ENOTSUP && ret != -ENOMEM) {
		abort();
	} else if (!memchr(err, 0, sizeof(err)) || !err[0]) {
		abort();	/* every failure says why */
	}
	return 0;
}
