#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The 2008 walk-through (shared/seed), step by step with its commands,
# then the data behind it: snapshots keep what the origin had, survive a
# reload of every table, and give their space back when deleted.

load ../lib/ssnap

DMIOCTL=$BATS_TEST_DIRNAME/../lib/dmioctl.py

setup() {
	ssnap_setup
	ORIGIN=$(ssnap_loopdev 64)
	COW=$(ssnap_loopdev 32)
	SIZE=$(blockdev --getsize "$ORIGIN")
	WORK=$(ssnap_dm_name work)
	SNAP5=$(ssnap_dm_name snap5)
}

teardown() {
	ssnap_teardown
}

# load_origin: the seed's three commands for the origin.
load_origin() {
	dmsetup create --notable "$WORK"
	echo "0 $SIZE s-snap-origin $ORIGIN $COW S ${1:-16}" | dmsetup load "$WORK"
	dmsetup resume "$WORK"
}

load_snap() {
	local name=$1 id=$2
	dmsetup create --notable "$name"
	echo "0 $SIZE s-snap $ORIGIN $id" | dmsetup load "$name"
	dmsetup resume "$name"
}

# status_begins <dev> <text>: dmsetup status begins with <text>, then
# either ends or goes on after a space.
status_begins() {
	run dmsetup status "$1"
	assert_success
	case "$output" in
	"$2" | "$2 "*) ;;
	*) fail "status of $1 is '$output', expected it to begin with '$2'" ;;
	esac
}

@test "the seed's walk-through, every status line" {
	load_origin
	status_begins "$WORK" "0 $SIZE s-snap-origin : no snapshot"

	dmsetup message "$WORK" 0 snapshot create 0
	status_begins "$WORK" "0 $SIZE s-snap-origin 1 0"

	dmsetup message "$WORK" 0 snapshot create 5
	status_begins "$WORK" "0 $SIZE s-snap-origin 2 0 5"

	load_snap "$SNAP5" 5
	status_begins "$SNAP5" "0 $SIZE s-snap Active"
	status_begins "$WORK" "0 $SIZE s-snap-origin 2 0 5"

	dmsetup remove "$SNAP5"
	dmsetup remove "$WORK"
	run dmsetup info "$WORK"
	assert_failure

	# Again: the snapshots are on the COW device.
	load_origin
	status_begins "$WORK" "0 $SIZE s-snap-origin 2 0 5"

	dmsetup message "$WORK" 0 snapshot delete 5
	status_begins "$WORK" "0 $SIZE s-snap-origin 1 0"
}

@test "status and table lines: extra fields and a table that reloads" {
	load_origin
	run dmsetup status "$WORK"
	assert_output --regexp "^0 $SIZE s-snap-origin : no snapshot ok 0/[0-9]+ [0-9]+ 0\$"
	run dmsetup table "$WORK"
	assert_success
	table=$output
	echo "${table}" | cut -d' ' -f1- | dmsetup load "$WORK"
	dmsetup resume "$WORK"
	run dmsetup table "$WORK"
	assert_output "$table"
}

@test "a snapshot keeps the origin's old data; the origin gets the new" {
	dd if=/dev/urandom of="$ORIGIN" bs=1M count=8 status=none
	load_origin
	dmsetup message "$WORK" 0 snapshot create 1
	old=$(dd if="/dev/mapper/$WORK" bs=1M count=8 status=none | md5sum)
	dd if=/dev/urandom of="/dev/mapper/$WORK" bs=4k count=300 seek=17 \
		oflag=direct status=none
	new=$(dd if="/dev/mapper/$WORK" bs=1M count=8 status=none | md5sum)
	[ "$old" != "$new" ]

	load_snap "$SNAP5" 1
	snap=$(dd if="/dev/mapper/$SNAP5" bs=1M count=8 iflag=direct status=none | md5sum)
	assert_equal "$snap" "$old"

	# Survives removing and reloading both tables.
	dmsetup remove "$SNAP5"
	dmsetup remove "$WORK"
	load_origin
	load_snap "$SNAP5" 1
	snap=$(dd if="/dev/mapper/$SNAP5" bs=1M count=8 iflag=direct status=none | md5sum)
	assert_equal "$snap" "$old"
	cur=$(dd if="/dev/mapper/$WORK" bs=1M count=8 iflag=direct status=none | md5sum)
	assert_equal "$cur" "$new"
}

