// SPDX-License-Identifier: GPL-2.0
/*
 * What the udev rules run (udev/11-dm-ssnap.rules, udev/69-ssnap.rules).
 * Hidden commands, kept short: udev waits for IMPORT{program} and RUN.
 *
 *   udev-name <dm-name> <dm-uuid>   SSNAP_* names for the /dev/ssnap links
 *                                   (libdevmapper only, no device I/O)
 *   udev-probe <devnode>            SSNAP_STORE_* if the device holds a
 *                                   store (reads its two superblocks), or
 *                                   SSNAP_PENDING_COW if it is the origin a
 *                                   store was waiting for
 *   activate-snapshot <M:m> <id>    SSNAP_EVENT=create on origin M:m
 *   deactivate-snapshot <M:m> <id>  SSNAP_EVENT=delete or drop
 *
 * With --background the command forks and returns at once: what it does
 * waits for udev to process other events, which it must not do inside a
 * udev worker.  Its messages then go to the kernel log.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ssnap-tool.h"

void go_background(void)
{
	pid_t pid;
	int fd;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return;		/* then do it in the foreground */
	if (pid > 0)
		_exit(EXIT_OK);
	(void)setsid();
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	opt_quiet = 1;
}

/* ------------------------------------------------------------------ */
/* udev-name                                                           */

static void put_env(const char *key, const char *value)
{
	printf("%s=%s\n", key, value);
}

