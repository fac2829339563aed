/*
 * fuzz_session.c — the client session (ws_session): server→client bytes,
 * sends, closes and output draining in an order the input chooses, with
 * and without permessage-deflate, with a small maximum message size and
 * optionally a failing allocation.
 *
 * Input:
 *   byte 0  bit 0: enable permessage-deflate; bit 1: server_no_context_
 *           takeover; bit 2: client_no_context_takeover; bit 3: take the
 *           message buffer in on_message; bit 4: echo each message from
 *           inside on_message (reentrant send); bits 5-7: max message size
 *           (1, 7, 125, 126, 1000, 4096, 65536, default)
 *   byte 1  window bits: server 8 + (bits 0-2), client 8 + (bits 4-6);
 *           bit 3: the random callback fails once, on its second call (the
 *           first refill of the mask pool); bit 7: it fails on its first
 *           call (inside ws_session_new)
 *   byte 2  fail allocation number N (0: never)
 *   then operations, each one byte `op` and its arguments:
 *     op&7 = 0,1,2  recv: length (u16 if op&0x80, else u8), bytes
 *            2 with op&0x40: direct receive, as net_ws_conn's read_open
 *                   does it: u8 m (min = 2^(m&31) if m&0x80, else m+1), a
 *                   split spec (fuzz_input.h), length (u16 if op&0x80,
 *                   else u8), bytes. Piece by piece: where
 *                   ws_session_direct_buffer(min) offers a buffer, the
 *                   piece (cut to what it offers) is copied there and
 *                   reported with ws_session_recv_direct; elsewhere it goes
 *                   through recv. Preallocation (ws_session_set_prealloc)
 *                   is off from this op on if op&0x20, else on.
 *            3      send_text: u16 length, bytes
 *            4      send_binary: u16 length, bytes
 *            5      send_ping (send_pong if op&8): u16 length, bytes
 *            6      send_close: u16 code, u8 reason length, reason
 *            7      drain: u16 n → write min(n, pending) bytes; if op&8,
 *                   first ask for one byte more than pending (must fail)
 *   At the end everything pending is drained.
 *
 * Oracles (besides the sanitizers):
 *  - the session's output, decoded as a server would (ws_frame decoder in
 *    server role, unmasking, zlib inflate for RSV1 messages), is exactly
 *    the messages send accepted, in order (a prefix of them if the session
 *    failed or the server's close arrived: queued data is dropped then),
 *    each one FIN frame; our pings in
 *    order; at most one close frame, nothing after it, with a valid code
 *    and UTF-8 reason (equal to ours if we closed and nothing failed);
 *  - on_acknowledge fires once per message on the wire, in order, with the
 *    size given to send, by the time its last byte is consumed;
 *  - delivered text is valid UTF-8 and no message exceeds the limit;
 *    control payloads are at most 125 bytes; close codes are valid or 1005;
 *  - errors are sticky, reported once through on_error, and leave the
 *    session FAILED; WS_ERR_NOMEM only when an allocation did fail;
 *    API-misuse codes match the documented states; recv/consume_output
 *    from a callback give WS_ERR_INVALID_STATE;
 *  - want_write equals what peek_output shows (in at most 4 pieces); a
 *    CLOSED or FAILED session with its output drained is finished, and any
 *    session that left OPEN has put a close frame on the wire;
 *  - every allocation is freed by ws_session_del (counted allocator);
 *  - direct receive: a second frame decoder (the "shadow") is fed every
 *    byte the session takes, so where the next bytes fall is known. A
 *    buffer is offered exactly where they are at least `min` payload bytes
 *    of an uncompressed data frame (or refused there only when an
 *    allocation failed), never for more than the frame's rest, and for at
 *    least `min` bytes or one growth step, whichever is less; n = 0 or
 *    beyond the offer gives WS_ERR_INVALID_ARGUMENT and changes nothing
 *    (the same buffer is offered again, nothing allocated); after a
 *    refusal there is nothing to report (WS_ERR_INVALID_ARGUMENT, or the
 *    session's error); recv_direct's results are those of recv; from
 *    callbacks direct receive is refused (NULL, WS_ERR_INVALID_STATE);
 *  - memory follows what arrived (without permessage-deflate, whose
 *    inflated output is bounded by the limit instead): no allocation is
 *    larger than 2 steps of direct receive plus 64 bytes per input byte
 *    read so far, plus 4 MiB while preallocation is on (ws_session.h).
 */
#include <zlib.h>

#include "fuzz_input.h"
#include "websocket/ws_deflate.h"
#include "websocket/ws_session.h"
#include "websocket/ws_utf8.h"

