// SPDX-License-Identifier: GPL-2.0
/*
 * Linux 6.7: "block: Provide bdev_open_* functions" (e719b4d15674)
 * returns a struct bdev_handle, closed with bdev_release(); 6.9 replaced
 * it with bdev_file_open_by_dev().
 *
 * HAVE_BDEV_OPEN_BY_DEV: bdev_open_by_dev() and bdev_release() exist.
 */
#include <linux/module.h>
#include <linux/blkdev.h>

static __maybe_unused void probe(dev_t dev)
{
	struct bdev_handle *h = bdev_open_by_dev(dev, BLK_OPEN_READ, NULL,
						 NULL);

	if (!IS_ERR(h))
		bdev_release(h);
}

MODULE_LICENSE("GPL");
