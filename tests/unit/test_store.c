// SPDX-License-Identifier: GPL-2.0
/*
 * Deterministic tests of the store: the labelling edge cases, space
 * accounting, usage and differences, reopening, and damaged metadata.
 * Every store a test builds is compared with the model and must pass
 * ssnap_check with no problem.
 */
#include "harness.h"
#include "internal.h"	/* test_freed_meta_quarantine looks inside */

#include <setjmp.h>
#include <cmocka.h>

struct fx {
	struct memdev *d;
	struct ssnap_store *s;
	struct model m;
	u32 nchunks;
	u32 cache;
	u32 next_id;
};

#define OK(f, expr)							\
	do {								\
		int _r = (expr);					\
		if (_r || (f)->m.errors)				\
			fail_msg("%s: %d; model: %s", #expr, _r,	\
				 (f)->m.first_error);			\
	} while (0)

#define MODEL_OK(f)							\
	do {								\
		if ((f)->m.errors)					\
			fail_msg("model: %s", (f)->m.first_error);	\
	} while (0)

static void fx_init(struct fx *f, u64 nr_blocks, u32 nchunks,
		    u32 chunk_sectors, u32 cache)
{
	int r;

	memset(f, 0, sizeof(*f));
	f->d = h_format(nr_blocks, chunk_sectors, 0);
	f->nchunks = nchunks;
	f->cache = cache;
	f->s = h_open(f->d, cache, &r);
	assert_int_equal(r, 0);
	model_init(&f->m, nchunks, nr_blocks, chunk_sectors / 8);
	f->m.hazard_is_error = true;
	model_opened(&f->m, f->s);
}

static void fx_check(struct fx *f)
{
	char msg[200];
	int n;

	n = h_check(f->d, msg, sizeof(msg));
	if (n)
		fail_msg("ssnap_check: %d problems, first: %s", n, msg);
}

static void fx_reopen(struct fx *f)
{
	int r;

	OK(f, ssnap_close(f->s));
	f->s = NULL;
	fx_check(f);
	f->s = h_open(f->d, f->cache, &r);
	assert_int_equal(r, 0);
	model_opened(&f->m, f->s);
	OK(f, model_verify(&f->m, f->s));
}

static void fx_done(struct fx *f)
{
	if (f->s) {
		OK(f, model_verify(&f->m, f->s));
		OK(f, ssnap_close(f->s));
		f->s = NULL;
	}
	fx_check(f);
	model_free(&f->m);
	memdev_free(f->d);
}

static struct ssnap_usage usage(struct fx *f)
{
	struct ssnap_usage u;

	ssnap_usage(f->s, &u);
	return u;
}

static u32 lab(struct fx *f, u32 id)
{
	u32 l = 0;

	assert_int_equal(ssnap_label_of(f->s, id, &l), 0);
	return l;
}

/* ------------------------------------------------------------------ */

static void test_origin_label(void **state)
{
	struct ssnap_plan p;
	struct fx f;
	u64 c, cow;

	(void)state;
	fx_init(&f, 1024, 16, 8, 0);
	/* No snapshot: an origin write copies nothing. */
	assert_int_equal(ssnap_plan_write(f.s, SSNAP_ORIGIN, 3, &p), 0);
	assert_false(p.copy);
	assert_int_equal(ssnap_commit_plan(f.s, &p), 0);
	OK(&f, model_create(&f.m, f.s, 1));
	OK(&f, model_origin_write(&f.m, f.s, 3));
	for (c = 0; c < 16; c++)
		assert_int_equal(ssnap_lookup(f.s, SSNAP_ORIGIN, c, &cow),
				 SSNAP_MAP_ORIGIN);
	assert_int_equal(ssnap_lookup(f.s, lab(&f, 1), 3, &cow),
			 SSNAP_MAP_COW);
	assert_int_equal(ssnap_lookup(f.s, lab(&f, 1), 4, &cow),
			 SSNAP_MAP_ORIGIN);
	fx_done(&f);
}

static void test_ids_and_errors(void **state)
{
	struct ssnap_snap_info info;
	char longname[SSNAP_NAME_LEN + 8];
	u32 l;
	struct fx f;

	(void)state;
	fx_init(&f, 1024, 16, 8, 0);
	assert_int_equal(ssnap_snapshot_create(f.s, 10, "a", 1, 5), 0);
	assert_int_equal(ssnap_snapshot_create(f.s, 10, "b", 1, 5), -EEXIST);
	assert_int_equal(ssnap_snapshot_create(f.s, 11, "a", 1, 5), -EEXIST);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	assert_int_equal(ssnap_snapshot_create(f.s, 12, longname, 1, 5),
			 -ENAMETOOLONG);
	assert_int_equal(ssnap_snapshot_delete(f.s, 99), -ENOENT);
	assert_int_equal(ssnap_snapshot_find(f.s, 99, &info), -ENOENT);
	assert_int_equal(ssnap_label_of(f.s, 99, &l), -ENOENT);
	assert_int_equal(ssnap_snapshot_set_name(f.s, 99, "z"), -ENOENT);
	assert_int_equal(ssnap_snapshot_set_priority(f.s, 99, 1), -ENOENT);
	assert_int_equal(ssnap_snapshot_set_flags(f.s, 99, 0, 0), -ENOENT);
	assert_int_equal(ssnap_snapshot_set_flags(f.s, 10, SSNAP_SNAP_DELETING,
						  0), -EINVAL);
	assert_int_equal(ssnap_snapshot_get(f.s, 1, &info), -ENOENT);
	assert_int_equal(ssnap_discard(f.s, SSNAP_ORIGIN, 0), -EINVAL);

	/* Names, priority and flags are kept, also across a reopen. */
	assert_int_equal(ssnap_snapshot_create(f.s, 11, "b", 2, 6), 0);
	assert_int_equal(ssnap_snapshot_set_name(f.s, 11, "a"), -EEXIST);
	assert_int_equal(ssnap_snapshot_set_name(f.s, 11, "c"), 0);
	assert_int_equal(ssnap_snapshot_set_priority(f.s, 11, 42), 0);
	assert_int_equal(ssnap_snapshot_set_flags(f.s, 11,
						  SSNAP_SNAP_AUTOACTIVATE, 0),
			 0);
	OK(&f, ssnap_close(f.s));
	f.s = h_open(f.d, 0, NULL);
	assert_non_null(f.s);
	assert_int_equal(ssnap_nr_snapshots(f.s), 2);
	assert_int_equal(ssnap_snapshot_get(f.s, 0, &info), 0);
	assert_int_equal(info.id, 10);
	assert_string_equal(info.name, "a");
	assert_int_equal(ssnap_snapshot_find(f.s, 11, &info), 0);
	assert_string_equal(info.name, "c");
	assert_int_equal(info.priority, 42);
	assert_int_equal(info.ctime, 6);
	assert_int_equal(info.flags, SSNAP_SNAP_AUTOACTIVATE);
	assert_true(info.label > lab(&f, 10));
	assert_int_equal(ssnap_snapshot_delete(f.s, 10), 0);
	assert_int_equal(ssnap_snapshot_delete(f.s, 11), 0);
	assert_int_equal(ssnap_snapshot_delete(f.s, 11), -ENOENT);
	assert_int_equal(ssnap_nr_snapshots(f.s), 0);
	fx_done(&f);
}

/* Many live snapshots, one copy per origin write, whatever their count. */
static void test_one_copy_many_snapshots(void **state)
{
	const u32 nsnap = 1100, nch = 24;
	struct ssnap_usage u0, u1;
	struct fx f;
	u32 i;
	u64 c;

	(void)state;
	fx_init(&f, 4096, nch, 8, 0);
	for (i = 1; i <= 1024; i++)
		OK(&f, model_create(&f.m, f.s, i));
	assert_int_equal(ssnap_nr_snapshots(f.s), 1024);
	for (c = 0; c < nch; c++) {
		u0 = usage(&f);
		OK(&f, model_origin_write(&f.m, f.s, c));
		u1 = usage(&f);
		assert_int_equal(u1.data_chunks, u0.data_chunks + 1);
	}
	/* Copied already: no more copies. */
	u0 = usage(&f);
	for (c = 0; c < nch; c++)
		OK(&f, model_origin_write(&f.m, f.s, c));
	assert_int_equal(usage(&f).data_chunks, u0.data_chunks);
	for (i = 1025; i <= nsnap; i++)
		OK(&f, model_create(&f.m, f.s, i));
	for (c = 0; c < nch; c += 2) {
		u0 = usage(&f);
		OK(&f, model_origin_write(&f.m, f.s, c));
		assert_int_equal(usage(&f).data_chunks, u0.data_chunks + 1);
	}
	OK(&f, model_commit(&f.m, f.s));
	OK(&f, model_verify(&f.m, f.s));
	/* Every snapshot deleted: every copy comes back. */
	for (i = 1; i <= nsnap; i++)
		OK(&f, model_delete(&f.m, f.s, i));
	OK(&f, model_commit(&f.m, f.s));
	OK(&f, model_gc_all(&f.m, f.s));
	u1 = usage(&f);
	assert_int_equal(u1.data_chunks, 0);
	assert_int_equal(u1.nr_deleting, 0);
	fx_done(&f);
}

/*
 * Three snapshots share copies of chunks 0..7.  The one at `pos` (0
 * first, 1 middle, 2 last of the range) writes chunks 0..3 (splits) and
 * 12..13 (still shared with the origin), then is deleted: after gc the
 * space is what it was before its writes.  Then the others go too.
 */
