/*
 * benchserver.c — the benchmark peer of `make bench`: a WebSocket server
 * (RFC 6455) that is never the bottleneck. One thread, epoll, non-blocking
 * sockets. Received data is parsed in place; blasted data comes from a
 * precomputed run of frames written with one send() of up to 256 KiB.
 *
 * usage: benchserver [--port N] [--host ADDR]
 *   Listens on ADDR:N (default 127.0.0.1, port 0 = any), prints the port
 *   on the first line of stdout ("PORT n") and serves until SIGTERM/SIGINT.
 *
 * Paths (COUNT and SIZE from the query string: ?count=N&size=S):
 *   /blast-binary        COUNT binary messages of SIZE bytes, then Close 1000
 *   /blast-text          COUNT text messages of SIZE ASCII bytes, Close 1000
 *   /blast-text-invalid  as blast-text, but the last message carries one
 *                        invalid UTF-8 byte (0xFF) in its middle: a client
 *                        that validates must fail the connection (1007)
 *   /sink                counts data messages and their payload bytes until
 *                        the text message "done" (not counted), then replies
 *                        with the text "<messages> <bytes>" and Close 1000
 *   /echo                echoes each data message (same opcode)
 *   /raw                 101, then COUNT*SIZE unframed bytes, then FIN: the
 *                        raw TCP limit of a receiver
 *   /raw-echo            101, then echoes unframed bytes (the ping-pong
 *                        baseline of the echo workload)
 *   /raw-sink            101, then counts unframed bytes until the client's
 *                        FIN, replies "<bytes>" and closes
 * Ping is answered with Pong; a client's Close is answered (RFC 6455 §5.5.1)
 * and the server then closes TCP first (§7.1.1). Extensions are never
 * accepted. Anything else gets 404.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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

#define PATTERN_TARGET (256u * 1024u) /* bytes per blast send() */
#define READ_CHUNK (256u * 1024u)
#define MAX_REQUEST 8192u
#define MAX_FRAME (64ull << 20) /* echo/text frames are assembled in memory */

/* ---- SHA-1 (FIPS 180-4), for Sec-WebSocket-Accept only ------------------ */

static uint32_t rol32(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1_block(uint32_t h[5], const uint8_t *p) {
  uint32_t w[80];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
           (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
  for (int i = 16; i < 80; i++)
    w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int i = 0; i < 80; i++) {
    uint32_t f, k;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5A827999;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ED9EBA1;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8F1BBCDC;
    } else {
      f = b ^ c ^ d;
      k = 0xCA62C1D6;
    }
    uint32_t t = rol32(a, 5) + f + e + k + w[i];
    e = d;
    d = c;
    c = rol32(b, 30);
    b = a;
    a = t;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
}

/* Messages here are short (a key and the GUID): one buffer of two blocks
 * at most after padding is enough for len <= 119. */
static void sha1(const uint8_t *msg, size_t len, uint8_t out[20]) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476,
                   0xC3D2E1F0};
  uint8_t buf[128];
  size_t full = len / 64 * 64;
  for (size_t i = 0; i < full; i += 64)
    sha1_block(h, msg + i);
  size_t rest = len - full;
  memset(buf, 0, sizeof buf);
  memcpy(buf, msg + full, rest);
  buf[rest] = 0x80;
  size_t blocks = rest + 9 <= 64 ? 1 : 2;
  uint64_t bits = (uint64_t)len * 8;
  for (int i = 0; i < 8; i++)
    buf[blocks * 64 - 1 - i] = (uint8_t)(bits >> (8 * i));
  for (size_t i = 0; i < blocks; i++)
    sha1_block(h, buf + 64 * i);
  for (int i = 0; i < 5; i++) {
    out[4 * i] = (uint8_t)(h[i] >> 24);
    out[4 * i + 1] = (uint8_t)(h[i] >> 16);
    out[4 * i + 2] = (uint8_t)(h[i] >> 8);
    out[4 * i + 3] = (uint8_t)h[i];
  }
}

static void base64(const uint8_t *in, size_t len, char *out) {
  static const char tbl[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 2 < len; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    *out++ = tbl[v >> 18];
    *out++ = tbl[(v >> 12) & 63];
    *out++ = tbl[(v >> 6) & 63];
    *out++ = tbl[v & 63];
  }
  if (i < len) {
    uint32_t v = (uint32_t)in[i] << 16;
    if (i + 1 < len)
      v |= (uint32_t)in[i + 1] << 8;
    *out++ = tbl[v >> 18];
    *out++ = tbl[(v >> 12) & 63];
    *out++ = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
    *out++ = '=';
  }
  *out = '\0';
}

