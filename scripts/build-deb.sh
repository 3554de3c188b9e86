#!/bin/sh
# build-deb.sh [SOURCE-TREE]
#
# Builds coremu's Debian packages the way a distribution does, from a clean source tree
# (default: the repository this script lives in), then installs and tries them:
#
#   1. installs the build dependencies (debian/control) with apt-get build-dep;
#   2. makes the release tarball (scripts/make-dist.sh: autoreconf, configure, make dist, in a
#      temporary copy; DISTCHECK=1 runs make distcheck instead);
#   3. unpacks it as coremu_VERSION.orig.tar.gz + debian/, builds the source package
#      (dpkg-source -b) and the binary packages (dpkg-buildpackage -us -uc -b; DEB_BUILD_OPTIONS
#      is passed through, e.g. DEB_BUILD_OPTIONS=nocheck);
#   4. runs lintian on the .changes and the .dsc and fails on any error (LINTIAN_FAIL_ON
#      chooses the levels that fail, default "error"; e.g. LINTIAN_FAIL_ON=error,warning);
#   5. installs the packages with `apt-get install ./*.deb` and runs the installed
#      /usr/bin/coremu-system-arm -version;
#   6. runs the package's autopkgtests (debian/tests) against the installed packages with
#      autopkgtest's null runner, unless AUTOPKGTEST=0.
#
# Must run as root (or with sudo available): it installs packages. The results stay in
# OUTPUT_DIR (default: a new temporary directory, printed at the end).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "${1:-$here/..}" && pwd)
[ -f "$src/debian/control" ] || { echo "build-deb: $src has no debian/control" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi
apt_get() { $sudo env DEBIAN_FRONTEND=noninteractive apt-get -y -q "$@"; }
step() { printf '\n=== build-deb: %s\n' "$*"; }

out=${OUTPUT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/coremu-deb.XXXXXX")}
mkdir -p "$out"
out=$(cd "$out" && pwd)

step "installing the build dependencies"
apt_get update || echo "build-deb: apt-get update reported errors (mirror sync?); going on with the lists we have" >&2
apt_get install --no-install-recommends \
    build-essential dpkg-dev debhelper lintian autoconf automake libtool pkgconf git
# apt reads the Build-Depends of the debian/control in that directory.
apt_get build-dep --no-install-recommends "$src"

step "making the release tarball"
tarball=$("$here/make-dist.sh" "$src" "$out" | tail -n 1)
base=$(basename "$tarball" .tar.gz)    # coremu-0.1.0
version=${base#coremu-}

debversion=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
case "$debversion" in
    "$version"-*|*:"$version"-*) ;;
    *) echo "build-deb: debian/changelog is at $debversion, the tarball at $version" >&2; exit 1 ;;
esac

step "unpacking $base with debian/"
cd "$out"
rm -rf "$base"
cp "$tarball" "coremu_$version.orig.tar.gz"
tar -xzf "coremu_$version.orig.tar.gz"
cp -a "$src/debian" "$base/"

step "building the source package"
dpkg-source -b "$base"

step "building the binary packages (DEB_BUILD_OPTIONS='${DEB_BUILD_OPTIONS:-}')"
if [ -z "${DEB_BUILD_OPTIONS:-}" ] || ! echo "$DEB_BUILD_OPTIONS" | grep -q 'parallel='; then
    DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }parallel=$(nproc)"
fi
export DEB_BUILD_OPTIONS
(cd "$base" && dpkg-buildpackage -us -uc -b)

arch=$(dpkg-architecture -q DEB_HOST_ARCH)
changes=$out/coremu_${debversion#*:}_$arch.changes
dsc=$out/coremu_${debversion#*:}.dsc

step "lintian (failing on: ${LINTIAN_FAIL_ON:-error})"
lintian --display-info --pedantic --fail-on "${LINTIAN_FAIL_ON:-error}" "$changes" "$dsc"

step "installing the packages"
# Every .deb of the build but the debug symbols.
debs=$(sed -n '/^Files:/,/^[^ ]/s/^ .* \([^ ]*\.deb\)$/\1/p' "$changes" | grep -v -- '-dbgsym_')
set --
for d in $debs; do set -- "$@" "./$d"; done
apt_get install --no-install-recommends "$@"

step "running the installed coremu-system-arm"
/usr/bin/coremu-system-arm -version
man -w coremu-system-arm >/dev/null 2>&1 || [ -f /usr/share/man/man1/coremu-system-arm.1.gz ] ||
    { echo "build-deb: the man page is not installed" >&2; exit 1; }

if [ "${AUTOPKGTEST:-1}" != 0 ]; then
    step "autopkgtest (null runner) against the installed packages"
    apt_get install --no-install-recommends autopkgtest
    # Exit status 2 means "at least one test was skipped" (bare-metal, while the source tree
    # has no bare-metal tests); 8 means "no tests"; anything else non-zero is a failure.
    rc=0
    autopkgtest --output-dir "$out/autopkgtest" "$dsc" "$@" -- null || rc=$?
    case $rc in
        0|2) ;;
        *)
            # autopkgtest also fails (status 20) when restoring the testbed's apt lists does
            # not work, e.g. a mirror in the middle of a sync, after every test has passed.
            # Judge the tests by their own results then.
            summary=$out/autopkgtest/summary
            if [ -s "$summary" ] && ! grep -qvE '^[^ ]+ +(PASS|SKIP)' "$summary"; then
                echo "build-deb: autopkgtest status $rc after all tests passed:" >&2
                cat "$summary" >&2
            else
                echo "build-deb: autopkgtest failed (status $rc)" >&2
                [ -f "$summary" ] && cat "$summary" >&2
                exit 1
            fi
            ;;
    esac
fi

step "done: packages in $out"
ls -1 "$out"/*.deb
