// SPDX-License-Identifier: GPL-2.0
/*
 * Linux 6.9: "block: add a bdev_file_open_by_{dev,path} helper"
 * (f3a608827d1f) returns an opened block device as a struct file, closed
 * with fput(); blkdev_get_by_dev() and bdev_open_by_dev() went away.
 *
 * HAVE_BDEV_FILE_OPEN_BY_DEV: bdev_file_open_by_dev() exists.
 */
#include <linux/module.h>
#include <linux/blkdev.h>
#include <linux/file.h>

static __maybe_unused void probe(dev_t dev)
{
	struct file *f = bdev_file_open_by_dev(dev, BLK_OPEN_READ, NULL, NULL);

	if (!IS_ERR(f))
		fput(f);
}

MODULE_LICENSE("GPL");
