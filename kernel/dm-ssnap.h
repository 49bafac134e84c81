/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-ssnap: shared-exception-store snapshots for device-mapper.
 *
 * One module, two targets:
 *
 *   s-snap-origin <origin_dev> <cow_dev> S <chunk_sectors>
 *                 [<#feature args> <feature>...]
 *   s-snap <origin_dev> <snapshot_id>
 *
 * An s-snap-origin owns the store on <cow_dev> for <origin_dev>; every
 * s-snap of that origin device goes through it.  The module-wide
 * registry (dm-ssnap-main.c) finds the store of an origin device.
 */
#ifndef DM_SSNAP_H
#define DM_SSNAP_H

#include <linux/device-mapper.h>
#include <linux/list.h>
#include <linux/types.h>

#include "compat.h"
#include "dm-ssnap-pool.h"

#define DM_MSG_PREFIX "ssnap"

/*
 * Every table line error, in one place: the text goes to ti->error,
 * which device-mapper logs as "table: <dev>: <target>: <text> (-E...)".
 * tests/integration/table.bats matches these strings; keep both in step.
 */
#define SSNAP_EORIGIN_ARGC \
	"Invalid argument count: need <origin_dev> <cow_dev> S <chunk_sectors> [<#features> <feature>...]"
#define SSNAP_ESTORE_TYPE \
	"Unknown store type: only S (shared) is supported"
#define SSNAP_ECHUNK_INVALID	"Invalid chunk size"
#define SSNAP_ECHUNK_POW2	"Chunk size is not a power of two"
#define SSNAP_ECHUNK_RANGE	"Chunk size out of range (8-2048 sectors)"
#define SSNAP_EFEATURE_COUNT	"Invalid number of feature arguments"
#define SSNAP_EFEATURE		"Unrecognised feature argument"
#define SSNAP_EORIGIN_OPEN	"Cannot open origin device"
#define SSNAP_ECOW_OPEN		"Cannot open COW device"
#define SSNAP_ESAME_DEV		"Origin and COW are the same device"
#define SSNAP_ECOW_SMALL	"COW device too small"
#define SSNAP_EORIGIN_BUSY \
	"Origin device already has an active s-snap-origin"
#define SSNAP_EDEV_BUSY		"Device already in use by another s-snap-origin"
#define SSNAP_ESTORE_CHANGE \
	"Cannot change the COW device or chunk size of an active s-snap-origin"
#define SSNAP_ENOMEM		"Cannot allocate memory"

#define SSNAP_ESNAP_ARGC \
	"Invalid argument count: need <origin_dev> <snapshot_id>"
#define SSNAP_ESNAP_ID		"Invalid snapshot id"
#define SSNAP_ENO_ORIGIN	"No active s-snap-origin for this origin device"
#define SSNAP_ESNAP_SELF \
	"An s-snap cannot replace the s-snap-origin it depends on"
#define SSNAP_EORIGIN_MD_OPEN	"Cannot open the s-snap-origin device"
#define SSNAP_ENO_SNAPSHOT	"No such snapshot in the store"

/*
 * Chunk sizes, in 512-byte sectors: the limits of the store format
 * (SSNAP_CHUNK_SECTORS_MIN/MAX in core/ssnap_format.h).
 */
#define SSNAP_CHUNK_MIN		8
#define SSNAP_CHUNK_MAX		2048

/* At most this many feature words on an s-snap-origin line. */
#define SSNAP_MAX_FEATURE_ARGS	16

/*
 * What one origin device's s-snap-origin and s-snaps share (the store
 * will live here): one per origin device that an s-snap-origin table
 * names.  Every table of the s-snap-origin's mapped device that names
 * the same origin, COW and chunk size shares it (a reload loads the new
 * table while the old one is still live), and every s-snap of the
 * origin device holds a reference too.  All fields are under the
 * registry mutex; refs counts those tables and snapshots.
 */
struct ssnap_shared {
	struct list_head list;		/* in the registry */
	dev_t origin_dev;
	dev_t cow_dev;
	dev_t md_dev;			/* the s-snap-origin's own device */
	unsigned int chunk_sectors;
	unsigned int refs;
	struct ssnap_pool *pool;	/* the store and its data path */
};

int ssnap_shared_attach(struct block_device *origin, struct block_device *cow,
			dev_t md_dev, unsigned int chunk_sectors,
			struct ssnap_shared **out, char **error);
struct ssnap_shared *ssnap_shared_find_get(dev_t origin_dev);
void ssnap_shared_put(struct ssnap_shared *sh);

/* The dev_t of the mapped device a table belongs to. */
dev_t ssnap_table_devt(struct dm_target *ti);

extern struct target_type ssnap_origin_target;
extern struct target_type ssnap_snap_target;

#endif /* DM_SSNAP_H */
