/* SPDX-License-Identifier: MIT */
/* test_vhost_user.c - the vhost-user message parser and the memory table: checks, mapping, whole-range translation. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "backends/vhost_user_mem.h"
#include "backends/vhost_user_msg.h"
#include "backends/vhost_user_vring.h"

static uint8_t buf[512];
static char why[160];

/* A message: header + payload into buf; returns its length. */
static size_t mk(uint32_t req, uint32_t flags, const void *pl, uint32_t len)
{
	memcpy(buf, &req, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &len, 4);
	if (len)
		memcpy(buf + 12, pl, len);
	return 12 + len;
}

static int parse(size_t len, unsigned int nfds, struct vhost_user_msg *m)
{
	return vhost_user_msg_parse(buf, len, nfds, m, why, sizeof(why));
}

static void test_parse_good(void **state)
{
	struct vhost_user_msg m;
	uint64_t feat = 1ull << 32;
	struct vhost_user_vring_state st = {.index = 1, .num = 256};
	struct vhost_user_vring_addr a = {.index = 0, .desc_uva = 0x1000};
	uint64_t kick = 1, nofd = 1 | VHOST_USER_VRING_NOFD;

	assert_int_equal(parse(mk(VHOST_USER_GET_FEATURES, 1, NULL, 0), 0, &m), 0);
	assert_int_equal(m.request, VHOST_USER_GET_FEATURES);
	assert_int_equal(parse(mk(VHOST_USER_SET_FEATURES, 1, &feat, 8), 0, &m), 0);
	assert_true(m.payload.u64 == feat);
	assert_int_equal(parse(mk(VHOST_USER_SET_VRING_NUM, 1 | VHOST_USER_FLAG_NEED_REPLY, &st, 8), 0, &m), 0);
	assert_int_equal(m.payload.state.num, 256);
	assert_int_equal(parse(mk(VHOST_USER_SET_VRING_ADDR, 1, &a, 40), 0, &m), 0);
	assert_int_equal(parse(mk(VHOST_USER_SET_VRING_KICK, 1, &kick, 8), 1, &m), 0);
	assert_int_equal(parse(mk(VHOST_USER_SET_VRING_CALL, 1, &nofd, 8), 0, &m), 0);
	assert_string_equal(vhost_user_request_name(VHOST_USER_SET_MEM_TABLE),
			    "SET_MEM_TABLE");
}

