// SPDX-License-Identifier: GPL-2.0
/*
 * libdevmapper, the only way ssnap(8) talks to device-mapper.
 *
 * Every task that makes or removes a node carries a udev cookie and is
 * followed by dm_udev_wait(), so a command returns once udev has made or
 * removed /dev/mapper/<name> and the /dev/ssnap links (the shape of
 * dmsetup's _create_one_device).  When udev runs, libdevmapper's own node
 * handling is off (DM_UDEV_DISABLE_LIBRARY_FALLBACK, as libdevmapper.h
 * recommends); without udev (or with DM_DISABLE_UDEV=1) libdevmapper
 * makes the /dev/mapper nodes itself and there are no /dev/ssnap links.
 *
 * libdevmapper's own messages are kept, not printed: each command prints
 * one line naming the device and the cause; -v shows them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libdevmapper.h>

#include "dmx.h"

#define DM_LOG_LEVEL_MASK	7
#define DM_LOG_ERR		3
#define DM_LOG_WARN		4

static void dm_log(int level, const char *file, int line, int dm_errno,
		   const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void dm_log(int level, const char *file, int line, int dm_errno,
		   const char *fmt, ...)
{
	int lvl = level & DM_LOG_LEVEL_MASK;
	va_list ap;

	if (!opt_verbose || (lvl > DM_LOG_WARN && opt_verbose < 2))
		return;
	va_start(ap, fmt);
	fprintf(stderr, "%s: libdevmapper: ", prog_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void dmx_init(void)
{
	dm_log_with_errno_init(dm_log);
	/* Wait for udev when it runs; libdevmapper finds out whether. */
	dm_udev_set_sync_support(1);
}

static uint16_t udev_flags(uint16_t extra)
{
	return extra | (dm_udev_get_sync_support() ?
			DM_UDEV_DISABLE_LIBRARY_FALLBACK : 0);
}

static int task_errno(struct dm_task *dmt)
{
	int e = dm_task_get_errno(dmt);

	return e > 0 ? -e : -EIO;
}

/*
 * SSNAP-<36-char store uuid>                origin
 * SSNAP-<36-char store uuid>-<decimal id>   snapshot
 * SSNAP-<36-char store uuid>-<other>        a layer (none yet)
 */
void dmx_parse_uuid(const char *dm_uuid, struct ssnap_uuid *u)
{
	size_t plen = strlen(SSNAP_UUID_PREFIX);
	uint8_t raw[16];
	char store[SSNAP_UUID_STRLEN + 1];
	const char *rest;

	memset(u, 0, sizeof(*u));
	if (!dm_uuid || strncmp(dm_uuid, SSNAP_UUID_PREFIX, plen) ||
	    strlen(dm_uuid) < plen + SSNAP_UUID_STRLEN)
		return;
	memcpy(store, dm_uuid + plen, SSNAP_UUID_STRLEN);
	store[SSNAP_UUID_STRLEN] = '\0';
	if (uuid_from_str(store, raw))
		return;
	rest = dm_uuid + plen + SSNAP_UUID_STRLEN;
	if (*rest && *rest != '-')
		return;
	u->ours = true;
	memcpy(u->store, store, sizeof(store));
	if (!*rest)
		return;
	if (!parse_u32(rest + 1, &u->id))
		u->snapshot = true;
	else
		u->layer = true;
}

static int info_run(struct dm_task *dmt, struct dmx_info *info)
{
	struct dm_info di;
	const char *s;

	memset(info, 0, sizeof(*info));
	if (!dm_task_run(dmt))
		return task_errno(dmt);
	if (!dm_task_get_info(dmt, &di))
		return -EIO;
	if (!di.exists)
		return 0;
	info->exists = true;
	info->suspended = di.suspended;
	info->live_table = di.live_table;
	info->open_count = di.open_count;
	info->major = di.major;
	info->minor = di.minor;
	s = dm_task_get_name(dmt);
	str_copy(info->name, s ? s : "", sizeof(info->name));
	s = dm_task_get_uuid(dmt);
	str_copy(info->uuid, s ? s : "", sizeof(info->uuid));
	return 0;
}

