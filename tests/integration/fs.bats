#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Filesystems on the origin: ext4 and xfs, made and checked with the
# Debian tools, under a write load while snapshots are taken.  Each
# snapshot is activated with the origin's filesystem still mounted
# (which once failed: "Cannot open the s-snap-origin device"), and must
# hold a filesystem that its checker finds clean:
#
#   frozen    taken between fsfreeze -f and fsfreeze -u: e2fsck -fn or
#             xfs_repair -n straight away, before any mount, finds
#             nothing (xfs: but its covered log, see fsck_frozen), and
#             mounted, its files are those the origin had while frozen;
#   crash     taken without freezing, like a power cut: mounting it
#             replays the journal; every file fsynced before the
#             snapshot is there with its data, and once unmounted the
#             filesystem is clean.
#
# Then the snapshots are deleted and the origin's filesystem is still
# clean.  Runs inside the test VM (tests/vm/run).

load ../lib/ssnap

setup() {
	local t
	ssnap_setup
	for t in mkfs.ext4 e2fsck mkfs.xfs xfs_repair fsfreeze md5sum; do
		command -v "$t" > /dev/null \
			|| fail "$t is not installed (scripts/install-deps)"
	done
	WORK=$(ssnap_dm_name origin)
	ODEV=/dev/mapper/$WORK
	MNT=$BATS_TEST_TMPDIR/origin
	LOAD_PID=$BATS_TEST_TMPDIR/load.pid
	LOAD_STOP=$BATS_TEST_TMPDIR/load.stop
	LOAD_ERR=$BATS_TEST_TMPDIR/load.err
	LOAD_STEP=$BATS_TEST_TMPDIR/load.step
	MARKS=$BATS_TEST_TMPDIR/marks.md5
	mkdir -p "$MNT"
}

teardown() {
	local m
	# A failed test may leave the origin frozen: thaw it first, or the
	# load cannot stop and nothing unmounts.
	while read -r m; do
		fsfreeze -u "$m" 2> /dev/null || :
	done < <(test_mounts)
	stop_load
	while read -r m; do
		umount "$m" 2> /dev/null || umount -l "$m" 2> /dev/null || :
	done < <(test_mounts)
	ssnap_teardown
}

# Mount points under the test's directory, deepest first.
test_mounts() {
	T=$BATS_TEST_TMPDIR/ awk 'index($2 "/", ENVIRON["T"]) == 1 { print $2 }' \
		/proc/self/mounts | sort -r
}

# ---------------------------------------------------------------------
# The origin and its filesystem


# mkfs_origin <ext4|xfs>: make the filesystem and mount it on $MNT.
mkfs_origin() {
	FS=$1
	case $FS in
	ext4) mkfs.ext4 -q -F "$ODEV" ;;
	xfs) mkfs.xfs -q -f "$ODEV" ;;
	esac
	mount -t "$FS" "$ODEV" "$MNT"
}

# mount_snap <dev> <dir> [ro]: an xfs snapshot has the origin's UUID,
# which xfs refuses twice without nouuid.
mount_snap() {
	local opts=${3:-rw}
	[ "$FS" != xfs ] || opts+=,nouuid
	mkdir -p "$2"
	mount -t "$FS" -o "$opts" "$1" "$2"
}

# fsck_clean <dev>: the read-only check finds nothing, and the journal
# (log) needs no replaying.
fsck_clean() {
	case $FS in
	ext4)
		run e2fsck -fn "$1"
		assert_success
		refute_output --partial "journal recovery"
		;;
	xfs)
		run xfs_repair -n "$1"
		assert_success
		refute_output --partial "ALERT"
		;;
	esac
}

# fsck_frozen <dev>: the check of a snapshot taken frozen, before any
# mount.  An ext4 filesystem frozen has its journal flushed and
# needs_recovery cleared: clean as it is.  An xfs one has its log
# covered, not clean: xfs_repair -n says the log is ignored, and finds
# the superblock's free counters (lazy-count) stale; a copy of the
# frozen origin device itself says exactly that too.  Nothing else may
# be found.
fsck_frozen() {
	local ok extra
	case $FS in
	ext4)
		fsck_clean "$1"
		;;
	xfs)
		run xfs_repair -n "$1"
		[ "$status" -le 1 ] || fail "xfs_repair -n $1: status $status
