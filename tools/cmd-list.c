// SPDX-License-Identifier: GPL-2.0
/*
 * ssnap list: active origins (and with --all, the stores found on block
 * devices), their snapshots and their stores' use, in text or JSON
 * through the one formatter (format-output.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format-output.h"
#include "ssnap-tool.h"

/* ------------------------------------------------------------------ */
/* list                                                                */

static const struct rowspec list_spec[] = {
	{ .key = "origins", .fmt = "list" },
	{ .key = "name", .fmt = "str", .out_text = "Origin" },
	{ .key = "uuid", .fmt = "str", .out_text = "Store UUID" },
	{ .key = "active", .fmt = "bool", .out_text = "Active" },
	{ .key = "device", .fmt = "str", .out_text = "Device" },
	{ .key = "dm_name", .fmt = "str" },
	{ .key = "origin_device", .fmt = "str", .out_text = "Origin device" },
	{ .key = "cow_device", .fmt = "str", .out_text = "COW device" },
	{ .key = "state", .fmt = "str", .out_text = "State" },
	{ .key = "chunk_size", .fmt = "size", .out_text = "Chunk size" },
	{ .key = "store_size", .fmt = "size", .out_text = "Store size" },
	{ .key = "used", .fmt = "size", .out_text = "Used" },
	{ .key = "free", .fmt = "size", .out_text = "Free" },
	{ .key = "metadata", .fmt = "size", .out_text = "Metadata" },
	{ .key = "total_chunks", .fmt = "u64" },
	{ .key = "used_chunks", .fmt = "u64" },
	{ .key = "free_chunks", .fmt = "u64" },
	{ .key = "meta_blocks", .fmt = "u64" },
	{ .key = "deleting", .fmt = "u32", .out_text = "Being deleted" },
	{ .key = "transaction", .fmt = "u64" },
	{ .key = "snapshots", .fmt = "table", .out_text = "Snapshots" },
	{ .key = "id", .fmt = "u32", .out_text = "ID" },
	{ .key = "snap_name", .fmt = "str", .out_text = "Name",
	  .out_json = "name" },
	{ .key = "ctime", .fmt = "time", .out_text = "Created" },
	{ .key = "priority", .fmt = "u32", .out_text = "Prio" },
	{ .key = "snap_state", .fmt = "str", .out_text = "State",
	  .out_json = "state" },
	{ .key = "snap_active", .fmt = "bool", .out_text = "Active",
	  .out_json = "active" },
	{ .key = "exclusive", .fmt = "size", .out_text = "Exclusive" },
	{ .key = "shared", .fmt = "size", .out_text = "Shared" },
	{ .key = "exclusive_chunks", .fmt = "u64" },
	{ .key = "shared_chunks", .fmt = "u64" },
	{ .key = "label", .fmt = "u32" },
	{ .key = "flags", .fmt = "hex" },
	{ .key = "snap_device", .fmt = "str", .out_json = "device" },
	{ 0 }
};

static const char *snap_state(const struct kern_snap *s)
{
	if (s->flags & SSNAP_SNAP_INVALID)
		return "invalid";
	if (s->flags & SSNAP_SNAP_DELETING)
		return "deleting";
	return "ok";
}

static void list_origin(struct fmt_ctx *f, struct origin *o)
{
	uint64_t chunk = (uint64_t)o->chunk_sectors << 9;
	char node[64], *path;
	uint32_t i;

	fmt_open(f, NULL, FMT_MAP);
	fmt_print(f, "name", o->name);
	fmt_print(f, "uuid", o->store);
	fmt_print(f, "active", (int)o->dm.exists);
	if (o->dm.exists) {
		path = dev_path(o->name, NULL, o->dm.name);
		fmt_print(f, "device", path);
		free(path);
		fmt_print(f, "dm_name", o->dm.name);
	} else {
		fmt_print(f, "device", (const char *)NULL);
		fmt_print(f, "dm_name", (const char *)NULL);
	}
	if (o->have_origin_dev) {
		devno_name(o->origin_dev, node, sizeof(node));
		fmt_print(f, "origin_device", node);
	} else {
		fmt_print(f, "origin_device", (const char *)NULL);
	}
	if (o->dm.exists) {
		devno_name(o->cow_dev, node, sizeof(node));
		fmt_print(f, "cow_device", node);
	} else {
		fmt_print(f, "cow_device", o->cow_path);
	}
	fmt_print(f, "state", o->usage.valid ? o->usage.state : NULL);
	fmt_print(f, "chunk_size", chunk);
	if (o->usage.valid) {
		fmt_print(f, "store_size", o->usage.total_chunks * chunk);
		fmt_print(f, "used", o->usage.used_chunks * chunk);
		fmt_print(f, "free", o->usage.free_chunks * chunk);
		fmt_print(f, "metadata",
			  o->usage.meta_blocks * (uint64_t)SSNAP_BLOCK_SIZE);
		fmt_print(f, "total_chunks", o->usage.total_chunks);
		fmt_print(f, "used_chunks", o->usage.used_chunks);
		fmt_print(f, "free_chunks", o->usage.free_chunks);
		fmt_print(f, "meta_blocks", o->usage.meta_blocks);
		fmt_print(f, "deleting", o->usage.deleting);
		fmt_print(f, "transaction", o->usage.transaction);
	}
	fmt_open(f, "snapshots", FMT_TABLE);
	for (i = 0; i < o->nr_snaps; i++) {
		struct kern_snap *s = &o->snaps[i];

		fmt_open(f, NULL, FMT_ROW);
		fmt_print(f, "id", s->id);
		fmt_print(f, "snap_name", s->name[0] ? s->name : NULL);
		if (o->have_list) {
			fmt_print(f, "ctime", s->ctime);
			fmt_print(f, "priority", s->priority);
			fmt_print(f, "snap_state", snap_state(s));
		}
		fmt_print(f, "snap_active", (int)s->active);
		if (s->have_usage) {
			fmt_print(f, "exclusive", s->exclusive * chunk);
			fmt_print(f, "shared", s->shared * chunk);
			fmt_print(f, "exclusive_chunks", s->exclusive);
			fmt_print(f, "shared_chunks", s->shared);
		}
		if (o->have_list) {
			fmt_print(f, "label", s->label);
			fmt_print(f, "flags", s->flags);
		}
		if (s->active) {
			path = s->name[0] ? dev_path(o->name, s->name, s->dm_name) :
			       xasprintf("/dev/mapper/%s", s->dm_name);
			fmt_print(f, "snap_device", path);
			free(path);
		} else {
			fmt_print(f, "snap_device", (const char *)NULL);
		}
		fmt_close(f);
	}
	fmt_close(f);
	fmt_close(f);
}

