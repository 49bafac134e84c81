// SPDX-License-Identifier: GPL-2.0
/*
 * The s-snap-origin target: the origin device, with the shared store of
 * its snapshots on a COW device.
 *
 *   s-snap-origin <origin_dev> <cow_dev> S <chunk_sectors>
 *                 [<#feature args> <feature>...]
 *
 * <chunk_sectors> is a power of two from 8 to 2048.  One feature is
 * defined:
 *
 *   error_if_full   when the store is full, refuse origin writes that
 *                   need a copy (-ENOSPC) instead of dropping snapshots
 *
 * The data path lives in dm-ssnap-pool.c.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "dm-ssnap.h"

static_assert(SSNAP_CHUNK_MIN == 8 && SSNAP_CHUNK_MAX == 2048,
	      "SSNAP_ECHUNK_RANGE names the chunk size limits");

struct ssnap_origin {
	struct dm_dev *origin;
	struct dm_dev *cow;
	struct ssnap_shared *shared;
	unsigned int chunk_sectors;
	bool error_if_full;
};

static int parse_chunk_sectors(const char *arg, unsigned int *chunk,
			       char **error)
{
	unsigned int n;

	if (kstrtouint(arg, 10, &n)) {
		*error = SSNAP_ECHUNK_INVALID;
		return -EINVAL;
	}
	if (!is_power_of_2(n)) {
		*error = SSNAP_ECHUNK_POW2;
		return -EINVAL;
	}
	if (n < SSNAP_CHUNK_MIN || n > SSNAP_CHUNK_MAX) {
		*error = SSNAP_ECHUNK_RANGE;
		return -EINVAL;
	}
	*chunk = n;
	return 0;
}

/* One feature word. */
static int parse_feature(struct ssnap_origin *o, const char *word)
{
	if (!strcasecmp(word, "error_if_full")) {
		o->error_if_full = true;
		return 0;
	}
	return -EINVAL;
}

static int parse_features(struct dm_target *ti, struct ssnap_origin *o,
			  struct dm_arg_set *as)
{
	static const struct dm_arg feature_count = {
		0, SSNAP_MAX_FEATURE_ARGS, SSNAP_EFEATURE_COUNT
	};
	unsigned int count;
	int r;

	if (!as->argc)
		return 0;

	/* Also refuses a count larger than the words that follow it. */
	r = dm_read_arg_group(&feature_count, as, &count, &ti->error);
	if (r)
		return r;
	if (as->argc > count) {
		ti->error = SSNAP_EFEATURE_COUNT;
		return -EINVAL;
	}

	while (count--) {
		if (parse_feature(o, dm_shift_arg(as))) {
			ti->error = SSNAP_EFEATURE;
			return -EINVAL;
		}
	}
	return 0;
}

static int origin_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct dm_arg_set as = { .argc = argc, .argv = argv };
	blk_mode_t mode = dm_table_get_mode(ti->table);
	const char *origin_path, *cow_path;
	struct ssnap_origin *o;
	unsigned int chunk;
	int r;

	if (argc < 4) {
		ti->error = SSNAP_EORIGIN_ARGC;
		return -EINVAL;
	}
	origin_path = dm_shift_arg(&as);
	cow_path = dm_shift_arg(&as);

	if (strcasecmp(dm_shift_arg(&as), "S")) {
		ti->error = SSNAP_ESTORE_TYPE;
		return -EINVAL;
	}

	r = parse_chunk_sectors(dm_shift_arg(&as), &chunk, &ti->error);
	if (r)
		return r;

	o = kzalloc(sizeof(*o), GFP_KERNEL);
	if (!o) {
		ti->error = SSNAP_ENOMEM;
		return -ENOMEM;
	}
	o->chunk_sectors = chunk;

	r = parse_features(ti, o, &as);
	if (r)
		goto err_free;

	r = dm_get_device(ti, origin_path, mode, &o->origin);
	if (r) {
		ti->error = SSNAP_EORIGIN_OPEN;
		goto err_free;
	}

	r = dm_get_device(ti, cow_path, mode, &o->cow);
	if (r) {
		ti->error = SSNAP_ECOW_OPEN;
		goto err_put_origin;
	}

	if (o->origin->bdev->bd_dev == o->cow->bdev->bd_dev) {
		ti->error = SSNAP_ESAME_DEV;
		r = -EINVAL;
		goto err_put_cow;
	}

	if (bdev_nr_sectors(o->cow->bdev) < ssnap_min_cow_sectors(chunk)) {
		ti->error = SSNAP_ECOW_SMALL;
		r = -ENOSPC;
		goto err_put_cow;
	}

	r = ssnap_shared_attach(o->origin->bdev, o->cow->bdev,
				ssnap_table_devt(ti), chunk, &o->shared,
				&ti->error);
	if (r)
		goto err_put_cow;

	/*
	 * No max_io_len: reads and writes to copied chunks go whole; map()
	 * cuts the others at the first chunk boundary (ssnap_pool_map).
	 */
	o->shared->pool->disk = dm_disk(dm_table_get_md(ti->table));
	ti->num_flush_bios = 1;
	ti->num_discard_bios = 1;
	ssnap_set_discard_split(ti);
	ti->per_io_data_size = sizeof(struct ssnap_bio);
	ti->private = o;
	return 0;

