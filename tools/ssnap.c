// SPDX-License-Identifier: GPL-2.0
/*
 * ssnap(8): main, and the command table.
 *
 * Each command is one row of `commands` below: its name, handler,
 * synopsis, one-line summary, help paragraph and options.  Parsing
 * (cmd_getopt), "ssnap <command> --help", "ssnap --help" and the bash
 * completion ("--list-commands", "<command> --list-options") are all
 * made from the row, so they cannot disagree (the btrfs-progs and lvm2
 * way).  Usage text follows util-linux's howto-usage-function.txt.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssnap-tool.h"

/* From the top-level VERSION file (tools/Makefile). */
#ifndef SSNAP_TOOL_VERSION
#define SSNAP_TOOL_VERSION "unknown"
#endif

#define OPT_HELP_COL	26

#define OPT(l, v, a, h) { .name = l, .val = v, .arg = a, .help = h }
#define HIDDEN_OPT(l, v, a, h) \
	{ .name = l, .val = v, .arg = a, .help = h, .flags = OPT_HIDDEN }
#define OPT_END { .name = NULL }
#define CMD(n, f, a, s, d, o) \
	{ .name = n, .fn = f, .args = a, .summary = s, .description = d, \
	  .opts = o }
#define HIDDEN_CMD(n, f, a, s, d, o) \
	{ .name = n, .fn = f, .args = a, .summary = s, .description = d, \
	  .opts = o, .flags = CMD_HIDDEN }

/* ------------------------------------------------------------------ */
/* Options of each command.                                            */

static const struct opt create_origin_opts[] = {
	OPT("chunk-size", 'c', "size",
	  "chunk size, a power of two from 4KiB to 1MiB (default 64KiB)"),
	OPT("force", 'f', NULL,
	  "use a COW device that holds a signature, wiping it"),
	OPT("yes", 'y', NULL, "do not ask before wiping"),
	OPT("no-activate", OPT_NO_ACTIVATE, NULL,
	  "format the store only; do not activate the origin"),
	OPT_END
};

static const struct opt snapshot_opts[] = {
	OPT("id", OPT_ID, "n", "snapshot id (default: the lowest free one)"),
	OPT("priority", 'p', "prio",
	  "when the store is full, lower priorities go first (default 0)"),
	OPT("no-activate", OPT_NO_ACTIVATE, NULL,
	  "do not make a device for the snapshot"),
	OPT("no-freeze", OPT_NO_FREEZE, NULL,
	  "do not freeze the origin's file system (crash-consistent)"),
	OPT_END
};

static const struct opt delete_opts[] = {
	OPT("id", OPT_ID, "n", "delete the snapshot with this id"),
	OPT("yes", 'y', NULL, "do not ask for confirmation"),
	OPT_END
};

static const struct opt none_opts[] = {
	OPT_END
};

static const struct opt list_opts[] = {
	OPT("json", 'J', NULL, "print JSON"),
	OPT("all", 'a', NULL, "also show stores that are not active"),
	OPT_END
};

static const struct opt activate_opts[] = {
	OPT("all", 'a', NULL, "every store found on a block device"),
	OPT("device", 'd', "cow-dev", "the store on this device"),
	OPT("no-snapshots", 'n', NULL, "activate the origin only"),
	HIDDEN_OPT("udev", OPT_UDEV, NULL, "run from a udev rule"),
	HIDDEN_OPT("background", OPT_BACKGROUND, NULL, "return at once"),
	OPT_END
};

static const struct opt deactivate_opts[] = {
	OPT("all", 'a', NULL, "every active origin"),
	OPT_END
};

static const struct opt remove_origin_opts[] = {
	OPT("wipe", OPT_WIPE, NULL,
	  "also erase the store's superblocks (its snapshots are lost)"),
	OPT("yes", 'y', NULL, "do not ask for confirmation"),
	OPT_END
};

static const struct opt check_opts[] = {
	OPT("json", 'J', NULL, "print JSON"),
	OPT("repair", 'r', NULL,
	  "fix what can be fixed safely, then check again"),
	OPT_END
};

static const struct opt dump_opts[] = {
	OPT("json", 'J', NULL, "print JSON"),
	OPT_END
};

