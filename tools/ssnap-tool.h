/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ssnap(8): the administration tool of shared-exception-store snapshots.
 *
 * The pieces, one file each:
 *
 *   ssnap.c          main, the command table, option parsing, help
 *   origin.c         active origins: lookups, the kernel's replies,
 *                    snapshot devices, the markers the udev rules read
 *   cmd-origin.c     create-origin, activate, deactivate, remove-origin
 *   cmd-snapshot.c   snapshot, delete, rename, set-priority
 *   cmd-list.c       list
 *   cmd-offline.c    check, dump (the core, on an inactive store)
 *   cmd-udev.c       the hidden helpers the udev rules run
 *   dm.c             libdevmapper: tasks, udev cookies, messages
 *   store.c          the core in userspace: a struct ssnap_dev on a file
 *                    descriptor, the core's messages
 *   probe.c          libblkid signatures, origin identity, device scans
 *   format-output.c  text and JSON output through one row specification
 *   util.c           messages, numbers, sizes, names, exit handling
 *
 * Devices made by the tool:
 *
 *   ssnap-<name>            the origin (s-snap-origin), DM UUID
 *                           SSNAP-<store uuid>
 *   ssnap-<name>-<snap>     a snapshot (s-snap), DM UUID
 *                           SSNAP-<store uuid>-<snapshot id>
 *
 * The udev rules (udev/11-dm-ssnap.rules) link them as
 * /dev/ssnap/<name>/origin and /dev/ssnap/<name>/<snap>.  Names are told
 * apart by DM UUID, never by splitting a DM name at a '-'.
 */
#ifndef SSNAP_TOOL_H
#define SSNAP_TOOL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "dmx.h"
#include "ssnap.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* store.c                                                             */

struct fd_dev {
	struct ssnap_dev dev;
	int fd;
	bool direct;
	void *bounce;
	const char *path;
};

/* Open `path` for the core; flags O_RDONLY or O_RDWR (| O_EXCL). */
int fd_dev_open(struct fd_dev *d, const char *path, int flags);
void fd_dev_close(struct fd_dev *d);

/*
 * The superblock of an ssnap store on `path`: 0, -EINVAL (not a store),
 * -EILSEQ (damaged), or another errno.
 */
int store_read_super(const char *path, struct ssnap_disk_sb *sb);

/* Copies a NUL-padded field of the superblock into a C string. */
void sb_string(const char *field, size_t len, char *out);

/* Collects the core's messages (ssnap_log_hook) until store_log_end(). */
void store_log_begin(void);
/* The messages so far, "; "-joined (static buffer), or NULL. */
const char *store_log_text(void);
void store_log_end(void);

/* ------------------------------------------------------------------ */
/* probe.c                                                             */

/*
 * The signatures libblkid finds on the device open on `fd` (file systems,
 * RAID and LVM members, partition tables...), as "ext4 at offset 0x438"
 * joined by ", ", in *found (malloc'd, NULL if none).  With `wipe`, each
 * is wiped (blkid_do_wipe) as it is found.
 */
int probe_signatures(int fd, const char *path, bool wipe, char **found);

/*
 * The origin identity recorded in the superblock: the first of
 * partuuid=, dm-uuid=, wwid=, serial=, loop= that the device has, else
 * dev=M:m,size=S.  Values too long for the field are hashed ("kind#hex").
 */
int origin_ident(dev_t devno, char out[SSNAP_IDENT_LEN]);

struct found_store {
	struct found_store *next;
	dev_t devno;
	char path[64];
	struct ssnap_disk_sb sb;
};

/* Every block device holding an ssnap superblock (free with free_stores). */
int scan_stores(struct found_store **list);
void free_stores(struct found_store *list);
/* The block device whose identity is `ident` and size `sectors`. */
int find_origin(const char *ident, uint64_t sectors, dev_t *devno);
/* Kernel names ("loop0") to devices; also "M:m". */
int devno_of_kernel_name(const char *name, dev_t *devno);

/* ------------------------------------------------------------------ */
/* Active origins (origin.c), shared by the commands.                 */

struct kern_snap {
	uint32_t id;
	uint32_t label;
	uint64_t ctime;
	uint32_t priority;
	uint32_t flags;
	char name[SSNAP_NAME_LEN];
	bool have_usage;
	uint64_t exclusive, shared;	/* chunks */
	bool active;
	char dm_name[128];
};

struct kern_usage {
	bool valid;
	uint32_t chunk_sectors;
	uint64_t total_chunks, used_chunks, free_chunks, meta_blocks;
	uint32_t snapshots, deleting;
	uint64_t transaction;
	char state[16];
};

/* An active snapshot device of a store. */
struct snap_dev {
	uint32_t id;
	int open_count;
	char dm_name[128];
};

/*
 * An origin: active (dm.exists, from device-mapper and the kernel's
 * replies) or, for list --all, an inactive store read with the core.
 */
struct origin {
	struct dmx_info dm;
	char name[SSNAP_NAME_LEN];	/* ssnap name */
	char store[SSNAP_UUID_STRLEN + 1];
	dev_t origin_dev, cow_dev;
	bool have_origin_dev;
	uint32_t chunk_sectors;
	uint64_t sectors;
	bool have_list;			/* "snapshot list" answered */
	struct kern_snap *snaps;
	uint32_t nr_snaps;
	struct snap_dev *devs;		/* active snapshot devices */
	uint32_t nr_devs;
	struct kern_usage usage;
	char cow_path[64];		/* inactive: where the store is */
};

