#!/bin/sh
# test_bench_smoke.sh — the benchmark pieces work, with tiny counts (the
# benchmark itself is `make bench`, never part of make check): benchserver
# serves every path, rawclient moves the raw baselines, `wschannel bench`
# prints its JSON line for each workload (checking the server's counts),
# fails on the invalid-text blast (1007), and answers usage errors with 2
# and an unknown workload with 3.
#
# Runs from the build directory; WSCHANNEL_MANIFEST names the component's
# manifest (make check sets it). Exit 0 pass, 1 fail.
set -u
WSCHANNEL=${WSCHANNEL:-./bin/wschannel}
SERVER=${BENCHSERVER:-./test/bench/benchserver}
RAW=${RAWCLIENT:-./test/bench/rawclient}
for p in "$WSCHANNEL" "$SERVER" "$RAW"; do
	[ -x "$p" ] || { echo "FAIL: no $p"; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wsbench.XXXXXX") || exit 1
spid=''
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

"$SERVER" >"$tmp/server.out" 2>"$tmp/server.err" &
spid=$!
port=''
for _ in $(seq 1 100); do
	port=$(sed -n 's/^PORT //p' "$tmp/server.out")
	[ -n "$port" ] && break
	sleep 0.05
done
[ -n "$port" ] || { echo "FAIL: benchserver did not start: $(cat "$tmp/server.err")"; exit 1; }
base="ws://127.0.0.1:$port"

# expect_json NAME EXPECTED_MSGS EXPECTED_BYTES CMD... : exit 0 and one
# JSON line with those counts (and the rtt fields for echo).
expect_json() {
	name=$1 msgs=$2 bytes=$3; shift 3
	out=$("$@" 2>"$tmp/err")
	rc=$?
	if [ $rc -ne 0 ]; then
		fail "$name: exit $rc: $(cat "$tmp/err")"
		return
	fi
	case $out in
	"{\"msgs\": $msgs, \"bytes\": $bytes, \"seconds\": "[0-9]*) ;;
	*) fail "$name: unexpected output: $out"; return ;;
	esac
	case $name in
	*echo*)
		case $out in
		*'"rtt_p50_us": '[0-9]*'"rtt_p99_us": '[0-9]*'}') ;;
		*) fail "$name: no percentiles: $out"; return ;;
		esac ;;
	esac
	pass "$name: $out"
}

# expect_status NAME STATUS CMD...
expect_status() {
	name=$1 want=$2; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq "$want" ]; then
		pass "$name (exit $rc)"
	else
		fail "$name: exit $rc, expected $want: $(cat "$tmp/out" "$tmp/err")"
	fi
}

# The raw baselines.
expect_json "raw recv" 100 1600 "$RAW" "$base/raw" recv 100 16
expect_json "raw send" 100 100000 "$RAW" "$base/raw-sink" send 100 1000
expect_json "raw echo" 20 640 "$RAW" "$base/raw-echo" echo 20 32

# The channel, every workload, sizes across the 7-, 16- and 64-bit length
# forms of RFC 6455 §5.2.
expect_json "bench recv-binary" 1000 16000 "$WSCHANNEL" bench "$base/blast-binary" recv-binary 1000 16
expect_json "bench recv-binary 64 KiB" 3 196608 "$WSCHANNEL" bench "$base/blast-binary" recv-binary 3 65536
expect_json "bench recv-binary 1 MiB" 2 2097152 "$WSCHANNEL" bench "$base/blast-binary" recv-binary 2 1048576
expect_json "bench recv-text" 200 204800 "$WSCHANNEL" bench "$base/blast-text" recv-text 200 1024
expect_json "bench send-binary" 5000 80000 "$WSCHANNEL" bench "$base/sink" send-binary 5000 16
# A window smaller than a message still lets one through at a time.
expect_json "bench send-binary, 1-byte window" 50 50000 env WSCHANNEL_BENCH_WINDOW=1 "$WSCHANNEL" bench "$base/sink" send-binary 50 1000
expect_json "bench echo" 50 1600 "$WSCHANNEL" bench "$base/echo" echo 50 32
expect_json "bench echo 0 bytes" 5 0 "$WSCHANNEL" bench "$base/echo" echo 5 0

# Failures and usage.
expect_status "invalid UTF-8 text fails the run" 1 "$WSCHANNEL" bench "$base/blast-text-invalid" recv-text 10 100
expect_status "binary where text is expected fails" 1 "$WSCHANNEL" bench "$base/blast-binary" recv-text 10 100
expect_status "unknown path (404) fails" 1 "$WSCHANNEL" bench "$base/nothing" recv-binary 1 1
expect_status "unknown workload" 3 "$WSCHANNEL" bench "$base/echo" ping 1 1
expect_status "missing arguments" 2 "$WSCHANNEL" bench "$base/echo" echo 1
expect_status "COUNT 0" 2 "$WSCHANNEL" bench "$base/echo" echo 0 1
expect_status "SIZE not a number" 2 "$WSCHANNEL" bench "$base/echo" echo 1 x
expect_status "negative SIZE" 2 "$WSCHANNEL" bench "$base/echo" echo 1 -1
expect_status "rawclient unknown workload" 3 "$RAW" "$base/raw" bogus 1 1

# The server survived all of that and still serves.
expect_json "server still serves" 10 160 "$WSCHANNEL" bench "$base/blast-binary" recv-binary 10 16

# It stops cleanly on SIGTERM (and, under the sanitizers, leak-free).
kill "$spid"
wait "$spid"
src=$?
spid=''
if [ $src -eq 0 ] && [ ! -s "$tmp/server.err" ]; then
	pass "benchserver stops cleanly"
else
	fail "benchserver exit $src: $(cat "$tmp/server.err")"
fi

if [ $failures -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "all passed"
exit 0
