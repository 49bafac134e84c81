#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# ssnap(8): every command's normal path and its failure paths, on loop
# devices inside the test VM, without udev (DM_DISABLE_UDEV=1: the nodes
# are /dev/mapper/ssnap-*; udev.bats covers the /dev/ssnap links).
# Each test's origin is named after its prefix ($ORIGIN_NAME).

bats_require_minimum_version 1.5.0

load ../lib/ssnap
load tool-lib

setup() {
	tool_setup
}

teardown() {
	tool_teardown
}

# An origin with a store, active.
make_origin() {
	tool_pair "$@"
	run ssnap -q create-origin "$ORIGIN_NAME" "$ORIG" "$COW"
	assert_success
	[ -b "/dev/mapper/ssnap-$ORIGIN_NAME" ] || fail "no /dev/mapper/ssnap-$ORIGIN_NAME"
}

# "<id> <name>" of each snapshot, from list --json.
snapshots_of() {
	ssnap list --json "$1" | jq -r '.origins[0].snapshots[] | "\(.id) \(.name)"'
}

# ---------------------------------------------------------------------
# Command line

@test "ssnap --version prints the version of the VERSION file" {
	run ssnap --version
	assert_success
	assert_output "ssnap $(cat "$BATS_TEST_DIRNAME/../../VERSION")"
	run ssnap -V
	assert_output "ssnap $(cat "$BATS_TEST_DIRNAME/../../VERSION")"
}

@test "help: every command has its usage; usage errors exit 2" {
	local c main
	run ssnap --help
	assert_success
	assert_line --partial "Usage:"
	main=$output
	for c in $(ssnap --list-commands); do
		grep -qE "^ $c +[a-z]" <<< "$main" || fail "ssnap --help lacks $c"
		run ssnap "$c" --help
		assert_success
		assert_line --regexp "^ ssnap $c \[options\] "
		assert_line --partial -- "-h, --help"
		assert_line "See ssnap(8)."
	done
	run --separate-stderr ssnap
	assert_failure 2
	[[ $stderr == *"no command given"* ]]
	run --separate-stderr ssnap frobnicate
	assert_failure 2
	[[ $stderr == *"unknown command 'frobnicate'"* ]]
	run --separate-stderr ssnap list --frobnicate
	assert_failure 2
	[[ $stderr == *"unrecognized option '--frobnicate'"* ]]
	[[ $stderr == *"Try 'ssnap list --help'"* ]]
	run --separate-stderr ssnap snapshot onlyone
	assert_failure 2
	run --separate-stderr ssnap create-origin a b c d
	assert_failure 2
	[[ $stderr == *"unexpected argument 'd'"* ]]
}

@test "a write error on standard output is an error" {
	[ -w /dev/full ] || skip "no /dev/full"
	run --separate-stderr sh -c '"$0" --help > /dev/full' "$SSNAP"
	assert_failure 1
	[[ $stderr == *"write error"* ]]
}

# ---------------------------------------------------------------------
# create-origin

@test "create-origin formats the store and activates the origin" {
	local uuid table orig_mm cow_mm
	tool_pair 48 32
	run --separate-stderr ssnap create-origin "$ORIGIN_NAME" "$ORIG" "$COW"
	assert_success
	[[ $output == "Created origin $ORIGIN_NAME on $ORIG, store on $COW (chunk size 64.0KiB"* ]]
	uuid=$(store_uuid "ssnap-$ORIGIN_NAME")
	[[ $uuid =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]]
	assert_equal "$(dm_uuid "ssnap-$ORIGIN_NAME")" "SSNAP-$uuid"
	orig_mm=$(lsblk -dno MAJ:MIN "$ORIG" | tr -d ' ')
	cow_mm=$(lsblk -dno MAJ:MIN "$COW" | tr -d ' ')
	table=$(dmsetup table "ssnap-$ORIGIN_NAME")
	assert_equal "$table" "0 $((48 * 2048)) s-snap-origin $orig_mm $cow_mm S 128"
	# The superblock records the name, the origin's identity and size.
	run ssnap dump --json "$COW"
	assert_success
	assert_equal "$(jq -r .superblock.name <<< "$output")" "$ORIGIN_NAME"
	assert_equal "$(jq -r .superblock.uuid <<< "$output")" "$uuid"
	assert_equal "$(jq -r .superblock.origin_ident <<< "$output")" \
		"loop=$(losetup -nO BACK-FILE "$ORIG" | sed 's/ *$//')"
	assert_equal "$(jq -r .superblock.origin_sectors <<< "$output")" $((48 * 2048))
	assert_equal "$(jq -r .superblock.chunk_size <<< "$output")" 65536
	assert_equal "$(jq -r .in_use <<< "$output")" true
	# The origin reads what the origin device holds.
	dd if=/dev/urandom of="$BATS_TEST_TMPDIR/data" bs=64K count=4 2>/dev/null
	dd if="$BATS_TEST_TMPDIR/data" of="/dev/mapper/ssnap-$ORIGIN_NAME" bs=64K oflag=direct 2>/dev/null
	cmp -n $((256 * 1024)) "$BATS_TEST_TMPDIR/data" "$ORIG"
}