/* ---- connections -------------------------------------------------------- */

enum mode {
  M_HTTP, /* reading the upgrade request */
  M_BLAST,
  M_SINK,
  M_ECHO,
  M_RAW,
  M_RAW_ECHO,
  M_RAW_SINK
};

typedef struct buf {
  uint8_t *p;
  size_t len, off, cap; /* bytes [off, len) are live */
} buf;

typedef struct conn {
  int fd;
  enum mode mode;
  bool want_out;      /* EPOLLOUT registered */
  bool close_sent;    /* our Close frame is queued */
  bool close_after;   /* close TCP once `out` has drained */
  bool peer_eof;      /* read returned 0 */
  buf in, out;
  /* Blast: `stream` bytes of the repeating pattern, then `out` (the last
   * frame and the Close). */
  uint8_t *pattern;
  size_t pattern_len; /* whole frames (or raw bytes) */
  uint64_t stream, sent;
  uint8_t *tail; /* appended to out when the stream is done */
  size_t tail_len;
  /* Sink: counters; `skip` payload bytes of the current binary frame. */
  uint64_t msgs, bytes, skip;
  /* Echo: a fragmented message being assembled. */
  buf frag;
  uint8_t frag_op;
} conn;

static volatile sig_atomic_t g_stop;
static int g_ep = -1;

static void on_signal(int sig) { g_stop = 1; }

static int buf_reserve(buf *b, size_t extra) {
  if (b->off && b->off == b->len)
    b->off = b->len = 0;
  if (b->len + extra <= b->cap)
    return 0;
  if (b->off) { /* compact first */
    memmove(b->p, b->p + b->off, b->len - b->off);
    b->len -= b->off;
    b->off = 0;
    if (b->len + extra <= b->cap)
      return 0;
  }
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + extra)
    cap *= 2;
  uint8_t *p = realloc(b->p, cap);
  if (!p)
    return -1;
  b->p = p;
  b->cap = cap;
  return 0;
}

static int buf_append(buf *b, const void *data, size_t len) {
  if (buf_reserve(b, len) != 0)
    return -1;
  memcpy(b->p + b->len, data, len);
  b->len += len;
  return 0;
}

static void buf_free(buf *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

/* Writes a server frame header (unmasked, RFC 6455 §5.2); returns its
 * length (2, 4 or 10). */
static size_t frame_header(uint8_t *h, uint8_t opcode, uint64_t len) {
  h[0] = (uint8_t)(0x80 | opcode);
  if (len < 126) {
    h[1] = (uint8_t)len;
    return 2;
  }
  if (len <= 0xFFFF) {
    h[1] = 126;
    h[2] = (uint8_t)(len >> 8);
    h[3] = (uint8_t)len;
    return 4;
  }
  h[1] = 127;
  for (int i = 0; i < 8; i++)
    h[2 + i] = (uint8_t)(len >> (56 - 8 * i));
  return 10;
}

static int queue_frame(conn *c, uint8_t opcode, const uint8_t *data,
                       uint64_t len) {
  uint8_t h[10];
  size_t hl = frame_header(h, opcode, len);
  if (buf_reserve(&c->out, hl + len) != 0)
    return -1;
  memcpy(c->out.p + c->out.len, h, hl);
  if (len)
    memcpy(c->out.p + c->out.len + hl, data, len);
  c->out.len += hl + len;
  return 0;
}

static int queue_close(conn *c, uint16_t code) {
  uint8_t p[2] = {(uint8_t)(code >> 8), (uint8_t)code};
  c->close_sent = true;
  return queue_frame(c, 0x8, p, code ? 2 : 0);
}

static void conn_free(conn *c) {
  close(c->fd);
  buf_free(&c->in);
  buf_free(&c->out);
  buf_free(&c->frag);
  free(c->pattern);
  free(c->tail);
  free(c);
}

static void set_events(conn *c, bool want_out) {
  if (c->want_out == want_out)
    return;
  struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0u),
                           .data.ptr = c};
  epoll_ctl(g_ep, EPOLL_CTL_MOD, c->fd, &ev);
  c->want_out = want_out;
}

