#!/bin/sh
# The T32 decoder/handler test (test_decode_t32.c): see run-test-decode.sh.
# Usage: run-test-decode-t32.sh [builddir-with-config.h]
exec sh "$(dirname "$0")/run-test-decode.sh" t32 "$@"