/* An origin from its device-mapper info (-ENOENT: not an origin). */
int origin_fill_info(const struct dmx_info *info, struct origin *o);
/* The active origin called `name`: 0, -ENOENT, or another error. */
int origin_lookup(const char *name, struct origin *o);
/* The same, saying on stderr why there is none. */
int origin_lookup_or_err(const char *name, struct origin *o);
/* The active origin of store `uuid`. */
int origin_lookup_uuid(const char *uuid, struct origin *o);
/* The active origin whose dm device is M:m. */
int origin_lookup_devno(uint32_t major, uint32_t minor, struct origin *o);
/* Snapshots, usage, and which snapshot devices are active. */
int origin_query(struct origin *o, bool usage);
/* Only which snapshot devices of the store are active (o->devs). */
int origin_scan_devs(struct origin *o);
void origin_free(struct origin *o);
struct kern_snap *origin_find_snap(struct origin *o, const char *name);
struct kern_snap *origin_find_id(struct origin *o, uint32_t id);

/* Bring one snapshot device up; 0 if it is (or already was) active. */
int snapshot_activate(struct origin *o, struct kern_snap *s);
int snapshot_deactivate(struct origin *o, uint32_t id, bool quiet_absent);
/* "ssnap-<origin>-<snap>" (or -<id> for an unnamed snapshot). */
int snapshot_dm_name(const struct origin *o, const struct kern_snap *s,
		     char *buf, size_t len);

/* Writes the pending-origin record the udev probe matches origins to. */
void pending_set(const struct found_store *fs);
void pending_clear(const char *store);
/* Fork; the parent exits 0, the child logs to the kernel log. */
void go_background(void);

/* The skip marker the udev rules honour (/run/ssnap/skip-<uuid>-<id>). */
void skip_marker_set(const char *store, uint32_t id);
bool skip_marker_take(const char *store, uint32_t id);
void skip_marker_clear(const char *store, uint32_t id);

/* Origin activation from a found store (cmd-origin.c). */
int activate_store(const struct found_store *fs, bool snapshots);
/* Deactivate an origin and every snapshot device of its store. */
int deactivate_origin(struct origin *o);

/* An inactive store's snapshots and use, by the core (cmd-offline.c). */
int store_read_table(const char *path, struct origin *o);

/* ------------------------------------------------------------------ */
/* The commands.                                                       */

struct cmd;
typedef int (*cmd_fn)(const struct cmd *cmd, int argc, char **argv);

int cmd_create_origin(const struct cmd *cmd, int argc, char **argv);
int cmd_activate(const struct cmd *cmd, int argc, char **argv);
int cmd_deactivate(const struct cmd *cmd, int argc, char **argv);
int cmd_remove_origin(const struct cmd *cmd, int argc, char **argv);
int cmd_extend(const struct cmd *cmd, int argc, char **argv);
int cmd_snapshot(const struct cmd *cmd, int argc, char **argv);
int cmd_delete(const struct cmd *cmd, int argc, char **argv);
int cmd_rename(const struct cmd *cmd, int argc, char **argv);
int cmd_set_priority(const struct cmd *cmd, int argc, char **argv);
int cmd_list(const struct cmd *cmd, int argc, char **argv);
int cmd_check(const struct cmd *cmd, int argc, char **argv);
int cmd_dump(const struct cmd *cmd, int argc, char **argv);
int cmd_udev_name(const struct cmd *cmd, int argc, char **argv);
int cmd_udev_probe(const struct cmd *cmd, int argc, char **argv);
int cmd_activate_snapshot(const struct cmd *cmd, int argc, char **argv);
int cmd_deactivate_snapshot(const struct cmd *cmd, int argc, char **argv);

/*
 * One option of a command: long name, short letter (0: none), argument
 * name (NULL: takes none), help, and OPT_HIDDEN for what only the udev
 * rules use.  Parsing, --help and the bash completion come from these.
 */
struct opt {
	const char *name;
	int val;		/* short letter or an OPT_* id above 255 */
	const char *arg;
	const char *help;
	unsigned int flags;
};

#define OPT_HIDDEN	(1U << 0)

/* Long-only option ids. */
enum {
	OPT_JSON = 256,
	OPT_NO_ACTIVATE,
	OPT_NO_FREEZE,
	OPT_ALL,
	OPT_UDEV,
	OPT_BACKGROUND,
	OPT_WIPE,
	OPT_DEVICE,
	OPT_NO_SNAPSHOTS,
	OPT_ID,
	OPT_PRIORITY,
};

struct cmd {
	const char *name;
	cmd_fn fn;
	const char *args;		/* synopsis after the options */
	const char *summary;		/* one line, for ssnap --help */
	const char *description;	/* a paragraph, for <cmd> --help */
	const struct opt *opts;		/* terminated by a zero entry */
	unsigned int flags;
};

#define CMD_HIDDEN	(1U << 0)

/*
 * getopt_long over cmd->opts (plus -h/--help, handled here).  Returns
 * the option's val, -1 at the end of the options, or exits on an error
 * (exit status 2) or after --help (0).
 */
int cmd_getopt(const struct cmd *cmd, int argc, char **argv);
extern char *cmd_optarg;
extern int cmd_optind;
/* "<cmd>: <what>" and "Try 'ssnap <cmd> --help'", exit status 2. */
void __attribute__((noreturn)) cmd_usage_error(const struct cmd *cmd,
					       const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cmd_want_args(const struct cmd *cmd, int argc, char **argv, int min,
		   int max);

#endif /* SSNAP_TOOL_H */
