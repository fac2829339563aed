/*
 * test_ws_session.c — the message layer: every frame type, fragmentation,
 * interleaved control frames, each protocol violation with its close code,
 * UTF-8 fail-fast, size limits, ping/pong ordering, close handshake paths,
 * the output queue (coalescing, partial writes, acknowledgements) and
 * allocation failure on every path. Every inbound script is fed whole,
 * split in two at every position and one byte at a time, and must give the
 * same events and the same output.
 */
#include <check.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "websocket/ws_deflate.h"
#include "websocket/ws_session.h"
#include "websocket/ws_utf8.h"
#include "ws_test_util.h"

/* ---- byte strings ---------------------------------------------------- */

struct bytes {
  uint8_t *p;
  size_t len, cap;
};

static void bytes_add(struct bytes *b, const void *p, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n)
      cap *= 2;
    b->p = realloc(b->p, cap);
    b->cap = cap;
  }
  if (n)
    memcpy(b->p + b->len, p, n);
  b->len += n;
}

static void bytes_free(struct bytes *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

/* An unmasked server frame header claiming `len` payload bytes. */
static void shead(struct bytes *b, bool fin, unsigned rsv, unsigned op, uint64_t len) {
  uint8_t h[WS_FRAME_HEADER_MAX];
  /* Build even invalid headers (control > 125, not FIN) by hand. */
  size_t n = 2;
  h[0] = (uint8_t)((fin ? 0x80 : 0) | rsv | op);
  if (len < 126) {
    h[1] = (uint8_t)len;
  } else if (len <= 0xFFFF) {
    h[1] = 126, h[2] = (uint8_t)(len >> 8), h[3] = (uint8_t)len, n = 4;
  } else {
    h[1] = 127;
    for (int i = 0; i < 8; i++)
      h[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    n = 10;
  }
  bytes_add(b, h, n);
}

/* An unmasked server frame. */
static void sframe(struct bytes *b, bool fin, unsigned rsv, unsigned op, const void *payload,
                   size_t len) {
  shead(b, fin, rsv, op, len);
  bytes_add(b, payload, len);
}

static void sframe_str(struct bytes *b, bool fin, unsigned op, const char *s) {
  sframe(b, fin, 0, op, s, strlen(s));
}

static void sclose(struct bytes *b, uint16_t code, const char *reason) {
  uint8_t body[125];
  body[0] = (uint8_t)(code >> 8);
  body[1] = (uint8_t)code;
  size_t n = strlen(reason);
  memcpy(body + 2, reason, n);
  sframe(b, true, 0, WS_OP_CLOSE, body, 2 + n);
}

/* ---- harness ----------------------------------------------------------- */

struct harness {
  struct ws_session *s;
  struct test_alloc alloc;
  struct ws_mem mem;
  char log[16384];
  size_t loglen;
  unsigned rand_counter;
  bool rand_fail;
  bool echo;       /* on_message sends the message back */
  bool take;       /* on_message takes the assembly buffer */
  bool probe;      /* on_message / on_acknowledge check direct receive is refused */
  bool fail_all;   /* every allocation fails (alloc.fail_at fails only one) */
  size_t bytes_live, bytes_peak, largest; /* bytes allocated, as h_malloc counts them */
  int last_err;
};

static void logf_(struct harness *h, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(h->log + h->loglen, sizeof h->log - h->loglen, fmt, ap);
  va_end(ap);
  ck_assert(n >= 0 && (size_t)n < sizeof h->log - h->loglen);
  h->loglen += (size_t)n;
}

/* Short printable payloads verbatim, others as <len:hash>. */
static void fmt_payload(char *out, size_t outsz, const uint8_t *p, size_t len) {
  bool printable = len <= 40;
  for (size_t i = 0; i < len && printable; i++)
    printable = p[i] >= 0x20 && p[i] < 0x7f && p[i] != '|';
  if (printable) {
    snprintf(out, outsz, "%.*s", (int)len, (const char *)p);
    return;
  }
  uint32_t hash = 2166136261u;
  for (size_t i = 0; i < len; i++)
    hash = (hash ^ p[i]) * 16777619u;
  snprintf(out, outsz, "<%zu:%08x>", len, hash);
}

/* The harness allocator: ws_test_util.h's counting allocator (calls, live
 * blocks, fail_at) plus what direct receive needs checked and that one
 * lacks: byte accounting (each block carries its size in front) and
 * failing every allocation from some point on. */
#define H_HDR ((size_t)_Alignof(max_align_t))
_Static_assert(_Alignof(max_align_t) >= sizeof(size_t), "size header fits");

static void h_account(struct harness *h, size_t old, size_t size) {
  h->bytes_live = h->bytes_live - old + size;
  if (h->bytes_live > h->bytes_peak)
    h->bytes_peak = h->bytes_live;
  if (size > h->largest)
    h->largest = size;
}

static void *h_malloc(size_t size, void *ud) {
  struct harness *h = ud;
  if (h->fail_all) {
    h->alloc.calls++;
    h->alloc.failures++;
    return NULL;
  }
  uint8_t *p = test_alloc_malloc(size + H_HDR, &h->alloc);
  if (!p)
    return NULL;
  memcpy(p, &size, sizeof size);
  h_account(h, 0, size);
  return p + H_HDR;
}

static void *h_realloc(void *ptr, size_t size, void *ud) {
  struct harness *h = ud;
  if (h->fail_all) {
    h->alloc.calls++;
    h->alloc.failures++;
    return NULL;
  }
  uint8_t *base = (uint8_t *)ptr - H_HDR;
  size_t old;
  memcpy(&old, base, sizeof old);
  uint8_t *p = test_alloc_realloc(base, size + H_HDR, &h->alloc);
  if (!p)
    return NULL;
  memcpy(p, &size, sizeof size);
  h_account(h, old, size);
  return p + H_HDR;
}

static void h_free(void *ptr, void *ud) {
  struct harness *h = ud;
  if (!ptr)
    return;
  uint8_t *base = (uint8_t *)ptr - H_HDR;
  size_t old;
  memcpy(&old, base, sizeof old);
  h->bytes_live -= old;
  test_alloc_free(base, &h->alloc);
}

/* Inside a callback direct receive is refused (ws_session.h): no buffer,
 * and reporting bytes is a state error, not an argument error. */
static void h_probe_direct(struct harness *h) {
  size_t len = 777;
  ck_assert_ptr_null(ws_session_direct_buffer(h->s, 1, &len));
  ck_assert_uint_eq(len, 0);
  ck_assert_int_eq(ws_session_recv_direct(h->s, 1), WS_ERR_INVALID_STATE);
  logf_(h, "probed|");
}

static int h_rand(void *ud, uint8_t *buf, size_t len) {
  struct harness *h = ud;
  if (h->rand_fail)
    return -1;
  for (size_t i = 0; i < len; i++)
    buf[i] = (uint8_t)(0x5a ^ (h->rand_counter++ * 37));
  return 0;
}

static void h_message(void *ud, enum ws_message_type type, const uint8_t *data, size_t len) {
  struct harness *h = ud;
  char p[64];
  fmt_payload(p, sizeof p, data, len);
  logf_(h, "%s:%s|", type == WS_MESSAGE_TEXT ? "text" : "bin", p);
  if (h->probe)
    h_probe_direct(h);
  if (h->take) {
    size_t cap = 0;
    uint8_t *buf = ws_session_take_message_buffer(h->s, &cap);
    if (buf) {
      ck_assert_ptr_eq(buf, data);
      ck_assert_uint_ge(cap, len);
      logf_(h, "took|");
      h->mem.free(buf, h->mem.user_data);
    }
  }
  if (h->echo) {
    int rv = type == WS_MESSAGE_TEXT ? ws_session_send_text(h->s, data, len)
                                     : ws_session_send_binary(h->s, data, len);
    ck_assert_int_eq(rv, 0);
    /* recv and consume are not allowed from a callback */
    ck_assert_int_eq(ws_session_recv(h->s, (const uint8_t *)"x", 1), WS_ERR_INVALID_STATE);
    ck_assert_int_eq(ws_session_consume_output(h->s, 0), WS_ERR_INVALID_STATE);
  }
}

static void h_ping(void *ud, const uint8_t *data, size_t len) {
  struct harness *h = ud;
  char p[64];
  fmt_payload(p, sizeof p, data, len);
  logf_(h, "ping:%s|", p);
}

static void h_pong(void *ud, const uint8_t *data, size_t len) {
  struct harness *h = ud;
  char p[64];
  fmt_payload(p, sizeof p, data, len);
  logf_(h, "pong:%s|", p);
}

static void h_close(void *ud, uint16_t code, const uint8_t *reason, size_t len) {
  struct harness *h = ud;
  char p[160];
  fmt_payload(p, sizeof p, reason, len);
  logf_(h, "close:%u:%s|", code, p);
  /* The state is settled before the callback. */
  ck_assert(!ws_session_want_read(h->s));
}

static void h_error(void *ud, int err) {
  struct harness *h = ud;
  logf_(h, "error:%s|", ws_error_name(err));
  ck_assert_int_eq(ws_session_state(h->s), WS_SESSION_FAILED);
}

static void h_ack(void *ud, uint64_t size) {
  struct harness *h = ud;
  logf_(h, "ack:%llu|", (unsigned long long)size);
  if (h->probe)
    h_probe_direct(h);
}

static const struct ws_session_callbacks h_callbacks = {h_rand, h_message, h_ping, h_pong,
                                                        h_close,  h_error, h_ack};

static void h_init(struct harness *h, const struct ws_session_options *opt) {
  memset(h, 0, sizeof *h);
  h->mem = (struct ws_mem){h_malloc, h_realloc, h_free, h};
  ck_assert_int_eq(ws_session_new(&h->s, &h_callbacks, opt, &h->mem, h), 0);
}

static void h_fini(struct harness *h) {
  ws_session_del(h->s);
  h->s = NULL;
  ck_assert_int_eq(h->alloc.live, 0);
  ck_assert_uint_eq(h->bytes_live, 0);
}

/* Takes every pending output byte (through peek/consume, `step` bytes at
 * a time if non-zero) and appends the decoded frames to `out` as
 * "op:payload|" (close as "close:code:reason|"). Checks every frame is
 * masked, FIN, and that no two consecutive frames share a mask key. */
static void h_drain(struct harness *h, char *out, size_t outsz, size_t step) {
  struct bytes wire = {0};
  while (ws_session_want_write(h->s)) {
    struct ws_iovec iov[4];
    size_t n = ws_session_peek_output(h->s, iov, 4);
    ck_assert_uint_gt(n, 0);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
      ck_assert_uint_gt(iov[i].len, 0);
      bytes_add(&wire, iov[i].base, iov[i].len);
      total += iov[i].len;
    }
    ck_assert_uint_eq(total, ws_session_want_write(h->s));
    size_t take = step && step < total ? step : total;
    wire.len -= total - take; /* only what was "written" */
    ck_assert_int_eq(ws_session_consume_output(h->s, take), 0);
  }
  struct ws_frame_decoder d;
  ws_frame_decoder_init(&d, WS_FRAME_SERVER, 0);
  size_t pos = 0, outlen = strlen(out);
  uint8_t payload[1 << 16];
  size_t plen = 0;
  uint8_t last_key[4] = {0};
  int nframes = 0;
  while (pos < wire.len) {
    struct ws_frame_chunk ch;
    size_t used;
    int rv = ws_frame_decode(&d, wire.p + pos, wire.len - pos, &used, &ch);
    ck_assert_int_ge(rv, 0);
    pos += used;
    if (rv == 0)
      break;
    if (ch.first) {
      ck_assert(d.hdr.fin);
      ck_assert(d.hdr.masked);
      if (nframes++ > 0)
        ck_assert(memcmp(last_key, d.hdr.mask_key, 4) != 0);
      memcpy(last_key, d.hdr.mask_key, 4);
      plen = 0;
    }
    /* Keep the first 64 KiB of a larger frame (the log hashes that much). */
    if (plen < sizeof payload) {
      size_t keep = ch.len < sizeof payload - plen ? ch.len : sizeof payload - plen;
      ws_frame_mask(payload + plen, ch.data, keep, d.hdr.mask_key, ch.offset);
    }
    plen += ch.len;
    if (ch.last) {
      char p[160];
      static const char *const names[16] = {"cont", "text", "bin",  "?3",   "?4", "?5",
                                            "?6",   "?7",   "close", "ping", "pong"};
      if (d.hdr.opcode == WS_OP_CLOSE && plen >= 2) {
        fmt_payload(p, sizeof p, payload + 2, plen - 2);
        outlen += (size_t)snprintf(out + outlen, outsz - outlen, "close:%u:%s|",
                                   payload[0] << 8 | payload[1], p);
      } else {
        fmt_payload(p, sizeof p, payload, plen > sizeof payload ? sizeof payload : plen);
        outlen += (size_t)snprintf(out + outlen, outsz - outlen, "%s:%s|", names[d.hdr.opcode],
                                   p);
      }
    }
  }
  ck_assert_uint_eq(pos, wire.len); /* whole frames only */
  ck_assert_int_eq(d.state, WS_FRAME_STATE_HEADER1);
  bytes_free(&wire);
}

/* ---- scripted runs over every feeding ---------------------------------- */

struct script {
  const struct bytes *in;
  struct ws_session_options opt;
  const char *events;  /* expected log */
  const char *output;  /* expected output frames */
  int error;           /* expected recv result */
  enum ws_session_state state;
  size_t max_modes;    /* 0 = whole + every split + byte at a time */
};

static void run_one(const struct script *sc, size_t cut, size_t step) {
  struct harness h;
  h_init(&h, &sc->opt);
  const uint8_t *p = sc->in->p;
  size_t len = sc->in->len, pos = 0;
  int rv = 0;
  while (pos < len) {
    size_t end = len;
    if (cut && pos < cut)
      end = cut;
    if (step && end - pos > step)
      end = pos + step;
    int r = ws_session_recv(h.s, p + pos, end - pos);
    if (r != 0 && rv == 0)
      rv = r;
    if (rv)
      ck_assert_int_eq(r, rv); /* sticky */
    pos = end;
  }
  char out[8192] = "";
  h_drain(&h, out, sizeof out, 0);
  ck_assert_msg(strcmp(h.log, sc->events) == 0, "cut %zu step %zu events:\n got  %s\n want %s",
                cut, step, h.log, sc->events);
  ck_assert_msg(strcmp(out, sc->output) == 0, "cut %zu step %zu output:\n got  %s\n want %s",
                cut, step, out, sc->output);
  ck_assert_msg(rv == sc->error, "cut %zu step %zu: recv %s, want %s", cut, step,
                ws_error_name(rv), ws_error_name(sc->error));
  ck_assert_int_eq(ws_session_state(h.s), sc->state);
  ck_assert_int_eq(ws_session_error(h.s), sc->error);
  if (sc->error)
    ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x81\x00", 2), sc->error);
  h_fini(&h);
}

static void run_script(const struct script *sc) {
  size_t len = sc->in->len;
  run_one(sc, 0, 0);
  if (sc->max_modes == 0 || len <= sc->max_modes) {
    for (size_t cut = 1; cut < len; cut++)
      run_one(sc, cut, 0);
    run_one(sc, 0, 1);
  } else {
    /* big inputs: splits near the start and the end, and fixed steps */
    for (size_t cut = 1; cut < 16 && cut < len; cut++) {
      run_one(sc, cut, 0);
      run_one(sc, len - cut, 0);
    }
    run_one(sc, 0, 1000);
    run_one(sc, 0, 4093);
  }
}

static void expect(const struct bytes *in, const char *events, const char *output, int error,
                   enum ws_session_state state) {
  struct script sc = {in, {0, 0}, events, output, error, state, 0};
  run_script(&sc);
}

/* A violation: the error is reported, the close code goes out. */
static void expect_fail(const struct bytes *in, const char *events_before, int error) {
  char ev[1024], out[64];
  snprintf(ev, sizeof ev, "%serror:%s|", events_before, ws_error_name(error));
  snprintf(out, sizeof out, "close:%u:|", ws_error_close_code(error));
  expect(in, ev, out, error, WS_SESSION_FAILED);
}

/* ---- receiving: valid traffic ----------------------------------------- */

START_TEST(test_single_frames) {
  struct bytes in = {0};
  sframe_str(&in, true, WS_OP_TEXT, "Hello");
  sframe_str(&in, true, WS_OP_BINARY, "bin\x01");
  sframe_str(&in, true, WS_OP_TEXT, "");
  sframe_str(&in, true, WS_OP_BINARY, "");
  sframe_str(&in, true, WS_OP_TEXT, "κόσμε");
  char b[64], k[64], want[256];
  fmt_payload(b, sizeof b, (const uint8_t *)"bin\x01", 4);
  fmt_payload(k, sizeof k, (const uint8_t *)"κόσμε", strlen("κόσμε"));
  snprintf(want, sizeof want, "text:Hello|bin:%s|text:|bin:|text:%s|", b, k);
  expect(&in, want, "", 0, WS_SESSION_OPEN);
  bytes_free(&in);
}
END_TEST

static char *pattern(size_t len) {
  char *p = malloc(len + 1);
  for (size_t i = 0; i < len; i++)
    p[i] = (char)('a' + i % 26);
  p[len] = 0;
  return p;
}

START_TEST(test_length_boundaries) {
  static const size_t lens[] = {125, 126, 65535, 65536, 300000};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    char *p = pattern(lens[i]);
    struct bytes in = {0};
    sframe(&in, true, 0, WS_OP_TEXT, p, lens[i]);
    sframe(&in, true, 0, WS_OP_BINARY, p, lens[i]);
    char ev[200], pl[64];
    fmt_payload(pl, sizeof pl, (const uint8_t *)p, lens[i]);
    snprintf(ev, sizeof ev, "text:%s|bin:%s|", pl, pl);
    struct script sc = {&in, {0, 0}, ev, "", 0, WS_SESSION_OPEN, 300};
    run_script(&sc);
    bytes_free(&in);
    free(p);
  }
}
END_TEST

