/*
 * test_ws_handshake.c — request building, Sec-WebSocket-Accept, the
 * extension grammar, and response parsing: good and bad statuses, each
 * missing or bad header, folded and mixed-case headers, token lists,
 * limits, trailing frame bytes; every response fed whole, split in two at
 * every position and one byte at a time; allocation failures.
 */
#include <check.h>
#include <nss.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "websocket/ws_handshake.h"
#include "ws_test_util.h"

/* RFC 6455 §1.3: key "dGhlIHNhbXBsZSBub25jZQ==" (the bytes "the sample
 * nonce") gives accept "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=". */
#define SAMPLE_KEY "the sample nonce"
#define SAMPLE_KEY64 "dGhlIHNhbXBsZSBub25jZQ=="
#define SAMPLE_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static void nss_setup(void) { ck_assert_int_eq(NSS_NoDB_Init(NULL), SECSuccess); }
static void nss_teardown(void) { NSS_Shutdown(); }

static struct ws_handshake_config base_config(void) {
  static const char *const protos[] = {"chat", "superchat"};
  struct ws_handshake_config c = {0};
  c.host = "server.example.com";
  c.path = "/chat";
  c.origin = "http://example.com";
  c.protocols = protos;
  c.nprotocols = 2;
  c.extensions = "permessage-deflate; client_max_window_bits, x-webkit-foo";
  memcpy(c.key, SAMPLE_KEY, 16);
  return c;
}

static struct ws_handshake *new_hs(const struct ws_handshake_config *c) {
  struct ws_handshake *hs = NULL;
  ck_assert_int_eq(ws_handshake_new(&hs, c, NULL), 0);
  ck_assert_ptr_nonnull(hs);
  return hs;
}

/* ---- accept key and request ------------------------------------------- */

START_TEST(test_accept_key_rfc_example) {
  char out[WS_HANDSHAKE_ACCEPT_LEN + 1];
  ck_assert_int_eq(ws_handshake_accept_key((const uint8_t *)SAMPLE_KEY, out), 0);
  ck_assert_str_eq(out, SAMPLE_ACCEPT);
}
END_TEST

static void expect_request(const struct ws_handshake_config *c, const char *want) {
  struct ws_handshake *hs = new_hs(c);
  const uint8_t *data;
  size_t len;
  ws_handshake_request(hs, &data, &len);
  ck_assert_uint_eq(len, strlen(want));
  ck_assert_msg(memcmp(data, want, len) == 0, "got:\n%.*s", (int)len, (const char *)data);
  ws_handshake_del(hs);
}

START_TEST(test_request_full) {
  struct ws_handshake_config c = base_config();
  expect_request(&c, "GET /chat HTTP/1.1\r\n"
                     "Host: server.example.com\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: " SAMPLE_KEY64 "\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "Origin: http://example.com\r\n"
                     "Sec-WebSocket-Protocol: chat, superchat\r\n"
                     "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, "
                     "x-webkit-foo\r\n"
                     "\r\n");
}
END_TEST

START_TEST(test_request_minimal_and_ports) {
  struct ws_handshake_config c = {0};
  memcpy(c.key, SAMPLE_KEY, 16);
  c.host = "h";
  const char *tail = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: " SAMPLE_KEY64 "\r\nSec-WebSocket-Version: 13\r\n\r\n";
  char want[512];
  /* empty path → "/", no Origin/Protocol/Extensions, default port omitted */
  snprintf(want, sizeof want, "GET / HTTP/1.1\r\nHost: h\r\n%s", tail);
  expect_request(&c, want);
  c.port = 80;
  c.path = "";
  c.origin = "";
  c.extensions = "";
  expect_request(&c, want);
  c.secure = true;
  c.port = 443;
  expect_request(&c, want);
  c.port = 80; /* 80 is not wss's default */
  snprintf(want, sizeof want, "GET / HTTP/1.1\r\nHost: h:80\r\n%s", tail);
  expect_request(&c, want);
  c.secure = false;
  c.port = 443;
  c.path = "/a/b?x=1&y=%20";
  snprintf(want, sizeof want, "GET /a/b?x=1&y=%%20 HTTP/1.1\r\nHost: h:443\r\n%s", tail);
  expect_request(&c, want);
  /* IPv6 literals are bracketed (once) */
  c.port = 8080;
  c.path = NULL;
  c.host = "::1";
  snprintf(want, sizeof want, "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n%s", tail);
  expect_request(&c, want);
  c.host = "[::1]";
  expect_request(&c, want);
}
END_TEST

