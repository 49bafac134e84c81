// SPDX-License-Identifier: GPL-2.0
/*
 * The store: format, open and close, snapshots, the write plans of the
 * data path, discards, space reclaim, usage and differences.  The
 * labelling scheme these implement is described in ssnap.h, section 2.
 */
#include "internal.h"

#define U32_ALL		0xffffffffU
#define SNAP_VSIZE	((u16)sizeof(struct ssnap_disk_snap))
#define EXC_VSIZE	((u16)sizeof(struct ssnap_disk_exc))

enum plan_kind {
	PK_NONE,		/* nothing to copy */
	PK_ORIGIN,		/* origin chunk -> shared copy for lo..hi */
	PK_SNAP_ALONE,		/* origin chunk -> own copy for lo..hi */
	PK_SNAP_BOTH,		/* origin chunk -> shared copy and own copy */
	PK_SNAP_SPLIT,		/* shared COW copy -> own copy */
	PK_ZERO_FILL,		/* zero chunk -> own copy */
};

u64 ssnap_min_cow_sectors(u32 chunk_sectors)
{
	/* Superblocks, root, the smallest journal, a bitmap, 16 chunks. */
	return (u64)(SSNAP_JOURNAL_START + SSNAP_JOURNAL_MIN + 1 +
		     SSNAP_META_RESERVE) * SSNAP_SECTORS_PER_BLOCK +
		16 * (u64)chunk_sectors;
}

/* ------------------------------------------------------------------ */
/* Live labels.                                                        */

