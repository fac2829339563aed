# build/deps.sh — sourced by build/check and build/demo: makes sure the
# Debian packages the build and the tests need are present. As root it
# installs what is missing; otherwise it prints the apt-get line and fails.

# pkg-config module or command  ->  Debian package
ws_need() {
  missing=""
  for pair in \
      "cmd:autoreconf:autoconf" "cmd:automake:automake" "cmd:libtoolize:libtool" \
      "cmd:pkg-config:pkg-config" "cmd:gcc:gcc" "cmd:g++:g++" "cmd:make:make" \
      "pc:nspr:libnspr4-dev" "pc:liburiparser:liburiparser-dev" "pc:libidn2:libidn2-dev" "pc:nss:libnss3-dev" "pc:zlib:zlib1g-dev" "pc:check:check" "pc:mozjs-102:libmozjs-102-dev" \
      "cmd:certutil:libnss3-tools" "cmd:openssl:openssl" "file:/etc/ssl/certs/ca-certificates.crt:ca-certificates" "cmd:node:nodejs" "cmd:npm:npm" \
      "py:websockets:python3-websockets" ; do
    kind=${pair%%:*}; rest=${pair#*:}; what=${rest%%:*}; pkg=${rest#*:}
    case $kind in
      cmd) command -v "$what" >/dev/null 2>&1 || missing="$missing $pkg" ;;
      pc)  pkg-config --exists "$what" 2>/dev/null || missing="$missing $pkg" ;;
      py)  /usr/bin/python3 -c "import $what" 2>/dev/null || missing="$missing $pkg" ;;
      file) [ -e "$what" ] || missing="$missing $pkg" ;;
    esac
  done
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "build: installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null || {
      echo "build: apt-get install failed; run: apt-get install$missing" >&2; return 1; }
  else
    echo "build: missing packages; run as root:  apt-get install$missing" >&2
    return 1
  fi
}

# Node peers of the tests: the `ws` package, pinned by package-lock.json.
ws_need_npm() {
  top=$(cd "$(dirname "$0")/.." && pwd)
  dir=$top/test/xpcshell/servers
  [ -d "$dir/node_modules/ws" ] && return 0
  echo "build: installing the Node test peers (npm ci in test/xpcshell/servers)"
  (cd "$dir" && npm ci --no-audit --no-fund >/dev/null 2>&1) || {
    echo "build: npm ci failed in $dir" >&2; return 1; }
}

# Configures (once) and builds into $1 with configure arguments $2...
ws_build() {
  obj=$1; shift
  top=$(cd "$(dirname "$0")/.." && pwd)
  if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ] ; then
    (cd "$top" && autoreconf -fi >/dev/null 2>&1) || (cd "$top" && autoreconf -fi) || return 1
  fi
  mkdir -p "$obj"
  if [ ! -f "$obj/Makefile" ] || [ "$top/configure" -nt "$obj/config.status" ]; then
    (cd "$obj" && "$top/configure" --prefix="$obj/_inst" "$@" >/dev/null) || {
      echo "build: configure failed; see $obj/config.log" >&2; return 1; }
  fi
  make -C "$obj" -j"$(nproc)" >/dev/null 2>"$obj/make-stderr.log" || {
    cat "$obj/make-stderr.log" >&2; echo "build: make failed" >&2; return 1; }
}