static int info_by(const char *name, const char *uuid, uint32_t major,
		   uint32_t minor, struct dmx_info *info)
{
	struct dm_task *dmt;
	int r = -ENOMEM;

	dmt = dm_task_create(DM_DEVICE_INFO);
	if (!dmt)
		return -ENOMEM;
	if (name && !dm_task_set_name(dmt, name))
		goto out;
	if (uuid && !dm_task_set_uuid(dmt, uuid))
		goto out;
	if (!name && !uuid && (!dm_task_set_major(dmt, (int)major) ||
			       !dm_task_set_minor(dmt, (int)minor)))
		goto out;
	r = info_run(dmt, info);
	/* Without a device, INFO succeeds with exists == 0. */
	if (r == -ENXIO || r == -ENODEV) {
		memset(info, 0, sizeof(*info));
		r = 0;
	}
out:
	dm_task_destroy(dmt);
	return r;
}

int dmx_info_by_name(const char *name, struct dmx_info *info)
{
	return info_by(name, NULL, 0, 0, info);
}

int dmx_info_by_uuid(const char *uuid, struct dmx_info *info)
{
	return info_by(NULL, uuid, 0, 0, info);
}

int dmx_info_by_devno(uint32_t major, uint32_t minor, struct dmx_info *info)
{
	return info_by(NULL, NULL, major, minor, info);
}

int dmx_for_each(int (*fn)(const struct dmx_info *info, void *ctx),
		 void *ctx)
{
	struct dm_names *names;
	struct dm_task *dmt;
	unsigned int next = 0;
	int r = 0;

	dmt = dm_task_create(DM_DEVICE_LIST);
	if (!dmt)
		return -ENOMEM;
	if (!dm_task_run(dmt)) {
		r = task_errno(dmt);
		goto out;
	}
	names = dm_task_get_names(dmt);
	if (!names || !names->dev)
		goto out;
	do {
		struct dmx_info info;

		names = (struct dm_names *)((char *)names + next);
		/* A device may go away in between: not an error. */
		if (dmx_info_by_name(names->name, &info) || !info.exists)
			goto next;
		r = fn(&info, ctx);
		if (r)
			break;
next:
		next = names->next;
	} while (next);
out:
	dm_task_destroy(dmt);
	return r;
}

bool dmx_wait_live(const char *uuid)
{
	struct dmx_info info;
	int i;

	for (i = 0; i < 20; i++) {
		if (dmx_info_by_uuid(uuid, &info) || !info.exists)
			return false;
		if (info.live_table && !info.suspended)
			return true;
		usleep(100 * 1000);
	}
	return false;
}

bool dmx_udev_sync(void)
{
	return dm_udev_get_sync_support();
}

/* One task that makes or removes a node: with a cookie, then waited. */
static int run_with_cookie(struct dm_task *dmt, uint16_t flags)
{
	uint32_t cookie = 0;
	int r;

	if (!dm_task_set_cookie(dmt, &cookie, udev_flags(flags)))
		return -EIO;
	r = dm_task_run(dmt) ? 0 : task_errno(dmt);
	(void)dm_udev_wait(cookie);
	return r;
}

/*
 * Create, load, resume: three tasks rather than libdevmapper's one
 * "create with a table", so that a refused table reports the kernel's
 * errno (the one-task form reports that of the removal that undoes it).
 */
int dmx_create(const char *name, const char *uuid, uint64_t sectors,
	       const char *target, const char *params, bool low_priority)
{
	uint16_t flags = low_priority ? DM_UDEV_LOW_PRIORITY_FLAG : 0;
	struct dm_task *dmt;
	int r = -ENOMEM;

	pr_verbose("create %s (uuid %s): 0 %llu %s %s", name, uuid,
		   (unsigned long long)sectors, target, params);
	/* The cookie goes with the resume: that is when udev makes the
	 * nodes and links (the add event of a device without a table
	 * makes none), as in lvm2's deptree. */
	dmt = dm_task_create(DM_DEVICE_CREATE);
	if (!dmt)
		return -ENOMEM;
	if (dm_task_set_name(dmt, name) && dm_task_set_uuid(dmt, uuid))
		r = dm_task_run(dmt) ? 0 : task_errno(dmt);
	dm_task_destroy(dmt);
	if (r)
		return r;

	r = -ENOMEM;
	dmt = dm_task_create(DM_DEVICE_RELOAD);
	if (dmt && dm_task_set_name(dmt, name) &&
	    dm_task_add_target(dmt, 0, sectors, target, params))
		r = dm_task_run(dmt) ? 0 : task_errno(dmt);
	if (dmt)
		dm_task_destroy(dmt);
	if (r)
		goto undo;

	r = -ENOMEM;
	dmt = dm_task_create(DM_DEVICE_RESUME);
	if (dmt && dm_task_set_name(dmt, name))
		r = run_with_cookie(dmt, flags);
	if (dmt)
		dm_task_destroy(dmt);
	if (!r)
		return 0;
undo:
	(void)dmx_remove(name);
	return r;
}