static void delete_pos(u32 pos)
{
	struct ssnap_usage u;
	u64 before, c;
	struct fx f;
	u32 id = pos + 1, i;

	fx_init(&f, 1024, 16, 8, 0);
	for (i = 1; i <= 3; i++)
		OK(&f, model_create(&f.m, f.s, i));
	for (c = 0; c < 8; c++)
		OK(&f, model_origin_write(&f.m, f.s, c));
	OK(&f, model_commit(&f.m, f.s));
	before = usage(&f).data_chunks;
	assert_int_equal(before, 8);
	for (c = 0; c < 4; c++)
		OK(&f, model_snap_write(&f.m, f.s, id, c, c & 1));
	for (c = 12; c < 14; c++)
		OK(&f, model_snap_write(&f.m, f.s, id, c, false));
	OK(&f, model_commit(&f.m, f.s));
	/* 4 own copies, and 2 x (own + shared for the other two). */
	assert_int_equal(usage(&f).data_chunks, before + 4 + 4);
	OK(&f, model_verify(&f.m, f.s));

	OK(&f, model_delete(&f.m, f.s, id));
	OK(&f, model_commit(&f.m, f.s));
	OK(&f, model_verify(&f.m, f.s));
	u = usage(&f);
	assert_int_equal(u.nr_deleting, 1);
	OK(&f, model_gc_all(&f.m, f.s));
	u = usage(&f);
	assert_int_equal(u.nr_deleting, 0);
	assert_int_equal(u.data_chunks, before + 2);
	fx_check(&f);
	OK(&f, model_verify(&f.m, f.s));

	for (i = 1; i <= 3; i++) {
		if (i == id)
			continue;
		OK(&f, model_delete(&f.m, f.s, i));
		OK(&f, model_commit(&f.m, f.s));
		OK(&f, model_gc_all(&f.m, f.s));
		fx_check(&f);
	}
	assert_int_equal(usage(&f).data_chunks, 0);
	fx_done(&f);
}

static void test_delete_first(void **state)
{
	(void)state;
	delete_pos(0);
}

static void test_delete_middle(void **state)
{
	(void)state;
	delete_pos(1);
}

static void test_delete_last(void **state)
{
	(void)state;
	delete_pos(2);
}

/* Deleting without writes: the shared copy lives while one label does. */
static void test_delete_range_order(void **state)
{
	static const u32 orders[6][3] = {
		{ 1, 2, 3 }, { 1, 3, 2 }, { 2, 1, 3 },
		{ 2, 3, 1 }, { 3, 1, 2 }, { 3, 2, 1 },
	};
	struct fx f;
	u32 o, i;

	(void)state;
	for (o = 0; o < 6; o++) {
		fx_init(&f, 1024, 8, 8, 0);
		for (i = 1; i <= 3; i++)
			OK(&f, model_create(&f.m, f.s, i));
		OK(&f, model_origin_write(&f.m, f.s, 0));
		OK(&f, model_snap_write(&f.m, f.s, 2, 0, false));
		for (i = 0; i < 3; i++) {
			OK(&f, model_delete(&f.m, f.s, orders[o][i]));
			OK(&f, model_commit(&f.m, f.s));
			OK(&f, model_gc_all(&f.m, f.s));
			OK(&f, model_verify(&f.m, f.s));
			fx_check(&f);
		}
		assert_int_equal(usage(&f).data_chunks, 0);
		fx_done(&f);
	}
}

/*
 * Snapshot writes inside a shared range split it; the last reader
 * writes in place.
 */
static void test_split_inside_range(void **state)
{
	static const u32 order[5] = { 3, 1, 2, 5, 4 };
	struct ssnap_plan p;
	struct fx f;
	u64 before, cow;
	u32 i;

	(void)state;
	fx_init(&f, 1024, 8, 8, 0);
	for (i = 1; i <= 5; i++)
		OK(&f, model_create(&f.m, f.s, i));
	OK(&f, model_origin_write(&f.m, f.s, 0));
	OK(&f, model_commit(&f.m, f.s));
	before = usage(&f).data_chunks;
	for (i = 0; i < 5; i++) {
		OK(&f, model_snap_write(&f.m, f.s, order[i], 0, i & 1));
		OK(&f, model_commit(&f.m, f.s));
		OK(&f, model_verify(&f.m, f.s));
	}
	/* Four own copies; the last writer kept the shared block. */
	assert_int_equal(usage(&f).data_chunks, before + 4);
	assert_int_equal(f.m.inplace, 1);
	/* Now every snapshot writes in place. */
	for (i = 1; i <= 5; i++) {
		assert_int_equal(ssnap_plan_write(f.s, lab(&f, i), 0, &p), 0);
		assert_false(p.copy);
		assert_int_equal(ssnap_lookup(f.s, lab(&f, i), 0, &cow),
				 SSNAP_MAP_COW);
		assert_int_equal(p.own, cow);
		ssnap_abort_plan(f.s, &p);
	}
	fx_done(&f);
}

/*
 * A snapshot write to a chunk others still share with the origin: one
 * read of the origin feeds the shared copy and the snapshot's own.
 */
static void test_write_shared_with_origin(void **state)
{
	struct ssnap_plan p;
	struct fx f;
	u64 d0;

	(void)state;
	fx_init(&f, 1024, 8, 8, 0);
	OK(&f, model_create(&f.m, f.s, 1));
	/* Alone: only an own copy. */
	assert_int_equal(ssnap_plan_write(f.s, lab(&f, 1), 2, &p), 0);
	assert_true(p.copy);
	assert_true(p.src == SSNAP_SRC_ORIGIN);
	assert_int_equal(p.shared, 0);
	assert_int_not_equal(p.own, 0);
	ssnap_abort_plan(f.s, &p);
	OK(&f, model_snap_write(&f.m, f.s, 1, 2, false));

	OK(&f, model_create(&f.m, f.s, 2));
	OK(&f, model_create(&f.m, f.s, 3));
	assert_int_equal(ssnap_plan_write(f.s, lab(&f, 2), 5, &p), 0);
	assert_true(p.copy);
	assert_true(p.src == SSNAP_SRC_ORIGIN);
	assert_int_not_equal(p.shared, 0);
	assert_int_not_equal(p.own, 0);
	ssnap_abort_plan(f.s, &p);
	d0 = usage(&f).data_chunks;
	OK(&f, model_snap_write(&f.m, f.s, 2, 5, false));
	assert_int_equal(usage(&f).data_chunks, d0 + 2);
	/* The others got their copy already: the origin write copies none. */
	d0 = usage(&f).data_chunks;
	OK(&f, model_origin_write(&f.m, f.s, 5));
	assert_int_equal(usage(&f).data_chunks, d0);
	OK(&f, model_verify(&f.m, f.s));

	/* The newest snapshot of a chunk shared with the origin. */
	OK(&f, model_snap_write(&f.m, f.s, 3, 6, true));
	OK(&f, model_origin_write(&f.m, f.s, 6));
	OK(&f, model_verify(&f.m, f.s));
	fx_done(&f);
}

/* An id used again gets a new label and sees the origin of its time. */
static void test_id_reuse(void **state)
{
	u32 old_label;
	struct fx f;

	(void)state;
	fx_init(&f, 1024, 8, 8, 0);
	OK(&f, model_create(&f.m, f.s, 5));
	old_label = lab(&f, 5);
	OK(&f, model_origin_write(&f.m, f.s, 0));
	OK(&f, model_snap_write(&f.m, f.s, 5, 1, false));
	OK(&f, model_delete(&f.m, f.s, 5));
	OK(&f, model_commit(&f.m, f.s));
	OK(&f, model_create(&f.m, f.s, 5));
	assert_true(lab(&f, 5) > old_label);
	OK(&f, model_verify(&f.m, f.s));
	/* Its reads are the origin's, not the old snapshot's copies. */
	OK(&f, model_origin_write(&f.m, f.s, 0));
	OK(&f, model_verify(&f.m, f.s));
	/* gc with the reused id live frees only the old one's copies. */
	OK(&f, model_gc_all(&f.m, f.s));
	assert_int_equal(usage(&f).data_chunks, 1);
	fx_reopen(&f);
	fx_done(&f);
}

static void test_discard(void **state)
{
	struct ssnap_plan p;
	struct fx f;
	u64 cow, d0;

	(void)state;
	fx_init(&f, 1024, 8, 8, 0);
	OK(&f, model_create(&f.m, f.s, 1));
	OK(&f, model_create(&f.m, f.s, 2));
	/* Reads the origin: nothing to drop. */
	OK(&f, model_discard(&f.m, f.s, 1, 0));
	assert_int_equal(ssnap_lookup(f.s, lab(&f, 1), 0, &cow),
			 SSNAP_MAP_ORIGIN);
	/* Shared copy: kept for the other. */
	OK(&f, model_origin_write(&f.m, f.s, 1));
	OK(&f, model_discard(&f.m, f.s, 1, 1));
	assert_int_equal(ssnap_lookup(f.s, lab(&f, 1), 1, &cow),
			 SSNAP_MAP_COW);
	/* Its own copy: dropped, reads zeroes, space back at commit. */
	OK(&f, model_snap_write(&f.m, f.s, 1, 2, false));
	OK(&f, model_commit(&f.m, f.s));
	d0 = usage(&f).data_chunks;
	OK(&f, model_discard(&f.m, f.s, 1, 2));
	assert_int_equal(ssnap_lookup(f.s, lab(&f, 1), 2, &cow),
			 SSNAP_MAP_ZERO);
	OK(&f, model_commit(&f.m, f.s));
	assert_int_equal(usage(&f).data_chunks, d0 - 1);
	/* Discarding a zero chunk again does nothing. */
	OK(&f, model_discard(&f.m, f.s, 1, 2));
	/* A partial write to a zeroed chunk fills it with zeroes first. */
	assert_int_equal(ssnap_plan_write(f.s, lab(&f, 1), 2, &p), 0);
	assert_true(p.copy);
	assert_true(p.src == SSNAP_SRC_ZERO);
	ssnap_abort_plan(f.s, &p);
	OK(&f, model_snap_write(&f.m, f.s, 1, 2, false));
	OK(&f, model_verify(&f.m, f.s));
	/* The other snapshot's view never changed. */
	OK(&f, model_origin_write(&f.m, f.s, 2));
	OK(&f, model_discard(&f.m, f.s, 2, 2));
	fx_reopen(&f);
	fx_done(&f);
}

