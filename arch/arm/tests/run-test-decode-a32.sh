#!/bin/sh
# The A32 decoder/handler test (test_decode_a32.c): see run-test-decode.sh.
# Usage: run-test-decode-a32.sh [builddir-with-config.h]
exec sh "$(dirname "$0")/run-test-decode.sh" a32 "$@"
