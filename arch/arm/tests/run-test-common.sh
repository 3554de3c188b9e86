# Sourced by the run-test-*.sh scripts, after they set name, with their arguments. Sets here
# (this folder), arm (arch/arm), top (the source tree), work (a temporary folder, removed on
# exit) and cfg: the folder of config.h, the build's ($1) or an empty one (the files under test
# need nothing from it).
set -e
here=$(cd "$(dirname "$0")" && pwd)
arm=$(dirname "$here")
top=$(dirname "$(dirname "$arm")")
work=$(mktemp -d "${TMPDIR:-/tmp}/test-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ -n "$1" ] && [ -f "$1/config.h" ]; then
    cfg=$1
else
    cfg=$work
    : > "$work/config.h"
fi
