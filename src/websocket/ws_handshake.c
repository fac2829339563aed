/*
 * ws_handshake.c — opening handshake (RFC 6455 §4.1, §4.2.2, §9.1).
 *
 * The response is kept in one buffer, bounded by the 16 KiB header limit.
 * Each line is checked as soon as its LF arrives; header fields are stored
 * in place (name and value NUL-terminated, the CRLF dropped), and an
 * obs-fold line is moved up against the value it continues, so the buffer
 * never holds more than the input that arrived.
 */
#include "ws_handshake.h"

#include <plbase64.h>
#include <sechash.h>
#include <stdio.h>
#include <string.h>

#include "ws_deflate.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* ---- character classes (RFC 7230 §3.2.6) ------------------------------ */

static bool ws_is_tchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool ws_is_ows(unsigned char c) { return c == ' ' || c == '\t'; }

static char ws_lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

static bool ws_ci_equal(const char *a, size_t alen, const char *b) {
  size_t blen = strlen(b);
  if (alen != blen)
    return false;
  for (size_t i = 0; i < alen; i++)
    if (ws_lower(a[i]) != ws_lower(b[i]))
      return false;
  return true;
}

static const char *ws_skip_ows(const char *p, const char *end) {
  while (p < end && ws_is_ows((unsigned char)*p))
    p++;
  return p;
}

static size_t ws_scan_token(const char *p, const char *end) {
  size_t n = 0;
  while (p + n < end && ws_is_tchar((unsigned char)p[n]))
    n++;
  return n;
}

/* ---- Sec-WebSocket-Extensions ----------------------------------------- */

/* The parser runs twice: once counting (items == NULL), once filling one
 * allocation of exactly the counted size. */
struct ws_ext_sink {
  struct ws_extension *items;
  struct ws_extension_param *params;
  char *str;
  size_t nitems, nparams, nstr;
};

static const char *ws_sink_str(struct ws_ext_sink *k, const char *s, size_t n) {
  const char *r = NULL;
  if (k->items) {
    memcpy(k->str + k->nstr, s, n);
    k->str[k->nstr + n] = '\0';
    r = k->str + k->nstr;
  }
  k->nstr += n + 1;
  return r;
}

static void ws_sink_ext(struct ws_ext_sink *k, const char *name, size_t n) {
  const char *s = ws_sink_str(k, name, n);
  if (k->items) {
    k->items[k->nitems].name = s;
    k->items[k->nitems].nparams = 0;
    k->items[k->nitems].params = k->params + k->nparams;
  }
  k->nitems++;
}

static int ws_ext_parse(const char *p, const char *end, struct ws_ext_sink *k) {
  for (;;) {
    p = ws_skip_ows(p, end);
    if (p == end)
      return 0;
    if (*p == ',') { /* empty list element (RFC 7230 §7) */
      p++;
      continue;
    }
    size_t n = ws_scan_token(p, end);
    if (n == 0)
      return WS_ERR_INVALID_ARGUMENT;
    ws_sink_ext(k, p, n);
    p = ws_skip_ows(p + n, end);
    while (p < end && *p == ';') {
      p = ws_skip_ows(p + 1, end);
      n = ws_scan_token(p, end);
      if (n == 0)
        return WS_ERR_INVALID_ARGUMENT;
      const char *pname = ws_sink_str(k, p, n);
      const char *pvalue = NULL;
      p = ws_skip_ows(p + n, end);
      if (p < end && *p == '=') {
        p = ws_skip_ows(p + 1, end);
        if (p < end && *p == '"') {
          /* quoted-string; §9.1: after unescaping it MUST be a token. */
          size_t start = k->nstr, vlen = 0;
          for (p++; p < end && *p != '"'; p++, vlen++) {
            if (*p == '\\' && ++p == end)
              return WS_ERR_INVALID_ARGUMENT;
            if (!ws_is_tchar((unsigned char)*p))
              return WS_ERR_INVALID_ARGUMENT;
            if (k->items)
              k->str[k->nstr] = *p;
            k->nstr++;
          }
          if (p == end || vlen == 0)
            return WS_ERR_INVALID_ARGUMENT;
          p++;
          if (k->items) {
            k->str[k->nstr] = '\0';
            pvalue = k->str + start;
          }
          k->nstr++;
        } else {
          n = ws_scan_token(p, end);
          if (n == 0)
            return WS_ERR_INVALID_ARGUMENT;
          pvalue = ws_sink_str(k, p, n);
          p += n;
        }
        p = ws_skip_ows(p, end);
      }
      if (k->items) {
        k->params[k->nparams].name = pname;
        k->params[k->nparams].value = pvalue;
        k->items[k->nitems - 1].nparams++;
      }
      k->nparams++;
    }
    if (p < end) {
      if (*p != ',')
        return WS_ERR_INVALID_ARGUMENT;
      p++;
    }
  }
}