/* -DFUZZ_TRACE prints the events, to check what a corpus file does. */
#ifdef FUZZ_TRACE
#define TRACE(...) fprintf(stderr, __VA_ARGS__)
#else
#define TRACE(...) ((void)0)
#endif

/* ---- counting allocator that can fail one allocation --------------------- */

/* ws_session.c's growth constants (private there; ws_session.h names the
 * 4 MiB): a final frame up to PREALLOC_MAX gets its size at once; direct
 * receive otherwise grows by at least DIRECT_STEP. */
#define PREALLOC_MAX ((size_t)4 << 20)
#define DIRECT_STEP ((size_t)256 << 10)

struct alloc {
  long live, calls, fail_at, failures;
  size_t bound; /* no request may be larger (0: not checked) */
};
static void a_check_size(const struct alloc *a, size_t n) {
  if (a->bound && n > a->bound) {
    fprintf(stderr, "allocation of %zu bytes, bound %zu\n", n, a->bound);
    FUZZ_CHECK(n <= a->bound);
  }
}
static void *a_malloc(size_t n, void *ud) {
  struct alloc *a = ud;
  a_check_size(a, n);
  if (++a->calls == a->fail_at) {
    a->failures++;
    return NULL;
  }
  void *p = malloc(n);
  if (p)
    a->live++;
  return p;
}
static void *a_realloc(void *p, size_t n, void *ud) {
  struct alloc *a = ud;
  a_check_size(a, n);
  if (++a->calls == a->fail_at) {
    a->failures++;
    return NULL;
  }
  return realloc(p, n);
}
static void a_free(void *p, void *ud) {
  struct alloc *a = ud;
  if (p)
    a->live--;
  free(p);
}

/* ---- what we sent, to compare with the wire --------------------------- */

struct msg {
  uint8_t type; /* WS_OP_TEXT / WS_OP_BINARY / WS_OP_PING */
  uint8_t *data;
  size_t len;
};

struct fifo {
  struct msg *m;
  size_t head, len, cap;
};

static void fifo_push(struct fifo *f, uint8_t type, const uint8_t *data, size_t len) {
  if (f->len == f->cap) {
    f->cap = f->cap ? f->cap * 2 : 16;
    f->m = realloc(f->m, f->cap * sizeof *f->m);
    FUZZ_CHECK(f->m != NULL);
  }
  struct msg *m = &f->m[f->len++];
  m->type = type;
  m->len = len;
  m->data = malloc(len ? len : 1);
  FUZZ_CHECK(m->data != NULL);
  if (len)
    memcpy(m->data, data, len);
}

static void fifo_free(struct fifo *f) {
  for (size_t i = 0; i < f->len; i++)
    free(f->m[i].data);
  free(f->m);
}

/* ---- the server's view of our output --------------------------------- */

struct wire {
  struct ws_frame_decoder dec;
  uint8_t opcode;
  bool rsv1;
  uint8_t *payload; /* unmasked payload of the current frame */
  size_t len, cap;
  z_stream z;
  bool z_init;
  bool close_seen;
  bool after_close; /* a frame started after our close */
  uint8_t close_payload[WS_CONTROL_MAX];
  size_t close_len;
  size_t data_msgs;  /* complete data messages seen */
  size_t pings;      /* pings seen */
};

struct ctx {
  struct ws_session *s;
  struct alloc a;
  struct ws_mem mem;
  uint64_t max_message;
  bool take_buffer, echo, pmd;
  uint64_t rng;
  unsigned rand_calls, rand_fail_call; /* fail call number N (0: never) */
  bool rand_failed;                    /* the last call failed */
  struct fifo sent;  /* data messages accepted by send, in order */
  struct fifo pings; /* pings accepted by send_ping */
  uint64_t *acks;    /* sizes given to on_acknowledge */
  size_t nacks, cap_acks;
  int errors;        /* on_error calls */
  bool server_closed; /* on_close ran: our echo replaced queued data */
  int last_error;
  bool in_recv;
  struct wire w;
  /* The shadow decoder (see the oracles), live while the session reads. */
  struct ws_frame_decoder shadow;
  bool shadow_live;
  uint8_t shadow_op;      /* opcode of its current frame */
  bool shadow_compressed; /* the current data message has RSV1 */
  bool prealloc;          /* ws_session_set_prealloc's setting */
};

static int cb_rand(void *ud, uint8_t *buf, size_t len) {
  struct ctx *c = ud;
  c->rand_failed = ++c->rand_calls == c->rand_fail_call;
  if (c->rand_failed)
    return -1;
  for (size_t i = 0; i < len; i++) {
    /* xorshift64: deterministic masks (the oracle unmasks with the key). */
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    buf[i] = (uint8_t)c->rng;
  }
  return 0;
}

