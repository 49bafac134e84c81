#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Table lines of s-snap-origin and s-snap: every malformed line is
# refused with its own message in the kernel log, valid lines load,
# status and table print what the targets document, and I/O passes
# through to the origin device.  Runs inside the test VM.
#
# The messages are those of kernel/dm-ssnap.h; keep the two in step.

load ../lib/ssnap

setup() {
	ssnap_setup	# loads dm-ssnap
	ORIGIN=$(ssnap_loopdev 64)
	COW=$(ssnap_loopdev 32)
	SZ=$(blockdev --getsz "$ORIGIN")
}

# (ssnap_teardown removes the newest devices first: an s-snap holds its
# s-snap-origin open.)
teardown() {
	ssnap_teardown
}

# "major:minor" of a block device, as device-mapper prints it.
majmin() {
	printf '%d:%d\n' "0x$(stat -L -c %t "$1")" "0x$(stat -L -c %T "$1")"
}

dm_path() {
	local name
	name=$(ssnap_dm_name "$1")
	[ -b "/dev/mapper/$name" ] || dmsetup mknodes "$name"
	echo "/dev/mapper/$name"
}

origin_line() {
	echo "0 $SZ s-snap-origin $*"
}

# Expect a reload of an existing device to fail with <text> in the log.
expect_reload_error() {
	local short=$1 table=$2 text=$3
	run dmsetup reload "$(ssnap_dm_name "$short")" --table "$table"
	assert_failure
	run ssnap_dmesg
	assert_output --partial "$text"
}

# ---------------------------------------------------------------------
# The module

@test "modprobe dm-ssnap registers s-snap-origin and s-snap v1.0.0" {
	run dmsetup targets
	assert_success
	assert_line --regexp '^s-snap-origin +v1\.0\.0$'
	assert_line --regexp '^s-snap +v1\.0\.0$'
}

# ---------------------------------------------------------------------
# s-snap-origin: malformed lines

# refused <case> <table> <message>: the table does not load, and the
# kernel log says <message> (since this case began).
refused() {
	ssnap_kmsg_mark "$1"
	ssnap_dm_expect_error bad "$2" "$3" || fail "case: $1"
}

@test "s-snap-origin: every malformed line is refused with its own message" {
	refused "too few arguments" \
		"$(origin_line "$ORIGIN" "$COW" S)" \
		"Invalid argument count: need <origin_dev> <cow_dev> S <chunk_sectors> [<#features> <feature>...]"
	refused "no arguments at all" \
		"0 $SZ s-snap-origin" \
		"Invalid argument count: need <origin_dev> <cow_dev> S <chunk_sectors> [<#features> <feature>...]"
	refused "store type other than S" \
		"$(origin_line "$ORIGIN" "$COW" P 8)" \
		"Unknown store type: only S (shared) is supported"
	refused "chunk size not a number" \
		"$(origin_line "$ORIGIN" "$COW" S 8k)" \
		"Invalid chunk size"
	refused "negative chunk size" \
		"$(origin_line "$ORIGIN" "$COW" S -8)" \
		"Invalid chunk size"
	refused "chunk size not a power of two" \
		"$(origin_line "$ORIGIN" "$COW" S 24)" \
		"Chunk size is not a power of two"
	refused "chunk size zero" \
		"$(origin_line "$ORIGIN" "$COW" S 0)" \
		"Chunk size is not a power of two"
	refused "chunk size below 8 sectors" \
		"$(origin_line "$ORIGIN" "$COW" S 4)" \
		"Chunk size out of range (8-2048 sectors)"
	refused "chunk size above 2048 sectors" \
		"$(origin_line "$ORIGIN" "$COW" S 4096)" \
		"Chunk size out of range (8-2048 sectors)"
	refused "feature count not a number" \
		"$(origin_line "$ORIGIN" "$COW" S 8 x)" \
		"Invalid number of feature arguments"
	refused "feature count larger than the features given" \
		"$(origin_line "$ORIGIN" "$COW" S 8 2 a)" \
		"Invalid number of feature arguments"
	refused "more features than the count says" \
		"$(origin_line "$ORIGIN" "$COW" S 8 1 a b)" \
		"Invalid number of feature arguments"
	refused "unknown feature" \
		"$(origin_line "$ORIGIN" "$COW" S 8 1 no_such_feature)" \
		"Unrecognised feature argument"
	refused "origin device cannot be opened" \
		"$(origin_line /dev/ssnap-no-such-device "$COW" S 8)" \
		"Cannot open origin device"
	refused "COW device cannot be opened" \
		"$(origin_line "$ORIGIN" /dev/ssnap-no-such-device S 8)" \
		"Cannot open COW device"
	refused "origin and COW the same device" \
		"$(origin_line "$ORIGIN" "$ORIGIN" S 8)" \
		"Origin and COW are the same device"
}

