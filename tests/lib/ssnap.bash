# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the ssnap bats tests (tests/integration/*.bats), which run
# as root inside the test VM (tests/vm/run).  Load with
#
#   load ../lib/ssnap
#
# and call ssnap_setup from setup() and ssnap_teardown from teardown().
# Every loop device and device-mapper device a test makes through these
# helpers (or names with ssnap_dm_name) is removed by ssnap_teardown,
# whether the test passed or not.
#
#   ssnap_setup                     per-test prefix, kernel log marker,
#                                   dm-ssnap loaded
#   ssnap_teardown                  remove this test's dm and loop devices
#   ssnap_loopdev <MiB>             sparse file in tmpfs on a loop device;
#                                   echoes the device
#   ssnap_dm_name <short>           "$SSNAP_PREFIX-<short>"
#   ssnap_dm_create <short> <table> dmsetup create; dmsetup's status
#   ssnap_dm_expect_error <short> <table> <text>
#                                   dmsetup create must fail and the kernel
#                                   log since the marker must have <text>
#   ssnap_dmesg                     the kernel log since the marker
#   ssnap_kmsg_mark <what>          a new marker: ssnap_dmesg then starts
#                                   there (one test, several cases)
#   ssnap_make_origin <origin MiB> <COW MiB> <chunk sectors>
#                                   loop devices $ORIGIN and $COW (of
#                                   $SIZE sectors), the s-snap-origin
#                                   "origin" on them as $WORK, $ODEV
#   ssnap_activate <id>             the s-snap "snap<id>" as $SNAPDEV
#   ssnap_loop_grow <dev> <MiB>     make a loop device of ssnap_loopdev
#                                   that many MiB (as an LV extended)

# bats-support and bats-assert, from BATS_LIB_PATH or Debian's place.
case ":${BATS_LIB_PATH:-}:" in
*:/usr/lib/bats:*) ;;
*) BATS_LIB_PATH=${BATS_LIB_PATH:+$BATS_LIB_PATH:}/usr/lib/bats ;;
esac
export BATS_LIB_PATH
if declare -F bats_load_library > /dev/null; then
	bats_load_library bats-support
	bats_load_library bats-assert
else
	load /usr/lib/bats/bats-support/load.bash
	load /usr/lib/bats/bats-assert/load.bash
fi

# Without a running udev, libdevmapper makes the /dev/mapper nodes
# itself instead of waiting for udev to.
if [ -z "${DM_DISABLE_UDEV:-}" ] && [ ! -S /run/udev/control ]; then
	export DM_DISABLE_UDEV=1
fi

# Where loop devices' backing files go: a tmpfs.
: "${SSNAP_BACKING_DIR:=/dev/shm}"

# Per-test state, in files: the helpers also run in subshells ($(...),
# run), whose variables the test never sees.
_ssnap_state() {
	echo "${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/.ssnap-$SSNAP_PREFIX"
}

_ssnap_register() {
	# _ssnap_register <dms|loops|files> <value>
	local d
	d=$(_ssnap_state)
	mkdir -p "$d"
	echo "$2" >> "$d/$1"
}

ssnap_setup() {
	SSNAP_PREFIX="sst${BATS_SUITE_TEST_NUMBER:-${BATS_TEST_NUMBER:-0}}-$$"
	export SSNAP_PREFIX
	mkdir -p "$(_ssnap_state)"

	# Markers come fast, one a test: no rate limit on /dev/kmsg.
	if [ -w /proc/sys/kernel/printk_devkmsg ]; then
		echo on > /proc/sys/kernel/printk_devkmsg 2>/dev/null || :
	fi
	# (BATS_TEST_NAME is the test's function name: plain ASCII.)
	SSNAP_KMSG_MARK="ssnap-test: begin $SSNAP_PREFIX $(date +%s.%N) ${BATS_TEST_NAME:-}"
	export SSNAP_KMSG_MARK
	echo "$SSNAP_KMSG_MARK" > /dev/kmsg \
		|| { fail "ssnap_setup: cannot write to /dev/kmsg (not root?)"; return 1; }

	if ! grep -q '^dm_ssnap ' /proc/modules; then
		local out
		if ! out=$(modprobe dm-ssnap 2>&1); then
			fail "ssnap_setup: modprobe dm-ssnap failed: $out
(is dm-ssnap.ko in /lib/modules/$(uname -r)/extra? tests/vm/run puts it there)"
			return 1
		fi
	fi
	if ! grep -q '^loop ' /proc/modules && [ ! -d /sys/module/loop ]; then
		modprobe loop 2>/dev/null || :
	fi
}

