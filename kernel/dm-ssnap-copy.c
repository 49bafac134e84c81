// SPDX-License-Identifier: GPL-2.0
/*
 * Chunk copies, with buffers that are kept and reused.
 *
 * A copy reads its chunk into a buffer, then writes the buffer to each
 * destination in turn.  kcopyd, which did this before, allocates pages
 * for every copy and frees them after; where the kernel zeroes pages as
 * it hands them out (init_on_alloc, on by default in Debian's kernels)
 * that adds a chunk-sized memset to every copy, and the allocations
 * themselves cost about as much again.
 *
 * A "slot" is a buffer (its pages) with the bio and vector that carry
 * it.  The copier makes one slot when it is created, so a copy can
 * always start when none is in flight.  It makes more on demand, without
 * waiting for memory (the caller may be on the way to freeing some), up
 * to SSNAP_COPY_KEEP bytes of buffers, and keeps them until it goes.
 * When every slot is busy a copy is refused with -EAGAIN; one of the
 * copies in flight ends soon and frees its slot.
 *
 * A bio may end in any context: the next step of its copy (a write, or
 * the end and the caller's fn) runs in the copier's work item.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "dm-ssnap-copy.h"

#define SSNAP_COPY_KEEP		(4U << 20)

struct copy_slot {
	struct list_head list;		/* free, or due for its next step */
	struct ssnap_copier *cp;
	/* the copy under way */
	struct dm_io_region dests[2];
	unsigned int nr_dests;
	int step;			/* -1: the read, else the write to dests[step] */
	bool zero;			/* no read: zeroes are written */
	int read_err;
	unsigned long write_err;
	ssnap_copy_fn fn;
	void *context;
	/* the buffer */
	struct bio bio;
	struct page **pages;		/* after vecs */
	struct bio_vec vecs[];
};

struct ssnap_copier {
	unsigned int chunk_pages;
	unsigned int nr_slots, max_slots;
	spinlock_t lock;		/* free, due, nr_slots */
	struct list_head free;
	struct list_head due;
	struct workqueue_struct *wq;
	struct work_struct work;
};

static void slot_free(struct ssnap_copier *cp, struct copy_slot *s)
{
	unsigned int i;

	for (i = 0; i < cp->chunk_pages && s->pages[i]; i++)
		__free_page(s->pages[i]);
	kfree(s);
}

static struct copy_slot *slot_alloc(struct ssnap_copier *cp, gfp_t gfp)
{
	unsigned int n = cp->chunk_pages, i;
	struct copy_slot *s;

	s = kzalloc(struct_size(s, vecs, n) + n * sizeof(struct page *), gfp);
	if (!s)
		return NULL;
	s->cp = cp;
	s->pages = (struct page **)&s->vecs[n];
	for (i = 0; i < n; i++) {
		s->pages[i] = alloc_page(gfp);
		if (!s->pages[i]) {
			slot_free(cp, s);
			return NULL;
		}
	}
	return s;
}

/* A free slot, or a new one if the copier may grow; NULL if neither. */
static struct copy_slot *slot_get(struct ssnap_copier *cp)
{
	struct copy_slot *s;
	bool grow = false;

	spin_lock_irq(&cp->lock);
	s = list_first_entry_or_null(&cp->free, struct copy_slot, list);
	if (s) {
		list_del(&s->list);
	} else if (cp->nr_slots < cp->max_slots) {
		cp->nr_slots++;
		grow = true;
	}
	spin_unlock_irq(&cp->lock);
	if (grow) {
		s = slot_alloc(cp, GFP_NOWAIT | __GFP_NOWARN);
		if (!s) {
			spin_lock_irq(&cp->lock);
			cp->nr_slots--;
			spin_unlock_irq(&cp->lock);
		}
	}
	return s;
}

static void copy_endio(struct bio *bio)
{
	struct copy_slot *s = bio->bi_private;
	struct ssnap_copier *cp = s->cp;
	unsigned long flags;

	if (bio->bi_status) {
		if (s->step < 0)
			s->read_err = 1;
		else
			s->write_err |= BIT(s->step);
	}
	spin_lock_irqsave(&cp->lock, flags);
	list_add_tail(&s->list, &cp->due);
	spin_unlock_irqrestore(&cp->lock, flags);
	queue_work(cp->wq, &cp->work);
}

