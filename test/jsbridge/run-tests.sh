#!/bin/sh
# run-tests.sh — runs every test/jsbridge/test_*.js in bin/xpcshell (with
# head_bridge.js) and the C test of the call layer. A JS test passes when
# xpcshell exits 0, no line starts with FAIL, and the runtime's leak report
# (XPCOM_MEM_LEAK_LOG=2) says TEST-PASS. Needs XPCSHELL (the shell) and
# WSCHANNEL_MANIFEST (the channel's manifest); JSBRIDGE_TEST_MANIFEST, when
# set, is the test component's manifest and is appended to it.
# Usage: run-tests.sh [test_x.js ...]   (default: all)
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${XPCSHELL:?XPCSHELL must name bin/xpcshell}"
if [ -n "${JSBRIDGE_TEST_MANIFEST:-}" ]; then
  WSCHANNEL_MANIFEST="${WSCHANNEL_MANIFEST:+$WSCHANNEL_MANIFEST:}$JSBRIDGE_TEST_MANIFEST"
fi
export WSCHANNEL_MANIFEST
XPCOM_MEM_LEAK_LOG=2
export XPCOM_MEM_LEAK_LOG

if [ $# -eq 0 ]; then
  set -- "$here"/test_*.js
fi
pass=0
fail=0
failed=""
for t in "$@"; do
  case $t in */*) ;; *) t="$here/$t" ;; esac
  name=$(basename "$t")
  log=$(mktemp)
  ( cd "$here" && timeout 120 "$XPCSHELL" -f "$here/head_bridge.js" "$t" ) >"$log" 2>&1
  rc=$?
  ok=1
  [ $rc -eq 0 ] || ok=0
  grep -q '^FAIL' "$log" && ok=0
  grep -q 'TEST-PASS | leakcheck' "$log" || ok=0
  if [ $ok -eq 1 ]; then
    pass=$((pass + 1))
    echo "PASS: $name ($(grep -c '^PASS' "$log") checks)"
  else
    fail=$((fail + 1))
    failed="$failed $name"
    echo "FAIL: $name (exit $rc)"
    sed 's/^/    /' "$log"
  fi
  rm -f "$log"
done
echo "jsbridge tests: $pass passed, $fail failed${failed:+ ($failed )}"
[ $fail -eq 0 ]
