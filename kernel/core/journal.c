// SPDX-License-Identifier: GPL-2.0
/*
 * The superblock and the redo journal: commit, checkpoint, replay.
 * ssnap.h, section 4, describes the scheme.
 */
#include "internal.h"

static u32 sb_csum(const struct ssnap_disk_sb *sb)
{
	return ssnap_crc32c(~0U, (const u8 *)sb + 4, sizeof(*sb) - 4) ^
		SSNAP_BT_SUPER;
}

static bool str_ok(const char *s, u32 len)
{
	return memchr(s, 0, len);
}

/*
 * 0: a valid superblock copy for block `slot`.  -EINVAL: not ours at all.
 * -EILSEQ: ours but damaged or inconsistent.  -EOPNOTSUPP: features.
 */
int ssnap_sb_verify(const struct ssnap_disk_sb *sb, u64 slot)
{
	u32 chunk = le32_to_cpu(sb->chunk_sectors);
	u64 jstart = le64_to_cpu(sb->journal_start);
	u32 jblocks = le32_to_cpu(sb->journal_blocks);
	u64 cow = le64_to_cpu(sb->cow_blocks);

	if (le64_to_cpu(sb->magic) != SSNAP_MAGIC)
		return -EINVAL;
	if (le32_to_cpu(sb->csum) != sb_csum(sb))
		return -EILSEQ;
	if (le64_to_cpu(sb->blocknr) != slot || le32_to_cpu(sb->slot) != slot)
		return -EILSEQ;
	if (le32_to_cpu(sb->version) != SSNAP_VERSION ||
	    le32_to_cpu(sb->block_size) != SSNAP_BLOCK_SIZE)
		return -EOPNOTSUPP;
	if (le32_to_cpu(sb->incompat) & ~SSNAP_FEAT_INCOMPAT_SUPP)
		return -EOPNOTSUPP;
	if (chunk < SSNAP_CHUNK_SECTORS_MIN || chunk > SSNAP_CHUNK_SECTORS_MAX ||
	    (chunk & (chunk - 1)))
		return -EILSEQ;
	if (jstart != SSNAP_JOURNAL_START ||
	    le64_to_cpu(sb->root_blocknr) != SSNAP_ROOT_BLOCK)
		return -EILSEQ;
	if (jblocks < SSNAP_JOURNAL_MIN ||
	    jstart + jblocks + 1 > SSNAP_GROUP_BLOCKS ||
	    jstart + jblocks + 1 >= cow)
		return -EILSEQ;
	if (le64_to_cpu(sb->journal_tail) >= jblocks)
		return -EILSEQ;
	if (le32_to_cpu(sb->flags) & ~SSNAP_SB_FLAGS_KNOWN)
		return -EILSEQ;
	if (!str_ok(sb->name, sizeof(sb->name)) ||
	    !str_ok(sb->origin_ident, sizeof(sb->origin_ident)))
		return -EILSEQ;
	return 0;
}

static int sb_read_slot(struct ssnap_dev *dev, u64 slot, void *buf,
			struct ssnap_disk_sb *sb)
{
	int r = dev->ops->read(dev, slot, buf);

	if (r)
		return r;
	memcpy(sb, buf, sizeof(*sb));
	return ssnap_sb_verify(sb, slot);
}

/* Load the newest valid superblock copy. */
int ssnap_sb_load(struct ssnap_dev *dev, struct ssnap_disk_sb *sb)
{
	struct ssnap_disk_sb a, b;
	void *buf;
	int ra, rb;

	if (dev->nr_blocks < SSNAP_JOURNAL_START)
		return -EINVAL;
	buf = ssnap_alloc(SSNAP_BLOCK_SIZE);
	if (!buf)
		return -ENOMEM;
	ra = sb_read_slot(dev, 0, buf, &a);
	rb = sb_read_slot(dev, 1, buf, &b);
	ssnap_free(buf);
	if (ra == -EIO && rb == -EIO)
		return -EIO;
	if (!ra && (rb || le64_to_cpu(a.generation) >= le64_to_cpu(b.generation)))
		*sb = a;
	else if (!rb)
		*sb = b;
	else if (ra == -EOPNOTSUPP || rb == -EOPNOTSUPP)
		return -EOPNOTSUPP;
	else if (ra == -EINVAL && rb == -EINVAL)
		return -EINVAL;
	else
		return -EILSEQ;
	return 0;
}

