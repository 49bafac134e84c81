// SPDX-License-Identifier: GPL-2.0
/*
 * The core's messages in userspace: to a hook if the program set one
 * (ssnap check collects them), else to stderr unless quiet.
 */
#include "ssnap_priv.h"

int ssnap_log_quiet;
void (*ssnap_log_hook)(const char *msg);

void ssnap_log(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (ssnap_log_hook)
		ssnap_log_hook(buf);
	else if (!ssnap_log_quiet)
		fprintf(stderr, "ssnap: %s\n", buf);
}
