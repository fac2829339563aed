/*
 * wschannel_bench.h — `wschannel bench`, the channel's side of the
 * benchmark suite (test/bench/, `make bench`, docs/PERFORMANCE.md).
 */
#ifndef WSCHANNEL_TOOLS_WSCHANNEL_BENCH_H
#define WSCHANNEL_TOOLS_WSCHANNEL_BENCH_H

#include <stdio.h>

/*
 * `wschannel bench URL WORKLOAD COUNT SIZE`; argv holds the arguments after
 * the subcommand's name. Starts and stops XPCOM itself and uses the
 * channel only as a host would (contract ID, nsIWebSocketChannel, a C
 * listener run by the main thread's event loop). Prints one JSON line on
 * stdout. Returns the process exit status: 0 done, 1 failure (connection,
 * protocol, short count, leaks), 2 usage, 3 unknown WORKLOAD. Main thread,
 * with XPCOM not running.
 */
int wschannel_bench_main(int argc, char **argv);

/* The usage line(s) for `wschannel --help`. */
void wschannel_bench_usage(FILE *out);

#endif /* WSCHANNEL_TOOLS_WSCHANNEL_BENCH_H */