@test "create-origin --chunk-size takes sizes with units, powers of two from 4KiB to 1MiB" {
	tool_pair 32 32
	run ssnap -q create-origin -c 16k --no-activate "$ORIGIN_NAME" "$ORIG" "$COW"
	assert_success
	assert_equal "$(ssnap dump --json "$COW" | jq .superblock.chunk_sectors)" 32
	run ssnap -q create-origin --chunk-size=1M --no-activate --force "$ORIGIN_NAME" "$ORIG" "$COW"
	assert_success
	assert_equal "$(ssnap dump --json "$COW" | jq .superblock.chunk_sectors)" 2048
	for bad in 3k 2M 2k 12k; do
		run --separate-stderr ssnap create-origin -c "$bad" --force "$ORIGIN_NAME" "$ORIG" "$COW"
		assert_failure
		[[ $stderr == *"must be a power of two from 4KiB to 1MiB"* ]] || fail "$bad: $stderr"
	done
	run --separate-stderr ssnap create-origin -c lots "$ORIGIN_NAME" "$ORIG" "$COW"
	assert_failure 2
	[[ $stderr == *"invalid chunk size 'lots'"* ]]
	[ ! -e "/dev/mapper/ssnap-$ORIGIN_NAME" ]
}

@test "create-origin refuses a COW device with an ext4 signature unless --force, then wipes it" {
	tool_pair
	mkfs.ext4 -q -F "$COW"
	run --separate-stderr ssnap create-origin "$ORIGIN_NAME" "$ORIG" "$COW"
	assert_failure 1
	[[ $stderr == "ssnap: $COW: COW device holds ext4 file system signature at offset 0x438; use --force to overwrite it" ]] \
		|| fail "stderr: $stderr"
	[ ! -e "/dev/mapper/ssnap-$ORIGIN_NAME" ]
	# Still an ext4 file system.
	assert_equal "$(blkid -p -s TYPE -o value "$COW")" ext4
	run ssnap -q create-origin --force -y "$ORIGIN_NAME" "$ORIG" "$COW"
	assert_success
	[ -b "/dev/mapper/ssnap-$ORIGIN_NAME" ]
	run blkid -p -s TYPE -o value "$COW"
	refute_output ext4
}

@test "create-origin refuses a COW device with a partition table or another store" {
	tool_pair
	printf 'label: gpt\n,\n' | sfdisk -q "$COW" > /dev/null 2>&1 || skip "sfdisk cannot write a table"
	run --separate-stderr ssnap create-origin "$ORIGIN_NAME" "$ORIG" "$COW"
	assert_failure 1
	[[ $stderr == *"gpt partition table signature"* ]] || fail "stderr: $stderr"
	run ssnap -q create-origin --no-activate --force "$ORIGIN_NAME" "$ORIG" "$COW"
	assert_success
	run --separate-stderr ssnap create-origin "${ORIGIN_NAME}b" "$ORIG" "$COW"
	assert_failure 1
	[[ $stderr == *"COW device holds ssnap store '$ORIGIN_NAME'"* ]] || fail "stderr: $stderr"
	# Swapped arguments: the origin holds a store.
	run --separate-stderr ssnap create-origin "${ORIGIN_NAME}b" "$COW" "$ORIG"
	assert_failure 1
	[[ $stderr == *"origin device holds an ssnap store ($ORIGIN_NAME): are the origin and COW devices swapped?"* ]] \
		|| fail "stderr: $stderr"
}

