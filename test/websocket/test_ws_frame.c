/*
 * test_ws_frame.c — frame header encoding, masking, and the resumable
 * decoder: every frame type, the length boundaries, every RFC 6455 §5
 * violation (with the byte it is detected at), each input fed whole, split
 * in two at every position and one byte at a time.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "websocket/ws_frame.h"

/* ---- helpers ----------------------------------------------------------- */

#define MAX_FRAMES 16

struct decoded {
  size_t nframes;
  struct ws_frame_header hdr[MAX_FRAMES];
  uint8_t *payload[MAX_FRAMES]; /* concatenated chunks, unmasked */
  size_t plen[MAX_FRAMES];
  int error;
  size_t error_at; /* total bytes consumed when the error was reported */
  size_t consumed;
  int complete;    /* last frame ended */
};

static void decoded_free(struct decoded *r) {
  for (size_t i = 0; i < MAX_FRAMES; i++)
    free(r->payload[i]);
  memset(r, 0, sizeof *r);
}

/* Feeds `in` to a fresh decoder in pieces of at most `step` bytes, except
 * that `cut` (if non-zero) splits the input in two first. Checks the chunk
 * invariants on the way. */
static void decode_pieces(struct decoded *r, enum ws_frame_role role, unsigned rsv,
                          const uint8_t *in, size_t len, size_t cut, size_t step) {
  struct ws_frame_decoder d;
  ws_frame_decoder_init(&d, role, rsv);
  memset(r, 0, sizeof *r);
  r->complete = 1;
  size_t pos = 0;
  while (pos < len || pos == 0) {
    size_t end = len;
    if (cut && pos < cut)
      end = cut;
    if (step && end - pos > step)
      end = pos + step;
    /* Drain this piece completely. */
    const uint8_t *p = in + pos;
    size_t n = end - pos;
    for (;;) {
      struct ws_frame_chunk ch;
      size_t used = 99;
      int rv = ws_frame_decode(&d, p, n, &used, &ch);
      ck_assert_uint_le(used, n);
      r->consumed += used;
      if (rv < 0) {
        r->error = rv;
        r->error_at = r->consumed;
        ck_assert_int_eq(d.state, WS_FRAME_STATE_FAILED);
        /* Sticky. */
        ck_assert_int_eq(ws_frame_decode(&d, p + used, n - used, &used, &ch), rv);
        ck_assert_uint_eq(used, 0);
        return;
      }
      if (rv == 0) {
        ck_assert_uint_eq(used, n);
        break;
      }
      ck_assert_int_eq(rv, 1);
      size_t f;
      if (ch.first) {
        ck_assert(r->complete);
        ck_assert_uint_lt(r->nframes, MAX_FRAMES);
        f = r->nframes++;
        r->hdr[f] = d.hdr;
        r->payload[f] = malloc(d.hdr.payload_len < 1 << 20 ? d.hdr.payload_len + 1 : 1);
        r->complete = 0;
        ck_assert_uint_eq(ch.offset, 0);
      } else {
        ck_assert(!r->complete);
        f = r->nframes - 1;
      }
      ck_assert_uint_eq(ch.offset, r->plen[f]);
      if (ch.len) {
        ck_assert(ch.data >= p && ch.data + ch.len <= p + n); /* zero copy */
        if (d.hdr.masked)
          ws_frame_mask(r->payload[f] + r->plen[f], ch.data, ch.len, d.hdr.mask_key, ch.offset);
        else
          memcpy(r->payload[f] + r->plen[f], ch.data, ch.len);
      }
      r->plen[f] += ch.len;
      if (ch.last) {
        ck_assert_uint_eq(r->plen[f], d.hdr.payload_len);
        r->complete = 1;
        ck_assert_int_eq(d.state, WS_FRAME_STATE_HEADER1);
      }
      p += used;
      n -= used;
    }
    pos = end;
    if (len == 0)
      break;
  }
}

/* Runs the same expectation over: whole input, every two-way split and
 * byte-at-a-time feeding. `check` inspects each result. */
typedef void (*check_fn)(const struct decoded *r, const void *ctx);

static void all_feeds(enum ws_frame_role role, unsigned rsv, const uint8_t *in, size_t len,
                      check_fn check, const void *ctx) {
  struct decoded r;
  decode_pieces(&r, role, rsv, in, len, 0, 0);
  check(&r, ctx);
  decoded_free(&r);
  for (size_t cut = 1; cut < len; cut++) {
    decode_pieces(&r, role, rsv, in, len, cut, 0);
    check(&r, ctx);
    decoded_free(&r);
  }
  decode_pieces(&r, role, rsv, in, len, 0, 1);
  check(&r, ctx);
  decoded_free(&r);
}

static size_t build_frame(uint8_t *out, bool fin, unsigned rsv, unsigned op,
                          const uint8_t *payload, size_t len, const uint8_t *mask) {
  size_t h = ws_frame_header_encode(out, fin, rsv, op, len, mask);
  ck_assert_uint_gt(h, 0);
  if (mask)
    ws_frame_mask(out + h, payload, len, mask, 0);
  else if (len)
    memcpy(out + h, payload, len);
  return h + len;
}

