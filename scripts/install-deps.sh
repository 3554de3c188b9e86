#!/bin/sh
# Installs what building and testing coremu needs on Debian 12. Run it as root, or as a user
# with sudo: it then runs itself again through sudo (a minimal Debian has no sudo, and its root
# needs none).
set -eu
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "install-deps: installing packages needs root, and sudo is not installed:" \
            "run this script as root" >&2
        exit 1
    fi
    exec sudo sh "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
# A failed index download (a mirror in the middle of a sync, an extra architecture's list) must
# not stop the install when the lists we need are there: retry, then let apt-get install decide.
for attempt in 1 2 3; do
    if apt-get update -q; then
        break
    fi
    echo "install-deps: apt-get update failed (attempt $attempt); retrying" >&2
    sleep 5
done
apt-get install -y -q --no-install-recommends \
    build-essential autoconf automake libtool pkg-config \
    libhwloc-dev zlib1g-dev libfdt-dev libsdl2-dev libslirp-dev \
    dejagnu expect device-tree-compiler gcc-arm-none-eabi qemu-system-arm qemu-system-x86 cpio \
    qemu-utils debhelper devscripts equivs lintian fakeroot dpkg-dev acpica-tools socat \
    clang libclang-rt-14-dev