int ws_extensions_parse(const char *value, size_t len, const struct ws_mem *mem,
                        struct ws_extension_list **out) {
  struct ws_ext_sink k = {0};
  *out = NULL;
  if (!mem)
    mem = ws_mem_default();
  if (!value) { /* NULL + 0 is undefined behaviour: parse "" instead */
    value = "";
    len = 0;
  }
  int rv = ws_ext_parse(value, value + len, &k);
  if (rv < 0)
    return rv;
  size_t size = sizeof(struct ws_extension_list) + k.nitems * sizeof(struct ws_extension) +
                k.nparams * sizeof(struct ws_extension_param) + k.nstr;
  struct ws_extension_list *list = ws_mem_malloc(mem, size);
  if (!list)
    return WS_ERR_NOMEM;
  struct ws_ext_sink fill = {0};
  fill.items = (struct ws_extension *)(list + 1);
  fill.params = (struct ws_extension_param *)(fill.items + k.nitems);
  fill.str = (char *)(fill.params + k.nparams);
  rv = ws_ext_parse(value, value + len, &fill);
  (void)rv; /* same input, same result as the counting pass */
  list->count = fill.nitems;
  list->items = fill.items;
  *out = list;
  return 0;
}

void ws_extensions_free(struct ws_extension_list *list, const struct ws_mem *mem) {
  ws_mem_free(mem ? mem : ws_mem_default(), list);
}

/* ---- Sec-WebSocket-Accept --------------------------------------------- */

static void ws_key_base64(const uint8_t key[WS_HANDSHAKE_KEY_LEN], char out[25]) {
  PL_Base64Encode((const char *)key, WS_HANDSHAKE_KEY_LEN, out);
  out[24] = '\0';
}

int ws_handshake_accept_key(const uint8_t key[WS_HANDSHAKE_KEY_LEN],
                            char out[WS_HANDSHAKE_ACCEPT_LEN + 1]) {
  char concat[24 + sizeof ws_guid];
  unsigned char digest[20];
  ws_key_base64(key, concat);
  memcpy(concat + 24, ws_guid, sizeof ws_guid);
  if (HASH_HashBuf(HASH_AlgSHA1, digest, (const unsigned char *)concat,
                   (PRUint32)(24 + sizeof ws_guid - 1)) != SECSuccess)
    return WS_ERR_INTERNAL;
  PL_Base64Encode((const char *)digest, sizeof digest, out);
  out[WS_HANDSHAKE_ACCEPT_LEN] = '\0';
  return 0;
}

/* ---- the handshake object --------------------------------------------- */

enum ws_hs_state { WS_HS_STATUS_LINE, WS_HS_HEADERS, WS_HS_DONE, WS_HS_FAILED };

struct ws_hs_field {
  uint16_t name_off, name_len, val_off, val_len; /* into buf; both NUL-terminated */
};

struct ws_handshake {
  struct ws_mem mem;
  char *request;
  size_t request_len;
  char accept[WS_HANDSHAKE_ACCEPT_LEN + 1];
  char *offered_protocols; /* "p1\0p2\0..." */
  size_t noffered_protocols;
  struct ws_extension_list *offered_ext; /* NULL when nothing offered */

