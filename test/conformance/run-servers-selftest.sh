#!/bin/sh
# run-servers-selftest.sh — proves the test servers themselves right, before
# they are used to judge bin/wschannel:
#   * fuzzingserver.py + ref_testee.py (a correct RFC 6455 client): every
#     case OK / NON-STRICT / INFORMATIONAL, with a clean close;
#   * ref_testee.py --break=MODE (deliberately wrong clients): the cases
#     that must catch each fault are FAILED (or NON-STRICT, or UNCLEAN),
#     the rest still pass; for permessage-deflate a client that breaks the
#     agreed window or context takeover, puts RSV1 where it does not
#     belong, sends truncated DEFLATE data, offers nothing
#     (UNIMPLEMENTED) or offers nonsense; and offers with server parameters
#     that the server must honour in its answer;
#   * the fuzzing server's control endpoints and a run over TLS;
#   * badserver.py: every mode against a known client (test_badserver.py),
#     plain and over TLS.
# Prints PASS/FAIL per check and "N passed, N failed"; exit 1 on failure,
# 77 (automake's SKIP) without /usr/bin/python3.
#
# Environment: PYTHON (default /usr/bin/python3); SELFTEST_CASES and
# SELFTEST_EXCLUDE restrict the full reference run (e.g. SELFTEST_EXCLUDE=
# '9.*' leaves out the large messages); SELFTEST_TLS=0 skips the TLS runs
# (they also skip themselves without the openssl command).
# SELFTEST_DEFLATE_BUDGET (default 65536) caps the messages per case of
# sections 12/13 in the reference run (fuzzingserver.py --deflate-budget).
set -u
here=$(cd "$(dirname "$0")" && pwd)
servers=$(cd "$here/../servers" && pwd)
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || { echo "SKIP: $PY not found"; exit 77; }
"$PY" -c 'import websockets' 2>/dev/null ||
	{ echo "SKIP: python3-websockets not installed"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wsselftest.XXXXXX") || exit 1
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pass=0; fail=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
ko() { echo "FAIL $1"; fail=$((fail + 1)); }

# start_fuzz NAME [server options...]: starts a fuzzingserver, sets $port
start_fuzz() {
	name=$1; shift
	"$PY" "$servers/fuzzingserver.py" --port 0 --quiet \
		--reports "$tmp/rep-$name" "$@" >"$tmp/srv-$name.out" 2>&1 &
	spid=$!
	pids="$pids $spid"
	port=""
	i=0
	while [ $i -lt 100 ]; do
		port=$(sed -n 's/^LISTENING //p' "$tmp/srv-$name.out" 2>/dev/null)
		[ -n "$port" ] && return 0
		sleep 0.1; i=$((i + 1))
	done
	cat "$tmp/srv-$name.out"
	return 1
}
stop_fuzz() { kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; }

# fuzz NAME BREAKS CASES [check_reports options...]
# BREAKS: ref_testee --break modes, or "offer=EXTENSIONS" (what the client
# offers) or "nodeflate" (no offer).
fuzz() {
	name=$1 breaks=$2 cases=$3; shift 3
	if ! start_fuzz "$name" --cases "$cases" --deflate-budget 65536; then
		ko "fuzz:$name (server did not start)"; return
	fi
	case $breaks in
	nodeflate) set -- --no-deflate "$@" ;;
	offer=*) set -- "--offer=${breaks#offer=}" "$@" ;;
	*) set -- "--break=$breaks" "$@" ;;
	esac
	"$PY" "$servers/ref_testee.py" --quiet "ws://127.0.0.1:$port" "$name" \
		"$1" >"$tmp/testee-$name.out" 2>&1
	shift
	rc=$?
	stop_fuzz
	if [ $rc -ne 0 ]; then
		cat "$tmp/testee-$name.out"; ko "fuzz:$name (testee exit $rc)"
		return
	fi
	if "$PY" "$here/check_reports.py" "$tmp/rep-$name" "$name" "$@" \
		>"$tmp/check-$name.out" 2>&1; then
		ok "fuzz:$name: $(tail -1 "$tmp/check-$name.out")"
	else
		cat "$tmp/check-$name.out"; ko "fuzz:$name"
	fi
}