int ssnap_read_super(struct ssnap_dev *dev, struct ssnap_disk_sb *sb)
{
	return ssnap_sb_load(dev, sb);
}

/* Write the other superblock copy, durably. */
int ssnap_sb_write(struct ssnap_store *s, u32 set, u32 clear)
{
	struct ssnap_disk_sb *sb = &s->sb;
	u32 slot = s->sb_next_slot;
	void *buf;
	int r;

	if (s->read_only)
		return -EROFS;
	sb->flags = cpu_to_le32((le32_to_cpu(sb->flags) | set) & ~clear);
	s->sb_generation++;
	sb->generation = cpu_to_le64(s->sb_generation);
	sb->blocknr = cpu_to_le64(slot);
	sb->slot = cpu_to_le32(slot);
	sb->csum = cpu_to_le32(sb_csum(sb));
	buf = ssnap_zalloc(SSNAP_BLOCK_SIZE);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, sb, sizeof(*sb));
	r = s->dev->ops->write(s->dev, slot, buf,
			       SSNAP_IO_PREFLUSH | SSNAP_IO_FUA);
	ssnap_free(buf);
	if (r) {
		ssnap_fail(s, r);
		return r;
	}
	s->sb_next_slot = slot ^ 1;
	return 0;
}

/*
 * Write n blocks with SSNAP_IO_* flags (NULL: none), in no particular
 * order: through the device's batch write if it has one (all in flight
 * at once), else one by one.
 */
static int write_blocks(struct ssnap_store *s, const u64 *nr, void *const *bufs,
			const unsigned int *flags, u32 n)
{
	u32 i;
	int r = 0;

	if (s->dev->ops->write_batch)
		return s->dev->ops->write_batch(s->dev, nr, bufs, flags, n);
	for (i = 0; i < n && !r; i++)
		r = s->dev->ops->write(s->dev, nr[i], bufs[i],
				       flags ? flags[i] : 0);
	return r;
}

/*
 * Write every unhomed block home.  A clean one holds what was committed;
 * a dirty one holds changes not committed yet, so its last committed
 * copy comes back from the journal instead.
 */
static int homes_write(struct ssnap_store *s)
{
	struct ssnap_cache *c = &s->cache;
	struct ssnap_block *b;
	u32 n = 0, max = c->nr_unhomed;
	void **bufs, *tmp;
	u64 *nrs;
	int r = 0;

	if (!max)
		return 0;
	nrs = ssnap_alloc_array(max, sizeof(*nrs));
	bufs = ssnap_alloc_array(max, sizeof(*bufs));
	tmp = ssnap_alloc(SSNAP_BLOCK_SIZE);
	if (!nrs || !bufs || !tmp) {
		r = -ENOMEM;
		goto out;
	}
	for (b = c->lru.next; b != &c->lru && !r; b = b->next) {
		if (!b->unhomed)
			continue;
		if (!b->dirty) {
			if (n < max) {
				nrs[n] = b->nr;
				bufs[n++] = b->data;
			}
			continue;
		}
		r = s->dev->ops->read(s->dev, s->jstart + b->jpos, tmp);
		if (!r && ssnap_block_verify(s->csum_seed, tmp, b->type, b->nr)) {
			ssnap_err("journal block %u: not the copy of block %llu",
				  b->jpos, (unsigned long long)b->nr);
			r = -EILSEQ;
		}
		if (!r)
			r = s->dev->ops->write(s->dev, b->nr, tmp, 0);
	}
	if (!r)
		r = write_blocks(s, nrs, bufs, NULL, n);
out:
	ssnap_free(tmp);
	ssnap_free_array(nrs);
	ssnap_free_array(bufs);
	return r;
}