/* ---- encoder ----------------------------------------------------------- */

START_TEST(test_header_sizes) {
  static const struct {
    uint64_t len;
    size_t size;
  } cases[] = {{0, 2},      {1, 2},          {125, 2},         {126, 4},
               {65535, 4},  {65536, 10},     {UINT64_C(1) << 32, 10},
               {(UINT64_C(1) << 32) + 5, 10}, {INT64_MAX, 10}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint8_t h[WS_FRAME_HEADER_MAX];
    ck_assert_uint_eq(ws_frame_header_size(cases[i].len, false), cases[i].size);
    ck_assert_uint_eq(ws_frame_header_size(cases[i].len, true), cases[i].size + 4);
    ck_assert_uint_eq(ws_frame_header_encode(h, true, 0, WS_OP_BINARY, cases[i].len, NULL),
                      cases[i].size);
    const uint8_t key[4] = {1, 2, 3, 4};
    ck_assert_uint_eq(ws_frame_header_encode(h, true, 0, WS_OP_BINARY, cases[i].len, key),
                      cases[i].size + 4);
    ck_assert_int_eq(h[1] & 0x80, 0x80);
    ck_assert(memcmp(h + cases[i].size, key, 4) == 0);
  }
}
END_TEST

START_TEST(test_header_bytes) {
  uint8_t h[WS_FRAME_HEADER_MAX];
  const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  /* RFC 6455 §5.7 examples */
  ck_assert_uint_eq(ws_frame_header_encode(h, true, 0, WS_OP_TEXT, 5, NULL), 2);
  ck_assert(memcmp(h, "\x81\x05", 2) == 0);
  ck_assert_uint_eq(ws_frame_header_encode(h, true, 0, WS_OP_TEXT, 5, key), 6);
  ck_assert(memcmp(h, "\x81\x85\x37\xfa\x21\x3d", 6) == 0);
  ck_assert_uint_eq(ws_frame_header_encode(h, false, 0, WS_OP_TEXT, 3, NULL), 2);
  ck_assert(memcmp(h, "\x01\x03", 2) == 0);
  ck_assert_uint_eq(ws_frame_header_encode(h, true, 0, WS_OP_CONTINUATION, 2, NULL), 2);
  ck_assert(memcmp(h, "\x80\x02", 2) == 0);
  ck_assert_uint_eq(ws_frame_header_encode(h, true, 0, WS_OP_PING, 5, NULL), 2);
  ck_assert(memcmp(h, "\x89\x05", 2) == 0);
  ck_assert_uint_eq(ws_frame_header_encode(h, true, 0, WS_OP_BINARY, 256, NULL), 4);
  ck_assert(memcmp(h, "\x82\x7E\x01\x00", 4) == 0);
  ck_assert_uint_eq(ws_frame_header_encode(h, true, 0, WS_OP_BINARY, 65536, NULL), 10);
  ck_assert(memcmp(h, "\x82\x7F\x00\x00\x00\x00\x00\x01\x00\x00", 10) == 0);
  ck_assert_uint_eq(ws_frame_header_encode(h, true, 0, WS_OP_BINARY, UINT64_C(0x0102030405060708), NULL), 10);
  ck_assert(memcmp(h, "\x82\x7F\x01\x02\x03\x04\x05\x06\x07\x08", 10) == 0);
  ck_assert_uint_eq(ws_frame_header_encode(h, true, WS_RSV1, WS_OP_TEXT, 0, NULL), 2);
  ck_assert(memcmp(h, "\xC1\x00", 2) == 0);
  ck_assert_uint_eq(ws_frame_header_encode(h, true, 0, WS_OP_CLOSE, 125, NULL), 2);
  ck_assert(memcmp(h, "\x88\x7D", 2) == 0);
}
END_TEST

START_TEST(test_header_invalid_args) {
  uint8_t h[WS_FRAME_HEADER_MAX];
  ck_assert_uint_eq(ws_frame_header_encode(h, true, 0, 16, 0, NULL), 0);
  ck_assert_uint_eq(ws_frame_header_encode(h, true, 0x80, WS_OP_TEXT, 0, NULL), 0);
  ck_assert_uint_eq(ws_frame_header_encode(h, true, 0x01, WS_OP_TEXT, 0, NULL), 0);
  ck_assert_uint_eq(ws_frame_header_encode(h, true, 0, WS_OP_TEXT, UINT64_C(1) << 63, NULL), 0);
  ck_assert_uint_eq(ws_frame_header_encode(h, true, 0, WS_OP_PING, 126, NULL), 0);
  ck_assert_uint_eq(ws_frame_header_encode(h, false, 0, WS_OP_CLOSE, 0, NULL), 0);
}
END_TEST

/* ---- masking ----------------------------------------------------------- */

