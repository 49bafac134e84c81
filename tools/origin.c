// SPDX-License-Identifier: GPL-2.0
/*
 * Active origins and their snapshots, as device-mapper and the kernel
 * report them (its messages and status), and snapshot devices.
 *
 * The kernel's replies (dm-ssnap-pool.c):
 *
 *   snapshot list    <id> <label> <ctime> <priority> <flags-hex> <name|->
 *                    one line per live snapshot
 *   snapshot usage   <id> <exclusive-chunks> <shared-chunks>, one a line
 *   usage            key=value ... (chunk_sectors total_chunks used_chunks
 *                    free_chunks meta_blocks snapshots deleting
 *                    transaction state)
 *   status           ": no snapshot" or "<count> <id>...", then
 *                    " <state> <used>/<total> <meta_blocks> <deleting>"
 *
 * A kernel without the list and usage messages still gives the ids and
 * the use through the status line; the tool falls back to it.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "format-output.h"
#include "ssnap-tool.h"

/* ------------------------------------------------------------------ */
/* Looking origins up.                                                 */

/* Table: <origin M:m> <cow M:m> S <chunk_sectors> [features] */
int origin_fill_info(const struct dmx_info *info, struct origin *o)
{
	struct ssnap_uuid u;
	unsigned int oma, omi, cma, cmi, chunk;
	char *target = NULL, *params = NULL;
	uint64_t len;
	size_t plen = strlen(SSNAP_DM_PREFIX);
	int r;

	memset(o, 0, sizeof(*o));
	dmx_parse_uuid(info->uuid, &u);
	if (!u.ours || u.snapshot || u.layer)
		return -ENOENT;
	o->dm = *info;
	memcpy(o->store, u.store, sizeof(o->store));
	if (!strncmp(info->name, SSNAP_DM_PREFIX, plen))
		str_copy(o->name, info->name + plen, sizeof(o->name));
	else
		str_copy(o->name, info->name, sizeof(o->name));
	if (!info->live_table)
		return 0;
	r = dmx_status(info->name, true, &target, &len, &params);
	if (r)
		return r;
	if (strcmp(target, "s-snap-origin") ||
	    sscanf(params, "%u:%u %u:%u %*s %u", &oma, &omi, &cma, &cmi,
		   &chunk) != 5) {
		r = -EPROTO;
		goto out;
	}
	o->origin_dev = makedev(oma, omi);
	o->cow_dev = makedev(cma, cmi);
	o->have_origin_dev = true;
	o->chunk_sectors = chunk;
	o->sectors = len;
out:
	free(target);
	free(params);
	return r;
}

int origin_lookup(const char *name, struct origin *o)
{
	struct dmx_info info;
	char *dm_name;
	int r;

	memset(o, 0, sizeof(*o));
	dm_name = xasprintf("%s%s", SSNAP_DM_PREFIX, name);
	r = dmx_info_by_name(dm_name, &info);
	free(dm_name);
	if (r)
		return r;
	if (!info.exists)
		return -ENOENT;
	return origin_fill_info(&info, o);
}

int origin_lookup_or_err(const char *name, struct origin *o)
{
	int r = origin_lookup(name, o);

	if (r == -ENOENT)
		pr_err("%s: no active origin of that name", name);
	else if (r)
		pr_err("%s: cannot read the origin device: %s", name,
		       strerror(-r));
	return r;
}

int origin_lookup_uuid(const char *uuid, struct origin *o)
{
	struct dmx_info info;
	char *dm_uuid;
	int r;

	memset(o, 0, sizeof(*o));
	dm_uuid = xasprintf("%s%s", SSNAP_UUID_PREFIX, uuid);
	r = dmx_info_by_uuid(dm_uuid, &info);
	free(dm_uuid);
	if (r)
		return r;
	if (!info.exists)
		return -ENOENT;
	return origin_fill_info(&info, o);
}

