// SPDX-License-Identifier: GPL-2.0
/*
 * Origins: create-origin, activate, deactivate, remove-origin.
 *
 * create-origin formats the COW device with the core (ssnap_format, on
 * the device opened O_RDWR | O_EXCL), recording the origin's name and
 * identity in the superblock, then activates
 *
 *   ssnap-<name>  0 <origin sectors> s-snap-origin <origin M:m> <cow M:m>
 *                 S <chunk sectors>
 *
 * with DM UUID SSNAP-<store uuid>.  activate finds a store by scanning
 * the block devices for its superblock and its origin by the identity
 * recorded there (probe.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "ssnap-tool.h"

/* "<verb> origin <name> on <origin>, store on <cow> (...): <device>" */
static void print_origin_dev(const char *verb, const char *name,
			     const char *opath, const char *cpath,
			     const char *chunk_s, const char *uuid)
{
	char *dm_name = xasprintf("%s%s", SSNAP_DM_PREFIX, name);
	char *path = dev_path(name, NULL, dm_name);

	if (chunk_s)
		pr_note("%s origin %s on %s, store on %s (chunk size %s, uuid "
			"%s): %s", verb, name, opath, cpath, chunk_s, uuid,
			path);
	else
		pr_note("%s origin %s on %s, store on %s: %s", verb, name,
			opath, cpath, path);
	free(path);
	free(dm_name);
}

static int activate_origin_dev(const char *name, const char *store,
			       dev_t origin, dev_t cow, uint32_t chunk,
			       uint64_t sectors)
{
	char *dm_name, *uuid, params[96];
	int r;

	dm_name = xasprintf("%s%s", SSNAP_DM_PREFIX, name);
	uuid = xasprintf("%s%s", SSNAP_UUID_PREFIX, store);
	snprintf(params, sizeof(params), "%u:%u %u:%u S %u", major(origin),
		 minor(origin), major(cow), minor(cow), chunk);
	r = dmx_create(dm_name, uuid, sectors, "s-snap-origin", params,
		       false);
	/* Raced with the udev rule activating the same store: fine. */
	if (r && dmx_wait_live(uuid))
		r = 0;
	if (r == -EBUSY || r == -EEXIST)
		pr_err("%s: cannot activate: a device of that name exists, or "
		       "the origin or COW device is in use", dm_name);
	else if (r)
		pr_err("%s: cannot activate: %s (see the kernel log)", dm_name,
		       strerror(-r));
	free(dm_name);
	free(uuid);
	return r;
}

/* Every live snapshot of an active origin that has no device yet. */
static int activate_snapshots(struct origin *o)
{
	uint32_t i;
	int r, ret = 0;

	r = origin_query(o, false);
	if (r) {
		pr_err("%s: cannot read the snapshot table from the kernel: %s",
		       o->dm.name, strerror(-r));
		return r;
	}
	for (i = 0; i < o->nr_snaps; i++) {
		struct kern_snap *s = &o->snaps[i];

		if (s->active || (s->flags & (SSNAP_SNAP_DELETING |
					      SSNAP_SNAP_INVALID)))
			continue;
		r = snapshot_activate(o, s);
		if (r && !ret)
			ret = r;
		if (!r) {
			char id[16], *path;

			/* (udev links an unnamed snapshot by its id) */
			snprintf(id, sizeof(id), "%u", s->id);
			path = dev_path(o->name, s->name[0] ? s->name : id,
					s->dm_name);
			pr_note("Activated snapshot %s of %s (id %u): %s",
				s->name[0] ? s->name : id, o->name, s->id,
				path);
			free(path);
		}
	}
	return ret;
}

static void sb_names(const struct ssnap_disk_sb *sb, char *name,
		     char *ident, char *uuid)
{
	sb_string(sb->name, sizeof(sb->name), name);
	sb_string(sb->origin_ident, sizeof(sb->origin_ident), ident);
	uuid_to_str(sb->uuid, uuid);
}

