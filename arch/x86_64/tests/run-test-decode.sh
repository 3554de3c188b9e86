#!/bin/sh
# The x86_64 decoder front end (decode.c, opcode_maps.c) against GNU objdump, which nobody
# here wrote: for every instruction objdump finds, x86_decode must agree on its length and on
# whether it is defined. test_decode.c documents the classes where objdump differs from the
# SDM; those are counted, not failed.
#   1. the length rules objdump cannot show (15-byte limit, short input), hand-written;
#   2. corpus: the first CORPUS_KB KB of .text of each host program in CORPUS (64-bit);
#   3. random byte strings (RANDOM_N of them, seed RANDOM_SEED) in 64-, 32- and 16-bit mode.
# Needs gcc and binutils (objdump, objcopy). Usage: run-test-decode.sh [builddir]
set -e
here=$(cd "$(dirname "$0")" && pwd)
x86=$(dirname "$here")
work=$(mktemp -d "${TMPDIR:-/tmp}/test-x86-decode.XXXXXX")
trap 'rm -rf "$work"' EXIT
CORPUS=${CORPUS:-"/usr/bin/bash /usr/bin/objdump /lib/x86_64-linux-gnu/libc.so.6"}
CORPUS_KB=${CORPUS_KB:-200}
RANDOM_N=${RANDOM_N:-100000}
RANDOM_SEED=${RANDOM_SEED:-1}
OBJDUMP=${OBJDUMP:-objdump}
OBJCOPY=${OBJCOPY:-objcopy}

if ! command -v "$OBJDUMP" > /dev/null || ! command -v "$OBJCOPY" > /dev/null; then
    echo "UNSUPPORTED: needs $OBJDUMP and $OBJCOPY (binutils)"
    exit 77
fi

prog=$work/test_decode
${CC:-gcc} -std=gnu11 -O1 -g -Wall -Wextra -Wformat=2 -Wmissing-prototypes -Wshadow \
    -Wstrict-prototypes -Wvla -Wno-unused-parameter -Wno-missing-field-initializers -Werror \
    -I"$x86" -o "$prog" \
    "$here/test_decode.c" "$x86/decode.c" "$x86/opcode_maps.c" -lpthread

status=0
"$prog" --rules || status=1

corpus_done=0
for bin in $CORPUS; do
    [ -f "$bin" ] || continue
    "$OBJCOPY" -O binary --only-section=.text "$bin" "$work/text.full" 2> /dev/null || continue
    head -c $((CORPUS_KB * 1024)) "$work/text.full" > "$work/corpus.bin"
    "$OBJDUMP" -D -b binary -m i386:x86-64 -M intel64 --insn-width=16 "$work/corpus.bin" \
        > "$work/corpus.dis"
    echo "corpus: $bin"
    "$prog" --compare "$work/corpus.bin" "$work/corpus.dis" 64 || status=1
    corpus_done=$((corpus_done + 1))
done
if [ "$corpus_done" = 0 ]; then
    echo "FAIL: no corpus program found in: $CORPUS"
    status=1
fi

"$prog" --random "$RANDOM_N" "$RANDOM_SEED" "$work/random.bin"
for mode in 64 32 16; do
    case $mode in
    64) machine="-m i386:x86-64 -M intel64" ;;
    32) machine="-m i386" ;;
    16) machine="-m i8086" ;;
    esac
    # shellcheck disable=SC2086
    "$OBJDUMP" -D -b binary $machine --insn-width=16 "$work/random.bin" > "$work/random.dis"
    "$prog" --compare "$work/random.bin" "$work/random.dis" $mode || status=1
done
exit $status
