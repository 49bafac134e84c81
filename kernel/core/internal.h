/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the core's files share with each other and no one else.
 */
#ifndef SSNAP_INTERNAL_H
#define SSNAP_INTERNAL_H

#include "ssnap.h"

#define SSNAP_MAX_DEPTH		12
#define SSNAP_CACHE_DEFAULT	4096	/* blocks: 16 MiB */
#define SSNAP_META_RESERVE	64	/* blocks kept back from data */

static inline u64 ssnap_min(u64 a, u64 b)
{
	return a < b ? a : b;
}

static inline u64 ssnap_max(u64 a, u64 b)
{
	return a > b ? a : b;
}

/* The bitmap words of a bitmap block (a packed struct's member). */
static inline __le64 *ssnap_bm_bits(void *data)
{
	return (__le64 *)((u8 *)data +
			  offsetof(struct ssnap_disk_bitmap, bits));
}

/* ---- block cache (block.c) ---- */

struct ssnap_block {
	u64 nr;
	void *data;
	struct ssnap_block *hnext;		/* hash chain */
	struct ssnap_block *prev, *next;	/* LRU, most recent first */
	struct ssnap_block *dnext;		/* dirty list */
	u32 ref;
	u32 type;
	u32 jpos;		/* unhomed: journal offset of the last copy */
	bool dirty;
	bool unhomed;		/* committed, home copy older: never evict */
	bool sticky;		/* read-only replay: never evict */
	bool checked;		/* B-tree node: key order verified */
};

struct ssnap_cache {
	struct ssnap_block **hash;
	u32 hash_mask;
	u32 nr;			/* blocks cached */
	u32 max;		/* soft bound */
	u32 nr_dirty;
	u32 nr_unhomed;
	struct ssnap_block lru;			/* list head */
	struct ssnap_block *dirty;
};

/* ---- the store ---- */

struct ssnap_mem_snap {
	u32 id;
	u32 label;
	u32 flags;
	u32 priority;
	u64 ctime;
	u64 excl;		/* exclusive chunks (ssnap.h, section 3) */
	char name[SSNAP_NAME_LEN];
};

/* A change to a snapshot's exclusive chunks, by label. */
struct ssnap_excl_delta {
	u32 label;
	s64 delta;
};

struct ssnap_tree {
	u64 root;
	u32 depth;		/* 1: the root is a leaf */
	u16 id;
	u16 vsize;
};

struct ssnap_store {
	struct ssnap_dev *dev;
	struct ssnap_cache cache;
	struct ssnap_disk_sb sb;	/* the copy in force */
	u64 sb_generation;
	u32 sb_next_slot;
	u32 csum_seed;			/* crc32c of the store UUID */
	bool read_only;
	int failed;			/* first fatal errno, or 0 */
	bool root_dirty;

	/* geometry */
	u32 chunk_blocks;
	u32 chunk_shift;		/* log2(chunk_blocks) */
	u64 nr_blocks;			/* usable blocks */
	u64 nr_groups;
	u64 jstart;
	u32 jblocks;
	u32 jhead;			/* next free journal offset */
	u32 tx_soft;			/* commit before an op beyond this */
	u64 trans;			/* last committed transaction */

	/* root block state */
	struct ssnap_tree exc;
	struct ssnap_tree snaps;
	u64 data_chunks;
	u64 meta_blocks;
	u32 last_seq;
	u32 gc_pass;
	u64 gc_chunk;
	u32 gc_lo;
	u64 meta_hint;
	u64 data_hint;

	/* snapshots: live ones by id, their labels sorted, deleting ones */
	struct ssnap_mem_snap *live;
	u32 nr_live, cap_live;
	u32 live_gen;			/* changes whenever live does */
	u32 *labels;
	u32 *lidx;			/* labels[i] is live[lidx[i]] */
	u32 cap_labels, cap_lidx;
	struct ssnap_mem_snap *dead;
	u32 nr_dead, cap_dead;

	/* allocator */
	u64 *reserved;			/* chunks planned, not committed */
	u32 nr_reserved, cap_reserved;
	u64 *pending;			/* frees applied at commit */
	u32 nr_pending, cap_pending;
	u64 *quarantine;		/* metadata freed since the checkpoint */
	u32 nr_quarantine, cap_quarantine;	/* (sorted) */

	/* chunks whose exceptions changed since the last commit */
	u64 *touched;
	u32 nr_touched, cap_touched;
	bool deleted;			/* a snapshot deleted since then */

	/* the exceptions of one chunk, for the operations that need all */
	struct ssnap_exc *cx;
	u32 nr_cx, cap_cx;

	/* exclusive-chunk changes of the operation under way */
	struct ssnap_excl_delta *xd;
	u32 nr_xd, cap_xd;
};

/* block.c */
int ssnap_cache_init(struct ssnap_cache *c, u32 max);
void ssnap_cache_exit(struct ssnap_cache *c);
u32 ssnap_block_csum(u32 seed, const void *data, u32 type);
void ssnap_block_seal(u32 seed, void *data, u32 type, u64 nr, u64 seq);
int ssnap_block_verify(u32 seed, const void *data, u32 type, u64 nr);
u32 ssnap_csum_seed(const u8 *uuid);
int ssnap_bread(struct ssnap_store *s, u64 nr, u32 type,
		struct ssnap_block **out);
int ssnap_bnew(struct ssnap_store *s, u64 nr, u32 type,
	       struct ssnap_block **out);
void ssnap_bput(struct ssnap_store *s, struct ssnap_block *b);
void ssnap_bdirty(struct ssnap_store *s, struct ssnap_block *b);
void ssnap_bforget(struct ssnap_store *s, struct ssnap_block *b);
struct ssnap_block *ssnap_cache_insert(struct ssnap_store *s, u64 nr,
				       const void *data, u32 type);
