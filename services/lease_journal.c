/* SPDX-License-Identifier: MIT */
/* lease_journal.c - the lease journal: records appended with one fdatasync per commit, replayed over the snapshot, folded into it. */
#include "services/lease_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

LOG_MODULE("svc-lease");

enum {
	JOURNAL_FILE_MAX = 64 << 20, /* far above the bound: refuse larger */
};

static const char journal_magic[] = "# loom DHCP journal v1 gen ";

/* CRC-32 (IEEE 802.3, reflected 0xEDB88320): detects torn and bad lines. */
static uint32_t crc32_of(const char *p, size_t len)
{
	static uint32_t table[256];
	uint32_t c = 0xffffffffu;

	if (!table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t v = i;

			for (int k = 0; k < 8; k++)
				v = v & 1 ? 0xedb88320u ^ (v >> 1) : v >> 1;
			table[i] = v;
		}
	}
	for (size_t i = 0; i < len; i++)
		c = table[(c ^ (uint8_t)p[i]) & 255] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

size_t lease_journal_record(const struct lease *l, char out[LEASE_RECORD_MAX])
{
	size_t n;

	if ((l->state == LEASE_BOUND || l->state == LEASE_DECLINED) &&
	    l->key_len)
		n = lease_line_format(l, out, LEASE_LINE_MAX);
	else
		n = (size_t)snprintf(out, LEASE_LINE_MAX, "free %u.%u.%u.%u",
				     l->ip >> 24, (l->ip >> 16) & 255,
				     (l->ip >> 8) & 255, l->ip & 255);
	n += (size_t)snprintf(out + n, LEASE_RECORD_MAX - n, " %08x\n",
			      crc32_of(out, n));
	return n;
}

/*
 * One record line (no newline) whose CRC matches, applied to @t.
 * Return: 0; -1: it does not parse or its CRC is wrong; -2: it names an
 * address this table does not serve (the range or a static host changed).
 */
static int record_apply(struct lease_table *t, char *line, size_t len)
{
	struct lease_rec r;
	struct lease *l, *old;
	unsigned int crc;
	char *sp;

	if (len < 10 || len > LEASE_LINE_MAX + 9)
		return -1;
	line[len] = 0;
	sp = strrchr(line, ' ');
	if (!sp || strlen(sp + 1) != 8 || sscanf(sp + 1, "%8x", &crc) != 1 ||
	    crc != crc32_of(line, (size_t)(sp - line)))
		return -1;
	*sp = 0;
	if (lease_line_parse(line, &r))
		return -1;
	l = lease_by_ip(t, r.ip);
	if (!l)
		return -2;
	if (r.free) {
		lease_clear(t, l);
		return 0;
	}
	if (l->is_static && memcmp(l->static_mac, r.mac, 6))
		return -2; /* the static host changed since */
	/* A client that took a new address left its old one (a DECLINEd
	 * address stays held by its decliner until the hold ends). */
	old = lease_by_key(t, r.key, r.key_len);
	if (old && old != l && old->state == LEASE_BOUND &&
	    r.state == LEASE_BOUND)
		lease_clear(t, old);
	if (l->key_len && (l->key_len != r.key_len ||
			   memcmp(l->key, r.key, r.key_len)))
		lease_clear(t, l);
	lease_rec_apply(t, l, &r);
	return 0;
}

int lease_journal_replay(struct lease_table *t, const char *buf, size_t len,
			 uint64_t gen, struct lease_journal_stats *st)
{
	char line[LEASE_RECORD_MAX + 1];
	const char *p = buf, *end = buf + len, *nl;
	uint64_t jgen;
	int skipped = 0;

	if (!len)
		return 0; /* no journal yet */
	nl = memchr(p, '\n', len);
	if (!nl || (size_t)(nl - p) >= sizeof(line)) {
		st->stale++; /* no header: not a journal of ours */
		return 1;
	}
	memcpy(line, p, (size_t)(nl - p));
	line[nl - p] = 0;
	if (strncmp(line, journal_magic, sizeof(journal_magic) - 1) ||
	    sscanf(line + sizeof(journal_magic) - 1, "%" SCNu64, &jgen) != 1 ||
	    jgen != gen) {
		st->stale++; /* folded into the snapshot already */
		return 0;
	}
	/* Bounded by @len: each pass consumes one line. */
	for (p = nl + 1; p < end; p = nl + 1) {
		size_t n;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl) { /* the last write was cut short: never acknowledged */
			st->torn++;
			skipped++;
			break;
		}
		n = (size_t)(nl - p);
		if (n >= sizeof(line)) {
			st->corrupt++;
			skipped++;
			continue;
		}
		memcpy(line, p, n);
		switch (record_apply(t, line, n)) {
		case 0:
			st->replayed++;
			break;
		case -2:
			st->unserved++;
			skipped++;
			break;
		default:
			st->corrupt++;
			skipped++;
		}
	}
	return skipped;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read the whole journal (bounded) into a buffer the caller frees. */
