/* SPDX-License-Identifier: MIT */
/* csum.h - the Internet checksum (RFC 1071) over a buffer, eight bytes at a time. */
#ifndef LOOM_COMMON_CSUM_H
#define LOOM_COMMON_CSUM_H

#include <stddef.h>
#include <stdint.h>

/*
 * csum_add() - @sum plus the ones' complement sum of @len bytes at @p,
 * read as big-endian 16-bit words (an odd last byte is the high half of
 * one), folded to 16 bits. The same value as the two-byte loop of RFC
 * 1071, several times faster on 64 KiB frames (the NAT uplink completes
 * every TCP segment a TAP hands it; at MTU 65520 that is the whole
 * payload per segment). @p needs no alignment.
 */
uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len);

/* csum_fold() - the complement of @sum folded to 16 bits: the field. */
uint16_t csum_fold(uint32_t sum);

#endif