START_TEST(test_request_invalid_config) {
  static const char *const dup[] = {"chat", "chat"};
  static const char *const bad1[] = {"ch at"};
  static const char *const bad2[] = {""};
  static const char *const bad3[] = {"a,b"};
  struct ws_handshake_config c;
  struct ws_handshake *hs = (struct ws_handshake *)1;
#define BAD(stmt)                                                                               \
  do {                                                                                          \
    c = base_config();                                                                          \
    stmt;                                                                                       \
    ck_assert_int_eq(ws_handshake_new(&hs, &c, NULL), WS_ERR_INVALID_ARGUMENT);                 \
    ck_assert_ptr_null(hs);                                                                     \
  } while (0)
  BAD(c.host = NULL);
  BAD(c.host = "");
  BAD(c.host = "a b");
  BAD(c.host = "evil\r\nX-Injected: 1");
  BAD(c.host = "user@host");
  BAD(c.host = "h/x");
  BAD(c.path = "chat");
  BAD(c.path = "/a b");
  BAD(c.path = "/a#frag");
  BAD(c.path = "/caf\xc3\xa9");
  BAD(c.origin = "http://x\r\n");
  BAD(c.extensions = "foo\r\nbar");
  BAD(c.extensions = "foo;;");
  BAD(c.extensions = "foo; a=\"b c\"");
  BAD(c.protocols = dup);
  BAD(c.protocols = bad1; c.nprotocols = 1);
  BAD(c.protocols = bad2; c.nprotocols = 1);
  BAD(c.protocols = bad3; c.nprotocols = 1);
  BAD(c.protocols = NULL);
#undef BAD
}
END_TEST

/* ---- extension grammar ------------------------------------------------- */

START_TEST(test_extensions_parse) {
  struct ws_extension_list *l;
  const char *v = " permessage-deflate ; client_max_window_bits=10;server_no_context_takeover ,"
                  "foo;q=\"a\\bc\" ,, bar ";
  ck_assert_int_eq(ws_extensions_parse(v, strlen(v), NULL, &l), 0);
  ck_assert_uint_eq(l->count, 3);
  ck_assert_str_eq(l->items[0].name, "permessage-deflate");
  ck_assert_uint_eq(l->items[0].nparams, 2);
  ck_assert_str_eq(l->items[0].params[0].name, "client_max_window_bits");
  ck_assert_str_eq(l->items[0].params[0].value, "10");
  ck_assert_str_eq(l->items[0].params[1].name, "server_no_context_takeover");
  ck_assert_ptr_null(l->items[0].params[1].value);
  ck_assert_str_eq(l->items[1].name, "foo");
  ck_assert_uint_eq(l->items[1].nparams, 1);
  ck_assert_str_eq(l->items[1].params[0].value, "abc");
  ck_assert_str_eq(l->items[2].name, "bar");
  ck_assert_uint_eq(l->items[2].nparams, 0);
  ws_extensions_free(l, NULL);

  ck_assert_int_eq(ws_extensions_parse("", 0, NULL, &l), 0);
  ck_assert_uint_eq(l->count, 0);
  ws_extensions_free(l, NULL);
  ck_assert_int_eq(ws_extensions_parse(" , ", 3, NULL, &l), 0);
  ck_assert_uint_eq(l->count, 0);
  ws_extensions_free(l, NULL);
  /* Only `len` bytes are read. */
  ck_assert_int_eq(ws_extensions_parse("abc;x=1 garbage", 7, NULL, &l), 0);
  ck_assert_uint_eq(l->count, 1);
  ck_assert_str_eq(l->items[0].params[0].value, "1");
  ws_extensions_free(l, NULL);

  static const char *const bad[] = {
      ";x",       "a;",      "a;=1",         "a;b=",       "a;b=\"\"", "a;b=\"1 2\"",
      "a;b=\"1",  "a b",     "a;b=1 2",      "a;b=\"x\\",  "(a)",      "a;b=\"x\"y",
      "a;b=c=d",  "a,;b",    "a;b=\"\\\"\"", "a\x01",      "a;b=@",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    l = (struct ws_extension_list *)1;
    ck_assert_msg(ws_extensions_parse(bad[i], strlen(bad[i]), NULL, &l) ==
                      WS_ERR_INVALID_ARGUMENT,
                  "accepted %s", bad[i]);
    ck_assert_ptr_null(l);
  }
}
END_TEST

