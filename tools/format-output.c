// SPDX-License-Identifier: GPL-2.0
/*
 * The one output formatter of ssnap(8): see format-output.h.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format-output.h"
#include "ssnap-tool.h"

struct fmt_table {
	const char **head;	/* column headers (the first row's keys) */
	char ***cells;		/* rows of ncols strings */
	unsigned int ncols, nrows, cap;
	bool json_only;
};

static const struct rowspec *spec_of(struct fmt_ctx *f, const char *key)
{
	const struct rowspec *r;

	for (r = f->spec; r->key; r++)
		if (!strcmp(r->key, key))
			return r;
	fprintf(stderr, "%s: internal error: no output key '%s'\n",
		prog_name, key);
	abort();
}

static void indent(int n)
{
	while (n-- > 0)
		fputs("  ", stdout);
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* The separator before a JSON member or element. */
static void json_next(struct fmt_ctx *f)
{
	if (!f->stack[f->depth].first)
		putchar(',');
	f->stack[f->depth].first = false;
	putchar('\n');
	indent(f->depth + 1);
}

void fmt_start(struct fmt_ctx *f, const struct rowspec *spec, bool json)
{
	memset(f, 0, sizeof(*f));
	f->json = json;
	f->spec = spec;
	f->stack[0].type = FMT_MAP;
	f->stack[0].first = true;
	if (json)
		putchar('{');
}

void fmt_end(struct fmt_ctx *f)
{
	if (f->json)
		fputs("\n}\n", stdout);
}

/* Text: how deep the labelled groups around level `d` nest. */
static int text_indent(struct fmt_ctx *f, int d)
{
	int i, n = 0;

	for (i = 1; i <= d; i++)
		if (f->stack[i].label)
			n++;
	return n;
}

/* Text: the labels of the groups around, each before its first line. */
static void text_label(struct fmt_ctx *f)
{
	int d;

	for (d = 1; d <= f->depth; d++) {
		if (f->stack[d].label && !f->stack[d].label_done) {
			indent(text_indent(f, d - 1));
			printf("%s:\n", f->stack[d].label);
			f->stack[d].label_done = true;
		}
	}
}

void fmt_open(struct fmt_ctx *f, const char *key, enum fmt_group type)
{
	const struct rowspec *r = key ? spec_of(f, key) : NULL;
	enum fmt_group parent = f->stack[f->depth].type;

	if (f->depth + 1 >= FMT_MAX_DEPTH)
		abort();
	if (f->json) {
		json_next(f);
		if (r) {
			json_string(r->out_json ? r->out_json : r->key);
			fputs(": ", stdout);
		}
		putchar(type == FMT_MAP || type == FMT_ROW ? '{' : '[');
	} else if (parent == FMT_LIST && !f->stack[f->depth].first) {
		putchar('\n');
	} else if (parent == FMT_LIST) {
		f->stack[f->depth].first = false;
	}
	f->depth++;
	f->stack[f->depth].type = type;
	f->stack[f->depth].first = true;
	f->stack[f->depth].label = r ? r->out_text : NULL;
	f->stack[f->depth].label_done = false;
	if (!f->json && type == FMT_TABLE) {
		f->table = xzalloc(sizeof(*f->table));
		f->table->json_only = r && !r->out_text;
	}
	if (!f->json && type == FMT_ROW && f->table) {
		struct fmt_table *t = f->table;

		if (t->nrows == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 16;
			t->cells = realloc(t->cells, t->cap * sizeof(*t->cells));
			if (!t->cells)
				abort();
		}
		t->cells[t->nrows++] = NULL;
	}
}

static void table_print(struct fmt_ctx *f, struct fmt_table *t)
{
	unsigned int *w, c, i;

	if (t->json_only)
		goto out;
	if (!t->ncols) {
		if (f->stack[f->depth].label) {
			indent(text_indent(f, f->depth - 1));
			printf("%s: none\n", f->stack[f->depth].label);
			f->stack[f->depth].label_done = true;
		}
		goto out;
	}
	text_label(f);
	w = xzalloc(t->ncols * sizeof(*w));
	for (c = 0; c < t->ncols; c++) {
		w[c] = (unsigned int)strlen(t->head[c]);
		for (i = 0; i < t->nrows; i++)
			if (t->cells[i] && t->cells[i][c] &&
			    strlen(t->cells[i][c]) > w[c])
				w[c] = (unsigned int)strlen(t->cells[i][c]);
	}
	indent(text_indent(f, f->depth));
	for (c = 0; c < t->ncols; c++)
		printf("%-*s%s", c + 1 < t->ncols ? (int)w[c] : 0, t->head[c],
		       c + 1 < t->ncols ? "  " : "\n");
	for (i = 0; i < t->nrows; i++) {
		indent(text_indent(f, f->depth));
		for (c = 0; c < t->ncols; c++) {
			const char *v = t->cells[i] && t->cells[i][c] ?
					t->cells[i][c] : "-";

			printf("%-*s%s", c + 1 < t->ncols ? (int)w[c] : 0, v,
			       c + 1 < t->ncols ? "  " : "\n");
		}
	}
	free(w);
out:
	for (i = 0; i < t->nrows; i++) {
		for (c = 0; t->cells[i] && c < t->ncols; c++)
			free(t->cells[i][c]);
		free(t->cells[i]);
	}
	free(t->cells);
	free(t->head);
	free(t);
}

void fmt_close(struct fmt_ctx *f)
{
	enum fmt_group type = f->stack[f->depth].type;
	bool empty = f->stack[f->depth].first;

	if (f->json) {
		f->depth--;
		if (!empty) {
			putchar('\n');
			indent(f->depth + 1);
		}
		putchar(type == FMT_MAP || type == FMT_ROW ? '}' : ']');
		return;
	}
	if (type == FMT_TABLE && f->table) {
		table_print(f, f->table);
		f->table = NULL;
	}
	f->depth--;
}

/* One value as text, into buf; JSON straight to stdout. */
static void value(struct fmt_ctx *f, const struct rowspec *r, va_list *ap,
		  char *buf, size_t len)
{
	const char *t = r->fmt;

	if (!strcmp(t, "str")) {
		const char *s = va_arg(*ap, const char *);

		if (f->json) {
			if (s)
				json_string(s);
			else
				fputs("null", stdout);
		} else {
			snprintf(buf, len, "%s", s && *s ? s : "-");
		}
	} else if (!strcmp(t, "u32") || !strcmp(t, "hex")) {
		unsigned int v = va_arg(*ap, unsigned int);

		if (f->json)
			printf("%u", v);
		else
			snprintf(buf, len, t[0] == 'h' ? "0x%x" : "%u", v);
	} else if (!strcmp(t, "u64") || !strcmp(t, "size") ||
		   !strcmp(t, "time")) {
		uint64_t v = va_arg(*ap, uint64_t);

		if (f->json)
			printf("%" PRIu64, v);
		else if (t[0] == 's')
			size_str(v, buf, len);
		else if (t[0] == 't')
			time_str(v, buf, len);
		else
			snprintf(buf, len, "%" PRIu64, v);
	} else if (!strcmp(t, "bool")) {
		int v = va_arg(*ap, int);

		if (f->json)
			fputs(v ? "true" : "false", stdout);
		else
			snprintf(buf, len, "%s", v ? "yes" : "no");
	} else {
		abort();
	}
}

void fmt_print(struct fmt_ctx *f, const char *key, ...)
{
	const struct rowspec *r = spec_of(f, key);
	char buf[256] = "";
	va_list ap;

	va_start(ap, key);
	if (f->json && f->stack[f->depth].type == FMT_ARRAY) {
		json_next(f);
		value(f, r, &ap, NULL, 0);
		va_end(ap);
		return;
	}
	if (f->json) {
		json_next(f);
		json_string(r->out_json ? r->out_json : r->key);
		fputs(": ", stdout);
		value(f, r, &ap, NULL, 0);
		va_end(ap);
		return;
	}
	value(f, r, &ap, buf, sizeof(buf));
	va_end(ap);
	if (!r->out_text)
		return;

	if (f->stack[f->depth].type == FMT_ROW && f->table) {
		struct fmt_table *t = f->table;
		char **row;
		unsigned int c, i;

		for (c = 0; c < t->ncols; c++)
			if (!strcmp(t->head[c], r->out_text))
				break;
		if (c == t->ncols) {
			t->head = realloc(t->head, (c + 1) * sizeof(*t->head));
			if (!t->head)
				abort();
			t->head[t->ncols++] = r->out_text;
			for (i = 0; i < t->nrows; i++) {
				if (!t->cells[i])
					continue;
				t->cells[i] = realloc(t->cells[i],
						      t->ncols * sizeof(char *));
				if (!t->cells[i])
					abort();
				t->cells[i][c] = NULL;
			}
		}
		row = t->cells[t->nrows - 1];
		if (!row) {
			row = xzalloc(t->ncols * sizeof(char *));
			t->cells[t->nrows - 1] = row;
		}
		free(row[c]);
		row[c] = xstrdup(buf);
		return;
	}
	text_label(f);
	indent(text_indent(f, f->depth));
	if (f->stack[f->depth].type == FMT_ARRAY)
		printf("%s\n", buf);
	else
		printf("%s: %s\n", r->out_text, buf);
}
