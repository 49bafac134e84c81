// SPDX-License-Identifier: GPL-2.0
/*
 * The shared core in userspace: struct ssnap_dev over a file descriptor.
 *
 * The device is opened with O_DIRECT when it allows it: the kernel
 * writes the store with bios that bypass the block device's page cache,
 * so a buffered read could see blocks older than the kernel's.  When
 * O_DIRECT is refused, the cache is dropped before reading instead.
 */
#define _GNU_SOURCE		/* O_DIRECT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>


#include "ssnap-tool.h"

static int fd_read(struct ssnap_dev *dev, u64 blocknr, void *buf)
{
	struct fd_dev *d = dev->priv;
	void *io = d->direct ? d->bounce : buf;
	ssize_t n;

	if (blocknr >= dev->nr_blocks)
		return -EIO;
	n = pread(d->fd, io, SSNAP_BLOCK_SIZE,
		  (off_t)(blocknr << SSNAP_BLOCK_SHIFT));
	if (n != SSNAP_BLOCK_SIZE)
		return n < 0 ? -errno : -EIO;
	if (io != buf)
		memcpy(buf, io, SSNAP_BLOCK_SIZE);
	return 0;
}

static int fd_flush(struct ssnap_dev *dev)
{
	struct fd_dev *d = dev->priv;

	return fdatasync(d->fd) ? -errno : 0;
}

static int fd_write(struct ssnap_dev *dev, u64 blocknr, const void *buf,
		    unsigned int flags)
{
	struct fd_dev *d = dev->priv;
	const void *io = buf;
	ssize_t n;
	int r;

	if (blocknr >= dev->nr_blocks)
		return -EIO;
	if (flags & SSNAP_IO_PREFLUSH) {
		r = fd_flush(dev);
		if (r)
			return r;
	}
	if (d->direct) {
		memcpy(d->bounce, buf, SSNAP_BLOCK_SIZE);
		io = d->bounce;
	}
	n = pwrite(d->fd, io, SSNAP_BLOCK_SIZE,
		   (off_t)(blocknr << SSNAP_BLOCK_SHIFT));
	if (n != SSNAP_BLOCK_SIZE)
		return n < 0 ? -errno : -EIO;
	if (flags & SSNAP_IO_FUA)
		return fd_flush(dev);
	return 0;
}

static const struct ssnap_dev_ops fd_ops = {
	.read = fd_read,
	.write = fd_write,
	.flush = fd_flush,
};

int fd_dev_open(struct fd_dev *d, const char *path, int flags)
{
	uint64_t bytes;
	int r;

	memset(d, 0, sizeof(*d));
	d->path = path;
	d->fd = open(path, flags | O_CLOEXEC | O_DIRECT);
	if (d->fd >= 0) {
		d->direct = true;
	} else if (errno == EINVAL) {
		d->fd = open(path, flags | O_CLOEXEC);
	}
	if (d->fd < 0)
		return -errno;
	if (ioctl(d->fd, BLKGETSIZE64, &bytes)) {
		off_t end = lseek(d->fd, 0, SEEK_END);

		/* A regular file (an image) is fine too. */
		if (end < 0) {
			r = -errno;
			goto fail;
		}
		bytes = (uint64_t)end;
	}
	if (d->direct && posix_memalign(&d->bounce, SSNAP_BLOCK_SIZE,
					SSNAP_BLOCK_SIZE)) {
		r = -ENOMEM;
		goto fail;
	}
	if (!d->direct) {
		/* Drop what the page cache holds of an earlier state. */
		(void)ioctl(d->fd, BLKFLSBUF, 0);
		(void)posix_fadvise(d->fd, 0, 0, POSIX_FADV_DONTNEED);
	}
	d->dev.ops = &fd_ops;
	d->dev.priv = d;
	d->dev.nr_blocks = bytes >> SSNAP_BLOCK_SHIFT;
	return 0;
fail:
	close(d->fd);
	d->fd = -1;
	return r;
}

void fd_dev_close(struct fd_dev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	free(d->bounce);
	d->bounce = NULL;
}

int store_read_super(const char *path, struct ssnap_disk_sb *sb)
{
	struct fd_dev d;
	int r;

	r = fd_dev_open(&d, path, O_RDONLY | O_NONBLOCK);
	if (r)
		return r;
	store_log_begin();
	r = ssnap_read_super(&d.dev, sb);
	store_log_end();
	fd_dev_close(&d);
	return r;
}

void sb_string(const char *field, size_t len, char *out)
{
	size_t n = strnlen(field, len);

	memcpy(out, field, n);
	out[n] = '\0';
}

/* ------------------------------------------------------------------ */
/* The core's messages.                                                */

static char log_buf[2048];
static size_t log_len;

static void log_hook(const char *msg)
{
	int n;

	if (log_len >= sizeof(log_buf) - 1)
		return;
	n = snprintf(log_buf + log_len, sizeof(log_buf) - log_len, "%s%s",
		     log_len ? "; " : "", msg);
	if (n > 0)
		log_len += (size_t)n;
	if (log_len >= sizeof(log_buf))
		log_len = sizeof(log_buf) - 1;
}

void store_log_begin(void)
{
	log_len = 0;
	log_buf[0] = '\0';
	ssnap_log_hook = log_hook;
}

const char *store_log_text(void)
{
	return log_len ? log_buf : NULL;
}

void store_log_end(void)
{
	ssnap_log_hook = NULL;
}