@test "s-snap-origin: COW device too small" {
	local small
	# 2048 sectors; chunk 8 needs 2048 + 16 * 8.
	small=$(ssnap_loopdev 1)
	ssnap_dm_expect_error bad "$(origin_line "$ORIGIN" "$small" S 8)" \
		"COW device too small"
}

@test "s-snap-origin: COW big enough for chunk 8 is too small for chunk 2048" {
	local cow
	cow=$(ssnap_loopdev 8)
	ssnap_dm_create ok "$(origin_line "$ORIGIN" "$cow" S 8)"
	# (The size check comes before the one for an active origin.)
	ssnap_dm_expect_error bad "$(origin_line "$ORIGIN" "$cow" S 2048)" \
		"COW device too small"
}

@test "s-snap-origin: second s-snap-origin on the same origin" {
	local cow2
	cow2=$(ssnap_loopdev 32)
	ssnap_dm_create origin "$(origin_line "$ORIGIN" "$COW" S 8)"
	ssnap_dm_expect_error bad "$(origin_line "$ORIGIN" "$cow2" S 8)" \
		"Origin device already has an active s-snap-origin"
}

@test "s-snap-origin: COW already used by another s-snap-origin" {
	local origin2
	origin2=$(ssnap_loopdev 64)
	ssnap_dm_create origin "$(origin_line "$ORIGIN" "$COW" S 8)"
	ssnap_dm_expect_error bad "$(origin_line "$origin2" "$COW" S 8)" \
		"Device already in use by another s-snap-origin"
}

@test "s-snap-origin: another s-snap-origin's COW as origin" {
	local cow2
	cow2=$(ssnap_loopdev 32)
	ssnap_dm_create origin "$(origin_line "$ORIGIN" "$COW" S 8)"
	ssnap_dm_expect_error bad "0 $(blockdev --getsz "$COW") s-snap-origin $COW $cow2 S 8" \
		"Device already in use by another s-snap-origin"
}

@test "s-snap-origin: a reload cannot change the chunk size" {
	ssnap_dm_create origin "$(origin_line "$ORIGIN" "$COW" S 8)"
	expect_reload_error origin "$(origin_line "$ORIGIN" "$COW" S 16)" \
		"Cannot change the COW device or chunk size of an active s-snap-origin"
}

@test "s-snap-origin: a reload cannot change the COW device" {
	local cow2
	cow2=$(ssnap_loopdev 32)
	ssnap_dm_create origin "$(origin_line "$ORIGIN" "$COW" S 8)"
	expect_reload_error origin "$(origin_line "$ORIGIN" "$cow2" S 8)" \
		"Cannot change the COW device or chunk size of an active s-snap-origin"
}

# snap_create <id>: make snapshot <id> in the test's origin store.
snap_create() {
	dmsetup message "$(ssnap_dm_name origin)" 0 snapshot create "$1"
}

# ---------------------------------------------------------------------
# s-snap-origin: valid lines

@test "s-snap-origin: valid line loads; status says no snapshot" {
	ssnap_dm_create origin "$(origin_line "$ORIGIN" "$COW" S 8)"
	run dmsetup status "$(ssnap_dm_name origin)"
	assert_success
	assert_output --regexp "^0 $SZ s-snap-origin : no snapshot ok [0-9]+/[0-9]+ [0-9]+ 0\$"
}

