#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The udev rules (udev/11-dm-ssnap.rules, udev/69-ssnap.rules) with a
# running systemd-udevd: the /dev/ssnap links come and go with the
# devices, a snapshot made behind the tool's back gets its device, and
# coldplug brings deactivated origins back.
#
# The test VM runs no udev: setup_file starts systemd-udevd with the
# repository's rules in /run/udev/rules.d (the host's root is read-only
# in the VM; /run is a tmpfs), pointed at the tools/ssnap under test,
# and teardown_file stops it.

bats_require_minimum_version 1.5.0

load ../lib/ssnap
load tool-lib

UDEVD=/lib/systemd/systemd-udevd

# The VM runs the tests chrooted into the host's root, where udevadm
# ignores trigger, settle and control unless told otherwise.
export SYSTEMD_IGNORE_CHROOT=1

setup_file() {
	[ -x "$UDEVD" ] || skip "no $UDEVD (the udev package)"
	[ -n "${SSNAP_VM:-}" ] || skip "starts its own udevd: runs in the test VM only"
	"$BATS_TEST_DIRNAME/../lib/test-udevd" start 3>&-
	udevadm control --log-priority=info 2>/dev/null || :
}

teardown_file() {
	"$BATS_TEST_DIRNAME/../lib/test-udevd" stop
}

setup() {
	# libdevmapper waits for udev from now on (the VM sets it to 1).
	unset DM_DISABLE_UDEV
	tool_setup
}

teardown() {
	udevadm settle -t 30 || :
	tool_teardown
}

