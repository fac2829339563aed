#!/bin/sh
# run-demo.sh — the demo: starts the Python echo server on a free port and
# runs examples/echo.js in xpcshell against it.
#
#   run-demo.sh [XPCSHELL]        (default: $XPCSHELL, else ./bin/xpcshell)
#
# Exits with the example's status.  The server stops when this script ends
# (it serves until its stdin, a pipe held open here, closes).
here=$(cd "$(dirname "$0")" && pwd)
xpcshell=${1:-${XPCSHELL:-./bin/xpcshell}}
python=${PYTHON3:-/usr/bin/python3}

if [ -z "$WSCHANNEL_MANIFEST" ]; then
  for manifest in "$(dirname "$xpcshell")/../components/wschannel.manifest" \
                  "$(dirname "$xpcshell")/components/wschannel.manifest"; do
    if [ -f "$manifest" ]; then
      WSCHANNEL_MANIFEST=$manifest
      export WSCHANNEL_MANIFEST
      break
    fi
  done
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wsdemo.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkfifo "$tmp/stdin"
"$python" "$here/servers/echo_server.py" <"$tmp/stdin" >"$tmp/url" &
server=$!
exec 3>"$tmp/stdin"    # held open: the server's lifeline

url=
i=0
while [ $i -lt 100 ]; do
  url=$(head -n 1 "$tmp/url" 2>/dev/null)
  [ -n "$url" ] && break
  kill -0 $server 2>/dev/null || break
  sleep 0.1
  i=$((i + 1))
done
if [ -z "$url" ]; then
  echo "run-demo.sh: the echo server did not start" >&2
  exec 3>&-
  wait $server
  exit 1
fi
echo "echo server (Python websockets) listening at $url"

"$xpcshell" -e "const ECHO_URL = \"$url\";" "$here/examples/echo.js"
status=$?

exec 3>&-
wait $server
exit $status