START_TEST(test_fragmentation_and_interleaving) {
  struct bytes in = {0};
  /* text in three fragments with a ping and a pong between them */
  sframe_str(&in, false, WS_OP_TEXT, "Hel");
  sframe_str(&in, true, WS_OP_PING, "p1");
  sframe_str(&in, false, WS_OP_CONTINUATION, "lo ");
  sframe_str(&in, true, WS_OP_PONG, "unsolicited");
  sframe_str(&in, true, WS_OP_CONTINUATION, "world");
  /* binary with empty fragments */
  sframe_str(&in, false, WS_OP_BINARY, "");
  sframe_str(&in, false, WS_OP_CONTINUATION, "ab");
  sframe_str(&in, false, WS_OP_CONTINUATION, "");
  sframe_str(&in, true, WS_OP_CONTINUATION, "");
  /* a UTF-8 character split across fragments (Autobahn 6.2.x) */
  sframe(&in, false, 0, WS_OP_TEXT, "\xe2\x82", 2);
  sframe(&in, true, 0, WS_OP_CONTINUATION, "\xac", 1);
  char euro[64], want[256];
  fmt_payload(euro, sizeof euro, (const uint8_t *)"\xe2\x82\xac", 3);
  snprintf(want, sizeof want, "ping:p1|pong:unsolicited|text:Hello world|bin:ab|text:%s|", euro);
  expect(&in, want, "pong:p1|", 0, WS_SESSION_OPEN);
  bytes_free(&in);
}
END_TEST

START_TEST(test_ping_payloads) {
  struct bytes in = {0};
  char *p = pattern(125);
  sframe(&in, true, 0, WS_OP_PING, "", 0);
  sframe(&in, true, 0, WS_OP_PING, p, 125);
  sframe(&in, true, 0, WS_OP_PING, "\x00\xff\xfe", 3);
  sframe(&in, true, 0, WS_OP_PONG, p, 125);
  char ev[300], out[300], pl[64];
  fmt_payload(pl, sizeof pl, (const uint8_t *)p, 125);
  snprintf(ev, sizeof ev, "ping:|ping:%s|ping:<3:%s>|pong:%s|", pl, "a2e13cc9", pl);
  char bin[64];
  fmt_payload(bin, sizeof bin, (const uint8_t *)"\x00\xff\xfe", 3);
  snprintf(ev, sizeof ev, "ping:|ping:%s|ping:%s|pong:%s|", pl, bin, pl);
  snprintf(out, sizeof out, "pong:|pong:%s|pong:%s|", pl, bin);
  expect(&in, ev, out, 0, WS_SESSION_OPEN);
  free(p);
  bytes_free(&in);
}
END_TEST

/* ---- receiving: violations -------------------------------------------- */

START_TEST(test_violation_fragmentation_rules) {
  struct bytes in = {0};
  sframe_str(&in, true, WS_OP_CONTINUATION, "x");
  expect_fail(&in, "", WS_ERR_PROTO_CONTINUATION);
  bytes_free(&in);
  /* a continuation after a finished message */
  sframe_str(&in, true, WS_OP_TEXT, "a");
  sframe_str(&in, false, WS_OP_CONTINUATION, "b");
  expect_fail(&in, "text:a|", WS_ERR_PROTO_CONTINUATION);
  bytes_free(&in);
  /* a new data frame inside a fragmented message */
  sframe_str(&in, false, WS_OP_TEXT, "a");
  sframe_str(&in, true, WS_OP_TEXT, "b");
  expect_fail(&in, "", WS_ERR_PROTO_FRAGMENT);
  bytes_free(&in);
  sframe_str(&in, false, WS_OP_BINARY, "a");
  sframe_str(&in, true, WS_OP_PING, "p");
  sframe_str(&in, false, WS_OP_BINARY, "b");
  {
    /* the pong was queued before the failure and still goes out first */
    char ev[100];
    snprintf(ev, sizeof ev, "ping:p|error:%s|", ws_error_name(WS_ERR_PROTO_FRAGMENT));
    expect(&in, ev, "pong:p|close:1002:|", WS_ERR_PROTO_FRAGMENT, WS_SESSION_FAILED);
  }
  bytes_free(&in);
}
END_TEST

START_TEST(test_violation_frame_level) {
  struct bytes in = {0};
  static const struct {
    const char *bytes;
    size_t len;
    int error;
  } cases[] = {
      {"\xc1\x01x", 3, WS_ERR_PROTO_RSV},
      {"\xa2\x00", 2, WS_ERR_PROTO_RSV},
      {"\x92\x00", 2, WS_ERR_PROTO_RSV},
      {"\x83\x00", 2, WS_ERR_PROTO_OPCODE},
      {"\x87\x00", 2, WS_ERR_PROTO_OPCODE},
      {"\x8b\x00", 2, WS_ERR_PROTO_OPCODE},
      {"\x8f\x00", 2, WS_ERR_PROTO_OPCODE},
      {"\x89\x7e\x00\x7e", 4, WS_ERR_PROTO_CONTROL_TOO_LONG},
      {"\x09\x00", 2, WS_ERR_PROTO_CONTROL_FRAGMENTED},
      {"\x08\x02\x03\xe8", 4, WS_ERR_PROTO_CONTROL_FRAGMENTED},
      {"\x82\x7e\x00\x05hello", 9, WS_ERR_PROTO_NONMINIMAL_LENGTH},
      {"\x82\x7f\0\0\0\0\0\0\x01\x00", 10, WS_ERR_PROTO_NONMINIMAL_LENGTH},
      {"\x82\x7f\x80\0\0\0\0\0\0\0", 10, WS_ERR_PROTO_LENGTH_MSB},
      {"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11, WS_ERR_PROTO_MASK},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sframe_str(&in, true, WS_OP_TEXT, "ok");
    bytes_add(&in, cases[i].bytes, cases[i].len);
    sframe_str(&in, true, WS_OP_TEXT, "never");
    expect_fail(&in, "text:ok|", cases[i].error);
    bytes_free(&in);
  }
}
END_TEST

START_TEST(test_violation_utf8) {
  struct bytes in = {0};
  /* invalid in a single frame */
  sframe(&in, true, 0, WS_OP_TEXT, "ab\xc0\xafz", 5);
  expect_fail(&in, "", WS_ERR_INVALID_UTF8);
  bytes_free(&in);
  /* truncated at the end of the message */
  sframe(&in, true, 0, WS_OP_TEXT, "ab\xe2\x82", 4);
  expect_fail(&in, "", WS_ERR_INVALID_UTF8);
  bytes_free(&in);
  /* invalid in a later fragment */
  sframe(&in, false, 0, WS_OP_TEXT, "\xce\xba", 2);
  sframe(&in, true, 0, WS_OP_CONTINUATION, "\xed\xa0\x80", 3);
  expect_fail(&in, "", WS_ERR_INVALID_UTF8);
  bytes_free(&in);
  /* binary is never checked */
  sframe(&in, true, 0, WS_OP_BINARY, "\xff\xfe", 2);
  char ff[64], want[80];
  fmt_payload(ff, sizeof ff, (const uint8_t *)"\xff\xfe", 2);
  snprintf(want, sizeof want, "bin:%s|", ff);
  expect(&in, want, "", 0, WS_SESSION_OPEN);
  bytes_free(&in);

  /* Fail fast: the frame claims 1000 bytes; the bad byte is the 3rd and
   * the rest never arrives. */
  struct harness h;
  h_init(&h, NULL);
  uint8_t head[4] = {0x81, 126, 1000 >> 8, 1000 & 0xff};
  ck_assert_int_eq(ws_session_recv(h.s, head, 4), 0);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"ok", 2), 0);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\xf5", 1), WS_ERR_INVALID_UTF8);
  char out[256] = "";
  h_drain(&h, out, sizeof out, 0);
  ck_assert_str_eq(out, "close:1007:|");
  h_fini(&h);
  /* Same inside a fragmented message: ED A0 fails at A0. */
  h_init(&h, NULL);
  struct bytes f = {0};
  sframe(&f, false, 0, WS_OP_TEXT, "edited", 6);
  bytes_add(&f, "\x80\x7e\x01\x00", 4);
  ck_assert_int_eq(ws_session_recv(h.s, f.p, f.len), 0);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\xed", 1), 0);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\xa0", 1), WS_ERR_INVALID_UTF8);
  bytes_free(&f);
  h_fini(&h);
}
END_TEST

