#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# I/O errors on the COW device: the origin stays readable and writable,
# snapshots fail instead of returning wrong data, the status says Fail,
# the kernel log says why once, and the failure is recorded in the store
# so that a reopen does not show stale snapshots.  The COW device is a
# dm-linear device whose table is swapped for dm-error.

load ../lib/ssnap

setup() {
	ssnap_setup
	ORIGIN=$(ssnap_loopdev 32)
	COWLOOP=$(ssnap_loopdev 32)
	SIZE=$(blockdev --getsz "$ORIGIN")
	CS=$(blockdev --getsz "$COWLOOP")
	ssnap_dm_create cow "0 $CS linear $COWLOOP 0" > /dev/null
	COW=/dev/mapper/$(ssnap_dm_name cow)
	[ -b "$COW" ] || dmsetup mknodes "$(ssnap_dm_name cow)"
	WORK=$(ssnap_dm_name work)
	DATA=$BATS_TEST_TMPDIR
	head -c $((SIZE * 512)) /dev/urandom > "$DATA/A"
	head -c $((SIZE * 512)) /dev/urandom > "$DATA/B"
	dd if="$DATA/A" of="$ORIGIN" bs=1M oflag=direct status=none
}

teardown() {
	ssnap_teardown
}

# cow_table <table>: swap the COW device's table under the store.
cow_table() {
	local name
	name=$(ssnap_dm_name cow)
	dmsetup suspend "$name"
	dmsetup reload "$name" --table "$1"
	dmsetup resume "$name"
}

load_origin() {
	ssnap_dm_create work "0 $SIZE s-snap-origin $ORIGIN $COW S 8" \
		> /dev/null
}

# write_b <offset MiB> <MiB>: pattern B into the origin.
write_b() {
	dd if="$DATA/B" of="/dev/mapper/$WORK" bs=1M skip="$1" seek="$1" \
		count="$2" oflag=direct conv=notrunc status=none
}

# same <dev> <A|B> <offset MiB> <MiB>
same() {
	cmp <(dd if="$1" bs=1M skip="$3" count="$4" iflag=direct status=none) \
	    <(dd if="$DATA/$2" bs=1M skip="$3" count="$4" status=none) \
		|| fail "$1: MiB $3+$4 are not pattern $2"
}

snap_dev() {
	ssnap_dm_create "snap$1" "0 $SIZE s-snap $ORIGIN $1" > /dev/null
	echo "/dev/mapper/$(ssnap_dm_name "snap$1")"
}

@test "COW errors: the origin goes on, snapshots fail, Fail is logged once and kept" {
	load_origin
	dmsetup message "$WORK" 0 snapshot create 1
	S1=$(snap_dev 1)
	write_b 0 1
	same "$S1" A 0 1

	# The superblocks and the root block stay readable; nothing else.
	cow_table "0 24 linear $COWLOOP 0
24 $((CS - 24)) error"
	write_b 4 1
	write_b 8 1
	same "/dev/mapper/$WORK" B 4 1
	same "/dev/mapper/$WORK" B 8 1
	same "/dev/mapper/$WORK" A 12 4
	run dmsetup status "$WORK"
	assert_output --regexp "^0 $SIZE s-snap-origin 1 1 Fail "
	run dmsetup status "$(ssnap_dm_name snap1)"
	assert_output "0 $SIZE s-snap Fail"
	run dd if="$S1" of=/dev/null bs=4096 count=1 iflag=direct status=none
	assert_failure
	run dd if="$S1" of=/dev/null bs=4096 skip=1024 count=1 iflag=direct \
		status=none
	assert_failure
	run ssnap_dmesg
	[ "$(grep -c 'snapshots fail from now on' <<< "$output")" -eq 1 ] ||
		fail "expected one failure message: $output"
	refute_output --partial "cannot mark the store failed"

	# Healthy again, and reopened: the store remembers it failed.
	dmsetup remove "$(ssnap_dm_name snap1)"
	dmsetup remove "$WORK"
	cow_table "0 $CS linear $COWLOOP 0"
	load_origin
	run dmsetup status "$WORK"
	assert_output --regexp "^0 $SIZE s-snap-origin 1 1 Fail "
	run ssnap_dmesg
	assert_output --partial "the store failed earlier"
	S1=$(snap_dev 1)
	run dd if="$S1" of=/dev/null bs=4096 skip=1024 count=1 iflag=direct \
		status=none
	assert_failure
	write_b 16 1
	same "/dev/mapper/$WORK" B 16 1
	same "/dev/mapper/$WORK" B 0 1
	same "/dev/mapper/$WORK" A 1 3
}

@test "a dead COW device: the origin still reads and writes, nothing oopses" {
	load_origin
	dmsetup message "$WORK" 0 snapshot create 1
	dmsetup message "$WORK" 0 snapshot create 2
	S2=$(snap_dev 2)
	cow_table "0 $CS error"
	for off in 0 3 7; do
		write_b $off 1
	done
	same "/dev/mapper/$WORK" B 0 1
	same "/dev/mapper/$WORK" B 3 1
	same "/dev/mapper/$WORK" A 4 3
	run dmsetup status "$WORK"
	assert_output --regexp "^0 $SIZE s-snap-origin 2 1 2 Fail "
	run dd if="$S2" of=/dev/null bs=64k count=16 iflag=direct status=none
	assert_failure
	run dd if=/dev/zero of="$S2" bs=4096 count=1 oflag=direct status=none
	assert_failure
	run dmsetup message "$WORK" 0 snapshot create 3
	assert_failure
	run ssnap_dmesg
	assert_output --partial "cannot mark the store failed"
	dmsetup remove "$(ssnap_dm_name snap2)"
	dmsetup remove "$WORK"
}