/* From a callback, direct receive is refused (ws_session.h). */
static void probe_direct(struct ctx *c) {
  size_t len = 777;
  FUZZ_CHECK(ws_session_direct_buffer(c->s, 1, &len) == NULL && len == 0);
  FUZZ_CHECK(ws_session_recv_direct(c->s, 1) == WS_ERR_INVALID_STATE);
}

static void note_send(struct ctx *c, int rv, uint8_t type, const uint8_t *d, size_t len,
                      long failures_before) {
  if (rv == 0) {
    fifo_push(type == WS_OP_PING ? &c->pings : &c->sent, type, d, len);
  } else if (rv == WS_ERR_NOMEM) {
    FUZZ_CHECK(c->a.failures > failures_before);
  } else if (rv == WS_ERR_CALLBACK_FAILURE) {
    FUZZ_CHECK(c->rand_failed);
  }
}

static int do_send(struct ctx *c, unsigned kind, const uint8_t *d, size_t len) {
  enum ws_session_state st = ws_session_state(c->s);
  long f0 = c->a.failures;
  int rv;
  uint8_t type;
  c->rand_failed = false;
  switch (kind) {
  case WS_OP_TEXT:
    rv = ws_session_send_text(c->s, d, len);
    type = WS_OP_TEXT;
    if (rv == 0 || rv == WS_ERR_NOMEM)
      FUZZ_CHECK(ws_utf8_validate(d, len));
    if (!ws_utf8_validate(d, len))
      FUZZ_CHECK(rv == WS_ERR_INVALID_ARGUMENT || rv == WS_ERR_INVALID_STATE);
    break;
  case WS_OP_BINARY:
    rv = ws_session_send_binary(c->s, d, len);
    type = WS_OP_BINARY;
    break;
  case WS_OP_PING:
    rv = ws_session_send_ping(c->s, d, len);
    type = WS_OP_PING;
    break;
  default:
    rv = ws_session_send_pong(c->s, d, len);
    type = WS_OP_PONG;
    break;
  }
  if (st != WS_SESSION_OPEN)
    FUZZ_CHECK(rv == WS_ERR_INVALID_STATE || rv == WS_ERR_INVALID_ARGUMENT);
  if ((type == WS_OP_PING || type == WS_OP_PONG) && len > WS_CONTROL_MAX)
    FUZZ_CHECK(rv == WS_ERR_INVALID_ARGUMENT || rv == WS_ERR_INVALID_STATE);
  FUZZ_CHECK(rv == 0 || rv == WS_ERR_INVALID_STATE || rv == WS_ERR_INVALID_ARGUMENT ||
             rv == WS_ERR_NOMEM || rv == WS_ERR_CALLBACK_FAILURE);
  if (rv != 0)
    FUZZ_CHECK(ws_session_state(c->s) == st); /* nothing changed */
  TRACE("  send op %u len %zu -> %s\n", kind, len, ws_error_name(rv));
  if (type != WS_OP_PONG)
    note_send(c, rv, type, d, len, f0);
  return rv;
}

static void cb_message(void *ud, enum ws_message_type type, const uint8_t *data, size_t len) {
  struct ctx *c = ud;
  TRACE("  on_message type %d len %zu\n", (int)type, len);
  FUZZ_CHECK(c->in_recv);
  FUZZ_CHECK(type == WS_MESSAGE_TEXT || type == WS_MESSAGE_BINARY);
  FUZZ_CHECK(len <= c->max_message);
  FUZZ_CHECK(len == 0 || data != NULL);
  if (type == WS_MESSAGE_TEXT)
    FUZZ_CHECK(ws_utf8_validate(data, len));
  /* Reentrancy rules (ws_session.h). */
  FUZZ_CHECK(ws_session_recv(c->s, (const uint8_t *)"x", 1) == WS_ERR_INVALID_STATE);
  FUZZ_CHECK(ws_session_consume_output(c->s, 0) == WS_ERR_INVALID_STATE);
  probe_direct(c);
  if (c->echo)
    do_send(c, type, data, len);
  if (c->take_buffer) {
    size_t cap = 0;
    uint8_t *buf = ws_session_take_message_buffer(c->s, &cap);
    if (buf) {
      FUZZ_CHECK(cap >= len);
      if (len)
        FUZZ_CHECK(memcmp(buf, data, len) == 0);
      c->mem.free(buf, c->mem.user_data);
      FUZZ_CHECK(ws_session_take_message_buffer(c->s, &cap) == NULL);
    }
  }
}

static void cb_ping(void *ud, const uint8_t *data, size_t len) {
  struct ctx *c = ud;
  FUZZ_CHECK(c->in_recv && len <= WS_CONTROL_MAX);
}