START_TEST(test_mask_matches_definition) {
  /* §5.3: transformed-octet-i = original-octet-i XOR masking-key-octet-(i % 4),
   * for every start offset, length, alignment, copying and in place. */
  uint8_t src[300], dst[310], ref[300], inplace[310];
  const uint8_t key[4] = {0xde, 0xad, 0xbe, 0xef};
  for (size_t i = 0; i < sizeof src; i++)
    src[i] = (uint8_t)(i * 7 + 3);
  for (uint64_t off = 0; off < 9; off++)
    for (size_t align = 0; align < 8; align++)
      for (size_t len = 0; len <= 260; len += (len < 80 ? 1 : 13)) {
        for (size_t i = 0; i < len; i++)
          ref[i] = src[i] ^ key[(off + i) % 4];
        memset(dst, 0xAA, sizeof dst);
        ws_frame_mask(dst + align, src, len, key, off);
        if (memcmp(dst + align, ref, len) != 0)
          ck_abort_msg("copy mismatch off %u len %zu", (unsigned)off, len);
        ck_assert_uint_eq(dst[align + len], 0xAA);
        memcpy(inplace + align, src, len);
        ws_frame_mask(inplace + align, inplace + align, len, key, off);
        if (memcmp(inplace + align, ref, len) != 0)
          ck_abort_msg("in-place mismatch off %u len %zu", (unsigned)off, len);
      }
  /* Masking in pieces equals masking at once. */
  uint8_t whole[300], pieces[300];
  ws_frame_mask(whole, src, 300, key, 0);
  for (size_t at = 0; at < 300; at += 37)
    ws_frame_mask(pieces + at, src + at, at + 37 <= 300 ? 37 : 300 - at, key, at);
  ck_assert(memcmp(whole, pieces, 300) == 0);
  /* §5.7 masked "Hello" */
  uint8_t hello[5];
  const uint8_t k2[4] = {0x37, 0xfa, 0x21, 0x3d};
  ws_frame_mask(hello, (const uint8_t *)"Hello", 5, k2, 0);
  ck_assert(memcmp(hello, "\x7f\x9f\x4d\x51\x58", 5) == 0);
}
END_TEST

/* ---- decoder: valid frames --------------------------------------------- */

struct expect_frames {
  size_t n;
  const struct ws_frame_header *hdr;
  const uint8_t *const *payload;
};

static void check_frames(const struct decoded *r, const void *vctx) {
  const struct expect_frames *e = vctx;
  ck_assert_int_eq(r->error, 0);
  ck_assert(r->complete);
  ck_assert_uint_eq(r->nframes, e->n);
  for (size_t i = 0; i < e->n; i++) {
    ck_assert_int_eq(r->hdr[i].fin, e->hdr[i].fin);
    ck_assert_int_eq(r->hdr[i].rsv, e->hdr[i].rsv);
    ck_assert_int_eq(r->hdr[i].opcode, e->hdr[i].opcode);
    ck_assert_int_eq(r->hdr[i].masked, e->hdr[i].masked);
    ck_assert_uint_eq(r->hdr[i].payload_len, e->hdr[i].payload_len);
    ck_assert_uint_eq(r->plen[i], e->hdr[i].payload_len);
    if (e->hdr[i].payload_len)
      ck_assert(memcmp(r->payload[i], e->payload[i], e->hdr[i].payload_len) == 0);
  }
}

START_TEST(test_decode_every_type) {
  static const uint8_t ops[] = {WS_OP_TEXT,  WS_OP_BINARY, WS_OP_CONTINUATION,
                                WS_OP_CLOSE, WS_OP_PING,   WS_OP_PONG};
  static const size_t lens[] = {0, 1, 5, 125};
  uint8_t payload[125];
  for (size_t i = 0; i < sizeof payload; i++)
    payload[i] = (uint8_t)(0xF0 ^ i);
  for (size_t o = 0; o < sizeof ops; o++)
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++)
      for (int fin = 0; fin <= 1; fin++) {
        if (ws_opcode_is_control(ops[o]) && !fin)
          continue;
        uint8_t buf[200];
        size_t n = build_frame(buf, fin, 0, ops[o], payload, lens[l], NULL);
        struct ws_frame_header h = {.fin = fin, .opcode = ops[o], .payload_len = lens[l]};
        const uint8_t *pl[] = {payload};
        struct expect_frames e = {1, &h, pl};
        all_feeds(WS_FRAME_CLIENT, 0, buf, n, check_frames, &e);
      }
}
END_TEST

