/*
 * fuzz_handshake.c — the opening-handshake response parser
 * (ws_handshake_recv) and the Sec-WebSocket-Extensions grammar
 * (ws_extensions_parse, ws_pmd_negotiate).
 *
 * The request is fixed: host example.com, the RFC 6455 §1.3 sample key
 * "the sample nonce" (so a valid response carries
 * Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=), and one of four
 * extension offers and two subprotocol lists chosen by the input.
 *
 * Input: byte 0 = set-up:
 *   bits 0-1  extension offer (none, the default permessage-deflate offer,
 *             two permessage-deflate alternatives, x-foo + permessage-deflate)
 *   bit 2     offer subprotocols "chat" and "superchat"
 *   bit 3     extension mode: the rest is a Sec-WebSocket-Extensions value
 *             given to ws_extensions_parse and ws_pmd_negotiate
 *   bit 4     fail allocation number 1 + (bits 5-7) (out-of-memory paths)
 * then a split spec (fuzz_input.h), then the response bytes.
 *
 * Oracles: the response parsed whole and in chunks gives the same result,
 * the same total `consumed`, status code and negotiated values; results
 * are sticky; a successful handshake has the expected accept key, an
 * offered subprotocol, only offered extensions and valid deflate
 * parameters; strings from the extension parser are tokens; nothing leaks
 * (counted allocator).
 */
#include <nss.h>

#include "fuzz_input.h"
#include "websocket/ws_deflate.h"
#include "websocket/ws_handshake.h"

static const char *const offers[4] = {
    NULL,
    WS_PMD_OFFER,
    "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; "
    "client_max_window_bits, permessage-deflate",
    "x-foo; a=1; b=\"q\", permessage-deflate; client_max_window_bits=12"};
static const char *const protocols[2] = {"chat", "superchat"};
static const char accept_key[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/* -DFUZZ_TRACE prints each run's outcome, to check what a corpus file does. */
#ifdef FUZZ_TRACE
#define TRACE(...) fprintf(stderr, __VA_ARGS__)
#else
#define TRACE(...) ((void)0)
#endif

/* Counting allocator that can fail one allocation. */
struct alloc {
  long live, calls, fail_at;
};
static void *a_malloc(size_t n, void *ud) {
  struct alloc *a = ud;
  if (++a->calls == a->fail_at)
    return NULL;
  void *p = malloc(n);
  if (p)
    a->live++;
  return p;
}
static void *a_realloc(void *p, size_t n, void *ud) {
  struct alloc *a = ud;
  if (++a->calls == a->fail_at)
    return NULL;
  return realloc(p, n);
}
static void a_free(void *p, void *ud) {
  struct alloc *a = ud;
  if (p)
    a->live--;
  free(p);
}

static void nss_shutdown(void) { NSS_Shutdown(); }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  FUZZ_CHECK(NSS_NoDB_Init(NULL) == SECSuccess);
  atexit(nss_shutdown);
  return 0;
}

static bool is_tchar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c && strchr("!#$%&'*+-.^_`|~", c));
}
static bool is_token(const char *s) {
  if (!s || !*s)
    return false;
  for (; *s; s++)
    if (!is_tchar(*s))
      return false;
  return true;
}

static void check_pmd(const struct ws_pmd_params *p) {
  FUZZ_CHECK(p->server_max_window_bits >= 8 && p->server_max_window_bits <= 15);
  FUZZ_CHECK(p->client_max_window_bits >= 8 && p->client_max_window_bits <= 15);
}

static void check_list(const struct ws_extension_list *l) {
  for (size_t i = 0; i < l->count; i++) {
    FUZZ_CHECK(is_token(l->items[i].name));
    for (size_t k = 0; k < l->items[i].nparams; k++) {
      const struct ws_extension_param *p = &l->items[i].params[k];
      FUZZ_CHECK(is_token(p->name));
      FUZZ_CHECK(p->value == NULL || is_token(p->value));
    }
  }
}

/* Extension mode: parse the value and negotiate every permessage-deflate
 * element against the chosen offer. */