ssnap_dm_name() {
	echo "${SSNAP_PREFIX:?ssnap_setup was not called}-$1"
}

ssnap_loopdev() {
	local mib=${1:?ssnap_loopdev: size in MiB}
	local f dev
	[ -n "${SSNAP_PREFIX:-}" ] || { echo "ssnap_loopdev: ssnap_setup was not called" >&2; return 1; }
	mkdir -p "$SSNAP_BACKING_DIR"
	f=$(mktemp "$SSNAP_BACKING_DIR/$SSNAP_PREFIX-loop.XXXXXX") || return 1
	_ssnap_register files "$f"
	truncate -s "${mib}M" "$f" || return 1
	dev=$(losetup --find --show "$f") || {
		echo "ssnap_loopdev: losetup failed for $f" >&2
		return 1
	}
	_ssnap_register loops "$dev"
	echo "$dev"
}

ssnap_loop_grow() {
	local f
	f=$(losetup -n -O BACK-FILE "$1") || return 1
	truncate -s "$2M" "$f" && losetup -c "$1"
}

ssnap_dm_create() {
	local name
	name=$(ssnap_dm_name "${1:?ssnap_dm_create: short name}") || return 1
	_ssnap_register dms "$name"
	dmsetup create "$name" --table "${2:?ssnap_dm_create: table}"
}

ssnap_make_origin() {
	ORIGIN=$(ssnap_loopdev "$1") || return 1
	COW=$(ssnap_loopdev "$2") || return 1
	SIZE=$(blockdev --getsz "$ORIGIN")
	WORK=$(ssnap_dm_name origin)
	ODEV=/dev/mapper/$WORK
	ssnap_dm_create origin "0 $SIZE s-snap-origin $ORIGIN $COW S $3" || return 1
	[ -b "$ODEV" ] || dmsetup mknodes "$WORK"
}

ssnap_activate() {
	local name
	name=$(ssnap_dm_name "snap$1")
	ssnap_dm_create "snap$1" "0 $SIZE s-snap $ORIGIN $1" || return 1
	[ -b "/dev/mapper/$name" ] || dmsetup mknodes "$name"
	SNAPDEV=/dev/mapper/$name
}

ssnap_kmsg_mark() {
	SSNAP_KMSG_MARK="ssnap-test: case $SSNAP_PREFIX $(date +%s.%N) $*"
	export SSNAP_KMSG_MARK
	echo "$SSNAP_KMSG_MARK" > /dev/kmsg
}

ssnap_dmesg() {
	local log
	log=$(dmesg) || return 1
	if [ -n "${SSNAP_KMSG_MARK:-}" ] && grep -qF -- "$SSNAP_KMSG_MARK" <<< "$log"; then
		M=$SSNAP_KMSG_MARK awk 'seen { print } index($0, ENVIRON["M"]) { seen = 1 }' <<< "$log"
	else
		echo "ssnap_dmesg: marker not found, the whole kernel log follows" >&2
		echo "$log"
	fi
}

