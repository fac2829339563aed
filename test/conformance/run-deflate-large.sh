#!/bin/sh
# run-deflate-large.sh — 16 MiB messages with permessage-deflate end to end:
# `wschannel cat` (the channel through XPCOM) against the deflate echo
# servers of the xpcshell tests, Python `websockets` and Node `ws`
# (test/xpcshell/servers/deflate_server.{py,js}), with compression on (each
# library's defaults) and off (`?off`):
#   - a 16 MiB text message (compressible ASCII) comes back identical, and
#     the server's byte counter shows it arrived compressed (less than a
#     quarter of its size) or, with compression off, not;
#   - a 16 MiB binary message (half pseudo-random, half repetitive; no 0x0a,
#     since cat splits lines) comes back identical.
# The xpcshell test test_websocket_deflate.js covers the parameters, the
# `extensions` attribute and the acknowledgements with messages up to 70 KB.
#
# Runs from the build directory (WSCHANNEL defaults to ./bin/wschannel;
# WSCHANNEL_MANIFEST names the component's manifest when not installed).
# Exit 0 pass, 1 fail, 77 skip (no /usr/bin/python3). Node with `ws`
# (npm ci --prefix test/xpcshell/servers) is required, as for the xpcshell
# suite.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srvdir=$(cd "$here/../xpcshell/servers" && pwd)
PY=${PYTHON:-/usr/bin/python3}
NODE=${NODE:-node}
WSCHANNEL=${WSCHANNEL:-./bin/wschannel}
[ -x "$PY" ] || { echo "SKIP: $PY not found"; exit 77; }
[ -x "$WSCHANNEL" ] || { echo "FAIL: no $WSCHANNEL"; exit 1; }
if [ -z "${WSCHANNEL_MANIFEST:-}" ] && [ -f components/wschannel.manifest ]; then
	WSCHANNEL_MANIFEST=$PWD/components/wschannel.manifest
	export WSCHANNEL_MANIFEST
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wsdeflate.XXXXXX") || exit 1
pids=''
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	exec 3>&- 4>&-
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# start NAME FD CMD...: a server whose stdin is a fifo held open on
# descriptor FD (the servers stop at end of input); its URL goes to $url.
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
	url=$(head -n 1 "$tmp/$name.out")
}

start py 3 "$PY" "$srvdir/deflate_server.py"
case $url in ws://*) PYURL=$url ;; *) cat "$tmp/py.err"; echo "FAIL: no Python server"; exit 1 ;; esac
start node 4 "$NODE" "$srvdir/deflate_server.js"
case $url in ws://*) NODEURL=$url ;; *) cat "$tmp/node.err"; echo "FAIL: no Node server (npm ci --prefix test/xpcshell/servers)"; exit 1 ;; esac

# The inputs: one 16 MiB line each, then (text only) the stats command.
"$PY" - "$tmp" <<'EOF'
import random, sys
d = sys.argv[1]
rnd = random.Random(7692)
words = [b"permessage", b"deflate", b"window", b"context", b"takeover",
         b"sixteen", b"mebibytes", b"of", b"text", b"for", b"the", b"channel"]
n = 16 << 20
text = b" ".join(rnd.choice(words) for _ in range(n // 5))[:n]
with open(d + "/text.in", "wb") as f:
    f.write(text + b"\n__stats__\n")
with open(d + "/text.expect", "wb") as f:
    f.write(text + b"\n")
half = n // 2
noise = bytes(rnd.getrandbits(8) for _ in range(4096)) * (half // 4096)
noise = noise.replace(b"\n", b"\x0b")
pattern = bytes(i for i in range(256) if i != 10) * (half // 255 + 1)
data = noise + pattern[:n - len(noise)]
with open(d + "/bin.in", "wb") as f:
    f.write(data + b"\n")
EOF
size=$((16 << 20))

# feed FILE OUT LINES: FILE on stdout, then stdout stays open until OUT has
# LINES lines (at most 60 s): cat closes at end of input once nothing has
# arrived for 250 ms, which a slow 16 MiB echo could outlast.
feed() {
	cat "$1"
	i=0
	while [ "$(wc -l <"$2" 2>/dev/null || echo 0)" -lt "$3" ] && [ $i -lt 600 ]; do
		sleep 0.1; i=$((i + 1))
	done
}

for url in "$PYURL" "$PYURL?off" "$NODEURL" "$NODEURL?off"; do
	# text, with the byte counter
	if feed "$tmp/text.in" "$tmp/text.out" 2 |
		timeout 120 "$WSCHANNEL" cat "$url" >"$tmp/text.out" 2>"$tmp/text.err"; then
		head -n 1 "$tmp/text.out" >"$tmp/text.first"
		stats=$(sed -n 2p "$tmp/text.out")
		bytes_in=$(echo "$stats" | sed -n 's/.*"bytesIn": *\([0-9]*\).*/\1/p')
		if ! cmp -s "$tmp/text.first" "$tmp/text.expect"; then
			fail "$url: 16 MiB text echo differs ($(wc -c <"$tmp/text.first") bytes back)"
		elif [ -z "$bytes_in" ]; then
			fail "$url: no stats after the text ($stats)"
		else
			case $url in
			*off)
				if [ "$bytes_in" -gt "$size" ]; then pass "$url: 16 MiB text, uncompressed ($bytes_in bytes in)"
				else fail "$url: compression off but only $bytes_in bytes arrived"; fi ;;
			*)
				if [ "$bytes_in" -lt $((size / 4)) ]; then pass "$url: 16 MiB text, compressed to $bytes_in bytes"
				else fail "$url: 16 MiB text arrived as $bytes_in bytes (not compressed?)"; fi ;;
			esac
		fi
	else
		fail "$url: text: cat failed: $(cat "$tmp/text.err")"
	fi
	# binary
	if feed "$tmp/bin.in" "$tmp/bin.out" 1 |
		timeout 120 "$WSCHANNEL" cat "$url" --binary >"$tmp/bin.out" 2>"$tmp/bin.err"; then
		if cmp -s "$tmp/bin.in" "$tmp/bin.out"; then pass "$url: 16 MiB binary"
		else fail "$url: 16 MiB binary echo differs ($(wc -c <"$tmp/bin.out") bytes back)"; fi
	else
		fail "$url: binary: cat failed: $(cat "$tmp/bin.err")"
	fi
done

[ $failures -eq 0 ] && echo "PASS: 16 MiB deflate end to end" && exit 0
echo "$failures failure(s)"
exit 1
