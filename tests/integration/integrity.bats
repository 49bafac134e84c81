#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Data integrity against a model: tests/integration/model-check makes an
# s-snap-origin on two loop devices, does random origin writes, snapshot
# creates, deletes, writes and discards, table reloads and teardowns,
# and compares the origin and every snapshot with the images it keeps
# in memory, byte for byte, plus the status line, the snapshot list and
# each snapshot's usage.  Runs inside the test VM (tests/vm/run).
#
# Each run prints its seed; a failure prints the command that replays
# it on loop devices of its own, to run in the VM:
#   tests/vm/run -k 6.12 -- tests/integration/model-check --loop 4,48 ... --seed N
# In a shell in the VM (tests/vm/run --shell), SSNAP_MODEL_SEED=N sets
# the seed that is otherwise new on each run of the first test.

load ../lib/ssnap

MODEL_CHECK=$BATS_TEST_DIRNAME/model-check

setup() {
	ssnap_setup
}

teardown() {
	ssnap_teardown
}

# model_check <origin MiB> <COW MiB> <model-check options>: on fresh
# loop devices, with this test's prefix for the dm devices (so that
# teardown finds whatever is left).
model_check() {
	local om=$1 cm=$2 origin cow
	shift 2
	origin=$(ssnap_loopdev "$om")
	cow=$(ssnap_loopdev "$cm")
	echo "# model-check $* (origin $om MiB, COW $cm MiB)" >&3
	"$MODEL_CHECK" --origin "$origin" --cow "$cow" --prefix "$SSNAP_PREFIX" "$@"
}

# No sign in the kernel log of a failed store or of a kernel problem.
# (Refused messages, which the model check sends on purpose, are fine.)
kernel_log_clean() {
	run ssnap_dmesg
	assert_success
	refute_output --regexp 'snapshots fail from now on|lookup failed|store full|cannot mark|WARNING:|BUG:|Call Trace'
}

@test "random operations match the model: chunk 8 sectors, seeds 1, 2 and a new one" {
	# One pair of loop devices for the three runs (a VM test pays for
	# every process): each run writes the origin anew and starts a new
	# store (--wipe-cow).
	local origin cow seed
	origin=$(ssnap_loopdev 4)
	cow=$(ssnap_loopdev 48)
	for seed in 1 2 "${SSNAP_MODEL_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"; do
		echo "# model-check --seed $seed (replay: SSNAP_MODEL_SEED=$seed)" >&3
		"$MODEL_CHECK" --origin "$origin" --cow "$cow" --prefix "$SSNAP_PREFIX" \
			--wipe-cow --chunk 8 --seed "$seed" --ops 40 --verify-every 20
	done
	kernel_log_clean
}

@test "random operations match the model: chunk 2048 sectors (1 MiB)" {
	# 16 chunks: every write lands on a chunk others share.
	model_check 16 192 --chunk 2048 --seed 3 --ops 30 --verify-every 15 --max-snaps 4
	kernel_log_clean
}

@test "200 snapshots at once: each matches the model; delete the first, a middle one, the last" {
	# Made one by one with an origin write after each, every one
	# checked, then the oldest, a middle and the newest deleted and
	# the rest checked again; a few random operations follow.  The
	# s-snap devices, once made, stay (--max-active).
	model_check 1 64 --chunk 8 --seed 4 --fill 200 --fill-writes 1 \
		--max-active 250 --ops 15 --verify-every 0 \
		--mix restart=0 --no-final-restart
	kernel_log_clean
}

@test "model-check finds a difference between the devices and its model" {
	# One byte of the model, not of a device, is changed before the
	# check after op 6: the check must fail, at that byte, and give the
	# seed and the replay command.
	local where what byte dev
	run model_check 2 32 --chunk 8 --seed 5 --ops 12 --verify-every 10 \
		--inject-model-error 6 --no-final-restart
	assert_equal "$status" 1
	where=$(sed -n 's/^op 10: injected a model error: \(.*\), byte \([0-9]*\)$/\1 \2/p' <<< "$output")
	[ -n "$where" ] || fail "no model error injected after op 10: $output"
	what=${where% *} byte=${where##* }
	case $what in
	origin) dev=$SSNAP_PREFIX-origin ;;
	*) dev=$SSNAP_PREFIX-s${what#snapshot } ;;
	esac
	assert_output --partial "MISMATCH on /dev/mapper/$dev ($what) at byte $byte:"
	assert_output --partial "seed 5, after op 10;"
	assert_output --partial "replay: "
	# model-check removed its own devices.
	run dmsetup info -c --noheadings -o name
	refute_output --partial "$SSNAP_PREFIX-"
}

@test "origin discards over several chunks leave the snapshots as they were" {
	# A discard of the origin that spans chunks reaches the target in
	# one piece: each chunk a snapshot still reads from the origin must
	# keep its data, whatever the first chunk of the discard needs.
	model_check 4 64 --chunk 8 --seed 24 --ops 40 --verify-every 10 \
		--mix odiscard_span=30,owrite=10,create=10,swrite=5
	kernel_log_clean
}
