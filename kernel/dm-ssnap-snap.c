// SPDX-License-Identifier: GPL-2.0
/*
 * The s-snap target: one snapshot of an origin device that has an
 * active s-snap-origin.
 *
 *   s-snap <origin_dev> <snapshot_id>
 *
 * <origin_dev> is the origin device the s-snap-origin was given (not
 * the s-snap-origin's own mapped device); <snapshot_id> is an unsigned
 * 32-bit number: a snapshot that exists in the store.
 *
 * A snapshot must not lose its s-snap-origin, but a destructor cannot
 * fail, so the refusal comes before it: the s-snap keeps the
 * s-snap-origin's mapped device open.  device-mapper refuses to remove
 * an open device, so "dmsetup remove" of the origin fails with EBUSY
 * while any s-snap of it exists.  The open is a plain one, not a table
 * device's exclusive claim (dm_get_device()): the origin's filesystem
 * is usually mounted, and a mount's claim and a table's cannot both be
 * held.  The s-snap also holds a reference on the registry entry, which
 * thus outlives a table that replaces the s-snap-origin's (a reload to
 * another target type).
 */
#include <linux/bio.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "dm-ssnap.h"

struct ssnap_snap {
	struct dm_dev *origin;
	struct ssnap_bdev_pin origin_md; /* the s-snap-origin, held open */
	struct ssnap_shared *shared;
	struct ssnap_active *snap;
	u32 id;
};

static int snap_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	blk_mode_t mode = dm_table_get_mode(ti->table);
	struct ssnap_snap *s;
	dev_t md_dev;
	u32 id;
	int r;

	if (argc != 2) {
		ti->error = SSNAP_ESNAP_ARGC;
		return -EINVAL;
	}

	if (kstrtou32(argv[1], 10, &id)) {
		ti->error = SSNAP_ESNAP_ID;
		return -EINVAL;
	}

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s) {
		ti->error = SSNAP_ENOMEM;
		return -ENOMEM;
	}
	s->id = id;

	r = dm_get_device(ti, argv[0], mode, &s->origin);
	if (r) {
		ti->error = SSNAP_EORIGIN_OPEN;
		goto err_free;
	}

	s->shared = ssnap_shared_find_get(s->origin->bdev->bd_dev);
	if (!s->shared) {
		ti->error = SSNAP_ENO_ORIGIN;
		r = -ENODEV;
		goto err_put_origin;
	}

	/* md_dev never changes once the entry exists. */
	md_dev = s->shared->md_dev;
	if (md_dev == ssnap_table_devt(ti)) {
		ti->error = SSNAP_ESNAP_SELF;
		r = -EINVAL;
		goto err_put_shared;
	}

	r = ssnap_bdev_pin_open(md_dev, &s->origin_md);
	if (r) {
		ti->error = SSNAP_EORIGIN_MD_OPEN;
		goto err_put_shared;
	}

	r = ssnap_pool_snap_get(s->shared->pool, id, &s->snap);
	if (r) {
		ti->error = r == -ENOENT ? SSNAP_ENO_SNAPSHOT : SSNAP_ENOMEM;
		goto err_put_origin_md;
	}

	/* Bios split at the store's chunk boundaries, as on the origin. */
	r = dm_set_target_max_io_len(ti, s->shared->chunk_sectors);
	if (r)
		goto err_snap_put;

	ti->num_flush_bios = 1;
	ti->num_discard_bios = 1;
	ssnap_set_discard_split(ti);
	ti->per_io_data_size = sizeof(struct ssnap_bio);
	ti->private = s;
	return 0;

err_snap_put:
	ssnap_pool_snap_put(s->shared->pool, s->snap);
err_put_origin_md:
	ssnap_bdev_pin_close(&s->origin_md);
err_put_shared:
	ssnap_shared_put(s->shared);
err_put_origin:
	dm_put_device(ti, s->origin);
err_free:
	kfree(s);
	return r;
}

static void snap_dtr(struct dm_target *ti)
{
	struct ssnap_snap *s = ti->private;

	ssnap_pool_snap_put(s->shared->pool, s->snap);
	ssnap_bdev_pin_close(&s->origin_md);
	ssnap_shared_put(s->shared);
	dm_put_device(ti, s->origin);
	kfree(s);
}

static int snap_map(struct dm_target *ti, struct bio *bio)
{
	struct ssnap_snap *s = ti->private;

	bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	return ssnap_pool_map(s->shared->pool, bio, s->snap);
}

static int snap_end_io(struct dm_target *ti, struct bio *bio,
		       blk_status_t *error)
{
	struct ssnap_snap *s = ti->private;

	ssnap_pool_end_io(s->shared->pool, bio);
	return DM_ENDIO_DONE;
}

static void snap_status(struct dm_target *ti, status_type_t type,
			unsigned int status_flags, char *result,
			unsigned int maxlen)
{
	struct ssnap_snap *s = ti->private;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		ssnap_pool_snap_status(s->shared->pool, s->snap, result, maxlen,
				       &sz);
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %u", s->origin->name, s->id);
		break;
	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",origin_name=%s,snapshot_id=%u;", s->origin->name,
		       s->id);
		break;
	}
}

/* Only the origin device takes I/O; the s-snap-origin is held, not used. */
static int snap_iterate_devices(struct dm_target *ti,
				iterate_devices_callout_fn fn, void *data)
{
	struct ssnap_snap *s = ti->private;

	return fn(ti, s->origin, 0, ti->len, data);
}

static void snap_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	struct ssnap_snap *s = ti->private;

	ssnap_pool_io_hints(s->shared->pool, limits);
}

struct target_type ssnap_snap_target = {
	.name = "s-snap",
	.version = {1, 0, 0},
	.module = THIS_MODULE,
	.ctr = snap_ctr,
	.dtr = snap_dtr,
	.map = snap_map,
	.end_io = snap_end_io,
	.status = snap_status,
	.iterate_devices = snap_iterate_devices,
	.io_hints = snap_io_hints,
};
