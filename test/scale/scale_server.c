/*
 * scale_server.c — the peer of the scale test: a WebSocket echo server
 * (RFC 6455) for many thousands of concurrent connections that is never
 * the bottleneck. One thread, epoll (edge-triggered reads, writes tried at
 * once), non-blocking sockets, per-connection state of a few dozen bytes
 * while idle (buffers only while data is in flight).
 *
 * usage: scale_server [--port N]
 *   Listens on 127.0.0.1:N (0 = any), raises RLIMIT_NOFILE to its hard
 *   limit, prints "ws://127.0.0.1:PORT/" as its first stdout line, and
 *   serves until stdin reaches EOF or SIGTERM/SIGINT.
 *
 * Any path is the echo service: each data frame is sent back unmasked
 * with the same opcode and FIN bit (so fragmented messages come back
 * fragmented the same way), Ping is answered with Pong (§5.5.2), a Close
 * is echoed and the server then closes TCP (§7.1.1). Frames larger than
 * 16 MiB, unmasked client frames (§5.1) and malformed requests end the
 * connection. Sec-WebSocket-Accept uses NSS's SHA-1 (through the engine's
 * ws_handshake_accept_key).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nss.h>
#include <plbase64.h>

#include "websocket/ws_handshake.h"

#define MAX_REQUEST 8192u
#define MAX_FRAME (16u << 20)
#define READ_CHUNK (64u * 1024u)

typedef struct conn {
  int fd;
  bool upgraded;
  bool closing;     /* our Close is queued: close TCP once it is written */
  uint8_t *in;      /* unparsed input, NULL while empty */
  size_t in_len, in_cap;
  uint8_t *out;     /* unwritten output, NULL while empty */
  size_t out_len, out_off, out_cap;
} conn;

static volatile sig_atomic_t g_stop;
static int g_ep;
static uint8_t g_buf[READ_CHUNK];
static unsigned long g_open, g_peak;

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static void conn_free(conn *c) {
  epoll_ctl(g_ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->in);
  free(c->out);
  free(c);
  g_open--;
}

static bool append(uint8_t **buf, size_t *len, size_t *cap, const void *data,
                   size_t n) {
  if (*len + n > *cap) {
    size_t nc = *cap ? *cap : 256;
    while (nc < *len + n)
      nc *= 2;
    uint8_t *b = realloc(*buf, nc);
    if (!b)
      return false;
    *buf = b;
    *cap = nc;
  }
  memcpy(*buf + *len, data, n);
  *len += n;
  return true;
}

/* Writes what is queued. False when the connection must end. */
static bool flush_out(conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                     MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET,
                                 .data.ptr = c};
        epoll_ctl(g_ep, EPOLL_CTL_MOD, c->fd, &ev);
        return true;
      }
      return false;
    }
    c->out_off += (size_t)w;
  }
  /* All written: give the buffer back (idle connections hold none). */
  free(c->out);
  c->out = NULL;
  c->out_len = c->out_off = c->out_cap = 0;
  return !c->closing;
}

static bool queue_out(conn *c, const void *data, size_t n) {
  if (c->out_off && c->out_off == c->out_len)
    c->out_len = c->out_off = 0;
  return append(&c->out, &c->out_len, &c->out_cap, data, n);
}

static bool queue_frame(conn *c, uint8_t b0, const uint8_t *payload,
                        size_t len) {
  uint8_t h[10];
  size_t hl = 2;
  h[0] = b0;
  if (len < 126) {
    h[1] = (uint8_t)len;
  } else if (len < 65536) {
    h[1] = 126;
    h[2] = (uint8_t)(len >> 8);
    h[3] = (uint8_t)len;
    hl = 4;
  } else {
    h[1] = 127;
    for (int i = 0; i < 8; i++)
      h[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    hl = 10;
  }
  return queue_out(c, h, hl) && queue_out(c, payload, len);
}

/* Case-insensitive search for a header's value in the request. */
static const char *header_value(const char *req, const char *name,
                                size_t *len) {
  size_t nl = strlen(name);
  for (const char *p = strstr(req, "\r\n"); p; p = strstr(p, "\r\n")) {
    p += 2;
    if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
      const char *v = p + nl + 1;
      while (*v == ' ' || *v == '\t')
        v++;
      const char *e = strstr(v, "\r\n");
      if (!e)
        return NULL;
      while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
      *len = (size_t)(e - v);
      return v;
    }
  }
  return NULL;
}

/* Parses the request in c->in; queues the 101. -1 bad, 0 need more, 1 ok. */
static int handshake(conn *c) {
  if (c->in_len > MAX_REQUEST)
    return -1;
  uint8_t *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
  if (!end)
    return 0;
  size_t req_len = (size_t)(end - c->in) + 4;
  char req[MAX_REQUEST + 1];
  memcpy(req, c->in, req_len);
  req[req_len] = '\0';
  size_t klen = 0;
  const char *key = header_value(req, "Sec-WebSocket-Key", &klen);
  if (strncmp(req, "GET ", 4) != 0 || !key || klen != 24)
    return -1;
  /* ws_handshake_accept_key takes the 16 raw key bytes. */
  char key_b64[25];
  memcpy(key_b64, key, 24);
  key_b64[24] = '\0';
  uint8_t raw[18];
  if (!PL_Base64Decode(key_b64, 24, (char *)raw))
    return -1;
  char accept[WS_HANDSHAKE_ACCEPT_LEN + 1];
  if (ws_handshake_accept_key(raw, accept) != 0)
    return -1;
  char resp[256];
  int n = snprintf(resp, sizeof resp,
                   "HTTP/1.1 101 Switching Protocols\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: %s\r\n\r\n",
                   accept);
  if (!queue_out(c, resp, (size_t)n))
    return -1;
  memmove(c->in, c->in + req_len, c->in_len - req_len);
  c->in_len -= req_len;
  c->upgraded = true;
  return 1;
}