  enum ws_hs_state state;
  int result; /* 1 or the sticky error */
  int status;
  size_t total; /* response bytes consumed */
  char *buf;
  size_t buf_used, buf_cap, line_start;
  size_t nfields;
  struct ws_hs_field fields[WS_HANDSHAKE_MAX_HEADERS];
  const char *protocol;
  char *ext_joined;
  struct ws_extension_list *ext_list;
  bool pmd_agreed;
  struct ws_pmd_params pmd;
};

static const struct ws_extension_list ws_no_extensions = {0, NULL};

/* A growable string for building the request. */
struct ws_sbuf {
  const struct ws_mem *mem;
  char *p;
  size_t len, cap;
  bool oom;
};

static void ws_sbuf_add(struct ws_sbuf *b, const char *s, size_t n) {
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *np = ws_mem_realloc(b->mem, b->p, cap);
    if (!np) {
      b->oom = true;
      return;
    }
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void ws_sbuf_str(struct ws_sbuf *b, const char *s) { ws_sbuf_add(b, s, strlen(s)); }

/* Printable ASCII (and SP/HT if allow_space); no CR, LF, NUL, DEL, non-ASCII. */
static bool ws_field_ok(const char *s, bool allow_space) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c > 0x20 && c < 0x7F)
      continue;
    if (allow_space && (c == ' ' || c == '\t'))
      continue;
    return false;
  }
  return true;
}

static int ws_validate_config(const struct ws_handshake_config *cfg) {
  if (!cfg->host || !*cfg->host || !ws_field_ok(cfg->host, false) ||
      strpbrk(cfg->host, "/?#@"))
    return WS_ERR_INVALID_ARGUMENT;
  if (cfg->path && *cfg->path &&
      (cfg->path[0] != '/' || !ws_field_ok(cfg->path, false) || strchr(cfg->path, '#')))
    return WS_ERR_INVALID_ARGUMENT; /* §3: fragments MUST NOT be used */
  if (cfg->origin && !ws_field_ok(cfg->origin, true))
    return WS_ERR_INVALID_ARGUMENT;
  if (cfg->extensions && !ws_field_ok(cfg->extensions, true))
    return WS_ERR_INVALID_ARGUMENT;
  if (cfg->nprotocols && !cfg->protocols)
    return WS_ERR_INVALID_ARGUMENT;
  for (size_t i = 0; i < cfg->nprotocols; i++) {
    /* §4.1 item 10: non-empty tokens, unique */
    const char *p = cfg->protocols[i];
    if (!p || !*p || ws_scan_token(p, p + strlen(p)) != strlen(p))
      return WS_ERR_INVALID_ARGUMENT;
    for (size_t j = 0; j < i; j++)
      if (strcmp(cfg->protocols[j], p) == 0)
        return WS_ERR_INVALID_ARGUMENT;
  }
  return 0;
}

