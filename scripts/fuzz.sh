#!/bin/sh
# Fuzzes the parsers a hostile guest or image reaches: the virtqueue engine (fuzz/fuzz-
# virtqueue.c: descriptor tables, rings and indirect tables as a malicious driver lays them out)
# and the qcow2 reader/writer (fuzz/fuzz-qcow2.c: any file handed to -drive format=qcow2).
#
#   scripts/fuzz.sh [SECONDS [BUILD_DIR]]
#
# Builds libcoremu with clang, libFuzzer's coverage, AddressSanitizer and UBSan in BUILD_DIR
# (default ./build-fuzz), seeds the qcow2 corpus with images Debian's qemu-img writes (v2, v3,
# compressed, an overlay), runs each target for SECONDS (default 60) and exits 1 if one
# crashed, leaked or hung; libFuzzer's crash-* files are left in BUILD_DIR with the reproducer
# command in its log. Needs clang and qemu-img (Debian: clang, qemu-utils).
set -eu

seconds=${1:-60}
src=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-build-fuzz}
mkdir -p "$build"
build=$(cd "$build" && pwd)

for tool in clang qemu-img; do
    command -v "$tool" >/dev/null 2>&1 || { echo "fuzz.sh: needs $tool" >&2; exit 1; }
done

cd "$build"
if [ ! -f Makefile ]; then
    CC=clang "$src/configure" --enable-asan CFLAGS="-g -O1 -fsanitize=fuzzer-no-link" \
        >configure.log 2>&1 || { tail -20 configure.log; exit 1; }
fi
make -j"$(nproc)" lib/libcoremu.la >make.log 2>&1 || { tail -30 make.log; exit 1; }

status=0
for target in virtqueue qcow2; do
    clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -I"$src/include" -I"$src/lib" \
        "$src/fuzz/fuzz-$target.c" -o "fuzz-$target" lib/.libs/libcoremu.so \
        -Wl,-rpath,"$build/lib/.libs" -lpthread
    corpus=corpus/$target
    mkdir -p "$corpus"
    if [ "$target" = qcow2 ] && [ ! -f "$corpus/seed-v3.qcow2" ]; then
        qemu-img create -q -f qcow2 "$corpus/seed-v3.qcow2" 1M
        qemu-img create -q -f qcow2 -o compat=0.10 "$corpus/seed-v2.qcow2" 1M
        head -c 65536 /dev/urandom >"$corpus/data.raw"
        qemu-img convert -q -c -f raw -O qcow2 "$corpus/data.raw" "$corpus/seed-comp.qcow2"
        rm -f "$corpus/data.raw"
        qemu-img create -q -f qcow2 -b seed-v3.qcow2 -F qcow2 "$corpus/seed-overlay.qcow2"
    fi
    # UBSan reports stop the target (a crash for libFuzzer), as ASan's do.
    if UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ./"fuzz-$target" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
        -print_final_stats=1 "$corpus" >"fuzz-$target.log" 2>&1; then
        echo "fuzz-$target: $(grep -E '^stat::number_of_executed_units' "fuzz-$target.log" |
            awk '{print $2}') inputs in $seconds s, no crash"
    else
        echo "fuzz-$target: FAILED (see $build/fuzz-$target.log)"
        grep -E -A25 'ERROR: (AddressSanitizer|libFuzzer|UndefinedBehaviorSanitizer)|runtime error' \
            "fuzz-$target.log" | head -60
        status=1
    fi
done
exit $status
