// SPDX-License-Identifier: GPL-2.0
/*
 * ssnap_check: open a store read-only (the journal replayed in memory)
 * and verify everything that can be verified:
 *
 *   - both B-trees: block checksums and headers, key order, separators;
 *   - every exception: 1 <= lo <= hi <= last label, ranges of a chunk
 *     disjoint, COW block aligned and inside the device, no block read by
 *     two chunks, and invariant I2 (no live label left in a gap below the
 *     chunk's highest range);
 *   - snapshot records: flags, reclaim state, exclusive chunks (counted
 *     afresh when nothing else is wrong);
 *   - every bitmap block against the blocks actually referenced: leaks
 *     and blocks in use but marked free;
 *   - the root block's counters.
 *
 * ssnap_repair() runs the same checks on a store opened for writing and
 * fixes, where every tree walked clean (so that what the walk found in
 * use is all that is), the bitmaps, the counters and the exclusive
 * chunks; it marks the snapshots of a store that failed invalid.
 */
#include "internal.h"

#define CK_MAX_LINES	50	/* per kind of bitmap problem */

struct ck {
	struct ssnap_btree_walker w;
	struct ssnap_store *s;
	void (*fn)(void *ctx, const char *msg);
	void *ctx;
	int problems;
	u8 *seen;		/* one bit per block */
	u64 meta, data;
	bool exc_tree;
	/* the chunk being walked in the exception tree */
	bool have_chunk;
	u64 chunk;
	u32 prev_hi;
	u64 *cows;		/* COW blocks of this chunk */
	u32 nr_cows, cap_cows;
	u32 in_pass, dead;
	/* ssnap_repair: fix what can be fixed once the trees are sound */
	bool repair, trees_ok;
	u32 fixes;
	int error;		/* a fix that failed */
};