int activate_store(const struct found_store *fs, bool snapshots)
{
	char name[SSNAP_NAME_LEN], ident[SSNAP_IDENT_LEN];
	char uuid[SSNAP_UUID_STRLEN + 1], node[64];
	uint64_t sectors = le64_to_cpu(fs->sb.origin_sectors);
	struct dmx_info info;
	struct origin o;
	dev_t origin;
	char *dm_name;
	int r;

	sb_names(&fs->sb, name, ident, uuid);
	if (!origin_lookup_uuid(uuid, &o)) {
		/* Already up: bring up what is missing. */
		r = snapshots ? activate_snapshots(&o) : 0;
		origin_free(&o);
		pending_clear(uuid);
		return r;
	}
	if (!valid_name(name) && opt_udev)
		return 0;	/* not one for auto-activation */
	if (!name[0] || check_name(name, "store")) {
		pr_err("%s: the store has no usable origin name (formatted "
		       "without ssnap create-origin?)", fs->path);
		return -EINVAL;
	}
	if (!ident[0]) {
		pr_err("%s: the store records no origin identity", fs->path);
		return -EINVAL;
	}
	dm_name = xasprintf("%s%s", SSNAP_DM_PREFIX, name);
	r = dmx_info_by_name(dm_name, &info);
	free(dm_name);
	if (!r && info.exists) {
		pr_err("%s: another store called %s is active (%s)", fs->path,
		       name, info.uuid);
		return -EEXIST;
	}
	r = find_origin(ident, sectors, &origin);
	if (r == -ENOENT && opt_udev) {
		/* Normal at boot: the origin's add event will come. */
		pending_set(fs);
		return 0;
	}
	if (r == -ENOENT || r == -ERANGE) {
		pr_err("%s: origin device of %s not found (%s, %llu sectors)%s",
		       fs->path, name, ident, (unsigned long long)sectors,
		       r == -ERANGE ? ": a device with that identity has "
		       "another size" : "");
		pending_set(fs);
		return -ENODEV;
	}
	if (r == -ENOTUNIQ) {
		pr_err("%s: several devices match the origin identity %s of "
		       "%s", fs->path, ident, name);
		return r;
	}
	if (r) {
		pr_err("%s: cannot scan block devices: %s", fs->path,
		       strerror(-r));
		return r;
	}
	r = activate_origin_dev(name, uuid, origin, fs->devno,
				le32_to_cpu(fs->sb.chunk_sectors), sectors);
	if (r)
		return r;
	pending_clear(uuid);
	devno_name(origin, node, sizeof(node));
	print_origin_dev("Activated", name, node, fs->path, NULL, NULL);
	if (!snapshots)
		return 0;
	r = origin_lookup_uuid(uuid, &o);
	if (r) {
		pr_err("%s: activated, then not found: %s", name,
		       strerror(-r));
		return r;
	}
	r = activate_snapshots(&o);
	origin_free(&o);
	return r;
}

int deactivate_origin(struct origin *o)
{
	struct dmx_info info;
	uint32_t i;
	int r;

	r = origin_scan_devs(o);
	if (r) {
		pr_err("cannot list device-mapper devices: %s", strerror(-r));
		return r;
	}
	for (i = 0; i < o->nr_devs; i++) {
		if (o->devs[i].open_count > 0) {
			pr_err("%s: snapshot device is in use (mounted or "
			       "open)", o->devs[i].dm_name);
			return -EBUSY;
		}
	}
	/* Each snapshot device holds the origin's open: anything more is
	 * a user, checked before anything is removed. */
	r = dmx_info_by_name(o->dm.name, &info);
	if (!r && info.exists && info.open_count > (int)o->nr_devs) {
		pr_err("%s: origin device is in use (mounted or open)",
		       o->dm.name);
		return -EBUSY;
	}
	for (i = 0; i < o->nr_devs; i++) {
		r = dmx_remove(o->devs[i].dm_name);
		if (r && r != -ENXIO && r != -ENODEV) {
			pr_err("%s: cannot remove snapshot device: %s",
			       o->devs[i].dm_name, strerror(-r));
			return r;
		}
	}
	r = dmx_info_by_name(o->dm.name, &info);
	if (r || !info.exists)
		return r;
	if (info.open_count > 0) {
		pr_err("%s: origin device is in use (mounted or open)",
		       o->dm.name);
		return -EBUSY;
	}
	r = dmx_remove(o->dm.name);
	if (r)
		pr_err("%s: cannot remove origin device: %s", o->dm.name,
		       strerror(-r));
	return r;
}

/* ------------------------------------------------------------------ */
/* create-origin                                                       */

static int open_excl(const char *path, int flags, const char *role)
{
	int fd = open(path, flags | O_EXCL | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == EBUSY)
		pr_err("%s: %s device is in use (mounted, or held by "
		       "device-mapper, RAID or another ssnap origin)", path,
		       role);
	else
		pr_err("%s: cannot open %s device: %s", path, role,
		       strerror(errno));
	return -1;
}

