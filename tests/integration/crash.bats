#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Crash consistency (tests/crash/crash-check): the origin and the COW
# device as two slices of one dm-log-writes device, a workload (ext4
# with fsynced files, O_DIRECT|O_DSYNC and buffered+fsync origin writes,
# snapshot writes, creates and deletes, a large deletion reclaimed in
# the background), then the log replayed onto a fresh image and, at the
# FLUSH/FUA entries it stops at, the store must open, check clean, and
# hold every acknowledged write, snapshot and fsynced file; the same
# for power-cut states (part of the writes after the last flush, some
# torn), and for live power cuts with dm-flakey (drop_writes,
# error_writes).  Runs inside the test VM (tests/vm/run).
#
# This is the short form: a sample of the flush points, a few power
# cuts.  The long form (make crashtest, tests/crash/long) sets
# SSNAP_CRASH=long: every flush point of a longer workload, more cuts.
# Each run prints its seed; SSNAP_CRASH_SEED=N runs with seed N.
#
# The first two tests are the minimal reproducers of two bugs the
# replay found, both fixed: a snapshot write that covered a whole chunk
# was recorded in a new block before its data reached it (the copy of
# the old data was skipped), and a commit's journal record was not
# ordered after the chunk copies it records (no flush in between).

load ../lib/ssnap

CRASH_CHECK=$BATS_TEST_DIRNAME/../crash/crash-check

setup() {
	local m t
	ssnap_setup
	for t in mkfs.ext4 e2fsck python3; do
		command -v "$t" > /dev/null \
			|| fail "$t is not installed (scripts/install-deps)"
	done
	for m in dm-log-writes dm-snapshot dm-flakey; do
		modprobe "$m" || fail "modprobe $m failed"
	done
	if [ ! -x "$BATS_TEST_DIRNAME/../../tools/ssnap" ]; then
		make -s -C "$BATS_TEST_DIRNAME/../../tools" > /dev/null 2>&1 \
			|| fail "tools/ssnap is not built (make tools)"
	fi
	SEED=${SSNAP_CRASH_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
	LONG=0
	[ "${SSNAP_CRASH:-}" != long ] || LONG=1
}

teardown() {
	ssnap_teardown
}

# crash_check <crash-check arguments>: run it with this test's prefix
# (ssnap_teardown removes whatever it leaves) and its mount points in
# the test's directory; its summary lines become TAP comments.
crash_check() {
	echo "# crash-check $*" >&3
	TMPDIR=$BATS_TEST_TMPDIR run "$CRASH_CHECK" "$@" --prefix "$SSNAP_PREFIX"
	awk '/^crash-check: ([0-9]+ (FLUSH|power)|PASS|the large)/ ||
		/^crash-check: FAIL/ && n[$2]++ < 3' <<< "$output" \
		| cut -c1-1000 | sed 's/^crash-check: /# /' >&3 || :
}

@test "a whole-chunk snapshot write cut after its commit reads as the old or the new data" {
	# Minimal: no filesystem, a 1 MiB origin; each snapshot write
	# below covers one chunk, and its in-flight states must show the
	# chunk as it was or as written.  The three cases of a snapshot
	# write that needs a new block: the snapshot alone reads the
	# origin's chunk, snapshots 1 and 2 both do, snapshot 1 reads a
	# block it shares with 2.
	crash_check replay --fs-mib 0 --raw-mib 1 --cow-mib 16 --seed 1 \
		--stops all --torn 0 --script \
		create:1,swrite:1:0:4096,create:2,swrite:2:4096:4096,owrite:8192:4096,swrite:1:8192:4096
	assert_success
}

@test "a power cut that keeps a commit's journal record but loses the copy it records" {
	# One origin write copies chunk 0 for snapshot 1: the copy, then
	# the commit (journal record, one flush).  At each stop, every
	# write before the next FLUSH/FUA but one is applied, for each one
	# in turn: with the copy lost and the record kept, snapshot 1 must
	# still read the chunk as it was.
	crash_check replay --fs-mib 0 --raw-mib 1 --cow-mib 16 --seed 3 \
		--stops all --torn 1000 --torn-mode drop-one \
		--script create:1,owrite:0:4096
	assert_success
}

@test "crash-check sees an acknowledged write that did not reach the disk" {
	# The last origin write is left out of the replay: the stops after
	# its acknowledgment must find it missing.
	crash_check replay --fs-mib 0 --raw-mib 1 --cow-mib 16 --seed 2 \
		--stops all --torn 0 --inject lose-write \
		--script create:1,owrite:0:4096,owrite:512:1024
	assert_failure 1
	assert_output --partial 'data: acknowledged data lost or wrong'
	assert_output --partial 'DATA: origin, raw byte 512'
}

@test "replayed at flush points: ext4, origin and snapshot writes, creates, deletes, a reclaim" {
	if [ "$LONG" = 1 ]; then
		crash_check replay --seed "$SEED" --ops 200 --raw-mib 4 \
			--stops all --torn 100
	else
		crash_check replay --seed "$SEED" --ops 30 --raw-mib 4 \
			--stops sample --sample 8 --torn 8
	fi
	assert_success
	run ssnap_dmesg
	refute_output --regexp 'lookup failed|snapshots fail from now on|reclaiming space failed'
}

@test "power cuts with dm-flakey: drop_writes and error_writes, one during a reclaim" {
	if [ "$LONG" = 1 ]; then
		crash_check powercut --seed "$SEED" --cycles 30 --ops 10 \
			--raw-mib 4
	else
		crash_check powercut --seed "$SEED" --cycles 6 --ops 8 \
			--raw-mib 4
	fi
	assert_success
}
