/*
 * test_ws_deflate.c — permessage-deflate (RFC 7692): negotiation of every
 * valid and invalid response (directly and through the handshake), and the
 * session compressing and decompressing against zlib used directly as the
 * server: context takeover on and off, window sizes 8..15 both ways,
 * fragmented, empty and BFINAL messages, RSV1 rules, corrupt data, UTF-8
 * fail-fast on inflated text, the decompression bomb with bounded memory
 * (bytes counted through the ws_mem allocator), acknowledgement sizes, the
 * per-connection memory figures, and allocation failure on every path.
 *
 * The "server" decodes our frames with a raw inflater of exactly the
 * agreed window, producing one byte per call: zlib then has to take every
 * back-reference from its window, so a distance beyond the window is an
 * error ("invalid distance too far back") instead of being served from the
 * output buffer.
 */
#include <check.h>
#include <nss.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "websocket/ws_deflate.h"
#include "websocket/ws_handshake.h"
#include "websocket/ws_session.h"

/* ---- byte-counting allocator -------------------------------------------- */

/* Counts live bytes and their peak; fail_at > 0 fails that allocation call
 * (malloc or realloc, counted from 1). */
struct balloc {
  size_t live, peak;
  long nlive, calls, fail_at, failures;
};

#define BA_HDR 16

static void ba_account(struct balloc *a, size_t add, size_t sub) {
  a->live = a->live + add - sub;
  if (a->live > a->peak)
    a->peak = a->live;
}

static void *ba_malloc(size_t n, void *ud) {
  struct balloc *a = ud;
  if (++a->calls == a->fail_at) {
    a->failures++;
    return NULL;
  }
  unsigned char *p = malloc(BA_HDR + n);
  if (!p)
    return NULL;
  memcpy(p, &n, sizeof n);
  a->nlive++;
  ba_account(a, n, 0);
  return p + BA_HDR;
}

static void *ba_realloc(void *ptr, size_t n, void *ud) {
  struct balloc *a = ud;
  if (++a->calls == a->fail_at) {
    a->failures++;
    return NULL;
  }
  unsigned char *base = (unsigned char *)ptr - BA_HDR;
  size_t old;
  memcpy(&old, base, sizeof old);
  unsigned char *p = realloc(base, BA_HDR + n);
  if (!p)
    return NULL;
  memcpy(p, &n, sizeof n);
  ba_account(a, n, old);
  return p + BA_HDR;
}

static void ba_free(void *ptr, void *ud) {
  struct balloc *a = ud;
  if (!ptr)
    return;
  unsigned char *base = (unsigned char *)ptr - BA_HDR;
  size_t old;
  memcpy(&old, base, sizeof old);
  a->nlive--;
  ba_account(a, 0, old);
  free(base);
}

/* ---- byte strings and test data ------------------------------------------ */

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
    ck_assert_ptr_nonnull(b->p);
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

/* Deterministic pseudo-random bytes (xorshift); `text` keeps them ASCII. */
static void fill_random(uint8_t *p, size_t n, uint32_t seed, bool text) {
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = text ? (uint8_t)('a' + x % 26) : (uint8_t)(x >> 8);
  }
}

/* A server frame (unmasked), any header bits, 16/64-bit lengths. */
static void sframe_hdr(struct bytes *b, bool fin, unsigned rsv, unsigned op, uint64_t len) {
  uint8_t h[10];
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

static void sframe(struct bytes *b, bool fin, unsigned rsv, unsigned op, const void *p,
                   size_t len) {
  sframe_hdr(b, fin, rsv, op, len);
  bytes_add(b, p, len);
}

/* ---- the zlib peer ---------------------------------------------------- */

/* The server's compressor: raw deflate, `bits` 9..15. */
static void zdef_init(z_stream *z, int bits, int strategy) {
  memset(z, 0, sizeof *z);
  ck_assert_int_eq(deflateInit2(z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -bits, 8, strategy), Z_OK);
}

/* Compresses one message with Z_SYNC_FLUSH (or Z_FINISH: a BFINAL block)
 * and appends the payload; strips 00 00 ff ff after a sync flush. */
static void zdef_msg(z_stream *z, const void *msg, size_t len, int flush, struct bytes *out) {
  size_t start = out->len;
  z->next_in = (Bytef *)(uintptr_t)msg;
  z->avail_in = (uInt)len;
  for (;;) {
    uint8_t buf[16384];
    z->next_out = buf;
    z->avail_out = sizeof buf;
    int zr = deflate(z, flush);
    ck_assert(zr == Z_OK || zr == Z_STREAM_END || zr == Z_BUF_ERROR);
    bytes_add(out, buf, sizeof buf - z->avail_out);
    if (z->avail_out > 0 && z->avail_in == 0)
      break;
  }
  if (flush == Z_SYNC_FLUSH && out->len > start) {
    ck_assert_uint_ge(out->len - start, 4);
    ck_assert(memcmp(out->p + out->len - 4, "\x00\x00\xff\xff", 4) == 0);
    out->len -= 4;
  }
}

/* One-shot: a fresh compressor of `bits` for one message. */
static void zdef_once(int bits, int strategy, const void *msg, size_t len, struct bytes *out) {
  z_stream z;
  zdef_init(&z, bits, strategy);
  zdef_msg(&z, msg, len, Z_SYNC_FLUSH, out);
  deflateEnd(&z);
}

static void zinf_init(z_stream *z, int bits) {
  memset(z, 0, sizeof *z);
  ck_assert_int_eq(inflateInit2(z, -bits), Z_OK);
}

/* Inflates one message (payload + the 00 00 ff ff tail) one output byte at
 * a time (see the file comment) for its first 256 KiB, then 64 KiB at a
 * time to keep big messages fast. Returns false on a zlib error or when the
 * data does not end on a block boundary. */
static bool zinf_msg(z_stream *z, const uint8_t *payload, size_t len, struct bytes *out) {
  static const uint8_t tail[4] = {0, 0, 0xff, 0xff};
  static uint8_t buf[65536];
  size_t start = out->len;
  for (int part = 0; part < 2; part++) {
    z->next_in = (Bytef *)(uintptr_t)(part ? tail : payload);
    z->avail_in = (uInt)(part ? 4 : len);
    for (;;) {
      uInt room = out->len - start < (256u << 10) ? 1 : sizeof buf;
      z->next_out = buf;
      z->avail_out = room;
      int zr = inflate(z, Z_SYNC_FLUSH);
      if (zr != Z_OK && zr != Z_BUF_ERROR)
        return false;
      bytes_add(out, buf, room - z->avail_out);
      if (z->avail_out == 0)
        continue;
      if (z->avail_in == 0)
        break;
      return false;
    }
  }
  return (z->data_type & 128) != 0;
}

/* ---- the session harness ---------------------------------------------- */

struct harness {
  struct ws_session *s;
  struct balloc a;
  struct ws_mem mem;
  char log[8192];
  size_t loglen;
  unsigned rand_counter;
  struct bytes last; /* the last message received */
  int nmsgs;
};

static void logf_(struct harness *h, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(h->log + h->loglen, sizeof h->log - h->loglen, fmt, ap);
  va_end(ap);
  ck_assert(n >= 0 && (size_t)n < sizeof h->log - h->loglen);
  h->loglen += (size_t)n;
}

static uint32_t fnv(const uint8_t *p, size_t len) {
  uint32_t x = 2166136261u;
  for (size_t i = 0; i < len; i++)
    x = (x ^ p[i]) * 16777619u;
  return x;
}

/* Short printable payloads verbatim, others as <len:hash>. */
static void fmt_payload(char *out, size_t outsz, const uint8_t *p, size_t len) {
  bool printable = len <= 40;
  for (size_t i = 0; i < len && printable; i++)
    printable = p[i] >= 0x20 && p[i] < 0x7f && p[i] != '|';
  if (printable)
    snprintf(out, outsz, "%.*s", (int)len, (const char *)p);
  else
    snprintf(out, outsz, "<%zu:%08x>", len, fnv(p, len));
}

static int h_rand(void *ud, uint8_t *buf, size_t len) {
  struct harness *h = ud;
  for (size_t i = 0; i < len; i++)
    buf[i] = (uint8_t)(0x5a ^ (h->rand_counter++ * 37));
  return 0;
}

static void h_message(void *ud, enum ws_message_type type, const uint8_t *data, size_t len) {
  struct harness *h = ud;
  char p[64];
  fmt_payload(p, sizeof p, data, len);
  logf_(h, "%s:%s|", type == WS_MESSAGE_TEXT ? "text" : "bin", p);
  h->last.len = 0;
  bytes_add(&h->last, data, len);
  h->nmsgs++;
}

static void h_ping(void *ud, const uint8_t *data, size_t len) {
  struct harness *h = ud;
  logf_(h, "ping:%.*s|", (int)len, (const char *)data);
}

static void h_close(void *ud, uint16_t code, const uint8_t *reason, size_t len) {
  struct harness *h = ud;
  logf_(h, "close:%u|", code);
}

static void h_error(void *ud, int err) {
  struct harness *h = ud;
  logf_(h, "error:%s|", ws_error_name(err));
}

static void h_ack(void *ud, uint64_t size) {
  struct harness *h = ud;
  logf_(h, "ack:%llu|", (unsigned long long)size);
}

static const struct ws_session_callbacks h_callbacks = {h_rand,  h_message, h_ping, NULL,
                                                        h_close, h_error,   h_ack};

static const struct ws_pmd_params P_DEFAULT = {false, false, 15, 15};

static void h_init_opt(struct harness *h, const struct ws_pmd_params *pmd, uint64_t max_message) {
  memset(h, 0, sizeof *h);
  h->mem = (struct ws_mem){ba_malloc, ba_realloc, ba_free, &h->a};
  struct ws_session_options opt = {max_message, 0};
  ck_assert_int_eq(ws_session_new(&h->s, &h_callbacks, &opt, &h->mem, h), 0);
  if (pmd)
    ck_assert_int_eq(ws_session_enable_pmd(h->s, pmd), 0);
}

static void h_init(struct harness *h, const struct ws_pmd_params *pmd) { h_init_opt(h, pmd, 0); }

static void h_fini(struct harness *h) {
  ws_session_del(h->s);
  h->s = NULL;
  bytes_free(&h->last);
  ck_assert_int_eq(h->a.nlive, 0);
  ck_assert_uint_eq(h->a.live, 0);
}

/* A frame the client sent, unmasked. */
struct wire_msg {
  unsigned op;
  bool rsv1;
  struct bytes payload;
};

#define MAX_WIRE 64

/* Writes up to n bytes of output "to the socket" (appends them to wire). */
static void h_write(struct harness *h, struct bytes *wire, size_t n) {
  struct ws_iovec iov[4];
  size_t cnt = ws_session_peek_output(h->s, iov, 4);
  size_t left = n;
  for (size_t i = 0; i < cnt && left; i++) {
    size_t k = iov[i].len < left ? iov[i].len : left;
    bytes_add(wire, iov[i].base, k);
    left -= k;
  }
  ck_assert_int_eq(ws_session_consume_output(h->s, n - left), 0);
}

/* Takes all pending output (in `step`-byte writes when non-zero) after what
 * `pre` already holds and splits it into frames; returns how many. Every
 * frame must be FIN and masked. */
static int h_drain_pre(struct harness *h, struct wire_msg *out, size_t step,
                       const struct bytes *pre) {
  struct bytes wire = {0};
  if (pre)
    bytes_add(&wire, pre->p, pre->len);
  while (ws_session_want_write(h->s)) {
    struct ws_iovec iov[4];
    size_t n = ws_session_peek_output(h->s, iov, 4), total = 0;
    for (size_t i = 0; i < n; i++) {
      bytes_add(&wire, iov[i].base, iov[i].len);
      total += iov[i].len;
    }
    size_t take = step && step < total ? step : total;
    wire.len -= total - take;
    ck_assert_int_eq(ws_session_consume_output(h->s, take), 0);
  }
  struct ws_frame_decoder d;
  ws_frame_decoder_init(&d, WS_FRAME_SERVER, WS_RSV1);
  size_t pos = 0;
  int nf = 0;
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
      ck_assert_int_lt(nf, MAX_WIRE);
      memset(&out[nf], 0, sizeof out[nf]);
      out[nf].op = d.hdr.opcode;
      out[nf].rsv1 = (d.hdr.rsv & WS_RSV1) != 0;
      nf++;
    }
    struct bytes *pl = &out[nf - 1].payload;
    size_t at = pl->len;
    bytes_add(pl, ch.data, ch.len);
    ws_frame_mask(pl->p + at, pl->p + at, ch.len, d.hdr.mask_key, ch.offset);
  }
  ck_assert_uint_eq(pos, wire.len);
  bytes_free(&wire);
  return nf;
}