err_put_cow:
	dm_put_device(ti, o->cow);
err_put_origin:
	dm_put_device(ti, o->origin);
err_free:
	kfree(o);
	return r;
}

static void origin_dtr(struct dm_target *ti)
{
	struct ssnap_origin *o = ti->private;

	ssnap_shared_put(o->shared);
	dm_put_device(ti, o->cow);
	dm_put_device(ti, o->origin);
	kfree(o);
}

static int origin_map(struct dm_target *ti, struct bio *bio)
{
	struct ssnap_origin *o = ti->private;

	bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	return ssnap_pool_map(o->shared->pool, bio, NULL);
}

static int origin_end_io(struct dm_target *ti, struct bio *bio,
			 blk_status_t *error)
{
	struct ssnap_origin *o = ti->private;

	ssnap_pool_end_io(o->shared->pool, bio);
	return DM_ENDIO_DONE;
}

static void origin_postsuspend(struct dm_target *ti)
{
	struct ssnap_origin *o = ti->private;

	ssnap_pool_suspend(o->shared->pool);
}

static void origin_resume(struct dm_target *ti)
{
	struct ssnap_origin *o = ti->private;

	ssnap_pool_resume(o->shared->pool, o->error_if_full);
}

static void origin_status(struct dm_target *ti, status_type_t type,
			  unsigned int status_flags, char *result,
			  unsigned int maxlen)
{
	struct ssnap_origin *o = ti->private;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		ssnap_pool_status(o->shared->pool, result, maxlen, &sz);
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %s S %u", o->origin->name, o->cow->name,
		       o->chunk_sectors);
		if (o->error_if_full)
			DMEMIT(" 1 error_if_full");
		break;
	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",origin_name=%s,cow_name=%s,store_type=S",
		       o->origin->name, o->cow->name);
		DMEMIT(",chunk_sectors=%u,error_if_full=%c;", o->chunk_sectors,
		       o->error_if_full ? 'y' : 'n');
		break;
	}
}

static int origin_message(struct dm_target *ti, unsigned int argc,
			  char **argv, char *result, unsigned int maxlen)
{
	struct ssnap_origin *o = ti->private;

	return ssnap_pool_message(o->shared->pool, argc, argv, result, maxlen);
}

/*
 * The COW device is reported with the origin so that its limits (block
 * size above all) are stacked too: it will take copies of origin chunks.
 */
static int origin_iterate_devices(struct dm_target *ti,
				  iterate_devices_callout_fn fn, void *data)
{
	struct ssnap_origin *o = ti->private;
	int r;

	r = fn(ti, o->origin, 0, ti->len, data);
	if (r)
		return r;
	return fn(ti, o->cow, 0, bdev_nr_sectors(o->cow->bdev), data);
}

static void origin_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	struct ssnap_origin *o = ti->private;

	ssnap_pool_io_hints(o->shared->pool, limits);
}

struct target_type ssnap_origin_target = {
	.name = "s-snap-origin",
	.version = {1, 0, 0},
	.module = THIS_MODULE,
	.ctr = origin_ctr,
	.dtr = origin_dtr,
	.map = origin_map,
	.end_io = origin_end_io,
	.postsuspend = origin_postsuspend,
	.resume = origin_resume,
	.status = origin_status,
	.message = origin_message,
	.iterate_devices = origin_iterate_devices,
	.io_hints = origin_io_hints,
};