@test "s-snap-origin: table prints origin, COW, S and chunk size" {
	ssnap_dm_create origin "$(origin_line "$ORIGIN" "$COW" s 2048 0)"
	run dmsetup table "$(ssnap_dm_name origin)"
	assert_success
	assert_output "0 $SZ s-snap-origin $(majmin "$ORIGIN") $(majmin "$COW") S 2048"
}

@test "s-snap-origin: the printed table loads again" {
	local name table
	name=$(ssnap_dm_name origin)
	ssnap_dm_create origin "$(origin_line "$ORIGIN" "$COW" S 64)"
	table=$(dmsetup table "$name")
	run dmsetup reload "$name" --table "$table"
	assert_success
	run dmsetup resume "$name"
	assert_success
	run dmsetup table "$name"
	assert_output "$table"
	run dmsetup status "$name"
	assert_output --regexp "^0 $SZ s-snap-origin : no snapshot ok [0-9]+/[0-9]+ [0-9]+ 0\$"
}

@test "s-snap-origin: unknown message is refused" {
	ssnap_dm_create origin "$(origin_line "$ORIGIN" "$COW" S 8)"
	run dmsetup message "$(ssnap_dm_name origin)" 0 no_such_message
	assert_failure
	run ssnap_dmesg
	assert_output --partial "unknown or malformed message"
}

# ---------------------------------------------------------------------
# s-snap

@test "s-snap: every malformed line is refused with its own message" {
	refused "origin device cannot be opened" \
		"0 $SZ s-snap /dev/ssnap-no-such-device 1" \
		"Cannot open origin device"
	refused "origin without an active s-snap-origin" \
		"0 $SZ s-snap $ORIGIN 1" \
		"No active s-snap-origin for this origin device"
	ssnap_dm_create origin "$(origin_line "$ORIGIN" "$COW" S 8)"
	refused "wrong argument count" \
		"0 $SZ s-snap $ORIGIN" \
		"Invalid argument count: need <origin_dev> <snapshot_id>"
	refused "too many arguments" \
		"0 $SZ s-snap $ORIGIN 1 2" \
		"Invalid argument count: need <origin_dev> <snapshot_id>"
	refused "snapshot id not a number" \
		"0 $SZ s-snap $ORIGIN one" \
		"Invalid snapshot id"
	refused "snapshot id beyond 32 bits" \
		"0 $SZ s-snap $ORIGIN 4294967296" \
		"Invalid snapshot id"
	refused "negative snapshot id" \
		"0 $SZ s-snap $ORIGIN -1" \
		"Invalid snapshot id"
}

@test "s-snap: not after its s-snap-origin is removed" {
	ssnap_dm_create origin "$(origin_line "$ORIGIN" "$COW" S 8)"
	dmsetup remove "$(ssnap_dm_name origin)"
	ssnap_dm_expect_error bad "0 $SZ s-snap $ORIGIN 1" \
		"No active s-snap-origin for this origin device"
}

@test "s-snap: cannot replace its own s-snap-origin" {
	ssnap_dm_create origin "$(origin_line "$ORIGIN" "$COW" S 8)"
	expect_reload_error origin "0 $SZ s-snap $ORIGIN 1" \
		"An s-snap cannot replace the s-snap-origin it depends on"
}

@test "s-snap: loads over an active s-snap-origin; status and table" {
	ssnap_dm_create origin "$(origin_line "$ORIGIN" "$COW" S 8)"
	snap_create 4294967295
	ssnap_dm_create snap "0 $SZ s-snap $ORIGIN 4294967295"
	run dmsetup status "$(ssnap_dm_name snap)"
	assert_success
	assert_output --regexp "^0 $SZ s-snap Active [0-9]+ [0-9]+\$"
	run dmsetup table "$(ssnap_dm_name snap)"
	assert_output "0 $SZ s-snap $(majmin "$ORIGIN") 4294967295"
}

