#!/bin/sh
# run-testee.sh — the conformance suite of issue 4 through the product:
# `wschannel testee` (the channel used only through XPCOM) against our
# Autobahn-protocol fuzzing server, sections 1-7, 9 and 10 (every case the
# server has). The runner, the server and the verdict rules belong to
# test/conformance (see its README); this wrapper only makes them a test of
# the channel in `make check`: it fails on any FAILED case (or a wrong close
# behaviour) and prints the verdict counts (OK / NON-STRICT /
# INFORMATIONAL / FAILED).
#
# Arguments are passed on (e.g. --cases '9.*', --tls once wss:// exists).
# Runs from the build directory: WSCHANNEL defaults to ./bin/wschannel.
here=$(cd "$(dirname "$0")" && pwd)
exec /bin/sh "$here/../conformance/run-conformance.sh" --agent wschannel "$@"