START_TEST(test_message_size_limit) {
  struct bytes in = {0};
  char *p = pattern(200);
  /* exactly the limit is fine */
  sframe(&in, true, 0, WS_OP_BINARY, p, 100);
  struct script sc = {&in, {100, 0}, "bin:<100:f3ba1a4a>|", "", 0, WS_SESSION_OPEN, 0};
  char ev[100];
  fmt_payload(ev, sizeof ev, (const uint8_t *)p, 100);
  char want[120];
  snprintf(want, sizeof want, "bin:%s|", ev);
  sc.events = want;
  run_script(&sc);
  bytes_free(&in);
  /* one frame over the limit fails at its header */
  sframe(&in, true, 0, WS_OP_BINARY, p, 101);
  snprintf(want, sizeof want, "error:WS_ERR_MESSAGE_TOO_BIG|");
  sc.events = want;
  sc.output = "close:1009:|";
  sc.error = WS_ERR_MESSAGE_TOO_BIG;
  sc.state = WS_SESSION_FAILED;
  run_script(&sc);
  bytes_free(&in);
  /* fragments that add up to more */
  sframe(&in, false, 0, WS_OP_TEXT, p, 60);
  sframe(&in, true, 0, WS_OP_CONTINUATION, p, 41);
  run_script(&sc);
  bytes_free(&in);
  /* control frames do not count */
  sframe(&in, false, 0, WS_OP_TEXT, p, 100);
  sframe(&in, true, 0, WS_OP_PING, p, 50);
  sframe(&in, true, 0, WS_OP_CONTINUATION, "", 0);
  fmt_payload(ev, sizeof ev, (const uint8_t *)p, 100);
  char ping[64];
  fmt_payload(ping, sizeof ping, (const uint8_t *)p, 50);
  char want2[200], out2[100];
  snprintf(want2, sizeof want2, "ping:%s|text:%s|", ping, ev);
  snprintf(out2, sizeof out2, "pong:%s|", ping);
  struct script sc2 = {&in, {100, 0}, want2, out2, 0, WS_SESSION_OPEN, 0};
  run_script(&sc2);
  bytes_free(&in);
  free(p);

  /* 2^32+ and 2^63-1 byte claims fail at the header with the default
   * limit, before any memory is taken. */
  struct harness h;
  h_init(&h, NULL);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x82\x7f\0\0\0\x01\0\0\0\0", 10),
                   WS_ERR_MESSAGE_TOO_BIG);
  ck_assert_int_eq(h.alloc.calls, 1); /* the session itself */
  h_fini(&h);
  h_init(&h, NULL);
  ck_assert_int_eq(
      ws_session_recv(h.s, (const uint8_t *)"\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff", 10),
      WS_ERR_MESSAGE_TOO_BIG);
  h_fini(&h);
}
END_TEST

START_TEST(test_memory_follows_arrival) {
  /* A frame that claims 1 TiB (allowed by a huge limit) but delivers 10
   * bytes holds only a small buffer. */
  struct ws_session_options opt = {UINT64_C(1) << 41, 0};
  struct harness h;
  h_init(&h, &opt);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x82\x7f\0\0\x01\0\0\0\0\0", 10), 0);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"0123456789", 10), 0);
  ck_assert_int_le(h.alloc.calls, 2);
  h_fini(&h);
  /* A 1 MiB message in 64 KiB reads: the buffer never exceeds the message
   * (growth is clamped at the frame's end) and the data is intact. */
  const size_t big = 1 << 20;
  struct bytes in = {0};
  char *p = pattern(big);
  sframe(&in, true, 0, WS_OP_BINARY, p, big);
  h_init(&h, NULL);
  h.take = true;
  for (size_t pos = 0; pos < in.len; pos += 65536) {
    size_t n = in.len - pos < 65536 ? in.len - pos : 65536;
    ck_assert_int_eq(ws_session_recv(h.s, in.p + pos, n), 0);
  }
  char pl[64], want[100];
  fmt_payload(pl, sizeof pl, (const uint8_t *)p, big);
  snprintf(want, sizeof want, "bin:%s|took|", pl);
  ck_assert_str_eq(h.log, want);
  h_fini(&h);
  bytes_free(&in);
  free(p);

  /* RFC 6455 §5.4: a message in 4,096 fragments of 64 bytes. The buffer
   * doubles across fragments instead of growing to each fragment's end, so
   * allocations stay logarithmic in the message size (a per-fragment
   * realloc made Autobahn 9.3.1 quadratic). */
  struct bytes frag = {0};
  char *q = pattern(64);
  for (int i = 0; i < 4096; i++)
    sframe(&frag, i == 4095, 0, i == 0 ? WS_OP_BINARY : WS_OP_CONTINUATION, q, 64);
  h_init(&h, NULL);
  ck_assert_int_eq(ws_session_recv(h.s, frag.p, frag.len), 0);
  ck_assert_int_le(h.alloc.calls, 16);
  ck_assert_int_eq(strncmp(h.log, "bin:<262144:", 12), 0);
  h_fini(&h);
  bytes_free(&frag);
  free(q);
}
END_TEST

/* ---- close handling --------------------------------------------------- */

START_TEST(test_server_close) {
  struct bytes in = {0};
  sframe_str(&in, true, WS_OP_TEXT, "last");
  sclose(&in, 1000, "bye");
  sframe_str(&in, true, WS_OP_TEXT, "ignored");
  sframe_str(&in, true, WS_OP_PING, "ignored");
  bytes_add(&in, "\xff\xff garbage", 10);
  expect(&in, "text:last|close:1000:bye|", "close:1000:|", 0, WS_SESSION_CLOSED);
  bytes_free(&in);
  /* empty close: 1005 reported, empty close echoed */
  sframe(&in, true, 0, WS_OP_CLOSE, "", 0);
  expect(&in, "close:1005:|", "close:|", 0, WS_SESSION_CLOSED);
  bytes_free(&in);
  /* valid codes are echoed */
  static const uint16_t valid[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010,
                                   1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999};
  for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
    sclose(&in, valid[i], "");
    char ev[64], out[64];
    snprintf(ev, sizeof ev, "close:%u:|", valid[i]);
    snprintf(out, sizeof out, "close:%u:|", valid[i]);
    expect(&in, ev, out, 0, WS_SESSION_CLOSED);
    bytes_free(&in);
  }
  /* a 123-byte UTF-8 reason */
  char reason[124];
  memset(reason, 'r', 123);
  reason[123] = 0;
  memcpy(reason, "\xc3\xa9", 2);
  sclose(&in, 1001, reason);
  char pl[64], ev[128];
  fmt_payload(pl, sizeof pl, (const uint8_t *)reason, 123);
  snprintf(ev, sizeof ev, "close:1001:%s|", pl);
  expect(&in, ev, "close:1001:|", 0, WS_SESSION_CLOSED);
  bytes_free(&in);
}
END_TEST

START_TEST(test_server_close_violations) {
  struct bytes in = {0};
  sframe(&in, true, 0, WS_OP_CLOSE, "\x03", 1);
  expect_fail(&in, "", WS_ERR_PROTO_CLOSE_PAYLOAD);
  bytes_free(&in);
  static const uint16_t invalid[] = {0,    1,    999,  1004, 1005, 1006, 1015, 1016,
                                     1100, 2000, 2999, 5000, 65535};
  for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
    sclose(&in, invalid[i], "why");
    expect_fail(&in, "", WS_ERR_PROTO_CLOSE_CODE);
    bytes_free(&in);
  }
  sclose(&in, 1000, "bad\xff");
  expect_fail(&in, "", WS_ERR_INVALID_UTF8);
  bytes_free(&in);
  sclose(&in, 1000, "trunc\xe2\x82");
  expect_fail(&in, "", WS_ERR_INVALID_UTF8);
  bytes_free(&in);
  /* fail fast inside the close frame: the reason's bad byte arrives
   * before the rest of the frame */
  struct harness h;
  h_init(&h, NULL);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x88\x10\x03\xe8" "ab", 6), 0);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\xc0", 1), WS_ERR_INVALID_UTF8);
  h_fini(&h);
  h_init(&h, NULL);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x88\x10\x03", 3), 0);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\xed", 1), WS_ERR_PROTO_CLOSE_CODE);
  h_fini(&h);
}
END_TEST

