// SPDX-License-Identifier: GPL-2.0
/*
 * The snapshot commands: snapshot, delete, rename, set-priority.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssnap-tool.h"

/* ------------------------------------------------------------------ */
/* Commands.                                                           */

static int query_or_err(struct origin *o, bool usage)
{
	int r = origin_query(o, usage);

	if (r)
		pr_err("%s: cannot read the snapshot table from the kernel: %s",
		       o->dm.name, strerror(-r));
	return r;
}

static const char *msg_error(int r)
{
	switch (r) {
	case -EEXIST:
		return "the id or the name is taken";
	case -ENOENT:
		return "no such snapshot";
	case -EBUSY:
		return "its snapshot device is active";
	case -ENOSPC:
		return "the store is full";
	case -EINVAL:
		return "the kernel refused the request (see the kernel log)";
	default:
		return strerror(-r);
	}
}

static int check_snap_name(const char *name)
{
	int r = check_name(name, "snapshot");

	if (r)
		return r;
	if (all_digits(name)) {
		pr_err("snapshot name '%s' is all digits: it would read as an "
		       "id", name);
		return -EINVAL;
	}
	if (!strcmp(name, SSNAP_ORIGIN_LINK)) {
		pr_err("snapshot name '%s' is reserved: %s/<name>/%s is the "
		       "origin", name, SSNAP_DEV_DIR, SSNAP_ORIGIN_LINK);
		return -EINVAL;
	}
	return 0;
}

static void print_snapshot_dev(const struct origin *o,
			       const struct kern_snap *s, const char *verb)
{
	char *path;

	if (!s->active) {
		pr_note("%s snapshot %s of %s (id %u).", verb, s->name,
			o->name, s->id);
		return;
	}
	path = dev_path(o->name, s->name, s->dm_name);
	pr_note("%s snapshot %s of %s (id %u): %s", verb, s->name, o->name,
		s->id, path);
	free(path);
}

/*
 * Send the create message with the origin suspended, which freezes the
 * file system on it (as lvcreate does): the snapshot then holds a clean
 * file system, not one that needs journal recovery.  The kernel's create
 * is atomic for I/O either way; --no-freeze takes the snapshot of a live
 * device, crash-consistent only.
 */
static int create_frozen(struct origin *o, const char *msg, bool freeze)
{
	int r, c;

	if (!freeze)
		return dmx_message(o->dm.name, msg, NULL);
	r = dmx_suspend(o->dm.name);
	if (r) {
		pr_err("%s: cannot suspend to freeze the file system: %s",
		       o->dm.name, strerror(-r));
		return r;
	}
	c = dmx_message(o->dm.name, msg, NULL);
	r = dmx_resume(o->dm.name);
	if (r)
		pr_err("%s: cannot resume after the snapshot: %s (run "
		       "\"ssnap activate %s\" or \"dmsetup resume %s\")",
		       o->dm.name, strerror(-r), o->name, o->dm.name);
	return c;
}

