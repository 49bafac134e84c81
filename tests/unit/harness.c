// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the unit tests.
 */
#include "harness.h"

u64 h_env(const char *name, u64 def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

bool h_verbose(void)
{
	return h_env("SSNAP_VERBOSE", 0) != 0;
}

void h_quiet(void)
{
	ssnap_log_quiet = !h_verbose();
}

struct memdev *h_format(u64 nr_blocks, u32 chunk_sectors, u32 journal_blocks)
{
	struct ssnap_format_params fp = {
		.chunk_sectors = chunk_sectors,
		.origin_sectors = 1 << 20,
		.journal_blocks = journal_blocks,
		.now = 1700000000,
		.name = "unit",
		.origin_ident = "memdev",
	};
	struct memdev *d = memdev_new(nr_blocks);
	int r, i;

	for (i = 0; i < 16; i++)
		fp.uuid[i] = (u8)(0x11 * i + 3);
	r = ssnap_format(&d->dev, &fp);
	if (r) {
		fprintf(stderr, "ssnap_format: %d\n", r);
		abort();
	}
	memdev_sync(d);
	memdev_reset_faults(d);
	return d;
}

struct ssnap_store *h_open(struct memdev *d, u32 cache_blocks, int *err)
{
	struct ssnap_open_params op = { .cache_blocks = cache_blocks };
	struct ssnap_store *s = NULL;
	int r = ssnap_open(&d->dev, &op, &s);

	if (err)
		*err = r;
	return r ? NULL : s;
}

struct check_msg {
	char *msg;
	size_t len;
	int n;
};

static void check_line(void *ctx, const char *line)
{
	struct check_msg *c = ctx;

	if (!c->n++ && c->msg)
		snprintf(c->msg, c->len, "%s", line);
	if (h_verbose())
		fprintf(stderr, "check: %s\n", line);
}

int h_check(struct memdev *d, char *msg, size_t len)
{
	struct check_msg c = { msg, len, 0 };

	if (msg && len)
		msg[0] = 0;
	return ssnap_check(&d->dev, check_line, &c);
}

int h_repair(struct memdev *d, char *msg, size_t len, u32 *fixes)
{
	struct check_msg c = { msg, len, 0 };
	int r;

	if (msg && len)
		msg[0] = 0;
	r = ssnap_repair(&d->dev, check_line, &c, fixes);
	memdev_sync(d);
	return r;
}

void h_root(struct memdev *d, struct ssnap_disk_root *root)
{
	memcpy(root, memdev_block(d, SSNAP_ROOT_BLOCK), sizeof(*root));
}

u32 h_csum_seed(struct memdev *d)
{
	const struct ssnap_disk_sb *sb = (const void *)memdev_block(d, 0);

	return ssnap_crc32c(~0U, sb->uuid, sizeof(sb->uuid));
}

void h_reseal(struct memdev *d, u64 nr)
{
	u8 *b = memdev_block(d, nr);
	struct ssnap_disk_hdr *h = (void *)b;
	u32 type = le32_to_cpu(h->type);

	h->csum = cpu_to_le32(ssnap_crc32c(h_csum_seed(d), b + 4,
					   SSNAP_BLOCK_SIZE - 4) ^ type);
	memcpy(d->durable + nr * SSNAP_BLOCK_SIZE, b, SSNAP_BLOCK_SIZE);
}
