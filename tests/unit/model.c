// SPDX-License-Identifier: GPL-2.0
/*
 * The reference model described in model.h.
 */
#include "model.h"

static u64 mix(u64 a, u64 b)
{
	u64 z = a ^ (b * 0x9e3779b97f4a7c15ULL) ^ 0x5bd1e995ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return z ? z : 1;
}

static u64 new_stamp(struct model *m)
{
	return mix(++m->stamp, 0x57a3d);
}

void model_fail(struct model *m, const char *fmt, ...)
{
	va_list ap;

	if (!m->errors++) {
		va_start(ap, fmt);
		vsnprintf(m->first_error, sizeof(m->first_error), fmt, ap);
		va_end(ap);
	}
}

/* ------------------------------------------------------------------ */
/* States.                                                             */

void mstate_init(struct mstate *st, u32 nchunks, u64 nr_blocks)
{
	memset(st, 0, sizeof(*st));
	st->nchunks = nchunks;
	st->nr_blocks = nr_blocks;
	st->origin = calloc(nchunks, sizeof(u64));
	st->cow = calloc(nr_blocks, sizeof(u64));
	assert(st->origin && st->cow);
}

static void msnap_free(struct msnap *sn)
{
	free(sn->want);
	free(sn->map);
}

void mstate_free(struct mstate *st)
{
	u32 i;

	for (i = 0; i < st->nr_snaps; i++)
		msnap_free(&st->snaps[i]);
	free(st->snaps);
	free(st->origin);
	free(st->cow);
	memset(st, 0, sizeof(*st));
}

static u64 *dup_array(const u64 *a, size_t n)
{
	u64 *d = malloc(n ? n * sizeof(u64) : 1);

	assert(d);
	memcpy(d, a, n * sizeof(u64));
	return d;
}

void mstate_copy(struct mstate *dst, const struct mstate *src)
{
	u32 i;

	mstate_free(dst);
	dst->nchunks = src->nchunks;
	dst->nr_blocks = src->nr_blocks;
	dst->origin = dup_array(src->origin, src->nchunks);
	dst->cow = dup_array(src->cow, src->nr_blocks);
	dst->nr_snaps = dst->cap_snaps = src->nr_snaps;
	dst->snaps = calloc(src->nr_snaps ? src->nr_snaps : 1,
			    sizeof(*dst->snaps));
	assert(dst->snaps);
	for (i = 0; i < src->nr_snaps; i++) {
		dst->snaps[i].id = src->snaps[i].id;
		dst->snaps[i].label = src->snaps[i].label;
		dst->snaps[i].want = dup_array(src->snaps[i].want,
					       src->nchunks);
		dst->snaps[i].map = dup_array(src->snaps[i].map, src->nchunks);
	}
}