@test "create-origin checks names: taken, too long, with '/', empty" {
	local long cow1
	make_origin
	cow1=$COW
	tool_pair
	run --separate-stderr ssnap create-origin "$ORIGIN_NAME" "$ORIG" "$COW"
	assert_failure 1
	[[ $stderr == "ssnap: $ORIGIN_NAME: the name is taken: device-mapper device ssnap-$ORIGIN_NAME exists" ]] \
		|| fail "stderr: $stderr"
	long=$(printf 'x%.0s' $(seq 64))
	run --separate-stderr ssnap create-origin "$long" "$ORIG" "$COW"
	assert_failure 1
	[[ $stderr == "ssnap: origin name '$long' is too long (at most 63 bytes)" ]]
	run --separate-stderr ssnap create-origin "a/b" "$ORIG" "$COW"
	assert_failure 1
	[[ $stderr == "ssnap: origin name 'a/b' must not contain '/'" ]]
	run --separate-stderr ssnap create-origin "" "$ORIG" "$COW"
	assert_failure 1
	[[ $stderr == "ssnap: origin name is empty" ]]
	run --separate-stderr ssnap create-origin "a b" "$ORIG" "$COW"
	assert_failure 1
	run --separate-stderr ssnap create-origin -- "-x" "$ORIG" "$COW"
	assert_failure 1
	[[ $stderr == "ssnap: origin name '-x' must not begin with '-'" ]]
	# A store of that name that is not active holds the name too.
	ssnap -q deactivate "$ORIGIN_NAME"
	run --separate-stderr ssnap create-origin "$ORIGIN_NAME" "$ORIG" "$COW"
	assert_failure 1
	[[ $stderr == "ssnap: $ORIGIN_NAME: the name is taken by the store on $cow1 (activate it, or remove-origin --wipe it)" ]] \
		|| fail "stderr: $stderr"
	[ ! -e "/dev/mapper/ssnap-$ORIGIN_NAME" ]
}

@test "create-origin checks the devices: missing, not block devices, the same, in use, too small" {
	tool_pair 32 32
	run --separate-stderr ssnap create-origin "$ORIGIN_NAME" /dev/nonexistent "$COW"
	assert_failure 1
	[[ $stderr == "ssnap: /dev/nonexistent: origin device: No such file or directory" ]]
	run --separate-stderr ssnap create-origin "$ORIGIN_NAME" "$ORIG" /etc/hostname
	assert_failure 1
	[[ $stderr == "ssnap: /etc/hostname: COW device: not a block device" ]]
	run --separate-stderr ssnap create-origin "$ORIGIN_NAME" "$ORIG" "$ORIG"
	assert_failure 1
	[[ $stderr == *"the origin and the COW device are the same device"* ]]
	local small
	small=$(ssnap_loopdev 1)
	run --separate-stderr ssnap create-origin "$ORIGIN_NAME" "$ORIG" "$small"
	assert_failure 1
	[[ $stderr == *"$small: COW device too small: a store with 64.0KiB chunks needs at least"* ]] \
		|| fail "stderr: $stderr"
	mkfs.ext4 -q -F "$ORIG"
	mkdir "$BATS_TEST_TMPDIR/mnt"
	mount "$ORIG" "$BATS_TEST_TMPDIR/mnt"
	run --separate-stderr ssnap create-origin "$ORIGIN_NAME" "$ORIG" "$COW"
	assert_failure 1
	[[ $stderr == "ssnap: $ORIG: origin device is in use (mounted, or held by device-mapper, RAID or another ssnap origin)" ]] \
		|| fail "stderr: $stderr"
	umount "$BATS_TEST_TMPDIR/mnt"
	[ ! -e "/dev/mapper/ssnap-$ORIGIN_NAME" ]
}

# ---------------------------------------------------------------------
# snapshot, delete, rename, set-priority

@test "snapshot creates and activates snapshots with the lowest free id" {
	local uuid
	make_origin
	uuid=$(store_uuid "ssnap-$ORIGIN_NAME")
	run ssnap snapshot "$ORIGIN_NAME" monday
	assert_success
	assert_output "Created snapshot monday of $ORIGIN_NAME (id 0): /dev/mapper/ssnap-$ORIGIN_NAME-monday"
	assert_equal "$(dm_uuid "ssnap-$ORIGIN_NAME-monday")" "SSNAP-$uuid-0"
	assert_equal "$(dmsetup table "ssnap-$ORIGIN_NAME-monday")" \
		"0 $((32 * 2048)) s-snap $(lsblk -dno MAJ:MIN "$ORIG" | tr -d ' ') 0"
	run ssnap -q snapshot "$ORIGIN_NAME" tuesday --priority 5
	assert_success
	run ssnap -q snapshot --id 7 "$ORIGIN_NAME" sunday
	assert_success
	run ssnap -q snapshot --no-activate "$ORIGIN_NAME" later
	assert_success
	[ ! -e "/dev/mapper/ssnap-$ORIGIN_NAME-later" ]
	run snapshots_of "$ORIGIN_NAME"
	assert_output "0 monday
1 tuesday
2 later
7 sunday"
	assert_equal "$(dm_uuid "ssnap-$ORIGIN_NAME-sunday")" "SSNAP-$uuid-7"
	run ssnap list --json "$ORIGIN_NAME"
	assert_equal "$(jq '.origins[0].snapshots[] | select(.name == "tuesday") | .priority' <<< "$output")" 5
	# The kernel's own view.
	run dmsetup status "ssnap-$ORIGIN_NAME"
	assert_output --regexp "s-snap-origin 4 0 1 2 7 ok [0-9]+/[0-9]+ [0-9]+ 0$"
}