START_TEST(test_decode_length_boundaries) {
  static const size_t lens[] = {125, 126, 127, 65535, 65536, 70000};
  uint8_t *payload = malloc(70000);
  uint8_t *buf = malloc(70000 + 14);
  for (size_t i = 0; i < 70000; i++)
    payload[i] = (uint8_t)(i * 31);
  for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
    size_t n = build_frame(buf, true, 0, WS_OP_BINARY, payload, lens[l], NULL);
    struct ws_frame_header h = {.fin = true, .opcode = WS_OP_BINARY, .payload_len = lens[l]};
    const uint8_t *pl[] = {payload};
    struct expect_frames e = {1, &h, pl};
    struct decoded r;
    /* Whole, a few two-way splits around the header, and in 1000-byte
     * steps (one byte at a time for the header-sized prefix). */
    decode_pieces(&r, WS_FRAME_CLIENT, 0, buf, n, 0, 0);
    check_frames(&r, &e);
    decoded_free(&r);
    for (size_t cut = 1; cut <= 12 && cut < n; cut++) {
      decode_pieces(&r, WS_FRAME_CLIENT, 0, buf, n, cut, 0);
      check_frames(&r, &e);
      decoded_free(&r);
    }
    decode_pieces(&r, WS_FRAME_CLIENT, 0, buf, n, 0, 1000);
    check_frames(&r, &e);
    decoded_free(&r);
    if (lens[l] < 1000) {
      decode_pieces(&r, WS_FRAME_CLIENT, 0, buf, n, 0, 1);
      check_frames(&r, &e);
      decoded_free(&r);
    }
  }
  free(payload);
  free(buf);
}
END_TEST

START_TEST(test_decode_huge_length_header) {
  /* 2^32+ lengths: only the header is fed; the decoder reports the length
   * and then delivers whatever payload arrives, never more. */
  static const uint64_t lens[] = {UINT64_C(1) << 32, (UINT64_C(1) << 32) + 7, INT64_MAX};
  for (size_t l = 0; l < 3; l++) {
    uint8_t buf[32];
    size_t h = ws_frame_header_encode(buf, true, 0, WS_OP_BINARY, lens[l], NULL);
    ck_assert_uint_eq(h, 10);
    memcpy(buf + h, "abc", 3);
    for (size_t step = 1; step <= 13; step += 12) {
      struct ws_frame_decoder d;
      ws_frame_decoder_init(&d, WS_FRAME_CLIENT, 0);
      size_t pos = 0, got = 0;
      int headers = 0;
      while (pos < h + 3) {
        size_t n = h + 3 - pos < step ? h + 3 - pos : step;
        size_t used;
        struct ws_frame_chunk ch;
        int rv = ws_frame_decode(&d, buf + pos, n, &used, &ch);
        ck_assert_int_ge(rv, 0);
        if (rv == 1) {
          headers += ch.first;
          ck_assert(!ch.last);
          got += ch.len;
        }
        pos += used;
      }
      ck_assert_int_eq(headers, 1);
      ck_assert_uint_eq(got, 3);
      ck_assert_uint_eq(d.hdr.payload_len, lens[l]);
      ck_assert_uint_eq(d.remaining, lens[l] - 3);
      ck_assert_int_eq(d.state, WS_FRAME_STATE_PAYLOAD);
    }
  }
}
END_TEST

START_TEST(test_decode_sequence_and_fragments) {
  /* A fragmented text message with an interleaved ping, then an empty
   * binary frame, all in one buffer. */
  uint8_t buf[100];
  size_t n = 0;
  n += build_frame(buf + n, false, 0, WS_OP_TEXT, (const uint8_t *)"Hel", 3, NULL);
  n += build_frame(buf + n, true, 0, WS_OP_PING, (const uint8_t *)"pi", 2, NULL);
  n += build_frame(buf + n, true, 0, WS_OP_CONTINUATION, (const uint8_t *)"lo", 2, NULL);
  n += build_frame(buf + n, true, 0, WS_OP_BINARY, NULL, 0, NULL);
  n += build_frame(buf + n, true, 0, WS_OP_PONG, NULL, 0, NULL);
  const struct ws_frame_header h[] = {{.fin = false, .opcode = WS_OP_TEXT, .payload_len = 3},
                                      {.fin = true, .opcode = WS_OP_PING, .payload_len = 2},
                                      {.fin = true, .opcode = WS_OP_CONTINUATION, .payload_len = 2},
                                      {.fin = true, .opcode = WS_OP_BINARY, .payload_len = 0},
                                      {.fin = true, .opcode = WS_OP_PONG, .payload_len = 0}};
  const uint8_t *pl[] = {(const uint8_t *)"Hel", (const uint8_t *)"pi", (const uint8_t *)"lo",
                         NULL, NULL};
  struct expect_frames e = {5, h, pl};
  all_feeds(WS_FRAME_CLIENT, 0, buf, n, check_frames, &e);
}
END_TEST

START_TEST(test_decode_allowed_rsv) {
  uint8_t buf[20];
  size_t n = build_frame(buf, true, WS_RSV1, WS_OP_TEXT, (const uint8_t *)"xy", 2, NULL);
  struct ws_frame_header h = {.fin = true, .rsv = WS_RSV1, .opcode = WS_OP_TEXT, .payload_len = 2};
  const uint8_t *pl[] = {(const uint8_t *)"xy"};
  struct expect_frames e = {1, &h, pl};
  all_feeds(WS_FRAME_CLIENT, WS_RSV1, buf, n, check_frames, &e);
  /* set_rsv changes it for the next frame. */
  struct ws_frame_decoder d;
  ws_frame_decoder_init(&d, WS_FRAME_CLIENT, 0);
  ws_frame_decoder_set_rsv(&d, WS_RSV1 | WS_RSV3);
  size_t used;
  struct ws_frame_chunk ch;
  ck_assert_int_eq(ws_frame_decode(&d, buf, n, &used, &ch), 1);
  ck_assert_uint_eq(used, n);
}
END_TEST