/* Payload byte i of a blast message: printable ASCII, so the same bytes
 * are valid text and arbitrary binary. */
static uint8_t fill_byte(uint64_t i) { return (uint8_t)('a' + i % 26); }

/* Prepares the blast: the pattern holds k whole frames (k*framesize about
 * PATTERN_TARGET), the stream is count-1 frames of it and the tail is the
 * last frame (invalid or not) plus the Close. Raw: unframed bytes, no
 * tail. */
static int setup_blast(conn *c, int kind, uint64_t count, uint64_t size) {
  /* kind: 0 binary, 1 text, 2 text with an invalid last message, 3 raw */
  if (kind == 3) {
    uint64_t total = count * size;
    /* Sends as large as the framed blast's (one whole frame when frames
     * are bigger than the target), so raw TCP is measured alike. */
    c->pattern_len = size > PATTERN_TARGET ? (size_t)size : PATTERN_TARGET;
    c->pattern = malloc(c->pattern_len);
    if (!c->pattern)
      return -1;
    for (size_t i = 0; i < c->pattern_len; i++)
      c->pattern[i] = fill_byte(i);
    c->stream = total;
    return 0;
  }
  uint8_t h[10];
  uint8_t op = kind == 0 ? 0x2 : 0x1;
  size_t hl = frame_header(h, op, size);
  uint64_t fs = hl + size;
  uint64_t k = PATTERN_TARGET / fs;
  if (k < 1)
    k = 1;
  if (count > 0 && k > count - 1)
    k = count > 1 ? count - 1 : 1;
  c->pattern_len = (size_t)(k * fs);
  c->pattern = malloc(c->pattern_len);
  c->tail_len = count ? fs + 4 : 4;
  c->tail = malloc(c->tail_len);
  if (!c->pattern || !c->tail)
    return -1;
  for (uint64_t f = 0; f < k; f++) {
    uint8_t *p = c->pattern + f * fs;
    memcpy(p, h, hl);
    for (uint64_t i = 0; i < size; i++)
      p[hl + i] = fill_byte(i);
  }
  size_t t = 0;
  if (count) {
    memcpy(c->tail, c->pattern, fs); /* the pattern's first frame */
    if (kind == 2 && size > 0)
      c->tail[hl + size / 2] = 0xFF;
    t = fs;
  }
  /* Close 1000. */
  c->tail[t] = 0x88;
  c->tail[t + 1] = 2;
  c->tail[t + 2] = 1000 >> 8;
  c->tail[t + 3] = 1000 & 0xFF;
  c->stream = count ? (count - 1) * fs : 0;
  return 0;
}

static uint64_t query_u64(const char *query, const char *name) {
  size_t nl = strlen(name);
  for (const char *p = query; p && *p;) {
    if (!strncmp(p, name, nl) && p[nl] == '=')
      return strtoull(p + nl + 1, NULL, 10);
    p = strchr(p, '&');
    if (p)
      p++;
  }
  return 0;
}

static int http_reply(conn *c, const char *status, const char *extra) {
  char r[512];
  int n = snprintf(r, sizeof r, "HTTP/1.1 %s\r\n%s\r\n", status, extra);
  return buf_append(&c->out, r, (size_t)n);
}