int cmd_udev_name(const struct cmd *cmd, int argc, char **argv)
{
	size_t plen = strlen(SSNAP_DM_PREFIX);
	struct dmx_info info;
	struct ssnap_uuid u;
	const char *dm_name, *snap;
	char *uuid, id[16];

	while (cmd_getopt(cmd, argc, argv) != -1)
		;
	argc -= cmd_optind;
	argv += cmd_optind;
	cmd_want_args(cmd, argc, argv, 2, 2);
	dm_name = argv[0];
	dmx_parse_uuid(argv[1], &u);
	if (!u.ours)
		return EXIT_OK;
	put_env("SSNAP_STORE_UUID", u.store);
	if (u.layer) {
		put_env("SSNAP_LAYER", "1");
		return EXIT_OK;
	}
	if (!u.snapshot) {
		if (!strncmp(dm_name, SSNAP_DM_PREFIX, plen) &&
		    valid_name(dm_name + plen))
			put_env("SSNAP_ORIGIN_NAME", dm_name + plen);
		return EXIT_OK;
	}
	snprintf(id, sizeof(id), "%u", u.id);
	put_env("SSNAP_SNAP_ID", id);
	/* The origin's DM name says where the snapshot name starts. */
	uuid = xasprintf("%s%s", SSNAP_UUID_PREFIX, u.store);
	if (dmx_info_by_uuid(uuid, &info) || !info.exists ||
	    strncmp(info.name, SSNAP_DM_PREFIX, plen)) {
		free(uuid);
		return EXIT_OK;
	}
	free(uuid);
	if (strncmp(dm_name, info.name, strlen(info.name)) ||
	    dm_name[strlen(info.name)] != '-')
		return EXIT_OK;
	put_env("SSNAP_ORIGIN_NAME", info.name + plen);
	snap = dm_name + strlen(info.name) + 1;
	/* (The origin's link is <origin>/origin: a snapshot so named by
	 * hand, not through ssnap, is linked by its id.) */
	put_env("SSNAP_SNAP_NAME", strcmp(snap, SSNAP_ORIGIN_LINK) ? snap : id);
	return EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* Pending stores: found by the probe before their origin came.        */

static char *pending_path(const char *store)
{
	return xasprintf("%s/pending-%s", SSNAP_RUN_DIR, store);
}

/* "<cow devnode>\n<origin ident>\n<origin sectors>\n" */
void pending_set(const struct found_store *fs)
{
	char uuid[SSNAP_UUID_STRLEN + 1], ident[SSNAP_IDENT_LEN], *p;
	FILE *f;

	uuid_to_str(fs->sb.uuid, uuid);
	sb_string(fs->sb.origin_ident, sizeof(fs->sb.origin_ident), ident);
	if (mkdir(SSNAP_RUN_DIR, 0700) && errno != EEXIST)
		return;
	p = pending_path(uuid);
	f = fopen(p, "we");
	if (f) {
		fprintf(f, "%s\n%s\n%llu\n", fs->path, ident,
			(unsigned long long)le64_to_cpu(fs->sb.origin_sectors));
		fclose(f);
	}
	free(p);
}

void pending_clear(const char *store)
{
	char *p = pending_path(store);

	(void)unlink(p);
	free(p);
}

/* Is `devno` the origin some pending store waits for?  Its COW, then. */
static bool pending_match(dev_t devno, char *cow, size_t len)
{
	char ident[SSNAP_IDENT_LEN], line[3][256];
	struct dirent *de;
	bool have_ident = false, found = false;
	DIR *dir;

	dir = opendir(SSNAP_RUN_DIR);
	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		unsigned long long sectors;
		FILE *f;
		int fd, i;

		if (strncmp(de->d_name, "pending-", 8))
			continue;
		fd = openat(dirfd(dir), de->d_name, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		f = fdopen(fd, "r");
		if (!f) {
			close(fd);
			continue;
		}
		for (i = 0; i < 3; i++) {
			if (!fgets(line[i], sizeof(line[i]), f))
				break;
			line[i][strcspn(line[i], "\n")] = '\0';
		}
		fclose(f);
		if (i < 3)
			continue;
		if (!have_ident) {
			if (origin_ident(devno, ident))
				break;
			have_ident = true;
		}
		sectors = strtoull(line[2], NULL, 10);
		if (!strcmp(ident, line[1]) &&
		    devno_sectors(devno) == sectors) {
			snprintf(cow, len, "%s", line[0]);
			found = true;
		}
	}
	closedir(dir);
	return found;
}

int cmd_udev_probe(const struct cmd *cmd, int argc, char **argv)
{
	char uuid[SSNAP_UUID_STRLEN + 1], name[SSNAP_NAME_LEN], cow[256];
	struct ssnap_disk_sb sb;
	dev_t devno;

	while (cmd_getopt(cmd, argc, argv) != -1)
		;
	argc -= cmd_optind;
	argv += cmd_optind;
	cmd_want_args(cmd, argc, argv, 1, 1);
	if (blockdev_stat(argv[0], &devno, NULL))
		return EXIT_OK;
	if (!store_read_super(argv[0], &sb)) {
		uuid_to_str(sb.uuid, uuid);
		sb_string(sb.name, sizeof(sb.name), name);
		put_env("SSNAP_STORE_UUID", uuid);
		if (valid_name(name))
			put_env("SSNAP_STORE_NAME", name);
		return EXIT_OK;
	}
	if (pending_match(devno, cow, sizeof(cow)))
		put_env("SSNAP_PENDING_COW", cow);
	return EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* activate-snapshot, deactivate-snapshot                              */

static int parse_origin_args(const struct cmd *cmd, int argc, char **argv,
			     bool *udev, bool *background, struct origin *o,
			     uint32_t *id)
{
	unsigned int ma, mi;
	char c;
	int opt, r;

	*udev = *background = false;
	while ((opt = cmd_getopt(cmd, argc, argv)) != -1) {
		if (opt == OPT_UDEV)
			*udev = true;
		else if (opt == OPT_BACKGROUND)
			*background = true;
	}
	argc -= cmd_optind;
	argv += cmd_optind;
	cmd_want_args(cmd, argc, argv, 2, 2);
	if (sscanf(argv[0], "%u:%u%c", &ma, &mi, &c) != 2)
		cmd_usage_error(cmd, "'%s' is not <major>:<minor>", argv[0]);
	if (parse_u32(argv[1], id))
		cmd_usage_error(cmd, "invalid id '%s'", argv[1]);
	r = origin_lookup_devno(ma, mi, o);
	if (r)
		pr_err("%u:%u: no active ssnap origin: %s", ma, mi,
		       strerror(-r));
	return r;
}

int cmd_activate_snapshot(const struct cmd *cmd, int argc, char **argv)
{
	bool udev, background;
	struct kern_snap *s;
	struct origin o;
	uint32_t id;
	int r;

	if (parse_origin_args(cmd, argc, argv, &udev, &background, &o, &id))
		return EXIT_FAIL;
	/* The ssnap that created it activates it (or was told not to). */
	opt_udev = udev;
	if (udev && skip_marker_take(o.store, id)) {
		origin_free(&o);
		return EXIT_OK;
	}
	if (background)
		go_background();
	r = origin_query(&o, false);
	if (r) {
		pr_err("%s: cannot read the snapshot table: %s", o.dm.name,
		       strerror(-r));
		return EXIT_FAIL;
	}
	s = origin_find_id(&o, id);
	if (!s) {
		pr_err("%s: no snapshot %u", o.dm.name, id);
		origin_free(&o);
		return EXIT_FAIL;
	}
	r = snapshot_activate(&o, s);
	origin_free(&o);
	return r ? EXIT_FAIL : EXIT_OK;
}

int cmd_deactivate_snapshot(const struct cmd *cmd, int argc, char **argv)
{
	bool udev, background;
	struct origin o;
	uint32_t id;
	int r;

	if (parse_origin_args(cmd, argc, argv, &udev, &background, &o, &id))
		return EXIT_FAIL;
	if (background)
		go_background();
	r = snapshot_deactivate(&o, id, true);
	origin_free(&o);
	return r ? EXIT_FAIL : EXIT_OK;
}
