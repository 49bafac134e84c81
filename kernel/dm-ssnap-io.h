/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The COW device as the core sees it (struct ssnap_dev).
 */
#ifndef DM_SSNAP_IO_H
#define DM_SSNAP_IO_H

#include <linux/blk_types.h>

#include "ssnap.h"

struct dm_io_client;

struct ssnap_kdev {
	struct ssnap_dev dev;
	struct block_device *bdev;
	struct dm_io_client *io;
};

int ssnap_kdev_init(struct ssnap_kdev *k, struct block_device *bdev,
		    sector_t sectors);
void ssnap_kdev_exit(struct ssnap_kdev *k);

#endif /* DM_SSNAP_IO_H */
