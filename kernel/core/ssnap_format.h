/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ssnap on-disk format, version 1.
 *
 * Every structure here is little-endian and packed; its size and the
 * offsets that tools and blkid rely on are pinned by the static asserts
 * at the bottom.  The format is described in ssnap.h; this header holds
 * only the structures and constants.
 */
#ifndef SSNAP_FORMAT_H
#define SSNAP_FORMAT_H

#define SSNAP_BLOCK_SHIFT	12
#define SSNAP_BLOCK_SIZE	BIT(SSNAP_BLOCK_SHIFT)
#define SSNAP_SECTORS_PER_BLOCK	(SSNAP_BLOCK_SIZE >> 9)

/* "SSNAPSTR" read as a little-endian 64-bit number. */
#define SSNAP_MAGIC		0x52545350414e5353ULL
#define SSNAP_VERSION		1

/*
 * The superblock lives twice, in the first sector of blocks 0 and 1, so
 * a torn write of one copy leaves the other.
 */
#define SSNAP_SB_SLOTS		2
#define SSNAP_SB_SLOT_SIZE	512

#define SSNAP_ROOT_BLOCK	2	/* the journaled root block */
#define SSNAP_JOURNAL_START	3	/* first journal block */
#define SSNAP_JOURNAL_MIN	256
#define SSNAP_JOURNAL_DEFAULT	1024	/* 4 MiB */

/*
 * Allocation groups: group g covers blocks [g * G, (g + 1) * G) of the
 * COW device and its bitmap block is the group's first block, except
 * for group 0 whose first blocks hold the superblock, the root block and
 * the journal; its bitmap follows the journal.  A power of two keeps
 * chunks (at most 256 blocks) from straddling two groups.
 */
#define SSNAP_GROUP_SHIFT	14
#define SSNAP_GROUP_BLOCKS	BIT(SSNAP_GROUP_SHIFT)	/* 64 MiB */

/* Chunk sizes, in 512-byte sectors. */
#define SSNAP_CHUNK_SECTORS_MIN	8	/* 4 KiB: one metadata block */
#define SSNAP_CHUNK_SECTORS_MAX	2048	/* 1 MiB */

#define SSNAP_NAME_LEN		64	/* including the terminating NUL */
#define SSNAP_IDENT_LEN		64

/* Snapshot labels (creation order).  0 is never a snapshot. */
#define SSNAP_SEQ_MAX		0xfffffffeU

/* Superblock state flags. */
#define SSNAP_SB_CLEAN		BIT(0)	/* closed cleanly */
#define SSNAP_SB_NEEDS_CHECK	BIT(1)	/* run ssnap check before use */
#define SSNAP_SB_FAILED		BIT(2)	/* an I/O error stopped the store */
#define SSNAP_SB_FLAGS_KNOWN	0x7U

/* Feature bits: none are defined in version 1. */
#define SSNAP_FEAT_COMPAT_SUPP		0x0U
#define SSNAP_FEAT_RO_COMPAT_SUPP	0x0U
#define SSNAP_FEAT_INCOMPAT_SUPP	0x0U

/*
 * Block types.  Each is stored in the block header and XORed into the
 * block's checksum, so a block of one type never validates as another.
 */
enum ssnap_block_type {
	SSNAP_BT_SUPER	= 0x53425350,
	SSNAP_BT_ROOT	= 0x544f4f52,
	SSNAP_BT_NODE	= 0x45444f4e,	/* B-tree internal node */
	SSNAP_BT_LEAF	= 0x4641454c,	/* B-tree leaf */
	SSNAP_BT_BITMAP	= 0x504d5442,
	SSNAP_BT_COMMIT	= 0x544d4d43,	/* journal commit record */
};

/* The superblock: one 512-byte slot, written whole. */
struct ssnap_disk_sb {
	__le32 csum;		/* crc32c of bytes 4..511, ^ SSNAP_BT_SUPER */
	__le32 flags;		/* SSNAP_SB_* */
	__le64 blocknr;		/* 0 or 1 */
	__le64 magic;		/* SSNAP_MAGIC */
	__u8 uuid[16];		/* store UUID */
	__le32 version;		/* SSNAP_VERSION */
	__le32 block_size;	/* SSNAP_BLOCK_SIZE */
	__le32 compat;
	__le32 ro_compat;
	__le32 incompat;
	__le32 chunk_sectors;
	__le64 origin_sectors;	/* origin size when formatted */
	__le64 cow_blocks;	/* blocks the store may use */
	__le64 generation;	/* bumped on every superblock write */
	__le64 journal_start;	/* SSNAP_JOURNAL_START */
	__le32 journal_blocks;
	__le32 slot;		/* which copy this is: its block number */
	__le64 journal_tail;	/* journal offset of the first commit to replay */
	__le64 tail_seq;	/* its transaction id */
	__le64 root_blocknr;	/* SSNAP_ROOT_BLOCK */
	__le64 format_time;	/* seconds since the epoch */
	char origin_ident[SSNAP_IDENT_LEN];	/* who the origin is (tool's) */
	char name[SSNAP_NAME_LEN];		/* the origin's ssnap name */
	__u8 reserved[248];
} __packed;

/* The header every metadata block but the superblock starts with. */
struct ssnap_disk_hdr {
	__le32 csum;		/* crc32c of bytes 4..4095, ^ type */
	__le32 type;		/* enum ssnap_block_type */
	__le64 blocknr;		/* where this block belongs */
	__le64 seq;		/* transaction that last wrote it */
} __packed;

