// SPDX-License-Identifier: GPL-2.0
/*
 * Random workloads against the model, and the same workloads with the
 * power cut after every write (or a sample of the writes, for the larger
 * ones), for each way the write cache may lose what it held.
 *
 * After each cut the post-crash image must pass ssnap_check with no
 * problem, open, and show exactly the model's state at the last commit
 * the engine acknowledged, or at the commit that was in flight.  Then
 * the recovered store must go on working: a few more operations, every
 * snapshot deleted and reclaimed, and all space back.
 *
 * SSNAP_SEEDS=n runs n seeds of each workload (default: a few, to keep
 * `make unit` short); SSNAP_SEED=s starts from seed s; SSNAP_CRASH_FULL=1
 * cuts at every write of the large workloads too.
 */
#include "harness.h"

#include <setjmp.h>
#include <time.h>
#include <cmocka.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct wl {
	const char *name;
	u32 nops;
	u32 nchunks;
	u64 nr_blocks;
	u32 chunk_sectors;
	u32 journal_blocks;
	u32 max_id;
	u32 cache;
	u32 samples;		/* crash points per policy; 0: every write */
};

enum {
	OP_ORIGIN, OP_SNAP, OP_CREATE, OP_DELETE, OP_DISCARD, OP_GC,
	OP_COMMIT, OP_REOPEN, OP_VERIFY, OP_NR,
};

static const char *const op_names[OP_NR] = {
	"origin-write", "snap-write", "create", "delete", "discard", "gc",
	"commit", "reopen", "verify",
};

struct run {
	const struct wl *w;
	struct memdev *d;
	struct ssnap_store *s;
	struct model m;
	u64 rng;
	u32 ops;
	int last_op;
	char why[300];
};

static u32 pick_op(u64 *rng)
{
	u32 x = (u32)tr_below(rng, 1000);

	if (x < 300)
		return OP_ORIGIN;
	if (x < 560)
		return OP_SNAP;
	if (x < 650)
		return OP_CREATE;
	if (x < 720)
		return OP_DELETE;
	if (x < 770)
		return OP_DISCARD;
	if (x < 850)
		return OP_GC;
	if (x < 940)
		return OP_COMMIT;
	if (x < 965)
		return OP_REOPEN;
	return OP_VERIFY;
}

/* A live snapshot: the first, the last, the middle or any, by label. */
static u32 pick_snap(struct run *r)
{
	const struct mstate *st = &r->m.cur;
	u32 i, best = 0, n = st->nr_snaps;

	switch (tr_below(&r->rng, 4)) {
	case 0:		/* lowest label */
	case 1:		/* highest label */
		for (i = 1; i < n; i++)
			if ((st->snaps[i].label < st->snaps[best].label) ==
			    !(r->rng & 1))
				best = i;
		return st->snaps[best].id;
	default:
		return st->snaps[tr_below(&r->rng, n)].id;
	}
}

static u64 pick_chunk(struct run *r)
{
	/* Half the writes go to a quarter of the chunks. */
	if (tr_below(&r->rng, 2))
		return tr_below(&r->rng, (r->w->nchunks + 3) / 4);
	return tr_below(&r->rng, r->w->nchunks);
}

/*
 * One operation.  0 if it went as the model expects (an expected error
 * included); otherwise the error, with r->why set unless the power cut
 * explains it.
 */
static int one_op(struct run *r, u32 op)
{
	struct model *m = &r->m;
	u32 id;
	int e = 0;

	if (!m->cur.nr_snaps && (op == OP_SNAP || op == OP_DELETE ||
				 op == OP_DISCARD))
		op = OP_CREATE;
	r->last_op = (int)op;
	switch (op) {
	case OP_ORIGIN:
		e = model_origin_write(m, r->s, pick_chunk(r));
		break;
	case OP_SNAP:
		id = pick_snap(r);
		e = model_snap_write(m, r->s, id, pick_chunk(r),
				     tr_below(&r->rng, 3) == 0);
		break;
	case OP_CREATE:
		id = 1 + (u32)tr_below(&r->rng, r->w->max_id);
		e = model_create(m, r->s, id);
		if (e == -EEXIST && model_snap(&m->cur, id))
			e = 0;
		break;
	case OP_DELETE:
		if (tr_below(&r->rng, 10) == 0) {
			id = 1 + (u32)tr_below(&r->rng, r->w->max_id);
			e = model_delete(m, r->s, id);
			if (e == -ENOENT && !model_snap(&m->cur, id))
				e = 0;
			break;
		}
		e = model_delete(m, r->s, pick_snap(r));
		/* The kernel commits a delete at once; mostly, so do we. */
		if (!e && tr_below(&r->rng, 4))
			e = model_commit(m, r->s);
		break;
	case OP_DISCARD:
		e = model_discard(m, r->s, pick_snap(r), pick_chunk(r));
		break;
	case OP_GC:
		e = model_gc(m, r->s, 1 + (u32)tr_below(&r->rng, 16));
		if (e == 1)
			e = 0;
		break;
	case OP_COMMIT:
		e = model_commit(m, r->s);
		break;
	case OP_REOPEN:
		e = ssnap_close(r->s);
		r->s = NULL;
		if (!e)
			r->s = h_open(r->d, r->w->cache, &e);
		if (!e)
			model_opened(m, r->s);
		break;
	case OP_VERIFY:
		e = model_verify(m, r->s);
		break;
	}
	if (e == -ENOSPC && !r->d->dead)
		e = 0;
	if (m->errors) {
		snprintf(r->why, sizeof(r->why), "op %u (%s): %s", r->ops,
			 op_names[op], m->first_error);
		return e ? e : -EPROTO;
	}
	if (e && !r->d->dead)
		snprintf(r->why, sizeof(r->why), "op %u (%s): error %d",
			 r->ops, op_names[op], e);
	return e;
}

