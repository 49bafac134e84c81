// SPDX-License-Identifier: GPL-2.0
/*
 * The store of one origin device and its data path.
 *
 * Origin reads, and origin writes to chunks already copied since the
 * last snapshot (the `copied` bitmap; all of them while there is no
 * snapshot), are remapped in map(), whole, however many chunks they
 * cover.  Every other bio is cut at its first chunk boundary (dm core
 * sends the rest as a new bio) and deferred to one worker, which asks
 * the core what it needs (core/ssnap.h: lookups and write plans), starts
 * a copy per chunk that needs one (a "job", dm-ssnap-copy.c; later bios
 * of that chunk wait on it, bios of other chunks never do; a job that
 * finds no free copy buffer waits in copy_wait), records finished
 * copies, commits them in one transaction per worker pass, and only
 * then lets the waiting writes go.
 *
 * A snapshot read served from the origin is counted per chunk (hashed);
 * an origin write that has just had its chunk copied waits until no such
 * read of its chunk is in flight, so a snapshot never reads a newer
 * origin.  Creating or deleting a snapshot quiesces: writes are held,
 * writes in flight to the origin and copies in flight drain, the change
 * commits, writes resume.
 *
 * A full store (an origin write's copy finds no space) drops whole
 * snapshots, lowest priority first, then oldest, as Zumastor's "squash"
 * did: the write waits in full_wait until no copy is in flight, the
 * worker drops a snapshot, reclaims its space at once and retries.  With
 * the error_if_full feature the write fails with -ENOSPC instead.
 */
#include <linux/hash.h>
#include <linux/kobject.h>
#include <linux/ktime.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "dm-ssnap.h"
#include "dm-ssnap-copy.h"
#include "dm-ssnap-pool.h"

#define SSNAP_GC_BUDGET		512
#define SSNAP_JOB_RESERVE	64
/* Reclaim after a drop stops once this many chunks are free. */
#define SSNAP_ROOM_CHUNKS	64

#define PB_COUNTED	BIT(0)	/* counted in origin_writes */
#define PB_TRACKED	BIT(1)	/* counted in track[] */
#define PB_SNAP_IO	BIT(2)	/* counted in snap_ios */

struct ssnap_job {
	struct hlist_node hash;
	struct list_head list;
	struct ssnap_pool *p;
	struct ssnap_plan plan;
	struct bio_list bios;		/* the first bio, then waiters */
	int error;
};

/* ------------------------------------------------------------------ */
/* Open and close.                                                     */

static bool block_is_zero(const u8 *p)
{
	return !p[0] && !memcmp(p, p + 1, SSNAP_BLOCK_SIZE - 1);
}

/*
 * A zeroed COW device gets a new store; a store is opened if it belongs
 * to this origin; anything else is refused.
 */
static int pool_open_store(struct ssnap_pool *p, char **error)
{
	struct ssnap_format_params fp = { 0 };
	struct ssnap_disk_sb sb;
	void *buf;
	int r;

	buf = kmalloc(SSNAP_BLOCK_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	r = p->kdev.dev.ops->read(&p->kdev.dev, 0, buf);
	if (r) {
		kfree(buf);
		*error = SSNAP_ECOW_READ;
		return r;
	}
	if (block_is_zero(buf)) {
		fp.chunk_sectors = p->chunk_sectors;
		fp.origin_sectors = p->origin_sectors;
		generate_random_uuid(fp.uuid);
		fp.now = ktime_get_real_seconds();
		r = ssnap_format(&p->kdev.dev, &fp);
		if (r) {
			kfree(buf);
			*error = SSNAP_EFORMAT;
			return r;
		}
		DMINFO("%pg: new store, chunk size %u sectors", p->cow_bdev,
		       p->chunk_sectors);
	}
	kfree(buf);

	r = ssnap_read_super(&p->kdev.dev, &sb);
	if (r == -EINVAL) {
		*error = SSNAP_ENOT_STORE;
		return r;
	}
	if (r == -EOPNOTSUPP) {
		*error = SSNAP_EFEATURES;
		return r;
	}
	if (r) {
		*error = SSNAP_ESB_DAMAGED;
		return r;
	}
	if (le32_to_cpu(sb.chunk_sectors) != p->chunk_sectors) {
		*error = SSNAP_ECHUNK_DIFFERS;
		return -EINVAL;
	}
	if (le64_to_cpu(sb.origin_sectors) != p->origin_sectors) {
		*error = SSNAP_EORIGIN_DIFFERS;
		return -EINVAL;
	}
	r = ssnap_open(&p->kdev.dev, NULL, &p->store);
	if (r) {
		*error = r == -EILSEQ ? SSNAP_EMETA_DAMAGED : SSNAP_EOPEN;
		return r;
	}
	if (le32_to_cpu(sb.flags) & SSNAP_SB_NEEDS_CHECK)
		DMWARN("%pg: the store is marked needs_check", p->cow_bdev);
	if (ssnap_failed(p->store)) {
		DMERR("%pg: the store failed earlier: snapshots fail, the origin goes on",
		      p->cow_bdev);
		p->failed = true;
	}
	return 0;
}

static void do_worker(struct work_struct *w);
static void do_reclaim(struct work_struct *w);

int ssnap_pool_create(struct block_device *origin, struct block_device *cow,
		      unsigned int chunk_sectors, struct ssnap_pool **out,
		      char **error)
{
	struct ssnap_pool *p;
	int r, i;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p) {
		*error = SSNAP_ENOMEM;
		return -ENOMEM;
	}
	mutex_init(&p->lock);
	spin_lock_init(&p->bio_lock);
	bio_list_init(&p->deferred);
	bio_list_init(&p->held);
	bio_list_init(&p->full_wait);
	INIT_LIST_HEAD(&p->done);
	INIT_LIST_HEAD(&p->committing);
	INIT_LIST_HEAD(&p->reader_wait);
	INIT_LIST_HEAD(&p->copy_wait);
	INIT_LIST_HEAD(&p->active);
	for (i = 0; i < SSNAP_JOB_BUCKETS; i++)
		INIT_HLIST_HEAD(&p->jobs[i]);
	for (i = 0; i < SSNAP_TRACK_BUCKETS; i++)
		atomic_set(&p->track[i], 0);
	atomic_set(&p->origin_writes, 0);
	atomic_set(&p->jobs_inflight, 0);
	atomic_set(&p->snap_ios, 0);
	init_waitqueue_head(&p->quiesce_wait);
	INIT_WORK(&p->worker, do_worker);
	INIT_DELAYED_WORK(&p->reclaim, do_reclaim);

	p->origin_bdev = origin;
	p->cow_bdev = cow;
	p->origin_sectors = bdev_nr_sectors(origin);
	p->chunk_sectors = chunk_sectors;
	p->chunk_shift = ilog2(chunk_sectors);
	p->nr_chunks = DIV_ROUND_UP_ULL(p->origin_sectors, chunk_sectors);

	*error = SSNAP_ENOMEM;
	r = -ENOMEM;
	p->copied = kvcalloc(BITS_TO_LONGS(p->nr_chunks), sizeof(long),
			     GFP_KERNEL);
	if (!p->copied)
		goto err_free;
	p->job_pool = mempool_create_kmalloc_pool(SSNAP_JOB_RESERVE,
						  sizeof(struct ssnap_job));
	if (!p->job_pool)
		goto err_free;
	p->wq = alloc_ordered_workqueue("ssnap-%pg", WQ_MEM_RECLAIM, cow);
	if (!p->wq)
		goto err_free;
	p->copier = ssnap_copier_create(chunk_sectors, p->wq);
	if (!p->copier)
		goto err_free;
	r = ssnap_kdev_init(&p->kdev, cow, bdev_nr_sectors(cow));
	if (r)
		goto err_free;
	r = pool_open_store(p, error);
	if (r)
		goto err_kdev;
	/* No snapshot: no origin write needs a copy (see `copied`). */
	if (!ssnap_nr_snapshots(p->store))
		bitmap_fill(p->copied, p->nr_chunks);
	*out = p;
	return 0;

err_kdev:
	ssnap_kdev_exit(&p->kdev);
err_free:
	if (p->wq)
		destroy_workqueue(p->wq);
	ssnap_copier_destroy(p->copier);
	mempool_destroy(p->job_pool);
	kvfree(p->copied);
	kfree(p);
	return r;
}