/* Handles a complete upgrade request at c->in (head_len bytes). */
static int handle_request(conn *c, size_t head_len) {
  char *req = (char *)c->in.p + c->in.off;
  req[head_len - 1] = '\0';
  char path[1024] = "", query[1024] = "";
  char *sp = strchr(req, ' ');
  char *sp2 = sp ? strchr(sp + 1, ' ') : NULL;
  if (strncmp(req, "GET ", 4) != 0 || !sp2 || (size_t)(sp2 - sp - 1) >= sizeof path) {
    c->close_after = true;
    return http_reply(c, "400 Bad Request", "Content-Length: 0\r\n");
  }
  memcpy(path, sp + 1, (size_t)(sp2 - sp - 1));
  path[sp2 - sp - 1] = '\0';
  char *q = strchr(path, '?');
  if (q) {
    *q = '\0';
    snprintf(query, sizeof query, "%s", q + 1);
  }
  /* Sec-WebSocket-Key: a header name is case-insensitive (RFC 7230). */
  char key[128] = "";
  for (char *line = strstr(req, "\r\n"); line; line = strstr(line, "\r\n")) {
    line += 2;
    if (!strncasecmp(line, "Sec-WebSocket-Key:", 18)) {
      char *v = line + 18;
      while (*v == ' ' || *v == '\t')
        v++;
      size_t n = strcspn(v, " \t\r\n");
      if (n < 64) {
        memcpy(key, v, n);
        key[n] = '\0';
      }
    }
  }
  uint64_t count = query_u64(query, "count"), size = query_u64(query, "size");
  enum mode m;
  int kind = -1;
  if (!strcmp(path, "/blast-binary")) {
    m = M_BLAST;
    kind = 0;
  } else if (!strcmp(path, "/blast-text")) {
    m = M_BLAST;
    kind = 1;
  } else if (!strcmp(path, "/blast-text-invalid")) {
    m = M_BLAST;
    kind = 2;
  } else if (!strcmp(path, "/sink")) {
    m = M_SINK;
  } else if (!strcmp(path, "/echo")) {
    m = M_ECHO;
  } else if (!strcmp(path, "/raw")) {
    m = M_RAW;
    kind = 3;
  } else if (!strcmp(path, "/raw-echo")) {
    m = M_RAW_ECHO;
  } else if (!strcmp(path, "/raw-sink")) {
    m = M_RAW_SINK;
  } else {
    c->close_after = true;
    return http_reply(c, "404 Not Found", "Content-Length: 0\r\n");
  }
  if (!key[0] || (kind >= 0 && size > (1ull << 31))) {
    c->close_after = true;
    return http_reply(c, "400 Bad Request", "Content-Length: 0\r\n");
  }
  char accept_in[128], accept[32], hdr[256];
  uint8_t digest[20];
  int al = snprintf(accept_in, sizeof accept_in,
                    "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
  sha1((const uint8_t *)accept_in, (size_t)al, digest);
  base64(digest, sizeof digest, accept);
  snprintf(hdr, sizeof hdr,
           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: %s\r\n",
           accept);
  c->in.off += head_len;
  c->mode = m;
  if (kind >= 0 && setup_blast(c, kind, count, size) != 0)
    return -1;
  return http_reply(c, "101 Switching Protocols", hdr);
}

/* Parses client frames (masked, RFC 6455 §5.3) from c->in. Returns -1 to
 * drop the connection. */
static int parse_frames(conn *c) {
  for (;;) {
    size_t avail = c->in.len - c->in.off;
    if (c->skip) { /* sink: payload we only count */
      size_t n = avail < c->skip ? avail : (size_t)c->skip;
      c->in.off += n;
      c->skip -= n;
      if (c->skip)
        return 0;
      continue;
    }
    const uint8_t *p = c->in.p + c->in.off;
    if (avail < 2)
      return 0;
    bool fin = p[0] & 0x80;
    uint8_t op = p[0] & 0x0F;
    if (!(p[1] & 0x80))
      return -1; /* §5.1: a client masks every frame */
    uint64_t len = p[1] & 0x7F;
    size_t hl = 2;
    if (len == 126) {
      if (avail < 4)
        return 0;
      len = (uint64_t)p[2] << 8 | p[3];
      hl = 4;
    } else if (len == 127) {
      if (avail < 10)
        return 0;
      len = 0;
      for (int i = 0; i < 8; i++)
        len = len << 8 | p[2 + i];
      hl = 10;
    }
    if (avail < hl + 4)
      return 0;
    const uint8_t *mask = p + hl;
    hl += 4;
    bool data = op == 0x0 || op == 0x1 || op == 0x2;
    if (c->mode == M_SINK && (op == 0x2 || (op == 0x0 && c->frag_op != 0x1))) {
      /* Binary data is counted, never looked at. */
      c->bytes += len;
      if (op == 0x2)
        c->frag_op = 0x2;
      if (fin)
        c->msgs++;
      c->in.off += hl;
      c->skip = len;
      continue;
    }
    if (len > MAX_FRAME)
      return -1;
    if (avail < hl + len) {
      if (buf_reserve(&c->in, (size_t)(hl + len - avail)) != 0)
        return -1;
      return 0;
    }
    uint8_t *pl = c->in.p + c->in.off + hl;
    for (uint64_t i = 0; i < len; i++)
      pl[i] ^= mask[i & 3];
    c->in.off += hl + (size_t)len;
    if (data) {
      if (op != 0x0)
        c->frag_op = op;
      if (c->mode == M_SINK) {
        /* A text message: "done" ends the count, anything else counts. */
        if (op == 0x1 && fin && len == 4 && !memcmp(pl, "done", 4)) {
          char r[64];
          int n = snprintf(r, sizeof r, "%llu %llu",
                           (unsigned long long)c->msgs,
                           (unsigned long long)c->bytes);
          if (queue_frame(c, 0x1, (const uint8_t *)r, (uint64_t)n) != 0 ||
              queue_close(c, 1000) != 0)
            return -1;
        } else {
          c->bytes += len;
          if (fin)
            c->msgs++;
        }
      } else if (c->mode == M_ECHO && !c->close_sent) {
        if (fin && op != 0x0) {
          if (queue_frame(c, op, pl, len) != 0)
            return -1;
        } else {
          if (buf_append(&c->frag, pl, (size_t)len) != 0)
            return -1;
          if (fin) {
            if (queue_frame(c, c->frag_op, c->frag.p, c->frag.len) != 0)
              return -1;
            c->frag.len = 0;
          }
        }
      }
    } else if (op == 0x9) { /* Ping → Pong (not inside a blast's frames) */
      if (c->mode != M_BLAST && queue_frame(c, 0xA, pl, len) != 0)
        return -1;
    } else if (op == 0x8) {
      /* §5.5.1: answer a Close we did not send; after both, close TCP. A
       * client that closes in the middle of a blast (e.g. 1007 for the
       * invalid text) wants no more of it. */
      if (c->mode == M_BLAST && !c->close_sent)
        return -1;
      if (!c->close_sent) {
        uint16_t code = len >= 2 ? (uint16_t)(pl[0] << 8 | pl[1]) : 0;
        if (queue_close(c, code) != 0)
          return -1;
      }
      c->close_after = true;
      c->in.off = c->in.len;
      return 0;
    }
  }
}

/* Writes what is pending. Returns -1 to drop the connection. */
static int flush_out(conn *c) {
  for (;;) {
    const uint8_t *p;
    size_t n;
    bool from_out = c->out.len > c->out.off;
    if (from_out) {
      p = c->out.p + c->out.off;
      n = c->out.len - c->out.off;
    } else if (c->sent < c->stream) {
      size_t at = (size_t)(c->sent % c->pattern_len);
      n = c->pattern_len - at;
      if (n > c->stream - c->sent)
        n = (size_t)(c->stream - c->sent);
      p = c->pattern + at;
    } else if (c->tail) {
      if (buf_append(&c->out, c->tail, c->tail_len) != 0)
        return -1;
      free(c->tail);
      c->tail = NULL;
      c->close_sent = true;
      continue;
    } else {
      if (c->mode == M_RAW && c->pattern) { /* raw blast done: FIN */
        free(c->pattern);
        c->pattern = NULL;
        shutdown(c->fd, SHUT_WR);
      }
      set_events(c, false);
      return c->close_after ? -1 : 0;
    }
    ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        set_events(c, true);
        return 0;
      }
      return -1;
    }
    if (from_out)
      c->out.off += (size_t)w;
    else
      c->sent += (uint64_t)w;
  }
}