START_TEST(test_decode_server_role_masked) {
  /* A server decodes masked client frames; chunk offsets unmask in pieces. */
  const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  uint8_t buf[400], payload[300];
  for (size_t i = 0; i < sizeof payload; i++)
    payload[i] = (uint8_t)i;
  size_t n = build_frame(buf, true, 0, WS_OP_BINARY, payload, 300, key);
  n += build_frame(buf + n, true, 0, WS_OP_TEXT, (const uint8_t *)"Hello", 5, key);
  const struct ws_frame_header h[] = {
      {.fin = true, .opcode = WS_OP_BINARY, .masked = true, .payload_len = 300},
      {.fin = true, .opcode = WS_OP_TEXT, .masked = true, .payload_len = 5}};
  const uint8_t *pl[] = {payload, (const uint8_t *)"Hello"};
  struct expect_frames e = {2, h, pl};
  all_feeds(WS_FRAME_SERVER, 0, buf, n, check_frames, &e);
  /* RFC 6455 §5.7 masked example bytes. */
  struct decoded r;
  decode_pieces(&r, WS_FRAME_SERVER, 0, (const uint8_t *)"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
                11, 0, 0);
  ck_assert_int_eq(r.error, 0);
  ck_assert_uint_eq(r.nframes, 1);
  ck_assert(memcmp(r.payload[0], "Hello", 5) == 0);
  decoded_free(&r);
}
END_TEST

START_TEST(test_decode_header_only_chunk) {
  /* A header that completes at the end of the input yields a chunk with no
   * payload so the caller can validate the header at once. */
  struct ws_frame_decoder d;
  ws_frame_decoder_init(&d, WS_FRAME_CLIENT, 0);
  size_t used;
  struct ws_frame_chunk ch;
  ck_assert_int_eq(ws_frame_decode(&d, (const uint8_t *)"\x82\x7e\x01", 3, &used, &ch), 0);
  ck_assert_uint_eq(used, 3);
  ck_assert_int_eq(d.state, WS_FRAME_STATE_EXTLEN);
  ck_assert_int_eq(ws_frame_decode(&d, (const uint8_t *)"\x00", 1, &used, &ch), 1);
  ck_assert(ch.first && !ch.last);
  ck_assert_uint_eq(ch.len, 0);
  ck_assert_uint_eq(d.hdr.payload_len, 256);
  ck_assert_int_eq(ws_frame_decode(&d, NULL, 0, &used, &ch), 0);
  ck_assert_uint_eq(used, 0);
}
END_TEST

/* ---- decoder: payload read outside it (ws_frame_decode_external) ------- */

/* Outside a payload, and with len 0 or beyond the frame, the call must be
 * refused without touching the decoder or the chunk. */
static void expect_external_refused(struct ws_frame_decoder *d, const uint8_t *data, size_t len) {
  struct ws_frame_decoder before;
  struct ws_frame_chunk ch, ch_before;
  memcpy(&before, d, sizeof before);
  memset(&ch, 0xA5, sizeof ch);
  memcpy(&ch_before, &ch, sizeof ch);
  ck_assert_int_eq(ws_frame_decode_external(d, data, len, &ch), WS_ERR_INVALID_ARGUMENT);
  ck_assert(memcmp(&before, d, sizeof before) == 0);
  ck_assert(memcmp(&ch_before, &ch, sizeof ch) == 0);
}

