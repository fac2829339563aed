#!/bin/sh
# test/xpidl/run-tests.sh — tests of the IDL compiler (build/xpidl):
#
#   golden   each golden/*.idl compiled to a header and a typelib, and the
#            index over all of them, diffed against golden/expected/
#            (UPDATE_GOLDEN=1 rewrites the expected files instead)
#   compile  every generated header compiles as C11 and as C++17 with
#            -Wall -Wextra -Werror, alone and all together; every typelib
#            and the index compile, link, and pass xpt_check.c
#   abi      golden/xptestAbi.idl implemented in C and called from C++, and
#            the reverse (abi_c.c, abi_cpp.cpp)
#   errors   each errors/*.idl fails with the `// expect:` text of its first
#            line and leaves the output file untouched; ok_*.idl succeed,
#            printing every `// warn:` line's text
#
# Environment: XPIDL (default $top_builddir/build/xpidl/xpidl, top_builddir
# defaulting to the current directory), XPIDL_TEST_CC / XPIDL_TEST_CXX
# (default cc / c++), XPIDL_TEST_SANFLAGS (sanitizer flags for the ABI
# test; unset = use ASan+UBSan if the compiler supports them).
# Prints PASS/FAIL per case; exits 1 if any case failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/../.." && pwd)
top_builddir=${top_builddir:-$(pwd)}
XPIDL=${XPIDL:-$top_builddir/build/xpidl/xpidl}
CC=${XPIDL_TEST_CC:-cc}
CXX=${XPIDL_TEST_CXX:-c++}
LC_ALL=C
export LC_ALL

gold=$here/golden
expected=$gold/expected
incs="-I $top_srcdir/src/xpcom"
CWARN="-std=c11 -Wall -Wextra -Werror"
CXXWARN="-std=c++17 -Wall -Wextra -Werror"

if [ ! -x "$XPIDL" ]; then
  echo "FAIL: xpidl not found at $XPIDL (set XPIDL)"
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/xpidl-test.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
gen=$work/gen
mkdir "$gen"

total=0
failed=0
pass() { total=$((total + 1)); echo "PASS: $1"; }
fail() {
  total=$((total + 1)); failed=$((failed + 1)); echo "FAIL: $1"
  if [ -n "${2:-}" ] && [ -s "$2" ]; then sed 's/^/    /' "$2" | head -n 40; fi
}

# ---- golden ------------------------------------------------------------

golden_case() { # name output-file expected-file command...
  name=$1 out=$2 exp=$3
  shift 3
  if ! "$@" >"$work/log" 2>&1; then
    fail "golden: $name (xpidl failed)" "$work/log"
  elif [ -n "${UPDATE_GOLDEN:-}" ]; then
    mkdir -p "$expected" && cp "$out" "$exp" && pass "golden: $name (updated)"
  elif diff -u "$exp" "$out" >"$work/log" 2>&1; then
    pass "golden: $name"
  else
    fail "golden: $name differs from $(basename "$exp")" "$work/log"
  fi
}

