#!/bin/sh
# run-conformance.sh — the Autobahn-style conformance suite for a WebSocket
# client: starts test/servers/fuzzingserver.py, runs the testee against it,
# judges REPORTS/index.json with check_reports.py.
#
#   run-conformance.sh [--tls] [--cases PATTERNS] [--exclude PATTERNS]
#                      [--agent NAME] [--reports DIR] [--time-scale F]
#                      [--strict] [--expect-failed PATTERNS]
#                      [--full | --deflate-budget BYTES]
#
# The testee is "$WSCHANNEL testee BASEURL AGENT" (WSCHANNEL defaults to
# ./bin/wschannel, i.e. the build directory `make check` runs in), or the
# command in $TESTEE, which gets "BASEURL AGENT" appended (e.g.
# TESTEE="/usr/bin/python3 test/servers/ref_testee.py" checks this script).
# --tls serves wss:// with a certificate made now (openssl) and exports
# SSL_CERT_FILE naming it, the trust convention of the wss:// issue.
# --time-scale stretches every case timer (valgrind runs).
# Sections 12 and 13 (permessage-deflate) send at most about 1 MiB per case
# by default (all 256 cases, fewer messages each: see the README); --full
# sends Autobahn's 1000 messages per case (several GB in all; a long run),
# --deflate-budget sets another cap.
# Exit 0 when every case passed, 1 otherwise, 77 (SKIP) when the testee or
# /usr/bin/python3 is missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
servers=$(cd "$here/../servers" && pwd)
PY=${PYTHON:-/usr/bin/python3}
tls=no cases='*' exclude='' agent=wschannel reports='' scale=1 strict=''
expfail='' budget=''
while [ $# -gt 0 ]; do
	case $1 in
	--tls) tls=yes ;;
	--cases) cases=$2; shift ;;
	--exclude) exclude=$2; shift ;;
	--agent) agent=$2; shift ;;
	--reports) reports=$2; shift ;;
	--time-scale) scale=$2; shift ;;
	--strict) strict=--strict ;;
	--expect-failed) expfail=$2; shift ;;
	--full) budget=0 ;;
	--deflate-budget) budget=$2; shift ;;
	*) echo "run-conformance.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ -x "$PY" ] || { echo "SKIP: $PY not found"; exit 77; }
if [ -z "${TESTEE:-}" ]; then
	WSCHANNEL=${WSCHANNEL:-./bin/wschannel}
	[ -x "$WSCHANNEL" ] || { echo "SKIP: no testee ($WSCHANNEL)"; exit 77; }
	TESTEE="$WSCHANNEL testee"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wsconf.XXXXXX") || exit 1
spid=''
cleanup() { [ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
[ -n "$reports" ] || reports=$tmp/reports

set -- --port 0 --reports "$reports" --cases "$cases" --time-scale "$scale"
[ -n "$exclude" ] && set -- "$@" --exclude "$exclude"
[ -n "$budget" ] && set -- "$@" --deflate-budget "$budget"
scheme=ws host=127.0.0.1
if [ $tls = yes ]; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1 ||
		{ echo "SKIP: cannot make a certificate (openssl)"; exit 77; }
	set -- "$@" --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem"
	SSL_CERT_FILE=$tmp/cert.pem; export SSL_CERT_FILE
	scheme=wss host=localhost
fi
"$PY" "$servers/fuzzingserver.py" "$@" >"$tmp/server.out" 2>"$tmp/server.log" &
spid=$!
port='' i=0
while [ -z "$port" ] && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
	port=$(sed -n 's/^LISTENING //p' "$tmp/server.out")
done
[ -n "$port" ] || { cat "$tmp/server.log"; echo "FAIL: no server"; exit 1; }
n=$("$PY" "$servers/fuzzingserver.py" "$@" --list | wc -l)

t0=$(date +%s)
# shellcheck disable=SC2086 # $TESTEE is a command line
$TESTEE "$scheme://$host:$port" "$agent"
rc=$?
t1=$(date +%s)
[ $rc -eq 0 ] || echo "testee exited with status $rc"
# shellcheck disable=SC2086 # $strict is one word or none
"$PY" "$here/check_reports.py" "$reports" "$agent" --count "$n" $strict \
	--by-section ${expfail:+--expect-failed "$expfail"}
ok=$?
echo "conformance ($scheme, $n cases, $((t1 - t0)) s): $([ $ok -eq 0 ] && [ $rc -eq 0 ] && echo PASS || echo FAIL)"
[ $ok -eq 0 ] && [ $rc -eq 0 ]