/* A fixed mixed history for the usage, diff and reopen tests. */
static void history(struct fx *f, u64 seed, u32 nops)
{
	u64 rng = seed;
	u32 i;

	for (i = 0; i < nops; i++) {
		u32 op = (u32)tr_below(&rng, 100);
		u64 c = tr_below(&rng, f->nchunks);
		struct mstate *st = &f->m.cur;
		u32 id = st->nr_snaps ?
			st->snaps[tr_below(&rng, st->nr_snaps)].id : 0;

		if (op < 10 || !st->nr_snaps) {
			OK(f, model_create(&f->m, f->s, ++f->next_id));
		} else if (op < 45) {
			OK(f, model_origin_write(&f->m, f->s, c));
		} else if (op < 80) {
			OK(f, model_snap_write(&f->m, f->s, id, c,
					       tr_below(&rng, 2)));
		} else if (op < 85) {
			OK(f, model_discard(&f->m, f->s, id, c));
		} else if (op < 90 && st->nr_snaps > 2) {
			OK(f, model_delete(&f->m, f->s, id));
			OK(f, model_commit(&f->m, f->s));
		} else if (op < 95) {
			int r = model_gc(&f->m, f->s, 4);

			if (r < 0)
				fail_msg("gc: %d", r);
		} else {
			OK(f, model_commit(&f->m, f->s));
		}
		MODEL_OK(f);
	}
	OK(f, model_verify(&f->m, f->s));
}

struct diff_got {
	u64 chunks[256];
	u32 n;
	bool order_ok;
};

static int diff_cb(void *ctx, u64 chunk)
{
	struct diff_got *g = ctx;

	if (g->n && chunk <= g->chunks[g->n - 1])
		g->order_ok = false;
	if (g->n < 256)
		g->chunks[g->n++] = chunk;
	return 0;
}

static void test_diff(void **state)
{
	struct fx f;
	u32 a, b, i;
	u64 c;

	(void)state;
	fx_init(&f, 2048, 32, 8, 0);
	history(&f, 11, 300);
	for (a = 0; a <= f.m.cur.nr_snaps; a++) {
		for (b = 0; b <= f.m.cur.nr_snaps; b++) {
			const struct msnap *sa = a ? &f.m.cur.snaps[a - 1] :
				NULL;
			const struct msnap *sb = b ? &f.m.cur.snaps[b - 1] :
				NULL;
			u32 la = sa ? sa->label : SSNAP_ORIGIN;
			u32 lb = sb ? sb->label : SSNAP_ORIGIN;
			struct diff_got g = { .order_ok = true };

			assert_int_equal(ssnap_diff(f.s, la, lb, diff_cb, &g),
					 0);
			assert_true(g.order_ok);
			i = 0;
			for (c = 0; c < f.nchunks; c++) {
				bool differ = model_want(&f.m.cur, sa, c) !=
					model_want(&f.m.cur, sb, c);
				bool listed = i < g.n && g.chunks[i] == c;
				u64 wa = sa ? sa->map[c] : MAP_ORIGIN;
				u64 wb = sb ? sb->map[c] : MAP_ORIGIN;

				if (differ && !listed)
					fail_msg("diff %u/%u misses chunk %llu",
						 la, lb, (unsigned long long)c);
				/* Listed: they read different places. */
				if (listed && wa == wb)
					fail_msg("diff %u/%u lists chunk %llu "
						 "both read at %#llx", la, lb,
						 (unsigned long long)c,
						 (unsigned long long)wa);
				i += listed;
			}
			assert_int_equal(i, g.n);
		}
	}
	fx_done(&f);
}

static void test_snapshot_usage(void **state)
{
	struct ssnap_snap_usage u[64];
	struct fx f;
	u32 i, j, k;
	int n;
	u64 c;

	(void)state;
	fx_init(&f, 2048, 32, 8, 0);
	history(&f, 5, 400);
	n = ssnap_snapshot_usage(f.s, u, 64);
	assert_int_equal(n, (int)f.m.cur.nr_snaps);
	for (i = 0; i < (u32)n; i++) {
		const struct msnap *sn = &f.m.cur.snaps[i];
		u64 excl = 0, shared = 0;

		assert_int_equal(u[i].id, sn->id);
		for (c = 0; c < f.nchunks; c++) {
			u64 w = sn->map[c];
			bool other = false;

			if (w == MAP_ORIGIN || w == MAP_ZERO)
				continue;
			for (j = 0; j < f.m.cur.nr_snaps; j++)
				if (j != i && f.m.cur.snaps[j].map[c] == w)
					other = true;
			if (other)
				shared++;
			else
				excl++;
		}
		if (u[i].exclusive != excl || u[i].shared != shared)
			fail_msg("id %u: exclusive %llu shared %llu, "
				 "model %llu %llu", sn->id,
				 (unsigned long long)u[i].exclusive,
				 (unsigned long long)u[i].shared,
				 (unsigned long long)excl,
				 (unsigned long long)shared);
	}
	/* A shorter array gets the first entries. */
	if (n > 2) {
		struct ssnap_snap_usage v[2];

		assert_int_equal(ssnap_snapshot_usage(f.s, v, 2), 2);
		for (k = 0; k < 2; k++) {
			assert_int_equal(v[k].id, u[k].id);
			assert_int_equal(v[k].exclusive, u[k].exclusive);
			assert_int_equal(v[k].shared, u[k].shared);
		}
	}
	fx_done(&f);
}

/*
 * The usage walk in steps of one chunk gives what the whole walk gives,
 * and a walk across a snapshot create or delete says to begin again.
 */
static void test_snapshot_usage_steps(void **state)
{
	struct ssnap_snap_usage u[64], v[64];
	struct ssnap_usage_walk *w;
	struct fx f;
	int n, r, steps = 0;
	u32 i;

	(void)state;
	fx_init(&f, 2048, 32, 8, 0);
	history(&f, 5, 400);
	n = ssnap_snapshot_usage(f.s, u, 64);
	assert_true(n > 0);

	w = ssnap_usage_walk_start(f.s);
	assert_non_null(w);
	assert_int_equal(ssnap_usage_walk_result(f.s, w, v, 64), -EINVAL);
	while ((r = ssnap_usage_walk_step(f.s, w, 1)) == 1)
		steps++;
	assert_int_equal(r, 0);
	assert_true(steps > 1);
	assert_int_equal(ssnap_usage_walk_result(f.s, w, v, 64), n);
	for (i = 0; i < (u32)n; i++) {
		assert_int_equal(v[i].id, u[i].id);
		assert_int_equal(v[i].exclusive, u[i].exclusive);
		assert_int_equal(v[i].shared, u[i].shared);
	}
	ssnap_usage_walk_free(w);

	w = ssnap_usage_walk_start(f.s);
	assert_non_null(w);
	assert_int_equal(ssnap_usage_walk_step(f.s, w, 1), 1);
	assert_int_equal(ssnap_snapshot_create(f.s, 9999, NULL, 0, 1), 0);
	assert_int_equal(ssnap_usage_walk_step(f.s, w, 1), -EAGAIN);
	ssnap_usage_walk_free(w);
	w = ssnap_usage_walk_start(f.s);
	assert_non_null(w);
	assert_int_equal(ssnap_snapshot_delete(f.s, 9999), 0);
	assert_int_equal(ssnap_usage_walk_step(f.s, w, ~0U), -EAGAIN);
	assert_int_equal(ssnap_usage_walk_result(f.s, w, v, 64), -EAGAIN);
	ssnap_usage_walk_free(w);
	fx_done(&f);
}

static void test_reopen(void **state)
{
	struct ssnap_usage a, b;
	struct fx f;
	u32 round;

	(void)state;
	fx_init(&f, 2048, 32, 8, 64);
	for (round = 0; round < 4; round++) {
		history(&f, 100 + round, 150);
		OK(&f, model_commit(&f.m, f.s));
		a = usage(&f);
		fx_reopen(&f);
		b = usage(&f);
		assert_int_equal(a.data_chunks, b.data_chunks);
		assert_int_equal(a.meta_blocks, b.meta_blocks);
		assert_int_equal(a.last_label, b.last_label);
		assert_int_equal(a.nr_snapshots, b.nr_snapshots);
		assert_int_equal(a.nr_deleting, b.nr_deleting);
		assert_int_equal(a.gc_pass, b.gc_pass);
		assert_int_equal(a.gc_chunk, b.gc_chunk);
		assert_true(b.sb_flags == 0 || b.sb_flags == SSNAP_SB_CLEAN);
	}
	fx_done(&f);
}

/*
 * A store marked failed stays failed across a reopen, with its data
 * intact for ssnap check, and takes no more changes.
 */
/* Live snapshots of the store on d, opened read-only. */
static u32 ssnap_nr_snapshots_of(struct memdev *d)
{
	struct ssnap_open_params op = { .read_only = true };
	struct ssnap_store *s;
	u32 n;

	assert_int_equal(ssnap_open(&d->dev, &op, &s), 0);
	n = ssnap_nr_snapshots(s);
	assert_int_equal(ssnap_close(s), 0);
	return n;
}

