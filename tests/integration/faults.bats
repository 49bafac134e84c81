#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Faults under the store, as dm-ssnap(7) "FAULTS" describes them: the
# origin and the COW device are dm-linear devices whose tables are
# swapped for dm-error pieces (or dm-delay) under the running targets.
# For each fault: what the origin, each snapshot, the status line and
# the kernel log do, and how ssnap check (--repair) brings the store
# back once the fault is gone.  Runs inside the test VM.

load ../lib/ssnap

SSNAP=$BATS_TEST_DIRNAME/../../tools/ssnap

setup() {
	ssnap_setup
	OLOOP=$(ssnap_loopdev 16)
	CLOOP=$(ssnap_loopdev 32)
	OS=$(blockdev --getsz "$OLOOP")
	CS=$(blockdev --getsz "$CLOOP")
	ORIG=$(lin orig "0 $OS linear $OLOOP 0")
	COW=$(lin cow "0 $CS linear $CLOOP 0")
	WORK=$(ssnap_dm_name work)
	DATA=$BATS_TEST_TMPDIR
	head -c $((OS * 512)) /dev/urandom > "$DATA/A"
	head -c $((OS * 512)) /dev/urandom > "$DATA/B"
	dd if="$DATA/A" of="$OLOOP" bs=1M oflag=direct status=none
	[ -x "$SSNAP" ] || make -s -C "$BATS_TEST_DIRNAME/../../tools"
}

teardown() {
	ssnap_teardown
}

# lin <short> <table>: a device-mapper device; its path.
lin() {
	ssnap_dm_create "$1" "$2" > /dev/null || return 1
	[ -b "/dev/mapper/$(ssnap_dm_name "$1")" ] || dmsetup mknodes "$(ssnap_dm_name "$1")"
	echo "/dev/mapper/$(ssnap_dm_name "$1")"
}

# swap <short> <table>: replace a device's table under whoever uses it.
swap() {
	local name
	name=$(ssnap_dm_name "$1")
	dmsetup suspend "$name"
	dmsetup reload "$name" --table "$2"
	dmsetup resume "$name"
}

load_origin() {
	ssnap_dm_create work "0 $OS s-snap-origin $ORIG $COW S 8" > /dev/null
}

snap_dev() {
	ssnap_dm_create "snap$1" "0 $OS s-snap $ORIG $1" > /dev/null
	echo "/dev/mapper/$(ssnap_dm_name "snap$1")"
}

# write_b <first 4 KiB chunk> <chunks> [dev]: pattern B there.
write_b() {
	dd if="$DATA/B" of="${3:-/dev/mapper/$WORK}" bs=4096 skip="$1" \
		seek="$1" count="$2" oflag=direct conv=notrunc status=none
}

# same <dev> <A|B> <first 4 KiB chunk> <chunks>
same() {
	cmp <(dd if="$1" bs=4096 skip="$3" count="$4" iflag=direct status=none) \
	    <(dd if="$DATA/$2" bs=4096 skip="$3" count="$4" status=none) \
		|| fail "$1: chunks $3+$4 are not pattern $2"
}

state() {
	dmsetup status "$WORK" | awk '{ print $(NF-3) }'
}

unreadable() {
	run dd if="$1" of=/dev/null bs=4096 count=1 skip="${2:-0}" \
		iflag=direct status=none
	assert_failure
}

