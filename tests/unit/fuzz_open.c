// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: open a damaged store and use it.
 *
 * The input picks one of a few small, valid stores built at start-up
 * and patches it:
 *
 *   byte 0      image (bits 0-1), then flags:
 *                 FZ_RESEAL   recompute the checksum of every patched
 *                             block, so damage gets past the checksums
 *                 FZ_JOURNAL  also make the journal's commit records
 *                             agree with the blocks after them
 *                 FZ_SMALL    a 64-block metadata cache
 *                 FZ_WRITE    also write, create, delete and reclaim
 *   then patches, each:
 *     u16 block (modulo the image size), u16 offset (modulo 4096),
 *     u8 length, then that many bytes written there
 *
 * The store is checked (ssnap_check), opened, read everywhere, and with
 * FZ_WRITE changed, reclaimed, closed and checked again.  Nothing of
 * this may crash, hang or touch memory it does not own; errors are fine.
 */
#include "fuzz_open.h"
#include "memdev.h"

#define FZ_IMAGE	0x03
#define FZ_RESEAL	0x04
#define FZ_JOURNAL	0x08
#define FZ_SMALL	0x10
#define FZ_WRITE	0x20

#define FZ_BLOCKS	384
#define FZ_NR_IMAGES	3
#define FZ_CHUNKS	64

struct fz_image {
	u8 *data;		/* FZ_BLOCKS blocks */
	u64 exc_root, snap_root;
};

static struct fz_image images[FZ_NR_IMAGES];
static struct memdev *dev;
static bool ready;

static int fz_plan(struct ssnap_store *s, u32 label, u64 chunk)
{
	struct ssnap_plan p;
	int r = ssnap_plan_write(s, label, chunk, &p);

	if (r)
		return r;
	return ssnap_commit_plan(s, &p);
}

static void fz_fail(const char *what, int r)
{
	fprintf(stderr, "fuzz_open: building the images: %s: %d\n", what, r);
	abort();
}

static struct ssnap_store *fz_open(struct memdev *d, u32 cache)
{
	struct ssnap_open_params op = { .cache_blocks = cache };
	struct ssnap_store *s = NULL;
	int r = ssnap_open(&d->dev, &op, &s);

	if (r)
		fz_fail("open", r);
	return s;
}

/*
 * 0: empty.  1: two-level trees of both kinds (exceptions made cheap by
 * discarding: a zero exception owns no space), a reclaim pass stopped
 * half way.  2: like 1, with transactions left in the journal.
 */
static void build_image(u32 idx)
{
	struct ssnap_format_params fp = {
		.chunk_sectors = 8,
		.origin_sectors = FZ_CHUNKS * 8,
		.journal_blocks = 256,
		.now = 1700000000,
		.name = "fuzz",
	};
	struct ssnap_disk_root *root;
	struct ssnap_store *s;
	struct memdev *d = memdev_new(FZ_BLOCKS), *c;
	u32 i, label;
	u64 ch;
	int r;

	for (i = 0; i < 16; i++)
		fp.uuid[i] = (u8)(i * 7 + 1);
	r = ssnap_format(&d->dev, &fp);
	if (r)
		fz_fail("format", r);
	if (idx) {
		s = fz_open(d, 0);
		r = ssnap_snapshot_create(s, 1, NULL, 1, 1);
		if (r)
			fz_fail("create", r);
		label = 1;
		for (ch = 0; ch < 200; ch++) {
			r = fz_plan(s, label, ch);
			if (!r)
				r = ssnap_discard(s, label, ch);
			if (!r && ch % 4 == 0)
				r = ssnap_commit(s);
			if (r)
				fz_fail("snapshot write", r);
		}
		for (i = 2; i <= 40; i++) {
			r = ssnap_snapshot_create(s, i, NULL, i, i);
			if (r)
				fz_fail("create", r);
		}
		for (ch = 0; ch < 8; ch++) {
			r = fz_plan(s, SSNAP_ORIGIN, ch);
			if (!r)
				r = fz_plan(s, 3, ch + 20);
			if (r)
				fz_fail("write", r);
		}
		for (i = 1; i <= 3; i++) {
			r = ssnap_snapshot_delete(s, i * 5);
			if (r)
				fz_fail("delete", r);
		}
		r = ssnap_commit(s);
		if (!r)
			r = ssnap_gc(s, 40);
		if (r < 0)
			fz_fail("gc", r);
		r = ssnap_snapshot_delete(s, 7);
		if (r)
			fz_fail("delete", r);
		if (idx == 1) {
			r = ssnap_close(s);
			if (r)
				fz_fail("close", r);
		} else {
			/* Home up to date, then transactions in the journal. */
			r = ssnap_close(s);
			if (r)
				fz_fail("close", r);
			s = fz_open(d, 0);
			for (ch = 30; ch < 38; ch++) {
				r = fz_plan(s, SSNAP_ORIGIN, ch);
				if (!r)
					r = ssnap_commit(s);
				if (r)
					fz_fail("write", r);
			}
			/* The power goes: the journal holds the last ones. */
			c = memdev_crash(d, MEMDEV_LOSE, 1);
			ssnap_log_quiet = 1;
			ssnap_close(s);
			memdev_free(d);
			d = c;
		}
	}
	memdev_sync(d);
	root = (void *)memdev_block(d, SSNAP_ROOT_BLOCK);
	if (idx && (le32_to_cpu(root->exc_depth) < 2 ||
		    le32_to_cpu(root->snap_depth) < 2))
		fz_fail("trees too shallow", -EINVAL);
	images[idx].exc_root = le64_to_cpu(root->exc_root);
	images[idx].snap_root = le64_to_cpu(root->snap_root);
	images[idx].data = malloc((size_t)FZ_BLOCKS * SSNAP_BLOCK_SIZE);
	if (!images[idx].data)
		abort();
	memcpy(images[idx].data, d->durable,
	       (size_t)FZ_BLOCKS * SSNAP_BLOCK_SIZE);
	memdev_free(d);
}