static int parse_chunk(const struct cmd *cmd, const char *arg,
		       uint32_t *sectors)
{
	uint64_t bytes;

	if (parse_size(arg, &bytes))
		cmd_usage_error(cmd, "invalid chunk size '%s'", arg);
	if (bytes < SSNAP_CHUNK_SECTORS_MIN * 512ULL ||
	    bytes > SSNAP_CHUNK_SECTORS_MAX * 512ULL ||
	    (bytes & (bytes - 1))) {
		pr_err("chunk size '%s' must be a power of two from 4KiB to "
		       "1MiB", arg);
		return -EINVAL;
	}
	*sectors = (uint32_t)(bytes >> 9);
	return 0;
}

/* No other store may carry the name: activate <name> must be unique. */
static int name_in_use(const char *name, dev_t cow)
{
	struct found_store *stores, *fs;
	struct dmx_info info;
	char *dm_name;
	int r = 0;

	dm_name = xasprintf("%s%s", SSNAP_DM_PREFIX, name);
	if (!dmx_info_by_name(dm_name, &info) && info.exists) {
		pr_err("%s: the name is taken: device-mapper device %s exists",
		       name, dm_name);
		free(dm_name);
		return -EEXIST;
	}
	free(dm_name);
	if (scan_stores(&stores))
		return 0;
	for (fs = stores; fs; fs = fs->next) {
		char other[SSNAP_NAME_LEN];

		sb_string(fs->sb.name, sizeof(fs->sb.name), other);
		if (fs->devno == cow || strcmp(other, name))
			continue;
		pr_err("%s: the name is taken by the store on %s (activate "
		       "it, or remove-origin --wipe it)", name, fs->path);
		r = -EEXIST;
		break;
	}
	free_stores(stores);
	return r;
}