@test "a copy that cannot be made costs the snapshots that needed it, and only them" {
	load_origin
	dmsetup message "$WORK" 0 snapshot create 1
	write_b 100 1				# copied for 1
	dmsetup message "$WORK" 0 snapshot create 2
	S1=$(snap_dev 1)
	S2=$(snap_dev 2)

	# Chunk 100 of the origin fails: its copy for 2 cannot be read.
	swap orig "0 800 linear $OLOOP 0
800 8 error
808 $((OS - 808)) linear $OLOOP 808"
	run write_b 100 1
	assert_failure				# as on the device itself
	assert_equal "$(state)" ok
	run dmsetup status "$(ssnap_dm_name snap2)"
	assert_output "0 $OS s-snap Invalid"
	unreadable "$S2" 0
	run dmsetup status "$(ssnap_dm_name snap1)"
	assert_output --regexp "^0 $OS s-snap Active 1 [0-9]+\$"
	same "$S1" A 0 200
	run ssnap_dmesg
	assert_output --partial "copying chunk 100 failed (error -5): snapshot 2 lost it and is invalid"
	run dmsetup message "$WORK" 0 snapshot list
	assert_line --regexp '^2 2 [0-9]+ 0 8 -$'
	assert_line --regexp '^1 1 [0-9]+ 0 0 -$'

	# The fault gone: the origin takes the write; 2 stays invalid,
	# across a teardown too; new snapshots are sound.
	swap orig "0 $OS linear $OLOOP 0"
	write_b 100 1
	same "/dev/mapper/$WORK" B 100 1
	dmsetup remove "$(ssnap_dm_name snap2)"
	dmsetup remove "$(ssnap_dm_name snap1)"
	dmsetup remove "$WORK"
	run "$SSNAP" check "$COW"
	assert_success
	load_origin
	S2=$(snap_dev 2)
	run dmsetup status "$(ssnap_dm_name snap2)"
	assert_output "0 $OS s-snap Invalid"
	dmsetup message "$WORK" 0 snapshot create 3
	S3=$(snap_dev 3)
	write_b 0 8
	same "$S3" B 100 1
	same "$S3" A 0 8
	assert_equal "$(state)" ok
}

@test "a snapshot write whose copy fails fails alone" {
	load_origin
	dmsetup message "$WORK" 0 snapshot create 1
	dmsetup message "$WORK" 0 snapshot create 2
	S1=$(snap_dev 1)
	swap orig "0 800 linear $OLOOP 0
800 8 error
808 $((OS - 808)) linear $OLOOP 808"
	# A partial write to 1's chunk 100 needs the origin's chunk.
	run dd if=/dev/zero of="$S1" bs=512 seek=801 count=1 oflag=direct \
		status=none
	assert_failure
	assert_equal "$(state)" ok
	run dmsetup status "$(ssnap_dm_name snap1)"
	assert_output --regexp "^0 $OS s-snap Active 1 [0-9]+\$"
	same "$S1" A 0 100
	swap orig "0 $OS linear $OLOOP 0"
	same "$S1" A 0 200
}

@test "a commit that fails: Fail, the origin goes on; check --repair brings the store back" {
	load_origin
	dmsetup message "$WORK" 0 snapshot create 1
	S1=$(snap_dev 1)
	write_b 0 16
	# The superblocks stay writable (the failure is recorded there);
	# the journal and everything after it fail.
	swap cow "0 16 linear $CLOOP 0
16 $((CS - 16)) error"
	write_b 64 16
	same "/dev/mapper/$WORK" B 64 16
	assert_equal "$(state)" Fail
	unreadable "$S1" 0
	run dmsetup status "$(ssnap_dm_name snap1)"
	assert_output "0 $OS s-snap Fail"
	run dmsetup message "$WORK" 0 snapshot create 2
	assert_failure
	run ssnap_dmesg
	[ "$(grep -c 'snapshots fail from now on' <<< "$output")" -eq 1 ] ||
		fail "expected one failure message: $output"

	dmsetup remove "$(ssnap_dm_name snap1)"
	dmsetup remove "$WORK"
	swap cow "0 $CS linear $CLOOP 0"
	run "$SSNAP" check "$COW"
	assert_failure 1
	assert_output --partial "the store is marked failed: its snapshots may lack data"
	run "$SSNAP" check --repair "$COW"
	assert_failure 1
	assert_line "$COW: fixed: snapshot 1 marked invalid (the store failed)"
	assert_line "$COW: fixed: the store's failed mark cleared"
	assert_line "$COW: repaired, clean"
	run "$SSNAP" check --repair "$COW"
	assert_success
	assert_output "$COW: clean"

	load_origin
	assert_equal "$(state)" ok
	S1=$(snap_dev 1)
	run dmsetup status "$(ssnap_dm_name snap1)"
	assert_output "0 $OS s-snap Invalid"
	unreadable "$S1" 0
	dmsetup message "$WORK" 0 snapshot create 2
	S2=$(snap_dev 2)
	write_b 0 32
	same "$S2" B 0 16
	same "$S2" B 64 16
	same "$S2" A 16 48
	dmsetup remove "$(ssnap_dm_name snap1)"
	dmsetup message "$WORK" 0 snapshot delete 1
}