static void test_mark_failed(void **state)
{
	struct ssnap_snap_info info;
	struct fx f;
	char msg[200];
	u32 fixes, i, n;
	int r;

	(void)state;
	fx_init(&f, 2048, 32, 8, 0);
	history(&f, 3, 60);
	OK(&f, model_commit(&f.m, f.s));
	assert_int_equal(ssnap_failed(f.s), 0);
	assert_int_equal(usage(&f).sb_flags & SSNAP_SB_FAILED, 0);
	assert_int_equal(ssnap_mark_failed(f.s), 0);
	assert_int_equal(ssnap_mark_failed(f.s), 0);
	assert_int_equal(ssnap_close(f.s), 0);
	f.s = h_open(f.d, 0, &r);
	assert_int_equal(r, 0);
	assert_int_not_equal(ssnap_failed(f.s), 0);
	assert_true(usage(&f).sb_flags & SSNAP_SB_FAILED);
	assert_int_not_equal(ssnap_snapshot_create(f.s, 4242, NULL, 0, 1), 0);
	assert_int_equal(ssnap_close(f.s), 0);
	f.s = NULL;

	/* check says so; repair marks the snapshots invalid and clears it. */
	assert_int_equal(h_check(f.d, msg, sizeof(msg)), 1);
	assert_string_equal(msg, "the store is marked failed: its snapshots may lack data");
	assert_int_equal(h_repair(f.d, msg, sizeof(msg), &fixes), 0);
	n = ssnap_nr_snapshots_of(f.d);
	assert_true(n > 0);
	assert_int_equal(fixes, n + 1);
	assert_string_equal(msg, "fixed: snapshot 1 marked invalid (the store failed)");
	f.s = h_open(f.d, 0, &r);
	assert_int_equal(r, 0);
	assert_int_equal(ssnap_failed(f.s), 0);
	assert_int_equal(usage(&f).sb_flags & (SSNAP_SB_FAILED | SSNAP_SB_NEEDS_CHECK), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(ssnap_snapshot_get(f.s, i, &info), 0);
		assert_true(info.flags & SSNAP_SNAP_INVALID);
	}
	assert_int_equal(ssnap_snapshot_create(f.s, 4242, NULL, 0, 1), 0);
	assert_int_equal(ssnap_snapshot_find(f.s, 4242, &info), 0);
	assert_int_equal(info.flags & SSNAP_SNAP_INVALID, 0);
	assert_int_equal(ssnap_close(f.s), 0);
	f.s = NULL;
	/* Nothing left to fix. */
	assert_int_equal(h_repair(f.d, msg, sizeof(msg), &fixes), 0);
	assert_int_equal(fixes, 0);
	fx_check(&f);
	model_free(&f.m);
	memdev_free(f.d);
}

/*
 * Repairs: a bitmap that leaks a block and one that lost one, counters
 * and an exclusive count gone wrong are fixed, and needs_check cleared;
 * a damaged tree is left alone, reported, and nothing else changes.
 */
static void test_repair(void **state)
{
	struct ssnap_disk_root root;
	struct memdev *d;
	struct fx f;
	char msg[200];
	u32 fixes, bm, n;
	u64 free_blk;
	u8 *b;
	int r;

	(void)state;
	fx_init(&f, 2048, 32, 8, 0);
	history(&f, 3, 60);
	OK(&f, ssnap_mark_damaged(f.s));
	OK(&f, ssnap_close(f.s));
	f.s = NULL;
	d = f.d;
	bm = SSNAP_JOURNAL_START +
	     le32_to_cpu(((struct ssnap_disk_sb *)memdev_block(d, 0))->journal_blocks);
	/* The last block of the device is free: mark it in use. */
	free_blk = 2047;
	b = memdev_block(d, bm) + offsetof(struct ssnap_disk_bitmap, bits);
	b[free_blk / 8] |= 1U << (free_blk % 8);
	h_reseal(d, bm);
	/* And the root block miscounts its data chunks. */
	h_root(d, &root);
	root.data_chunks = cpu_to_le64(le64_to_cpu(root.data_chunks) + 3);
	memcpy(memdev_block(d, SSNAP_ROOT_BLOCK), &root, sizeof(root));
	h_reseal(d, SSNAP_ROOT_BLOCK);
	assert_true(h_check(d, msg, sizeof(msg)) >= 2);

	n = ssnap_nr_snapshots_of(d);
	assert_int_equal(h_repair(d, msg, sizeof(msg), &fixes), 0);
	/* Bitmap, counter, each snapshot invalid (damaged: failed), 2 marks. */
	assert_int_equal(fixes, 4 + n);
	assert_int_equal(h_check(d, msg, sizeof(msg)), 0);
	f.s = h_open(d, 0, &r);
	assert_int_equal(r, 0);
	model_opened(&f.m, f.s);
	OK(&f, model_verify(&f.m, f.s));
	assert_int_equal(usage(&f).sb_flags &
			 (SSNAP_SB_FAILED | SSNAP_SB_NEEDS_CHECK), 0);
	OK(&f, ssnap_close(f.s));
	f.s = NULL;

	/* A damaged leaf: nothing to do but report it. */
	h_root(d, &root);
	memdev_flip(d, le64_to_cpu(root.exc_root), 100, 0x10);
	r = h_repair(d, msg, sizeof(msg), &fixes);
	assert_true(r > 0 || r == -EILSEQ);
	assert_true(h_check(d, msg, sizeof(msg)) > 0);
	model_free(&f.m);
	memdev_free(d);
}

/* Chunks of 64 KiB; COW blocks are aligned on them. */
static void test_big_chunks(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 8192, 24, 128, 0);
	history(&f, 77, 300);
	fx_reopen(&f);
	fx_done(&f);
}

/*
 * A deep exception tree in a small cache: splits, merges and the root
 * shrinking back when everything is reclaimed.
 */
static void test_big_tree(void **state)
{
	const u32 nch = 6000;
	struct ssnap_usage u0, u;
	u64 rng = 3, c;
	struct fx f;
	u32 i;

	(void)state;
	fx_init(&f, 40000, nch, 8, 64);
	u0 = usage(&f);
	OK(&f, model_create(&f.m, f.s, 1));
	for (c = 0; c < nch; c++)
		OK(&f, model_origin_write(&f.m, f.s, (c * 7919) % nch));
	OK(&f, model_create(&f.m, f.s, 2));
	OK(&f, model_create(&f.m, f.s, 3));
	for (i = 0; i < 4000; i++) {
		c = tr_below(&rng, nch);
		if (i & 1)
			OK(&f, model_origin_write(&f.m, f.s, c));
		else
			OK(&f, model_snap_write(&f.m, f.s, 1 + (u32)
						tr_below(&rng, 3), c, true));
	}
	OK(&f, model_commit(&f.m, f.s));
	{
		struct ssnap_disk_root root;

		h_root(f.d, &root);
		assert_true(le32_to_cpu(root.exc_depth) >= 2);
	}
	fx_reopen(&f);
	fx_check(&f);
	OK(&f, model_delete(&f.m, f.s, 2));
	OK(&f, model_commit(&f.m, f.s));
	OK(&f, model_gc_all(&f.m, f.s));
	OK(&f, model_verify(&f.m, f.s));
	fx_check(&f);
	OK(&f, model_delete(&f.m, f.s, 1));
	OK(&f, model_delete(&f.m, f.s, 3));
	OK(&f, model_commit(&f.m, f.s));
	OK(&f, model_gc_all(&f.m, f.s));
	u = usage(&f);
	assert_int_equal(u.data_chunks, 0);
	/* The trees are back to one empty leaf each. */
	assert_int_equal(u.meta_blocks, u0.meta_blocks);
	fx_done(&f);
}

/* A snapshot deleted while a reclaim pass runs waits for the next. */
static void test_delete_during_gc(void **state)
{
	struct fx f;
	u64 c;
	int r;

	(void)state;
	fx_init(&f, 4096, 600, 8, 0);
	OK(&f, model_create(&f.m, f.s, 1));
	for (c = 0; c < 600; c++)
		OK(&f, model_origin_write(&f.m, f.s, c));
	OK(&f, model_create(&f.m, f.s, 2));
	for (c = 0; c < 600; c += 2)
		OK(&f, model_origin_write(&f.m, f.s, c));
	OK(&f, model_create(&f.m, f.s, 3));
	OK(&f, model_delete(&f.m, f.s, 1));
	OK(&f, model_commit(&f.m, f.s));
	r = model_gc(&f.m, f.s, 8);
	assert_int_equal(r, 1);
	assert_int_not_equal(usage(&f).gc_pass, 0);
	OK(&f, model_delete(&f.m, f.s, 2));
	OK(&f, model_commit(&f.m, f.s));
	fx_reopen(&f);
	assert_int_equal(usage(&f).nr_deleting, 2);
	OK(&f, model_gc_all(&f.m, f.s));
	assert_int_equal(usage(&f).nr_deleting, 0);
	assert_int_equal(usage(&f).data_chunks, 0);
	OK(&f, model_verify(&f.m, f.s));
	fx_done(&f);
}

/* A full store says -ENOSPC and stays sound; deleting gives room back. */
static void test_enospc(void **state)
{
	struct ssnap_usage u;
	struct fx f;
	u64 c;
	int r = 0;

	(void)state;
	fx_init(&f, 512, 400, 8, 0);
	OK(&f, model_create(&f.m, f.s, 1));
	for (c = 0; c < 400; c++) {
		r = model_origin_write(&f.m, f.s, c);
		if (r)
			break;
	}
	MODEL_OK(&f);
	assert_int_equal(r, -ENOSPC);
	u = usage(&f);
	assert_int_equal(u.free_chunks, 0);
	assert_int_equal(ssnap_failed(f.s), 0);
	OK(&f, model_commit(&f.m, f.s));
	fx_reopen(&f);
	OK(&f, model_delete(&f.m, f.s, 1));
	OK(&f, model_commit(&f.m, f.s));
	OK(&f, model_gc_all(&f.m, f.s));
	OK(&f, model_create(&f.m, f.s, 2));
	OK(&f, model_origin_write(&f.m, f.s, 399));
	fx_done(&f);
}