static const struct opt udev_opts[] = {
	OPT("udev", OPT_UDEV, NULL, "run from a udev rule"),
	OPT("background", OPT_BACKGROUND, NULL, "return at once"),
	OPT_END
};

/* ------------------------------------------------------------------ */
/* The commands.                                                       */

static const struct cmd commands[] = {
	CMD("create-origin", cmd_create_origin,
	  "<name> <origin-dev> <cow-dev>",
	  "format a COW device and activate an origin",
	  "Format <cow-dev> as the shared snapshot store of <origin-dev>, "
	  "recording <name> and the origin's identity in it, and activate "
	  "the origin as /dev/ssnap/<name>/origin.  Every write to the origin "
	  "device must go through that device from now on.  <cow-dev> must "
	  "hold no signature (file system, RAID, LVM, partition table) "
	  "unless --force is given.",
	  create_origin_opts),
	CMD("snapshot", cmd_snapshot, "<name> <snap-name>",
	  "take a snapshot of an origin",
	  "Take a snapshot of origin <name> and activate it as "
	  "/dev/ssnap/<name>/<snap-name>.",
	  snapshot_opts),
	CMD("delete", cmd_delete, "<name> <snap-name>|--id <n>",
	  "delete a snapshot",
	  "Deactivate a snapshot and delete it; its space in the store "
	  "comes back in the background.",
	  delete_opts),
	CMD("rename", cmd_rename, "<name> <snap-name> <new-name>",
	  "rename a snapshot",
	  "Give a snapshot a new name (and its device, if active).",
	  none_opts),
	CMD("set-priority", cmd_set_priority, "<name> <snap-name> <priority>",
	  "set the priority of a snapshot",
	  "When the store fills up, snapshots are dropped lowest priority "
	  "first, oldest first among equals.",
	  none_opts),
	CMD("list", cmd_list, "[<name>]",
	  "list origins, snapshots and store use",
	  "List the active origins (or <name>), their snapshots (id, name, "
	  "creation time, state, whether active, exclusive and shared "
	  "space) and the use of their stores.",
	  list_opts),
	CMD("activate", cmd_activate, "<name>|--all|--device <cow-dev>",
	  "activate an origin and its snapshots",
	  "Find the store called <name> on the block devices, find its "
	  "origin device by the identity recorded in the store, and "
	  "activate the origin and its snapshots.",
	  activate_opts),
	CMD("deactivate", cmd_deactivate, "<name>|--all",
	  "deactivate an origin and its snapshots",
	  "Remove the snapshot devices and the origin device; the store "
	  "and the origin's data stay as they are.",
	  deactivate_opts),
	CMD("remove-origin", cmd_remove_origin, "<name>",
	  "tear down an origin, keeping its data",
	  "Remove the devices of origin <name> and its snapshots.  The "
	  "origin device keeps its current data; the store is kept, and "
	  "can be activated again, unless --wipe is given.",
	  remove_origin_opts),
	CMD("extend", cmd_extend, "<name>",
	  "give a grown COW device's space to its store",
	  "After the COW device of active origin <name> has grown (an LV "
	  "extended, a partition or a loop device's file made larger), "
	  "suspend and resume the origin, which gives the new space to the "
	  "store, and print the store's new size.",
	  none_opts),
	CMD("check", cmd_check, "<cow-dev>",
	  "check an inactive store",
	  "Check the store on <cow-dev> for consistency, read-only.  Exit "
	  "status 0: clean; 1: problems found; 8: the check could not run.  "
	  "With --repair: fix the bitmaps, counters and exclusive-chunk "
	  "counts, mark the snapshots of a store that failed invalid, clear "
	  "its failed and needs_check marks, then check again; exit status "
	  "0: nothing to fix; 1: fixed, now clean; 4: problems left.",
	  check_opts),
	CMD("dump", cmd_dump, "<cow-dev>",
	  "print a store's superblock, use and snapshots",
	  "Print the superblock, the space use and the snapshot table of "
	  "the store on <cow-dev>, opened read-only.",
	  dump_opts),
	HIDDEN_CMD("udev-name", cmd_udev_name, "<dm-name> <dm-uuid>",
	  "udev: names of an ssnap device", NULL, none_opts),
	HIDDEN_CMD("udev-probe", cmd_udev_probe, "<devnode>",
	  "udev: find a store on a block device", NULL, none_opts),
	HIDDEN_CMD("activate-snapshot", cmd_activate_snapshot, "<origin M:m> <id>",
	  "udev: activate a new snapshot", NULL, udev_opts),
	HIDDEN_CMD("deactivate-snapshot", cmd_deactivate_snapshot,
	  "<origin M:m> <id>",
	  "udev: deactivate a deleted snapshot", NULL, udev_opts),
	{ .name = NULL }
};

