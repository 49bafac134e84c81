// SPDX-License-Identifier: GPL-2.0
/*
 * Space: one bitmap bit per 4 KiB block of the COW device, in per-group
 * bitmap blocks at fixed places (ssnap.h, section 3).
 *
 * Metadata blocks are taken one at a time, first fit from a cursor.
 * Data chunks are aligned runs of chunk_blocks free bits.  A data chunk
 * handed out for a copy is only *reserved* (kept in memory) until the
 * copy is recorded; frees are queued and reach the bitmap at commit, so
 * nothing freed in a transaction is reused before it is durable.
 *
 * A metadata block freed since the last checkpoint may still have a
 * copy in the journal, which a replay after a crash writes home again:
 * it is in quarantine, kept out of data chunks, until the checkpoint
 * empties the journal.  (Metadata may reuse it: its new contents are
 * journaled after the old, and replay keeps that order.)
 */
#include "internal.h"

#define PENDING_DATA	BIT_ULL(63)

int ssnap_grow_array(void **arr, u32 *cap, u32 need, size_t size)
{
	u32 ncap = *cap ? *cap : 16;
	void *n;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > 0x7fffffffU)
			return -ENOMEM;
		ncap *= 2;
	}
	n = ssnap_alloc_array(ncap, size);
	if (!n)
		return -ENOMEM;
	if (*arr) {
		memcpy(n, *arr, (size_t)*cap * size);
		ssnap_free_array(*arr);
	}
	*arr = n;
	*cap = ncap;
	return 0;
}

u64 ssnap_bitmap_block(const struct ssnap_store *s, u64 group)
{
	return group ? group << SSNAP_GROUP_SHIFT : s->jstart + s->jblocks;
}

u32 ssnap_group_bits(const struct ssnap_store *s, u64 group)
{
	u64 first = group << SSNAP_GROUP_SHIFT;

	return (u32)ssnap_min((u64)SSNAP_GROUP_BLOCKS, s->nr_blocks - first);
}

static int bitmap_get(struct ssnap_store *s, u64 group,
		      struct ssnap_block **b)
{
	int r = ssnap_bread(s, ssnap_bitmap_block(s, group), SSNAP_BT_BITMAP,
			    b);

	if (!r && le64_to_cpu(((struct ssnap_disk_bitmap *)(*b)->data)->group)
	    != group) {
		ssnap_err("bitmap block %llu belongs to another group",
			  (unsigned long long)(*b)->nr);
		ssnap_bput(s, *b);
		r = -EILSEQ;
	}
	return r;
}

static bool bm_test(const __le64 *bits, u32 i)
{
	return (le64_to_cpu(bits[i / 64]) >> (i % 64)) & 1;
}

int ssnap_block_used(struct ssnap_store *s, u64 nr, bool *used)
{
	struct ssnap_block *b;
	int r = bitmap_get(s, nr >> SSNAP_GROUP_SHIFT, &b);

	if (r)
		return r;
	*used = bm_test(ssnap_bm_bits(b->data), nr & (SSNAP_GROUP_BLOCKS - 1));
	ssnap_bput(s, b);
	return 0;
}

/* Set or clear len bits from block nr; they lie in one group. */
int ssnap_set_bits(struct ssnap_store *s, u64 nr, u32 len, bool used)
{
	struct ssnap_block *b;
	__le64 *bits;
	u32 i, first = nr & (SSNAP_GROUP_BLOCKS - 1);
	int r = bitmap_get(s, nr >> SSNAP_GROUP_SHIFT, &b);

	if (r)
		return r;
	bits = ssnap_bm_bits(b->data);
	for (i = first; i < first + len; i++) {
		u64 w = le64_to_cpu(bits[i / 64]);
		u64 m = 1ULL << (i % 64);

		if (!!(w & m) == used) {
			ssnap_err("block %llu is already %s",
				  (unsigned long long)(nr + i - first),
				  used ? "in use" : "free");
			ssnap_bput(s, b);
			return -EILSEQ;
		}
		bits[i / 64] = cpu_to_le64(used ? w | m : w & ~m);
	}
	ssnap_bdirty(s, b);
	ssnap_bput(s, b);
	return 0;
}