void ssnap_pool_destroy(struct ssnap_pool *p)
{
	struct ssnap_active *a, *n;
	int r;

	if (!p)
		return;
	ssnap_pool_suspend(p);
	mutex_lock(&p->lock);
	r = ssnap_close(p->store);	/* a reclaim pass resumes at next open */
	mutex_unlock(&p->lock);
	if (r)
		DMERR("%pg: closing the store failed: error %d", p->cow_bdev, r);
	list_for_each_entry_safe(a, n, &p->active, list)
		kfree(a);
	ssnap_kdev_exit(&p->kdev);
	destroy_workqueue(p->wq);
	ssnap_copier_destroy(p->copier);
	mempool_destroy(p->job_pool);
	kvfree(p->copied);
	kfree(p);
}

/* ------------------------------------------------------------------ */
/* Bios.                                                               */

static struct ssnap_bio *pb_of(struct bio *bio)
{
	return dm_per_bio_data(bio, sizeof(struct ssnap_bio));
}

static u64 chunk_of(struct ssnap_pool *p, struct bio *bio)
{
	return bio->bi_iter.bi_sector >> p->chunk_shift;
}

static sector_t chunk_offset(struct ssnap_pool *p, struct bio *bio)
{
	return bio->bi_iter.bi_sector & (p->chunk_sectors - 1);
}

static void defer_bio(struct ssnap_pool *p, struct bio *bio)
{
	unsigned long flags;

	spin_lock_irqsave(&p->bio_lock, flags);
	bio_list_add(&p->deferred, bio);
	spin_unlock_irqrestore(&p->bio_lock, flags);
	queue_work(p->wq, &p->worker);
}

static void remap_origin(struct ssnap_pool *p, struct bio *bio)
{
	bio_set_dev(bio, p->origin_bdev);
}

static void remap_cow(struct ssnap_pool *p, struct bio *bio, u64 block)
{
	sector_t off = chunk_offset(p, bio);

	bio_set_dev(bio, p->cow_bdev);
	bio->bi_iter.bi_sector = block * SSNAP_SECTORS_PER_BLOCK + off;
}

static void count_origin_write(struct ssnap_pool *p, struct bio *bio)
{
	pb_of(bio)->flags |= PB_COUNTED;
	atomic_inc(&p->origin_writes);
}

static void error_bio(struct bio *bio, int err)
{
	bio->bi_status = errno_to_blk_status(err);
	bio_endio(bio);
}

/*
 * No discard longer than a chunk: with ssnap_set_discard_split(), dm
 * core then cuts discards at chunk boundaries.
 */
void ssnap_pool_io_hints(struct ssnap_pool *p, struct queue_limits *limits)
{
	limits->max_hw_discard_sectors = min(limits->max_hw_discard_sectors,
					     p->chunk_sectors);
	limits->max_discard_sectors = min(limits->max_discard_sectors,
					  p->chunk_sectors);
}

/*
 * This bio keeps the part in its first chunk, and dm core sends the rest
 * as a new bio.  The targets ask for one discard bio (num_discard_bios),
 * which dm core maps as it maps a read or write, so this is allowed for
 * discards too.
 */
static void cut_at_chunk(struct ssnap_pool *p, struct bio *bio)
{
	sector_t left = p->chunk_sectors - chunk_offset(p, bio);

	if (bio_sectors(bio) > left)
		dm_accept_partial_bio(bio, left);
}

/* Every chunk the origin write covers copied since the last snapshot? */
static bool all_copied(struct ssnap_pool *p, struct bio *bio)
{
	u64 first = chunk_of(p, bio);
	u64 last = (bio_end_sector(bio) - 1) >> p->chunk_shift;

	return find_next_zero_bit(p->copied, last + 1, first) > last;
}

