# SPDX-License-Identifier: GPL-2.0
#
# ssnap: shared-exception-store snapshots for Linux device-mapper.
#
#   make                 tools, and the module if headers for the running
#                        kernel are installed
#   make module KVER=r   kernel/dm-ssnap.ko against /lib/modules/r/build
#   make unit            userspace unit tests of the core (ASan, UBSan)
#   make fuzz            the metadata fuzzer (FUZZ_SECONDS, default 300)
#   make bench-core      the core's speed and size (BENCH_QUICK=1: short)
#   make bench [QUICK=1] ssnap against classic dm-snapshot, dm-thin and
#                        the raw device, side by side in a VM (6.12,
#                        TCG): tables, ratios and a plot in
#                        bench-results/<date>-<kernel>/ (QUICK=1: a
#                        reduced set in a few minutes, in build/bench-vm/)
#   make lint            checkpatch and sparse over kernel/, both kernels
#   make dkms-check      dkms add/build into a throwaway tree, both kernels
#   make vmtest [K=6.1|6.12|all] [T=tests/integration/x.bats]
#   make check           all of the above; ends with "N passed, N failed"
#   make demo            the seed's walk-through, then ssnap(8)'s
#                        example, in a VM

VERSION := $(shell cat VERSION)
KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
K ?= all
T ?=

.PHONY: all tools module unit fuzz bench-core bench lint dkms-check vmtest check \
	demo deps clean

all: tools
ifneq ($(wildcard $(KDIR)/Makefile),)
all: module
endif

tools:
	$(MAKE) -C tools

module:
	$(MAKE) -C kernel KVER=$(KVER)

unit:
	$(MAKE) -C tests/unit run

fuzz:
	$(MAKE) -C tests/unit fuzz

bench-core:
	$(MAKE) -C tests/bench

QUICK ?=
bench: deps
	tests/bench/run-vm-bench $(if $(filter-out 0,$(QUICK)),--quick)

lint:
	@set -e; for rel in $$(scripts/kernels | cut -d' ' -f2); do \
		$(MAKE) -C kernel lint KVER=$$rel; \
	done

dkms-check:
	tests/dkms/check

vmtest:
	tests/vm/run -k $(K) $(T)

check:
	tests/check

DEMO_K = $(if $(filter all,$(K)),6.12,$(K))
demo: deps
	tests/vm/run -k $(DEMO_K) -- $(CURDIR)/tests/demo/seed-walkthrough
	tests/vm/run -k $(DEMO_K) -- $(CURDIR)/tests/demo/ssnap-workflow

deps:
	scripts/install-deps

clean:
	$(MAKE) -C tools clean
	$(MAKE) -C tests/unit clean
	$(MAKE) -C tests/bench clean
	$(MAKE) -C kernel clean
	rm -rf build
