// SPDX-License-Identifier: GPL-2.0
/*
 * Metadata blocks: checksums and the block cache.
 *
 * The cache keeps at most `max` blocks when it can; blocks that are
 * dirty (changed since the last commit), unhomed (committed to the
 * journal, not yet written home: at most the journal's size) or held by
 * a caller cannot be evicted, so it may exceed that bound.
 */
#include "internal.h"

const char *ssnap_block_type_name(u32 type)
{
	switch (type) {
	case SSNAP_BT_SUPER:
		return "superblock";
	case SSNAP_BT_ROOT:
		return "root";
	case SSNAP_BT_NODE:
		return "btree node";
	case SSNAP_BT_LEAF:
		return "btree leaf";
	case SSNAP_BT_BITMAP:
		return "bitmap";
	case SSNAP_BT_COMMIT:
		return "journal commit";
	}
	return "unknown";
}

/*
 * Checksums are seeded with the store's UUID, so a block left on the
 * device by an earlier store never validates in a new one.
 */
u32 ssnap_csum_seed(const u8 *uuid)
{
	return ssnap_crc32c(~0U, uuid, 16);
}

u32 ssnap_block_csum(u32 seed, const void *data, u32 type)
{
	return ssnap_crc32c(seed, (const u8 *)data + 4, SSNAP_BLOCK_SIZE - 4) ^
		type;
}

void ssnap_block_seal(u32 seed, void *data, u32 type, u64 nr, u64 seq)
{
	struct ssnap_disk_hdr *h = data;

	h->type = cpu_to_le32(type);
	h->blocknr = cpu_to_le64(nr);
	h->seq = cpu_to_le64(seq);
	h->csum = cpu_to_le32(ssnap_block_csum(seed, data, type));
}

/*
 * A B-tree block is either a node or a leaf: pass SSNAP_BT_NODE to
 * accept both.
 */
int ssnap_block_verify(u32 seed, const void *data, u32 type, u64 nr)
{
	const struct ssnap_disk_hdr *h = data;
	u32 t = le32_to_cpu(h->type);

	if (type == SSNAP_BT_NODE && t == SSNAP_BT_LEAF)
		type = SSNAP_BT_LEAF;
	if (t != type)
		return -EILSEQ;
	if (le32_to_cpu(h->csum) != ssnap_block_csum(seed, data, type))
		return -EILSEQ;
	if (le64_to_cpu(h->blocknr) != nr)
		return -EILSEQ;
	return 0;
}

void ssnap_fail(struct ssnap_store *s, int err)
{
	if (!s->failed) {
		s->failed = err;
		ssnap_err("store failed (error %d): no more changes accepted",
			  err);
	}
}

int ssnap_cache_init(struct ssnap_cache *c, u32 max)
{
	u32 size = 64;

	while (size < max && size < (1U << 20))
		size <<= 1;
	memset(c, 0, sizeof(*c));
	c->hash = ssnap_alloc_array(size, sizeof(*c->hash));
	if (!c->hash)
		return -ENOMEM;
	memset(c->hash, 0, size * sizeof(*c->hash));
	c->hash_mask = size - 1;
	c->max = max;
	c->lru.next = &c->lru;
	c->lru.prev = &c->lru;
	return 0;
}

static u32 bc_hash(const struct ssnap_cache *c, u64 nr)
{
	return (u32)((nr * 0x9e3779b97f4a7c15ULL) >> 32) & c->hash_mask;
}

static void bc_lru_del(struct ssnap_block *b)
{
	b->prev->next = b->next;
	b->next->prev = b->prev;
}

static void bc_lru_add(struct ssnap_cache *c, struct ssnap_block *b)
{
	b->next = c->lru.next;
	b->prev = &c->lru;
	c->lru.next->prev = b;
	c->lru.next = b;
}

static void bc_block_free(struct ssnap_block *b)
{
	ssnap_free(b->data);
	ssnap_free(b);
}

static void bc_hash_del(struct ssnap_cache *c, struct ssnap_block *b)
{
	struct ssnap_block **p = &c->hash[bc_hash(c, b->nr)];

	while (*p != b)
		p = &(*p)->hnext;
	*p = b->hnext;
}

void ssnap_cache_exit(struct ssnap_cache *c)
{
	struct ssnap_block *b, *n;

	if (!c->hash)
		return;
	for (b = c->lru.next; b != &c->lru; b = n) {
		n = b->next;
		bc_block_free(b);
	}
	ssnap_free_array(c->hash);
	c->hash = NULL;
}

static struct ssnap_block *bc_find(struct ssnap_cache *c, u64 nr)
{
	struct ssnap_block *b;

	for (b = c->hash[bc_hash(c, nr)]; b; b = b->hnext)
		if (b->nr == nr)
			return b;
	return NULL;
}

static void bc_shrink(struct ssnap_cache *c)
{
	struct ssnap_block *b, *p;

	for (b = c->lru.prev; c->nr >= c->max && b != &c->lru; b = p) {
		p = b->prev;
		if (b->ref || b->dirty || b->unhomed || b->sticky)
			continue;
		bc_lru_del(b);
		bc_hash_del(c, b);
		c->nr--;
		bc_block_free(b);
	}
}

