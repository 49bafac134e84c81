#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# A full store.  By default the origin keeps working and whole snapshots
# are dropped, lowest priority first, then oldest, each logged and sent
# as a uevent; with the error_if_full feature, origin writes that need a
# copy fail with ENOSPC instead.  No device ever returns wrong data.

load ../lib/ssnap

CHUNK=128		# sectors: 64 KiB
CHUNK_BYTES=65536

setup() {
	ssnap_setup
	ORIGIN=$(ssnap_loopdev 16)
	COW=$(ssnap_loopdev 8)
	SIZE=$(blockdev --getsz "$ORIGIN")
	WORK=$(ssnap_dm_name work)
	DATA=$BATS_TEST_TMPDIR
	# A: the origin's first contents; B: what later writes bring.
	head -c $((SIZE * 512)) /dev/urandom > "$DATA/A"
	head -c $((SIZE * 512)) /dev/urandom > "$DATA/B"
	dd if="$DATA/A" of="$ORIGIN" bs=1M oflag=direct status=none
}

teardown() {
	[ -z "${MONITOR:-}" ] || kill "$MONITOR" 2> /dev/null || :
	ssnap_teardown
}

load_origin() {
	ssnap_dm_create work \
		"0 $SIZE s-snap-origin $ORIGIN $COW S $CHUNK${1:+ $1}"
}

# The store's size in chunks, from the status's <used>/<total>.
total_chunks() {
	dmsetup status "$WORK" | awk '{print $(NF-2)}' | cut -d/ -f2
}

# write_b <first chunk> <chunks>: pattern B into the origin there.
write_b() {
	dd if="$DATA/B" of="/dev/mapper/$WORK" bs=$CHUNK_BYTES skip="$1" \
		seek="$1" count="$2" oflag=direct conv=notrunc status=none
}

# same <dev> <A|B> <first chunk> <chunks>: the device holds that part
# of the pattern there.
same() {
	cmp <(dd if="$1" bs=$CHUNK_BYTES skip="$3" count="$4" iflag=direct \
		status=none) \
	    <(dd if="$DATA/$2" bs=$CHUNK_BYTES skip="$3" count="$4" \
		status=none) \
		|| fail "$1: chunks $3+$4 are not pattern $2"
}

snap_dev() {
	ssnap_dm_create "snap$1" "0 $SIZE s-snap $ORIGIN $1" > /dev/null
	echo "/dev/mapper/$(ssnap_dm_name "snap$1")"
}

@test "a full store drops snapshots, lowest priority then oldest; the origin goes on" {
	load_origin
	T=$(total_chunks)
	N=$((T * 2 / 5))	# one region: 40% of the store
	R1=0 R2=$N R3=$((2 * N)) R4=$((3 * N))
	[ $((4 * N)) -le $((SIZE / CHUNK)) ]

	SYSTEMD_IGNORE_CHROOT=1 udevadm monitor --kernel --property \
		--subsystem-match=block \
		> "$DATA/uevents" 2>&1 &
	MONITOR=$!
	sleep 0.5

	# Snapshot 3, the oldest (ids need not follow age), owns R1's copies
	# alone; 2 shares R2's with 3; 1, priority 5, shares R3's with both.
	dmsetup message "$WORK" 0 snapshot create 3
	S3=$(snap_dev 3)
	write_b $R1 $N
	sleep 1.1	# creation times have a one-second resolution
	dmsetup message "$WORK" 0 snapshot create 2
	write_b $R2 $N
	dmsetup message "$WORK" 0 snapshot create 1
	dmsetup message "$WORK" 0 snapshot priority 1 5
	# 120% of the store: snapshot 3 must go, and its copies make room.
	write_b $R3 $N
	run dmsetup status "$WORK"
	assert_output --regexp "^0 $SIZE s-snap-origin 2 1 2 ok "
	run ssnap_dmesg
	assert_output --partial "store full: dropped snapshot 3 (priority 0)"
	refute_output --partial "dropped snapshot 2"

	# The dropped snapshot's device fails; it never reads wrong data.
	run dmsetup status "$(ssnap_dm_name snap3)"
	assert_output "0 $SIZE s-snap Dropped"
	run dd if="$S3" of=/dev/null bs=4096 count=1 iflag=direct status=none
	assert_failure

	# Then 2 (priority 0) goes before 1 (priority 5).
	write_b $R4 $N
	run dmsetup status "$WORK"
	assert_output --regexp "^0 $SIZE s-snap-origin 1 1 ok "
	run ssnap_dmesg
	assert_output --partial "store full: dropped snapshot 2 (priority 0)"

	# The origin has every write; snapshot 1 what it had.
	same "/dev/mapper/$WORK" B $R1 $((4 * N))
	same "/dev/mapper/$WORK" A $((4 * N)) $((SIZE / CHUNK - 4 * N))
	S1=$(snap_dev 1)
	same "$S1" B $R1 $((2 * N))
	same "$S1" A $R3 $((SIZE / CHUNK - 2 * N))

	# Each drop was a change uevent of the origin naming the snapshot.
	sleep 0.5
	grep -A12 '^KERNEL\[' "$DATA/uevents" | grep -q 'SSNAP_EVENT=drop' \
		|| fail "no drop uevent: $(cat "$DATA/uevents")"
	for id in 3 2; do
		awk -v id="$id" '/^KERNEL\[/ { ev = "" }
			/^SSNAP_EVENT=drop/ { ev = 1 }
			ev && $0 == "SSNAP_SNAPSHOT_ID=" id { found = 1 }
			END { exit !found }' "$DATA/uevents" \
			|| fail "no drop uevent for snapshot $id"
	done
}