static int ws_build_request(struct ws_handshake *hs, const struct ws_handshake_config *cfg) {
  struct ws_sbuf b = {&hs->mem, NULL, 0, 0, false};
  char key64[25], port[16];
  ws_key_base64(cfg->key, key64);

  ws_sbuf_str(&b, "GET ");
  ws_sbuf_str(&b, cfg->path && *cfg->path ? cfg->path : "/");
  ws_sbuf_str(&b, " HTTP/1.1\r\nHost: ");
  bool bracket = strchr(cfg->host, ':') && cfg->host[0] != '[';
  if (bracket)
    ws_sbuf_str(&b, "[");
  ws_sbuf_str(&b, cfg->host);
  if (bracket)
    ws_sbuf_str(&b, "]");
  uint16_t def = cfg->secure ? 443 : 80;
  if (cfg->port && cfg->port != def) { /* §4.1 item 4: port only if non-default */
    snprintf(port, sizeof port, ":%u", (unsigned)cfg->port);
    ws_sbuf_str(&b, port);
  }
  ws_sbuf_str(&b, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
  ws_sbuf_str(&b, key64);
  ws_sbuf_str(&b, "\r\nSec-WebSocket-Version: 13\r\n");
  if (cfg->origin && *cfg->origin) {
    ws_sbuf_str(&b, "Origin: ");
    ws_sbuf_str(&b, cfg->origin);
    ws_sbuf_str(&b, "\r\n");
  }
  if (cfg->nprotocols) {
    ws_sbuf_str(&b, "Sec-WebSocket-Protocol: ");
    for (size_t i = 0; i < cfg->nprotocols; i++) {
      if (i)
        ws_sbuf_str(&b, ", ");
      ws_sbuf_str(&b, cfg->protocols[i]);
    }
    ws_sbuf_str(&b, "\r\n");
  }
  if (cfg->extensions && *cfg->extensions) {
    ws_sbuf_str(&b, "Sec-WebSocket-Extensions: ");
    ws_sbuf_str(&b, cfg->extensions);
    ws_sbuf_str(&b, "\r\n");
  }
  ws_sbuf_str(&b, "\r\n");
  if (b.oom) {
    ws_mem_free(&hs->mem, b.p);
    return WS_ERR_NOMEM;
  }
  hs->request = b.p;
  hs->request_len = b.len;
  return 0;
}

int ws_handshake_new(struct ws_handshake **out, const struct ws_handshake_config *cfg,
                     const struct ws_mem *mem) {
  *out = NULL;
  if (!mem)
    mem = ws_mem_default();
  int rv = ws_validate_config(cfg);
  if (rv < 0)
    return rv;
  struct ws_handshake *hs = ws_mem_malloc(mem, sizeof *hs);
  if (!hs)
    return WS_ERR_NOMEM;
  memset(hs, 0, sizeof *hs);
  hs->mem = *mem;
  hs->state = WS_HS_STATUS_LINE;

  if (cfg->extensions && *cfg->extensions) {
    rv = ws_extensions_parse(cfg->extensions, strlen(cfg->extensions), mem, &hs->offered_ext);
    if (rv < 0)
      goto fail;
  }
  size_t plen = 0;
  for (size_t i = 0; i < cfg->nprotocols; i++)
    plen += strlen(cfg->protocols[i]) + 1;
  if (plen) {
    hs->offered_protocols = ws_mem_malloc(mem, plen);
    if (!hs->offered_protocols) {
      rv = WS_ERR_NOMEM;
      goto fail;
    }
    char *q = hs->offered_protocols;
    for (size_t i = 0; i < cfg->nprotocols; i++) {
      size_t n = strlen(cfg->protocols[i]) + 1;
      memcpy(q, cfg->protocols[i], n);
      q += n;
    }
    hs->noffered_protocols = cfg->nprotocols;
  }
  if ((rv = ws_handshake_accept_key(cfg->key, hs->accept)) < 0)
    goto fail;
  if ((rv = ws_build_request(hs, cfg)) < 0)
    goto fail;
  *out = hs;
  return 0;
fail:
  ws_handshake_del(hs);
  return rv;
}

void ws_handshake_del(struct ws_handshake *hs) {
  if (!hs)
    return;
  const struct ws_mem *mem = &hs->mem;
  ws_mem_free(mem, hs->request);
  ws_mem_free(mem, hs->offered_protocols);
  ws_extensions_free(hs->offered_ext, mem);
  ws_mem_free(mem, hs->buf);
  ws_mem_free(mem, hs->ext_joined);
  ws_extensions_free(hs->ext_list, mem);
  struct ws_mem copy = *mem;
  ws_mem_free(&copy, hs);
}

void ws_handshake_request(const struct ws_handshake *hs, const uint8_t **data, size_t *len) {
  *data = (const uint8_t *)hs->request;
  *len = hs->request_len;
}

int ws_handshake_status_code(const struct ws_handshake *hs) { return hs->status; }

const char *ws_handshake_protocol(const struct ws_handshake *hs) {
  return hs->protocol ? hs->protocol : "";
}

const char *ws_handshake_extensions(const struct ws_handshake *hs) {
  return hs->ext_joined ? hs->ext_joined : "";
}

const struct ws_extension_list *ws_handshake_extension_list(const struct ws_handshake *hs) {
  return hs->ext_list ? hs->ext_list : &ws_no_extensions;
}

bool ws_handshake_pmd(const struct ws_handshake *hs, struct ws_pmd_params *out) {
  if (hs->state != WS_HS_DONE || !hs->pmd_agreed)
    return false;
  if (out)
    *out = hs->pmd;
  return true;
}

const char *ws_handshake_header(const struct ws_handshake *hs, const char *name, size_t index) {
  for (size_t i = 0; i < hs->nfields; i++) {
    const struct ws_hs_field *f = &hs->fields[i];
    if (ws_ci_equal(hs->buf + f->name_off, f->name_len, name) && index-- == 0)
      return hs->buf + f->val_off;
  }
  return NULL;
}

/* ---- response parsing -------------------------------------------------- */

static int ws_hs_fail(struct ws_handshake *hs, int err) {
  hs->state = WS_HS_FAILED;
  hs->result = err;
  return err;
}

/* "HTTP/" DIGIT "." DIGIT SP 3DIGIT [SP reason-phrase] (RFC 7230 §3.1.2) */
static int ws_hs_status_line(struct ws_handshake *hs, const char *s, size_t n) {
#define D(c) ((c) >= '0' && (c) <= '9')
  if (n < 12 || memcmp(s, "HTTP/", 5) != 0 || !D(s[5]) || s[6] != '.' || !D(s[7]) ||
      s[8] != ' ' || !D(s[9]) || !D(s[10]) || !D(s[11]) || (n > 12 && s[12] != ' '))
    return WS_ERR_HANDSHAKE_MALFORMED;
#undef D
  hs->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
  /* §4.1: anything but 101 means the handshake did not happen. */
  if (s[5] != '1' || s[7] != '1' || hs->status != 101)
    return WS_ERR_HANDSHAKE_STATUS;
  return 0;
}

static int ws_hs_header_line(struct ws_handshake *hs, size_t start, size_t end) {
  char *b = hs->buf;
  if (ws_is_ows((unsigned char)b[start])) {
    /* obs-fold: RFC 7230 §3.2.4 — a user agent replaces it with SP. */
    if (hs->nfields == 0)
      return WS_ERR_HANDSHAKE_MALFORMED;
    const char *c = ws_skip_ows(b + start, b + end);
    const char *e = b + end;
    while (e > c && ws_is_ows((unsigned char)e[-1]))
      e--;
    struct ws_hs_field *f = &hs->fields[hs->nfields - 1];
    size_t dst = (size_t)f->val_off + f->val_len; /* where its NUL is */
    size_t n = (size_t)(e - c);
    if (n) {
      if (f->val_len)
        b[dst++] = ' ';
      memmove(b + dst, c, n);
      dst += n;
      f->val_len = (uint16_t)(dst - f->val_off);
    }
    b[dst] = '\0';
    hs->buf_used = dst + 1;
    return 0;
  }
  const char *colon = memchr(b + start, ':', end - start);
  if (!colon)
    return WS_ERR_HANDSHAKE_MALFORMED;
  size_t name_len = (size_t)(colon - (b + start));
  /* A token with nothing between it and the colon (§3.2, §3.2.4). */
  if (name_len == 0 || ws_scan_token(b + start, colon) != name_len)
    return WS_ERR_HANDSHAKE_MALFORMED;
  if (hs->nfields == WS_HANDSHAKE_MAX_HEADERS)
    return WS_ERR_HANDSHAKE_TOO_LARGE;
  const char *v = ws_skip_ows(colon + 1, b + end);
  const char *e = b + end;
  while (e > v && ws_is_ows((unsigned char)e[-1]))
    e--;
  struct ws_hs_field *f = &hs->fields[hs->nfields++];
  f->name_off = (uint16_t)start;
  f->name_len = (uint16_t)name_len;
  f->val_off = (uint16_t)(v - b);
  f->val_len = (uint16_t)(e - v);
  b[start + name_len] = '\0';
  b[f->val_off + f->val_len] = '\0';
  hs->buf_used = (size_t)f->val_off + f->val_len + 1;
  return 0;
}

/* Does the comma-separated list `v` hold `token` (any case)? */
static bool ws_list_has(const char *v, const char *token) {
  const char *end = v + strlen(v);
  while (v < end) {
    const char *comma = memchr(v, ',', (size_t)(end - v));
    const char *e = comma ? comma : end;
    const char *s = ws_skip_ows(v, e);
    const char *t = e;
    while (t > s && ws_is_ows((unsigned char)t[-1]))
      t--;
    if (ws_ci_equal(s, (size_t)(t - s), token))
      return true;
    v = comma ? comma + 1 : end;
  }
  return false;
}

static bool ws_any_header_has(const struct ws_handshake *hs, const char *name, const char *tok) {
  const char *v;
  for (size_t i = 0; (v = ws_handshake_header(hs, name, i)) != NULL; i++)
    if (ws_list_has(v, tok))
      return true;
  return false;
}

static int ws_hs_check_extensions(struct ws_handshake *hs) {
  size_t len = 0, n = 0;
  const char *v;
  for (; (v = ws_handshake_header(hs, "Sec-WebSocket-Extensions", n)) != NULL; n++)
    len += strlen(v) + 2;
  if (n == 0)
    return 0;
  char *joined = ws_mem_malloc(&hs->mem, len + 1);
  if (!joined)
    return WS_ERR_NOMEM;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    v = ws_handshake_header(hs, "Sec-WebSocket-Extensions", i);
    if (!*v)
      continue;
    if (at) {
      memcpy(joined + at, ", ", 2);
      at += 2;
    }
    memcpy(joined + at, v, strlen(v));
    at += strlen(v);
  }
  joined[at] = '\0';
  hs->ext_joined = joined;
  int rv = ws_extensions_parse(joined, at, &hs->mem, &hs->ext_list);
  if (rv == WS_ERR_NOMEM)
    return rv;
  if (rv < 0)
    return WS_ERR_HANDSHAKE_EXTENSION;
  const struct ws_extension_list *got = hs->ext_list;
  if (got->count == 0)
    joined[0] = '\0';
  /* §9.1: only extensions the client offered, each once. */
  for (size_t i = 0; i < got->count; i++) {
    bool offered = false;
    for (size_t j = 0; hs->offered_ext && j < hs->offered_ext->count; j++)
      if (strcmp(got->items[i].name, hs->offered_ext->items[j].name) == 0)
        offered = true;
    if (!offered)
      return WS_ERR_HANDSHAKE_EXTENSION;
    for (size_t j = 0; j < i; j++)
      if (strcmp(got->items[i].name, got->items[j].name) == 0)
        return WS_ERR_HANDSHAKE_EXTENSION;
  }
  /* RFC 7692 §7.1: the permessage-deflate answer must fit our offer. */
  for (size_t i = 0; i < got->count; i++)
    if (strcmp(got->items[i].name, WS_PMD_NAME) == 0) {
      if ((rv = ws_pmd_negotiate(hs->offered_ext, &got->items[i], &hs->pmd)) < 0)
        return rv;
      hs->pmd_agreed = true;
    }
  return 0;
}