START_TEST(test_client_close) {
  struct harness h;
  h_init(&h, NULL);
  ck_assert_int_eq(ws_session_send_binary(h.s, (const uint8_t *)"before", 6), 0);
  ck_assert_int_eq(ws_session_send_close(h.s, 1000, (const uint8_t *)"done", 4), 0);
  ck_assert_int_eq(ws_session_state(h.s), WS_SESSION_CLOSE_SENT);
  ck_assert(ws_session_want_read(h.s));
  ck_assert(!ws_session_is_finished(h.s));
  /* no more data or a second close */
  ck_assert_int_eq(ws_session_send_text(h.s, (const uint8_t *)"x", 1), WS_ERR_INVALID_STATE);
  ck_assert_int_eq(ws_session_send_binary(h.s, (const uint8_t *)"x", 1), WS_ERR_INVALID_STATE);
  ck_assert_int_eq(ws_session_send_ping(h.s, NULL, 0), WS_ERR_INVALID_STATE);
  ck_assert_int_eq(ws_session_send_close(h.s, 1000, NULL, 0), WS_ERR_INVALID_STATE);
  /* messages and pings still arrive; the pong goes before data and close */
  struct bytes in = {0};
  sframe_str(&in, true, WS_OP_TEXT, "still");
  sframe_str(&in, true, WS_OP_PING, "pp");
  ck_assert_int_eq(ws_session_recv(h.s, in.p, in.len), 0);
  bytes_free(&in);
  char out[256] = "";
  h_drain(&h, out, sizeof out, 0);
  ck_assert_str_eq(out, "pong:pp|bin:before|close:1000:done|");
  ck_assert(!ws_session_is_finished(h.s));
  /* the server's close: no echo, CLOSED */
  sclose(&in, 1000, "ok");
  ck_assert_int_eq(ws_session_recv(h.s, in.p, in.len), 0);
  bytes_free(&in);
  ck_assert_int_eq(ws_session_state(h.s), WS_SESSION_CLOSED);
  ck_assert_uint_eq(ws_session_want_write(h.s), 0);
  ck_assert(ws_session_is_finished(h.s));
  ck_assert_str_eq(h.log, "text:still|ping:pp|ack:6|close:1000:ok|");
  h_fini(&h);

  /* code 0 = empty body; argument checks */
  h_init(&h, NULL);
  ck_assert_int_eq(ws_session_send_close(h.s, 0, (const uint8_t *)"x", 1),
                   WS_ERR_INVALID_ARGUMENT);
  static const uint16_t bad[] = {1, 999, 1004, 1005, 1006, 1015, 2000, 5000};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_int_eq(ws_session_send_close(h.s, bad[i], NULL, 0), WS_ERR_INVALID_ARGUMENT);
  char r124[125];
  memset(r124, 'x', 124);
  ck_assert_int_eq(ws_session_send_close(h.s, 1000, (const uint8_t *)r124, 124),
                   WS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(ws_session_send_close(h.s, 1000, (const uint8_t *)"\xff", 1),
                   WS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(ws_session_state(h.s), WS_SESSION_OPEN);
  ck_assert_int_eq(ws_session_send_close(h.s, 4000, (const uint8_t *)r124, 123), 0);
  out[0] = 0;
  h_drain(&h, out, sizeof out, 0);
  char want[200], pl[64];
  fmt_payload(pl, sizeof pl, (const uint8_t *)r124, 123);
  snprintf(want, sizeof want, "close:4000:%s|", pl);
  ck_assert_str_eq(out, want);
  h_fini(&h);
  h_init(&h, NULL);
  ck_assert_int_eq(ws_session_send_close(h.s, 0, NULL, 0), 0);
  out[0] = 0;
  h_drain(&h, out, sizeof out, 0);
  ck_assert_str_eq(out, "close:|");
  h_fini(&h);
}
END_TEST

START_TEST(test_echo_close_drops_queued_data) {
  /* Data queued but unsent when the server closes is dropped (no data
   * frame may follow our close); a partly written frame is finished. */
  struct harness h;
  h_init(&h, NULL);
  ck_assert_int_eq(ws_session_send_binary(h.s, (const uint8_t *)"AAAAAAAAAA", 10), 0);
  ck_assert_int_eq(ws_session_send_binary(h.s, (const uint8_t *)"BBBB", 4), 0);
  ck_assert_int_eq(ws_session_consume_output(h.s, 5), 0); /* inside A */
  struct bytes in = {0};
  sclose(&in, 1001, "");
  ck_assert_int_eq(ws_session_recv(h.s, in.p, in.len), 0);
  bytes_free(&in);
  struct ws_iovec iov[4];
  size_t n = ws_session_peek_output(h.s, iov, 4);
  ck_assert_uint_eq(n, 2);
  ck_assert_uint_eq(iov[0].len, 2 + 4 + 10 - 5); /* rest of A */
  ck_assert_uint_eq(iov[1].len, 2 + 4 + 2);      /* close 1001 */
  ck_assert_int_eq(ws_session_consume_output(h.s, iov[0].len + iov[1].len), 0);
  ck_assert_str_eq(h.log, "close:1001:|ack:10|");
  ck_assert(ws_session_is_finished(h.s));
  h_fini(&h);
  /* Nothing partly written: only the close goes out, no acks. */
  h_init(&h, NULL);
  ck_assert_int_eq(ws_session_send_text(h.s, (const uint8_t *)"dropped", 7), 0);
  sframe(&in, true, 0, WS_OP_CLOSE, "", 0);
  ck_assert_int_eq(ws_session_recv(h.s, in.p, in.len), 0);
  bytes_free(&in);
  char out[128] = "";
  h_drain(&h, out, sizeof out, 0);
  ck_assert_str_eq(out, "close:|");
  ck_assert_str_eq(h.log, "close:1005:|");
  h_fini(&h);
}
END_TEST

START_TEST(test_failure_after_client_close) {
  /* A violation while waiting for the server's close: no second close. */
  struct harness h;
  h_init(&h, NULL);
  ck_assert_int_eq(ws_session_send_close(h.s, 1000, NULL, 0), 0);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x83\x00", 2), WS_ERR_PROTO_OPCODE);
  char out[128] = "";
  h_drain(&h, out, sizeof out, 0);
  ck_assert_str_eq(out, "close:1000:|");
  ck_assert(ws_session_is_finished(h.s));
  ck_assert(!ws_session_want_read(h.s));
  h_fini(&h);
}
END_TEST

/* ---- extension hooks --------------------------------------------------- */

START_TEST(test_rsv1_hooks) {
  struct bytes in = {0};
  struct script sc = {&in, {0, WS_RSV1}, NULL, "close:1002:|", WS_ERR_PROTO_RSV,
                      WS_SESSION_FAILED, 0};
  /* RSV1 on a continuation frame */
  sframe(&in, false, 0, WS_OP_TEXT, "a", 1);
  sframe(&in, true, WS_RSV1, WS_OP_CONTINUATION, "b", 1);
  sc.events = "error:WS_ERR_PROTO_RSV|";
  run_script(&sc);
  bytes_free(&in);
  /* RSV1 on a control frame */
  sframe(&in, true, WS_RSV1, WS_OP_PING, "a", 1);
  run_script(&sc);
  bytes_free(&in);
  /* RSV2 is still not allowed */
  sframe(&in, true, WS_RSV2, WS_OP_TEXT, "a", 1);
  run_script(&sc);
  bytes_free(&in);
  /* RSV1 let through by options without ws_session_enable_pmd: nothing
   * can decompress it (test_ws_deflate covers the extension itself) */
  sframe(&in, true, WS_RSV1, WS_OP_BINARY, "\x01\x02", 2);
  sc.events = "error:WS_ERR_INTERNAL|";
  sc.output = "close:1011:|";
  sc.error = WS_ERR_INTERNAL;
  run_script(&sc);
  bytes_free(&in);
  /* uncompressed messages pass as usual */
  sframe(&in, true, 0, WS_OP_TEXT, "plain", 5);
  struct script ok = {&in, {0, WS_RSV1}, "text:plain|", "", 0, WS_SESSION_OPEN, 0};
  run_script(&ok);
  bytes_free(&in);
}
END_TEST

/* ---- sending and the output queue ------------------------------------- */

START_TEST(test_send_and_coalesce) {
  struct harness h;
  h_init(&h, NULL);
  ck_assert_uint_eq(ws_session_want_write(h.s), 0);
  struct ws_iovec iov[4];
  ck_assert_uint_eq(ws_session_peek_output(h.s, iov, 4), 0);
  for (int i = 0; i < 100; i++)
    ck_assert_int_eq(ws_session_send_binary(h.s, (const uint8_t *)"0123456789abcdef", 16), 0);
  /* 100 messages in one contiguous segment: one write */
  ck_assert_uint_eq(ws_session_peek_output(h.s, iov, 4), 1);
  ck_assert_uint_eq(iov[0].len, 100 * (2 + 4 + 16));
  ck_assert_uint_eq(ws_session_want_write(h.s), 100 * 22);
  ck_assert_int_eq(ws_session_consume_output(h.s, 100 * 22 + 1), WS_ERR_INVALID_ARGUMENT);
  /* acks fire exactly at each message's last byte */
  ck_assert_int_eq(ws_session_consume_output(h.s, 21), 0);
  ck_assert_str_eq(h.log, "");
  ck_assert_int_eq(ws_session_consume_output(h.s, 1), 0);
  ck_assert_str_eq(h.log, "ack:16|");
  ck_assert_int_eq(ws_session_consume_output(h.s, 22 * 2 - 1), 0);
  ck_assert_str_eq(h.log, "ack:16|ack:16|");
  ck_assert_int_eq(ws_session_consume_output(h.s, 1), 0);
  ck_assert_str_eq(h.log, "ack:16|ack:16|ack:16|");
  char out[4096] = "";
  h_drain(&h, out, sizeof out, 7);
  ck_assert_uint_eq(strlen(out), 97 * strlen("bin:0123456789abcdef|"));
  /* sizes: 0, 125, 126, 65535, 65536 */
  h.loglen = 0;
  h.log[0] = 0;
  static const size_t lens[] = {0, 125, 126, 65535, 65536};
  char *p = pattern(65536);
  char want_out[512] = "", want_log[256] = "";
  for (size_t i = 0; i < 5; i++) {
    ck_assert_int_eq(ws_session_send_text(h.s, (const uint8_t *)p, lens[i]), 0);
    char pl[64];
    fmt_payload(pl, sizeof pl, (const uint8_t *)p, lens[i]);
    snprintf(want_out + strlen(want_out), sizeof want_out - strlen(want_out), "text:%s|", pl);
    snprintf(want_log + strlen(want_log), sizeof want_log - strlen(want_log), "ack:%zu|",
             lens[i]);
  }
  out[0] = 0;
  h_drain(&h, out, sizeof out, 1000);
  ck_assert_str_eq(out, want_out);
  ck_assert_str_eq(h.log, want_log);
  free(p);
  /* invalid arguments change nothing */
  ck_assert_int_eq(ws_session_send_text(h.s, (const uint8_t *)"\xc0\x80", 2),
                   WS_ERR_INVALID_ARGUMENT);
  char big[126] = {0};
  ck_assert_int_eq(ws_session_send_ping(h.s, (const uint8_t *)big, 126), WS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(ws_session_send_pong(h.s, (const uint8_t *)big, 126), WS_ERR_INVALID_ARGUMENT);
  ck_assert_uint_eq(ws_session_want_write(h.s), 0);
  ck_assert_int_eq(ws_session_send_ping(h.s, (const uint8_t *)"PING", 4), 0);
  ck_assert_int_eq(ws_session_send_pong(h.s, (const uint8_t *)big, 125), 0);
  out[0] = 0;
  h_drain(&h, out, sizeof out, 0);
  char pl[64], want_ctl[128];
  fmt_payload(pl, sizeof pl, (const uint8_t *)big, 125);
  snprintf(want_ctl, sizeof want_ctl, "ping:PING|pong:%s|", pl);
  ck_assert_str_eq(out, want_ctl);
  h_fini(&h);
}
END_TEST

START_TEST(test_pong_priority) {
  struct harness h;
  h_init(&h, NULL);
  /* queued data, then a ping: the pong goes first */
  ck_assert_int_eq(ws_session_send_binary(h.s, (const uint8_t *)"A", 1), 0);
  ck_assert_int_eq(ws_session_send_binary(h.s, (const uint8_t *)"B", 1), 0);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x89\x02p1", 4), 0);
  char out[512] = "";
  h_drain(&h, out, sizeof out, 0);
  ck_assert_str_eq(out, "pong:p1|bin:A|bin:B|");
  /* data partly written: the frame is finished first, then the pong */
  char *p = pattern(1000);
  ck_assert_int_eq(ws_session_send_binary(h.s, (const uint8_t *)p, 1000), 0);
  ck_assert_int_eq(ws_session_send_binary(h.s, (const uint8_t *)"C", 1), 0);
  ck_assert_int_eq(ws_session_consume_output(h.s, 500), 0);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x89\x02p2\x89\x02p3", 8), 0);
  struct ws_iovec iov[4];
  ck_assert_uint_eq(ws_session_peek_output(h.s, iov, 4), 3);
  ck_assert_uint_eq(iov[0].len, 4 + 4 + 1000 - 500);
  ck_assert_uint_eq(iov[1].len, 2 * (2 + 4 + 2));
  ck_assert_uint_eq(iov[2].len, 2 + 4 + 1);
  /* peek with a small array returns the first segments */
  ck_assert_uint_eq(ws_session_peek_output(h.s, iov, 1), 1);
  /* write the rest of the big frame and half of the first pong, then
   * another ping arrives: it queues behind the pongs, before C */
  ck_assert_int_eq(ws_session_consume_output(h.s, 508 + 3), 0);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x89\x02p4", 4), 0);
  /* (the wire order of this shape is checked from the start in
   * test_pong_priority_wire_order) */
  ck_assert_int_eq(ws_session_consume_output(h.s, ws_session_want_write(h.s)), 0);
  ck_assert_str_eq(h.log, "ping:p1|ack:1|ack:1|ping:p2|ping:p3|ack:1000|ping:p4|ack:1|");
  free(p);
  h_fini(&h);
}
END_TEST

START_TEST(test_pong_priority_wire_order) {
  /* Full wire order with partial writes, decoded from the start. */
  struct harness h;
  h_init(&h, NULL);
  struct bytes wire = {0};
  char *p = pattern(300);
  ck_assert_int_eq(ws_session_send_binary(h.s, (const uint8_t *)p, 300), 0);
  ck_assert_int_eq(ws_session_send_text(h.s, (const uint8_t *)"T", 1), 0);
  /* write 100 bytes */
  struct ws_iovec iov[4];
  size_t n = ws_session_peek_output(h.s, iov, 4);
  ck_assert_uint_eq(n, 1);
  bytes_add(&wire, iov[0].base, 100);
  ck_assert_int_eq(ws_session_consume_output(h.s, 100), 0);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x89\x01x", 3), 0);
  ck_assert_int_eq(ws_session_send_close(h.s, 1000, NULL, 0), 0);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x89\x01y", 3), 0);
  /* write everything one byte at a time */
  while (ws_session_want_write(h.s)) {
    n = ws_session_peek_output(h.s, iov, 4);
    bytes_add(&wire, iov[0].base, 1);
    ck_assert_int_eq(ws_session_consume_output(h.s, 1), 0);
    /* a ping arriving once the close began is not answered */
    if (ws_session_want_write(h.s) == 3)
      ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x89\x01z", 3), 0);
  }
  struct ws_frame_decoder d;
  ws_frame_decoder_init(&d, WS_FRAME_SERVER, 0);
  size_t pos = 0;
  char order[64] = "";
  while (pos < wire.len) {
    struct ws_frame_chunk ch;
    size_t used;
    int rv = ws_frame_decode(&d, wire.p + pos, wire.len - pos, &used, &ch);
    ck_assert_int_ge(rv, 0);
    pos += used;
    if (rv == 1 && ch.first) {
      static const char op[16] = "-tb-----cip";
      size_t l = strlen(order);
      order[l] = op[d.hdr.opcode];
      order[l + 1] = 0;
    }
  }
  ck_assert_str_eq(order, "bpptc"); /* binary, pong x, pong y, text, close */
  ck_assert_str_eq(h.log, "ping:x|ping:y|ack:300|ack:1|ping:z|");
  ck_assert(!ws_session_is_finished(h.s)); /* CLOSE_SENT: wait for server */
  bytes_free(&wire);
  free(p);
  h_fini(&h);
}
END_TEST

START_TEST(test_mask_keys_and_rand_failure) {
  struct harness h;
  h_init(&h, NULL);
  /* keys come from the pool: 64 bytes per rand call, fresh per frame */
  unsigned before = h.rand_counter;
  for (int i = 0; i < 40; i++)
    ck_assert_int_eq(ws_session_send_binary(h.s, (const uint8_t *)"x", 1), 0);
  ck_assert_uint_eq(h.rand_counter - before, 64 * 3);
  char out[2048] = "";
  h_drain(&h, out, sizeof out, 0); /* checks consecutive keys differ */
  /* rand failure: nothing queued, the session stays usable */
  for (int i = 0; i < 16 * 3 - 40; i++)
    ck_assert_int_eq(ws_session_send_binary(h.s, (const uint8_t *)"x", 1), 0);
  h.rand_fail = true;
  ck_assert_int_eq(ws_session_send_binary(h.s, (const uint8_t *)"x", 1),
                   WS_ERR_CALLBACK_FAILURE);
  ck_assert_int_eq(ws_session_send_ping(h.s, NULL, 0), WS_ERR_CALLBACK_FAILURE);
  ck_assert_uint_eq(ws_session_want_write(h.s), 8 * (2 + 4 + 1));
  /* a close never needs rand (its key was reserved at creation) */
  ck_assert_int_eq(ws_session_send_close(h.s, 1000, NULL, 0), 0);
  h.rand_fail = false;
  out[0] = 0;
  h_drain(&h, out, sizeof out, 0);
  h_fini(&h);
  /* creation needs rand */
  h.rand_fail = true;
  struct ws_session *s = (struct ws_session *)1;
  ck_assert_int_eq(ws_session_new(&s, &h_callbacks, NULL, NULL, &h), WS_ERR_CALLBACK_FAILURE);
  ck_assert_ptr_null(s);
  struct ws_session_callbacks none = {0};
  ck_assert_int_eq(ws_session_new(&s, &none, NULL, NULL, NULL), WS_ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_echo_from_callback) {
  /* A testee-style echo from inside on_message, zero-copy and assembled. */
  struct harness h;
  h_init(&h, NULL);
  h.echo = true;
  struct bytes in = {0};
  sframe_str(&in, true, WS_OP_TEXT, "one");
  sframe_str(&in, false, WS_OP_BINARY, "tw");
  sframe_str(&in, true, WS_OP_CONTINUATION, "o");
  ck_assert_int_eq(ws_session_recv(h.s, in.p, in.len), 0);
  char out[256] = "";
  h_drain(&h, out, sizeof out, 0);
  ck_assert_str_eq(out, "text:one|bin:two|");
  ck_assert_str_eq(h.log, "text:one|bin:two|ack:3|ack:3|");
  bytes_free(&in);
  h_fini(&h);
}
END_TEST

START_TEST(test_take_message_buffer) {
  struct harness h;
  h_init(&h, NULL);
  h.take = true;
  struct bytes in = {0};
  sframe_str(&in, true, WS_OP_TEXT, "direct");
  sframe_str(&in, false, WS_OP_BINARY, "frag");
  sframe_str(&in, true, WS_OP_CONTINUATION, "mented");
  sframe_str(&in, false, WS_OP_BINARY, "again");
  sframe_str(&in, true, WS_OP_CONTINUATION, "!");
  ck_assert_int_eq(ws_session_recv(h.s, in.p, in.len), 0);
  ck_assert_str_eq(h.log, "text:direct|bin:fragmented|took|bin:again!|took|");
  size_t cap;
  ck_assert_ptr_null(ws_session_take_message_buffer(h.s, &cap));
  bytes_free(&in);
  h_fini(&h);
}
END_TEST

START_TEST(test_output_queue_random) {
  /* Random interleavings of sends, received pings and partial writes: the
   * wire must always decode into whole frames, data in send order, pongs in
   * ping order, one ack per message in order. */
  srand(4242);
  for (int round = 0; round < 200; round++) {
    struct harness h;
    h_init(&h, NULL);
    struct bytes wire = {0};
    uint8_t payload[400];
    unsigned sent = 0, pinged = 0;
    for (int op = 0; op < 60; op++) {
      int what = rand() % 4;
      if (what == 0) {
        size_t len = (size_t)(rand() % 300);
        memset(payload, (int)(sent & 0xff), len);
        ck_assert_int_eq(ws_session_send_binary(h.s, payload, len), 0);
        sent++;
      } else if (what == 1) {
        uint8_t ping[3] = {0x89, 1, (uint8_t)pinged++};
        ck_assert_int_eq(ws_session_recv(h.s, ping, 3), 0);
      } else if (ws_session_want_write(h.s)) {
        size_t n = 1 + (size_t)rand() % ws_session_want_write(h.s);
        struct ws_iovec iov[4];
        size_t cnt = ws_session_peek_output(h.s, iov, 4), left = n;
        for (size_t i = 0; i < cnt && left; i++) {
          size_t t = iov[i].len < left ? iov[i].len : left;
          bytes_add(&wire, iov[i].base, t);
          left -= t;
        }
        ck_assert_int_eq(ws_session_consume_output(h.s, n), 0);
      }
    }
    if (rand() % 2)
      ck_assert_int_eq(ws_session_send_close(h.s, 1000, NULL, 0), 0);
    while (ws_session_want_write(h.s)) {
      struct ws_iovec iov[4];
      size_t cnt = ws_session_peek_output(h.s, iov, 4);
      for (size_t i = 0; i < cnt; i++)
        bytes_add(&wire, iov[i].base, iov[i].len);
      ck_assert_int_eq(ws_session_consume_output(h.s, ws_session_want_write(h.s)), 0);
    }
    /* decode */
    struct ws_frame_decoder d;
    ws_frame_decoder_init(&d, WS_FRAME_SERVER, 0);
    size_t pos = 0;
    unsigned data_seen = 0, pongs_seen = 0, closes = 0;
    uint8_t first = 0;
    while (pos < wire.len) {
      struct ws_frame_chunk ch;
      size_t used;
      int rv = ws_frame_decode(&d, wire.p + pos, wire.len - pos, &used, &ch);
      ck_assert_int_ge(rv, 0);
      pos += used;
      if (rv == 0)
        break;
      ck_assert_uint_eq(closes, 0); /* nothing after the close */
      if (ch.len && ch.offset == 0)
        ws_frame_mask(&first, ch.data, 1, d.hdr.mask_key, 0);
      if (ch.last) {
        if (d.hdr.opcode == WS_OP_BINARY) {
          if (d.hdr.payload_len)
            ck_assert_uint_eq(first, data_seen & 0xff);
          data_seen++;
        } else if (d.hdr.opcode == WS_OP_PONG) {
          ck_assert_uint_eq(first, pongs_seen & 0xff);
          pongs_seen++;
        } else {
          ck_assert_uint_eq(d.hdr.opcode, WS_OP_CLOSE);
          closes++;
        }
      }
    }
    ck_assert_uint_eq(pos, wire.len);
    ck_assert_int_eq(d.state, WS_FRAME_STATE_HEADER1);
    ck_assert_uint_eq(data_seen, sent);
    ck_assert_uint_eq(pongs_seen, pinged);
    /* one ack per message */
    unsigned acks = 0;
    for (const char *q = h.log; (q = strstr(q, "ack:")) != NULL; q++)
      acks++;
    ck_assert_uint_eq(acks, sent);
    bytes_free(&wire);
    h_fini(&h);
  }
}
END_TEST

/* ---- allocation failure ------------------------------------------------ */

/* A script that allocates on every path: the session, the data queue and
 * its ack records, the control queue (pings and pongs), the assembly
 * buffer. Returns the first error; *where is 1 for a send, 2 for recv. */
static int oom_script(struct harness *h, int *where) {
  int rv = 0;
  size_t before;
  *where = 0;
  char *p = pattern(70000);
  struct bytes in = {0};
  sframe_str(&in, false, WS_OP_TEXT, "frag-");
  sframe(&in, true, 0, WS_OP_PING, p, 100);
  sframe(&in, true, 0, WS_OP_CONTINUATION, p, 5000);
  sframe(&in, true, 0, WS_OP_BINARY, p, 70000);
  sframe_str(&in, true, WS_OP_PING, "again");
  for (int i = 0; i < 40 && rv == 0; i++) {
    before = ws_session_want_write(h->s);
    rv = ws_session_send_binary(h->s, (const uint8_t *)p, 16 + 1000 * (size_t)(i % 3));
    *where = 1;
  }
  for (int i = 0; i < 20 && rv == 0; i++) {
    before = ws_session_want_write(h->s);
    rv = ws_session_send_ping(h->s, (const uint8_t *)"k", 1);
  }
  if (rv < 0) {
    /* a failed send changed nothing */
    ck_assert_uint_eq(ws_session_want_write(h->s), before);
    ck_assert_int_eq(ws_session_state(h->s), WS_SESSION_OPEN);
    goto out;
  }
  *where = 2;
  for (size_t pos = 0; pos < in.len && rv == 0; pos += 3000) {
    size_t n = in.len - pos < 3000 ? in.len - pos : 3000;
    rv = ws_session_recv(h->s, in.p + pos, n);
  }
  if (rv < 0)
    goto out;
  *where = 1;
  before = ws_session_want_write(h->s);
  rv = ws_session_send_text(h->s, (const uint8_t *)p, 69999);
  if (rv < 0)
    ck_assert_uint_eq(ws_session_want_write(h->s), before);
out:
  bytes_free(&in);
  free(p);
  return rv;
}

START_TEST(test_oom_every_allocation) {
  bool done = false;
  long n, send_fails = 0, recv_fails = 0;
  for (n = 1; n < 1000 && !done; n++) {
    struct harness h;
    memset(&h, 0, sizeof h);
    h.mem = test_alloc_mem(&h.alloc);
    h.alloc.fail_at = n;
    int rv = ws_session_new(&h.s, &h_callbacks, NULL, &h.mem, &h);
    if (rv < 0) {
      ck_assert_int_eq(rv, WS_ERR_NOMEM);
      ck_assert_ptr_null(h.s);
      ck_assert_int_eq(h.alloc.live, 0);
      continue;
    }
    int where;
    rv = oom_script(&h, &where);
    char out[16384] = "";
    if (rv < 0) {
      ck_assert_msg(rv == WS_ERR_NOMEM, "n=%ld: %s", n, ws_error_name(rv));
      if (where == 2) {
        recv_fails++;
        /* recv: the connection failed with 1011 */
        ck_assert_int_eq(ws_session_state(h.s), WS_SESSION_FAILED);
        ck_assert_int_eq(ws_session_error(h.s), WS_ERR_NOMEM);
        h_drain(&h, out, sizeof out, 0);
        ck_assert_msg(strstr(out, "close:1011:|") != NULL, "n=%ld out %s", n, out);
        ck_assert(ws_session_is_finished(h.s));
      } else {
        send_fails++;
        /* send: still usable */
        ck_assert_int_eq(ws_session_send_binary(h.s, (const uint8_t *)"ok", 2), 0);
      }
    } else {
      ck_assert_int_eq(rv, 0);
      done = h.alloc.failures == 0;
    }
    h_drain(&h, out, sizeof out, 0);
    h_fini(&h); /* no leak, whatever failed */
  }
  ck_assert_msg(done, "never completed (n=%ld)", n);
  /* every allocation site was hit on both paths */
  ck_assert_int_ge(send_fails, 4);
  ck_assert_int_ge(recv_fails, 3);
  fprintf(stderr, "oom: %ld runs, %ld send failures, %ld recv failures\n", n, send_fails,
          recv_fails);
}
END_TEST

/* ---- direct receive (ws_session_direct_buffer / ws_session_recv_direct) -- */

/* ws_session.c's growth constants (private there; ws_session.h names the
 * 4 MiB): a final frame up to PREALLOC_MAX gets its size at once; direct
 * receive otherwise grows by at least DIRECT_STEP. */
#define PREALLOC_MAX ((size_t)4 << 20)
#define DIRECT_STEP ((size_t)256 << 10)

/* Bytes that are not a short period, so a misplaced piece changes the hash. */
static uint8_t *bin_pattern(size_t len, unsigned seed) {
  uint8_t *p = malloc(len ? len : 1);
  ck_assert_ptr_nonnull(p);
  for (size_t i = 0; i < len; i++)
    p[i] = (uint8_t)((i * 2654435761u) >> 13 ^ seed ^ (i >> 16));
  return p;
}

/* The log entry on_message writes for this message. */
static void want_msg(char *out, size_t outsz, const char *kind, const uint8_t *p, size_t len) {
  char pl[48]; /* fmt_payload writes at most 40 characters */
  fmt_payload(pl, sizeof pl, p, len);
  snprintf(out, outsz, "%s:%s|", kind, pl);
}

/* direct_buffer refuses: NULL and *len 0. */
static void expect_no_direct(struct harness *h, size_t min) {
  size_t len = 777;
  ck_assert_ptr_null(ws_session_direct_buffer(h->s, min, &len));
  ck_assert_uint_eq(len, 0);
}

/* Feeds in[0..len) the way net_ws_conn's read_open does: where the session
 * offers a direct buffer (for at least `min` bytes), the next bytes are
 * copied there (at most the next of `steps`, cycling, and at most what was
 * offered) and reported with ws_session_recv_direct; elsewhere at most
 * `small` bytes go through ws_session_recv. Returns the first error. */
struct feed {
  const size_t *steps;
  size_t nsteps, small, min;
  size_t next, direct_bytes, direct_calls;
};

static int h_feed(struct harness *h, struct feed *f, const uint8_t *in, size_t len) {
  size_t pos = 0;
  while (pos < len) {
    size_t room = 777, n;
    uint8_t *buf = ws_session_direct_buffer(h->s, f->min ? f->min : 1, &room);
    int rv;
    if (buf) {
      ck_assert_uint_ge(room, f->min ? f->min : 1);
      n = f->steps[f->next++ % f->nsteps];
      if (n > room)
        n = room;
      if (n > len - pos)
        n = len - pos;
      memcpy(buf, in + pos, n);
      rv = ws_session_recv_direct(h->s, n);
      f->direct_bytes += n;
      f->direct_calls++;
    } else {
      ck_assert_uint_eq(room, 0);
      n = len - pos < f->small ? len - pos : f->small;
      rv = ws_session_recv(h->s, in + pos, n);
    }
    if (rv < 0)
      return rv;
    ck_assert_int_eq(rv, 0);
    pos += n;
  }
  return 0;
}

START_TEST(test_direct_binary) {
  /* A 1 MiB FIN frame: its header and 3 payload bytes through recv, the
   * rest read straight into the assembly buffer in pieces of varied sizes.
   * One allocation holds the message; it is delivered once, intact, and
   * can be taken in on_message. */
  const size_t big = 1 << 20;
  uint8_t *p = bin_pattern(big, 1);
  struct bytes in = {0};
  sframe(&in, true, 0, WS_OP_BINARY, p, big);
  const size_t hlen = in.len - big;
  sframe_str(&in, true, WS_OP_TEXT, "next");
  struct harness h;
  h_init(&h, NULL);
  h.take = true;
  ck_assert_int_eq(ws_session_recv(h.s, in.p, hlen + 3), 0);
  ck_assert_int_eq(h.alloc.calls, 2); /* the session, then the whole buffer */
  ck_assert_uint_eq(h.largest, big);
  static const size_t steps[] = {1, 7, 4096, 65536, 65535, 300000, 3};
  size_t pos = 3, i = 0;
  uint8_t *expect_at = NULL;
  while (pos < big) {
    size_t len = 777;
    uint8_t *buf = ws_session_direct_buffer(h.s, 1, &len);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(len, big - pos); /* all the rest of the frame, no more */
    if (expect_at)
      ck_assert_ptr_eq(buf, expect_at); /* same buffer, right after the last piece */
    size_t n = steps[i++ % (sizeof steps / sizeof steps[0])];
    if (n > len)
      n = len;
    memcpy(buf, p + pos, n);
    ck_assert_str_eq(h.log, ""); /* nothing delivered before the last byte */
    ck_assert_int_eq(ws_session_recv_direct(h.s, n), 0);
    pos += n;
    expect_at = pos < big ? buf + n : NULL;
  }
  char want[256];
  want_msg(want, sizeof want, "bin", p, big);
  strcat(want, "took|");
  ck_assert_str_eq(h.log, want);
  ck_assert_int_eq(h.alloc.calls, 2); /* no realloc on the way */
  ck_assert_int_eq(h.alloc.live, 1);  /* the buffer was handed over (and freed) */
  size_t cap;
  ck_assert_ptr_null(ws_session_take_message_buffer(h.s, &cap));
  /* A frame boundary: no direct buffer; the next frame goes through recv. */
  expect_no_direct(&h, 1);
  ck_assert_int_eq(ws_session_recv(h.s, in.p + hlen + big, in.len - hlen - big), 0);
  strcat(want, "text:next|");
  ck_assert_str_eq(h.log, want);
  expect_no_direct(&h, 1);

  /* Again from the header alone, the whole payload in one direct read,
   * without taking the buffer: one new allocation, released after
   * delivery (larger than what an idle session keeps). */
  h.take = false;
  long calls = h.alloc.calls;
  ck_assert_int_eq(ws_session_recv(h.s, in.p, hlen), 0);
  ck_assert_int_eq(h.alloc.calls, calls); /* no payload yet, no buffer yet */
  size_t len = 0;
  uint8_t *buf = ws_session_direct_buffer(h.s, 1, &len);
  ck_assert_ptr_nonnull(buf);
  ck_assert_uint_eq(len, big);
  /* Asking again without reading (read_open when the socket would block)
   * gives the same buffer and allocates nothing. */
  size_t len2 = 0;
  ck_assert_ptr_eq(ws_session_direct_buffer(h.s, 1, &len2), buf);
  ck_assert_uint_eq(len2, len);
  ck_assert_int_eq(h.alloc.calls, calls + 1);
  memcpy(buf, p, big);
  ck_assert_int_eq(ws_session_recv_direct(h.s, big), 0);
  char want2[64];
  want_msg(want2, sizeof want2, "bin", p, big);
  strcat(want, want2);
  ck_assert_str_eq(h.log, want);
  ck_assert_int_eq(h.alloc.live, 1);
  ck_assert_int_eq(ws_session_state(h.s), WS_SESSION_OPEN);
  ck_assert_uint_eq(ws_session_want_write(h.s), 0);
  h_fini(&h);
  bytes_free(&in);
  free(p);
}
END_TEST

/* "ab€𝄞" repeated: characters of 1, 3 and 4 bytes. */
static uint8_t *utf8_pattern(size_t units) {
  static const char unit[] = "ab\xe2\x82\xac\xf0\x9d\x84\x9e";
  uint8_t *p = malloc(9 * units);
  ck_assert_ptr_nonnull(p);
  for (size_t i = 0; i < units; i++)
    memcpy(p + 9 * i, unit, 9);
  return p;
}

START_TEST(test_direct_text_utf8) {
  /* Valid text split everywhere: recv ends inside the 3-byte €, direct
   * pieces end inside the 4-byte 𝄞, then pieces of other sizes. */
  const size_t tlen = 9 * 20000;
  uint8_t *t = utf8_pattern(20000);
  struct bytes in = {0};
  sframe(&in, true, 0, WS_OP_TEXT, t, tlen);
  const size_t hlen = in.len - tlen;
  struct harness h;
  h_init(&h, NULL);
  ck_assert_int_eq(ws_session_recv(h.s, in.p, hlen + 4), 0); /* a b E2 82 */
  static const size_t steps[] = {1, 2, 1, 5, 4093, 7, 65536};
  struct feed f = {steps, sizeof steps / sizeof steps[0], 16, 1, 0, 0, 0};
  ck_assert_int_eq(h_feed(&h, &f, in.p + hlen + 4, tlen - 4), 0);
  ck_assert_uint_eq(f.direct_bytes, tlen - 4); /* all of it went direct */
  char want[64];
  want_msg(want, sizeof want, "text", t, tlen);
  ck_assert_str_eq(h.log, want);
  h_fini(&h);

  /* A truncated character at the end of the message fails on the last
   * direct piece. */
  bytes_free(&in);
  sframe(&in, true, 0, WS_OP_TEXT, t, 9 * 1000 - 1);
  h_init(&h, NULL);
  ck_assert_int_eq(ws_session_recv(h.s, in.p, in.len - 5000), 0);
  size_t len;
  uint8_t *buf = ws_session_direct_buffer(h.s, 1, &len);
  ck_assert_ptr_nonnull(buf);
  ck_assert_uint_eq(len, 5000);
  memcpy(buf, in.p + in.len - 5000, 5000);
  ck_assert_int_eq(ws_session_recv_direct(h.s, 5000), WS_ERR_INVALID_UTF8);
  ck_assert_str_eq(h.log, "error:WS_ERR_INVALID_UTF8|");
  h_fini(&h);
  bytes_free(&in);
  free(t);
}
END_TEST

/* After a text frame header claiming 200000 bytes and 10 valid bytes, the
 * direct pieces `a` (valid so far) and `b` (invalid): b fails at once
 * although most of the frame has not arrived. */
static void direct_bad_utf8(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  struct bytes in = {0};
  shead(&in, true, 0, WS_OP_TEXT, 200000);
  bytes_add(&in, "ab\xe2\x82\xac\xf0\x9d\x84\x9e" "a", 10);
  struct harness h;
  h_init(&h, NULL);
  ck_assert_int_eq(ws_session_recv(h.s, in.p, in.len), 0);
  size_t len;
  uint8_t *buf = ws_session_direct_buffer(h.s, 1, &len);
  ck_assert_ptr_nonnull(buf);
  memcpy(buf, a, alen);
  ck_assert_int_eq(ws_session_recv_direct(h.s, alen), 0);
  buf = ws_session_direct_buffer(h.s, 1, &len);
  ck_assert_ptr_nonnull(buf);
  ck_assert_uint_ge(len, blen);
  memcpy(buf, b, blen);
  ck_assert_int_eq(ws_session_recv_direct(h.s, blen), WS_ERR_INVALID_UTF8);
  ck_assert_str_eq(h.log, "error:WS_ERR_INVALID_UTF8|");
  ck_assert_int_eq(ws_session_state(h.s), WS_SESSION_FAILED);
  ck_assert_int_eq(ws_session_error(h.s), WS_ERR_INVALID_UTF8);
  char out[64] = "";
  h_drain(&h, out, sizeof out, 0);
  ck_assert_str_eq(out, "close:1007:|");
  /* sticky: every later call gives the error, no direct buffer */
  expect_no_direct(&h, 1);
  ck_assert_int_eq(ws_session_recv_direct(h.s, 1), WS_ERR_INVALID_UTF8);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"a", 1), WS_ERR_INVALID_UTF8);
  ck_assert_str_eq(h.log, "error:WS_ERR_INVALID_UTF8|"); /* reported once */
  h_fini(&h);
  bytes_free(&in);
}

START_TEST(test_direct_text_invalid) {
  uint8_t a[1000], b[1000];
  /* 0xFF in the middle of a piece */
  memset(a, 'x', sizeof a);
  memset(b, 'y', sizeof b);
  b[500] = 0xff;
  direct_bad_utf8(a, sizeof a, b, sizeof b);
  /* ED A0 (a UTF-16 surrogate) split between two pieces: ED is a valid
   * prefix, A0 fails */
  a[sizeof a - 1] = 0xed;
  b[0] = 0xa0;
  b[500] = 'y';
  direct_bad_utf8(a, sizeof a, b, sizeof b);
}
END_TEST

START_TEST(test_direct_refused) {
  struct harness h;
  h_init(&h, NULL);
  /* between frames: nothing arrived yet */
  expect_no_direct(&h, 1);
  /* inside a header: byte 0, then half of the 16-bit length */
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x82", 1), 0);
  expect_no_direct(&h, 1);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x7e\x01", 2), 0);
  expect_no_direct(&h, 1);
  /* the header is complete: 300 payload bytes wait (positive control) */
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x2c", 1), 0);
  size_t len = 0;
  ck_assert_ptr_nonnull(ws_session_direct_buffer(h.s, 300, &len));
  ck_assert_uint_eq(len, 300);
  /* remaining < min */
  expect_no_direct(&h, 301);
  expect_no_direct(&h, SIZE_MAX);
  uint8_t *p = bin_pattern(300, 2);
  struct feed f = {(const size_t[]){100}, 1, 1, 1, 0, 0, 0};
  ck_assert_int_eq(h_feed(&h, &f, p, 300), 0);
  char want[512];
  want_msg(want, sizeof want, "bin", p, 300);
  ck_assert_str_eq(h.log, want);
  /* a control frame's payload, also inside a fragmented message (a data
   * message is open there) */
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x89\x05" "a", 3), 0);
  expect_no_direct(&h, 1);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"bcde" "\x02\x04" "frag", 10), 0);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x8a\x05" "a", 3), 0);
  expect_no_direct(&h, 1);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"bcde", 4), 0);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x88\x02", 2), 0); /* close */
  expect_no_direct(&h, 1);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x03", 1), 0);
  expect_no_direct(&h, 1);
  /* The server's close arrived inside the fragmented message: CLOSED,
   * the rest is ignored, never direct. */
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\xe8" "\x80\x7e\x01\x00", 5), 0);
  ck_assert_int_eq(ws_session_state(h.s), WS_SESSION_CLOSED);
  expect_no_direct(&h, 1);
  ck_assert_int_eq(ws_session_recv_direct(h.s, 1), WS_ERR_INVALID_ARGUMENT);
  strcat(want, "ping:abcde|pong:abcde|close:1000:|");
  ck_assert_str_eq(h.log, want);
  h_fini(&h);

  /* Failed with the frame's payload still pending (the decoder is in the
   * payload, the message open): no direct buffer, the error is sticky. */
  h_init(&h, NULL);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x81\x7e\x03\xe8" "ab\xff", 7),
                   WS_ERR_INVALID_UTF8);
  expect_no_direct(&h, 1);
  ck_assert_int_eq(ws_session_recv_direct(h.s, 1), WS_ERR_INVALID_UTF8);
  h_fini(&h);
  /* ... and a binary frame failing at a later header: a continuation
   * that breaks the fragmentation rules */
  h_init(&h, NULL);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x02\x01" "a" "\x82\x7e\x01\x00", 7),
                   WS_ERR_PROTO_FRAGMENT);
  expect_no_direct(&h, 1);
  h_fini(&h);

  /* A compressed message (permessage-deflate, RSV1) goes through the
   * inflater, never direct; an uncompressed one in the same session may.
   * The payload is a raw DEFLATE stored block of 300 'a's (RFC 1951
   * §3.2.4) and the first byte of the empty stored block that a sync flush
   * adds, whose 00 00 ff ff the sender removed (RFC 7692 §7.2.1). */
  h_init(&h, NULL);
  struct ws_pmd_params params = {false, false, 15, 15};
  ck_assert_int_eq(ws_session_enable_pmd(h.s, &params), 0);
  struct bytes in = {0};
  uint8_t z[306] = {0x00, 0x2c, 0x01, 0xd3, 0xfe};
  memset(z + 5, 'a', 300);
  z[305] = 0x00;
  sframe(&in, true, WS_RSV1, WS_OP_BINARY, z, sizeof z);
  ck_assert_int_eq(ws_session_recv(h.s, in.p, 4 + 10), 0);
  expect_no_direct(&h, 1);
  ck_assert_int_eq(ws_session_recv(h.s, in.p + 14, in.len - 14), 0);
  want_msg(want, sizeof want, "bin", z + 5, 300);
  ck_assert_str_eq(h.log, want);
  bytes_free(&in);
  sframe(&in, true, 0, WS_OP_BINARY, p, 300);
  ck_assert_int_eq(ws_session_recv(h.s, in.p, 4), 0);
  ck_assert_ptr_nonnull(ws_session_direct_buffer(h.s, 300, &len));
  ck_assert_uint_eq(len, 300);
  bytes_free(&in);
  h_fini(&h);
  free(p);
}
END_TEST