# wait_for <seconds> <test...>: poll until the test holds.
wait_for() {
	local t=$1 _
	shift
	for _ in $(seq $((t * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

origin_up() {
	tool_pair
	udevadm settle -t 30
	run ssnap -q create-origin "$ORIGIN_NAME" "$ORIG" "$COW"
	assert_success
}

@test "udevd runs the rules under test" {
	local dm_rules=/run/udev/rules.d/11-dm-ssnap.rules
	[ -S /run/udev/control ]
	# After the base device-mapper rules: 55-dm.rules on Debian.
	[ ! -e /lib/udev/rules.d/55-dm.rules ] ||
		dm_rules=/run/udev/rules.d/56-dm-ssnap.rules
	grep -q "$SSNAP udev-name" "$dm_rules"
	grep -q "$SSNAP udev-probe" /run/udev/rules.d/69-ssnap.rules
}

@test "/dev/ssnap links appear with the devices, at once, and go with them" {
	local dm
	origin_up
	# No wait: the command returns once udev has made the links.
	[ -L "/dev/ssnap/$ORIGIN_NAME/origin" ]
	dm=$(readlink -f "/dev/mapper/ssnap-$ORIGIN_NAME")
	assert_equal "$(readlink -f "/dev/ssnap/$ORIGIN_NAME/origin")" "$dm"
	run ssnap snapshot "$ORIGIN_NAME" my-snap
	assert_success
	assert_output "Created snapshot my-snap of $ORIGIN_NAME (id 0): /dev/ssnap/$ORIGIN_NAME/my-snap"
	[ -L "/dev/ssnap/$ORIGIN_NAME/my-snap" ]
	assert_equal "$(readlink -f "/dev/ssnap/$ORIGIN_NAME/my-snap")" \
		"$(readlink -f "/dev/mapper/ssnap-$ORIGIN_NAME-my-snap")"
	run udevadm info --query=property "/dev/mapper/ssnap-$ORIGIN_NAME-my-snap"
	assert_line "SSNAP_ORIGIN_NAME=$ORIGIN_NAME"
	assert_line "SSNAP_SNAP_NAME=my-snap"
	assert_line "SSNAP_SNAP_ID=0"
	# The origin keeps its link through later change events.
	udevadm trigger --action=change "$dm"
	udevadm settle -t 30
	[ -L "/dev/ssnap/$ORIGIN_NAME/origin" ]
	# A renamed snapshot's link follows.
	run ssnap rename "$ORIGIN_NAME" my-snap other
	assert_success
	[ -L "/dev/ssnap/$ORIGIN_NAME/other" ]
	[ ! -e "/dev/ssnap/$ORIGIN_NAME/my-snap" ]
	run ssnap delete -y "$ORIGIN_NAME" other
	assert_success
	[ ! -e "/dev/ssnap/$ORIGIN_NAME/other" ]
	run ssnap deactivate "$ORIGIN_NAME"
	assert_success
	# The links and their directory.
	[ ! -e "/dev/ssnap/$ORIGIN_NAME" ]
}

@test "a snapshot made with dmsetup message gets its device by itself" {
	local uuid
	origin_up
	uuid=$(store_uuid "ssnap-$ORIGIN_NAME")
	dmsetup message "ssnap-$ORIGIN_NAME" 0 snapshot create 9
	wait_for 20 test -b "/dev/mapper/ssnap-$ORIGIN_NAME-9"
	assert_equal "$(dm_uuid "ssnap-$ORIGIN_NAME-9")" "SSNAP-$uuid-9"
	udevadm settle -t 30
	wait_for 10 test -L "/dev/ssnap/$ORIGIN_NAME/9"
	# With a name, the device and link carry it.
	dmsetup message "ssnap-$ORIGIN_NAME" 0 snapshot create 10 named
	wait_for 20 test -L "/dev/ssnap/$ORIGIN_NAME/named"
	# ssnap snapshot --no-activate: the rule leaves it alone.
	run ssnap -q snapshot --no-activate "$ORIGIN_NAME" quiet
	assert_success
	udevadm settle -t 30
	sleep 2
	[ ! -e "/dev/mapper/ssnap-$ORIGIN_NAME-quiet" ]
	# ssnap snapshot activates it itself; the rule does not race it.
	run ssnap snapshot "$ORIGIN_NAME" loud
	assert_success
	[ -L "/dev/ssnap/$ORIGIN_NAME/loud" ]
	udevadm settle -t 30
	run dmesg
	refute_output --partial "ssnap: ssnap-$ORIGIN_NAME-loud"
}

@test "deactivate --all, then udevadm trigger (coldplug) brings them back" {
	origin_up
	ssnap -q snapshot "$ORIGIN_NAME" a
	ssnap -q snapshot "$ORIGIN_NAME" b
	run ssnap deactivate --all
	assert_success
	[ ! -e "/dev/ssnap/$ORIGIN_NAME" ]
	[ ! -e "/dev/ssnap/$ORIGIN_NAME/a" ]
	# A change event after writing to the COW device activates nothing.
	udevadm trigger --action=change "$COW"
	udevadm settle -t 30
	sleep 1
	[ ! -e "/dev/mapper/ssnap-$ORIGIN_NAME" ]
	udevadm trigger --action=add --subsystem-match=block
	udevadm settle -t 60
	wait_for 30 test -L "/dev/ssnap/$ORIGIN_NAME/b"
	[ -L "/dev/ssnap/$ORIGIN_NAME/origin" ]
	[ -L "/dev/ssnap/$ORIGIN_NAME/a" ]
}

@test "a store whose origin appears later is activated when it does" {
	local back
	origin_up
	ssnap -q snapshot "$ORIGIN_NAME" a
	back=$(losetup -nO BACK-FILE "$ORIG" | sed 's/ *$//')
	ssnap -q deactivate "$ORIGIN_NAME"
	losetup -d "$ORIG"
	udevadm settle -t 30
	# The store's device shows up (coldplug) while the origin is away.
	udevadm trigger --action=add "$COW"
	udevadm settle -t 30
	sleep 1
	[ ! -e "/dev/mapper/ssnap-$ORIGIN_NAME" ]
	ls /run/ssnap/pending-* > /dev/null
	# Then the origin.
	ORIG=$(losetup --find --show "$back")
	udevadm settle -t 30
	wait_for 30 test -L "/dev/ssnap/$ORIGIN_NAME/a"
	[ -L "/dev/ssnap/$ORIGIN_NAME/origin" ]
	run ls /run/ssnap
	refute_output --partial pending-
}
