#!/bin/sh
# build-rpm.sh [SOURCE-TREE | TARBALL]
#
# Builds coremu's RPMs from the release tarball with rpmbuild -tb (the spec, rpm/coremu.spec,
# is inside the tarball), on Debian or on an RPM distribution.
#
# Given a source tree (default: the repository this script lives in), makes the tarball first
# (scripts/make-dist.sh); given a .tar.gz, uses it as is. rpmbuild gets a private _topdir in
# OUTPUT_DIR (default: a new temporary directory). Then rpmlint checks the spec and the RPMs
# and any error fails the script (when rpmlint is available).
#
# On Debian, rpm's database knows none of the Debian packages that provide the BuildRequires,
# so the script installs them with apt-get (the same Build-Depends as debian/control) and runs
# rpmbuild --nodeps. On an RPM distribution, install them first (dnf builddep
# rpm/coremu.spec). RPMBUILD_ARGS adds arguments (e.g. RPMBUILD_ARGS=--nocheck).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
arg=${1:-$here/..}

if [ "$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi
step() { printf '\n=== build-rpm: %s\n' "$*"; }

out=${OUTPUT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/coremu-rpm.XXXXXX")}
mkdir -p "$out"
out=$(cd "$out" && pwd)

nodeps=
debian=0
if command -v apt-get >/dev/null 2>&1; then
    debian=1
    step "installing rpm, rpmlint and the build dependencies (apt-get)"
    apt_get() { $sudo env DEBIAN_FRONTEND=noninteractive apt-get -y -q "$@"; }
    apt_get update || echo "build-rpm: apt-get update reported errors; going on" >&2
    apt_get install --no-install-recommends \
        rpm rpmlint build-essential autoconf automake libtool pkgconf git
    # The Debian names of the BuildRequires are debian/control's Build-Depends: take them from
    # the source tree given, or else from the tree this script is in.
    if [ -f "$arg/debian/control" ]; then
        apt_get build-dep --no-install-recommends "$(cd "$arg" && pwd)"
    elif [ -f "$here/../debian/control" ]; then
        apt_get build-dep --no-install-recommends "$(cd "$here/.." && pwd)"
    fi
    # rpm's database knows no Debian package: BuildRequires cannot be checked.
    nodeps=--nodeps
fi

case $arg in
    *.tar.gz) tarball=$(cd "$(dirname "$arg")" && pwd)/$(basename "$arg") ;;
    *)
        step "making the release tarball"
        tarball=$("$here/make-dist.sh" "$arg" "$out" | tail -n 1)
        ;;
esac

step "rpmbuild $nodeps -tb $(basename "$tarball")"
top=$out/rpmbuild
mkdir -p "$top"
if [ "$debian" = 1 ]; then
    # rpm's brp-compress (which compresses the man pages) is a #!/bin/sh script that needs
    # bash (read -d); Debian's /bin/sh is dash.
    set -- --define "__brp_compress bash %{_rpmconfigdir}/brp-compress %{?_prefix}"
else
    set --
fi
# shellcheck disable=SC2086
rpmbuild --define "_topdir $top" "$@" $nodeps ${RPMBUILD_ARGS:-} -tb "$tarball"

rpms=$(find "$top/RPMS" -name '*.rpm' | sort)
echo "$rpms"

if command -v rpmlint >/dev/null 2>&1; then
    step "rpmlint"
    rm -rf "$out/lint"
    mkdir -p "$out/lint"
    tar -xzf "$tarball" -C "$out/lint" --strip-components=1 --wildcards '*/rpm/*'
    # The filters, each with its reason, are in rpm/coremu.rpmlintrc (from the tarball, or else
    # from the tree this script is in).
    rc=$out/lint/rpm/coremu.rpmlintrc
    [ -f "$rc" ] || rc=$here/../rpm/coremu.rpmlintrc
    cp "$rc" "$out/lint/coremu.rpmlintrc"
    if [ "$debian" = 1 ]; then
        # Debian's rpm strips only debugging symbols (brp-strip -g) and makes no debuginfo
        # packages; Fedora's find-debuginfo strips fully.
        echo 'addFilter("unstripped-binary-or-object")' >> "$out/lint/coremu.rpmlintrc"
    fi
    case $(rpmlint --version 2>/dev/null) in
        2.4.*)
            # rpmlint 2.4's FilesCheck records man pages by section ("1") instead of by name,
            # so it reports every binary as having no manual page.
            echo 'addFilter("no-manual-page-for-binary")' >> "$out/lint/coremu.rpmlintrc" ;;
    esac
    # rpm compresses man pages with gzip (Fedora, and Debian's rpm); rpmlint's default
    # configuration expects bzip2.
    echo 'CompressExtension = "gz"' > "$out/lint/coremu-rpmlint.toml"
    set -- -c "$out/lint/coremu-rpmlint.toml" -r "$out/lint/coremu.rpmlintrc"
    # Exit status 64 (any error) fails the script.
    # shellcheck disable=SC2086
    rpmlint --ignore-unused-rpmlintrc "$@" "$out/lint/rpm/coremu.spec" $rpms
fi

step "done: RPMs under $top/RPMS"