START_TEST(test_direct_from_callbacks) {
  /* on_message (from recv and from recv_direct) and on_acknowledge may not
   * use direct receive: NULL, and WS_ERR_INVALID_STATE. */
  struct harness h;
  h_init(&h, NULL);
  h.probe = true;
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x82\x03" "abc", 5), 0);
  ck_assert_str_eq(h.log, "bin:abc|probed|");
  /* on_acknowledge runs while a large frame is half received, where direct
   * receive is otherwise possible */
  ck_assert_int_eq(ws_session_send_binary(h.s, (const uint8_t *)"x", 1), 0);
  struct bytes in = {0};
  uint8_t *p = bin_pattern(100000, 3);
  sframe(&in, true, 0, WS_OP_BINARY, p, 100000);
  ck_assert_int_eq(ws_session_recv(h.s, in.p, 10 + 20), 0);
  ck_assert_int_eq(ws_session_consume_output(h.s, ws_session_want_write(h.s)), 0);
  ck_assert_str_eq(h.log, "bin:abc|probed|ack:1|probed|");
  /* outside the callback it is possible, and on_message probes again when
   * recv_direct completes the message */
  size_t len;
  uint8_t *buf = ws_session_direct_buffer(h.s, 1, &len);
  ck_assert_ptr_nonnull(buf);
  ck_assert_uint_eq(len, 100000 - 20);
  memcpy(buf, p + 20, len);
  ck_assert_int_eq(ws_session_recv_direct(h.s, len), 0);
  char want[256], m[64];
  want_msg(m, sizeof m, "bin", p, 100000);
  snprintf(want, sizeof want, "bin:abc|probed|ack:1|probed|%sprobed|", m);
  ck_assert_str_eq(h.log, want);
  bytes_free(&in);
  free(p);
  h_fini(&h);
}
END_TEST