# 1. the reference client over the whole suite ---------------------------
cases=${SELFTEST_CASES:-*}
excl=${SELFTEST_EXCLUDE:-}
countopt=""
[ "$cases" = "*" ] && [ -z "$excl" ] && countopt="--count 557"
if start_fuzz reference --cases "$cases" ${excl:+--exclude "$excl"} \
	--deflate-budget "${SELFTEST_DEFLATE_BUDGET:-65536}"; then
	t0=$(date +%s)
	if "$PY" "$servers/ref_testee.py" --quiet "ws://127.0.0.1:$port" \
		reference >"$tmp/testee-reference.out" 2>&1; then
		# shellcheck disable=SC2086 # $countopt is two words or none
		if "$PY" "$here/check_reports.py" "$tmp/rep-reference" reference \
			--strict $countopt >"$tmp/check-reference.out" 2>&1; then
			ok "fuzz:reference ($(($(date +%s) - t0)) s): $(tail -1 "$tmp/check-reference.out")"
		else
			cat "$tmp/check-reference.out"; ko "fuzz:reference"
		fi
		n=$("$PY" "$servers/fuzzingserver.py" --list --cases "$cases" \
			${excl:+--exclude "$excl"} | wc -l)
		"$PY" "$servers/test_fuzzprotocol.py" "ws://127.0.0.1:$port" \
			reference "$n" >"$tmp/proto.out" 2>&1
		while read -r verdict what; do
			case $verdict in
			PASS) ok "$what" ;;
			FAIL) ko "$what" ;;
			esac
		done <"$tmp/proto.out"
		i=0   # /stopServer must make it exit by itself
		while kill -0 "$spid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1; i=$((i + 1))
		done
		if kill -0 "$spid" 2>/dev/null; then
			ko "fuzzingserver:exits-after-stopServer"
		else
			ok "fuzzingserver:exits-after-stopServer"
		fi
	else
		cat "$tmp/testee-reference.out"; ko "fuzz:reference (testee failed)"
	fi
	stop_fuzz
else
	ko "fuzz:reference (server did not start)"
fi

# 2. deliberately broken clients must be caught ---------------------------
utf8bad=$(cd "$servers" && "$PY" -c 'import fuzzcases as f; print(",".join(
	c.id for c in f.all_cases() if c.close.get("closedByWrongEndpointIsFatal")))')
fuzz noutf8check noutf8check '6.2.*,6.3.*,6.4.*,6.6.*,6.11.*,6.12.*,6.20.*,7.5.1' \
	--expect-failed "$utf8bad,7.5.1"
fuzz nofailfast nofailfast '6.3.*,6.4.*,6.5.*,6.20.*' --expect-nonstrict '6.4.*'
fuzz nomask nomask '1.1.1,1.2.8,2.1,2.5,5.3,6.3.1,7.7.1,7.9.1,9.1.1' \
	--expect-failed '*'
fuzz nopong nopong '2.1,2.2,2.6,2.7,2.10,2.11,5.6,5.19' \
	--expect-failed '2.1,2.2,2.6,2.10,2.11,5.6,5.19'
fuzz echoclosecode echoclosecode '7.*' --expect-failed '7.5.1,7.9.*'
fuzz norsvcheck norsvcheck '3.*' --expect-failed '3.1,3.2,3.3,3.4,3.5,3.6'
fuzz noclose noclose '1.1.1,2.1,7.1.1,7.1.2,7.3.1,7.3.3,7.7.1' \
	--expect-unclean '*'
# failing by dropping TCP without a Close is allowed by Autobahn's rules
fuzz dropnoclose dropnoclose \
	'2.5,3.*,4.*,5.1,5.9,5.18,6.3.*,6.4.*,6.8.*,7.3.2,7.3.6,7.5.1,7.9.*'
# permessage-deflate: a 15-bit window where 8..10 bits were agreed (the
# 15-bit cases must still pass: deflate cannot go further back)
fuzz pmdwindow pmdwindow \
	'12.1.10,13.1.10,13.3.10,13.4.10,13.5.10,13.8.1,13.8.2,13.8.3,13.8.8,13.10.2' \
	--expect-failed '13.3.10,13.5.10,13.8.1,13.8.2,13.8.3,13.10.2'