int cmd_create_origin(const struct cmd *cmd, int argc, char **argv)
{
	bool force = false, yes = false, no_activate = false;
	uint32_t chunk = SSNAP_DEFAULT_CHUNK;
	struct ssnap_format_params fp;
	char ident[SSNAP_IDENT_LEN], uuid[SSNAP_UUID_STRLEN + 1];
	char *found = NULL, chunk_s[32];
	const char *name, *opath, *cpath;
	uint64_t osectors, csectors;
	struct ssnap_disk_sb sb;
	dev_t odev, cdev;
	struct fd_dev d;
	int c, fd, r;

	while ((c = cmd_getopt(cmd, argc, argv)) != -1) {
		switch (c) {
		case 'c':
			if (parse_chunk(cmd, cmd_optarg, &chunk))
				return EXIT_USAGE;
			break;
		case 'f':
			force = true;
			break;
		case 'y':
			yes = true;
			break;
		case OPT_NO_ACTIVATE:
			no_activate = true;
			break;
		}
	}
	argc -= cmd_optind;
	argv += cmd_optind;
	cmd_want_args(cmd, argc, argv, 3, 3);
	name = argv[0];
	opath = argv[1];
	cpath = argv[2];

	if (check_name(name, "origin"))
		return EXIT_FAIL;
	r = blockdev_stat(opath, &odev, &osectors);
	if (r) {
		pr_err("%s: origin device: %s", opath, r == -ENOTBLK ?
		       "not a block device" : strerror(-r));
		return EXIT_FAIL;
	}
	r = blockdev_stat(cpath, &cdev, &csectors);
	if (r) {
		pr_err("%s: COW device: %s", cpath, r == -ENOTBLK ?
		       "not a block device" : strerror(-r));
		return EXIT_FAIL;
	}
	if (odev == cdev) {
		pr_err("%s: the origin and the COW device are the same device",
		       cpath);
		return EXIT_FAIL;
	}
	if (!osectors) {
		pr_err("%s: origin device is empty", opath);
		return EXIT_FAIL;
	}
	if (csectors < ssnap_min_cow_sectors(chunk)) {
		size_str(chunk * 512ULL, chunk_s, sizeof(chunk_s));
		pr_err("%s: COW device too small: a store with %s chunks needs "
		       "at least %llu KiB", cpath, chunk_s,
		       (unsigned long long)(ssnap_min_cow_sectors(chunk) / 2));
		return EXIT_FAIL;
	}
	if (name_in_use(name, cdev))
		return EXIT_FAIL;
	r = origin_ident(odev, ident);
	if (r) {
		pr_err("%s: an ssnap device cannot be an origin", opath);
		return EXIT_FAIL;
	}

	/* The origin: not in use, and not a store (swapped arguments?). */
	fd = open_excl(opath, O_RDONLY, "origin");
	if (fd < 0)
		return EXIT_FAIL;
	close(fd);
	if (!store_read_super(opath, &sb) && !force) {
		char other[SSNAP_NAME_LEN];

		sb_string(sb.name, sizeof(sb.name), other);
		pr_err("%s: origin device holds an ssnap store (%s): are the "
		       "origin and COW devices swapped? (--force to go on)",
		       opath, other[0] ? other : "unnamed");
		return EXIT_FAIL;
	}

	/* The COW device: what is on it, like mkfs and wipefs say. */
	fd = open_excl(cpath, O_RDWR, "COW");
	if (fd < 0)
		return EXIT_FAIL;
	r = probe_signatures(fd, cpath, false, &found);
	if (r) {
		pr_err("%s: cannot probe the COW device: %s", cpath,
		       strerror(-r));
		goto fail_fd;
	}
	if (!store_read_super(cpath, &sb)) {
		char other[SSNAP_NAME_LEN], *both;

		sb_string(sb.name, sizeof(sb.name), other);
		uuid_to_str(sb.uuid, uuid);
		both = xasprintf("%s%sssnap store '%s' (%s)", found ? found : "",
				 found ? ", " : "", other, uuid);
		free(found);
		found = both;
	}
	if (found && !force) {
		pr_err("%s: COW device holds %s; use --force to overwrite it",
		       cpath, found);
		goto fail_fd;
	}
	if (found) {
		if (!confirm(yes, "%s holds %s.  Wipe it?", cpath, found)) {
			pr_err("%s: left as it was", cpath);
			goto fail_fd;
		}
		free(found);
		found = NULL;
		r = probe_signatures(fd, cpath, true, &found);
		if (r) {
			pr_err("%s: cannot wipe the signatures: %s", cpath,
			       strerror(-r));
			goto fail_fd;
		}
	}
	free(found);
	found = NULL;
	close(fd);

	r = fd_dev_open(&d, cpath, O_RDWR | O_EXCL);
	if (r) {
		pr_err("%s: cannot open COW device: %s", cpath, strerror(-r));
		return EXIT_FAIL;
	}
	memset(&fp, 0, sizeof(fp));
	fp.chunk_sectors = chunk;
	fp.origin_sectors = osectors;
	fp.now = (u64)time(NULL);
	fp.name = name;
	fp.origin_ident = ident;
	r = uuid_generate_random(fp.uuid);
	if (!r) {
		store_log_begin();
		r = ssnap_format(&d.dev, &fp);
		store_log_end();
	}
	if (!r)
		r = d.dev.ops->flush(&d.dev);
	fd_dev_close(&d);
	if (r) {
		pr_err("%s: cannot format the store: %s%s%s", cpath,
		       strerror(-r), store_log_text() ? ": " : "",
		       store_log_text() ? store_log_text() : "");
		return EXIT_FAIL;
	}
	uuid_to_str(fp.uuid, uuid);
	size_str(chunk * 512ULL, chunk_s, sizeof(chunk_s));
	if (no_activate) {
		pr_note("Formatted %s as the store of %s (%s, chunk size %s, "
			"uuid %s).", cpath, name, opath, chunk_s, uuid);
		return EXIT_OK;
	}
	if (activate_origin_dev(name, uuid, odev, cdev, chunk, osectors))
		return EXIT_FAIL;
	print_origin_dev("Created", name, opath, cpath, chunk_s, uuid);
	return EXIT_OK;

fail_fd:
	free(found);
	close(fd);
	return EXIT_FAIL;
}

/* ------------------------------------------------------------------ */
/* activate, deactivate, remove-origin                                 */