static void fuzz_extensions(const struct ws_mem *mem, const char *offer, const uint8_t *s,
                            size_t len) {
  char *copy = (char *)fuzz_dup(s, len);
  struct ws_extension_list *list = NULL;
  int rv = ws_extensions_parse(copy, len, mem, &list);
  FUZZ_CHECK(rv == 0 || rv == WS_ERR_INVALID_ARGUMENT || rv == WS_ERR_NOMEM);
  TRACE("  extensions: %s, %zu elements\n", ws_error_name(rv), rv == 0 ? list->count : 0);
  if (rv == 0) {
    FUZZ_CHECK(list != NULL);
    check_list(list);
    struct ws_extension_list *offered = NULL;
    if (offer &&
        ws_extensions_parse(offer, strlen(offer), ws_mem_default(), &offered) == 0) {
      for (size_t i = 0; i < list->count; i++) {
        struct ws_pmd_params p;
        int nrv = ws_pmd_negotiate(offered, &list->items[i], &p);
        if (strcmp(list->items[i].name, WS_PMD_NAME) != 0) {
          FUZZ_CHECK(nrv == WS_ERR_INVALID_ARGUMENT);
        } else {
          FUZZ_CHECK(nrv == 0 || nrv == WS_ERR_HANDSHAKE_PMD);
          if (nrv == 0)
            check_pmd(&p);
        }
      }
      ws_extensions_free(offered, ws_mem_default());
    }
    ws_extensions_free(list, mem);
  }
  free(copy);
}

struct outcome {
  int rv;
  size_t consumed;
  int status;
};

/* Feeds the response in chunks (split NULL: whole) and returns the result.
 * *hsp receives the handshake (caller deletes), NULL if it could not be
 * created. */
static struct outcome run(const struct ws_handshake_config *cfg, const struct ws_mem *mem,
                          struct fuzz_split *split, const uint8_t *s, size_t len,
                          struct ws_handshake **hsp) {
  struct outcome o = {0, 0, 0};
  struct ws_handshake *hs = NULL;
  *hsp = NULL;
  o.rv = ws_handshake_new(&hs, cfg, mem);
  if (o.rv != 0) {
    FUZZ_CHECK(o.rv == WS_ERR_NOMEM);
    return o;
  }
  *hsp = hs;
  const uint8_t *req;
  size_t reqlen;
  ws_handshake_request(hs, &req, &reqlen);
  FUZZ_CHECK(req && reqlen > 0);
  FUZZ_CHECK(ws_handshake_status_code(hs) == 0);

  size_t pos = 0;
  while (pos < len) {
    size_t n = split ? fuzz_split_next(split, len - pos) : len - pos;
    uint8_t *chunk = fuzz_dup(s + pos, n);
    size_t consumed = (size_t)-1;
    int rv = ws_handshake_recv(hs, chunk, n, &consumed);
    free(chunk);
    FUZZ_CHECK(consumed <= n);
    o.consumed += consumed;
    o.rv = rv;
    if (rv != 0) {
      FUZZ_CHECK(rv == 1 || (rv <= -201 && rv >= -299) || rv == WS_ERR_NOMEM);
      break;
    }
    FUZZ_CHECK(consumed == n);
    pos += n;
  }
  o.status = ws_handshake_status_code(hs);
  TRACE("  %s: %s, consumed %zu of %zu, status %d\n", split ? "split" : "whole",
        o.rv == 1 ? "complete" : ws_error_name(o.rv), o.consumed, len, o.status);
  if (o.rv != 0) {
    /* Sticky: the same answer, nothing consumed. */
    size_t c2 = (size_t)-1;
    FUZZ_CHECK(ws_handshake_recv(hs, (const uint8_t *)"x", 1, &c2) == o.rv && c2 == 0);
  }
  if (o.rv == WS_ERR_HANDSHAKE_STATUS) /* may be 101 of HTTP/1.0 */
    FUZZ_CHECK(o.status >= 0 && o.status <= 999);
  if (o.rv == 1)
    FUZZ_CHECK(o.status == 101);
  return o;
}