int ssnap_pool_map(struct ssnap_pool *p, struct bio *bio,
		   struct ssnap_active *snap)
{
	struct ssnap_bio *pb = pb_of(bio);

	/*
	 * Snapshot reads and writes never cross a chunk boundary (the
	 * snapshot target's max_io_len); a discard does where dm core does
	 * not cut it (compat.h), and origin bios do.
	 */
	if (bio_op(bio) == REQ_OP_DISCARD)
		cut_at_chunk(p, bio);

	pb->label = snap ? snap->label : SSNAP_ORIGIN;
	pb->snap = snap;
	pb->flags = 0;
	pb->chunk = 0;
	if (!snap) {
		if (!bio_sectors(bio) || bio_data_dir(bio) == READ) {
			remap_origin(p, bio);
			return DM_MAPIO_REMAPPED;
		}
		if (READ_ONCE(p->failed) || all_copied(p, bio)) {
			atomic_inc(&p->origin_writes);
			/* Pairs with pool_quiesce(): count, then look. */
			smp_mb__after_atomic();
			if (!READ_ONCE(p->quiescing)) {
				pb->flags |= PB_COUNTED;
				remap_origin(p, bio);
				return DM_MAPIO_REMAPPED;
			}
			if (atomic_dec_and_test(&p->origin_writes))
				wake_up(&p->quiesce_wait);
		}
		/* The worker takes one chunk at a time. */
		cut_at_chunk(p, bio);
		defer_bio(p, bio);
		return DM_MAPIO_SUBMITTED;
	}
	if (READ_ONCE(p->failed) || READ_ONCE(snap->dropped) ||
	    READ_ONCE(snap->invalid)) {
		error_bio(bio, -EIO);
		return DM_MAPIO_SUBMITTED;
	}
	if (!bio_sectors(bio)) {
		/* A flush: snapshot data lives on the COW device. */
		bio_set_dev(bio, p->cow_bdev);
		return DM_MAPIO_REMAPPED;
	}
	defer_bio(p, bio);
	return DM_MAPIO_SUBMITTED;
}

void ssnap_pool_end_io(struct ssnap_pool *p, struct bio *bio)
{
	struct ssnap_bio *pb = pb_of(bio);

	if (pb->flags & PB_COUNTED) {
		pb->flags &= ~PB_COUNTED;
		if (atomic_dec_and_test(&p->origin_writes))
			wake_up(&p->quiesce_wait);
	}
	if (pb->flags & PB_TRACKED) {
		pb->flags &= ~PB_TRACKED;
		if (atomic_dec_and_test(&p->track[hash_64(pb->chunk, 8)]))
			queue_work(p->wq, &p->worker);
	}
	if (pb->flags & PB_SNAP_IO) {
		pb->flags &= ~PB_SNAP_IO;
		if (atomic_dec_and_test(&p->snap_ios))
			wake_up(&p->quiesce_wait);
	}
}

/* A snapshot bio goes to a device: counted until it ends. */
static void submit_snap_io(struct ssnap_pool *p, struct bio *bio)
{
	pb_of(bio)->flags |= PB_SNAP_IO;
	atomic_inc(&p->snap_ios);
	submit_bio_noacct(bio);
}

/* ------------------------------------------------------------------ */
/* Jobs: one copy in flight per chunk.                                 */

static struct ssnap_job *job_find(struct ssnap_pool *p, u64 chunk)
{
	struct ssnap_job *job;

	hlist_for_each_entry(job, &p->jobs[hash_64(chunk, 8)], hash)
		if (job->plan.chunk == chunk)
			return job;
	return NULL;
}

static void copy_done(int read_err, unsigned long write_err, void *context)
{
	struct ssnap_job *job = context;
	struct ssnap_pool *p = job->p;
	unsigned long flags;

	job->error = read_err || write_err ? -EIO : 0;
	spin_lock_irqsave(&p->bio_lock, flags);
	list_add_tail(&job->list, &p->done);
	spin_unlock_irqrestore(&p->bio_lock, flags);
	queue_work(p->wq, &p->worker);
}

/* Start the job's copy; -EAGAIN if no copy buffer is free. */
static int job_copy(struct ssnap_pool *p, struct ssnap_job *job)
{
	const struct ssnap_plan *plan = &job->plan;
	sector_t start = plan->chunk << p->chunk_shift;
	struct dm_io_region src, dests[2];
	unsigned int n = 0;
	sector_t count;

	/* The last chunk of the origin may be short. */
	count = min_t(sector_t, p->chunk_sectors, p->origin_sectors - start);
	if (plan->shared) {
		dests[n].bdev = p->cow_bdev;
		dests[n].sector = plan->shared * SSNAP_SECTORS_PER_BLOCK;
		dests[n++].count = count;
	}
	/*
	 * A snapshot write gets its new block filled even when it covers the
	 * whole chunk: the block is recorded before the write is sent, and a
	 * crash in between must leave the chunk as it was, not as whatever
	 * the block held.
	 */
	if (plan->own) {
		dests[n].bdev = p->cow_bdev;
		dests[n].sector = plan->own * SSNAP_SECTORS_PER_BLOCK;
		dests[n++].count = count;
	}
	if (!n) {
		copy_done(0, 0, job);
		return 0;
	}
	if (plan->src == SSNAP_SRC_ZERO)
		return ssnap_copy(p->copier, NULL, n, dests, copy_done, job);
	if (plan->src == SSNAP_SRC_ORIGIN) {
		src.bdev = p->origin_bdev;
		src.sector = start;
	} else {
		src.bdev = p->cow_bdev;
		src.sector = plan->src * SSNAP_SECTORS_PER_BLOCK;
	}
	src.count = count;
	return ssnap_copy(p->copier, &src, n, dests, copy_done, job);
}

static void start_job(struct ssnap_pool *p, struct ssnap_plan *plan,
		      struct bio *bio)
{
	struct ssnap_job *job = mempool_alloc(p->job_pool, GFP_NOIO);