/* Send the slot's buffer (or zeroes) to or from where, count sectors. */
static void slot_submit(struct copy_slot *s, const struct dm_io_region *where,
			blk_opf_t opf)
{
	unsigned int bytes = where->count << SECTOR_SHIFT, len, i;

	bio_init(&s->bio, where->bdev, s->vecs, s->cp->chunk_pages, opf);
	s->bio.bi_iter.bi_sector = where->sector;
	s->bio.bi_end_io = copy_endio;
	s->bio.bi_private = s;
	for (i = 0; bytes; i++, bytes -= len) {
		len = min_t(unsigned int, bytes, PAGE_SIZE);
		__bio_add_page(&s->bio, s->zero ? ZERO_PAGE(0) : s->pages[i],
			       len, 0);
	}
	submit_bio(&s->bio);
}

static void copy_work(struct work_struct *w)
{
	struct ssnap_copier *cp = container_of(w, struct ssnap_copier, work);
	struct copy_slot *s, *tmp;
	unsigned long write_err;
	ssnap_copy_fn fn;
	void *context;
	int read_err;
	LIST_HEAD(due);

	spin_lock_irq(&cp->lock);
	list_splice_init(&cp->due, &due);
	spin_unlock_irq(&cp->lock);

	list_for_each_entry_safe(s, tmp, &due, list) {
		list_del(&s->list);
		bio_uninit(&s->bio);
		if (!s->read_err && ++s->step < s->nr_dests) {
			slot_submit(s, &s->dests[s->step], REQ_OP_WRITE);
			continue;
		}
		/* Over: the slot is free before fn runs (see ssnap_copy()). */
		fn = s->fn;
		context = s->context;
		read_err = s->read_err;
		write_err = s->write_err;
		spin_lock_irq(&cp->lock);
		list_add(&s->list, &cp->free);
		spin_unlock_irq(&cp->lock);
		fn(read_err, write_err, context);
	}
}

int ssnap_copy(struct ssnap_copier *cp, const struct dm_io_region *src,
	       unsigned int n, const struct dm_io_region *dests,
	       ssnap_copy_fn fn, void *context)
{
	struct copy_slot *s;

	if (WARN_ON_ONCE(!n || n > ARRAY_SIZE(s->dests)))
		return -EINVAL;
	s = slot_get(cp);
	if (!s)
		return -EAGAIN;
	memcpy(s->dests, dests, n * sizeof(*dests));
	s->nr_dests = n;
	s->zero = !src;
	s->read_err = 0;
	s->write_err = 0;
	s->fn = fn;
	s->context = context;
	if (src) {
		s->step = -1;
		slot_submit(s, src, REQ_OP_READ);
	} else {
		s->step = 0;
		slot_submit(s, &dests[0], REQ_OP_WRITE);
	}
	return 0;
}

struct ssnap_copier *ssnap_copier_create(unsigned int chunk_sectors,
					 struct workqueue_struct *wq)
{
	struct ssnap_copier *cp = kzalloc(sizeof(*cp), GFP_KERNEL);
	struct copy_slot *s;

	if (!cp)
		return NULL;
	cp->chunk_pages = DIV_ROUND_UP(chunk_sectors << SECTOR_SHIFT,
				       PAGE_SIZE);
	cp->max_slots = max(1U, SSNAP_COPY_KEEP /
			    (cp->chunk_pages * (unsigned int)PAGE_SIZE));
	spin_lock_init(&cp->lock);
	INIT_LIST_HEAD(&cp->free);
	INIT_LIST_HEAD(&cp->due);
	INIT_WORK(&cp->work, copy_work);
	cp->wq = wq;
	s = slot_alloc(cp, GFP_KERNEL);
	if (!s) {
		kfree(cp);
		return NULL;
	}
	list_add(&s->list, &cp->free);
	cp->nr_slots = 1;
	return cp;
}

void ssnap_copier_destroy(struct ssnap_copier *cp)
{
	struct copy_slot *s, *tmp;
	unsigned int freed = 0;

	if (!cp)
		return;
	WARN_ON_ONCE(!list_empty(&cp->due));
	list_for_each_entry_safe(s, tmp, &cp->free, list) {
		slot_free(cp, s);
		freed++;
	}
	/* A slot not back on the free list is a copy still in flight. */
	WARN_ON_ONCE(freed != cp->nr_slots);
	kfree(cp);
}
