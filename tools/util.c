// SPDX-License-Identifier: GPL-2.0
/*
 * Messages, numbers, sizes, names and the exit path of ssnap(8).
 *
 * Errors are one line on stderr, "ssnap: <device or object>: <cause>".
 * Informational lines go to stdout and -q silences them; -v adds the
 * device-mapper steps on stderr.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>


#include "ssnap-tool.h"

const char *prog_name = "ssnap";
int opt_verbose;
int opt_quiet;
int opt_udev;

/* One write per message: stderr may be /dev/kmsg (--background). */
static void vmsg(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	fflush(stdout);
	n = snprintf(line, sizeof(line), "%s: %s", prog_name, prefix);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	line[n] = '\0';
	fputs(line, f);
	fflush(f);
}

void pr_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(stderr, "", fmt, ap);
	va_end(ap);
}

void pr_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(stderr, "warning: ", fmt, ap);
	va_end(ap);
}

void pr_verbose(const char *fmt, ...)
{
	va_list ap;

	if (!opt_verbose)
		return;
	va_start(ap, fmt);
	vmsg(stderr, "", fmt, ap);
	va_end(ap);
}

void pr_note(const char *fmt, ...)
{
	va_list ap;

	if (opt_quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/*
 * As util-linux's close_stdout(): a full disk or an I/O error on stdout
 * must not go unnoticed, so it changes the exit status.  A reader that
 * went away (EPIPE) is no error.
 */
static int close_stream(FILE *f)
{
	int pending = __fpending(f) != 0;
	int prev_fail = ferror(f) != 0;
	int fclose_fail = fclose(f) != 0;

	if (prev_fail || (fclose_fail && (pending || errno != EBADF))) {
		if (!fclose_fail)
			errno = 0;
		return EOF;
	}
	return 0;
}

static void close_stdout(void)
{
	if (close_stream(stdout) != 0 && errno != EPIPE) {
		if (errno)
			fprintf(stderr, "%s: write error: %s\n", prog_name,
				strerror(errno));
		else
			fprintf(stderr, "%s: write error\n", prog_name);
		_exit(EXIT_FAIL);
	}
	if (close_stream(stderr) != 0)
		_exit(EXIT_FAIL);
}

void close_stdout_atexit(void)
{
	atexit(close_stdout);
}

int parse_u32(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/*
 * A size: a number with an optional unit.  No unit and "B" are bytes;
 * "s" is 512-byte sectors; k, m, g, t (any case, "KiB" and "KB" alike)
 * are powers of 1024.
 */
int parse_size(const char *s, uint64_t *bytes)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	switch (tolower((unsigned char)*end)) {
	case '\0':
		break;
	case 'b':
		end++;
		break;
	case 's':
		shift = 9;
		end++;
		break;
	case 'k':
		shift = 10;
		break;
	case 'm':
		shift = 20;
		break;
	case 'g':
		shift = 30;
		break;
	case 't':
		shift = 40;
		break;
	default:
		return -EINVAL;
	}
	if (shift >= 10) {
		end++;
		if (!strcasecmp(end, "ib") || !strcasecmp(end, "b"))
			end += strlen(end);
	}
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*bytes = (uint64_t)v << shift;
	return 0;
}

/* "64.0KiB", "1.5GiB", "512B": binary units, one decimal. */
void size_str(uint64_t bytes, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB",
					    "PiB", "EiB" };
	unsigned int i = 0;
	uint64_t whole = bytes, frac = 0;

	while (whole >= 1024 && i < 6) {
		frac = whole % 1024;
		whole /= 1024;
		i++;
	}
	if (!i)
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%llu.%llu%s", (unsigned long long)whole,
			 (unsigned long long)(frac * 10 / 1024), unit[i]);
}

void time_str(uint64_t secs, char *buf, size_t len)
{
	time_t t = (time_t)secs;
	struct tm tm;

	if (!localtime_r(&t, &tm) ||
	    !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "%llu", (unsigned long long)secs);
}

/*
 * Names end up in DM names, udev symlinks and /dev/ssnap paths: letters,
 * digits and "+_.-", not starting with '-' or '.', at most
 * SSNAP_NAME_LEN - 1 bytes (the superblock's field).
 */
bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

