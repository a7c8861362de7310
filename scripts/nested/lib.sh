# lib.sh - shared helpers for the nested harness: kernel lookup, module
# dependency resolution, cached initramfs builds. Sourced by bash scripts.
#
# Everything here is about the *installed* Debian kernel (linux-image-amd64):
# the L1 and the L2 guests both boot /boot/vmlinuz-<ver> and load modules from
# /lib/modules/<ver>.
# shellcheck shell=bash

nested_die() {
	echo "${NESTED_PROG:-nested}: error: $*" >&2
	exit 2
}

# nested_repo_root - the repository root (two levels above scripts/nested).
nested_repo_root() {
	(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
}

# nested_kernel_version - print the kernel version to boot: $NESTED_KVER if
# set, else the newest /boot/vmlinuz-* that has a /lib/modules tree.
nested_kernel_version() {
	local v best=
	if [ -n "${NESTED_KVER:-}" ]; then
		echo "$NESTED_KVER"
		return 0
	fi
	for v in $(ls /boot/vmlinuz-* 2>/dev/null | sed 's|^/boot/vmlinuz-||' |
		sort -V); do
		[ -f "/lib/modules/$v/modules.dep" ] && best=$v
	done
	[ -n "$best" ] || return 1
	echo "$best"
}

# nested_require_kernel - set KVER and KERNEL or die with a clear message.
nested_require_kernel() {
	KVER=$(nested_kernel_version) ||
		nested_die "no kernel: need /boot/vmlinuz-<ver> with /lib/modules/<ver>/modules.dep (apt-get install linux-image-amd64)"
	KERNEL=/boot/vmlinuz-$KVER
	[ -r "$KERNEL" ] || nested_die "cannot read $KERNEL (run as root?)"
	[ -f "/lib/modules/$KVER/modules.dep" ] ||
		nested_die "no /lib/modules/$KVER/modules.dep for $KERNEL"
	KMODDIR=/lib/modules/$KVER
}

# nested_require_busybox - set BUSYBOX to a static busybox or die.
nested_require_busybox() {
	BUSYBOX=/bin/busybox
	[ -x "$BUSYBOX" ] || BUSYBOX=/usr/bin/busybox
	[ -x "$BUSYBOX" ] ||
		nested_die "no busybox: apt-get install busybox-static"
	if LC_ALL=C file -L "$BUSYBOX" 2>/dev/null | grep -q 'dynamically linked'; then
		nested_die "$BUSYBOX is dynamically linked: apt-get install busybox-static"
	fi
}

# nested_resolve_modules KMODDIR NAME... - print the module files (paths
# relative to KMODDIR) needed to load NAMEs, dependencies first, each once.
# Names may use - or _; modules built into the kernel print nothing.
# Fails (status 1, message on stderr) for an unknown name.
nested_resolve_modules() {
	local dir=$1
	shift
	[ $# -gt 0 ] || return 0
	awk -v names="$*" -v builtin="$dir/modules.builtin" '
	function norm(s) { gsub(/-/, "_", s); return s }
	function base(p,   b) {
		b = p; sub(/.*\//, "", b); sub(/\.ko(\.(xz|zst|gz))?$/, "", b)
		return norm(b)
	}
	function visit(m,   n, i, d) {
		if (m in done) return
		done[m] = 1
		n = split(deps[m], d, " ")
		# modules.dep lists a module'"'"'s dependencies so that the last
		# one must be loaded first.
		for (i = n; i >= 1; i--) visit(base(d[i]))
		print path[m]
	}
	BEGIN {
		while ((getline line < builtin) > 0) isbuiltin[base(line)] = 1
	}
	{
		p = $1; sub(/:$/, "", p)
		m = base(p)
		path[m] = p
		$1 = ""
		deps[m] = $0
	}
	END {
		n = split(names, want, " ")
		for (i = 1; i <= n; i++) {
			m = norm(want[i])
			if (m in path) visit(m)
			else if (!(m in isbuiltin)) {
				print "unknown module: " want[i] > "/dev/stderr"
				bad = 1
			}
		}
		exit bad
	}' "$dir/modules.dep"
}

# nested_inputs_key FILE... - a short hash of the names, sizes and mtimes of
# FILEs, used to tell when a cached image must be rebuilt.
nested_inputs_key() {
	stat -L -c '%n %s %Y' "$@" | sha256sum | cut -c1-16
}

# nested_cpio DIR OUT - pack DIR into a newc cpio archive OUT (gzip -1 if OUT
# ends in .gz), atomically: OUT appears complete or not at all.
nested_cpio() {
	local dir=$1 out=$2 tmp
	tmp=$(mktemp "$out.XXXXXX")
	if [ "${out%.gz}" != "$out" ]; then
		(cd "$dir" && find . -print0 | LC_ALL=C sort -z |
			cpio --null -o -H newc --owner 0:0 --quiet) | gzip -1 >"$tmp"
	else
		(cd "$dir" && find . -print0 | LC_ALL=C sort -z |
			cpio --null -o -H newc --owner 0:0 --quiet) >"$tmp"
	fi || { rm -f "$tmp"; return 1; }
	chmod 644 "$tmp"
	mv -f "$tmp" "$out"
}

# nested_busybox_tree BUSYBOX DIR - install busybox and a symlink per applet
# into DIR/bin, so /init needs no --install at boot.
nested_busybox_tree() {
	local bb=$1 dir=$2 a
	mkdir -p "$dir/bin" "$dir/sbin" "$dir/dev" "$dir/proc" "$dir/sys" \
		"$dir/tmp" "$dir/run" "$dir/mnt" "$dir/etc" "$dir/root"
	cp "$bb" "$dir/bin/busybox"
	for a in $("$bb" --list); do
		[ "$a" = busybox ] && continue
		ln -sf busybox "$dir/bin/$a"
	done
}

# nested_extract_vmlinux BZIMAGE OUT - decompress the kernel inside a bzImage
# into OUT (an ELF vmlinux). Booting that through its PVH entry spares the
# guest the in-kernel decompression, which costs seconds under TCG.
# Fails (status 1) unless the result is an ELF with a PVH entry note.
nested_extract_vmlinux() {
	local bz=$1 out=$2 ss po pl off magic tmp
	[ "$(od -An -c -j 514 -N4 "$bz" | tr -d ' ')" = HdrS ] || return 1
	ss=$(od -An -tu1 -j $((0x1f1)) -N1 "$bz" | tr -d ' ')
	[ "$ss" = 0 ] && ss=4
	po=$(od -An -tu4 -j $((0x248)) -N4 "$bz" | tr -d ' ')
	pl=$(od -An -tu4 -j $((0x24c)) -N4 "$bz" | tr -d ' ')
	off=$(((ss + 1) * 512 + po))
	magic=$(od -An -tx1 -j "$off" -N6 "$bz" | tr -d ' ')
	tmp=$(mktemp "$out.XXXXXX")
	case $magic in
	fd377a585a00) tail -c +$((off + 1)) "$bz" | head -c "$pl" |
		xz -dc --single-stream >"$tmp" 2>/dev/null ;;
	1f8b*) tail -c +$((off + 1)) "$bz" | head -c "$pl" |
		gzip -dc >"$tmp" 2>/dev/null ;;
	28b52ffd*) tail -c +$((off + 1)) "$bz" | head -c "$pl" |
		zstd -dcq >"$tmp" 2>/dev/null ;;
	*) false ;;
	esac
	# gzip and xz complain about the size word after the stream; judge
	# the result instead of the status.
	if [ "$(od -An -c -N4 "$tmp" | tr -d ' ')" = '177ELF' ] &&
		readelf -n "$tmp" 2>/dev/null | grep -q 'type: (0x00000012)'; then
		mv -f "$tmp" "$out"
		return 0
	fi
	rm -f "$tmp"
	return 1
}