static void homes_done(struct ssnap_store *s)
{
	struct ssnap_cache *c = &s->cache;
	struct ssnap_block *b;

	for (b = c->lru.next; b != &c->lru && c->nr_unhomed; b = b->next) {
		if (b->unhomed) {
			b->unhomed = false;
			c->nr_unhomed--;
		}
	}
}

/*
 * Empty the journal: write every committed block home, make that
 * durable, then point the superblock past the journal with its flags
 * changed so.  Committed changes stay in the journal alone until then.
 */
int ssnap_checkpoint_sb(struct ssnap_store *s, u32 set, u32 clear)
{
	int r;

	if (s->failed)
		return s->failed;
	r = homes_write(s);
	if (!r)
		r = s->dev->ops->flush(s->dev);
	if (r) {
		ssnap_fail(s, r);
		return r;
	}
	s->sb.journal_tail = cpu_to_le64(0);
	s->sb.tail_seq = cpu_to_le64(s->trans + 1);
	r = ssnap_sb_write(s, set, clear);
	if (!r) {
		s->jhead = 0;
		homes_done(s);
		ssnap_quarantine_clear(s);
	}
	return r;
}

int ssnap_checkpoint(struct ssnap_store *s)
{
	return ssnap_checkpoint_sb(s, 0, SSNAP_SB_CLEAN);
}

/*
 * The commit record and the blocks of the transaction, in the journal,
 * all at once, then a flush: the transaction is durable when it returns.
 * The record's preflush makes the data it points to durable before the
 * record can be: the chunk copies the caller waited for (they went to
 * the device without FUA).  The order of the journal writes does not
 * matter: replay takes a record only if every block it lists carries the
 * checksum it lists.
 */
static int journal_write(struct ssnap_store *s, void *cbuf, u64 *nr,
			 void **bufs, unsigned int *flags)
{
	struct ssnap_disk_commit *c = cbuf;
	struct ssnap_block *b;
	u64 pos = s->jstart + s->jhead;
	u64 trans = s->trans + 1;
	u32 n = 0;
	int r;

	memset(cbuf, 0, SSNAP_BLOCK_SIZE);
	nr[0] = pos;
	bufs[0] = cbuf;
	flags[0] = SSNAP_IO_PREFLUSH;
	for (b = s->cache.dirty; b; b = b->dnext) {
		ssnap_block_seal(s->csum_seed, b->data, b->type, b->nr, trans);
		c->ent[n].blocknr = cpu_to_le64(b->nr);
		c->ent[n].csum = ((struct ssnap_disk_hdr *)b->data)->csum;
		n++;
		b->jpos = s->jhead + n;
		nr[n] = pos + n;
		bufs[n] = b->data;
		flags[n] = 0;
	}
	c->nr = cpu_to_le32(n);
	ssnap_block_seal(s->csum_seed, cbuf, SSNAP_BT_COMMIT, pos, trans);

	r = write_blocks(s, nr, bufs, flags, n + 1);
	return r ? r : s->dev->ops->flush(s->dev);
}

/*
 * Blocks freed by this transaction leave it: journaled, a replay would
 * write them home over whatever the block holds by then.
 */
static int drop_freed(struct ssnap_store *s)
{
	struct ssnap_block *b, *n;
	bool used;
	int r;

	for (b = s->cache.dirty; b; b = n) {
		n = b->dnext;
		if (b->type != SSNAP_BT_NODE && b->type != SSNAP_BT_LEAF)
			continue;
		r = ssnap_block_used(s, b->nr, &used);
		if (r)
			return r;
		if (!used)
			ssnap_bforget(s, b);
	}
	return 0;
}

/*
 * Bring the transaction to where it can be written: frees applied, the
 * root block up to date, room in the journal, freed blocks out of it.
 * Its size in blocks in *nr.
 */