START_TEST(test_direct_recv_bad_n) {
  /* n = 0 and n beyond the returned length: WS_ERR_INVALID_ARGUMENT, and
   * nothing changed (same buffer and length offered again, nothing
   * delivered, still OPEN). Both where the length is the frame's rest
   * (a final frame) and where it is the buffer's room (a non-final frame
   * larger than one step). */
  for (int fin = 1; fin >= 0; fin--) {
    const size_t big = 1 << 20;
    struct harness h;
    h_init(&h, NULL);
    struct bytes in = {0};
    shead(&in, fin, 0, WS_OP_BINARY, big);
    bytes_add(&in, "0123456789", 10);
    ck_assert_int_eq(ws_session_recv(h.s, in.p, in.len), 0);
    size_t len;
    uint8_t *buf = ws_session_direct_buffer(h.s, 1, &len);
    ck_assert_ptr_nonnull(buf);
    if (fin)
      ck_assert_uint_eq(len, big - 10);
    else
      ck_assert_uint_lt(len, big - 10);
    long calls = h.alloc.calls;
    const size_t bad[] = {0, len + 1, big - 10 + 1, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
      ck_assert_int_eq(ws_session_recv_direct(h.s, bad[i]), WS_ERR_INVALID_ARGUMENT);
      size_t len2;
      ck_assert_ptr_eq(ws_session_direct_buffer(h.s, 1, &len2), buf);
      ck_assert_uint_eq(len2, len);
    }
    ck_assert_int_eq(h.alloc.calls, calls);
    ck_assert_str_eq(h.log, "");
    ck_assert_int_eq(ws_session_state(h.s), WS_SESSION_OPEN);
    ck_assert_uint_eq(ws_session_want_write(h.s), 0);
    /* exactly len is accepted */
    memset(buf, 'z', len);
    ck_assert_int_eq(ws_session_recv_direct(h.s, len), 0);
    bytes_free(&in);
    h_fini(&h);
  }
}
END_TEST