/* Index of the first live label >= v. */
static u32 label_lb(const struct ssnap_store *s, u32 v)
{
	u32 lo = 0, hi = s->nr_live;

	while (lo < hi) {
		u32 mid = (lo + hi) / 2;

		if (s->labels[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

u32 ssnap_live_count(const struct ssnap_store *s, u32 lo, u32 hi)
{
	if (lo > hi)
		return 0;
	return label_lb(s, hi == U32_ALL ? hi : hi + 1) - label_lb(s, lo) +
		(hi == U32_ALL && s->nr_live &&
		 s->labels[s->nr_live - 1] == U32_ALL);
}

bool ssnap_live_in_range(const struct ssnap_store *s, u32 lo, u32 hi)
{
	u32 i = label_lb(s, lo);

	return lo <= hi && i < s->nr_live && s->labels[i] <= hi;
}

static u32 max_live_label(const struct ssnap_store *s)
{
	return s->nr_live ? s->labels[s->nr_live - 1] : 0;
}

/* Index in s->live of id, or -ENOENT. */
static int find_live(const struct ssnap_store *s, u32 id)
{
	u32 lo = 0, hi = s->nr_live;

	while (lo < hi) {
		u32 mid = (lo + hi) / 2;

		if (s->live[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nr_live && s->live[lo].id == id ? (int)lo : -ENOENT;
}

/* ------------------------------------------------------------------ */
/* The root block.                                                     */

void ssnap_root_dirty(struct ssnap_store *s)
{
	s->root_dirty = true;
}

int ssnap_root_flush(struct ssnap_store *s)
{
	struct ssnap_disk_root *d;
	struct ssnap_block *b;
	int r;

	if (!s->root_dirty)
		return 0;
	r = ssnap_bread(s, SSNAP_ROOT_BLOCK, SSNAP_BT_ROOT, &b);
	if (r)
		return r;
	d = b->data;
	d->exc_root = cpu_to_le64(s->exc.root);
	d->exc_depth = cpu_to_le32(s->exc.depth);
	d->snap_root = cpu_to_le64(s->snaps.root);
	d->snap_depth = cpu_to_le32(s->snaps.depth);
	d->data_chunks = cpu_to_le64(s->data_chunks);
	d->meta_blocks = cpu_to_le64(s->meta_blocks);
	d->last_seq = cpu_to_le32(s->last_seq);
	d->nr_snapshots = cpu_to_le32(s->nr_live);
	d->nr_deleting = cpu_to_le32(s->nr_dead);
	d->gc_pass = cpu_to_le32(s->gc_pass);
	d->gc_chunk = cpu_to_le64(s->gc_chunk);
	d->gc_lo = cpu_to_le32(s->gc_lo);
	d->meta_hint = cpu_to_le64(s->meta_hint);
	d->data_hint = cpu_to_le64(s->data_hint);
	d->nr_blocks = cpu_to_le64(s->nr_blocks);
	ssnap_bdirty(s, b);
	ssnap_bput(s, b);
	s->root_dirty = false;
	return 0;
}

static void set_nr_blocks(struct ssnap_store *s, u64 nr_blocks)
{
	s->nr_blocks = nr_blocks;
	s->nr_groups = (nr_blocks + SSNAP_GROUP_BLOCKS - 1) >>
		SSNAP_GROUP_SHIFT;
}

static int root_load(struct ssnap_store *s)
{
	struct ssnap_disk_root *d;
	struct ssnap_block *b;
	u64 nr_blocks;
	int r = ssnap_bread(s, SSNAP_ROOT_BLOCK, SSNAP_BT_ROOT, &b);

	if (r)
		return r;
	d = b->data;
	/*
	 * The size in the root block rules: a store that grew commits it
	 * there before the superblock follows (ssnap_grow).
	 */
	nr_blocks = le64_to_cpu(d->nr_blocks);
	if (nr_blocks && nr_blocks != s->nr_blocks) {
		if (nr_blocks < s->nr_blocks ||
		    nr_blocks > s->dev->nr_blocks) {
			ssnap_err("root block: the store has %llu blocks, the superblock %llu, the device %llu",
				  (unsigned long long)nr_blocks,
				  (unsigned long long)s->nr_blocks,
				  (unsigned long long)s->dev->nr_blocks);
			ssnap_bput(s, b);
			return -EILSEQ;
		}
		set_nr_blocks(s, nr_blocks);
	}
	s->exc.root = le64_to_cpu(d->exc_root);
	s->exc.depth = le32_to_cpu(d->exc_depth);
	s->snaps.root = le64_to_cpu(d->snap_root);
	s->snaps.depth = le32_to_cpu(d->snap_depth);
	s->data_chunks = le64_to_cpu(d->data_chunks);
	s->meta_blocks = le64_to_cpu(d->meta_blocks);
	s->last_seq = le32_to_cpu(d->last_seq);
	s->gc_pass = le32_to_cpu(d->gc_pass);
	s->gc_chunk = le64_to_cpu(d->gc_chunk);
	s->gc_lo = le32_to_cpu(d->gc_lo);
	s->meta_hint = le64_to_cpu(d->meta_hint);
	s->data_hint = le64_to_cpu(d->data_hint);
	ssnap_bput(s, b);

	if (s->exc.root >= s->nr_blocks || s->snaps.root >= s->nr_blocks ||
	    !s->exc.depth || s->exc.depth > SSNAP_MAX_DEPTH ||
	    !s->snaps.depth || s->snaps.depth > SSNAP_MAX_DEPTH ||
	    s->last_seq > SSNAP_SEQ_MAX ||
	    s->meta_blocks > s->nr_blocks ||
	    s->data_chunks > (s->nr_blocks >> s->chunk_shift)) {
		ssnap_err("root block: values out of range");
		return -EILSEQ;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Snapshot records.                                                   */

static void snap_to_disk(const struct ssnap_mem_snap *m,
			 struct ssnap_disk_snap *d)
{
	memset(d, 0, sizeof(*d));
	d->id = cpu_to_le32(m->id);
	d->flags = cpu_to_le32(m->flags);
	d->ctime = cpu_to_le64(m->ctime);
	d->priority = cpu_to_le32(m->priority);
	d->exclusive = cpu_to_le64(m->excl);
	memcpy(d->name, m->name, sizeof(d->name));
}

static void snap_from_disk(const struct ssnap_disk_snap *d, u32 label,
			   struct ssnap_mem_snap *m)
{
	m->id = le32_to_cpu(d->id);
	m->label = label;
	m->flags = le32_to_cpu(d->flags);
	m->ctime = le64_to_cpu(d->ctime);
	m->priority = le32_to_cpu(d->priority);
	m->excl = le64_to_cpu(d->exclusive);
	memcpy(m->name, d->name, sizeof(m->name));
	m->name[SSNAP_NAME_LEN - 1] = 0;
}

static int snap_store_record(struct ssnap_store *s,
			     const struct ssnap_mem_snap *m)
{
	struct ssnap_key k = { .a = m->label, .b = 0 };
	struct ssnap_disk_snap d;

	snap_to_disk(m, &d);
	return ssnap_btree_update(s, &s->snaps, &k, &d);
}

static int live_insert(struct ssnap_store *s, const struct ssnap_mem_snap *m)
{
	u32 i, lo = 0, hi = s->nr_live;
	int r;

	r = ssnap_grow_array((void **)&s->live, &s->cap_live, s->nr_live + 1,
			     sizeof(*s->live));
	if (r)
		return r;
	r = ssnap_grow_array((void **)&s->labels, &s->cap_labels,
			     s->nr_live + 1, sizeof(*s->labels));
	if (r)
		return r;
	r = ssnap_grow_array((void **)&s->lidx, &s->cap_lidx,
			     s->nr_live + 1, sizeof(*s->lidx));
	if (r)
		return r;
	while (lo < hi) {
		u32 mid = (lo + hi) / 2;

		if (s->live[mid].id < m->id)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&s->live[lo + 1], &s->live[lo],
		(s->nr_live - lo) * sizeof(*s->live));
	s->live[lo] = *m;
	for (i = 0; i < s->nr_live; i++)
		s->lidx[i] += s->lidx[i] >= lo;
	i = label_lb(s, m->label);
	memmove(&s->labels[i + 1], &s->labels[i],
		(s->nr_live - i) * sizeof(*s->labels));
	memmove(&s->lidx[i + 1], &s->lidx[i],
		(s->nr_live - i) * sizeof(*s->lidx));
	s->labels[i] = m->label;
	s->lidx[i] = lo;
	s->nr_live++;
	s->live_gen++;
	return 0;
}

static void live_remove(struct ssnap_store *s, u32 idx)
{
	u32 i = label_lb(s, s->live[idx].label);

	memmove(&s->labels[i], &s->labels[i + 1],
		(s->nr_live - i - 1) * sizeof(*s->labels));
	memmove(&s->lidx[i], &s->lidx[i + 1],
		(s->nr_live - i - 1) * sizeof(*s->lidx));
	memmove(&s->live[idx], &s->live[idx + 1],
		(s->nr_live - idx - 1) * sizeof(*s->live));
	s->nr_live--;
	for (i = 0; i < s->nr_live; i++)
		s->lidx[i] -= s->lidx[i] > idx;
	s->live_gen++;
}

static int dead_add(struct ssnap_store *s, const struct ssnap_mem_snap *m)
{
	int r = ssnap_grow_array((void **)&s->dead, &s->cap_dead,
				 s->nr_dead + 1, sizeof(*s->dead));

	if (r)
		return r;
	s->dead[s->nr_dead++] = *m;
	return 0;
}

static int snaps_load(struct ssnap_store *s, u32 want_live, u32 want_dead)
{
	struct ssnap_key k = { 0, 0 }, f;
	struct ssnap_disk_snap d;
	struct ssnap_mem_snap m;
	int r;

	for (;;) {
		r = ssnap_btree_ge(s, &s->snaps, &k, &f, &d);
		if (r == -ENODATA)
			break;
		if (r)
			return r;
		if (f.b || !f.a || f.a > s->last_seq) {
			ssnap_err("snapshot record with bad label %llu",
				  (unsigned long long)f.a);
			return -EILSEQ;
		}
		snap_from_disk(&d, (u32)f.a, &m);
		if (m.flags & ~SSNAP_SNAP_FLAGS_KNOWN) {
			ssnap_err("snapshot %u: unknown flags %#x", m.id,
				  m.flags);
			return -EILSEQ;
		}
		if (m.flags & SSNAP_SNAP_DELETING) {
			r = dead_add(s, &m);
		} else {
			if (find_live(s, m.id) >= 0) {
				ssnap_err("snapshot id %u is live twice", m.id);
				return -EILSEQ;
			}
			r = live_insert(s, &m);
		}
		if (r)
			return r;
		k.a = f.a + 1;
		ssnap_cond_resched();
	}
	if (s->nr_live != want_live || s->nr_dead != want_dead) {
		ssnap_err("root block counts %u+%u snapshots, tree holds %u+%u",
			  want_live, want_dead, s->nr_live, s->nr_dead);
		return -EILSEQ;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Format, open, close.                                                */

static void store_geometry(struct ssnap_store *s, const struct ssnap_disk_sb *sb)
{
	u32 cs = le32_to_cpu(sb->chunk_sectors);

	s->chunk_blocks = cs / SSNAP_SECTORS_PER_BLOCK;
	s->chunk_shift = 0;
	while ((1U << s->chunk_shift) < s->chunk_blocks)
		s->chunk_shift++;
	set_nr_blocks(s, le64_to_cpu(sb->cow_blocks));
	s->jstart = le64_to_cpu(sb->journal_start);
	s->jblocks = le32_to_cpu(sb->journal_blocks);
	s->tx_soft = ssnap_min(200U, s->jblocks / 2 - 32);
	s->csum_seed = ssnap_csum_seed(sb->uuid);
	s->exc.id = SSNAP_TREE_EXC;
	s->exc.vsize = EXC_VSIZE;
	s->snaps.id = SSNAP_TREE_SNAP;
	s->snaps.vsize = SNAP_VSIZE;
}

void ssnap_store_free(struct ssnap_store *s)
{
	if (!s)
		return;
	ssnap_cache_exit(&s->cache);
	ssnap_free_array(s->live);
	ssnap_free_array(s->labels);
	ssnap_free_array(s->lidx);
	ssnap_free_array(s->dead);
	ssnap_free_array(s->reserved);
	ssnap_free_array(s->pending);
	ssnap_free_array(s->quarantine);
	ssnap_free_array(s->cx);
	ssnap_free_array(s->touched);
	ssnap_free_array(s->xd);
	ssnap_free(s);
}

/* Copy a string into a fixed, NUL-padded on-disk field. */
static void copy_str(char *dst, const char *src, u32 len)
{
	memset(dst, 0, len);
	if (src)
		memcpy(dst, src, strnlen(src, len - 1));
}

/* Write the bitmap blocks of groups from..nr_groups-1, all free. */
static int write_bitmaps(struct ssnap_store *s, u64 from)
{
	struct ssnap_disk_bitmap *bm = ssnap_alloc(SSNAP_BLOCK_SIZE);
	u64 g, i, fixed = s->jstart + s->jblocks + 1;
	int r = 0;

	if (!bm)
		return -ENOMEM;
	for (g = from; g < s->nr_groups && !r; g++) {
		memset(bm, 0, SSNAP_BLOCK_SIZE);
		bm->group = cpu_to_le64(g);
		if (g) {
			bm->bits[0] = cpu_to_le64(1);
			s->meta_blocks++;
		} else {
			for (i = 0; i < fixed; i++) {
				u64 w = le64_to_cpu(bm->bits[i / 64]);

				bm->bits[i / 64] = cpu_to_le64(w | BIT_ULL(i % 64));
			}
			s->meta_blocks += fixed;
		}
		ssnap_block_seal(s->csum_seed, bm, SSNAP_BT_BITMAP,
				 ssnap_bitmap_block(s, g), 0);
		r = s->dev->ops->write(s->dev, ssnap_bitmap_block(s, g), bm, 0);
		ssnap_cond_resched();
	}
	ssnap_free(bm);
	return r;
}

int ssnap_format(struct ssnap_dev *dev, const struct ssnap_format_params *p)
{
	u32 cs = p->chunk_sectors, jb = p->journal_blocks;
	struct ssnap_disk_sb *sb;
	struct ssnap_block *b;
	struct ssnap_store *s;
	int r;

	if (cs < SSNAP_CHUNK_SECTORS_MIN || cs > SSNAP_CHUNK_SECTORS_MAX ||
	    (cs & (cs - 1)))
		return -EINVAL;
	if (dev->nr_blocks * SSNAP_SECTORS_PER_BLOCK < ssnap_min_cow_sectors(cs))
		return -ENOSPC;
	if (!jb) {
		/* A sixteenth of a small device, 4 MiB from 64 MiB up. */
		jb = (u32)ssnap_min((u64)SSNAP_JOURNAL_DEFAULT,
				    dev->nr_blocks / 16);
		jb = ssnap_max(jb, SSNAP_JOURNAL_MIN);
	}
	if (jb < SSNAP_JOURNAL_MIN ||
	    SSNAP_JOURNAL_START + jb + 1 + SSNAP_META_RESERVE >
	    ssnap_min((u64)SSNAP_GROUP_BLOCKS, dev->nr_blocks))
		return -EINVAL;

	s = ssnap_zalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dev = dev;
	sb = &s->sb;
	sb->magic = cpu_to_le64(SSNAP_MAGIC);
	memcpy(sb->uuid, p->uuid, sizeof(sb->uuid));
	sb->version = cpu_to_le32(SSNAP_VERSION);
	sb->block_size = cpu_to_le32(SSNAP_BLOCK_SIZE);
	sb->chunk_sectors = cpu_to_le32(cs);
	sb->origin_sectors = cpu_to_le64(p->origin_sectors);
	sb->cow_blocks = cpu_to_le64(dev->nr_blocks);
	sb->journal_start = cpu_to_le64(SSNAP_JOURNAL_START);
	sb->journal_blocks = cpu_to_le32(jb);
	sb->journal_tail = cpu_to_le64(0);
	sb->tail_seq = cpu_to_le64(1);
	sb->root_blocknr = cpu_to_le64(SSNAP_ROOT_BLOCK);
	sb->format_time = cpu_to_le64(p->now);
	copy_str(sb->name, p->name, sizeof(sb->name));
	copy_str(sb->origin_ident, p->origin_ident, sizeof(sb->origin_ident));
	store_geometry(s, sb);

	r = ssnap_cache_init(&s->cache, SSNAP_CACHE_DEFAULT);
	if (r)
		goto out;
	r = write_bitmaps(s, 0);
	if (r)
		goto out;
	s->meta_hint = s->jstart + s->jblocks + 1;
	r = ssnap_bnew(s, SSNAP_ROOT_BLOCK, SSNAP_BT_ROOT, &b);
	if (r)
		goto out;
	ssnap_bput(s, b);
	r = ssnap_btree_create(s, &s->exc);
	if (!r)
		r = ssnap_btree_create(s, &s->snaps);
	if (!r)
		r = ssnap_root_flush(s);
	if (r)
		goto out;
	/* No journal yet: write everything home, then the superblocks. */
	for (b = s->cache.dirty; b && !r; b = b->dnext) {
		ssnap_block_seal(s->csum_seed, b->data, b->type, b->nr, 0);
		r = dev->ops->write(dev, b->nr, b->data, 0);
	}
	if (r)
		goto out;
	{
		/* Void the first journal block of any earlier store. */
		void *z = ssnap_zalloc(SSNAP_BLOCK_SIZE);

		if (!z) {
			r = -ENOMEM;
			goto out;
		}
		r = dev->ops->write(dev, SSNAP_JOURNAL_START, z, 0);
		ssnap_free(z);
		if (r)
			goto out;
	}
	r = dev->ops->flush(dev);
	if (r)
		goto out;
	s->sb_next_slot = 1;
	r = ssnap_sb_write(s, SSNAP_SB_CLEAN, 0);
	if (!r)
		r = ssnap_sb_write(s, 0, 0);
out:
	ssnap_store_free(s);
	return r;
}

int ssnap_open_store(struct ssnap_dev *dev, const struct ssnap_open_params *p,
		     struct ssnap_store **out)
{
	struct ssnap_disk_root *d;
	struct ssnap_block *b;
	struct ssnap_store *s;
	u32 want_live, want_dead;
	int r;

	s = ssnap_zalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dev = dev;
	s->read_only = p && p->read_only;
	r = ssnap_sb_load(dev, &s->sb);
	if (r)
		goto out;
	store_geometry(s, &s->sb);
	if (s->nr_blocks > dev->nr_blocks) {
		ssnap_err("COW device has %llu blocks, the store needs %llu",
			  (unsigned long long)dev->nr_blocks,
			  (unsigned long long)s->nr_blocks);
		r = -EINVAL;
		goto out;
	}
	if ((le32_to_cpu(s->sb.ro_compat) & ~SSNAP_FEAT_RO_COMPAT_SUPP) &&
	    !s->read_only) {
		r = -EROFS;
		goto out;
	}
	s->sb_generation = le64_to_cpu(s->sb.generation);
	s->sb_next_slot = le32_to_cpu(s->sb.slot) ^ 1;
	r = ssnap_cache_init(&s->cache, p && p->cache_blocks ?
			     ssnap_max(p->cache_blocks, 64U) :
			     SSNAP_CACHE_DEFAULT);
	if (r)
		goto out;
	r = ssnap_journal_replay(s);
	if (r)
		goto out;
	r = root_load(s);
	if (r)
		goto out;
	r = ssnap_bread(s, SSNAP_ROOT_BLOCK, SSNAP_BT_ROOT, &b);
	if (r)
		goto out;
	d = b->data;
	want_live = le32_to_cpu(d->nr_snapshots);
	want_dead = le32_to_cpu(d->nr_deleting);
	ssnap_bput(s, b);
	r = snaps_load(s, want_live, want_dead);
	if (r)
		goto out;
	if (!s->read_only)
		r = ssnap_checkpoint(s);
	if (!r && (le32_to_cpu(s->sb.flags) & SSNAP_SB_FAILED) &&
	    !(p && p->repair)) {
		ssnap_err("store marked failed by an earlier error: its snapshots cannot be trusted");
		s->failed = -EIO;
	}
out:
	if (r) {
		ssnap_store_free(s);
		return r;
	}
	*out = s;
	return 0;
}

int ssnap_mark_failed(struct ssnap_store *s)
{
	if (s->read_only)
		return -EROFS;
	if (le32_to_cpu(s->sb.flags) & SSNAP_SB_FAILED)
		return 0;
	return ssnap_sb_write(s, SSNAP_SB_FAILED, 0);
}

int ssnap_mark_damaged(struct ssnap_store *s)
{
	u32 both = SSNAP_SB_FAILED | SSNAP_SB_NEEDS_CHECK;

	if (s->read_only)
		return -EROFS;
	if ((le32_to_cpu(s->sb.flags) & both) == both)
		return 0;
	return ssnap_sb_write(s, both, 0);
}

int ssnap_open(struct ssnap_dev *dev, const struct ssnap_open_params *p,
	       struct ssnap_store **out)
{
	return ssnap_open_store(dev, p, out);
}

int ssnap_close(struct ssnap_store *s)
{
	int r = 0;

	if (!s)
		return 0;
	if (!s->read_only && !s->failed) {
		r = ssnap_commit(s);
		if (!r)
			r = ssnap_checkpoint_sb(s, SSNAP_SB_CLEAN, 0);
	}
	ssnap_store_free(s);
	return r;
}

int ssnap_failed(struct ssnap_store *s)
{
	return s->failed;
}

/* ------------------------------------------------------------------ */
/* Snapshots.                                                          */

static int name_check(struct ssnap_store *s, const char *name, u32 self)
{
	u32 i;

	if (!name || !*name)
		return 0;
	if (strnlen(name, SSNAP_NAME_LEN) >= SSNAP_NAME_LEN)
		return -ENAMETOOLONG;
	for (i = 0; i < s->nr_live; i++)
		if (s->live[i].id != self &&
		    !strncmp(s->live[i].name, name, SSNAP_NAME_LEN))
			return -EEXIST;
	return 0;
}

static int writable(struct ssnap_store *s)
{
	if (s->failed)
		return s->failed;
	if (s->read_only)
		return -EROFS;
	return ssnap_maybe_commit(s);
}

/*
 * The new groups' bitmaps go home first, then the root block commits
 * the new size (the point of no return), then the superblock follows:
 * a crash before the commit leaves the old store and unused blocks
 * beyond it; after, the root block's size rules (root_load).
 */
int ssnap_grow(struct ssnap_store *s, u64 nr_blocks)
{
	u64 old_groups = s->nr_groups;
	int r = writable(s);

	if (r)
		return r;
	if (nr_blocks == s->nr_blocks)
		return 0;
	if (nr_blocks < s->nr_blocks || nr_blocks > s->dev->nr_blocks)
		return -EINVAL;
	r = ssnap_commit(s);
	if (r)
		return r;
	set_nr_blocks(s, nr_blocks);
	r = write_bitmaps(s, old_groups);
	if (!r)
		r = s->dev->ops->flush(s->dev);
	if (!r) {
		ssnap_root_dirty(s);
		r = ssnap_commit(s);
	}
	if (!r) {
		s->sb.cow_blocks = cpu_to_le64(nr_blocks);
		r = ssnap_sb_write(s, 0, 0);
	}
	if (r)
		ssnap_fail(s, r);
	return r;
}

int ssnap_snapshot_create(struct ssnap_store *s, u32 id, const char *name,
			  u32 priority, u64 now)
{
	struct ssnap_key k;
	struct ssnap_disk_snap d;
	struct ssnap_mem_snap m;
	int r = writable(s);

	if (r)
		return r;
	if (find_live(s, id) >= 0)
		return -EEXIST;
	r = name_check(s, name, id);
	if (r)
		return r;
	if (s->last_seq >= SSNAP_SEQ_MAX)
		return -ENOSPC;
	memset(&m, 0, sizeof(m));
	m.id = id;
	m.label = s->last_seq + 1;
	m.priority = priority;
	m.ctime = now;
	copy_str(m.name, name, sizeof(m.name));
	/* Make room in memory first: the tree change cannot be undone. */
	r = live_insert(s, &m);
	if (r)
		return r;
	snap_to_disk(&m, &d);
	k.a = m.label;
	k.b = 0;
	r = ssnap_btree_insert(s, &s->snaps, &k, &d);
	if (r) {
		live_remove(s, (u32)find_live(s, id));
		ssnap_fail(s, r);
		return r;
	}
	s->last_seq = m.label;
	ssnap_root_dirty(s);
	return 0;
}

int ssnap_snapshot_delete(struct ssnap_store *s, u32 id)
{
	struct ssnap_mem_snap m;
	int i, r = writable(s);

	if (r)
		return r;
	i = find_live(s, id);
	if (i < 0)
		return i;
	m = s->live[i];
	m.flags |= SSNAP_SNAP_DELETING;
	m.flags &= ~SSNAP_SNAP_IN_PASS;
	r = dead_add(s, &m);
	if (r)
		return r;
	r = snap_store_record(s, &m);
	if (r) {
		s->nr_dead--;
		ssnap_fail(s, r);
		return r;
	}
	live_remove(s, (u32)i);
	s->deleted = true;
	ssnap_root_dirty(s);
	return 0;
}

static int snapshot_change(struct ssnap_store *s, u32 id, const char *name,
			   const u32 *prio, u32 set, u32 clear)
{
	struct ssnap_mem_snap m;
	int i, r = writable(s);

	if (r)
		return r;
	i = find_live(s, id);
	if (i < 0)
		return i;
	if (name) {
		r = name_check(s, name, id);
		if (r)
			return r;
	}
	if ((set | clear) & (SSNAP_SNAP_DELETING | SSNAP_SNAP_IN_PASS |
			     ~SSNAP_SNAP_FLAGS_KNOWN))
		return -EINVAL;
	m = s->live[i];
	if (name)
		copy_str(m.name, name, sizeof(m.name));
	if (prio)
		m.priority = *prio;
	m.flags = (m.flags | set) & ~clear;
	r = snap_store_record(s, &m);
	if (r) {
		ssnap_fail(s, r);
		return r;
	}
	s->live[i] = m;
	return 0;
}

int ssnap_snapshot_set_name(struct ssnap_store *s, u32 id, const char *name)
{
	return snapshot_change(s, id, name ? name : "", NULL, 0, 0);
}

int ssnap_snapshot_set_priority(struct ssnap_store *s, u32 id, u32 prio)
{
	return snapshot_change(s, id, NULL, &prio, 0, 0);
}

int ssnap_snapshot_set_flags(struct ssnap_store *s, u32 id, u32 set,
			     u32 clear)
{
	return snapshot_change(s, id, NULL, NULL, set, clear);
}

u32 ssnap_nr_snapshots(struct ssnap_store *s)
{
	return s->nr_live;
}

static void info_fill(const struct ssnap_mem_snap *m,
		      struct ssnap_snap_info *info)
{
	info->id = m->id;
	info->label = m->label;
	info->flags = m->flags;
	info->priority = m->priority;
	info->ctime = m->ctime;
	info->exclusive = m->excl;
	memcpy(info->name, m->name, sizeof(info->name));
}

int ssnap_snapshot_get(struct ssnap_store *s, u32 index,
		       struct ssnap_snap_info *info)
{
	if (index >= s->nr_live)
		return -ENOENT;
	info_fill(&s->live[index], info);
	return 0;
}

int ssnap_snapshot_find(struct ssnap_store *s, u32 id,
			struct ssnap_snap_info *info)
{
	int i = find_live(s, id);

	if (i < 0)
		return i;
	info_fill(&s->live[i], info);
	return 0;
}

int ssnap_label_of(struct ssnap_store *s, u32 id, u32 *label)
{
	int i = find_live(s, id);

	if (i < 0)
		return i;
	*label = s->live[i].label;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Exceptions.                                                         */

static void exc_get(const struct ssnap_key *k, const struct ssnap_disk_exc *v,
		    struct ssnap_exc *e)
{
	e->chunk = k->a;
	e->lo = k->b;
	e->hi = le32_to_cpu(v->hi);
	e->cow = le64_to_cpu(v->cow);
}

void ssnap_untouch_all(struct ssnap_store *s)
{
	s->nr_touched = 0;
	s->deleted = false;
}

static bool touched(const struct ssnap_store *s, u64 chunk)
{
	u32 i;

	for (i = 0; i < s->nr_touched; i++)
		if (s->touched[i] == chunk)
			return true;
	return false;
}

/* Remember that chunk's exceptions differ from the committed ones. */
static int touch(struct ssnap_store *s, u64 chunk)
{
	int r;

	if (touched(s, chunk))
		return 0;
	r = ssnap_grow_array((void **)&s->touched, &s->cap_touched,
			     s->nr_touched + 1, sizeof(*s->touched));
	if (!r)
		s->touched[s->nr_touched++] = chunk;
	return r;
}

static int exc_insert(struct ssnap_store *s, u64 chunk, u32 lo, u32 hi,
		      u64 cow)
{
	struct ssnap_key k = { .a = chunk, .b = lo };
	struct ssnap_disk_exc v = {
		.hi = cpu_to_le32(hi),
		.cow = cpu_to_le64(cow),
	};
	int r = touch(s, chunk);

	return r ? r : ssnap_btree_insert(s, &s->exc, &k, &v);
}

static int exc_remove(struct ssnap_store *s, u64 chunk, u32 lo)
{
	struct ssnap_key k = { .a = chunk, .b = lo };
	int r = touch(s, chunk);

	return r ? r : ssnap_btree_remove(s, &s->exc, &k);
}

/* The exception of chunk whose range holds label; -ENODATA if none. */
static int exc_covering(struct ssnap_store *s, u64 chunk, u32 label,
			struct ssnap_exc *e)
{
	struct ssnap_key k = { .a = chunk, .b = label }, f;
	struct ssnap_disk_exc v;
	int r = ssnap_btree_le(s, &s->exc, &k, &f, &v);

	if (r)
		return r;
	exc_get(&f, &v, e);
	if (e->chunk != chunk || e->hi < label)
		return -ENODATA;
	return 0;
}

/* hi_max(chunk): the top of its highest range, 0 if it has none. */
static int exc_hi_max(struct ssnap_store *s, u64 chunk, u32 *hi)
{
	struct ssnap_key k = { .a = chunk, .b = U32_ALL }, f;
	struct ssnap_disk_exc v;
	int r = ssnap_btree_le(s, &s->exc, &k, &f, &v);

	*hi = 0;
	if (r == -ENODATA)
		return 0;
	if (r)
		return r;
	if (f.a == chunk)
		*hi = le32_to_cpu(v.hi);
	return 0;
}

/*
 * Load every exception of the first chunk >= chunk into s->cx.  Returns
 * 0, or -ENODATA when there is none.
 */
static int exc_load_chunk(struct ssnap_store *s, u64 chunk)
{
	struct ssnap_key k = { .a = chunk, .b = 0 }, f;
	struct ssnap_disk_exc v;
	int r;

	s->nr_cx = 0;
	for (;;) {
		r = ssnap_btree_ge(s, &s->exc, &k, &f, &v);
		if (r == -ENODATA)
			break;
		if (r)
			return r;
		if (s->nr_cx && f.a != s->cx[0].chunk)
			break;
		r = ssnap_grow_array((void **)&s->cx, &s->cap_cx,
				     s->nr_cx + 1, sizeof(*s->cx));
		if (r)
			return r;
		exc_get(&f, &v, &s->cx[s->nr_cx++]);
		if (f.b == U32_ALL)
			break;
		k.a = f.a;
		k.b = f.b + 1;
	}
	return s->nr_cx ? 0 : -ENODATA;
}

/* Live labels, over all ranges of the loaded chunk, reading block cow. */
static u32 cx_users(const struct ssnap_store *s, u64 cow)
{
	u32 i, n = 0;

	for (i = 0; i < s->nr_cx; i++)
		if (s->cx[i].cow == cow)
			n += ssnap_live_count(s, s->cx[i].lo, s->cx[i].hi);
	return n;
}

/* ------------------------------------------------------------------ */
/* Exclusive chunks (ssnap.h, section 3).                              */

/*
 * Does `chunk` still keep the ranges of deleted snapshot d?  Until the
 * reclaim pass that covers d has visited it; drop_pass: as if it had.
 */
static bool dead_kept(const struct ssnap_store *s,
		      const struct ssnap_mem_snap *d, u64 chunk,
		      bool drop_pass)
{
	if (!(d->flags & SSNAP_SNAP_IN_PASS))
		return true;
	return !drop_pass && chunk >= s->gc_chunk;
}

/* The labels `chunk` keeps in lo..hi; *one is set to one of them. */
static u32 kept_in_range(const struct ssnap_store *s, u64 chunk, u32 lo,
			 u32 hi, bool drop_pass, u32 *one)
{
	u32 i, n = ssnap_live_count(s, lo, hi);

	if (n)
		*one = s->labels[label_lb(s, lo)];
	for (i = 0; i < s->nr_dead; i++) {
		const struct ssnap_mem_snap *d = &s->dead[i];

		if (d->label >= lo && d->label <= hi &&
		    dead_kept(s, d, chunk, drop_pass)) {
			n++;
			*one = d->label;
		}
	}
	return n;
}

static int excl_add(struct ssnap_store *s, void *ctx, u32 label, s64 delta)
{
	u32 i;
	int r;

	for (i = 0; i < s->nr_xd; i++) {
		if (s->xd[i].label == label) {
			s->xd[i].delta += delta;
			return 0;
		}
	}
	r = ssnap_grow_array((void **)&s->xd, &s->cap_xd, s->nr_xd + 1,
			     sizeof(*s->xd));
	if (r)
		return r;
	s->xd[s->nr_xd].label = label;
	s->xd[s->nr_xd++].delta = delta;
	return 0;
}

typedef int (*excl_sink)(struct ssnap_store *s, void *ctx, u32 label,
			 s64 delta);

/*
 * Count `sign` for each block of the loaded chunk that one label alone
 * reads, through add (excl_add: into s->xd).  (A range gc_chunk()
 * dropped has lo > hi.)
 */
static int excl_count_cx(struct ssnap_store *s, bool drop_pass, s64 sign,
			 excl_sink add, void *ctx)
{
	u32 i, j;
	int r;

	for (i = 0; i < s->nr_cx; i++) {
		u64 cow = s->cx[i].cow;
		u32 users = 0, one = 0;

		if (!cow)
			continue;
		for (j = 0; j < i && s->cx[j].cow != cow; j++)
			;
		if (j < i)
			continue;	/* counted with its first range */
		for (j = i; j < s->nr_cx && users < 2; j++)
			if (s->cx[j].cow == cow && s->cx[j].lo <= s->cx[j].hi)
				users += kept_in_range(s, s->cx[j].chunk,
						       s->cx[j].lo,
						       s->cx[j].hi, drop_pass,
						       &one);
		if (users == 1) {
			r = add(s, ctx, one, sign);
			if (r)
				return r;
		}
	}
	return 0;
}

static struct ssnap_mem_snap *snap_by_label(struct ssnap_store *s, u32 label)
{
	u32 i = label_lb(s, label);

	if (i < s->nr_live && s->labels[i] == label)
		return &s->live[s->lidx[i]];
	for (i = 0; i < s->nr_dead; i++)
		if (s->dead[i].label == label)
			return &s->dead[i];
	return NULL;
}

/* Move the counted changes into the snapshot records. */
static int excl_apply(struct ssnap_store *s)
{
	u32 i;
	int r = 0;

	for (i = 0; !r && i < s->nr_xd; i++) {
		struct ssnap_mem_snap *m;
		s64 delta = s->xd[i].delta;

		if (!delta)
			continue;
		m = snap_by_label(s, s->xd[i].label);
		if (!m) {
			ssnap_err("exclusive chunks of label %u, which has no snapshot",
				  s->xd[i].label);
			r = -EILSEQ;
			break;
		}
		/* (A wrong count is ssnap_check's to report, not an error.) */
		if (delta < 0 && m->excl < (u64)-delta)
			m->excl = 0;
		else
			m->excl += delta;
		r = snap_store_record(s, m);
	}
	s->nr_xd = 0;
	return r;
}

/* Load chunk's exceptions into s->cx; none is not an error. */
static int exc_load_exact(struct ssnap_store *s, u64 chunk)
{
	int r = exc_load_chunk(s, chunk);

	if (r == -ENODATA || (!r && s->cx[0].chunk != chunk)) {
		s->nr_cx = 0;
		return 0;
	}
	return r;
}

/*
 * Around a change to chunk's exceptions: take the chunk's exclusive
 * blocks away before, add them back after.
 */
static int excl_before(struct ssnap_store *s, u64 chunk)
{
	int r = exc_load_exact(s, chunk);

	s->nr_xd = 0;
	return r ? r : excl_count_cx(s, false, -1, excl_add, NULL);
}

static int excl_after(struct ssnap_store *s, u64 chunk)
{
	int r = exc_load_exact(s, chunk);

	if (!r)
		r = excl_count_cx(s, false, 1, excl_add, NULL);
	return r ? r : excl_apply(s);
}

/* A new range lo..hi of chunk, reading a block of its own. */
static int excl_new_range(struct ssnap_store *s, u64 chunk, u32 lo, u32 hi)
{
	u32 one = 0;
	int r = 0;

	s->nr_xd = 0;
	if (kept_in_range(s, chunk, lo, hi, false, &one) == 1)
		r = excl_add(s, NULL, one, 1);
	return r ? r : excl_apply(s);
}

/* Index of a snapshot in ssnap_excl_verify()'s count: live, then dead. */
static int excl_index(struct ssnap_store *s, u32 label)
{
	struct ssnap_mem_snap *m = snap_by_label(s, label);

	if (!m)
		return -1;
	if (m >= s->live && m < s->live + s->nr_live)
		return (int)(m - s->live);
	return (int)(s->nr_live + (m - s->dead));
}

static int excl_count_into(struct ssnap_store *s, void *ctx, u32 label,
			   s64 delta)
{
	int i = excl_index(s, label);

	/* (A range with a label of no snapshot: ssnap_check reports it.) */
	if (i >= 0)
		((u64 *)ctx)[i] += delta;
	return 0;
}

static int exc_walk(struct ssnap_store *s,
		    int (*fn)(struct ssnap_store *s, void *ctx), void *ctx);

int ssnap_excl_set(struct ssnap_store *s, u32 label, u64 exclusive)
{
	struct ssnap_mem_snap *m = snap_by_label(s, label);

	if (!m)
		return -ENOENT;
	m->excl = exclusive;
	return snap_store_record(s, m);
}

static void info_fill(const struct ssnap_mem_snap *m,
		      struct ssnap_snap_info *info);

static int excl_verify_chunk(struct ssnap_store *s, void *ctx)
{
	return excl_count_cx(s, false, 1, excl_count_into, ctx);
}

int ssnap_excl_verify(struct ssnap_store *s,
		      void (*bad)(void *ctx, const struct ssnap_snap_info *info,
				  u64 counted),
		      void *ctx)
{
	u32 i, n = s->nr_live + s->nr_dead;
	u64 *counted;
	int r;

	counted = ssnap_alloc_array(n + 1, sizeof(*counted));
	if (!counted)
		return -ENOMEM;
	memset(counted, 0, (n + 1) * sizeof(*counted));
	r = exc_walk(s, excl_verify_chunk, counted);
	for (i = 0; !r && i < n; i++) {
		const struct ssnap_mem_snap *m = i < s->nr_live ?
			&s->live[i] : &s->dead[i - s->nr_live];

		if (m->excl != counted[i]) {
			struct ssnap_snap_info info;

			info_fill(m, &info);
			bad(ctx, &info, counted[i]);
		}
	}
	ssnap_free_array(counted);
	return r;
}

int ssnap_lookup(struct ssnap_store *s, u32 label, u64 chunk, u64 *cow)
{
	struct ssnap_exc e;
	int r;

	if (label == SSNAP_ORIGIN)
		return SSNAP_MAP_ORIGIN;
	r = exc_covering(s, chunk, label, &e);
	if (r == -ENODATA)
		return SSNAP_MAP_ORIGIN;
	if (r)
		return r;
	if (!e.cow)
		return SSNAP_MAP_ZERO;
	*cow = e.cow;
	return SSNAP_MAP_COW;
}

static int plan_origin(struct ssnap_store *s, u64 chunk, struct ssnap_plan *p)
{
	u32 hi_max;
	int r = exc_hi_max(s, chunk, &hi_max);

	if (r)
		return r;
	if (max_live_label(s) <= hi_max)
		return 0;
	r = ssnap_alloc_data(s, &p->shared);
	if (r)
		return r;
	p->copy = true;
	p->src = SSNAP_SRC_ORIGIN;
	p->lo = hi_max + 1;
	p->hi = s->last_seq;
	p->kind = PK_ORIGIN;
	return 0;
}

static int plan_snap(struct ssnap_store *s, u32 label, u64 chunk,
		     struct ssnap_plan *p)
{
	struct ssnap_exc e;
	u32 hi_max;
	int r;

	r = exc_covering(s, chunk, label, &e);
	if (r && r != -ENODATA)
		return r;
	if (!r) {
		p->lo = e.lo;
		p->hi = e.hi;
		p->old_cow = e.cow;
		r = exc_load_chunk(s, chunk);
		if (r)
			return r;
		if (e.cow && cx_users(s, e.cow) <= 1) {
			p->own = e.cow;			/* in place */
			return 0;
		}
		r = ssnap_alloc_data(s, &p->own);
		if (r)
			return r;
		p->copy = true;
		if (!e.cow) {
			p->src = SSNAP_SRC_ZERO;
			p->kind = ssnap_live_count(s, e.lo, e.hi) <= 1 ?
				PK_ZERO_FILL : PK_SNAP_SPLIT;
		} else {
			p->src = e.cow;
			p->kind = PK_SNAP_SPLIT;
		}
		return 0;
	}

	/* The snapshot still reads this chunk from the origin. */
	r = exc_hi_max(s, chunk, &hi_max);
	if (r)
		return r;
	p->lo = hi_max + 1;
	p->hi = s->last_seq;
	r = ssnap_alloc_data(s, &p->own);
	if (r)
		return r;
	p->copy = true;
	p->src = SSNAP_SRC_ORIGIN;
	if (ssnap_live_count(s, p->lo, p->hi) <= 1) {
		p->kind = PK_SNAP_ALONE;
		return 0;
	}
	r = ssnap_alloc_data(s, &p->shared);
	if (r) {
		ssnap_unreserve(s, p->own);
		p->own = 0;
		return r;
	}
	p->kind = PK_SNAP_BOTH;
	return 0;
}

int ssnap_plan_write(struct ssnap_store *s, u32 label, u64 chunk,
		     struct ssnap_plan *p)
{
	int r = writable(s);

	memset(p, 0, sizeof(*p));
	p->chunk = chunk;
	p->label = label;
	p->kind = PK_NONE;
	if (r)
		return r;
	/*
	 * A plan may send a write straight to a block (the origin's, or a
	 * snapshot's own copy) only if the committed exceptions of the
	 * chunk and the committed snapshot list already say what it says:
	 * a crash must not find the write in a block the committed state
	 * still shares.
	 */
	if (s->deleted || touched(s, chunk)) {
		r = ssnap_commit(s);
		if (r)
			return r;
	}
	if (label == SSNAP_ORIGIN)
		r = plan_origin(s, chunk, p);
	else
		r = plan_snap(s, label, chunk, p);
	if (r) {
		ssnap_abort_plan(s, p);
		p->kind = PK_NONE;
		p->copy = false;
	}
	return r;
}

void ssnap_abort_plan(struct ssnap_store *s, struct ssnap_plan *p)
{
	if (p->kind == PK_NONE)
		return;
	if (p->shared)
		ssnap_unreserve(s, p->shared);
	if (p->own)
		ssnap_unreserve(s, p->own);
	p->kind = PK_NONE;
}

int ssnap_plan_invalidate(struct ssnap_store *s, struct ssnap_plan *p,
			  void (*fn)(void *ctx, u32 id), void *ctx)
{
	u32 i, id;
	int r = 0;

	if (p->kind != PK_ORIGIN) {
		ssnap_abort_plan(s, p);
		return -EINVAL;
	}
	ssnap_abort_plan(s, p);
	for (i = label_lb(s, p->lo); !r && i < s->nr_live &&
	     s->labels[i] <= p->hi; i++) {
		id = s->live[s->lidx[i]].id;
		r = ssnap_snapshot_set_flags(s, id, SSNAP_SNAP_INVALID, 0);
		if (!r && fn)
			fn(ctx, id);
	}
	return r;
}

/* Replace range lo..hi (reading from `shared`) by a range of its own for s. */
static int split_range(struct ssnap_store *s, struct ssnap_plan *p,
		       u64 shared, bool *shared_used)
{
	u32 l = p->label;
	int r = 0;

	*shared_used = false;
	if (l > p->lo && ssnap_live_in_range(s, p->lo, l - 1)) {
		r = exc_insert(s, p->chunk, p->lo, l - 1, shared);
		*shared_used = true;
	}
	if (!r)
		r = exc_insert(s, p->chunk, l, l, p->own);
	if (!r && l < p->hi && ssnap_live_in_range(s, l + 1, p->hi)) {
		r = exc_insert(s, p->chunk, l + 1, p->hi, shared);
		*shared_used = true;
	}
	return r;
}

/* Free COW block cow if no exception of chunk reads it any more. */
static int free_if_unused(struct ssnap_store *s, u64 chunk, u64 cow)
{
	u32 i;
	int r = exc_load_chunk(s, chunk);

	if (r && r != -ENODATA)
		return r;
	for (i = 0; !r && i < s->nr_cx; i++)
		if (s->cx[i].cow == cow)
			return 0;
	return ssnap_free_data(s, cow);
}

int ssnap_commit_plan(struct ssnap_store *s, struct ssnap_plan *p)
{
	/* The two kinds that only add a range reading a new block. */
	bool add_only = p->kind == PK_ORIGIN || p->kind == PK_SNAP_ALONE;
	bool used = false;
	int r = 0;

	if (s->failed) {
		ssnap_abort_plan(s, p);
		return s->failed;
	}
	if (p->kind == PK_NONE)
		return 0;
	if (!add_only) {
		r = excl_before(s, p->chunk);
		if (r) {
			ssnap_abort_plan(s, p);
			ssnap_fail(s, r);
			return r;
		}
	}
	switch (p->kind) {
	case PK_NONE:
		break;
	case PK_ORIGIN:
		r = exc_insert(s, p->chunk, p->lo, p->hi, p->shared);
		if (!r)
			r = ssnap_commit_data(s, p->shared);
		break;
	case PK_SNAP_ALONE:
		r = exc_insert(s, p->chunk, p->lo, p->hi, p->own);
		if (!r)
			r = ssnap_commit_data(s, p->own);
		break;
	case PK_SNAP_BOTH:
		r = split_range(s, p, p->shared, &used);
		if (!r)
			r = ssnap_commit_data(s, p->own);
		if (!r && used)
			r = ssnap_commit_data(s, p->shared);
		else if (!r)
			ssnap_unreserve(s, p->shared);
		break;
	case PK_SNAP_SPLIT:
		r = exc_remove(s, p->chunk, p->lo);
		if (!r)
			r = split_range(s, p, p->old_cow, &used);
		if (!r)
			r = ssnap_commit_data(s, p->own);
		if (!r && !used && p->old_cow)
			r = free_if_unused(s, p->chunk, p->old_cow);
		break;
	case PK_ZERO_FILL:
		r = exc_remove(s, p->chunk, p->lo);
		if (!r)
			r = exc_insert(s, p->chunk, p->lo, p->hi, p->own);
		if (!r)
			r = ssnap_commit_data(s, p->own);
		break;
	}
	p->kind = PK_NONE;
	if (!r)
		r = add_only ? excl_new_range(s, p->chunk, p->lo, p->hi) :
		    excl_after(s, p->chunk);
	if (r) {
		ssnap_fail(s, r);
		return r;
	}
	return 0;
}

int ssnap_discard(struct ssnap_store *s, u32 label, u64 chunk)
{
	struct ssnap_exc e;
	u32 i, refs = 0;
	int r = writable(s);

	if (r)
		return r;
	if (label == SSNAP_ORIGIN)
		return -EINVAL;
	r = exc_covering(s, chunk, label, &e);
	if (r == -ENODATA)
		return 0;
	if (r)
		return r;
	if (!e.cow)
		return 0;
	r = exc_load_chunk(s, chunk);
	if (r)
		return r;
	if (cx_users(s, e.cow) > 1)
		return 0;
	for (i = 0; i < s->nr_cx; i++)
		refs += s->cx[i].cow == e.cow;
	r = excl_before(s, chunk);
	if (!r)
		r = exc_remove(s, chunk, e.lo);
	if (!r)
		r = exc_insert(s, chunk, e.lo, e.hi, 0);
	if (!r && refs == 1)
		r = ssnap_free_data(s, e.cow);
	if (!r)
		r = excl_after(s, chunk);
	if (r)
		ssnap_fail(s, r);
	return r;
}

/* ------------------------------------------------------------------ */
/* Reclaim.                                                            */

/* Start a pass over the tree for every snapshot deleted so far. */
static int gc_start(struct ssnap_store *s)
{
	u32 i;
	int r;

	for (i = 0; i < s->nr_dead; i++) {
		s->dead[i].flags |= SSNAP_SNAP_IN_PASS;
		r = snap_store_record(s, &s->dead[i]);
		if (r)
			return r;
	}
	s->gc_pass = 1;
	s->gc_chunk = 0;
	s->gc_lo = 0;
	ssnap_root_dirty(s);
	return 0;
}

/* The pass reached the end: forget the snapshots it covered. */
static int gc_finish(struct ssnap_store *s)
{
	u32 i = 0;
	int r;

	while (i < s->nr_dead) {
		struct ssnap_key k = { .a = s->dead[i].label, .b = 0 };

		if (!(s->dead[i].flags & SSNAP_SNAP_IN_PASS)) {
			i++;
			continue;
		}
		r = ssnap_btree_remove(s, &s->snaps, &k);
		if (r)
			return r;
		s->dead[i] = s->dead[--s->nr_dead];
	}
	s->gc_pass = 0;
	s->gc_chunk = 0;
	ssnap_root_dirty(s);
	return 0;
}

/*
 * Drop the dead exceptions of the chunk loaded in s->cx; the chunk no
 * longer keeps the labels of the pass (for their exclusive chunks).
 */
static int gc_chunk(struct ssnap_store *s, u32 *steps)
{
	u32 i, j;
	int r;

	s->nr_xd = 0;
	r = excl_count_cx(s, false, -1, excl_add, NULL);
	if (r)
		return r;
	for (i = 0; i < s->nr_cx; i++) {
		struct ssnap_exc *e = &s->cx[i];
		bool shared = false;

		(*steps)++;
		if (ssnap_live_in_range(s, e->lo, e->hi))
			continue;
		r = exc_remove(s, e->chunk, e->lo);
		if (r)
			return r;
		for (j = 0; j < s->nr_cx; j++)
			if (j != i && s->cx[j].cow == e->cow &&
			    s->cx[j].hi >= s->cx[j].lo)
				shared = true;
		if (e->cow && !shared) {
			r = ssnap_free_data(s, e->cow);
			if (r)
				return r;
		}
		e->hi = 0;	/* gone: no longer keeps its block */
		e->lo = 1;
	}
	r = excl_count_cx(s, true, 1, excl_add, NULL);
	return r ? r : excl_apply(s);
}

int ssnap_gc(struct ssnap_store *s, u32 budget)
{
	u32 steps = 0;
	int r = writable(s);

	if (r)
		return r;
	if (!s->gc_pass) {
		if (!s->nr_dead)
			return 0;
		r = gc_start(s);
		if (r)
			goto fail;
	}
	while (steps < budget) {
		r = exc_load_chunk(s, s->gc_chunk);
		if (r == -ENODATA) {
			r = gc_finish(s);
			if (r)
				goto fail;
			break;
		}
		if (r)
			goto fail;
		s->gc_chunk = s->cx[0].chunk;
		r = gc_chunk(s, &steps);
		if (r)
			goto fail;
		s->gc_chunk++;
		ssnap_root_dirty(s);
		if (s->cache.nr_dirty + s->nr_pending >= s->tx_soft) {
			r = ssnap_commit(s);
			if (r)
				return r;
		}
	}
	r = ssnap_commit(s);
	if (r)
		return r;
	return s->gc_pass || s->nr_dead ? 1 : 0;
fail:
	ssnap_fail(s, r);
	return r;
}

/* ------------------------------------------------------------------ */
/* Usage and differences.                                              */

void ssnap_usage(struct ssnap_store *s, struct ssnap_usage *u)
{
	u64 used = ssnap_used_blocks(s);

	memset(u, 0, sizeof(*u));
	u->total_blocks = s->nr_blocks;
	u->chunk_blocks = s->chunk_blocks;
	u->data_chunks = s->data_chunks;
	u->meta_blocks = s->meta_blocks;
	u->free_chunks = used + SSNAP_META_RESERVE < s->nr_blocks ?
		(s->nr_blocks - used - SSNAP_META_RESERVE) >> s->chunk_shift :
		0;
	u->nr_snapshots = s->nr_live;
	u->nr_deleting = s->nr_dead;
	u->last_label = s->last_seq;
	u->transaction = s->trans;
	u->sb_flags = le32_to_cpu(s->sb.flags);
	u->gc_pass = s->gc_pass;
	u->gc_chunk = s->gc_chunk;
}

/* Calls fn once per chunk with exceptions, with them loaded in s->cx. */
static int exc_walk(struct ssnap_store *s,
		    int (*fn)(struct ssnap_store *s, void *ctx), void *ctx)
{
	u64 chunk = 0;
	int r;

	for (;;) {
		r = exc_load_chunk(s, chunk);
		if (r == -ENODATA)
			return 0;
		if (r)
			return r;
		chunk = s->cx[0].chunk;
		r = fn(s, ctx);
		if (r)
			return r;
		if (chunk == ~0ULL)
			return 0;
		chunk++;
		ssnap_cond_resched();
	}
}

struct usage_ctx {
	s64 *diff;		/* per live-label index, shared chunks */
	u64 *excl;
	u32 *by_label;		/* live-label index -> index in s->live */
};

static int usage_chunk(struct ssnap_store *s, void *ctx)
{
	struct usage_ctx *c = ctx;
	u32 i, j;

	for (i = 0; i < s->nr_cx; i++) {
		u64 cow = s->cx[i].cow;
		bool first = true;

		if (!cow)
			continue;
		for (j = 0; j < i; j++)
			if (s->cx[j].cow == cow)
				first = false;
		if (!first)
			continue;
		if (cx_users(s, cow) == 1) {
			for (j = i; j < s->nr_cx; j++) {
				if (s->cx[j].cow == cow &&
				    ssnap_live_count(s, s->cx[j].lo,
						     s->cx[j].hi)) {
					u32 li = label_lb(s, s->cx[j].lo);

					c->excl[c->by_label[li]]++;
					break;
				}
			}
			continue;
		}
		for (j = i; j < s->nr_cx; j++) {
			if (s->cx[j].cow != cow)
				continue;
			c->diff[label_lb(s, s->cx[j].lo)]++;
			c->diff[label_lb(s, s->cx[j].hi == U32_ALL ? U32_ALL :
					 s->cx[j].hi + 1)]--;
		}
	}
	return 0;
}

struct ssnap_usage_walk {
	struct usage_ctx c;
	u32 n;			/* live snapshots when the walk began */
	u32 gen;		/* s->live_gen then */
	u64 chunk;		/* the next chunk to look at */
	bool done;
};

void ssnap_usage_walk_free(struct ssnap_usage_walk *w)
{
	if (!w)
		return;
	ssnap_free_array(w->c.diff);
	ssnap_free_array(w->c.excl);
	ssnap_free_array(w->c.by_label);
	ssnap_free(w);
}

struct ssnap_usage_walk *ssnap_usage_walk_start(struct ssnap_store *s)
{
	struct ssnap_usage_walk *w = ssnap_zalloc(sizeof(*w));
	u32 i, n = s->nr_live;

	if (!w)
		return NULL;
	w->n = n;
	w->gen = s->live_gen;
	w->c.diff = ssnap_alloc_array(n + 1, sizeof(*w->c.diff));
	w->c.excl = ssnap_alloc_array(n + 1, sizeof(*w->c.excl));
	w->c.by_label = ssnap_alloc_array(n + 1, sizeof(*w->c.by_label));
	if (!w->c.diff || !w->c.excl || !w->c.by_label) {
		ssnap_usage_walk_free(w);
		return NULL;
	}
	memset(w->c.diff, 0, (n + 1) * sizeof(*w->c.diff));
	memset(w->c.excl, 0, (n + 1) * sizeof(*w->c.excl));
	for (i = 0; i < n; i++)
		w->c.by_label[label_lb(s, s->live[i].label)] = i;
	return w;
}

int ssnap_usage_walk_step(struct ssnap_store *s, struct ssnap_usage_walk *w,
			  u32 budget)
{
	u64 chunk;
	int r;

	if (w->gen != s->live_gen)
		return -EAGAIN;
	for (; !w->done && budget; budget--) {
		r = exc_load_chunk(s, w->chunk);
		if (r == -ENODATA) {
			w->done = true;
			break;
		}
		if (r)
			return r;
		chunk = s->cx[0].chunk;
		r = usage_chunk(s, &w->c);
		if (r)
			return r;
		if (chunk == ~0ULL)
			w->done = true;
		else
			w->chunk = chunk + 1;
	}
	return w->done ? 0 : 1;
}

int ssnap_usage_walk_result(struct ssnap_store *s, struct ssnap_usage_walk *w,
			    struct ssnap_snap_usage *u, u32 max)
{
	u32 i, n = w->n;
	s64 run = 0;

	if (w->gen != s->live_gen)
		return -EAGAIN;
	if (!w->done)
		return -EINVAL;
	for (i = 0; i < n && i < max; i++) {
		u[i].id = s->live[i].id;
		u[i].exclusive = w->c.excl[i];
		u[i].shared = 0;
	}
	for (i = 0; i < n; i++) {
		u32 li = w->c.by_label[i];

		run += w->c.diff[i];
		if (li < max)
			u[li].shared = (u64)run;
	}
	return (int)ssnap_min(n, max);
}

int ssnap_snapshot_usage(struct ssnap_store *s, struct ssnap_snap_usage *u,
			 u32 max)
{
	struct ssnap_usage_walk *w = ssnap_usage_walk_start(s);
	int r;

	if (!w)
		return -ENOMEM;
	do {
		r = ssnap_usage_walk_step(s, w, 4096);
		ssnap_cond_resched();
	} while (r > 0);
	if (!r)
		r = ssnap_usage_walk_result(s, w, u, max);
	ssnap_usage_walk_free(w);
	return r;
}

struct diff_ctx {
	u32 a, b;
	int (*fn)(void *ctx, u64 chunk);
	void *ctx;
};

/* Where label reads the loaded chunk: ~0 origin, 0 zero, else block. */
static u64 cx_resolve(const struct ssnap_store *s, u32 label)
{
	u32 i;

	if (label == SSNAP_ORIGIN)
		return ~0ULL;
	for (i = 0; i < s->nr_cx; i++)
		if (s->cx[i].lo <= label && label <= s->cx[i].hi)
			return s->cx[i].cow;
	return ~0ULL;
}

static int diff_chunk(struct ssnap_store *s, void *ctx)
{
	struct diff_ctx *c = ctx;

	if (cx_resolve(s, c->a) != cx_resolve(s, c->b))
		return c->fn(c->ctx, s->cx[0].chunk);
	return 0;
}

int ssnap_diff(struct ssnap_store *s, u32 label_a, u32 label_b,
	       int (*fn)(void *ctx, u64 chunk), void *ctx)
{
	struct diff_ctx c = { label_a, label_b, fn, ctx };

	return exc_walk(s, diff_chunk, &c);
}