static int h_drain(struct harness *h, struct wire_msg *out, size_t step) {
  return h_drain_pre(h, out, step, NULL);
}

static void wire_free(struct wire_msg *w, int n) {
  for (int i = 0; i < n; i++)
    bytes_free(&w[i].payload);
}

/* Feeds `in` to a fresh session: whole, split at every position (or a
 * sample of them for big inputs) and byte by byte; each run must give the
 * same events, recv result and output frames ("op[z]:len|"). */
struct script {
  const struct bytes *in;
  struct ws_pmd_params pmd;
  uint64_t max_message;
  const char *events;
  int error;
  const char *output; /* NULL: not checked */
};

static void run_one(const struct script *sc, size_t cut, size_t step) {
  struct harness h;
  h_init_opt(&h, &sc->pmd, sc->max_message);
  size_t len = sc->in->len, pos = 0;
  int rv = 0;
  while (pos < len) {
    size_t end = len;
    if (cut && pos < cut)
      end = cut;
    if (step && end - pos > step)
      end = pos + step;
    int r = ws_session_recv(h.s, sc->in->p + pos, end - pos);
    if (r != 0 && rv == 0)
      rv = r;
    pos = end;
  }
  ck_assert_msg(strcmp(h.log, sc->events) == 0, "cut %zu step %zu events:\n got  %s\n want %s",
                cut, step, h.log, sc->events);
  ck_assert_msg(rv == sc->error, "cut %zu step %zu: recv %s, want %s", cut, step,
                ws_error_name(rv), ws_error_name(sc->error));
  struct wire_msg w[MAX_WIRE];
  int n = h_drain(&h, w, 0);
  if (sc->output) {
    char out[512] = "";
    size_t ol = 0;
    for (int i = 0; i < n; i++) {
      if (w[i].op == WS_OP_CLOSE && w[i].payload.len >= 2)
        ol += (size_t)snprintf(out + ol, sizeof out - ol, "close:%u|",
                               w[i].payload.p[0] << 8 | w[i].payload.p[1]);
      else
        ol += (size_t)snprintf(out + ol, sizeof out - ol, "%u%s:%zu|", w[i].op,
                               w[i].rsv1 ? "z" : "", w[i].payload.len);
    }
    ck_assert_msg(strcmp(out, sc->output) == 0, "output: got %s want %s", out, sc->output);
  }
  wire_free(w, n);
  h_fini(&h);
}

static void run_script(const struct script *sc) {
  size_t len = sc->in->len;
  run_one(sc, 0, 0);
  if (len <= 400) {
    for (size_t cut = 1; cut < len; cut++)
      run_one(sc, cut, 0);
    run_one(sc, 0, 1);
  } else {
    for (size_t cut = 1; cut < 12; cut++) {
      run_one(sc, cut, 0);
      run_one(sc, len - cut, 0);
    }
    run_one(sc, 0, 7);
    run_one(sc, 0, 1000);
  }
}

static void expect_events(const struct bytes *in, const struct ws_pmd_params *pmd,
                          const char *events, int error) {
  char out[64];
  snprintf(out, sizeof out, "close:%u|", ws_error_close_code(error));
  struct script sc = {in, *pmd, 0, events, error, error ? out : ""};
  run_script(&sc);
}

/* ---- negotiation -------------------------------------------------------- */

static int negotiate(const char *offer, const char *response, struct ws_pmd_params *out) {
  struct ws_extension_list *o = NULL, *r = NULL;
  ck_assert_int_eq(ws_extensions_parse(offer, strlen(offer), NULL, &o), 0);
  ck_assert_int_eq(ws_extensions_parse(response, strlen(response), NULL, &r), 0);
  ck_assert_uint_eq(r->count, 1);
  memset(out, 0xAA, sizeof *out);
  int rv = ws_pmd_negotiate(o, &r->items[0], out);
  ws_extensions_free(o, NULL);
  ws_extensions_free(r, NULL);
  return rv;
}

static void expect_ok(const char *offer, const char *resp, bool snct, bool cnct, int sbits,
                      int cbits) {
  struct ws_pmd_params p;
  int rv = negotiate(offer, resp, &p);
  ck_assert_msg(rv == 0, "offer [%s] response [%s]: %s", offer, resp, ws_error_name(rv));
  ck_assert_msg(p.server_no_context_takeover == snct && p.client_no_context_takeover == cnct &&
                    p.server_max_window_bits == sbits && p.client_max_window_bits == cbits,
                "offer [%s] response [%s]: got %d %d %d %d", offer, resp,
                p.server_no_context_takeover, p.client_no_context_takeover,
                p.server_max_window_bits, p.client_max_window_bits);
}

static void expect_bad(const char *offer, const char *resp) {
  struct ws_pmd_params p;
  int rv = negotiate(offer, resp, &p);
  ck_assert_msg(rv == WS_ERR_HANDSHAKE_PMD, "offer [%s] response [%s]: %s", offer, resp,
                ws_error_name(rv));
}

START_TEST(test_offer_string) {
  ck_assert_str_eq(ws_pmd_offer(), "permessage-deflate; client_max_window_bits");
  ck_assert_str_eq(WS_PMD_OFFER, ws_pmd_offer());
}
END_TEST

START_TEST(test_negotiate_valid) {
  const char *o = WS_PMD_OFFER;
  expect_ok(o, "permessage-deflate", false, false, 15, 15);
  expect_ok(o, "permessage-deflate; server_no_context_takeover", true, false, 15, 15);
  expect_ok(o, "permessage-deflate; client_no_context_takeover", false, true, 15, 15);
  expect_ok(o, "permessage-deflate;server_no_context_takeover;client_no_context_takeover", true,
            true, 15, 15);
  char r[200];
  for (int b = 8; b <= 15; b++) {
    snprintf(r, sizeof r, "permessage-deflate; server_max_window_bits=%d", b);
    expect_ok(o, r, false, false, b, 15);
    snprintf(r, sizeof r, "permessage-deflate; client_max_window_bits=%d", b);
    expect_ok(o, r, false, false, 15, b);
    /* §9.1: a quoted-string holding the same token is the same value */
    snprintf(r, sizeof r, "permessage-deflate; client_max_window_bits=\"%d\"", b);
    expect_ok(o, r, false, false, 15, b);
    snprintf(r, sizeof r, "permessage-deflate; server_max_window_bits=\"%d\"", b);
    expect_ok(o, r, false, false, b, 15);
  }
  /* every combination of the four parameters, in any order */
  for (int mask = 0; mask < 16; mask++) {
    const char *parts[4] = {"server_no_context_takeover", "client_no_context_takeover",
                            "server_max_window_bits=10", "client_max_window_bits=9"};
    for (int rot = 0; rot < 4; rot++) {
      size_t n = (size_t)snprintf(r, sizeof r, "permessage-deflate");
      for (int k = 0; k < 4; k++) {
        int i = (k + rot) % 4;
        if (mask & (1 << i))
          n += (size_t)snprintf(r + n, sizeof r - n, " ; %s", parts[i]);
      }
      expect_ok(o, r, mask & 1, (mask & 2) != 0, mask & 4 ? 10 : 15, mask & 8 ? 9 : 15);
    }
  }
  expect_ok(o, "permessage-deflate ;\tserver_max_window_bits = 12 ", false, false, 12, 15);
  expect_ok(o, "permessage-deflate; server_max_window_bits=\"1\\2\"", false, false, 12, 15);
}
END_TEST

