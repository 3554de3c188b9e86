#!/bin/sh
# Builds and runs the standalone test of the ARM CPU's system side (test_system.c): cpu.c,
# exception.c, mmu.c, memory.c, cp15.c, timer.c, atomic_arm.c and exec.c, with a fake decoder
# and the runtime's core-thread functions stubbed. Usage: run-test-system.sh [builddir]
set -e
here=$(cd "$(dirname "$0")" && pwd)
arm=$(dirname "$here")
top=$(dirname "$(dirname "$arm")")
work=$(mktemp -d "${TMPDIR:-/tmp}/test-system.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ -n "$1" ] && [ -f "$1/config.h" ]; then
    cfg=$1
else
    cfg=$work
    : > "$work/config.h"
fi
${CC:-gcc} -std=gnu11 -O1 -g -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Werror \
    ${SANITIZE:+-fsanitize=$SANITIZE} \
    -I"$top/include" -I"$arm" -I"$cfg" -o "$work/test_system" \
    "$here/test_system.c" "$arm/cpu.c" "$arm/exec.c" "$arm/memory.c" "$arm/mmu.c" \
    "$arm/exception.c" "$arm/cp15.c" "$arm/timer.c" "$arm/atomic_arm.c" \
    "$top/lib/physmem.c" "$top/lib/xmon.c" "$top/lib/atomic.c" "$top/lib/torture.c" \
    "$top/lib/clock.c" -lpthread -latomic
"$work/test_system"
