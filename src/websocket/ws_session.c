/*
 * ws_session.c — messages, control frames, close handshake and the output
 * queue of a client WebSocket connection (RFC 6455 §5-§7).
 *
 * Output is kept in three places so pongs can overtake queued data without
 * splitting a frame: `data` (masked data frames, back to back, with one ack
 * record per frame), `ctl` (masked pings/pongs) and one fixed close slot.
 * `data_locked` is the rest of a data frame the socket has partly written;
 * it must go out before anything else.
 */
#include "ws_session.h"

#include <string.h>

#include "ws_deflate.h"
#include "ws_utf8.h"

/* Buffers at most this big are kept when they empty, so an idle connection
 * holds little and a busy one does not malloc per message. */
#define WS_KEEP_BUFFER 4096
/* A final frame up to this size gets its buffer in one allocation. */
#define WS_PREALLOC_MAX (4u << 20)
/* Direct receive grows a buffer by at least this much at a time. */
#define WS_DIRECT_STEP (256u << 10)
#define WS_RAND_POOL 64
#define WS_CLOSE_FRAME_MAX (2 + 4 + WS_CONTROL_MAX)

/* Bytes [head, tail) of p are live. */
struct ws_buf {
  uint8_t *p;
  size_t head, tail, cap;
};

struct ws_ack {
  uint64_t end;  /* output stream offset just past the frame */
  uint64_t size; /* message size reported to on_acknowledge */
};

struct ws_session {
  struct ws_mem mem;
  struct ws_session_callbacks cb;
  void *user_data;
  uint64_t max_message;
  enum ws_session_state state;
  int error;
  bool in_callback;
  bool close_queued; /* our close frame is in the close slot */
  bool traffic;      /* data has been received or queued (ends enable_pmd's window) */
  struct ws_pmd *pmd; /* permessage-deflate codec; NULL when not negotiated */

  /* ---- inbound ---- */
  struct ws_frame_decoder dec;
  uint8_t frame_op;  /* opcode of the frame being received */
  bool frame_fin;
  bool msg_open;     /* a data message has started and not finished */
  uint8_t msg_type;  /* WS_OP_TEXT / WS_OP_BINARY */
  bool msg_compressed; /* RSV1 on its first frame (RFC 7692 §6) */
  uint64_t msg_len;  /* bytes of the open message so far */
  struct ws_utf8 utf8;
  uint8_t *msg_buf;  /* assembly buffer for fragmented / split messages */
  size_t msg_cap;
  bool delivering_buf; /* on_message is running on msg_buf */
  bool no_prealloc;    /* ws_session_set_prealloc(false) */
  size_t direct_offer; /* room the last ws_session_direct_buffer gave; 0 = none */
  uint8_t ctl_in[WS_CONTROL_MAX];
  size_t ctl_in_len;
  struct ws_utf8 reason_utf8;

  /* ---- outbound ---- */
  struct ws_buf data;
  uint64_t data_off;       /* stream offset of data.p[data.head] */
  uint64_t frame_start;    /* stream offset where the first unacked frame starts */
  uint64_t data_locked;    /* bytes at data.head finishing a partly written frame */
  struct ws_ack *acks;
  size_t ack_head, ack_tail, ack_cap;
  struct ws_buf ctl;
  uint8_t close_frame[WS_CLOSE_FRAME_MAX];
  size_t close_len, close_off;
  uint8_t close_key[4]; /* reserved at creation: a close can always be masked */
  uint8_t pool[WS_RAND_POOL];
  size_t pool_pos;
};

static const uint8_t ws_empty[1];

/* ---- small helpers ----------------------------------------------------- */

static size_t ws_buf_len(const struct ws_buf *b) { return b->tail - b->head; }

/* Makes room for n more bytes at the tail. On failure nothing is lost. */
static int ws_buf_reserve(const struct ws_mem *mem, struct ws_buf *b, size_t n) {
  size_t used = ws_buf_len(b);
  if (b->cap - b->tail >= n)
    return 0;
  if (b->head && b->head >= used && b->cap - used >= n) {
    /* Moving `used` bytes is paid for by the `head` bytes already sent. */
    memmove(b->p, b->p + b->head, used);
    b->head = 0;
    b->tail = used;
    return 0;
  }
  if (n > SIZE_MAX / 2 - used)
    return WS_ERR_NOMEM;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < used + n)
    cap *= 2;
  if (b->head) {
    memmove(b->p, b->p + b->head, used);
    b->head = 0;
    b->tail = used;
  }
  uint8_t *p = ws_mem_realloc(mem, b->p, cap);
  if (!p)
    return WS_ERR_NOMEM;
  b->p = p;
  b->cap = cap;
  return 0;
}