bool valid_name(const char *name)
{
	const char *p;

	if (!*name || strlen(name) >= SSNAP_NAME_LEN || name[0] == '-' ||
	    name[0] == '.')
		return false;
	for (p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("+_.-", *p))
			return false;
	return true;
}

char *dev_link(const char *name, const char *snap)
{
	return xasprintf("%s/%s/%s", SSNAP_DEV_DIR, name,
			 snap ? snap : SSNAP_ORIGIN_LINK);
}

char *dev_path(const char *name, const char *snap, const char *dm_name)
{
	char *p = dev_link(name, snap);

	if (access(p, F_OK) == 0)
		return p;
	free(p);
	return xasprintf("/dev/mapper/%s", dm_name);
}

int check_name(const char *name, const char *what)
{
	if (valid_name(name))
		return 0;
	if (!*name)
		pr_err("%s name is empty", what);
	else if (strlen(name) >= SSNAP_NAME_LEN)
		pr_err("%s name '%s' is too long (at most %d bytes)", what,
		       name, SSNAP_NAME_LEN - 1);
	else if (name[0] == '-' || name[0] == '.')
		pr_err("%s name '%s' must not begin with '%c'", what, name,
		       name[0]);
	else if (strchr(name, '/'))
		pr_err("%s name '%s' must not contain '/'", what, name);
	else
		pr_err("%s name '%s' has a character other than letters, "
		       "digits and \"+_.-\"", what, name);
	return -EINVAL;
}

bool confirm(bool yes, const char *fmt, ...)
{
	char line[16];
	va_list ap;

	if (yes || !isatty(STDIN_FILENO))
		return true;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" [y/N] ", stderr);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	return line[0] == 'y' || line[0] == 'Y';
}

void uuid_to_str(const uint8_t u[16], char out[SSNAP_UUID_STRLEN + 1])
{
	snprintf(out, SSNAP_UUID_STRLEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

int uuid_from_str(const char *s, uint8_t u[16])
{
	int i, n = 0;

	if (strlen(s) != SSNAP_UUID_STRLEN)
		return -EINVAL;
	for (i = 0; i < SSNAP_UUID_STRLEN; i++) {
		int c = tolower((unsigned char)s[i]), v;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return -EINVAL;
			continue;
		}
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else
			return -EINVAL;
		if (n % 2 == 0)
			u[n / 2] = (uint8_t)(v << 4);
		else
			u[n / 2] |= (uint8_t)v;
		n++;
	}
	return 0;
}

/* A version 4 (random) UUID. */
int uuid_generate_random(uint8_t u[16])
{
	ssize_t n = getrandom(u, 16, 0);

	if (n != 16)
		return n < 0 ? -errno : -EIO;
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	return 0;
}

static void __attribute__((noreturn)) oom(void)
{
	fprintf(stderr, "%s: out of memory\n", prog_name);
	exit(EXIT_FAIL);
}

int str_copy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (!size)
		return -E2BIG;
	if (n >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -E2BIG;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom();
	return p;
}

void *xzalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p)
		oom();
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	va_list aq;
	char *p;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		oom();
	p = malloc((size_t)n + 1);
	if (!p)
		oom();
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

int read_small_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}

int blockdev_stat(const char *path, dev_t *devno, uint64_t *sectors)
{
	struct stat st;
	uint64_t bytes;
	int fd, r = 0;

	if (stat(path, &st))
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	*devno = st.st_rdev;
	if (!sectors)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, BLKGETSIZE64, &bytes))
		r = -errno;
	else
		*sectors = bytes >> 9;
	close(fd);
	return r;
}

void devno_name(dev_t devno, char *buf, size_t len)
{
	char link[PATH_MAX], path[64];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major(devno),
		 minor(devno));
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0) {
		snprintf(buf, len, "%u:%u", major(devno), minor(devno));
		return;
	}
	link[n] = '\0';
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	snprintf(buf, len, "/dev/%s", base);
	/* Kernel names with '!' stand for '/' (cciss!c0d0). */
	for (; *buf; buf++)
		if (*buf == '!')
			*buf = '/';
}

uint64_t devno_sectors(dev_t devno)
{
	char path[64], buf[32];
	unsigned long long v;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/size",
		 major(devno), minor(devno));
	if (read_small_file(path, buf, sizeof(buf)))
		return 0;
	v = strtoull(buf, NULL, 10);
	return v;
}