	job->p = p;
	job->plan = *plan;
	job->error = 0;
	bio_list_init(&job->bios);
	bio_list_add(&job->bios, bio);
	hlist_add_head(&job->hash, &p->jobs[hash_64(plan->chunk, 8)]);
	atomic_inc(&p->jobs_inflight);
	/* Jobs get copy buffers in the order they came. */
	if (!list_empty(&p->copy_wait) || job_copy(p, job))
		list_add_tail(&job->list, &p->copy_wait);
}

/* Copies have ended and freed their buffers: start waiting jobs. */
static void start_waiting_jobs(struct ssnap_pool *p)
{
	struct ssnap_job *job;

	while ((job = list_first_entry_or_null(&p->copy_wait,
					       struct ssnap_job, list))) {
		list_del(&job->list);
		if (job_copy(p, job)) {
			list_add(&job->list, &p->copy_wait);
			break;
		}
	}
}

/*
 * Snapshots fail from now on; origin writes go on without copies.  The
 * store is marked failed on disk first, if the COW device still takes
 * that write, so that a reopen does not show stale snapshots.
 */
static void pool_fail(struct ssnap_pool *p, const char *why, int err)
{
	int r;

	if (READ_ONCE(p->failed))
		return;
	WRITE_ONCE(p->failed, true);
	DMERR("%pg: %s (error %d): snapshots fail from now on, the origin goes on",
	      p->cow_bdev, why, err);
	mutex_lock(&p->lock);
	r = err == -EILSEQ ? ssnap_mark_damaged(p->store) :
	    ssnap_mark_failed(p->store);
	mutex_unlock(&p->lock);
	if (r)
		DMERR("%pg: cannot mark the store failed (error %d)",
		      p->cow_bdev, r);
}

static void process_bio(struct ssnap_pool *p, struct bio *bio);

static void finish_job(struct ssnap_pool *p, struct ssnap_job *job)
{
	struct bio *bio;

	hlist_del(&job->hash);
	while ((bio = bio_list_pop(&job->bios))) {
		if (job->error)
			error_bio(bio, job->error);
		else
			process_bio(p, bio);
	}
	mempool_free(job, p->job_pool);
	if (atomic_dec_and_test(&p->jobs_inflight))
		wake_up(&p->quiesce_wait);
}

/* A copy has landed: record it (the commit follows in the worker). */
struct invalidated {
	struct ssnap_pool *p;
	struct ssnap_job *job;
};

/* Snapshot id lost a chunk: its devices fail from now on. */
static void snap_invalidated(void *ctx, u32 id)
{
	struct invalidated *iv = ctx;
	struct ssnap_active *a;

	list_for_each_entry(a, &iv->p->active, list)
		if (a->id == id)
			WRITE_ONCE(a->invalid, true);
	DMERR_LIMIT("%pg: copying chunk %llu failed (error %d): snapshot %u lost it and is invalid",
		    iv->p->cow_bdev, iv->job->plan.chunk, iv->job->error, id);
}

/*
 * A copy has landed: record it (the commit follows in the worker).  A
 * copy that failed costs the snapshots it was for (an origin write's:
 * they are marked invalid, and the write goes on after the commit), or
 * the write (a snapshot's: it fails).
 */
static void job_copied(struct ssnap_pool *p, struct ssnap_job *job)
{
	struct invalidated iv = { p, job };
	const char *why = "recording a copy failed";
	int r;

	mutex_lock(&p->lock);
	if (!job->error) {
		r = ssnap_commit_plan(p->store, &job->plan);
	} else if (job->plan.label == SSNAP_ORIGIN) {
		r = ssnap_plan_invalidate(p->store, &job->plan,
					  snap_invalidated, &iv);
		why = "marking snapshots invalid after a failed copy failed";
		if (!r)
			job->error = 0;
	} else {
		ssnap_abort_plan(p->store, &job->plan);
		DMERR_LIMIT("%pg: copying chunk %llu for a write to snapshot %u failed (error %d)",
			    p->cow_bdev, job->plan.chunk,
			    pb_of(bio_list_peek(&job->bios))->snap->id,
			    job->error);
		r = 0;
	}
	mutex_unlock(&p->lock);
	if (r) {
		pool_fail(p, why, r);
		/* The origin write goes on; snapshots now fail. */
		job->error = job->plan.label ? r : 0;
	}
	list_add_tail(&job->list, &p->committing);
}

static void job_committed(struct ssnap_pool *p, struct ssnap_job *job)
{
	if (job->plan.label == SSNAP_ORIGIN && !job->error) {
		set_bit(job->plan.chunk, p->copied);
		if (atomic_read(&p->track[hash_64(job->plan.chunk, 8)])) {
			list_add_tail(&job->list, &p->reader_wait);
			return;
		}
	}
	finish_job(p, job);
}

/* ------------------------------------------------------------------ */
/* The worker.                                                         */

static void origin_write(struct ssnap_pool *p, struct bio *bio)
{
	struct ssnap_plan plan;
	u64 chunk = chunk_of(p, bio);
	int r;

	if (!READ_ONCE(p->failed) && !test_bit(chunk, p->copied)) {
		mutex_lock(&p->lock);
		r = ssnap_plan_write(p->store, SSNAP_ORIGIN, chunk, &plan);
		mutex_unlock(&p->lock);
		if (r == -ENOSPC && !READ_ONCE(p->error_if_full)) {
			/* do_worker() makes room, then retries it. */
			bio_list_add(&p->full_wait, bio);
			p->need_room = true;
			return;
		}
		if (r == -ENOSPC) {
			DMERR_LIMIT("%pg: store full: origin write refused",
				    p->cow_bdev);
			error_bio(bio, r);
			return;
		}
		if (r) {
			pool_fail(p, "planning a copy failed", r);
		} else if (plan.copy) {
			if (bio_op(bio) == REQ_OP_DISCARD) {
				/* Snapshots still need this chunk. */
				mutex_lock(&p->lock);
				ssnap_abort_plan(p->store, &plan);
				mutex_unlock(&p->lock);
				bio_endio(bio);
				return;
			}
			start_job(p, &plan, bio);
			return;
		}
		set_bit(chunk, p->copied);
	}
	count_origin_write(p, bio);
	remap_origin(p, bio);
	submit_bio_noacct(bio);
}