static int handle_input(conn *c) {
  switch (c->mode) {
  case M_HTTP: {
    size_t avail = c->in.len - c->in.off;
    uint8_t *s = c->in.p + c->in.off;
    uint8_t *end = avail >= 4 ? memmem(s, avail, "\r\n\r\n", 4) : NULL;
    if (!end)
      return avail > MAX_REQUEST ? -1 : 0;
    if (handle_request(c, (size_t)(end - s) + 4) != 0)
      return -1;
    if (c->mode == M_HTTP)
      return 0; /* an error reply; closing */
    return handle_input(c);
  }
  case M_RAW_ECHO: {
    size_t n = c->in.len - c->in.off;
    if (n && buf_append(&c->out, c->in.p + c->in.off, n) != 0)
      return -1;
    c->in.off = c->in.len;
    return 0;
  }
  case M_RAW_SINK:
  case M_RAW:
    c->bytes += c->in.len - c->in.off;
    c->in.off = c->in.len;
    return 0;
  default:
    return parse_frames(c);
  }
}

/* Readable: read what there is (a bounded number of times, for fairness),
 * act on it, then write. Returns -1 to drop the connection. */
static int on_readable(conn *c) {
  for (int round = 0; round < 4; round++) {
    if (buf_reserve(&c->in, c->mode == M_HTTP ? 1024 : READ_CHUNK) != 0)
      return -1;
    size_t room = c->in.cap - c->in.len;
    ssize_t r = recv(c->fd, c->in.p + c->in.len, room, 0);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        break;
      return -1;
    }
    if (r == 0) {
      c->peer_eof = true;
      break;
    }
    c->in.len += (size_t)r;
    if (handle_input(c) != 0)
      return -1;
    if ((size_t)r < room)
      break;
  }
  if (c->peer_eof) {
    if (c->mode == M_RAW_SINK && !c->close_after) {
      char r[32];
      int n = snprintf(r, sizeof r, "%llu", (unsigned long long)c->bytes);
      if (buf_append(&c->out, r, (size_t)n) != 0)
        return -1;
      c->close_after = true;
    } else if (!c->close_after) {
      return -1;
    }
  }
  return flush_out(c);
}

