#!/bin/sh
# test-shell.sh — bin/xpcshell's command line: -f/-e order in one global,
# script arguments, quit codes (also from events and promise jobs),
# uncaught exceptions (file:line, stack, exit 3), missing files (exit 4),
# usage errors (exit 2), -v, load(), dump(), the interactive prompt on
# stdin, and a clean leak report. Needs XPCSHELL; WSCHANNEL_MANIFEST is
# passed through. Prints PASS/FAIL per check; exits 1 on any failure.
set -u
: "${XPCSHELL:?XPCSHELL must name bin/xpcshell}"
XPCOM_MEM_LEAK_LOG=2
export XPCOM_MEM_LEAK_LOG
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
n=0

# run NAME EXPECTED_STATUS [xpcshell args...]: output in $tmp/out, $tmp/err
run() {
  name=$1 want=$2
  shift 2
  timeout 60 "$XPCSHELL" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  got=$?
  n=$((n + 1))
  if [ "$got" -ne "$want" ]; then
    echo "FAIL | test-shell | $name: exit status $got, expected $want"
    sed 's/^/    err: /' "$tmp/err"
    fails=$((fails + 1))
    return 1
  fi
  if ! grep -q 'TEST-PASS | leakcheck' "$tmp/err"; then
    echo "FAIL | test-shell | $name: no clean leak report"
    sed 's/^/    err: /' "$tmp/err"
    fails=$((fails + 1))
    return 1
  fi
  echo "PASS | test-shell | $name (exit $got)"
}

# expect FILE TEXT DESCRIPTION: a fixed string is in out or err
expect() {
  n=$((n + 1))
  if grep -qF -- "$2" "$tmp/$1"; then
    echo "PASS | test-shell | $3"
  else
    echo "FAIL | test-shell | $3: '$2' not in std$1"
    sed "s/^/    $1: /" "$tmp/$1"
    fails=$((fails + 1))
  fi
}
absent() {
  n=$((n + 1))
  if grep -qF -- "$2" "$tmp/$1"; then
    echo "FAIL | test-shell | $3: '$2' found in std$1"
    fails=$((fails + 1))
  else
    echo "PASS | test-shell | $3"
  fi
}

echo 'a.push(2);' >"$tmp/two.js"
echo 'print("args=" + JSON.stringify(arguments));' >"$tmp/args.js"
echo 'var loaded = "yes";' >"$tmp/lib.js"
printf 'function thrower() {\n  throw new Error("boom");\n}\nthrower();\n' >"$tmp/throws.js"

run "-e prints" 0 -e 'print(1 + 1)'
expect out "2" "-e output"
run "-e/-f order, one global" 0 -e 'var a = [1];' -f "$tmp/two.js" -e 'a.push(3); print(a.join(","))'
expect out "1,2,3" "order of -e and -f"
run "script arguments" 0 "$tmp/args.js" x "y z"
expect out 'args=["x","y z"]' "arguments"
run "no arguments without a script" 0 -e 'print("n=" + arguments.length)'
expect out "n=0" "arguments empty"
run "quit(5)" 5 -e 'quit(5); print("after")' -e 'print("next -e")'
absent out "after" "nothing runs after quit"
absent out "next -e" "no later -e after quit"
run "quit()" 0 -e 'quit()'
run "quit from an event" 7 -e 'Services.tm.dispatchToMainThread(() => quit(7));
  Services.tm.spinEventLoopUntil(() => false); print("not reached")'
absent out "not reached" "quit in an event unwinds the script"
run "quit from a promise job" 6 -e 'Promise.resolve().then(() => quit(6)); print("sync")'
expect out "sync" "script ran before the job"
run "uncaught exception" 3 "$tmp/throws.js"
expect err "throws.js:2:" "uncaught: file:line"
expect err "uncaught exception: Error: boom" "uncaught: message"
expect err "thrower@" "uncaught: stack"
run "uncaught exception, then quit(0)" 3 -e 'throw 1' -e 'print("continued"); quit(0)'
expect out "continued" "later -e still runs after an error"
run "XPCOM exception uncaught" 3 -e 'Cc["@mozilla.org/timer;1"].createInstance().QueryInterface(Ci.nsIObserver)'
expect err "NS_NOINTERFACE" "uncaught XPCOM exception names the result"
run "unhandled rejection" 3 -e 'async function main() { await null; throw new Error("async boom"); }
  main();'
expect err "unhandled promise rejection: Error: async boom" "unhandled rejection reported"
expect err "main@" "unhandled rejection stack"
run "rejection handled by a later event" 0 -e 'const p = Promise.reject(1);
  Services.tm.dispatchToMainThread(() => p.catch(() => {}));
  Services.tm.spinEventLoopUntil(() => !Services.tm.mainThread.hasPendingEvents());'
run "missing file" 4 -f "$tmp/nonexistent.js"
expect err "nonexistent.js" "missing file named"
run "load()" 0 -e "load('$tmp/lib.js'); print(loaded)"
expect out "yes" "load runs the file in the global"
run "load() of a missing file throws" 0 -e "try { load('$tmp/none.js') } catch (e) { print(e.result === Cr.NS_ERROR_FILE_NOT_FOUND) }"
expect out "true" "load failure result"
run "dump" 0 -e 'dump("a"); dump("b\n")'
expect out "ab" "dump writes without newline"
run "-v" 0 -v
expect out "SpiderMonkey 102" "-v prints the engine version"

n=$((n + 1))
timeout 60 "$XPCSHELL" -x 2>"$tmp/err" >/dev/null </dev/null
: # ignored Gecko flags are accepted; an unknown one is a usage error
if timeout 60 "$XPCSHELL" --bogus >/dev/null 2>&1 </dev/null; then st=0; else st=$?; fi
if [ "$st" -eq 2 ]; then echo "PASS | test-shell | unknown option: exit 2"; else
  echo "FAIL | test-shell | unknown option: exit $st"; fails=$((fails + 1)); fi

# The interactive prompt: statements may span lines; results are printed.
n=$((n + 1))
printf '1 + 2\nvar o = {\n  a: 41 };\no.a + 1\nthrow new Error("oops")\nprint("still here")\n' |
  timeout 60 "$XPCSHELL" >"$tmp/out" 2>"$tmp/err"
st=$?
if [ "$st" -eq 3 ]; then echo "PASS | test-shell | interactive: exit 3 after an error"; else
  echo "FAIL | test-shell | interactive: exit $st"; fails=$((fails + 1)); fi
expect out "3" "interactive: expression value"
expect out "42" "interactive: multi-line statement"
expect err "typein:5:" "interactive: error location"
expect out "still here" "interactive: continues after an error"
printf 'quit(9)\nprint("marker-after-quit")\n' | timeout 60 "$XPCSHELL" >"$tmp/out" 2>&1
st=$?
if [ "$st" -eq 9 ]; then echo "PASS | test-shell | interactive quit(9)"; else
  echo "FAIL | test-shell | interactive quit: exit $st"; fails=$((fails + 1)); fi
absent out "marker-after-quit" "interactive: nothing after quit"

echo "$( [ $fails -eq 0 ] && echo PASS || echo FAIL ) | test-shell | $fails failure(s)"
[ $fails -eq 0 ]
