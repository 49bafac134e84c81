/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the unit tests: stores on a memdev, checking, and
 * the environment knobs (SSNAP_SEEDS, SSNAP_VERBOSE).
 */
#ifndef HARNESS_H
#define HARNESS_H

#include "memdev.h"
#include "model.h"

/* A formatted store on a new memdev, everything durable, counters 0. */
struct memdev *h_format(u64 nr_blocks, u32 chunk_sectors, u32 journal_blocks);
struct ssnap_store *h_open(struct memdev *d, u32 cache_blocks, int *err);
/* ssnap_check: the count of problems, the first one copied to msg. */
int h_check(struct memdev *d, char *msg, size_t len);
/*
 * ssnap_repair, everything it wrote made durable: problems left, the
 * first line (a fix or a problem) copied to msg.
 */
int h_repair(struct memdev *d, char *msg, size_t len, u32 *fixes);
/* A read-back of the on-disk root block. */
void h_root(struct memdev *d, struct ssnap_disk_root *root);
/* Re-seal a metadata block (after a deliberate change). */
void h_reseal(struct memdev *d, u64 nr);
/* The store's checksum seed, from the superblock in block 0. */
u32 h_csum_seed(struct memdev *d);

/* An integer from the environment, or def. */
u64 h_env(const char *name, u64 def);
bool h_verbose(void);
void h_quiet(void);

#endif /* HARNESS_H */