/* ---- response parsing --------------------------------------------------- */

#define GOOD_HEAD "HTTP/1.1 101 Switching Protocols\r\n"
#define UPG "Upgrade: websocket\r\n"
#define CONN "Connection: Upgrade\r\n"
#define ACC "Sec-WebSocket-Accept: " SAMPLE_ACCEPT "\r\n"
#define GOOD GOOD_HEAD UPG CONN ACC "\r\n"

struct outcome {
  int rv;
  size_t consumed;
  int status;
};

/* Feeds `resp` to a fresh handshake in pieces, stopping at a non-zero
 * result; returns that result and the bytes consumed in total. */
static struct outcome feed(const struct ws_handshake_config *c, const char *resp, size_t len,
                           size_t cut, size_t step, struct ws_handshake **keep) {
  struct ws_handshake *hs = new_hs(c);
  struct outcome o = {0, 0, 0};
  size_t pos = 0;
  while (pos < len) {
    size_t end = len;
    if (cut && pos < cut)
      end = cut;
    if (step && end - pos > step)
      end = pos + step;
    size_t used = 12345;
    o.rv = ws_handshake_recv(hs, (const uint8_t *)resp + pos, end - pos, &used);
    ck_assert_uint_le(used, end - pos);
    o.consumed += used;
    if (o.rv != 0) {
      /* Sticky: later input is not consumed. */
      size_t u2 = 1;
      ck_assert_int_eq(ws_handshake_recv(hs, (const uint8_t *)"x", 1, &u2), o.rv);
      ck_assert_uint_eq(u2, 0);
      break;
    }
    ck_assert_uint_eq(used, end - pos);
    pos = end;
  }
  o.status = ws_handshake_status_code(hs);
  if (keep)
    *keep = hs;
  else
    ws_handshake_del(hs);
  return o;
}

/* Expects `rv` after exactly `consumed` bytes, for every way of feeding.
 * consumed == (size_t)-1 means "all of it". */
static void expect_response_cfg(const struct ws_handshake_config *c, const char *resp, int rv,
                                size_t consumed) {
  size_t len = strlen(resp);
  if (consumed == (size_t)-1)
    consumed = len;
  for (size_t mode = 0; mode <= len + 1; mode++) {
    /* mode 0: whole; 1..len-1: split at mode; len: byte at a time */
    size_t cut = mode > 0 && mode < len ? mode : 0;
    size_t step = mode == len ? 1 : 0;
    if (mode == len + 1)
      step = 7;
    struct outcome o = feed(c, resp, len, cut, step, NULL);
    ck_assert_msg(o.rv == rv, "mode %zu: got %s, want %s", mode, ws_error_name(o.rv),
                  rv == 1 ? "1" : ws_error_name(rv));
    ck_assert_msg(o.consumed == consumed, "mode %zu: consumed %zu, want %zu", mode, o.consumed,
                  consumed);
  }
}

static void expect_response(const char *resp, int rv, size_t consumed) {
  struct ws_handshake_config c = base_config();
  expect_response_cfg(&c, resp, rv, consumed);
}

