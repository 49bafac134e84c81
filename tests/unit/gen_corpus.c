// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the fuzzer's seed corpus (see fuzz_open.c for the input
 * format): each image as it is, and a few patches to the places that
 * matter, their checksums made good.
 *
 *   gen_corpus DIR
 */
#include "fuzz_open.h"
#include "memdev.h"

#define FZ_RESEAL	0x04
#define FZ_JOURNAL	0x08
#define FZ_SMALL	0x10
#define FZ_WRITE	0x20

static const char *dir;
static u32 count;
static u8 buf[4096];
static size_t len;

static void start(u8 flags)
{
	buf[0] = flags;
	len = 1;
}

static void patch(u64 block, u32 off, const void *data, u32 n)
{
	buf[len++] = (u8)block;
	buf[len++] = (u8)(block >> 8);
	buf[len++] = (u8)off;
	buf[len++] = (u8)(off >> 8);
	buf[len++] = (u8)n;
	memcpy(buf + len, data, n);
	len += n;
}

static void patch_u64(u64 block, u32 off, u64 v)
{
	__le64 x = cpu_to_le64(v);

	patch(block, off, &x, 8);
}

static void patch_u32(u64 block, u32 off, u32 v)
{
	__le32 x = cpu_to_le32(v);

	patch(block, off, &x, 4);
}

static void patch_u16(u64 block, u32 off, u16 v)
{
	__le16 x = cpu_to_le16(v);

	patch(block, off, &x, 2);
}

static void save(const char *what)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%02u-%s", dir, count++, what);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

#define ROOT_OFF(field) ((u32)offsetof(struct ssnap_disk_root, field))
#define SB_OFF(field) ((u32)offsetof(struct ssnap_disk_sb, field))
#define NODE_OFF(field) ((u32)offsetof(struct ssnap_disk_node, field))

int main(int argc, char **argv)
{
	static const u8 plain[] = {
		0, FZ_WRITE, FZ_SMALL | FZ_WRITE,
		FZ_RESEAL | FZ_JOURNAL | FZ_SMALL | FZ_WRITE,
	};
	const u8 w = FZ_RESEAL | FZ_WRITE | FZ_SMALL;
	u64 exc, snap, bitmap = SSNAP_JOURNAL_START + 256;
	u32 i, img;
	u8 ff[64];

	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	dir = argv[1];
	ssnap_log_quiet = 1;
	memset(ff, 0xff, sizeof(ff));

	for (img = 0; img < 3; img++) {
		for (i = 0; i < sizeof(plain); i++) {
			start((u8)(img | plain[i]));
			save("plain");
		}
	}
	for (img = 1; img < 3; img++) {
		fuzz_image_info(img, &exc, &snap);

		start((u8)(img | w));
		patch_u64(SSNAP_ROOT_BLOCK, ROOT_OFF(exc_root), snap);
		save("root-exc-is-snap");
		start((u8)(img | w));
		patch_u32(SSNAP_ROOT_BLOCK, ROOT_OFF(exc_depth), 5);
		save("root-depth");
		start((u8)(img | w));
		patch_u32(SSNAP_ROOT_BLOCK, ROOT_OFF(nr_snapshots), 3);
		patch_u32(SSNAP_ROOT_BLOCK, ROOT_OFF(last_seq), 2);
		save("root-counts");
		start((u8)(img | w));
		patch_u64(SSNAP_ROOT_BLOCK, ROOT_OFF(gc_chunk), 150);
		patch_u32(SSNAP_ROOT_BLOCK, ROOT_OFF(gc_pass), 0);
		save("root-gc");
		start((u8)(img | w));
		patch_u16(exc, NODE_OFF(nr), 300);
		save("node-nr");
		start((u8)(img | w));
		patch_u16(exc, NODE_OFF(level), 0);
		save("node-level");
		start((u8)(img | w));
		/* The second key of the root node before the first. */
		patch_u64(exc, sizeof(struct ssnap_disk_node) + 12, 0);
		save("node-order");
		start((u8)(img | w));
		patch_u16(snap, NODE_OFF(nr), 1);
		save("snap-nr");
		start((u8)(img | w));
		patch(bitmap, 64 + 32, ff, sizeof(ff));
		save("bitmap-full");
		start((u8)(img | w));
		patch(bitmap, 64 + 64, ff + 32, 0);
		memset(ff, 0, sizeof(ff));
		patch(bitmap, 64 + 32, ff, sizeof(ff));
		memset(ff, 0xff, sizeof(ff));
		save("bitmap-empty");
		start((u8)(img | FZ_RESEAL));
		patch_u64(0, SB_OFF(journal_tail), 7);
		patch_u64(1, SB_OFF(journal_tail), 7);
		save("sb-tail");
		start((u8)(img | FZ_RESEAL | FZ_WRITE));
		patch_u64(0, SB_OFF(cow_blocks), 100000);
		patch_u64(1, SB_OFF(cow_blocks), 300);
		save("sb-size");
	}
	start((u8)(2 | FZ_RESEAL | FZ_JOURNAL | FZ_WRITE));
	patch_u32(SSNAP_JOURNAL_START, 24, 400);
	save("journal-nr");
	start((u8)(2 | FZ_RESEAL | FZ_JOURNAL | FZ_WRITE));
	patch_u64(SSNAP_JOURNAL_START, 32, 1);
	save("journal-home");
	printf("%u inputs in %s\n", count, dir);
	return 0;
}
