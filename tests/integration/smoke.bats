#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Smoke tests of the VM and of tests/lib/ssnap.bash: the guest runs the
# kernel under test with the freshly built dm-ssnap.ko, the module
# registers its targets, and the helpers leave nothing behind, even
# after a failed test.  Runs inside the test VM (tests/vm/run).

load ../lib/ssnap

setup() {
	ssnap_setup
}

teardown() {
	ssnap_teardown
}

# Every dm device and loop device whose name or backing file carries
# <prefix>.
leftovers() {
	local prefix=$1
	dmsetup info -c --noheadings -o name 2>/dev/null | grep -F -- "$prefix" || :
	losetup -n -O NAME,BACK-FILE 2>/dev/null | grep -F -- "$prefix" || :
	ls -d "$SSNAP_BACKING_DIR/$prefix"* 2>/dev/null || :
}

@test "the guest runs the kernel under test with the repository at its own path" {
	[ -n "${SSNAP_VM:-}" ] || skip "not inside the test VM"
	run uname -r
	assert_output "$SSNAP_VM_RELEASE"
	[ -f "$SSNAP_TOP/tests/lib/ssnap.bash" ]
	assert_equal "$(cd "$BATS_TEST_DIRNAME/../.." && pwd)" "$SSNAP_TOP"
	# The host's root is read-only; /tmp and the repository are not.
	run touch /ssnap-vm-write-check
	assert_failure
	touch "$BATS_TEST_TMPDIR/write-check"
	[ -w "$SSNAP_TOP/build" ]
	assert_equal "$DM_DISABLE_UDEV" 1
}

@test "modprobe dm-ssnap loads the module built for this kernel" {
	local rel ko
	rel=$(uname -r)
	run modprobe dm-ssnap
	assert_success
	run grep -E '^(dm_ssnap|dm_mod) ' /proc/modules
	assert_line --partial 'dm_ssnap '
	assert_line --partial 'dm_mod '
	run modinfo -F filename dm-ssnap
	assert_output "/lib/modules/$rel/extra/dm-ssnap.ko"
	run modinfo -F vermagic dm-ssnap
	[[ $output == "$rel "* ]] || fail "vermagic '$output' is not for $rel"
	assert_equal "$(cat /sys/module/dm_ssnap/version)" "$(cat "$BATS_TEST_DIRNAME/../../VERSION")"
	ko=$BATS_TEST_DIRNAME/../../build/kmod/$rel/dm-ssnap.ko
	if [ -f "$ko" ]; then
		assert_equal "$(cat /sys/module/dm_ssnap/srcversion)" "$(modinfo -F srcversion "$ko")"
	fi
}

@test "dmsetup targets lists s-snap-origin and s-snap" {
	run dmsetup targets
	assert_success
	assert_line --regexp '^s-snap-origin +v[0-9]+\.[0-9]+\.[0-9]+$'
	assert_line --regexp '^s-snap +v[0-9]+\.[0-9]+\.[0-9]+$'
}

@test "ssnap_dm_name puts the test's prefix first" {
	assert_equal "$(ssnap_dm_name origin)" "$SSNAP_PREFIX-origin"
	[[ $SSNAP_PREFIX =~ ^[A-Za-z0-9_-]+$ ]]
}

@test "ssnap_loopdev attaches a sparse tmpfs file of the size asked for" {
	local dev back
	dev=$(ssnap_loopdev 16)
	[ -b "$dev" ]
	run blockdev --getsize64 "$dev"
	assert_output $((16 * 1024 * 1024))
	back=$(losetup -n -O BACK-FILE "$dev")
	[[ $back == *"$SSNAP_PREFIX"* ]]
	assert_equal "$(stat -f -c %T "$back")" tmpfs
	assert_equal "$(du -k "$back" | cut -f1)" 0
}