static struct ssnap_block *bc_add(struct ssnap_cache *c, u64 nr)
{
	struct ssnap_block *b;
	u32 h;

	if (c->nr >= c->max)
		bc_shrink(c);
	b = ssnap_zalloc(sizeof(*b));
	if (!b)
		return NULL;
	b->data = ssnap_alloc(SSNAP_BLOCK_SIZE);
	if (!b->data) {
		ssnap_free(b);
		return NULL;
	}
	b->nr = nr;
	h = bc_hash(c, nr);
	b->hnext = c->hash[h];
	c->hash[h] = b;
	bc_lru_add(c, b);
	c->nr++;
	return b;
}

static void bc_drop(struct ssnap_cache *c, struct ssnap_block *b)
{
	bc_lru_del(b);
	bc_hash_del(c, b);
	c->nr--;
	bc_block_free(b);
}

int ssnap_bread(struct ssnap_store *s, u64 nr, u32 type,
		struct ssnap_block **out)
{
	struct ssnap_cache *c = &s->cache;
	struct ssnap_block *b;
	int r;

	if (nr >= s->nr_blocks) {
		ssnap_err("metadata block %llu (%s) is beyond the device",
			  (unsigned long long)nr, ssnap_block_type_name(type));
		return -EILSEQ;
	}
	b = bc_find(c, nr);
	if (b) {
		if (b->type != type &&
		    !(type == SSNAP_BT_NODE && b->type == SSNAP_BT_LEAF)) {
			ssnap_err("metadata block %llu: expected %s, found %s",
				  (unsigned long long)nr,
				  ssnap_block_type_name(type),
				  ssnap_block_type_name(b->type));
			return -EILSEQ;
		}
		bc_lru_del(b);
		bc_lru_add(c, b);
		b->ref++;
		*out = b;
		return 0;
	}
	b = bc_add(c, nr);
	if (!b)
		return -ENOMEM;
	r = s->dev->ops->read(s->dev, nr, b->data);
	if (r) {
		bc_drop(c, b);
		ssnap_err("metadata block %llu (%s): read error %d",
			  (unsigned long long)nr, ssnap_block_type_name(type), r);
		return r;
	}
	r = ssnap_block_verify(s->csum_seed, b->data, type, nr);
	if (r) {
		ssnap_err("metadata block %llu (%s): bad checksum or header",
			  (unsigned long long)nr, ssnap_block_type_name(type));
		bc_drop(c, b);
		return r;
	}
	b->type = le32_to_cpu(((struct ssnap_disk_hdr *)b->data)->type);
	b->ref = 1;
	*out = b;
	return 0;
}

int ssnap_bnew(struct ssnap_store *s, u64 nr, u32 type,
	       struct ssnap_block **out)
{
	struct ssnap_cache *c = &s->cache;
	struct ssnap_block *b = bc_find(c, nr);

	if (b) {
		/* A block freed and reused in one transaction. */
		if (b->ref) {
			ssnap_err("metadata block %llu reused while in use",
				  (unsigned long long)nr);
			return -EILSEQ;
		}
		bc_lru_del(b);
		bc_lru_add(c, b);
	} else {
		b = bc_add(c, nr);
		if (!b)
			return -ENOMEM;
	}
	memset(b->data, 0, SSNAP_BLOCK_SIZE);
	b->type = type;
	b->checked = true;
	((struct ssnap_disk_hdr *)b->data)->type = cpu_to_le32(type);
	((struct ssnap_disk_hdr *)b->data)->blocknr = cpu_to_le64(nr);
	b->ref = 1;
	ssnap_bdirty(s, b);
	*out = b;
	return 0;
}

struct ssnap_block *ssnap_cache_insert(struct ssnap_store *s, u64 nr,
				       const void *data, u32 type)
{
	struct ssnap_block *b = bc_find(&s->cache, nr);

	if (!b) {
		b = bc_add(&s->cache, nr);
		if (!b)
			return NULL;
	}
	memcpy(b->data, data, SSNAP_BLOCK_SIZE);
	b->type = type;
	b->checked = false;
	return b;
}

void ssnap_bput(struct ssnap_store *s, struct ssnap_block *b)
{
	if (b)
		b->ref--;
}

void ssnap_bdirty(struct ssnap_store *s, struct ssnap_block *b)
{
	struct ssnap_cache *c = &s->cache;

	if (b->dirty)
		return;
	b->dirty = true;
	b->dnext = c->dirty;
	c->dirty = b;
	c->nr_dirty++;
}

/*
 * A freed metadata block leaves the cache: its changes since the last
 * commit are never journaled, and it is not written home at the next
 * checkpoint (ssnap_commit).
 */
void ssnap_bforget(struct ssnap_store *s, struct ssnap_block *b)
{
	struct ssnap_cache *c = &s->cache;
	struct ssnap_block **p;

	if (b->dirty) {
		for (p = &c->dirty; *p != b; p = &(*p)->dnext)
			;
		*p = b->dnext;
		b->dnext = NULL;
		b->dirty = false;
		c->nr_dirty--;
	}
	if (b->unhomed) {
		b->unhomed = false;
		c->nr_unhomed--;
	}
	if (!b->ref)
		bc_drop(c, b);
}
