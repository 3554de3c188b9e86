#!/bin/sh
# Boots Debian 12's own kernel with a busybox shell on a coremu emulator: the README's main job.
# Prepares the guest first (scripts/prepare-guest-ARCH.sh: Debian's packages, cached outside the
# tree), then runs the emulator built in BUILDDIR (default: the source tree itself):
#
#   scripts/boot-debian.sh arm|x86_64 [-smp N] [other emulator options...]
#
# (scripts/boot-debian-arm.sh and scripts/boot-debian-x86_64.sh are this with ARCH given.)
# Defaults: 4 cores, -nographic; arm: -M virt -m 512, console on ttyAMA0 (Debian's armmp);
# x86_64: -M pc -m 1G, console on ttyS0 (Debian's amd64). In the guest, `poweroff -f` ends the
# run with exit status 0; Ctrl-A x quits at any time.
#
# Run it as root or as a user with sudo: the one step that needs root (for arm, the first time,
# adding the armhf architecture to dpkg and fetching its package index) is then done through
# sudo, and everything else, the emulator included, runs as the user.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
builddir=${BUILDDIR:-$(dirname "$here")}
arch=${1:-}
case $arch in
arm) machine="-M virt -m 512" console=ttyAMA0 ;;
x86_64) machine="-M pc -m 1G" console=ttyS0 ;;
*)
    echo "boot-debian: usage: boot-debian.sh arm|x86_64 [-smp N] [options...]" >&2
    exit 1
    ;;
esac
shift
me=boot-debian-$arch
bin=$builddir/coremu-system-$arch
[ -x "$bin" ] || { echo "$me: $bin is not built (make first, or set BUILDDIR)" >&2; exit 1; }

have_armhf_index() {
    apt-cache show busybox-static:armhf >/dev/null 2>&1 &&
        apt-cache show linux-image-armmp:armhf >/dev/null 2>&1
}
if [ "$arch" = arm ] && [ "$(id -u)" -ne 0 ] && command -v apt-cache >/dev/null 2>&1 &&
    ! have_armhf_index; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "$me: the armhf package index is missing and sudo is not installed:" \
            "run this script as root once" >&2
        exit 1
    fi
    echo "$me: adding the armhf architecture to dpkg (sudo)" >&2
    sudo dpkg --add-architecture armhf
    # A partial failure (one mirror's index out of sync) is fine when the packages are known
    # afterwards; prepare-guest-arm.sh checks that.
    sudo apt-get update -q >&2 || echo "$me: apt-get update reported errors" >&2
fi

# Its message says what went wrong; there is nothing to boot then.
paths=$("$here/prepare-guest-$arch.sh") || exit 1
paths=$(echo "$paths" | tail -n 2)
kernel=$(echo "$paths" | sed -n 1p)
initrd=$(echo "$paths" | sed -n 2p)

smp=4
if [ "${1:-}" = "-smp" ] && [ -n "${2:-}" ]; then
    smp=$2
    shift 2
fi
# $machine is split on purpose: it is two options.
# shellcheck disable=SC2086
exec "$bin" $machine -smp "$smp" -nographic -kernel "$kernel" -initrd "$initrd" \
    -append "console=$console" "$@"
