/*
 * lws_client.c — the libwebsockets peer of `make bench` (Debian
 * libwebsockets-dev; built by run-bench.py with pkg-config, skipped when the
 * library is missing).
 *
 * usage: lws_client URL WORKLOAD COUNT SIZE
 * Same contract as `wschannel bench` (see src/tools/wschannel_bench.c):
 * count=COUNT&size=SIZE appended to the query; recv-binary, recv-text,
 * send-binary, echo (exit 3 otherwise); one JSON line; seconds on
 * CLOCK_MONOTONIC from CLIENT_ESTABLISHED to the COUNT-th message (recv,
 * echo) or the sink's reply (send). One lws_write per WRITEABLE callback, as
 * the library requires; that callback is its backpressure. UTF-8 is
 * validated (LWS_SERVER_OPTION_VALIDATE_UTF8); no extensions are offered.
 * URL: ws://IPV4:PORT/PATH.
 */
#include <inttypes.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { W_RECV_BINARY, W_RECV_TEXT, W_SEND, W_ECHO };

static struct {
  int w;
  uint64_t count, size;
  uint8_t *buf; /* LWS_PRE + max(size, 64) */
  uint64_t msgs, bytes, acc, sent;
  bool done, failed, finished, done_sent, close_now;
  uint64_t t0, t1, ping_at;
  uint64_t *rtt;
} g;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static int fail(const char *why) {
  if (!g.failed)
    fprintf(stderr, "lws_client: %s\n", why);
  g.failed = true;
  return -1;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len) {
  switch (reason) {
  case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    g.finished = true;
    return fail(in ? (const char *)in : "connection error");
  case LWS_CALLBACK_CLIENT_ESTABLISHED:
    g.t0 = now_ns();
    if (g.w == W_SEND || g.w == W_ECHO)
      lws_callback_on_writable(wsi);
    return 0;
  case LWS_CALLBACK_CLIENT_RECEIVE: {
    if (g.done || g.failed)
      return 0;
    g.acc += len;
    if (!lws_is_final_fragment(wsi))
      return 0;
    uint64_t mlen = g.acc;
    g.acc = 0;
    bool binary = lws_frame_is_binary(wsi);
    if (g.w == W_SEND) {
      char text[64];
      unsigned long long m, b;
      g.t1 = now_ns();
      if (binary || len >= sizeof text || mlen != len)
        return fail("unexpected reply from the sink");
      memcpy(text, in, len);
      text[len] = '\0';
      if (sscanf(text, "%llu %llu", &m, &b) != 2)
        return fail("unexpected reply from the sink");
      g.msgs = m;
      g.bytes = b;
      g.done = true;
      lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
      return -1;
    }
    if (mlen != g.size || binary != (g.w != W_RECV_TEXT))
      return fail("unexpected message type or size");
    if (g.w == W_ECHO)
      g.rtt[g.msgs] = now_ns() - g.ping_at;
    g.msgs++;
    g.bytes += mlen;
    if (g.msgs == g.count) {
      g.t1 = now_ns();
      g.done = true;
      if (g.w == W_ECHO) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
        return -1;
      }
    } else if (g.w == W_ECHO) {
      lws_callback_on_writable(wsi);
    }
    return 0;
  }
  case LWS_CALLBACK_CLIENT_WRITEABLE:
    if (g.failed || g.done)
      return 0;
    if (g.w == W_ECHO) {
      g.ping_at = now_ns();
      if (lws_write(wsi, g.buf + LWS_PRE, g.size, LWS_WRITE_BINARY) <
          (int)g.size)
        return fail("write failed");
      return 0;
    }
    if (g.w != W_SEND)
      return 0;
    if (g.sent < g.count) {
      if (lws_write(wsi, g.buf + LWS_PRE, g.size, LWS_WRITE_BINARY) <
          (int)g.size)
        return fail("write failed");
      g.sent++;
      lws_callback_on_writable(wsi);
    } else if (!g.done_sent) {
      memcpy(g.buf + LWS_PRE, "done", 4);
      if (lws_write(wsi, g.buf + LWS_PRE, 4, LWS_WRITE_TEXT) < 4)
        return fail("write failed");
      g.done_sent = true;
    }
    return 0;
  case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
    if (len >= 2) {
      const uint8_t *p = in;
      unsigned code = (unsigned)p[0] << 8 | p[1];
      if (code != 1000)
        fail("the server closed with an error code");
    }
    return 0;
  case LWS_CALLBACK_CLIENT_CLOSED:
  case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
    g.finished = true;
    return 0;
  default:
    return 0;
  }
}