$output"
		# Its progress report, the log's alert, stale counters.
		ok='^(Phase [1-7] - |        - |No modify flag set, skipping '
		ok+='|ALERT: The filesystem has valuable metadata changes in a log which is being$'
		ok+='|ignored because the -n option was used\.  Expect spurious inconsistencies$'
		ok+='|which may be resolved by first mounting the filesystem to replay the log\.$'
		ok+='|sb_(fdblocks|ifree|icount) [0-9]+, counted [0-9]+$)'
		extra=$(grep -vE "$ok" <<< "$output") || :
		[ -z "$extra" ] || fail "xfs_repair -n $1 found more than stale counters:
$extra

$output"
		;;
	esac
}

# ---------------------------------------------------------------------
# The write load

# fs_load <dir>: until $LOAD_STOP exists, create files, overwrite them
# (in place with fsync, or replaced without), rename and delete them,
# and append to a large file with fsync.  The data comes from a file of
# random bytes (cheaper than /dev/urandom on an emulated CPU); a pause
# of 20 ms a step leaves the CPUs to the rest of the test.  The number
# of steps done goes to $LOAD_STEP, failures to stderr.
fs_load() {
	local d=$1 rnd=$BATS_TEST_TMPDIR/random i=0 n pace
	set +e
	mkdir -p "$d/a" "$d/b" || return 1
	mkfifo "$BATS_TEST_TMPDIR/pace" && exec {pace}<> "$BATS_TEST_TMPDIR/pace" || return 1
	while [ ! -e "$LOAD_STOP" ]; do
		n=$((RANDOM % 48))
		case $((i % 8)) in
		0 | 1 | 2)
			dd if="$rnd" of="$d/a/f$n" bs=4k skip=$((RANDOM % 480)) \
				count=$((RANDOM % 24 + 1)) status=none ;;
		3 | 4)
			dd if="$rnd" of="$d/a/f$n" bs=4k skip=$((RANDOM % 480)) \
				count=$((RANDOM % 8 + 1)) seek=$((RANDOM % 16)) \
				conv=notrunc,fsync status=none ;;
		5)
			[ ! -e "$d/a/f$n" ] || mv -f "$d/a/f$n" "$d/b/f$n.$i" ;;
		6)
			rm -f "$d/b/f$n".* "$d/a/f$((RANDOM % 48))" ;;
		7)
			if [ "$(stat -c %s "$d/big" 2> /dev/null || echo 0)" -gt $((4 << 20)) ]; then
				: > "$d/big"
			fi
			dd if="$rnd" of="$d/big" bs=64k skip=$((RANDOM % 28)) count=4 \
				oflag=append conv=notrunc,fsync status=none ;;
		esac || echo "load: step $i failed" >&2
		i=$((i + 1))
		echo "$i" > "$LOAD_STEP"
		read -r -t 0.02 -u "$pace"
	done
}

start_load() {
	rm -f "$LOAD_STOP"
	echo 0 > "$LOAD_STEP"
	: > "$LOAD_ERR"
	head -c 2M /dev/urandom > "$BATS_TEST_TMPDIR/random"
	# (Not on bats's fd 3: bats would wait for it.)
	fs_load "$MNT/load" > /dev/null 2> "$LOAD_ERR" 3>&- &
	echo $! > "$LOAD_PID"
}

stop_load() {
	local pid i
	[ -f "$LOAD_PID" ] || return 0
	pid=$(cat "$LOAD_PID")
	rm -f "$LOAD_PID"
	touch "$LOAD_STOP"
	for i in $(seq 300); do
		kill -0 "$pid" 2> /dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2> /dev/null || :
	wait "$pid" 2> /dev/null || :
}

# wait_load <n>: until the load has done <n> steps.
wait_load() {
	local i
	for i in $(seq 1200); do
		[ "$(load_steps)" -lt "$1" ] || return 0
		kill -0 "$(cat "$LOAD_PID")" 2> /dev/null || break
		sleep 0.1
	done
	fail "the load did $(load_steps) steps, not $1: $(cat "$LOAD_ERR")"
}