/* Index of the first quarantined block >= nr. */
static u32 quarantine_find(const struct ssnap_store *s, u64 nr)
{
	u32 lo = 0, hi = s->nr_quarantine;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (s->quarantine[mid] < nr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int quarantine_add(struct ssnap_store *s, u64 nr)
{
	u32 i = quarantine_find(s, nr);
	int r;

	if (i < s->nr_quarantine && s->quarantine[i] == nr)
		return 0;
	r = ssnap_grow_array((void **)&s->quarantine, &s->cap_quarantine,
			     s->nr_quarantine + 1, sizeof(*s->quarantine));
	if (r)
		return r;
	memmove(&s->quarantine[i + 1], &s->quarantine[i],
		(s->nr_quarantine - i) * sizeof(*s->quarantine));
	s->quarantine[i] = nr;
	s->nr_quarantine++;
	return 0;
}

/* Does a quarantined block lie in blocks nr .. nr + len - 1? */
static bool quarantined(const struct ssnap_store *s, u64 nr, u32 len)
{
	u32 i = quarantine_find(s, nr);

	return i < s->nr_quarantine && s->quarantine[i] < nr + len;
}

/* The journal is empty: nothing freed can come back. */
void ssnap_quarantine_clear(struct ssnap_store *s)
{
	s->nr_quarantine = 0;
}

static bool is_reserved(const struct ssnap_store *s, u64 chunk)
{
	u32 i;

	for (i = 0; i < s->nr_reserved; i++)
		if (s->reserved[i] == chunk)
			return true;
	return false;
}

static u64 chunk_of(const struct ssnap_store *s, u64 nr)
{
	return nr & ~((u64)s->chunk_blocks - 1);
}

int ssnap_alloc_meta(struct ssnap_store *s, u64 *nr)
{
	u64 g, start = s->meta_hint, tries;
	struct ssnap_block *b;
	int r;

	if (start >= s->nr_blocks)
		start = 0;
	g = start >> SSNAP_GROUP_SHIFT;
	for (tries = 0; tries <= s->nr_groups; tries++, g++) {
		u32 i, bits, from;
		__le64 *map;

		if (g >= s->nr_groups)
			g = 0;
		r = bitmap_get(s, g, &b);
		if (r)
			return r;
		map = ssnap_bm_bits(b->data);
		bits = ssnap_group_bits(s, g);
		from = tries ? 0 : (u32)(start & (SSNAP_GROUP_BLOCKS - 1));
		for (i = from; i < bits; i++) {
			u64 w = le64_to_cpu(map[i / 64]);
			u64 cand;

			if (!(i % 64) && w == ~0ULL) {
				i += 63;
				continue;
			}
			if ((w >> (i % 64)) & 1)
				continue;
			cand = (g << SSNAP_GROUP_SHIFT) + i;
			if (s->nr_reserved && is_reserved(s, chunk_of(s, cand)))
				continue;
			ssnap_bput(s, b);
			r = ssnap_set_bits(s, cand, 1, true);
			if (r)
				return r;
			s->meta_blocks++;
			s->meta_hint = cand + 1;
			ssnap_root_dirty(s);
			*nr = cand;
			return 0;
		}
		ssnap_bput(s, b);
	}
	return -ENOSPC;
}

static bool chunk_free(const __le64 *map, u32 i, u32 len)
{
	u32 w;

	if (len >= 64) {
		for (w = i / 64; w < (i + len) / 64; w++)
			if (map[w])
				return false;
		return true;
	}
	return !((le64_to_cpu(map[i / 64]) >> (i % 64)) &
		 ((1ULL << len) - 1));
}

u64 ssnap_used_blocks(const struct ssnap_store *s)
{
	return s->meta_blocks +
		((s->data_chunks + s->nr_reserved) << s->chunk_shift);
}

static int alloc_data_scan(struct ssnap_store *s, u64 *nr)
{
	u32 cb = s->chunk_blocks;
	u64 g, start, tries;
	struct ssnap_block *b;
	int r;

	start = chunk_of(s, s->data_hint);
	if (start >= s->nr_blocks)
		start = 0;
	g = start >> SSNAP_GROUP_SHIFT;
	for (tries = 0; tries <= s->nr_groups; tries++, g++) {
		u32 i, bits, from;
		__le64 *map;

		if (g >= s->nr_groups)
			g = 0;
		r = bitmap_get(s, g, &b);
		if (r)
			return r;
		map = ssnap_bm_bits(b->data);
		bits = ssnap_group_bits(s, g);
		from = tries ? 0 : (u32)(start & (SSNAP_GROUP_BLOCKS - 1));
		for (i = from; i + cb <= bits; i += cb) {
			u64 cand = (g << SSNAP_GROUP_SHIFT) + i;

			if (!chunk_free(map, i, cb))
				continue;
			if (s->nr_reserved && is_reserved(s, cand))
				continue;
			if (s->nr_quarantine && quarantined(s, cand, cb))
				continue;
			ssnap_bput(s, b);
			s->reserved[s->nr_reserved++] = cand;
			s->data_hint = cand + cb;
			*nr = cand;
			return 0;
		}
		ssnap_bput(s, b);
	}
	return -ENOSPC;
}

int ssnap_alloc_data(struct ssnap_store *s, u64 *nr)
{
	int r;

	if (ssnap_used_blocks(s) + s->chunk_blocks + SSNAP_META_RESERVE >
	    s->nr_blocks)
		return -ENOSPC;
	r = ssnap_grow_array((void **)&s->reserved, &s->cap_reserved,
			     s->nr_reserved + 1, sizeof(*s->reserved));
	if (r)
		return r;
	r = alloc_data_scan(s, nr);
	if (r == -ENOSPC && s->nr_quarantine) {
		/*
		 * Blocks in quarantine are free but for the journal: a
		 * checkpoint (every committed block is home already) lets
		 * them out.
		 */
		r = ssnap_checkpoint(s);
		if (!r)
			r = alloc_data_scan(s, nr);
	}
	return r;
}

void ssnap_unreserve(struct ssnap_store *s, u64 nr)
{
	u32 i;

	for (i = 0; i < s->nr_reserved; i++) {
		if (s->reserved[i] == nr) {
			s->reserved[i] = s->reserved[--s->nr_reserved];
			return;
		}
	}
}

/* A reserved chunk now holds a recorded copy. */
int ssnap_commit_data(struct ssnap_store *s, u64 nr)
{
	int r = ssnap_set_bits(s, nr, s->chunk_blocks, true);

	if (r)
		return r;
	ssnap_unreserve(s, nr);
	s->data_chunks++;
	ssnap_root_dirty(s);
	return 0;
}

static int queue_free(struct ssnap_store *s, u64 v)
{
	int r = ssnap_grow_array((void **)&s->pending, &s->cap_pending,
				 s->nr_pending + 1, sizeof(*s->pending));

	if (r)
		return r;
	s->pending[s->nr_pending++] = v;
	return 0;
}

int ssnap_free_meta(struct ssnap_store *s, u64 nr)
{
	return queue_free(s, nr);
}

int ssnap_free_data(struct ssnap_store *s, u64 nr)
{
	return queue_free(s, nr | PENDING_DATA);
}

int ssnap_apply_frees(struct ssnap_store *s, u32 *meta_freed)
{
	int r = 0;

	*meta_freed = 0;

	while (s->nr_pending && !r) {
		u64 v = s->pending[s->nr_pending - 1];
		u64 nr = v & ~PENDING_DATA;

		if (v & PENDING_DATA) {
			r = ssnap_set_bits(s, nr, s->chunk_blocks, false);
			if (!r)
				s->data_chunks--;
		} else {
			r = quarantine_add(s, nr);
			if (!r)
				r = ssnap_set_bits(s, nr, 1, false);
			if (!r) {
				s->meta_blocks--;
				(*meta_freed)++;
			}
		}
		if (!r)
			s->nr_pending--;
		ssnap_root_dirty(s);
	}
	return r;
}