static int commit_prepare(struct ssnap_store *s, u32 *nr)
{
	u32 meta_freed;
	int r = ssnap_apply_frees(s, &meta_freed);

	if (!r)
		r = ssnap_root_flush(s);
	if (r)
		goto fail;
	*nr = s->cache.nr_dirty;
	if (!*nr)
		return 0;
	if (*nr > SSNAP_COMMIT_MAX || *nr + 1 > s->jblocks) {
		ssnap_err("transaction of %u blocks does not fit the journal",
			  *nr);
		r = -EFBIG;
		goto fail;
	}
	if (s->jhead + 1 + *nr > s->jblocks) {
		r = ssnap_checkpoint(s);	/* fails the store itself */
		if (r)
			return r;
	}
	/* After the checkpoint: until it, the old state needs them. */
	if (meta_freed) {
		r = drop_freed(s);
		if (r)
			goto fail;
		*nr = s->cache.nr_dirty;
	}
	return 0;
fail:
	ssnap_fail(s, r);
	return r;
}

/*
 * Make the transaction durable in the journal.  Its blocks stay in the
 * cache, unhomed, until a checkpoint writes them home: a block changed
 * by every transaction is written home once per checkpoint, not once per
 * commit.
 */
int ssnap_commit(struct ssnap_store *s)
{
	struct ssnap_block *b, *n;
	void *cbuf, **bufs;
	unsigned int *flags;
	u32 nr;
	u64 *nrs;
	int r;

	if (s->failed)
		return s->failed;
	if (s->read_only)
		return -EROFS;
	r = commit_prepare(s, &nr);
	if (r || !nr)
		return r;
	cbuf = ssnap_alloc(SSNAP_BLOCK_SIZE);
	nrs = ssnap_alloc_array(nr + 1, sizeof(*nrs));
	bufs = ssnap_alloc_array(nr + 1, sizeof(*bufs));
	flags = ssnap_alloc_array(nr + 1, sizeof(*flags));
	if (!cbuf || !nrs || !bufs || !flags) {
		r = -ENOMEM;		/* nothing written: try again later */
		goto out;
	}
	r = journal_write(s, cbuf, nrs, bufs, flags);
	if (r) {
		/* The store fails; what the journal holds, the next open replays. */
		ssnap_fail(s, r);
		goto out;
	}
	s->trans++;
	s->jhead += 1 + nr;
	ssnap_untouch_all(s);
	for (b = s->cache.dirty; b; b = n) {
		n = b->dnext;
		b->dirty = false;
		b->dnext = NULL;
		if (!b->unhomed) {
			b->unhomed = true;
			s->cache.nr_unhomed++;
		}
	}
	s->cache.dirty = NULL;
	s->cache.nr_dirty = 0;
out:
	ssnap_free(cbuf);
	ssnap_free_array(nrs);
	ssnap_free_array(bufs);
	ssnap_free_array(flags);
	return r;
}

bool ssnap_dirty(struct ssnap_store *s)
{
	return s->cache.nr_dirty || s->root_dirty || s->nr_pending;
}

int ssnap_maybe_commit(struct ssnap_store *s)
{
	if (s->cache.nr_dirty + s->nr_pending < s->tx_soft)
		return 0;
	return ssnap_commit(s);
}

/*
 * Read one journaled transaction at journal offset `pos`; 0 and *n set
 * if it is whole and carries transaction id `seq`.
 */
static int replay_one(struct ssnap_store *s, u32 pos, u64 seq, void *cbuf,
		      void **bufs, u32 *n)
{
	struct ssnap_disk_commit *c = cbuf;
	struct ssnap_disk_hdr *h;
	u64 home;
	u32 i, nr, type;
	int r;

	r = s->dev->ops->read(s->dev, s->jstart + pos, cbuf);
	if (r)
		return r;
	if (ssnap_block_verify(s->csum_seed, cbuf, SSNAP_BT_COMMIT,
			       s->jstart + pos))
		return -ENODATA;
	nr = le32_to_cpu(c->nr);
	if (le64_to_cpu(c->hdr.seq) != seq || !nr || nr > SSNAP_COMMIT_MAX ||
	    pos + 1 + nr > s->jblocks)
		return -ENODATA;
	for (i = 0; i < nr; i++) {
		r = s->dev->ops->read(s->dev, s->jstart + pos + 1 + i, bufs[i]);
		if (r)
			return r;
		h = bufs[i];
		home = le64_to_cpu(c->ent[i].blocknr);
		type = le32_to_cpu(h->type);
		if (h->csum != c->ent[i].csum ||
		    ssnap_block_verify(s->csum_seed, bufs[i], type, home) ||
		    home >= s->nr_blocks || home < SSNAP_ROOT_BLOCK ||
		    (home >= s->jstart && home < s->jstart + s->jblocks))
			return -ENODATA;
	}
	*n = nr;
	return 0;
}

