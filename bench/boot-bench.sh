#!/bin/sh
# Boot and workload benchmark: coremu-system-ARCH against Debian's qemu-system-ARCH, same kernel
# (Debian 12's armmp or amd64), same busybox initramfs, same machine (arm: -M virt -m 512;
# x86_64: -M pc -m 1G), at several -smp counts.
#
#   bench/boot-bench.sh [-a ARCH] [-r RUNS] [-s LIST] [-e "coremu qemu"] [-o OUTDIR] [-t SECONDS]
#
#   -a ARCH     arm or x86_64 (default arm)
#   -r RUNS     runs of each configuration; the table shows the median (default 3)
#   -s LIST     guest core counts (default "1 2 4 8" on arm, "1 2 4 8 16 64 255" on x86_64)
#   -e LIST     emulators: coremu, qemu or both (default "coremu qemu")
#   -o OUTDIR   where the results go (default ./boot-bench-YYYYmmdd-HHMMSS)
#   -t SECONDS  boot timeout of one run (default 1200; the workload gets twice that)
#
# Environment: COREMU (the coremu-system-ARCH to measure; default BUILDDIR/coremu-system-ARCH,
# BUILDDIR defaulting to the source tree), COREMU_LABEL (how the report names that build; default
# the git commit of this tree), QEMU (default qemu-system-ARCH), COREMU_GUEST_CACHE (where
# scripts/prepare-guest-ARCH.sh cached vmlinuz and initrd.gz).
#
# Each run (bench/boot-bench-run.exp) measures on the host's clock: the time from spawning the
# emulator to the shell prompt; the wall time of the workload, one sha256sum of 32 MiB from
# /dev/zero per guest core, all in parallel (above 8 cores, 256 MiB in all shared out over the
# cores, so that a 255-core run hashes as much as an 8-core one); the host CPU time the emulator process uses while
# the guest sits idle for 10 s; and its peak RSS (VmHWM) just before `poweroff -f`.
# The runs are interleaved (run 1 of every configuration, then run 2, ...) so that a change in
# the host's load during the benchmark spreads over all configurations instead of biasing one.
#
# OUTDIR gets: runs.tsv (every run), summary.tsv (medians), table.md (the markdown report, also
# printed on stdout) and logs/ (each run's console transcript).
#
# A benchmark reports, it never fails: a run that times out or crashes is recorded with its
# status and whatever was measured before; a missing emulator is reported as such. The exit
# status is 0 except for a usage error (2).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
me=boot-bench

arch=arm
runs=3
smps=
emus="coremu qemu"
outdir=boot-bench-$(date +%Y%m%d-%H%M%S)
boot_timeout=1200

# usage [STATUS]: the synopsis from the comment above; -h exits 0, a wrong option 2.
usage() {
    sed -n '/^#   bench/,/^#   -t/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit "${1:-2}"
}

while getopts a:r:s:e:o:t:h opt; do
    case $opt in
    a) arch=$OPTARG ;;
    r) runs=$OPTARG ;;
    s) smps=$OPTARG ;;
    e) emus=$OPTARG ;;
    o) outdir=$OPTARG ;;
    t) boot_timeout=$OPTARG ;;
    h) usage 0 ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
case $arch in
arm) [ -n "$smps" ] || smps="1 2 4 8" ;;
x86_64) [ -n "$smps" ] || smps="1 2 4 8 16 64 255" ;;
*) usage ;;
esac
case $runs in '' | *[!0-9]* | 0) usage ;; esac
case $boot_timeout in '' | *[!0-9]* | 0) usage ;; esac
for e in $emus; do
    case $e in coremu | qemu) ;; *) usage ;; esac
done
for n in $smps; do
    case $n in '' | *[!0-9]* | 0) usage ;; esac
done

coremu=${COREMU:-${BUILDDIR:-$top}/coremu-system-$arch}
qemu=${QEMU:-qemu-system-$arch}
guest=${COREMU_GUEST_CACHE:-${HOME:-/nonexistent}/.cache/coremu/guests/$arch}
# The board, the serial console, and the CPU model qemu is given so that every qemu version
# measures the same CPU whatever its default is (coremu has one model per architecture).
if [ "$arch" = arm ]; then
    machine="-M virt -m 512"
    console=console=ttyAMA0
    qemu_cpu=cortex-a15
else
    machine="-M pc -m 1G"
    console=console=ttyS0
    qemu_cpu=max
fi
kernel=$guest/vmlinuz
initrd=$guest/initrd.gz

mkdir -p "$outdir/logs" || {
    echo "$me: cannot create $outdir" >&2
    exit 0
}
outdir=$(cd "$outdir" && pwd)
raw=$outdir/runs.tsv
summary=$outdir/summary.tsv
table=$outdir/table.md

say() { echo "$me: $*" >&2; }

# ---- The host and what is measured -------------------------------------------------------------

tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
ncpu=$(nproc 2>/dev/null || grep -c ^processor /proc/cpuinfo)
cpumodel=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)
[ -n "$cpumodel" ] || cpumodel=unknown
memtotal=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
hostkernel=$(uname -sr)