static void snap_read(struct ssnap_pool *p, struct bio *bio)
{
	struct ssnap_bio *pb = pb_of(bio);
	u64 chunk = chunk_of(p, bio), cow = 0;
	int m;

	mutex_lock(&p->lock);
	m = ssnap_lookup(p->store, pb->label, chunk, &cow);
	mutex_unlock(&p->lock);
	switch (m) {
	case SSNAP_MAP_ORIGIN:
		pb->flags |= PB_TRACKED;
		pb->chunk = chunk;
		atomic_inc(&p->track[hash_64(chunk, 8)]);
		remap_origin(p, bio);
		break;
	case SSNAP_MAP_COW:
		remap_cow(p, bio, cow);
		break;
	case SSNAP_MAP_ZERO:
		zero_fill_bio(bio);
		bio_endio(bio);
		return;
	default:
		/* A metadata block that cannot be read or is damaged. */
		pool_fail(p, "looking up a snapshot's chunk failed", m);
		error_bio(bio, m);
		return;
	}
	submit_snap_io(p, bio);
}

static void snap_write(struct ssnap_pool *p, struct bio *bio)
{
	struct ssnap_bio *pb = pb_of(bio);
	u64 chunk = chunk_of(p, bio);
	struct ssnap_plan plan;
	int r;

	mutex_lock(&p->lock);
	if (bio_op(bio) == REQ_OP_DISCARD) {
		r = 0;
		/* Only a whole chunk can be given back. */
		if (!chunk_offset(p, bio) &&
		    bio_sectors(bio) == p->chunk_sectors)
			r = ssnap_discard(p->store, pb->label, chunk);
		mutex_unlock(&p->lock);
		if (r)
			error_bio(bio, r);
		else
			bio_endio(bio);
		return;
	}
	r = ssnap_plan_write(p->store, pb->label, chunk, &plan);
	mutex_unlock(&p->lock);
	if (r) {
		if (r != -ENOSPC)
			pool_fail(p, "planning a snapshot write failed", r);
		error_bio(bio, r);
		return;
	}
	if (plan.copy) {
		start_job(p, &plan, bio);
		return;
	}
	remap_cow(p, bio, plan.own);
	submit_snap_io(p, bio);
}

static void process_bio(struct ssnap_pool *p, struct bio *bio)
{
	struct ssnap_bio *pb = pb_of(bio);
	struct ssnap_job *job = job_find(p, chunk_of(p, bio));
	bool write = bio_data_dir(bio) == WRITE;

	if (job) {
		bio_list_add(&job->bios, bio);
		return;
	}
	if (write && READ_ONCE(p->quiescing)) {
		bio_list_add(&p->held, bio);
		return;
	}
	if (pb->label == SSNAP_ORIGIN)
		origin_write(p, bio);
	else if (READ_ONCE(p->failed) || pb->snap->dropped ||
		 READ_ONCE(pb->snap->invalid))
		error_bio(bio, -EIO);
	else if (write)
		snap_write(p, bio);
	else
		snap_read(p, bio);
}

/*
 * The snapshot a full store drops first: the lowest priority, then the
 * oldest, then the lowest id.  -ENOENT when there is none.
 */
static int pick_victim(struct ssnap_pool *p, struct ssnap_snap_info *victim)
{
	struct ssnap_snap_info info;
	u32 i, n = ssnap_nr_snapshots(p->store);
	bool found = false;

	for (i = 0; i < n; i++) {
		if (ssnap_snapshot_get(p->store, i, &info))
			continue;
		if (found && (info.priority > victim->priority ||
			      (info.priority == victim->priority &&
			       info.ctime >= victim->ctime)))
			continue;
		*victim = info;
		found = true;
	}
	return found ? 0 : -ENOENT;
}

static void send_event(struct ssnap_pool *p, const char *what, u32 id);

/*
 * Drop one snapshot and reclaim its space now, until some room is free
 * or nothing is left to reclaim.  Devices of the snapshot fail from now
 * on; their bios in flight end first, since their COW blocks are about
 * to be reused.  0, or -ENOSPC when no snapshot is left to drop.
 */
static int make_room(struct ssnap_pool *p)
{
	struct ssnap_snap_info victim;
	struct ssnap_active *a;
	struct ssnap_usage u;
	int r;

	mutex_lock(&p->lock);
	r = pick_victim(p, &victim);
	if (r) {
		mutex_unlock(&p->lock);
		DMERR_LIMIT("%pg: store full, no snapshot left to drop: origin write refused",
			    p->cow_bdev);
		return -ENOSPC;
	}
	list_for_each_entry(a, &p->active, list)
		if (a->id == victim.id && !a->dropped)
			WRITE_ONCE(a->dropped, true);
	mutex_unlock(&p->lock);
	/* Only the worker maps snapshot bios to devices: no new ones. */
	wait_event(p->quiesce_wait, !atomic_read(&p->snap_ios));

	mutex_lock(&p->lock);
	r = ssnap_snapshot_delete(p->store, victim.id);
	if (!r)
		r = ssnap_commit(p->store);
	do {
		if (r < 0)
			break;
		r = ssnap_gc(p->store, SSNAP_GC_BUDGET);
		ssnap_usage(p->store, &u);
	} while (r > 0 && u.free_chunks < SSNAP_ROOM_CHUNKS);
	mutex_unlock(&p->lock);
	if (r < 0) {
		pool_fail(p, "dropping a snapshot to make room failed", r);
		return 0;	/* the writes go on; snapshots fail */
	}
	DMWARN("%pg: store full: dropped snapshot %u (priority %u)",
	       p->cow_bdev, victim.id, victim.priority);
	send_event(p, "drop", victim.id);
	if (r > 0)
		queue_delayed_work(p->wq, &p->reclaim, 0);
	return 0;
}