@test "snapshot refuses: no such origin, a name taken, an id taken, bad or reserved names" {
	make_origin
	run --separate-stderr ssnap snapshot "${ORIGIN_NAME}nope" s
	assert_failure 1
	[[ $stderr == "ssnap: ${ORIGIN_NAME}nope: no active origin of that name" ]]
	ssnap -q snapshot "$ORIGIN_NAME" s1
	run --separate-stderr ssnap snapshot "$ORIGIN_NAME" s1
	assert_failure 1
	[[ $stderr == "ssnap: $ORIGIN_NAME/s1: a snapshot of that name exists (id 0)" ]]
	run --separate-stderr ssnap snapshot --id 0 "$ORIGIN_NAME" s2
	assert_failure 1
	[[ $stderr == "ssnap: $ORIGIN_NAME: snapshot id 0 is taken" ]]
	run --separate-stderr ssnap snapshot "$ORIGIN_NAME" a/b
	assert_failure 1
	[[ $stderr == *"snapshot name 'a/b' must not contain '/'"* ]]
	run --separate-stderr ssnap snapshot "$ORIGIN_NAME" 42
	assert_failure 1
	[[ $stderr == *"snapshot name '42' is all digits"* ]]
	run --separate-stderr ssnap snapshot "$ORIGIN_NAME" origin
	assert_failure 1
	[[ $stderr == "ssnap: snapshot name 'origin' is reserved: /dev/ssnap/<name>/origin is the origin" ]]
	run --separate-stderr ssnap snapshot "$ORIGIN_NAME" "$(printf 'y%.0s' $(seq 64))"
	assert_failure 1
	[[ $stderr == *"is too long (at most 63 bytes)"* ]]
	run --separate-stderr ssnap snapshot "$ORIGIN_NAME" s3 --id x
	assert_failure 2
	run snapshots_of "$ORIGIN_NAME"
	assert_line "0 s1"
}

@test "a snapshot keeps the data of its time while the origin changes" {
	make_origin 32 32
	local o=/dev/mapper/ssnap-$ORIGIN_NAME
	dd if=/dev/urandom of="$BATS_TEST_TMPDIR/old" bs=1M count=2 2>/dev/null
	dd if=/dev/urandom of="$BATS_TEST_TMPDIR/new" bs=1M count=2 2>/dev/null
	dd if="$BATS_TEST_TMPDIR/old" of="$o" bs=1M oflag=direct 2>/dev/null
	ssnap -q snapshot "$ORIGIN_NAME" before
	dd if="$BATS_TEST_TMPDIR/new" of="$o" bs=1M oflag=direct 2>/dev/null
	cmp -n $((2 << 20)) "$BATS_TEST_TMPDIR/new" "$o"
	cmp -n $((2 << 20)) "$BATS_TEST_TMPDIR/old" "/dev/mapper/ssnap-$ORIGIN_NAME-before"
	run ssnap list --json "$ORIGIN_NAME"
	assert_success
	# 2 MiB copied: 32 chunks of 64 KiB, all the snapshot's own.
	assert_equal "$(jq '.origins[0].used_chunks' <<< "$output")" 32
	assert_equal "$(jq '.origins[0].snapshots[0].exclusive' <<< "$output")" $((2 << 20))
}

@test "from a blank pair to a mounted snapshot and back (the man page's example)" {
	make_origin 64 32
	local o=/dev/mapper/ssnap-$ORIGIN_NAME m=$BATS_TEST_TMPDIR
	mkfs.ext4 -q "$o"
	mkdir "$m/srv" "$m/mnt"
	mount "$o" "$m/srv"
	echo monday > "$m/srv/day"
	sync
	ssnap -q snapshot "$ORIGIN_NAME" monday
	echo tuesday > "$m/srv/day"
	sync
	mount -o ro,noload "/dev/mapper/ssnap-$ORIGIN_NAME-monday" "$m/mnt"
	assert_equal "$(cat "$m/mnt/day")" monday
	assert_equal "$(cat "$m/srv/day")" tuesday
	# A mounted snapshot is not deleted.
	run --separate-stderr ssnap delete -y "$ORIGIN_NAME" monday
	assert_failure 1
	[[ $stderr == "ssnap: ssnap-$ORIGIN_NAME-monday: snapshot device is in use (mounted or open)" ]]
	umount "$m/mnt"
	run ssnap delete -y "$ORIGIN_NAME" monday
	assert_success
	assert_output "Deleted $ORIGIN_NAME/monday (id 0)."
	umount "$m/srv"
	run ssnap remove-origin --wipe -y "$ORIGIN_NAME"
	assert_success
	# The origin device has the data written through the origin.
	assert_equal "$(debugfs -R 'cat /day' "$ORIG" 2>/dev/null)" tuesday
}

