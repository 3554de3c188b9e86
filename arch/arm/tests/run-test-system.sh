#!/bin/sh
# Builds and runs the standalone test of the ARM CPU's system side (test_system.c): cpu.c,
# exception.c, mmu.c, memory.c, cp15.c, timer.c, atomic_arm.c, atomic_table.c, exec.c and the handlers that
# exec.c specialises (ops_dp.c, ops_ldst.c, and ops_branch.c which they use), with a fake
# decoder and the runtime's core-thread functions stubbed. Usage: run-test-system.sh [builddir]
name=system
. "$(cd "$(dirname "$0")" && pwd)/run-test-common.sh"
${CC:-gcc} -std=gnu11 -O1 -g -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Werror \
    ${SANITIZE:+-fsanitize=$SANITIZE} \
    -I"$top/include" -I"$arm" -I"$cfg" -o "$work/test_system" \
    "$here/test_system.c" "$arm/cpu.c" "$arm/exec.c" "$arm/memory.c" "$arm/mmu.c" \
    "$arm/exception.c" "$arm/cp15.c" "$arm/timer.c" "$arm/atomic_arm.c" "$arm/atomic_table.c" "$arm/ops_dp.c" \
    "$arm/ops_ldst.c" "$arm/ops_branch.c" \
    "$top/lib/physmem.c" "$top/lib/xmon.c" "$top/lib/tb.c" "$top/lib/atomic.c" "$top/lib/torture.c" \
    "$top/lib/clock.c" -lpthread -latomic
"$work/test_system"