struct origin_list {
	struct origin *v;
	unsigned int n;
};

static struct origin *origin_list_add(struct origin_list *l)
{
	struct origin *o = realloc(l->v, (l->n + 1) * sizeof(*o));

	if (!o) {
		pr_err("out of memory");
		exit(EXIT_FAIL);
	}
	l->v = o;
	o = &l->v[l->n++];
	memset(o, 0, sizeof(*o));
	return o;
}

static int list_collect(const struct dmx_info *info, void *ctx)
{
	struct origin_list *l = ctx;
	struct ssnap_uuid u;

	dmx_parse_uuid(info->uuid, &u);
	if (!u.ours || u.snapshot || u.layer)
		return 0;
	if (origin_fill_info(info, origin_list_add(l)))
		l->n--;
	return 0;
}

static int cmp_origin(const void *a, const void *b)
{
	return strcmp(((const struct origin *)a)->name,
		      ((const struct origin *)b)->name);
}

/* list --all: the stores that are not active, read with the core. */
static void list_inactive(struct origin_list *l, const char *name)
{
	struct found_store *stores, *fs;
	char uuid[SSNAP_UUID_STRLEN + 1];
	unsigned int i;

	if (scan_stores(&stores))
		return;
	for (fs = stores; fs; fs = fs->next) {
		struct origin *o;
		char sbname[SSNAP_NAME_LEN];

		uuid_to_str(fs->sb.uuid, uuid);
		sb_string(fs->sb.name, sizeof(fs->sb.name), sbname);
		if (name && strcmp(sbname, name))
			continue;
		for (i = 0; i < l->n; i++)
			if (!strcmp(l->v[i].store, uuid))
				break;
		if (i < l->n)
			continue;
		o = origin_list_add(l);
		memcpy(o->store, uuid, sizeof(uuid));
		str_copy(o->name, sbname, sizeof(o->name));
		str_copy(o->cow_path, fs->path, sizeof(o->cow_path));
		o->cow_dev = fs->devno;
		o->chunk_sectors = le32_to_cpu(fs->sb.chunk_sectors);
		o->sectors = le64_to_cpu(fs->sb.origin_sectors);
		if (store_read_table(fs->path, o))
			pr_warn("%s: cannot read the store's snapshot table",
				fs->path);
	}
	free_stores(stores);
}

int cmd_list(const struct cmd *cmd, int argc, char **argv)
{
	struct origin_list l = { 0 };
	bool json = false, all = false;
	struct fmt_ctx f;
	unsigned int i;
	int c, r = EXIT_OK;

	while ((c = cmd_getopt(cmd, argc, argv)) != -1) {
		switch (c) {
		case 'J':
			json = true;
			break;
		case 'a':
			all = true;
			break;
		}
	}
	argc -= cmd_optind;
	argv += cmd_optind;
	cmd_want_args(cmd, argc, argv, 0, 1);

	if (argc) {
		struct origin *o = origin_list_add(&l);

		c = origin_lookup(argv[0], o);
		if (c)
			l.n--;
		if (c && c != -ENOENT) {
			pr_err("%s: cannot read the origin device: %s",
			       argv[0], strerror(-c));
			return EXIT_FAIL;
		}
	} else if ((c = dmx_for_each(list_collect, &l))) {
		pr_err("cannot list device-mapper devices: %s", strerror(-c));
		return EXIT_FAIL;
	}
	for (i = 0; i < l.n; i++) {
		if (origin_query(&l.v[i], true)) {
			pr_warn("%s: cannot read the snapshot table from the "
				"kernel", l.v[i].dm.name);
			r = EXIT_FAIL;
		}
	}
	if (all)
		list_inactive(&l, argc ? argv[0] : NULL);
	if (argc && !l.n) {
		pr_err("%s: no %sorigin of that name", argv[0],
		       all ? "" : "active ");
		free(l.v);
		return EXIT_FAIL;
	}
	qsort(l.v, l.n, sizeof(*l.v), cmp_origin);

	fmt_start(&f, list_spec, json);
	fmt_open(&f, "origins", FMT_LIST);
	for (i = 0; i < l.n; i++)
		list_origin(&f, &l.v[i]);
	fmt_close(&f);
	fmt_end(&f);
	for (i = 0; i < l.n; i++)
		origin_free(&l.v[i]);
	free(l.v);
	return r;
}