static void test_parse_bad(void **state)
{
	struct vhost_user_msg m;
	uint64_t feat = 1, kick = 0, junk = 1ull << 20, idx5 = 5;
	struct vhost_user_vring_state st = {.index = 0, .num = 100};
	struct vhost_user_vring_state st2 = {.index = 2, .num = 256};
	size_t n;

	/* Short header, bad version, reply/unknown flags. */
	assert_int_equal(vhost_user_msg_parse(buf, 11, 0, &m, why, sizeof(why)), -EPROTO);
	assert_int_equal(parse(mk(VHOST_USER_GET_FEATURES, 2, NULL, 0), 0, &m), -EPROTO);
	assert_int_equal(parse(mk(VHOST_USER_GET_FEATURES, 1 | VHOST_USER_FLAG_REPLY, NULL, 0), 0, &m), -EPROTO);
	assert_int_equal(parse(mk(VHOST_USER_GET_FEATURES, 1 | 0x100, NULL, 0), 0, &m), -EPROTO);
	/* Unknown request: not implemented. */
	assert_int_equal(parse(mk(77, 1, NULL, 0), 0, &m), -EOPNOTSUPP);
	assert_int_equal(parse(mk(0, 1, NULL, 0), 0, &m), -EOPNOTSUPP);
	/* Size field vs bytes received; payload size per request. */
	n = mk(VHOST_USER_SET_FEATURES, 1, &feat, 8);
	assert_int_equal(parse(n - 1, 0, &m), -EPROTO);
	assert_int_equal(parse(mk(VHOST_USER_SET_FEATURES, 1, &feat, 4), 0, &m), -EPROTO);
	assert_int_equal(parse(mk(VHOST_USER_GET_FEATURES, 1, &feat, 8), 0, &m), -EPROTO);
	/* A huge size claim. */
	n = mk(VHOST_USER_SET_FEATURES, 1, &feat, 8);
	{
		uint32_t big = 0x7fffffff;

		memcpy(buf + 8, &big, 4);
	}
	assert_int_equal(parse(n, 0, &m), -EPROTO);
	/* fds: none expected, one missing, too many. */
	assert_int_equal(parse(mk(VHOST_USER_SET_FEATURES, 1, &feat, 8), 1, &m), -EPROTO);
	assert_int_equal(parse(mk(VHOST_USER_SET_VRING_KICK, 1, &kick, 8), 0, &m), -EPROTO);
	assert_int_equal(parse(mk(VHOST_USER_SET_VRING_KICK, 1, &kick, 8), 9, &m), -EPROTO);
	/* vring: unknown bits, index out of range, size not a power of 2. */
	assert_int_equal(parse(mk(VHOST_USER_SET_VRING_KICK, 1, &junk, 8), 1, &m), -EPROTO);
	assert_int_equal(parse(mk(VHOST_USER_SET_VRING_CALL, 1, &idx5, 8), 1, &m), -EPROTO);
	assert_int_equal(parse(mk(VHOST_USER_SET_VRING_NUM, 1, &st, 8), 0, &m), -EPROTO);
	assert_int_equal(parse(mk(VHOST_USER_SET_VRING_NUM, 1, &st2, 8), 0, &m), -EPROTO);
	assert_true(why[0] != '\0');
}

static void test_parse_mem_table(void **state)
{
	struct vhost_user_msg m;
	struct vhost_user_memory mem = {.nregions = 2};

	mem.regions[0] = (struct vhost_user_mem_region){0, 0x1000, 0x10000, 0};
	mem.regions[1] = (struct vhost_user_mem_region){0x100000, 0x1000, 0x20000, 0};
	assert_int_equal(parse(mk(VHOST_USER_SET_MEM_TABLE, 1, &mem, 8 + 64), 2, &m), 0);
	assert_int_equal(m.payload.memory.nregions, 2);
	/* One fd per region, the size of exactly nregions entries. */
	assert_int_equal(parse(mk(VHOST_USER_SET_MEM_TABLE, 1, &mem, 8 + 64), 1, &m), -EPROTO);
	assert_int_equal(parse(mk(VHOST_USER_SET_MEM_TABLE, 1, &mem, 8 + 32), 2, &m), -EPROTO);
	mem.nregions = 9;
	assert_int_equal(parse(mk(VHOST_USER_SET_MEM_TABLE, 1, &mem, 8 + 64), 2, &m), -EPROTO);
	mem.nregions = 0;
	assert_int_equal(parse(mk(VHOST_USER_SET_MEM_TABLE, 1, &mem, 8), 0, &m), -EPROTO);
}

