// SPDX-License-Identifier: GPL-2.0
/*
 * check and dump: the core on a store that is not active, read-only.
 *
 * check's exit status is e2fsck's shape: 0 clean, 1 problems found (with
 * --repair: all fixed), 4 problems left after --repair, 8
 * the check could not run (no store, in use, unreadable).  Problems come
 * from ssnap_check() and from the core's own messages, which name the
 * damaged block ("block 1027: bad checksum ...").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format-output.h"
#include "ssnap-tool.h"

static const char *open_error(int r)
{
	switch (r) {
	case -EBUSY:
		return "device is in use (an active origin?); deactivate it "
		       "first";
	case -EINVAL:
		return "not an ssnap store";
	case -EILSEQ:
		return "both superblocks are damaged";
	case -EOPNOTSUPP:
		return "the store uses features this ssnap does not know";
	default:
		return strerror(-r);
	}
}

/* Once the superblock was read: what stops the store from opening. */
static const char *store_error(int r)
{
	return r == -EILSEQ ? "damaged metadata" : open_error(r);
}

/* ------------------------------------------------------------------ */
/* check                                                               */

struct problems {
	char **v;
	unsigned int n;
};

static void free_problems(struct problems *p)
{
	unsigned int i;

	for (i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

static void problem(void *ctx, const char *msg)
{
	struct problems *p = ctx;
	char **v = realloc(p->v, (p->n + 1) * sizeof(*v));

	if (!v)
		return;
	p->v = v;
	p->v[p->n++] = xstrdup(msg);
}

/* ssnap_repair's lines: "fixed: ..." or a problem left. */
struct repair_lines {
	struct problems *fixes, *left;
};

static void repair_line(void *ctx, const char *msg)
{
	struct repair_lines *l = ctx;

	if (!strncmp(msg, "fixed: ", 7))
		problem(l->fixes, msg + 7);
	else
		problem(l->left, msg);
}

static const struct rowspec check_spec[] = {
	{ .key = "device", .fmt = "str", .out_text = "Device" },
	{ .key = "status", .fmt = "str", .out_text = "Status" },
	{ .key = "problems", .fmt = "array", .out_text = "Problems" },
	{ .key = "problem", .fmt = "str", .out_text = "Problem" },
	{ .key = "fixed", .fmt = "array", .out_text = "Fixed" },
	{ .key = "fix", .fmt = "str", .out_text = "Fix" },
	{ .key = "messages", .fmt = "array", .out_text = "Core messages" },
	{ .key = "message", .fmt = "str", .out_text = "Message" },
	{ .key = "error", .fmt = "str", .out_text = "Error" },
	{ .key = "exit_code", .fmt = "u32" },
	{ 0 }
};

/* The core's messages, split back at "; " (store_log_text). */
static void print_messages(struct fmt_ctx *f, const char *log)
{
	char *copy, *p, *next;

	if (!log)
		return;
	fmt_open(f, "messages", FMT_ARRAY);
	copy = xstrdup(log);
	for (p = copy; p; p = next) {
		next = strstr(p, "; ");
		if (next) {
			*next = '\0';
			next += 2;
		}
		fmt_print(f, "message", p);
	}
	free(copy);
	fmt_close(f);
}

int cmd_check(const struct cmd *cmd, int argc, char **argv)
{
	struct problems p = { 0 }, fixes = { 0 };
	struct fmt_ctx f;
	struct fd_dev d;
	const char *path, *log = NULL;
	bool json = false, repair = false;
	unsigned int i;
	u32 nfix = 0;
	int c, r, ret;

	while ((c = cmd_getopt(cmd, argc, argv)) != -1) {
		if (c == 'J')
			json = true;
		else if (c == 'r')
			repair = true;
	}
	argc -= cmd_optind;
	argv += cmd_optind;
	cmd_want_args(cmd, argc, argv, 1, 1);
	path = argv[0];

	r = fd_dev_open(&d, path, (repair ? O_RDWR : O_RDONLY) | O_EXCL);
	if (!r) {
		store_log_begin();
		if (repair)
			r = ssnap_repair(&d.dev, repair_line, &(struct repair_lines){
					 &fixes, &p }, &nfix);
		else
			r = ssnap_check(&d.dev, problem, &p);
		store_log_end();
		log = store_log_text();
		fd_dev_close(&d);
	}
	if (r < 0)
		ret = EXIT_CHECK_ERROR;
	else if (r > 0 || p.n)
		ret = repair ? EXIT_CHECK_LEFT : EXIT_CHECK_PROBLEMS;
	else if (nfix)
		ret = EXIT_CHECK_PROBLEMS;
	else
		ret = EXIT_OK;
	/* A store that does not open cannot be repaired: problems left. */
	if (repair && r == -EILSEQ)
		ret = EXIT_CHECK_LEFT;

	if (!json && ret == EXIT_CHECK_ERROR) {
		pr_err("%s: cannot check: %s%s%s", path, open_error(r),
		       log ? ": " : "", log ? log : "");
		return ret;
	}
	if (!json) {
		/* e2fsck's way: the fixes, the problems, a summary line. */
		for (i = 0; i < fixes.n; i++)
			printf("%s: fixed: %s\n", path, fixes.v[i]);
		for (i = 0; i < p.n; i++)
			printf("%s: %s\n", path, p.v[i]);
		if ((p.n || r > 0 || r == -EILSEQ) && log)
			printf("%s: core: %s\n", path, log);
		if (p.n || r)
			printf("%s: %u problem%s %s\n", path, p.n,
			       p.n == 1 ? "" : "s", repair ? "left" : "found");
		else if (fixes.n)
			printf("%s: repaired, clean\n", path);
		else
			printf("%s: clean\n", path);
	} else {
		fmt_start(&f, check_spec, true);
		fmt_print(&f, "device", path);
		fmt_print(&f, "status", p.n || r > 0 || r == -EILSEQ ?
			  "problems" : ret == EXIT_CHECK_ERROR ? "error" :
			  fixes.n ? "repaired" : "clean");
		if (ret == EXIT_CHECK_ERROR)
			fmt_print(&f, "error", open_error(r));
		if (repair) {
			fmt_open(&f, "fixed", FMT_ARRAY);
			for (i = 0; i < fixes.n; i++)
				fmt_print(&f, "fix", fixes.v[i]);
			fmt_close(&f);
		}
		fmt_open(&f, "problems", FMT_ARRAY);
		for (i = 0; i < p.n; i++)
			fmt_print(&f, "problem", p.v[i]);
		fmt_close(&f);
		print_messages(&f, log);
		fmt_print(&f, "exit_code", (uint32_t)ret);
		fmt_end(&f);
	}
	free_problems(&p);
	free_problems(&fixes);
	return ret;
}

/* ------------------------------------------------------------------ */
/* dump, and list --all's view of an inactive store                    */

static int open_store(const char *path, struct fd_dev *d,
		      struct ssnap_store **s, bool *busy)
{
	struct ssnap_open_params op = { .read_only = true };
	int r;

	*busy = false;
	r = fd_dev_open(d, path, O_RDONLY | O_EXCL);
	if (r == -EBUSY) {
		/* Active: the last committed state is still worth a look. */
		*busy = true;
		r = fd_dev_open(d, path, O_RDONLY);
	}
	if (r)
		return r;
	store_log_begin();
	r = ssnap_open(&d->dev, &op, s);
	store_log_end();
	if (r)
		fd_dev_close(d);
	return r;
}

static const char *sb_state(uint32_t flags)
{
	if (flags & SSNAP_SB_FAILED)
		return "Fail";
	if (flags & SSNAP_SB_NEEDS_CHECK)
		return "needs_check";
	return "ok";
}

int store_read_table(const char *path, struct origin *o)
{
	struct ssnap_snap_usage *su = NULL;
	struct ssnap_store *s;
	struct ssnap_usage u;
	struct fd_dev d;
	bool busy;
	uint32_t i, n;
	int r;

	r = open_store(path, &d, &s, &busy);
	if (r)
		return r;
	ssnap_usage(s, &u);
	o->usage.valid = true;
	o->usage.chunk_sectors = o->chunk_sectors;
	o->usage.total_chunks = u.data_chunks + u.free_chunks;
	o->usage.used_chunks = u.data_chunks;
	o->usage.free_chunks = u.free_chunks;
	o->usage.meta_blocks = u.meta_blocks;
	o->usage.snapshots = u.nr_snapshots;
	o->usage.deleting = u.nr_deleting;
	o->usage.transaction = u.transaction;
	snprintf(o->usage.state, sizeof(o->usage.state), "%s",
		 sb_state(u.sb_flags));
	n = ssnap_nr_snapshots(s);
	o->snaps = xzalloc((n + 1) * sizeof(*o->snaps));
	su = xzalloc((n + 1) * sizeof(*su));
	o->have_list = true;
	for (i = 0; i < n; i++) {
		struct ssnap_snap_info info;
		struct kern_snap *k = &o->snaps[o->nr_snaps];

		if (ssnap_snapshot_get(s, i, &info))
			break;
		k->id = info.id;
		k->label = info.label;
		k->ctime = info.ctime;
		k->priority = info.priority;
		k->flags = info.flags;
		memcpy(k->name, info.name, sizeof(k->name));
		k->name[sizeof(k->name) - 1] = '\0';
		o->nr_snaps++;
	}
	r = ssnap_snapshot_usage(s, su, n);
	for (i = 0; r > 0 && i < (uint32_t)r; i++) {
		struct kern_snap *k = origin_find_id(o, su[i].id);

		if (k) {
			k->have_usage = true;
			k->exclusive = su[i].exclusive;
			k->shared = su[i].shared;
		}
	}
	free(su);
	ssnap_close(s);
	fd_dev_close(&d);
	return 0;
}

static const struct rowspec dump_spec[] = {
	{ .key = "device", .fmt = "str", .out_text = "Device" },
	{ .key = "in_use", .fmt = "bool", .out_text = "In use" },
	{ .key = "superblock", .fmt = "map", .out_text = "Superblock" },
	{ .key = "magic", .fmt = "str", .out_text = "Magic" },
	{ .key = "version", .fmt = "u32", .out_text = "Version" },
	{ .key = "uuid", .fmt = "str", .out_text = "UUID" },
	{ .key = "name", .fmt = "str", .out_text = "Name" },
	{ .key = "origin_ident", .fmt = "str", .out_text = "Origin identity" },
	{ .key = "origin_sectors", .fmt = "u64", .out_text = "Origin sectors" },
	{ .key = "block_size", .fmt = "u32", .out_text = "Block size" },
	{ .key = "chunk_sectors", .fmt = "u32", .out_text = "Chunk sectors" },
	{ .key = "chunk_size", .fmt = "size", .out_text = "Chunk size" },
	{ .key = "cow_blocks", .fmt = "u64", .out_text = "COW blocks" },
	{ .key = "format_time", .fmt = "time", .out_text = "Formatted" },
	{ .key = "generation", .fmt = "u64", .out_text = "Generation" },
	{ .key = "slot", .fmt = "u32", .out_text = "Slot" },
	{ .key = "flags", .fmt = "hex", .out_text = "Flags" },
	{ .key = "state", .fmt = "str", .out_text = "State" },
	{ .key = "clean", .fmt = "bool", .out_text = "Closed cleanly" },
	{ .key = "compat", .fmt = "hex", .out_text = "Compat features" },
	{ .key = "ro_compat", .fmt = "hex", .out_text = "RO-compat features" },
	{ .key = "incompat", .fmt = "hex", .out_text = "Incompat features" },
	{ .key = "journal_start", .fmt = "u64", .out_text = "Journal start" },
	{ .key = "journal_blocks", .fmt = "u32", .out_text = "Journal blocks" },
	{ .key = "journal_tail", .fmt = "u64", .out_text = "Journal tail" },
	{ .key = "tail_seq", .fmt = "u64", .out_text = "Tail transaction" },
	{ .key = "root_block", .fmt = "u64", .out_text = "Root block" },
	{ .key = "usage", .fmt = "map", .out_text = "Usage" },
	{ .key = "total_blocks", .fmt = "u64", .out_text = "Total blocks" },
	{ .key = "chunk_blocks", .fmt = "u64", .out_text = "Blocks per chunk" },
	{ .key = "data_chunks", .fmt = "u64", .out_text = "Data chunks" },
	{ .key = "free_chunks", .fmt = "u64", .out_text = "Free chunks" },
	{ .key = "meta_blocks", .fmt = "u64", .out_text = "Metadata blocks" },
	{ .key = "nr_snapshots", .fmt = "u32", .out_text = "Snapshots",
	  .out_json = "snapshots" },
	{ .key = "deleting", .fmt = "u32", .out_text = "Being deleted" },
	{ .key = "last_label", .fmt = "u32", .out_text = "Last label" },
	{ .key = "transaction", .fmt = "u64", .out_text = "Transaction" },
	{ .key = "gc_pass", .fmt = "u32", .out_text = "Reclaim pass" },
	{ .key = "gc_chunk", .fmt = "u64", .out_text = "Reclaim cursor" },
	{ .key = "snapshots", .fmt = "table", .out_text = "Snapshots" },
	{ .key = "id", .fmt = "u32", .out_text = "ID" },
	{ .key = "snap_name", .fmt = "str", .out_text = "Name",
	  .out_json = "name" },
	{ .key = "label", .fmt = "u32", .out_text = "Label" },
	{ .key = "ctime", .fmt = "time", .out_text = "Created" },
	{ .key = "priority", .fmt = "u32", .out_text = "Prio" },
	{ .key = "snap_flags", .fmt = "hex", .out_text = "Flags",
	  .out_json = "flags" },
	{ .key = "exclusive_chunks", .fmt = "u64", .out_text = "Exclusive" },
	{ .key = "shared_chunks", .fmt = "u64", .out_text = "Shared" },
	{ .key = "error", .fmt = "str", .out_text = "Error" },
	{ 0 }
};

static void dump_super(struct fmt_ctx *f, const struct ssnap_disk_sb *sb)
{
	char uuid[SSNAP_UUID_STRLEN + 1], name[SSNAP_NAME_LEN];
	char ident[SSNAP_IDENT_LEN], magic[9];
	uint32_t flags = le32_to_cpu(sb->flags);
	uint64_t m = le64_to_cpu(sb->magic);
	int i;

	for (i = 0; i < 8; i++) {
		char ch = (char)(m >> (8 * i));

		magic[i] = ch >= 0x20 && ch < 0x7f ? ch : '?';
	}
	magic[8] = '\0';
	uuid_to_str(sb->uuid, uuid);
	sb_string(sb->name, sizeof(sb->name), name);
	sb_string(sb->origin_ident, sizeof(sb->origin_ident), ident);
	fmt_open(f, "superblock", FMT_MAP);
	fmt_print(f, "magic", magic);
	fmt_print(f, "version", le32_to_cpu(sb->version));
	fmt_print(f, "uuid", uuid);
	fmt_print(f, "name", name);
	fmt_print(f, "origin_ident", ident);
	fmt_print(f, "origin_sectors", (uint64_t)le64_to_cpu(sb->origin_sectors));
	fmt_print(f, "block_size", le32_to_cpu(sb->block_size));
	fmt_print(f, "chunk_sectors", le32_to_cpu(sb->chunk_sectors));
	fmt_print(f, "chunk_size", (uint64_t)le32_to_cpu(sb->chunk_sectors) << 9);
	fmt_print(f, "cow_blocks", (uint64_t)le64_to_cpu(sb->cow_blocks));
	fmt_print(f, "format_time", (uint64_t)le64_to_cpu(sb->format_time));
	fmt_print(f, "generation", (uint64_t)le64_to_cpu(sb->generation));
	fmt_print(f, "slot", le32_to_cpu(sb->slot));
	fmt_print(f, "flags", flags);
	fmt_print(f, "state", sb_state(flags));
	fmt_print(f, "clean", (int)!!(flags & SSNAP_SB_CLEAN));
	fmt_print(f, "compat", le32_to_cpu(sb->compat));
	fmt_print(f, "ro_compat", le32_to_cpu(sb->ro_compat));
	fmt_print(f, "incompat", le32_to_cpu(sb->incompat));
	fmt_print(f, "journal_start", (uint64_t)le64_to_cpu(sb->journal_start));
	fmt_print(f, "journal_blocks", le32_to_cpu(sb->journal_blocks));
	fmt_print(f, "journal_tail", (uint64_t)le64_to_cpu(sb->journal_tail));
	fmt_print(f, "tail_seq", (uint64_t)le64_to_cpu(sb->tail_seq));
	fmt_print(f, "root_block", (uint64_t)le64_to_cpu(sb->root_blocknr));
	fmt_close(f);
}

static void dump_store(struct fmt_ctx *f, struct ssnap_store *s)
{
	struct ssnap_snap_usage *su;
	struct ssnap_usage u;
	uint32_t i, j, n;
	int nu;

	ssnap_usage(s, &u);
	fmt_open(f, "usage", FMT_MAP);
	fmt_print(f, "total_blocks", (uint64_t)u.total_blocks);
	fmt_print(f, "chunk_blocks", (uint64_t)u.chunk_blocks);
	fmt_print(f, "data_chunks", (uint64_t)u.data_chunks);
	fmt_print(f, "free_chunks", (uint64_t)u.free_chunks);
	fmt_print(f, "meta_blocks", (uint64_t)u.meta_blocks);
	fmt_print(f, "nr_snapshots", u.nr_snapshots);
	fmt_print(f, "deleting", u.nr_deleting);
	fmt_print(f, "last_label", u.last_label);
	fmt_print(f, "transaction", (uint64_t)u.transaction);
	fmt_print(f, "gc_pass", u.gc_pass);
	fmt_print(f, "gc_chunk", (uint64_t)u.gc_chunk);
	fmt_close(f);

	n = ssnap_nr_snapshots(s);
	su = xzalloc((n + 1) * sizeof(*su));
	nu = ssnap_snapshot_usage(s, su, n);
	fmt_open(f, "snapshots", FMT_TABLE);
	for (i = 0; i < n; i++) {
		struct ssnap_snap_info info;

		if (ssnap_snapshot_get(s, i, &info))
			break;
		info.name[sizeof(info.name) - 1] = '\0';
		fmt_open(f, NULL, FMT_ROW);
		fmt_print(f, "id", info.id);
		fmt_print(f, "snap_name", info.name[0] ? info.name : NULL);
		fmt_print(f, "label", info.label);
		fmt_print(f, "ctime", (uint64_t)info.ctime);
		fmt_print(f, "priority", info.priority);
		fmt_print(f, "snap_flags", info.flags);
		for (j = 0; nu > 0 && j < (uint32_t)nu; j++) {
			if (su[j].id != info.id)
				continue;
			fmt_print(f, "exclusive_chunks",
				  (uint64_t)su[j].exclusive);
			fmt_print(f, "shared_chunks", (uint64_t)su[j].shared);
		}
		fmt_close(f);
	}
	fmt_close(f);
	free(su);
}

int cmd_dump(const struct cmd *cmd, int argc, char **argv)
{
	struct ssnap_disk_sb sb;
	struct ssnap_store *s = NULL;
	struct fmt_ctx f;
	struct fd_dev d;
	const char *path;
	bool json = false, busy = false;
	int c, r, ret = EXIT_OK;

	while ((c = cmd_getopt(cmd, argc, argv)) != -1)
		if (c == 'J')
			json = true;
	argc -= cmd_optind;
	argv += cmd_optind;
	cmd_want_args(cmd, argc, argv, 1, 1);
	path = argv[0];

	r = store_read_super(path, &sb);
	if (r) {
		pr_err("%s: %s", path, open_error(r));
		return EXIT_FAIL;
	}
	r = open_store(path, &d, &s, &busy);
	if (busy && !json)
		pr_warn("%s: the store is in use; this is its last committed "
			"state", path);

	fmt_start(&f, dump_spec, json);
	fmt_print(&f, "device", path);
	fmt_print(&f, "in_use", (int)busy);
	dump_super(&f, &sb);
	if (r) {
		const char *log = store_log_text();
		char *msg = xasprintf("cannot open the store: %s%s%s",
				      store_error(r),
				      log ? ": " : "",
				      log ? log : "");

		fmt_print(&f, "error", msg);
		free(msg);
		ret = EXIT_FAIL;
	} else {
		dump_store(&f, s);
		ssnap_close(s);
		fd_dev_close(&d);
	}
	fmt_end(&f);
	return ret;
}