# The load's step count (the file is rewritten as it goes: read again
# if caught empty).
load_steps() {
	local s='' i
	for i in 1 2 3 4 5; do
		s=$(cat "$LOAD_STEP")
		[ -z "$s" ] || break
		sleep 0.05
	done
	echo "${s:-0}"
}

# ---------------------------------------------------------------------
# Snapshots

# write_mark <id>: a file written and fsynced, with its directory, just
# before snapshot <id>; marks.<id> lists every mark that snapshot must
# hold, with its checksum.
write_mark() {
	local id=$1
	mkdir -p "$MNT/marks"
	head -c $(((RANDOM % 200 + 8) * 1024)) /dev/urandom > "$MNT/marks/m$id"
	sync "$MNT/marks/m$id" "$MNT/marks"
	(cd "$MNT" && md5sum "marks/m$id") >> "$MARKS"
	cp "$MARKS" "$BATS_TEST_TMPDIR/marks.$id"
}

# manifest <dir>: every name with its type, and every file's checksum.
manifest() {
	(
		cd "$1" || exit 1
		find . -path ./lost+found -prune -o -printf '%y %p\n' | LC_ALL=C sort
		find . -path ./lost+found -prune -o -type f -print0 \
			| LC_ALL=C sort -z | xargs -0r md5sum
	)
}

# snapshot <frozen|crash> <id>
snapshot() {
	local mode=$1 id=$2
	write_mark "$id"
	if [ "$mode" = frozen ]; then
		fsfreeze -f "$MNT"
		# What the snapshot must show, read while nothing changes.
		manifest "$MNT" > "$BATS_TEST_TMPDIR/manifest.$id"
		dmsetup message "$WORK" 0 "snapshot create $id"
		fsfreeze -u "$MNT"
	else
		dmsetup message "$WORK" 0 "snapshot create $id"
	fi
	# The load went on between the snapshots.
	load_steps > "$BATS_TEST_TMPDIR/steps.$id"
}


# check_marks <dir> <id>: the fsynced marks snapshot <id> must hold.
check_marks() {
	run bash -c 'cd "$1" && md5sum -c --strict "$2"' _ "$1" "$BATS_TEST_TMPDIR/marks.$2"
	assert_success
}

# check_frozen <id>: clean as it is (see fsck_frozen); mounted, it
# shows what the origin showed while frozen, marks included.
check_frozen() {
	local id=$1 dir=$BATS_TEST_TMPDIR/snap$1 opts=ro
	ssnap_activate "$id"
	fsck_frozen "$SNAPDEV"
	# (xfs replays its covered log, ro or not: rw, then.)
	[ "$FS" != xfs ] || opts=rw
	mount_snap "$SNAPDEV" "$dir" "$opts"
	manifest "$dir" > "$BATS_TEST_TMPDIR/got.$id"
	run diff -u "$BATS_TEST_TMPDIR/manifest.$id" "$BATS_TEST_TMPDIR/got.$id"
	assert_success
	check_marks "$dir" "$id"
	umount "$dir"
	[ "$FS" != xfs ] || fsck_clean "$SNAPDEV"
}

# check_crash <id>: mounting replays the journal (into the snapshot: it
# is writable); then the fsynced marks are there, every file reads,
# and once unmounted the filesystem is clean.
check_crash() {
	local id=$1 dir=$BATS_TEST_TMPDIR/snap$1
	ssnap_activate "$id"
	mount_snap "$SNAPDEV" "$dir"
	check_marks "$dir" "$id"
	find "$dir/load" -type f -exec cat {} + > /dev/null
	umount "$dir"
	fsck_clean "$SNAPDEV"
}

# status_ids: the snapshot ids of the origin's status ("" for none).
status_ids() {
	local -a f
	read -ra f <<< "$(dmsetup status "$WORK")"
	if [ "${f[3]}" = : ]; then
		echo ""
	else
		echo "${f[*]:4:${f[3]}}"
	fi
}

# status_tail: "<state> <deleting>" of the origin's status.
status_tail() {
	dmsetup status "$WORK" | awk '{ print $(NF-3), $NF }'
}