@test "delete removes the device and the snapshot; by name, by id; failures" {
	make_origin
	ssnap -q snapshot "$ORIGIN_NAME" a
	ssnap -q snapshot "$ORIGIN_NAME" b
	ssnap -q snapshot --no-activate "$ORIGIN_NAME" c
	dmsetup message "ssnap-$ORIGIN_NAME" 0 snapshot create 9
	run ssnap delete "$ORIGIN_NAME" a
	assert_success
	[ ! -e "/dev/mapper/ssnap-$ORIGIN_NAME-a" ]
	run ssnap delete --id 2 "$ORIGIN_NAME"
	assert_success
	assert_output "Deleted $ORIGIN_NAME/c (id 2)."
	# An unnamed snapshot, by its id as a name.
	run ssnap delete "$ORIGIN_NAME" 9
	assert_success
	assert_output "Deleted $ORIGIN_NAME snapshot 9 (id 9)."
	run snapshots_of "$ORIGIN_NAME"
	assert_output "1 b"
	run --separate-stderr ssnap delete "$ORIGIN_NAME" a
	assert_failure 1
	[[ $stderr == "ssnap: $ORIGIN_NAME: no snapshot 'a'" ]]
	run --separate-stderr ssnap delete --id 5 "$ORIGIN_NAME"
	assert_failure 1
	[[ $stderr == "ssnap: $ORIGIN_NAME: no snapshot with id 5" ]]
	run --separate-stderr ssnap delete "${ORIGIN_NAME}nope" b
	assert_failure 1
	[[ $stderr == "ssnap: ${ORIGIN_NAME}nope: no active origin of that name" ]]
	run --separate-stderr ssnap delete "$ORIGIN_NAME"
	assert_failure 2
}

@test "rename renames the snapshot and its device; set-priority sets the priority" {
	make_origin
	ssnap -q snapshot "$ORIGIN_NAME" old
	ssnap -q snapshot "$ORIGIN_NAME" other
	run ssnap rename "$ORIGIN_NAME" old new
	assert_success
	[ -b "/dev/mapper/ssnap-$ORIGIN_NAME-new" ]
	[ ! -e "/dev/mapper/ssnap-$ORIGIN_NAME-old" ]
	run snapshots_of "$ORIGIN_NAME"
	assert_output "0 new
1 other"
	run --separate-stderr ssnap rename "$ORIGIN_NAME" new other
	assert_failure 1
	[[ $stderr == "ssnap: $ORIGIN_NAME/other: a snapshot of that name exists" ]]
	run --separate-stderr ssnap rename "$ORIGIN_NAME" gone x
	assert_failure 1
	run ssnap set-priority "$ORIGIN_NAME" new 42
	assert_success
	assert_equal "$(ssnap list --json "$ORIGIN_NAME" | jq '.origins[0].snapshots[0].priority')" 42
	run --separate-stderr ssnap set-priority "$ORIGIN_NAME" new high
	assert_failure 2
}

# ---------------------------------------------------------------------
# list