static u32 snap_pos(const struct mstate *st, u32 id)
{
	u32 lo = 0, hi = st->nr_snaps;

	while (lo < hi) {
		u32 mid = (lo + hi) / 2;

		if (st->snaps[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct msnap *model_snap(struct mstate *st, u32 id)
{
	u32 i = snap_pos(st, id);

	return i < st->nr_snaps && st->snaps[i].id == id ? &st->snaps[i] :
		NULL;
}

static struct msnap *snap_add(struct mstate *st, u32 id, u32 label)
{
	u32 i = snap_pos(st, id), c;
	struct msnap *sn;

	if (st->nr_snaps == st->cap_snaps) {
		st->cap_snaps = st->cap_snaps ? 2 * st->cap_snaps : 16;
		st->snaps = realloc(st->snaps,
				    st->cap_snaps * sizeof(*st->snaps));
		assert(st->snaps);
	}
	memmove(&st->snaps[i + 1], &st->snaps[i],
		(st->nr_snaps - i) * sizeof(*st->snaps));
	st->nr_snaps++;
	sn = &st->snaps[i];
	sn->id = id;
	sn->label = label;
	sn->want = dup_array(st->origin, st->nchunks);
	sn->map = malloc(st->nchunks * sizeof(u64) + 1);
	assert(sn->map);
	for (c = 0; c < st->nchunks; c++)
		sn->map[c] = MAP_ORIGIN;
	return sn;
}

static void snap_del(struct mstate *st, struct msnap *sn)
{
	u32 i = (u32)(sn - st->snaps);

	msnap_free(sn);
	memmove(&st->snaps[i], &st->snaps[i + 1],
		(st->nr_snaps - i - 1) * sizeof(*st->snaps));
	st->nr_snaps--;
}

void model_init(struct model *m, u32 nchunks, u64 nr_blocks,
		u64 chunk_blocks)
{
	u32 c;

	memset(m, 0, sizeof(*m));
	mstate_init(&m->cur, nchunks, nr_blocks);
	mstate_init(&m->committed, nchunks, nr_blocks);
	m->chunk_blocks = chunk_blocks;
	for (c = 0; c < nchunks; c++)
		m->cur.origin[c] = new_stamp(m);
	mstate_copy(&m->committed, &m->cur);
	m->hazard_is_error = false;
}

void model_drop_deferred(struct model *m)
{
	m->nr_defer = 0;
}

static void defer_write(struct model *m, u64 chunk, u64 stamp)
{
	if (m->nr_defer + 2 > m->cap_defer) {
		m->cap_defer = m->cap_defer ? 2 * m->cap_defer : 64;
		m->defer = realloc(m->defer, m->cap_defer * sizeof(u64));
		assert(m->defer);
	}
	m->defer[m->nr_defer++] = chunk;
	m->defer[m->nr_defer++] = stamp;
	m->deferred++;
}

static void apply_deferred(struct model *m)
{
	u32 i;

	for (i = 0; i < m->nr_defer; i += 2)
		m->cur.origin[m->defer[i]] = m->defer[i + 1];
	m->nr_defer = 0;
}

void model_free(struct model *m)
{
	free(m->defer);
	mstate_free(&m->cur);
	mstate_free(&m->committed);
}

/* ------------------------------------------------------------------ */
/* Commits.                                                            */

void model_seen(struct model *m, struct ssnap_store *s)
{
	struct ssnap_usage u;

	ssnap_usage(s, &u);
	if (u.transaction != m->trans) {
		/* The engine committed: the state when the call began. */
		mstate_copy(&m->committed, &m->cur);
		m->trans = u.transaction;
		apply_deferred(m);
	}
}

void model_opened(struct model *m, struct ssnap_store *s)
{
	struct ssnap_usage u;

	ssnap_usage(s, &u);
	mstate_copy(&m->committed, &m->cur);
	m->trans = u.transaction;
	apply_deferred(m);
}

int model_commit(struct model *m, struct ssnap_store *s)
{
	int r = ssnap_commit(s);

	if (!r)
		model_opened(m, s);
	else
		model_seen(m, s);
	return r;
}

int model_gc(struct model *m, struct ssnap_store *s, u32 budget)
{
	int r = ssnap_gc(s, budget);

	model_seen(m, s);
	if (r > 1)
		model_fail(m, "ssnap_gc returned %d", r);
	return r;
}

int model_gc_all(struct model *m, struct ssnap_store *s)
{
	int r, n = 0;

	do {
		r = model_gc(m, s, 64);
	} while (r == 1 && ++n < 1000000);
	if (r == 1)
		model_fail(m, "ssnap_gc never finished");
	return r;
}

/* ------------------------------------------------------------------ */
/* Reading through the engine.                                         */

u64 model_want(const struct mstate *st, const struct msnap *sn, u64 chunk)
{
	return sn ? sn->want[chunk] : st->origin[chunk];
}

int model_read(const struct mstate *st, struct ssnap_store *s, u32 label,
	       u64 chunk, u64 *stamp, u64 *where)
{
	u64 cow = 0;
	int r = ssnap_lookup(s, label, chunk, &cow);

	switch (r) {
	case SSNAP_MAP_ORIGIN:
		*where = MAP_ORIGIN;
		*stamp = st->origin[chunk];
		return 0;
	case SSNAP_MAP_ZERO:
		*where = MAP_ZERO;
		*stamp = 0;
		return 0;
	case SSNAP_MAP_COW:
		if (!cow || cow >= st->nr_blocks)
			return -ERANGE;
		*where = cow;
		*stamp = st->cow[cow];
		return 0;
	default:
		return r < 0 ? r : -EPROTO;
	}
}

/* Where each snapshot reads chunk, and is it what it should read? */
static int refresh(struct model *m, struct ssnap_store *s, u64 chunk,
		   bool check)
{
	u32 i;

	for (i = 0; i < m->cur.nr_snaps; i++) {
		struct msnap *sn = &m->cur.snaps[i];
		u64 stamp, where;
		int r = model_read(&m->cur, s, sn->label, chunk, &stamp,
				   &where);

		if (r) {
			model_fail(m, "lookup id %u label %u chunk %llu: %d",
				   sn->id, sn->label, (unsigned long long)chunk,
				   r);
			return r;
		}
		sn->map[chunk] = where;
		if (check && stamp != sn->want[chunk]) {
			model_fail(m, "id %u label %u chunk %llu reads %#llx "
				   "at %#llx, wants %#llx", sn->id, sn->label,
				   (unsigned long long)chunk,
				   (unsigned long long)stamp,
				   (unsigned long long)where,
				   (unsigned long long)sn->want[chunk]);
			return -EPROTO;
		}
	}
	return 0;
}

int model_refresh_chunk(struct model *m, struct ssnap_store *s, u64 chunk)
{
	return refresh(m, s, chunk, true);
}

/* Does a snapshot of st other than `except` read block blk? */
static const struct msnap *reader_of(const struct mstate *st, u64 blk,
				     u32 except_id, u64 *chunk)
{
	u32 i, c;

	for (i = 0; i < st->nr_snaps; i++) {
		if (st->snaps[i].id == except_id)
			continue;
		for (c = 0; c < st->nchunks; c++) {
			if (st->snaps[i].map[c] == blk) {
				*chunk = c;
				return &st->snaps[i];
			}
		}
	}
	return NULL;
}

static const struct msnap *origin_reader(const struct mstate *st, u64 chunk)
{
	u32 i;

	for (i = 0; i < st->nr_snaps; i++)
		if (st->snaps[i].map[chunk] == MAP_ORIGIN)
			return &st->snaps[i];
	return NULL;
}

/* A block the engine hands out for a new copy: free and sound? */
static int check_new_block(struct model *m, u64 blk, const char *what)
{
	const struct msnap *sn;
	u64 c;

	if (!blk || blk >= m->cur.nr_blocks || blk % m->chunk_blocks) {
		model_fail(m, "%s block %llu is not a chunk of the device",
			   what, (unsigned long long)blk);
		return -EPROTO;
	}
	sn = reader_of(&m->cur, blk, ~0U, &c);
	if (sn) {
		model_fail(m, "%s block %llu is still read by id %u chunk %llu",
			   what, (unsigned long long)blk, sn->id,
			   (unsigned long long)c);
		return -EPROTO;
	}
	sn = reader_of(&m->committed, blk, ~0U, &c);
	if (sn) {
		model_fail(m, "%s block %llu is read by id %u chunk %llu in "
			   "the committed state", what,
			   (unsigned long long)blk, sn->id,
			   (unsigned long long)c);
		return -EPROTO;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Operations.                                                         */

int model_origin_write(struct model *m, struct ssnap_store *s, u64 chunk)
{
	struct ssnap_usage u0, u1;
	const struct msnap *sn;
	struct ssnap_plan p;
	int r;

	r = ssnap_plan_write(s, SSNAP_ORIGIN, chunk, &p);
	model_seen(m, s);
	if (r)
		return r;
	ssnap_usage(s, &u0);
	if (p.copy) {
		if (p.src != SSNAP_SRC_ORIGIN || !p.shared || p.own) {
			model_fail(m, "origin plan chunk %llu: src %#llx "
				   "shared %llu own %llu",
				   (unsigned long long)chunk,
				   (unsigned long long)p.src,
				   (unsigned long long)p.shared,
				   (unsigned long long)p.own);
			ssnap_abort_plan(s, &p);
			return -EPROTO;
		}
		if (check_new_block(m, p.shared, "origin copy")) {
			ssnap_abort_plan(s, &p);
			return -EPROTO;
		}
		m->cur.cow[p.shared] = m->cur.origin[chunk];
		m->copies++;
	} else if (p.shared || p.own) {
		model_fail(m, "origin plan without copy names blocks");
	}
	r = ssnap_commit_plan(s, &p);
	model_seen(m, s);
	if (r)
		return r;
	ssnap_usage(s, &u1);
	if (u1.data_chunks != u0.data_chunks + (p.copy ? 1 : 0))
		model_fail(m, "origin write chunk %llu: data chunks %llu -> "
			   "%llu, copy %d", (unsigned long long)chunk,
			   (unsigned long long)u0.data_chunks,
			   (unsigned long long)u1.data_chunks, p.copy);
	r = refresh(m, s, chunk, true);
	if (r)
		return r;
	sn = origin_reader(&m->cur, chunk);
	if (sn) {
		model_fail(m, "origin write chunk %llu: id %u still reads "
			   "the origin", (unsigned long long)chunk, sn->id);
		return -EPROTO;
	}
	/*
	 * The caller's part: the origin chunk may only change once no
	 * committed state reads it there; until the next commit the write
	 * is held back (and stays behind any other held for the chunk).
	 */
	if (origin_reader(&m->committed, chunk) || m->nr_defer)
		defer_write(m, chunk, new_stamp(m));
	else
		m->cur.origin[chunk] = new_stamp(m);
	m->origin_writes++;
	return 0;
}

int model_snap_write(struct model *m, struct ssnap_store *s, u32 id,
		     u64 chunk, bool full)
{
	struct msnap *sn = model_snap(&m->cur, id);
	const struct msnap *other;
	struct ssnap_plan p;
	u64 v = 0, oc;
	int r;

	if (!sn) {
		model_fail(m, "snapshot write to unknown id %u", id);
		return -ENOENT;
	}
	r = ssnap_plan_write(s, sn->label, chunk, &p);
	model_seen(m, s);
	sn = model_snap(&m->cur, id);
	if (r)
		return r;
	if (!p.own) {
		model_fail(m, "snapshot plan id %u chunk %llu without own "
			   "block", id, (unsigned long long)chunk);
		ssnap_abort_plan(s, &p);
		return -EPROTO;
	}
	if (p.copy) {
		if (p.src == SSNAP_SRC_ORIGIN) {
			v = m->cur.origin[chunk];
		} else if (p.src == SSNAP_SRC_ZERO) {
			v = 0;
		} else if (p.src >= m->cur.nr_blocks) {
			model_fail(m, "plan src %#llx out of range",
				   (unsigned long long)p.src);
			ssnap_abort_plan(s, &p);
			return -EPROTO;
		} else {
			v = m->cur.cow[p.src];
		}
		if (v != sn->want[chunk]) {
			model_fail(m, "snapshot plan id %u chunk %llu copies "
				   "%#llx from %#llx, the snapshot reads %#llx",
				   id, (unsigned long long)chunk,
				   (unsigned long long)v,
				   (unsigned long long)p.src,
				   (unsigned long long)sn->want[chunk]);
			ssnap_abort_plan(s, &p);
			return -EPROTO;
		}
		if ((p.shared && check_new_block(m, p.shared, "shared copy")) ||
		    check_new_block(m, p.own, "own copy") ||
		    p.shared == p.own) {
			if (p.shared == p.own)
				model_fail(m, "shared and own copy are one");
			ssnap_abort_plan(s, &p);
			return -EPROTO;
		}
		if (p.shared)
			m->cur.cow[p.shared] = v;
		if (!full)
			m->cur.cow[p.own] = v;
		m->copies++;
	} else {
		if (p.shared || p.own != sn->map[chunk]) {
			model_fail(m, "in-place plan id %u chunk %llu: own "
				   "%llu, snapshot reads %#llx",
				   id, (unsigned long long)chunk,
				   (unsigned long long)p.own,
				   (unsigned long long)sn->map[chunk]);
			ssnap_abort_plan(s, &p);
			return -EPROTO;
		}
		other = reader_of(&m->cur, p.own, id, &oc);
		if (other) {
			model_fail(m, "in-place write id %u chunk %llu to "
				   "block %llu that id %u reads",
				   id, (unsigned long long)chunk,
				   (unsigned long long)p.own, other->id);
			return -EPROTO;
		}
		m->inplace++;
	}
	r = ssnap_commit_plan(s, &p);
	model_seen(m, s);
	sn = model_snap(&m->cur, id);
	if (r)
		return r;
	/*
	 * The own block must not be read by another snapshot of the
	 * committed state, or a crash now would show it this write.
	 */
	other = reader_of(&m->committed, p.own, id, &oc);
	if (other) {
		m->hazards++;
		if (m->hazard_is_error)
			model_fail(m, "write id %u chunk %llu goes to block %llu "
				   "which id %u (chunk %llu) still reads in the "
				   "committed state", id,
				   (unsigned long long)chunk,
				   (unsigned long long)p.own, other->id,
				   (unsigned long long)oc);
		m->extra_commits++;
		r = model_commit(m, s);
		if (r)
			return r;
		sn = model_snap(&m->cur, id);
	}
	v = new_stamp(m);
	m->cur.cow[p.own] = full ? v : mix(m->cur.cow[p.own], v);
	sn->want[chunk] = m->cur.cow[p.own];
	r = refresh(m, s, chunk, true);
	if (r)
		return r;
	if (sn->map[chunk] != p.own) {
		model_fail(m, "after the plan id %u chunk %llu reads %#llx, "
			   "not its own block %llu", id,
			   (unsigned long long)chunk,
			   (unsigned long long)sn->map[chunk],
			   (unsigned long long)p.own);
		return -EPROTO;
	}
	m->snap_writes++;
	return 0;
}

int model_create(struct model *m, struct ssnap_store *s, u32 id)
{
	bool exists = model_snap(&m->cur, id) != NULL;
	struct ssnap_snap_info info;
	u32 i, label = 0;
	int r;

	/* A snapshot sees every origin write made before it: flush. */
	if (m->nr_defer && !exists) {
		m->extra_commits++;
		r = model_commit(m, s);
		if (r)
			return r;
	}

	r = ssnap_snapshot_create(s, id, NULL, 7, 1000 + id);
	model_seen(m, s);
	if (exists) {
		if (r != -EEXIST)
			model_fail(m, "create of live id %u: %d, not -EEXIST",
				   id, r);
		return r;
	}
	if (r)
		return r;
	r = ssnap_label_of(s, id, &label);
	if (r || ssnap_snapshot_find(s, id, &info) || info.label != label ||
	    info.id != id || info.priority != 7 || info.ctime != 1000 + id) {
		model_fail(m, "new snapshot %u: label_of %d, info wrong", id, r);
		return -EPROTO;
	}
	for (i = 0; i < m->cur.nr_snaps; i++) {
		if (m->cur.snaps[i].label >= label) {
			model_fail(m, "new snapshot %u has label %u, id %u "
				   "has %u", id, label, m->cur.snaps[i].id,
				   m->cur.snaps[i].label);
			return -EPROTO;
		}
	}
	snap_add(&m->cur, id, label);
	return 0;
}

int model_delete(struct model *m, struct ssnap_store *s, u32 id)
{
	struct msnap *sn = model_snap(&m->cur, id);
	u32 label;
	int r;

	r = ssnap_snapshot_delete(s, id);
	model_seen(m, s);
	if (!sn) {
		if (r != -ENOENT)
			model_fail(m, "delete of unknown id %u: %d, not -ENOENT",
				   id, r);
		return r;
	}
	if (r)
		return r;
	if (ssnap_label_of(s, id, &label) != -ENOENT)
		model_fail(m, "deleted id %u still has a label", id);
	snap_del(&m->cur, model_snap(&m->cur, id));
	return 0;
}

int model_discard(struct model *m, struct ssnap_store *s, u32 id, u64 chunk)
{
	struct msnap *sn = model_snap(&m->cur, id);
	bool mine;
	u64 blk, oc;
	int r;

	if (!sn) {
		model_fail(m, "discard on unknown id %u", id);
		return -ENOENT;
	}
	blk = sn->map[chunk];
	mine = blk != MAP_ORIGIN && blk != MAP_ZERO &&
		!reader_of(&m->cur, blk, id, &oc);
	r = ssnap_discard(s, sn->label, chunk);
	model_seen(m, s);
	sn = model_snap(&m->cur, id);
	if (r)
		return r;
	if (mine)
		sn->want[chunk] = 0;
	r = refresh(m, s, chunk, true);
	if (r)
		return r;
	if (sn->map[chunk] != (mine ? MAP_ZERO : blk)) {
		model_fail(m, "discard id %u chunk %llu: reads %#llx, "
			   "expected %#llx", id, (unsigned long long)chunk,
			   (unsigned long long)sn->map[chunk],
			   (unsigned long long)(mine ? MAP_ZERO : blk));
		return -EPROTO;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Comparing.                                                          */

/*
 * Each snapshot's exclusive chunks, as its record counts them, against
 * a count from the lookups: the COW blocks that one snapshot alone
 * reads.  Only with no deleted snapshot left to reclaim: until then a
 * record still counts the deleted ones among a block's readers.
 */
static int compare_exclusive(u64 nchunks, struct ssnap_store *s, char *msg,
			     size_t len)
{
	u32 i, j, n = ssnap_nr_snapshots(s);
	struct ssnap_snap_info info;
	struct ssnap_usage u;
	u64 *where, *excl, c;
	int r = 0;

	ssnap_usage(s, &u);
	if (u.nr_deleting || !n)
		return 0;
	where = calloc(n, sizeof(*where));
	excl = calloc(n, sizeof(*excl));
	if (!where || !excl) {
		free(where);
		free(excl);
		return -ENOMEM;
	}
	for (c = 0; !r && c < nchunks; c++) {
		for (i = 0; !r && i < n; i++) {
			int m;

			r = ssnap_snapshot_get(s, i, &info);
			if (r)
				break;
			m = ssnap_lookup(s, info.label, c, &where[i]);
			if (m < 0)
				r = m;
			else if (m != SSNAP_MAP_COW)
				where[i] = 0;
		}
		for (i = 0; !r && i < n; i++) {
			if (!where[i])
				continue;
			for (j = 0; j < n && (j == i || where[j] != where[i]); j++)
				;
			excl[i] += j == n;
		}
	}
	for (i = 0; !r && i < n; i++) {
		r = ssnap_snapshot_get(s, i, &info);
		if (!r && info.exclusive != excl[i]) {
			snprintf(msg, len, "snapshot %u: %llu exclusive chunks "
				 "recorded, %llu counted", info.id,
				 (unsigned long long)info.exclusive,
				 (unsigned long long)excl[i]);
			r = 1;
		}
	}
	free(where);
	free(excl);
	return r;
}

int model_compare(const struct mstate *st, struct ssnap_store *s,
		  char *msg, size_t len)
{
	struct ssnap_snap_info info;
	u32 i, n = ssnap_nr_snapshots(s);
	u64 c;
	int r;

	if (n != st->nr_snaps) {
		snprintf(msg, len, "%u snapshots, want %u", n, st->nr_snaps);
		return 1;
	}
	for (i = 0; i < n; i++) {
		const struct msnap *sn = &st->snaps[i];

		r = ssnap_snapshot_get(s, i, &info);
		if (r || info.id != sn->id || info.label != sn->label) {
			snprintf(msg, len, "snapshot %u: id %u label %u, "
				 "want id %u label %u (%d)", i, info.id,
				 info.label, sn->id, sn->label, r);
			return 1;
		}
		for (c = 0; c < st->nchunks; c++) {
			u64 stamp, where;

			r = model_read(st, s, sn->label, c, &stamp, &where);
			if (r) {
				snprintf(msg, len, "id %u chunk %llu: lookup "
					 "error %d", sn->id,
					 (unsigned long long)c, r);
				return r;
			}
			if (stamp != sn->want[c]) {
				snprintf(msg, len, "id %u label %u chunk %llu "
					 "reads %#llx at %#llx, wants %#llx",
					 sn->id, sn->label,
					 (unsigned long long)c,
					 (unsigned long long)stamp,
					 (unsigned long long)where,
					 (unsigned long long)sn->want[c]);
				return 1;
			}
		}
	}
	for (c = 0; c < st->nchunks; c++) {
		u64 cow;

		r = ssnap_lookup(s, SSNAP_ORIGIN, c, &cow);
		if (r != SSNAP_MAP_ORIGIN) {
			snprintf(msg, len, "origin label chunk %llu maps %d",
				 (unsigned long long)c, r);
			return 1;
		}
	}
	return compare_exclusive(st->nchunks, s, msg, len);
}

int model_verify(struct model *m, struct ssnap_store *s)
{
	char msg[200];
	u64 c;
	int r = model_compare(&m->cur, s, msg, sizeof(msg));

	if (r) {
		model_fail(m, "verify: %s", msg);
		return r;
	}
	for (c = 0; c < m->cur.nchunks; c++) {
		r = refresh(m, s, c, true);
		if (r)
			return r;
	}
	return 0;
}
