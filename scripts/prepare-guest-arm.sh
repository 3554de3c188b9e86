#!/bin/sh
# Prepares the real ARM guest that coremu.linux/ boots: Debian 12's armmp kernel and an
# initramfs made of Debian's busybox-static (armhf), whose /init loads the kernel's virtio
# modules (virtio-mmio, virtio-pci, virtio-blk, virtio-rng, virtio-net, virtio-console and what
# they depend on; the armmp kernel has them as modules, not built in) and gives a shell on the
# console.
#
#   scripts/prepare-guest-arm.sh            # then: make check-linux
#
# Everything goes to a cache outside the source tree, ${COREMU_GUEST_CACHE:-$HOME/.cache/
# coremu/guests/arm}: the two .deb packages, vmlinuz (with the kernel's config-* next to it),
# the modules the initramfs carries (modules/), initrd.gz. A second run reuses what is there
# (vmlinuz and modules/ are extracted again only from another kernel package, the initramfs
# is rebuilt only when its /init, busybox or a module changed), so it is cheap and needs no
# network. The last two lines printed are the paths of
# vmlinuz and initrd.gz.
#
# Fetching armhf packages on an amd64 host needs the armhf architecture in dpkg and a fresh
# package index (dpkg --add-architecture armhf && apt-get update): the script does that when
# run as root and says what to do otherwise. Nothing is installed on the host.
set -eu

cache=${COREMU_GUEST_CACHE:-${HOME:?is not set: set COREMU_GUEST_CACHE}/.cache/coremu/guests/arm}
me=prepare-guest-arm

die() {
    echo "$me: $*" >&2
    exit 1
}

for tool in apt-get apt-cache dpkg dpkg-deb cpio gzip; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "needs $tool (a Debian host; cpio: apt-get install -y cpio)"
done

mkdir -p "$cache/debs" || die "cannot create the cache directory $cache"
cache=$(cd "$cache" && pwd)

# ---- The armhf package index ------------------------------------------------------------------

have_armhf_index() {
    apt-cache show busybox-static:armhf >/dev/null 2>&1 &&
        apt-cache show linux-image-armmp:armhf >/dev/null 2>&1
}

# The first existing file among the arguments (a glob's expansion), or nothing.
first_file() {
    for f in "$@"; do
        if [ -f "$f" ]; then
            echo "$f"
            return
        fi
    done
}
kernel_deb() { first_file "$cache"/debs/linux-image-*-armmp_*_armhf.deb; }
busybox_deb() { first_file "$cache"/debs/busybox-static_*_armhf.deb; }

# Only needed when the cache is missing a package; a prepared cache works offline.
need_download=no
[ -n "$(kernel_deb)" ] || need_download=yes
[ -n "$(busybox_deb)" ] || need_download=yes

if [ "$need_download" = yes ] && ! have_armhf_index; then
    if [ "$(id -u)" -ne 0 ]; then
        die "the armhf package index is missing; as root run: dpkg --add-architecture armhf &&" \
            "apt-get update (or run this script as root once)"
    fi
    if ! dpkg --print-foreign-architectures | grep -qx armhf; then
        echo "$me: adding the armhf architecture to dpkg" >&2
        dpkg --add-architecture armhf
    fi
    echo "$me: apt-get update" >&2
    # A partial failure (one mirror's index out of sync) is fine when the packages we need
    # are known afterwards.
    apt-get update -q >&2 || echo "$me: apt-get update reported errors; going on" >&2
    have_armhf_index || die "apt knows no armhf linux-image-armmp/busybox-static after" \
        "apt-get update (is Debian's archive reachable?)"
fi

# ---- Downloading ------------------------------------------------------------------------------