static int raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return -1;
  rl.rlim_cur = rl.rlim_max;
  return setrlimit(RLIMIT_NOFILE, &rl);
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--port") && i + 1 < argc) {
      port = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--host") && i + 1 < argc) {
      host = argv[++i];
    } else {
      fprintf(stderr, "usage: benchserver [--port N] [--host ADDR]\n");
      return 2;
    }
  }
  (void)raise_nofile();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: epoll_wait returns EINTR */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (lfd < 0 || inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
    fprintf(stderr, "benchserver: bad address %s\n", host);
    return 1;
  }
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  socklen_t sl = sizeof sin;
  if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
      listen(lfd, 4096) != 0 ||
      getsockname(lfd, (struct sockaddr *)&sin, &sl) != 0) {
    perror("benchserver: listen");
    return 1;
  }
  g_ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  if (g_ep < 0 || epoll_ctl(g_ep, EPOLL_CTL_ADD, lfd, &lev) != 0) {
    perror("benchserver: epoll");
    return 1;
  }
  printf("PORT %u\n", (unsigned)ntohs(sin.sin_port));
  fflush(stdout);

  /* Every live connection, so that shutdown frees them all. */
  size_t nconns = 0, conns_cap = 0;
  conn **conns = NULL;
  struct epoll_event evs[256];
  while (!g_stop) {
    int n = epoll_wait(g_ep, evs, 256, -1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      perror("benchserver: epoll_wait");
      break;
    }
    for (int i = 0; i < n; i++) {
      if (!evs[i].events)
        continue; /* its connection was closed earlier in this batch */
      conn *c = evs[i].data.ptr;
      if (!c) {
        for (;;) {
          int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
              perror("benchserver: accept");
            break;
          }
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conn *nc = calloc(1, sizeof *nc);
          if (!nc || (nconns == conns_cap &&
                      !(conns_cap = conns_cap ? conns_cap * 2 : 1024,
                        conns = realloc(conns, conns_cap * sizeof *conns)))) {
            fprintf(stderr, "benchserver: out of memory\n");
            free(nc);
            close(fd);
            break;
          }
          nc->fd = fd;
          struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
          if (epoll_ctl(g_ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            free(nc);
            close(fd);
            continue;
          }
          conns[nconns++] = nc;
        }
        continue;
      }
      int rc = 0;
      if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        rc = on_readable(c);
      else if (evs[i].events & EPOLLOUT)
        rc = flush_out(c);
      if (rc != 0) {
        /* The list is searched only on close: cheap next to a session. */
        for (size_t j = 0; j < nconns; j++) {
          if (conns[j] == c) {
            conns[j] = conns[--nconns];
            break;
          }
        }
        epoll_ctl(g_ep, EPOLL_CTL_DEL, c->fd, NULL);
        conn_free(c);
        /* Later events of this batch may name c: drop them. */
        for (int j = i + 1; j < n; j++)
          if (evs[j].data.ptr == c)
            evs[j].events = 0;
      }
    }
  }
  for (size_t j = 0; j < nconns; j++)
    conn_free(conns[j]);
  free(conns);
  close(g_ep);
  close(lfd);
  return 0;
}