/* ------------------------------------------------------------------ */
/* Help.                                                               */

/*
 * Prints `text` word by word from column `col` (the cursor's), wrapping
 * before column `width` to lines indented by `ind`; ends the line.
 */
static void print_wrapped(const char *text, int col, int ind, int width)
{
	const char *p = text;
	bool first = true;

	while (*p) {
		const char *w = p;
		int len;

		while (*p && *p != ' ')
			p++;
		len = (int)(p - w);
		if (!first && col + 1 + len > width) {
			printf("\n%*s", ind, "");
			col = ind;
		} else if (!first) {
			putchar(' ');
			col++;
		} else if (col < ind) {
			printf("%*s", ind - col, "");
			col = ind;
		}
		printf("%.*s", len, w);
		col += len;
		first = false;
		while (*p == ' ')
			p++;
	}
	putchar('\n');
}

/* One option line; help that does not fit in 79 columns wraps. */
static void print_opt(const char *shrt, const char *lng, const char *arg,
		      const char *help)
{
	char left[64];
	int n;

	n = snprintf(left, sizeof(left), " %s%s--%s%s%s%s", shrt ? shrt : "",
		     shrt ? ", " : "    ", lng, arg ? " <" : "",
		     arg ? arg : "", arg ? ">" : "");
	if (n >= OPT_HELP_COL - 1)
		printf("%s\n%*s", left, OPT_HELP_COL, "");
	else
		printf("%-*s", OPT_HELP_COL, left);
	print_wrapped(help, OPT_HELP_COL, OPT_HELP_COL, 79);
}

static void cmd_help(const struct cmd *cmd)
{
	const struct opt *o;

	printf("\nUsage:\n %s %s [options] %s\n", prog_name, cmd->name,
	       cmd->args);
	if (cmd->description) {
		putchar('\n');
		print_wrapped(cmd->description, 0, 0, 72);
	}
	printf("\nOptions:\n");
	for (o = cmd->opts; o->name; o++) {
		char s[3] = { '-', (char)o->val, 0 };

		if (o->flags & OPT_HIDDEN)
			continue;
		print_opt(o->val < 256 ? s : NULL, o->name, o->arg, o->help);
	}
	print_opt("-h", "help", NULL, "display this help");
	printf("\nSee %s(8).\n", prog_name);
}

static void main_help(void)
{
	const struct cmd *c;

	printf("\nUsage:\n %s [options] <command> [<args>]\n", prog_name);
	printf("\nSnapshots of a block device that share one copy-on-write "
	       "store.\n");
	printf("\nCommands:\n");
	for (c = commands; c->name; c++)
		if (!(c->flags & CMD_HIDDEN))
			printf(" %-15s %s\n", c->name, c->summary);
	printf("\nOptions:\n");
	print_opt("-q", "quiet", NULL, "print errors only");
	print_opt("-v", "verbose", NULL, "show device-mapper steps "
		  "(twice: more)");
	print_opt("-h", "help", NULL, "display this help");
	print_opt("-V", "version", NULL, "display version");
	printf("\nRun '%s <command> --help' for a command's options.\n",
	       prog_name);
	printf("See %s(8).\n", prog_name);
}

static void try_help(const struct cmd *cmd)
{
	if (cmd)
		fprintf(stderr, "Try '%s %s --help' for more information.\n",
			prog_name, cmd->name);
	else
		fprintf(stderr, "Try '%s --help' for more information.\n",
			prog_name);
}

void cmd_usage_error(const struct cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", prog_name, cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	try_help(cmd);
	exit(EXIT_USAGE);
}

void cmd_want_args(const struct cmd *cmd, int argc, char **argv, int min,
		   int max)
{
	if (argc < min)
		cmd_usage_error(cmd, "%s", argc ? "not enough arguments" :
				"arguments missing");
	if (argc > max)
		cmd_usage_error(cmd, "unexpected argument '%s'", argv[max]);
}

