#!/bin/sh
# Builds and runs the standalone T32 decoder/handler test (test_decode_t32.c):
#   1. the hand-written corpus (corpus_t32.S), checked strictly against objdump's mnemonics;
#   2. random encodings (RANDOM_N of them, seed RANDOM_SEED), checked against objdump;
#   3. Thumb-specific handler semantics on a stub CPU.
# Needs gcc and the arm-none-eabi binutils. Usage: run-test-decode-t32.sh [builddir-with-config.h]
set -e
here=$(cd "$(dirname "$0")" && pwd)
arm=$(dirname "$here")
top=$(dirname "$(dirname "$arm")")
work=$(mktemp -d "${TMPDIR:-/tmp}/test-decode-t32.XXXXXX")
trap 'rm -rf "$work"' EXIT
RANDOM_N=${RANDOM_N:-200000}
RANDOM_SEED=${RANDOM_SEED:-1}

# config.h: the build's, or an empty one (the files under test need nothing from it).
if [ -n "$1" ] && [ -f "$1/config.h" ]; then
    cfg=$1
else
    cfg=$work
    : > "$work/config.h"
fi

${CC:-gcc} -std=gnu11 -O1 -g -Wall -Wextra -Wno-unused-parameter -Werror \
    -I"$top/include" -I"$arm" -I"$cfg" -o "$work/test_decode_t32" \
    "$here/test_decode_t32.c" "$arm/decode_t32.c" "$arm/ops_dp.c" "$arm/ops_mul.c" \
    "$arm/ops_parallel.c" "$arm/ops_ldst.c" "$arm/ops_branch.c" "$arm/ops_misc.c"

AS=${AS:-arm-none-eabi-as}
OBJDUMP=${OBJDUMP:-arm-none-eabi-objdump}
status=0

"$AS" -o "$work/corpus.o" "$here/corpus_t32.S" 2>"$work/as.err" || { cat "$work/as.err"; exit 1; }
"$OBJDUMP" -d "$work/corpus.o" > "$work/corpus.dis"
"$work/test_decode_t32" --objdump "$work/corpus.dis" --strict || status=1

"$work/test_decode_t32" --random "$RANDOM_N" "$RANDOM_SEED" > "$work/random.S"
"$AS" -o "$work/random.o" "$work/random.S"
"$OBJDUMP" -d "$work/random.o" > "$work/random.dis"
"$work/test_decode_t32" --objdump "$work/random.dis" || status=1

"$work/test_decode_t32" --semantics || status=1
exit $status