/* RFC 6455 §4.1, client requirements 2-6 on the server's response. */
static int ws_hs_validate(struct ws_handshake *hs) {
  if (!ws_any_header_has(hs, "Upgrade", "websocket"))
    return WS_ERR_HANDSHAKE_UPGRADE;
  if (!ws_any_header_has(hs, "Connection", "Upgrade"))
    return WS_ERR_HANDSHAKE_CONNECTION;
  const char *acc = ws_handshake_header(hs, "Sec-WebSocket-Accept", 0);
  if (!acc || ws_handshake_header(hs, "Sec-WebSocket-Accept", 1) || strcmp(acc, hs->accept))
    return WS_ERR_HANDSHAKE_ACCEPT;
  const char *proto = ws_handshake_header(hs, "Sec-WebSocket-Protocol", 0);
  if (proto) {
    if (ws_handshake_header(hs, "Sec-WebSocket-Protocol", 1))
      return WS_ERR_HANDSHAKE_PROTOCOL;
    const char *o = hs->offered_protocols;
    bool found = false;
    for (size_t i = 0; i < hs->noffered_protocols && !found; i++, o += strlen(o) + 1)
      found = strcmp(o, proto) == 0;
    if (!found) /* also catches "" and lists: offered values are single tokens */
      return WS_ERR_HANDSHAKE_PROTOCOL;
    hs->protocol = proto;
  }
  return ws_hs_check_extensions(hs);
}