static const struct lws_protocols kProtocols[] = {
    {"bench", callback, 0, 256 * 1024, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

int main(int argc, char **argv) {
  static const char *const names[] = {"recv-binary", "recv-text",
                                      "send-binary", "echo"};
  if (argc != 5) {
    fprintf(stderr, "usage: lws_client URL WORKLOAD COUNT SIZE\n");
    return 2;
  }
  g.w = -1;
  for (int i = 0; i < 4; i++)
    if (!strcmp(argv[2], names[i]))
      g.w = i;
  if (g.w < 0) {
    fprintf(stderr, "lws_client: unknown workload '%s'\n", argv[2]);
    return 3;
  }
  char *e1, *e2;
  g.count = strtoull(argv[3], &e1, 10);
  g.size = strtoull(argv[4], &e2, 10);
  if (*e1 || *e2 || g.count < 1 || argv[3][0] == '-' || argv[4][0] == '-') {
    fprintf(stderr, "lws_client: COUNT >= 1 and SIZE >= 0 are integers\n");
    return 2;
  }
  char host[64], path[1024];
  unsigned port;
  int off = 0;
  if (sscanf(argv[1], "ws://%63[0-9.]:%u%n", host, &port, &off) != 2 ||
      argv[1][off] != '/') {
    fprintf(stderr, "lws_client: URL must be ws://IPV4:PORT/PATH\n");
    return 2;
  }
  snprintf(path, sizeof path, "%s%ccount=%" PRIu64 "&size=%" PRIu64,
           argv[1] + off, strchr(argv[1] + off, '?') ? '&' : '?', g.count,
           g.size);
  g.buf = malloc(LWS_PRE + (g.size > 64 ? g.size : 64));
  g.rtt = g.w == W_ECHO ? malloc(g.count * sizeof *g.rtt) : NULL;
  if (!g.buf || (g.w == W_ECHO && !g.rtt))
    return 1;
  memset(g.buf, 'x', LWS_PRE + (g.size > 64 ? g.size : 64));

  lws_set_log_level(LLL_ERR, NULL);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = kProtocols;
  info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
  info.gid = -1;
  info.uid = -1;
  struct lws_context *ctx = lws_create_context(&info);
  if (!ctx) {
    fprintf(stderr, "lws_client: cannot create the context\n");
    return 1;
  }
  struct lws_client_connect_info ci;
  memset(&ci, 0, sizeof ci);
  ci.context = ctx;
  ci.address = host;
  ci.port = (int)port;
  ci.path = path;
  ci.host = host;
  ci.origin = host;
  ci.local_protocol_name = "bench";
  if (!lws_client_connect_via_info(&ci)) {
    fprintf(stderr, "lws_client: cannot connect\n");
    lws_context_destroy(ctx);
    return 1;
  }
  while (!g.finished)
    if (lws_service(ctx, 0) < 0)
      break;
  lws_context_destroy(ctx);
  int rc = 1;
  if (!g.failed && !g.done) {
    fprintf(stderr, "lws_client: the connection ended after %" PRIu64
                    " of %" PRIu64 " messages\n",
            g.msgs, g.count);
  } else if (!g.failed) {
    printf("{\"msgs\": %" PRIu64 ", \"bytes\": %" PRIu64
           ", \"seconds\": %.6f",
           g.msgs, g.bytes, (double)(g.t1 - g.t0) / 1e9);
    if (g.w == W_ECHO) {
      qsort(g.rtt, g.count, sizeof *g.rtt, cmp_u64);
      printf(", \"rtt_p50_us\": %.3f, \"rtt_p99_us\": %.3f",
             (double)g.rtt[g.count / 2] / 1e3,
             (double)g.rtt[g.count * 99 / 100] / 1e3);
    }
    printf("}\n");
    rc = 0;
  }
  free(g.buf);
  free(g.rtt);
  return rc;
}
