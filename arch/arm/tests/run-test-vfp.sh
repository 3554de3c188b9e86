#!/bin/sh
# Builds and runs the VFP decoder/semantics test (test_vfp.c): hand-checked cases from the ARM
# ARM pseudocode, random operations against the host FPU, and — when qemu-system-arm and
# arm-none-eabi-gcc are installed — a replay of reference results computed by a bare-metal
# Cortex-A15 program under qemu-system-arm (a test-time oracle only).
# Usage: run-test-vfp.sh [builddir-with-config.h]
name=vfp
. "$(cd "$(dirname "$0")" && pwd)/run-test-common.sh"

${CC:-gcc} -std=gnu11 -O2 -Wall -Wextra -Wno-unused-parameter -Werror -frounding-math \
    -D_GNU_SOURCE -I"$top/include" -I"$arm" -I"$cfg" -o "$work/test_vfp" \
    "$here/test_vfp.c" "$here/stub_mem.c" "$arm/decode_vfp.c" "$arm/ops_vfp.c" -lm

ref=
ARM_CC=${ARM_CC:-arm-none-eabi-gcc}
QEMU=${QEMU_SYSTEM_ARM:-qemu-system-arm}
if command -v "$ARM_CC" >/dev/null 2>&1 && command -v "$QEMU" >/dev/null 2>&1; then
    "$ARM_CC" -DVFP_ORACLE_GUEST -marm -mcpu=cortex-a15 -mfpu=vfpv4 -mfloat-abi=softfp -O2 \
        -nostdlib -ffreestanding -Wl,-Ttext=0x40000000 -Wl,-e,_start \
        "$here/test_vfp.c" -o "$work/vfp_oracle.elf"
    # QEMU writes the guest's semihosting output to stderr. -nic none: QEMU does not start
    # without its default network card's PXE ROM (ipxe-qemu, not installed everywhere).
    if timeout 300 "$QEMU" -M virt -cpu cortex-a15 -nographic -nic none -semihosting \
        -kernel "$work/vfp_oracle.elf" </dev/null >"$work/ref.txt" 2>&1; then
        ref="$work/ref.txt"
    else
        echo "note: qemu-system-arm reference run failed; host-only checks"
    fi
else
    echo "note: no arm-none-eabi-gcc or qemu-system-arm; reference replay skipped"
fi
"$work/test_vfp" $ref