/*
 * Replay stopped at journal offset pos, expecting transaction seq.  If a
 * valid commit record of a later transaction lies beyond, a transaction
 * that was acknowledged is damaged: refuse rather than lose it quietly.
 */
static int journal_check_tail(struct ssnap_store *s, u32 pos, u64 seq,
			      void *buf)
{
	u32 i;
	int r;

	for (i = pos + 1; i < s->jblocks; i++) {
		r = s->dev->ops->read(s->dev, s->jstart + i, buf);
		if (r)
			return r;
		if (ssnap_block_verify(s->csum_seed, buf, SSNAP_BT_COMMIT,
				       s->jstart + i))
			continue;
		if (le64_to_cpu(((struct ssnap_disk_hdr *)buf)->seq) > seq) {
			ssnap_err("journal: transaction %llu damaged, later ones whole",
				  (unsigned long long)seq);
			return -EILSEQ;
		}
		ssnap_cond_resched();
	}
	return 0;
}

/* Replay every whole transaction after the superblock's tail. */
int ssnap_journal_replay(struct ssnap_store *s)
{
	u32 pos = le64_to_cpu(s->sb.journal_tail);
	u64 seq = le64_to_cpu(s->sb.tail_seq);
	void **bufs;
	void *cbuf;
	u32 i, n, replayed = 0;
	int r = -ENOMEM;

	bufs = ssnap_alloc_array(SSNAP_COMMIT_MAX, sizeof(*bufs));
	cbuf = ssnap_alloc(SSNAP_BLOCK_SIZE);
	if (!bufs || !cbuf)
		goto out_free;
	memset(bufs, 0, SSNAP_COMMIT_MAX * sizeof(*bufs));
	for (i = 0; i < SSNAP_COMMIT_MAX; i++) {
		bufs[i] = ssnap_alloc(SSNAP_BLOCK_SIZE);
		if (!bufs[i])
			goto out_free;
	}
	for (;;) {
		if (pos + 1 > s->jblocks)
			break;
		r = replay_one(s, pos, seq, cbuf, bufs, &n);
		if (r == -ENODATA)
			break;
		if (r)
			goto out_free;
		for (i = 0; i < n && !r; i++) {
			u64 home = le64_to_cpu(((struct ssnap_disk_hdr *)
						bufs[i])->blocknr);
			u32 type = le32_to_cpu(((struct ssnap_disk_hdr *)
						bufs[i])->type);
			struct ssnap_block *b;

			if (s->read_only) {
				b = ssnap_cache_insert(s, home, bufs[i], type);
				if (!b)
					r = -ENOMEM;
				else
					b->sticky = true;
			} else {
				r = s->dev->ops->write(s->dev, home, bufs[i], 0);
			}
		}
		if (r)
			goto out_free;
		pos += 1 + n;
		seq++;
		replayed++;
	}
	r = journal_check_tail(s, pos, seq, cbuf);
	if (r)
		goto out_free;
	s->trans = seq - 1;
	s->jhead = pos;
	if (replayed && !s->read_only)
		r = s->dev->ops->flush(s->dev);
	if (replayed)
		ssnap_info("replayed %u journal transactions", replayed);
out_free:
	if (bufs)
		for (i = 0; i < SSNAP_COMMIT_MAX; i++)
			ssnap_free(bufs[i]);
	ssnap_free_array(bufs);
	ssnap_free(cbuf);
	return r;
}
