/* SPDX-License-Identifier: MIT */
/* test_lease_journal.c - the lease journal: replay over the snapshot, torn and corrupt records, stale generations, compaction. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "services/lease_journal.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

struct fixture {
	char path[64], jpath[80];
	struct lease_table t;
	struct lease_journal j;
	struct lease_static host;
};

static void table_new(struct fixture *f)
{
	assert_int_equal(lease_table_init(&f->t, IP(10, 0, 0, 10),
					  IP(10, 0, 0, 200), &f->host, 1),
			 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->path, sizeof(f->path), "/tmp/loom-test-journal.%d",
		 (int)getpid());
	snprintf(f->jpath, sizeof(f->jpath), "%s.journal", f->path);
	unlink(f->path);
	unlink(f->jpath);
	memcpy(f->host.mac, (uint8_t[]){ 2, 0, 0, 0, 0, 0x99 }, 6);
	f->host.ip = IP(10, 0, 0, 250);
	snprintf(f->host.name, sizeof(f->host.name), "web");
	table_new(f);
	assert_int_equal(lease_journal_open(&f->j, f->path, &f->t), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	lease_journal_close(&f->j);
	lease_table_fini(&f->t);
	unlink(f->path);
	unlink(f->jpath);
	free(f);
	return 0;
}

/* Client @n (MAC 02:00:00:00:01:n) bound at 10.0.0.@last, host "hN". */
static uint32_t bind_one(struct fixture *f, unsigned int n, uint8_t last)
{
	uint8_t mac[6] = { 2, 0, 0, 0, (uint8_t)(n >> 8), (uint8_t)n };
	uint8_t key[7] = { 1 };
	struct lease *l = lease_by_ip(&f->t, IP(10, 0, 0, last));
	char host[16];

	memcpy(key + 1, mac, 6);
	lease_assign(&f->t, l, key, sizeof(key), mac);
	l->state = LEASE_BOUND;
	l->expiry = 100000 + n;
	snprintf(host, sizeof(host), "h%u", n);
	lease_set_host(&f->t, l, host);
	snprintf(l->port, sizeof(l->port), "p%u", n);
	return (uint32_t)(l - f->t.slots);
}

/* kill -9: nothing more is written; a new process loads the files. */
static int crash_and_reload(struct fixture *f)
{
	lease_journal_close(&f->j);
	lease_table_fini(&f->t);
	table_new(f);
	return lease_journal_open(&f->j, f->path, &f->t);
}

static off_t size_of(const char *path)
{
	struct stat sb;

	return stat(path, &sb) ? -1 : sb.st_size;
}