int origin_lookup_devno(uint32_t major, uint32_t minor, struct origin *o)
{
	struct dmx_info info;
	int r;

	memset(o, 0, sizeof(*o));
	r = dmx_info_by_devno(major, minor, &info);
	if (r)
		return r;
	if (!info.exists)
		return -ENOENT;
	return origin_fill_info(&info, o);
}

void origin_free(struct origin *o)
{
	free(o->snaps);
	free(o->devs);
	o->snaps = NULL;
	o->devs = NULL;
	o->nr_snaps = o->nr_devs = 0;
}

static struct kern_snap *snap_add(struct origin *o)
{
	struct kern_snap *s;

	s = realloc(o->snaps, (o->nr_snaps + 1) * sizeof(*s));
	if (!s) {
		pr_err("out of memory");
		exit(EXIT_FAIL);
	}
	o->snaps = s;
	s = &o->snaps[o->nr_snaps++];
	memset(s, 0, sizeof(*s));
	return s;
}

struct kern_snap *origin_find_id(struct origin *o, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < o->nr_snaps; i++)
		if (o->snaps[i].id == id)
			return &o->snaps[i];
	return NULL;
}

/* By name; a designator of digits only that names none is an id. */
struct kern_snap *origin_find_snap(struct origin *o, const char *name)
{
	uint32_t i, id;

	for (i = 0; i < o->nr_snaps; i++)
		if (!strcmp(o->snaps[i].name, name))
			return &o->snaps[i];
	if (all_digits(name) && !parse_u32(name, &id))
		return origin_find_id(o, id);
	return NULL;
}

/* ": no snapshot <rest>" or "<n> <id>... <rest>": the ids, and rest. */
static const char *status_ids(struct origin *o, const char *p, bool add)
{
	unsigned int n, i;
	int used;

	if (!strncmp(p, ": no snapshot", 13))
		return p + 13;
	if (sscanf(p, "%u%n", &n, &used) != 1)
		return p;
	p += used;
	for (i = 0; i < n; i++) {
		unsigned int id;

		if (sscanf(p, " %u%n", &id, &used) != 1)
			return p;
		p += used;
		if (add)
			snap_add(o)->id = id;
	}
	return p;
}

static void status_usage(struct origin *o, const char *rest)
{
	unsigned long long used, total, meta;
	unsigned int deleting;
	char state[16];

	if (sscanf(rest, " %15s %llu/%llu %llu %u", state, &used, &total,
		   &meta, &deleting) != 5)
		return;
	o->usage.valid = true;
	o->usage.chunk_sectors = o->chunk_sectors;
	o->usage.used_chunks = used;
	o->usage.total_chunks = total;
	o->usage.free_chunks = total - used;
	o->usage.meta_blocks = meta;
	o->usage.deleting = deleting;
	str_copy(o->usage.state, state, sizeof(o->usage.state));
}

