/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ssnap(8): device-mapper through libdevmapper (dm.c).
 */
#ifndef SSNAP_DMX_H
#define SSNAP_DMX_H

#include "util.h"

struct dmx_info {
	bool exists;
	bool suspended;
	bool live_table;
	int open_count;
	uint32_t major, minor;
	char name[128];
	char uuid[129];
};

/* What a DM UUID of ours says. */
struct ssnap_uuid {
	bool ours;
	bool snapshot;
	bool layer;			/* anything else after the store uuid */
	uint32_t id;			/* when snapshot */
	char store[SSNAP_UUID_STRLEN + 1];
};

void dmx_init(void);
void dmx_parse_uuid(const char *dm_uuid, struct ssnap_uuid *u);

int dmx_info_by_name(const char *name, struct dmx_info *info);
int dmx_info_by_uuid(const char *uuid, struct dmx_info *info);
int dmx_info_by_devno(uint32_t major, uint32_t minor, struct dmx_info *info);

/* Calls fn for every device-mapper device; stops on a non-zero return. */
int dmx_for_each(int (*fn)(const struct dmx_info *info, void *ctx),
		 void *ctx);

/*
 * Create, load and resume one device with one target; waits for udev.
 * low_priority: the device loses to others for the same /dev/disk links
 * (a snapshot carries its origin's file system UUID and label).
 */
int dmx_create(const char *name, const char *uuid, uint64_t sectors,
	       const char *target, const char *params, bool low_priority);
/*
 * After a create lost a race: true once the device with `uuid` (made by
 * someone else) has a live table; gives up after two seconds.
 */
bool dmx_wait_live(const char *uuid);
/* libdevmapper waits for udev (udev runs and DM_DISABLE_UDEV is unset). */
bool dmx_udev_sync(void);
/* Remove; EBUSY when open.  Waits for udev. */
int dmx_remove(const char *name);
/* Rename; waits for udev. */
int dmx_rename(const char *name, const char *newname);

/*
 * Suspend, freezing the file system on the device (lockfs) as lvm2 does
 * for a snapshot; resume (thaws; waits for udev).
 */
int dmx_suspend(const char *name);
int dmx_resume(const char *name);

/* Sends a message; *reply (malloc'd, may be empty) when reply != NULL. */
int dmx_message(const char *name, const char *msg, char **reply);
/* The first target's type, start, length and INFO status or TABLE. */
int dmx_status(const char *name, bool table, char **target,
	       uint64_t *length, char **params);

#endif /* SSNAP_DMX_H */