START_TEST(test_direct_recv_needs_buffer) {
  /* recv_direct reports bytes read into the buffer direct_buffer *just*
   * returned (1 <= n <= *len): with no such buffer - never asked for, NULL
   * returned, or another call since - any n is out of range
   * (WS_ERR_INVALID_ARGUMENT, nothing done), even where the assembly
   * buffer happens to have room. Otherwise bytes that were never read are
   * taken as payload. The message stays intact. */
  const size_t big = 1 << 20;
  uint8_t *p = bin_pattern(big, 4);
  struct bytes in = {0};
  sframe(&in, true, 0, WS_OP_BINARY, p, big);
  const size_t hlen = in.len - big;
  struct harness h;
  h_init(&h, NULL);
  /* the header and 10 bytes: the whole 1 MiB buffer exists already */
  ck_assert_int_eq(ws_session_recv(h.s, in.p, hlen + 10), 0);
  /* never asked for */
  ck_assert_int_eq(ws_session_recv_direct(h.s, 5), WS_ERR_INVALID_ARGUMENT);
  /* refused (remaining < min) */
  expect_no_direct(&h, big);
  ck_assert_int_eq(ws_session_recv_direct(h.s, 5), WS_ERR_INVALID_ARGUMENT);
  /* offered, but bytes came through recv since */
  size_t len;
  ck_assert_ptr_nonnull(ws_session_direct_buffer(h.s, 1, &len));
  ck_assert_int_eq(ws_session_recv(h.s, in.p + hlen + 10, 10), 0);
  ck_assert_int_eq(ws_session_recv_direct(h.s, 5), WS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(ws_session_recv(h.s, in.p + hlen + 20, in.len - hlen - 20), 0);
  char want[64];
  want_msg(want, sizeof want, "bin", p, big);
  ck_assert_str_eq(h.log, want);
  h_fini(&h);
  bytes_free(&in);
  free(p);
}
END_TEST

START_TEST(test_direct_fragmented) {
  /* Three 300 KiB fragments with a ping between the first two, read as
   * read_open would: headers and a few bytes through recv, the rest
   * direct. One message, intact; the buffer grows with what arrived. */
  const size_t frag = 300 << 10, total = 3 * frag;
  uint8_t *p = bin_pattern(total, 5);
  struct bytes in = {0};
  sframe(&in, false, 0, WS_OP_BINARY, p, frag);
  sframe_str(&in, true, WS_OP_PING, "p");
  sframe(&in, false, 0, WS_OP_CONTINUATION, p + frag, frag);
  sframe(&in, true, 0, WS_OP_CONTINUATION, p + 2 * frag, frag);
  static const size_t steps[] = {65536, 1, 100000, 4093, 300000};
  struct feed f = {steps, sizeof steps / sizeof steps[0], 16, 1, 0, 0, 0};
  struct harness h;
  h_init(&h, NULL);
  ck_assert_int_eq(h_feed(&h, &f, in.p, in.len), 0);
  char want[128];
  want_msg(want, sizeof want, "bin", p, total);
  char want_log[160];
  snprintf(want_log, sizeof want_log, "ping:p|%s", want);
  ck_assert_str_eq(h.log, want_log);
  char out[64] = "";
  h_drain(&h, out, sizeof out, 0);
  ck_assert_str_eq(out, "pong:p|");
  /* mostly direct: at most `small` bytes per frame went through recv */
  ck_assert_uint_ge(f.direct_bytes, total - 4 * 16);
  /* memory followed arrival: never twice the message */
  ck_assert_uint_lt(h.largest, 2 * total);
  h_fini(&h);
  bytes_free(&in);
  free(p);
}
END_TEST

START_TEST(test_direct_huge_claim) {
  /* A frame claiming 1 TiB (a huge limit allows it) with 10 bytes
   * arrived: direct_buffer grows by about one step, never by the claim,
   * and later by about what arrived, for a non-final frame and for a final
   * one beyond PREALLOC_MAX alike. */
  struct ws_session_options opt = {UINT64_C(1) << 41, 0};
  for (int fin = 0; fin <= 1; fin++) {
    struct harness h;
    h_init(&h, &opt);
    struct bytes in = {0};
    shead(&in, fin, 0, WS_OP_BINARY, UINT64_C(1) << 40);
    bytes_add(&in, "0123456789", 10);
    ck_assert_int_eq(ws_session_recv(h.s, in.p, in.len), 0);
    ck_assert_uint_le(h.largest, 4096);
    size_t arrived = 10;
    for (int round = 0; round < 6; round++) {
      size_t len;
      uint8_t *buf = ws_session_direct_buffer(h.s, 1, &len);
      ck_assert_ptr_nonnull(buf);
      ck_assert_uint_gt(len, 0);
      /* one step (doubling may round it up to twice) the first time,
       * then at most about twice what arrived */
      if (round == 0)
        ck_assert_uint_le(h.largest, 2 * DIRECT_STEP);
      ck_assert_uint_le(h.largest, 2 * (arrived + DIRECT_STEP));
      ck_assert_uint_le(arrived + len, h.largest); /* offered only what exists */
      memset(buf, 'x', len);
      ck_assert_int_eq(ws_session_recv_direct(h.s, len), 0);
      arrived += len;
    }
    ck_assert_uint_ge(arrived, 4 * DIRECT_STEP); /* it did grow */
    ck_assert_str_eq(h.log, "");
    bytes_free(&in);
    h_fini(&h);
  }
}
END_TEST

START_TEST(test_prealloc_boundary) {
  /* ws_msg_grow: a final frame of at most 4 MiB gets its whole size at
   * once - through recv (header + 10 bytes) or direct_buffer (header
   * only) alike; a larger one, and a non-final one, grow with what
   * arrives. */
  static const struct {
    bool fin;
    size_t claim;
    bool whole; /* one allocation of the claim */
  } cases[] = {
      {true, PREALLOC_MAX, true},
      {true, PREALLOC_MAX + 1, false},
      {false, PREALLOC_MAX, false},
      {true, 1000, true},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    for (int via_direct = 0; via_direct <= 1; via_direct++) {
      struct harness h;
      h_init(&h, NULL);
      struct bytes in = {0};
      shead(&in, cases[i].fin, 0, WS_OP_BINARY, cases[i].claim);
      if (!via_direct)
        bytes_add(&in, "0123456789", 10);
      ck_assert_int_eq(ws_session_recv(h.s, in.p, in.len), 0);
      size_t len;
      if (via_direct)
        ck_assert_ptr_nonnull(ws_session_direct_buffer(h.s, 1, &len));
      if (cases[i].whole)
        ck_assert_uint_eq(h.largest, cases[i].claim);
      else /* what arrived (recv), or one step (direct) */
        ck_assert_uint_le(h.largest, via_direct ? DIRECT_STEP : 4096);
      ck_assert_int_eq(h.alloc.calls, 2); /* the session, one buffer */
      bytes_free(&in);
      h_fini(&h);
    }
  }
  /* The final fragment of a message within 4 MiB: the whole message at
   * once (what arrived plus the frame's claim). */
  struct harness h;
  h_init(&h, NULL);
  struct bytes in = {0};
  shead(&in, false, 0, WS_OP_BINARY, 100);
  bytes_add(&in, (const uint8_t[100]){0}, 100);
  shead(&in, true, 0, WS_OP_CONTINUATION, 1 << 20);
  ck_assert_int_eq(ws_session_recv(h.s, in.p, in.len), 0);
  size_t len;
  uint8_t *buf = ws_session_direct_buffer(h.s, 1, &len);
  ck_assert_ptr_nonnull(buf);
  ck_assert_uint_eq(len, 1 << 20);
  ck_assert_uint_eq(h.largest, 100 + (1 << 20));
  bytes_free(&in);
  h_fini(&h);
}
END_TEST

START_TEST(test_prealloc_off) {
  /* ws_session_set_prealloc(false): buffers grow only with what arrived,
   * through recv and through direct_buffer alike. A 1 MiB final frame
   * with 10 bytes arrived must not take a 1 MiB buffer at once; direct
   * receive then grows by about one step, as beyond 4 MiB. Turned on
   * again, the next final frame gets its size at once. */
  const size_t big = 1 << 20, big2 = 3 << 20;
  uint8_t *p = bin_pattern(big2, 8);
  for (int via_direct = 0; via_direct <= 1; via_direct++) {
    struct harness h;
    h_init(&h, NULL);
    ws_session_set_prealloc(h.s, false);
    struct bytes in = {0};
    sframe(&in, true, 0, WS_OP_BINARY, p, big);
    const size_t hlen = in.len - big;
    ck_assert_int_eq(ws_session_recv(h.s, in.p, hlen + 10), 0);
    ck_assert_uint_le(h.largest, 4096);
    static const size_t steps[] = {65536};
    struct feed f = {steps, 1, 65536, 1, 0, 0, 0};
    if (via_direct) {
      size_t len;
      ck_assert_ptr_nonnull(ws_session_direct_buffer(h.s, 1, &len));
      ck_assert_uint_le(h.largest, 2 * DIRECT_STEP);
      ck_assert_int_eq(h_feed(&h, &f, in.p + hlen + 10, in.len - hlen - 10), 0);
    } else {
      for (size_t pos = hlen + 10; pos < in.len; pos += 65536) {
        size_t n = in.len - pos < 65536 ? in.len - pos : 65536;
        ck_assert_int_eq(ws_session_recv(h.s, in.p + pos, n), 0);
      }
    }
    char want[64];
    want_msg(want, sizeof want, "bin", p, big);
    ck_assert_str_eq(h.log, want);
    /* on again */
    ws_session_set_prealloc(h.s, true);
    bytes_free(&in);
    sframe(&in, true, 0, WS_OP_BINARY, p, big2);
    long calls = h.alloc.calls;
    ck_assert_int_eq(ws_session_recv(h.s, in.p, in.len - big2 + 10), 0);
    ck_assert_int_eq(h.alloc.calls, calls + 1);
    ck_assert_uint_eq(h.largest, big2);
    bytes_free(&in);
    h_fini(&h);
  }
  free(p);
}
END_TEST

START_TEST(test_direct_size_limit) {
  /* max_message_size is enforced at the header, so the direct path never
   * sees an oversize frame; a message exactly at the limit works. */
  const size_t max = 300000;
  struct ws_session_options opt = {max, 0};
  uint8_t *p = bin_pattern(max + 1, 6);
  static const size_t steps[] = {70000};
  char want[128];
  want_msg(want, sizeof want, "bin", p, max);
  /* exactly the limit, one frame and two fragments */
  for (int frags = 1; frags <= 2; frags++) {
    struct bytes in = {0};
    if (frags == 1) {
      sframe(&in, true, 0, WS_OP_BINARY, p, max);
    } else {
      sframe(&in, false, 0, WS_OP_BINARY, p, 200000);
      sframe(&in, true, 0, WS_OP_CONTINUATION, p + 200000, max - 200000);
    }
    struct feed f = {steps, 1, 16, 1, 0, 0, 0};
    struct harness h;
    h_init(&h, &opt);
    ck_assert_int_eq(h_feed(&h, &f, in.p, in.len), 0);
    ck_assert_str_eq(h.log, want);
    ck_assert_uint_ge(f.direct_bytes, max - 2 * 16);
    h_fini(&h);
    bytes_free(&in);
  }
  /* one byte over: fails at the header, before any buffer */
  for (int frags = 1; frags <= 2; frags++) {
    struct bytes in = {0};
    if (frags == 1) {
      shead(&in, true, 0, WS_OP_BINARY, max + 1);
    } else {
      sframe(&in, false, 0, WS_OP_BINARY, p, 200000);
      shead(&in, true, 0, WS_OP_CONTINUATION, max - 200000 + 1);
    }
    struct feed f = {steps, 1, 16, 1, 0, 0, 0};
    struct harness h;
    h_init(&h, &opt);
    ck_assert_int_eq(h_feed(&h, &f, in.p, in.len), WS_ERR_MESSAGE_TOO_BIG);
    expect_no_direct(&h, 1);
    if (frags == 1)
      ck_assert_int_eq(h.alloc.calls, 1); /* the session only */
    ck_assert_str_eq(h.log, "error:WS_ERR_MESSAGE_TOO_BIG|");
    char out[64] = "";
    h_drain(&h, out, sizeof out, 0);
    ck_assert_str_eq(out, "close:1009:|");
    h_fini(&h);
    bytes_free(&in);
  }
  free(p);
}
END_TEST

START_TEST(test_direct_alloc_failure) {
  /* The buffer cannot grow: direct_buffer returns NULL and changes
   * nothing; the recv that follows meets the same shortage and fails with
   * WS_ERR_NOMEM (1011). Nothing leaks (h_fini). For a final frame (its
   * whole size at once) and a non-final one (grown step by step). */
  for (int fin = 1; fin >= 0; fin--) {
    struct harness h;
    h_init(&h, NULL);
    struct bytes in = {0};
    shead(&in, fin, 0, WS_OP_BINARY, 1 << 20);
    /* the non-final frame already has a small buffer */
    if (!fin)
      bytes_add(&in, "0123456789", 10);
    ck_assert_int_eq(ws_session_recv(h.s, in.p, in.len), 0);
    h.fail_all = true;
    expect_no_direct(&h, 1);
    ck_assert_int_ge(h.alloc.failures, 1);
    ck_assert_int_eq(ws_session_state(h.s), WS_SESSION_OPEN);
    ck_assert_str_eq(h.log, "");
    uint8_t more[1000];
    memset(more, 'm', sizeof more);
    ck_assert_int_eq(ws_session_recv(h.s, more, sizeof more), WS_ERR_NOMEM);
    ck_assert_str_eq(h.log, "error:WS_ERR_NOMEM|");
    ck_assert_int_eq(ws_session_state(h.s), WS_SESSION_FAILED);
    expect_no_direct(&h, 1);
    ck_assert_int_eq(ws_session_recv_direct(h.s, 1), WS_ERR_NOMEM);
    char out[64] = "";
    h_drain(&h, out, sizeof out, 0); /* the close needs no allocation */
    ck_assert_str_eq(out, "close:1011:|");
    ck_assert(ws_session_is_finished(h.s));
    h.fail_all = false;
    bytes_free(&in);
    h_fini(&h);
  }

  /* One failing allocation at each point of a direct-read fragmented
   * message: either the message arrives intact or the session fails with
   * WS_ERR_NOMEM and 1011; never anything else, never a leak. */
  const size_t frag = 300 << 10;
  uint8_t *p = bin_pattern(2 * frag, 7);
  struct bytes in = {0};
  sframe(&in, false, 0, WS_OP_BINARY, p, frag);
  sframe(&in, true, 0, WS_OP_CONTINUATION, p + frag, frag);
  char want[64];
  want_msg(want, sizeof want, "bin", p, 2 * frag);
  static const size_t steps[] = {50000, 200000};
  int failed = 0, completed_after_failure = 0;
  for (long n = 2; n < 12; n++) {
    struct harness h;
    h_init(&h, NULL);
    h.alloc.fail_at = n;
    struct feed f = {steps, 2, 16, 1, 0, 0, 0};
    int rv = h_feed(&h, &f, in.p, in.len);
    if (rv == 0) {
      ck_assert_str_eq(h.log, want);
      completed_after_failure += h.alloc.failures > 0;
    } else {
      ck_assert_int_eq(rv, WS_ERR_NOMEM);
      ck_assert_int_eq(h.alloc.failures, 1);
      ck_assert_str_eq(h.log, "error:WS_ERR_NOMEM|");
      char out[64] = "";
      h_drain(&h, out, sizeof out, 0);
      ck_assert_str_eq(out, "close:1011:|");
      failed++;
    }
    h_fini(&h);
  }
  /* A failure in direct_buffer is survived (recv retries and can succeed);
   * one in recv fails the session. Both happened. */
  ck_assert_int_gt(completed_after_failure, 0);
  ck_assert_int_gt(failed, 0);
  bytes_free(&in);
  free(p);
}
END_TEST

static Suite *session_suite(void) {
  Suite *s = suite_create("ws_session");
  TCase *tc = tcase_create("receive");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_single_frames);
  tcase_add_test(tc, test_length_boundaries);
  tcase_add_test(tc, test_fragmentation_and_interleaving);
  tcase_add_test(tc, test_ping_payloads);
  tcase_add_test(tc, test_memory_follows_arrival);
  suite_add_tcase(s, tc);
  tc = tcase_create("violations");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_violation_fragmentation_rules);
  tcase_add_test(tc, test_violation_frame_level);
  tcase_add_test(tc, test_violation_utf8);
  tcase_add_test(tc, test_message_size_limit);
  tcase_add_test(tc, test_rsv1_hooks);
  suite_add_tcase(s, tc);
  tc = tcase_create("close");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_server_close);
  tcase_add_test(tc, test_server_close_violations);
  tcase_add_test(tc, test_client_close);
  tcase_add_test(tc, test_echo_close_drops_queued_data);
  tcase_add_test(tc, test_failure_after_client_close);
  suite_add_tcase(s, tc);
  tc = tcase_create("send");
  tcase_add_test(tc, test_send_and_coalesce);
  tcase_add_test(tc, test_pong_priority);
  tcase_add_test(tc, test_pong_priority_wire_order);
  tcase_add_test(tc, test_mask_keys_and_rand_failure);
  tcase_add_test(tc, test_echo_from_callback);
  tcase_add_test(tc, test_take_message_buffer);
  tcase_add_test(tc, test_output_queue_random);
  suite_add_tcase(s, tc);
  tc = tcase_create("direct");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_direct_binary);
  tcase_add_test(tc, test_direct_text_utf8);
  tcase_add_test(tc, test_direct_text_invalid);
  tcase_add_test(tc, test_direct_refused);
  tcase_add_test(tc, test_direct_from_callbacks);
  tcase_add_test(tc, test_direct_recv_bad_n);
  tcase_add_test(tc, test_direct_recv_needs_buffer);
  tcase_add_test(tc, test_direct_fragmented);
  tcase_add_test(tc, test_direct_huge_claim);
  tcase_add_test(tc, test_prealloc_boundary);
  tcase_add_test(tc, test_prealloc_off);
  tcase_add_test(tc, test_direct_size_limit);
  tcase_add_test(tc, test_direct_alloc_failure);
  suite_add_tcase(s, tc);
  tc = tcase_create("oom");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_oom_every_allocation);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(session_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
