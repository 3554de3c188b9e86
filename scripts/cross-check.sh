#!/bin/sh
# Cross-builds coremu for another Debian architecture and runs its unit test binaries under
# qemu-user: the check that the interpreter still builds and passes on weakly ordered hosts
# (arm64, ppc64el), which CI (an amd64 host) does not make.
#
#   scripts/cross-check.sh [--install] ARCH [BUILD_DIR]
#
# ARCH is a Debian architecture: arm64 or ppc64el. BUILD_DIR defaults to ./build-cross-ARCH.
# --install first installs (as root) the cross compiler, the ARCH dev packages configure needs
# (dpkg --add-architecture ARCH) and qemu-user-static. The script configures with
# --host=TRIPLET --enable-werror (SDL2 left out), builds everything and the unit tests, runs
# every testsuite/unit/test-* under qemu-ARCH and prints PASS/FAIL/SKIP for each (SKIP: exit 77
# or UNSUPPORTED, a test whose oracle is an x86 host CPU); exit status 1 when any failed.
# s390x is refused: coremu supports little-endian hosts only. CROSS_CHECK_TIMEOUT sets each
# test's time limit in seconds (default 900); CROSS_CHECK_TESTS="test-a test-b" runs only those.
set -eu

usage() {
    echo "usage: $0 [--install] arm64|ppc64el [BUILD_DIR]" >&2
    exit 1
}

install=no
if [ "${1:-}" = "--install" ]; then
    install=yes
    shift
fi
[ $# -ge 1 ] || usage
arch=$1
build=${2:-$PWD/build-cross-$arch}
case $arch in
arm64) triplet=aarch64-linux-gnu qemu=aarch64 ;;
ppc64el) triplet=powerpc64le-linux-gnu qemu=ppc64le ;;
s390x)
    echo "cross-check: s390x is big-endian and coremu supports little-endian hosts only" >&2
    exit 1
    ;;
*)
    echo "cross-check: unknown architecture '$arch' (arm64 or ppc64el)" >&2
    exit 1
    ;;
esac
srcdir=$(cd "$(dirname "$0")/.." && pwd)

if [ $install = yes ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "cross-check: --install needs root" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    dpkg --add-architecture "$arch"
    apt-get update -q || true
    apt-get install -y -q --no-install-recommends "gcc-$triplet" "libc6-dev-$arch-cross" \
        "libhwloc-dev:$arch" "zlib1g-dev:$arch" "libfdt-dev:$arch" "libslirp-dev:$arch" \
        "libglib2.0-dev:$arch" \
        qemu-user-static pkg-config
fi

for tool in "$triplet-gcc" "qemu-$qemu-static"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "cross-check: $tool is not installed (run with --install as root)" >&2
        exit 1
    fi
done

# pkg-config must see only the target's .pc files, not the build machine's.
PKG_CONFIG_LIBDIR=/usr/lib/$triplet/pkgconfig:/usr/share/pkgconfig
export PKG_CONFIG_LIBDIR
unset PKG_CONFIG_PATH

mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ]; then
    "$srcdir/configure" --host="$triplet" --enable-werror --with-sdl2=no >configure.log 2>&1 || {
        tail -20 configure.log >&2
        echo "cross-check: configure failed (see $build/configure.log)" >&2
        exit 1
    }
fi
jobs=$(nproc 2>/dev/null || echo 2)
make -j"$jobs" >make.log 2>&1 || {
    grep -E 'error|warning' make.log | head -40 >&2
    echo "cross-check: build failed (see $build/make.log)" >&2
    exit 1
}
# The unit tests are check programs: build them without running DejaGnu (which would run the
# target's binaries directly on this machine).
printer=$build/print-check-programs.mk
printf 'print-check-programs:\n\t@echo $(check_PROGRAMS)\n' >"$printer"
check_programs=$(make -s -f Makefile -f "$printer" print-check-programs)
# shellcheck disable=SC2086 # a list of targets
make -j"$jobs" $check_programs >>make.log 2>&1 || {
    grep -E 'error|warning' make.log | head -40 >&2
    echo "cross-check: building the unit tests failed (see $build/make.log)" >&2
    exit 1
}

# The target's libraries: the cross libc under /usr/TRIPLET, the multiarch dev packages'
# libraries under /usr/lib/TRIPLET; libtool wrappers are skipped (the real binary is in .libs).
QEMU_LD_PREFIX=/usr/$triplet
LD_LIBRARY_PATH=/usr/lib/$triplet:/lib/$triplet:$build/lib/.libs
export QEMU_LD_PREFIX LD_LIBRARY_PATH
# A test's time limit (s): emulated, the contention tests are many times slower than natively.
timeout_s=${CROSS_CHECK_TIMEOUT:-900}
pass=0
skip=0
fail=0
failed=
tests=
for name in ${CROSS_CHECK_TESTS:-}; do
    tests="$tests testsuite/unit/$name"
done
for t in ${tests:-testsuite/unit/test-*}; do
    case $t in
    *.o | *.c | *.log) continue ;;
    esac
    [ -x "$t" ] || continue
    bin=$t
    if [ -x "testsuite/unit/.libs/$(basename "$t")" ]; then
        bin=testsuite/unit/.libs/$(basename "$t")
    fi
    name=$(basename "$t")
    rc=0
    timeout "$timeout_s" "qemu-$qemu-static" "$bin" >"$name.cross.log" 2>&1 || rc=$?
    if [ $rc -eq 77 ] || { [ $rc -eq 0 ] && grep -q '^UNSUPPORTED' "$name.cross.log" &&
        ! grep -q '^PASS' "$name.cross.log"; }; then
        # a test whose oracle is the host CPU (x86 only) says so and does not count
        skip=$((skip + 1))
        echo "SKIP: $name: $(head -1 "$name.cross.log")"
    elif [ $rc -eq 0 ]; then
        pass=$((pass + 1))
        echo "PASS: $name"
    elif [ $rc -eq 124 ]; then
        fail=$((fail + 1))
        failed="$failed $name(timeout)"
        echo "FAIL: $name: no end after ${timeout_s}s under qemu-$qemu (see $build/$name.cross.log)"
    else
        fail=$((fail + 1))
        failed="$failed $name"
        echo "FAIL: $name: exit status $rc (see $build/$name.cross.log)"
    fi
done
echo "cross-check $arch: $pass passed, $skip skipped, $fail failed${failed:+:$failed}"
[ $fail -eq 0 ]