static void do_worker(struct work_struct *w)
{
	struct ssnap_pool *p = container_of(w, struct ssnap_pool, worker);
	struct ssnap_job *job, *tmp;
	struct bio_list bios;
	struct bio *bio;
	LIST_HEAD(done);
	int r;

	spin_lock_irq(&p->bio_lock);
	bios = p->deferred;
	bio_list_init(&p->deferred);
	list_splice_init(&p->done, &done);
	spin_unlock_irq(&p->bio_lock);

	list_for_each_entry_safe(job, tmp, &done, list) {
		list_del(&job->list);
		job_copied(p, job);
	}
	if (!list_empty(&p->committing)) {
		mutex_lock(&p->lock);
		r = ssnap_commit(p->store);
		mutex_unlock(&p->lock);
		if (r)
			pool_fail(p, "commit failed", r);
		list_for_each_entry_safe(job, tmp, &p->committing, list) {
			list_del(&job->list);
			if (r && job->plan.label)
				job->error = r;
			job_committed(p, job);
		}
	}
	list_for_each_entry_safe(job, tmp, &p->reader_wait, list) {
		if (atomic_read(&p->track[hash_64(job->plan.chunk, 8)]))
			continue;
		list_del(&job->list);
		finish_job(p, job);
	}
	start_waiting_jobs(p);
	if (!READ_ONCE(p->quiescing)) {
		bio_list_merge(&bios, &p->held);
		bio_list_init(&p->held);
	}
	while ((bio = bio_list_pop(&bios)))
		process_bio(p, bio);

	/* Room is made with no copy in flight: their plans hold space. */
	if (p->need_room && !atomic_read(&p->jobs_inflight) &&
	    !READ_ONCE(p->quiescing)) {
		p->need_room = false;
		r = make_room(p);
		bio_list_merge(&bios, &p->full_wait);
		bio_list_init(&p->full_wait);
		while ((bio = bio_list_pop(&bios))) {
			if (r)
				error_bio(bio, r);
			else
				process_bio(p, bio);
		}
		/* Still full: the next pass drops another snapshot. */
		if (p->need_room)
			queue_work(p->wq, &p->worker);
	}
}

/* ------------------------------------------------------------------ */
/* Quiescing, suspend, reclaim.                                        */

static void pool_quiesce(struct ssnap_pool *p)
{
	WRITE_ONCE(p->quiescing, true);
	/* Pairs with ssnap_pool_map(): set, then read the count. */
	smp_mb();
	wait_event(p->quiesce_wait, !atomic_read(&p->origin_writes) &&
		   !atomic_read(&p->jobs_inflight));
}

static void pool_unquiesce(struct ssnap_pool *p)
{
	WRITE_ONCE(p->quiescing, false);
	queue_work(p->wq, &p->worker);
}

void ssnap_pool_suspend(struct ssnap_pool *p)
{
	/* No reclaim while suspended: the COW device is left alone. */
	WRITE_ONCE(p->suspended, true);
	cancel_delayed_work_sync(&p->reclaim);
	wait_event(p->quiesce_wait, !atomic_read(&p->jobs_inflight));
	flush_workqueue(p->wq);
}

/*
 * A COW device that grew (an LV extended, a loop device's file made
 * longer) gives its new space to the store when the origin resumes.
 */
static void pool_grow(struct ssnap_pool *p)
{
	u64 blocks = bdev_nr_sectors(p->cow_bdev) / SSNAP_SECTORS_PER_BLOCK;
	struct ssnap_usage u;
	u64 old;
	int r = 0;

	mutex_lock(&p->lock);
	ssnap_usage(p->store, &u);
	old = u.total_blocks;
	if (blocks > old && !READ_ONCE(p->failed)) {
		p->kdev.dev.nr_blocks = blocks;
		r = ssnap_grow(p->store, blocks);
	}
	mutex_unlock(&p->lock);
	if (r)
		pool_fail(p, "growing the store failed", r);
	else if (blocks > old && !READ_ONCE(p->failed))
		DMINFO("%pg: the store grew from %llu to %llu blocks",
		       p->cow_bdev, old, blocks);
}

void ssnap_pool_resume(struct ssnap_pool *p, bool error_if_full)
{
	WRITE_ONCE(p->error_if_full, error_if_full);
	pool_grow(p);
	WRITE_ONCE(p->suspended, false);
	queue_delayed_work(p->wq, &p->reclaim, 0);
}

static void do_reclaim(struct work_struct *w)
{
	struct ssnap_pool *p = container_of(to_delayed_work(w),
					    struct ssnap_pool, reclaim);
	int r;

	if (READ_ONCE(p->suspended))
		return;		/* resume queues it again */
	mutex_lock(&p->lock);
	r = ssnap_gc(p->store, SSNAP_GC_BUDGET);
	mutex_unlock(&p->lock);
	if (r > 0)
		queue_delayed_work(p->wq, &p->reclaim, 0);
	else if (r < 0)
		pool_fail(p, "reclaiming space failed", r);
}

/* ------------------------------------------------------------------ */
/* Active snapshot devices.                                            */

/* The live (not dropped) entry of snapshot id, or NULL. */
static struct ssnap_active *active_find(struct ssnap_pool *p, u32 id)
{
	struct ssnap_active *a;

	list_for_each_entry(a, &p->active, list)
		if (a->id == id && !a->dropped)
			return a;
	return NULL;
}

int ssnap_pool_snap_get(struct ssnap_pool *p, u32 id,
			struct ssnap_active **out)
{
	struct ssnap_snap_info info;
	struct ssnap_active *a;
	int r;

	mutex_lock(&p->lock);
	r = ssnap_snapshot_find(p->store, id, &info);
	if (!r) {
		a = active_find(p, id);
		if (a) {
			a->refs++;
		} else {
			a = kzalloc(sizeof(*a), GFP_KERNEL);
			if (a) {
				a->id = id;
				a->label = info.label;
				a->invalid = info.flags & SSNAP_SNAP_INVALID;
				a->refs = 1;
				list_add(&a->list, &p->active);
			} else {
				r = -ENOMEM;
			}
		}
	}
	mutex_unlock(&p->lock);
	if (!r)
		*out = a;
	return r;
}

