// SPDX-License-Identifier: GPL-2.0
/*
 * The test device itself: write cache, flushes, power cuts, crash
 * policies and injected errors behave as the other tests assume.
 */
#include "harness.h"

#include <setjmp.h>
#include <cmocka.h>

#define BS SSNAP_BLOCK_SIZE

static void fill(u8 *buf, u8 v)
{
	memset(buf, v, BS);
}

static int wr(struct memdev *d, u64 nr, u8 v, unsigned int flags)
{
	u8 buf[BS];

	fill(buf, v);
	return d->dev.ops->write(&d->dev, nr, buf, flags);
}

static u8 durable(const struct memdev *d, u64 nr, u32 off)
{
	return d->durable[nr * BS + off];
}

static void test_cache_and_flush(void **state)
{
	struct memdev *d = memdev_new(8), *c;
	u8 buf[BS];

	(void)state;
	assert_int_equal(wr(d, 1, 0xaa, 0), 0);
	assert_int_equal(d->dev.ops->read(&d->dev, 1, buf), 0);
	assert_int_equal(buf[0], 0xaa);
	assert_int_equal(durable(d, 1, 0), 0);
	assert_int_equal(d->dev.ops->flush(&d->dev), 0);
	assert_int_equal(durable(d, 1, 0), 0xaa);

	/* FUA: durable at once; PREFLUSH: earlier writes first. */
	assert_int_equal(wr(d, 2, 0xbb, 0), 0);
	assert_int_equal(wr(d, 3, 0xcc, SSNAP_IO_FUA), 0);
	assert_int_equal(durable(d, 3, 0), 0xcc);
	assert_int_equal(durable(d, 2, 0), 0);
	assert_int_equal(wr(d, 4, 0xdd, SSNAP_IO_PREFLUSH), 0);
	assert_int_equal(durable(d, 2, 0), 0xbb);
	assert_int_equal(durable(d, 4, 0), 0);

	c = memdev_crash(d, MEMDEV_LOSE, 1);
	assert_int_equal(c->cur[4 * BS], 0);
	assert_int_equal(c->cur[2 * BS], 0xbb);
	memdev_free(c);
	c = memdev_crash(d, MEMDEV_KEEP, 1);
	assert_int_equal(c->cur[4 * BS], 0xdd);
	memdev_free(c);
	memdev_free(d);
}

static void test_power_cut(void **state)
{
	struct memdev *d = memdev_new(8), *c;
	u8 buf[BS];

	(void)state;
	memdev_cut_after(d, 2);
	assert_int_equal(wr(d, 1, 1, 0), 0);
	assert_false(d->dead);
	assert_int_equal(wr(d, 2, 2, 0), 0);
	assert_true(d->dead);
	assert_int_equal(wr(d, 3, 3, 0), -EIO);
	assert_int_equal(d->dev.ops->read(&d->dev, 1, buf), -EIO);
	assert_int_equal(d->dev.ops->flush(&d->dev), -EIO);
	assert_int_equal(d->writes, 2);

	c = memdev_crash(d, MEMDEV_KEEP, 1);
	assert_int_equal(c->cur[1 * BS], 1);
	assert_int_equal(c->cur[2 * BS], 2);
	assert_int_equal(c->cur[3 * BS], 0);	/* failed write: not kept */
	assert_false(c->dead);
	assert_int_equal(c->dev.ops->read(&c->dev, 1, buf), 0);
	memdev_free(c);
	memdev_free(d);
}

static void test_random_and_torn(void **state)
{
	struct memdev *d = memdev_new(64), *c;
	u32 i, nr, seen_keep = 0, seen_lose = 0, seen_part = 0;
	u64 seed;

	(void)state;
	for (i = 0; i < 64; i++)
		assert_int_equal(wr(d, i, (u8)(i + 1), 0), 0);
	for (seed = 1; seed < 20; seed++) {
		c = memdev_crash(d, MEMDEV_RANDOM, seed);
		for (nr = 0; nr < 64; nr++) {
			u8 v = c->cur[nr * BS];

			assert_true(v == 0 || v == nr + 1);
			seen_keep += v != 0;
			seen_lose += v == 0;
		}
		memdev_free(c);
		c = memdev_crash(d, MEMDEV_TORN, seed);
		for (nr = 0; nr < 64; nr++) {
			u32 sec, got = 0;

			for (sec = 0; sec < 8; sec++) {
				u8 v = c->cur[nr * BS + sec * 512];

				assert_true(v == 0 || v == nr + 1);
				assert_int_equal(c->cur[nr * BS + sec * 512 + 511],
						 v);
				got += v != 0;
			}
			seen_part += got && got < 8;
		}
		memdev_free(c);
	}
	assert_true(seen_keep > 0 && seen_lose > 0 && seen_part > 0);
	/* Same seed, same image. */
	c = memdev_crash(d, MEMDEV_TORN, 7);
	{
		struct memdev *e = memdev_crash(d, MEMDEV_TORN, 7);

		assert_memory_equal(c->cur, e->cur, 64 * BS);
		memdev_free(e);
	}
	memdev_free(c);
	memdev_free(d);
}

static void test_inject(void **state)
{
	struct memdev *d = memdev_new(8);
	u8 buf[BS];

	(void)state;
	d->fail_read_block = 3;
	assert_int_equal(d->dev.ops->read(&d->dev, 3, buf), -EIO);
	assert_int_equal(d->dev.ops->read(&d->dev, 2, buf), 0);
	d->fail_write_block = 5;
	d->fail_errno = -ENOSPC;
	assert_int_equal(wr(d, 5, 1, 0), -ENOSPC);
	assert_int_equal(wr(d, 4, 1, 0), 0);
	memdev_reset_faults(d);
	d->fail_op = 2;
	assert_int_equal(d->dev.ops->read(&d->dev, 3, buf), 0);
	assert_int_equal(d->dev.ops->flush(&d->dev), -EIO);
	assert_int_equal(d->dev.ops->flush(&d->dev), 0);

	memdev_flip(d, 4, 10, 0x80);
	assert_int_equal(d->durable[4 * BS + 10], 0x81);
	assert_int_equal(memdev_block(d, 4)[10], 0x81);
	memdev_free(d);
}

/* A formatted store opens, and formatting wrote only to the cache. */
static void test_format_durable(void **state)
{
	struct memdev *d = h_format(512, 8, 0);
	struct ssnap_store *s;
	char msg[200];
	int r;

	(void)state;
	assert_int_equal(h_check(d, msg, sizeof(msg)), 0);
	s = h_open(d, 0, &r);
	assert_int_equal(r, 0);
	assert_int_equal(ssnap_close(s), 0);
	memdev_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_and_flush),
		cmocka_unit_test(test_power_cut),
		cmocka_unit_test(test_random_and_torn),
		cmocka_unit_test(test_inject),
		cmocka_unit_test(test_format_durable),
	};

	h_quiet();
	return cmocka_run_group_tests_name("memdev", tests, NULL, NULL);
}