static void cb_pong(void *ud, const uint8_t *data, size_t len) {
  struct ctx *c = ud;
  FUZZ_CHECK(c->in_recv && len <= WS_CONTROL_MAX);
}

static void cb_close(void *ud, uint16_t code, const uint8_t *reason, size_t len) {
  struct ctx *c = ud;
  TRACE("  on_close %u len %zu\n", code, len);
  FUZZ_CHECK(c->in_recv);
  FUZZ_CHECK(code == WS_CLOSE_NO_STATUS || ws_close_code_is_valid(code));
  FUZZ_CHECK(len <= WS_CONTROL_MAX - 2);
  if (code == WS_CLOSE_NO_STATUS)
    FUZZ_CHECK(len == 0);
  FUZZ_CHECK(ws_utf8_validate(reason, len));
  enum ws_session_state st = ws_session_state(c->s);
  FUZZ_CHECK(st == WS_SESSION_CLOSED || st == WS_SESSION_FAILED);
  c->server_closed = true;
}

static void cb_error(void *ud, int error) {
  struct ctx *c = ud;
  TRACE("  on_error %s\n", ws_error_name(error));
  FUZZ_CHECK(c->in_recv);
  FUZZ_CHECK(error < 0);
  probe_direct(c);
  c->errors++;
  c->last_error = error;
}

static void cb_ack(void *ud, uint64_t size) {
  struct ctx *c = ud;
  TRACE("  on_acknowledge %llu\n", (unsigned long long)size);
  FUZZ_CHECK(!c->in_recv);
  probe_direct(c);
  if (c->nacks == c->cap_acks) {
    c->cap_acks = c->cap_acks ? c->cap_acks * 2 : 16;
    c->acks = realloc(c->acks, c->cap_acks * sizeof *c->acks);
    FUZZ_CHECK(c->acks != NULL);
  }
  c->acks[c->nacks++] = size;
}

/* ---- wire checking --------------------------------------------------- */

static void wire_append(struct wire *w, const uint8_t *p, size_t n) {
  if (w->cap - w->len < n) {
    while (w->cap - w->len < n)
      w->cap = w->cap ? w->cap * 2 : 256;
    w->payload = realloc(w->payload, w->cap);
    FUZZ_CHECK(w->payload != NULL);
  }
  memcpy(w->payload + w->len, p, n);
  w->len += n;
}

/* Inflates a compressed message (RFC 7692 §7.2.2: append 00 00 ff ff) and
 * checks it against the expected bytes. */
static void wire_inflate_check(struct wire *w, const struct msg *m) {
  if (!w->z_init) {
    memset(&w->z, 0, sizeof w->z);
    FUZZ_CHECK(inflateInit2(&w->z, -15) == Z_OK);
    w->z_init = true;
  }
  static const uint8_t tail[4] = {0, 0, 0xff, 0xff};
  wire_append(w, tail, 4);
  uint8_t *out = malloc(m->len + 1);
  FUZZ_CHECK(out != NULL);
  w->z.next_in = w->payload;
  w->z.avail_in = (uInt)w->len;
  w->z.next_out = out;
  w->z.avail_out = (uInt)(m->len + 1);
  int zr = inflate(&w->z, Z_SYNC_FLUSH);
  FUZZ_CHECK(zr == Z_OK || zr == Z_STREAM_END || zr == Z_BUF_ERROR);
  FUZZ_CHECK(w->z.avail_in == 0);
  size_t got = m->len + 1 - w->z.avail_out;
  FUZZ_CHECK(got == m->len);
  FUZZ_CHECK(m->len == 0 || memcmp(out, m->data, m->len) == 0);
  if (zr == Z_STREAM_END)
    inflateReset(&w->z);
  free(out);
}

