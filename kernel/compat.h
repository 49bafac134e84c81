/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences, in one place.
 *
 * kernel/configure probes the kernel tree and writes ssnap_config.h,
 * which kbuild force-includes into every object; this header maps each
 * HAVE_* result to one API for the rest of the module.  Nothing else in
 * the module looks at kernel versions.  Each probe's file in probes/
 * names the upstream change it tracks.
 */
#ifndef SSNAP_COMPAT_H
#define SSNAP_COMPAT_H

#ifndef SSNAP_CONFIG_H
#error "ssnap_config.h missing: run kernel/configure (make -C kernel does)"
#endif

#include <linux/types.h>
#include <linux/fs.h>
#include <linux/device-mapper.h>
#include <linux/dm-io.h>
#include <linux/dm-bufio.h>
#include <linux/blkdev.h>
#include <linux/err.h>
#include <linux/file.h>

/*
 * blk_mode_t (6.5): the mode dm_get_device() takes and
 * dm_table_get_mode() returns.  Before it, both used fmode_t, whose
 * FMODE_READ/FMODE_WRITE bits the table mode still carries.
 */
#ifndef HAVE_BLK_MODE_T
#define blk_mode_t fmode_t
#endif

/*
 * dm_io() with an I/O priority (6.9, and some stable trees).  Without
 * it the request goes out with the submitting task's priority.
 */
static inline int ssnap_dm_io(struct dm_io_request *req,
			      unsigned int num_regions,
			      struct dm_io_region *where,
			      unsigned long *sync_error_bits,
			      unsigned short ioprio)
{
#ifdef HAVE_DM_IO_IOPRIO
	return dm_io(req, num_regions, where, sync_error_bits, ioprio);
#else
	return dm_io(req, num_regions, where, sync_error_bits);
#endif
}

/* dm-bufio reads and prefetches with an I/O priority (6.9). */
static inline void *ssnap_bufio_read(struct dm_bufio_client *c,
				     sector_t block, struct dm_buffer **bp,
				     unsigned short ioprio)
{
#ifdef HAVE_DM_BUFIO_IOPRIO
	return dm_bufio_read_with_ioprio(c, block, bp, ioprio);
#else
	return dm_bufio_read(c, block, bp);
#endif
}

static inline void ssnap_bufio_prefetch(struct dm_bufio_client *c,
					sector_t block, unsigned int n_blocks,
					unsigned short ioprio)
{
#ifdef HAVE_DM_BUFIO_IOPRIO
	dm_bufio_prefetch_with_ioprio(c, block, n_blocks, ioprio);
#else
	dm_bufio_prefetch(c, block, n_blocks);
#endif
}

/*
 * crc32c(): a <linux/crc32.h> library function since 6.15; before, in
 * <linux/crc32c.h> and the libcrc32c module.  The call is the same.
 */
#ifdef HAVE_CRC32C_IN_CRC32_H
#include <linux/crc32.h>
#else
#include <linux/crc32c.h>
#endif

/*
 * A plain open of a block device by number, with no holder: it counts
 * as an opener, so device-mapper refuses to remove an open mapped
 * device, but unlike dm_get_device() it claims nothing and so does not
 * collide with a mounted filesystem's exclusive claim.  The API changed
 * three times: blkdev_get_by_dev() (mode fmode_t, then blk_mode_t with
 * holder ops in 6.5), bdev_open_by_dev() (6.7), bdev_file_open_by_dev()
 * (6.9).
 */
struct ssnap_bdev_pin {
#if defined(HAVE_BDEV_FILE_OPEN_BY_DEV)
	struct file *file;
#elif defined(HAVE_BDEV_OPEN_BY_DEV)
	struct bdev_handle *handle;
#else
	struct block_device *bdev;
#endif
};

static inline int ssnap_bdev_pin_open(dev_t dev, struct ssnap_bdev_pin *pin)
{
#if defined(HAVE_BDEV_FILE_OPEN_BY_DEV)
	pin->file = bdev_file_open_by_dev(dev, BLK_OPEN_READ, NULL, NULL);
	return PTR_ERR_OR_ZERO(pin->file);
#elif defined(HAVE_BDEV_OPEN_BY_DEV)
	pin->handle = bdev_open_by_dev(dev, BLK_OPEN_READ, NULL, NULL);
	return PTR_ERR_OR_ZERO(pin->handle);
#elif defined(HAVE_BLK_MODE_T)
	pin->bdev = blkdev_get_by_dev(dev, BLK_OPEN_READ, NULL, NULL);
	return PTR_ERR_OR_ZERO(pin->bdev);
#else
	pin->bdev = blkdev_get_by_dev(dev, FMODE_READ, NULL);
	return PTR_ERR_OR_ZERO(pin->bdev);
#endif
}

static inline void ssnap_bdev_pin_close(struct ssnap_bdev_pin *pin)
{
#if defined(HAVE_BDEV_FILE_OPEN_BY_DEV)
	fput(pin->file);
#elif defined(HAVE_BDEV_OPEN_BY_DEV)
	bdev_release(pin->handle);
#elif defined(HAVE_BLK_MODE_T)
	blkdev_put(pin->bdev, NULL);
#else
	blkdev_put(pin->bdev, FMODE_READ);
#endif
}

/*
 * Discards cut at chunk boundaries.  Since 6.3 dm core does it when the
 * target asks (max_discard_granularity) and its io_hints set
 * max_discard_sectors to the chunk size; before, a discard reaches the
 * target whole and ssnap_pool_map() cuts it (dm_accept_partial_bio()).
 */
static inline void ssnap_set_discard_split(struct dm_target *ti)
{
#ifdef HAVE_DM_MAX_DISCARD_GRANULARITY
	ti->max_discard_granularity = true;
#endif
}

#endif /* SSNAP_COMPAT_H */