int cmd_activate(const struct cmd *cmd, int argc, char **argv)
{
	bool all = false, snapshots = true, background = false;
	struct found_store *stores = NULL, *fs, *match = NULL, one;
	const char *device = NULL;
	unsigned int n = 0;
	struct origin o;
	int c, r, ret = EXIT_OK;

	while ((c = cmd_getopt(cmd, argc, argv)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'd':
			device = cmd_optarg;
			break;
		case 'n':
			snapshots = false;
			break;
		case OPT_UDEV:
			opt_udev = 1;
			break;
		case OPT_BACKGROUND:
			background = true;
			break;
		}
	}
	argc -= cmd_optind;
	argv += cmd_optind;
	if (all + !!device + (argc > 0) != 1)
		cmd_usage_error(cmd, "give one of <name>, --all, --device");
	cmd_want_args(cmd, argc, argv, 0, 1);
	if (background)
		go_background();

	if (device) {
		memset(&one, 0, sizeof(one));
		r = blockdev_stat(device, &one.devno, NULL);
		if (!r)
			r = store_read_super(device, &one.sb);
		if (r == -EINVAL) {
			pr_err("%s: not an ssnap store", device);
			return EXIT_FAIL;
		}
		if (r) {
			pr_err("%s: cannot read the store: %s", device,
			       r == -EILSEQ ? "both superblocks are damaged" :
			       strerror(-r));
			return EXIT_FAIL;
		}
		str_copy(one.path, device, sizeof(one.path));
		return activate_store(&one, snapshots) ? EXIT_FAIL : EXIT_OK;
	}

	if (!all) {
		/* Active already: only snapshots may be missing. */
		if (!origin_lookup(argv[0], &o)) {
			r = snapshots ? activate_snapshots(&o) : 0;
			origin_free(&o);
			return r ? EXIT_FAIL : EXIT_OK;
		}
	}
	r = scan_stores(&stores);
	if (r) {
		pr_err("cannot scan block devices: %s", strerror(-r));
		return EXIT_FAIL;
	}
	for (fs = stores; fs; fs = fs->next) {
		char name[SSNAP_NAME_LEN];

		if (all) {
			if (activate_store(fs, snapshots))
				ret = EXIT_FAIL;
			continue;
		}
		sb_string(fs->sb.name, sizeof(fs->sb.name), name);
		if (strcmp(name, argv[0]))
			continue;
		if (!n++)
			match = fs;
	}
	if (!all) {
		if (!n) {
			pr_err("%s: no store of that name on any block device",
			       argv[0]);
			ret = EXIT_FAIL;
		} else if (n > 1) {
			pr_err("%s: %u stores have that name; choose one with "
			       "--device", argv[0], n);
			ret = EXIT_FAIL;
		} else if (activate_store(match, snapshots)) {
			ret = EXIT_FAIL;
		}
	}
	free_stores(stores);
	return ret;
}

struct origin_names {
	char (*v)[128];
	unsigned int n;
};

static int collect_origins(const struct dmx_info *info, void *ctx)
{
	struct origin_names *l = ctx;
	struct ssnap_uuid u;
	void *p;

	dmx_parse_uuid(info->uuid, &u);
	if (!u.ours || u.snapshot || u.layer)
		return 0;
	p = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	if (!p)
		return -ENOMEM;
	l->v = p;
	snprintf(l->v[l->n++], 128, "%s", info->name);
	return 0;
}

int cmd_deactivate(const struct cmd *cmd, int argc, char **argv)
{
	struct origin_names l = { 0 };
	struct dmx_info info;
	struct origin o;
	bool all = false;
	unsigned int i;
	int c, r, ret = EXIT_OK;

	while ((c = cmd_getopt(cmd, argc, argv)) != -1)
		if (c == 'a')
			all = true;
	argc -= cmd_optind;
	argv += cmd_optind;
	if (all == (argc > 0))
		cmd_usage_error(cmd, "give one of <name>, --all");
	cmd_want_args(cmd, argc, argv, 0, 1);

	if (!all) {
		if (origin_lookup_or_err(argv[0], &o))
			return EXIT_FAIL;
		r = deactivate_origin(&o);
		origin_free(&o);
		if (r)
			return EXIT_FAIL;
		pr_note("Deactivated origin %s.", argv[0]);
		return EXIT_OK;
	}
	r = dmx_for_each(collect_origins, &l);
	if (r) {
		pr_err("cannot list device-mapper devices: %s", strerror(-r));
		return EXIT_FAIL;
	}
	for (i = 0; i < l.n; i++) {
		if (dmx_info_by_name(l.v[i], &info) || !info.exists)
			continue;
		if (origin_fill_info(&info, &o))
			continue;
		if (deactivate_origin(&o))
			ret = EXIT_FAIL;
		else
			pr_note("Deactivated origin %s.", o.name);
		origin_free(&o);
	}
	free(l.v);
	return ret;
}