@test "an origin write copies once whatever the number of snapshots" {
	load_origin
	for id in $(seq 1 20); do
		dmsetup message "$WORK" 0 snapshot create "$id"
	done
	used() { dmsetup status "$WORK" | awk '{print $(NF-2)}' | cut -d/ -f1; }
	before=$(used)
	dd if=/dev/urandom of="/dev/mapper/$WORK" bs=8k count=10 oflag=direct status=none
	after=$(used)
	# 10 chunks of 8 KiB written once each: 10 copies, not 200.
	assert_equal "$((after - before))" 10
}

@test "writable snapshots: a snapshot write changes that snapshot only" {
	dd if=/dev/urandom of="$ORIGIN" bs=1M count=2 status=none
	load_origin
	dmsetup message "$WORK" 0 snapshot create 1
	dmsetup message "$WORK" 0 snapshot create 2
	origin=$(dd if="/dev/mapper/$WORK" bs=1M count=2 status=none | md5sum)
	load_snap "$SNAP5" 2
	dd if=/dev/zero of="/dev/mapper/$SNAP5" bs=4k count=3 seek=5 oflag=direct status=none
	s2=$(dd if="/dev/mapper/$SNAP5" bs=1M count=2 iflag=direct status=none | md5sum)
	[ "$s2" != "$origin" ]
	assert_equal "$(dd if="/dev/mapper/$WORK" bs=1M count=2 status=none | md5sum)" "$origin"
	other=$(ssnap_dm_name snap1)
	load_snap "$other" 1
	assert_equal "$(dd if="/dev/mapper/$other" bs=1M count=2 iflag=direct status=none | md5sum)" "$origin"
	# Reading back the written blocks gives zeroes.
	dd if="/dev/mapper/$SNAP5" of="$BATS_TEST_TMPDIR/w" bs=4k count=3 skip=5 \
		iflag=direct status=none
	run cmp -n 12288 "$BATS_TEST_TMPDIR/w" /dev/zero
	assert_success
}

@test "deleting a snapshot gives its space back" {
	load_origin
	used() { dmsetup status "$WORK" | awk '{print $(NF-2)}' | cut -d/ -f1; }
	base=$(used)
	dmsetup message "$WORK" 0 snapshot create 7
	dd if=/dev/urandom of="/dev/mapper/$WORK" bs=1M count=4 oflag=direct status=none
	[ "$(used)" -gt "$base" ]
	dmsetup message "$WORK" 0 snapshot delete 7
	for i in $(seq 50); do
		[ "$(used)" -eq "$base" ] && break
		sleep 0.2
	done
	assert_equal "$(used)" "$base"
}

@test "messages: duplicate, unknown, busy and malformed are refused" {
	load_origin
	dmsetup message "$WORK" 0 snapshot create 3
	run dmsetup message "$WORK" 0 snapshot create 3
	assert_failure
	run dmsetup message "$WORK" 0 snapshot delete 9
	assert_failure
	load_snap "$SNAP5" 3
	run dmsetup message "$WORK" 0 snapshot delete 3
	assert_failure
	run ssnap_dmesg
	assert_output --partial "snapshot 3 has an active s-snap device"
	for m in "snapshot" "snapshot create" "snapshot create x" \
		"snapshot create -1" "snapshot delete" "snapshot frob 1" "frob"; do
		run dmsetup message "$WORK" 0 $m
		assert_failure
	done
	status_begins "$WORK" "0 $SIZE s-snap-origin 1 3"
}

@test "an s-snap of a snapshot that does not exist is refused" {
	load_origin
	ssnap_dm_expect_error snapx "0 $SIZE s-snap $ORIGIN 42" "No such snapshot"
}