static void check_success(struct ws_handshake *hs, const struct ws_handshake_config *cfg,
                          const char *offer) {
  const char *acc = ws_handshake_header(hs, "sec-websocket-accept", 0);
  FUZZ_CHECK(acc && strcmp(acc, accept_key) == 0);
  FUZZ_CHECK(ws_handshake_header(hs, "Sec-WebSocket-Accept", 1) == NULL);
  const char *proto = ws_handshake_protocol(hs);
  FUZZ_CHECK(proto != NULL);
  if (*proto) {
    bool offered = false;
    for (size_t i = 0; i < cfg->nprotocols; i++)
      offered |= strcmp(proto, cfg->protocols[i]) == 0;
    FUZZ_CHECK(offered);
  }
  FUZZ_CHECK(ws_handshake_extensions(hs) != NULL);
  const struct ws_extension_list *l = ws_handshake_extension_list(hs);
  FUZZ_CHECK(l != NULL);
  check_list(l);
  if (!offer)
    FUZZ_CHECK(l->count == 0);
  struct ws_extension_list *offered = NULL;
  if (offer)
    FUZZ_CHECK(ws_extensions_parse(offer, strlen(offer), ws_mem_default(), &offered) == 0);
  for (size_t i = 0; i < l->count; i++) {
    /* Only offered extensions, each at most once (RFC 6455 §9.1). */
    bool known = false;
    for (size_t k = 0; offered && k < offered->count; k++)
      known |= strcmp(l->items[i].name, offered->items[k].name) == 0;
    FUZZ_CHECK(known);
    for (size_t k = 0; k < i; k++)
      FUZZ_CHECK(strcmp(l->items[i].name, l->items[k].name) != 0);
  }
  ws_extensions_free(offered, ws_mem_default());
  struct ws_pmd_params p;
  if (ws_handshake_pmd(hs, &p)) {
    FUZZ_CHECK(offer && strstr(offer, WS_PMD_NAME));
    check_pmd(&p);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fuzz_in in = {data, size};
  uint8_t setup = fuzz_u8(&in);
  struct alloc a = {0, 0, setup & 0x10 ? 1 + (setup >> 5) : 0};
  struct ws_mem mem = {a_malloc, a_realloc, a_free, &a};
  const char *offer = offers[setup & 3];
  struct fuzz_split split;
  fuzz_split_init(&split, &in);
  const uint8_t *s = in.p;
  size_t len = in.n;

  if (setup & 8) {
    fuzz_extensions(&mem, offer, s, len);
    FUZZ_CHECK(a.live == 0);
    return 0;
  }

  struct ws_handshake_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.host = "example.com";
  cfg.path = "/chat?x=1";
  cfg.origin = "http://example.com";
  cfg.protocols = setup & 4 ? protocols : NULL;
  cfg.nprotocols = setup & 4 ? 2 : 0;
  cfg.extensions = offer;
  memcpy(cfg.key, "the sample nonce", WS_HANDSHAKE_KEY_LEN);

  /* The failing allocation applies to the first run only. When it was
   * reached, that run must have failed with WS_ERR_NOMEM (nothing else);
   * otherwise both runs must agree. */
  struct ws_handshake *h1, *h2;
  struct outcome whole = run(&cfg, &mem, NULL, s, len, &h1);
  bool oom = a.fail_at && a.calls >= a.fail_at;
  a.fail_at = 0;
  if (oom)
    FUZZ_CHECK(whole.rv == WS_ERR_NOMEM);
  struct outcome parts = run(&cfg, &mem, &split, s, len, &h2);
  FUZZ_CHECK(h2 != NULL);
  if (!oom) {
    FUZZ_CHECK(whole.rv == parts.rv);
    FUZZ_CHECK(whole.consumed == parts.consumed);
    FUZZ_CHECK(whole.status == parts.status);
    if (whole.rv == 1) {
      check_success(h1, &cfg, offer);
      check_success(h2, &cfg, offer);
      FUZZ_CHECK(strcmp(ws_handshake_protocol(h1), ws_handshake_protocol(h2)) == 0);
      FUZZ_CHECK(strcmp(ws_handshake_extensions(h1), ws_handshake_extensions(h2)) == 0);
      struct ws_pmd_params p1, p2;
      bool e1 = ws_handshake_pmd(h1, &p1), e2 = ws_handshake_pmd(h2, &p2);
      FUZZ_CHECK(e1 == e2);
      if (e1)
        FUZZ_CHECK(memcmp(&p1, &p2, sizeof p1) == 0);
    }
  }
  ws_handshake_del(h1);
  ws_handshake_del(h2);
  FUZZ_CHECK(a.live == 0);
  return 0;
}