static void note_id(void *ctx, u32 id)
{
	u32 *ids = ctx;

	ids[ids[0]++ + 1] = id;
}

/*
 * A copy that could not be made: the snapshots the plan was for become
 * invalid, and no other; the reservation comes back; the store stays
 * clean and goes on.
 */
static void test_plan_invalidate(void **state)
{
	struct ssnap_snap_info info;
	struct ssnap_usage u0, u1;
	struct ssnap_plan p;
	u32 ids[8] = { 0 };
	struct fx f;

	(void)state;
	fx_init(&f, 1024, 16, 8, 0);
	OK(&f, model_create(&f.m, f.s, 1));
	OK(&f, model_origin_write(&f.m, f.s, 2));	/* 1 has chunk 2 */
	OK(&f, model_create(&f.m, f.s, 2));
	OK(&f, model_create(&f.m, f.s, 3));
	u0 = usage(&f);
	assert_int_equal(ssnap_plan_write(f.s, SSNAP_ORIGIN, 2, &p), 0);
	assert_true(p.copy);
	assert_int_equal(ssnap_plan_invalidate(f.s, &p, note_id, ids), 0);
	/* 2 and 3 read chunk 2 from the origin; 1 has its copy. */
	assert_int_equal(ids[0], 2);
	assert_int_equal(ids[1], 2);
	assert_int_equal(ids[2], 3);
	assert_int_equal(ssnap_snapshot_find(f.s, 1, &info), 0);
	assert_int_equal(info.flags & SSNAP_SNAP_INVALID, 0);
	assert_int_equal(ssnap_snapshot_find(f.s, 3, &info), 0);
	assert_int_equal(info.flags & SSNAP_SNAP_INVALID, SSNAP_SNAP_INVALID);
	u1 = usage(&f);
	assert_int_equal(u1.free_chunks, u0.free_chunks);
	OK(&f, ssnap_commit(f.s));
	/* Snapshots made later are valid, and copies go on. */
	OK(&f, model_create(&f.m, f.s, 4));
	OK(&f, model_origin_write(&f.m, f.s, 5));
	assert_int_equal(ssnap_snapshot_find(f.s, 4, &info), 0);
	assert_int_equal(info.flags & SSNAP_SNAP_INVALID, 0);
	OK(&f, ssnap_close(f.s));
	f.s = NULL;
	fx_check(&f);
	model_free(&f.m);
	memdev_free(f.d);
}

/*
 * A COW device that grows: ssnap_grow gives the store the new space,
 * which serves copies at once and after a reopen; shrinking and growing
 * beyond the device are refused.
 */
static void test_grow(void **state)
{
	struct ssnap_usage u0, u1;
	struct fx f;
	u64 c, stop;
	int r = 0;

	(void)state;
	/* 8-block chunks; groups 0 and 1, the second partial. */
	fx_init(&f, 20000, 4000, 64, 0);
	model_free(&f.m);
	model_init(&f.m, 4000, 40000, 8);
	f.m.hazard_is_error = true;
	model_opened(&f.m, f.s);
	OK(&f, model_create(&f.m, f.s, 1));
	for (c = 0; c < 4000; c++) {
		r = model_origin_write(&f.m, f.s, c);
		if (r)
			break;
	}
	MODEL_OK(&f);
	assert_int_equal(r, -ENOSPC);
	stop = c;
	u0 = usage(&f);
	assert_int_equal(u0.total_blocks, 20000);

	memdev_grow(f.d, 40000);
	assert_int_equal(ssnap_grow(f.s, 40001), -EINVAL);
	OK(&f, ssnap_grow(f.s, 40000));
	u1 = usage(&f);
	assert_int_equal(u1.total_blocks, 40000);
	assert_true(u1.free_chunks > 2000);
	assert_int_equal(u1.data_chunks, u0.data_chunks);
	for (c = stop; c < 4000; c++)
		OK(&f, model_origin_write(&f.m, f.s, c));
	OK(&f, model_commit(&f.m, f.s));
	fx_reopen(&f);
	assert_int_equal(usage(&f).total_blocks, 40000);
	assert_int_equal(ssnap_grow(f.s, 30000), -EINVAL);
	OK(&f, ssnap_grow(f.s, 40000));
	fx_done(&f);
}

/*
 * A power cut at every write of a grow, with the unflushed writes lost
 * or kept: the store opens, of the old size or the new one, clean, and
 * its snapshot reads what it did.
 */
/*
 * A metadata block freed since the last checkpoint still has a copy in
 * the journal, which a replay writes home again: were it reused for a
 * chunk copy, a crash would overwrite the copy.  The allocator keeps it
 * out of data chunks until a checkpoint.
 */
static void test_freed_meta_quarantine(void **state)
{
	struct ssnap_store *s;
	struct ssnap_block *b;
	struct memdev *d;
	u64 m, c, *given;
	u32 n = 0, i;
	bool m_given = false;
	int r;

	(void)state;
	d = h_format(1024, 8, 0);	/* a chunk is one block */
	s = h_open(d, 0, &r);
	assert_int_equal(r, 0);
	given = calloc(1024, sizeof(*given));
	assert_non_null(given);
	assert_int_equal(ssnap_alloc_meta(s, &m), 0);
	assert_int_equal(ssnap_bnew(s, m, SSNAP_BT_LEAF, &b), 0);
	ssnap_bput(s, b);
	assert_int_equal(ssnap_commit(s), 0);	/* m is in the journal */
	assert_int_equal(ssnap_free_meta(s, m), 0);
	assert_int_equal(ssnap_commit(s), 0);	/* m is free */
	assert_true(s->jhead > 0);
	while (!ssnap_alloc_data(s, &c)) {
		assert_true(c != m);
		given[n++] = c;
	}
	assert_true(n > 100);
	assert_true(s->jhead > 0);

	/* The journal emptied, m is a chunk like any other. */
	for (i = 0; i < n; i++)
		ssnap_unreserve(s, given[i]);
	assert_int_equal(ssnap_checkpoint(s), 0);
	while (!ssnap_alloc_data(s, &c))
		m_given |= c == m;
	assert_true(m_given);
	free(given);
	ssnap_close(s);
	memdev_free(d);
}

/*
 * A block changed and freed in one transaction is left out of its
 * journal record: were the journal emptied at the start of that commit,
 * nothing would keep the block from becoming a chunk, which a replay of
 * the record would then overwrite.
 */
static void test_freed_meta_not_journaled(void **state)
{
	const struct ssnap_disk_commit *c;
	struct ssnap_store *s;
	struct ssnap_block *b;
	struct memdev *d;
	u64 m, pos;
	u32 i, n;
	int r;

	(void)state;
	d = h_format(1024, 8, 0);
	s = h_open(d, 0, &r);
	assert_int_equal(r, 0);
	assert_int_equal(ssnap_alloc_meta(s, &m), 0);
	assert_int_equal(ssnap_bnew(s, m, SSNAP_BT_LEAF, &b), 0);
	ssnap_bput(s, b);
	assert_int_equal(ssnap_commit(s), 0);
	assert_int_equal(ssnap_bread(s, m, SSNAP_BT_LEAF, &b), 0);
	((u8 *)b->data)[SSNAP_BLOCK_SIZE - 1] ^= 1;
	ssnap_bdirty(s, b);
	ssnap_bput(s, b);
	assert_int_equal(ssnap_free_meta(s, m), 0);
	pos = s->jstart + s->jhead;
	assert_int_equal(ssnap_commit(s), 0);
	c = (const void *)memdev_block(d, pos);
	assert_int_equal(ssnap_block_verify(s->csum_seed, c, SSNAP_BT_COMMIT,
					    pos), 0);
	n = le32_to_cpu(c->nr);
	assert_true(n > 0);
	for (i = 0; i < n; i++)
		if (le64_to_cpu(c->ent[i].blocknr) == m)
			fail_msg("freed block %llu is in the journal record",
				 (unsigned long long)m);
	assert_int_equal(ssnap_close(s), 0);
	assert_int_equal(h_check(d, NULL, 0), 0);
	memdev_free(d);
}

/*
 * A commit leaves its blocks in the journal, and a checkpoint writes them
 * home.  A checkpoint inside a transaction (the allocator's, or the
 * journal filling up) must write home what was committed, not the
 * changes under way: a power cut before their commit loses those.
 */
static void test_checkpoint_mid_transaction(void **state)
{
	struct ssnap_disk_root root;
	struct ssnap_snap_info info;
	struct ssnap_store *s;
	struct memdev *d, *img;
	char msg[200];
	int r;

	(void)state;
	d = h_format(2000, 16, 0);
	s = h_open(d, 0, &r);
	assert_int_equal(r, 0);
	assert_int_equal(ssnap_snapshot_create(s, 1, "one", 0, 1), 0);
	assert_int_equal(ssnap_commit(s), 0);
	h_root(d, &root);
	assert_int_equal(le32_to_cpu(root.nr_snapshots), 0);	/* not home */
	assert_int_equal(ssnap_snapshot_create(s, 2, "two", 0, 2), 0);
	assert_int_equal(ssnap_checkpoint(s), 0);
	h_root(d, &root);
	assert_int_equal(le32_to_cpu(root.nr_snapshots), 1);

	/* The power goes before snapshot 2 commits; every write landed. */
	memdev_cut_after(d, d->writes);
	h_quiet();
	ssnap_close(s);
	img = memdev_crash(d, MEMDEV_KEEP, 0);
	memdev_free(d);
	s = h_open(img, 0, &r);
	assert_int_equal(r, 0);
	assert_int_equal(ssnap_snapshot_find(s, 1, &info), 0);
	assert_int_equal(ssnap_snapshot_find(s, 2, &info), -ENOENT);
	assert_int_equal(ssnap_close(s), 0);
	r = h_check(img, msg, sizeof(msg));
	if (r)
		fail_msg("ssnap_check: %d problems, first: %s", r, msg);
	memdev_free(img);
}

