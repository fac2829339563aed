#!/bin/sh
# install-test.sh — checks an installed wschannel the way a C++ host uses it:
# compiles test/component/cxx_host.cpp with g++ using nothing but
# `pkg-config --cflags --libs wschannel` from the installation, and runs it
# with no WSCHANNEL_MANIFEST, so the component must be found beside the
# installed library.
#
# Usage:
#   install-test.sh PREFIX
#       PREFIX is where `make install` put wschannel (the configure
#       --prefix, or DESTDIR+prefix of a staged install: the prefix the
#       .pc file records is replaced by PREFIX, so a relocated tree works
#       too, provided libdir/includedir were left relative to ${prefix}).
#   install-test.sh --build BUILDDIR
#       runs `make -C BUILDDIR install DESTDIR=<temporary dir>` first and
#       tests that staged (hence relocated) installation; removes it after.
#
# Environment: CXX (default g++); CXXFLAGS are added to the compile (e.g.
# "-fsanitize=address,undefined" when the installation was built with
# --enable-sanitizers); KEEP=1 keeps the temporary directory.
# Exit status 0 only when the program compiled cleanly and passed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$here/cxx_host.cpp
CXX=${CXX:-g++}
CXXFLAGS=${CXXFLAGS:-}

die() { echo "install-test: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: $0 PREFIX | --build BUILDDIR"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/wschannel-install-test.XXXXXX") || die "mktemp failed"
cleanup() { [ "${KEEP:-0}" = 1 ] && echo "install-test: kept $tmp" || rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

if [ "$1" = "--build" ]; then
  [ $# -eq 2 ] || die "usage: $0 --build BUILDDIR"
  build=$(cd "$2" && pwd) || die "no build directory $2"
  # The configured prefix, as the generated .pc file records it.
  conf_prefix=$(sed -n 's/^prefix=//p' "$build/wschannel.pc")
  [ -n "$conf_prefix" ] || die "cannot read prefix from $build/wschannel.pc"
  make -C "$build" install DESTDIR="$tmp/stage" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log" >&2; die "make install DESTDIR=... failed"; }
  prefix=$tmp/stage$conf_prefix
else
  [ $# -eq 1 ] || die "usage: $0 PREFIX"
  prefix=$(cd "$1" && pwd) || die "no prefix $1"
fi

pc=$(find "$prefix" -name wschannel.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || die "no pkgconfig/wschannel.pc under $prefix"
# A copy of the .pc with its prefix= line pointing at $prefix: a staged or
# relocated tree answers for itself, and nothing else is redefined
# (pkg-config's --define-variable would also move nspr's and nss's paths).
mkdir -p "$tmp/pc"
sed "s|^prefix=.*|prefix=$prefix|" "$pc" >"$tmp/pc/wschannel.pc"
pkgconf() {
  PKG_CONFIG_PATH=$tmp/pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH} pkg-config "$@"
}
cflags=$(pkgconf --cflags wschannel) || die "pkg-config --cflags wschannel failed"
libs=$(pkgconf --libs wschannel) || die "pkg-config --libs wschannel failed"
libdir=$(pkgconf --variable=libdir wschannel)
compdir=$(pkgconf --variable=componentsdir wschannel)

echo "install-test: prefix $prefix"
echo "install-test: cflags $cflags"
echo "install-test: libs   $libs"
for f in "$compdir/wschannel.manifest" "$compdir/libwschannel_component.so"; do
  [ -f "$f" ] || die "missing $f"
done

# -fno-sanitize=vptr: UBSan's vptr check needs C++ RTTI, which objects
# written in C lack (harmless without -fsanitize).
# shellcheck disable=SC2086 # word splitting of the flags is intended
"$CXX" -std=c++17 -Wall -Wextra -Werror $CXXFLAGS -fno-sanitize=vptr $cflags "$src" \
  -o "$tmp/cxx_host" $libs || die "compiling cxx_host.cpp failed"

env -u WSCHANNEL_MANIFEST LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  "$tmp/cxx_host" || die "cxx_host failed against $prefix"
echo "install-test: PASS"
