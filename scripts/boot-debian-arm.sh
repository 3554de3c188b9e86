#!/bin/sh
# Boots Debian 12's armmp kernel with a busybox shell on coremu-system-arm: the README's main
# job. Prepares the guest first (scripts/prepare-guest-arm.sh: Debian's packages, cached outside
# the tree), then runs the emulator built in BUILDDIR (default: the source tree itself):
#
#   scripts/boot-debian-arm.sh [-smp N] [other coremu-system-arm options...]
#
# Defaults: -M virt -smp 4 -m 512 -nographic, console on ttyAMA0. In the guest, `poweroff -f`
# ends the run with exit status 0; Ctrl-A x quits at any time.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
builddir=${BUILDDIR:-$(dirname "$here")}
bin=$builddir/coremu-system-arm
[ -x "$bin" ] || { echo "boot-debian-arm: $bin is not built (make first, or set BUILDDIR)" >&2; exit 1; }

paths=$("$here/prepare-guest-arm.sh" | tail -n 2)
kernel=$(echo "$paths" | sed -n 1p)
initrd=$(echo "$paths" | sed -n 2p)

smp=4
if [ "${1:-}" = "-smp" ] && [ -n "${2:-}" ]; then
    smp=$2
    shift 2
fi
exec "$bin" -M virt -smp "$smp" -m 512 -nographic -kernel "$kernel" -initrd "$initrd" \
    -append console=ttyAMA0 "$@"
