/*
 * fuzz_frame.c — the RFC 6455 §5 frame decoder (ws_frame_decode), whole and
 * split at fuzzer-chosen points.
 *
 * Input: byte 0 = decoder set-up (bit 0: server role, i.e. frames must be
 * masked; bits 1-3: allowed RSV1/RSV2/RSV3), then a split spec
 * (fuzz_input.h), then the byte stream.
 *
 * Oracles:
 *  - decoding the stream in one call sequence and in chunks gives the same
 *    frames (headers and unmasked payload) and fails with the same error at
 *    the same absolute byte (the decoder promises to report a violation at
 *    the first byte that shows it);
 *  - every chunk lies in the caller's buffer, ends where `consumed` says,
 *    and its offset/first/last flags match the frame's progress;
 *  - every accepted header obeys §5.2/§5.5 and re-encodes, through
 *    ws_frame_header_encode, to exactly the bytes it was decoded from
 *    (minimal length encoding is enforced on both sides);
 *  - ws_frame_mask, out of place and in place at the chunk's offset, equals
 *    a byte-by-byte XOR;
 *  - a failed decoder stays failed, consuming nothing.
 */
#include "fuzz_input.h"
#include "websocket/ws_frame.h"

struct run {
  struct ws_frame_decoder dec;
  struct fuzz_log log;
  const uint8_t *stream; /* whole input stream (for header re-encoding) */
  uint64_t pos;          /* absolute position of the next unread byte */
  uint64_t frame_start;  /* absolute position of the current frame's byte 0 */
  uint64_t delivered;    /* payload bytes of the current frame delivered */
  bool in_frame;         /* a header was completed and the frame is not done */
};

static bool valid_opcode(unsigned op) {
  return op == WS_OP_CONTINUATION || op == WS_OP_TEXT || op == WS_OP_BINARY ||
         op == WS_OP_CLOSE || op == WS_OP_PING || op == WS_OP_PONG;
}

static void check_header(struct run *r) {
  const struct ws_frame_header *h = &r->dec.hdr;
  FUZZ_CHECK(valid_opcode(h->opcode));
  FUZZ_CHECK((h->rsv & ~r->dec.rsv_allowed) == 0);
  FUZZ_CHECK((h->rsv & ~WS_RSV_MASK) == 0);
  FUZZ_CHECK(h->masked == (r->dec.role == WS_FRAME_SERVER));
  FUZZ_CHECK(h->payload_len < (UINT64_C(1) << 63));
  if (ws_opcode_is_control(h->opcode))
    FUZZ_CHECK(h->fin && h->payload_len <= WS_CONTROL_MAX);
  if (!h->masked)
    FUZZ_CHECK(memcmp(h->mask_key, "\0\0\0\0", 4) == 0);

  /* Re-encode and compare with the bytes the header came from. */
  uint8_t enc[WS_FRAME_HEADER_MAX];
  size_t n = ws_frame_header_encode(enc, h->fin, h->rsv, h->opcode, h->payload_len,
                                    h->masked ? h->mask_key : NULL);
  FUZZ_CHECK(n == ws_frame_header_size(h->payload_len, h->masked));
  FUZZ_CHECK(n >= 2 && n <= WS_FRAME_HEADER_MAX);
  FUZZ_CHECK(memcmp(enc, r->stream + r->frame_start, n) == 0);
}

/* Unmasks a chunk two ways and checks them against a byte loop; logs it. */
static void log_payload(struct run *r, const struct ws_frame_chunk *c) {
  if (c->len == 0)
    return;
  const uint8_t *key = r->dec.hdr.mask_key;
  uint8_t *out = malloc(c->len), *inplace = malloc(c->len);
  FUZZ_CHECK(out && inplace);
  ws_frame_mask(out, c->data, c->len, key, c->offset);
  memcpy(inplace, c->data, c->len);
  ws_frame_mask(inplace, inplace, c->len, key, c->offset);
  for (size_t i = 0; i < c->len; i++)
    FUZZ_CHECK(out[i] == (uint8_t)(c->data[i] ^ key[(c->offset + i) % 4]));
  FUZZ_CHECK(memcmp(out, inplace, c->len) == 0);
  fuzz_log_put(&r->log, out, c->len);
  free(out);
  free(inplace);
}

/* Feeds one chunk of the stream (an exact heap copy). Returns false once
 * the decoder has failed. */
