// SPDX-License-Identifier: GPL-2.0
/*
 * The in-memory test device described in memdev.h.
 */
#include "memdev.h"

#define BS SSNAP_BLOCK_SIZE

static struct memdev *md(struct ssnap_dev *dev)
{
	return dev->priv;
}

/* 0, or the error an injected fault or the power cut gives this call. */
static int md_fault(struct memdev *d)
{
	d->ops++;
	if (d->dead)
		return -EIO;
	if (d->fail_op && d->ops == d->fail_op)
		return d->fail_errno ? d->fail_errno : -EIO;
	return 0;
}

static void md_make_durable(struct memdev *d)
{
	u32 i;

	for (i = 0; i < d->nr_pend; i++) {
		if (!d->pend[i].failed)
			memcpy(d->durable + d->pend[i].nr * BS,
			       d->pend[i].data, BS);
		free(d->pend[i].data);
	}
	d->nr_pend = 0;
}

static int md_read(struct ssnap_dev *dev, u64 nr, void *buf)
{
	struct memdev *d = md(dev);
	int r = md_fault(d);

	if (r)
		return r;
	if (d->fail_read_block >= 0 && (u64)d->fail_read_block == nr)
		return d->fail_errno ? d->fail_errno : -EIO;
	assert(nr < d->nr_blocks);
	d->reads++;
	memcpy(buf, d->cur + nr * BS, BS);
	return 0;
}

static void md_pend(struct memdev *d, u64 nr, const void *buf, bool failed)
{
	if (d->nr_pend == d->cap_pend) {
		d->cap_pend = d->cap_pend ? 2 * d->cap_pend : 64;
		d->pend = realloc(d->pend, d->cap_pend * sizeof(*d->pend));
		assert(d->pend);
	}
	d->pend[d->nr_pend].nr = nr;
	d->pend[d->nr_pend].data = malloc(BS);
	assert(d->pend[d->nr_pend].data);
	memcpy(d->pend[d->nr_pend].data, buf, BS);
	d->pend[d->nr_pend].failed = failed;
	d->nr_pend++;
}

/* A FUA write supersedes whatever the cache still held for its block. */
static void md_drop_pending(struct memdev *d, u64 nr)
{
	u32 i, j = 0;

	for (i = 0; i < d->nr_pend; i++) {
		if (d->pend[i].nr == nr) {
			free(d->pend[i].data);
			continue;
		}
		d->pend[j++] = d->pend[i];
	}
	d->nr_pend = j;
}

static int md_write(struct ssnap_dev *dev, u64 nr, const void *buf,
		    unsigned int flags)
{
	struct memdev *d = md(dev);
	int r = md_fault(d);

	if (r) {
		/* The write the power cut interrupted may land in part. */
		if (d->dead && d->writes == d->cut_after && nr < d->nr_blocks &&
		    !(d->nr_pend && d->pend[d->nr_pend - 1].failed))
			md_pend(d, nr, buf, true);
		return r;
	}
	if (d->fail_write_block >= 0 && (u64)d->fail_write_block == nr)
		return d->fail_errno ? d->fail_errno : -EIO;
	assert(nr < d->nr_blocks);
	if (flags & SSNAP_IO_PREFLUSH) {
		d->flushes++;
		md_make_durable(d);
	}
	d->writes++;
	memcpy(d->cur + nr * BS, buf, BS);
	if ((flags & SSNAP_IO_FUA) && nr < SSNAP_SB_SLOTS) {
		if (d->nr_fua == d->cap_fua) {
			d->cap_fua = d->cap_fua ? 2 * d->cap_fua : 16;
			d->fua_at = realloc(d->fua_at,
					    d->cap_fua * sizeof(*d->fua_at));
			assert(d->fua_at);
		}
		d->fua_at[d->nr_fua++] = d->writes;
	}
	if (flags & SSNAP_IO_FUA) {
		md_drop_pending(d, nr);
		memcpy(d->durable + nr * BS, buf, BS);
	} else {
		md_pend(d, nr, buf, false);
	}
	if (d->cut_after && d->writes >= d->cut_after)
		d->dead = true;
	return 0;
}

static int md_flush(struct ssnap_dev *dev)
{
	struct memdev *d = md(dev);
	int r = md_fault(d);

	if (r)
		return r;
	d->flushes++;
	md_make_durable(d);
	return 0;
}

static const struct ssnap_dev_ops md_ops = {
	.read = md_read,
	.write = md_write,
	.flush = md_flush,
};

/*
 * The crash tests make and drop thousands of devices of one size: keep
 * a few images for reuse rather than fault fresh memory in each time.
 */
#define POOL_MAX 8
static struct {
	u8 *buf;
	u64 nr_blocks;
} pool[POOL_MAX];

static u8 *image_get(u64 nr_blocks, bool zero)
{
	u32 i;
	u8 *b;

	for (i = 0; i < POOL_MAX; i++) {
		if (pool[i].buf && pool[i].nr_blocks == nr_blocks) {
			b = pool[i].buf;
			pool[i].buf = NULL;
			if (zero)
				memset(b, 0, nr_blocks * BS);
			return b;
		}
	}
	b = calloc(nr_blocks, BS);
	assert(b);
	return b;
}

