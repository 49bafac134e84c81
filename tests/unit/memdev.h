/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An in-memory COW device for the core's tests: a disk with a volatile
 * write cache, power cuts and error injection.
 *
 * Writes land in a volatile layer (what reads see) and are remembered
 * until a flush makes them durable: ops->flush, SSNAP_IO_PREFLUSH before
 * a write, or SSNAP_IO_FUA for the write itself.  memdev_cut_after(d, n)
 * cuts the power once write number n has completed: every later call
 * fails with -EIO.  memdev_crash() then builds the image a reboot would
 * find, keeping or losing each write still in the cache by policy.
 */
#ifndef MEMDEV_H
#define MEMDEV_H

#include "ssnap.h"

enum memdev_policy {
	MEMDEV_LOSE,		/* every unflushed write is lost */
	MEMDEV_KEEP,		/* every completed write landed */
	MEMDEV_RANDOM,		/* each write lands or not (seeded) */
	MEMDEV_TORN,		/* each write lands in part: some sectors */
	MEMDEV_DROP_ONE,	/* every write lands but one (seed picks it) */
	MEMDEV_NR_POLICIES,
};

struct memdev_pending {
	u64 nr;
	u8 *data;
	bool failed;		/* the write the power cut interrupted */
};

struct memdev {
	struct ssnap_dev dev;
	u64 nr_blocks;
	u8 *durable;		/* what survives a power cut */
	u8 *cur;		/* what reads return now */
	struct memdev_pending *pend;	/* unflushed writes, oldest first */
	u32 nr_pend, cap_pend;

	/* counters */
	u64 reads, writes, flushes, ops;
	/* write numbers of the superblock writes, for crash tests */
	u64 *fua_at;
	u32 nr_fua, cap_fua;

	/* power cut: after write number cut_after (0: never) */
	u64 cut_after;
	bool dead;

	/* error injection (-1 / 0: off) */
	s64 fail_read_block;
	s64 fail_write_block;
	u64 fail_op;		/* the Nth call (1-based) of any kind fails */
	int fail_errno;
};

struct memdev *memdev_new(u64 nr_blocks);
void memdev_free(struct memdev *d);
/* A new device whose durable and current contents are d's durable ones. */
struct memdev *memdev_clone_durable(const struct memdev *d);

/* The device grows to nr_blocks (zeroes at the end), as an LV extended. */
void memdev_grow(struct memdev *d, u64 nr_blocks);

void memdev_cut_after(struct memdev *d, u64 nth_write);
/* Everything written so far becomes durable; counters are kept. */
void memdev_sync(struct memdev *d);
/* Forget counters, power cut and injected errors. */
void memdev_reset_faults(struct memdev *d);

/*
 * The image after a power failure: the durable blocks with each write
 * still in the cache applied by `policy` (seeded for RANDOM and TORN),
 * as a new device.  d itself is unchanged.
 */
struct memdev *memdev_crash(const struct memdev *d, enum memdev_policy policy,
			    u64 seed);
const char *memdev_policy_name(enum memdev_policy p);

/* Flip `mask` bits of byte `off` of block nr, durably and in view. */
void memdev_flip(struct memdev *d, u64 nr, u32 off, u8 mask);
/* A block as reads see it now. */
u8 *memdev_block(struct memdev *d, u64 nr);

/* Small deterministic PRNG (splitmix64) shared by the tests. */
static inline u64 tr_next(u64 *state)
{
	u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline u64 tr_below(u64 *state, u64 n)
{
	return n ? tr_next(state) % n : 0;
}

#endif /* MEMDEV_H */
