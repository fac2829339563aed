/*
 * ws_frame.c — frame header encoding, masking and the inbound decoder.
 */
#include "ws_frame.h"

#include <string.h>

/* ---- encoder ----------------------------------------------------------- */

size_t ws_frame_header_size(uint64_t payload_len, bool masked) {
  size_t n = payload_len < 126 ? 2 : payload_len <= 0xFFFF ? 4 : 10;
  return masked ? n + 4 : n;
}

size_t ws_frame_header_encode(uint8_t *out, bool fin, unsigned rsv, unsigned opcode,
                              uint64_t payload_len, const uint8_t *mask_key) {
  if (opcode > 0xF || (rsv & ~WS_RSV_MASK) || (payload_len >> 63))
    return 0;
  if (ws_opcode_is_control(opcode) && (!fin || payload_len > WS_CONTROL_MAX))
    return 0;
  size_t n = 2;
  out[0] = (uint8_t)((fin ? 0x80u : 0u) | rsv | opcode);
  uint8_t maskbit = mask_key ? 0x80 : 0;
  if (payload_len < 126) {
    out[1] = (uint8_t)(maskbit | payload_len);
  } else if (payload_len <= 0xFFFF) {
    out[1] = maskbit | 126;
    out[2] = (uint8_t)(payload_len >> 8);
    out[3] = (uint8_t)payload_len;
    n = 4;
  } else {
    out[1] = maskbit | 127;
    for (int i = 0; i < 8; i++)
      out[2 + i] = (uint8_t)(payload_len >> (56 - 8 * i));
    n = 10;
  }
  if (mask_key) {
    memcpy(out + n, mask_key, 4);
    n += 4;
  }
  return n;
}

void ws_frame_mask(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4],
                   uint64_t offset) {
  /* The key rotated to `offset`, repeated over 8 bytes: byte i of the input
   * uses k[i % 8] == key[(offset + i) % 4]. */
  uint8_t k[8];
  for (unsigned i = 0; i < 8; i++)
    k[i] = key[(offset + i) & 3];
  uint64_t kw;
  memcpy(&kw, k, 8);
  size_t i = 0;
  for (; len - i >= 32; i += 32) {
    uint64_t w[4];
    memcpy(w, src + i, 32);
    w[0] ^= kw, w[1] ^= kw, w[2] ^= kw, w[3] ^= kw;
    memcpy(dst + i, w, 32);
  }
  for (; len - i >= 8; i += 8) {
    uint64_t w;
    memcpy(&w, src + i, 8);
    w ^= kw;
    memcpy(dst + i, &w, 8);
  }
  for (; i < len; i++)
    dst[i] = src[i] ^ k[i & 7];
}

/* ---- decoder ----------------------------------------------------------- */

void ws_frame_decoder_init(struct ws_frame_decoder *d, enum ws_frame_role role,
                           unsigned rsv_allowed) {
  memset(d, 0, sizeof *d);
  d->state = WS_FRAME_STATE_HEADER1;
  d->role = role;
  d->rsv_allowed = (uint8_t)(rsv_allowed & WS_RSV_MASK);
}

void ws_frame_decoder_set_rsv(struct ws_frame_decoder *d, unsigned rsv_allowed) {
  d->rsv_allowed = (uint8_t)(rsv_allowed & WS_RSV_MASK);
}

static int ws_frame_fail(struct ws_frame_decoder *d, int err) {
  d->state = WS_FRAME_STATE_FAILED;
  d->error = err;
  return err;
}

/* RFC 6455 §5.2 byte 0. */
static int ws_frame_byte0(struct ws_frame_decoder *d, uint8_t b) {
  unsigned opcode = b & 0x0F;
  d->hdr.fin = (b & 0x80) != 0;
  d->hdr.rsv = b & WS_RSV_MASK;
  d->hdr.opcode = (uint8_t)opcode;
  if (d->hdr.rsv & ~d->rsv_allowed)
    return ws_frame_fail(d, WS_ERR_PROTO_RSV);
  switch (opcode) {
  case WS_OP_CONTINUATION:
  case WS_OP_TEXT:
  case WS_OP_BINARY:
  case WS_OP_CLOSE:
  case WS_OP_PING:
  case WS_OP_PONG:
    break;
  default: /* 0x3-0x7, 0xB-0xF are reserved */
    return ws_frame_fail(d, WS_ERR_PROTO_OPCODE);
  }
  if (ws_opcode_is_control(opcode) && !d->hdr.fin) /* §5.5 */
    return ws_frame_fail(d, WS_ERR_PROTO_CONTROL_FRAGMENTED);
  return 0;
}