@test "list --json describes origins and snapshots (parsed with jq)" {
	local uuid now json expect
	make_origin 32 32
	uuid=$(store_uuid "ssnap-$ORIGIN_NAME")
	now=$(date +%s)
	ssnap -q snapshot "$ORIGIN_NAME" s0
	ssnap -q snapshot --no-activate -p 3 "$ORIGIN_NAME" s1
	run --separate-stderr ssnap list --json "$ORIGIN_NAME"
	assert_success
	json=$output
	jq -e . <<< "$json" > /dev/null
	expect=$(jq -n --arg n "$ORIGIN_NAME" --arg u "$uuid" \
		--arg o "$ORIG" --arg c "$COW" '{
		name: $n, uuid: $u, active: true,
		device: ("/dev/mapper/ssnap-" + $n), dm_name: ("ssnap-" + $n),
		origin_device: $o, cow_device: $c, state: "ok",
		chunk_size: 65536, deleting: 0,
		snapshots: [
			{ id: 0, name: "s0", priority: 0, state: "ok", active: true,
			  device: ("/dev/mapper/ssnap-" + $n + "-s0") },
			{ id: 1, name: "s1", priority: 3, state: "ok", active: false,
			  device: null } ] }')
	run jq -S --argjson e "$expect" '.origins[0] | with_entries(select(.key as $k | $e | has($k)))
		| .snapshots |= map(with_entries(select(.key | IN("id", "name", "priority", "state", "active", "device"))))' <<< "$json"
	assert_output "$(jq -S . <<< "$expect")"
	# Times, space and counters.
	jq -e --argjson now "$now" '.origins[0].snapshots | all(.ctime >= $now - 5 and .ctime <= $now + 600)' <<< "$json"
	jq -e '.origins[0] | .total_chunks == .used_chunks + .free_chunks and .store_size == .total_chunks * 65536 and .used_chunks == 0' <<< "$json"
	jq -e '.origins[0].snapshots | all(.exclusive == 0 and .shared == 0)' <<< "$json"
	# Without a name: every active origin.
	run ssnap list --json
	jq -e --arg n "$ORIGIN_NAME" '[.origins[] | select(.name == $n)] | length == 1' <<< "$output"
	# Text.
	run ssnap list "$ORIGIN_NAME"
	assert_success
	assert_line "Origin: $ORIGIN_NAME"
	assert_line "Store UUID: $uuid"
	assert_line --regexp '^  ID +Name +Created +Prio +State +Active +Exclusive +Shared$'
	assert_line --regexp '^  1 +s1 +[-0-9]+ [:0-9]+ +3 +ok +no +0B +0B$'
	run --separate-stderr ssnap list "${ORIGIN_NAME}nope"
	assert_failure 1
	[[ $stderr == "ssnap: ${ORIGIN_NAME}nope: no active origin of that name" ]]
}

# ---------------------------------------------------------------------
# activate, deactivate, remove-origin

@test "deactivate and activate bring the origin and its snapshots down and up" {
	make_origin
	ssnap -q snapshot "$ORIGIN_NAME" a
	ssnap -q snapshot "$ORIGIN_NAME" b
	dd if=/dev/urandom of="/dev/mapper/ssnap-$ORIGIN_NAME" bs=64K count=3 oflag=direct 2>/dev/null
	run ssnap deactivate "$ORIGIN_NAME"
	assert_success
	assert_output "Deactivated origin $ORIGIN_NAME."
	[ ! -e "/dev/mapper/ssnap-$ORIGIN_NAME" ]
	[ ! -e "/dev/mapper/ssnap-$ORIGIN_NAME-a" ]
	run --separate-stderr ssnap deactivate "$ORIGIN_NAME"
	assert_failure 1
	[[ $stderr == "ssnap: $ORIGIN_NAME: no active origin of that name" ]]
	# The store lists as inactive, read from the device.
	run ssnap list --all --json "$ORIGIN_NAME"
	assert_success
	jq -e '.origins[0] | .active == false and (.snapshots | length) == 2' <<< "$output"
	run ssnap activate "$ORIGIN_NAME"
	assert_success
	[ -b "/dev/mapper/ssnap-$ORIGIN_NAME" ]
	[ -b "/dev/mapper/ssnap-$ORIGIN_NAME-a" ]
	[ -b "/dev/mapper/ssnap-$ORIGIN_NAME-b" ]
	run snapshots_of "$ORIGIN_NAME"
	assert_output "0 a
1 b"
	# Activating an active origin brings up what is missing, and says so.
	dmsetup remove "ssnap-$ORIGIN_NAME-b"
	run ssnap activate "$ORIGIN_NAME"
	assert_success
	assert_output "Activated snapshot b of $ORIGIN_NAME (id 1): /dev/mapper/ssnap-$ORIGIN_NAME-b"
	[ -b "/dev/mapper/ssnap-$ORIGIN_NAME-b" ]
	run ssnap deactivate "$ORIGIN_NAME"
	run ssnap activate --no-snapshots --device "$COW"
	assert_success
	[ -b "/dev/mapper/ssnap-$ORIGIN_NAME" ]
	[ ! -e "/dev/mapper/ssnap-$ORIGIN_NAME-a" ]
	# A busy origin is not deactivated.
	exec 9< "/dev/mapper/ssnap-$ORIGIN_NAME"
	run --separate-stderr ssnap deactivate "$ORIGIN_NAME"
	exec 9<&-
	assert_failure 1
	[[ $stderr == "ssnap: ssnap-$ORIGIN_NAME: origin device is in use (mounted or open)" ]]
	run ssnap activate "$ORIGIN_NAME"
	assert_success
	run --separate-stderr ssnap activate "${ORIGIN_NAME}nope"
	assert_failure 1
	[[ $stderr == "ssnap: ${ORIGIN_NAME}nope: no store of that name on any block device" ]]
	run --separate-stderr ssnap activate
	assert_failure 2
}

