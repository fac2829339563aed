#!/bin/sh
# run-xpcshell-tls.sh — the wss:// script tests (xpcshell.ini beside this
# script) with the built shell: makes the test certificates (make_certs.py),
# trusts the test CA through SSL_CERT_FILE, and gives the tests three
# servers of tls_server.py as constants (WSS_ECHO, WSS_UNKNOWN_CA,
# WS_PLAIN). `make check` runs it from the build directory.
#
# XPCSHELL names the shell (default ./bin/xpcshell), PYTHON3 the system
# Python (default /usr/bin/python3). Exit 0 pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
xpcshell=${XPCSHELL:-./bin/xpcshell}
python=${PYTHON3:-/usr/bin/python3}
[ -x "$python" ] || { echo "SKIP: $python not found"; exit 77; }
[ -x "$xpcshell" ] || { echo "FAIL: no $xpcshell"; exit 1; }

if [ -z "${WSCHANNEL_MANIFEST:-}" ]; then
  for manifest in "$(dirname "$xpcshell")/../components/wschannel.manifest" \
                  "$(dirname "$xpcshell")/components/wschannel.manifest"; do
    if [ -f "$manifest" ]; then
      WSCHANNEL_MANIFEST=$manifest
      export WSCHANNEL_MANIFEST
      break
    fi
  done
fi

certs=$(mktemp -d "${TMPDIR:-/tmp}/wss-xpcshell.XXXXXX") || exit 1
trap 'rm -rf "$certs"' EXIT
trap 'exit 1' INT TERM
"$python" "$here/make_certs.py" "$certs" || { echo "FAIL: make_certs.py"; exit 1; }
SSL_CERT_FILE=$certs/ca.pem
export SSL_CERT_FILE

server="exec '$python' '$here/tls_server.py' '$certs' --url"
"$python" "$here/../xpcshell/runxpcshelltests.py" \
  --xpcshell "$xpcshell" \
  --manifest "$here/xpcshell.ini" \
  --server "WSS_ECHO=$server ok" \
  --server "WSS_UNKNOWN_CA=$server unknownca" \
  --server "WS_PLAIN=$server plain" \
  "$@"
