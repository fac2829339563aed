#!/bin/sh
# test-wschannel-cat.sh — `wschannel cat` end to end: stdin lines become
# messages and the echoes come back on stdout (Python websockets and Node ws
# echo servers), --binary, --protocol/--origin on the wire (badserver.py's
# echo mode reports the request), the server's close ends the tool with 0,
# refused connections and unknown hosts fail with the nsresult name on
# stderr, a large input goes through the tool's backpressure, and usage
# errors exit 2.
#
# Runs from the build directory (WSCHANNEL defaults to ./bin/wschannel);
# WSCHANNEL_MANIFEST names the component's manifest (make check sets it).
# Exit 0 pass, 1 fail, 77 skip (no /usr/bin/python3).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
PY=${PYTHON:-/usr/bin/python3}
WSCHANNEL=${WSCHANNEL:-./bin/wschannel}
[ -x "$PY" ] || { echo "SKIP: $PY not found"; exit 77; }
[ -x "$WSCHANNEL" ] || { echo "FAIL: no $WSCHANNEL"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wscat.XXXXXX") || exit 1
pids=''
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	exec 3>&- 4>&- 5>&- 6>&-
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# start NAME FD CMD... : runs a server whose stdin is a fifo held open on
# descriptor FD of this shell (the echo servers stop at end of input), and
# stores the URL from its first stdout line in $url.
start() {
	name=$1 fd=$2; shift 2
	mkfifo "$tmp/$name.in"
	"$@" <"$tmp/$name.in" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pids="$pids $!"
	eval "exec $fd>\"\$tmp/\$name.in\""
	i=0
	while [ ! -s "$tmp/$name.out" ] && [ $i -lt 200 ]; do
		sleep 0.1; i=$((i + 1))
	done
	line=$(head -n 1 "$tmp/$name.out")
	case $line in
	LISTENING*) url="ws://127.0.0.1:${line#LISTENING }/" ;;
	*) url=$line ;;
	esac
}

start py 3 "$PY" "$top/test/xpcshell/servers/echo_server.py"
PYURL=$url
case $PYURL in ws://*) ;; *) cat "$tmp/py.err"; echo "FAIL: no Python echo server"; exit 1 ;; esac
urls=$PYURL
if command -v node >/dev/null 2>&1; then
	nodedir=$top/test/xpcshell/servers
	if [ ! -f "$nodedir/node_modules/ws/package.json" ] && [ -z "${NODE_PATH:-}" ]; then
		# The same lock as test_channel_net's, which may install it too.
		flock "${TMPDIR:-/tmp}/wschannel-npm-ci.lock" sh -c \
			"[ -f '$nodedir/node_modules/ws/package.json' ] || npm ci --prefix '$nodedir' --no-audit --no-fund" \
			>/dev/null 2>&1
	fi
	start node 4 node "$top/test/xpcshell/servers/echo_server.js"
	case $url in
	ws://*) urls="$urls $url" ;;
	*) fail "no Node echo server (npm ci --prefix test/xpcshell/servers): $(cat "$tmp/node.err")" ;;
	esac
else
	fail "node is not installed"
fi

# 1. Text lines, UTF-8 included, echoed in order; exit 0.
printf 'hello\nw\303\266rld\n\nlast line without newline' >"$tmp/in1"
printf 'hello\nw\303\266rld\n\nlast line without newline\n' >"$tmp/want1"
for u in $urls; do
	if timeout 30 "$WSCHANNEL" cat "$u" <"$tmp/in1" >"$tmp/out1" 2>"$tmp/err1"; then
		if cmp -s "$tmp/out1" "$tmp/want1"; then pass "text echo $u"
		else fail "text echo $u: got $(od -c "$tmp/out1" | head -5)"; fi
	else
		fail "text echo $u: exit $?: $(cat "$tmp/err1")"
	fi
done