# An emulator that cannot run is reported, not measured.
have_coremu=no
if [ -x "$coremu" ] && coremu_version=$("$coremu" -version 2>/dev/null | head -n 1); then
    have_coremu=yes
    # Which coremu this was: COREMU_LABEL when given (say, the commit of a build made
    # elsewhere), else the commit of this source tree when it is a git checkout.
    if [ -n "${COREMU_LABEL:-}" ]; then
        coremu_version="$coremu_version, $COREMU_LABEL"
    elif commit=$(git -C "$top" describe --always --dirty 2>/dev/null); then
        coremu_version="$coremu_version, git $commit"
    fi
else
    coremu_version="not available ($coremu)"
fi
have_qemu=no
if command -v "$qemu" >/dev/null 2>&1 &&
    qemu_version=$("$qemu" --version 2>/dev/null | head -n 1); then
    have_qemu=yes
else
    qemu_version="not available ($qemu)"
fi

# The guest kernel's ABI, e.g. 6.1.0-50-armmp: from the config file the guest cache keeps
# next to vmlinuz, else from the package name the cache recorded.
kabi=$(for f in "$guest"/config-*; do [ -f "$f" ] && basename "$f" | sed 's/^config-//'; done |
    head -n 1)
[ -n "$kabi" ] || kabi=$(sed -n 's|.*/linux-image-\([^_]*\)_.*|\1|p' "$guest/vmlinuz.source" \
    2>/dev/null)
[ -n "$kabi" ] || kabi=unknown

have_guest=yes
if [ ! -r "$kernel" ] || [ ! -r "$initrd" ]; then
    have_guest=no
    say "no prepared guest in $guest (run scripts/prepare-guest-$arch.sh); nothing to measure"
fi
command -v expect >/dev/null 2>&1 || {
    have_guest=no
    say "expect is not installed (apt-get install -y expect); nothing to measure"
}

# ---- The runs ----------------------------------------------------------------------------------

printf 'emulator\tsmp\trun\tstatus\tboot_s\twork_s\tguest_work_s\tidle_cpu_pct\tpeak_rss_mib\n' \
    >"$raw"

# work_kib SMP: what each core hashes: 32 MiB, or above 8 cores 256 MiB shared out (in 64 KiB
# blocks, at least one).
work_kib() {
    if [ "$1" -le 8 ]; then
        echo 32768
    else
        kib=$((262144 / $1 / 64 * 64))
        [ "$kib" -ge 64 ] || kib=64
        echo "$kib"
    fi
}

# run_one EMULATOR SMP RUN: appends one line to runs.tsv.
run_one() {
    emu=$1 n=$2 i=$3
    log=$outdir/logs/$emu-smp$n-run$i.log
    common="$machine -smp $n -nographic -kernel $kernel -initrd $initrd"
    if [ "$emu" = coremu ]; then
        set -- "$coremu" $common -append "$console"
    else
        # -nic none because coremu has no network card either (and qemu's default one needs a
        # ROM file that a --no-install-recommends install lacks).
        set -- "$qemu" $common -cpu "$qemu_cpu" -nic none -append "$console"
    fi
    line=$(expect -f "$here/boot-bench-run.exp" -- "$n" "$(work_kib "$n")" "$log" \
        "$boot_timeout" "$@" 2>"$log.stderr")
    [ -s "$log.stderr" ] || rm -f "$log.stderr"
    [ -n "$line" ] || line="expect-failed	NA	NA	NA	NA	NA"
    # ms -> s, ticks over the idle window -> percent of one host core, kB -> MiB.
    echo "$line" | awk -F '\t' -v OFS='\t' -v emu="$emu" -v n="$n" -v i="$i" -v tck="$tck" '
        function num(x, scale, fmt) { return x == "NA" ? "NA" : sprintf(fmt, x / scale) }
        { print emu, n, i, $1, num($2, 1000, "%.1f"), num($3, 1000, "%.1f"),
                $4, num($5, tck * 10 / 100, "%.1f"), num($6, 1024, "%.0f") }' >>"$raw"
    say "$(tail -n 1 "$raw" | tr '\t' ' ')"
}

if [ "$have_guest" = yes ]; then
    i=1
    while [ "$i" -le "$runs" ]; do
        for n in $smps; do
            for emu in $emus; do
                eval "have=\$have_$emu"
                [ "$have" = yes ] || continue
                run_one "$emu" "$n" "$i"
            done
        done
        i=$((i + 1))
    done
fi

# ---- Medians and the report --------------------------------------------------------------------

