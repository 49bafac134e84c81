/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzz target's entry points, for the corpus generator and the
 * replay test.
 */
#ifndef FUZZ_OPEN_H
#define FUZZ_OPEN_H

#include "ssnap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Where the trees of base image idx start. */
void fuzz_image_info(u32 idx, u64 *exc_root, u64 *snap_root);

#endif /* FUZZ_OPEN_H */
