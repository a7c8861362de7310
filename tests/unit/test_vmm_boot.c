/* SPDX-License-Identifier: MIT */
/* test_vmm_boot.c - bzImage header checks, boot_params, e820, MP tables. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/boot.h"
#include "vmm/control.h"
#include "vmm/guest_mem.h"
#include "vmm/vm.h"

enum { RAM = 64u << 20, KSIZE = 64 * 1024 };

static struct guest_mem gm;
static uint8_t *ram;

static int setup(void **state)
{
	(void)state;
	assert_int_equal(guest_mem_init(&gm, RAM, GUEST_MEM_X86_LOW_LIMIT), 0);
	ram = guest_mem_ptr(&gm, 0, RAM);
	assert_non_null(ram);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	guest_mem_destroy(&gm);
	return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

/* A synthetic bzImage: valid header, 4 setup sectors, small payload. */
static uint8_t *fake_kernel(void)
{
	uint8_t *k = calloc(1, KSIZE);

	assert_non_null(k);
	k[0x1f1] = 4;
	put16(k + 0x1fe, 0xaa55);
	k[0x201] = 0x66;		/* jump: header ends at 0x268 */
	memcpy(k + 0x202, "HdrS", 4);
	put16(k + 0x206, 0x020f);
	k[0x211] = 0x01;		/* LOADED_HIGH */
	put32(k + 0x22c, 0x7fffffff);	/* initrd_addr_max */
	put32(k + 0x230, 0x200000);
	k[0x234] = 1;
	put16(k + 0x236, 0x3);		/* XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
	put32(k + 0x238, 2047);		/* cmdline_size */
	put32(k + 0x260, 8u << 20);	/* init_size */
	put32(k + 0x1f4, (KSIZE - 5 * 512) / 16);	/* syssize */
	put32(k + 0x248, 0x100);	/* payload offset and length */
	put32(k + 0x24c, 0x1000);
	memset(k + 5 * 512, 0x90, KSIZE - 5 * 512);
	return k;
}

static int load(const uint8_t *k, size_t len, char *err)
{
	struct boot_info info;

	return boot_linux_load(&gm, k, len, NULL, 0, "console=ttyS0", &info,
			       err, 200);
}

static void test_good_kernel(void **state)
{
	static const uint8_t initrd[8192] = { 1, 2, 3 };
	uint8_t *k = fake_kernel(), *bp;
	struct boot_info info;
	char err[200] = "";
	unsigned int n, i;
	uint64_t total = 0;

	(void)state;
	assert_int_equal(boot_linux_load(&gm, k, KSIZE, initrd,
					 sizeof(initrd), "console=ttyS0 quiet",
					 &info, err, sizeof(err)),
			 0);
	assert_int_equal(info.entry, 0x100200);
	assert_int_equal(info.protocol, 0x020f);
	/* Payload at 1 MiB, initrd page aligned at the top of RAM. */
	assert_int_equal(ram[0x100000], 0x90);
	assert_int_equal(info.initrd_addr % 4096, 0);
	assert_true(info.initrd_addr + sizeof(initrd) <= RAM);
	assert_int_equal(ram[info.initrd_addr], 1);
	assert_string_equal((char *)ram + BOOT_CMDLINE_ADDR,
			    "console=ttyS0 quiet");
	bp = ram + BOOT_PARAMS_ADDR;
	assert_memory_equal(bp + 0x202, "HdrS", 4);
	assert_int_equal(bp[0x210], 0xff);	/* type_of_loader */
	assert_int_equal(bp[0x228] | bp[0x229] << 8 | bp[0x22a] << 16,
			 BOOT_CMDLINE_ADDR);
	/* e820: low RAM, EBDA reserved, RAM from 1 MiB to the end. */
	n = bp[0x1e8];
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		const uint8_t *e = bp + 0x2d0 + 20 * i;
		uint64_t len;

		memcpy(&len, e + 8, 8);
		if (e[16] == 1)
			total += len;
	}
	assert_int_equal(total, BOOT_EBDA_START + (RAM - 0x100000));
	free(k);
}