/* ------------------------------------------------------------------ */
/* Option parsing from the table.                                      */

char *cmd_optarg;
int cmd_optind;

#define OPT_LIST_OPTIONS	1000

int cmd_getopt(const struct cmd *cmd, int argc, char **argv)
{
	static const struct cmd *built;
	static struct option lopts[32];
	static char sopts[80];
	const struct opt *o;
	int n = 0, s = 0, c;

	if (built != cmd) {
		/* '+' would stop at the first argument: options may
		 * follow the arguments, as in most tools. */
		sopts[s++] = ':';
		for (o = cmd->opts; o->name; o++, n++) {
			lopts[n].name = o->name;
			lopts[n].has_arg = o->arg ? required_argument :
						   no_argument;
			lopts[n].val = o->val;
			if (o->val < 256) {
				sopts[s++] = (char)o->val;
				if (o->arg)
					sopts[s++] = ':';
			}
		}
		lopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
		lopts[n++] = (struct option){ "list-options", no_argument,
					      NULL, OPT_LIST_OPTIONS };
		lopts[n] = (struct option){ 0 };
		sopts[s++] = 'h';
		sopts[s] = '\0';
		built = cmd;
		optind = 0;	/* a fresh getopt: reinitialise */
	}
	opterr = 0;
	c = getopt_long(argc, argv, sopts, lopts, NULL);
	cmd_optarg = optarg;
	cmd_optind = optind;
	switch (c) {
	case 'h':
		cmd_help(cmd);
		exit(EXIT_OK);
	case OPT_LIST_OPTIONS:
		for (o = cmd->opts; o->name; o++)
			if (!(o->flags & OPT_HIDDEN))
				printf("--%s\n", o->name);
		printf("--help\n");
		exit(EXIT_OK);
	case ':':
		if (optopt && optopt < 256)
			cmd_usage_error(cmd, "option requires an argument -- "
					"'%c'", optopt);
		cmd_usage_error(cmd, "option '%s' requires an argument",
				argv[optind - 1]);
	case '?':
		if (optopt && optopt < 256)
			cmd_usage_error(cmd, "invalid option -- '%c'", optopt);
		cmd_usage_error(cmd, "unrecognized option '%s'",
				argv[optind - 1]);
	}
	return c;
}

/* ------------------------------------------------------------------ */
/* main                                                                */

static const struct cmd *find_cmd(const char *name)
{
	const struct cmd *c;

	for (c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option gopts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "list-commands", no_argument, NULL, OPT_LIST_OPTIONS },
		{ 0 }
	};
	const struct cmd *cmd;
	int c;

	close_stdout_atexit();
	/* The core's messages are collected, and printed as ours. */
	ssnap_log_quiet = 1;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+qvhV", gopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			opt_quiet = 1;
			break;
		case 'v':
			opt_verbose++;
			break;
		case 'h':
			main_help();
			return EXIT_OK;
		case 'V':
			printf("%s %s\n", prog_name, SSNAP_TOOL_VERSION);
			return EXIT_OK;
		case OPT_LIST_OPTIONS:
			for (cmd = commands; cmd->name; cmd++)
				if (!(cmd->flags & CMD_HIDDEN))
					printf("%s\n", cmd->name);
			return EXIT_OK;
		default:
			if (optopt && optopt < 256)
				fprintf(stderr, "%s: invalid option -- '%c'\n",
					prog_name, optopt);
			else
				fprintf(stderr, "%s: unrecognized option '%s'\n",
					prog_name, argv[optind - 1]);
			try_help(NULL);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s: no command given\n", prog_name);
		try_help(NULL);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "help")) {
		if (optind + 1 < argc && (cmd = find_cmd(argv[optind + 1]))) {
			cmd_help(cmd);
			return EXIT_OK;
		}
		main_help();
		return EXIT_OK;
	}
	cmd = find_cmd(argv[optind]);
	if (!cmd) {
		fprintf(stderr, "%s: unknown command '%s'\n", prog_name,
			argv[optind]);
		try_help(NULL);
		return EXIT_USAGE;
	}
	dmx_init();
	/* The command sees argv[0] = its name, as getopt wants. */
	return cmd->fn(cmd, argc - optind, argv + optind);
}
