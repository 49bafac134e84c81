/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace side of the core's shim: what kernel/shim/ssnap_priv.h gives
 * the core inside the kernel, made of libc.  The core never includes a
 * system header itself.
 */
#ifndef SSNAP_PRIV_H
#define SSNAP_PRIV_H

#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef EBADMSG
#define EBADMSG 74
#endif

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;
typedef uint8_t __u8;

#ifdef __CHECKER__
#define __bitwise __attribute__((bitwise))
#define __force __attribute__((force))
#else
#define __bitwise
#define __force
#endif

typedef uint16_t __bitwise __le16;
typedef uint32_t __bitwise __le32;
typedef uint64_t __bitwise __le64;

#define cpu_to_le16(x) ((__force __le16)htole16(x))
#define cpu_to_le32(x) ((__force __le32)htole32(x))
#define cpu_to_le64(x) ((__force __le64)htole64(x))
#define le16_to_cpu(x) le16toh((__force uint16_t)(x))
#define le32_to_cpu(x) le32toh((__force uint32_t)(x))
#define le64_to_cpu(x) le64toh((__force uint64_t)(x))

#define __packed __attribute__((packed))
#define BIT(n) (1UL << (n))
#define BIT_ULL(n) (1ULL << (n))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

static inline void *ssnap_alloc(size_t size)
{
	return malloc(size);
}

static inline void *ssnap_zalloc(size_t size)
{
	return calloc(1, size);
}

static inline void ssnap_free(void *p)
{
	free(p);
}

/* Arrays that may be large (the live-snapshot tables). */
static inline void *ssnap_alloc_array(size_t n, size_t size)
{
	size_t bytes;

	if (size && n > SIZE_MAX / size)
		return NULL;
	bytes = n * size;
	return malloc(bytes > 0 ? bytes : 1);
}

#define ssnap_free_array ssnap_free

u32 ssnap_crc32c(u32 crc, const void *buf, size_t len);

/*
 * Messages from the core.  Userspace prints errors to stderr unless
 * ssnap_log_quiet is set (tests and fuzzers set it).
 */
extern int ssnap_log_quiet;
extern void (*ssnap_log_hook)(const char *msg);
void ssnap_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define ssnap_err(fmt, ...) ssnap_log(fmt, ##__VA_ARGS__)
#define ssnap_warn ssnap_err
#define ssnap_info(fmt, ...) do { } while (0)

static inline u64 ssnap_div_u64(u64 a, u32 b)
{
	return a / b;
}

static inline void ssnap_cond_resched(void)
{
}

#endif /* SSNAP_PRIV_H */