@test "activate --all and deactivate --all" {
	make_origin
	ssnap -q snapshot "$ORIGIN_NAME" a
	run ssnap deactivate --all
	assert_success
	[ ! -e "/dev/mapper/ssnap-$ORIGIN_NAME" ]
	run ssnap activate --all
	assert_success
	[ -b "/dev/mapper/ssnap-$ORIGIN_NAME" ]
	[ -b "/dev/mapper/ssnap-$ORIGIN_NAME-a" ]
	run --separate-stderr ssnap activate --all "$ORIGIN_NAME"
	assert_failure 2
}

@test "activate finds the origin by its identity, and says when it is gone" {
	local back
	make_origin
	ssnap -q snapshot "$ORIGIN_NAME" a
	back=$(losetup -nO BACK-FILE "$ORIG" | sed 's/ *$//')
	ssnap -q deactivate "$ORIGIN_NAME"
	losetup -d "$ORIG"
	run --separate-stderr ssnap activate "$ORIGIN_NAME"
	assert_failure 1
	[[ $stderr == "ssnap: $COW: origin device of $ORIGIN_NAME not found (loop=$back, 65536 sectors)" ]] \
		|| fail "stderr: $stderr"
	[ ! -e "/dev/mapper/ssnap-$ORIGIN_NAME" ]
	# Back on another loop device: found by its backing file.
	ORIG=$(losetup --find --show "$back")
	run ssnap activate "$ORIGIN_NAME"
	assert_success
	assert_equal "$(dmsetup table "ssnap-$ORIGIN_NAME" | cut -d' ' -f4)" \
		"$(lsblk -dno MAJ:MIN "$ORIG" | tr -d ' ')"
	[ -b "/dev/mapper/ssnap-$ORIGIN_NAME-a" ]
}

@test "extend gives a grown COW device's space to the store; refuses no origin" {
	local before after
	make_origin 32 16
	before=$(ssnap list --json "$ORIGIN_NAME" | jq .origins[0].total_chunks)
	run ssnap extend "$ORIGIN_NAME"
	assert_success
	assert_output --regexp "^The store of $ORIGIN_NAME already uses all of [^ ]+ \(.*\)\.\$"
	ssnap_loop_grow "$COW" 48
	run ssnap extend "$ORIGIN_NAME"
	assert_success
	assert_output --regexp "^Extended the store of $ORIGIN_NAME on [^ ]+ from .* to .*\.\$"
	after=$(ssnap list --json "$ORIGIN_NAME" | jq .origins[0].total_chunks)
	# 32 MiB more, in 64 KiB chunks (a few blocks go to metadata).
	[ "$after" -ge $((before + 500)) ] || fail "$before chunks, then $after"
	run --separate-stderr ssnap extend "${ORIGIN_NAME}nope"
	assert_failure 1
	[[ $stderr == "ssnap: ${ORIGIN_NAME}nope: no active origin of that name" ]]
}

@test "remove-origin tears the devices down and keeps the store; --wipe erases it" {
	make_origin
	ssnap -q snapshot "$ORIGIN_NAME" a
	run ssnap remove-origin "$ORIGIN_NAME"
	assert_success
	assert_output "Removed origin $ORIGIN_NAME; its store on $COW is kept."
	[ ! -e "/dev/mapper/ssnap-$ORIGIN_NAME" ]
	[ ! -e "/dev/mapper/ssnap-$ORIGIN_NAME-a" ]
	run ssnap dump --json "$COW"
	assert_success
	assert_equal "$(jq -r '.snapshots[0].name' <<< "$output")" a
	run --separate-stderr ssnap remove-origin "$ORIGIN_NAME"
	assert_failure 1
	[[ $stderr == "ssnap: $ORIGIN_NAME: no active origin of that name" ]]
	run ssnap remove-origin --wipe -y "$ORIGIN_NAME"
	assert_success
	assert_output "Removed origin $ORIGIN_NAME and erased its store on $COW."
	run --separate-stderr ssnap dump "$COW"
	assert_failure 1
	[[ $stderr == "ssnap: $COW: not an ssnap store" ]]
	run --separate-stderr ssnap activate "$ORIGIN_NAME"
	assert_failure 1
}

# ---------------------------------------------------------------------
# check, dump

