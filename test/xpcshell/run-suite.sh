#!/bin/sh
# run-suite.sh — runs the xpcshell tests (xpcshell.ini beside this script)
# with the built shell; `make check` runs it.
#
#   run-suite.sh [RUNNER OPTIONS] [TEST_NAME...]
#
# XPCSHELL names the shell (make check sets it to $(abs_top_builddir)/bin/xpcshell);
# PYTHON3 (default /usr/bin/python3) and NODE (default node) the interpreters
# of the echo servers and of the permessage-deflate servers WS_DEFLATE_PY and
# WS_DEFLATE_NODE (servers/deflate_server.*).  The Node servers need the
# `ws` package installed in servers/node_modules (`npm ci --prefix test/xpcshell/servers`) or on
# NODE_PATH; without it the suite fails, saying so.
here=$(cd "$(dirname "$0")" && pwd)
xpcshell=${XPCSHELL:-./bin/xpcshell}
python=${PYTHON3:-/usr/bin/python3}
node=${NODE:-node}

# By hand, from a build directory: find the component there.
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

exec "$python" "$here/runxpcshelltests.py" \
  --xpcshell "$xpcshell" \
  --manifest "$here/xpcshell.ini" \
  --server "WS_ECHO_PY=exec '$python' '$here/servers/echo_server.py'" \
  --server "WS_ECHO_NODE=exec '$node' '$here/servers/echo_server.js'" \
  --server "WS_REFUSED=exec '$python' '$here/servers/closed_port.py'" \
  --server "WS_DEFLATE_PY=exec '$python' '$here/servers/deflate_server.py'" \
  --server "WS_DEFLATE_NODE=exec '$node' '$here/servers/deflate_server.js'" \
  "$@"
