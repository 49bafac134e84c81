// SPDX-License-Identifier: GPL-2.0
/*
 * Linux 6.3: "dm: add dm_target flag max_discard_granularity"
 * (restoring what "split_discard_bios" once did): with it set, dm core
 * splits discards on max_discard_sectors boundaries before the target
 * sees them.  Without it a discard reaches the target whole, across
 * any max_io_len boundary.
 *
 * HAVE_DM_MAX_DISCARD_GRANULARITY: struct dm_target has the flag.
 */
#include <linux/module.h>
#include <linux/device-mapper.h>

static __maybe_unused void probe(struct dm_target *ti)
{
	ti->max_discard_granularity = true;
}

MODULE_LICENSE("GPL");