@test "check: 0 on a clean store, 1 naming a damaged block, 8 when it cannot check" {
	local jstart jblocks
	tool_pair
	ssnap -q create-origin --no-activate "$ORIGIN_NAME" "$ORIG" "$COW"
	run ssnap check "$COW"
	assert_success
	assert_output "$COW: clean"
	run ssnap check --json "$COW"
	assert_success
	jq -e '.status == "clean" and .problems == [] and .exit_code == 0' <<< "$output"
	# A flipped byte in the bitmap block of group 0 (after the journal).
	jstart=$(ssnap dump --json "$COW" | jq .superblock.journal_start)
	jblocks=$(ssnap dump --json "$COW" | jq .superblock.journal_blocks)
	flip_byte "$COW" $(((jstart + jblocks) * 4096 + 1000))
	run ssnap check "$COW"
	assert_failure 1
	assert_line "$COW: bitmap of group 0 (block $((jstart + jblocks))) is damaged"
	assert_line "$COW: 1 problem found"
	run ssnap check -J "$COW"
	assert_failure 1
	jq -e --arg b "block $((jstart + jblocks))" '.status == "problems" and .exit_code == 1 and (.problems[0] | contains($b))' <<< "$output"
	# The root block: the store does not open; the core names the block.
	flip_byte "$COW" $((2 * 4096 + 100))
	run ssnap check "$COW"
	assert_failure 1
	assert_output --partial "metadata block 2 (root)"
	# Not a store.
	run --separate-stderr ssnap check "$ORIG"
	assert_failure 8
	[[ $stderr == "ssnap: $ORIG: cannot check: not an ssnap store" ]]
	run ssnap check --json "$ORIG"
	assert_failure 8
	jq -e '.status == "error" and .error == "not an ssnap store" and .exit_code == 8' <<< "$output"
	run --separate-stderr ssnap check /dev/nonexistent
	assert_failure 8
}

@test "check refuses an active store (8) and passes one the kernel used" {
	make_origin
	ssnap -q snapshot "$ORIGIN_NAME" a
	dd if=/dev/urandom of="/dev/mapper/ssnap-$ORIGIN_NAME" bs=64K count=8 oflag=direct 2>/dev/null
	run --separate-stderr ssnap check "$COW"
	assert_failure 8
	[[ $stderr == "ssnap: $COW: cannot check: device is in use (an active origin?); deactivate it first" ]]
	ssnap -q deactivate "$ORIGIN_NAME"
	run ssnap check "$COW"
	assert_success
	assert_output "$COW: clean"
}

@test "dump prints the superblock, the use and the snapshots" {
	make_origin
	ssnap -q snapshot "$ORIGIN_NAME" a
	ssnap -q snapshot -p 9 "$ORIGIN_NAME" b
	ssnap -q deactivate "$ORIGIN_NAME"
	run ssnap dump --json "$COW"
	assert_success
	jq -e --arg n "$ORIGIN_NAME" '.superblock.name == $n and .superblock.version == 1 and .superblock.block_size == 4096 and .superblock.clean == true and .in_use == false' <<< "$output"
	jq -e '[.snapshots[] | [.id, .name, .priority, .label]] == [[0, "a", 0, 1], [1, "b", 9, 2]]' <<< "$output"
	jq -e '.usage.snapshots == 2 and .usage.last_label == 2 and .usage.deleting == 0' <<< "$output"
	run ssnap dump "$COW"
	assert_success
	assert_line "  Name: $ORIGIN_NAME"
	assert_line "  Snapshots: 2"
	assert_line --regexp '^  1 +b +2 '
	run --separate-stderr ssnap dump "$ORIG"
	assert_failure 1
	[[ $stderr == "ssnap: $ORIG: not an ssnap store" ]]
}

# ---------------------------------------------------------------------
# What the udev rules run, without udev

@test "udev-name gives the names from the DM UUIDs; udev-probe finds stores" {
	local uuid
	make_origin
	ssnap -q snapshot "$ORIGIN_NAME" my-snap
	uuid=$(store_uuid "ssnap-$ORIGIN_NAME")
	run ssnap udev-name "ssnap-$ORIGIN_NAME" "SSNAP-$uuid"
	assert_success
	assert_output "SSNAP_STORE_UUID=$uuid
SSNAP_ORIGIN_NAME=$ORIGIN_NAME"
	run ssnap udev-name "ssnap-$ORIGIN_NAME-my-snap" "SSNAP-$uuid-0"
	assert_output "SSNAP_STORE_UUID=$uuid
SSNAP_SNAP_ID=0
SSNAP_ORIGIN_NAME=$ORIGIN_NAME
SSNAP_SNAP_NAME=my-snap"
	run ssnap udev-name "ssnap-x" "LVM-abc"
	assert_success
	assert_output ""
	run ssnap udev-name "ssnap-x" "SSNAP-$uuid-real"
	assert_output "SSNAP_STORE_UUID=$uuid
SSNAP_LAYER=1"
	run ssnap udev-probe "$COW"
	assert_success
	assert_output "SSNAP_STORE_UUID=$uuid
SSNAP_STORE_NAME=$ORIGIN_NAME"
	run ssnap udev-probe "$ORIG"
	assert_success
	assert_output ""
}
