// SPDX-License-Identifier: GPL-2.0
/*
 * Block I/O for the core (struct ssnap_dev, core/ssnap.h): dm-io on the
 * COW device, 4 KiB metadata blocks; synchronous one at a time, or a
 * batch of writes all in flight at once (a commit's journal blocks, or a
 * checkpoint's blocks going home).  The core runs in process context (the
 * origin's worker, or a message), never in the bio submission path.
 */
#include <linux/blkdev.h>
#include <linux/completion.h>
#include <linux/dm-io.h>
#include <linux/ioprio.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "dm-ssnap-io.h"

static int kdev_rw(struct ssnap_dev *dev, u64 blocknr, void *buf,
		   blk_opf_t opf)
{
	struct ssnap_kdev *k = container_of(dev, struct ssnap_kdev, dev);
	struct dm_io_region where = {
		.bdev = k->bdev,
		.sector = blocknr * SSNAP_SECTORS_PER_BLOCK,
		.count = SSNAP_SECTORS_PER_BLOCK,
	};
	struct dm_io_request req = {
		.bi_opf = opf | REQ_SYNC,
		.mem.type = DM_IO_KMEM,
		.mem.ptr.addr = buf,
		.client = k->io,
	};
	unsigned long error_bits = 0;
	int r;

	if (blocknr >= dev->nr_blocks)
		return -EIO;
	r = ssnap_dm_io(&req, 1, &where, &error_bits, IOPRIO_DEFAULT);
	if (!r && error_bits)
		r = -EIO;
	return r;
}

static int kdev_read(struct ssnap_dev *dev, u64 blocknr, void *buf)
{
	return kdev_rw(dev, blocknr, buf, REQ_OP_READ);
}

static blk_opf_t kdev_write_opf(unsigned int flags)
{
	blk_opf_t opf = REQ_OP_WRITE;

	if (flags & SSNAP_IO_FUA)
		opf |= REQ_FUA;
	if (flags & SSNAP_IO_PREFLUSH)
		opf |= REQ_PREFLUSH;
	return opf;
}

static int kdev_write(struct ssnap_dev *dev, u64 blocknr, const void *buf,
		      unsigned int flags)
{
	/* dm-io only reads from the buffer of a write. */
	return kdev_rw(dev, blocknr, (void *)buf, kdev_write_opf(flags));
}

struct kdev_batch {
	atomic_t pending;
	int error;
	struct completion done;
};

static void kdev_batch_end(unsigned long error_bits, void *context)
{
	struct kdev_batch *b = context;

	if (error_bits)
		WRITE_ONCE(b->error, -EIO);
	if (atomic_dec_and_test(&b->pending))
		complete(&b->done);
}

/* A buffer that is one whole page of the direct map: it can join a run. */
static bool kdev_page_buf(const void *buf)
{
	return !is_vmalloc_addr(buf) && !offset_in_page(buf);
}

/* How many blocks from i on lie at consecutive addresses, in whole pages. */
static u32 kdev_run(const u64 *blocknr, void *const *bufs, u32 i, u32 n)
{
	u32 j = i + 1;

	if (!kdev_page_buf(bufs[i]))
		return 1;
	while (j < n && blocknr[j] == blocknr[j - 1] + 1 &&
	       kdev_page_buf(bufs[j]))
		j++;
	return j - i;
}

/*
 * All the writes in flight at once.  Blocks at consecutive addresses go
 * out as one request (a commit's record and blocks are one run in the
 * journal), with the flags of all of them: a preflush before the run's
 * first block holds before the others too.
 */
static int kdev_write_batch(struct ssnap_dev *dev, const u64 *blocknr,
			    void *const *bufs, const unsigned int *flags,
			    u32 n)
{
	struct ssnap_kdev *k = container_of(dev, struct ssnap_kdev, dev);
	struct kdev_batch b = { .error = 0 };
	struct page_list *pl;
	u32 i, j, len;
	int r = 0;

	pl = kmalloc_array(n ? n : 1, sizeof(*pl), GFP_NOIO);
	atomic_set(&b.pending, 1);
	init_completion(&b.done);
	for (i = 0; i < n; i += len) {
		struct dm_io_region where = {
			.bdev = k->bdev,
			.sector = blocknr[i] * SSNAP_SECTORS_PER_BLOCK,
		};
		struct dm_io_request req = {
			.mem.type = DM_IO_KMEM,
			.mem.ptr.addr = bufs[i],
			.notify.fn = kdev_batch_end,
			.notify.context = &b,
			.client = k->io,
		};
		unsigned int f = 0;

		len = pl ? kdev_run(blocknr, bufs, i, n) : 1;
		for (j = i; j < i + len; j++)
			f |= flags ? flags[j] : 0;
		if (len > 1) {
			for (j = i; j < i + len; j++) {
				pl[j].page = virt_to_page(bufs[j]);
				pl[j].next = j + 1 < i + len ? &pl[j + 1] : NULL;
			}
			req.mem.type = DM_IO_PAGE_LIST;
			req.mem.ptr.pl = &pl[i];
			req.mem.offset = 0;
		}
		req.bi_opf = kdev_write_opf(f) | REQ_SYNC;
		where.count = (sector_t)len * SSNAP_SECTORS_PER_BLOCK;
		if (blocknr[i + len - 1] >= dev->nr_blocks) {
			r = -EIO;
			break;
		}
		atomic_inc(&b.pending);
		if (ssnap_dm_io(&req, 1, &where, NULL, IOPRIO_DEFAULT)) {
			atomic_dec(&b.pending);
			r = -EIO;
			break;
		}
	}
	/* Wait for what went out, even after a failure to send the rest. */
	if (!atomic_dec_and_test(&b.pending))
		wait_for_completion_io(&b.done);
	kfree(pl);
	return r ? r : READ_ONCE(b.error);
}

static int kdev_flush(struct ssnap_dev *dev)
{
	struct ssnap_kdev *k = container_of(dev, struct ssnap_kdev, dev);

	return blkdev_issue_flush(k->bdev);
}

static const struct ssnap_dev_ops kdev_ops = {
	.read = kdev_read,
	.write = kdev_write,
	.flush = kdev_flush,
	.write_batch = kdev_write_batch,
};

int ssnap_kdev_init(struct ssnap_kdev *k, struct block_device *bdev,
		    sector_t sectors)
{
	k->io = dm_io_client_create();
	if (IS_ERR(k->io))
		return PTR_ERR(k->io);
	k->bdev = bdev;
	k->dev.ops = &kdev_ops;
	k->dev.priv = k;
	k->dev.nr_blocks = sectors / SSNAP_SECTORS_PER_BLOCK;
	return 0;
}

void ssnap_kdev_exit(struct ssnap_kdev *k)
{
	if (!IS_ERR_OR_NULL(k->io))
		dm_io_client_destroy(k->io);
	k->io = NULL;
}
