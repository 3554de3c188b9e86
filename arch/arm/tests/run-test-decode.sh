#!/bin/sh
# Builds and runs a standalone decoder/handler test, test_decode_$isa.c (isa: a32 or t32):
#   1. the hand-written corpus (corpus_$isa.S), checked strictly against objdump's mnemonics;
#   2. random encodings (RANDOM_N of them, seed RANDOM_SEED), checked against objdump;
#   3. handler semantics on a stub CPU.
# Needs gcc and the arm-none-eabi binutils. Usage: run-test-decode.sh a32|t32 [builddir]
# (run-test-decode-a32.sh and run-test-decode-t32.sh call it).
isa=$1
shift
case $isa in
a32 | t32) ;;
*)
    echo "usage: $0 a32|t32 [builddir-with-config.h]" >&2
    exit 2
    ;;
esac
name=decode-$isa
. "$(cd "$(dirname "$0")" && pwd)/run-test-common.sh"
RANDOM_N=${RANDOM_N:-200000}
RANDOM_SEED=${RANDOM_SEED:-1}

prog=$work/test_decode_$isa
${CC:-gcc} -std=gnu11 -O1 -g -Wall -Wextra -Wno-unused-parameter -Werror \
    -I"$top/include" -I"$arm" -I"$cfg" -o "$prog" \
    "$here/test_decode_$isa.c" "$here/decode_check.c" "$here/stub_cpu.c" "$here/stub_mem.c" \
    "$arm/decode_$isa.c" "$arm/cpu.c" "$arm/ops_dp.c" "$arm/ops_mul.c" "$arm/ops_parallel.c" \
    "$arm/ops_ldst.c" "$arm/ops_branch.c" "$arm/ops_misc.c" "$arm/atomic_table.c"

AS=${AS:-arm-none-eabi-as}
OBJDUMP=${OBJDUMP:-arm-none-eabi-objdump}
status=0

"$AS" -o "$work/corpus.o" "$here/corpus_$isa.S" 2>"$work/as.err" || { cat "$work/as.err"; exit 1; }
"$OBJDUMP" -d "$work/corpus.o" > "$work/corpus.dis"
"$prog" --objdump "$work/corpus.dis" --strict || status=1

"$prog" --random "$RANDOM_N" "$RANDOM_SEED" > "$work/random.S"
"$AS" -o "$work/random.o" "$work/random.S"
"$OBJDUMP" -d "$work/random.o" > "$work/random.dis"
"$prog" --objdump "$work/random.dis" || status=1

"$prog" --semantics || status=1
exit $status
