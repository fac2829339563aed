/*
 * rawclient.c — the raw TCP baselines of `make bench`, against
 * benchserver's /raw, /raw-sink and /raw-echo paths: an HTTP upgrade
 * request, the 101, then unframed bytes on a plain blocking socket. This is
 * the limit any WebSocket client on the same loopback can approach.
 *
 * usage: rawclient URL WORKLOAD COUNT SIZE
 *   URL is ws://HOST:PORT/PATH (IPv4 literal); count=COUNT&size=SIZE is
 *   appended to the query, as every bench client does.
 *   recv  read COUNT*SIZE bytes until the server's FIN (256 KiB reads)
 *   send  write COUNT*SIZE bytes (256 KiB writes), shut down, read the
 *         server's byte count
 *   echo  COUNT round trips of SIZE bytes (TCP_NODELAY)
 * Prints the bench JSON line; msgs = COUNT (nominal), bytes as moved.
 * seconds: CLOCK_MONOTONIC from the end of the 101 to the last byte.
 * Exit 0, 1 failure, 2 usage, 3 unknown workload.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256u * 1024u)

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static int write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n) {
    ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    c += w;
    n -= (size_t)w;
  }
  return 0;
}

static int read_all(int fd, void *p, size_t n) {
  char *c = p;
  while (n) {
    ssize_t r = recv(fd, c, n, 0);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    c += r;
    n -= (size_t)r;
  }
  return 0;
}

/* Connects and upgrades; returns the socket, or -1 (reported). */
static int connect_upgrade(const char *url, uint64_t count, uint64_t size) {
  char host[64];
  unsigned port;
  int off = 0;
  if (sscanf(url, "ws://%63[0-9.]:%u%n", host, &port, &off) != 2 ||
      url[off] != '/') {
    fprintf(stderr, "rawclient: URL must be ws://IPV4:PORT/PATH\n");
    return -1;
  }
  const char *path = url + off;
  struct sockaddr_in sin = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, host, &sin.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
    perror("rawclient: connect");
    if (fd >= 0)
      close(fd);
    return -1;
  }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char req[1024];
  int n = snprintf(req, sizeof req,
                   "GET %s%ccount=%" PRIu64 "&size=%" PRIu64 " HTTP/1.1\r\n"
                   "Host: %s:%u\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n",
                   path, strchr(path, '?') ? '&' : '?', count, size, host,
                   port);
  if (write_all(fd, req, (size_t)n) != 0) {
    perror("rawclient: write");
    close(fd);
    return -1;
  }
  /* Read the response a byte at a time so no payload is consumed. */
  char resp[2048];
  size_t rl = 0;
  while (rl < sizeof resp - 1) {
    if (read_all(fd, resp + rl, 1) != 0) {
      fprintf(stderr, "rawclient: no response\n");
      close(fd);
      return -1;
    }
    rl++;
    if (rl >= 4 && !memcmp(resp + rl - 4, "\r\n\r\n", 4))
      break;
  }
  resp[rl] = '\0';
  if (strncmp(resp, "HTTP/1.1 101", 12) != 0) {
    fprintf(stderr, "rawclient: not upgraded: %.40s\n", resp);
    close(fd);
    return -1;
  }
  return fd;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: rawclient URL recv|send|echo COUNT SIZE\n");
    return 2;
  }
  const char *w = argv[2];
  if (strcmp(w, "recv") && strcmp(w, "send") && strcmp(w, "echo")) {
    fprintf(stderr, "rawclient: unknown workload '%s'\n", w);
    return 3;
  }
  char *e1, *e2;
  uint64_t count = strtoull(argv[3], &e1, 10), size = strtoull(argv[4], &e2, 10);
  if (*e1 || *e2 || count < 1 || argv[3][0] == '-' || argv[4][0] == '-') {
    fprintf(stderr, "rawclient: COUNT >= 1 and SIZE >= 0 are integers\n");
    return 2;
  }
  int fd = connect_upgrade(argv[1], count, size);
  if (fd < 0)
    return 1;
  char *buf = malloc(CHUNK > size ? CHUNK : size);
  if (!buf)
    return 1;
  memset(buf, 'r', CHUNK > size ? CHUNK : size);
  int rc = 1;
  uint64_t total = count * size, moved = 0;
  double t0 = now_s(), t1;
  if (!strcmp(w, "recv")) {
    for (;;) {
      ssize_t r = recv(fd, buf, CHUNK, 0);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        break;
      moved += (uint64_t)r;
      if (moved == total)
        t1 = now_s();
    }
    t1 = now_s();
    if (moved != total) {
      fprintf(stderr, "rawclient: %" PRIu64 " of %" PRIu64 " bytes\n", moved,
              total);
      goto out;
    }
    printf("{\"msgs\": %" PRIu64 ", \"bytes\": %" PRIu64
           ", \"seconds\": %.6f}\n",
           count, moved, t1 - t0);
  } else if (!strcmp(w, "send")) {
    while (moved < total) {
      size_t n = total - moved < CHUNK ? (size_t)(total - moved) : CHUNK;
      if (write_all(fd, buf, n) != 0) {
        perror("rawclient: send");
        goto out;
      }
      moved += n;
    }
    shutdown(fd, SHUT_WR);
    char reply[64];
    size_t rl = 0;
    ssize_t r;
    while (rl < sizeof reply - 1 &&
           (r = recv(fd, reply + rl, sizeof reply - 1 - rl, 0)) > 0)
      rl += (size_t)r;
    t1 = now_s();
    reply[rl] = '\0';
    uint64_t counted = strtoull(reply, NULL, 10);
    if (counted != total) {
      fprintf(stderr, "rawclient: the server counted %s of %" PRIu64 "\n",
              reply, total);
      goto out;
    }
    printf("{\"msgs\": %" PRIu64 ", \"bytes\": %" PRIu64
           ", \"seconds\": %.6f}\n",
           count, counted, t1 - t0);
  } else {
    uint64_t *rtt = malloc(count * sizeof *rtt);
    if (!rtt)
      goto out;
    for (uint64_t i = 0; i < count; i++) {
      uint64_t s = now_ns();
      if (write_all(fd, buf, size) != 0 || read_all(fd, buf, size) != 0) {
        fprintf(stderr, "rawclient: echo failed\n");
        free(rtt);
        goto out;
      }
      rtt[i] = now_ns() - s;
    }
    t1 = now_s();
    qsort(rtt, count, sizeof *rtt, cmp_u64);
    printf("{\"msgs\": %" PRIu64 ", \"bytes\": %" PRIu64
           ", \"seconds\": %.6f, \"rtt_p50_us\": %.3f, \"rtt_p99_us\": %.3f}\n",
           count, total, t1 - t0, (double)rtt[count / 2] / 1e3,
           (double)rtt[count * 99 / 100] / 1e3);
    free(rtt);
  }
  rc = 0;
out:
  free(buf);
  close(fd);
  return rc;
}