# summary.tsv: the median of each figure over the runs that measured it (the mean of the two
# middle values for an even count), and how many runs were ok.
awk -F '\t' -v OFS='\t' '
    NR == 1 { next }
    {
        key = $1 "\t" $2
        if (!(key in seen)) { seen[key] = 1; keys[++nk] = key }
        total[key]++
        if ($4 == "ok") ok[key]++
        for (c = 5; c <= 9; c++)
            if ($c != "NA") { v[key, c, ++cnt[key, c]] = $c }
    }
    function median(key, c,    n, i, j, t, a) {
        n = cnt[key, c]
        if (n == 0) return "NA"
        for (i = 1; i <= n; i++) a[i] = v[key, c, i] + 0
        for (i = 2; i <= n; i++)
            for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    BEGIN { print "emulator", "smp", "runs", "ok", "boot_s", "work_s", "guest_work_s",
                  "idle_cpu_pct", "peak_rss_mib" }
    END {
        for (k = 1; k <= nk; k++) {
            key = keys[k]
            print key, total[key], ok[key] + 0, median(key, 5), median(key, 6), median(key, 7),
                  median(key, 8), median(key, 9)
        }
    }' "$raw" >"$summary"

# table.md: one row per -smp with both emulators side by side, then the boot scaling.
{
    echo "## coremu-system-$arch vs qemu-system-$arch: boot, workload, idle CPU, peak RSS"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- host: $ncpu CPUs ($(echo "$cpumodel" | sed 's/  */ /g')), $memtotal RAM, $hostkernel"
    echo "- coremu: $coremu_version"
    echo "- qemu: $qemu_version (-cpu $qemu_cpu)"
    echo "- guest: Debian 12 kernel $kabi, busybox initramfs; $machine -nographic"
    echo "- median of $runs run(s) per configuration; times in seconds on the host's clock"
    echo
    echo "| -smp | boot coremu | boot qemu | workload coremu | workload qemu |" \
        "idle CPU coremu | idle CPU qemu | peak RSS coremu | peak RSS qemu |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    awk -F '\t' -v smps="$smps" '
        NR == 1 { next }
        { for (c = 3; c <= 9; c++) s[$1, $2, c] = $c }
        function cell(emu, n, c, unit,    x) {
            if (!((emu, n, 3) in s)) return "-"
            x = s[emu, n, c]
            if (x == "NA") return "n/a (" s[emu, n, 4] "/" s[emu, n, 3] " ok)"
            if (c == 8) return sprintf("%.1f %%", x)
            if (c == 9) return sprintf("%d MiB", x)
            return sprintf("%.1f s", x)
        }
        END {
            k = split(smps, list, " ")
            for (i = 1; i <= k; i++) {
                n = list[i]
                printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", n,
                    cell("coremu", n, 5), cell("qemu", n, 5), cell("coremu", n, 6),
                    cell("qemu", n, 6), cell("coremu", n, 8), cell("qemu", n, 8),
                    cell("coremu", n, 9), cell("qemu", n, 9)
            }
        }' "$summary"
    echo
    echo "Idle CPU: host CPU time of the emulator process (all threads) over 10 s of an idle"
    echo "guest, in percent of one host core. Workload: one sha256sum of 32 MiB from /dev/zero"
    echo "per guest core, all in parallel (above 8 cores: 256 MiB in all, shared out)."
    echo
    # The targets of the ARM board issue: faster than qemu at every -smp, and -smp 8 booting no
    # slower than 1.5x -smp 2 on a 2-core host.
    awk -F '\t' -v smps="$smps" '
        NR == 1 { next }
        { boot[$1, $2] = $5; work[$1, $2] = $6 }
        function ratio(a, b) {
            if (a == "" || b == "" || a == "NA" || b == "NA" || b == 0) return "n/a"
            return sprintf("%.2fx", a / b)
        }
        END {
            print "| scaling | coremu | qemu |"
            print "| --- | ---: | ---: |"
            print "| boot, -smp 8 / -smp 2 | " ratio(boot["coremu", 8], boot["coremu", 2]) \
                  " | " ratio(boot["qemu", 8], boot["qemu", 2]) " |"
            print "| workload, -smp 8 / -smp 2 | " ratio(work["coremu", 8], work["coremu", 2]) \
                  " | " ratio(work["qemu", 8], work["qemu", 2]) " |"
            print ""
            print "| -smp | boot, coremu / qemu | workload, coremu / qemu |"
            print "| ---: | ---: | ---: |"
            k = split(smps, list, " ")
            for (i = 1; i <= k; i++) {
                n = list[i]
                print "| " n " | " ratio(boot["coremu", n], boot["qemu", n]) " | " \
                      ratio(work["coremu", n], work["qemu", n]) " |"
            }
            print ""
            print "A ratio below 1.00x means coremu takes less time than qemu."
        }' "$summary"
    # Runs that did not end well are listed, so a median is never read without its caveat.
    bad=$(awk -F '\t' 'NR > 1 && $4 != "ok" { printf "%s -smp %s run %s: %s; ", $1, $2, $3, $4 }' \
        "$raw")
    if [ -n "$bad" ]; then
        echo
        echo "Runs that did not complete: ${bad%; }."
    fi
    [ "$have_guest" = yes ] || { echo; echo "No guest prepared: nothing was measured."; }
} >"$table"

cat "$table"
say "results in $outdir"
exit 0