void ssnap_pool_snap_put(struct ssnap_pool *p, struct ssnap_active *a)
{
	mutex_lock(&p->lock);
	if (!--a->refs) {
		list_del(&a->list);
		kfree(a);
	}
	mutex_unlock(&p->lock);
}

/* ------------------------------------------------------------------ */
/* Messages.                                                           */

static int read_id(const char *arg, u32 *id)
{
	if (kstrtou32(arg, 10, id)) {
		DMERR("message: invalid snapshot id '%s'", arg);
		return -EINVAL;
	}
	return 0;
}

static void send_event(struct ssnap_pool *p, const char *what, u32 id)
{
	char ev[32], sid[40];
	char *envp[3];

	if (!p->disk)
		return;
	envp[0] = ev;
	envp[1] = sid;
	envp[2] = NULL;
	snprintf(ev, sizeof(ev), "SSNAP_EVENT=%s", what);
	snprintf(sid, sizeof(sid), "SSNAP_SNAPSHOT_ID=%u", id);
	kobject_uevent_env(&disk_to_dev(p->disk)->kobj, KOBJ_CHANGE, envp);
}

static int snapshot_create(struct ssnap_pool *p, unsigned int argc,
			   char **argv)
{
	const char *name = argc > 3 ? argv[3] : NULL;
	u32 id;
	int r;

	if (argc < 3 || argc > 4) {
		DMERR("message: usage: snapshot create <id> [<name>]");
		return -EINVAL;
	}
	r = read_id(argv[2], &id);
	if (r)
		return r;
	if (READ_ONCE(p->failed)) {
		DMERR("message: the store failed: no new snapshot");
		return -EIO;
	}
	pool_quiesce(p);
	mutex_lock(&p->lock);
	r = ssnap_snapshot_create(p->store, id, name, 0,
				  ktime_get_real_seconds());
	if (!r)
		r = ssnap_commit(p->store);
	if (!r)
		bitmap_zero(p->copied, p->nr_chunks);
	mutex_unlock(&p->lock);
	pool_unquiesce(p);
	if (r == -EEXIST)
		DMERR("message: snapshot %u already exists, or its name is taken",
		      id);
	else if (r)
		DMERR("message: cannot create snapshot %u: error %d", id, r);
	else
		send_event(p, "create", id);
	return r;
}

static int snapshot_delete(struct ssnap_pool *p, unsigned int argc,
			   char **argv)
{
	u32 id;
	int r;

	if (argc != 3) {
		DMERR("message: usage: snapshot delete <id>");
		return -EINVAL;
	}
	r = read_id(argv[2], &id);
	if (r)
		return r;
	pool_quiesce(p);
	mutex_lock(&p->lock);
	if (active_find(p, id)) {
		r = -EBUSY;
	} else {
		r = ssnap_snapshot_delete(p->store, id);
		if (!r)
			r = ssnap_commit(p->store);
		if (!r && !ssnap_nr_snapshots(p->store))
			bitmap_fill(p->copied, p->nr_chunks);
	}
	mutex_unlock(&p->lock);
	pool_unquiesce(p);
	if (r == -EBUSY)
		DMERR("message: snapshot %u has an active s-snap device", id);
	else if (r == -ENOENT)
		DMERR("message: no snapshot %u", id);
	else if (r)
		DMERR("message: cannot delete snapshot %u: error %d", id, r);
	if (r)
		return r;
	send_event(p, "delete", id);
	queue_delayed_work(p->wq, &p->reclaim, 0);
	return 0;
}

static int snapshot_set(struct ssnap_pool *p, unsigned int argc, char **argv)
{
	bool name = !strcasecmp(argv[1], "name");
	u32 id, prio = 0;
	int r;

	if (argc != 4) {
		DMERR("message: usage: snapshot %s <id> <%s>", argv[1],
		      name ? "name" : "priority");
		return -EINVAL;
	}
	r = read_id(argv[2], &id);
	if (r)
		return r;
	if (!name && kstrtou32(argv[3], 10, &prio)) {
		DMERR("message: invalid priority '%s'", argv[3]);
		return -EINVAL;
	}
	mutex_lock(&p->lock);
	r = name ? ssnap_snapshot_set_name(p->store, id, argv[3]) :
		ssnap_snapshot_set_priority(p->store, id, prio);
	if (!r)
		r = ssnap_commit(p->store);
	mutex_unlock(&p->lock);
	if (r == -ENOENT)
		DMERR("message: no snapshot %u", id);
	else if (r == -EEXIST)
		DMERR("message: the name '%s' is taken", argv[3]);
	else if (r == -ENAMETOOLONG)
		DMERR("message: names are at most %u bytes",
		      SSNAP_NAME_LEN - 1);
	else if (r)
		DMERR("message: cannot change snapshot %u: error %d", id, r);
	return r;
}

/* One line per live snapshot: <id> <label> <ctime> <priority> <flags> <name> */
static int snapshot_list(struct ssnap_pool *p, char *result,
			 unsigned int maxlen)
{
	struct ssnap_snap_info info;
	unsigned int sz = 0;
	u32 i, n;

	mutex_lock(&p->lock);
	n = ssnap_nr_snapshots(p->store);
	for (i = 0; i < n; i++) {
		if (ssnap_snapshot_get(p->store, i, &info))
			break;
		DMEMIT("%u %u %llu %u %x %s\n", info.id, info.label,
		       info.ctime, info.priority, info.flags,
		       info.name[0] ? info.name : "-");
	}
	mutex_unlock(&p->lock);
	return 1;
}

/*
 * One line per live snapshot: <id> <exclusive chunks> <shared chunks>.
 * The walk covers the whole exception tree, in steps, so that I/O does
 * not wait on the lock for all of it; a snapshot created or deleted
 * meanwhile starts it again.
 */
#define SSNAP_USAGE_STEP	1024
#define SSNAP_USAGE_TRIES	8