START_TEST(test_decode_external_refused) {
  static const uint8_t byte[1] = {'x'};
  struct ws_frame_decoder d;
  struct ws_frame_chunk ch;
  size_t used;
  /* HEADER1: a fresh decoder, and again after a complete frame */
  ws_frame_decoder_init(&d, WS_FRAME_CLIENT, 0);
  expect_external_refused(&d, byte, 1);
  ck_assert_int_eq(ws_frame_decode(&d, (const uint8_t *)"\x82\x02" "ab", 4, &used, &ch), 1);
  ck_assert_int_eq(d.state, WS_FRAME_STATE_HEADER1);
  expect_external_refused(&d, byte, 1);
  /* HEADER2 */
  ck_assert_int_eq(ws_frame_decode(&d, (const uint8_t *)"\x82", 1, &used, &ch), 0);
  ck_assert_int_eq(d.state, WS_FRAME_STATE_HEADER2);
  expect_external_refused(&d, byte, 1);
  /* EXTLEN, half collected */
  ck_assert_int_eq(ws_frame_decode(&d, (const uint8_t *)"\x7e\x01", 2, &used, &ch), 0);
  ck_assert_int_eq(d.state, WS_FRAME_STATE_EXTLEN);
  expect_external_refused(&d, byte, 1);
  /* PAYLOAD: 256 bytes claimed, 6 delivered; 0 and 251 are out of range */
  uint8_t rest[300];
  memset(rest, 'p', sizeof rest);
  ck_assert_int_eq(ws_frame_decode(&d, (const uint8_t *)"\x00" "pppppp", 7, &used, &ch), 1);
  ck_assert_int_eq(d.state, WS_FRAME_STATE_PAYLOAD);
  ck_assert_uint_eq(d.remaining, 250);
  expect_external_refused(&d, rest, 0);
  expect_external_refused(&d, rest, 251);
  expect_external_refused(&d, rest, SIZE_MAX);
  /* exactly the rest is fine and ends the frame */
  ck_assert_int_eq(ws_frame_decode_external(&d, rest, 250, &ch), 1);
  ck_assert(!ch.first && ch.last);
  ck_assert_uint_eq(ch.offset, 6);
  ck_assert_int_eq(d.state, WS_FRAME_STATE_HEADER1);
  expect_external_refused(&d, rest, 1);
  /* an empty frame never enters PAYLOAD */
  ck_assert_int_eq(ws_frame_decode(&d, (const uint8_t *)"\x82\x00", 2, &used, &ch), 1);
  ck_assert(ch.first && ch.last);
  expect_external_refused(&d, byte, 1);
  /* MASKKEY (server role) */
  ws_frame_decoder_init(&d, WS_FRAME_SERVER, 0);
  ck_assert_int_eq(ws_frame_decode(&d, (const uint8_t *)"\x82\x85\x01\x02", 4, &used, &ch), 0);
  ck_assert_int_eq(d.state, WS_FRAME_STATE_MASKKEY);
  expect_external_refused(&d, byte, 1);
  /* FAILED: refused, and the error stays */
  ws_frame_decoder_init(&d, WS_FRAME_CLIENT, 0);
  ck_assert_int_eq(ws_frame_decode(&d, (const uint8_t *)"\xc2\x00", 2, &used, &ch),
                   WS_ERR_PROTO_RSV);
  ck_assert_int_eq(d.state, WS_FRAME_STATE_FAILED);
  expect_external_refused(&d, byte, 1);
  ck_assert_int_eq(ws_frame_decode(&d, byte, 1, &used, &ch), WS_ERR_PROTO_RSV);
}
END_TEST

struct chunk_log {
  struct ws_frame_chunk ch[3];
  enum ws_frame_state state[3];
  uint64_t remaining[3];
};

/* One frame in[0..len) as three pieces [0, a) [a, b) [b, len): the first
 * always through ws_frame_decode (it holds the header); the other two
 * through ws_frame_decode_external if `external`, else ws_frame_decode.
 * Records each chunk and the decoder state after it. */
static void decode_three(struct chunk_log *log, enum ws_frame_role role, const uint8_t *in,
                         size_t len, size_t a, size_t b, bool external) {
  struct ws_frame_decoder d;
  ws_frame_decoder_init(&d, role, 0);
  const size_t cut[4] = {0, a, b, len};
  for (int i = 0; i < 3; i++) {
    struct ws_frame_chunk *ch = &log->ch[i];
    const uint8_t *p = in + cut[i];
    size_t n = cut[i + 1] - cut[i];
    if (i > 0 && external) {
      ck_assert_int_eq(ws_frame_decode_external(&d, p, n, ch), 1);
    } else {
      size_t used = 0;
      ck_assert_int_eq(ws_frame_decode(&d, p, n, &used, ch), 1);
      ck_assert_uint_eq(used, n);
    }
    log->state[i] = d.state;
    log->remaining[i] = d.remaining;
  }
  /* The decoder is back at a frame boundary: the next frame decodes. */
  struct ws_frame_chunk next;
  size_t used;
  static const uint8_t ping[2] = {0x89, 0x00};
  static const uint8_t ping_masked[6] = {0x89, 0x80, 1, 2, 3, 4};
  ck_assert_int_eq(ws_frame_decode(&d, role == WS_FRAME_CLIENT ? ping : ping_masked,
                                   role == WS_FRAME_CLIENT ? 2 : 6, &used, &next),
                   1);
  ck_assert(next.first && next.last);
  ck_assert_uint_eq(d.hdr.opcode, WS_OP_PING);
}

