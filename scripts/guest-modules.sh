# Sourced by scripts/prepare-guest-*.sh (not run on its own): copies the kernel modules a
# guest's /init loads out of Debian's kernel package into the cache, with what they need.
#
#   guest_modules KERNEL_DEB "MODULE ..."
#
# uses the caller's $cache, $tmp and die(). Each module brings the modules it depends on (the
# depends= field of its .modinfo: the package has no modules.dep, which depmod writes at
# installation; so virtio_pci brings virtio_pci_modern_dev and virtio_pci_legacy_dev); a name
# built into the kernel (modules.builtin) needs nothing. The result is $cache/modules: the .ko
# files and `order`, the load order. A second run with the same package and list does nothing.
guest_modules() {
    gm_deb=$1
    gm_wanted=$2
    if [ -s "$cache/modules/order" ] &&
        [ "$(cat "$cache/modules/source" 2>/dev/null)" = "$gm_deb $gm_wanted" ]; then
        return 0
    fi
    rm -rf "$cache/modules" "$cache/modules.new" "$tmp/mod"
    mkdir -p "$tmp/mod" "$cache/modules.new"
    dpkg-deb --fsys-tarfile "$gm_deb" | (cd "$tmp/mod" && tar -xf - --wildcards \
        './lib/modules/*/kernel/drivers/*' './lib/modules/*/kernel/net/*' \
        './lib/modules/*/modules.builtin') || die "cannot extract the modules from $gm_deb"
    set -- "$tmp"/mod/lib/modules/*
    [ -d "$1" ] || die "$gm_deb has no /lib/modules"
    gm_moddir=$1
    : >"$tmp/order"
    for gm_m in $gm_wanted; do
        guest_module_add "$gm_m"
    done
    cp "$tmp/order" "$cache/modules.new/order"
    echo "$gm_deb $gm_wanted" >"$cache/modules.new/source"
    mv "$cache/modules.new" "$cache/modules"
}

# The file of module $1 (dashes and underscores are the same in module names), or nothing.
guest_module_file() {
    gm_pattern=$(echo "$1" | sed 's/[-_]/[-_]/g')
    find "$gm_moddir/kernel" -name "$gm_pattern.ko" | head -n 1
}

guest_module_builtin() {
    gm_pattern=$(echo "$1" | sed 's/[-_]/[-_]/g')
    grep -q "/$gm_pattern\.ko\$" "$gm_moddir/modules.builtin"
}

# Appends $1 and, first, what it depends on, to the load order (each once).
guest_module_add() {
    if grep -qx "$1.ko" "$tmp/order"; then
        return 0
    fi
    gm_file=$(guest_module_file "$1")
    if [ -z "$gm_file" ]; then
        guest_module_builtin "$1" && return 0
        die "$gm_deb has no module $1 (neither a .ko nor built in)"
    fi
    gm_deps=$(tr '\0' '\n' <"$gm_file" | sed -n 's/^depends=//p' | head -n 1 | tr ',' ' ')
    for gm_d in $gm_deps; do
        guest_module_add "$gm_d"
    done
    gm_file=$(guest_module_file "$1") # the recursion reused the variable
    cp "$gm_file" "$cache/modules.new/$1.ko"
    echo "$1.ko" >>"$tmp/order"
}