static void fz_init(void)
{
	u32 i;

	if (ready)
		return;
	for (i = 0; i < FZ_NR_IMAGES; i++)
		build_image(i);
	dev = memdev_new(FZ_BLOCKS);
	ssnap_log_quiet = 1;
	ready = true;
}

void fuzz_image_info(u32 idx, u64 *exc_root, u64 *snap_root)
{
	fz_init();
	*exc_root = images[idx % FZ_NR_IMAGES].exc_root;
	*snap_root = images[idx % FZ_NR_IMAGES].snap_root;
}

static u32 image_seed(const u8 *img)
{
	const struct ssnap_disk_sb *sb = (const void *)img;

	return ssnap_crc32c(~0U, sb->uuid, sizeof(sb->uuid));
}

static void reseal(u8 *img, u64 nr, u32 seed)
{
	u8 *b = img + nr * SSNAP_BLOCK_SIZE;

	if (nr < SSNAP_ROOT_BLOCK) {
		struct ssnap_disk_sb *sb = (void *)b;

		sb->csum = cpu_to_le32(ssnap_crc32c(~0U, b + 4,
						    SSNAP_SB_SLOT_SIZE - 4) ^
				       SSNAP_BT_SUPER);
	} else {
		struct ssnap_disk_hdr *h = (void *)b;

		h->csum = cpu_to_le32(ssnap_crc32c(seed, b + 4,
						   SSNAP_BLOCK_SIZE - 4) ^
				      le32_to_cpu(h->type));
	}
}

/* Make each commit record list the checksums of the blocks after it. */
static void fix_journal(u8 *img, u32 seed)
{
	u64 pos = SSNAP_JOURNAL_START, end = SSNAP_JOURNAL_START + 256;

	while (pos < end) {
		struct ssnap_disk_commit *c =
			(void *)(img + pos * SSNAP_BLOCK_SIZE);
		u32 i, nr;

		if (le32_to_cpu(c->hdr.type) != SSNAP_BT_COMMIT) {
			pos++;
			continue;
		}
		nr = le32_to_cpu(c->nr);
		if (nr > SSNAP_COMMIT_MAX)
			nr = SSNAP_COMMIT_MAX;
		for (i = 0; i < nr && pos + 1 + i < end; i++) {
			const struct ssnap_disk_hdr *h = (const void *)
				(img + (pos + 1 + i) * SSNAP_BLOCK_SIZE);

			c->ent[i].csum = h->csum;
		}
		reseal(img, pos, seed);
		pos += 1 + nr;
	}
}

static u8 seen[FZ_BLOCKS];

static int diff_cb(void *ctx, u64 chunk)
{
	*(u64 *)ctx += 1 + (chunk & 0);
	return 0;
}