START_TEST(test_decode_external_matches_decode) {
  /* [header + part] through ws_frame_decode, the rest through
   * ws_frame_decode_external in two pieces: the same chunks (pointer,
   * length, offset, first/last) and states as decoding the same pieces
   * normally, for several frame sizes, both roles, at many split points. */
  static const size_t lens[] = {2, 3, 125, 126, 300, 65536, 70000};
  const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  uint8_t *payload = malloc(70000), *buf = malloc(70000 + WS_FRAME_HEADER_MAX);
  for (size_t i = 0; i < 70000; i++)
    payload[i] = (uint8_t)(i * 13 + (i >> 8));
  for (int role = 0; role < 2; role++) {
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
      size_t plen = lens[l];
      const uint8_t *mask = role == WS_FRAME_SERVER ? key : NULL;
      size_t n = build_frame(buf, false, 0, WS_OP_BINARY, payload, plen, mask);
      size_t hlen = n - plen;
      /* a: header alone or with some payload; b: anywhere strictly inside
       * the rest (two non-empty external pieces) */
      size_t as[] = {hlen, hlen + 1, hlen + plen / 2, n - 2};
      for (size_t ai = 0; ai < sizeof as / sizeof as[0]; ai++) {
        size_t a = as[ai];
        if (a < hlen || a + 2 > n)
          continue;
        size_t rest = n - a;
        for (size_t off = 1; off < rest; off += rest < 40 ? 1 : rest / 7) {
          size_t b = a + off;
          struct chunk_log ext, ref;
          decode_three(&ext, (enum ws_frame_role)role, buf, n, a, b, true);
          decode_three(&ref, (enum ws_frame_role)role, buf, n, a, b, false);
          for (int i = 0; i < 3; i++) {
            ck_assert_ptr_eq(ext.ch[i].data, ref.ch[i].data);
            ck_assert_uint_eq(ext.ch[i].len, ref.ch[i].len);
            ck_assert_uint_eq(ext.ch[i].offset, ref.ch[i].offset);
            ck_assert_int_eq(ext.ch[i].first, ref.ch[i].first);
            ck_assert_int_eq(ext.ch[i].last, ref.ch[i].last);
            ck_assert_int_eq(ext.state[i], ref.state[i]);
            ck_assert_uint_eq(ext.remaining[i], ref.remaining[i]);
          }
          /* and the expected values themselves, not just agreement */
          ck_assert(ext.ch[0].first && !ext.ch[1].first && !ext.ch[2].first);
          ck_assert_uint_eq(ext.ch[1].offset, a - hlen);
          ck_assert_uint_eq(ext.ch[2].offset, b - hlen);
          ck_assert_uint_eq(ext.ch[1].len, b - a);
          ck_assert_uint_eq(ext.ch[2].len, n - b);
          ck_assert(!ext.ch[1].last && ext.ch[2].last);
          ck_assert_int_eq(ext.state[1], WS_FRAME_STATE_PAYLOAD);
          ck_assert_int_eq(ext.state[2], WS_FRAME_STATE_HEADER1);
          ck_assert_uint_eq(ext.remaining[1], n - b);
          /* masked pieces unmask with their offsets */
          if (mask) {
            uint8_t tmp[64];
            size_t k = ext.ch[2].len < sizeof tmp ? ext.ch[2].len : sizeof tmp;
            ws_frame_mask(tmp, ext.ch[2].data, k, key, ext.ch[2].offset);
            ck_assert(memcmp(tmp, payload + ext.ch[2].offset, k) == 0);
          }
        }
      }
    }
  }
  free(payload);
  free(buf);
}
END_TEST

/* ---- decoder: violations ---------------------------------------------- */

struct expect_error {
  int error;
  size_t at; /* bytes consumed including the byte that shows the violation */
};

static void check_error(const struct decoded *r, const void *vctx) {
  const struct expect_error *e = vctx;
  ck_assert_msg(r->error == e->error, "error %s, expected %s", ws_error_name(r->error),
                ws_error_name(e->error));
  ck_assert_uint_eq(r->error_at, e->at);
}

static void expect_violation(enum ws_frame_role role, unsigned rsv, const char *bytes,
                             size_t len, int error, size_t at) {
  struct expect_error e = {error, at};
  all_feeds(role, rsv, (const uint8_t *)bytes, len, check_error, &e);
  ck_assert_int_eq(ws_error_close_code(error), 1002);
}

START_TEST(test_violation_rsv) {
  expect_violation(WS_FRAME_CLIENT, 0, "\xC1\x00", 2, WS_ERR_PROTO_RSV, 1);
  expect_violation(WS_FRAME_CLIENT, 0, "\xA1\x00", 2, WS_ERR_PROTO_RSV, 1);
  expect_violation(WS_FRAME_CLIENT, 0, "\x91\x00", 2, WS_ERR_PROTO_RSV, 1);
  expect_violation(WS_FRAME_CLIENT, 0, "\xF2\x00", 2, WS_ERR_PROTO_RSV, 1);
  expect_violation(WS_FRAME_CLIENT, WS_RSV1, "\xA1\x00", 2, WS_ERR_PROTO_RSV, 1);
  expect_violation(WS_FRAME_CLIENT, 0, "\xC9\x00", 2, WS_ERR_PROTO_RSV, 1); /* ping */
  /* after a good frame */
  expect_violation(WS_FRAME_CLIENT, 0, "\x81\x01x\xD1\x00", 5, WS_ERR_PROTO_RSV, 4);
}
END_TEST

START_TEST(test_violation_opcodes) {
  for (unsigned op = 0; op < 16; op++) {
    if (op <= 2 || (op >= 8 && op <= 10))
      continue;
    char b[2] = {(char)(0x80 | op), 0};
    expect_violation(WS_FRAME_CLIENT, 0, b, 2, WS_ERR_PROTO_OPCODE, 1);
  }
}
END_TEST