@test "error_if_full: origin writes that need a copy fail with ENOSPC, nothing is dropped" {
	load_origin "1 error_if_full"
	run dmsetup table "$WORK"
	assert_output --regexp " S $CHUNK 1 error_if_full\$"
	T=$(total_chunks)
	dmsetup message "$WORK" 0 snapshot create 1

	# More than the store holds.
	run write_b 0 $((T + 16))
	assert_failure
	assert_output --partial "No space left on device"
	run ssnap_dmesg
	assert_output --partial "store full: origin write refused"
	run dmsetup status "$WORK"
	assert_output --regexp "^0 $SIZE s-snap-origin 1 1 ok "

	# The snapshot is whole; chunks already copied still take writes.
	S1=$(snap_dev 1)
	same "$S1" A 0 $((SIZE / CHUNK))
	write_b 0 4

	# Without snapshots nothing needs a copy: the write goes through.
	dmsetup remove "$(ssnap_dm_name snap1)"
	dmsetup message "$WORK" 0 snapshot delete 1
	write_b 0 $((T + 16))
	same "/dev/mapper/$WORK" B 0 $((T + 16))
}

@test "error_if_full survives a reload and can be turned off by one" {
	load_origin "1 error_if_full"
	dmsetup reload "$WORK" --table \
		"0 $SIZE s-snap-origin $ORIGIN $COW S $CHUNK"
	dmsetup resume "$WORK"
	run dmsetup table "$WORK"
	refute_output --partial "error_if_full"
	T=$(total_chunks)
	dmsetup message "$WORK" 0 snapshot create 1
	write_b 0 $((T + 16))
	run dmsetup status "$WORK"
	assert_output --regexp "^0 $SIZE s-snap-origin : no snapshot ok "
	run ssnap_dmesg
	assert_output --partial "store full: dropped snapshot 1"
}

@test "a full store takes the space of its grown COW device at the next resume" {
	local t2
	load_origin "1 error_if_full"
	T=$(total_chunks)
	dmsetup message "$WORK" 0 snapshot create 1
	run write_b 0 $((T + 16))
	assert_failure
	assert_output --partial "No space left on device"

	# The COW device doubles; the store sees it when the origin resumes.
	ssnap_loop_grow "$COW" 16
	[ "$(total_chunks)" = "$T" ]
	dmsetup suspend "$WORK"
	dmsetup resume "$WORK"
	t2=$(total_chunks)
	# (8 MiB more: 128 chunks, a few less the metadata takes.)
	[ "$t2" -ge $((T + 120)) ] || fail "the store has $t2 chunks, was $T"
	run ssnap_dmesg
	assert_output --regexp "the store grew from [0-9]+ to 4096 blocks"

	write_b 0 $((T + 16))
	S1=$(snap_dev 1)
	same "$S1" A 0 $((SIZE / CHUNK))
	same "/dev/mapper/$WORK" B 0 $((T + 16))
	# It stays grown over a teardown; resuming again changes nothing.
	dmsetup remove "$(ssnap_dm_name snap1)"
	dmsetup remove "$WORK"
	load_origin
	[ "$(total_chunks)" = "$t2" ]
	S1=$(snap_dev 1)
	same "$S1" A 0 $((SIZE / CHUNK))
}