static __printf(2, 3) void report(struct ck *c, const char *fmt, ...)
{
	char buf[192];
	va_list ap;

	c->problems++;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* (A repair's problems: the check after it reports those left.) */
	if (c->fn && !c->repair)
		c->fn(c->ctx, buf);
}

static __printf(2, 3) void fixed(struct ck *c, const char *fmt, ...)
{
	char buf[192];
	va_list ap;
	int n;

	c->fixes++;
	n = snprintf(buf, sizeof(buf), "fixed: ");
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	if (c->fn)
		c->fn(c->ctx, buf);
}

static bool seen_test_set(struct ck *c, u64 nr)
{
	u8 m = 1U << (nr % 8);
	bool was = c->seen[nr / 8] & m;

	c->seen[nr / 8] |= m;
	return was;
}

static void mark_meta(struct ck *c, u64 nr, const char *what)
{
	if (nr >= c->s->nr_blocks) {
		report(c, "%s block %llu is beyond the device", what,
		       (unsigned long long)nr);
		return;
	}
	if (seen_test_set(c, nr))
		report(c, "block %llu (%s) is used twice", (unsigned long long)nr,
		       what);
	c->meta++;
}

static int ck_block(struct ssnap_btree_walker *w, u64 nr, u32 level)
{
	struct ck *c = (struct ck *)w;

	if (nr < c->s->jstart + c->s->jblocks + 1 || nr >= c->s->nr_blocks) {
		report(c, "tree block %llu lies in a reserved area or beyond the device",
		       (unsigned long long)nr);
		return 1;
	}
	if (seen_test_set(c, nr)) {
		report(c, "tree block %llu is used twice",
		       (unsigned long long)nr);
		return 1;
	}
	c->meta++;
	return 0;
}

static void ck_problem(struct ssnap_btree_walker *w, u64 nr, const char *what)
{
	report((struct ck *)w, "%s tree, block %llu: %s",
	       ((struct ck *)w)->exc_tree ? "exception" : "snapshot",
	       (unsigned long long)nr, what);
}

static void check_gap(struct ck *c, u32 lo, u32 hi)
{
	if (ssnap_live_in_range(c->s, lo, hi))
		report(c, "chunk %llu: live label in %u-%u has no copy below a copied range",
		       (unsigned long long)c->chunk, lo, hi);
}

static int ck_exc(struct ssnap_btree_walker *w, const struct ssnap_key *k,
		  const void *val)
{
	const struct ssnap_disk_exc *v = val;
	struct ck *c = (struct ck *)w;
	struct ssnap_store *s = c->s;
	u32 lo = k->b, hi = le32_to_cpu(v->hi), i;
	u64 cow = le64_to_cpu(v->cow);
	bool mine = false;
	int r;

	if (!c->have_chunk || k->a != c->chunk) {
		c->have_chunk = true;
		c->chunk = k->a;
		c->prev_hi = 0;
		c->nr_cows = 0;
	}
	if (!lo || lo > hi || hi > s->last_seq) {
		report(c, "chunk %llu: bad label range %u-%u (last label %u)",
		       (unsigned long long)k->a, lo, hi, s->last_seq);
		return 0;
	}
	if (lo <= c->prev_hi) {
		report(c, "chunk %llu: ranges overlap at %u",
		       (unsigned long long)k->a, lo);
		return 0;
	}
	if (lo > c->prev_hi + 1)
		check_gap(c, c->prev_hi + 1, lo - 1);
	c->prev_hi = hi;
	if (!cow)
		return 0;
	if ((cow & (s->chunk_blocks - 1)) || cow >= s->nr_blocks ||
	    s->nr_blocks - cow < s->chunk_blocks ||
	    cow < s->jstart + s->jblocks + 1) {
		report(c, "chunk %llu: COW block %llu is not a valid chunk",
		       (unsigned long long)k->a, (unsigned long long)cow);
		return 0;
	}
	for (i = 0; i < c->nr_cows; i++)
		if (c->cows[i] == cow)
			mine = true;
	if (mine)
		return 0;
	r = ssnap_grow_array((void **)&c->cows, &c->cap_cows, c->nr_cows + 1,
			     sizeof(*c->cows));
	if (r)
		return r;
	c->cows[c->nr_cows++] = cow;
	for (i = 0; i < s->chunk_blocks; i++) {
		if (seen_test_set(c, cow + i)) {
			report(c, "chunk %llu: COW block %llu is also used elsewhere",
			       (unsigned long long)k->a,
			       (unsigned long long)(cow + i));
			return 0;
		}
	}
	c->data++;
	return 0;
}

static int ck_snap(struct ssnap_btree_walker *w, const struct ssnap_key *k,
		   const void *val)
{
	const struct ssnap_disk_snap *d = val;
	struct ck *c = (struct ck *)w;
	u32 flags = le32_to_cpu(d->flags);

	if (flags & SSNAP_SNAP_IN_PASS) {
		c->in_pass++;
		if (!c->s->gc_pass)
			report(c, "snapshot %u (label %llu) in a reclaim pass, none running",
			       le32_to_cpu(d->id), (unsigned long long)k->a);
	}
	if ((flags & SSNAP_SNAP_IN_PASS) && !(flags & SSNAP_SNAP_DELETING))
		report(c, "snapshot %u: reclaim flag on a live snapshot",
		       le32_to_cpu(d->id));
	if (flags & SSNAP_SNAP_DELETING)
		c->dead++;
	return 0;
}

static void check_bitmaps(struct ck *c)
{
	struct ssnap_store *s = c->s;
	u32 leaks = 0, lost = 0;
	bool changed;
	u64 g, i;

	for (g = 0; g < s->nr_groups; g++) {
		u64 first = g << SSNAP_GROUP_SHIFT;
		struct ssnap_block *b;
		__le64 *bits;
		int r;

		r = ssnap_bread(s, ssnap_bitmap_block(s, g), SSNAP_BT_BITMAP,
				&b);
		if (r) {
			report(c, "bitmap of group %llu (block %llu) is damaged",
			       (unsigned long long)g,
			       (unsigned long long)ssnap_bitmap_block(s, g));
			continue;
		}
		bits = ssnap_bm_bits(b->data);
		changed = false;
		for (i = 0; i < ssnap_group_bits(s, g); i++) {
			bool used = (le64_to_cpu(bits[i / 64]) >> (i % 64)) & 1;
			u64 nr = first + i;
			bool ref = (c->seen[nr / 8] >> (nr % 8)) & 1;

			if (used == ref)
				continue;
			if (used && ++leaks <= CK_MAX_LINES)
				report(c, "block %llu is marked in use but nothing refers to it",
				       (unsigned long long)nr);
			else if (!used && ++lost <= CK_MAX_LINES)
				report(c, "block %llu is in use but marked free",
				       (unsigned long long)nr);
			if (c->repair && c->trees_ok) {
				bits[i / 64] = cpu_to_le64(le64_to_cpu(bits[i / 64]) ^
							   BIT_ULL(i % 64));
				changed = true;
			}
		}
		if (changed)
			ssnap_bdirty(s, b);
		ssnap_bput(s, b);
		ssnap_cond_resched();
	}
	if (leaks > CK_MAX_LINES)
		report(c, "... %u blocks marked in use in all, unreferenced",
		       leaks);
	if (lost > CK_MAX_LINES)
		report(c, "... %u blocks in use in all, marked free", lost);
	if (c->repair && c->trees_ok && (leaks || lost))
		fixed(c, "bitmaps: %u blocks freed, %u marked in use", leaks,
		      lost);
}

static void ck_excl(void *ctx, const struct ssnap_snap_info *info,
		    u64 counted)
{
	struct ck *c = ctx;
	int r;

	report(c, "snapshot %u: its record counts %llu exclusive chunks, the tree %llu",
	       info->id, (unsigned long long)info->exclusive,
	       (unsigned long long)counted);
	if (!c->repair)
		return;
	r = ssnap_excl_set(c->s, info->label, counted);
	if (r)
		c->error = r;
	else
		fixed(c, "snapshot %u: %llu exclusive chunks", info->id,
		      (unsigned long long)counted);
}

static void run_checks(struct ck *c)
{
	struct ssnap_store *s = c->s;
	u64 i;

	mark_meta(c, 0, "superblock");
	mark_meta(c, 1, "superblock");
	mark_meta(c, SSNAP_ROOT_BLOCK, "root");
	for (i = 0; i < s->jblocks; i++)
		mark_meta(c, s->jstart + i, "journal");
	for (i = 0; i < s->nr_groups; i++)
		mark_meta(c, ssnap_bitmap_block(s, i), "bitmap");

	c->w.block = ck_block;
	c->w.problem = ck_problem;
	c->w.entry = ck_snap;
	c->exc_tree = false;
	if (ssnap_btree_walk(s, &s->snaps, &c->w) == -ENOMEM)
		report(c, "out of memory walking the snapshot tree");
	c->w.entry = ck_exc;
	c->exc_tree = true;
	if (ssnap_btree_walk(s, &s->exc, &c->w) == -ENOMEM)
		report(c, "out of memory walking the exception tree");

	if (c->dead != s->nr_dead)
		report(c, "%u snapshots being deleted, root block says %u",
		       c->dead, s->nr_dead);
	c->trees_ok = !c->problems;
	check_bitmaps(c);
	if (c->meta != s->meta_blocks) {
		report(c, "root block counts %llu metadata blocks, found %llu",
		       (unsigned long long)s->meta_blocks,
		       (unsigned long long)c->meta);
		if (c->repair && c->trees_ok) {
			s->meta_blocks = c->meta;
			ssnap_root_dirty(s);
			fixed(c, "root block: %llu metadata blocks",
			      (unsigned long long)c->meta);
		}
	}
	if (c->data != s->data_chunks) {
		report(c, "root block counts %llu data chunks, found %llu",
		       (unsigned long long)s->data_chunks,
		       (unsigned long long)c->data);
		if (c->repair && c->trees_ok) {
			s->data_chunks = c->data;
			ssnap_root_dirty(s);
			fixed(c, "root block: %llu data chunks",
			      (unsigned long long)c->data);
		}
	}
	/* The count walks the tree: only a sound one. */
	if (c->trees_ok) {
		int r = ssnap_excl_verify(s, ck_excl, c);

		if (r)
			report(c, "exclusive chunks cannot be counted (error %d)",
			       r);
	}
}

/* Snapshots of a store that failed may lack data: mark them invalid. */
static void repair_failed(struct ck *c)
{
	struct ssnap_store *s = c->s;
	struct ssnap_snap_info info;
	u32 i;
	int r;

	for (i = 0; i < ssnap_nr_snapshots(s); i++) {
		r = ssnap_snapshot_get(s, i, &info);
		if (!r && !(info.flags & SSNAP_SNAP_INVALID)) {
			r = ssnap_snapshot_set_flags(s, info.id,
						     SSNAP_SNAP_INVALID, 0);
			if (!r)
				fixed(c, "snapshot %u marked invalid (the store failed)",
				      info.id);
		}
		if (r) {
			c->error = r;
			return;
		}
	}
	r = ssnap_sb_write(s, 0, SSNAP_SB_FAILED);
	if (r)
		c->error = r;
	else
		fixed(c, "the store's failed mark cleared");
}

/*
 * Check (repair false: read-only, every problem to fn) or repair (fixes
 * to fn, problems kept quiet: the check that follows reports those
 * left).
 */
static int check_store(struct ssnap_dev *dev,
		       void (*fn)(void *ctx, const char *msg), void *ctx,
		       bool repair, u32 *fixes)
{
	struct ssnap_open_params op = {
		.read_only = !repair,
		.repair = repair,
	};
	struct ssnap_disk_sb sb;
	struct ck c;
	u32 flags;
	int r;

	memset(&c, 0, sizeof(c));
	c.fn = fn;
	c.ctx = ctx;
	c.repair = repair;
	r = ssnap_sb_load(dev, &sb);
	if (r == -EILSEQ && !repair) {
		report(&c, "both superblock copies are damaged");
		return c.problems;
	}
	if (r)
		return r;
	flags = le32_to_cpu(sb.flags);
	r = ssnap_open_store(dev, &op, &c.s);
	if (r == -ENOMEM || r == -EIO || (r && repair))
		return r;
	if (r) {
		report(&c, "the store does not open (error %d): root or snapshot table damaged",
		       r);
		return c.problems;
	}
	c.seen = ssnap_alloc_array(c.s->nr_blocks / 8 + 1, 1);
	if (!c.seen) {
		ssnap_store_free(c.s);
		return -ENOMEM;
	}
	memset(c.seen, 0, c.s->nr_blocks / 8 + 1);
	run_checks(&c);
	if (flags & SSNAP_SB_FAILED) {
		if (!repair)
			report(&c, "the store is marked failed: its snapshots may lack data");
		else if (!c.error && c.trees_ok)
			repair_failed(&c);
	}
	if (repair && !c.error && c.trees_ok &&
	    (le32_to_cpu(c.s->sb.flags) & SSNAP_SB_NEEDS_CHECK)) {
		r = ssnap_sb_write(c.s, 0, SSNAP_SB_NEEDS_CHECK);
		if (r)
			c.error = r;
		else
			fixed(&c, "the store's needs_check mark cleared");
	}
	ssnap_free_array(c.seen);
	ssnap_free_array(c.cows);
	if (repair) {
		r = ssnap_close(c.s);
		if (!c.error)
			c.error = r;
		if (fixes)
			*fixes = c.fixes;
		return c.error;
	}
	ssnap_store_free(c.s);
	return c.problems;
}

int ssnap_check(struct ssnap_dev *dev,
		void (*fn)(void *ctx, const char *msg), void *ctx)
{
	return check_store(dev, fn, ctx, false, NULL);
}

int ssnap_repair(struct ssnap_dev *dev,
		 void (*fn)(void *ctx, const char *msg), void *ctx,
		 u32 *fixes)
{
	int r;

	*fixes = 0;
	r = check_store(dev, fn, ctx, true, fixes);
	if (r)
		return r;
	return check_store(dev, fn, ctx, false, NULL);
}