START_TEST(test_response_good) {
  expect_response(GOOD, 1, (size_t)-1);
  /* Trailing frame bytes are left to the caller. */
  expect_response(GOOD "\x81\x05Hello\x89\x00", 1, strlen(GOOD));
  /* Results and accessors. */
  struct ws_handshake_config c = base_config();
  struct ws_handshake *hs;
  const char *r = GOOD_HEAD "uPgRaDe: WebSocket\r\nCONNECTION: keep-alive, upgrade\r\n"
                  "sec-websocket-accept:" SAMPLE_ACCEPT "   \r\n"
                  "Sec-WebSocket-Protocol: superchat\r\nX-Other:  a  b \r\n\r\n";
  struct outcome o = feed(&c, r, strlen(r), 0, 0, &hs);
  ck_assert_int_eq(o.rv, 1);
  ck_assert_int_eq(o.status, 101);
  ck_assert_str_eq(ws_handshake_protocol(hs), "superchat");
  ck_assert_str_eq(ws_handshake_extensions(hs), "");
  ck_assert_uint_eq(ws_handshake_extension_list(hs)->count, 0);
  ck_assert_str_eq(ws_handshake_header(hs, "x-other", 0), "a  b");
  ck_assert_str_eq(ws_handshake_header(hs, "Sec-WebSocket-Accept", 0), SAMPLE_ACCEPT);
  ck_assert_ptr_null(ws_handshake_header(hs, "x-other", 1));
  ck_assert_ptr_null(ws_handshake_header(hs, "missing", 0));
  ws_handshake_del(hs);
  /* Bare LF line ends and an empty reason phrase. */
  expect_response("HTTP/1.1 101\n" UPG CONN ACC "\n", 1, (size_t)-1);
  expect_response("HTTP/1.1 101 \r\nUpgrade: websocket\nConnection: Upgrade\r\n" ACC "\n", 1,
                  (size_t)-1);
}
END_TEST

START_TEST(test_response_status) {
  const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  /* Fails as soon as the status line is complete. */
  expect_response(r, WS_ERR_HANDSHAKE_STATUS, strlen("HTTP/1.1 200 OK\r\n"));
  struct ws_handshake_config c = base_config();
  struct outcome o = feed(&c, r, strlen(r), 0, 1, NULL);
  ck_assert_int_eq(o.status, 200);
  o = feed(&c, "HTTP/1.1 404 Not Found\r\n", 24, 0, 0, NULL);
  ck_assert_int_eq(o.rv, WS_ERR_HANDSHAKE_STATUS);
  ck_assert_int_eq(o.status, 404);
  expect_response("HTTP/1.0 101 Switching Protocols\r\n" UPG CONN ACC "\r\n",
                  WS_ERR_HANDSHAKE_STATUS, strlen("HTTP/1.0 101 Switching Protocols\r\n"));
  expect_response("HTTP/2.0 101 x\r\n", WS_ERR_HANDSHAKE_STATUS, (size_t)-1);
  expect_response("HTTP/1.1 302 Found\r\nLocation: ws://x/\r\n\r\n", WS_ERR_HANDSHAKE_STATUS,
                  strlen("HTTP/1.1 302 Found\r\n"));
  ck_assert_int_eq(ws_error_close_code(WS_ERR_HANDSHAKE_STATUS), 0);
}
END_TEST

START_TEST(test_response_malformed_status) {
  /* Garbage fails at the first byte that cannot start "HTTP/". */
  expect_response("SSH-2.0-OpenSSH_9.2\r\n", WS_ERR_HANDSHAKE_MALFORMED, 1);
  expect_response("HTTPS/1.1 101\r\n", WS_ERR_HANDSHAKE_MALFORMED, 5);
  expect_response("\r\nHTTP/1.1 101\r\n", WS_ERR_HANDSHAKE_MALFORMED, 1);
  expect_response("\x16\x03\x01\x02\x00", WS_ERR_HANDSHAKE_MALFORMED, 1);
  static const char *const lines[] = {
      "HTTP/1.1\r\n",         "HTTP/1.1 10\r\n",     "HTTP/1.1 1011\r\n",
      "HTTP/1.1  101\r\n",    "HTTP/11 101\r\n",     "HTTP/a.1 101\r\n",
      "HTTP/1.1 101\rX\r\n",  "HTTP/1.1 101 a\0b\r\n", "HTTP/1.1\t101\r\n",
  };
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    size_t len = strlen(lines[i]);
    if (i == 7)
      len = 19; /* holds a NUL */
    struct ws_handshake_config c = base_config();
    struct outcome o = feed(&c, lines[i], len, 0, 0, NULL);
    ck_assert_msg(o.rv == WS_ERR_HANDSHAKE_MALFORMED, "line %zu: %s", i, ws_error_name(o.rv));
  }
}
END_TEST

