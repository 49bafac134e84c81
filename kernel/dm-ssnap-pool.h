/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The store of one origin device and its data path, shared by the
 * origin's s-snap-origin tables and its s-snap devices.
 */
#ifndef DM_SSNAP_POOL_H
#define DM_SSNAP_POOL_H

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/list.h>
#include <linux/mempool.h>
#include <linux/mutex.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "dm-ssnap-io.h"

/* Why an s-snap-origin table cannot use its COW device (ti->error). */
#define SSNAP_ECOW_READ		"Cannot read the COW device"
#define SSNAP_EFORMAT		"Cannot format a new store on the COW device"
#define SSNAP_ENOT_STORE \
	"COW device holds data that is not an ssnap store (format it with ssnap create-origin)"
#define SSNAP_EFEATURES \
	"COW device: the store uses features this module does not know"
#define SSNAP_ESB_DAMAGED \
	"COW device: both superblocks are damaged (run ssnap check)"
#define SSNAP_ECHUNK_DIFFERS \
	"Chunk size differs from the store's on the COW device"
#define SSNAP_EORIGIN_DIFFERS \
	"Origin size differs from the store's: the store belongs to another origin"
#define SSNAP_EMETA_DAMAGED \
	"COW device: store metadata is damaged (run ssnap check)"
#define SSNAP_EOPEN		"Cannot open the store on the COW device"

#define SSNAP_JOB_BUCKETS	256
#define SSNAP_TRACK_BUCKETS	256

struct ssnap_copier;

/*
 * A snapshot with s-snap devices: one per snapshot id and store, shared
 * by the devices of that id, under the pool's lock.  A snapshot dropped
 * to make room (store full) keeps its entry, marked dropped, until its
 * last device goes: those devices fail every I/O from then on.
 */
struct ssnap_active {
	struct list_head list;
	u32 id;
	u32 label;
	u32 refs;
	bool dropped;
	bool invalid;		/* SSNAP_SNAP_INVALID: it lost data */
};

/* Per-bio data of both targets. */
struct ssnap_bio {
	u32 label;		/* SSNAP_ORIGIN or a snapshot's label */
	u8 flags;
	u64 chunk;
	struct ssnap_active *snap;	/* NULL for the origin */
};

struct ssnap_pool {
	struct mutex lock;		/* serialises every core call */
	struct ssnap_kdev kdev;
	struct ssnap_store *store;
	struct block_device *origin_bdev;
	struct block_device *cow_bdev;
	sector_t origin_sectors;
	unsigned int chunk_sectors;
	unsigned int chunk_shift;
	u64 nr_chunks;
	struct gendisk *disk;		/* the origin's, for uevents */
	bool failed;			/* copies stopped: snapshots error */
	bool error_if_full;		/* full store: refuse, do not drop */
	bool need_room;			/* full_wait has writes */
	bool suspended;			/* between suspend and resume */

	/* snapshot ids with an active s-snap device (under lock) */
	struct list_head active;

	/* the data path */
	struct ssnap_copier *copier;
	struct workqueue_struct *wq;
	struct work_struct worker;
	struct delayed_work reclaim;
	mempool_t *job_pool;
	spinlock_t bio_lock;		/* deferred, done */
	struct bio_list deferred;
	struct list_head done;
	/* worker only */
	struct bio_list held;		/* writes held while quiescing */
	struct bio_list full_wait;	/* origin writes waiting for room */
	struct list_head committing;
	struct list_head reader_wait;
	struct list_head copy_wait;	/* jobs waiting for a copy buffer */
	struct hlist_head jobs[SSNAP_JOB_BUCKETS];

	/* origin chunks whose writes need no copy until the next snapshot */
	unsigned long *copied;

	atomic_t origin_writes;		/* in flight to the origin */
	atomic_t jobs_inflight;
	atomic_t snap_ios;		/* snapshot bios in flight, remapped */
	atomic_t track[SSNAP_TRACK_BUCKETS];	/* snapshot reads of origin */
	bool quiescing;
	wait_queue_head_t quiesce_wait;
};

int ssnap_pool_create(struct block_device *origin, struct block_device *cow,
		      unsigned int chunk_sectors, struct ssnap_pool **out,
		      char **error);
void ssnap_pool_destroy(struct ssnap_pool *p);
int ssnap_pool_message(struct ssnap_pool *p, unsigned int argc, char **argv,
		       char *result, unsigned int maxlen);
void ssnap_pool_status(struct ssnap_pool *p, char *result,
		       unsigned int maxlen, unsigned int *szp);
void ssnap_pool_snap_status(struct ssnap_pool *p, struct ssnap_active *a,
			    char *result, unsigned int maxlen,
			    unsigned int *szp);

/* An s-snap device of snapshot id appears or goes away. */
int ssnap_pool_snap_get(struct ssnap_pool *p, u32 id,
			struct ssnap_active **out);
void ssnap_pool_snap_put(struct ssnap_pool *p, struct ssnap_active *a);

/*
 * bio->bi_iter.bi_sector must already be relative to the target; snap
 * is NULL for the origin, else the s-snap's snapshot.
 */
int ssnap_pool_map(struct ssnap_pool *p, struct bio *bio,
		   struct ssnap_active *snap);
void ssnap_pool_end_io(struct ssnap_pool *p, struct bio *bio);
/* Queue limits of the origin and its snapshots: see compat.h. */
void ssnap_pool_io_hints(struct ssnap_pool *p, struct queue_limits *limits);
void ssnap_pool_suspend(struct ssnap_pool *p);
/* Resume with the store-full policy of the table being resumed. */
void ssnap_pool_resume(struct ssnap_pool *p, bool error_if_full);

#endif /* DM_SSNAP_POOL_H */