# context kept although client_no_context_takeover was agreed (13.2, 13.6,
# 13.10.8, 13.11.8 agree it; 13.1, 13.3, 13.4 do not)
fuzz pmdtakeover pmdtakeover \
	'13.1.10,13.2.10,13.2.15,13.3.10,13.4.10,13.6.10,13.10.8,13.11.8' \
	--expect-failed '13.2.10,13.2.15,13.6.10,13.10.8,13.11.8'
fuzz pmdrsv1cont pmdrsv1cont '1.1.2,12.1.1,13.2.3,13.12.8' \
	--expect-failed '12.1.1,13.2.3,13.12.8'
fuzz pmdrsv1ctl pmdrsv1ctl '1.1.2,2.1,12.1.1,13.12.8' \
	--expect-failed '12.1.1,13.12.8'
fuzz pmdtruncate pmdtruncate '1.1.2,12.2.4,13.1.1,13.11.1' \
	--expect-failed '12.2.4,13.1.1,13.11.1'
fuzz nodeflate nodeflate '1.1.2,12.1.1,13.1.1,13.12.8' \
	--expect-unimplemented '12.1.1,13.1.1,13.12.8'
fuzz badoffer 'offer=permessage-deflate; client_max_window_bits=16' \
	'1.1.2,12.1.1' --expect-failed '*'
# server parameters in the offer: the answer must honour them (the
# reference client fails the handshake otherwise) and so must the data
fuzz serveroffer 'offer=permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12' \
	'12.1.10,13.1.*,13.3.10,13.4.10,13.8.*,13.11.*,13.12.*'

# 3. TLS ------------------------------------------------------------------
tls=no
if [ "${SELFTEST_TLS:-1}" != 0 ] && command -v openssl >/dev/null 2>&1 &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1; then
	tls=yes
fi
if [ $tls = yes ]; then
	if start_fuzz tls --cases '1.*,2.*,5.*,6.4.*,7.*,9.1.1,9.5.1,10.*' \
		--tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem"; then
		if "$PY" "$servers/ref_testee.py" --quiet "wss://localhost:$port" \
			tls --cacert "$tmp/cert.pem" >"$tmp/testee-tls.out" 2>&1 &&
			"$PY" "$here/check_reports.py" "$tmp/rep-tls" tls \
				>"$tmp/check-tls.out" 2>&1; then
			ok "fuzz:tls: $(tail -1 "$tmp/check-tls.out")"
		else
			cat "$tmp/testee-tls.out" "$tmp/check-tls.out" 2>/dev/null
			ko "fuzz:tls"
		fi
		stop_fuzz
	else
		ko "fuzz:tls (server did not start)"
	fi
else
	echo "SKIP fuzz:tls and badserver(tls) (no openssl or SELFTEST_TLS=0)"
fi

# the runner used for bin/wschannel, driven with the reference testee
for opt in "" --tls; do
	[ "$opt" = --tls ] && [ $tls = no ] && continue
	if TESTEE="$PY $servers/ref_testee.py --quiet" PYTHON="$PY" \
		sh "$here/run-conformance.sh" $opt --cases '1.1.*,2.5,6.4.1' \
		>"$tmp/runner.out" 2>&1 && grep -q ': PASS$' "$tmp/runner.out"; then
		ok "run-conformance.sh${opt:+ $opt}"
	else
		cat "$tmp/runner.out"; ko "run-conformance.sh${opt:+ $opt}"
	fi
done

# 4. the misbehaving server ----------------------------------------------
run_bad() {
	"$PY" "$servers/test_badserver.py" "$@" >"$tmp/bad.out" 2>&1
	while read -r verdict what; do
		case $verdict in
		PASS) ok "$what" ;;
		FAIL) ko "$what" ;;
		*) echo "$verdict $what" ;;
		esac
	done <"$tmp/bad.out"
}
run_bad
[ $tls = yes ] && run_bad --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