static int journal_read(const char *jpath, char **out, size_t *len)
{
	struct stat sb;
	char *b;
	size_t got = 0;
	int fd = open(jpath, O_RDONLY | O_CLOEXEC), ret = 0;

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &sb)) {
		ret = -errno;
		goto close_fd;
	}
	if (sb.st_size > JOURNAL_FILE_MAX) {
		ret = -EFBIG;
		goto close_fd;
	}
	b = malloc((size_t)sb.st_size + 1);
	if (!b) {
		ret = -ENOMEM;
		goto close_fd;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, b + got, (size_t)sb.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	*out = b;
	*len = got;
close_fd:
	close(fd);
	return ret;
}

int lease_journal_compact(struct lease_journal *j, const struct lease_table *t)
{
	char hdr[64];
	int n, ret;

	ret = lease_table_save(t, j->path, j->gen + 1);
	if (ret < 0)
		return ret;
	/* From here the snapshot holds everything: the old journal's
	 * generation no longer matches, so a crash before the reset below
	 * leaves a journal the next start ignores. */
	j->gen++;
	j->snap_nrec = (uint64_t)ret;
	j->nrec = 0;
	n = snprintf(hdr, sizeof(hdr), "%s%" PRIu64 "\n", journal_magic, j->gen);
	if (ftruncate(j->fd, 0) || write_all(j->fd, hdr, (size_t)n) ||
	    fdatasync(j->fd)) {
		j->must_compact = true;
		return errno ? -errno : -EIO;
	}
	j->must_compact = false;
	j->st.compactions++;
	return 0;
}

int lease_journal_open(struct lease_journal *j, const char *path,
		       struct lease_table *t)
{
	uint32_t loaded;
	char *buf;
	size_t len;
	int skipped, jskipped, ret;

	memset(j, 0, sizeof(*j));
	j->fd = -1;
	j->path = strdup(path);
	if (!j->path || asprintf(&j->jpath, "%s.journal", path) < 0) {
		ret = -ENOMEM;
		goto free_paths;
	}
	skipped = lease_table_load(t, path, &j->gen, &loaded);
	if (skipped < 0) {
		ret = skipped;
		goto free_paths;
	}
	ret = journal_read(j->jpath, &buf, &len);
	if (ret)
		goto free_paths;
	jskipped = lease_journal_replay(t, buf, len, j->gen, &j->st);
	free(buf);
	if (j->st.torn || j->st.corrupt)
		log_warn(MOD, "%s: %" PRIu64 " torn and %" PRIu64
			 " corrupt journal records skipped (never acknowledged)",
			 j->jpath, j->st.torn, j->st.corrupt);
	if (j->st.unserved)
		log_info(MOD, "%s: %" PRIu64 " journal records for addresses "
			 "this network no longer serves dropped",
			 j->jpath, j->st.unserved);
	j->fd = open(j->jpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (j->fd < 0) {
		ret = -errno;
		goto free_paths;
	}
	ret = lease_journal_compact(j, t);
	if (!ret)
		ret = lease_dir_sync(j->jpath);
	if (ret)
		goto close_fd;
	return skipped + jskipped;
close_fd:
	close(j->fd);
free_paths:
	free(j->jpath);
	free(j->path);
	memset(j, 0, sizeof(*j));
	j->fd = -1;
	return ret;
}

void lease_journal_close(struct lease_journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	free(j->path);
	free(j->jpath);
	free(j->buf);
	memset(j, 0, sizeof(*j));
	j->fd = -1;
}

int lease_journal_commit(struct lease_journal *j, const struct lease_table *t,
			 const uint32_t *idx, size_t n)
{
	int ret;

	if (j->must_compact)
		return lease_journal_compact(j, t);
	if (!n)
		return 0;
	if (j->cap < n * LEASE_RECORD_MAX) {
		char *b = realloc(j->buf, n * LEASE_RECORD_MAX);

		if (!b)
			return -ENOMEM;
		j->buf = b;
		j->cap = n * LEASE_RECORD_MAX;
	}
	j->len = 0;
	for (size_t i = 0; i < n; i++)
		j->len += lease_journal_record(&t->slots[idx[i]],
					       j->buf + j->len);
	ret = write_all(j->fd, j->buf, j->len);
	if (!ret && fdatasync(j->fd))
		ret = -errno;
	if (ret) {
		/* A partial record may sit at the end: the next commit
		 * writes a whole snapshot instead of appending after it. */
		j->must_compact = true;
		return ret;
	}
	j->nrec += n;
	j->st.appended += n;
	j->st.commits++;
	if (j->nrec > LEASE_JOURNAL_COMPACT_MIN + 2 * j->snap_nrec) {
		ret = lease_journal_compact(j, t);
		if (ret) /* the records are durable: only the fold failed */
			log_rl(LOG_ERR, MOD, "%s: compaction: %s", j->path,
			       strerror(-ret));
	}
	return 0;
}