static void wire_frame_done(struct ctx *c) {
  struct wire *w = &c->w;
  switch (w->opcode) {
  case WS_OP_TEXT:
  case WS_OP_BINARY: {
    FUZZ_CHECK(c->w.dec.hdr.fin); /* each message is one FIN frame */
    FUZZ_CHECK(w->data_msgs < c->sent.len);
    TRACE("  wire: message %zu, %zu bytes%s\n", w->data_msgs, w->len,
          w->rsv1 ? " compressed" : "");
    const struct msg *m = &c->sent.m[w->data_msgs++];
    FUZZ_CHECK(m->type == w->opcode);
    if (w->rsv1) {
      FUZZ_CHECK(c->pmd);
      wire_inflate_check(w, m);
    } else {
      FUZZ_CHECK(w->len == m->len);
      FUZZ_CHECK(m->len == 0 || memcmp(w->payload, m->data, m->len) == 0);
    }
    break;
  }
  case WS_OP_PING: {
    FUZZ_CHECK(w->pings < c->pings.len);
    const struct msg *m = &c->pings.m[w->pings++];
    FUZZ_CHECK(w->len == m->len && (m->len == 0 || memcmp(w->payload, m->data, m->len) == 0));
    break;
  }
  case WS_OP_PONG:
    break;
  case WS_OP_CLOSE:
    TRACE("  wire: close, %zu bytes\n", w->len);
    FUZZ_CHECK(!w->close_seen);
    w->close_seen = true;
    FUZZ_CHECK(w->len != 1);
    if (w->len >= 2) {
      uint16_t code = (uint16_t)(w->payload[0] << 8 | w->payload[1]);
      FUZZ_CHECK(ws_close_code_is_valid(code));
      FUZZ_CHECK(ws_utf8_validate(w->payload + 2, w->len - 2));
    }
    if (w->len)
      memcpy(w->close_payload, w->payload, w->len);
    w->close_len = w->len;
    break;
  default:
    FUZZ_CHECK(!"unexpected opcode from the client");
  }
  w->len = 0;
}

/* Feeds bytes the socket "wrote" to the server-side decoder. */
static void wire_feed(struct ctx *c, const uint8_t *p, size_t n) {
  struct wire *w = &c->w;
  size_t i = 0;
  while (i < n) {
    struct ws_frame_chunk ch;
    size_t used;
    int rv = ws_frame_decode(&w->dec, p + i, n - i, &used, &ch);
    FUZZ_CHECK(rv >= 0); /* our frames are always valid and masked */
    i += used;
    if (rv == 0)
      break;
    if (ch.first) {
      FUZZ_CHECK(!w->close_seen); /* nothing after our close */
      w->opcode = w->dec.hdr.opcode;
      w->rsv1 = (w->dec.hdr.rsv & WS_RSV1) != 0;
      FUZZ_CHECK(w->dec.hdr.fin);
      FUZZ_CHECK(w->opcode != WS_OP_CONTINUATION);
      FUZZ_CHECK(!w->rsv1 || w->opcode == WS_OP_TEXT || w->opcode == WS_OP_BINARY);
      w->len = 0;
    }
    if (ch.len) {
      size_t at = w->len;
      wire_append(w, ch.data, ch.len);
      ws_frame_mask(w->payload + at, w->payload + at, ch.len, w->dec.hdr.mask_key, ch.offset);
    }
    if (ch.last)
      wire_frame_done(c);
  }
}

/* ---- driving ----------------------------------------------------------- */

static void check_output(struct ctx *c) {
  struct ws_iovec iov[8];
  size_t n = ws_session_peek_output(c->s, iov, 8);
  FUZZ_CHECK(n <= 4);
  size_t sum = 0;
  for (size_t i = 0; i < n; i++) {
    FUZZ_CHECK(iov[i].len > 0 && iov[i].base != NULL);
    sum += iov[i].len;
  }
  FUZZ_CHECK(sum == ws_session_want_write(c->s));
}

static void drain(struct ctx *c, size_t want) {
  check_output(c);
  size_t pending = ws_session_want_write(c->s);
  if (want > pending)
    want = pending;
  if (want == 0)
    return;
  uint8_t *copy = malloc(want);
  FUZZ_CHECK(copy != NULL);
  struct ws_iovec iov[4];
  size_t n = ws_session_peek_output(c->s, iov, 4), got = 0;
  for (size_t i = 0; i < n && got < want; i++) {
    size_t k = iov[i].len < want - got ? iov[i].len : want - got;
    memcpy(copy + got, iov[i].base, k);
    got += k;
  }
  FUZZ_CHECK(got == want);
  wire_feed(c, copy, want);
  free(copy);
  FUZZ_CHECK(ws_session_consume_output(c->s, want) == 0);
  /* Every message whose last byte left is acknowledged, in order. */
  FUZZ_CHECK(c->nacks == c->w.data_msgs);
  for (size_t i = 0; i < c->nacks; i++)
    FUZZ_CHECK(c->acks[i] == c->sent.m[i].len);
  FUZZ_CHECK(ws_session_want_write(c->s) == pending - want);
}

/* ---- the shadow decoder and direct receive ------------------------------ */

/* Feeds the shadow what the session just took. It stops once the session
 * stops reading (closed or failed: the rest of that input was dropped);
 * until then the session accepted every byte, so the shadow must too. */