if [ "$need_download" = yes ]; then
    # linux-image-armmp is a metapackage: the real one carries the ABI (6.1.0-NN-armmp).
    kpkg=$(apt-cache depends linux-image-armmp:armhf |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ :]*-armmp\)\(:armhf\)\{0,1\}$/\1/p' |
        head -n 1)
    [ -n "$kpkg" ] || die "cannot tell the current armmp kernel from apt-cache depends" \
        "linux-image-armmp:armhf"
    echo "$me: downloading $kpkg:armhf and busybox-static:armhf into $cache/debs" >&2
    rm -f "$cache"/debs/*.deb
    # apt-get download writes to the current directory; as root it warns that the _apt user
    # cannot write there, which is harmless (it then downloads unsandboxed).
    (cd "$cache/debs" && apt-get download -q "$kpkg:armhf" busybox-static:armhf) >&2 ||
        die "apt-get download failed"
fi

kdeb=$(kernel_deb)
bdeb=$(busybox_deb)
if [ -z "$kdeb" ] || [ -z "$bdeb" ]; then
    die "the packages are not in $cache/debs after downloading"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/$me.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# ---- The kernel -------------------------------------------------------------------------------

# The stamp names the package the cached vmlinuz came from, so a newer download replaces it.
if [ ! -s "$cache/vmlinuz" ] || [ "$(cat "$cache/vmlinuz.source" 2>/dev/null)" != "$kdeb" ]; then
    # Only ./boot: the modules (most of the package) are not needed for a shell.
    dpkg-deb --fsys-tarfile "$kdeb" | (cd "$tmp" && tar -xf - ./boot) ||
        die "cannot extract /boot from $kdeb"
    set -- "$tmp"/boot/vmlinuz-*
    [ -f "$1" ] || die "$kdeb has no /boot/vmlinuz-*"
    cp "$1" "$cache/vmlinuz.new"
    cp "$tmp"/boot/config-* "$cache/" 2>/dev/null || true
    mv "$cache/vmlinuz.new" "$cache/vmlinuz"
    echo "$kdeb" >"$cache/vmlinuz.source"
fi

# ---- The virtio modules ----------------------------------------------------------------------

# The modules /init loads, by name (scripts/guest-modules.sh adds what they depend on).
wanted_modules="virtio virtio_ring virtio_mmio virtio_pci virtio_blk virtio-rng virtio_net"
wanted_modules="$wanted_modules virtio_console"
. "$(dirname "$0")/guest-modules.sh"
guest_modules "$kdeb" "$wanted_modules"

# ---- The initramfs ----------------------------------------------------------------------------

root="$tmp/root"
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/proc" "$root/sys" \
    "$root/dev" "$root/tmp" "$root/root" "$root/lib/modules"
cp "$cache/modules/order" "$cache"/modules/*.ko "$root/lib/modules/"
dpkg-deb --fsys-tarfile "$bdeb" | (cd "$tmp" && tar -xf - ./bin/busybox) ||
    die "cannot extract /bin/busybox from $bdeb"
cp "$tmp/bin/busybox" "$root/bin/busybox"
chmod 755 "$root/bin/busybox"

# /init runs as PID 1 with the console the kernel opened (/dev/console, from the archive below).
# The shell runs under cttyhack, which reopens the real console device (ttyAMA0) so that the
# shell gets a controlling terminal and job control; setsid makes it a session leader. When the
# shell exits a new one starts: PID 1 must never return. "poweroff -f" powers off at once
# (the kernel's PSCI SYSTEM_OFF), without an init to signal.
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s
export PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root TERM=vt100
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The virtio drivers, dependencies first (a module that fails to load is named on the console).
for m in $(cat /lib/modules/order); do
    insmod /lib/modules/$m || echo "init: cannot load $m"
done
hostname coremu-guest
ncpu=$(grep -c ^processor /proc/cpuinfo)
echo
echo "coremu guest: $(uname -sr), $ncpu cpu(s), busybox initramfs ready"
echo "(poweroff -f to power off)"
cd /root
export PS1='coremu-guest# '
while :; do
    setsid cttyhack sh -l
done
EOF
chmod 755 "$root/init"

# udhcpc's script (Debian's busybox looks for /etc/udhcpc/default.script, which busybox-static
# does not ship): it configures the interface, the default route and /etc/resolv.conf from the
# lease, so that `udhcpc -i eth0` gives the guest user-mode networking (10.0.2.15).
mkdir -p "$root/etc/udhcpc"
cat >"$root/etc/udhcpc/default.script" <<'SCRIPT'
#!/bin/sh
case "$1" in
deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    for r in $router; do
        ip route add default via "$r" dev "$interface"
        break
    done
    : >/etc/resolv.conf
    for d in $dns; do
        echo "nameserver $d" >>/etc/resolv.conf
    done
    ;;
esac
exit 0
SCRIPT
chmod 755 "$root/etc/udhcpc/default.script"

# A newc entry for /dev/console (character device 5:1), written by hand so that no root
# (mknod) is needed. The kernel opens /dev/console before /init runs; without it the guest
# starts with no stdin/stdout. cpio newc: "070701", 13 eight-digit hex fields, the name with
# its NUL padded to a multiple of 4 (header + name), no data.
newc_entry() { # name mode rdevmajor rdevminor
    namesize=$((${#1} + 1))
    printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
        0 "$2" 0 0 1 0 0 0 0 "$3" "$4" "$namesize" 0 "$1"
    pad=$(((4 - (110 + namesize) % 4) % 4))
    [ "$pad" -eq 0 ] || head -c "$pad" /dev/zero
}
dev_archive() {
    newc_entry dev $((0040755)) 0 0
    newc_entry dev/console $((0020600)) 5 1
    newc_entry TRAILER!!! 0 0 0
}

# Rebuild only when /init, busybox or a module changed.
sum=$(cd "$root" && find . -type f | LC_ALL=C sort | xargs cat | md5sum | cut -d' ' -f1)
if [ ! -s "$cache/initrd.gz" ] || [ "$(cat "$cache/initrd.gz.source" 2>/dev/null)" != "$sum" ]
then
    # The kernel unpacks concatenated newc archives: ours, then the one holding /dev/console.
    { (cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
        cpio --quiet -o -H newc -R 0:0) && dev_archive; } | gzip -9n >"$cache/initrd.gz.new" ||
        die "cannot build the initramfs"
    mv "$cache/initrd.gz.new" "$cache/initrd.gz"
    echo "$sum" >"$cache/initrd.gz.source"
fi

echo "$cache/vmlinuz"
echo "$cache/initrd.gz"