START_TEST(test_violation_control_frames) {
  /* §5.5: > 125 bytes (detected at byte 1, also in the 126/127 forms) */
  expect_violation(WS_FRAME_CLIENT, 0, "\x89\x7e\x00\x7e", 4, WS_ERR_PROTO_CONTROL_TOO_LONG, 2);
  expect_violation(WS_FRAME_CLIENT, 0, "\x88\x7f", 2, WS_ERR_PROTO_CONTROL_TOO_LONG, 2);
  expect_violation(WS_FRAME_CLIENT, 0, "\x8a\x7e\x00\x7d", 4, WS_ERR_PROTO_CONTROL_TOO_LONG, 2);
  /* not FIN */
  expect_violation(WS_FRAME_CLIENT, 0, "\x09\x00", 2, WS_ERR_PROTO_CONTROL_FRAGMENTED, 1);
  expect_violation(WS_FRAME_CLIENT, 0, "\x0a\x00", 2, WS_ERR_PROTO_CONTROL_FRAGMENTED, 1);
  expect_violation(WS_FRAME_CLIENT, 0, "\x08\x00", 2, WS_ERR_PROTO_CONTROL_FRAGMENTED, 1);
}
END_TEST

START_TEST(test_violation_lengths) {
  /* non-minimal 16-bit: 0 and 125 */
  expect_violation(WS_FRAME_CLIENT, 0, "\x82\x7e\x00\x00", 4, WS_ERR_PROTO_NONMINIMAL_LENGTH, 4);
  expect_violation(WS_FRAME_CLIENT, 0, "\x82\x7e\x00\x7d", 4, WS_ERR_PROTO_NONMINIMAL_LENGTH, 4);
  /* 126 in the 16-bit form is fine */
  struct decoded r;
  decode_pieces(&r, WS_FRAME_CLIENT, 0, (const uint8_t *)"\x82\x7e\x00\x7e", 4, 0, 0);
  ck_assert_int_eq(r.error, 0);
  decoded_free(&r);
  /* non-minimal 64-bit: 0, 125, 65535 */
  expect_violation(WS_FRAME_CLIENT, 0, "\x82\x7f\0\0\0\0\0\0\0\0", 10,
                   WS_ERR_PROTO_NONMINIMAL_LENGTH, 10);
  expect_violation(WS_FRAME_CLIENT, 0, "\x82\x7f\0\0\0\0\0\0\0\x7d", 10,
                   WS_ERR_PROTO_NONMINIMAL_LENGTH, 10);
  expect_violation(WS_FRAME_CLIENT, 0, "\x82\x7f\0\0\0\0\0\0\xff\xff", 10,
                   WS_ERR_PROTO_NONMINIMAL_LENGTH, 10);
  /* 64-bit with the top bit set (2^63 and all ones) */
  expect_violation(WS_FRAME_CLIENT, 0, "\x82\x7f\x80\0\0\0\0\0\0\0", 10,
                   WS_ERR_PROTO_LENGTH_MSB, 10);
  expect_violation(WS_FRAME_CLIENT, 0, "\x82\x7f\xff\xff\xff\xff\xff\xff\xff\xff", 10,
                   WS_ERR_PROTO_LENGTH_MSB, 10);
}
END_TEST

START_TEST(test_violation_masking) {
  /* §5.1: a client MUST fail on a masked frame from the server. */
  expect_violation(WS_FRAME_CLIENT, 0, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11,
                   WS_ERR_PROTO_MASK, 2);
  expect_violation(WS_FRAME_CLIENT, 0, "\x89\x80\0\0\0\0", 6, WS_ERR_PROTO_MASK, 2);
  /* and a server on an unmasked one */
  expect_violation(WS_FRAME_SERVER, 0, "\x81\x05Hello", 7, WS_ERR_PROTO_MASK, 2);
}
END_TEST

static Suite *frame_suite(void) {
  Suite *s = suite_create("ws_frame");
  TCase *tc = tcase_create("encode");
  tcase_add_test(tc, test_header_sizes);
  tcase_add_test(tc, test_header_bytes);
  tcase_add_test(tc, test_header_invalid_args);
  tcase_add_test(tc, test_mask_matches_definition);
  suite_add_tcase(s, tc);
  tc = tcase_create("decode");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_decode_every_type);
  tcase_add_test(tc, test_decode_length_boundaries);
  tcase_add_test(tc, test_decode_huge_length_header);
  tcase_add_test(tc, test_decode_sequence_and_fragments);
  tcase_add_test(tc, test_decode_allowed_rsv);
  tcase_add_test(tc, test_decode_server_role_masked);
  tcase_add_test(tc, test_decode_header_only_chunk);
  tcase_add_test(tc, test_decode_external_refused);
  tcase_add_test(tc, test_decode_external_matches_decode);
  suite_add_tcase(s, tc);
  tc = tcase_create("violations");
  tcase_add_test(tc, test_violation_rsv);
  tcase_add_test(tc, test_violation_opcodes);
  tcase_add_test(tc, test_violation_control_frames);
  tcase_add_test(tc, test_violation_lengths);
  tcase_add_test(tc, test_violation_masking);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(frame_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
