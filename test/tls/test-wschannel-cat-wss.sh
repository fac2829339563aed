#!/bin/sh
# test-wschannel-cat-wss.sh — `wschannel cat wss://…` against the TLS echo
# server (tls_server.py) with --cacert naming the test CA: lines echo back
# and the tool exits 0; certificate failures exit 1 with the NSS error name
# and text and the server certificate on stderr; without --cacert the test
# CA is unknown.
#
# Runs from the build directory (WSCHANNEL defaults to ./bin/wschannel;
# WSCHANNEL_MANIFEST names the component's manifest, make check sets it).
# Exit 0 pass, 1 fail, 77 skip (no /usr/bin/python3).
set -u
here=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-/usr/bin/python3}
WSCHANNEL=${WSCHANNEL:-./bin/wschannel}
[ -x "$PY" ] || { echo "SKIP: $PY not found"; exit 77; }
[ -x "$WSCHANNEL" ] || { echo "FAIL: no $WSCHANNEL"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wsscat.XXXXXX") || exit 1
spid=''
cleanup() { exec 3>&-; [ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

"$PY" "$here/make_certs.py" "$tmp/certs" || { echo "FAIL: make_certs.py"; exit 1; }
mkfifo "$tmp/server.in"
"$PY" "$here/tls_server.py" "$tmp/certs" <"$tmp/server.in" >"$tmp/server.out" 2>"$tmp/server.err" &
spid=$!
exec 3>"$tmp/server.in"
i=0
while ! grep -q '^PORTS' "$tmp/server.out" 2>/dev/null && [ $i -lt 150 ]; do
	sleep 0.1; i=$((i + 1))
done
port() { tr ' ' '\n' <"$tmp/server.out" | sed -n "s/^$1=//p"; }
[ -n "$(port ok)" ] || { cat "$tmp/server.err"; echo "FAIL: no server"; exit 1; }
unset SSL_CERT_FILE
ca=$tmp/certs/ca.pem

# cat INPUT URL [ARGS...]: stdin from the text INPUT (printf format),
# stdout in $tmp/out, stderr in $tmp/err, status in $rc. (Not fed by a
# pipe: the function would run in a subshell.)
cat_() {
	printf "$1" >"$tmp/in"
	url=$2; shift 2
	"$WSCHANNEL" cat "$url" "$@" <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

cat_ 'hello\nw\303\266rld\n' "wss://localhost:$(port ok)/" --cacert "$ca"
if [ $rc -eq 0 ] && [ "$(cat "$tmp/out")" = "$(printf 'hello\nw\303\266rld')" ]; then
	pass "echo over wss:// with --cacert (TLS 1.3)"
else
	fail "echo over wss:// (status $rc): $(cat "$tmp/out" "$tmp/err")"
fi

cat_ 'tls12\n' "wss://localhost:$(port tls12)/" --cacert "$ca"
if [ $rc -eq 0 ] && [ "$(cat "$tmp/out")" = "tls12" ]; then
	pass "echo over wss:// with TLS 1.2"
else
	fail "echo over TLS 1.2 (status $rc): $(cat "$tmp/out" "$tmp/err")"
fi

# expect_fail NAME URL PATTERN... : exit 1 and every pattern on stderr
expect_fail() {
	what=$1 url=$2; shift 2
	cat_ 'x\n' "$url" --cacert "$ca"
	[ $rc -eq 1 ] || { fail "$what: status $rc, expected 1: $(cat "$tmp/err")"; return; }
	for pattern in "$@"; do
		grep -qF -- "$pattern" "$tmp/err" ||
			{ fail "$what: no \"$pattern\" in: $(cat "$tmp/err")"; return; }
	done
	[ -s "$tmp/out" ] && { fail "$what: output $(cat "$tmp/out")"; return; }
	pass "$what"
}

expect_fail "unknown CA" "wss://localhost:$(port unknownca)/" \
	"cannot connect: 0x805a1ff3 (SEC_ERROR_UNKNOWN_ISSUER): Peer's Certificate issuer is not recognized." \
	"server certificate: CN=localhost, issued by CN=wschannel untrusted CA, SHA-256 "
expect_fail "wrong host" "wss://localhost:$(port wronghost)/" \
	"0x805a2ff4 (SSL_ERROR_BAD_CERT_DOMAIN)" "server certificate: CN=wrong.example"
expect_fail "expired" "wss://localhost:$(port expired)/" \
	"(SEC_ERROR_EXPIRED_CERTIFICATE): Peer's Certificate has expired."
expect_fail "plain HTTP on the wss port" "wss://localhost:$(port plain)/" \
	"(SSL_ERROR_RX_RECORD_TOO_LONG)"

cat_ 'x\n' "wss://localhost:$(port ok)/"
if [ $rc -eq 1 ] && grep -qF "SEC_ERROR_UNKNOWN_ISSUER" "$tmp/err"; then
	pass "without --cacert the test CA is unknown"
else
	fail "without --cacert: status $rc: $(cat "$tmp/err")"
fi

cat_ '' "wss://localhost:$(port ok)/" --cacert "$tmp/nonexistent.pem"
if [ $rc -eq 2 ] && grep -qF -- "--cacert" "$tmp/err"; then
	pass "--cacert with a missing file is a usage error"
else
	fail "--cacert missing file: status $rc: $(cat "$tmp/err")"
fi

[ $failures -eq 0 ] && { echo "PASS"; exit 0; }
echo "$failures failed"
exit 1
