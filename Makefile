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
#   make soak [DURATION=s] fio --verify on the origin and snapshots while
#                        snapshots come and go on a nearly full store
#                        (default 600 s), in a VM
#   make crashtest [K=6.1|6.12]
#                        crash consistency, long form, in a VM (default
#                        6.12): every flush point of a dm-log-writes log
#                        replayed and checked, power cuts with dm-flakey
#                        (tests/crash/; the short form is
#                        tests/integration/crash.bats, in make check)
#   make lint            checkpatch and sparse over kernel/, both kernels
#   make dkms-check      dkms add/build into a throwaway tree, both kernels
#   make vmtest [K=6.1|6.12|all] [T=tests/integration/x.bats]
#   make check           all of the above; ends with "N passed, N failed"
#   make demo            the seed's walk-through, then ssnap(8)'s
#                        example, in a VM
#   make dist            build/pkg/ssnap-<version>.tar.gz (DIST_FROM=HEAD:
#                        git archive of HEAD; default: the working tree's
#                        files that git tracks or would track)
#   make deb             the Debian packages, from that tarball, in
#                        build/pkg/deb/ (dpkg-source -b, then
#                        dpkg-buildpackage -us -uc -b)
#   make rpm             the source and binary RPMs, from that tarball,
#                        in build/pkg/rpm/ (rpmbuild -ta)
#   make pkg-check       both, lintian, rpmlint, the versions, and an
#                        install test in a VM (tests/pkg/check; TAP)

VERSION := $(shell cat VERSION)
KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
K ?= all
T ?=

.PHONY: all tools module unit fuzz bench-core bench soak crashtest lint dkms-check vmtest \
	check demo deps clean dist deb rpm pkg-check

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

# The soak test: fio --verify on the origin and two snapshots for
# DURATION seconds while snapshots come and go on a nearly full store.
DURATION ?= 600
soak: deps
	tests/vm/run -k $(DEMO_K) --timeout $$(( $(DURATION) + 900 )) \
		-- $(CURDIR)/tests/soak/soak --duration $(DURATION)

crashtest: deps
	SSNAP_VM_SMP=$${SSNAP_VM_SMP:-1} tests/vm/run -k $(DEMO_K) \
		--timeout 3600 -- $(CURDIR)/tests/crash/long

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

# ---------------------------------------------------------------------
# Packages.  Everything goes to build/pkg/; dpkg-buildpackage writes its
# results next to the tree it builds, so it builds a copy extracted
# there.

PKG_DIR := build/pkg
DIST_NAME := ssnap-$(VERSION)
DIST_TARBALL := $(PKG_DIR)/$(DIST_NAME).tar.gz
DIST_FROM ?= worktree

dist:
	@mkdir -p $(PKG_DIR)
	@set -e; \
	git rev-parse --is-inside-work-tree > /dev/null 2>&1 || { \
		echo "make dist: not a git checkout" >&2; exit 1; }; \
	tmp=$(DIST_TARBALL).tmp; \
	rm -f $$tmp $$tmp.list; \
	if [ "$(DIST_FROM)" = HEAD ]; then \
		git archive --format=tar --prefix=$(DIST_NAME)/ -o $$tmp HEAD; \
	else \
		mtime=$$(git log -1 --format=%ct 2>/dev/null || date +%s); \
		git ls-files -z --cached --others --exclude-standard > $$tmp.all; \
		xargs -0 -r sh -c 'for f; do [ -f "$$f" ] && printf "%s\0" "$$f"; done; :' \
			sh < $$tmp.all | LC_ALL=C sort -z > $$tmp.list; \
		rm -f $$tmp.all; \
		tar --format=gnu --owner=0 --group=0 --numeric-owner \
			--mode=u+rw,go+r,go-w --mtime=@$$mtime \
			--transform 's|^|$(DIST_NAME)/|' \
			--no-recursion --null -T $$tmp.list -cf $$tmp; \
		rm -f $$tmp.list; \
	fi; \
	gzip -n -9 -f $$tmp; \
	mv $$tmp.gz $(DIST_TARBALL)
	@echo "$(DIST_TARBALL)"

deb: dist
	rm -rf $(PKG_DIR)/deb
	mkdir -p $(PKG_DIR)/deb
	cp $(DIST_TARBALL) $(PKG_DIR)/deb/ssnap_$(VERSION).orig.tar.gz
	tar -xzf $(DIST_TARBALL) -C $(PKG_DIR)/deb
	cd $(PKG_DIR)/deb && dpkg-source -b $(DIST_NAME)
	cd $(PKG_DIR)/deb/$(DIST_NAME) && dpkg-buildpackage -us -uc -b
	@ls -1 $(PKG_DIR)/deb/*.dsc $(PKG_DIR)/deb/*.deb

# rpmbuild on Debian: no rpm database knows the build dependencies
# (--nodeps; scripts/install-deps installs them as Debian packages).
rpm: dist
	rm -rf $(PKG_DIR)/rpm
	mkdir -p $(PKG_DIR)/rpm
	rpmbuild -ta --nodeps \
		--define '_topdir $(CURDIR)/$(PKG_DIR)/rpm' \
		$(DIST_TARBALL)
	@find $(PKG_DIR)/rpm/RPMS $(PKG_DIR)/rpm/SRPMS -name '*.rpm' | sort

pkg-check:
	tests/pkg/check

clean:
	$(MAKE) -C tools clean
	$(MAKE) -C tests/unit clean
	$(MAKE) -C tests/bench clean
	$(MAKE) -C kernel clean
	rm -rf build
