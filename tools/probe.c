// SPDX-License-Identifier: GPL-2.0
/*
 * What is on a block device, and which block device is which.
 *
 *   probe_signatures  libblkid's view (wipefs's loop: every superblock
 *                     and partition table, wiped on request)
 *   origin_ident      a name for the origin that survives a reboot, kept
 *                     in the superblock so that activation finds the
 *                     origin again
 *   scan_stores       every block device with an ssnap superblock
 *                     (libblkid does not know the format)
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <blkid.h>

#include "ssnap-tool.h"

/* ------------------------------------------------------------------ */
/* Signatures.                                                         */

static const char *usage_word(const char *usage)
{
	if (!usage)
		return "";
	if (!strcmp(usage, "filesystem"))
		return " file system";
	if (!strcmp(usage, "raid"))
		return " RAID or volume member";
	if (!strcmp(usage, "crypto"))
		return " encrypted volume";
	return "";
}

static void append(char **list, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void append(char **list, const char *fmt, ...)
{
	char *item, *joined;
	va_list ap;

	va_start(ap, fmt);
	item = xvasprintf(fmt, ap);
	va_end(ap);
	if (*list) {
		joined = xasprintf("%s, %s", *list, item);
		free(*list);
		free(item);
		*list = joined;
	} else {
		*list = item;
	}
}

int probe_signatures(int fd, const char *path, bool wipe, char **found)
{
	blkid_probe pr;
	int r = 0;

	*found = NULL;
	pr = blkid_new_probe();
	if (!pr)
		return -ENOMEM;
	if (blkid_probe_set_device(pr, fd, 0, 0)) {
		r = -EIO;
		goto out;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_MAGIC |
					  BLKID_SUBLKS_TYPE |
					  BLKID_SUBLKS_USAGE |
					  BLKID_SUBLKS_BADCSUM);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC |
					 BLKID_PARTS_FORCE_GPT);

	while (blkid_do_probe(pr) == 0) {
		const char *type = NULL, *off = NULL, *usage = NULL;
		const char *what;

		if (!blkid_probe_lookup_value(pr, "TYPE", &type, NULL)) {
			(void)blkid_probe_lookup_value(pr, "SBMAGIC_OFFSET",
						       &off, NULL);
			(void)blkid_probe_lookup_value(pr, "USAGE", &usage,
						       NULL);
			what = usage_word(usage);
		} else if (!blkid_probe_lookup_value(pr, "PTTYPE", &type,
						     NULL)) {
			(void)blkid_probe_lookup_value(pr, "PTMAGIC_OFFSET",
						       &off, NULL);
			what = " partition table";
		} else {
			continue;
		}
		if (off)
			append(found, "%s%s signature at offset 0x%llx", type,
			       what, strtoull(off, NULL, 10));
		else
			append(found, "%s%s signature", type, what);
		if (wipe) {
			pr_verbose("%s: wiping %s signature", path, type);
			if (blkid_do_wipe(pr, 0)) {
				r = -EIO;
				goto out;
			}
		}
	}
	if (wipe && fsync(fd))
		r = -errno;
out:
	blkid_free_probe(pr);
	return r;
}

/* ------------------------------------------------------------------ */
/* Origin identity.                                                    */

static int sys_attr(dev_t devno, const char *attr, char *buf, size_t len)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%s", major(devno),
		 minor(devno), attr);
	return read_small_file(path, buf, len);
}

static bool sys_exists(dev_t devno, const char *attr)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%s", major(devno),
		 minor(devno), attr);
	return access(path, F_OK) == 0;
}

static int part_uuid(dev_t devno, char *buf, size_t len)
{
	const char *v = NULL;
	char node[64];
	blkid_probe pr;
	int r = -ENOENT;

	devno_name(devno, node, sizeof(node));
	pr = blkid_new_probe_from_filename(node);
	if (!pr)
		return -ENOENT;
	blkid_probe_enable_superblocks(pr, 0);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
	if (blkid_do_safeprobe(pr) == 0 &&
	    !blkid_probe_lookup_value(pr, "PART_ENTRY_UUID", &v, NULL) && v &&
	    *v) {
		snprintf(buf, len, "%s", v);
		r = 0;
	}
	blkid_free_probe(pr);
	return r;
}

static void ident_set(char out[SSNAP_IDENT_LEN], const char *kind,
		      const char *value)
{
	size_t kl = strlen(kind), vl = strlen(value);

	if (kl + 1 + vl < SSNAP_IDENT_LEN) {
		memcpy(out, kind, kl);
		out[kl] = '=';
		memcpy(out + kl + 1, value, vl + 1);
		return;
	}
	/* Too long for the field: two CRC32Cs stand for it. */
	snprintf(out, SSNAP_IDENT_LEN, "%s#%08x%08x", kind,
		 ssnap_crc32c(0, value, strlen(value)),
		 ssnap_crc32c(0x9e3779b9U, value, strlen(value)));
}