static int snapshot_usage(struct ssnap_pool *p, char *result,
			  unsigned int maxlen)
{
	struct ssnap_usage_walk *w = NULL;
	struct ssnap_snap_usage *u = NULL;
	unsigned int sz = 0, tries = 0;
	int i, n, r;

	for (;;) {
		mutex_lock(&p->lock);
		if (!w) {
			w = ssnap_usage_walk_start(p->store);
			if (!w) {
				mutex_unlock(&p->lock);
				return -ENOMEM;
			}
		}
		r = ssnap_usage_walk_step(p->store, w, SSNAP_USAGE_STEP);
		if (!r) {
			/* Done: the count of entries, or an errno. */
			n = ssnap_nr_snapshots(p->store);
			u = kvcalloc(n + 1, sizeof(*u), GFP_NOIO);
			r = u ? ssnap_usage_walk_result(p->store, w, u, n) :
				-ENOMEM;
			mutex_unlock(&p->lock);
			break;
		}
		mutex_unlock(&p->lock);
		if (r == -EAGAIN && ++tries < SSNAP_USAGE_TRIES) {
			ssnap_usage_walk_free(w);
			w = NULL;
		} else if (r < 0) {
			break;
		}
		cond_resched();
	}
	ssnap_usage_walk_free(w);
	if (r >= 0)
		for (i = 0, n = r; i < n; i++)
			DMEMIT("%u %llu %llu\n", u[i].id, u[i].exclusive,
			       u[i].shared);
	kvfree(u);
	if (r == -EAGAIN)
		DMERR("message: snapshots changed too often to count their space");
	return r < 0 ? r : 1;
}

static const char *pool_state(struct ssnap_pool *p, u32 sb_flags)
{
	if (READ_ONCE(p->failed) || (sb_flags & SSNAP_SB_FAILED))
		return "Fail";
	if (sb_flags & SSNAP_SB_NEEDS_CHECK)
		return "needs_check";
	return "ok";
}

static int usage_message(struct ssnap_pool *p, char *result,
			 unsigned int maxlen)
{
	struct ssnap_usage u;
	unsigned int sz = 0;

	mutex_lock(&p->lock);
	ssnap_usage(p->store, &u);
	mutex_unlock(&p->lock);
	DMEMIT("chunk_sectors=%u total_chunks=%llu used_chunks=%llu",
	       p->chunk_sectors, u.data_chunks + u.free_chunks, u.data_chunks);
	DMEMIT(" free_chunks=%llu meta_blocks=%llu snapshots=%u deleting=%u",
	       u.free_chunks, u.meta_blocks, u.nr_snapshots, u.nr_deleting);
	DMEMIT(" transaction=%llu state=%s", u.transaction,
	       pool_state(p, u.sb_flags));
	return 1;
}

/*
 * snapshot create <id> [<name>]
 * snapshot delete <id>
 * snapshot name <id> <name>
 * snapshot priority <id> <priority>
 * snapshot list                  (output: one line per snapshot)
 * snapshot usage                 (output: one line per snapshot)
 * usage                          (output: key=value pairs)
 */
int ssnap_pool_message(struct ssnap_pool *p, unsigned int argc, char **argv,
		       char *result, unsigned int maxlen)
{
	if (argc >= 2 && !strcasecmp(argv[0], "snapshot")) {
		if (!strcasecmp(argv[1], "create"))
			return snapshot_create(p, argc, argv);
		if (!strcasecmp(argv[1], "delete"))
			return snapshot_delete(p, argc, argv);
		if (!strcasecmp(argv[1], "name") ||
		    !strcasecmp(argv[1], "priority"))
			return snapshot_set(p, argc, argv);
		if (argc == 2 && !strcasecmp(argv[1], "list"))
			return snapshot_list(p, result, maxlen);
		if (argc == 2 && !strcasecmp(argv[1], "usage"))
			return snapshot_usage(p, result, maxlen);
	}
	if (argc == 1 && !strcasecmp(argv[0], "usage"))
		return usage_message(p, result, maxlen);
	DMERR("message: unknown or malformed message '%s%s%s'", argv[0],
	      argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
	return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* Status.                                                             */

/*
 * ": no snapshot", or the count and the ids in ascending order, as the
 * 2008 interface printed them; then
 *   <state> <used chunks>/<total chunks> <metadata blocks> <deleting>
 * with state "ok", "needs_check" or "Fail".
 */
void ssnap_pool_status(struct ssnap_pool *p, char *result,
		       unsigned int maxlen, unsigned int *szp)
{
	unsigned int sz = *szp;
	struct ssnap_snap_info info;
	struct ssnap_usage u;
	u32 i, n;

	mutex_lock(&p->lock);
	n = ssnap_nr_snapshots(p->store);
	if (!n) {
		DMEMIT(": no snapshot");
	} else {
		DMEMIT("%u", n);
		for (i = 0; i < n; i++)
			if (!ssnap_snapshot_get(p->store, i, &info))
				DMEMIT(" %u", info.id);
	}
	ssnap_usage(p->store, &u);
	mutex_unlock(&p->lock);
	DMEMIT(" %s %llu/%llu %llu %u", pool_state(p, u.sb_flags), u.data_chunks,
	       u.data_chunks + u.free_chunks, u.meta_blocks, u.nr_deleting);
	*szp = sz;
}

/*
 * "Active <label> <exclusive chunks>", "Dropped" (store full) or "Fail"
 * (store failed).
 */
void ssnap_pool_snap_status(struct ssnap_pool *p, struct ssnap_active *a,
			    char *result, unsigned int maxlen,
			    unsigned int *szp)
{
	struct ssnap_snap_info info;
	unsigned int sz = *szp;
	int r;

	if (READ_ONCE(p->failed)) {
		DMEMIT("Fail");
	} else if (READ_ONCE(a->dropped)) {
		DMEMIT("Dropped");
	} else if (READ_ONCE(a->invalid)) {
		DMEMIT("Invalid");
	} else {
		mutex_lock(&p->lock);
		r = ssnap_snapshot_find(p->store, a->id, &info);
		mutex_unlock(&p->lock);
		if (r)
			DMEMIT("Active %u -", a->label);
		else
			DMEMIT("Active %u %llu", a->label, info.exclusive);
	}
	*szp = sz;
}
