/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ssnap: the shared exception store.  The engine's interface, and the
 * design note for the on-disk format.
 *
 * This core is one set of C files compiled into the kernel module
 * (kernel/Kbuild) and into userspace (tools/, tests/unit/).  Each side
 * supplies ssnap_priv.h: integer and endian types, memory, crc32c,
 * logging.  Block I/O comes through struct ssnap_dev below.  The core
 * does no locking: its caller serialises every call on one store.
 *
 * ==================================================================
 * 1. What is stored
 * ==================================================================
 *
 * One COW device holds, for one origin device, the old contents of every
 * origin chunk that some snapshot still needs, once, however many
 * snapshots need it.  Snapshots are writable; a snapshot write that must
 * not be seen by the others gets a copy of its own.
 *
 * ==================================================================
 * 2. Labelling copies: ranges of creation labels
 * ==================================================================
 *
 * The 2008 design and Zumastor mark every copy with a 64-bit mask of the
 * snapshots sharing it, which caps a store at 64 snapshots and makes a
 * leaf entry grow with the snapshot count.  ssnap instead gives every
 * snapshot a *label*: a 32-bit number handed out in creation order
 * (1, 2, 3, ...; never reused, so ids the user reuses get new labels).
 * An exception says:
 *
 *     chunk C, as seen by the snapshots labelled lo..hi, is at COW block X
 *
 * This is the snapshot-id-range idea of dm-multisnap and Phillips'
 * versioned pointers, specialised to snapshots of one origin.  It works
 * because an origin write makes one copy that serves exactly a range of
 * labels: every snapshot taken since the chunk was last copied.  For a
 * chunk C let hi_max(C) be the highest `hi` of its exceptions (0 if none).
 * The store keeps these invariants:
 *
 *   I1  the ranges of one chunk are disjoint;
 *   I2  every live snapshot whose label is <= hi_max(C) lies in a range
 *       of C; every live snapshot above hi_max(C) still reads C from the
 *       origin ("shares it with the origin").
 *
 * So:
 *   - reading C from snapshot s: the greatest key <= (C, s); if it
 *     belongs to C and its hi >= s, read its COW block, else the origin.
 *     One B-tree descent.
 *   - an origin write to C needs a copy iff the newest live label is
 *     above hi_max(C): one descent, no scan of the snapshot list.  The
 *     copy gets the range hi_max(C)+1 .. last label given.  One copy,
 *     whatever the number of snapshots.
 *   - a snapshot write to s: if s's range has no other live snapshot, the
 *     write goes in place.  Otherwise the range is split around s:
 *     lo..s-1 and s+1..hi keep the shared copy, s..s gets a new one.
 *     If s still shared the origin with other snapshots, one read of the
 *     origin feeds two writes (the shared copy and s's own), so I2 holds.
 *   - deleting a snapshot only takes its label out of the live set; a
 *     background pass drops each exception whose range holds no live
 *     label any more and frees its block.  "Does lo..hi hold a live label"
 *     is a binary search in the sorted in-memory array of live labels.
 *
 * An exception is 24 bytes with its key (12-byte key, 4-byte hi, 8-byte
 * block), 169 to a 4 KiB leaf: 24.2 bytes per copied chunk in a full
 * leaf, whatever the snapshot count.  Labels are 32 bits: 2^32 - 2
 * snapshot creations over a store's life, any number of them live.
 *
 * ==================================================================
 * 3. Layout
 * ==================================================================
 *
 * Everything is in 4 KiB blocks; a data chunk is chunk_size / 4 KiB
 * blocks aligned on its own size.
 *
 *   blocks 0, 1      superblock, two copies (first sector of each)
 *   block 2          root block: tree roots, counters, reclaim cursor
 *   blocks 3..J+2    journal (J blocks, default 1024 = 4 MiB)
 *   block J+3        bitmap of group 0
 *   ...              metadata blocks and data chunks, mixed
 *   block G          bitmap of group 1 (G = 16384 blocks = 64 MiB)
 *   ...
 *   block g*G        bitmap of group g
 *
 *   +----+----+----+-------------+----+-----------------+----+-------
 *   | SB | SB |root| journal     |bmp0| meta + data ... |bmp1| ...
 *   +----+----+----+-------------+----+-----------------+----+-------
 *   0    1    2    3             J+3                    G
 *
 * One bit per 4 KiB block marks it used, for metadata and data alike, so
 * the store needs no fixed split between the two.  Bitmaps sit at fixed
 * places, so growing the COW device adds groups and moves nothing.
 *
 * Metadata blocks (all but the superblock) start with a header: crc32c
 * of the rest of the block XORed with a per-type salt, the type, the
 * block's own number and the transaction that wrote it.  A block that
 * fails any of these is reported with -EILSEQ, its number and expected
 * type, and never followed.
 *
 * Two B-trees, one implementation (btree.c): the exception tree keyed by
 * (origin chunk, lo) and the snapshot tree keyed by (label, 0) holding a
 * 104-byte record per snapshot: user id, name, creation time, priority,
 * flags, exclusive chunks.  Keys and values sit in two arrays in each
 * node so a search touches only keys.
 *
 * A snapshot's exclusive chunks are the COW blocks it alone reads: what
 * deleting it gives back.  Every change to a chunk's exceptions counts
 * that chunk's exclusive blocks before and after and moves the
 * difference into the snapshot records, in the same transaction.  The
 * readers of a block are counted among the labels the chunk still keeps:
 * the live snapshots, and deleted ones until the reclaim pass has
 * dropped their ranges of that chunk.  So deleting a snapshot changes no
 * count at once; the pass moves each chunk's counts as it visits it,
 * and when it ends every count is again exact for the live snapshots.
 *
 * ==================================================================
 * 4. Commits: a redo journal
 * ==================================================================
 *
 * Metadata is updated in place in a block cache.  A commit writes every
 * block changed since the last commit to the journal, all at once: a
 * commit record (transaction id, each block's home and checksum) with
 * REQ_PREFLUSH, and the blocks themselves; then one flush.  The preflush
 * makes the data the transaction points to (chunk copies, which went to
 * the device without FUA before the commit began) durable before the
 * record can be.  The transaction is durable when the flush returns.
 * The blocks stay in the cache, marked unhomed: they are not written
 * home yet and cannot be evicted.  When the journal has no room left for
 * the next transaction (or on close, or when the allocator needs a
 * quarantined block back), a checkpoint writes every unhomed block home,
 * flushes, and rewrites the superblock with the journal empty.  So a
 * block that every transaction changes (the root block, a bitmap, a busy
 * leaf) is written home once per checkpoint instead of once per commit.
 * A checkpoint inside a transaction writes a changed block's committed
 * copy, read back from the journal, never the changes under way.
 *
 * On open, the journal is replayed from the superblock's tail: each
 * record with the next transaction id whose blocks all carry the
 * checksums it lists is written home; the first that does not ends the
 * replay.  A torn or lost write after the last flush therefore drops
 * exactly the transaction that was never acknowledged.  The superblock
 * has two copies, in blocks 0 and 1, written alternately with a
 * generation number, so a torn superblock write leaves the other one.
 *
 * Why a journal and not copy-on-write metadata (dm-thin's transaction
 * manager)?  Copy-on-write metadata needs reference-counted space maps
 * that are themselves copy-on-write, the most intricate part of
 * persistent-data.  A journal keeps one copy of each structure, one
 * allocator (a bitmap), and makes the commit point one flushed write of
 * a self-checking record, which a power-cut test can aim at exactly.  It
 * costs a second write of each changed metadata block, once per
 * checkpoint, which is small beside the chunk copies it protects.
 *
 * Four rules keep data and metadata in step:
 *   - a chunk freed in a transaction is not reused until the transaction
 *     has committed (frees are applied to the bitmap at commit);
 *   - a metadata block freed since the last checkpoint is not reused for
 *     data until the next one (it is in quarantine, in memory): the
 *     journal may still hold a copy of it, which a replay would write
 *     over the chunk;
 *   - a metadata block freed by a transaction is left out of that
 *     transaction's journal record and out of the cache: if a checkpoint
 *     at the start of the commit emptied the journal, the quarantine no
 *     longer holds it, and a replay of the record would write it over a
 *     later chunk;
 *   - a chunk allocated for a copy is only reserved in memory until the
 *     copy has been recorded (ssnap_commit_plan), so a crash never leaks
 *     it and never exposes a half-written copy.
 *
 * Reclaiming a deleted snapshot's space is a pass over the exception
 * tree from a cursor kept in the root block; each step commits its
 * progress with the frees it made, so a crash resumes the pass.  A
 * snapshot deleted while a pass runs waits for the next pass (flag
 * IN_PASS tells which snapshots a pass covers).
 */
#ifndef SSNAP_H
#define SSNAP_H

#include "ssnap_priv.h"
#include "ssnap_format.h"

/* ------------------------------------------------------------------ */
/* Block I/O, supplied by the caller.                                  */

#define SSNAP_IO_FUA		BIT(0)	/* durable when it completes */
#define SSNAP_IO_PREFLUSH	BIT(1)	/* earlier writes durable first */

struct ssnap_dev;

struct ssnap_dev_ops {
	/* One SSNAP_BLOCK_SIZE block; 0 or a negative errno. */
	int (*read)(struct ssnap_dev *dev, u64 blocknr, void *buf);
	int (*write)(struct ssnap_dev *dev, u64 blocknr, const void *buf,
		     unsigned int flags);
	int (*flush)(struct ssnap_dev *dev);
	/*
	 * Optional: write n blocks, block i from bufs[i] to blocknr[i] with
	 * SSNAP_IO_* flags[i] (flags NULL: none), all at once, in no order,
	 * and wait for every one.  0 or an errno (some may have been
	 * written).  Without it, n calls of write().
	 */
	int (*write_batch)(struct ssnap_dev *dev, const u64 *blocknr,
			   void *const *bufs, const unsigned int *flags,
			   u32 n);
};

struct ssnap_dev {
	const struct ssnap_dev_ops *ops;
	void *priv;
	u64 nr_blocks;		/* size of the COW device in blocks */
};

/* ------------------------------------------------------------------ */
/* Format, open, close, commit.                                        */

struct ssnap_format_params {
	u32 chunk_sectors;
	u64 origin_sectors;
	u8 uuid[16];
	u32 journal_blocks;	/* 0: SSNAP_JOURNAL_DEFAULT (or less if small) */
	u64 now;		/* seconds since the epoch */
	const char *name;	/* may be NULL */
	const char *origin_ident; /* may be NULL */
};

/* Smallest COW device, in sectors, for a chunk size. */
u64 ssnap_min_cow_sectors(u32 chunk_sectors);

int ssnap_format(struct ssnap_dev *dev, const struct ssnap_format_params *p);

struct ssnap_open_params {
	u32 cache_blocks;	/* metadata cache bound; 0: default (4096) */
	bool read_only;		/* replay in memory only, write nothing */
	bool repair;		/* a store marked failed opens for repair */
};

struct ssnap_store;

/*
 * Validate the superblock, replay the journal, load the root block and
 * the snapshot table.  *out is set on success.  -EILSEQ: a checksum or
 * structure error; -EOPNOTSUPP: unknown incompat features; -EINVAL: not
 * an ssnap store.
 */
int ssnap_open(struct ssnap_dev *dev, const struct ssnap_open_params *p,
	       struct ssnap_store **out);
/* Commit (unless failed or read-only), mark clean, free everything. */
int ssnap_close(struct ssnap_store *s);
/* Make every change so far durable. */
int ssnap_commit(struct ssnap_store *s);
/* Changes waiting for a commit. */
bool ssnap_dirty(struct ssnap_store *s);
/*
 * Non-zero once an I/O or checksum error has stopped the store, or when
 * it was opened marked failed.
 */
int ssnap_failed(struct ssnap_store *s);
/*
 * Mark the store failed on disk (SSNAP_SB_FAILED): the origin has taken
 * writes without copies, so no snapshot can be trusted, now or after a
 * reopen.  Best effort, for a store that may be failing: 0 or an errno.
 */
int ssnap_mark_failed(struct ssnap_store *s);
/*
 * The same for a store whose metadata was found damaged (a checksum or
 * structure error): also marked needs_check, for ssnap_check().
 */
int ssnap_mark_damaged(struct ssnap_store *s);

/*
 * Grow the store to nr_blocks blocks of its device (which must have
 * them: dev->nr_blocks is updated first).  Shrinking is refused
 * (-EINVAL).  Crash safe; 0 or an errno.
 */
int ssnap_grow(struct ssnap_store *s, u64 nr_blocks);

/* Read the superblock only (for tools and the kernel's pre-checks). */
int ssnap_read_super(struct ssnap_dev *dev, struct ssnap_disk_sb *sb);

/* ------------------------------------------------------------------ */
/* Snapshots.                                                          */

struct ssnap_snap_info {
	u32 id;
	u32 label;
	u32 flags;
	u32 priority;
	u64 ctime;
	u64 exclusive;		/* data chunks it alone reads (section 3) */
	char name[SSNAP_NAME_LEN];
};

int ssnap_snapshot_create(struct ssnap_store *s, u32 id, const char *name,
			  u32 priority, u64 now);
/* The snapshot vanishes now; its space comes back through ssnap_gc(). */
int ssnap_snapshot_delete(struct ssnap_store *s, u32 id);
int ssnap_snapshot_set_name(struct ssnap_store *s, u32 id, const char *name);
int ssnap_snapshot_set_priority(struct ssnap_store *s, u32 id, u32 prio);
int ssnap_snapshot_set_flags(struct ssnap_store *s, u32 id, u32 set,
			     u32 clear);
/* Live snapshots in ascending id order: index 0 .. ssnap_nr_snapshots-1. */
u32 ssnap_nr_snapshots(struct ssnap_store *s);
int ssnap_snapshot_get(struct ssnap_store *s, u32 index,
		       struct ssnap_snap_info *info);
int ssnap_snapshot_find(struct ssnap_store *s, u32 id,
			struct ssnap_snap_info *info);

/* ------------------------------------------------------------------ */
/* The data path.                                                      */

#define SSNAP_ORIGIN	0U	/* the label of the origin itself */

enum ssnap_map {
	SSNAP_MAP_ORIGIN,	/* read the origin chunk */
	SSNAP_MAP_COW,		/* read COW block *cow */
	SSNAP_MAP_ZERO,		/* reads as zeroes */
};

/* Where label `label` (a snapshot, or SSNAP_ORIGIN) reads `chunk`. */
int ssnap_lookup(struct ssnap_store *s, u32 label, u64 chunk, u64 *cow);

/*
 * A write plan.  ssnap_plan_write() says what a write to `chunk` of
 * `label` (a snapshot or SSNAP_ORIGIN) needs:
 *
 *   copy == false: nothing to copy.  An origin write goes to the origin;
 *                  a snapshot write goes to COW block `own`.
 *   copy == true:  read `src` (SSNAP_SRC_ORIGIN, a COW block, or
 *                  SSNAP_SRC_ZERO meaning a chunk of zeroes) once and
 *                  write it to `shared` (if not 0) and to `own` (if not 0
 *                  and the write does not cover the whole chunk); then
 *                  ssnap_commit_plan(), then let the write go: to the
 *                  origin (origin write) or to `own` (snapshot write).
 *
 * Between plan and commit_plan or abort_plan the caller must not plan
 * another write to the same chunk, nor create or delete snapshots.
 * After commit_plan, the write must wait for the next ssnap_commit():
 * until then a crash would bring back exceptions that do not know of
 * the copy.  A plan with copy == false is always safe to act on at
 * once: ssnap_plan_write() commits first when the chunk has changes
 * that are not yet committed.
 */
#define SSNAP_SRC_ORIGIN	(~0ULL)
#define SSNAP_SRC_ZERO		(~1ULL)

struct ssnap_plan {
	u64 chunk;
	u32 label;
	bool copy;
	u64 src;
	u64 shared;		/* new copy shared by other snapshots */
	u64 own;		/* the written snapshot's own block */
	/* private to the engine */
	u32 lo, hi, split_lo, split_hi;
	u64 old_cow;
	u8 kind;
};

int ssnap_plan_write(struct ssnap_store *s, u32 label, u64 chunk,
		     struct ssnap_plan *p);
int ssnap_commit_plan(struct ssnap_store *s, struct ssnap_plan *p);
void ssnap_abort_plan(struct ssnap_store *s, struct ssnap_plan *p);
/*
 * The copy an origin write's plan asked for could not be made (an I/O
 * error): the snapshots it was for lose the chunk once the write goes
 * on.  Marks each of them invalid (SSNAP_SNAP_INVALID: their data can
 * no longer be trusted) and calls fn(ctx, id) for it, then gives back
 * the plan's reservations.  The caller commits before it lets the write
 * go, so that no crash brings back a valid-looking snapshot without its
 * data.  0 or an errno.
 */
int ssnap_plan_invalidate(struct ssnap_store *s, struct ssnap_plan *p,
			  void (*fn)(void *ctx, u32 id), void *ctx);

/*
 * Drop `label`'s own copy of `chunk` (a discard on a snapshot): the chunk
 * then reads as zeroes for that snapshot.  0 if there was nothing to do.
 */
int ssnap_discard(struct ssnap_store *s, u32 label, u64 chunk);

/* Label of a live snapshot id, or -ENOENT. */
int ssnap_label_of(struct ssnap_store *s, u32 id, u32 *label);

/* ------------------------------------------------------------------ */
/* Reclaim, usage, differences, checking.                              */

/*
 * Do up to `budget` steps of space reclaim for deleted snapshots, then
 * commit.  Returns 1 if more work remains, 0 when none, or an errno.
 */
int ssnap_gc(struct ssnap_store *s, u32 budget);

struct ssnap_usage {
	u64 total_blocks;	/* blocks the store may use */
	u64 chunk_blocks;	/* blocks per chunk */
	u64 data_chunks;	/* chunks holding copies */
	u64 meta_blocks;	/* metadata, journal and bitmaps included */
	u64 free_chunks;	/* whole chunks still free */
	u32 nr_snapshots;
	u32 nr_deleting;	/* deleted, space not yet back */
	u32 last_label;
	u64 transaction;	/* last committed transaction id */
	u32 sb_flags;		/* SSNAP_SB_* */
	u32 gc_pass;		/* reclaim pass running (0: none) */
	u64 gc_chunk;		/* its cursor */
};

void ssnap_usage(struct ssnap_store *s, struct ssnap_usage *u);

/* Per-snapshot space, by walking the exception tree. */
struct ssnap_snap_usage {
	u32 id;
	u64 exclusive;		/* chunks only this snapshot reads */
	u64 shared;		/* chunks it shares with other snapshots */
};

/* Fills up to `max` entries in ascending id order; returns the count. */
int ssnap_snapshot_usage(struct ssnap_store *s, struct ssnap_snap_usage *u,
			 u32 max);

/*
 * The same walk in steps, for a caller that must not hold its lock over
 * a whole tree (the kernel: I/O waits on that lock).  start (NULL: no
 * memory); step looks at up to `budget` chunks and returns 1 while more
 * remain, 0 when done, -EAGAIN once a snapshot was created or deleted
 * since start (begin again), or an errno; result fills `u` as
 * ssnap_snapshot_usage() does.  Copies made or reclaimed between steps
 * are counted as the walk finds them: the figures are as exact as the
 * moment allows, never from a snapshot set that no longer exists.
 */
struct ssnap_usage_walk;
struct ssnap_usage_walk *ssnap_usage_walk_start(struct ssnap_store *s);
int ssnap_usage_walk_step(struct ssnap_store *s, struct ssnap_usage_walk *w,
			  u32 budget);
int ssnap_usage_walk_result(struct ssnap_store *s, struct ssnap_usage_walk *w,
			    struct ssnap_snap_usage *u, u32 max);
void ssnap_usage_walk_free(struct ssnap_usage_walk *w);

/* Calls fn for every chunk that differs between labels a and b. */
int ssnap_diff(struct ssnap_store *s, u32 label_a, u32 label_b,
	       int (*fn)(void *ctx, u64 chunk), void *ctx);

/*
 * Full consistency check of an unopened store.  fn gets one line per
 * problem.  Returns the number of problems, or a negative errno if the
 * store could not be checked at all.
 */
int ssnap_check(struct ssnap_dev *dev,
		void (*fn)(void *ctx, const char *msg), void *ctx);

/*
 * Repair an unopened store, e2fsck style: fix what a check finds that
 * can be fixed without losing anything: allocation bitmaps, the root
 * block's counters, snapshot records' exclusive chunks, and a store
 * marked failed (its snapshots are marked invalid: they may lack data,
 * and the failed mark is cleared); then clear needs_check.  Nothing is
 * changed beyond the marks when a B-tree is damaged.  fn gets one line
 * per fix ("fixed: ...") and per problem left; *fixes counts the fixes.
 * Returns the problems a check then finds (0: clean), or a negative
 * errno if the store could not be repaired at all (-EILSEQ: it does not
 * open).
 */
int ssnap_repair(struct ssnap_dev *dev,
		 void (*fn)(void *ctx, const char *msg), void *ctx,
		 u32 *fixes);

/* Per-block-type name for messages. */
const char *ssnap_block_type_name(u32 type);

#endif /* SSNAP_H */