void ssnap_fail(struct ssnap_store *s, int err);

/* journal.c */
int ssnap_sb_verify(const struct ssnap_disk_sb *sb, u64 slot);
int ssnap_sb_load(struct ssnap_dev *dev, struct ssnap_disk_sb *sb);
int ssnap_sb_write(struct ssnap_store *s, u32 set, u32 clear);
int ssnap_journal_replay(struct ssnap_store *s);
int ssnap_checkpoint(struct ssnap_store *s);
int ssnap_checkpoint_sb(struct ssnap_store *s, u32 set, u32 clear);
int ssnap_maybe_commit(struct ssnap_store *s);

/* alloc.c */
u64 ssnap_bitmap_block(const struct ssnap_store *s, u64 group);
int ssnap_block_used(struct ssnap_store *s, u64 nr, bool *used);
int ssnap_alloc_meta(struct ssnap_store *s, u64 *nr);
int ssnap_alloc_data(struct ssnap_store *s, u64 *nr);
int ssnap_commit_data(struct ssnap_store *s, u64 nr);
void ssnap_unreserve(struct ssnap_store *s, u64 nr);
int ssnap_free_meta(struct ssnap_store *s, u64 nr);
int ssnap_free_data(struct ssnap_store *s, u64 nr);
int ssnap_grow_array(void **arr, u32 *cap, u32 need, size_t size);
int ssnap_apply_frees(struct ssnap_store *s, u32 *meta_freed);
void ssnap_quarantine_clear(struct ssnap_store *s);
int ssnap_set_bits(struct ssnap_store *s, u64 nr, u32 len, bool used);
u32 ssnap_group_bits(const struct ssnap_store *s, u64 group);
u64 ssnap_used_blocks(const struct ssnap_store *s);

/* btree.c */
struct ssnap_key {
	u64 a;
	u32 b;
};

static inline int ssnap_key_cmp(const struct ssnap_key *x,
				const struct ssnap_key *y)
{
	if (x->a != y->a)
		return x->a < y->a ? -1 : 1;
	if (x->b != y->b)
		return x->b < y->b ? -1 : 1;
	return 0;
}

int ssnap_btree_create(struct ssnap_store *s, struct ssnap_tree *t);
int ssnap_btree_le(struct ssnap_store *s, struct ssnap_tree *t,
		   const struct ssnap_key *key, struct ssnap_key *found,
		   void *val);
int ssnap_btree_ge(struct ssnap_store *s, struct ssnap_tree *t,
		   const struct ssnap_key *key, struct ssnap_key *found,
		   void *val);
int ssnap_btree_insert(struct ssnap_store *s, struct ssnap_tree *t,
		       const struct ssnap_key *key, const void *val);
int ssnap_btree_update(struct ssnap_store *s, struct ssnap_tree *t,
		       const struct ssnap_key *key, const void *val);
int ssnap_btree_remove(struct ssnap_store *s, struct ssnap_tree *t,
		       const struct ssnap_key *key);
u32 ssnap_node_cap(u32 level, u32 vsize);

/* For ssnap_check: every node and entry of a tree, in key order. */
struct ssnap_btree_walker {
	/* A tree block; non-zero if it must not be followed. */
	int (*block)(struct ssnap_btree_walker *w, u64 nr, u32 level);
	void (*problem)(struct ssnap_btree_walker *w, u64 nr,
			const char *what);
	int (*entry)(struct ssnap_btree_walker *w, const struct ssnap_key *k,
		     const void *val);
};

int ssnap_btree_walk(struct ssnap_store *s, struct ssnap_tree *t,
		     struct ssnap_btree_walker *w);

static inline struct ssnap_disk_key *ssnap_node_keys(void *node)
{
	return (struct ssnap_disk_key *)((u8 *)node +
					 sizeof(struct ssnap_disk_node));
}

static inline void *ssnap_node_vals(void *node, u32 cap)
{
	return (u8 *)node + sizeof(struct ssnap_disk_node) +
		cap * sizeof(struct ssnap_disk_key);
}

static inline void ssnap_key_get(const struct ssnap_disk_key *d,
				 struct ssnap_key *k)
{
	k->a = le64_to_cpu(d->a);
	k->b = le32_to_cpu(d->b);
}

static inline void ssnap_key_put(struct ssnap_disk_key *d,
				 const struct ssnap_key *k)
{
	d->a = cpu_to_le64(k->a);
	d->b = cpu_to_le32(k->b);
}

/* An exception in memory. */
struct ssnap_exc {
	u64 chunk;
	u32 lo, hi;
	u64 cow;
};

/* store.c */
bool ssnap_live_in_range(const struct ssnap_store *s, u32 lo, u32 hi);
void ssnap_untouch_all(struct ssnap_store *s);
u32 ssnap_live_count(const struct ssnap_store *s, u32 lo, u32 hi);
void ssnap_root_dirty(struct ssnap_store *s);
int ssnap_root_flush(struct ssnap_store *s);
int ssnap_open_store(struct ssnap_dev *dev, const struct ssnap_open_params *p,
		     struct ssnap_store **out);
void ssnap_store_free(struct ssnap_store *s);
/*
 * For ssnap_check: count every snapshot's exclusive chunks afresh and
 * call bad() for each record that says otherwise.  0 or an errno.
 */
int ssnap_excl_verify(struct ssnap_store *s,
		      void (*bad)(void *ctx, const struct ssnap_snap_info *info,
				  u64 counted),
		      void *ctx);
/* For repairs: set the exclusive chunks of the snapshot labelled so. */
int ssnap_excl_set(struct ssnap_store *s, u32 label, u64 exclusive);

#endif /* SSNAP_INTERNAL_H */
