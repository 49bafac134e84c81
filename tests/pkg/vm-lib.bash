# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers of the package tests that run in the test VM (vm-install,
# vm-rpm).  The caller sets top, version, rel and out (the directory of
# its results: tap.txt, logs) and sources this file, then calls
# setup_root.
#
#   ok, not_ok, diag, check, phase, bail, finish
#                 TAP, on stdout and in $out/tap.txt; finish prints the
#                 plan and exits (non-zero if a test failed)
#   setup_root    a writable system over the host's read-only root:
#                 overlays with tmpfs upper layers (in $S) over /usr,
#                 /etc and /var, and over /lib/modules (lower layer: $mods,
#                 see below), with a "build" link to the host's headers
#   upper_list    what the upper layers hold, one path a line
#   layer_changes after "upper_list > $S/before" and "... > $S/after":
#                 "new|deleted|changed <path>" for each path that came
#                 between the two lists
#   lower <path>  where the overlays' lower layers have <path>
#   stamp         a filter: each line with the seconds since its start

# (top, rel and out come from the caller.)
# shellcheck disable=SC2154
: "${top:?}" "${rel:?}" "${out:?}"

S=/run/ssnap-pkgtest

export DEBIAN_FRONTEND=noninteractive
export SYSTEMD_IGNORE_CHROOT=1
export LC_ALL=C.UTF-8

mkdir -p "$out"
tapf=$out/tap.txt
: > "$tapf"

n=0
failed=0
tap() {
	echo "$*"
	echo "$*" >> "$tapf"
}
ok() {
	n=$((n + 1))
	tap "ok $n - $*"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	tap "not ok $n - $*"
}
diag() {
	sed 's/^/# /' | while IFS= read -r l; do tap "$l"; done
}
# check <description> <command...>: one test; the command's output is
# shown as diagnostics when it fails.
check() {
	local desc=$1 o
	shift
	if o=$("$@" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc"
		[ -z "$o" ] || echo "$o" | tail -n 40 | diag
	fi
}
t_start=$(date +%s)
phase_t=$t_start
# phase <name>: time of the phase that ends
phase() {
	local now
	now=$(date +%s)
	tap "# time: $1 $((now - phase_t)) s; memory: $(awk '/^(MemFree|SUnreclaim):/ { printf "%s %d MiB ", $1, $2 / 1024 }' /proc/meminfo)"
	phase_t=$now
}
bail() {
	not_ok "$*"
	tap "# bailing out: the remaining tests cannot run"
	finish
}
finish() {
	dmesg > "$out/dmesg.txt" 2>/dev/null
	tap "# time: total $(($(date +%s) - t_start)) s"
	tap "1..$n"
	[ "$failed" -eq 0 ]
	exit
}

# ---------------------------------------------------------------------
# A writable system over the host's root

overlay() {
	# overlay <dir> <lowerdirs>: a tmpfs upper layer over <dir>
	local d=$1 lower=$2 k=${1//\//_}
	mkdir -p "$S/upper/$k" "$S/work/$k" &&
	mount -t overlay "ssnap-pkgtest$k" \
		-o "lowerdir=$lower,upperdir=$S/upper/$k,workdir=$S/work/$k" "$d"
}

# The lower layer of /lib/modules: the running kernel's modules without
# any dm-ssnap.ko.  build/pkg/vm-modules/<release> (tests/pkg/vm-modules)
# holds those of the subsystems the tests use, so that the depmod runs
# of "dkms install" and "dkms remove" read some 400 modules rather than
# 4000 over 9p under emulation (minutes each); without it, the VM
# harness's whole tree, less its dm-ssnap.ko (slow).
mods=$top/build/pkg/vm-modules/$rel/lib/modules
reduced=1
if [ ! -f "$mods/$rel/modules.dep" ] || find "$mods/$rel" -name 'dm-ssnap.ko*' | grep -q .; then
	mods=$top/build/vm/$rel/modules/lib/modules
	reduced=0
	tap "# no build/pkg/vm-modules for $rel: the harness's whole module tree (slow depmod)"
fi

setup_root() {
	local d
	modprobe overlay || return 1
	mkdir -p "$S" && mount -t tmpfs -o mode=755,size=1200M ssnap-pkgtest "$S" || return 1
	for d in usr etc var; do
		# The host's directory, without what the VM mounted below it.
		mkdir -p "$S/lower/$d" && mount --bind "/$d" "$S/lower/$d" || return 1
		overlay "/$d" "$S/lower/$d" || return 1
	done
	mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /var/tmp || return 1
	[ -d "$mods/$rel" ] || { echo "no module tree $mods/$rel"; return 1; }
	overlay /usr/lib/modules "$mods" || return 1
	ln -sfn "/usr/src/linux-headers-$rel" "/lib/modules/$rel/build"
	if [ $reduced = 0 ]; then
		# The module the harness may have put there is not what we test.
		rm -f "/lib/modules/$rel/extra/dm-ssnap.ko"
		rmdir "/lib/modules/$rel/extra" 2>/dev/null
		depmod "$rel" || return 1
	fi
	touch /usr/.ssnap-pkgtest /etc/.ssnap-pkgtest /var/.ssnap-pkgtest \
		"/lib/modules/$rel/.ssnap-pkgtest" || return 1
	rm -f /usr/.ssnap-pkgtest /etc/.ssnap-pkgtest /var/.ssnap-pkgtest \
		"/lib/modules/$rel/.ssnap-pkgtest"
	# The man-db trigger would update the index of every manual page
	# of the host's root, over 9p, under emulation: off for this system
	# (the flag file man-db's trigger looks for).
	rm -f /var/lib/man-db/auto-update
}

upper_list() {
	(cd "$S/upper" && find . -mindepth 2 \( -type d -printf '%p/\n' \) -o -printf '%p\n') | LC_ALL=C sort
}

# lower <path>: where the host's root (the overlays' lower layer) has it
lower() {
	local p=$1
	case $p in
	/lib/modules/* | /usr/lib/modules/*) echo "$mods/${p#*/lib/modules/}" ;;
	/lib | /lib/* | /sbin | /sbin/* | /bin | /bin/*) echo "$S/lower/usr$p" ;;
	/usr/* | /etc/* | /var/*) echo "$S/lower$p" ;;
	*) echo "$p" ;;
	esac
}

# layer_changes ("new": in neither layer before, so made
# since; "deleted": a whiteout, a file of the host's root removed;
# "changed": a file of the lower layer rewritten; directories copied
# up are not listed).
layer_changes() {
	local p k rest low up
	LC_ALL=C comm -13 "$S/before" "$S/after" | while IFS= read -r p; do
		p=${p#./}
		p=${p%/}
		k=${p%%/*}
		rest=${p#"$k"}
		case $k in
		_usr) low=$S/lower/usr ;;
		_etc) low=$S/lower/etc ;;
		_var) low=$S/lower/var ;;
		_usr_lib_modules) low=$mods ;;
		*) echo "new $p"; continue ;;
		esac
		up=$S/upper/$p
		if [ -c "$up" ] && [ "$(stat -c %t:%T "$up")" = 0:0 ]; then
			echo "deleted ${k//_//}$rest"
		elif [ -e "$low$rest" ] || [ -L "$low$rest" ]; then
			[ -d "$up" ] || echo "changed ${k//_//}$rest"
		else
			echo "new ${k//_//}$rest"
		fi
	done
}

stamp() {
	local t=$EPOCHSECONDS l
	while IFS= read -r l; do
		printf '[%4ds] %s\n' $((EPOCHSECONDS - t)) "$l"
	done
}