/* The root block: the store's mutable state, journaled like the rest. */
struct ssnap_disk_root {
	struct ssnap_disk_hdr hdr;
	__le64 exc_root;	/* exception B-tree */
	__le64 snap_root;	/* snapshot B-tree */
	__le64 data_chunks;	/* chunks in use for data */
	__le64 meta_blocks;	/* blocks in use for metadata */
	__le32 last_seq;	/* highest label given to a snapshot */
	__le32 nr_snapshots;	/* live snapshots */
	__le32 nr_deleting;	/* deleted, space not yet reclaimed */
	__le32 gc_pass;		/* reclaim pass in progress (0: none) */
	__le64 gc_chunk;	/* reclaim cursor: next key to visit */
	__le32 gc_lo;
	__le32 exc_depth;	/* levels in the exception tree */
	__le64 meta_hint;	/* allocator cursors (hints only) */
	__le64 data_hint;
	__le32 snap_depth;	/* levels in the snapshot tree */
	__le32 reserved0;
	__le64 nr_blocks;	/* blocks in use: rules over sb cow_blocks */
	__u8 reserved[SSNAP_BLOCK_SIZE - 120];
} __packed;

/* B-tree keys: (a, b) compared as a pair. */
struct ssnap_disk_key {
	__le64 a;
	__le32 b;
} __packed;

struct ssnap_disk_node {
	struct ssnap_disk_hdr hdr;
	__le16 nr;		/* entries in use */
	__le16 level;		/* 0: leaf */
	__le16 tree;		/* enum ssnap_tree_id */
	__le16 value_size;	/* bytes per value (8 in internal nodes) */
	/* then: nr keys, then nr values, each array at a fixed place */
} __packed;

enum ssnap_tree_id {
	SSNAP_TREE_EXC = 1,
	SSNAP_TREE_SNAP = 2,
};

/*
 * An exception: origin chunk `chunk` as seen by the snapshots whose
 * labels are in [lo, hi] is stored at COW block `cow` (0: the chunk reads
 * as zeroes and owns no space).  Key: (chunk, lo).  24 bytes with its key.
 */
struct ssnap_disk_exc {
	__le32 hi;
	__le64 cow;
} __packed;

/* A snapshot record.  Key: (label, 0). */
struct ssnap_disk_snap {
	__le32 id;		/* user-visible id */
	__le32 flags;		/* SSNAP_SNAP_* */
	__le64 ctime;		/* seconds since the epoch */
	__le32 priority;	/* lowest goes first when the store is full */
	__le32 reserved0;
	__le64 exclusive;	/* data chunks only this snapshot reads */
	__le64 reserved1;
	char name[SSNAP_NAME_LEN];
} __packed;

#define SSNAP_SNAP_DELETING	BIT(0)	/* space being reclaimed */
#define SSNAP_SNAP_IN_PASS	BIT(1)	/* covered by the running pass */
#define SSNAP_SNAP_AUTOACTIVATE	BIT(2)	/* tools bring it up */
#define SSNAP_SNAP_INVALID	BIT(3)	/* lost data: reads fail */
#define SSNAP_SNAP_FLAGS_KNOWN	0xfU

/* A journal commit record, followed in the journal by its blocks. */
struct ssnap_disk_commit_ent {
	__le64 blocknr;		/* home of the journaled block */
	__le32 csum;		/* its checksum */
} __packed;

struct ssnap_disk_commit {
	struct ssnap_disk_hdr hdr;	/* hdr.seq: the transaction id */
	__le32 nr;
	__le32 reserved;
	struct ssnap_disk_commit_ent ent[];
} __packed;

#define SSNAP_COMMIT_MAX \
	((SSNAP_BLOCK_SIZE - sizeof(struct ssnap_disk_commit)) / \
	 sizeof(struct ssnap_disk_commit_ent))

struct ssnap_disk_bitmap {
	struct ssnap_disk_hdr hdr;
	__le64 group;
	__u8 reserved[32];
	__le64 bits[SSNAP_GROUP_BLOCKS / 64];	/* bit set: block in use */
} __packed;

static_assert(sizeof(struct ssnap_disk_sb) == SSNAP_SB_SLOT_SIZE);
static_assert(offsetof(struct ssnap_disk_sb, magic) == 16);
static_assert(offsetof(struct ssnap_disk_sb, uuid) == 24);
static_assert(offsetof(struct ssnap_disk_sb, origin_ident) == 136);
static_assert(offsetof(struct ssnap_disk_sb, name) == 200);
static_assert(sizeof(struct ssnap_disk_hdr) == 24);
static_assert(sizeof(struct ssnap_disk_root) == SSNAP_BLOCK_SIZE);
static_assert(sizeof(struct ssnap_disk_key) == 12);
static_assert(sizeof(struct ssnap_disk_node) == 32);
static_assert(sizeof(struct ssnap_disk_exc) == 12);
static_assert(sizeof(struct ssnap_disk_snap) == 104);
static_assert(offsetof(struct ssnap_disk_snap, exclusive) == 24);
static_assert(sizeof(struct ssnap_disk_commit) == 32);
static_assert(SSNAP_COMMIT_MAX == 338);
static_assert(sizeof(struct ssnap_disk_bitmap) <= SSNAP_BLOCK_SIZE);

#endif /* SSNAP_FORMAT_H */
