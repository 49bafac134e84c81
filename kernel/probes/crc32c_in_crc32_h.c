// SPDX-License-Identifier: GPL-2.0
/*
 * Linux 6.15: "lib/crc32: rename __crc32c_le() to crc32c()" made crc32c()
 * a <linux/crc32.h> library function, after 6.14 had already turned
 * libcrc32c into a thin wrapper; CONFIG_LIBCRC32C and the libcrc32c
 * module went away and <linux/crc32c.h> was left to be removed.  Before
 * that, crc32c() is declared only in <linux/crc32c.h> and exported by
 * libcrc32c.ko.
 *
 * HAVE_CRC32C_IN_CRC32_H: <linux/crc32.h> declares crc32c().
 */
#include <linux/module.h>
#include <linux/crc32.h>

static __maybe_unused u32 probe(const void *p, unsigned int len)
{
	return crc32c(~0U, p, len);
}

MODULE_LICENSE("GPL");