/* Run nops operations from seed; stops at the first error. */
static int run_ops(struct run *r, u64 seed, u32 nops)
{
	u32 i;
	int e;

	r->rng = seed ^ 0x5eed5eed12345ULL;
	r->rng = tr_next(&r->rng);
	for (i = 0; i < nops; i++, r->ops++) {
		e = one_op(r, pick_op(&r->rng));
		if (e)
			return e;
	}
	return 0;
}

static struct memdev *format_template(const struct wl *w)
{
	return h_format(w->nr_blocks, w->chunk_sectors, w->journal_blocks);
}

static void run_start(struct run *r, const struct wl *w,
		      const struct memdev *tmpl)
{
	int e;

	memset(r, 0, sizeof(*r));
	r->w = w;
	r->d = memdev_clone_durable(tmpl);
	r->s = h_open(r->d, w->cache, &e);
	assert_int_equal(e, 0);
	memdev_reset_faults(r->d);
	model_init(&r->m, w->nchunks, w->nr_blocks, w->chunk_sectors / 8);
	r->m.hazard_is_error = true;
	model_opened(&r->m, r->s);
}

static void run_end(struct run *r)
{
	if (r->s)
		ssnap_close(r->s);
	r->s = NULL;
	model_free(&r->m);
	memdev_free(r->d);
	r->d = NULL;
}

/*
 * The recovered store, with the model moved to the state it matched:
 * a few more operations, then everything deleted and reclaimed.
 */
static int after_recovery(struct run *r, u64 seed, bool full)
{
	u32 i;
	int e;

	if (full) {
		e = run_ops(r, seed ^ 0xabcdef, 12);
		if (e)
			return e;
	}
	for (i = r->m.cur.nr_snaps; i > 0; i--) {
		e = model_delete(&r->m, r->s, r->m.cur.snaps[i - 1].id);
		if (e)
			goto err;
	}
	e = model_commit(&r->m, r->s);
	if (!e)
		e = model_gc_all(&r->m, r->s);
	if (e)
		goto err;
	{
		struct ssnap_usage u;

		ssnap_usage(r->s, &u);
		if (u.data_chunks || u.nr_deleting || u.nr_snapshots) {
			snprintf(r->why, sizeof(r->why), "after deleting all: "
				 "%llu data chunks, %u deleting",
				 (unsigned long long)u.data_chunks,
				 u.nr_deleting);
			return -EPROTO;
		}
	}
	e = ssnap_close(r->s);
	r->s = NULL;
	if (e)
		goto err;
	{
		char msg[200];

		e = h_check(r->d, msg, sizeof(msg));
		if (e) {
			snprintf(r->why, sizeof(r->why), "check after "
				 "reclaim: %d problems: %s", e, msg);
			return -EPROTO;
		}
	}
	return 0;
err:
	if (!r->why[0])
		snprintf(r->why, sizeof(r->why), "after recovery: %d (%s)", e,
			 r->m.first_error);
	return e;
}

struct crash_stats {
	u64 workloads, points, runs, matched_inflight, recover_checks;
	u64 hazards;
};

/*
 * Cut the power after write k of the workload, crash with policy, and
 * check the recovered store.  0 if all is well.
 */
static int crash_one(const struct wl *w, const struct memdev *tmpl,
		     u64 seed, u64 k, enum memdev_policy pol,
		     struct crash_stats *cs, char *fail, size_t len)
{
	struct memdev *img;
	struct mstate *cand[2];
	struct run r;
	char why0[200], why1[200];
	int e, n, i;