int origin_ident(dev_t devno, char out[SSNAP_IDENT_LEN])
{
	char buf[4096], off[32];
	struct ssnap_uuid u;

	if (sys_exists(devno, "partition") &&
	    !part_uuid(devno, buf, sizeof(buf))) {
		ident_set(out, "partuuid", buf);
		return 0;
	}
	if (!sys_attr(devno, "dm/uuid", buf, sizeof(buf)) && *buf) {
		dmx_parse_uuid(buf, &u);
		if (u.ours)
			return -EINVAL;	/* an ssnap device is no origin */
		ident_set(out, "dm-uuid", buf);
		return 0;
	}
	if ((!sys_attr(devno, "wwid", buf, sizeof(buf)) ||
	     !sys_attr(devno, "device/wwid", buf, sizeof(buf))) && *buf) {
		ident_set(out, "wwid", buf);
		return 0;
	}
	if ((!sys_attr(devno, "serial", buf, sizeof(buf)) ||
	     !sys_attr(devno, "device/serial", buf, sizeof(buf))) && *buf) {
		ident_set(out, "serial", buf);
		return 0;
	}
	if (!sys_attr(devno, "loop/backing_file", buf, sizeof(buf) - 40) &&
	    *buf) {
		if (!sys_attr(devno, "loop/offset", off, sizeof(off)) &&
		    strcmp(off, "0"))
			snprintf(buf + strlen(buf), 40, ",offset=%s", off);
		ident_set(out, "loop", buf);
		return 0;
	}
	snprintf(out, SSNAP_IDENT_LEN, "dev=%u:%u,size=%llu", major(devno),
		 minor(devno), (unsigned long long)devno_sectors(devno));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Scanning.                                                           */

int devno_of_kernel_name(const char *name, dev_t *devno)
{
	unsigned int ma, mi;
	char path[300], buf[32], c;

	if (sscanf(name, "%u:%u%c", &ma, &mi, &c) == 2) {
		*devno = makedev(ma, mi);
		return 0;
	}
	snprintf(path, sizeof(path), "/sys/class/block/%s/dev", name);
	if (read_small_file(path, buf, sizeof(buf)) ||
	    sscanf(buf, "%u:%u", &ma, &mi) != 2)
		return -ENOENT;
	*devno = makedev(ma, mi);
	return 0;
}

/* Calls fn for every block device with its number. */
static int for_each_blockdev(int (*fn)(dev_t devno, void *ctx), void *ctx)
{
	struct dirent *de;
	DIR *dir;
	int r = 0;

	dir = opendir("/sys/class/block");
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		dev_t devno;

		if (de->d_name[0] == '.')
			continue;
		if (devno_of_kernel_name(de->d_name, &devno))
			continue;
		r = fn(devno, ctx);
		if (r)
			break;
	}
	closedir(dir);
	return r;
}

/* Block devices whose contents are an ssnap device's: never stores. */
static bool is_ssnap_dm(dev_t devno)
{
	struct ssnap_uuid u;
	char buf[160];

	if (sys_attr(devno, "dm/uuid", buf, sizeof(buf)))
		return false;
	dmx_parse_uuid(buf, &u);
	return u.ours;
}

static bool has_holders(dev_t devno)
{
	char path[128];
	struct dirent *de;
	bool any = false;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/holders",
		 major(devno), minor(devno));
	dir = opendir(path);
	if (!dir)
		return false;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			any = true;
	closedir(dir);
	return any;
}

static int scan_one(dev_t devno, void *ctx)
{
	struct found_store **list = ctx, *fs, **pp;
	struct ssnap_disk_sb sb;
	char node[64];
	uint64_t size = devno_sectors(devno);

	if (size < ssnap_min_cow_sectors(SSNAP_CHUNK_SECTORS_MIN))
		return 0;
	if (is_ssnap_dm(devno))
		return 0;
	devno_name(devno, node, sizeof(node));
	if (node[0] != '/')
		return 0;
	if (store_read_super(node, &sb))
		return 0;
	/* The same store seen twice (multipath, a linear map over it):
	 * keep the device nothing else is stacked on. */
	for (pp = list; *pp; pp = &(*pp)->next) {
		if (memcmp((*pp)->sb.uuid, sb.uuid, sizeof(sb.uuid)))
			continue;
		if (has_holders(devno) || !has_holders((*pp)->devno))
			return 0;
		(*pp)->devno = devno;
		snprintf((*pp)->path, sizeof((*pp)->path), "%s", node);
		(*pp)->sb = sb;
		return 0;
	}
	fs = xzalloc(sizeof(*fs));
	fs->devno = devno;
	str_copy(fs->path, node, sizeof(fs->path));
	fs->sb = sb;
	*pp = fs;
	return 0;
}

int scan_stores(struct found_store **list)
{
	*list = NULL;
	return for_each_blockdev(scan_one, list);
}

void free_stores(struct found_store *list)
{
	while (list) {
		struct found_store *next = list->next;

		free(list);
		list = next;
	}
}

struct origin_search {
	const char *ident;
	uint64_t sectors;
	dev_t found;
	int matches;
	bool size_mismatch;
};

static int origin_one(dev_t devno, void *ctx)
{
	struct origin_search *os = ctx;
	char ident[SSNAP_IDENT_LEN];

	if (is_ssnap_dm(devno))
		return 0;
	if (origin_ident(devno, ident) || strcmp(ident, os->ident))
		return 0;
	if (devno_sectors(devno) != os->sectors) {
		os->size_mismatch = true;
		return 0;
	}
	/* A partition and an LV can share an identity only by a bug. */
	if (!os->matches++)
		os->found = devno;
	return 0;
}

int find_origin(const char *ident, uint64_t sectors, dev_t *devno)
{
	struct origin_search os = { .ident = ident, .sectors = sectors };
	int r;

	if (!*ident)
		return -ENOENT;
	r = for_each_blockdev(origin_one, &os);
	if (r)
		return r;
	if (!os.matches)
		return os.size_mismatch ? -ERANGE : -ENOENT;
	if (os.matches > 1)
		return -ENOTUNIQ;
	*devno = os.found;
	return 0;
}