@test "ssnap_teardown removes the test's dm devices, loop devices and files" {
	local a b sz backs
	a=$(ssnap_loopdev 8)
	b=$(ssnap_loopdev 8)
	backs="$(losetup -n -O BACK-FILE "$a") $(losetup -n -O BACK-FILE "$b")"
	sz=$(blockdev --getsz "$a")
	ssnap_dm_create lin "0 $sz linear $a 0"
	# Stacked on the first: must go first.
	ssnap_dm_create top "0 $sz linear /dev/mapper/$(ssnap_dm_name lin) 0"
	# Made without the helper, named with the prefix.
	dmsetup create "$(ssnap_dm_name raw)" --table "0 $sz linear $b 0"
	# Suspended.
	dmsetup suspend "$(ssnap_dm_name raw)"
	run leftovers "$SSNAP_PREFIX"
	assert_line --partial "$(ssnap_dm_name top)"

	ssnap_teardown

	run leftovers "$SSNAP_PREFIX"
	assert_output ""
	for f in $backs; do
		[ ! -e "$f" ]
	done
}

@test "ssnap_teardown leaves nothing behind after a failed test" {
	local inner=$BATS_TEST_TMPDIR/inner.bats prefix
	# (Written line by line: a line of this file starting with the
	# test keyword would be taken for a test of its own.)
	{
		echo "load $BATS_TEST_DIRNAME/../lib/ssnap"
		echo 'setup() { ssnap_setup; }'
		echo 'teardown() { ssnap_teardown; }'
		echo '@test "fails half-way" {'
		echo "	echo \"\$SSNAP_PREFIX\" > $BATS_TEST_TMPDIR/prefix"
		echo '	dev=$(ssnap_loopdev 8)'
		echo '	ssnap_dm_create one "0 8 linear $dev 0"'
		echo '	ssnap_dm_create two "0 8 linear /dev/mapper/$(ssnap_dm_name one) 0"'
		echo '	dmsetup suspend "$(ssnap_dm_name two)"'
		echo '	false'
		echo '}'
	} > "$inner"
	# A bats of its own: no variables of this one, not its fd 3.
	run env -i PATH="$PATH" HOME="$HOME" TERM=dumb \
		DM_DISABLE_UDEV="${DM_DISABLE_UDEV:-}" \
		"$BATS_ROOT/bin/bats" --tap "$inner" 3>&-
	assert_failure
	assert_line --partial "not ok 1 fails half-way"
	prefix=$(cat "$BATS_TEST_TMPDIR/prefix")
	[ -n "$prefix" ]
	run leftovers "$prefix"
	assert_output ""
}

@test "ssnap_dm_expect_error finds the kernel's message for a refused table" {
	ssnap_dm_expect_error bad "0 8 linear /dev/ssnap-no-such-device 0" \
		"Device lookup failed"
	run dmsetup info "$(ssnap_dm_name bad)"
	assert_failure
}

@test "ssnap_dm_expect_error fails when the message is not in the kernel log" {
	run ssnap_dm_expect_error bad "0 8 linear /dev/ssnap-no-such-device 0" \
		"a message no kernel prints"
	assert_failure
	assert_output --partial "lacks the expected text"
	# The log since the marker is shown.
	assert_output --partial "Device lookup failed"
}

@test "ssnap_dm_expect_error fails when the table loads" {
	local dev
	dev=$(ssnap_loopdev 1)
	run ssnap_dm_expect_error good "0 8 linear $dev 0" "anything"
	assert_failure
	assert_output --partial "dmsetup create succeeded"
}

@test "ssnap_dmesg shows what the kernel logged since the test began, only" {
	local tag=ssnap-smoke-$$-$RANDOM
	echo "$tag before" > /dev/kmsg
	ssnap_setup
	echo "$tag after" > /dev/kmsg
	run ssnap_dmesg
	assert_success
	assert_output --partial "$tag after"
	refute_output --partial "$tag before"
	refute_output --partial "$SSNAP_KMSG_MARK"
}