static void image_put(u8 *b, u64 nr_blocks)
{
	u32 i;

	for (i = 0; i < POOL_MAX; i++) {
		if (pool[i].buf && pool[i].nr_blocks != nr_blocks) {
			/* Another size: the tests have moved on from it. */
			free(pool[i].buf);
			pool[i].buf = NULL;
		}
		if (!pool[i].buf) {
			pool[i].buf = b;
			pool[i].nr_blocks = nr_blocks;
			return;
		}
	}
	free(b);
}

static struct memdev *memdev_alloc(u64 nr_blocks, bool zero)
{
	struct memdev *d = calloc(1, sizeof(*d));

	assert(d);
	d->nr_blocks = nr_blocks;
	d->durable = image_get(nr_blocks, zero);
	d->cur = image_get(nr_blocks, zero);
	d->dev.ops = &md_ops;
	d->dev.priv = d;
	d->dev.nr_blocks = nr_blocks;
	d->fail_read_block = -1;
	d->fail_write_block = -1;
	return d;
}

struct memdev *memdev_new(u64 nr_blocks)
{
	return memdev_alloc(nr_blocks, true);
}

void memdev_free(struct memdev *d)
{
	u32 i;

	if (!d)
		return;
	for (i = 0; i < d->nr_pend; i++)
		free(d->pend[i].data);
	free(d->pend);
	free(d->fua_at);
	image_put(d->durable, d->nr_blocks);
	image_put(d->cur, d->nr_blocks);
	free(d);
}

struct memdev *memdev_clone_durable(const struct memdev *d)
{
	struct memdev *n = memdev_alloc(d->nr_blocks, false);

	memcpy(n->durable, d->durable, d->nr_blocks * BS);
	memcpy(n->cur, d->durable, d->nr_blocks * BS);
	return n;
}

void memdev_grow(struct memdev *d, u64 nr_blocks)
{
	u8 *durable = image_get(nr_blocks, true);
	u8 *cur = image_get(nr_blocks, true);

	assert(nr_blocks >= d->nr_blocks);
	memcpy(durable, d->durable, d->nr_blocks * BS);
	memcpy(cur, d->cur, d->nr_blocks * BS);
	image_put(d->durable, d->nr_blocks);
	image_put(d->cur, d->nr_blocks);
	d->durable = durable;
	d->cur = cur;
	d->nr_blocks = nr_blocks;
	d->dev.nr_blocks = nr_blocks;
}

void memdev_cut_after(struct memdev *d, u64 nth_write)
{
	d->cut_after = nth_write;
	if (nth_write && d->writes >= nth_write)
		d->dead = true;
}

void memdev_sync(struct memdev *d)
{
	/* cur is always durable with the pending writes applied. */
	md_make_durable(d);
}

void memdev_reset_faults(struct memdev *d)
{
	d->reads = d->writes = d->flushes = d->ops = 0;
	d->nr_fua = 0;
	d->cut_after = 0;
	d->dead = false;
	d->fail_read_block = -1;
	d->fail_write_block = -1;
	d->fail_op = 0;
	d->fail_errno = 0;
}

struct memdev *memdev_crash(const struct memdev *d, enum memdev_policy policy,
			    u64 seed)
{
	struct memdev *n = memdev_clone_durable(d);
	u64 rng = seed ^ 0x3c6ef372fe94f82bULL;
	u32 i, sec, drop = d->nr_pend ? (u32)(seed % d->nr_pend) : 0;

	rng = tr_next(&rng);
	for (i = 0; i < d->nr_pend; i++) {
		const struct memdev_pending *p = &d->pend[i];
		u8 *dst = n->durable + p->nr * BS;
		u64 bits;

		switch (policy) {
		case MEMDEV_LOSE:
			break;
		case MEMDEV_KEEP:
			if (!p->failed)
				memcpy(dst, p->data, BS);
			break;
		case MEMDEV_RANDOM:
			if (tr_next(&rng) & 1)
				memcpy(dst, p->data, BS);
			break;
		case MEMDEV_DROP_ONE:
			if (i != drop && !p->failed)
				memcpy(dst, p->data, BS);
			break;
		case MEMDEV_TORN:
			/* Some sectors of the block, whole or none too. */
			bits = tr_next(&rng);
			if ((bits & 3) == 0)
				bits = 0;
			else if ((bits & 3) == 1)
				bits = ~0ULL;
			else
				bits >>= 2;
			for (sec = 0; sec < SSNAP_SECTORS_PER_BLOCK; sec++)
				if ((bits >> sec) & 1)
					memcpy(dst + sec * 512,
					       p->data + sec * 512, 512);
			break;
		default:
			assert(0);
		}
	}
	memcpy(n->cur, n->durable, d->nr_blocks * BS);
	return n;
}

const char *memdev_policy_name(enum memdev_policy p)
{
	switch (p) {
	case MEMDEV_LOSE:
		return "lose";
	case MEMDEV_KEEP:
		return "keep";
	case MEMDEV_RANDOM:
		return "random";
	case MEMDEV_TORN:
		return "torn";
	case MEMDEV_DROP_ONE:
		return "drop-one";
	default:
		return "?";
	}
}

void memdev_flip(struct memdev *d, u64 nr, u32 off, u8 mask)
{
	assert(nr < d->nr_blocks && off < BS);
	d->durable[nr * BS + off] ^= mask;
	d->cur[nr * BS + off] ^= mask;
}

u8 *memdev_block(struct memdev *d, u64 nr)
{
	assert(nr < d->nr_blocks);
	return d->cur + nr * BS;
}