/* Drops n bytes from the head; releases big buffers once empty. */
static void ws_buf_advance(const struct ws_mem *mem, struct ws_buf *b, size_t n) {
  b->head += n;
  if (b->head == b->tail) {
    b->head = b->tail = 0;
    if (b->cap > WS_KEEP_BUFFER) {
      ws_mem_free(mem, b->p);
      b->p = NULL;
      b->cap = 0;
    }
  }
}

static int ws_ack_reserve(struct ws_session *s) {
  if (s->ack_tail < s->ack_cap)
    return 0;
  size_t used = s->ack_tail - s->ack_head;
  if (s->ack_head) {
    memmove(s->acks, s->acks + s->ack_head, used * sizeof *s->acks);
    s->ack_head = 0;
    s->ack_tail = used;
    if (used < s->ack_cap)
      return 0;
  }
  size_t cap = s->ack_cap ? s->ack_cap * 2 : 16;
  struct ws_ack *a = ws_mem_realloc(&s->mem, s->acks, cap * sizeof *a);
  if (!a)
    return WS_ERR_NOMEM;
  s->acks = a;
  s->ack_cap = cap;
  return 0;
}

static int ws_mask_key(struct ws_session *s, uint8_t key[4]) {
  if (s->pool_pos + 4 > WS_RAND_POOL) {
    if (s->cb.rand(s->user_data, s->pool, WS_RAND_POOL) != 0)
      return WS_ERR_CALLBACK_FAILURE;
    s->pool_pos = 0;
  }
  memcpy(key, s->pool + s->pool_pos, 4);
  s->pool_pos += 4;
  return 0;
}

