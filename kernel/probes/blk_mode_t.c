// SPDX-License-Identifier: GPL-2.0
/*
 * Linux 6.5: "block: introduce a blk_mode_t" (05bdb9965305) replaced
 * fmode_t with blk_mode_t for block device opens, and "dm: use
 * blk_mode_t" (same merge window) changed dm_get_device() and
 * dm_table_get_mode() to take and return it.
 *
 * HAVE_BLK_MODE_T: dm_get_device() takes a blk_mode_t.
 */
#include <linux/module.h>
#include <linux/device-mapper.h>

static __maybe_unused int probe(struct dm_target *ti, const char *path,
				struct dm_dev **dev)
{
	int (*get)(struct dm_target *, const char *, blk_mode_t,
		   struct dm_dev **) = dm_get_device;
	blk_mode_t mode = dm_table_get_mode(ti->table);

	return get(ti, path, mode, dev);
}

MODULE_LICENSE("GPL");