START_TEST(test_response_upgrade_connection) {
  expect_response(GOOD_HEAD CONN ACC "\r\n", WS_ERR_HANDSHAKE_UPGRADE, (size_t)-1);
  expect_response(GOOD_HEAD "Upgrade: websocket2\r\n" CONN ACC "\r\n", WS_ERR_HANDSHAKE_UPGRADE,
                  (size_t)-1);
  expect_response(GOOD_HEAD "Upgrade: h2c\r\n" CONN ACC "\r\n", WS_ERR_HANDSHAKE_UPGRADE,
                  (size_t)-1);
  expect_response(GOOD_HEAD "Upgrade:\r\n" CONN ACC "\r\n", WS_ERR_HANDSHAKE_UPGRADE, (size_t)-1);
  expect_response(GOOD_HEAD "Upgrade: foo, WebSocket\r\n" CONN ACC "\r\n", 1, (size_t)-1);
  expect_response(GOOD_HEAD "Upgrade: foo\r\nUpgrade: WEBSOCKET \r\n" CONN ACC "\r\n", 1,
                  (size_t)-1);
  expect_response(GOOD_HEAD UPG ACC "\r\n", WS_ERR_HANDSHAKE_CONNECTION, (size_t)-1);
  expect_response(GOOD_HEAD UPG "Connection: keep-alive\r\n" ACC "\r\n",
                  WS_ERR_HANDSHAKE_CONNECTION, (size_t)-1);
  expect_response(GOOD_HEAD UPG "Connection: Upgraded\r\n" ACC "\r\n",
                  WS_ERR_HANDSHAKE_CONNECTION, (size_t)-1);
  expect_response(GOOD_HEAD UPG "Connection: keep-alive,UPGRADE\r\n" ACC "\r\n", 1, (size_t)-1);
  expect_response(GOOD_HEAD UPG "Connection: close\r\nConnection: upgrade\r\n" ACC "\r\n", 1,
                  (size_t)-1);
}
END_TEST

START_TEST(test_response_accept) {
  expect_response(GOOD_HEAD UPG CONN "\r\n", WS_ERR_HANDSHAKE_ACCEPT, (size_t)-1);
  expect_response(GOOD_HEAD UPG CONN "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo\r\n\r\n",
                  WS_ERR_HANDSHAKE_ACCEPT, (size_t)-1);
  expect_response(GOOD_HEAD UPG CONN "Sec-WebSocket-Accept: S3PPLMBITXAQ9KYGZZHZRBK+XOO=\r\n\r\n",
                  WS_ERR_HANDSHAKE_ACCEPT, (size_t)-1);
  expect_response(GOOD_HEAD UPG CONN "Sec-WebSocket-Accept: " SAMPLE_KEY64 "\r\n\r\n",
                  WS_ERR_HANDSHAKE_ACCEPT, (size_t)-1);
  expect_response(GOOD_HEAD UPG CONN ACC ACC "\r\n", WS_ERR_HANDSHAKE_ACCEPT, (size_t)-1);
  expect_response(GOOD_HEAD UPG CONN "Sec-WebSocket-Accept:\r\n\r\n", WS_ERR_HANDSHAKE_ACCEPT,
                  (size_t)-1);
}
END_TEST

