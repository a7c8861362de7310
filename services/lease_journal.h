/* SPDX-License-Identifier: MIT */
/* lease_journal.h - the lease file as a snapshot plus an append-only journal: group commit, replay, compaction. */
#ifndef LOOM_SERVICES_LEASE_JOURNAL_H
#define LOOM_SERVICES_LEASE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "services/lease.h"

/*
 * On disk, for lease file PATH:
 *   PATH          the snapshot: every BOUND and DECLINED lease at one
 *                 moment (lease_table_save: temp, fsync, rename, fsync of
 *                 the directory), its header names a generation G;
 *   PATH.journal  what changed since: a header naming G, then one record
 *                 per changed slot ("lease ..." as in the snapshot, or
 *                 "free IP"), each line ending in its CRC-32, appended and
 *                 made durable with one fdatasync per commit (a batch of
 *                 ACKs: group commit).
 * Reload: the snapshot, then the journal's records in order when its
 * generation is the snapshot's (a journal of an older generation was
 * folded into the snapshot already: a crash between the snapshot's
 * rename and the journal's reset). A last line without its newline is a
 * torn write and is ignored; a line whose CRC does not match is skipped
 * and counted; so is a record for an address the table no longer serves
 * (the range or a static host was changed). Neither was acknowledged: an ACK leaves only after the
 * fdatasync that covers its record returned.
 *
 * Bound and compaction rule: the journal is folded into a new snapshot
 * (generation G+1) and reset when it holds more than
 * LEASE_JOURNAL_COMPACT_MIN + 2 x (the last snapshot's leases) records,
 * at open (so every start begins with an empty journal), and when an
 * administrator releases a lease (so a released name leaves the files).
 * The journal therefore never holds more than
 * LEASE_JOURNAL_COMPACT_MIN + 2 x (LEASE_POOL_MAX + LEASE_STATIC_MAX)
 * records plus one batch, and compaction costs O(1) writes per record.
 */
enum {
	LEASE_JOURNAL_COMPACT_MIN = 8192,
	LEASE_RECORD_MAX = 384, /* one record line, with its CRC and newline */
};

struct lease_journal_stats {
	uint64_t appended, commits, compactions;
	/* at open: applied; bad CRC or syntax; cut short; of an older
	 * generation; naming an address the table does not serve */
	uint64_t replayed, corrupt, torn, stale, unserved;
};

struct lease_journal {
	char *path;  /* the snapshot */
	char *jpath; /* PATH.journal */
	int fd;	     /* the journal, O_APPEND */
	uint64_t gen;
	uint64_t nrec;	    /* records in the journal */
	uint64_t snap_nrec; /* leases in the last snapshot */
	bool must_compact;  /* a failed append: the journal may lack records */
	char *buf;	    /* records of the commit being built */
	size_t len, cap;
	struct lease_journal_stats st;
};

/*
 * lease_journal_open - load @path's snapshot and journal into @t (an empty
 * table fresh from lease_table_init), then compact: a new snapshot and an
 * empty journal.
 * Return: snapshot lines skipped plus journal records skipped (>= 0), or
 * a negative errno (unreadable, or the new snapshot not written).
 */
int lease_journal_open(struct lease_journal *j, const char *path,
		       struct lease_table *t);
void lease_journal_close(struct lease_journal *j);

/*
 * lease_journal_commit - append one record per slot of @t named in @idx
 * (its state now), then fdatasync; compact when the rule above says so.
 * Return: 0 when every record is durable, or a negative errno: the caller
 * must not send the ACKs of these records (the next commit compacts).
 */
int lease_journal_commit(struct lease_journal *j, const struct lease_table *t,
			 const uint32_t *idx, size_t n);

/* lease_journal_compact - snapshot of @t as generation gen+1, journal reset. */
int lease_journal_compact(struct lease_journal *j, const struct lease_table *t);

/*
 * lease_journal_replay - apply the journal text @buf/@len (header
 * included) to @t when its generation is @gen. Later records win: a
 * record replaces the slot's holder, and a client's BOUND record moves it
 * off the slot it held before. Counts into @st.
 * Return: records skipped (corrupt, torn, or naming no slot of @t).
 */
int lease_journal_replay(struct lease_table *t, const char *buf, size_t len,
			 uint64_t gen, struct lease_journal_stats *st);

/* lease_journal_record - format the record of slot @l. Return: its length. */
size_t lease_journal_record(const struct lease *l, char out[LEASE_RECORD_MAX]);

#endif