/*
 * A chunk copy goes to the device without FUA before the commit that
 * records it; a power cut anywhere in that commit must never keep the
 * record and lose the copy (the snapshot would read a block that was
 * never written).  Each write of the commit in turn is the last, and the
 * cache's unflushed writes land or not at random, torn, or all but one.
 */
static void test_commit_after_copy(void **state)
{
	struct memdev *d, *c, *img;
	struct ssnap_store *s;
	struct ssnap_plan p;
	u8 *data;
	u64 k, n, base, seed, cow;
	u32 label;
	int r, pol;

	(void)state;
	d = h_format(2000, 16, 0);
	s = h_open(d, 0, &r);
	assert_int_equal(r, 0);
	assert_int_equal(ssnap_snapshot_create(s, 1, NULL, 0, 1), 0);
	assert_int_equal(ssnap_label_of(s, 1, &label), 0);
	assert_int_equal(ssnap_close(s), 0);
	memdev_sync(d);
	data = malloc(SSNAP_BLOCK_SIZE);
	assert_non_null(data);
	memset(data, 0xa5, SSNAP_BLOCK_SIZE);

	/* How many writes the commit makes, the copy's not counted. */
	c = memdev_clone_durable(d);
	s = h_open(c, 0, &r);
	assert_int_equal(r, 0);
	assert_int_equal(ssnap_plan_write(s, SSNAP_ORIGIN, 3, &p), 0);
	assert_true(p.copy && p.shared);
	assert_int_equal(c->dev.ops->write(&c->dev, p.shared, data, 0), 0);
	base = c->writes;
	assert_int_equal(ssnap_commit_plan(s, &p), 0);
	assert_int_equal(ssnap_commit(s), 0);
	n = c->writes - base;
	assert_true(n >= 2);
	ssnap_close(s);
	memdev_free(c);

	for (k = 1; k <= n; k++) {
		for (pol = MEMDEV_RANDOM; pol <= MEMDEV_DROP_ONE; pol++) {
			for (seed = 0; seed < 16; seed++) {
				c = memdev_clone_durable(d);
				s = h_open(c, 0, &r);
				assert_int_equal(r, 0);
				assert_int_equal(ssnap_plan_write(s, SSNAP_ORIGIN,
								  3, &p), 0);
				assert_int_equal(c->dev.ops->write(&c->dev,
					p.shared, data, 0), 0);
				memdev_cut_after(c, c->writes + k);
				if (!ssnap_commit_plan(s, &p))
					(void)ssnap_commit(s);
				ssnap_close(s);
				img = memdev_crash(c, pol, seed);
				memdev_free(c);
				s = h_open(img, 0, &r);
				assert_int_equal(r, 0);
				if (ssnap_lookup(s, label, 3, &cow) ==
				    SSNAP_MAP_COW &&
				    memcmp(memdev_block(img, cow), data,
					   SSNAP_BLOCK_SIZE))
					fail_msg("cut after write %llu of the commit (%s, seed %llu): the record survived, the copy in block %llu did not",
						 (unsigned long long)k,
						 memdev_policy_name(pol),
						 (unsigned long long)seed,
						 (unsigned long long)cow);
				ssnap_close(s);
				memdev_free(img);
			}
		}
	}
	free(data);
	memdev_free(d);
}

static void test_grow_crash(void **state)
{
	struct memdev *d, *c, *img;
	struct ssnap_store *s;
	struct ssnap_usage u;
	u64 k, n, base, ch, cow, want[64];
	char msg[200];
	int r, pol;
	u32 label;

	(void)state;
	d = h_format(20000, 64, 0);
	s = h_open(d, 0, &r);
	assert_int_equal(r, 0);
	assert_int_equal(ssnap_snapshot_create(s, 1, NULL, 0, 1), 0);
	assert_int_equal(ssnap_label_of(s, 1, &label), 0);
	for (ch = 0; ch < 64; ch++) {
		struct ssnap_plan p;

		assert_int_equal(ssnap_plan_write(s, SSNAP_ORIGIN, ch, &p), 0);
		assert_int_equal(ssnap_commit_plan(s, &p), 0);
	}
	for (ch = 0; ch < 64; ch++)
		assert_int_equal(ssnap_lookup(s, label, ch, &want[ch]),
				 SSNAP_MAP_COW);
	assert_int_equal(ssnap_close(s), 0);
	memdev_sync(d);
	memdev_grow(d, 40000);

	/* How many writes a whole grow makes. */
	c = memdev_clone_durable(d);
	s = h_open(c, 0, &r);
	assert_int_equal(r, 0);
	base = c->writes;
	assert_int_equal(ssnap_grow(s, 40000), 0);
	n = c->writes - base;
	assert_true(n >= 3);
	ssnap_close(s);
	memdev_free(c);

	for (k = 1; k <= n; k++) {
		for (pol = MEMDEV_LOSE; pol <= MEMDEV_KEEP; pol++) {
			c = memdev_clone_durable(d);
			s = h_open(c, 0, &r);
			assert_int_equal(r, 0);
			memdev_cut_after(c, c->writes + k);
			(void)ssnap_grow(s, 40000);
			ssnap_close(s);
			img = memdev_crash(c, pol, k);
			memdev_free(c);
			r = h_check(img, msg, sizeof(msg));
			if (r)
				fail_msg("cut after write %llu of %llu (%s): %d problems: %s",
					 (unsigned long long)k,
					 (unsigned long long)n,
					 memdev_policy_name(pol), r, msg);
			s = h_open(img, 0, &r);
			assert_int_equal(r, 0);
			ssnap_usage(s, &u);
			assert_true(u.total_blocks == 20000 ||
				    u.total_blocks == 40000);
			if (k == n)
				assert_int_equal(u.total_blocks, 40000);
			for (ch = 0; ch < 64; ch++) {
				assert_int_equal(ssnap_lookup(s, label, ch, &cow),
						 SSNAP_MAP_COW);
				assert_int_equal(cow, want[ch]);
			}
			assert_int_equal(ssnap_close(s), 0);
			memdev_free(img);
		}
	}
	memdev_free(d);
}

/*
 * I/O errors: a failed commit stops the store; reopening finds the
 * last commit.
 */
static void test_io_errors(void **state)
{
	struct mstate keep;
	struct fx f;
	char msg[200];
	u64 c;
	int r;

	(void)state;
	fx_init(&f, 2048, 400, 8, 64);
	OK(&f, model_create(&f.m, f.s, 1));
	for (c = 0; c < 400; c++)
		OK(&f, model_origin_write(&f.m, f.s, c));
	OK(&f, model_commit(&f.m, f.s));
	memset(&keep, 0, sizeof(keep));
	mstate_copy(&keep, &f.m.cur);

	/* A read error reaches the caller and does not stop the store. */
	OK(&f, ssnap_close(f.s));
	f.s = h_open(f.d, 64, &r);
	assert_int_equal(r, 0);
	model_opened(&f.m, f.s);
	{
		struct ssnap_disk_root root;
		u64 cow;

		h_root(f.d, &root);
		f.d->fail_read_block = (s64)le64_to_cpu(root.exc_root);
		r = ssnap_lookup(f.s, lab(&f, 1), 5, &cow);
		assert_int_equal(r, -EIO);
		assert_int_equal(ssnap_failed(f.s), 0);
		f.d->fail_read_block = -1;
		assert_int_equal(ssnap_lookup(f.s, lab(&f, 1), 5, &cow),
				 SSNAP_MAP_COW);
	}
	/* A write error in a commit fails the store. */
	OK(&f, model_create(&f.m, f.s, 2));
	OK(&f, model_origin_write(&f.m, f.s, 0));
	OK(&f, model_create(&f.m, f.s, 3));
	assert_true(ssnap_dirty(f.s));
	f.d->fail_write_block = SSNAP_JOURNAL_START + 1;
	r = ssnap_commit(f.s);
	assert_true(r < 0);
	assert_int_not_equal(ssnap_failed(f.s), 0);
	assert_int_equal(ssnap_snapshot_create(f.s, 9, NULL, 0, 0),
			 ssnap_failed(f.s));
	ssnap_close(f.s);
	f.s = NULL;
	memdev_reset_faults(f.d);
	assert_int_equal(h_check(f.d, msg, sizeof(msg)), 0);
	f.s = h_open(f.d, 0, &r);
	assert_int_equal(r, 0);
	{
		char why[200];

		r = model_compare(&f.m.committed, f.s, why, sizeof(why));
		if (r)
			r = model_compare(&f.m.cur, f.s, why, sizeof(why));
		if (r)
			fail_msg("after the failed commit: %s", why);
	}
	mstate_free(&keep);
	ssnap_close(f.s);
	f.s = NULL;
	fx_check(&f);
	model_free(&f.m);
	memdev_free(f.d);
}

/* ------------------------------------------------------------------ */
/* Damaged metadata.                                                   */