START_TEST(test_response_protocol) {
  expect_response(GOOD_HEAD UPG CONN ACC "Sec-WebSocket-Protocol: chat\r\n\r\n", 1, (size_t)-1);
  expect_response(GOOD_HEAD UPG CONN ACC "Sec-WebSocket-Protocol: other\r\n\r\n",
                  WS_ERR_HANDSHAKE_PROTOCOL, (size_t)-1);
  expect_response(GOOD_HEAD UPG CONN ACC "Sec-WebSocket-Protocol: Chat\r\n\r\n",
                  WS_ERR_HANDSHAKE_PROTOCOL, (size_t)-1);
  expect_response(GOOD_HEAD UPG CONN ACC "Sec-WebSocket-Protocol: chat, superchat\r\n\r\n",
                  WS_ERR_HANDSHAKE_PROTOCOL, (size_t)-1);
  expect_response(GOOD_HEAD UPG CONN ACC
                  "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
                  WS_ERR_HANDSHAKE_PROTOCOL, (size_t)-1);
  expect_response(GOOD_HEAD UPG CONN ACC "Sec-WebSocket-Protocol:\r\n\r\n",
                  WS_ERR_HANDSHAKE_PROTOCOL, (size_t)-1);
  /* Nothing offered: any returned subprotocol fails. */
  struct ws_handshake_config c = base_config();
  c.nprotocols = 0;
  expect_response_cfg(&c, GOOD_HEAD UPG CONN ACC "Sec-WebSocket-Protocol: chat\r\n\r\n",
                      WS_ERR_HANDSHAKE_PROTOCOL, (size_t)-1);
  struct ws_handshake *hs;
  struct outcome o = feed(&c, GOOD, strlen(GOOD), 0, 0, &hs);
  ck_assert_int_eq(o.rv, 1);
  ck_assert_str_eq(ws_handshake_protocol(hs), "");
  ws_handshake_del(hs);
}
END_TEST

START_TEST(test_response_extensions) {
  struct ws_handshake_config c = base_config();
  struct ws_handshake *hs;
  const char *r = GOOD_HEAD UPG CONN ACC
      "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=\"10\"\r\n"
      "Sec-WebSocket-Extensions: x-webkit-foo\r\n\r\n";
  struct outcome o = feed(&c, r, strlen(r), 0, 0, &hs);
  ck_assert_int_eq(o.rv, 1);
  ck_assert_str_eq(ws_handshake_extensions(hs),
                   "permessage-deflate; client_max_window_bits=\"10\", x-webkit-foo");
  const struct ws_extension_list *l = ws_handshake_extension_list(hs);
  ck_assert_uint_eq(l->count, 2);
  ck_assert_str_eq(l->items[0].name, "permessage-deflate");
  ck_assert_str_eq(l->items[0].params[0].name, "client_max_window_bits");
  ck_assert_str_eq(l->items[0].params[0].value, "10");
  ck_assert_str_eq(l->items[1].name, "x-webkit-foo");
  ws_handshake_del(hs);
  expect_response(r, 1, (size_t)-1);
  /* not offered, repeated, malformed */
  expect_response(GOOD_HEAD UPG CONN ACC "Sec-WebSocket-Extensions: deflate-stream\r\n\r\n",
                  WS_ERR_HANDSHAKE_EXTENSION, (size_t)-1);
  expect_response(GOOD_HEAD UPG CONN ACC
                  "Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate\r\n\r\n",
                  WS_ERR_HANDSHAKE_EXTENSION, (size_t)-1);
  expect_response(GOOD_HEAD UPG CONN ACC
                  "Sec-WebSocket-Extensions: permessage-deflate; x=\"a b\"\r\n\r\n",
                  WS_ERR_HANDSHAKE_EXTENSION, (size_t)-1);
  expect_response(GOOD_HEAD UPG CONN ACC "Sec-WebSocket-Extensions: ;\r\n\r\n",
                  WS_ERR_HANDSHAKE_EXTENSION, (size_t)-1);
  /* A blank header names nothing. */
  expect_response(GOOD_HEAD UPG CONN ACC "Sec-WebSocket-Extensions:  \r\n\r\n", 1, (size_t)-1);
  /* Nothing offered: any extension fails. */
  c.extensions = NULL;
  expect_response_cfg(&c, GOOD_HEAD UPG CONN ACC
                      "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
                      WS_ERR_HANDSHAKE_EXTENSION, (size_t)-1);
}
END_TEST