static bool feed(struct run *r, const uint8_t *src, size_t len) {
  uint8_t *buf = fuzz_dup(src, len);
  size_t i = 0;
  bool ok = true;
  unsigned idle = 0;
  while (i < len) {
    struct ws_frame_chunk c;
    size_t consumed = (size_t)-1;
    int rv = ws_frame_decode(&r->dec, buf + i, len - i, &consumed, &c);
    FUZZ_CHECK(consumed <= len - i);
    if (rv < 0) {
      FUZZ_CHECK(r->dec.state == WS_FRAME_STATE_FAILED && r->dec.error == rv);
      FUZZ_CHECK(consumed >= 1); /* the byte that showed the violation */
      r->pos += consumed;
      fuzz_log_put(&r->log, "E", 1);
      fuzz_log_u64(&r->log, (uint64_t)(int64_t)rv);
      fuzz_log_u64(&r->log, r->pos);
      /* Sticky: same error, nothing consumed. */
      size_t again = (size_t)-1;
      FUZZ_CHECK(ws_frame_decode(&r->dec, buf, len, &again, &c) == rv && again == 0);
      ok = false;
      break;
    }
    if (rv == 0) {
      FUZZ_CHECK(consumed == len - i); /* need more: everything was taken */
      FUZZ_CHECK(r->dec.state != WS_FRAME_STATE_PAYLOAD || r->dec.remaining > 0);
      r->pos += consumed;
      break;
    }
    FUZZ_CHECK(rv == 1);
    /* The chunk is the tail of what was consumed, inside our buffer. */
    FUZZ_CHECK(c.len <= consumed);
    if (c.len)
      FUZZ_CHECK(c.data == buf + i + consumed - c.len);
    if (c.first) {
      FUZZ_CHECK(!r->in_frame);
      FUZZ_CHECK(c.offset == 0);
      r->frame_start = r->pos + consumed - c.len -
                       ws_frame_header_size(r->dec.hdr.payload_len, r->dec.hdr.masked);
      check_header(r);
      r->in_frame = true;
      r->delivered = 0;
      const struct ws_frame_header *h = &r->dec.hdr;
      uint8_t rec[4] = {h->fin, h->rsv, h->opcode, h->masked};
      fuzz_log_put(&r->log, "H", 1);
      fuzz_log_put(&r->log, rec, sizeof rec);
      fuzz_log_put(&r->log, h->mask_key, 4);
      fuzz_log_u64(&r->log, h->payload_len);
      fuzz_log_u64(&r->log, r->frame_start);
    } else {
      FUZZ_CHECK(r->in_frame && c.len > 0);
    }
    FUZZ_CHECK(c.offset == r->delivered);
    FUZZ_CHECK(c.offset + c.len <= r->dec.hdr.payload_len);
    FUZZ_CHECK(c.last == (c.offset + c.len == r->dec.hdr.payload_len));
    log_payload(r, &c);
    r->delivered += c.len;
    r->pos += consumed;
    if (c.last)
      r->in_frame = false;
    i += consumed;
    /* Progress: a chunk with nothing consumed would loop forever. */
    idle = consumed == 0 ? idle + 1 : 0;
    FUZZ_CHECK(idle < 2);
  }
  free(buf);
  return ok;
}

static void run_init(struct run *r, const uint8_t *stream, bool server, unsigned rsv) {
  memset(r, 0, sizeof *r);
  ws_frame_decoder_init(&r->dec, server ? WS_FRAME_SERVER : WS_FRAME_CLIENT, rsv);
  FUZZ_CHECK(r->dec.state == WS_FRAME_STATE_HEADER1);
  r->stream = stream;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fuzz_in in = {data, size};
  uint8_t setup = fuzz_u8(&in);
  bool server = setup & 1;
  unsigned rsv = (setup & 2 ? WS_RSV1 : 0) | (setup & 4 ? WS_RSV2 : 0) | (setup & 8 ? WS_RSV3 : 0);
  struct fuzz_split split;
  fuzz_split_init(&split, &in);
  const uint8_t *s = in.p;
  size_t len = in.n;

  struct run whole, parts;
  run_init(&whole, s, server, rsv);
  feed(&whole, s, len);
  if (whole.dec.state != WS_FRAME_STATE_FAILED) {
    fuzz_log_put(&whole.log, "N", 1);
    fuzz_log_u64(&whole.log, whole.pos);
    FUZZ_CHECK(whole.pos == len);
  }

  run_init(&parts, s, server, rsv);
  size_t pos = 0;
  while (pos < len) {
    size_t n = fuzz_split_next(&split, len - pos);
    if (!feed(&parts, s + pos, n))
      break;
    pos += n;
  }
  if (parts.dec.state != WS_FRAME_STATE_FAILED) {
    fuzz_log_put(&parts.log, "N", 1);
    fuzz_log_u64(&parts.log, parts.pos);
  }
  FUZZ_CHECK(fuzz_log_equal(&whole.log, &parts.log));
  FUZZ_CHECK(whole.dec.state == parts.dec.state);
  fuzz_log_free(&whole.log);
  fuzz_log_free(&parts.log);
  return 0;
}