static void use_store(struct ssnap_store *s, bool write, bool walks)
{
	struct ssnap_snap_usage su[48];
	struct ssnap_snap_info info;
	struct ssnap_usage u;
	u32 i, n, labels[8], nl = 0;
	u64 ch, cow, cnt = 0;
	int r, loops;

	memset(&info, 0, sizeof(info));
	ssnap_usage(s, &u);
	n = ssnap_nr_snapshots(s);
	for (i = 0; i < n && nl < 8; i++)
		if (!ssnap_snapshot_get(s, i, &info))
			labels[nl++] = info.label;
	for (i = 0; i < nl; i++)
		for (ch = 0; ch < FZ_CHUNKS; ch++)
			if (ssnap_lookup(s, labels[i], ch, &cow) < 0)
				break;
	if (walks) {
		ssnap_snapshot_usage(s, su, 48);
		if (nl)
			ssnap_diff(s, labels[0], SSNAP_ORIGIN, diff_cb, &cnt);
		if (nl > 1)
			ssnap_diff(s, labels[0], labels[nl - 1], diff_cb,
				   &cnt);
	}
	if (!write)
		return;
	for (ch = 0; ch < 12; ch++)
		if (fz_plan(s, SSNAP_ORIGIN, ch * 5) < 0)
			break;
	for (i = 0; i < nl && i < 3; i++) {
		fz_plan(s, labels[i], i + 1);
		ssnap_discard(s, labels[i], i + 1);
	}
	ssnap_snapshot_create(s, 900, "new", 1, 1);
	if (n)
		ssnap_snapshot_delete(s, info.id);
	ssnap_commit(s);
	for (loops = 0; walks && loops < 100; loops++) {
		r = ssnap_gc(s, 16);
		if (r != 1)
			break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssnap_open_params op = { 0 };
	struct ssnap_store *s = NULL;
	const struct fz_image *im;
	u8 flags, *img;
	size_t pos = 1;
	u32 seed, i, fixes;
	bool walks;

	fz_init();
	if (!size)
		return 0;
	flags = data[0];
	im = &images[(flags & FZ_IMAGE) % FZ_NR_IMAGES];
	memdev_reset_faults(dev);
	memdev_sync(dev);
	img = dev->durable;
	memcpy(img, im->data, (size_t)FZ_BLOCKS * SSNAP_BLOCK_SIZE);
	memset(seen, 0, sizeof(seen));
	seed = image_seed(img);

	while (pos + 5 <= size) {
		u64 nr = (data[pos] | (u64)data[pos + 1] << 8) % FZ_BLOCKS;
		u32 off = (data[pos + 2] | (u32)data[pos + 3] << 8) %
			SSNAP_BLOCK_SIZE;
		u32 len = data[pos + 4];

		pos += 5;
		if (len > size - pos)
			len = (u32)(size - pos);
		if (len > SSNAP_BLOCK_SIZE - off)
			len = SSNAP_BLOCK_SIZE - off;
		memcpy(img + nr * SSNAP_BLOCK_SIZE + off, data + pos, len);
		pos += len;
		seen[nr] = 1;
	}
	if (flags & FZ_JOURNAL)
		fix_journal(img, seed);
	if (flags & FZ_RESEAL)
		for (i = 0; i < FZ_BLOCKS; i++)
			if (seen[i])
				reseal(img, i, seed);
	if (flags & FZ_JOURNAL)
		fix_journal(img, seed);
	memcpy(dev->cur, img, (size_t)FZ_BLOCKS * SSNAP_BLOCK_SIZE);

	/* Checking must survive any image; its verdict is not the point. */
	(void)ssnap_check(&dev->dev, NULL, NULL);
	walks = true;
	op.cache_blocks = flags & FZ_SMALL ? 64 : 0;
	if (!ssnap_open(&dev->dev, &op, &s)) {
		use_store(s, flags & FZ_WRITE, walks);
		ssnap_close(s);
		if (flags & FZ_WRITE)
			ssnap_check(&dev->dev, NULL, NULL);
	}
	op.read_only = true;
	if (!ssnap_open(&dev->dev, &op, &s)) {
		use_store(s, false, walks);
		ssnap_close(s);
	}
	/* Repairing must survive any image too, and mean what it says. */
	if (!ssnap_repair(&dev->dev, NULL, NULL, &fixes) &&
	    ssnap_check(&dev->dev, NULL, NULL))
		abort();
	return 0;
}
