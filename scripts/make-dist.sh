#!/bin/sh
# make-dist.sh [SOURCE-TREE [OUTPUT-DIR]]
#
# Makes coremu's release tarball from a source tree without touching it: copies the tree's
# files (for a git checkout: tracked files plus untracked ones that are not ignored, so that
# build output never leaks into the tarball) to a temporary directory, runs autoreconf,
# configure and `make dist` there (`make distcheck` when DISTCHECK=1), and moves the tarball
# to OUTPUT-DIR (default: the current directory). Prints the tarball's path on its last line.
#
# Needs Autoconf, Automake, Libtool, pkg-config and the libraries configure requires (on
# Debian: apt-get build-dep ./ in the source tree; scripts/build-deb.sh does it).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "${1:-$here/..}" && pwd)
out=$(mkdir -p "${2:-.}" && cd "${2:-.}" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/coremu-dist.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir "$tmp/src"

if git -C "$src" rev-parse --show-toplevel >/dev/null 2>&1; then
    # Tracked files and untracked, not ignored ones (files deleted in the work tree skipped).
    # shellcheck disable=SC2016
    git -C "$src" ls-files -z --cached --others --exclude-standard |
        (cd "$src" && xargs -0 sh -c 'for f; do [ -e "$f" ] || [ -L "$f" ] && printf "%s\0" "$f"; done; :' sh) |
        (cd "$src" && tar --null -T - -cf -) | tar -xf - -C "$tmp/src"
else
    cp -a "$src"/. "$tmp/src"/
fi

cd "$tmp/src"
echo "make-dist: autoreconf in $tmp/src" >&2
autoreconf -fi >&2
./configure --disable-werror >&2
if [ "${DISTCHECK:-0}" = 1 ]; then
    make distcheck >&2
else
    make dist >&2
fi
version=$(sed -n 's/^PACKAGE_VERSION = //p' Makefile)
tarball=coremu-$version.tar.gz
[ -f "$tarball" ] || { echo "make-dist: $tarball was not made" >&2; exit 1; }
mv "$tarball" "$out/"
echo "$out/$tarball"