START_TEST(test_negotiate_invalid) {
  const char *o = WS_PMD_OFFER;
  static const char *const bad[] = {
      /* unknown parameters */
      "permessage-deflate; x",
      "permessage-deflate; x=1",
      "permessage-deflate; Server_No_Context_Takeover",
      "permessage-deflate; server_max_window_bits=10; mystery",
      /* repeated */
      "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
      "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
      "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
      "permessage-deflate; client_max_window_bits=10; client_max_window_bits=11",
      /* a value where none is allowed */
      "permessage-deflate; server_no_context_takeover=1",
      "permessage-deflate; client_no_context_takeover=\"x\"",
      /* missing or bad window values */
      "permessage-deflate; server_max_window_bits",
      "permessage-deflate; client_max_window_bits", /* the response needs a value */
      "permessage-deflate; server_max_window_bits=7",
      "permessage-deflate; server_max_window_bits=16",
      "permessage-deflate; server_max_window_bits=0",
      "permessage-deflate; server_max_window_bits=08",
      "permessage-deflate; server_max_window_bits=010",
      "permessage-deflate; server_max_window_bits=\"08\"",
      "permessage-deflate; server_max_window_bits=+9",
      "permessage-deflate; server_max_window_bits=9a",
      "permessage-deflate; server_max_window_bits=1e1",
      "permessage-deflate; server_max_window_bits=015",
      "permessage-deflate; client_max_window_bits=7",
      "permessage-deflate; client_max_window_bits=16",
      "permessage-deflate; client_max_window_bits=09",
      "permessage-deflate; client_max_window_bits=255",
      "permessage-deflate; client_max_window_bits=-8",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    expect_bad(o, bad[i]);
  /* client_max_window_bits only if offered (§7.1.2.2) */
  expect_bad("permessage-deflate", "permessage-deflate; client_max_window_bits=10");
  expect_ok("permessage-deflate", "permessage-deflate; server_max_window_bits=10", false, false,
            10, 15);
  /* not a permessage-deflate element; nothing offered */
  struct ws_pmd_params p;
  struct ws_extension_list *r = NULL;
  ck_assert_int_eq(ws_extensions_parse("x-foo", 5, NULL, &r), 0);
  ck_assert_int_eq(ws_pmd_negotiate(NULL, &r->items[0], &p), WS_ERR_INVALID_ARGUMENT);
  ws_extensions_free(r, NULL);
  ck_assert_int_eq(ws_extensions_parse("permessage-deflate", 18, NULL, &r), 0);
  ck_assert_int_eq(ws_pmd_negotiate(NULL, &r->items[0], &p), WS_ERR_HANDSHAKE_PMD);
  ws_extensions_free(r, NULL);
  expect_bad("x-foo", "permessage-deflate");
}
END_TEST

START_TEST(test_negotiate_other_offers) {
  /* An offered server_no_context_takeover must be accepted as such. */
  const char *o = "permessage-deflate; server_no_context_takeover";
  expect_bad(o, "permessage-deflate");
  expect_ok(o, "permessage-deflate; server_no_context_takeover", true, false, 15, 15);
  /* An offered server_max_window_bits=N needs a value <= N back. */
  o = "permessage-deflate; server_max_window_bits=10";
  expect_bad(o, "permessage-deflate");
  expect_bad(o, "permessage-deflate; server_max_window_bits=11");
  expect_ok(o, "permessage-deflate; server_max_window_bits=10", false, false, 10, 15);
  expect_ok(o, "permessage-deflate; server_max_window_bits=8", false, false, 8, 15);
  /* A client_max_window_bits hint is a promise we keep. */
  o = "permessage-deflate; client_max_window_bits=10";
  expect_ok(o, "permessage-deflate", false, false, 15, 10);
  expect_ok(o, "permessage-deflate; client_max_window_bits=12", false, false, 15, 10);
  expect_ok(o, "permessage-deflate; client_max_window_bits=9", false, false, 15, 9);
  /* Several offers are alternatives (RFC 7692 §5); invalid offers never
   * match. */
  o = "permessage-deflate; server_no_context_takeover; server_max_window_bits=9, "
      "permessage-deflate; bogus, permessage-deflate";
  expect_ok(o, "permessage-deflate", false, false, 15, 15);
  expect_ok(o, "permessage-deflate; server_no_context_takeover; server_max_window_bits=9", true,
            false, 9, 15);
  expect_bad(o, "permessage-deflate; client_max_window_bits=9");
  expect_bad("permessage-deflate; bogus", "permessage-deflate");
}
END_TEST

/* ---- through the handshake --------------------------------------------- */

#define SAMPLE_KEY "the sample nonce"
#define SAMPLE_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define RESP_HEAD                                                                             \
  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"       \
  "Sec-WebSocket-Accept: " SAMPLE_ACCEPT "\r\n"

static void nss_setup(void) { ck_assert_int_eq(NSS_NoDB_Init(NULL), SECSuccess); }
static void nss_teardown(void) { NSS_Shutdown(); }

/* Runs a handshake offering `offer` and answering `ext_lines` (complete
 * header lines); returns recv's result, fills *p and the extensions value. */
static int hs_run(const char *offer, const char *ext_lines, struct ws_pmd_params *p,
                  bool *agreed, char *ext, size_t extsz) {
  struct ws_handshake_config c = {0};
  c.host = "example.com";
  c.extensions = offer;
  memcpy(c.key, SAMPLE_KEY, 16);
  struct ws_handshake *hs = NULL;
  ck_assert_int_eq(ws_handshake_new(&hs, &c, NULL), 0);
  const uint8_t *req;
  size_t reqlen;
  ws_handshake_request(hs, &req, &reqlen);
  if (offer && *offer) {
    char want[256];
    snprintf(want, sizeof want, "\r\nSec-WebSocket-Extensions: %s\r\n", offer);
    ck_assert_ptr_nonnull(memmem(req, reqlen, want, strlen(want)));
  }
  char resp[1024];
  snprintf(resp, sizeof resp, RESP_HEAD "%s\r\n", ext_lines);
  size_t used;
  int rv = ws_handshake_recv(hs, (const uint8_t *)resp, strlen(resp), &used);
  *agreed = ws_handshake_pmd(hs, p);
  snprintf(ext, extsz, "%s", ws_handshake_extensions(hs));
  ws_handshake_del(hs);
  return rv;
}

START_TEST(test_handshake_pmd) {
  struct ws_pmd_params p;
  bool agreed;
  char ext[256];
  /* accepted with parameters: the value is kept exactly as sent */
  ck_assert_int_eq(hs_run(WS_PMD_OFFER,
                          "Sec-WebSocket-Extensions: permessage-deflate; "
                          "client_max_window_bits=\"10\";server_no_context_takeover\r\n",
                          &p, &agreed, ext, sizeof ext),
                   1);
  ck_assert(agreed);
  ck_assert_str_eq(ext, "permessage-deflate; client_max_window_bits=\"10\";server_no_context_takeover");
  ck_assert(p.server_no_context_takeover && !p.client_no_context_takeover);
  ck_assert_int_eq(p.server_max_window_bits, 15);
  ck_assert_int_eq(p.client_max_window_bits, 10);
  /* not accepted: runs uncompressed */
  ck_assert_int_eq(hs_run(WS_PMD_OFFER, "", &p, &agreed, ext, sizeof ext), 1);
  ck_assert(!agreed);
  ck_assert_str_eq(ext, "");
  /* invalid parameters: the distinct error */
  ck_assert_int_eq(hs_run(WS_PMD_OFFER,
                          "Sec-WebSocket-Extensions: permessage-deflate; "
                          "server_max_window_bits=08\r\n",
                          &p, &agreed, ext, sizeof ext),
                   WS_ERR_HANDSHAKE_PMD);
  ck_assert(!agreed);
  ck_assert_int_eq(hs_run(WS_PMD_OFFER,
                          "Sec-WebSocket-Extensions: permessage-deflate; foo\r\n", &p, &agreed,
                          ext, sizeof ext),
                   WS_ERR_HANDSHAKE_PMD);
  /* twice (also across header fields), not offered, unknown extension */
  ck_assert_int_eq(hs_run(WS_PMD_OFFER,
                          "Sec-WebSocket-Extensions: permessage-deflate\r\n"
                          "Sec-WebSocket-Extensions: permessage-deflate\r\n",
                          &p, &agreed, ext, sizeof ext),
                   WS_ERR_HANDSHAKE_EXTENSION);
  ck_assert_int_eq(hs_run(WS_PMD_OFFER,
                          "Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate; "
                          "server_no_context_takeover\r\n",
                          &p, &agreed, ext, sizeof ext),
                   WS_ERR_HANDSHAKE_EXTENSION);
  ck_assert_int_eq(hs_run(NULL, "Sec-WebSocket-Extensions: permessage-deflate\r\n", &p, &agreed,
                          ext, sizeof ext),
                   WS_ERR_HANDSHAKE_EXTENSION);
  ck_assert_int_eq(hs_run(WS_PMD_OFFER, "Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n",
                          &p, &agreed, ext, sizeof ext),
                   WS_ERR_HANDSHAKE_EXTENSION);
  /* the error codes the connection maps (ws_error.h) */
  ck_assert_int_eq(ws_error_close_code(WS_ERR_HANDSHAKE_PMD), 0);
  ck_assert_str_eq(ws_error_name(WS_ERR_HANDSHAKE_PMD), "WS_ERR_HANDSHAKE_PMD");
  ck_assert_int_eq(ws_error_close_code(WS_ERR_INVALID_DEFLATE), 1007);
  ck_assert_str_eq(ws_error_name(WS_ERR_INVALID_DEFLATE), "WS_ERR_INVALID_DEFLATE");
}
END_TEST

/* ---- session: enabling -------------------------------------------------- */

START_TEST(test_enable_rules) {
  struct harness h;
  h_init(&h, NULL);
  struct ws_pmd_params bad = {false, false, 7, 15};
  ck_assert_int_eq(ws_session_enable_pmd(h.s, &bad), WS_ERR_INVALID_ARGUMENT);
  bad = (struct ws_pmd_params){false, false, 15, 16};
  ck_assert_int_eq(ws_session_enable_pmd(h.s, &bad), WS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(ws_session_enable_pmd(h.s, NULL), WS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(ws_session_enable_pmd(h.s, &P_DEFAULT), 0);
  ck_assert_int_eq(ws_session_enable_pmd(h.s, &P_DEFAULT), WS_ERR_INVALID_STATE);
  h_fini(&h);
  /* too late once data flowed either way */
  h_init(&h, NULL);
  ck_assert_int_eq(ws_session_send_text(h.s, (const uint8_t *)"x", 1), 0);
  ck_assert_int_eq(ws_session_enable_pmd(h.s, &P_DEFAULT), WS_ERR_INVALID_STATE);
  h_fini(&h);
  h_init(&h, NULL);
  ck_assert_int_eq(ws_session_recv(h.s, (const uint8_t *)"\x81\x01x", 3), 0);
  ck_assert_int_eq(ws_session_enable_pmd(h.s, &P_DEFAULT), WS_ERR_INVALID_STATE);
  h_fini(&h);
  /* out of memory: nothing changed, can retry */
  h_init(&h, NULL);
  h.a.fail_at = h.a.calls + 1;
  ck_assert_int_eq(ws_session_enable_pmd(h.s, &P_DEFAULT), WS_ERR_NOMEM);
  ck_assert_int_eq(ws_session_enable_pmd(h.s, &P_DEFAULT), 0);
  h_fini(&h);
}
END_TEST

/* ---- session: receiving --------------------------------------------------- */

START_TEST(test_recv_basic) {
  struct bytes in = {0}, z = {0};
  zdef_once(15, Z_DEFAULT_STRATEGY, "Hello", 5, &z);
  sframe(&in, true, WS_RSV1, WS_OP_TEXT, z.p, z.len);
  bytes_free(&z);
  zdef_once(15, Z_DEFAULT_STRATEGY, "\x00\x01\x02\x00\x01\x02", 6, &z);
  sframe(&in, true, WS_RSV1, WS_OP_BINARY, z.p, z.len);
  /* uncompressed messages still pass */
  sframe(&in, true, 0, WS_OP_TEXT, "plain", 5);
  char ev[256], p[64];
  fmt_payload(p, sizeof p, (const uint8_t *)"\x00\x01\x02\x00\x01\x02", 6);
  snprintf(ev, sizeof ev, "text:Hello|bin:%s|text:plain|", p);
  expect_events(&in, &P_DEFAULT, ev, 0);
  bytes_free(&z);
  bytes_free(&in);
  /* RFC 7692 §7.2.3.1's example: "Hello" as f2 48 cd c9 c9 07 00 */
  sframe(&in, true, WS_RSV1, WS_OP_TEXT, "\xf2\x48\xcd\xc9\xc9\x07\x00", 7);
  /* §7.2.3.2: the same with the shared window, 2nd message f2 00 11 00 00 */
  sframe(&in, true, WS_RSV1, WS_OP_TEXT, "\xf2\x00\x11\x00\x00", 5);
  /* §7.2.3.3: no compression (a stored block) */
  sframe(&in, true, WS_RSV1, WS_OP_TEXT, "\x00\x05\x00\xfa\xffHello\x00", 11);
  /* §7.2.3.5: two blocks in one message */
  sframe(&in, true, WS_RSV1, WS_OP_TEXT, "\xf2\x48\x05\x00\x00\x00\xff\xff\xca\xc9\xc9\x07\x00",
         13);
  expect_events(&in, &P_DEFAULT, "text:Hello|text:Hello|text:Hello|text:Hello|", 0);
  bytes_free(&in);
}
END_TEST

START_TEST(test_recv_fragmented) {
  struct bytes in = {0}, z = {0};
  uint8_t msg[3000];
  fill_random(msg, sizeof msg, 1, true);
  memcpy(msg + 1500, msg, 1500); /* something to compress */
  zdef_once(15, Z_DEFAULT_STRATEGY, msg, sizeof msg, &z);
  size_t a = z.len / 3, b = 2 * z.len / 3;
  sframe(&in, false, WS_RSV1, WS_OP_TEXT, z.p, a); /* RSV1 on the first frame only */
  sframe(&in, true, 0, WS_OP_PING, "p", 1);        /* control frames may interleave */
  sframe(&in, false, 0, WS_OP_CONTINUATION, z.p + a, b - a);
  sframe(&in, false, 0, WS_OP_CONTINUATION, NULL, 0);
  sframe(&in, true, 0, WS_OP_CONTINUATION, z.p + b, z.len - b);
  char ev[256], p[64];
  fmt_payload(p, sizeof p, msg, sizeof msg);
  snprintf(ev, sizeof ev, "ping:p|text:%s|", p);
  struct script sc = {&in, P_DEFAULT, 0, ev, 0, "10:1|"};
  run_script(&sc);
  bytes_free(&in);
  /* every fragment 1 byte long */
  for (size_t i = 0; i < z.len; i++)
    sframe(&in, i + 1 == z.len, i ? 0 : WS_RSV1, i ? WS_OP_CONTINUATION : WS_OP_TEXT, z.p + i, 1);
  snprintf(ev, sizeof ev, "text:%s|", p);
  struct script sc2 = {&in, P_DEFAULT, 0, ev, 0, ""};
  run_one(&sc2, 0, 0);
  run_one(&sc2, 0, 1);
  run_one(&sc2, 0, 3);
  bytes_free(&in);
  /* RSV1 on a continuation frame: 1002 */
  sframe(&in, false, WS_RSV1, WS_OP_TEXT, z.p, a);
  sframe(&in, true, WS_RSV1, WS_OP_CONTINUATION, z.p + a, z.len - a);
  expect_events(&in, &P_DEFAULT, "error:WS_ERR_PROTO_RSV|", WS_ERR_PROTO_RSV);
  bytes_free(&in);
  /* an uncompressed message may not get RSV1 on a later frame either */
  sframe(&in, false, 0, WS_OP_TEXT, "ab", 2);
  sframe(&in, true, WS_RSV1, WS_OP_CONTINUATION, "c", 1);
  expect_events(&in, &P_DEFAULT, "error:WS_ERR_PROTO_RSV|", WS_ERR_PROTO_RSV);
  bytes_free(&in);
  bytes_free(&z);
}
END_TEST

START_TEST(test_rsv_rules) {
  struct bytes in = {0};
  /* compressed control frames: 1002 */
  static const unsigned ops[] = {WS_OP_PING, WS_OP_PONG, WS_OP_CLOSE};
  for (size_t i = 0; i < 3; i++) {
    sframe(&in, true, WS_RSV1, ops[i], "\x03\xe8", 2);
    expect_events(&in, &P_DEFAULT, "error:WS_ERR_PROTO_RSV|", WS_ERR_PROTO_RSV);
    bytes_free(&in);
  }
  /* RSV2/RSV3 stay reserved */
  sframe(&in, true, WS_RSV1 | WS_RSV2, WS_OP_TEXT, "\x02\x00", 2);
  expect_events(&in, &P_DEFAULT, "error:WS_ERR_PROTO_RSV|", WS_ERR_PROTO_RSV);
  bytes_free(&in);
  sframe(&in, true, WS_RSV3, WS_OP_TEXT, "a", 1);
  expect_events(&in, &P_DEFAULT, "error:WS_ERR_PROTO_RSV|", WS_ERR_PROTO_RSV);
  bytes_free(&in);
  /* RSV1 without the extension */
  sframe(&in, true, WS_RSV1, WS_OP_TEXT, "\xf2\x48\xcd\xc9\xc9\x07\x00", 7);
  struct harness h;
  h_init(&h, NULL);
  ck_assert_int_eq(ws_session_recv(h.s, in.p, in.len), WS_ERR_PROTO_RSV);
  struct wire_msg w[MAX_WIRE];
  int n = h_drain(&h, w, 0);
  ck_assert_int_eq(n, 1);
  ck_assert_int_eq(w[0].payload.p[0] << 8 | w[0].payload.p[1], 1002);
  wire_free(w, n);
  h_fini(&h);
  bytes_free(&in);
}
END_TEST

START_TEST(test_recv_empty) {
  struct bytes in = {0}, z = {0};
  z_stream zs;
  zdef_init(&zs, 15, Z_DEFAULT_STRATEGY);
  zdef_msg(&zs, "abcabc", 6, Z_SYNC_FLUSH, &z);
  sframe(&in, true, WS_RSV1, WS_OP_TEXT, z.p, z.len);
  /* "00": what a fresh zlib stream gives for an empty message (an empty
   * stored block minus 00 00 ff ff) */
  sframe(&in, true, WS_RSV1, WS_OP_TEXT, "\x00", 1);
  /* no payload at all: what zlib gives when asked to sync-flush nothing
   * right after a flush (Python's websockets sends that) */
  z.len = 0;
  zdef_msg(&zs, "", 0, Z_SYNC_FLUSH, &z);
  ck_assert_uint_eq(z.len, 0);
  sframe(&in, true, WS_RSV1, WS_OP_BINARY, NULL, 0);
  sframe(&in, false, WS_RSV1, WS_OP_TEXT, NULL, 0);  /* fragmented, still nothing */
  sframe(&in, true, 0, WS_OP_CONTINUATION, NULL, 0);
  z.len = 0;
  zdef_msg(&zs, "abcabc", 6, Z_SYNC_FLUSH, &z); /* needs the window: intact */
  sframe(&in, true, WS_RSV1, WS_OP_TEXT, z.p, z.len);
  deflateEnd(&zs);
  expect_events(&in, &P_DEFAULT, "text:abcabc|text:|bin:|text:|text:abcabc|", 0);
  bytes_free(&in);
  bytes_free(&z);
}
END_TEST

/* A server that keeps its window: the second message only decodes with it. */
START_TEST(test_recv_context_takeover) {
  uint8_t msg[2000];
  fill_random(msg, sizeof msg, 2, true);
  struct bytes in = {0}, m1 = {0}, m2 = {0};
  z_stream zs;
  zdef_init(&zs, 15, Z_DEFAULT_STRATEGY);
  zdef_msg(&zs, msg, sizeof msg, Z_SYNC_FLUSH, &m1);
  zdef_msg(&zs, msg, sizeof msg, Z_SYNC_FLUSH, &m2);
  deflateEnd(&zs);
  ck_assert_uint_lt(m2.len, 40); /* one back-reference into message 1 */
  /* alone, message 2 is not decodable */
  z_stream zi;
  struct bytes junk = {0};
  zinf_init(&zi, 15);
  ck_assert(!zinf_msg(&zi, m2.p, m2.len, &junk));
  inflateEnd(&zi);
  bytes_free(&junk);
  sframe(&in, true, WS_RSV1, WS_OP_TEXT, m1.p, m1.len);
  sframe(&in, true, WS_RSV1, WS_OP_TEXT, m2.p, m2.len);
  char ev[256], p[64];
  fmt_payload(p, sizeof p, msg, sizeof msg);
  snprintf(ev, sizeof ev, "text:%s|text:%s|", p, p);
  expect_events(&in, &P_DEFAULT, ev, 0);
  /* With server_no_context_takeover agreed the client resets its window,
   * so a server wrongly keeping its own breaks: corrupt data, 1007. */
  struct ws_pmd_params snct = {true, false, 15, 15};
  snprintf(ev, sizeof ev, "text:%s|error:WS_ERR_INVALID_DEFLATE|", p);
  expect_events(&in, &snct, ev, WS_ERR_INVALID_DEFLATE);
  bytes_free(&in);
  /* ... and one that resets works, the decompressor being freed after each
   * message. */
  struct harness h;
  h_init(&h, &snct);
  size_t base = h.a.live;
  for (int i = 0; i < 5; i++) {
    struct bytes z = {0};
    zdef_once(15, Z_DEFAULT_STRATEGY, msg, sizeof msg, &z);
    sframe(&in, true, WS_RSV1, WS_OP_TEXT, z.p, z.len);
    ck_assert_int_eq(ws_session_recv(h.s, in.p, in.len), 0);
    ck_assert_int_eq(h.nmsgs, i + 1);
    ck_assert(h.last.len == sizeof msg && memcmp(h.last.p, msg, sizeof msg) == 0);
    ck_assert_uint_le(h.a.live, base + 4096); /* only the kept message buffer */
    bytes_free(&z);
    bytes_free(&in);
  }
  h_fini(&h);
  bytes_free(&m1);
  bytes_free(&m2);
}
END_TEST

/* BFINAL blocks (§7.2.3.4): the stream ends inside the message; what
 * follows is skipped and the next message continues with the window. */
START_TEST(test_recv_bfinal) {
  uint8_t msg[600];
  fill_random(msg, sizeof msg, 3, true);
  struct bytes in = {0}, z = {0};
  z_stream zs;
  zdef_init(&zs, 15, Z_DEFAULT_STRATEGY);
  zdef_msg(&zs, msg, sizeof msg, Z_FINISH, &z);
  sframe(&in, true, WS_RSV1, WS_OP_TEXT, z.p, z.len);
  /* §7.2.1 applied literally: BFINAL block, then an empty stored block
   * minus its last 4 bytes */
  size_t n = z.len;
  bytes_add(&z, "\x00", 1);
  sframe(&in, true, WS_RSV1, WS_OP_TEXT, z.p, n + 1);
  /* the next message refers to the earlier data: a new stream primed
   * with the old window, as a server would do with deflateSetDictionary */
  ck_assert_int_eq(deflateReset(&zs), Z_OK);
  ck_assert_int_eq(deflateSetDictionary(&zs, msg, sizeof msg), Z_OK);
  z.len = 0;
  zdef_msg(&zs, msg, sizeof msg, Z_SYNC_FLUSH, &z);
  ck_assert_uint_lt(z.len, 20);
  sframe(&in, true, WS_RSV1, WS_OP_TEXT, z.p, z.len);
  deflateEnd(&zs);
  char ev[256], p[64];
  fmt_payload(p, sizeof p, msg, sizeof msg);
  snprintf(ev, sizeof ev, "text:%s|text:%s|text:%s|", p, p, p);
  expect_events(&in, &P_DEFAULT, ev, 0);
  bytes_free(&in);
  bytes_free(&z);
}
END_TEST

START_TEST(test_recv_corrupt) {
  struct bytes in = {0}, z = {0};
  /* an invalid block type (BTYPE 11) */
  sframe(&in, true, WS_RSV1, WS_OP_BINARY, "\xff\xff\xff", 3);
  expect_events(&in, &P_DEFAULT, "error:WS_ERR_INVALID_DEFLATE|", WS_ERR_INVALID_DEFLATE);
  bytes_free(&in);
  /* a stored block whose NLEN does not match LEN */
  sframe(&in, true, WS_RSV1, WS_OP_BINARY, "\x00\x05\x00\x00\x00Hello", 10);
  expect_events(&in, &P_DEFAULT, "error:WS_ERR_INVALID_DEFLATE|", WS_ERR_INVALID_DEFLATE);
  bytes_free(&in);
  /* a distance before the start of the stream */
  sframe(&in, true, WS_RSV1, WS_OP_TEXT, "\xf2\x00\x11\x00\x00", 5);
  expect_events(&in, &P_DEFAULT, "error:WS_ERR_INVALID_DEFLATE|", WS_ERR_INVALID_DEFLATE);
  bytes_free(&in);
  /* a message cut inside a block: the tail does not end it */
  uint8_t msg[400];
  fill_random(msg, sizeof msg, 4, true);
  zdef_once(15, Z_DEFAULT_STRATEGY, msg, sizeof msg, &z);
  sframe(&in, true, WS_RSV1, WS_OP_TEXT, z.p, z.len / 2);
  expect_events(&in, &P_DEFAULT, "error:WS_ERR_INVALID_DEFLATE|", WS_ERR_INVALID_DEFLATE);
  bytes_free(&in);
  /* good data followed by garbage that is not a block */
  sframe_hdr(&in, true, WS_RSV1, WS_OP_TEXT, z.len + 2);
  bytes_add(&in, z.p, z.len);
  bytes_add(&in, "\x07\xff", 2);
  expect_events(&in, &P_DEFAULT, "error:WS_ERR_INVALID_DEFLATE|", WS_ERR_INVALID_DEFLATE);
  bytes_free(&in);
  bytes_free(&z);
}
END_TEST

/* Text is validated as it is inflated: a bad first byte fails long before
 * the message is complete. */
START_TEST(test_recv_utf8_fail_fast) {
  size_t n = 1 << 20;
  uint8_t *msg = malloc(n);
  fill_random(msg, n, 13, true); /* ~600 KiB compressed */
  msg[10] = 0xff;
  struct bytes in = {0}, z = {0};
  zdef_once(15, Z_DEFAULT_STRATEGY, msg, n, &z);
  sframe(&in, true, WS_RSV1, WS_OP_TEXT, z.p, z.len);
  struct harness h;
  h_init(&h, &P_DEFAULT);
  /* the first KiB of the payload already shows it */
  size_t hdr = in.len - z.len;
  ck_assert_uint_gt(z.len, 500000);
  ck_assert_int_eq(ws_session_recv(h.s, in.p, hdr + 1024), WS_ERR_INVALID_UTF8);
  ck_assert_str_eq(h.log, "error:WS_ERR_INVALID_UTF8|");
  h_fini(&h);
  /* a sequence split by the inflater's output steps is still fine */
  bytes_free(&in);
  bytes_free(&z);
  for (size_t i = 0; i < n; i += 4)
    memcpy(msg + i, "\xe2\x82\xac", 3), msg[i + 3] = 'x'; /* "€x" */
  zdef_once(15, Z_DEFAULT_STRATEGY, msg, n, &z);
  sframe(&in, true, WS_RSV1, WS_OP_TEXT, z.p, z.len);
  h_init(&h, &P_DEFAULT);
  for (size_t i = 0; i < in.len; i += 7)
    ck_assert_int_eq(ws_session_recv(h.s, in.p + i, in.len - i < 7 ? in.len - i : 7), 0);
  ck_assert_int_eq(h.nmsgs, 1);
  ck_assert(h.last.len == n && memcmp(h.last.p, msg, n) == 0);
  h_fini(&h);
  /* a message ending inside a sequence */
  bytes_free(&in);
  bytes_free(&z);
  zdef_once(15, Z_DEFAULT_STRATEGY, "ab\xe2\x82", 4, &z);
  sframe(&in, true, WS_RSV1, WS_OP_TEXT, z.p, z.len);
  expect_events(&in, &P_DEFAULT, "error:WS_ERR_INVALID_UTF8|", WS_ERR_INVALID_UTF8);
  bytes_free(&in);
  bytes_free(&z);
  free(msg);
}
END_TEST

/* The limit applies to the inflated size, exactly. */
START_TEST(test_recv_limit_exact) {
  size_t lim = 5000;
  uint8_t msg[5001];
  memset(msg, 'q', sizeof msg);
  struct bytes in = {0}, z = {0};
  zdef_once(15, Z_DEFAULT_STRATEGY, msg, lim, &z);
  sframe(&in, true, WS_RSV1, WS_OP_BINARY, z.p, z.len);
  char ev[64];
  snprintf(ev, sizeof ev, "bin:<%zu:%08x>|", lim, fnv(msg, lim));
  struct script sc = {&in, P_DEFAULT, lim, ev, 0, ""};
  run_script(&sc);
  bytes_free(&in);
  bytes_free(&z);
  zdef_once(15, Z_DEFAULT_STRATEGY, msg, lim + 1, &z);
  sframe(&in, true, WS_RSV1, WS_OP_BINARY, z.p, z.len);
  struct script sc2 = {&in, P_DEFAULT, lim, "error:WS_ERR_MESSAGE_TOO_BIG|",
                       WS_ERR_MESSAGE_TOO_BIG, "close:1009|"};
  run_script(&sc2);
  bytes_free(&in);
  bytes_free(&z);
}
END_TEST

/* The bomb. Deflate's best ratio is about 1032:1, so a message inflating
 * to 4 GiB is a 4 MiB frame: 256 copies of 16 MiB of zeros compressed with
 * a sync flush (each copy is a run of whole blocks, so the copies
 * concatenate). With a 1 MiB limit, its first ~1 KiB already inflates past
 * the limit: the session must fail with 1009 there, having held no more
 * than the limit plus zlib's state. */
START_TEST(test_recv_bomb) {
  const size_t lim = 1 << 20;
  size_t zn = 16u << 20;
  uint8_t *zeros = calloc(1, zn);
  struct bytes x = {0};
  zdef_once(15, Z_DEFAULT_STRATEGY, zeros, zn, &x);
  free(zeros);
  /* the tail was stripped; put the flush block back so copies chain */
  bytes_add(&x, "\x00\x00\xff\xff", 4);
  uint64_t total = (uint64_t)x.len * 256;
  fprintf(stderr, "bomb: %zu bytes per 16 MiB, frame of %llu bytes for 4 GiB\n", x.len,
          (unsigned long long)total);
  for (int mode = 0; mode < 2; mode++) {
    struct harness h;
    h_init_opt(&h, &P_DEFAULT, lim);
    size_t base = h.a.live;
    struct bytes hdr = {0};
    sframe_hdr(&hdr, true, WS_RSV1, WS_OP_BINARY, total);
    ck_assert_int_eq(ws_session_recv(h.s, hdr.p, hdr.len), 0);
    bytes_free(&hdr);
    size_t fed = 0;
    int rv = 0;
    for (int copy = 0; copy < 256 && rv == 0; copy++) {
      if (mode == 0) {
        /* 1 KiB reads */
        for (size_t i = 0; i < x.len && rv == 0; i += 1024) {
          size_t n = x.len - i < 1024 ? x.len - i : 1024;
          rv = ws_session_recv(h.s, x.p + i, n);
          fed += n;
        }
      } else {
        rv = ws_session_recv(h.s, x.p, x.len); /* whole copies at once */
        fed += x.len;
      }
    }
    ck_assert_int_eq(rv, WS_ERR_MESSAGE_TOO_BIG);
    ck_assert_str_eq(h.log, "error:WS_ERR_MESSAGE_TOO_BIG|");
    if (mode == 0)
      ck_assert_uint_le(fed, 4096);
    fprintf(stderr, "bomb mode %d: failed after %zu compressed bytes, peak %zu bytes "
                    "(limit %zu, base %zu)\n",
            mode, fed, h.a.peak, lim, base);
    /* the message buffer (<= limit + 1) and zlib's inflate state + window */
    ck_assert_uint_le(h.a.peak, base + lim + 1 + 48 * 1024);
    struct wire_msg w[MAX_WIRE];
    int n = h_drain(&h, w, 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(w[0].payload.p[0] << 8 | w[0].payload.p[1], 1009);
    wire_free(w, n);
    h_fini(&h);
  }
  bytes_free(&x);
}
END_TEST

/* Each server window 8..15: data with matches as far back as the window
 * allows. For 8, zlib cannot deflate with a 256-byte window, so the peer
 * uses Z_RLE (distance 1) like we do; a server that claims 8 but uses 9 is
 * accepted too (we inflate with at least 9). */
START_TEST(test_recv_window_sizes) {
  for (int w = 8; w <= 15; w++) {
    struct ws_pmd_params p = {false, false, (uint8_t)w, 15};
    int bits = w < 9 ? 9 : w;
    size_t blk = w < 9 ? 100 : (1u << bits) - 300;
    size_t n = blk * 3;
    uint8_t *msg = malloc(n);
    fill_random(msg, blk, (uint32_t)w, false);
    memcpy(msg + blk, msg, blk);
    memcpy(msg + 2 * blk, msg, blk);
    struct bytes in = {0}, z = {0};
    z_stream zs;
    zdef_init(&zs, bits, w == 8 ? Z_RLE : Z_DEFAULT_STRATEGY);
    for (int i = 0; i < 3; i++) {
      z.len = 0;
      zdef_msg(&zs, msg, n, Z_SYNC_FLUSH, &z);
      if (w > 8) /* the repeats were matched */
        ck_assert_uint_lt(z.len, i ? n / 40 + 16 : blk + blk / 4);
      sframe(&in, true, WS_RSV1, WS_OP_BINARY, z.p, z.len);
    }
    deflateEnd(&zs);
    uint8_t far[800];
    if (w == 8) {
      /* a distance of 400 under an agreed 8: tolerated, we inflate with 9
       * (zlib's 9-bit deflate keeps to 250, so the peer uses 10 here) */
      fill_random(far, 400, 99, false);
      memcpy(far + 400, far, 400);
      zdef_init(&zs, 10, Z_DEFAULT_STRATEGY);
      z.len = 0;
      zdef_msg(&zs, far, sizeof far, Z_SYNC_FLUSH, &z);
      ck_assert_uint_lt(z.len, 450);
      sframe(&in, true, WS_RSV1, WS_OP_BINARY, z.p, z.len);
      deflateEnd(&zs);
    }
    char ev[256] = "", one[64];
    snprintf(one, sizeof one, "bin:<%zu:%08x>|", n, fnv(msg, n));
    for (int i = 0; i < 3; i++)
      strcat(ev, one);
    if (w == 8) {
      snprintf(one, sizeof one, "bin:<%zu:%08x>|", sizeof far, fnv(far, sizeof far));
      strcat(ev, one);
    }
    struct script sc = {&in, p, 0, ev, 0, ""};
    run_one(&sc, 0, 0);
    run_one(&sc, 0, 1000);
    run_one(&sc, 0, 7);
    bytes_free(&in);
    bytes_free(&z);
    free(msg);
  }
}
END_TEST

/* ---- session: sending ------------------------------------------------------ */

/* Our strict peer catches a stream using more window than agreed. */
START_TEST(test_peer_is_strict) {
  uint8_t msg[2000];
  fill_random(msg, 1000, 5, false);
  memcpy(msg + 1000, msg, 1000);
  struct bytes z = {0}, out = {0};
  zdef_once(15, Z_DEFAULT_STRATEGY, msg, sizeof msg, &z);
  z_stream zi;
  zinf_init(&zi, 9);
  ck_assert(!zinf_msg(&zi, z.p, z.len, &out)); /* distance 1000 > 512 */
  inflateEnd(&zi);
  out.len = 0;
  zinf_init(&zi, 10);
  ck_assert(zinf_msg(&zi, z.p, z.len, &out));
  ck_assert(out.len == sizeof msg && memcmp(out.p, msg, sizeof msg) == 0);
  inflateEnd(&zi);
  bytes_free(&z);
  bytes_free(&out);
}
END_TEST

/* Sends `msgs` through a session with `p` and decodes them like a server
 * keeping (or, with client_no_context_takeover, resetting) its inflater
 * of exactly client_max_window_bits; returns the wire sizes. */
static void send_and_check(const struct ws_pmd_params *p, const uint8_t *const *msgs,
                           const size_t *lens, int count, size_t *wire, bool *compressed,
                           size_t step) {
  struct harness h;
  h_init(&h, p);
  for (int i = 0; i < count; i++)
    ck_assert_int_eq(ws_session_send_binary(h.s, msgs[i], lens[i]), 0);
  struct wire_msg w[MAX_WIRE];
  int n = h_drain(&h, w, step);
  ck_assert_int_eq(n, count);
  /* acks report the sizes given to send */
  char acks[512] = "";
  size_t al = 0;
  for (int i = 0; i < count; i++)
    al += (size_t)snprintf(acks + al, sizeof acks - al, "ack:%zu|", lens[i]);
  ck_assert_str_eq(h.log, acks);
  z_stream zi;
  bool ready = false;
  for (int i = 0; i < n; i++) {
    ck_assert_int_eq(w[i].op, WS_OP_BINARY);
    wire[i] = w[i].payload.len;
    compressed[i] = w[i].rsv1;
    if (!w[i].rsv1) {
      ck_assert(w[i].payload.len == lens[i] &&
                (!lens[i] || memcmp(w[i].payload.p, msgs[i], lens[i]) == 0));
      continue;
    }
    if (!ready)
      zinf_init(&zi, p->client_max_window_bits);
    ready = true;
    struct bytes out = {0};
    ck_assert_msg(zinf_msg(&zi, w[i].payload.p, w[i].payload.len, &out),
                  "message %d does not inflate with window %d", i, p->client_max_window_bits);
    ck_assert(out.len == lens[i] && memcmp(out.p, msgs[i], lens[i]) == 0);
    bytes_free(&out);
    if (p->client_no_context_takeover) {
      inflateEnd(&zi);
      ready = false;
    }
  }
  if (ready)
    inflateEnd(&zi);
  wire_free(w, n);
  h_fini(&h);
}

START_TEST(test_send_context_takeover) {
  uint8_t m[3000];
  fill_random(m, sizeof m, 6, true);
  const uint8_t *msgs[3] = {m, m, m};
  size_t lens[3] = {sizeof m, sizeof m, sizeof m}, wire[3];
  bool z[3];
  /* kept: the repeats are references into the earlier messages */
  send_and_check(&P_DEFAULT, msgs, lens, 3, wire, z, 0);
  ck_assert(z[0] && z[1] && z[2]);
  ck_assert_uint_lt(wire[0], sizeof m);
  ck_assert_uint_lt(wire[1], 64); /* ~12 matches of 258 bytes */
  ck_assert_uint_lt(wire[2], 64);
  /* reset: each message stands alone (decoded by a fresh inflater) */
  struct ws_pmd_params cnct = {false, true, 15, 15};
  size_t wire2[3];
  send_and_check(&cnct, msgs, lens, 3, wire2, z, 0);
  ck_assert_uint_eq(wire2[0], wire[0]);
  ck_assert_uint_eq(wire2[1], wire[0]);
  ck_assert_uint_eq(wire2[2], wire[0]);
}
END_TEST

START_TEST(test_send_choices) {
  uint8_t rnd[200], txt[200];
  fill_random(rnd, sizeof rnd, 7, false);
  memset(txt, 'x', sizeof txt);
  const uint8_t *msgs[6] = {rnd, txt, (const uint8_t *)"", (const uint8_t *)"abcdefg",
                            (const uint8_t *)"abcdefgh", rnd};
  size_t lens[6] = {sizeof rnd, sizeof txt, 0, 7, 8, sizeof rnd}, wire[6];
  bool z[6];
  /* no context takeover: incompressible data goes as is */
  struct ws_pmd_params cnct = {false, true, 15, 15};
  send_and_check(&cnct, msgs, lens, 6, wire, z, 0);
  ck_assert(!z[0] && z[1] && !z[2] && !z[3] && !z[4] && !z[5]);
  ck_assert_uint_lt(wire[1], 20);
  /* takeover: empty and < WS_PMD_MIN_COMPRESS bytes uncompressed, the rest
   * compressed even when that does not help */
  send_and_check(&P_DEFAULT, msgs, lens, 6, wire, z, 0);
  ck_assert(z[0] && z[1] && !z[2] && !z[3] && z[4] && z[5]);
  ck_assert_uint_gt(wire[0], sizeof rnd);
}
END_TEST

/* Each client window 8..15: the peer inflates with exactly that window. */
START_TEST(test_send_window_sizes) {
  for (int w = 8; w <= 15; w++) {
    struct ws_pmd_params p = {false, false, 15, (uint8_t)w};
    /* blocks repeated at a distance just inside and twice outside the window */
    size_t near = w < 9 ? 200 : (1u << w) - 300, far = (2u << w) + 7;
    size_t n = near * 2 + far * 2 + 4000;
    uint8_t *m = malloc(n);
    fill_random(m, near, (uint32_t)w, true);
    memcpy(m + near, m, near);
    fill_random(m + 2 * near, far, (uint32_t)w + 100, true);
    memcpy(m + 2 * near + far, m + 2 * near, far);
    memset(m + 2 * near + 2 * far, 'r', 4000); /* a run, for Z_RLE too */
    const uint8_t *msgs[3] = {m, m, m + 1};
    size_t lens[3] = {n, n, n - 1}, wire[3];
    bool z[3];
    send_and_check(&p, msgs, lens, 3, wire, z, 0);
    ck_assert(z[0] && z[1] && z[2]);
    ck_assert_uint_lt(wire[0], n - 3900);
    if (w >= 9)
      ck_assert_uint_lt(wire[0], n - near / 2 - 3900); /* the near repeat was found */
    fprintf(stderr, "client window %d: %zu -> %zu, %zu, %zu\n", w, n, wire[0], wire[1],
            wire[2]);
    /* also with no context takeover, and written out in small pieces */
    p.client_no_context_takeover = true;
    send_and_check(&p, msgs, lens, 3, wire, z, 333);
    free(m);
  }
}
END_TEST

/* Incompressible and large messages grow the output as deflate goes. */
START_TEST(test_send_large) {
  size_t n = 3u << 20;
  uint8_t *rnd = malloc(n), *txt = malloc(n);
  fill_random(rnd, n, 8, false);
  fill_random(txt, n, 9, true);
  const uint8_t *msgs[3] = {rnd, txt, (const uint8_t *)"tail message"};
  size_t lens[3] = {n, n, 12}, wire[3];
  bool z[3];
  send_and_check(&P_DEFAULT, msgs, lens, 3, wire, z, 0);
  ck_assert(z[0] && z[1] && z[2]);
  ck_assert_uint_gt(wire[0], n);
  ck_assert_uint_lt(wire[1], n * 7 / 10);
  struct ws_pmd_params cnct = {false, true, 15, 15};
  send_and_check(&cnct, msgs, lens, 3, wire, z, 65536);
  ck_assert(!z[0] && z[1] && !z[2]); /* 12 bytes do not shrink alone */
  free(rnd);
  free(txt);
}
END_TEST

/* Output partly written, then a message whose compressed output outgrows
 * the buffer: the queue is compacted while deflate is half-way. */
START_TEST(test_send_growth_after_partial_write) {
  struct ws_pmd_params params[2] = {{false, false, 15, 15}, {false, true, 15, 15}};
  for (int k = 0; k < 2; k++) {
    struct harness h;
    h_init(&h, &params[k]);
    size_t na = 100 << 10, nb = 40 << 10;
    uint8_t *a = malloc(na), *b = malloc(nb);
    fill_random(a, na, 20, false);
    fill_random(b, nb, 21, false);
    ck_assert_int_eq(ws_session_send_binary(h.s, a, na), 0);
    struct bytes pre = {0};
    h_write(&h, &pre, 90 << 10);
    ck_assert_int_eq(ws_session_send_binary(h.s, b, nb), 0);
    ck_assert_int_eq(ws_session_send_binary(h.s, a, 5000), 0);
    struct wire_msg w[MAX_WIRE];
    int n = h_drain_pre(&h, w, 4000, &pre);
    bytes_free(&pre);
    ck_assert_int_eq(n, 3);
    if (params[k].client_no_context_takeover) {
      ck_assert(!w[1].rsv1 && w[1].payload.len == nb && memcmp(w[1].payload.p, b, nb) == 0);
    } else {
      z_stream zi;
      struct bytes out = {0};
      zinf_init(&zi, 15);
      /* prime the window with message a as the server would have it */
      ck_assert_int_eq(inflateSetDictionary(&zi, a + na - 32768, 32768), Z_OK);
      ck_assert(w[1].rsv1 && zinf_msg(&zi, w[1].payload.p, w[1].payload.len, &out));
      ck_assert(out.len == nb && memcmp(out.p, b, nb) == 0);
      out.len = 0;
      ck_assert(w[2].rsv1 && zinf_msg(&zi, w[2].payload.p, w[2].payload.len, &out));
      ck_assert(out.len == 5000 && memcmp(out.p, a, 5000) == 0);
      inflateEnd(&zi);
      bytes_free(&out);
    }
    ck_assert_str_eq(h.log, "ack:102400|ack:40960|ack:5000|");
    wire_free(w, n);
    free(a);
    free(b);
    h_fini(&h);
  }
}
END_TEST

/* Round trip through an echoing zlib server, text, both directions at
 * once, fed in odd pieces. */
START_TEST(test_roundtrip_echo) {
  struct ws_pmd_params params[4] = {
      {false, false, 15, 15}, {true, true, 15, 15}, {false, true, 10, 9}, {true, false, 9, 8}};
  for (int k = 0; k < 4; k++) {
    const struct ws_pmd_params *p = &params[k];
    struct harness h;
    h_init(&h, p);
    z_stream sd, si;
    int sbits = p->server_max_window_bits < 9 ? 9 : p->server_max_window_bits;
    zdef_init(&sd, sbits, Z_DEFAULT_STRATEGY);
    zinf_init(&si, p->client_max_window_bits);
    for (int i = 0; i < 20; i++) {
      size_t n = (size_t)1 << (i % 14);
      uint8_t *m = malloc(n + 1);
      fill_random(m, n, (uint32_t)(i / 3), true);
      ck_assert_int_eq(ws_session_send_text(h.s, m, n), 0);
      struct wire_msg w[MAX_WIRE];
      int nw = h_drain(&h, w, 777);
      ck_assert_int_eq(nw, 1);
      struct bytes dec = {0}, z = {0}, in = {0};
      if (w[0].rsv1) {
        ck_assert(zinf_msg(&si, w[0].payload.p, w[0].payload.len, &dec));
        if (p->client_no_context_takeover) {
          inflateEnd(&si);
          zinf_init(&si, p->client_max_window_bits);
        }
      } else {
        bytes_add(&dec, w[0].payload.p, w[0].payload.len);
      }
      ck_assert(dec.len == n && memcmp(dec.p, m, n) == 0);
      /* echo compressed */
      zdef_msg(&sd, dec.p, dec.len, Z_SYNC_FLUSH, &z);
      if (p->server_no_context_takeover)
        ck_assert_int_eq(deflateReset(&sd), Z_OK);
      sframe(&in, true, WS_RSV1, WS_OP_TEXT, z.p, z.len);
      for (size_t j = 0; j < in.len; j += 501)
        ck_assert_int_eq(ws_session_recv(h.s, in.p + j, in.len - j < 501 ? in.len - j : 501), 0);
      ck_assert(h.last.len == n && memcmp(h.last.p, m, n) == 0);
      bytes_free(&dec);
      bytes_free(&z);
      bytes_free(&in);
      wire_free(w, nw);
      free(m);
    }
    ck_assert_int_eq(h.nmsgs, 20);
    deflateEnd(&sd);
    inflateEnd(&si);
    h_fini(&h);
  }
}
END_TEST

/* ---- memory ---------------------------------------------------------- */

/* Measures what a connection holds idle after one compressed message each
 * way (the figures in ws_deflate.h). */
static size_t idle_bytes(const struct ws_pmd_params *p, size_t *session_only) {
  struct harness h;
  h_init(&h, NULL);
  size_t bare = h.a.live;
  *session_only = 0;
  if (p) {
    ck_assert_int_eq(ws_session_enable_pmd(h.s, p), 0);
    *session_only = h.a.live - bare;
  }
  uint8_t m[1000];
  fill_random(m, 500, 10, true);
  memcpy(m + 500, m, 500);
  ck_assert_int_eq(ws_session_send_text(h.s, m, sizeof m), 0);
  struct wire_msg w[MAX_WIRE];
  int n = h_drain(&h, w, 0);
  wire_free(w, n);
  struct bytes in = {0}, z = {0};
  if (p) {
    zdef_once(p->server_max_window_bits < 9 ? 9 : p->server_max_window_bits, Z_DEFAULT_STRATEGY,
              m, sizeof m, &z);
    sframe(&in, true, WS_RSV1, WS_OP_TEXT, z.p, z.len);
  } else {
    sframe(&in, true, 0, WS_OP_TEXT, m, sizeof m);
  }
  ck_assert_int_eq(ws_session_recv(h.s, in.p, in.len), 0);
  ck_assert_int_eq(h.nmsgs, 1);
  bytes_free(&in);
  bytes_free(&z);
  size_t held = h.a.live - bare;
  h_fini(&h);
  return held;
}

START_TEST(test_memory_figures) {
  struct {
    struct ws_pmd_params p;
    size_t max;
  } cases[] = {
      {{true, true, 15, 15}, 4 << 10},    /* struct ws_pmd + bigger kept buffers */
      {{false, true, 15, 15}, 44 << 10},  /* + the decompressor */
      {{true, false, 15, 15}, 272 << 10}, /* + the compressor */
      {{false, false, 15, 15}, 312 << 10},
      {{false, false, 10, 10}, 26 << 10},
      {{false, false, 9, 9}, 22 << 10},
      {{false, false, 8, 8}, 22 << 10},
  };
  size_t pmd, plain = idle_bytes(NULL, &pmd); /* the session's own kept buffers */
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t held = idle_bytes(&cases[i].p, &pmd) - plain;
    fprintf(stderr,
            "idle memory snct=%d cnct=%d sbits=%d cbits=%d: %zu bytes (enable: %zu)\n",
            cases[i].p.server_no_context_takeover, cases[i].p.client_no_context_takeover,
            cases[i].p.server_max_window_bits, cases[i].p.client_max_window_bits, held, pmd);
    ck_assert_uint_le(pmd, 512);
    ck_assert_uint_le(held, cases[i].max);
  }
}
END_TEST

/* ---- allocation failure --------------------------------------------------- */

/* enable, then send / receive compressed messages; *where tells which step
 * failed. After a failed send the session must still work and the peer
 * (a persistent inflater) must decode everything sent later. */
static int oom_script(struct harness *h, const struct ws_pmd_params *p, z_stream *sd,
                      int *where) {
  int rv;
  *where = 0;
  if ((rv = ws_session_enable_pmd(h->s, p)) < 0)
    return rv;
  uint8_t m[6000];
  fill_random(m, 3000, 11, true);
  memcpy(m + 3000, m, 3000);
  uint8_t rnd[9000];
  fill_random(rnd, sizeof rnd, 12, false);
  for (int step = 0; step < 6; step++) {
    *where = step + 1;
    if (step % 2 == 0) {
      /* the second send is incompressible: its output outgrows the first
       * reservation, exercising the growth path */
      rv = step == 2 ? ws_session_send_binary(h->s, rnd, sizeof rnd)
                     : ws_session_send_text(h->s, m, sizeof m);
    } else {
      struct bytes in = {0}, z = {0};
      /* the last one ends with BFINAL: the decompressor restarts */
      zdef_msg(sd, m, sizeof m, step == 5 ? Z_FINISH : Z_SYNC_FLUSH, &z);
      if (p->server_no_context_takeover)
        deflateReset(sd);
      sframe(&in, true, WS_RSV1, WS_OP_TEXT, z.p, z.len);
      rv = ws_session_recv(h->s, in.p, in.len);
      bytes_free(&in);
      bytes_free(&z);
    }
    if (rv < 0)
      return rv;
  }
  return 0;
}

static void oom_run(const struct ws_pmd_params *p) {
  long n, send_fails = 0, recv_fails = 0, enable_fails = 0, switched_off = 0;
  bool done = false;
  for (n = 1; n < 2000 && !done; n++) {
    struct harness h;
    h_init(&h, NULL);
    h.a.fail_at = h.a.calls + n;
    z_stream sd;
    zdef_init(&sd, p->server_max_window_bits < 9 ? 9 : p->server_max_window_bits,
              Z_DEFAULT_STRATEGY);
    int where;
    int rv = oom_script(&h, p, &sd, &where);
    deflateEnd(&sd);
    h.a.fail_at = 0;
    struct wire_msg w[MAX_WIRE];
    if (rv < 0) {
      ck_assert_msg(rv == WS_ERR_NOMEM, "n=%ld where=%d: %s", n, where, ws_error_name(rv));
      if (where == 0) {
        enable_fails++;
      } else if (where % 2 == 0) {
        recv_fails++;
        ck_assert_int_eq(ws_session_state(h.s), WS_SESSION_FAILED);
      } else {
        send_fails++;
        /* still usable, and consistent with the peer */
        static const char after[] = "after the failure, after the failure, after the failure";
        for (int i = 0; i < 2; i++)
          ck_assert_int_eq(ws_session_send_text(h.s, (const uint8_t *)after, sizeof after - 1), 0);
      }
    } else {
      done = h.a.failures == 0;
    }
    int nw = h_drain(&h, w, 0);
    if (rv < 0 && where % 2 == 1 && nw >= 2 && !w[nw - 1].rsv1 && !w[nw - 2].rsv1)
      switched_off++; /* the failure was inside deflate: compression is off */
    /* everything that went out decodes, in order, with one inflater */
    z_stream zi;
    zinf_init(&zi, p->client_max_window_bits);
    for (int i = 0; i < nw; i++) {
      if (w[i].op == WS_OP_CLOSE) {
        ck_assert_int_eq(w[i].payload.p[0] << 8 | w[i].payload.p[1], 1011);
        continue;
      }
      if (!w[i].rsv1)
        continue;
      struct bytes out = {0};
      ck_assert_msg(zinf_msg(&zi, w[i].payload.p, w[i].payload.len, &out), "n=%ld frame %d", n,
                    i);
      bytes_free(&out);
      if (p->client_no_context_takeover) {
        inflateEnd(&zi);
        zinf_init(&zi, p->client_max_window_bits);
      }
    }
    inflateEnd(&zi);
    wire_free(w, nw);
    h_fini(&h); /* no leak, whatever failed */
  }
  ck_assert_msg(done, "never completed (n=%ld)", n);
  fprintf(stderr,
          "oom snct=%d cnct=%d: %ld runs, %ld enable, %ld send (%ld switched compression "
          "off), %ld recv failures\n",
          p->server_no_context_takeover, p->client_no_context_takeover, n, enable_fails,
          send_fails, switched_off, recv_fails);
  if (p->client_no_context_takeover)
    ck_assert_int_eq(switched_off, 0); /* messages are independent: nothing to protect */
  else
    ck_assert_int_ge(switched_off, 1);
  ck_assert_int_ge(enable_fails, 1);
  ck_assert_int_ge(send_fails, 5);
  ck_assert_int_ge(recv_fails, 3);
}

START_TEST(test_oom_takeover) { oom_run(&P_DEFAULT); }
END_TEST

START_TEST(test_oom_no_takeover) {
  struct ws_pmd_params p = {true, true, 12, 11};
  oom_run(&p);
}
END_TEST

static Suite *deflate_suite(void) {
  Suite *s = suite_create("ws_deflate");
  TCase *tc = tcase_create("negotiate");
  tcase_add_checked_fixture(tc, nss_setup, nss_teardown);
  tcase_add_test(tc, test_offer_string);
  tcase_add_test(tc, test_negotiate_valid);
  tcase_add_test(tc, test_negotiate_invalid);
  tcase_add_test(tc, test_negotiate_other_offers);
  tcase_add_test(tc, test_handshake_pmd);
  suite_add_tcase(s, tc);
  tc = tcase_create("receive");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, test_enable_rules);
  tcase_add_test(tc, test_recv_basic);
  tcase_add_test(tc, test_recv_fragmented);
  tcase_add_test(tc, test_rsv_rules);
  tcase_add_test(tc, test_recv_empty);
  tcase_add_test(tc, test_recv_context_takeover);
  tcase_add_test(tc, test_recv_bfinal);
  tcase_add_test(tc, test_recv_corrupt);
  tcase_add_test(tc, test_recv_utf8_fail_fast);
  tcase_add_test(tc, test_recv_limit_exact);
  tcase_add_test(tc, test_recv_bomb);
  tcase_add_test(tc, test_recv_window_sizes);
  suite_add_tcase(s, tc);
  tc = tcase_create("send");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, test_peer_is_strict);
  tcase_add_test(tc, test_send_context_takeover);
  tcase_add_test(tc, test_send_choices);
  tcase_add_test(tc, test_send_window_sizes);
  tcase_add_test(tc, test_send_large);
  tcase_add_test(tc, test_send_growth_after_partial_write);
  tcase_add_test(tc, test_roundtrip_echo);
  tcase_add_test(tc, test_memory_figures);
  suite_add_tcase(s, tc);
  tc = tcase_create("oom");
  tcase_set_timeout(tc, 900);
  tcase_add_test(tc, test_oom_takeover);
  tcase_add_test(tc, test_oom_no_takeover);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(deflate_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