struct img {
	struct memdev *d;
	u64 exc_node, exc_leaf, snap_node, snap_leaf, bitmap;
};

static u64 first_child(struct memdev *d, u64 node)
{
	const u8 *b = memdev_block(d, node);
	u32 cap = (SSNAP_BLOCK_SIZE - sizeof(struct ssnap_disk_node)) /
		(sizeof(struct ssnap_disk_key) + 8);
	__le64 v;

	memcpy(&v, b + sizeof(struct ssnap_disk_node) +
	       cap * sizeof(struct ssnap_disk_key), 8);
	return le64_to_cpu(v);
}

/* Two-level trees of both kinds, closed cleanly. */
static void build_image(struct img *im)
{
	struct ssnap_disk_root root;
	const struct ssnap_disk_sb *sb;
	struct fx f;
	u64 c;
	u32 i;

	fx_init(&f, 2048, 500, 8, 0);
	for (i = 1; i <= 40; i++)
		OK(&f, model_create(&f.m, f.s, i));
	for (c = 0; c < 500; c++)
		OK(&f, model_origin_write(&f.m, f.s, c));
	OK(&f, ssnap_close(f.s));
	f.s = NULL;
	fx_check(&f);
	h_root(f.d, &root);
	assert_int_equal(le32_to_cpu(root.exc_depth), 2);
	assert_int_equal(le32_to_cpu(root.snap_depth), 2);
	im->d = f.d;
	im->exc_node = le64_to_cpu(root.exc_root);
	im->exc_leaf = first_child(f.d, im->exc_node);
	im->snap_node = le64_to_cpu(root.snap_root);
	im->snap_leaf = first_child(f.d, im->snap_node);
	sb = (const void *)memdev_block(f.d, 0);
	im->bitmap = SSNAP_JOURNAL_START + le32_to_cpu(sb->journal_blocks);
	model_free(&f.m);
}

/*
 * Flip a byte of block nr in a copy of the image: ssnap_check must
 * report it, and the store must refuse to open or fail with -EILSEQ on
 * the first access that needs the block.
 */
static void damage(struct img *im, u64 nr, u32 off, bool open_fails)
{
	struct memdev *d = memdev_clone_durable(im->d);
	struct ssnap_store *s;
	char msg[200];
	u64 c, cow;
	int r, n;

	memdev_flip(d, nr, off, 0x10);
	n = h_check(d, msg, sizeof(msg));
	if (n <= 0)
		fail_msg("block %llu damaged: ssnap_check says %d",
			 (unsigned long long)nr, n);
	s = h_open(d, 64, &r);
	if (open_fails) {
		assert_int_equal(r, -EILSEQ);
		assert_null(s);
	} else {
		assert_int_equal(r, 0);
		/* Every chunk of snapshot 1, then an allocation. */
		for (c = 0; c < 500 && r >= 0; c++)
			r = ssnap_lookup(s, 1, c, &cow);
		if (r >= 0) {
			assert_int_equal(ssnap_snapshot_create(s, 1000, NULL,
							       0, 0), 0);
			for (c = 0; c < 500 && r >= 0; c++) {
				struct ssnap_plan p;

				r = ssnap_plan_write(s, SSNAP_ORIGIN, c, &p);
				if (!r)
					r = ssnap_commit_plan(s, &p);
			}
			if (r >= 0)
				r = ssnap_commit(s);
		}
		assert_int_equal(r, -EILSEQ);
		ssnap_close(s);
	}
	memdev_free(d);
}

static void test_damage_trees(void **state)
{
	struct img im;

	(void)state;
	build_image(&im);
	damage(&im, SSNAP_ROOT_BLOCK, 40, true);
	damage(&im, SSNAP_ROOT_BLOCK, 3000, true);
	damage(&im, im.snap_node, 40, true);
	damage(&im, im.snap_leaf, 100, true);
	damage(&im, im.exc_node, 40, false);
	damage(&im, im.exc_leaf, 100, false);
	damage(&im, im.exc_leaf, 4000, false);
	damage(&im, im.bitmap, 200, false);
	/* The header fields too: type, block number, transaction. */
	damage(&im, im.exc_leaf, 5, false);
	damage(&im, im.exc_leaf, 9, false);
	damage(&im, im.exc_leaf, 17, false);
	memdev_free(im.d);
}

/*
 * Exclusive chunks follow copies, snapshot writes and deletes, survive a
 * reopen, and a record that counts wrong is a problem ssnap_check
 * names (a checksum-valid record: the count, not the block, is wrong).
 */
static void test_exclusive_counts(void **state)
{
	struct ssnap_disk_root root;
	struct ssnap_snap_info info;
	struct fx f;
	char msg[200];
	u8 *b;
	u64 c;
	u32 off;
	int r, found = 0;

	(void)state;
	fx_init(&f, 1024, 32, 8, 0);
	OK(&f, model_create(&f.m, f.s, 1));
	for (c = 0; c < 10; c++)
		OK(&f, model_origin_write(&f.m, f.s, c));
	assert_int_equal(ssnap_snapshot_find(f.s, 1, &info), 0);
	assert_int_equal(info.exclusive, 10);
	/* Shared by 1 and 2: no longer 1's alone, nor 2's. */
	OK(&f, model_create(&f.m, f.s, 2));
	for (c = 10; c < 14; c++)
		OK(&f, model_origin_write(&f.m, f.s, c));
	assert_int_equal(ssnap_snapshot_find(f.s, 1, &info), 0);
	assert_int_equal(info.exclusive, 10);
	assert_int_equal(ssnap_snapshot_find(f.s, 2, &info), 0);
	assert_int_equal(info.exclusive, 0);
	/* 2 writes two of them: a copy each of its own. */
	OK(&f, model_snap_write(&f.m, f.s, 2, 10, false));
	OK(&f, model_snap_write(&f.m, f.s, 2, 11, true));
	assert_int_equal(ssnap_snapshot_find(f.s, 1, &info), 0);
	assert_int_equal(info.exclusive, 12);
	assert_int_equal(ssnap_snapshot_find(f.s, 2, &info), 0);
	assert_int_equal(info.exclusive, 2);
	/* 1 deleted: 2 gets the shared two once they are reclaimed. */
	OK(&f, model_delete(&f.m, f.s, 1));
	assert_int_equal(ssnap_snapshot_find(f.s, 2, &info), 0);
	assert_int_equal(info.exclusive, 2);
	OK(&f, model_gc_all(&f.m, f.s));
	assert_int_equal(ssnap_snapshot_find(f.s, 2, &info), 0);
	assert_int_equal(info.exclusive, 4);
	OK(&f, ssnap_close(f.s));
	f.s = h_open(f.d, 0, &r);
	assert_int_equal(r, 0);
	assert_int_equal(ssnap_snapshot_find(f.s, 2, &info), 0);
	assert_int_equal(info.exclusive, 4);
	OK(&f, ssnap_close(f.s));
	f.s = NULL;
	assert_int_equal(h_check(f.d, msg, sizeof(msg)), 0);

	/* The record of id 2 (one leaf: the root) made to count 5. */
	h_root(f.d, &root);
	assert_int_equal(le32_to_cpu(root.snap_depth), 1);
	b = memdev_block(f.d, le64_to_cpu(root.snap_root));
	/* (The first: what is left past the node's last entry is stale.) */
	for (off = 32; !found && off + 32 <= SSNAP_BLOCK_SIZE; off++) {
		__le32 id;
		__le64 ctime, excl;

		memcpy(&id, b + off, sizeof(id));
		memcpy(&ctime, b + off + 8, sizeof(ctime));
		memcpy(&excl, b + off + 24, sizeof(excl));
		if (le32_to_cpu(id) == 2 && le64_to_cpu(ctime) == 1002 &&
		    le64_to_cpu(excl) == 4) {
			excl = cpu_to_le64(5);
			memcpy(b + off + 24, &excl, sizeof(excl));
			found++;
		}
	}
	assert_int_equal(found, 1);
	h_reseal(f.d, le64_to_cpu(root.snap_root));
	assert_int_equal(h_check(f.d, msg, sizeof(msg)), 1);
	assert_string_equal(msg, "snapshot 2: its record counts 5 exclusive chunks, the tree 4");
	model_free(&f.m);
	memdev_free(f.d);
}

static void test_damage_superblock(void **state)
{
	struct memdev *d;
	struct ssnap_store *s;
	struct img im;
	char msg[200];
	int r;

	(void)state;
	build_image(&im);
	/* One copy: the other one serves. */
	d = memdev_clone_durable(im.d);
	memdev_flip(d, 0, 300, 1);
	s = h_open(d, 0, &r);
	assert_int_equal(r, 0);
	assert_int_equal(ssnap_nr_snapshots(s), 40);
	assert_int_equal(ssnap_close(s), 0);
	assert_int_equal(h_check(d, msg, sizeof(msg)), 0);
	memdev_free(d);

	d = memdev_clone_durable(im.d);
	memdev_flip(d, 1, 100, 1);
	s = h_open(d, 0, &r);
	assert_int_equal(r, 0);
	assert_int_equal(ssnap_close(s), 0);
	memdev_free(d);

	/* Both: no store. */
	d = memdev_clone_durable(im.d);
	memdev_flip(d, 0, 300, 1);
	memdev_flip(d, 1, 100, 1);
	assert_null(h_open(d, 0, &r));
	assert_int_equal(r, -EILSEQ);
	assert_true(h_check(d, msg, sizeof(msg)) > 0);
	memdev_free(d);

	/* Not a store at all. */
	d = memdev_new(512);
	assert_null(h_open(d, 0, &r));
	assert_int_equal(r, -EINVAL);
	memdev_free(d);
	memdev_free(im.d);
}

