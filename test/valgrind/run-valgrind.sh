#!/bin/sh
# run-valgrind.sh — runs a chosen set of the test programs under valgrind's
# memcheck and fails on any memory error or definite/indirect leak
# (`make check-valgrind`; not part of `make check`).
#
#   run-valgrind.sh [--list] [NAME...]      (default: every NAME below)
#
# Run it from the top of a build directory configured WITHOUT
# --enable-sanitizers (ASan and valgrind do not mix), after `make check`
# has built the check programs (`make check-valgrind` builds them first).
# Environment:
#   top_builddir     build directory (default: .)
#   top_srcdir       source directory (default: two levels above this script)
#   VALGRIND         valgrind command (default: valgrind)
#   VALGRIND_LOGDIR  where the logs go (default: test/valgrind/logs)
#   VALGRIND_OPTS    extra valgrind options, appended
# Check programs run with CK_FORK=no, so memcheck sees the tests themselves
# (with forking, each case would run in an untracked child).
#
# Each NAME writes NAME.out (stdout+stderr of the test) and NAME.vg.PID
# (valgrind's report, one per process) into the log directory. A NAME
# fails when its test fails or any of its valgrind reports has errors;
# the reports of failures are printed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=$(cd "${top_builddir:-.}" && pwd)
valgrind=${VALGRIND:-valgrind}
logdir=${VALGRIND_LOGDIR:-$top_builddir/test/valgrind/logs}
supp=$here/wschannel.supp

# NAME  KIND  PROGRAM
# KIND: check (a Check program), plain (any program), xpcshell (one
# xpcshell test through the suite runner, the shell under valgrind).
# The fuzz corpus replays put the parsers' odd inputs under memcheck too.
tests() {
  cat <<'EOF'
ws_session       check    test/websocket/test_ws_session
ws_deflate       check    test/websocket/test_ws_deflate
channel          check    test/component/test_channel
channel_net      check    test/component/test_channel_net
ws_conn          check    test/net/test_ws_conn
replay_session   plain    test/fuzz/replay_fuzz_session
replay_handshake plain    test/fuzz/replay_fuzz_handshake
replay_uri       plain    test/fuzz/replay_fuzz_uri
xpcshell_echo    xpcshell test_websocket_echo.js
EOF
}

if [ "${1:-}" = "--list" ]; then
  tests
  exit 0
fi

if ! command -v "$valgrind" >/dev/null 2>&1; then
  echo "run-valgrind.sh: '$valgrind' not found (Debian: apt-get install valgrind)" >&2
  exit 77
fi

# Memory errors exit 9; leaks count as errors only when definite or
# indirect (NSPR, NSS and SpiderMonkey keep reachable caches until exit).
vgopts="--error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite,indirect
  --show-leak-kinds=definite,indirect --num-callers=40 --child-silent-after-fork=yes
  --suppressions=$supp ${VALGRIND_OPTS:-}"

mkdir -p "$logdir"
libtool=$top_builddir/libtool

# Environment `make check` gives the tests (test/Makefile.inc).
WSCHANNEL_MANIFEST=$top_builddir/components/wschannel.manifest
XPCOM_MEM_LEAK_LOG=2
export WSCHANNEL_MANIFEST XPCOM_MEM_LEAK_LOG

# Prints the valgrind reports of NAME that hold errors; true if none do.
reports_clean() {
  clean=0
  for f in "$logdir/$1".vg.*; do
    [ -f "$f" ] || continue
    if grep -q "ERROR SUMMARY: [1-9]" "$f"; then
      clean=1
      echo "---- $f"
      cat "$f"
    fi
  done
  return $clean
}

run_one() {
  name=$1 kind=$2 prog=$3
  rm -f "$logdir/$name".vg.* "$logdir/$name.out"
  # shellcheck disable=SC2086 # vgopts is a list of options
  set -- $vgopts --log-file="$logdir/$name.vg.%p"
  case $kind in
  check | plain)
    if [ ! -x "$top_builddir/$prog" ]; then
      echo "SKIP: $name ($prog not built)"
      return 2
    fi
    (cd "$top_builddir" && CK_FORK=no "$libtool" --mode=execute "$valgrind" "$@" "./$prog") \
      > "$logdir/$name.out" 2>&1
    ;;
  xpcshell)
    if [ ! -x "$top_builddir/bin/xpcshell" ]; then
      echo "SKIP: $name (bin/xpcshell not built)"
      return 2
    fi
    # The runner starts the shell by path: give it a wrapper that runs the
    # real binary (through libtool) under valgrind.
    wrapper=$logdir/xpcshell-valgrind
    {
      echo '#!/bin/sh'
      printf 'exec %s --mode=execute %s' "'$libtool'" "'$valgrind'"
      for o in "$@"; do printf " '%s'" "$o"; done
      printf " %s \"\$@\"\n" "'$top_builddir/bin/xpcshell'"
    } > "$wrapper"
    chmod +x "$wrapper"
    XPCSHELL=$wrapper "$top_srcdir/test/xpcshell/run-suite.sh" --timeout 900 --jobs 1 \
      "$prog" > "$logdir/$name.out" 2>&1
    ;;
  esac
}

[ $# -gt 0 ] || set -- $(tests | awk '{print $1}')
failed=0
for want in "$@"; do
  line=$(tests | awk -v n="$want" '$1 == n')
  if [ -z "$line" ]; then
    echo "run-valgrind.sh: unknown test '$want' (see --list)" >&2
    exit 2
  fi
  # shellcheck disable=SC2086
  set -- $line
  start=$(date +%s)
  run_one "$@"
  rc=$?
  secs=$(($(date +%s) - start))
  [ $rc -eq 2 ] && continue
  if [ $rc -eq 0 ] && reports_clean "$1" > /dev/null; then
    echo "PASS: $1 (${secs}s)"
  else
    failed=1
    echo "FAIL: $1 (exit $rc, ${secs}s; logs in $logdir/$1.*)"
    reports_clean "$1" || true
    [ $rc -ne 0 ] && tail -30 "$logdir/$1.out"
  fi
done
exit $failed