# delete_snapshots <id>...: each s-snap device is removed and its
# snapshot deleted (which is refused while the device is active: tried
# on the first); the store ends with no snapshot, nothing left to
# reclaim, state ok.
delete_snapshots() {
	local id i
	run dmsetup message "$WORK" 0 "snapshot delete $1"
	assert_failure
	for id in "$@"; do
		dmsetup remove "$(ssnap_dm_name "snap$id")"
		dmsetup message "$WORK" 0 "snapshot delete $id"
	done
	assert_equal "$(status_ids)" ""
	for i in $(seq 200); do
		[ "$(status_tail)" != "ok 0" ] || break
		sleep 0.1
	done
	assert_equal "$(status_tail)" "ok 0"
}

# ---------------------------------------------------------------------
# The scenario

# under_load <ext4|xfs> <origin MiB> <chunk sectors>: snapshots 1 and 3
# taken without freezing, 2 frozen, with the load running: two rounds
# of all its kinds of steps before each snapshot and after the last.
under_load() {
	local id prev=0 ids=(1 2 3)
	local -A mode=([1]=crash [2]=frozen [3]=crash)
	ssnap_make_origin "$2" 256 "$3"
	mkfs_origin "$1"
	start_load
	for id in "${ids[@]}"; do
		wait_load $((prev + 16))
		snapshot "${mode[$id]}" "$id"
		prev=$(cat "$BATS_TEST_TMPDIR/steps.$id")
	done
	wait_load $((prev + 16))
	stop_load
	run cat "$LOAD_ERR"
	assert_output ""
	assert_equal "$(status_ids)" "${ids[*]}"

	# With the origin's filesystem mounted all along: activating an
	# s-snap then must work.
	for id in "${ids[@]}"; do
		"check_${mode[$id]}" "$id"
	done
	assert_equal "$(status_tail | cut -d' ' -f1)" ok

	delete_snapshots "${ids[@]}"
	run ssnap_dmesg
	refute_output --partial "Cannot open the s-snap-origin device"
	umount "$MNT"
	fsck_clean "$ODEV"
}

@test "ext4 under a write load: snapshots frozen and not are clean, keep fsynced data" {
	under_load ext4 128 16
}

@test "xfs under a write load: snapshots frozen and not are clean, keep fsynced data" {
	# (300 MiB: the smallest filesystem mkfs.xfs makes.)
	under_load xfs 300 32
}

@test "an s-snap activates while the origin's filesystem is mounted, and the reverse" {
	local sum dir=$BATS_TEST_TMPDIR/snap1
	ssnap_make_origin 64 64 16
	mkfs_origin ext4
	head -c 300k /dev/urandom > "$MNT/before"
	sync "$MNT/before" "$MNT"
	sum=$(md5sum < "$MNT/before")
	dmsetup message "$WORK" 0 "snapshot create 1"
	echo changed > "$MNT/before"
	sync -f "$MNT"

	# The origin's filesystem mounted, then the s-snap: this used to
	# fail with "Cannot open the s-snap-origin device" (the s-snap
	# claimed the s-snap-origin's mapped device, which the mount holds).
	ssnap_activate 1
	run ssnap_dmesg
	refute_output --partial "Cannot open the s-snap-origin device"
	mount_snap "$SNAPDEV" "$dir"
	assert_equal "$(md5sum < "$dir/before")" "$sum"
	echo "snapshot only" > "$dir/new"
	sync -f "$dir"
	[ ! -e "$MNT/new" ]
	assert_equal "$(cat "$MNT/before")" changed

	# The origin cannot go while its s-snap exists.
	umount "$MNT"
	run dmsetup remove "$WORK"
	assert_failure

	# The s-snap active (and mounted), then the origin's filesystem.
	mount -t ext4 "$ODEV" "$MNT"
	assert_equal "$(cat "$MNT/before")" changed
	[ ! -e "$MNT/new" ]
	assert_equal "$(cat "$dir/new")" "snapshot only"

	umount "$dir"
	delete_snapshots 1
	umount "$MNT"
	dmsetup remove "$WORK"
}
