#!/bin/sh
# Boots Debian 12's armmp kernel with a busybox shell on coremu-system-arm: the README's main
# job. Prepares the guest first (scripts/prepare-guest-arm.sh: Debian's packages, cached outside
# the tree), then runs the emulator built in BUILDDIR (default: the source tree itself):
#
#   scripts/boot-debian-arm.sh [-smp N] [other coremu-system-arm options...]
#
# Defaults: -M virt -smp 4 -m 512 -nographic, console on ttyAMA0. In the guest, `poweroff -f`
# ends the run with exit status 0; Ctrl-A x quits at any time.
#
# Run it as root or as a user with sudo: the one step that needs root (the first time, adding
# the armhf architecture to dpkg and fetching its package index) is then done through sudo, and
# everything else, the emulator included, runs as the user.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
builddir=${BUILDDIR:-$(dirname "$here")}
bin=$builddir/coremu-system-arm
[ -x "$bin" ] || { echo "boot-debian-arm: $bin is not built (make first, or set BUILDDIR)" >&2; exit 1; }

have_armhf_index() {
    apt-cache show busybox-static:armhf >/dev/null 2>&1 &&
        apt-cache show linux-image-armmp:armhf >/dev/null 2>&1
}
if [ "$(id -u)" -ne 0 ] && command -v apt-cache >/dev/null 2>&1 && ! have_armhf_index; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "boot-debian-arm: the armhf package index is missing and sudo is not installed:" \
            "run this script as root once" >&2
        exit 1
    fi
    echo "boot-debian-arm: adding the armhf architecture to dpkg (sudo)" >&2
    sudo dpkg --add-architecture armhf
    # A partial failure (one mirror's index out of sync) is fine when the packages are known
    # afterwards; prepare-guest-arm.sh checks that.
    sudo apt-get update -q >&2 || echo "boot-debian-arm: apt-get update reported errors" >&2
fi

# Its message says what went wrong; there is nothing to boot then.
paths=$("$here/prepare-guest-arm.sh") || exit 1
paths=$(echo "$paths" | tail -n 2)
kernel=$(echo "$paths" | sed -n 1p)
initrd=$(echo "$paths" | sed -n 2p)

smp=4
if [ "${1:-}" = "-smp" ] && [ -n "${2:-}" ]; then
    smp=$2
    shift 2
fi
exec "$bin" -M virt -smp "$smp" -m 512 -nographic -kernel "$kernel" -initrd "$initrd" \
    -append console=ttyAMA0 "$@"