for idl in "$gold"/*.idl; do
  stem=$(basename "$idl" .idl)
  golden_case "$stem.h" "$gen/$stem.h" "$expected/$stem.h" \
    "$XPIDL" -m header -I "$gold" -o "$gen/$stem.h" "$idl"
  golden_case "${stem}_xpt.c" "$gen/${stem}_xpt.c" "$expected/${stem}_xpt.c" \
    "$XPIDL" -m typelib -I "$gold" -o "$gen/${stem}_xpt.c" "$idl"
done
golden_case "xpt_index.c" "$gen/xpt_index.c" "$expected/xpt_index.c" \
  "$XPIDL" -m index -I "$gold" -o "$gen/xpt_index.c" "$gold"/*.idl

# ---- compile -------------------------------------------------------------

compile_case() { # name command...
  name=$1
  shift
  if "$@" >"$work/log" 2>&1; then pass "compile: $name"
  else fail "compile: $name" "$work/log"; fi
}

all_c=$work/all.c
: >"$all_c"
for h in "$gen"/*.h; do
  base=$(basename "$h")
  printf '#include "%s"\n' "$base" >"$work/one.c"
  printf '#include "%s"\n' "$base" >>"$all_c"
  cp "$work/one.c" "$work/one.cpp"
  compile_case "$base as C11" \
    $CC $CWARN -fsyntax-only $incs -I "$gen" "$work/one.c"
  compile_case "$base as C++17" \
    $CXX $CXXWARN -fsyntax-only $incs -I "$gen" "$work/one.cpp"
done
# every header twice, in one unit: guards and repeated forward declarations
cat "$all_c" "$all_c" >"$work/all2.c"
cp "$work/all2.c" "$work/all2.cpp"
compile_case "all headers together as C11" \
  $CC $CWARN -fsyntax-only $incs -I "$gen" "$work/all2.c"
compile_case "all headers together as C++17" \
  $CXX $CXXWARN -fsyntax-only $incs -I "$gen" "$work/all2.cpp"

objs=
for c in "$gen"/*_xpt.c "$gen"/xpt_index.c; do
  o=$work/$(basename "$c" .c).o
  compile_case "$(basename "$c")" $CC $CWARN $incs -c "$c" -o "$o"
  objs="$objs $o"
done
if $CC $CWARN $incs "$here/xpt_check.c" $objs -o "$work/xpt_check" \
    >"$work/log" 2>&1 && "$work/xpt_check" >"$work/log" 2>&1; then
  pass "compile: type information links and is consistent ($(cat "$work/log"))"
else
  fail "compile: type information consistency (xpt_check.c)" "$work/log"
fi

# ---- abi -------------------------------------------------------------------

if [ "${XPIDL_TEST_SANFLAGS+set}" = set ]; then
  san=$XPIDL_TEST_SANFLAGS
else
  san="-fsanitize=address,undefined"
  printf 'int main(void) { return 0; }\n' >"$work/probe.c"
  $CC $san "$work/probe.c" -o "$work/probe" >/dev/null 2>&1 || san=
fi
# A C vtable carries no C++ type information for UBSan's vptr check.
sancxx=
[ -n "$san" ] && sancxx=-fno-sanitize=vptr

if $CC $CWARN -Wno-unused-parameter $san -g $incs -I "$gen" \
      -c "$here/abi_c.c" -o "$work/abi_c.o" >"$work/log" 2>&1 &&
   $CXX $CXXWARN $san $sancxx -g $incs -I "$gen" \
      -c "$here/abi_cpp.cpp" -o "$work/abi_cpp.o" >>"$work/log" 2>&1 &&
   $CXX $san "$work/abi_c.o" "$work/abi_cpp.o" -o "$work/abi" \
      >>"$work/log" 2>&1; then
  "$work/abi" >"$work/abi.out" 2>"$work/log"
  rc=$?
  while IFS= read -r line; do
    case $line in
      PASS:*) pass "abi: ${line#PASS: }" ;;
      FAIL:*) fail "abi: ${line#FAIL: }" "$work/log" ;;
    esac
  done <"$work/abi.out"
  [ "$(grep -c '^PASS' "$work/abi.out")" -eq 2 ] && [ $rc -eq 0 ] ||
    fail "abi: test program exited with $rc" "$work/log"
else
  fail "abi: build (${san:-no sanitizers})" "$work/log"
fi

# ---- errors ------------------------------------------------------------------

for idl in "$here"/errors/*.idl; do
  name=$(basename "$idl")
  expect=$(sed -n '1s,^// expect: ,,p' "$idl")
  out=$work/err-out.h
  printf 'previous contents\n' >"$out"
  (cd "$here/errors" && "$XPIDL" -m header -I "$gold" -o "$out" "$name") \
    >"$work/stderr" 2>&1
  rc=$?
  case $name in
    ok_*)
      missing_warning=
      sed -n 's,^// warn: ,,p' "$idl" >"$work/warnings"
      while IFS= read -r w; do
        grep -qF -- "$w" "$work/stderr" || missing_warning=$w
      done <"$work/warnings"
      if [ $rc -ne 0 ]; then fail "errors: $name should compile" "$work/stderr"
      elif [ -n "$missing_warning" ]; then
        echo "expected: $missing_warning" >>"$work/stderr"
        fail "errors: $name warning" "$work/stderr"
      else pass "errors: $name compiles ($expect)"; fi
      continue ;;
  esac
  if [ -z "$expect" ]; then
    fail "errors: $name has no '// expect:' first line"
  elif [ $rc -ne 1 ]; then
    fail "errors: $name exited with $rc, expected 1" "$work/stderr"
  elif ! grep -qF -- "$expect" "$work/stderr"; then
    echo "expected: $expect" >>"$work/stderr"
    fail "errors: $name message" "$work/stderr"
  elif [ "$(cat "$out")" != "previous contents" ] ||
       ls "$out".tmp* >/dev/null 2>&1; then
    fail "errors: $name touched the output file"
  else
    pass "errors: $name"
  fi
done

# ---- command line --------------------------------------------------------------

cli_case() { # name expected-status command...
  name=$1 want=$2
  shift 2
  "$@" >"$work/log" 2>&1
  rc=$?
  if [ $rc -eq "$want" ]; then pass "cli: $name"
  else echo "exit status $rc, expected $want" >>"$work/log"
       fail "cli: $name" "$work/log"; fi
}
cli_case "no arguments is a usage error" 2 "$XPIDL"
cli_case "unknown mode is a usage error" 2 "$XPIDL" -m nonsense "$gold/nsISupports.idl"
cli_case "header takes one file" 2 "$XPIDL" -m header "$gold/nsISupports.idl" "$gold/nsrootidl.idl"
cli_case "missing input file" 1 "$XPIDL" -m header -o "$work/x.h" "$work/missing.idl"
cli_case "writes to standard output" 0 "$XPIDL" -m header "$gold/nsISupports.idl"
cli_case "--help" 0 "$XPIDL" --help

# ---- distribution -------------------------------------------------------------

# Makefile.inc must list every test input so `make distcheck` ships them.
missing=
for f in "$here"/golden/*.idl "$here"/golden/expected/* "$here"/errors/*.idl \
         "$here"/*.c "$here"/*.cpp; do
  rel=test/xpidl/${f#"$here"/}
  grep -qF -- "$rel" "$here/Makefile.inc" || missing="$missing $rel"
done
if [ -z "$missing" ]; then pass "dist: Makefile.inc lists every test file"
else echo "not in EXTRA_DIST:$missing" >"$work/log"
     fail "dist: Makefile.inc lists every test file" "$work/log"; fi

echo "xpidl tests: $((total - failed)) of $total passed"
[ $failed -eq 0 ]
