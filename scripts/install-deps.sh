#!/bin/sh
# Installs what building and testing coremu needs on Debian 12 (run as root).
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
    build-essential autoconf automake libtool pkg-config \
    libhwloc-dev zlib1g-dev libfdt-dev libsdl2-dev libslirp-dev \
    dejagnu expect device-tree-compiler gcc-arm-none-eabi qemu-system-arm \
    debhelper devscripts equivs lintian fakeroot dpkg-dev
