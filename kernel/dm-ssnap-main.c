// SPDX-License-Identifier: GPL-2.0
/*
 * dm-ssnap: module init and exit, and the registry of origin devices.
 *
 * The registry maps an origin device (by dev_t) to the state its
 * s-snap-origin and s-snaps share.  A device takes part in at most one
 * entry, as origin or as COW; the tables of one s-snap-origin mapped
 * device share its entry across reloads, and each s-snap holds a
 * reference so the entry outlives every snapshot of it.
 */
#include <linux/blkdev.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include "dm-ssnap.h"

static DEFINE_MUTEX(ssnap_registry_lock);
static LIST_HEAD(ssnap_registry);

/*
 * Find or make the entry for @origin_dev on behalf of a table of mapped
 * device @md_dev, and take a reference.  On failure, *error says why.
 */
int ssnap_shared_attach(struct block_device *origin, struct block_device *cow,
			dev_t md_dev, unsigned int chunk_sectors,
			struct ssnap_shared **out, char **error)
{
	dev_t origin_dev = origin->bd_dev, cow_dev = cow->bd_dev;
	struct ssnap_shared *sh;
	int r = 0;

	mutex_lock(&ssnap_registry_lock);
	list_for_each_entry(sh, &ssnap_registry, list) {
		if (sh->origin_dev == origin_dev) {
			if (sh->md_dev != md_dev) {
				*error = SSNAP_EORIGIN_BUSY;
				r = -EBUSY;
			} else if (sh->cow_dev != cow_dev ||
				   sh->chunk_sectors != chunk_sectors) {
				*error = SSNAP_ESTORE_CHANGE;
				r = -EINVAL;
			} else {
				sh->refs++;
			}
			goto out_unlock;
		}
		if (origin_dev == sh->cow_dev || cow_dev == sh->origin_dev ||
		    cow_dev == sh->cow_dev) {
			*error = SSNAP_EDEV_BUSY;
			r = -EBUSY;
			goto out_unlock;
		}
	}

	sh = kzalloc(sizeof(*sh), GFP_KERNEL);
	if (!sh) {
		*error = SSNAP_ENOMEM;
		r = -ENOMEM;
		goto out_unlock;
	}
	/* Opening the store does I/O; no other entry can appear meanwhile. */
	r = ssnap_pool_create(origin, cow, chunk_sectors, &sh->pool, error);
	if (r) {
		kfree(sh);
		goto out_unlock;
	}
	sh->origin_dev = origin_dev;
	sh->cow_dev = cow_dev;
	sh->md_dev = md_dev;
	sh->chunk_sectors = chunk_sectors;
	sh->refs = 1;
	list_add(&sh->list, &ssnap_registry);

out_unlock:
	mutex_unlock(&ssnap_registry_lock);
	if (!r)
		*out = sh;
	return r;
}

/* The entry for @origin_dev with a reference taken, or NULL. */
struct ssnap_shared *ssnap_shared_find_get(dev_t origin_dev)
{
	struct ssnap_shared *sh, *found = NULL;

	mutex_lock(&ssnap_registry_lock);
	list_for_each_entry(sh, &ssnap_registry, list) {
		if (sh->origin_dev == origin_dev) {
			sh->refs++;
			found = sh;
			break;
		}
	}
	mutex_unlock(&ssnap_registry_lock);
	return found;
}

void ssnap_shared_put(struct ssnap_shared *sh)
{
	mutex_lock(&ssnap_registry_lock);
	if (--sh->refs == 0)
		list_del(&sh->list);
	else
		sh = NULL;
	mutex_unlock(&ssnap_registry_lock);
	if (sh)
		ssnap_pool_destroy(sh->pool);
	kfree(sh);
}

dev_t ssnap_table_devt(struct dm_target *ti)
{
	return disk_devt(dm_disk(dm_table_get_md(ti->table)));
}

static int __init dm_ssnap_init(void)
{
	int r;

	r = dm_register_target(&ssnap_origin_target);
	if (r) {
		DMERR("register %s target failed: %d",
		      ssnap_origin_target.name, r);
		return r;
	}

	r = dm_register_target(&ssnap_snap_target);
	if (r) {
		DMERR("register %s target failed: %d",
		      ssnap_snap_target.name, r);
		goto err_unregister_origin;
	}

	DMINFO("version %s loaded", SSNAP_MODULE_VERSION);
	return 0;

err_unregister_origin:
	dm_unregister_target(&ssnap_origin_target);
	return r;
}

static void __exit dm_ssnap_exit(void)
{
	dm_unregister_target(&ssnap_snap_target);
	dm_unregister_target(&ssnap_origin_target);
	/* Every table holds a module reference: nothing can be left. */
	WARN_ON(!list_empty(&ssnap_registry));
}

module_init(dm_ssnap_init);
module_exit(dm_ssnap_exit);

MODULE_DESCRIPTION(DM_NAME " shared-exception-store snapshots");
MODULE_LICENSE("GPL");
MODULE_VERSION(SSNAP_MODULE_VERSION);
/* device-mapper loads "dm-<target name>" when a table names a target. */
MODULE_ALIAS("dm-s-snap-origin");
MODULE_ALIAS("dm-s-snap");
