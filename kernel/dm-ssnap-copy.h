/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Chunk copies: read a chunk once, write it to one or two places.
 */
#ifndef DM_SSNAP_COPY_H
#define DM_SSNAP_COPY_H

#include <linux/dm-io.h>
#include <linux/workqueue.h>

struct ssnap_copier;

/*
 * Called once a copy is over, from the copier's work item: read_err is
 * nonzero when the read failed (nothing was written), write_err has bit
 * i set when the write to dests[i] failed.
 */
typedef void (*ssnap_copy_fn)(int read_err, unsigned long write_err,
			      void *context);

/*
 * A copier for chunks of chunk_sectors; its work item runs on wq.  It
 * holds at least one chunk's buffer from now on, and keeps up to
 * SSNAP_COPY_KEEP bytes of buffers once copies have needed them.
 */
struct ssnap_copier *ssnap_copier_create(unsigned int chunk_sectors,
					 struct workqueue_struct *wq);
/* Every copy must be over, and wq flushed. */
void ssnap_copier_destroy(struct ssnap_copier *cp);

/*
 * Copy src (zeroes if src is NULL) to the n (1 or 2) dests, each of
 * src's size, at most a chunk.  Returns -EAGAIN when every buffer is in
 * use and no new one can be had at once: call again after some copy's
 * fn has run.  With no copy in flight it always starts.
 */
int ssnap_copy(struct ssnap_copier *cp, const struct dm_io_region *src,
	       unsigned int n, const struct dm_io_region *dests,
	       ssnap_copy_fn fn, void *context);

#endif /* DM_SSNAP_COPY_H */