/*
 * Two transactions in the journal not yet written home (the power went
 * after the second commit's flush).  A damaged record at the end is a
 * torn commit: the store opens at the one before.
 */
static struct memdev *journal_image(struct fx *f, struct mstate *t1,
				    u64 *rec1, u64 *rec2)
{
	struct memdev *img;
	u64 c, extra;

	fx_init(f, 2048, 64, 8, 0);
	OK(f, model_create(&f->m, f->s, 1));
	OK(f, model_commit(&f->m, f->s));
	OK(f, ssnap_close(f->s));
	/* Opening empties the journal: the next record is its first block. */
	f->s = h_open(f->d, 0, NULL);
	assert_non_null(f->s);
	model_opened(&f->m, f->s);
	*rec1 = SSNAP_JOURNAL_START;
	extra = f->m.extra_commits;
	OK(f, model_create(&f->m, f->s, 2));
	for (c = 0; c < 4; c++)
		OK(f, model_snap_write(&f->m, f->s, 1, c, false));
	OK(f, model_commit(&f->m, f->s));
	mstate_copy(t1, &f->m.cur);
	*rec2 = *rec1 + 1 + le32_to_cpu(((const struct ssnap_disk_commit *)
					 memdev_block(f->d, *rec1))->nr);
	OK(f, model_create(&f->m, f->s, 3));
	for (c = 4; c < 8; c++)
		OK(f, model_snap_write(&f->m, f->s, 2, c, false));
	OK(f, model_commit(&f->m, f->s));
	assert_int_equal(f->m.extra_commits, extra);
	img = memdev_crash(f->d, MEMDEV_LOSE, 1);
	assert_int_equal(le32_to_cpu(((const struct ssnap_disk_hdr *)
				      memdev_block(img, *rec1))->type),
			 SSNAP_BT_COMMIT);
	assert_int_equal(le32_to_cpu(((const struct ssnap_disk_hdr *)
				      memdev_block(img, *rec2))->type),
			 SSNAP_BT_COMMIT);
	return img;
}

static void expect_state(struct memdev *d, const struct mstate *st)
{
	struct ssnap_store *s;
	char why[200];
	int r;

	assert_int_equal(h_check(d, why, sizeof(why)), 0);
	s = h_open(d, 0, &r);
	assert_int_equal(r, 0);
	if (model_compare(st, s, why, sizeof(why)))
		fail_msg("recovered store: %s", why);
	ssnap_close(s);
}

static void test_journal_replay(void **state)
{
	struct mstate t1;
	struct memdev *img, *d;
	u64 rec1, rec2;
	struct fx f;

	(void)state;
	memset(&t1, 0, sizeof(t1));
	img = journal_image(&f, &t1, &rec1, &rec2);
	/* Intact: both transactions come back. */
	d = memdev_clone_durable(img);
	expect_state(d, &f.m.cur);
	memdev_free(d);
	/* The last record damaged: a torn commit, the first one stays. */
	d = memdev_clone_durable(img);
	memdev_flip(d, rec2, 60, 4);
	expect_state(d, &t1);
	memdev_free(d);
	/* A block of the last transaction damaged: the same. */
	d = memdev_clone_durable(img);
	memdev_flip(d, rec2 + 1, 2000, 4);
	expect_state(d, &t1);
	memdev_free(d);
	memdev_free(img);
	mstate_free(&t1);
	ssnap_close(f.s);
	model_free(&f.m);
	memdev_free(f.d);
}

/*
 * A damaged record with a whole, later transaction after it cannot be a
 * torn write: that is lost, acknowledged data, and ssnap_check should
 * say so rather than let the store open silently without it.
 */
static void test_journal_damaged_middle(void **state)
{
	struct mstate t1;
	struct memdev *img, *d;
	char msg[200];
	u64 rec1, rec2;
	struct fx f;
	int n;

	(void)state;
	memset(&t1, 0, sizeof(t1));
	img = journal_image(&f, &t1, &rec1, &rec2);
	d = memdev_clone_durable(img);
	memdev_flip(d, rec1, 60, 4);
	n = h_check(d, msg, sizeof(msg));
	memdev_free(d);
	memdev_free(img);
	mstate_free(&t1);
	ssnap_close(f.s);
	model_free(&f.m);
	memdev_free(f.d);
	if (n <= 0)
		fail_msg("commit record %llu damaged before a whole "
			 "transaction: ssnap_check reports %d problems",
			 (unsigned long long)rec1, n);
}

/* Labels run out at SSNAP_SEQ_MAX: the last ones work, then -ENOSPC. */
static void test_label_exhaustion(void **state)
{
	struct ssnap_disk_root *root;
	struct fx f;
	u32 id, i;
	u64 c;
	int r;

	(void)state;
	fx_init(&f, 1024, 16, 8, 0);
	OK(&f, ssnap_close(f.s));
	root = (void *)memdev_block(f.d, SSNAP_ROOT_BLOCK);
	root->last_seq = cpu_to_le32(SSNAP_SEQ_MAX - 12);
	h_reseal(f.d, SSNAP_ROOT_BLOCK);
	fx_check(&f);
	f.s = h_open(f.d, 0, &r);
	assert_int_equal(r, 0);
	model_opened(&f.m, f.s);
	for (id = 1; id <= 12; id++) {
		OK(&f, model_create(&f.m, f.s, id));
		for (c = 0; c < 16; c += id)
			OK(&f, model_origin_write(&f.m, f.s, c));
		OK(&f, model_snap_write(&f.m, f.s, id, id, false));
	}
	assert_int_equal(lab(&f, 12), SSNAP_SEQ_MAX);
	assert_int_equal(ssnap_snapshot_create(f.s, 99, NULL, 0, 0), -ENOSPC);
	for (i = 1; i <= 12; i += 3)
		OK(&f, model_delete(&f.m, f.s, i));
	OK(&f, model_commit(&f.m, f.s));
	OK(&f, model_gc_all(&f.m, f.s));
	for (c = 0; c < 16; c++) {
		OK(&f, model_snap_write(&f.m, f.s, 12, c, true));
		OK(&f, model_discard(&f.m, f.s, 11, c));
	}
	fx_reopen(&f);
	fx_done(&f);
}

/*
 * Snapshots 1 and 2 share a copy X of chunk 0 in the committed state.
 * Snapshot 2 writes chunk 0 (it gets its own copy: not committed yet),
 * then snapshot 1 writes chunk 0: X now looks like snapshot 1's alone
 * and the plan says "in place".  If that write reaches X and the power
 * goes before the next commit, the recovered store has snapshot 2
 * reading X again, with snapshot 1's data in it.
 */
static void test_inplace_write_hazard(void **state)
{
	struct ssnap_usage before, after;
	struct ssnap_plan p;
	struct fx f;
	u64 x, cow;

	(void)state;
	fx_init(&f, 1024, 8, 8, 0);
	OK(&f, model_create(&f.m, f.s, 1));
	OK(&f, model_create(&f.m, f.s, 2));
	OK(&f, model_origin_write(&f.m, f.s, 0));
	OK(&f, model_commit(&f.m, f.s));
	assert_int_equal(ssnap_lookup(f.s, lab(&f, 2), 0, &x), SSNAP_MAP_COW);
	OK(&f, model_snap_write(&f.m, f.s, 2, 0, true));
	ssnap_usage(f.s, &before);
	assert_int_equal(ssnap_plan_write(f.s, lab(&f, 1), 0, &p), 0);
	ssnap_usage(f.s, &after);
	ssnap_abort_plan(f.s, &p);
	assert_int_equal(ssnap_lookup(f.s, lab(&f, 1), 0, &cow),
			 SSNAP_MAP_COW);
	assert_int_equal(cow, x);
	/* The write must not go to X before the split is committed. */
	if (!p.copy && p.own == x && after.transaction == before.transaction)
		fail_msg("snapshot 1 may write block %llu in place while the "
			 "committed state still has snapshot 2 reading it",
			 (unsigned long long)x);
	fx_done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_origin_label),
		cmocka_unit_test(test_ids_and_errors),
		cmocka_unit_test(test_one_copy_many_snapshots),
		cmocka_unit_test(test_delete_first),
		cmocka_unit_test(test_delete_middle),
		cmocka_unit_test(test_delete_last),
		cmocka_unit_test(test_delete_range_order),
		cmocka_unit_test(test_split_inside_range),
		cmocka_unit_test(test_write_shared_with_origin),
		cmocka_unit_test(test_id_reuse),
		cmocka_unit_test(test_discard),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_snapshot_usage),
		cmocka_unit_test(test_snapshot_usage_steps),
		cmocka_unit_test(test_mark_failed),
		cmocka_unit_test(test_reopen),
		cmocka_unit_test(test_big_chunks),
		cmocka_unit_test(test_big_tree),
		cmocka_unit_test(test_delete_during_gc),
		cmocka_unit_test(test_enospc),
		cmocka_unit_test(test_io_errors),
		cmocka_unit_test(test_damage_trees),
		cmocka_unit_test(test_exclusive_counts),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_repair),
		cmocka_unit_test(test_plan_invalidate),
		cmocka_unit_test(test_grow_crash),
		cmocka_unit_test(test_commit_after_copy),
		cmocka_unit_test(test_freed_meta_quarantine),
		cmocka_unit_test(test_freed_meta_not_journaled),
		cmocka_unit_test(test_checkpoint_mid_transaction),
		cmocka_unit_test(test_damage_superblock),
		cmocka_unit_test(test_journal_replay),
		cmocka_unit_test(test_label_exhaustion),
		cmocka_unit_test(test_journal_damaged_middle),
		cmocka_unit_test(test_inplace_write_hazard),
	};

	h_quiet();
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