# 2. --binary: bytes that are not UTF-8 go as binary messages.
printf '\000\001\376\377\nplain\n' >"$tmp/in2"
for u in $urls; do
	if timeout 30 "$WSCHANNEL" cat "$u" --binary <"$tmp/in2" >"$tmp/out2" 2>"$tmp/err2" &&
		cmp -s "$tmp/out2" "$tmp/in2"; then pass "binary echo $u"
	else fail "binary echo $u: $(cat "$tmp/err2")"; fi
done

# 3. Invalid UTF-8 as text is refused (exit non-zero, the name on stderr).
if printf '\377\n' | timeout 30 "$WSCHANNEL" cat "$PYURL" >/dev/null 2>"$tmp/err3"; then
	fail "invalid UTF-8 text was sent"
elif grep -q NS_ERROR_ILLEGAL_VALUE "$tmp/err3"; then pass "invalid UTF-8 refused"
else fail "invalid UTF-8: $(cat "$tmp/err3")"; fi

# 4. 20,000 lines through the tool's backpressure.
seq 1 20000 >"$tmp/in4"
if timeout 60 "$WSCHANNEL" cat "$PYURL" <"$tmp/in4" >"$tmp/out4" 2>"$tmp/err4" &&
	cmp -s "$tmp/in4" "$tmp/out4"; then pass "20000 lines"
else fail "20000 lines: $(wc -l <"$tmp/out4") lines back: $(cat "$tmp/err4")"; fi

# 5. --protocol and --origin reach the server; the server's close (code
#    4000) ends the tool with status 0 while stdin is still open.
start bad 5 "$PY" "$top/test/servers/badserver.py" --mode echo --protocols chat
BADURL=$url
mkfifo "$tmp/in5"
timeout 15 "$WSCHANNEL" cat "$BADURL" --protocol 'chat, superchat' \
	--origin http://origin.example <"$tmp/in5" >"$tmp/out5" 2>"$tmp/err5" &
wpid=$!
exec 7>"$tmp/in5"            # stdin stays open until after the tool ends
printf '!close 4000 bye\n' >&7
wait $wpid
rc=$?
exec 7>&-
if [ $rc -eq 0 ]; then pass "server close ends cat with 0"
else fail "server close: exit $rc: $(cat "$tmp/err5")"; fi
grep -q 'code 4000: bye' "$tmp/err5" || fail "server close code not reported: $(cat "$tmp/err5")"
grep -q 'protocols=chat,superchat' "$tmp/bad.out" || fail "--protocol not sent: $(cat "$tmp/bad.out")"
grep -q 'origin=http://origin.example' "$tmp/bad.out" || fail "--origin not sent"

# 6. Failures: refused, unknown host; non-zero with the nsresult name.
start refused 6 "$PY" "$top/test/servers/badserver.py" --mode closedport
REFURL=$url
if timeout 30 "$WSCHANNEL" cat "$REFURL" </dev/null 2>"$tmp/err6"; then
	fail "refused connection exited 0"
elif grep -q NS_ERROR_CONNECTION_REFUSED "$tmp/err6"; then pass "refused"
else fail "refused: $(cat "$tmp/err6")"; fi
if timeout 30 "$WSCHANNEL" cat ws://no-such-host.invalid/ </dev/null 2>"$tmp/err7"; then
	fail "unknown host exited 0"
elif grep -q NS_ERROR_UNKNOWN_HOST "$tmp/err7"; then pass "unknown host"
else fail "unknown host: $(cat "$tmp/err7")"; fi

# 7. Usage.
"$WSCHANNEL" nosuchcommand >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass "unknown command exits 2" || fail "unknown command exit $rc"
"$WSCHANNEL" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass "no command exits 2" || fail "no command exit $rc"
"$WSCHANNEL" cat >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass "cat without URL exits 2" || fail "cat without URL exit $rc"

[ $failures -eq 0 ] && { echo "PASS"; exit 0; }
echo "$failures failure(s)"
exit 1
