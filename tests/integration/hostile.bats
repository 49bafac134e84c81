#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Hostile input, in bulk (tests/integration/hostile): thousands of
# random and malformed messages and table lines, and damaged copies of
# a store, each refused or handled without harm; a kernel warning or
# oops anywhere fails the run (tests/vm/run checks the kernel log).
# Each run prints its seed; SSNAP_HOSTILE_SEED=N replays one.  Runs
# inside the test VM.

load ../lib/ssnap

HOSTILE=$BATS_TEST_DIRNAME/hostile

setup() {
	ssnap_setup
	ORIGIN=$(ssnap_loopdev 8)
	COW=$(ssnap_loopdev 16)
}

teardown() {
	ssnap_teardown
}

seed() {
	echo "${SSNAP_HOSTILE_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
}

hostile() {
	run "$HOSTILE" "$@" --origin "$ORIGIN" --cow "$COW" \
		--prefix "$SSNAP_PREFIX" --seed "$(seed)"
	echo "$output" | grep '^#' >&3 || :
	assert_success
}

@test "thousands of random and malformed messages: done or refused, the store unharmed" {
	hostile messages --count "${SSNAP_HOSTILE_COUNT:-3000}"
	run ssnap_dmesg
	assert_output --partial "unknown or malformed message"
}

@test "thousands of random table lines for both targets: loaded or refused, never harm" {
	hostile tables --count "${SSNAP_HOSTILE_COUNT:-1500}"
}

@test "damaged copies of a store: refused at load, or failing cleanly, never wrong data" {
	local spare
	spare=$(ssnap_loopdev 16)
	hostile images --spare "$spare" --flips "${SSNAP_HOSTILE_FLIPS:-3}"
}