int cmd_snapshot(const struct cmd *cmd, int argc, char **argv)
{
	bool no_activate = false, no_freeze = false, have_id = false;
	bool have_prio = false;
	uint32_t id = 0, prio = 0;
	struct kern_snap *s, snap;
	struct origin o;
	char dm_name[160], *msg;
	int c, r;

	while ((c = cmd_getopt(cmd, argc, argv)) != -1) {
		switch (c) {
		case OPT_ID:
			if (parse_u32(cmd_optarg, &id))
				cmd_usage_error(cmd, "invalid id '%s'",
						cmd_optarg);
			have_id = true;
			break;
		case 'p':
			if (parse_u32(cmd_optarg, &prio))
				cmd_usage_error(cmd, "invalid priority '%s'",
						cmd_optarg);
			have_prio = true;
			break;
		case OPT_NO_ACTIVATE:
			no_activate = true;
			break;
		case OPT_NO_FREEZE:
			no_freeze = true;
			break;
		}
	}
	argc -= cmd_optind;
	argv += cmd_optind;
	cmd_want_args(cmd, argc, argv, 2, 2);
	if (check_snap_name(argv[1]))
		return EXIT_FAIL;
	if (origin_lookup_or_err(argv[0], &o) || query_or_err(&o, false))
		return EXIT_FAIL;

	r = EXIT_FAIL;
	s = origin_find_snap(&o, argv[1]);
	if (s && !strcmp(s->name, argv[1])) {
		pr_err("%s/%s: a snapshot of that name exists (id %u)",
		       o.name, argv[1], s->id);
		goto out;
	}
	if (have_id && origin_find_id(&o, id)) {
		pr_err("%s: snapshot id %u is taken", o.name, id);
		goto out;
	}
	if (!have_id)
		while (origin_find_id(&o, id))
			id++;
	memset(&snap, 0, sizeof(snap));
	snap.id = id;
	str_copy(snap.name, argv[1], sizeof(snap.name));
	if (snapshot_dm_name(&o, &snap, dm_name, sizeof(dm_name))) {
		pr_err("%s/%s: names too long: the device name %s%s-%s would "
		       "exceed %d bytes", o.name, argv[1], SSNAP_DM_PREFIX,
		       o.name, argv[1], SSNAP_DM_NAME_MAX);
		goto out;
	}

	/* Tell the udev rule this one is ours to activate (or not). */
	skip_marker_set(o.store, id);
	msg = xasprintf("snapshot create %u %s", id, argv[1]);
	c = create_frozen(&o, msg, !no_freeze);
	free(msg);
	if (c) {
		skip_marker_clear(o.store, id);
		pr_err("%s: cannot create snapshot %s (id %u): %s", o.dm.name,
		       argv[1], id, msg_error(c));
		goto out;
	}
	if (!dmx_udev_sync())
		skip_marker_clear(o.store, id);
	if (have_prio) {
		msg = xasprintf("snapshot priority %u %u", id, prio);
		c = dmx_message(o.dm.name, msg, NULL);
		free(msg);
		if (c)
			pr_warn("%s: snapshot %s created, but its priority "
				"was not set: %s", o.dm.name, argv[1],
				msg_error(c));
	}
	if (!no_activate && snapshot_activate(&o, &snap))
		goto out;
	print_snapshot_dev(&o, &snap, "Created");
	r = EXIT_OK;
out:
	origin_free(&o);
	return r;
}

int cmd_delete(const struct cmd *cmd, int argc, char **argv)
{
	bool yes = false, have_id = false;
	struct kern_snap *s;
	struct origin o;
	uint32_t id = 0;
	char *msg, label[160];
	int c, r = EXIT_FAIL;

	while ((c = cmd_getopt(cmd, argc, argv)) != -1) {
		switch (c) {
		case OPT_ID:
			if (parse_u32(cmd_optarg, &id))
				cmd_usage_error(cmd, "invalid id '%s'",
						cmd_optarg);
			have_id = true;
			break;
		case 'y':
			yes = true;
			break;
		}
	}
	argc -= cmd_optind;
	argv += cmd_optind;
	cmd_want_args(cmd, argc, argv, have_id ? 1 : 2, have_id ? 1 : 2);
	if (origin_lookup_or_err(argv[0], &o) || query_or_err(&o, false))
		return EXIT_FAIL;
	s = have_id ? origin_find_id(&o, id) : origin_find_snap(&o, argv[1]);
	if (!s) {
		if (have_id)
			pr_err("%s: no snapshot with id %u", o.name, id);
		else
			pr_err("%s: no snapshot '%s'", o.name, argv[1]);
		goto out;
	}
	if (s->name[0])
		snprintf(label, sizeof(label), "%s/%s", o.name, s->name);
	else
		snprintf(label, sizeof(label), "%s snapshot %u", o.name,
			 s->id);
	if (!confirm(yes, "Delete %s (id %u)?", label, s->id)) {
		pr_err("%s: not deleted", label);
		goto out;
	}
	if (snapshot_deactivate(&o, s->id, true))
		goto out;
	msg = xasprintf("snapshot delete %u", s->id);
	c = dmx_message(o.dm.name, msg, NULL);
	free(msg);
	if (c) {
		pr_err("%s: cannot delete snapshot %u: %s", o.dm.name, s->id,
		       msg_error(c));
		goto out;
	}
	pr_note("Deleted %s (id %u).", label, s->id);
	r = EXIT_OK;
out:
	origin_free(&o);
	return r;
}