ssnap_dm_expect_error() {
	local short=${1:?ssnap_dm_expect_error: short name}
	local table=${2:?ssnap_dm_expect_error: table}
	local text=${3:?ssnap_dm_expect_error: expected text}
	local name out rc=0 log
	name=$(ssnap_dm_name "$short") || return 1
	_ssnap_register dms "$name"
	out=$(dmsetup create "$name" --table "$table" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		batslib_print_kv_single_or_multi 8 \
			table "$table" \
			expected "$text" \
			| batslib_decorate "dmsetup create succeeded, expected it to fail" \
			| fail
		return 1
	fi
	log=$(ssnap_dmesg 2>&1)
	if ! grep -qF -- "$text" <<< "$log"; then
		batslib_print_kv_single_or_multi 10 \
			table "$table" \
			expected "$text" \
			dmsetup "$out" \
			"kernel log" "$log" \
			| batslib_decorate "kernel log since the test began lacks the expected text" \
			| fail
		return 1
	fi
}

# _ssnap_dm_list: "<name> <Active|Suspended>" of every dm device of this
# test (registered, or named with the prefix), most recently made first.
_ssnap_dm_list() {
	local d all
	d=$(_ssnap_state)
	all=$(dmsetup info -c --noheadings --separator ' ' -o name,suspended 2>/dev/null) || all=''
	P=$SSNAP_PREFIX- awk '
		FILENAME != "-" { reg[++n] = $0; next }
		index($1, ENVIRON["P"]) == 1 { dev[$1] = $2 }
		END {
			for (i = n; i > 0; i--)
				if (reg[i] in dev && !(reg[i] in done)) {
					print reg[i], dev[reg[i]]; done[reg[i]] = 1
				}
			for (x in dev)
				if (!(x in done))
					print x, dev[x]
		}' "${d}/dms" - <<< "$all" 2>/dev/null || :
}

# Mount points of this test's devices, or under its temporary directory.
_ssnap_mounts() {
	local d
	d=$(_ssnap_state)
	P=/dev/mapper/$SSNAP_PREFIX- T=${BATS_TEST_TMPDIR:-/nonexistent}/ awk '
		FILENAME != "/proc/self/mounts" { loop[$0] = 1; next }
		index($1, ENVIRON["P"]) == 1 || ($1 in loop) ||
			index($2 "/", ENVIRON["T"]) == 1 { print $2 }' \
		"$d/loops" /proc/self/mounts 2>/dev/null | sort -r || :
}

ssnap_teardown() {
	local d pass mnt st=0 f n state left attached
	[ -n "${SSNAP_PREFIX:-}" ] || return 0
	d=$(_ssnap_state)
	[ -d "$d" ] || mkdir -p "$d"
	[ -f "$d/dms" ] || : > "$d/dms"
	[ -f "$d/loops" ] || : > "$d/loops"
	[ -f "$d/files" ] || : > "$d/files"

	while read -r mnt; do
		umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || :
	done < <(_ssnap_mounts)

	# Device-mapper devices: newest first, as later ones stack on
	# earlier ones; one still busy is tried again on the next pass.
	for pass in 1 2 3 4 5 6 7 8 9 10; do
		left=$(_ssnap_dm_list)
		[ -n "$left" ] || break
		if [ "$pass" -eq 10 ]; then
			# Last resort: error targets, so that nothing above
			# them can keep them busy.
			while read -r n state; do
				dmsetup remove --force "$n" > /dev/null 2>&1 || :
			done <<< "$left"
			break
		fi
		[ "$pass" -lt 3 ] || sleep 0.2
		while read -r n state; do
			if [ "$state" = Suspended ]; then
				dmsetup resume "$n" > /dev/null 2>&1 || :
			fi
			dmsetup remove "$n" > /dev/null 2>&1 || :
		done <<< "$left"
	done
	left=$(_ssnap_dm_list)
	if [ -n "$left" ]; then
		echo "ssnap_teardown: cannot remove dm devices: $(cut -d' ' -f1 <<< "$left" | tr '\n' ' ')" >&2
		dmsetup info -c >&2 2>/dev/null || :
		st=1
	fi

	# Loop devices: those registered, and any other still attached to
	# one of this test's backing files.
	attached=$(losetup -n -l -O NAME,BACK-FILE 2>/dev/null) || attached=''
	while read -r n; do
		[ -z "$n" ] || losetup -d "$n" 2>/dev/null || :
	done < <(F=$d/files awk '
		FILENAME == ENVIRON["F"] { f[$0] = 1; next }
		FILENAME == "-" { if ($2 in f) print $1; next }
		{ print }' "$d/files" - "$d/loops" <<< "$attached" | awk '!seen[$0]++')
	if [ -s "$d/files" ]; then
		# A device still open is detached when closed (autoclear).
		for pass in 1 2 3 4 5 6 7 8 9 10; do
			attached=$(losetup -n -l -O NAME,BACK-FILE 2>/dev/null) || attached=''
			left=$(awk 'FILENAME != "-" { f[$0] = 1; next } ($2 in f)' \
				"$d/files" - <<< "$attached")
			[ -n "$left" ] || break
			sleep 0.2
		done
		if [ -n "$left" ]; then
			echo "ssnap_teardown: loop devices still attached: ${left//$'\n'/, }" >&2
			st=1
		fi
		while read -r f; do
			rm -f "$f"
		done < "$d/files"
	fi
	rm -rf "$d"
	return $st
}