/* Handles the complete line buf[line_start..buf_used), which ends in LF.
 * Returns 0 (more lines), 1 (blank line: header block complete) or an error. */
static int ws_hs_line(struct ws_handshake *hs) {
  size_t start = hs->line_start, end = hs->buf_used - 1; /* end: the LF */
  char *b = hs->buf;
  if (end > start && b[end - 1] == '\r')
    end--;
  for (size_t i = start; i < end; i++) {
    unsigned char c = (unsigned char)b[i];
    if ((c < 0x20 && c != '\t') || c == 0x7F) /* bare CR, NUL, other CTLs */
      return WS_ERR_HANDSHAKE_MALFORMED;
  }
  int rv;
  if (hs->state == WS_HS_STATUS_LINE) {
    if ((rv = ws_hs_status_line(hs, b + start, end - start)) < 0)
      return rv;
    hs->state = WS_HS_HEADERS;
    hs->buf_used = start; /* nothing of the status line is needed later */
  } else if (end == start) {
    return 1;
  } else if ((rv = ws_hs_header_line(hs, start, end)) < 0) {
    return rv;
  }
  hs->line_start = hs->buf_used;
  return 0;
}

static int ws_hs_append(struct ws_handshake *hs, const uint8_t *p, size_t n) {
  if (hs->buf_used + n > hs->buf_cap) {
    size_t cap = hs->buf_cap ? hs->buf_cap : 512;
    while (cap < hs->buf_used + n)
      cap *= 2;
    if (cap > WS_HANDSHAKE_MAX_HEADER_BYTES)
      cap = WS_HANDSHAKE_MAX_HEADER_BYTES; /* buf_used <= total <= the limit */
    char *nb = ws_mem_realloc(&hs->mem, hs->buf, cap);
    if (!nb)
      return WS_ERR_NOMEM;
    hs->buf = nb;
    hs->buf_cap = cap;
  }
  memcpy(hs->buf + hs->buf_used, p, n);
  hs->buf_used += n;
  return 0;
}