	run_start(&r, w, tmpl);
	memdev_cut_after(r.d, k);
	e = run_ops(&r, seed, w->nops);
	if (e && !r.d->dead) {
		snprintf(fail, len, "seed %llu cut %llu %s: before the cut: %s",
			 (unsigned long long)seed, (unsigned long long)k,
			 memdev_policy_name(pol), r.why);
		run_end(&r);
		return -1;
	}
	if (r.s)
		ssnap_close(r.s);
	r.s = NULL;
	img = memdev_crash(r.d, pol, seed * 1000003 + k);
	memdev_free(r.d);
	r.d = img;

	n = h_check(r.d, why0, sizeof(why0));
	if (n) {
		snprintf(fail, len, "seed %llu cut %llu (%s, op %u %s): "
			 "ssnap_check %d: %s", (unsigned long long)seed,
			 (unsigned long long)k, memdev_policy_name(pol), r.ops,
			 op_names[r.last_op], n, why0);
		run_end(&r);
		return -1;
	}
	r.s = h_open(r.d, w->cache, &e);
	if (!r.s) {
		snprintf(fail, len, "seed %llu cut %llu (%s, op %u %s): "
			 "open: %d", (unsigned long long)seed,
			 (unsigned long long)k, memdev_policy_name(pol), r.ops,
			 op_names[r.last_op], e);
		run_end(&r);
		return -1;
	}
	cand[0] = &r.m.committed;
	cand[1] = &r.m.cur;
	for (i = 0; i < 2; i++) {
		e = model_compare(cand[i], r.s, i ? why1 : why0,
				  sizeof(why0));
		if (!e)
			break;
	}
	if (e) {
		snprintf(fail, len, "seed %llu cut %llu (%s, op %u %s): "
			 "neither the last commit (%s) nor the one in flight "
			 "(%s)", (unsigned long long)seed,
			 (unsigned long long)k, memdev_policy_name(pol), r.ops,
			 op_names[r.last_op], why0, why1);
		run_end(&r);
		return -1;
	}
	cs->matched_inflight += i == 1;
	model_drop_deferred(&r.m);
	if (i == 1)
		mstate_copy(&r.m.committed, &r.m.cur);
	else
		mstate_copy(&r.m.cur, &r.m.committed);
	model_opened(&r.m, r.s);
	r.why[0] = 0;
	r.m.errors = 0;
	memdev_reset_faults(r.d);
	e = after_recovery(&r, seed + k, (k % 4) == 0);
	cs->recover_checks++;
	if (e) {
		snprintf(fail, len, "seed %llu cut %llu (%s, op %u %s): %s",
			 (unsigned long long)seed, (unsigned long long)k,
			 memdev_policy_name(pol), r.ops, op_names[r.last_op],
			 r.why);
		run_end(&r);
		return -1;
	}
	cs->runs++;
	run_end(&r);
	return 0;
}

/* The workload without a cut: the model agrees, and how many writes. */
static u64 dry_run(const struct wl *w, const struct memdev *tmpl, u64 seed,
		   u64 *hazards, u8 *marks, u64 max_marks)
{
	struct run r;
	char msg[200];
	u64 writes;
	int e;

	run_start(&r, w, tmpl);
	e = run_ops(&r, seed, w->nops);
	if (e)
		fail_msg("%s seed %llu: %s", w->name, (unsigned long long)seed,
			 r.why);
	if (model_verify(&r.m, r.s))
		fail_msg("%s seed %llu: %s", w->name, (unsigned long long)seed,
			 r.m.first_error);
	writes = r.d->writes;
	*hazards += r.m.hazards;
	if (h_verbose())
		fprintf(stderr, "%s seed %llu: %u ops, %llu writes, %llu copies, "
			"%llu in place, %llu hazards, %llu extra commits, "
			"%llu held writes\n",
			w->name, (unsigned long long)seed, r.ops,
			(unsigned long long)writes,
			(unsigned long long)r.m.copies,
			(unsigned long long)r.m.inplace,
			(unsigned long long)r.m.hazards,
			(unsigned long long)r.m.extra_commits,
			(unsigned long long)r.m.deferred);
	if (marks) {
		/*
		 * Around each superblock write: checkpoints, the journal
		 * wrapping, closing.
		 */
		static const int near[] = { -1, 0, 1, 2, 3, 5, 8, 13 };
		u32 i, j;

		for (i = 0; i < r.d->nr_fua; i++) {
			for (j = 0; j < ARRAY_SIZE(near); j++) {
				s64 k = (s64)r.d->fua_at[i] + near[j];

				if (k >= 1 && (u64)k <= max_marks &&
				    (u64)k <= writes)
					marks[k] = 1;
			}
		}
	}
	e = ssnap_close(r.s);
	r.s = NULL;
	assert_int_equal(e, 0);
	e = h_check(r.d, msg, sizeof(msg));
	if (e)
		fail_msg("%s seed %llu: check %d: %s", w->name,
			 (unsigned long long)seed, e, msg);
	run_end(&r);
	return writes;
}