static void shadow_feed(struct ctx *c, const uint8_t *p, size_t n) {
  if (!c->shadow_live)
    return;
  if (!ws_session_want_read(c->s)) {
    c->shadow_live = false;
    return;
  }
  while (n) {
    struct ws_frame_chunk ch;
    size_t used;
    int rv = ws_frame_decode(&c->shadow, p, n, &used, &ch);
    FUZZ_CHECK(rv >= 0);
    p += used;
    n -= used;
    if (rv == 0)
      break;
    if (ch.first) {
      c->shadow_op = c->shadow.hdr.opcode;
      if (c->shadow_op == WS_OP_TEXT || c->shadow_op == WS_OP_BINARY)
        c->shadow_compressed = (c->shadow.hdr.rsv & WS_RSV1) != 0;
    }
  }
}

/* The next bytes on the wire are at least `min` payload bytes of an
 * uncompressed data frame: where a direct buffer must be offered. */
static bool shadow_direct_ok(const struct ctx *c, size_t min) {
  return c->shadow_live && ws_session_want_read(c->s) &&
         c->shadow.state == WS_FRAME_STATE_PAYLOAD && !ws_opcode_is_control(c->shadow_op) &&
         !c->shadow_compressed && c->shadow.remaining >= min;
}

/* The results ws_session_recv and ws_session_recv_direct share. */
static void check_recv_result(struct ctx *c, int rv, int before, bool closed_before, long f0) {
  if (before) {
    FUZZ_CHECK(rv == before); /* sticky */
  } else if (rv < 0) {
    FUZZ_CHECK(ws_session_state(c->s) == WS_SESSION_FAILED);
    FUZZ_CHECK(ws_session_error(c->s) == rv);
    FUZZ_CHECK(c->errors == 1 && c->last_error == rv);
    FUZZ_CHECK(!ws_session_want_read(c->s));
    if (rv == WS_ERR_NOMEM)
      FUZZ_CHECK(c->a.failures > f0);
    FUZZ_CHECK(ws_error_close_code(rv) != 0);
  } else {
    FUZZ_CHECK(rv == 0);
    FUZZ_CHECK(c->errors == 0);
  }
  if (closed_before)
    FUZZ_CHECK(rv == 0 && ws_session_state(c->s) == WS_SESSION_CLOSED);
  if (ws_session_state(c->s) == WS_SESSION_CLOSED)
    FUZZ_CHECK(!ws_session_want_read(c->s));
}

static void do_recv(struct ctx *c, const uint8_t *d, size_t len) {
  int before = ws_session_error(c->s);
  bool closed_before = ws_session_state(c->s) == WS_SESSION_CLOSED;
  long f0 = c->a.failures;
  uint8_t *copy = fuzz_dup(d, len);
  c->in_recv = true;
  int rv = ws_session_recv(c->s, copy, len);
  c->in_recv = false;
  free(copy);
  TRACE("  recv %zu -> %s\n", len, ws_error_name(rv));
  check_recv_result(c, rv, before, closed_before, f0);
  shadow_feed(c, d, len);
}

/* One direct-receive op (see the input format). */
static void do_direct(struct ctx *c, size_t min, struct fuzz_split *sp, const uint8_t *d,
                      size_t len) {
  size_t pos = 0;
  while (pos < len) {
    size_t n = fuzz_split_next(sp, len - pos);
    int before = ws_session_error(c->s);
    enum ws_session_state st = ws_session_state(c->s);
    long f0 = c->a.failures;
    size_t room = 777;
    uint8_t *buf = ws_session_direct_buffer(c->s, min, &room);
    TRACE("  direct_buffer min %zu -> %s %zu\n", min, buf ? "buffer" : "NULL", room);
    FUZZ_CHECK(ws_session_state(c->s) == st && ws_session_error(c->s) == before);
    if (!buf) {
      FUZZ_CHECK(room == 0);
      /* refused where it must be offered only when the buffer could not grow */
      if (shadow_direct_ok(c, min))
        FUZZ_CHECK(c->a.failures > f0);
      /* nothing offered, nothing to report (in_recv: if the session took
       * the byte anyway, its callbacks must not stop the check below) */
      c->in_recv = true;
      int rv = ws_session_recv_direct(c->s, 1);
      c->in_recv = false;
      FUZZ_CHECK(rv == (before ? before : WS_ERR_INVALID_ARGUMENT));
      do_recv(c, d + pos, n);
      pos += n;
      continue;
    }
    /* Offered for `min` bytes on the wire, not necessarily that much room:
     * at least min or one growth step, whichever is less. */
    FUZZ_CHECK(room > 0 && room >= (min < DIRECT_STEP ? min : DIRECT_STEP));
    FUZZ_CHECK(shadow_direct_ok(c, min));
    FUZZ_CHECK(room <= c->shadow.remaining);
    /* out-of-range n: refused, nothing changed, nothing allocated */
    long calls = c->a.calls;
    FUZZ_CHECK(ws_session_recv_direct(c->s, 0) == WS_ERR_INVALID_ARGUMENT);
    if (room < SIZE_MAX)
      FUZZ_CHECK(ws_session_recv_direct(c->s, room + 1) == WS_ERR_INVALID_ARGUMENT);
    size_t room2 = 0;
    FUZZ_CHECK(ws_session_direct_buffer(c->s, min, &room2) == buf && room2 == room);
    FUZZ_CHECK(c->a.calls == calls && ws_session_state(c->s) == st);
    if (n > room)
      n = room;
    memcpy(buf, d + pos, n);
    bool closed_before = st == WS_SESSION_CLOSED;
    c->in_recv = true;
    int rv = ws_session_recv_direct(c->s, n);
    c->in_recv = false;
    TRACE("  recv_direct %zu -> %s\n", n, ws_error_name(rv));
    FUZZ_CHECK(rv != WS_ERR_INVALID_ARGUMENT && rv != WS_ERR_INVALID_STATE);
    check_recv_result(c, rv, before, closed_before, f0);
    /* the shadow takes the same bytes as read outside it */
    if (ws_session_want_read(c->s)) {
      struct ws_frame_chunk ch;
      FUZZ_CHECK(ws_frame_decode_external(&c->shadow, d + pos, n, &ch) == 1);
      FUZZ_CHECK(!ch.first && ch.len == n);
    } else {
      c->shadow_live = false;
    }
    pos += n;
  }
}