static void append_raw(const char *path, const char *text)
{
	FILE *fp = fopen(path, "a");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static const char *host_at(struct fixture *f, uint8_t last)
{
	struct lease *l = lease_by_ip(&f->t, IP(10, 0, 0, last));

	return l && l->state == LEASE_BOUND ? l->host : NULL;
}

/* Committed records live only in the journal until a compaction. */
static void test_commit_then_crash(void **state)
{
	struct fixture *f = *state;
	uint32_t idx[3];
	off_t snap;

	snap = size_of(f->path);
	idx[0] = bind_one(f, 1, 11);
	idx[1] = bind_one(f, 2, 12);
	idx[2] = bind_one(f, 3, 13);
	assert_int_equal(lease_journal_commit(&f->j, &f->t, idx, 3), 0);
	assert_int_equal(size_of(f->path), snap); /* no snapshot rewrite */
	assert_true(size_of(f->jpath) > 100);
	/* Free one: a "free" record. */
	lease_clear(&f->t, &f->t.slots[idx[1]]);
	assert_int_equal(lease_journal_commit(&f->j, &f->t, &idx[1], 1), 0);

	assert_int_equal(crash_and_reload(f), 0);
	assert_int_equal(f->j.st.replayed, 4);
	assert_string_equal(host_at(f, 11), "h1");
	assert_null(host_at(f, 12));
	assert_string_equal(host_at(f, 13), "h3");
	assert_non_null(lease_by_name(&f->t, "h3"));
	/* The open folded the journal: a fresh, empty one. */
	assert_int_equal(f->j.nrec, 0);
	assert_int_equal(crash_and_reload(f), 0);
	assert_string_equal(host_at(f, 13), "h3");
	assert_int_equal(f->j.st.replayed, 0);
}

/* A record cut short by the crash was never acknowledged: ignored. */
static void test_torn_last_record(void **state)
{
	struct fixture *f = *state;
	char rec[LEASE_RECORD_MAX];
	uint32_t idx = bind_one(f, 1, 11);
	size_t n;

	assert_int_equal(lease_journal_commit(&f->j, &f->t, &idx, 1), 0);
	idx = bind_one(f, 2, 12);
	n = lease_journal_record(&f->t.slots[idx], rec);
	rec[n / 2] = 0; /* half a line, no newline */
	append_raw(f->jpath, rec);

	assert_int_equal(crash_and_reload(f), 1);
	assert_int_equal(f->j.st.torn, 1);
	assert_string_equal(host_at(f, 11), "h1");
	assert_null(host_at(f, 12));
	/* The compaction at open dropped the torn tail: appends go on. */
	idx = bind_one(f, 3, 13);
	assert_int_equal(lease_journal_commit(&f->j, &f->t, &idx, 1), 0);
	assert_int_equal(crash_and_reload(f), 0);
	assert_string_equal(host_at(f, 11), "h1");
	assert_string_equal(host_at(f, 13), "h3");
}

/* A line whose CRC does not match is skipped; the records after it count. */
static void test_corrupt_record_skipped(void **state)
{
	struct fixture *f = *state;
	char rec[LEASE_RECORD_MAX];
	uint32_t idx = bind_one(f, 1, 11);

	assert_int_equal(lease_journal_commit(&f->j, &f->t, &idx, 1), 0);
	idx = bind_one(f, 2, 12);
	lease_journal_record(&f->t.slots[idx], rec);
	rec[strlen("lease 10.0.0.1")] = '7'; /* 10.0.0.12 -> 10.0.0.17 */
	append_raw(f->jpath, rec);
	append_raw(f->jpath, "lease 10.0.0.14 02:00:00:00:00:04 9 b 01 x p\n");
	append_raw(f->jpath, "\n");
	idx = bind_one(f, 3, 13);
	assert_int_equal(lease_journal_commit(&f->j, &f->t, &idx, 1), 0);

	assert_int_equal(crash_and_reload(f), 3);
	assert_int_equal(f->j.st.corrupt, 3);
	assert_string_equal(host_at(f, 11), "h1");
	assert_null(host_at(f, 12));
	assert_null(host_at(f, 17));
	assert_null(host_at(f, 14)); /* no CRC */
	assert_string_equal(host_at(f, 13), "h3");
}

/* Later records win: a client that moved holds only its new address. */
static void test_client_moves(void **state)
{
	struct fixture *f = *state;
	uint32_t a = bind_one(f, 1, 11), b;

	assert_int_equal(lease_journal_commit(&f->j, &f->t, &a, 1), 0);
	lease_clear(&f->t, &f->t.slots[a]);
	b = bind_one(f, 1, 20);
	/* Only the new slot is recorded, as if the free got lost. */
	assert_int_equal(lease_journal_commit(&f->j, &f->t, &b, 1), 0);
	/* Another client takes the first address. */
	a = bind_one(f, 2, 11);
	assert_int_equal(lease_journal_commit(&f->j, &f->t, &a, 1), 0);

	assert_int_equal(crash_and_reload(f), 0);
	assert_string_equal(host_at(f, 20), "h1");
	assert_string_equal(host_at(f, 11), "h2");
	assert_ptr_equal(lease_by_name(&f->t, "h1"),
			 lease_by_ip(&f->t, IP(10, 0, 0, 20)));
}

/* A journal of an older generation was folded already: ignored. */
static void test_stale_generation(void **state)
{
	struct fixture *f = *state;
	char rec[LEASE_RECORD_MAX];
	uint32_t idx = bind_one(f, 1, 11);
	FILE *fp;

	lease_journal_record(&f->t.slots[idx], rec);
	lease_clear(&f->t, &f->t.slots[idx]);
	/* The snapshot has generation 1 (written at open): a crash between
	 * the next snapshot's rename and the journal's reset leaves a journal
	 * of generation 1 under a snapshot of generation 2. */
	assert_int_equal(lease_table_save(&f->t, f->path, f->j.gen + 1), 0);
	fp = fopen(f->jpath, "w");
	assert_non_null(fp);
	fprintf(fp, "# loom DHCP journal v1 gen %llu\n%s",
		(unsigned long long)f->j.gen, rec);
	fclose(fp);

	assert_int_equal(crash_and_reload(f), 0);
	assert_int_equal(f->j.st.stale, 1);
	assert_null(host_at(f, 11));
}

/* Past the rule's bound the journal is folded into a new snapshot. */
static void test_compaction_bounds_journal(void **state)
{
	struct fixture *f = *state;
	uint64_t gen = f->j.gen, folds = f->j.st.compactions;
	uint32_t idx;
	unsigned int i;

	for (i = 0; i <= LEASE_JOURNAL_COMPACT_MIN; i++) {
		idx = bind_one(f, i, (uint8_t)(10 + i % 180));
		assert_int_equal(lease_journal_commit(&f->j, &f->t, &idx, 1), 0);
	}
	assert_int_equal(f->j.st.compactions, folds + 1);
	assert_int_equal(f->j.gen, gen + 1);
	assert_true(f->j.nrec < 16);
	assert_true(size_of(f->jpath) < 16 * LEASE_RECORD_MAX);
	assert_int_equal(f->j.snap_nrec, 180);
	assert_int_equal(crash_and_reload(f), 0);
	/* The last client bound at each address is the one restored. */
	assert_string_equal(host_at(f, 10 + (i - 1) % 180), "h8192");
	assert_string_equal(host_at(f, 10), "h8100");
}

/* The records are text with their CRC: the parser rejects bad fields. */
static void test_record_format(void **state)
{
	struct fixture *f = *state;
	char rec[LEASE_RECORD_MAX];
	uint32_t idx = bind_one(f, 5, 15);
	struct lease_rec r;
	size_t n = lease_journal_record(&f->t.slots[idx], rec);

	assert_int_equal(rec[n - 1], '\n');
	static const char want[] = "lease 10.0.0.15 02:00:00:00:00:05 100005 "
				   "b 01020000000005 h5 p5 ";

	assert_int_equal(n, sizeof(want) - 1 + 9);
	assert_memory_equal(rec, want, sizeof(want) - 1);
	assert_int_equal(lease_line_parse("free 10.0.0.1", &r), 0);
	assert_true(r.free);
	assert_int_equal(lease_line_parse("free 10.0.0.256", &r), -1);
	assert_int_equal(lease_line_parse("free 10.0.0.1 x", &r), -1);
	assert_int_equal(lease_line_parse("lease 10.0.0.1 02:00:00:00:00:1ff "
					  "1 b 01 - -",
					  &r),
			 -1);
	assert_int_equal(lease_line_parse("lease 10.0.0.1 02:00:00:00:00:01 "
					  "1 x 01 - -",
					  &r),
			 -1);
	assert_int_equal(lease_line_parse("lease 10.0.0.1 02:00:00:00:00:01 "
					  "1 b 0 - -",
					  &r),
			 -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commit_then_crash, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_torn_last_record, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_record_skipped,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_moves, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stale_generation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_compaction_bounds_journal,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_format, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