int ws_handshake_recv(struct ws_handshake *hs, const uint8_t *in, size_t len,
                      size_t *consumed) {
  size_t i = 0;
  int rv = 0;
  *consumed = 0;
  if (hs->state == WS_HS_DONE || hs->state == WS_HS_FAILED)
    return hs->result;
  while (i < len) {
    const uint8_t *lf = memchr(in + i, '\n', len - i);
    size_t n = lf ? (size_t)(lf - (in + i)) + 1 : len - i;
    if (hs->state == WS_HS_STATUS_LINE) {
      /* Fail fast, at the first byte that cannot start "HTTP/". */
      size_t have = hs->buf_used - hs->line_start;
      for (size_t k = 0; have + k < 5 && k < n; k++)
        if (in[i + k] != (uint8_t)"HTTP/"[have + k]) {
          i += k + 1;
          rv = ws_hs_fail(hs, WS_ERR_HANDSHAKE_MALFORMED);
          goto out;
        }
    }
    if (hs->total + n > WS_HANDSHAKE_MAX_HEADER_BYTES) {
      i += WS_HANDSHAKE_MAX_HEADER_BYTES - hs->total + 1; /* up to the first byte too many */
      rv = ws_hs_fail(hs, WS_ERR_HANDSHAKE_TOO_LARGE);
      break;
    }
    if ((rv = ws_hs_append(hs, in + i, n)) < 0) {
      /* Nothing of this piece was taken; the caller may not retry though:
       * the handshake has failed. */
      ws_hs_fail(hs, rv);
      break;
    }
    hs->total += n;
    i += n;
    if (!lf)
      break;
    rv = ws_hs_line(hs);
    if (rv < 0) {
      ws_hs_fail(hs, rv);
      break;
    }
    if (rv == 1) {
      rv = ws_hs_validate(hs);
      if (rv < 0) {
        ws_hs_fail(hs, rv);
      } else {
        hs->state = WS_HS_DONE;
        hs->result = rv = 1;
      }
      break;
    }
  }
out:
  *consumed = i;
  return rv;
}
