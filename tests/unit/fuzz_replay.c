// SPDX-License-Identifier: GPL-2.0
/*
 * Every saved input of the fuzzer (corpus/ and regressions/) run once
 * through its target, here under gcc's ASan and UBSan: a crasher once
 * saved stays fixed.  Run from tests/unit/.
 */
#include "fuzz_open.h"
#include "harness.h"

#include <dirent.h>
#include <setjmp.h>
#include <cmocka.h>

static u32 replay_dir(const char *dir)
{
	struct dirent *de;
	u32 n = 0;
	DIR *dp = opendir(dir);

	if (!dp)
		return 0;
	while ((de = readdir(dp))) {
		char path[512];
		u8 buf[1 << 16];
		size_t len;
		FILE *f;

		if (de->d_name[0] == '.' || de->d_type == DT_DIR ||
		    strstr(de->d_name, ".md"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		if (!f)
			continue;
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if (h_verbose())
			fprintf(stderr, "replay %s (%zu bytes)\n", path, len);
		LLVMFuzzerTestOneInput(buf, len);
		n++;
	}
	closedir(dp);
	return n;
}

static void test_corpus(void **state)
{
	u32 n;

	(void)state;
	n = replay_dir("corpus");
	printf("# fuzz corpus: %u inputs\n", n);
	assert_true(n > 0);
}

static void test_regressions(void **state)
{
	u32 n;

	(void)state;
	n = replay_dir("regressions");
	printf("# fuzz regressions: %u inputs\n", n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_regressions),
	};

	h_quiet();
	return cmocka_run_group_tests_name("fuzz-replay", tests, NULL, NULL);
}