static int wipe_store(const char *path)
{
	static const char zero[2 * SSNAP_BLOCK_SIZE]
		__attribute__((aligned(SSNAP_BLOCK_SIZE)));
	struct fd_dev d;
	int r;

	r = fd_dev_open(&d, path, O_RDWR | O_EXCL);
	if (r)
		return r;
	if (pwrite(d.fd, zero, sizeof(zero), 0) != (ssize_t)sizeof(zero))
		r = errno ? -errno : -EIO;
	if (!r && fdatasync(d.fd))
		r = -errno;
	fd_dev_close(&d);
	return r;
}

int cmd_remove_origin(const struct cmd *cmd, int argc, char **argv)
{
	struct found_store *stores = NULL, *fs;
	bool wipe = false, yes = false, active;
	char cow[64] = "";
	struct origin o;
	int c, r;

	while ((c = cmd_getopt(cmd, argc, argv)) != -1) {
		if (c == OPT_WIPE)
			wipe = true;
		else if (c == 'y')
			yes = true;
	}
	argc -= cmd_optind;
	argv += cmd_optind;
	cmd_want_args(cmd, argc, argv, 1, 1);

	r = origin_lookup(argv[0], &o);
	if (r && r != -ENOENT) {
		pr_err("%s: cannot read the origin device: %s", argv[0],
		       strerror(-r));
		return EXIT_FAIL;
	}
	active = !r;
	if (active) {
		devno_name(o.cow_dev, cow, sizeof(cow));
	} else if (wipe && !scan_stores(&stores)) {
		for (fs = stores; fs; fs = fs->next) {
			char name[SSNAP_NAME_LEN];

			sb_string(fs->sb.name, sizeof(fs->sb.name), name);
			if (!strcmp(name, argv[0])) {
				str_copy(cow, fs->path, sizeof(cow));
				break;
			}
		}
		free_stores(stores);
	}
	if (!active && !cow[0]) {
		pr_err("%s: no %sorigin of that name", argv[0],
		       wipe ? "" : "active ");
		return EXIT_FAIL;
	}
	if (wipe && !confirm(yes, "Erase the store of %s on %s, and every "
			     "snapshot in it?", argv[0], cow)) {
		pr_err("%s: left as it was", argv[0]);
		origin_free(&o);
		return EXIT_FAIL;
	}
	if (active) {
		r = deactivate_origin(&o);
		origin_free(&o);
		if (r)
			return EXIT_FAIL;
	}
	if (wipe) {
		r = wipe_store(cow);
		if (r) {
			pr_err("%s: cannot erase the store: %s", cow,
			       strerror(-r));
			return EXIT_FAIL;
		}
		pr_note("Removed origin %s and erased its store on %s.",
			argv[0], cow);
	} else {
		pr_note("Removed origin %s; its store on %s is kept.", argv[0],
			cow);
	}
	return EXIT_OK;
}

/*
 * The kernel gives a grown COW device's space to the store when the
 * origin resumes: suspend and resume it, and say what changed.
 */
int cmd_extend(const struct cmd *cmd, int argc, char **argv)
{
	uint64_t before, chunk;
	char node[64], a[32], b[32];
	struct origin o;
	int r;

	while (cmd_getopt(cmd, argc, argv) != -1)
		;
	argc -= cmd_optind;
	argv += cmd_optind;
	cmd_want_args(cmd, argc, argv, 1, 1);
	if (origin_lookup_or_err(argv[0], &o))
		return EXIT_FAIL;
	r = origin_query(&o, true);
	if (r) {
		pr_err("%s: cannot read the origin device: %s", argv[0],
		       strerror(-r));
		origin_free(&o);
		return EXIT_FAIL;
	}
	before = o.usage.total_chunks;
	chunk = (uint64_t)o.chunk_sectors << 9;
	devno_name(o.cow_dev, node, sizeof(node));
	r = dmx_suspend(o.dm.name);
	if (!r)
		r = dmx_resume(o.dm.name);
	if (!r)
		r = origin_query(&o, true);
	if (r) {
		pr_err("%s: cannot suspend and resume the origin: %s", o.name,
		       strerror(-r));
		origin_free(&o);
		return EXIT_FAIL;
	}
	size_str(o.usage.total_chunks * chunk, b, sizeof(b));
	if (o.usage.total_chunks == before) {
		pr_note("The store of %s already uses all of %s (%s).", o.name,
			node, b);
	} else {
		size_str(before * chunk, a, sizeof(a));
		pr_note("Extended the store of %s on %s from %s to %s.", o.name,
			node, a, b);
	}
	r = o.usage.total_chunks < before ? EXIT_FAIL : EXIT_OK;
	origin_free(&o);
	return r;
}