START_TEST(test_response_folding_and_syntax) {
  /* obs-fold is unfolded into one SP. */
  struct ws_handshake_config c = base_config();
  struct ws_handshake *hs;
  const char *r = GOOD_HEAD "Upgrade:\r\n websocket\r\n" CONN
                            "Sec-WebSocket-Accept: " SAMPLE_ACCEPT "\r\n"
                            "X-Fold: a \r\n\t b\r\n  \r\n c\r\n\r\n";
  struct outcome o = feed(&c, r, strlen(r), 0, 0, &hs);
  ck_assert_int_eq(o.rv, 1);
  ck_assert_str_eq(ws_handshake_header(hs, "upgrade", 0), "websocket");
  ck_assert_str_eq(ws_handshake_header(hs, "x-fold", 0), "a b c");
  ws_handshake_del(hs);
  expect_response(r, 1, (size_t)-1);
  expect_response(GOOD_HEAD "Connection: keep-alive,\r\n Upgrade\r\n" UPG ACC "\r\n", 1,
                  (size_t)-1);
  /* A fold before any header, a space before the colon, no colon, an
   * empty name, a bare CR, a control character. */
  expect_response(GOOD_HEAD " folded\r\n" UPG CONN ACC "\r\n", WS_ERR_HANDSHAKE_MALFORMED,
                  strlen(GOOD_HEAD " folded\r\n"));
  expect_response(GOOD_HEAD "Upgrade : websocket\r\n" CONN ACC "\r\n",
                  WS_ERR_HANDSHAKE_MALFORMED, strlen(GOOD_HEAD "Upgrade : websocket\r\n"));
  expect_response(GOOD_HEAD "NoColon\r\n\r\n", WS_ERR_HANDSHAKE_MALFORMED,
                  strlen(GOOD_HEAD "NoColon\r\n"));
  expect_response(GOOD_HEAD ": x\r\n\r\n", WS_ERR_HANDSHAKE_MALFORMED, strlen(GOOD_HEAD ": x\r\n"));
  expect_response(GOOD_HEAD "X: a\rb\r\n\r\n", WS_ERR_HANDSHAKE_MALFORMED,
                  strlen(GOOD_HEAD "X: a\rb\r\n"));
  expect_response(GOOD_HEAD "X: a\x01" "b\r\n\r\n", WS_ERR_HANDSHAKE_MALFORMED,
                  strlen(GOOD_HEAD "X: a\x01" "b\r\n"));
  expect_response(GOOD_HEAD "X\x7f: a\r\n\r\n", WS_ERR_HANDSHAKE_MALFORMED,
                  strlen(GOOD_HEAD "X\x7f: a\r\n"));
  /* obs-text in a value is fine. */
  expect_response(GOOD_HEAD UPG CONN ACC "Server: caf\xc3\xa9\r\n\r\n", 1, (size_t)-1);
}
END_TEST

START_TEST(test_response_limits) {
  /* Exactly 16 KiB is accepted; one byte more is too large. */
  char *r = malloc(WS_HANDSHAKE_MAX_HEADER_BYTES + 64);
  const char *head = GOOD_HEAD UPG CONN ACC;
  size_t fixed = strlen(head) + strlen("X-Pad: \r\n") + 2;
  size_t pad = WS_HANDSHAKE_MAX_HEADER_BYTES - fixed;
  strcpy(r, head);
  strcat(r, "X-Pad: ");
  memset(r + strlen(r), 'p', pad);
  r[strlen(head) + 7 + pad] = '\0';
  strcat(r, "\r\n\r\n");
  ck_assert_uint_eq(strlen(r), WS_HANDSHAKE_MAX_HEADER_BYTES);
  struct ws_handshake_config c = base_config();
  struct outcome o = feed(&c, r, strlen(r), 0, 0, NULL);
  ck_assert_int_eq(o.rv, 1);
  o = feed(&c, r, strlen(r), 0, 1000, NULL);
  ck_assert_int_eq(o.rv, 1);
  /* one more byte of padding */
  memmove(r + strlen(head) + 8, r + strlen(head) + 7, strlen(r + strlen(head) + 7) + 1);
  o = feed(&c, r, strlen(r), 0, 0, NULL);
  ck_assert_int_eq(o.rv, WS_ERR_HANDSHAKE_TOO_LARGE);
  o = feed(&c, r, strlen(r), 0, 1, NULL);
  ck_assert_int_eq(o.rv, WS_ERR_HANDSHAKE_TOO_LARGE);
  ck_assert_uint_eq(o.consumed, WS_HANDSHAKE_MAX_HEADER_BYTES + 1);
  /* A status line that never ends. */
  memset(r, 'x', WS_HANDSHAKE_MAX_HEADER_BYTES + 10);
  memcpy(r, "HTTP/1.1 101 ", 13);
  o = feed(&c, r, WS_HANDSHAKE_MAX_HEADER_BYTES + 10, 0, 4096, NULL);
  ck_assert_int_eq(o.rv, WS_ERR_HANDSHAKE_TOO_LARGE);
  free(r);
  /* 100 fields are accepted, 101 are not. */
  char *many = malloc(8192);
  for (int n = 100; n <= 101; n++) {
    strcpy(many, GOOD_HEAD UPG CONN ACC);
    for (int i = 3; i < n; i++)
      sprintf(many + strlen(many), "X-%d: v\r\n", i);
    strcat(many, "\r\n");
    o = feed(&c, many, strlen(many), 0, 0, NULL);
    ck_assert_int_eq(o.rv, n == 100 ? 1 : WS_ERR_HANDSHAKE_TOO_LARGE);
  }
  free(many);
}
END_TEST

