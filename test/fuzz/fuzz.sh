#!/bin/sh
# fuzz.sh — build and run the libFuzzer targets of test/fuzz (clang only).
#
#   fuzz.sh build [TARGET...]        build OUT/TARGET (all targets by default)
#   fuzz.sh run TARGET [SECONDS]     fuzz for SECONDS (default 120), one job;
#                                    new inputs go to OUT/work/TARGET, crashes
#                                    to OUT/artifacts/TARGET/
#   fuzz.sh merge TARGET             add the inputs of OUT/work/TARGET that
#                                    bring new edges to the committed corpus
#                                    (edges only, -use_counters=0, to keep it
#                                    small; seed-* and regress-* files stay)
#   fuzz.sh check TARGET             report count and size of the committed corpus
#
# `make fuzz` / `make fuzz-run` call this with the configured flags; it also
# works by hand from a configured build directory's environment:
#   FUZZ_CC       compiler (default clang)
#   FUZZ_CPPFLAGS include flags of NSPR, NSS, zlib, uriparser, libidn2
#   FUZZ_LIBS     their link flags
#   FUZZ_SRCDIR   top of the source tree (default: two levels above this script)
#   FUZZ_OUT      output directory (default ./test/fuzz/libfuzzer)
# The targets link the engine sources directly (not libwschannel), so the
# code under test is instrumented for coverage.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
srcdir=${FUZZ_SRCDIR:-$(cd "$here/../.." && pwd)}
out=${FUZZ_OUT:-test/fuzz/libfuzzer}
cc=${FUZZ_CC:-clang}
[ -n "$cc" ] || cc=clang
cppflags=${FUZZ_CPPFLAGS:-$(pkg-config --cflags nspr nss zlib liburiparser libidn2)}
libs=${FUZZ_LIBS:-$(pkg-config --libs nss nspr zlib liburiparser libidn2)}
all_targets="fuzz_frame fuzz_utf8 fuzz_handshake fuzz_session fuzz_uri fuzz_xpidl"

# Corpus limits (keep the committed corpora small).
max_files=200
max_bytes=1048576

ws_sources() {
  for f in ws_error ws_mem ws_utf8 ws_frame ws_handshake ws_session ws_deflate; do
    printf '%s ' "$srcdir/src/websocket/$f.c"
  done
}

xpidl_sources() {
  for f in xpidl_util idl_ast idl_lexer idl_parser idl_resolve idl_check emit_types \
           emit_header emit_typelib; do
    printf '%s ' "$srcdir/build/xpidl/$f.c"
  done
}

sources_of() {
  case $1 in
  fuzz_uri) printf '%s' "$srcdir/src/net/net_uri.c" ;;
  fuzz_xpidl) xpidl_sources ;;
  fuzz_*) ws_sources ;;
  *) echo "fuzz.sh: unknown target '$1'" >&2; exit 2 ;;
  esac
}

build() {
  if ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz.sh: '$cc' not found; install clang and libclang-rt-dev (Debian:" \
         "apt-get install clang libclang-rt-14-dev) or set FUZZ_CC" >&2
    exit 1
  fi
  mkdir -p "$out"
  for t in "$@"; do
    srcs=$(sources_of "$t")
    echo "  FUZZCC   $out/$t"
    # shellcheck disable=SC2086 # word splitting of flag lists is intended
    "$cc" -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
      -Wall -Wextra -Wno-unused-parameter -Werror \
      -I"$srcdir/src" -I"$srcdir/build/xpidl" -DFUZZ_IDL_DIR="\"$srcdir/idl\"" \
      $cppflags "$srcdir/test/fuzz/$t.c" $srcs $libs -o "$out/$t"
  done
}

corpus_stats() {
  d=$srcdir/test/fuzz/corpus/$1
  n=$(find "$d" -type f | wc -l)
  bytes=$(find "$d" -type f -exec cat {} + | wc -c)
  echo "$1: $n files, $bytes bytes"
  if [ "$n" -gt $max_files ] || [ "$bytes" -gt $max_bytes ]; then
    echo "fuzz.sh: corpus $1 is over the limits ($max_files files, $max_bytes bytes)" >&2
    return 1
  fi
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
build)
  [ $# -gt 0 ] || set -- $all_targets
  build "$@"
  ;;
run)
  t=${1:?target}
  secs=${2:-120}
  [ -x "$out/$t" ] || build "$t"
  mkdir -p "$out/work/$t" "$out/artifacts/$t"
  # -jobs=1: the machines this runs on are shared.
  "$out/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$t/" "$out/work/$t" "$srcdir/test/fuzz/corpus/$t"
  ;;
merge)
  t=${1:?target}
  [ -x "$out/$t" ] || build "$t"
  "$out/$t" -merge=1 -use_counters=0 "$srcdir/test/fuzz/corpus/$t" "$out/work/$t"
  corpus_stats "$t"
  ;;
check)
  t=${1:-}
  if [ -n "$t" ]; then corpus_stats "$t"; else
    rc=0
    for t in $all_targets; do corpus_stats "$t" || rc=1; done
    exit $rc
  fi
  ;;
*)
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
  ;;
esac