static void test_mem_check(void **state)
{
	struct vhost_user_memory mem = {.nregions = 2};

	mem.regions[0] = (struct vhost_user_mem_region){0, 0x2000, 0x10000, 0};
	mem.regions[1] = (struct vhost_user_mem_region){0x2000, 0x1000, 0x20000, 0};
	assert_int_equal(vhost_user_mem_check(&mem, why, sizeof(why)), 0);
	/* Overlap in guest-physical space, then in the front end's. */
	mem.regions[1].gpa = 0x1fff;
	assert_int_equal(vhost_user_mem_check(&mem, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "guest-physical"));
	mem.regions[1].gpa = 0x2000;
	mem.regions[1].uva = 0x11000;
	assert_int_equal(vhost_user_mem_check(&mem, why, sizeof(why)), -EINVAL);
	mem.regions[1].uva = 0x20000;
	/* Empty, huge, wrapping regions. */
	mem.regions[1].size = 0;
	assert_int_equal(vhost_user_mem_check(&mem, why, sizeof(why)), -EINVAL);
	mem.regions[1].size = VHOST_USER_REGION_MAX + 1;
	assert_int_equal(vhost_user_mem_check(&mem, why, sizeof(why)), -EINVAL);
	mem.regions[1].size = 0x1000;
	mem.regions[1].gpa = UINT64_MAX - 0x800;
	assert_int_equal(vhost_user_mem_check(&mem, why, sizeof(why)), -EINVAL);
	mem.regions[1].gpa = 0x2000;
	mem.regions[1].mmap_offset = UINT64_MAX - 0x10;
	assert_int_equal(vhost_user_mem_check(&mem, why, sizeof(why)), -EINVAL);
	mem.regions[1].mmap_offset = 0;
	/* More than the budget in all. */
	mem.regions[0].size = VHOST_USER_REGION_MAX;
	mem.regions[1].gpa = VHOST_USER_REGION_MAX;
	mem.regions[1].uva = 1ull << 50;
	assert_int_equal(vhost_user_mem_check(&mem, why, sizeof(why)), -EINVAL);
}

