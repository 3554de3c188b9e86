#!/bin/sh
# Boots Debian 12's armmp kernel with a busybox shell on coremu-system-arm (4 cores by default):
# the README's main job. See scripts/boot-debian.sh for the options.
exec "$(dirname "$0")/boot-debian.sh" arm "$@"