static void test_bad_kernels(void **state)
{
	uint8_t *k = fake_kernel();
	char err[200];

	(void)state;
	/* Truncated at every interesting length: error, never a crash. */
	assert_int_equal(load(k, 0, err), -ENOEXEC);
	assert_int_equal(load(k, 0x200, err), -ENOEXEC);
	assert_non_null(strstr(err, "too short"));
	assert_int_equal(load(k, 0x263, err), -ENOEXEC);
	assert_int_equal(load(k, 5 * 512, err), -ENOEXEC);
	assert_non_null(strstr(err, "truncated"));

	k[0x203] = 'x';
	assert_int_equal(load(k, KSIZE, err), -ENOEXEC);
	assert_non_null(strstr(err, "HdrS"));
	k[0x203] = 'd';

	put16(k + 0x206, 0x020b);
	assert_int_equal(load(k, KSIZE, err), -ENOEXEC);
	assert_non_null(strstr(err, "2.11"));
	put16(k + 0x206, 0x020f);

	put16(k + 0x236, 0);
	assert_int_equal(load(k, KSIZE, err), -ENOEXEC);
	assert_non_null(strstr(err, "64-bit"));
	put16(k + 0x236, 1);

	k[0x1f1] = 200;	/* setup sectors past the end */
	assert_int_equal(load(k, KSIZE, err), -ENOEXEC);
	k[0x1f1] = 4;

	put32(k + 0x260, 0xfffffff0u);	/* absurd init_size */
	assert_int_equal(load(k, KSIZE, err), -ENOEXEC);
	put32(k + 0x260, 60u << 20);	/* does not fit in 64 MiB */
	assert_int_equal(load(k, KSIZE, err), -ENOEXEC);
	assert_non_null(strstr(err, "RAM"));
	put32(k + 0x260, 8u << 20);

	/* Cut off inside the payload. */
	assert_int_equal(load(k, KSIZE - 16, err), -ENOEXEC);
	assert_non_null(strstr(err, "shorter than its header"));
	put32(k + 0x24c, 0xfffffff0u);
	assert_int_equal(load(k, KSIZE, err), -ENOEXEC);
	put32(k + 0x24c, 0x1000);

	put16(k + 0x1fe, 0);
	assert_int_equal(load(k, KSIZE, err), -ENOEXEC);
	put16(k + 0x1fe, 0xaa55);
	assert_int_equal(load(k, KSIZE, err), 0);
	free(k);
}

static void test_cmdline_and_initrd_limits(void **state)
{
	uint8_t *k = fake_kernel();
	char *longcmd = malloc(4096);
	struct boot_info info;
	char err[200];

	(void)state;
	memset(longcmd, 'a', 4095);
	longcmd[4095] = '\0';
	assert_int_equal(boot_linux_load(&gm, k, KSIZE, NULL, 0, longcmd,
					 &info, err, sizeof(err)),
			 -ENOEXEC);
	assert_non_null(strstr(err, "command line"));
	/* An initrd bigger than RAM. */
	assert_int_equal(boot_linux_load(&gm, k, KSIZE, k, RAM + 1, "", &info,
					 err, sizeof(err)),
			 -ENOEXEC);
	free(longcmd);
	free(k);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void test_mptable(void **state)
{
	const uint8_t *fp = ram + BOOT_MPFP_ADDR, *t;
	unsigned int len, count, cpus = 0, ints = 0, i;
	const uint8_t *e;

	(void)state;
	assert_int_equal(boot_mptable_write(&gm, 4, 1u << 0 | 1u << 1 | 1u << 3),
			 0);
	assert_memory_equal(fp, "_MP_", 4);
	assert_int_equal(sum(fp, 16), 0);
	t = ram + (fp[4] | fp[5] << 8 | fp[6] << 16);
	assert_memory_equal(t, "PCMP", 4);
	len = t[4] | t[5] << 8;
	count = t[34] | t[35] << 8;
	assert_int_equal(sum(t, len), 0);
	e = t + 44;
	for (i = 0; i < count; i++) {
		switch (e[0]) {
		case 0:
			cpus++;
			e += 20;
			break;
		case 3:
			if (e[4] == 0)	/* PCI bus */
				ints++;
			e += 8;
			break;
		default:
			e += 8;
			break;
		}
	}
	assert_ptr_equal(e, t + len);
	assert_int_equal(cpus, 4);
	assert_int_equal(ints, 8);	/* slots 1 and 3, four pins each */
	assert_int_equal(boot_mptable_write(&gm, 0, 0), -EINVAL);
	assert_int_equal(boot_mptable_write(&gm, 64, 0xfffffffeu), 0);
}

static void test_control_protocol(void **state)
{
	struct control_info info = { .name = "t", .mem_bytes = 1 << 20 };
	struct vm vm;
	char *r;

	(void)state;
	assert_int_equal(vm_init_nokvm(&vm, 0), 0);
	r = control_handle_line(&vm, &info, "{\"cmd\":\"status\"}");
	assert_non_null(strstr(r, "\"state\":\"running\""));
	assert_non_null(strstr(r, "\"name\":\"t\""));
	free(r);
	r = control_handle_line(&vm, &info, "{\"cmd\":\"counters\"}");
	assert_non_null(strstr(r, "\"exits_io\":0"));
	free(r);
	r = control_handle_line(&vm, &info, "not json");
	assert_non_null(strstr(r, "\"ok\":false"));
	free(r);
	r = control_handle_line(&vm, &info, "{\"cmd\":7}");
	assert_non_null(strstr(r, "\"ok\":false"));
	free(r);
	r = control_handle_line(&vm, &info, "{\"cmd\":\"stop\"}");
	assert_non_null(strstr(r, "\"ok\":true"));
	assert_int_equal(vm.exit_code, VM_EXIT_STOPPED);
	free(r);
	vm_destroy(&vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_kernel),
		cmocka_unit_test(test_bad_kernels),
		cmocka_unit_test(test_cmdline_and_initrd_limits),
		cmocka_unit_test(test_mptable),
		cmocka_unit_test(test_control_protocol),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
