/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Output of ssnap(8) in text or JSON, from one row specification (the
 * btrfs-progs rowspec shape): a command names each value by key once,
 * and the key's row says how it prints in both formats.
 *
 *   static const struct rowspec spec[] = {
 *	{ .key = "name", .fmt = "str", .out_text = "Name" },
 *	{ .key = "size", .fmt = "size", .out_text = "Size" },
 *	{ 0 }
 *   };
 *
 *   fmt_start(&f, spec, json);
 *   fmt_open(&f, "snapshots", FMT_TABLE);
 *   fmt_open(&f, NULL, FMT_ROW);
 *   fmt_print(&f, "name", "monday");
 *   fmt_print(&f, "size", (uint64_t)65536);
 *   fmt_close(&f);
 *   fmt_close(&f);
 *   fmt_end(&f);
 *
 * Value types (fmt): "str" (const char *, NULL prints as null / "-"),
 * "u32" (uint32_t), "u64" (uint64_t), "bool" (int), "size" (uint64_t
 * bytes: a number in JSON, KiB/MiB/... in text), "time" (uint64_t
 * seconds since the epoch: a number in JSON, local time in text), "hex"
 * (uint32_t: a number in JSON, 0x... in text).
 *
 * Groups: FMT_MAP (a JSON object; text "Label: value" lines), FMT_LIST
 * (a JSON array of maps; text: the maps one after the other), FMT_TABLE
 * (a JSON array of FMT_ROW objects; text: aligned columns headed by the
 * keys' out_text).  A key with no out_text prints in JSON only.
 */
#ifndef SSNAP_FORMAT_OUTPUT_H
#define SSNAP_FORMAT_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

struct rowspec {
	const char *key;
	const char *fmt;
	const char *out_text;	/* label or column header; NULL: JSON only */
	const char *out_json;	/* JSON name; NULL: the key */
};

enum fmt_group {
	FMT_MAP,
	FMT_LIST,
	FMT_TABLE,
	FMT_ROW,
	FMT_ARRAY,	/* JSON array of plain values; text: one a line */
};

#define FMT_MAX_DEPTH	8

struct fmt_table;

struct fmt_ctx {
	bool json;
	const struct rowspec *spec;
	int depth;
	struct {
		enum fmt_group type;
		bool first;
		const char *label;
		bool label_done;
	} stack[FMT_MAX_DEPTH];
	struct fmt_table *table;	/* the text table being filled */
};

void fmt_start(struct fmt_ctx *f, const struct rowspec *spec, bool json);
void fmt_end(struct fmt_ctx *f);
void fmt_open(struct fmt_ctx *f, const char *key, enum fmt_group type);
void fmt_close(struct fmt_ctx *f);
void fmt_print(struct fmt_ctx *f, const char *key, ...);

#endif /* SSNAP_FORMAT_OUTPUT_H */
