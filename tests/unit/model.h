/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A reference model of a store for the tests: what origin and every
 * snapshot should read, chunk by chunk.
 *
 * Chunk contents are 64-bit stamps.  The model keeps two data stores,
 * the origin (a stamp per chunk) and the COW device (a stamp per block),
 * and drives the engine's write plans through the protocol of ssnap.h:
 * copy src to shared/own, ssnap_commit_plan(), then the write.  What each
 * snapshot should read is kept apart, and compared with what the engine
 * says (ssnap_lookup, then the data store at that place).
 *
 * The model also plays the caller's part in crash safety, and checks
 * the engine's: a write is only let through once no committed state can
 * read the place it overwrites, so after a crash every snapshot of the
 * last committed state still finds its data.  A state is recorded at
 * every commit the engine reports (the transaction id moves), which is
 * what a recovered store must match.
 */
#ifndef MODEL_H
#define MODEL_H

#include "ssnap.h"

#define MAP_ORIGIN	SSNAP_SRC_ORIGIN
#define MAP_ZERO	SSNAP_SRC_ZERO

struct msnap {
	u32 id;
	u32 label;
	u64 *want;		/* [nchunks] stamps the snapshot should read */
	u64 *map;		/* [nchunks] where the engine last said it reads */
};

struct mstate {
	u32 nchunks;
	u64 nr_blocks;
	u64 *origin;		/* [nchunks] origin data store */
	u64 *cow;		/* [nr_blocks] COW data store */
	struct msnap *snaps;	/* by ascending id */
	u32 nr_snaps, cap_snaps;
};

struct model {
	struct mstate cur;
	struct mstate committed;	/* as of the last commit seen */
	u64 trans;			/* engine transaction then */
	u64 stamp;
	u64 chunk_blocks;

	/* what happened */
	u64 copies, snap_writes, origin_writes, inplace, extra_commits;
	u64 deferred;

	/*
	 * Origin writes held back until the next commit, as the kernel
	 * holds a write whose copy is not durable yet: (chunk, stamp).
	 */
	u64 *defer;
	u32 nr_defer, cap_defer;
	/*
	 * In-place snapshot writes to a block that another snapshot of the
	 * committed state still reads.  The model commits first (what a
	 * caller must do to stay crash safe) and counts them; an error if
	 * hazard_is_error.
	 */
	u64 hazards;
	bool hazard_is_error;

	int errors;
	char first_error[256];
};

void model_init(struct model *m, u32 nchunks, u64 nr_blocks,
		u64 chunk_blocks);
/* After a crash: the writes held back never happened. */
void model_drop_deferred(struct model *m);
void model_free(struct model *m);
void mstate_init(struct mstate *st, u32 nchunks, u64 nr_blocks);
void mstate_copy(struct mstate *dst, const struct mstate *src);
void mstate_free(struct mstate *st);

struct msnap *model_snap(struct mstate *st, u32 id);

/* Record a model error (first message kept). */
void model_fail(struct model *m, const char *fmt, ...)
	__printf(2, 3);

/*
 * After every engine call: note a commit if the transaction moved, and
 * let the origin writes it was holding through.
 */
void model_seen(struct model *m, struct ssnap_store *s);
/* The store was (re)opened or committed: its state is durable. */
void model_opened(struct model *m, struct ssnap_store *s);

/*
 * The operations, engine and model together.  Each returns the engine's
 * result (0, or a negative errno; -ENOSPC leaves the model unchanged).
 * Results the model does not expect are recorded with model_fail().
 */
int model_origin_write(struct model *m, struct ssnap_store *s, u64 chunk);
int model_snap_write(struct model *m, struct ssnap_store *s, u32 id,
		     u64 chunk, bool full);
int model_create(struct model *m, struct ssnap_store *s, u32 id);
int model_delete(struct model *m, struct ssnap_store *s, u32 id);
int model_discard(struct model *m, struct ssnap_store *s, u32 id, u64 chunk);
int model_commit(struct model *m, struct ssnap_store *s);
int model_gc(struct model *m, struct ssnap_store *s, u32 budget);
/* gc until nothing is left to reclaim; 0 or an errno. */
int model_gc_all(struct model *m, struct ssnap_store *s);

/* Refresh where every snapshot reads `chunk`. */
int model_refresh_chunk(struct model *m, struct ssnap_store *s, u64 chunk);

/*
 * Compare the store with state st: the same live ids and labels, and
 * every snapshot reading its stamps.  0 if equal; else 1 (or an errno)
 * with a description in msg.
 */
int model_compare(const struct mstate *st, struct ssnap_store *s,
		  char *msg, size_t len);
/* model_compare against m->cur, recording a failure. */
int model_verify(struct model *m, struct ssnap_store *s);

/* What snapshot sn (NULL: the origin) should read at chunk. */
u64 model_want(const struct mstate *st, const struct msnap *sn, u64 chunk);
/* Where it reads according to the engine, as a stamp of st's stores. */
int model_read(const struct mstate *st, struct ssnap_store *s, u32 label,
	       u64 chunk, u64 *stamp, u64 *where);

#endif /* MODEL_H */