static int memfd(size_t size, unsigned int seals)
{
	int fd = memfd_create("vhost-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	if (seals)
		assert_int_equal(fcntl(fd, F_ADD_SEALS, seals), 0);
	return fd;
}

static void test_mem_map_translate(void **state)
{
	struct vhost_user_memory mem = {.nregions = 2};
	struct vhost_user_mem m;
	int fds[2], unsealed;
	uint64_t gpa, off;
	uint8_t *p;

	fds[0] = memfd(0x3000, F_SEAL_SHRINK | F_SEAL_GROW);
	fds[1] = memfd(0x2000, F_SEAL_SHRINK);
	mem.regions[0] = (struct vhost_user_mem_region){0, 0x2000, 0x7000000, 0x1000};
	mem.regions[1] = (struct vhost_user_mem_region){0x100000, 0x2000, 0x9000000, 0};
	assert_int_equal(vhost_user_mem_map(&m, &mem, fds, why, sizeof(why)), 0);
	/* Whole ranges inside one region only. */
	p = vhost_user_gpa_ptr(&m, 0x1ff0, 0x10);
	assert_non_null(p);
	p[0] = 0xab; /* really mapped, at mmap_offset 0x1000 + 0x1ff0 */
	{
		uint8_t b = 0;

		assert_int_equal(pread(fds[0], &b, 1, 0x2ff0), 1);
		assert_int_equal(b, 0xab);
	}
	assert_null(vhost_user_gpa_ptr(&m, 0x1ff0, 0x11));
	assert_null(vhost_user_gpa_ptr(&m, 0x2000, 1));
	assert_null(vhost_user_gpa_ptr(&m, 0x1000, UINT64_MAX));
	assert_null(vhost_user_gpa_ptr(&m, UINT64_MAX, 2));
	assert_non_null(vhost_user_gpa_ptr(&m, 0x101fff, 1));
	assert_int_equal(vhost_user_mem_find(&m, 0x100010, 16, &off), 1);
	assert_true(off == 0x10);
	/* Front-end virtual to guest-physical, whole range too. */
	assert_int_equal(vhost_user_uva_to_gpa(&m, 0x9000100, 64, &gpa), 0);
	assert_true(gpa == 0x100100);
	assert_int_equal(vhost_user_uva_to_gpa(&m, 0x9001fc0, 65, &gpa), -EFAULT);
	assert_int_equal(vhost_user_uva_to_gpa(&m, 0x8000000, 1, &gpa), -EFAULT);
	vhost_user_mem_unmap(&m);
	assert_int_equal(m.n, 0);

	/* An fd shorter than the region, and one that could shrink. */
	mem.regions[1].size = 0x3000;
	assert_int_equal(vhost_user_mem_map(&m, &mem, fds, why, sizeof(why)), -EINVAL);
	assert_int_equal(m.n, 0);
	mem.regions[1].size = 0x2000;
	unsealed = memfd(0x2000, 0);
	close(fds[1]);
	fds[1] = unsealed;
	assert_int_equal(vhost_user_mem_map(&m, &mem, fds, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "sealed"));
	close(fds[0]);
	close(unsealed);
}

/*
 * A split ring in a memfd region named by the front end's addresses:
 * translated, walked by the VMM's virtq code, used ring written back.
 */
static void test_vring_walk(void **state)
{
	const uint64_t gpa0 = 0x10000, uva0 = 0x7f0000000000ull;
	struct vhost_user_memory mem = {.nregions = 1};
	struct vhost_user_vring_addr a = {.index = 1};
	struct vhost_user_mem m;
	struct guest_mem gm;
	struct virtq vq;
	struct virtq_seg segs[8];
	struct virtq_chain ch = {.segs = segs, .max_segs = 8};
	uint8_t *base;
	uint16_t u16;
	uint64_t u64;
	uint32_t u32;
	int fd = memfd(0x10000, F_SEAL_SHRINK);

	mem.regions[0] = (struct vhost_user_mem_region){gpa0, 0x10000, uva0, 0};
	assert_int_equal(vhost_user_mem_map(&m, &mem, &fd, why, sizeof(why)), 0);
	assert_int_equal(vhost_user_mem_guest(&m, &gm), 0);
	base = vhost_user_gpa_ptr(&m, gpa0, 0x10000);
	assert_non_null(base);
	/* desc[0]: 100 readable bytes at gpa0 + 0x4000; avail: idx 1, [0]. */
	u64 = gpa0 + 0x4000;
	memcpy(base, &u64, 8);
	u32 = 100;
	memcpy(base + 8, &u32, 4);
	u16 = 1;
	memcpy(base + 0x1000 + 2, &u16, 2);
	a.desc_uva = uva0;
	a.avail_uva = uva0 + 0x1000;
	a.used_uva = uva0 + 0x2000;
	virtq_init(&vq, &gm, 1, 256, "vhost-test");
	assert_int_equal(vhost_user_vring_start(&vq, &m, &a, 8, 0, why,
						sizeof(why)), 0);
	assert_int_equal(virtq_pop(&vq, &ch), 1);
	assert_int_equal(ch.head, 0);
	assert_true(ch.out_len == 100);
	assert_ptr_equal(segs[0].base, base + 0x4000);
	assert_int_equal(virtq_pop(&vq, &ch), 0);
	assert_int_equal(virtq_push(&vq, 0, 0), 0);
	memcpy(&u16, base + 0x2000 + 2, 2);
	assert_int_equal(u16, 1); /* used idx, in the front end's memory */

	/* A ring outside the table, one straddling its end: refused. */
	virtq_init(&vq, &gm, 1, 256, "vhost-test");
	a.used_uva = uva0 + 0x20000;
	assert_int_equal(vhost_user_vring_start(&vq, &m, &a, 8, 0, why,
						sizeof(why)), -EFAULT);
	a.used_uva = uva0 + 0x10000 - 40; /* 8 entries need 70 bytes */
	assert_int_equal(vhost_user_vring_start(&vq, &m, &a, 8, 0, why,
						sizeof(why)), -EFAULT);
	/* A descriptor pointing outside guest memory breaks the queue. */
	a.used_uva = uva0 + 0x2000;
	assert_int_equal(vhost_user_vring_start(&vq, &m, &a, 8, 0, why,
						sizeof(why)), 0);
	u64 = gpa0 + 0x10000 - 50; /* 100 bytes run past the region */
	memcpy(base, &u64, 8);
	assert_int_equal(virtq_pop(&vq, &ch), -EIO);
	assert_int_equal(vq.error, VIRTQ_ERR_ADDR);
	vhost_user_mem_unmap(&m);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_parse_mem_table),
	    cmocka_unit_test(test_mem_check),
	    cmocka_unit_test(test_mem_map_translate),
	    cmocka_unit_test(test_vring_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
