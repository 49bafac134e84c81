// SPDX-License-Identifier: GPL-2.0
/*
 * crc32c (Castagnoli) for userspace, table driven, with the kernel's
 * crc32c() convention: the caller passes the running crc, no final XOR.
 */
#include "ssnap_priv.h"


static u32 crc_table[8][256];
static int crc_ready;

static void crc_init(void)
{
	u32 i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ (c & 1 ? 0x82f63b78U : 0);
		crc_table[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			crc_table[j][i] = (crc_table[j - 1][i] >> 8) ^
				crc_table[0][crc_table[j - 1][i] & 0xff];
	crc_ready = 1;
}

#if defined(__x86_64__)
/* SSE4.2 has crc32c in hardware, as the kernel's crc32c() uses. */
__attribute__((target("sse4.2")))
static u32 crc_hw(u32 crc, const u8 *p, size_t len)
{
	u64 c = crc;

	while (len && ((uintptr_t)p & 7)) {
		c = __builtin_ia32_crc32qi((u32)c, *p++);
		len--;
	}
	while (len >= 8) {
		u64 v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = __builtin_ia32_crc32qi((u32)c, *p++);
	return (u32)c;
}

static int have_hw = -1;
#endif

u32 ssnap_crc32c(u32 crc, const void *buf, size_t len)
{
	const u8 *p = buf;

#if defined(__x86_64__)
	if (have_hw < 0)
		have_hw = __builtin_cpu_supports("sse4.2");
	if (have_hw)
		return crc_hw(crc, p, len);
#endif
	if (!crc_ready)
		crc_init();
	while (len && ((uintptr_t)p & 7)) {
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
		len--;
	}
	while (len >= 8) {
		u64 v;

		memcpy(&v, p, 8);
		v = htole64(v) ^ crc;
		crc = crc_table[7][v & 0xff] ^
		      crc_table[6][(v >> 8) & 0xff] ^
		      crc_table[5][(v >> 16) & 0xff] ^
		      crc_table[4][(v >> 24) & 0xff] ^
		      crc_table[3][(v >> 32) & 0xff] ^
		      crc_table[2][(v >> 40) & 0xff] ^
		      crc_table[1][(v >> 48) & 0xff] ^
		      crc_table[0][v >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}
