// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark of the core in userspace: copy inserts, lookups, metadata
 * per copied chunk, snapshot create and delete, reclaim, and memory.
 *
 * The COW device is a sparse file on tmpfs (BENCH_DIR, default /dev/shm)
 * read and written with pread/pwrite, so the device's pages are never
 * counted in this process's resident set: the RSS growth is the
 * engine's (its block cache and tables).  Data chunks are allocated but
 * never written, as the engine only places them.
 *
 *   bench                 10^6 and 10^7 copies, 1/64/1024 snapshots
 *   BENCH_QUICK=1 bench   10^5 copies
 *   BENCH_SIZES=1000000,... BENCH_SNAPS=1,64 BENCH_CACHE=blocks to choose
 *
 * Prints a Markdown table.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <malloc.h>
#include <sys/wait.h>

#include "ssnap.h"

#define BS		SSNAP_BLOCK_SIZE
#define COMMIT_EVERY	1000

struct fdev {
	struct ssnap_dev dev;
	int fd;
	u64 reads, writes;
};

static int f_read(struct ssnap_dev *d, u64 nr, void *buf)
{
	struct fdev *f = d->priv;

	f->reads++;
	return pread(f->fd, buf, BS, (off_t)(nr * BS)) == BS ? 0 : -EIO;
}

static int f_write(struct ssnap_dev *d, u64 nr, const void *buf,
		   unsigned int flags)
{
	struct fdev *f = d->priv;

	(void)flags;
	f->writes++;
	return pwrite(f->fd, buf, BS, (off_t)(nr * BS)) == BS ? 0 : -EIO;
}

static int f_flush(struct ssnap_dev *d)
{
	(void)d;
	return 0;	/* tmpfs: nothing to flush */
}

static const struct ssnap_dev_ops f_ops = {
	.read = f_read, .write = f_write, .flush = f_flush,
};

/*
 * Rates are per second of this process's CPU time (user and system), so
 * other work on the machine does not count against the engine.
 */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

