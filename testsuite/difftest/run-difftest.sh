#!/bin/sh
# Differential random-instruction test of coremu-system-arm against qemu-system-arm (a
# test-time oracle only): generated sequences of A32, T32 and VFP instructions run on both from
# the same initial state, and the final registers, flags and memory must match.
# See testsuite/difftest/README.md.
#
# Usage: run-difftest.sh [BUILDDIR] [--isa a32|t32|vfp|all] [--seeds A..B] [--per-program K]
#                        [--arm-cc PROG] [--qemu PROG] [--keep DIR] [--max-triage N]
#
#   BUILDDIR        where coremu-system-arm is (default: the current directory)
#   --isa           which generator(s) to run (default all)
#   --seeds A..B    the programs to generate, one per seed and ISA (default 1..3)
#   --per-program K sequences per program (default 500)
#   --arm-cc PROG   the ARM cross compiler (default $ARM_CC or arm-none-eabi-gcc)
#   --qemu PROG     the oracle (default $QEMU_SYSTEM_ARM or qemu-system-arm)
#   --keep DIR      keep the generated programs and outputs in DIR
#   --max-triage N  show the details of at most N mismatching sequences (default 10)
#
# Prints one summary line per ISA ("difftest a32: 1500 sequences compared, 0 mismatches") and
# the details of each mismatch: seed, sequence, its source and disassembly, and both full
# register dumps. Exit status: 0 all matched, 1 a mismatch (or a program that did not run to
# its end), 77 a tool is missing (the first line says which), 2 a usage or build error.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$(dirname "$here")")
arm="$top/testsuite/arm"

builddir=.
isas=all
seeds=1..3
per=500
keep=
max_triage=10
ARM_CC=${ARM_CC:-arm-none-eabi-gcc}
QEMU=${QEMU_SYSTEM_ARM:-qemu-system-arm}

usage() {
    sed -n '7,9p' "$0" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --isa) isas=${2:?}; shift 2 ;;
    --seeds) seeds=${2:?}; shift 2 ;;
    --per-program) per=${2:?}; shift 2 ;;
    --arm-cc) ARM_CC=${2:?}; shift 2 ;;
    --qemu) QEMU=${2:?}; shift 2 ;;
    --keep) keep=${2:?}; shift 2 ;;
    --max-triage) max_triage=${2:?}; shift 2 ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) builddir=$1; shift ;;
    esac
done
[ "$isas" = all ] && isas="a32 t32 vfp"
first_seed=${seeds%%..*}
last_seed=${seeds##*..}
case "$first_seed$last_seed$per$max_triage" in
*[!0-9]*|"") usage ;;
esac

coremu="$builddir/coremu-system-arm"
if [ ! -x "$coremu" ]; then
    echo "error: $coremu is not built" >&2
    exit 2
fi
# Missing tools make the test UNSUPPORTED, not failed: say which.
if ! command -v "$ARM_CC" >/dev/null 2>&1; then
    echo "UNSUPPORTED: no ARM cross compiler $ARM_CC (Debian: gcc-arm-none-eabi)"
    exit 77
fi
if ! command -v "$QEMU" >/dev/null 2>&1; then
    echo "UNSUPPORTED: no $QEMU, the reference (Debian: qemu-system-arm)"
    exit 77
fi
objdump=$(echo "$ARM_CC" | sed 's/gcc$/objdump/')

if [ -n "$keep" ]; then
    mkdir -p "$keep" || exit 2
    work=$(cd "$keep" && pwd)
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/difftest.XXXXXX") || exit 2
    trap 'rm -rf "$work"' EXIT
    trap 'exit 130' INT TERM
fi

# The generator (a host program) and the fixed harness (start.S, lib.c, harness.c).
${CC:-cc} -std=gnu11 -O2 -Wall -Wextra -o "$work/difftest-gen" "$here/gen.c" || exit 2
# The flags of testsuite/arm/Makefile.inc, and what this compiler needs for a bare-metal program.
toolflags=$(sh "$arm/toolchain-flags.sh" "$ARM_CC") || exit 2
cflags="-march=armv7-a -marm -mfloat-abi=soft -O2 -ffreestanding -nostdlib
        -fno-tree-loop-distribute-patterns $toolflags -I$arm"
for f in "$arm/start.S" "$arm/lib.c" "$here/harness.c"; do
    # shellcheck disable=SC2086
    "$ARM_CC" $cflags -c -o "$work/$(basename "$f").o" "$f" || exit 2
done

# build NAME GEN-ARGS...: NAME.S and NAME.elf in $work.
build() {
    name=$1
    shift
    "$work/difftest-gen" "$@" >"$work/$name.S" || return 1
    # shellcheck disable=SC2086
    "$ARM_CC" $cflags -o "$work/$name.elf" "$work/start.S.o" "$work/lib.c.o" \
        "$work/harness.c.o" "$work/$name.S" -T "$arm/link.ld"
}

