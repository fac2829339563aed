#!/bin/sh
# run-selftest.sh — the harness's self-test (selftest.py): must-fail tests
# through the runner, manifest and condition parsing.  `make check` runs it.
# XPCSHELL names the shell (default ./bin/xpcshell); PYTHON3 the interpreter.
here=$(cd "$(dirname "$0")" && pwd)
exec "${PYTHON3:-/usr/bin/python3}" "$here/selftest.py" \
  --xpcshell "${XPCSHELL:-./bin/xpcshell}" "$@"