static u64 rng_next(u64 *s)
{
	u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void die(const char *what, int r)
{
	fprintf(stderr, "bench: %s: %d\n", what, r);
	exit(1);
}

struct result {
	u64 copies;
	u32 snaps;
	u32 cache;
	bool seq;
	double insert_rate, writes_per_copy, lookup_rate, small_lookup_rate;
	double bytes_all, bytes_tree;
	double create_us, delete_us, gc_s;
	long rss_kib, small_rss_kib;
	u32 depth;
};

#define SMALL_CACHE	4096

/* Random lookups over every live label; lookups per second. */
static double lookups(struct ssnap_store *s, u64 n, u32 snaps, u64 copies)
{
	u64 i, rng = 42, cow;
	double t0 = now();
	int r;

	for (i = 0; i < n; i++) {
		u64 x = rng_next(&rng);

		r = ssnap_lookup(s, 1 + (u32)(x % snaps), (x >> 32) % copies,
				 &cow);
		if (r < 0)
			die("lookup", r);
	}
	return (double)n / (now() - t0);
}

static u64 gcd(u64 a, u64 b)
{
	while (b) {
		u64 t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static void run(u64 copies, u32 snaps, u32 cache, bool seq, const char *dir,
		struct result *res)
{
	struct ssnap_format_params fp = {
		.chunk_sectors = 8,
		.now = 1700000000,
		.name = "bench",
	};
	struct ssnap_open_params op = { .cache_blocks = cache };
	u64 nr_blocks = copies + copies / 32 + 8192;
	u64 per_epoch = copies / snaps, step, ch, j, i, writes0;
	u64 fixed, groups, nlook = 2000000;
	struct ssnap_store *s;
	struct ssnap_usage u;
	struct ssnap_plan p;
	struct fdev f = { 0 };
	char path[512];
	double t0, t_ins = 0;
	long rss0;
	u32 e, ops = 0;
	int r;

	memset(res, 0, sizeof(*res));
	res->copies = copies;
	res->snaps = snaps;
	res->cache = cache;
	res->seq = seq;
	snprintf(path, sizeof(path), "%s/ssnap-bench-%d", dir, (int)getpid());
	f.fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (f.fd < 0) {
		perror(path);
		exit(1);
	}
	unlink(path);
	if (ftruncate(f.fd, (off_t)(nr_blocks * BS)))
		die("ftruncate", -errno);
	f.dev.ops = &f_ops;
	f.dev.priv = &f;
	f.dev.nr_blocks = nr_blocks;
	fp.origin_sectors = copies * 8;
	for (i = 0; i < 16; i++)
		fp.uuid[i] = (u8)(i + 1);
	r = ssnap_format(&f.dev, &fp);
	if (r)
		die("format", r);

	rss0 = rss_kib();
	r = ssnap_open(&f.dev, &op, &s);
	if (r)
		die("open", r);

	/*
	 * Epoch e: snapshot e is taken, then per_epoch origin chunks are
	 * written, each for the first time since: one copy each.  The
	 * chunks of an epoch are spread over the origin by a stride.
	 */
	step = 2654435761ULL % copies;
	while (gcd(step, copies) != 1)
		step++;
	writes0 = f.writes;
	for (e = 0; e < snaps; e++) {
		r = ssnap_snapshot_create(s, e + 1, NULL, 0, e);
		if (r)
			die("create", r);
		t0 = now();
		for (j = 0; j < per_epoch; j++) {
			if (seq)
				ch = (j + (u64)e * per_epoch) % copies;
			else
				ch = (j * step + (u64)e * 7919) % copies;
			r = ssnap_plan_write(s, SSNAP_ORIGIN, ch, &p);
			if (r)
				die("plan", r);
			if (!p.copy)
				die("plan without a copy", -EPROTO);
			r = ssnap_commit_plan(s, &p);
			if (r)
				die("commit_plan", r);
			if (++ops % COMMIT_EVERY == 0) {
				r = ssnap_commit(s);
				if (r)
					die("commit", r);
			}
		}
		r = ssnap_commit(s);
		if (r)
			die("commit", r);
		t_ins += now() - t0;
	}
	ssnap_usage(s, &u);
	res->insert_rate = (double)(per_epoch * snaps) / t_ins;
	res->writes_per_copy = (double)(f.writes - writes0) /
		(double)(per_epoch * snaps);
	groups = (u.total_blocks + SSNAP_GROUP_BLOCKS - 1) / SSNAP_GROUP_BLOCKS;
	{
		struct ssnap_disk_sb sb;

		ssnap_read_super(&f.dev, &sb);
		fixed = SSNAP_JOURNAL_START + le32_to_cpu(sb.journal_blocks) +
			groups;
	}
	res->bytes_all = (double)u.meta_blocks * BS / (double)u.data_chunks;
	res->bytes_tree = (double)(u.meta_blocks - fixed) * BS /
		(double)u.data_chunks;
	{
		u8 root[BS];

		f_read(&f.dev, SSNAP_ROOT_BLOCK, root);
		res->depth = le32_to_cpu(((struct ssnap_disk_root *)root)->
					 exc_depth);
	}

	res->lookup_rate = lookups(s, nlook, snaps, copies);
	res->rss_kib = rss_kib() - rss0;

	r = ssnap_close(s);
	if (r)
		die("close", r);

	/* The same store through a small cache: memory follows the cache. */
	malloc_trim(0);
	rss0 = rss_kib();
	op.cache_blocks = SMALL_CACHE;
	r = ssnap_open(&f.dev, &op, &s);
	if (r)
		die("open", r);
	res->small_lookup_rate = lookups(s, nlook, snaps, copies);
	res->small_rss_kib = rss_kib() - rss0;
	r = ssnap_close(s);
	if (r)
		die("close", r);
	/* Back to the big cache for creating and deleting. */
	op.cache_blocks = cache;
	r = ssnap_open(&f.dev, &op, &s);
	if (r)
		die("open", r);
	/* Create: the mean of some more, each committed. */
	t0 = now();
	for (e = 0; e < 100; e++) {
		r = ssnap_snapshot_create(s, 100000 + e, NULL, 0, 0);
		if (!r)
			r = ssnap_commit(s);
		if (r)
			die("create", r);
	}
	res->create_us = (now() - t0) / 100 * 1e6;

	/*
	 * Delete the middle snapshot (committed), then reclaim: a pass
	 * over every exception.
	 */
	t0 = now();
	r = ssnap_snapshot_delete(s, snaps / 2 + 1);
	if (!r)
		r = ssnap_commit(s);
	if (r)
		die("delete", r);
	res->delete_us = (now() - t0) * 1e6;
	t0 = now();
	while ((r = ssnap_gc(s, 4096)) == 1)
		;
	if (r)
		die("gc", r);
	res->gc_s = now() - t0;

	r = ssnap_close(s);
	if (r)
		die("close", r);
	close(f.fd);
}

/* Each configuration in a child of its own, so its RSS is its own. */
static void run_child(u64 copies, u32 snaps, u32 cache, bool seq,
		      const char *dir, struct result *res)
{
	int fds[2], st;
	pid_t pid;

	if (pipe(fds))
		die("pipe", -errno);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork", -errno);
	if (!pid) {
		close(fds[0]);
		run(copies, snaps, cache, seq, dir, res);
		if (write(fds[1], res, sizeof(*res)) != sizeof(*res))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], res, sizeof(*res)) != sizeof(*res))
		die("benchmark child failed", -EIO);
	close(fds[0]);
	waitpid(pid, &st, 0);
}

static void print_row(const struct result *res)
{
	printf("| %llu | %u%s | %u | %u | %.0f | %.1f | %.0f | %.1f | %.1f | "
	       "%.0f | %.0f | %.2f | %.1f | %.0f | %.1f |\n",
	       (unsigned long long)res->copies, res->snaps,
	       res->seq ? " (sequential)" : "", res->cache, res->depth,
	       res->insert_rate, res->writes_per_copy, res->lookup_rate,
	       res->bytes_all, res->bytes_tree, res->create_us,
	       res->delete_us, res->gc_s, res->rss_kib / 1024.0,
	       res->small_lookup_rate, res->small_rss_kib / 1024.0);
	fflush(stdout);
}

static u32 parse_list(const char *env, const char *def, u64 *out, u32 max)
{
	const char *v = getenv(env);
	char *end;
	u32 n = 0;

	if (!v || !*v)
		v = def;
	while (*v && n < max) {
		out[n++] = strtoull(v, &end, 10);
		if (end == v)
			break;
		v = *end ? end + 1 : end;
	}
	return n;
}

int main(void)
{
	u64 sizes[8], snaps[8], cache_env;
	const char *dir = getenv("BENCH_DIR");
	bool quick = getenv("BENCH_QUICK") && atoi(getenv("BENCH_QUICK"));
	u32 ns, nn, a, b;
	struct result res;
	double t0 = wall();

	if (!dir || !*dir)
		dir = "/dev/shm";
	ns = parse_list("BENCH_SIZES", quick ? "100000" : "1000000,10000000",
			sizes, 8);
	nn = parse_list("BENCH_SNAPS", "1,64,1024", snaps, 8);
	cache_env = getenv("BENCH_CACHE") ? strtoull(getenv("BENCH_CACHE"),
						      NULL, 0) : 0;
	ssnap_log_quiet = 0;

	printf("ssnap core benchmark: 4 KiB chunks, metadata on tmpfs "
	       "(pread/pwrite), commit every %u copies, one core, rates per "
	       "CPU second\n\n", COMMIT_EVERY);
	printf("| copies | snapshots | cache blocks | depth | inserts/s | "
	       "block writes/copy | lookups/s | meta B/copy (all) | "
	       "meta B/copy (tree) | create µs | delete µs | gc pass s | "
	       "RSS MiB | lookups/s, %u-block cache | RSS MiB, %u-block "
	       "cache |\n", SMALL_CACHE, SMALL_CACHE);
	printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	       "---:|---:|---:|\n");
	fflush(stdout);
	for (a = 0; a < ns; a++) {
		for (b = 0; b < nn; b++) {
			u32 cache = cache_env ? (u32)cache_env :
				(u32)(sizes[a] / 50 + 4096);

			run_child(sizes[a], (u32)snaps[b], cache, false, dir,
				  &res);
			print_row(&res);
		}
	}
	/* Origin writes in order rather than spread: fewer blocks dirtied. */
	if (nn) {
		u32 cache = cache_env ? (u32)cache_env :
			(u32)(sizes[0] / 50 + 4096);

		run_child(sizes[0], (u32)snaps[nn > 1 ? 1 : 0], cache, true,
			  dir, &res);
		print_row(&res);
	}
	printf("\nInserts: origin writes that each make one copy (plan + "
	       "commit_plan), spread over the origin unless sequential, a "
	       "commit every %u; block writes/copy counts journal and home "
	       "writes.  Lookups: random (label, chunk).  Delete: "
	       "ssnap_snapshot_delete + commit of the middle snapshot; gc "
	       "pass: ssnap_gc to completion.  RSS: growth of the resident "
	       "set while the store is open (the device is a tmpfs file).\n"
	       "Targets: >= 1000000 lookups/s, >= 200000 inserts/s in cache, "
	       "<= 32 bytes of metadata per copied chunk, memory bounded by "
	       "the cache.  Times are CPU time of the benchmark process.  Total "
	       "%.0f s.\n", COMMIT_EVERY, wall() - t0);
	return 0;
}
