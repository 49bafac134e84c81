#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Concurrency stress: fio writes and verifies (crc32c in every block,
# with its offset) on the origin and on two active snapshots at once,
# while other snapshots are created, read, and deleted under it.  Every
# device keeps its own data: what one is written never shows in
# another.  Runs inside the test VM (tests/vm/run).

load ../lib/ssnap

setup() {
	local t
	ssnap_setup
	for t in fio jq md5sum; do
		command -v "$t" > /dev/null \
			|| fail "$t is not installed (scripts/install-deps)"
	done
	WORK=$(ssnap_dm_name origin)
	ODEV=/dev/mapper/$WORK
	FIO_PIDS=$BATS_TEST_TMPDIR/fio.pids
	: > "$FIO_PIDS"
}

teardown() {
	local pid f
	# A failed test may leave fio running on the devices.
	for f in "$BATS_TEST_TMPDIR"/*.fiopid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		[ -z "$pid" ] || kill -KILL "$pid" 2> /dev/null || :
	done
	while read -r pid; do
		wait "$pid" 2> /dev/null || :
	done < "$FIO_PIDS"
	ssnap_teardown
}



# md5 <dev> <offset MiB> <MiB>
md5() {
	dd if="$1" bs=1M skip="$2" count="$3" iflag=direct status=none | md5sum
}

status_field() {
	# status_field <n from the end, 0 = last>
	dmsetup status "$WORK" | awk -v n="$1" '{ print $(NF - n) }'
}

# wait_reclaimed: the deleted snapshots' space is given back.
wait_reclaimed() {
	local i
	for i in $(seq 150); do
		[ "$(status_field 0)" != 0 ] || break
		sleep 0.2
	done
	assert_equal "$(status_field 0)" 0
}

# fio_job <name> <dev> <offset MiB> <MiB per job> <jobs> [fio options]:
# sets FIO to the arguments of a fio run of random writes, each job on
# its own range, every block read back and checked (crc32c of the
# block, its offset in the header); the first bad block ends the job.
# The name seeds the random streams: the same name writes the same.
# Add MIXED or TWICE:
MIXED=(--bsrange=4k-64k --verify_backlog=16)
#   blocks of 4 to 64 KiB, checked as it goes (16 blocks behind)
TWICE=(--bs=4k --loops=2)
#   4 KiB blocks, all written twice, checked after each pass: a block
#   with the first pass's data fails too (fio checks the write number
#   of each block when the size is fixed)
fio_job() {
	local name=$1 dev=$2 off=$3 mib=$4 jobs=$5
	shift 5
	FIO=(--name="$name" --filename="$dev" --offset="${off}M"
		--size="${mib}M" --offset_increment="${mib}M" --numjobs="$jobs"
		--rw=randwrite --direct=1 --ioengine=libaio --iodepth=4
		--verify=crc32c --do_verify=1 --verify_fatal=1
		--randseed="$(cksum <<< "$name" | cut -d' ' -f1)"
		--group_reporting "$@")
}

# fio_start <tag> <fio arguments...>: in the background, JSON report
# in <tag>.json, messages in <tag>.err, exit status in <tag>.rc, the
# process id in <tag>.fiopid.
fio_start() {
	local tag=$BATS_TEST_TMPDIR/$1
	shift
	# (cd: fio saves its verify state in the working directory; not
	# on bats's fd 3, which bats waits for.)
	(
		cd "$BATS_TEST_TMPDIR" || exit 1
		rc=0
		fio --output-format=json --output="$tag.json" "$@" \
			> /dev/null 2> "$tag.err" &
		echo $! > "$tag.fiopid"
		wait $! || rc=$?
		echo "$rc" > "$tag.rc"
	) 3>&- &
	echo $! >> "$FIO_PIDS"
}

fio_running() {
	local pid
	while read -r pid; do
		! kill -0 "$pid" 2> /dev/null || return 0
	done < "$FIO_PIDS"
	return 1
}

fio_wait() {
	local pid
	while read -r pid; do
		wait "$pid" || :
	done < "$FIO_PIDS"
	: > "$FIO_PIDS"
}

# fio_ok <tag> <bytes written> <bytes read>: fio exited 0 with no error
# and did that much I/O.  (A verify-only run counts the writes it
# replays, without making them.)
fio_ok() {
	local tag=$BATS_TEST_TMPDIR/$1 got
	run cat "$tag.rc"
	assert_output 0
	run cat "$tag.err"
	refute_output --regexp "verify|bad magic|bad header|crc32c|error"
	# (fio may print a note before the JSON.)
	got=$(sed -n '/^{/,$p' "$tag.json" \
		| jq -r '.jobs[] | "\(.error) \(.write.io_bytes) \(.read.io_bytes)"')
	assert_equal "$got" "0 $2 $3"
}

# two_snapshots: snapshots 1 and 2 of the origin, with devices S1 and S2.
two_snapshots() {
	dmsetup message "$WORK" 0 "snapshot create 1"
	dmsetup message "$WORK" 0 "snapshot create 2"
	ssnap_activate 1
	S1=$SNAPDEV
	ssnap_activate 2
	S2=$SNAPDEV
}

@test "fio --verify on the origin and two snapshots while snapshots come and go" {
	local id=100 k=0 pat0 pat1 pat2 creates=0 deletes=0 busy=0 reads=0 prev=''
	ssnap_make_origin 32 128 16
	# A known pattern under the three ranges the jobs write: the
	# origin [0, 8M), snapshot 1 [8M, 16M), snapshot 2 [16M, 24M).
	dd if=/dev/urandom of="$ORIGIN" bs=1M count=24 oflag=direct status=none
	pat0=$(md5 "$ODEV" 0 8)
	pat1=$(md5 "$ODEV" 8 8)
	pat2=$(md5 "$ODEV" 16 8)
	two_snapshots

	# Two jobs a device; a fast machine is held to 1 MiB/s a job, so
	# that the snapshots below still come and go under the I/O.
	fio_job origin "$ODEV" 0 4 2 "${TWICE[@]}" --rate=,1m
	fio_start o "${FIO[@]}"
	fio_job snap1 "$S1" 8 4 2 "${MIXED[@]}" --rate=,1m
	fio_start s1 "${FIO[@]}"
	fio_job snap2 "$S2" 16 4 2 "${MIXED[@]}" --rate=,1m
	fio_start s2 "${FIO[@]}"

	# Snapshots made and deleted under the I/O: each while the origin's
	# writes copy chunks to it, some read through an s-snap first.
	while fio_running; do
		id=$((id + 1)) k=$((k + 1))
		dmsetup message "$WORK" 0 "snapshot create $id"
		creates=$((creates + 1))
		if [ $((k % 3)) = 1 ]; then
			ssnap_activate "$id"
			dd if="$SNAPDEV" of=/dev/null bs=64k count=16 iflag=direct status=none
			dmsetup remove "$SNAPDEV"
			reads=$((reads + 1))
		fi
		if [ -n "$prev" ]; then
			dmsetup message "$WORK" 0 "snapshot delete $prev"
			deletes=$((deletes + 1))
		fi
		prev=$id
		# An active snapshot is refused, even now.
		if [ $((k % 4)) = 2 ]; then
			run dmsetup message "$WORK" 0 "snapshot delete 2"
			assert_failure
			busy=$((busy + 1))
		fi
		sleep 0.1
	done
	fio_wait
	echo "# $creates snapshots made, $deletes deleted, $reads read, $busy refused under I/O" >&3
	# (Two rounds at least: one of each kind of step.)
	if [ "$creates" -lt 2 ] || [ "$deletes" -lt 1 ] || [ "$reads" -lt 1 ] || [ "$busy" -lt 1 ]; then
		fail "too little done while fio ran: $creates created, $deletes deleted, $reads read, $busy refused"
	fi

	fio_ok o $((16 << 20)) $((16 << 20))
	fio_ok s1 $((8 << 20)) $((8 << 20))
	fio_ok s2 $((8 << 20)) $((8 << 20))
	assert_equal "$(status_field 3)" ok

	# Everything written is still there after all that: read and
	# checked again, all snapshots made under the I/O deleted.
	dmsetup message "$WORK" 0 "snapshot delete $prev"
	fio_job origin "$ODEV" 0 4 2 --bs=4k --verify_only
	fio_start vo "${FIO[@]}"
	fio_job snap1 "$S1" 8 4 2 --bsrange=4k-64k --verify_only
	fio_start v1 "${FIO[@]}"
	fio_job snap2 "$S2" 16 4 2 --bsrange=4k-64k --verify_only
	fio_start v2 "${FIO[@]}"
	fio_wait
	fio_ok vo $((8 << 20)) $((8 << 20))
	fio_ok v1 $((8 << 20)) $((8 << 20))
	fio_ok v2 $((8 << 20)) $((8 << 20))

	# Each device's writes stayed its own.
	assert_equal "$(md5 "$ODEV" 8 8)" "$pat1"
	assert_equal "$(md5 "$ODEV" 16 8)" "$pat2"
	assert_equal "$(md5 "$S1" 0 8)" "$pat0"
	assert_equal "$(md5 "$S1" 16 8)" "$pat2"
	assert_equal "$(md5 "$S2" 0 8)" "$pat0"
	assert_equal "$(md5 "$S2" 8 8)" "$pat1"

	wait_reclaimed
	run dmsetup status "$WORK"
	assert_output --regexp "^0 $SIZE s-snap-origin 2 1 2 ok [0-9]+/[0-9]+ [0-9]+ 0\$"
	dmsetup remove "$S2"
	dmsetup remove "$S1"
	dmsetup message "$WORK" 0 "snapshot delete 1"
	dmsetup message "$WORK" 0 "snapshot delete 2"
	wait_reclaimed
	run dmsetup status "$WORK"
	assert_output --regexp "^0 $SIZE s-snap-origin : no snapshot ok 0/[0-9]+ [0-9]+ 0\$"
	dmsetup remove "$WORK"
	run dmsetup info "$WORK"
	assert_failure
}

@test "a snapshot keeps its data while fio rewrites the origin, and the reverse" {
	local pat new n=0
	ssnap_make_origin 16 64 8
	dd if=/dev/urandom of="$ORIGIN" bs=1M count=16 oflag=direct status=none
	pat=$(md5 "$ODEV" 0 16)
	dmsetup message "$WORK" 0 "snapshot create 1"
	ssnap_activate 1
	S1=$SNAPDEV

	# The origin rewritten, every block, while the snapshot is read.
	fio_job origin "$ODEV" 0 4 4 "${MIXED[@]}"
	fio_start o "${FIO[@]}"
	while fio_running; do
		assert_equal "$(md5 "$S1" 0 16)" "$pat"
		n=$((n + 1))
		sleep 0.5
	done
	fio_wait
	fio_ok o $((16 << 20)) $((16 << 20))
	assert_equal "$(md5 "$S1" 0 16)" "$pat"
	[ "$(md5 "$ODEV" 0 16)" != "$pat" ]
	echo "# the snapshot read $n times while fio ran" >&3

	# A snapshot of the new data, then the old snapshot rewritten: the
	# origin and the new snapshot still hold what fio wrote there, the
	# old snapshot what fio wrote to it.
	new=$(md5 "$ODEV" 0 16)
	dmsetup message "$WORK" 0 "snapshot create 2"
	fio_job snap1 "$S1" 0 4 4 "${MIXED[@]}"
	fio_start s "${FIO[@]}"
	fio_wait
	fio_ok s $((16 << 20)) $((16 << 20))
	ssnap_activate 2
	assert_equal "$(md5 "$ODEV" 0 16)" "$new"
	assert_equal "$(md5 "$SNAPDEV" 0 16)" "$new"
	fio_job snap1 "$S1" 0 4 4 --bsrange=4k-64k --verify_only
	fio_start v1 "${FIO[@]}"
	fio_wait
	fio_ok v1 $((16 << 20)) $((16 << 20))
	[ "$(md5 "$S1" 0 16)" != "$new" ]
	assert_equal "$(status_field 3)" ok

	dmsetup remove "$SNAPDEV"
	dmsetup remove "$S1"
	dmsetup message "$WORK" 0 "snapshot delete 2"
	dmsetup message "$WORK" 0 "snapshot delete 1"
	wait_reclaimed
	dmsetup remove "$WORK"
}

# write_new <device> <MiB>: new random data, in one direct write; prints
# its md5 as md5() does.
write_new() {
	local f=$BATS_TEST_TMPDIR/new
	head -c "$2M" /dev/urandom > "$f"
	dd if="$f" of="$1" bs="$2M" count=1 oflag=direct status=none
	md5sum < "$f"
}

@test "more copies at once than copy buffers: 32 MiB writes over 1 MiB chunks" {
	# An origin keeps up to 4 MiB of copy buffers, four chunks here.
	# A 32 MiB direct write goes down as 32 bios of 1 MiB at once, so
	# most of its copies wait for a buffer.  Snapshot 1's write copies
	# each chunk to two places (its own, and the one snapshot 2 keeps),
	# the origin's writes copy to one, or none.
	local a s1 o1 o2
	ssnap_make_origin 32 256 2048
	dd if=/dev/urandom of="$ORIGIN" bs=1M count=32 oflag=direct status=none
	a=$(md5 "$ODEV" 0 32)
	two_snapshots

	s1=$(write_new "$S1" 32)
	o1=$(write_new "$ODEV" 32)
	dmsetup message "$WORK" 0 "snapshot create 3"
	ssnap_activate 3
	o2=$(write_new "$ODEV" 32)

	assert_equal "$(md5 "$S1" 0 32)" "$s1"
	assert_equal "$(md5 "$S2" 0 32)" "$a"
	assert_equal "$(md5 "$SNAPDEV" 0 32)" "$o1"
	assert_equal "$(md5 "$ODEV" 0 32)" "$o2"
	assert_equal "$(status_field 3)" ok
	# 32 chunks each: snapshot 1's own, snapshot 2's, snapshot 3's.
	assert_equal "$(status_field 2 | cut -d/ -f1)" 96
}