/* Echoes every complete frame in c->in. False when the connection ends. */
static bool frames(conn *c) {
  size_t off = 0;
  bool ok = true;
  while (ok && !c->closing) {
    size_t avail = c->in_len - off;
    const uint8_t *p = c->in + off;
    if (avail < 2)
      break;
    uint8_t b0 = p[0], op = b0 & 0x0f;
    if (!(p[1] & 0x80)) { /* §5.1: client frames are masked */
      ok = false;
      break;
    }
    uint64_t len = p[1] & 0x7f;
    size_t hl = 2;
    if (len == 126) {
      if (avail < 4)
        break;
      len = (uint64_t)p[2] << 8 | p[3];
      hl = 4;
    } else if (len == 127) {
      if (avail < 10)
        break;
      len = 0;
      for (int i = 0; i < 8; i++)
        len = len << 8 | p[2 + i];
      hl = 10;
    }
    if (len > MAX_FRAME) {
      ok = false;
      break;
    }
    if (avail < hl + 4 + len)
      break;
    const uint8_t *mask = p + hl;
    uint8_t *pl = (uint8_t *)p + hl + 4;
    for (uint64_t i = 0; i < len; i++)
      pl[i] ^= mask[i & 3];
    off += hl + 4 + (size_t)len;
    if (op == 0x9) {
      ok = queue_frame(c, 0x8a, pl, (size_t)len);
    } else if (op == 0x8) {
      ok = queue_frame(c, 0x88, pl, len >= 2 ? 2 : 0);
      c->closing = true;
    } else if (op != 0xa) {
      ok = queue_frame(c, b0, pl, (size_t)len);
    }
  }
  if (off) {
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
  }
  if (c->in_len == 0) {
    free(c->in);
    c->in = NULL;
    c->in_cap = 0;
  }
  return ok;
}

static void on_readable(conn *c) {
  for (;;) {
    ssize_t n = recv(c->fd, g_buf, sizeof g_buf, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      break;
    if (n <= 0) {
      conn_free(c);
      return;
    }
    if (!append(&c->in, &c->in_len, &c->in_cap, g_buf, (size_t)n)) {
      conn_free(c);
      return;
    }
    if ((size_t)n < sizeof g_buf)
      break;
  }
  if (c->in_len == 0)
    return; /* nothing arrived yet (a fresh connection) */
  if (!c->upgraded) {
    int r = handshake(c);
    if (r < 0) {
      conn_free(c);
      return;
    }
    if (r == 0)
      return;
  }
  if (!frames(c) || !flush_out(c))
    conn_free(c);
}

static void accept_all(int lfd) {
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        fprintf(stderr, "scale_server: accept: %s\n", strerror(errno));
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn *c = calloc(1, sizeof *c);
    if (!c) {
      close(fd);
      continue;
    }
    c->fd = fd;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.ptr = c};
    if (epoll_ctl(g_ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
      close(fd);
      free(c);
      continue;
    }
    if (++g_open > g_peak)
      g_peak = g_open;
    on_readable(c); /* the request may already be there */
  }
}

int main(int argc, char **argv) {
  int port = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      port = atoi(argv[++i]);
    } else {
      fprintf(stderr, "usage: scale_server [--port N]\n");
      return 2;
    }
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (NSS_NoDB_Init(NULL) != SECSuccess) {
    fprintf(stderr, "scale_server: NSS_NoDB_Init failed\n");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
      listen(lfd, 4096) != 0 ||
      getsockname(lfd, (struct sockaddr *)&a, &alen) != 0) {
    fprintf(stderr, "scale_server: cannot listen: %s\n", strerror(errno));
    return 1;
  }
  g_ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(g_ep, EPOLL_CTL_ADD, lfd, &ev);
  /* stdin: EOF means the test is done with us. */
  static int stdin_tag;
  struct epoll_event sev = {.events = EPOLLIN, .data.ptr = &stdin_tag};
  bool watch_stdin = epoll_ctl(g_ep, EPOLL_CTL_ADD, 0, &sev) == 0;
  printf("ws://127.0.0.1:%d/\n", (int)ntohs(a.sin_port));
  fflush(stdout);

  struct epoll_event evs[256];
  while (!g_stop) {
    int n = epoll_wait(g_ep, evs, 256, -1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    for (int i = 0; i < n; i++) {
      void *p = evs[i].data.ptr;
      if (!p) {
        accept_all(lfd);
      } else if (p == &stdin_tag) {
        char b[256];
        ssize_t r = read(0, b, sizeof b);
        if (r <= 0 && watch_stdin)
          g_stop = 1;
      } else {
        conn *c = p;
        if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
          on_readable(c);
        else if ((evs[i].events & EPOLLOUT) && !flush_out(c))
          conn_free(c);
      }
    }
  }
  fprintf(stderr, "scale_server: %lu connections at most, %lu still open\n",
          g_peak, g_open);
  close(lfd);
  close(g_ep);
  NSS_Shutdown();
  return 0;
}
