#!/bin/sh
# Usage: toolchain-flags.sh ARM_CC
#
# Prints the compiler and linker flags that make ARM_CC build the bare-metal ARM test programs
# (testsuite/arm/, testsuite/difftest/), or says on stderr why it cannot and exits 1. configure
# runs it to accept or refuse a compiler; run-difftest.sh runs it for its --arm-cc.
#
# The programs link no C library and no libgcc (lib.c has the division helpers), so the same
# sources build with a bare-metal compiler (arm-none-eabi-gcc) and with a Linux one
# (arm-linux-gnueabihf-gcc), once the Linux compiler's defaults are turned off: position
# independent code and executables (the programs run at their link address with nobody to
# relocate them), a dynamic link (program interpreter, dynamic sections), the stack protector
# (there is no guard and no __stack_chk_fail), and a build-id note the linker script discards.
set -u

cc=${1:?usage: toolchain-flags.sh ARM_CC}
here=$(cd "$(dirname "$0")" && pwd)
flags="-fno-pie -no-pie -static -fno-stack-protector -Wa,--noexecstack -Wl,--build-id=none"
# What every program is built with besides (testsuite/arm/Makefile.inc, run-difftest.sh).
base="-march=armv7-a -marm -mfloat-abi=soft -O2 -ffreestanding -nostdlib"

work=$(mktemp -d "${TMPDIR:-/tmp}/arm-cc.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

# A program with code, data and bss, linked as the tests are.
cat >"$work/probe.c" <<'EOF'
volatile unsigned probe_value = 1000;
volatile unsigned probe_count;

void _start(void)
{
    probe_count = probe_value + 1u;
    for (;;) {
    }
}
EOF
# link EXTRA-FLAGS...: links the probe with the test programs' linker script; the linker's
# messages in $work/log.
link() {
    # shellcheck disable=SC2086
    $cc $base $flags "$@" -o "$work/probe.elf" "$work/probe.c" -T "$here/link.ld" \
        >"$work/log" 2>&1
}

if ! command -v "${cc%% *}" >/dev/null 2>&1; then
    echo "$cc: not found" >&2
    exit 1
fi
if ! link; then
    # The first line says it all (configure shows only that one); a few more follow.
    echo "$cc cannot build a bare-metal ARMv7-A program: $(sed 1q "$work/log")" >&2
    sed -n '2,5s/^/  /p' "$work/log" >&2
    exit 1
fi
# binutils 2.39 and later warn, for Linux targets, that the program's one segment is writable
# and executable, which is what a bare-metal program in RAM is: silence that if the linker can.
if [ -s "$work/log" ] && link -Wl,--no-warn-rwx-segments && [ ! -s "$work/log" ]; then
    flags="$flags -Wl,--no-warn-rwx-segments"
fi
# The result must be a plain executable at the RAM base: no program interpreter, no dynamic
# section (the ELF header's e_type at offset 16 is ET_EXEC, 2).
type=$(od -An -tu2 -j16 -N2 "$work/probe.elf" | tr -d ' ')
if [ "$type" != 2 ] || grep -q 'ld-linux\|ld\.so' "$work/probe.elf"; then
    echo "$cc does not build a static, position-dependent executable with: $flags" >&2
    exit 1
fi
echo "$flags"