@test "s-snap: the printed table loads again" {
	local name table
	name=$(ssnap_dm_name snap)
	ssnap_dm_create origin "$(origin_line "$ORIGIN" "$COW" S 8)"
	snap_create 7
	ssnap_dm_create snap "0 $SZ s-snap $ORIGIN 7"
	table=$(dmsetup table "$name")
	run dmsetup reload "$name" --table "$table"
	assert_success
	run dmsetup resume "$name"
	assert_success
	run dmsetup table "$name"
	assert_output "$table"
}

@test "s-snap: two snapshots of one origin" {
	ssnap_dm_create origin "$(origin_line "$ORIGIN" "$COW" S 8)"
	snap_create 1
	ssnap_dm_create snap "0 $SZ s-snap $ORIGIN 1"
	snap_create 2
	ssnap_dm_create snap2 "0 $SZ s-snap $ORIGIN 2"
	run dmsetup status "$(ssnap_dm_name snap2)"
	assert_output --regexp "^0 $SZ s-snap Active [0-9]+ [0-9]+\$"
}

@test "s-snap: its s-snap-origin cannot be removed while it exists" {
	local origin snap
	origin=$(ssnap_dm_name origin)
	snap=$(ssnap_dm_name snap)
	ssnap_dm_create origin "$(origin_line "$ORIGIN" "$COW" S 8)"
	snap_create 1
	ssnap_dm_create snap "0 $SZ s-snap $ORIGIN 1"
	run dmsetup remove "$origin"
	assert_failure
	run dmsetup status "$origin"
	assert_output --regexp "^0 $SZ s-snap-origin 1 1 ok "
	dmsetup remove "$snap"
	run dmsetup remove "$origin"
	assert_success
}

@test "s-snap-origin: reloading it keeps its s-snaps working" {
	local origin
	origin=$(ssnap_dm_name origin)
	ssnap_dm_create origin "$(origin_line "$ORIGIN" "$COW" S 8)"
	snap_create 1
	ssnap_dm_create snap "0 $SZ s-snap $ORIGIN 1"
	run dmsetup reload "$origin" --table "$(dmsetup table "$origin")"
	assert_success
	run dmsetup resume "$origin"
	assert_success
	snap_create 2
	ssnap_dm_create snap2 "0 $SZ s-snap $ORIGIN 2"
}

# ---------------------------------------------------------------------
# I/O

@test "I/O: both targets read what was written to the origin" {
	local data=$BATS_TEST_TMPDIR/data
	head -c 4M /dev/urandom > "$data"
	dd if="$data" of="$ORIGIN" bs=1M oflag=direct conv=fsync status=none
	ssnap_dm_create origin "$(origin_line "$ORIGIN" "$COW" S 8)"
	snap_create 1
	ssnap_dm_create snap "0 $SZ s-snap $ORIGIN 1"

	dd if="$(dm_path origin)" of="$BATS_TEST_TMPDIR/via-origin" \
		bs=1M count=4 iflag=direct status=none
	run cmp "$data" "$BATS_TEST_TMPDIR/via-origin"
	assert_success

	dd if="$(dm_path snap)" of="$BATS_TEST_TMPDIR/via-snap" \
		bs=1M count=4 iflag=direct status=none
	run cmp "$data" "$BATS_TEST_TMPDIR/via-snap"
	assert_success
}

@test "I/O: a write through s-snap-origin reaches the origin device" {
	local data=$BATS_TEST_TMPDIR/data
	head -c 3M /dev/urandom > "$data"
	ssnap_dm_create origin "$(origin_line "$ORIGIN" "$COW" S 8)"
	# Not chunk-aligned on purpose: bios are split at chunk boundaries.
	dd if="$data" of="$(dm_path origin)" bs=1M seek=$((4097 * 512)) \
		oflag=direct,seek_bytes conv=fsync status=none
	dd if="$ORIGIN" of="$BATS_TEST_TMPDIR/back" bs=1M \
		skip=$((4097 * 512)) count=3 iflag=direct,skip_bytes status=none
	run cmp "$data" "$BATS_TEST_TMPDIR/back"
	assert_success
}
