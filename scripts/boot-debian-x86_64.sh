#!/bin/sh
# Boots Debian 12's amd64 kernel with a busybox shell on coremu-system-x86_64 (4 cores by
# default): the README's main job for the PC. See scripts/boot-debian.sh for the options.
exec "$(dirname "$0")/boot-debian.sh" x86_64 "$@"