/* RFC 6455 §5.2 byte 1; sets `need` for the extended length. */
static int ws_frame_byte1(struct ws_frame_decoder *d, uint8_t b) {
  unsigned len7 = b & 0x7F;
  d->hdr.masked = (b & 0x80) != 0;
  /* §5.1: a client fails on masked frames, a server on unmasked ones. */
  if (d->hdr.masked != (d->role == WS_FRAME_SERVER))
    return ws_frame_fail(d, WS_ERR_PROTO_MASK);
  if (ws_opcode_is_control(d->hdr.opcode) && len7 > WS_CONTROL_MAX) /* §5.5 */
    return ws_frame_fail(d, WS_ERR_PROTO_CONTROL_TOO_LONG);
  d->hdr.payload_len = len7;
  d->need = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  d->have = 0;
  return 0;
}

static int ws_frame_extlen(struct ws_frame_decoder *d) {
  uint64_t v = 0;
  for (unsigned i = 0; i < d->need; i++)
    v = (v << 8) | d->buf[i];
  if (d->need == 8 && (v >> 63)) /* §5.2: the most significant bit MUST be 0 */
    return ws_frame_fail(d, WS_ERR_PROTO_LENGTH_MSB);
  /* §5.2: "the minimal number of bytes MUST be used" */
  if ((d->need == 2 && v < 126) || (d->need == 8 && v <= 0xFFFF))
    return ws_frame_fail(d, WS_ERR_PROTO_NONMINIMAL_LENGTH);
  d->hdr.payload_len = v;
  return 0;
}

/* Collects header bytes for EXTLEN/MASKKEY; true once `need` are in. */
static bool ws_frame_collect(struct ws_frame_decoder *d, const uint8_t *in, size_t len,
                             size_t *i) {
  size_t n = d->need - d->have;
  if (n > len - *i)
    n = len - *i;
  if (n == 0)
    return d->have == d->need;
  memcpy(d->buf + d->have, in + *i, n);
  d->have = (uint8_t)(d->have + n);
  *i += n;
  return d->have == d->need;
}

/* Emits a chunk of up to `remaining` payload bytes from in[*i..len). */
static int ws_frame_emit(struct ws_frame_decoder *d, const uint8_t *in, size_t len, size_t *i,
                         bool first, struct ws_frame_chunk *chunk) {
  size_t avail = len - *i;
  size_t n = d->remaining < avail ? (size_t)d->remaining : avail;
  chunk->data = in ? in + *i : NULL;
  chunk->len = n;
  chunk->offset = d->hdr.payload_len - d->remaining;
  chunk->first = first;
  d->remaining -= n;
  chunk->last = d->remaining == 0;
  *i += n;
  d->state = chunk->last ? WS_FRAME_STATE_HEADER1 : WS_FRAME_STATE_PAYLOAD;
  return 1;
}

int ws_frame_decode(struct ws_frame_decoder *d, const uint8_t *in, size_t len,
                    size_t *consumed, struct ws_frame_chunk *chunk) {
  size_t i = 0;
  int rv = 0;

  for (;;) {
    switch (d->state) {
    case WS_FRAME_STATE_HEADER1:
      if (i == len)
        goto out;
      if ((rv = ws_frame_byte0(d, in[i++])) < 0)
        goto out;
      d->state = WS_FRAME_STATE_HEADER2;
      break;
    case WS_FRAME_STATE_HEADER2:
      if (i == len)
        goto out;
      if ((rv = ws_frame_byte1(d, in[i++])) < 0)
        goto out;
      if (d->need) {
        d->state = WS_FRAME_STATE_EXTLEN;
        break;
      }
      goto length_done;
    case WS_FRAME_STATE_EXTLEN:
      if (!ws_frame_collect(d, in, len, &i))
        goto out;
      if ((rv = ws_frame_extlen(d)) < 0)
        goto out;
    length_done:
      if (d->hdr.masked) {
        d->need = 4;
        d->have = 0;
        d->state = WS_FRAME_STATE_MASKKEY;
        break;
      }
      memset(d->hdr.mask_key, 0, 4);
      goto header_done;
    case WS_FRAME_STATE_MASKKEY:
      if (!ws_frame_collect(d, in, len, &i))
        goto out;
      memcpy(d->hdr.mask_key, d->buf, 4);
    header_done:
      d->remaining = d->hdr.payload_len;
      rv = ws_frame_emit(d, in, len, &i, true, chunk);
      goto out;
    case WS_FRAME_STATE_PAYLOAD:
      if (i == len)
        goto out;
      rv = ws_frame_emit(d, in, len, &i, false, chunk);
      goto out;
    case WS_FRAME_STATE_FAILED:
    default:
      rv = d->error;
      goto out;
    }
  }
out:
  *consumed = i;
  return rv;
}

int ws_frame_decode_external(struct ws_frame_decoder *d, const uint8_t *data, size_t len,
                             struct ws_frame_chunk *chunk) {
  if (d->state != WS_FRAME_STATE_PAYLOAD || len == 0 || len > d->remaining)
    return WS_ERR_INVALID_ARGUMENT;
  size_t i = 0;
  return ws_frame_emit(d, data, len, &i, false, chunk);
}
