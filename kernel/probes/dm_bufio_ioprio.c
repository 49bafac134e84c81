// SPDX-License-Identifier: GPL-2.0
/*
 * Linux 6.9: "dm bufio: Support IO priority" (the companion of "dm io:
 * Support IO priority") added dm_bufio_read_with_ioprio() and
 * dm_bufio_prefetch_with_ioprio().  Debian 12's 6.1 does not have them.
 *
 * HAVE_DM_BUFIO_IOPRIO: both functions exist.
 */
#include <linux/module.h>
#include <linux/ioprio.h>
#include <linux/dm-bufio.h>

static __maybe_unused void *probe(struct dm_bufio_client *c,
				  struct dm_buffer **bp)
{
	dm_bufio_prefetch_with_ioprio(c, 0, 1, IOPRIO_DEFAULT);
	return dm_bufio_read_with_ioprio(c, 0, bp, IOPRIO_DEFAULT);
}

MODULE_LICENSE("GPL");