@test "an error during a background delete: Fail; after the fault, repair and the delete goes on" {
	local i
	load_origin
	dmsetup message "$WORK" 0 snapshot create 1
	write_b 0 1024				# 1024 copies to reclaim
	# Suspended, the origin reclaims nothing: the delete commits, the
	# fault comes, and the pass runs into it when the origin resumes.
	dmsetup suspend "$WORK"
	dmsetup message "$WORK" 0 snapshot delete 1
	swap cow "0 16 linear $CLOOP 0
16 $((CS - 16)) error"
	dmsetup resume "$WORK"
	for i in $(seq 100); do
		[ "$(state)" != Fail ] || break
		sleep 0.1
	done
	assert_equal "$(state)" Fail
	run ssnap_dmesg
	assert_output --regexp "reclaiming space failed|snapshots fail from now on"
	write_b 2048 8
	same "/dev/mapper/$WORK" B 2048 8

	dmsetup remove "$WORK"
	swap cow "0 $CS linear $CLOOP 0"
	run "$SSNAP" check --repair "$COW"
	[ "$status" -le 1 ] || fail "check --repair: $status: $output"
	run "$SSNAP" check "$COW"
	assert_success
	load_origin
	for i in $(seq 150); do
		dmsetup status "$WORK" | grep -q ' 0$' && break
		sleep 0.2
	done
	run dmsetup status "$WORK"
	assert_output --regexp "^0 $OS s-snap-origin : no snapshot ok 0/[0-9]+ [0-9]+ 0\$"
}

@test "damaged metadata: Fail and needs_check; check names the block, repair cannot mend a tree" {
	local leaf
	load_origin
	dmsetup message "$WORK" 0 snapshot create 1
	write_b 0 64
	dmsetup remove "$WORK"
	# The exception tree's leaf (one: 64 exceptions): the block whose
	# header says leaf, exception tree, and its own number (the
	# journal holds copies of it elsewhere).
	leaf=$(python3 - "$COW" <<-'EOF'
		import struct, sys
		f = open(sys.argv[1], 'rb')
		n = 0
		while True:
		    b = f.read(4096)
		    if len(b) < 4096:
		        break
		    t, nr = struct.unpack_from('<IQ', b, 4)
		    tree, = struct.unpack_from('<H', b, 28)
		    if t == 0x4641454c and tree == 1 and nr == n:
		        print(n)
		        break
		    n += 1
		EOF
	)
	[ -n "$leaf" ] || fail "no exception leaf found"
	# One byte of the leaf, past its header.
	printf '\377' | dd of="$COW" bs=1 seek=$((leaf * 4096 + 200)) conv=notrunc \
		status=none
	load_origin
	S1=$(snap_dev 1)
	unreadable "$S1" 0
	assert_equal "$(state)" Fail
	run ssnap_dmesg
	assert_output --partial "block $leaf"
	dmsetup remove "$(ssnap_dm_name snap1)"
	dmsetup remove "$WORK"
	run "$SSNAP" check "$COW"
	assert_failure 1
	assert_output --partial "$leaf"
	run "$SSNAP" check --repair "$COW"
	assert_failure 4
}

@test "slow devices: data is right, only slower" {
	load_origin
	dmsetup message "$WORK" 0 snapshot create 1
	S1=$(snap_dev 1)
	# 20 ms on every read and write of the COW device.
	swap cow "0 $CS delay $CLOOP 0 20"
	write_b 0 32
	dmsetup message "$WORK" 0 snapshot create 2
	S2=$(snap_dev 2)
	write_b 16 32
	same "$S1" A 0 64
	same "$S2" B 0 16
	same "$S2" A 32 16
	same "/dev/mapper/$WORK" B 0 48
	assert_equal "$(state)" ok
}