START_TEST(test_oom) {
  /* Fail each allocation in turn through new + a response with
   * extensions; every failure is WS_ERR_NOMEM and nothing leaks. */
  const char *r = GOOD_HEAD UPG CONN ACC "Sec-WebSocket-Protocol: chat\r\n"
                  "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15\r\n"
                  "X-Long: " "0123456789012345678901234567890123456789012345678901234567890123"
                  "0123456789012345678901234567890123456789012345678901234567890123"
                  "0123456789012345678901234567890123456789012345678901234567890123"
                  "0123456789012345678901234567890123456789012345678901234567890123\r\n\r\n";
  struct ws_handshake_config c = base_config();
  int succeeded = 0;
  for (long n = 1; n < 200 && !succeeded; n++) {
    struct test_alloc a = {0, 0, n, 0};
    struct ws_mem mem = test_alloc_mem(&a);
    struct ws_handshake *hs = NULL;
    int rv = ws_handshake_new(&hs, &c, &mem);
    if (rv == 0) {
      size_t used;
      /* byte at a time so buffer growth happens on many calls */
      for (size_t i = 0; i < strlen(r) && rv == 0; i++)
        rv = ws_handshake_recv(hs, (const uint8_t *)r + i, 1, &used);
      ws_handshake_del(hs);
      if (rv == 1)
        succeeded = 1;
    } else {
      ck_assert_ptr_null(hs);
    }
    if (!succeeded) {
      ck_assert_msg(rv == WS_ERR_NOMEM, "n=%ld rv=%s", n, ws_error_name(rv));
      ck_assert_int_eq(a.failures, 1);
    }
    ck_assert_int_eq(a.live, 0);
  }
  ck_assert(succeeded);
}
END_TEST

static Suite *handshake_suite(void) {
  Suite *s = suite_create("ws_handshake");
  TCase *tc = tcase_create("request");
  tcase_add_checked_fixture(tc, nss_setup, nss_teardown);
  tcase_add_test(tc, test_accept_key_rfc_example);
  tcase_add_test(tc, test_request_full);
  tcase_add_test(tc, test_request_minimal_and_ports);
  tcase_add_test(tc, test_request_invalid_config);
  tcase_add_test(tc, test_extensions_parse);
  suite_add_tcase(s, tc);
  tc = tcase_create("response");
  tcase_add_checked_fixture(tc, nss_setup, nss_teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_response_good);
  tcase_add_test(tc, test_response_status);
  tcase_add_test(tc, test_response_malformed_status);
  tcase_add_test(tc, test_response_upgrade_connection);
  tcase_add_test(tc, test_response_accept);
  tcase_add_test(tc, test_response_protocol);
  tcase_add_test(tc, test_response_extensions);
  tcase_add_test(tc, test_response_folding_and_syntax);
  tcase_add_test(tc, test_response_limits);
  tcase_add_test(tc, test_oom);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(handshake_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