@test "a COW device with foreign data is refused" {
	echo "not a store" | dd of="$COW" bs=512 count=1 conv=notrunc status=none
	ssnap_dm_expect_error work "0 $SIZE s-snap-origin $ORIGIN $COW S 16" \
		"COW device holds data that is not an ssnap store"
}

@test "a store opened with another chunk size or origin is refused" {
	load_origin 16
	dmsetup remove "$WORK"
	ssnap_dm_expect_error w2 "0 $SIZE s-snap-origin $ORIGIN $COW S 32" \
		"Chunk size differs"
	other=$(ssnap_loopdev 32)
	osize=$(blockdev --getsize "$other")
	ssnap_dm_expect_error w3 "0 $osize s-snap-origin $other $COW S 16" \
		"Origin size differs"
}

@test "scale: a 2 TiB origin, a 256 GiB store, 1000 snapshots, copies at both ends" {
	local big cow name i t0 t1 off sums=() s
	# Sparse files in the guest's tmpfs: only what is written takes room.
	big=$(ssnap_loopdev $((2 * 1024 * 1024)))
	cow=$(ssnap_loopdev $((256 * 1024)))
	SIZE=$(blockdev --getsz "$big")
	name=$(ssnap_dm_name big)
	ssnap_dm_create big "0 $SIZE s-snap-origin $big $cow S 128" > /dev/null
	[ -b "/dev/mapper/$name" ] || dmsetup mknodes "$name"
	# Data at the first, a middle and the last MiB.
	for off in 0 $((SIZE / 2048 / 2)) $((SIZE / 2048 - 1)); do
		dd if=/dev/urandom of="/dev/mapper/$name" bs=1M count=1 seek="$off" \
			oflag=direct status=none
		sums+=("$(dd if="/dev/mapper/$name" bs=1M count=1 skip="$off" \
			iflag=direct status=none | md5sum)")
	done
	t0=$(date +%s%N)
	# (From one process: in the emulated guest a dmsetup costs 0.1 s.)
	seq -f 'snapshot create %.0f' 1 1000 | python3 "$DMIOCTL" message "$name"
	t1=$(date +%s%N)
	echo "# 1000 snapshot creates: $(( (t1 - t0) / 1000000 )) ms in all" >&3
	run dmsetup status "$name"
	assert_output --regexp "^0 $SIZE s-snap-origin 1000 1 2 3 .* 999 1000 ok [0-9]+/[0-9]+ [0-9]+ 0\$"
	# Every end rewritten: one copy each, for all 1000 snapshots.
	for off in 0 $((SIZE / 2048 / 2)) $((SIZE / 2048 - 1)); do
		dd if=/dev/zero of="/dev/mapper/$name" bs=1M count=1 seek="$off" \
			oflag=direct status=none
	done
	run dmsetup status "$name"
	assert_output --regexp " ok 48/[0-9]+ [0-9]+ 0\$"
	# The first, a middle and the last snapshot see the old data.
	for s in 1 500 1000; do
		ssnap_dm_create "bs$s" "0 $SIZE s-snap $big $s" > /dev/null
		[ -b "/dev/mapper/$(ssnap_dm_name "bs$s")" ] || dmsetup mknodes "$(ssnap_dm_name "bs$s")"
		i=0
		for off in 0 $((SIZE / 2048 / 2)) $((SIZE / 2048 - 1)); do
			assert_equal "$(dd if="/dev/mapper/$(ssnap_dm_name "bs$s")" bs=1M \
				count=1 skip="$off" iflag=direct status=none | md5sum)" "${sums[$i]}"
			i=$((i + 1))
		done
		dmsetup remove "$(ssnap_dm_name "bs$s")"
	done
	# All of them deleted: the store is empty again.
	seq -f 'snapshot delete %.0f' 1 1000 | python3 "$DMIOCTL" message "$name"
	for i in $(seq 100); do
		dmsetup status "$name" | grep -q ' 0$' && break
		sleep 0.2
	done
	run dmsetup status "$name"
	assert_output --regexp "^0 $SIZE s-snap-origin : no snapshot ok 0/[0-9]+ [0-9]+ 0\$"
}