bool ws_close_code_is_valid(uint16_t code) {
  /* RFC 6455 §7.4.1-§7.4.2 plus the IANA registry (1012-1014), as
   * Autobahn|Testsuite 7.7/7.9 check: 1004-1006 and 1015 are never sent,
   * 0-999 and 1016-2999 are not in use, 5000+ do not exist. */
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

/* ---- output ------------------------------------------------------------ */

/* Builds a masked frame (header + payload) at `out`; returns its length. */
static size_t ws_build_frame(uint8_t *out, unsigned rsv, unsigned opcode, const uint8_t *data,
                             size_t len, const uint8_t key[4]) {
  size_t h = ws_frame_header_encode(out, true, rsv, opcode, len, key);
  if (len)
    ws_frame_mask(out + h, data, len, key, 0);
  return h + len;
}

/* Records that the frame just appended to the data queue ends a message
 * of `size` bytes (ws_ack_reserve made room). */
static void ws_push_ack(struct ws_session *s, uint64_t size) {
  struct ws_ack *a = &s->acks[s->ack_tail++];
  a->end = s->data_off + ws_buf_len(&s->data);
  a->size = size;
}

/* Queues one data message as a single FIN frame. `size` is what
 * on_acknowledge will report (the size before any extension transform). */
static int ws_queue_message(struct ws_session *s, unsigned opcode, unsigned rsv,
                            const uint8_t *data, size_t len, uint64_t size) {
  if (s->state != WS_SESSION_OPEN)
    return WS_ERR_INVALID_STATE;
  if (len > SIZE_MAX - WS_FRAME_HEADER_MAX)
    return WS_ERR_INVALID_ARGUMENT;
  size_t total = ws_frame_header_size(len, true) + len;
  int rv;
  if ((rv = ws_ack_reserve(s)) < 0 || (rv = ws_buf_reserve(&s->mem, &s->data, total)) < 0)
    return rv;
  uint8_t key[4];
  if ((rv = ws_mask_key(s, key)) < 0)
    return rv;
  s->data.tail += ws_build_frame(s->data.p + s->data.tail, rsv, opcode, data, len, key);
  ws_push_ack(s, size);
  return 0;
}

/* Room reserved for compressed output before deflating: enough for text
 * that compresses at least 2:1; beyond that the buffer grows as output
 * comes (so a big compressible message does not hold its full size). */
static size_t ws_deflate_first_room(size_t len, size_t bound) {
  size_t guess = len / 2 + 1024;
  return guess < bound ? guess : bound;
}

/* RFC 7692 §7.2.1: compresses a message into one FIN frame with RSV1,
 * deflating straight into the data queue behind room for the header.
 * Failures before the compressor took input leave everything unchanged;
 * later ones switch compression off (ws_pmd_deflate_abort) so both
 * windows stay in step. on_acknowledge reports the original `len`. */
static int ws_queue_deflated(struct ws_session *s, unsigned opcode, const uint8_t *data,
                             size_t len) {
  struct ws_pmd *p = s->pmd;
  size_t bound;
  uint8_t key[4];
  int rv;
  if (len > SIZE_MAX / 2)
    return WS_ERR_NOMEM;
  if ((rv = ws_ack_reserve(s)) < 0 || (rv = ws_pmd_deflate_begin(p, len, &bound)) < 0)
    return rv;
  rv = ws_buf_reserve(&s->mem, &s->data, WS_FRAME_HEADER_MAX + ws_deflate_first_room(len, bound));
  if (rv >= 0)
    rv = ws_mask_key(s, key);
  if (rv < 0) {
    ws_pmd_deflate_end(p); /* it has taken nothing: its window is intact */
    return rv;
  }
  const uint8_t *in = data;
  size_t left = len, clen = 0;
  for (;;) {
    size_t at = s->data.tail + WS_FRAME_HEADER_MAX + clen, produced;
    rv = ws_pmd_deflate(p, &in, &left, s->data.p + at, s->data.cap - at, &produced);
    clen += produced;
    if (rv < 0 || rv == WS_PMD_DONE)
      break;
    /* Grow, counting the output as queued for the moment so that a
     * compaction inside ws_buf_reserve moves it too. */
    s->data.tail += WS_FRAME_HEADER_MAX + clen;
    rv = ws_buf_reserve(&s->mem, &s->data, 4096);
    s->data.tail -= WS_FRAME_HEADER_MAX + clen;
    if (rv < 0)
      break;
  }
  static const uint8_t flush_tail[4] = {0x00, 0x00, 0xff, 0xff};
  if (rv >= 0 &&
      (clen < 4 ||
       memcmp(s->data.p + s->data.tail + WS_FRAME_HEADER_MAX + clen - 4, flush_tail, 4) != 0))
    rv = WS_ERR_INTERNAL;
  if (rv < 0) {
    ws_pmd_deflate_abort(p);
    return rv;
  }
  clen -= 4; /* §7.2.1: remove the trailing 00 00 ff ff */
  size_t flen;
  if (ws_pmd_may_discard(p) && clen >= len) {
    /* Messages are independent and deflate did not help: send it as is
     * (RSV1 clear). The compressor is dropped either way. */
    ws_pmd_deflate_end(p);
    if ((rv = ws_buf_reserve(&s->mem, &s->data, WS_FRAME_HEADER_MAX + len)) < 0)
      return rv;
    flen = ws_build_frame(s->data.p + s->data.tail, 0, opcode, data, len, key);
  } else {
    uint8_t *frame = s->data.p + s->data.tail;
    size_t h = ws_frame_header_encode(frame, true, WS_RSV1, opcode, clen, key);
    memmove(frame + h, frame + WS_FRAME_HEADER_MAX, clen);
    ws_frame_mask(frame + h, frame + h, clen, key, 0);
    flen = h + clen;
    ws_pmd_deflate_end(p);
  }
  s->data.tail += flen;
  ws_push_ack(s, len);
  return 0;
}

static int ws_queue_control(struct ws_session *s, unsigned opcode, const uint8_t *data,
                            size_t len) {
  int rv = ws_buf_reserve(&s->mem, &s->ctl, 2 + 4 + len);
  if (rv < 0)
    return rv;
  uint8_t key[4];
  if ((rv = ws_mask_key(s, key)) < 0)
    return rv;
  s->ctl.tail += ws_build_frame(s->ctl.p + s->ctl.tail, 0, opcode, data, len, key);
  return 0;
}

/* Fills the close slot. code 0 = empty body. Never allocates and never
 * fails: the key was reserved at creation. */
static void ws_fill_close(struct ws_session *s, uint16_t code, const uint8_t *reason,
                          size_t reason_len) {
  uint8_t body[WS_CONTROL_MAX];
  size_t n = 0;
  if (code) {
    body[0] = (uint8_t)(code >> 8);
    body[1] = (uint8_t)code;
    if (reason_len)
      memcpy(body + 2, reason, reason_len);
    n = 2 + reason_len;
  }
  s->close_len = ws_build_frame(s->close_frame, 0, WS_OP_CLOSE, body, n, s->close_key);
  s->close_off = 0;
  s->close_queued = true;
}

/* An immediate close (echo or failure): nothing but the rest of a partly
 * written data frame and queued control frames may precede it (§5.5.1:
 * no data frames after a close). */
static void ws_close_now(struct ws_session *s, uint16_t code) {
  s->data.tail = s->data.head + (size_t)s->data_locked;
  s->ack_tail = s->data_locked ? s->ack_head + 1 : s->ack_head;
  if (ws_buf_len(&s->data) == 0)
    ws_buf_advance(&s->mem, &s->data, 0);
  ws_fill_close(s, code, NULL, 0);
}

size_t ws_session_want_write(const struct ws_session *s) {
  return ws_buf_len(&s->data) + ws_buf_len(&s->ctl) + (s->close_len - s->close_off);
}

size_t ws_session_peek_output(const struct ws_session *s, struct ws_iovec *iov, size_t max) {
  struct ws_iovec seg[4];
  size_t n = 0;
  size_t locked = (size_t)s->data_locked;
  if (locked)
    seg[n++] = (struct ws_iovec){s->data.p + s->data.head, locked};
  if (ws_buf_len(&s->ctl))
    seg[n++] = (struct ws_iovec){s->ctl.p + s->ctl.head, ws_buf_len(&s->ctl)};
  if (ws_buf_len(&s->data) > locked)
    seg[n++] = (struct ws_iovec){s->data.p + s->data.head + locked, ws_buf_len(&s->data) - locked};
  if (s->close_len > s->close_off)
    seg[n++] = (struct ws_iovec){s->close_frame + s->close_off, s->close_len - s->close_off};
  if (n > max)
    n = max;
  memcpy(iov, seg, n * sizeof *seg);
  return n;
}

/* Takes n bytes from the data queue; settles frame boundaries. */
static void ws_data_advance(struct ws_session *s, size_t n) {
  ws_buf_advance(&s->mem, &s->data, n);
  s->data_off += n;
}

static void ws_fire_acks(struct ws_session *s) {
  while (s->ack_head < s->ack_tail && s->acks[s->ack_head].end <= s->data_off) {
    struct ws_ack a = s->acks[s->ack_head++];
    s->frame_start = a.end;
    if (s->ack_head == s->ack_tail)
      s->ack_head = s->ack_tail = 0;
    if (s->cb.on_acknowledge)
      s->cb.on_acknowledge(s->user_data, a.size);
  }
}

int ws_session_consume_output(struct ws_session *s, size_t n) {
  if (s->in_callback)
    return WS_ERR_INVALID_STATE;
  if (n > ws_session_want_write(s))
    return WS_ERR_INVALID_ARGUMENT;
  size_t take = n < s->data_locked ? n : (size_t)s->data_locked;
  ws_data_advance(s, take);
  s->data_locked -= take;
  n -= take;
  take = n < ws_buf_len(&s->ctl) ? n : ws_buf_len(&s->ctl);
  ws_buf_advance(&s->mem, &s->ctl, take);
  n -= take;
  take = n < ws_buf_len(&s->data) ? n : ws_buf_len(&s->data);
  ws_data_advance(s, take);
  n -= take;
  s->close_off += n;

  /* Where does the data queue now start: on a frame boundary or inside
   * a frame that must be finished before any control frame? */
  uint64_t start = s->frame_start;
  for (size_t i = s->ack_head; i < s->ack_tail && s->acks[i].end <= s->data_off; i++)
    start = s->acks[i].end;
  if (s->ack_head < s->ack_tail && s->data_off > start) {
    size_t i = s->ack_head;
    while (s->acks[i].end <= s->data_off)
      i++;
    s->data_locked = s->acks[i].end - s->data_off;
  }
  s->in_callback = true;
  ws_fire_acks(s);
  s->in_callback = false;
  return 0;
}

/* ---- lifecycle --------------------------------------------------------- */

int ws_session_new(struct ws_session **out, const struct ws_session_callbacks *cb,
                   const struct ws_session_options *opt, const struct ws_mem *mem,
                   void *user_data) {
  *out = NULL;
  if (!cb || !cb->rand)
    return WS_ERR_INVALID_ARGUMENT;
  if (!mem)
    mem = ws_mem_default();
  struct ws_session *s = ws_mem_malloc(mem, sizeof *s);
  if (!s)
    return WS_ERR_NOMEM;
  memset(s, 0, sizeof *s);
  s->mem = *mem;
  s->cb = *cb;
  s->user_data = user_data;
  s->max_message = opt && opt->max_message_size ? opt->max_message_size
                                                 : WS_SESSION_DEFAULT_MAX_MESSAGE;
  s->state = WS_SESSION_OPEN;
  ws_frame_decoder_init(&s->dec, WS_FRAME_CLIENT, opt ? opt->rsv_allowed : 0);
  s->pool_pos = WS_RAND_POOL;
  if (cb->rand(user_data, s->close_key, 4) != 0) {
    ws_mem_free(mem, s);
    return WS_ERR_CALLBACK_FAILURE;
  }
  *out = s;
  return 0;
}

void ws_session_del(struct ws_session *s) {
  if (!s)
    return;
  struct ws_mem mem = s->mem;
  ws_mem_free(&mem, s->data.p);
  ws_mem_free(&mem, s->ctl.p);
  ws_mem_free(&mem, s->acks);
  ws_mem_free(&mem, s->msg_buf);
  ws_pmd_del(s->pmd);
  ws_mem_free(&mem, s);
}

int ws_session_enable_pmd(struct ws_session *s, const struct ws_pmd_params *params) {
  if (s->in_callback || s->pmd || s->traffic || s->state != WS_SESSION_OPEN)
    return WS_ERR_INVALID_STATE;
  int rv = ws_pmd_new(&s->pmd, params, &s->mem);
  if (rv < 0)
    return rv;
  /* RFC 7692 §6: RSV1 marks a compressed message. */
  ws_frame_decoder_set_rsv(&s->dec, s->dec.rsv_allowed | WS_RSV1);
  return 0;
}

enum ws_session_state ws_session_state(const struct ws_session *s) { return s->state; }

int ws_session_error(const struct ws_session *s) { return s->error; }

bool ws_session_want_read(const struct ws_session *s) {
  return s->state == WS_SESSION_OPEN || s->state == WS_SESSION_CLOSE_SENT;
}

bool ws_session_is_finished(const struct ws_session *s) {
  return (s->state == WS_SESSION_CLOSED || s->state == WS_SESSION_FAILED) &&
         ws_session_want_write(s) == 0;
}

/* ---- sending ----------------------------------------------------------- */

static int ws_send_data(struct ws_session *s, unsigned opcode, const uint8_t *data, size_t len) {
  if (s->state != WS_SESSION_OPEN)
    return WS_ERR_INVALID_STATE;
  int rv = s->pmd && ws_pmd_want_compress(s->pmd, len)
               ? ws_queue_deflated(s, opcode, data, len)
               : ws_queue_message(s, opcode, 0, data, len, len);
  if (rv == 0)
    s->traffic = true;
  return rv;
}

int ws_session_send_text(struct ws_session *s, const uint8_t *data, size_t len) {
  if (s->state != WS_SESSION_OPEN)
    return WS_ERR_INVALID_STATE;
  if (!ws_utf8_validate(data, len))
    return WS_ERR_INVALID_ARGUMENT;
  return ws_send_data(s, WS_OP_TEXT, data, len);
}

int ws_session_send_binary(struct ws_session *s, const uint8_t *data, size_t len) {
  return ws_send_data(s, WS_OP_BINARY, data, len);
}

static int ws_send_control(struct ws_session *s, unsigned opcode, const uint8_t *data,
                           size_t len) {
  if (s->state != WS_SESSION_OPEN)
    return WS_ERR_INVALID_STATE;
  if (len > WS_CONTROL_MAX)
    return WS_ERR_INVALID_ARGUMENT;
  return ws_queue_control(s, opcode, data, len);
}

int ws_session_send_ping(struct ws_session *s, const uint8_t *data, size_t len) {
  return ws_send_control(s, WS_OP_PING, data, len);
}

int ws_session_send_pong(struct ws_session *s, const uint8_t *data, size_t len) {
  return ws_send_control(s, WS_OP_PONG, data, len);
}

int ws_session_send_close(struct ws_session *s, uint16_t code, const uint8_t *reason,
                          size_t reason_len) {
  if (s->state != WS_SESSION_OPEN)
    return WS_ERR_INVALID_STATE;
  if (code == 0 ? reason_len != 0
                : !ws_close_code_is_valid(code) || reason_len > WS_CONTROL_MAX - 2 ||
                      !ws_utf8_validate(reason, reason_len))
    return WS_ERR_INVALID_ARGUMENT;
  ws_fill_close(s, code, reason, reason_len);
  s->state = WS_SESSION_CLOSE_SENT;
  return 0;
}

/* ---- receiving --------------------------------------------------------- */

/* Fails the connection (RFC 6455 §7.1.7): queue a close with the error's
 * code unless we already sent one, report, remember. */
static int ws_fail(struct ws_session *s, int err) {
  if (s->state == WS_SESSION_FAILED)
    return s->error;
  uint16_t code = ws_error_close_code(err);
  if (!s->close_queued && code)
    ws_close_now(s, code);
  s->state = WS_SESSION_FAILED;
  s->error = err;
  if (s->cb.on_error)
    s->cb.on_error(s->user_data, err);
  return err;
}

static void ws_reset_message(struct ws_session *s) {
  s->msg_open = false;
  s->msg_len = 0;
  s->msg_compressed = false;
  if (s->msg_cap > WS_KEEP_BUFFER) {
    ws_mem_free(&s->mem, s->msg_buf);
    s->msg_buf = NULL;
    s->msg_cap = 0;
  }
}

static void ws_deliver(struct ws_session *s, const uint8_t *data, size_t len) {
  s->delivering_buf = s->msg_buf && data == s->msg_buf;
  if (s->cb.on_message)
    s->cb.on_message(s->user_data, (enum ws_message_type)s->msg_type, data ? data : ws_empty,
                     len);
  s->delivering_buf = false;
}

void ws_session_set_prealloc(struct ws_session *s, bool on) { s->no_prealloc = !on; }

uint8_t *ws_session_take_message_buffer(struct ws_session *s, size_t *capacity) {
  if (!s->delivering_buf)
    return NULL;
  uint8_t *p = s->msg_buf;
  *capacity = s->msg_cap;
  s->msg_buf = NULL;
  s->msg_cap = 0;
  s->delivering_buf = false;
  return p;
}

/* RFC 6455 §5.4-§5.6: header-level rules of the message layer. */
static int ws_on_frame_header(struct ws_session *s) {
  const struct ws_frame_header *h = &s->dec.hdr;
  s->frame_op = h->opcode;
  s->frame_fin = h->fin;
  if (ws_opcode_is_control(h->opcode)) {
    if (h->rsv & WS_RSV1) /* RFC 7692 §6: never on control frames */
      return WS_ERR_PROTO_RSV;
    s->ctl_in_len = 0;
    ws_utf8_init(&s->reason_utf8);
    return 0;
  }
  if (h->opcode == WS_OP_CONTINUATION) {
    if (!s->msg_open)
      return WS_ERR_PROTO_CONTINUATION;
    if (h->rsv & WS_RSV1) /* RFC 7692 §6.1: RSV1 only on the first frame */
      return WS_ERR_PROTO_RSV;
  } else {
    if (s->msg_open)
      return WS_ERR_PROTO_FRAGMENT;
    s->msg_open = true;
    s->msg_type = h->opcode;
    s->msg_compressed = (h->rsv & WS_RSV1) != 0;
    s->msg_len = 0;
    ws_utf8_init(&s->utf8);
  }
  /* Fail on the claim at once; memory only follows what arrives. The
   * limit applies to decompressed bytes, so not to a compressed frame. */
  if (!s->msg_compressed && h->payload_len > s->max_message - s->msg_len)
    return WS_ERR_MESSAGE_TOO_BIG;
  return 0;
}

/* Grows msg_buf for `add` more bytes, `frame_rest` more of the current
 * frame following them: doubling, but never past what the current frame
 * will still bring, so capacity stays <= 2x what arrived. A final frame
 * of at most WS_PREALLOC_MAX gets its whole size at once (one allocation,
 * no copying by realloc; pages are only touched as bytes arrive). */
static int ws_msg_grow(struct ws_session *s, size_t add, uint64_t frame_rest) {
  size_t need = (size_t)s->msg_len + add;
  if (need <= s->msg_cap)
    return 0;
  size_t cap = s->msg_cap < 256 ? 256 : s->msg_cap;
  while (cap < need && cap <= SIZE_MAX / 2)
    cap *= 2;
  /* On the final frame the message ends with it: never reserve past that.
   * Before it, more fragments follow, so keep doubling (capacity stays
   * under twice what arrived) — capping at each fragment's end would
   * reallocate once per fragment, quadratic for many small fragments. */
  uint64_t limit = s->dec.hdr.fin ? (uint64_t)need + frame_rest : s->max_message;
  if (s->dec.hdr.fin && limit <= WS_PREALLOC_MAX && !s->no_prealloc)
    cap = (size_t)limit;
  if (cap > limit)
    cap = (size_t)limit;
  if (cap < need)
    cap = need;
  uint8_t *p = ws_mem_realloc(&s->mem, s->msg_buf, cap);
  if (!p)
    return WS_ERR_NOMEM;
  s->msg_buf = p;
  s->msg_cap = cap;
  return 0;
}

/* Message bytes after any extension transform: validate, collect, deliver.
 * `direct`: the whole message is data[0..len), deliver it in place. */
static int ws_message_bytes(struct ws_session *s, const uint8_t *data, size_t len, bool direct,
                            bool complete) {
  if (s->msg_type == WS_OP_TEXT) {
    /* §8.1: fail as soon as the bytes cannot be UTF-8. */
    enum ws_utf8_result r = ws_utf8_feed(&s->utf8, data, len, NULL);
    if (r == WS_UTF8_INVALID || (complete && r != WS_UTF8_VALID))
      return WS_ERR_INVALID_UTF8;
  }
  if (direct) {
    s->msg_len = len;
    ws_deliver(s, data, len);
    ws_reset_message(s);
    return 0;
  }
  if (len) {
    /* Already in place when the caller read them straight into msg_buf
     * (ws_session_recv_direct). */
    if (!s->msg_buf || data != s->msg_buf + s->msg_len) {
      int rv = ws_msg_grow(s, len, s->dec.remaining);
      if (rv < 0)
        return rv;
      memcpy(s->msg_buf + s->msg_len, data, len);
    }
    s->msg_len += len;
  }
  if (complete) {
    ws_deliver(s, s->msg_buf, (size_t)s->msg_len);
    ws_reset_message(s);
  }
  return 0;
}

/* Grows msg_buf for inflated output: doubling, but never past
 * max_message + 1 bytes (one byte over is how an oversize message shows),
 * so memory follows what was produced and stays within the limit. */
static int ws_msg_grow_inflated(struct ws_session *s) {
  uint64_t limit = s->max_message < (uint64_t)SIZE_MAX ? s->max_message + 1 : SIZE_MAX;
  if (s->msg_cap >= limit)
    return WS_ERR_MESSAGE_TOO_BIG; /* not reached: msg_len > max is caught first */
  size_t cap = s->msg_cap < 256 ? 256 : s->msg_cap <= SIZE_MAX / 2 ? s->msg_cap * 2 : SIZE_MAX;
  if (cap > limit)
    cap = (size_t)limit;
  uint8_t *p = ws_mem_realloc(&s->mem, s->msg_buf, cap);
  if (!p)
    return WS_ERR_NOMEM;
  s->msg_buf = p;
  s->msg_cap = cap;
  return 0;
}

/* RFC 7692 §7.2.2: a compressed message's payload bytes, inflated straight
 * into msg_buf; text is validated as it comes out (§8.1 fail-fast) and the
 * size limit applies to the inflated bytes. `complete`: the FIN frame's
 * last bytes, so the message ends here. */
static int ws_inflate_bytes(struct ws_session *s, const uint8_t *data, size_t len,
                            bool complete) {
  if (!s->pmd) /* RSV1 allowed through options, but nothing negotiated */
    return WS_ERR_INTERNAL;
  for (;;) {
    uint8_t *out = s->msg_buf ? s->msg_buf + s->msg_len : NULL;
    size_t produced;
    int st = ws_pmd_inflate(s->pmd, &data, &len, complete, out, s->msg_cap - (size_t)s->msg_len,
                            &produced);
    if (produced) {
      if (s->msg_type == WS_OP_TEXT &&
          ws_utf8_feed(&s->utf8, out, produced, NULL) == WS_UTF8_INVALID)
        return WS_ERR_INVALID_UTF8;
      s->msg_len += produced;
      if (s->msg_len > s->max_message)
        return WS_ERR_MESSAGE_TOO_BIG;
    }
    if (st < 0)
      return st;
    if (st == WS_PMD_NEED_INPUT)
      return 0;
    if (st == WS_PMD_DONE) {
      if (s->msg_type == WS_OP_TEXT && ws_utf8_result(&s->utf8) != WS_UTF8_VALID)
        return WS_ERR_INVALID_UTF8;
      ws_deliver(s, s->msg_buf, (size_t)s->msg_len);
      ws_reset_message(s);
      return 0;
    }
    int rv = ws_msg_grow_inflated(s); /* WS_PMD_OUTPUT_FULL */
    if (rv < 0)
      return rv;
  }
}

static int ws_on_close_frame(struct ws_session *s) {
  uint16_t code = WS_CLOSE_NO_STATUS;
  if (s->ctl_in_len == 1)
    return WS_ERR_PROTO_CLOSE_PAYLOAD;
  if (s->ctl_in_len >= 2) {
    code = (uint16_t)(s->ctl_in[0] << 8 | s->ctl_in[1]);
    if (ws_utf8_result(&s->reason_utf8) != WS_UTF8_VALID)
      return WS_ERR_INVALID_UTF8;
  }
  bool echo = !s->close_queued;
  /* §5.5.1: answer with a close echoing the code (an empty body for an
   * empty close: 1005 must never be sent). */
  if (echo)
    ws_close_now(s, s->ctl_in_len >= 2 ? code : 0);
  if (s->state != WS_SESSION_FAILED)
    s->state = WS_SESSION_CLOSED;
  if (s->cb.on_close)
    s->cb.on_close(s->user_data, code, s->ctl_in + 2 * (s->ctl_in_len >= 2),
                   s->ctl_in_len >= 2 ? s->ctl_in_len - 2 : 0);
  return 0;
}

static int ws_on_control_bytes(struct ws_session *s, const struct ws_frame_chunk *ch) {
  if (ch->len)
    memcpy(s->ctl_in + s->ctl_in_len, ch->data, ch->len);
  size_t before = s->ctl_in_len;
  s->ctl_in_len += ch->len;
  if (s->frame_op == WS_OP_CLOSE) {
    /* Check the code as soon as it is complete, the reason as it arrives. */
    if (before < 2 && s->ctl_in_len >= 2 &&
        !ws_close_code_is_valid((uint16_t)(s->ctl_in[0] << 8 | s->ctl_in[1])))
      return WS_ERR_PROTO_CLOSE_CODE;
    size_t from = before < 2 ? 2 : before;
    if (s->ctl_in_len > from &&
        ws_utf8_feed(&s->reason_utf8, s->ctl_in + from, s->ctl_in_len - from, NULL) ==
            WS_UTF8_INVALID)
      return WS_ERR_INVALID_UTF8;
  }
  if (!ch->last)
    return 0;
  switch (s->frame_op) {
  case WS_OP_PING:
    /* §5.5.2-§5.5.3: answer with the same payload, unless our close frame
     * has begun to leave (nothing may follow it). */
    if (s->close_off == 0) {
      int rv = ws_queue_control(s, WS_OP_PONG, s->ctl_in, s->ctl_in_len);
      if (rv < 0)
        return rv;
    }
    if (s->cb.on_ping)
      s->cb.on_ping(s->user_data, s->ctl_in, s->ctl_in_len);
    return 0;
  case WS_OP_PONG:
    if (s->cb.on_pong)
      s->cb.on_pong(s->user_data, s->ctl_in, s->ctl_in_len);
    return 0;
  default:
    return ws_on_close_frame(s);
  }
}

static int ws_on_chunk(struct ws_session *s, const struct ws_frame_chunk *ch) {
  int rv;
  if (ch->first && (rv = ws_on_frame_header(s)) < 0)
    return rv;
  if (ws_opcode_is_control(s->frame_op))
    return ws_on_control_bytes(s, ch);
  bool complete = ch->last && s->frame_fin;
  if (s->msg_compressed) /* server frames are unmasked: ch->data is plain */
    return ws_inflate_bytes(s, ch->data, ch->len, complete);
  bool direct = ch->first && complete && s->frame_op != WS_OP_CONTINUATION;
  return ws_message_bytes(s, ch->data, ch->len, direct, complete);
}

/* ---- direct receive ------------------------------------------------------ */

/* True while the next bytes on the wire are payload of an uncompressed
 * data frame: they may go straight into msg_buf. */
static bool ws_direct_possible(const struct ws_session *s) {
  return !s->in_callback && (s->state == WS_SESSION_OPEN || s->state == WS_SESSION_CLOSE_SENT) &&
         s->dec.state == WS_FRAME_STATE_PAYLOAD && !s->dec.hdr.masked && s->msg_open &&
         !ws_opcode_is_control(s->frame_op) && !s->msg_compressed;
}

uint8_t *ws_session_direct_buffer(struct ws_session *s, size_t min, size_t *len) {
  *len = 0;
  if (!s->in_callback)
    s->direct_offer = 0;
  if (!ws_direct_possible(s) || s->dec.remaining < (min ? min : 1))
    return NULL;
  uint64_t rem = s->dec.remaining;
  /* A final frame within WS_PREALLOC_MAX: its whole rest at once. Else
   * what is free, or at least as much again as arrived (>= one step), so
   * memory still follows what arrives, never a header's claim. */
  uint64_t want = rem;
  if (!s->dec.hdr.fin || (uint64_t)s->msg_len + rem > WS_PREALLOC_MAX || s->no_prealloc) {
    uint64_t step = s->msg_len > WS_DIRECT_STEP ? s->msg_len : WS_DIRECT_STEP;
    uint64_t room = s->msg_cap - (size_t)s->msg_len;
    if (room > step)
      step = room;
    if (want > step)
      want = step;
  }
  if (want > SIZE_MAX - (size_t)s->msg_len)
    return NULL;
  if (ws_msg_grow(s, (size_t)want, rem - want) < 0)
    return NULL; /* ws_session_recv will meet the same shortage and fail */
  size_t room = s->msg_cap - (size_t)s->msg_len;
  *len = room < rem ? room : (size_t)rem;
  s->direct_offer = *len;
  return s->msg_buf + s->msg_len;
}

int ws_session_recv_direct(struct ws_session *s, size_t n) {
  if (s->in_callback)
    return WS_ERR_INVALID_STATE;
  if (s->state == WS_SESSION_FAILED)
    return s->error;
  /* Only into the room just offered, and only once. */
  if (!ws_direct_possible(s) || n == 0 || n > s->direct_offer)
    return WS_ERR_INVALID_ARGUMENT;
  s->direct_offer = 0;
  struct ws_frame_chunk ch;
  int rv = ws_frame_decode_external(&s->dec, s->msg_buf + s->msg_len, n, &ch);
  if (rv < 0)
    return rv; /* n was 0 or beyond the frame: nothing changed */
  s->traffic = true;
  s->in_callback = true;
  rv = ws_message_bytes(s, ch.data, ch.len, false, ch.last && s->frame_fin);
  if (rv < 0)
    rv = ws_fail(s, rv);
  s->in_callback = false;
  return rv < 0 ? rv : 0;
}

int ws_session_recv(struct ws_session *s, const uint8_t *in, size_t len) {
  if (s->in_callback)
    return WS_ERR_INVALID_STATE;
  s->direct_offer = 0; /* any offer is void once bytes come this way */
  if (s->state == WS_SESSION_FAILED)
    return s->error;
  int rv = 0;
  if (len)
    s->traffic = true;
  s->in_callback = true;
  /* §5.5.1: after the server's close, nothing more is processed. */
  while (len && s->state != WS_SESSION_CLOSED) {
    struct ws_frame_chunk ch;
    size_t used;
    rv = ws_frame_decode(&s->dec, in, len, &used, &ch);
    in += used;
    len -= used;
    if (rv == 0)
      break;
    if (rv > 0)
      rv = ws_on_chunk(s, &ch);
    if (rv < 0 || s->state == WS_SESSION_FAILED)
      break;
  }
  if (rv < 0)
    rv = ws_fail(s, rv);
  else if (s->state == WS_SESSION_FAILED)
    rv = s->error;
  else
    rv = 0;
  s->in_callback = false;
  return rv;
}