static int parse_list(struct origin *o, char *reply)
{
	char *line, *save = NULL;

	for (line = strtok_r(reply, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long ctime;
		unsigned int id, label, prio, flags;
		char name[SSNAP_NAME_LEN * 2];
		struct kern_snap *s;

		if (sscanf(line, "%u %u %llu %u %x %127s", &id, &label, &ctime,
			   &prio, &flags, name) != 6)
			continue;
		s = snap_add(o);
		s->id = id;
		s->label = label;
		s->ctime = ctime;
		s->priority = prio;
		s->flags = flags;
		if (strcmp(name, "-"))
			str_copy(s->name, name, sizeof(s->name));
	}
	return 0;
}

static void parse_usage(struct origin *o, char *reply)
{
	struct kern_usage *u = &o->usage;
	char *tok, *save = NULL;

	for (tok = strtok_r(reply, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save)) {
		char *eq = strchr(tok, '=');
		unsigned long long v;

		if (!eq)
			continue;
		*eq++ = '\0';
		v = strtoull(eq, NULL, 10);
		if (!strcmp(tok, "chunk_sectors"))
			u->chunk_sectors = (uint32_t)v;
		else if (!strcmp(tok, "total_chunks"))
			u->total_chunks = v;
		else if (!strcmp(tok, "used_chunks"))
			u->used_chunks = v;
		else if (!strcmp(tok, "free_chunks"))
			u->free_chunks = v;
		else if (!strcmp(tok, "meta_blocks"))
			u->meta_blocks = v;
		else if (!strcmp(tok, "snapshots"))
			u->snapshots = (uint32_t)v;
		else if (!strcmp(tok, "deleting"))
			u->deleting = (uint32_t)v;
		else if (!strcmp(tok, "transaction"))
			u->transaction = v;
		else if (!strcmp(tok, "state"))
			str_copy(u->state, eq, sizeof(u->state));
	}
	u->valid = true;
}

static void parse_snap_usage(struct origin *o, char *reply)
{
	char *line, *save = NULL;

	for (line = strtok_r(reply, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long ex, sh;
		unsigned int id;
		struct kern_snap *s;

		if (sscanf(line, "%u %llu %llu", &id, &ex, &sh) != 3)
			continue;
		s = origin_find_id(o, id);
		if (!s)
			continue;
		s->have_usage = true;
		s->exclusive = ex;
		s->shared = sh;
	}
}

static int devs_one(const struct dmx_info *info, void *ctx)
{
	struct origin *o = ctx;
	struct ssnap_uuid u;
	struct snap_dev *d;
	struct kern_snap *s;

	dmx_parse_uuid(info->uuid, &u);
	if (!u.ours || !u.snapshot || strcmp(u.store, o->store))
		return 0;
	d = realloc(o->devs, (o->nr_devs + 1) * sizeof(*d));
	if (!d)
		return -ENOMEM;
	o->devs = d;
	d = &o->devs[o->nr_devs++];
	d->id = u.id;
	d->open_count = info->open_count;
	str_copy(d->dm_name, info->name, sizeof(d->dm_name));
	s = origin_find_id(o, u.id);
	if (s) {
		s->active = true;
		str_copy(s->dm_name, info->name, sizeof(s->dm_name));
	}
	return 0;
}

/* Which snapshot devices of the store are active (and open). */
int origin_scan_devs(struct origin *o)
{
	free(o->devs);
	o->devs = NULL;
	o->nr_devs = 0;
	return dmx_for_each(devs_one, o);
}

int origin_query(struct origin *o, bool usage)
{
	char *reply = NULL, *params = NULL;
	const char *rest = NULL;
	int r;

	free(o->snaps);
	o->snaps = NULL;
	o->nr_snaps = 0;
	o->have_list = false;
	memset(&o->usage, 0, sizeof(o->usage));

	r = dmx_message(o->dm.name, "snapshot list", &reply);
	if (!r) {
		o->have_list = true;
		parse_list(o, reply);
		free(reply);
	}
	if (r || usage) {
		int rs = dmx_status(o->dm.name, false, NULL, NULL, &params);

		if (rs) {
			if (r)
				return rs;
		} else {
			rest = status_ids(o, params, r != 0);
		}
	}
	if (usage) {
		if (!dmx_message(o->dm.name, "usage", &reply)) {
			parse_usage(o, reply);
			free(reply);
		} else if (rest) {
			status_usage(o, rest);
		}
		if (!dmx_message(o->dm.name, "snapshot usage", &reply)) {
			parse_snap_usage(o, reply);
			free(reply);
		}
	}
	free(params);
	return origin_scan_devs(o);
}

/* ------------------------------------------------------------------ */
/* Snapshot devices.                                                   */

int snapshot_dm_name(const struct origin *o, const struct kern_snap *s,
		     char *buf, size_t len)
{
	int n;

	if (s->name[0])
		n = snprintf(buf, len, "%s%s-%s", SSNAP_DM_PREFIX, o->name,
			     s->name);
	else
		n = snprintf(buf, len, "%s%s-%u", SSNAP_DM_PREFIX, o->name,
			     s->id);
	if (n < 0 || (size_t)n >= len || n > SSNAP_DM_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static bool snap_dev_active(const struct origin *o, uint32_t id,
			    struct dmx_info *info)
{
	char *uuid;
	int r;

	uuid = xasprintf("%s%s-%u", SSNAP_UUID_PREFIX, o->store, id);
	r = dmx_info_by_uuid(uuid, info);
	free(uuid);
	return !r && info->exists;
}

int snapshot_activate(struct origin *o, struct kern_snap *s)
{
	struct dmx_info info;
	char name[160], params[64], *uuid;
	int r;

	if (snap_dev_active(o, s->id, &info)) {
		str_copy(s->dm_name, info.name, sizeof(s->dm_name));
		s->active = true;
		return 0;
	}
	if (!o->have_origin_dev)
		return -ENODEV;
	r = snapshot_dm_name(o, s, name, sizeof(name));
	if (r) {
		pr_err("%s: snapshot device name '%s%s-%s' is longer than %d "
		       "bytes", o->name, SSNAP_DM_PREFIX, o->name, s->name,
		       SSNAP_DM_NAME_MAX);
		return r;
	}
	snprintf(params, sizeof(params), "%u:%u %u", major(o->origin_dev),
		 minor(o->origin_dev), s->id);
	uuid = xasprintf("%s%s-%u", SSNAP_UUID_PREFIX, o->store, s->id);
	/* A snapshot has the origin's file system UUID and label: let the
	 * origin keep the /dev/disk/by-uuid and by-label links. */
	r = dmx_create(name, uuid, o->sectors, "s-snap", params, true);
	/* Raced with the udev rule (or another ssnap): fine if it is up. */
	if (r && dmx_wait_live(uuid))
		r = 0;
	free(uuid);
	if (r) {
		pr_err("%s: cannot activate snapshot %u: %s (see the kernel "
		       "log)", name, s->id, strerror(-r));
		return r;
	}
	str_copy(s->dm_name, name, sizeof(s->dm_name));
	s->active = true;
	return 0;
}

int snapshot_deactivate(struct origin *o, uint32_t id, bool quiet_absent)
{
	struct dmx_info info;
	int r;

	if (!snap_dev_active(o, id, &info))
		return quiet_absent ? 0 : -ENOENT;
	if (info.open_count > 0) {
		pr_err("%s: snapshot device is in use (mounted or open)",
		       info.name);
		return -EBUSY;
	}
	r = dmx_remove(info.name);
	if (r == -ENXIO || r == -ENODEV)
		r = 0;
	if (r)
		pr_err("%s: cannot remove snapshot device: %s", info.name,
		       strerror(-r));
	return r;
}

/* ------------------------------------------------------------------ */
/* The skip markers: the udev rule activates a snapshot that appears
 * (SSNAP_EVENT=create) unless the tool that created it left a marker,
 * as it does when it activates the snapshot itself or was told not to. */

static char *marker_path(const char *store, uint32_t id)
{
	return xasprintf("%s/skip-%s-%u", SSNAP_RUN_DIR, store, id);
}

/* Markers nobody took (udev not running our rules) go after a minute. */
static void marker_purge(void)
{
	struct dirent *de;
	time_t now = time(NULL);
	DIR *dir;

	dir = opendir(SSNAP_RUN_DIR);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		struct stat st;

		if (strncmp(de->d_name, "skip-", 5))
			continue;
		if (!fstatat(dirfd(dir), de->d_name, &st, 0) &&
		    st.st_mtime + 60 < now)
			(void)unlinkat(dirfd(dir), de->d_name, 0);
	}
	closedir(dir);
}

void skip_marker_set(const char *store, uint32_t id)
{
	char *p;
	int fd;

	if (mkdir(SSNAP_RUN_DIR, 0700) && errno != EEXIST)
		return;
	marker_purge();
	p = marker_path(store, id);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	free(p);
}

bool skip_marker_take(const char *store, uint32_t id)
{
	char *p = marker_path(store, id);
	bool r = unlink(p) == 0;

	free(p);
	return r;
}

void skip_marker_clear(const char *store, uint32_t id)
{
	(void)skip_marker_take(store, id);
}

