// SPDX-License-Identifier: GPL-2.0
/*
 * Linux 6.9: "dm io: Support IO priority" (6e5f0f6383b4) added an
 * ioprio argument to dm_io().  Backported to some stable trees (Debian
 * 12's 6.1 has it), so this cannot be told from the version number.
 *
 * HAVE_DM_IO_IOPRIO: dm_io() takes a fifth, ioprio, argument.
 */
#include <linux/module.h>
#include <linux/ioprio.h>
#include <linux/dm-io.h>

static __maybe_unused int probe(struct dm_io_request *req,
				struct dm_io_region *where)
{
	unsigned long error_bits;

	return dm_io(req, 1, where, &error_bits, IOPRIO_DEFAULT);
}

MODULE_LICENSE("GPL");
