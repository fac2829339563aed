/*
 * hopbench.c — the cost of handing work from one thread to another and
 * back, with nothing else: the floor under any client that keeps Gecko's
 * threading model (socket I/O on one thread, the listener on another).
 *
 * usage: hopbench COUNT
 * Two threads ping-pong a token COUNT times; each waits in poll() on an
 * eventfd and clears it with read(), as an event loop does. Run it on one
 * CPU (taskset -c 0) to compare with the echo workload there. Prints one
 * JSON line: {"round_trips": N, "seconds": S, "rt_p50_us": ..,
 * "rt_p99_us": ..} where a round trip is two hops (A -> B -> A), as the
 * channel's echo makes two (main -> socket thread, socket thread -> main)
 * besides the server's.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static int g_to_b, g_to_a;
static long g_count;

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int signal_fd(int fd) {
  uint64_t one = 1;
  return write(fd, &one, sizeof one) == (ssize_t)sizeof one ? 0 : -1;
}

/* Waits as an event loop does: poll until readable, then clear. */
static int wait_fd(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, -1) != 1)
    return -1;
  uint64_t v;
  return read(fd, &v, sizeof v) == (ssize_t)sizeof v ? 0 : -1;
}

static void *thread_b(void *arg) {
  (void)arg;
  for (long i = 0; i < g_count; i++)
    if (wait_fd(g_to_b) || signal_fd(g_to_a))
      return (void *)1;
  return NULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  g_count = argc == 2 ? atol(argv[1]) : 0;
  if (g_count <= 0) {
    fprintf(stderr, "usage: hopbench COUNT\n");
    return 2;
  }
  g_to_b = eventfd(0, EFD_CLOEXEC);
  g_to_a = eventfd(0, EFD_CLOEXEC);
  double *rt = malloc((size_t)g_count * sizeof *rt);
  pthread_t b;
  if (g_to_b < 0 || g_to_a < 0 || !rt || pthread_create(&b, NULL, thread_b, NULL)) {
    perror("hopbench");
    return 1;
  }
  double start = now_us();
  for (long i = 0; i < g_count; i++) {
    double t0 = now_us();
    if (signal_fd(g_to_b) || wait_fd(g_to_a)) {
      perror("hopbench");
      return 1;
    }
    rt[i] = now_us() - t0;
  }
  double seconds = (now_us() - start) / 1e6;
  void *res;
  pthread_join(b, &res);
  qsort(rt, (size_t)g_count, sizeof *rt, cmp_double);
  printf("{\"round_trips\": %ld, \"seconds\": %.6f, \"rt_p50_us\": %.3f, \"rt_p99_us\": %.3f}\n",
         g_count, seconds, rt[g_count / 2], rt[(long)(0.99 * (double)g_count)]);
  free(rt);
  return res ? 1 : 0;
}
