#!/bin/sh
# run-conformance-tls.sh — the conformance suite of the ws:// issue over
# wss:// (the wss:// issue requires no new failures): run-conformance.sh
# --tls serves the fuzzing server over TLS with a certificate made now and
# trusts it through SSL_CERT_FILE. Options are passed on.
here=$(cd "$(dirname "$0")" && pwd)
exec sh "$here/../conformance/run-conformance.sh" --tls "$@"