int dmx_remove(const char *name)
{
	struct dm_task *dmt;
	int r = -ENOMEM;

	pr_verbose("remove %s", name);
	dmt = dm_task_create(DM_DEVICE_REMOVE);
	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_name(dmt, name))
		goto out;
	/* udev's blkid may hold the device for a moment: retry then. */
	dm_task_retry_remove(dmt);
	r = run_with_cookie(dmt, 0);
out:
	dm_task_destroy(dmt);
	return r;
}

int dmx_rename(const char *name, const char *newname)
{
	struct dm_task *dmt;
	int r = -ENOMEM;

	pr_verbose("rename %s %s", name, newname);
	dmt = dm_task_create(DM_DEVICE_RENAME);
	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_name(dmt, name) || !dm_task_set_newname(dmt, newname))
		goto out;
	r = run_with_cookie(dmt, 0);
out:
	dm_task_destroy(dmt);
	return r;
}

int dmx_suspend(const char *name)
{
	struct dm_task *dmt;
	int r = -ENOMEM;

	pr_verbose("suspend %s", name);
	dmt = dm_task_create(DM_DEVICE_SUSPEND);
	if (!dmt)
		return -ENOMEM;
	/* Not dm_task_skip_lockfs(): the kernel freezes the file system. */
	if (dm_task_set_name(dmt, name))
		r = dm_task_run(dmt) ? 0 : task_errno(dmt);
	dm_task_destroy(dmt);
	return r;
}

int dmx_resume(const char *name)
{
	struct dm_task *dmt;
	int r = -ENOMEM;

	pr_verbose("resume %s", name);
	dmt = dm_task_create(DM_DEVICE_RESUME);
	if (!dmt)
		return -ENOMEM;
	if (dm_task_set_name(dmt, name))
		r = run_with_cookie(dmt, 0);
	dm_task_destroy(dmt);
	return r;
}

int dmx_message(const char *name, const char *msg, char **reply)
{
	struct dm_task *dmt;
	const char *resp;
	int r = -ENOMEM;

	pr_verbose("message %s 0 %s", name, msg);
	if (reply)
		*reply = NULL;
	dmt = dm_task_create(DM_DEVICE_TARGET_MSG);
	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_name(dmt, name) || !dm_task_set_sector(dmt, 0) ||
	    !dm_task_set_message(dmt, msg))
		goto out;
	if (!dm_task_run(dmt)) {
		r = task_errno(dmt);
		goto out;
	}
	r = 0;
	if (reply) {
		resp = dm_task_get_message_response(dmt);
		*reply = xstrdup(resp ? resp : "");
	}
out:
	dm_task_destroy(dmt);
	return r;
}

int dmx_status(const char *name, bool table, char **target,
	       uint64_t *length, char **params)
{
	struct dm_task *dmt;
	uint64_t start, len;
	char *type = NULL, *p = NULL;
	int r = -ENOMEM;

	dmt = dm_task_create(table ? DM_DEVICE_TABLE : DM_DEVICE_STATUS);
	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_name(dmt, name))
		goto out;
	dm_task_no_open_count(dmt);
	if (!dm_task_run(dmt)) {
		r = task_errno(dmt);
		goto out;
	}
	(void)dm_get_next_target(dmt, NULL, &start, &len, &type, &p);
	if (!type) {
		r = -ENODATA;
		goto out;
	}
	if (target)
		*target = xstrdup(type);
	if (length)
		*length = len;
	if (params)
		*params = xstrdup(p ? p : "");
	r = 0;
out:
	dm_task_destroy(dmt);
	return r;
}