# run NAME: NAME.coremu and NAME.qemu, the guest's output without CRs, both emulators at once.
# QEMU gets -nic none: its virt board's default network card needs a PXE ROM (efi-virtio.rom, in
# Debian's ipxe-qemu, which a --no-install-recommends install leaves out), and without it QEMU
# refuses to start; the programs use no network.
run() {
    timeout 300 "$coremu" -M virt -nographic -kernel "$work/$1.elf" </dev/null 2>&1 |
        tr -d '\r' >"$work/$1.coremu" &
    timeout 300 "$QEMU" -M virt -cpu cortex-a15 -nographic -nic none -kernel "$work/$1.elf" \
        </dev/null 2>&1 |
        tr -d '\r' >"$work/$1.qemu" &
    wait
}

# triage ISA SEED N: the full story of one mismatching sequence.
triage() {
    t="t-$1-$2-$3"
    build "$t" -i "$1" -s "$2" -f "$3" -n 1 -F || return
    run "$t"
    echo "---- $1 seed $2 sequence $3 (difftest-gen -i $1 -s $2 -f $3 -n 1 -F)"
    sed -n "/^@ ---- sequence $3 begin/,/^@ ---- sequence $3 end/p" "$work/$t.S"
    "$objdump" -d --no-show-raw-insn "--disassemble=dt_seq_$3" "$work/$t.elf" |
        sed -n '/<dt_seq_/,$p'
    echo "---- coremu (<) against qemu (>), r0-r12 apsr fpscr dhash mhash, d0-d31, memory:"
    diff "$work/$t.coremu" "$work/$t.qemu"
}

status=0
total=0
total_bad=0
triaged=0
for isa in $isas; do
    case $isa in a32|t32|vfp) ;; *) usage ;; esac
    compared=0
    bad=0
    seed=$first_seed
    while [ "$seed" -le "$last_seed" ]; do
        p="$isa-$seed"
        if ! build "$p" -i "$isa" -s "$seed" -n "$per"; then
            echo "error: $isa seed $seed: the generated program does not build" >&2
            exit 2
        fi
        run "$p"
        # Line by line: "seq N: ..." from both; anything missing is a mismatch too.
        result=$(awk -v per="$per" -v isa="$isa" -v seed="$seed" '
            FNR == 1 { file++ }
            /^seq [0-9]+:/ { n = $2; sub(/:$/, "", n); line[file, n] = $0; seen[n] = 1 }
            END {
                ok = 0; bad = 0; exc = 0
                for (i = 0; i < per; i++) {
                    a = line[1, i]; b = line[2, i]
                    if (a == "" || b == "" || a != b) {
                        # A program that stops early would list every later sequence: the
                        # first 20 mismatches of a program are enough to go on.
                        if (++bad <= 20) {
                            printf "MISMATCH %s seed %s sequence %d\n  coremu: %s\n", isa, seed,
                                i, a == "" ? "(no output)" : a
                            printf "  qemu:   %s\n", b == "" ? "(no output)" : b
                            print "TRIAGE " i
                        }
                    } else if (a ~ /exception/) {
                        exc++
                        printf "BOTH-FAULTED %s seed %s sequence %d: %s\n", isa, seed, i, a
                        print "TRIAGE " i
                    } else {
                        ok++
                    }
                }
                if (bad > 20) {
                    printf "... and %d more mismatches in %s seed %s\n", bad - 20, isa, seed
                }
                printf "COUNT %d %d %d\n", ok, bad, exc
            }' "$work/$p.coremu" "$work/$p.qemu")
        echo "$result" | grep -v '^TRIAGE \|^COUNT '
        # Anything else the guests said (an unexpected exception outside the sequences).
        grep -v '^seq ' "$work/$p.coremu" | sed "s/^/coremu $isa seed $seed: /" | head -5
        grep -v '^seq ' "$work/$p.qemu" | sed "s/^/qemu $isa seed $seed: /" | head -5
        # shellcheck disable=SC2046 # three numbers, split on purpose
        set -- $(echo "$result" | sed -n 's/^COUNT //p')
        compared=$((compared + $1 + $2 + $3))
        bad=$((bad + $2 + $3))
        for n in $(echo "$result" | sed -n 's/^TRIAGE //p'); do
            if [ "$triaged" -lt "$max_triage" ]; then
                triage "$isa" "$seed" "$n"
                triaged=$((triaged + 1))
            fi
        done
        if [ -z "$keep" ]; then
            rm -f "$work/$p".*
        fi
        seed=$((seed + 1))
    done
    echo "difftest $isa: $compared sequences compared, $bad mismatches" \
         "(seeds $first_seed..$last_seed, $per per program)"
    total=$((total + compared))
    total_bad=$((total_bad + bad))
    [ "$bad" -eq 0 ] || status=1
done
echo "difftest: $total sequences compared, $total_bad mismatches"
exit $status
