# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the ssnap(8) tests (tool*.bats, udev*.bats), on top of
# tests/lib/ssnap.bash.  Load both:
#
#   load ../lib/ssnap
#   load tool-lib
#
#   tool_setup                 ssnap_setup, the tool built, ORIGIN_NAME set
#                              (this test's prefix: a valid origin name)
#   tool_teardown              remove the devices the tool made for this
#                              test (ssnap-$ORIGIN_NAME*), then
#                              ssnap_teardown
#   tool_pair [<MiB> [<MiB>]]  two loop devices: ORIG and COW
#   ssnap ...                  the tool under test ($SSNAP)
#   dm_uuid <dm name>          a device's DM UUID
#   store_uuid <dm name>       the store UUID in an ssnap DM UUID
#   flip_byte <dev> <offset>   invert one byte, bypassing the page cache

SSNAP_TOOLS=$(cd "$BATS_TEST_DIRNAME/../../tools" && pwd)
SSNAP=$SSNAP_TOOLS/ssnap

ssnap() {
	"$SSNAP" "$@"
}

tool_setup() {
	ssnap_setup || return 1
	if [ ! -x "$SSNAP" ]; then
		make -s -C "$SSNAP_TOOLS" > /dev/null 2>&1 \
			|| { fail "tools/ssnap is not built (make -C tools)"; return 1; }
	fi
	ORIGIN_NAME=$SSNAP_PREFIX
	export ORIGIN_NAME
}

tool_pair() {
	ORIG=$(ssnap_loopdev "${1:-32}") || return 1
	COW=$(ssnap_loopdev "${2:-32}") || return 1
	export ORIG COW
}

dm_uuid() {
	dmsetup info -c --noheadings -o uuid "$1" 2>/dev/null
}

store_uuid() {
	local u
	u=$(dm_uuid "$1") || return 1
	u=${u#SSNAP-}
	echo "${u:0:36}"
}

flip_byte() {
	local dev=$1 off=$2 sec tmp b
	sec=$((off / 512))
	tmp=$(mktemp) || return 1
	dd if="$dev" of="$tmp" bs=512 skip="$sec" count=1 iflag=direct 2>/dev/null \
		|| { rm -f "$tmp"; return 1; }
	b=$(od -An -tu1 -j $((off % 512)) -N1 "$tmp" | tr -d ' ')
	# shellcheck disable=SC2059 # (the format is the byte)
	printf "$(printf '\\%03o' $((b ^ 255)))" \
		| dd of="$tmp" bs=1 seek=$((off % 512)) conv=notrunc 2>/dev/null
	dd if="$tmp" of="$dev" bs=512 seek="$sec" count=1 oflag=direct \
		conv=notrunc 2>/dev/null
	rm -f "$tmp"
}

# The tool's devices of this test, snapshots first, then origins.
_tool_devices() {
	dmsetup info -c --noheadings --separator ' ' -o name,uuid 2>/dev/null \
		| awk -v p="ssnap-$ORIGIN_NAME" '
			index($1, p) == 1 && $2 ~ /^SSNAP-/ {
				if (length($2) > 42) snaps = snaps $1 "\n"
				else origins = origins $1 "\n"
			}
			END { printf "%s%s", snaps, origins }'
}

tool_teardown() {
	local n pass mnt
	[ -n "${ORIGIN_NAME:-}" ] || { ssnap_teardown; return; }
	# Unmount what a test mounted in its directory.
	while read -r mnt; do
		[ -n "$mnt" ] || continue
		umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || :
	done < <(awk -v t="${BATS_TEST_TMPDIR:-/nonexistent}/" \
		'index($2 "/", t) == 1 { print $2 }' /proc/self/mounts | sort -r)
	for pass in 1 2 3 4 5; do
		n=$(_tool_devices)
		[ -n "$n" ] || break
		[ "$pass" -lt 2 ] || sleep 0.3
		while read -r n; do
			[ -n "$n" ] || continue
			dmsetup remove "$n" > /dev/null 2>&1 \
				|| { [ "$pass" -lt 5 ] || dmsetup remove --force "$n" > /dev/null 2>&1; } || :
		done <<< "$(_tool_devices)"
	done
	n=$(_tool_devices)
	ssnap_teardown || return 1
	if [ -n "$n" ]; then
		echo "tool_teardown: devices left: $n" >&2
		return 1
	fi
}