static const uint64_t max_sizes[8] = {1, 7, 125, 126, 1000, 4096, 65536, 0};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fuzz_in in = {data, size};
  uint8_t flags = fuzz_u8(&in), wbits = fuzz_u8(&in), fail_at = fuzz_u8(&in);

  struct ctx *c = calloc(1, sizeof *c);
  FUZZ_CHECK(c != NULL);
  c->a.fail_at = fail_at;
  c->mem = (struct ws_mem){a_malloc, a_realloc, a_free, &c->a};
  c->take_buffer = flags & 8;
  c->echo = flags & 16;
  c->rng = 0x9E3779B97F4A7C15u;
  c->rand_fail_call = wbits & 0x80 ? 1 : wbits & 0x08 ? 2 : 0;
  struct ws_session_options opt = {max_sizes[flags >> 5], 0};
  c->max_message = opt.max_message_size ? opt.max_message_size : WS_SESSION_DEFAULT_MAX_MESSAGE;
  struct ws_session_callbacks cb = {cb_rand, cb_message, cb_ping, cb_pong,
                                    cb_close, cb_error, cb_ack};

  int rv = ws_session_new(&c->s, &cb, &opt, &c->mem, c);
  if (rv != 0) {
    FUZZ_CHECK((rv == WS_ERR_NOMEM && c->a.failures == 1) ||
               (rv == WS_ERR_CALLBACK_FAILURE && c->rand_failed));
    FUZZ_CHECK(c->s == NULL);
    goto out;
  }
  FUZZ_CHECK(ws_session_state(c->s) == WS_SESSION_OPEN && ws_session_want_read(c->s));
  FUZZ_CHECK(ws_session_take_message_buffer(c->s, &(size_t){0}) == NULL);
  if (flags & 1) {
    struct ws_pmd_params p = {(flags & 2) != 0, (flags & 4) != 0,
                              (uint8_t)(8 + (wbits & 7)), (uint8_t)(8 + ((wbits >> 4) & 7))};
    rv = ws_session_enable_pmd(c->s, &p);
    FUZZ_CHECK(rv == 0 || rv == WS_ERR_NOMEM);
    c->pmd = rv == 0;
    if (c->pmd)
      FUZZ_CHECK(ws_session_enable_pmd(c->s, &p) == WS_ERR_INVALID_STATE);
  }
  ws_frame_decoder_init(&c->w.dec, WS_FRAME_SERVER, c->pmd ? WS_RSV1 : 0);
  ws_frame_decoder_init(&c->shadow, WS_FRAME_CLIENT, c->pmd ? WS_RSV1 : 0);
  c->shadow_live = true;
  c->prealloc = true;

  bool closed_ok = false;
  uint8_t our_close[WS_CONTROL_MAX];
  size_t our_close_len = 0;
  while (in.n > 0) {
    /* Memory follows what arrived (see the oracles): the bound grows with
     * the input read so far. */
    if (!c->pmd)
      c->a.bound = 2 * DIRECT_STEP + 64 * (size - in.n + 1) + (c->prealloc ? PREALLOC_MAX : 0);
    uint8_t op = fuzz_u8(&in);
    const uint8_t *d;
    size_t len;
    switch (op & 7) {
    case 2:
      if (op & 0x40) {
        uint8_t m = fuzz_u8(&in);
        size_t min = m & 0x80 ? (size_t)1 << (m & 31) : (size_t)m + 1;
        struct fuzz_split sp;
        fuzz_split_init(&sp, &in);
        len = fuzz_bytes(&in, op & 0x80 ? fuzz_u16(&in) : fuzz_u8(&in), &d);
        c->prealloc = !(op & 0x20);
        ws_session_set_prealloc(c->s, c->prealloc);
        if (!c->pmd)
          c->a.bound = 2 * DIRECT_STEP + 64 * (size - in.n) + (c->prealloc ? PREALLOC_MAX : 0);
        do_direct(c, min, &sp, d, len);
        break;
      }
      /* fall through */
    case 0:
    case 1:
      len = fuzz_bytes(&in, op & 0x80 ? fuzz_u16(&in) : fuzz_u8(&in), &d);
      do_recv(c, d, len);
      break;
    case 3:
    case 4:
      len = fuzz_bytes(&in, fuzz_u16(&in), &d);
      do_send(c, (op & 7) == 3 ? WS_OP_TEXT : WS_OP_BINARY, d, len);
      break;
    case 5:
      len = fuzz_bytes(&in, fuzz_u16(&in), &d);
      do_send(c, op & 8 ? WS_OP_PONG : WS_OP_PING, d, len);
      break;
    case 6: {
      uint16_t code = fuzz_u16(&in);
      len = fuzz_bytes(&in, fuzz_u8(&in), &d);
      enum ws_session_state st = ws_session_state(c->s);
      rv = ws_session_send_close(c->s, code, d, len);
      bool args_ok = code == 0 ? len == 0
                               : ws_close_code_is_valid(code) && len <= WS_CONTROL_MAX - 2 &&
                                     ws_utf8_validate(d, len);
      if (rv == 0) {
        FUZZ_CHECK(st == WS_SESSION_OPEN && args_ok);
        FUZZ_CHECK(ws_session_state(c->s) == WS_SESSION_CLOSE_SENT);
        closed_ok = true;
        our_close_len = 0;
        if (code) {
          our_close[0] = (uint8_t)(code >> 8);
          our_close[1] = (uint8_t)code;
          memcpy(our_close + 2, d, len);
          our_close_len = 2 + len;
        }
      } else {
        FUZZ_CHECK(rv == WS_ERR_INVALID_STATE || rv == WS_ERR_INVALID_ARGUMENT);
        FUZZ_CHECK(st != WS_SESSION_OPEN || !args_ok);
        if (st == WS_SESSION_OPEN)
          FUZZ_CHECK(rv == WS_ERR_INVALID_ARGUMENT);
        FUZZ_CHECK(ws_session_state(c->s) == st);
      }
      break;
    }
    default: {
      size_t n = fuzz_u16(&in);
      if (op & 8) {
        size_t pending = ws_session_want_write(c->s);
        FUZZ_CHECK(ws_session_consume_output(c->s, pending + 1) == WS_ERR_INVALID_ARGUMENT);
        FUZZ_CHECK(ws_session_want_write(c->s) == pending);
      }
      drain(c, n);
      break;
    }
    }
    check_output(c);
    FUZZ_CHECK(ws_session_take_message_buffer(c->s, &(size_t){0}) == NULL);
  }

  drain(c, SIZE_MAX);
  c->a.bound = 0;
  FUZZ_CHECK(ws_session_want_write(c->s) == 0);
  enum ws_session_state st = ws_session_state(c->s);
  FUZZ_CHECK(ws_session_is_finished(c->s) ==
             (st == WS_SESSION_CLOSED || st == WS_SESSION_FAILED));
  if (st != WS_SESSION_OPEN)
    FUZZ_CHECK(c->w.close_seen);
  if (closed_ok && ws_session_error(c->s) == 0) {
    FUZZ_CHECK(c->w.close_len == our_close_len);
    FUZZ_CHECK(our_close_len == 0 || memcmp(c->w.close_payload, our_close, our_close_len) == 0);
  }
  /* Unsent data is dropped only by a failure or by the server's close (our
   * close is then sent at once, ws_session.c ws_close_now). */
  if (ws_session_error(c->s) == 0 && !c->server_closed)
    FUZZ_CHECK(c->w.data_msgs == c->sent.len && c->w.pings == c->pings.len);
  ws_session_del(c->s);
out:
  FUZZ_CHECK(c->a.live == 0);
  if (c->w.z_init)
    inflateEnd(&c->w.z);
  free(c->w.payload);
  fifo_free(&c->sent);
  fifo_free(&c->pings);
  free(c->acks);
  free(c);
  return 0;
}
