/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ssnap(8): constants and helpers that need nothing of the core, so that
 * files including <libdevmapper.h> (whose <linux/types.h> defines __le64
 * its own way) can use them without the core's headers.
 */
#ifndef SSNAP_UTIL_H
#define SSNAP_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/types.h>

/* <linux/fs.h> would bring <linux/types.h>, whose __le64 is not the shim's. */
#ifndef BLKGETSIZE64
#define BLKGETSIZE64	_IOR(0x12, 114, size_t)
#endif
#ifndef BLKFLSBUF
#define BLKFLSBUF	_IO(0x12, 97)
#endif

/* Exit codes (ssnap(8) EXIT STATUS). */
#define EXIT_OK		0
#define EXIT_FAIL	1	/* the command failed */
#define EXIT_USAGE	2	/* bad command line */
/* check: 0 clean, 1 problems found, 8 could not check (e2fsck's 8). */
#define EXIT_CHECK_PROBLEMS	1	/* check: found; --repair: all fixed */
#define EXIT_CHECK_LEFT		4	/* --repair: problems left */
#define EXIT_CHECK_ERROR	8

#define SSNAP_DM_PREFIX		"ssnap-"
#define SSNAP_UUID_PREFIX	"SSNAP-"
#define SSNAP_UUID_STRLEN	36	/* 8-4-4-4-12 */
#define SSNAP_DEV_DIR		"/dev/ssnap"
/* The origin's link in SSNAP_DEV_DIR/<name>/: no snapshot takes the name. */
#define SSNAP_ORIGIN_LINK	"origin"
#define SSNAP_RUN_DIR		"/run/ssnap"
#define SSNAP_DEFAULT_CHUNK	128	/* sectors: 64 KiB, see ssnap(8) */
#define SSNAP_DM_NAME_MAX	127	/* DM_NAME_LEN - 1 */

/* ------------------------------------------------------------------ */
/* util.c                                                              */

extern const char *prog_name;
extern int opt_verbose;
extern int opt_quiet;
extern int opt_udev;		/* run by a udev rule */

void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void close_stdout_atexit(void);

int parse_u32(const char *s, uint32_t *out);
int parse_size(const char *s, uint64_t *bytes);
void size_str(uint64_t bytes, char *buf, size_t len);
void time_str(uint64_t secs, char *buf, size_t len);

bool valid_name(const char *name);
bool all_digits(const char *s);
/* 0, or prints why `name` cannot be a name (what: "origin", "snapshot"). */
int check_name(const char *name, const char *what);
/*
 * The udev link of origin <name> (snap NULL) or of its snapshot <snap>:
 * /dev/ssnap/<name>/origin, /dev/ssnap/<name>/<snap>.  Free it.
 */
char *dev_link(const char *name, const char *snap);
/* dev_link() if udev made that link, else /dev/mapper/<dm_name>.  Free it. */
char *dev_path(const char *name, const char *snap, const char *dm_name);

/* Asks on a terminal; true without one or with -y. */
bool confirm(bool yes, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void uuid_to_str(const uint8_t uuid[16], char out[SSNAP_UUID_STRLEN + 1]);
int uuid_from_str(const char *s, uint8_t uuid[16]);
int uuid_generate_random(uint8_t uuid[16]);

/* Copies with truncation; -E2BIG if it had to cut. */
int str_copy(char *dst, const char *src, size_t size);
char *xstrdup(const char *s);
void *xzalloc(size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

/* Reads a whole small file (sysfs) without its trailing newline. */
int read_small_file(const char *path, char *buf, size_t len);

/* The block device at `path`: its number and size in sectors. */
int blockdev_stat(const char *path, dev_t *devno, uint64_t *sectors);
/* "/dev/<kernel name>" of a block device number, or "M:m". */
void devno_name(dev_t devno, char *buf, size_t len);
uint64_t devno_sectors(dev_t devno);

#endif /* SSNAP_UTIL_H */
