/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel side of the core's shim: what the portable core in core/ needs
 * from its surroundings, made of kernel APIs.  The userspace build has
 * its own, in tools/shim/.
 */
#ifndef SSNAP_PRIV_H
#define SSNAP_PRIV_H

#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/stdarg.h>
#include <linux/string.h>
#include <linux/types.h>

#include "compat.h"	/* crc32c() */

/*
 * The core runs in the I/O path of the device it serves: no allocation
 * may recurse into block I/O.
 */
static inline void *ssnap_alloc(size_t size)
{
	return kmalloc(size, GFP_NOIO);
}

static inline void *ssnap_zalloc(size_t size)
{
	return kzalloc(size, GFP_NOIO);
}

static inline void ssnap_free(void *p)
{
	kfree(p);
}

static inline void *ssnap_alloc_array(size_t n, size_t size)
{
	unsigned int flags = memalloc_noio_save();
	void *p = kvmalloc_array(n ? n : 1, size, GFP_KERNEL);

	memalloc_noio_restore(flags);
	return p;
}

static inline void ssnap_free_array(void *p)
{
	kvfree(p);
}

static inline u32 ssnap_crc32c(u32 crc, const void *buf, size_t len)
{
	return crc32c(crc, buf, len);
}

#define ssnap_err(fmt, ...) \
	pr_err_ratelimited("device-mapper: ssnap: " fmt "\n", ##__VA_ARGS__)
#define ssnap_warn(fmt, ...) \
	pr_warn_ratelimited("device-mapper: ssnap: " fmt "\n", ##__VA_ARGS__)
#define ssnap_info(fmt, ...) \
	pr_info("device-mapper: ssnap: " fmt "\n", ##__VA_ARGS__)

static inline u64 ssnap_div_u64(u64 a, u32 b)
{
	return div_u64(a, b);
}

static inline void ssnap_cond_resched(void)
{
	cond_resched();
}

#endif /* SSNAP_PRIV_H */