int cmd_rename(const struct cmd *cmd, int argc, char **argv)
{
	struct kern_snap *s, renamed;
	struct origin o;
	char *msg, newdm[160];
	int r = EXIT_FAIL, c;

	while (cmd_getopt(cmd, argc, argv) != -1)
		;
	argc -= cmd_optind;
	argv += cmd_optind;
	cmd_want_args(cmd, argc, argv, 3, 3);
	if (check_snap_name(argv[2]))
		return EXIT_FAIL;
	if (origin_lookup_or_err(argv[0], &o) || query_or_err(&o, false))
		return EXIT_FAIL;
	s = origin_find_snap(&o, argv[1]);
	if (!s) {
		pr_err("%s: no snapshot '%s'", o.name, argv[1]);
		goto out;
	}
	if (origin_find_snap(&o, argv[2])) {
		pr_err("%s/%s: a snapshot of that name exists", o.name,
		       argv[2]);
		goto out;
	}
	renamed = *s;
	str_copy(renamed.name, argv[2], sizeof(renamed.name));
	if (snapshot_dm_name(&o, &renamed, newdm, sizeof(newdm))) {
		pr_err("%s/%s: the device name would exceed %d bytes", o.name,
		       argv[2], SSNAP_DM_NAME_MAX);
		goto out;
	}
	msg = xasprintf("snapshot name %u %s", s->id, argv[2]);
	c = dmx_message(o.dm.name, msg, NULL);
	free(msg);
	if (c) {
		pr_err("%s: cannot rename snapshot %u: %s", o.dm.name, s->id,
		       msg_error(c));
		goto out;
	}
	if (s->active) {
		c = dmx_rename(s->dm_name, newdm);
		if (c) {
			pr_err("%s: snapshot renamed, but not its device: %s",
			       s->dm_name, strerror(-c));
			goto out;
		}
	}
	pr_note("Renamed snapshot %u of %s to %s.", s->id, o.name, argv[2]);
	r = EXIT_OK;
out:
	origin_free(&o);
	return r;
}

int cmd_set_priority(const struct cmd *cmd, int argc, char **argv)
{
	struct kern_snap *s;
	struct origin o;
	uint32_t prio;
	char *msg;
	int r = EXIT_FAIL, c;

	while (cmd_getopt(cmd, argc, argv) != -1)
		;
	argc -= cmd_optind;
	argv += cmd_optind;
	cmd_want_args(cmd, argc, argv, 3, 3);
	if (parse_u32(argv[2], &prio))
		cmd_usage_error(cmd, "invalid priority '%s'", argv[2]);
	if (origin_lookup_or_err(argv[0], &o) || query_or_err(&o, false))
		return EXIT_FAIL;
	s = origin_find_snap(&o, argv[1]);
	if (!s) {
		pr_err("%s: no snapshot '%s'", o.name, argv[1]);
		goto out;
	}
	msg = xasprintf("snapshot priority %u %u", s->id, prio);
	c = dmx_message(o.dm.name, msg, NULL);
	free(msg);
	if (c) {
		pr_err("%s: cannot set the priority of snapshot %u: %s",
		       o.dm.name, s->id, msg_error(c));
		goto out;
	}
	r = EXIT_OK;
out:
	origin_free(&o);
	return r;
}