static void crash_test(const struct wl *w, u64 default_seeds)
{
	u64 nseeds = h_env("SSNAP_SEEDS", default_seeds);
	u64 seed0 = h_env("SSNAP_SEED", 1), seed, k, total, step;
	bool full = h_env("SSNAP_CRASH_FULL", 0) != 0;
	struct crash_stats cs = { 0 };
	struct memdev *tmpl = format_template(w);
	char fail[1024];
	u32 pol;
	time_t t0 = time(NULL);
	int bad = 0;

	for (seed = seed0; seed < seed0 + nseeds; seed++) {
		u8 *marks = calloc(1, 1 << 20);

		assert_non_null(marks);
		total = dry_run(w, tmpl, seed, &cs.hazards, marks, 1 << 20);
		assert_true(total < 1 << 20);
		step = 1;
		if (w->samples && !full && total > w->samples)
			step = total / w->samples;
		for (k = 1 + seed % step; k <= total; k += step)
			marks[k] = 1;
		cs.workloads++;
		for (k = 1; k <= total; k++) {
			if (!marks[k])
				continue;
			cs.points++;
			for (pol = 0; pol < MEMDEV_NR_POLICIES; pol++) {
				if (crash_one(w, tmpl, seed, k, pol, &cs, fail,
					      sizeof(fail))) {
					if (!bad++)
						printf("# %s: %s\n", w->name,
						       fail);
					if (bad >= 5) {
						free(marks);
						goto out;
					}
				}
			}
		}
		free(marks);
	}
out:
	printf("# %s: %llu workloads, %llu crash points x %u policies, "
	       "%llu recovered and checked (%llu at the commit in flight), "
	       "%d failed, %llu write hazards, %ld s\n", w->name,
	       (unsigned long long)cs.workloads,
	       (unsigned long long)cs.points, MEMDEV_NR_POLICIES,
	       (unsigned long long)cs.runs,
	       (unsigned long long)cs.matched_inflight, bad,
	       (unsigned long long)cs.hazards, (long)(time(NULL) - t0));
	fflush(stdout);
	memdev_free(tmpl);
	if (bad)
		fail_msg("%s: %d crash runs failed; first: %s", w->name, bad,
			 fail);
}

/* ------------------------------------------------------------------ */

static const struct wl wl_small = {
	.name = "small", .nops = 60, .nchunks = 12, .nr_blocks = 640,
	.chunk_sectors = 8, .journal_blocks = 256, .max_id = 8, .cache = 64,
};

static const struct wl wl_chunk16 = {
	.name = "chunk16", .nops = 60, .nchunks = 12, .nr_blocks = 1024,
	.chunk_sectors = 16, .journal_blocks = 256, .max_id = 8, .cache = 64,
};

static const struct wl wl_large = {
	.name = "large", .nops = 400, .nchunks = 200, .nr_blocks = 2048,
	.chunk_sectors = 8, .journal_blocks = 256, .max_id = 24, .cache = 64,
	.samples = 40,
};

static void test_crash_small(void **state)
{
	(void)state;
	crash_test(&wl_small, 3);
}

static void test_crash_chunk16(void **state)
{
	(void)state;
	crash_test(&wl_chunk16, 1);
}

static void test_crash_large(void **state)
{
	(void)state;
	crash_test(&wl_large, 1);
}

/* Long random workloads, no crash: the model agrees all along. */
static void test_model_random(void **state)
{
	static const struct wl w = {
		.name = "random", .nops = 3000, .nchunks = 200,
		.nr_blocks = 4096, .chunk_sectors = 8, .journal_blocks = 0,
		.max_id = 40, .cache = 64,
	};
	u64 nseeds = h_env("SSNAP_SEEDS", 4), seed0 = h_env("SSNAP_SEED", 1);
	u64 seed, hazards = 0;
	struct memdev *tmpl = format_template(&w);

	(void)state;
	for (seed = seed0; seed < seed0 + nseeds; seed++)
		dry_run(&w, tmpl, seed, &hazards, NULL, 0);
	memdev_free(tmpl);
	printf("# random: %llu workloads of %u operations, %llu write "
	       "hazards\n", (unsigned long long)nseeds, w.nops,
	       (unsigned long long)hazards);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_random),
		cmocka_unit_test(test_crash_small),
		cmocka_unit_test(test_crash_chunk16),
		cmocka_unit_test(test_crash_large),
	};

	h_quiet();
	return cmocka_run_group_tests_name("crash", tests, NULL, NULL);
}
