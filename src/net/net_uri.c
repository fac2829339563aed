/*
 * net_uri.c — ws/wss/http/https URIs in Gecko's nsStandardURL normal form.
 *
 * Pipeline (every entry point ends in canonicalize()):
 *   1. filter: drop tab/CR/LF, strip leading/trailing C0 controls and spaces
 *      (Gecko net_FilterURIString); refuse input over NET_URI_MAX_LENGTH.
 *   2. relative references (no scheme, or "ws:foo" against a ws base) are
 *      escaped into RFC 3986 syntax and resolved against the base with
 *      liburiparser (RFC 3986 §5.2); network-path references ("//host/x")
 *      simply take the base's scheme.
 *   3. canonicalize: split the authority like Gecko's nsAuthURLParser (any
 *      number of slashes after "scheme:", userinfo up to the last '@'),
 *      normalise host (IDN, IPv4, IPv6) and port ourselves, escape the
 *      path, query and ref, then let liburiparser validate the whole URI
 *      and remove dot segments (RFC 3986 §5.2.4) before the final string is
 *      laid out in one allocation.
 */
#include "net_uri.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uriparser/Uri.h>

/* ---- the URI value ---------------------------------------------------- */

/* Offsets index spec[]; a *_pos of -1 marks an absent optional part. */
struct net_uri {
  uint32_t spec_len;
  uint32_t scheme_len;   /* spec[0, scheme_len) */
  uint32_t user_pos;     /* username starts here (just after "://") */
  uint32_t user_len;     /* 0 when there is no userinfo */
  int32_t pass_pos;      /* after the ':' of userinfo, -1 when none */
  uint32_t pass_len;
  uint32_t hostport_pos; /* host (with brackets) and ":port" */
  uint32_t hostport_len;
  uint32_t host_pos;     /* host without brackets */
  uint32_t host_len;
  uint32_t path_pos;     /* '/' starting the path; path runs to the end */
  uint32_t filepath_len;
  int32_t query_pos;     /* after '?', -1 when none */
  uint32_t query_len;
  int32_t ref_pos;       /* after '#', -1 when none */
  int32_t port;          /* -1 = scheme default */
  uint8_t scheme;        /* index into k_schemes */
  bool ipv6;
  char spec[];           /* NUL-terminated */
};

/* The schemes we parse. Adding one (e.g. ftp) means a row here; all of
 * them use the authority form "scheme://host[:port]/path". */
static const struct scheme_info {
  char name[8];
  uint8_t len;
  uint16_t default_port;
  bool secure;
} k_schemes[] = {
  {"ws", 2, 80, false},
  {"wss", 3, 443, true},
  {"http", 4, 80, false},
  {"https", 5, 443, true},
};
#define N_SCHEMES (sizeof k_schemes / sizeof k_schemes[0])

/* ---- small helpers ------------------------------------------------------ */

static bool is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static bool is_hex(unsigned char c) { return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }
static int hex_val(unsigned char c) { return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10; }
static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

static bool ci_equal(const char *a, size_t an, const char *b, size_t bn) {
  if (an != bn) return false;
  for (size_t i = 0; i < an; i++)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

static int scheme_lookup(const char *s, size_t n) {
  for (size_t i = 0; i < N_SCHEMES; i++)
    if (ci_equal(s, n, k_schemes[i].name, k_schemes[i].len)) return (int)i;
  return -1;
}

/* A growable byte buffer; `oom` latches the first allocation failure so
 * callers check once at the end. */
typedef struct sbuf {
  char *p;
  size_t len, cap;
  bool oom;
} sbuf;

static bool sb_reserve(sbuf *b, size_t extra) {
  if (b->oom) return false;
  if (b->len + extra + 1 <= b->cap) return true;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + extra + 1) {
    if (cap > SIZE_MAX / 2) {
      b->oom = true;
      return false;
    }
    cap *= 2;
  }
  char *p = realloc(b->p, cap);
  if (!p) {
    b->oom = true;
    return false;
  }
  b->p = p;
  b->cap = cap;
  return true;
}

static void sb_put(sbuf *b, const char *s, size_t n) {
  if (!sb_reserve(b, n)) return;
  if (n) memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void sb_putc(sbuf *b, char c) { sb_put(b, &c, 1); }
static void sb_puts(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }
static void sb_free(sbuf *b) { free(b->p); b->p = NULL; b->len = b->cap = 0; }

static void sb_pct(sbuf *b, unsigned char c) {
  static const char hex[] = "0123456789ABCDEF";
  char e[3] = {'%', hex[c >> 4], hex[c & 15]};
  sb_put(b, e, 3);
}

/* ---- percent-encoding sets ------------------------------------------ */

enum esc_set { ESC_USERNAME, ESC_PASSWORD, ESC_PATH, ESC_QUERY, ESC_FRAGMENT };

/* RFC 3986 §2.3 unreserved and §2.2 sub-delims. */
static bool is_unreserved(unsigned char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
static bool is_subdelim(unsigned char c) { return c && strchr("!$&'()*+,;=", c) != NULL; }

/* Which bytes a component may hold unescaped (RFC 3986 §3.2.1, §3.3-3.5);
 * '%' is handled by the caller. */
static bool keep_raw(unsigned char c, enum esc_set set) {
  if (c <= 0x20 || c >= 0x7f) return false;
  if (is_unreserved(c) || is_subdelim(c)) return true;
  switch (c) {
  case ':': return set != ESC_USERNAME;
  case '@':
  case '/': return set >= ESC_PATH;
  case '?': return set >= ESC_QUERY;
  default: return false;
  }
}

/* Appends `s` escaped for `set`. Existing "%XX" escapes stay as they are
 * (Gecko never re-escapes them); a lone '%' becomes "%25". */
static void escape_into(sbuf *b, const char *s, size_t n, enum esc_set set) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '%' && i + 2 < n && is_hex((unsigned char)s[i + 1]) && is_hex((unsigned char)s[i + 2])) {
      sb_put(b, s + i, 3);
      i += 2;
    } else if (keep_raw(c, set)) {
      sb_putc(b, (char)c);
    } else {
      sb_pct(b, c);
    }
  }
}

/* ---- input filter and scheme -------------------------------------- */

/* Gecko net_FilterURIString: strip leading and trailing C0 controls and
 * spaces, drop every tab, CR and LF. */
static int filter(const char *s, size_t n, char **out, size_t *out_len) {
  size_t a = 0, z = n;
  while (a < z && (unsigned char)s[a] <= 0x20) a++;
  while (z > a && (unsigned char)s[z - 1] <= 0x20) z--;
  char *f = malloc(z - a + 1);
  if (!f) return NET_URI_ERR_NOMEM;
  size_t k = 0;
  for (size_t i = a; i < z; i++)
    if (s[i] != '\t' && s[i] != '\r' && s[i] != '\n') f[k++] = s[i];
  f[k] = '\0';
  *out = f;
  *out_len = k;
  return NET_URI_OK;
}

int net_uri_extract_scheme(const char *spec, size_t len, size_t *start, size_t *slen) {
  size_t i = 0;
  if (!spec) return NET_URI_ERR_MALFORMED;
  while (i < len && (unsigned char)spec[i] <= 0x20) i++;
  if (i >= len || !is_alpha((unsigned char)spec[i])) return NET_URI_ERR_MALFORMED;
  size_t j = i + 1;
  while (j < len && (is_alpha((unsigned char)spec[j]) || is_digit((unsigned char)spec[j]) ||
                     spec[j] == '+' || spec[j] == '-' || spec[j] == '.'))
    j++;
  if (j >= len || spec[j] != ':') return NET_URI_ERR_MALFORMED;
  *start = i;
  *slen = j - i;
  return NET_URI_OK;
}

int32_t net_uri_scheme_default_port(const char *scheme, size_t len) {
  int i = scheme ? scheme_lookup(scheme, len) : -1;
  return i < 0 ? -1 : k_schemes[i].default_port;
}

/* Gecko bug 652186: in special schemes '\' is '/' up to the query/ref. */
static void backslashes_to_slashes(char *s, size_t n) {
  for (size_t i = 0; i < n && s[i] != '?' && s[i] != '#'; i++)
    if (s[i] == '\\') s[i] = '/';
}

/* ---- host ------------------------------------------------------------ */

/* Characters Gecko's ValidIPv6orHostname refuses in a host name, besides
 * C0 controls, space and DEL. */
static bool host_forbidden(unsigned char c) {
  return c <= 0x20 || c == 0x7f || (c && strchr("#/:?@[\\]*<>|\"", c) != NULL);
}

/* One IPv4 part (WHATWG / Gecko ParseIPv4Number): decimal, 0-prefixed
 * octal or 0x-prefixed hex, at most 16 significant digits, <= 2^32-1. */
static bool ipv4_number(const char *p, size_t n, uint32_t *v) {
  unsigned base = 10;
  size_t i = 0;
  if (n == 0) return false;
  if (p[0] == '0' && n > 1) {
    if (p[1] == 'x' || p[1] == 'X') {
      base = 16;
      i = 2;
    } else {
      base = 8;
      i = 1;
    }
    if (i == n) return false; /* "0x" alone (Gecko refuses it) */
  }
  while (i < n && p[i] == '0') i++;
  if (n - i > 16) return false;
  uint64_t acc = 0;
  for (; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (!is_hex(c)) return false;
    unsigned d = (unsigned)hex_val(c);
    if (d >= base || (base == 10 && !is_digit(c))) return false;
    acc = acc * base + d;
    if (acc > 0xffffffffu) return false;
  }
  *v = (uint32_t)acc;
  return true;
}

/* Gecko nsStandardURL::NormalizeIPv4: a host that starts with a digit and
 * reads as 1-4 IPv4 numbers becomes dotted decimal; anything else stays a
 * name. `out` has room for "255.255.255.255". */
static bool ipv4_normalize(const char *h, size_t n, char out[16]) {
  uint32_t nums[4];
  size_t count = 0, a = 0;
  if (n == 0 || !is_digit((unsigned char)h[0])) return false;
  if (h[n - 1] == '.') n--; /* one trailing dot is allowed */
  for (size_t i = 0; i <= n; i++) {
    if (i == n || h[i] == '.') {
      if (count == 4 || !ipv4_number(h + a, i - a, &nums[count])) return false;
      count++;
      a = i + 1;
    }
  }
  static const uint32_t bound[] = {0xffffffffu, 0xffffffu, 0xffffu, 0xffu};
  uint32_t ip = nums[count - 1];
  if (ip > bound[count - 1]) return false;
  for (size_t i = 0; i + 1 < count; i++) {
    if (nums[i] > 255) return false;
    ip += nums[i] << (8 * (3 - i));
  }
  snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
  return true;
}

/* One label to its A-label with libidn2: UTS #46 mapping, non-transitional
 * ("ß" stays, as in Firefox), IDNA2008 validity, BIDI and CONTEXTJ. */
static int idn_label(const char *label, size_t n, sbuf *out) {
  char *in = malloc(n + 1), *a = NULL;
  if (!in) return NET_URI_ERR_NOMEM;
  memcpy(in, label, n);
  in[n] = '\0';
  int rc = idn2_to_ascii_8z(in, &a, IDN2_NONTRANSITIONAL);
  free(in);
  if (rc != IDN2_OK) return rc == IDN2_MALLOC ? NET_URI_ERR_NOMEM : NET_URI_ERR_MALFORMED;
  sb_puts(out, a);
  idn2_free(a);
  return NET_URI_OK;
}

/* Label by label as Gecko's nsIDNService does: ASCII labels are only
 * lower-cased (so "a-.example" stays valid for DNS); labels with non-ASCII
 * bytes or an "xn--" prefix go through IDNA, which refuses bad Punycode. */
static int idn_host(const char *h, size_t n, sbuf *out) {
  sbuf dots = {0};
  /* U+3002, U+FF0E, U+FF61 are full stops too (UTS #46 maps them). */
  for (size_t i = 0; i < n; i++) {
    if (i + 2 < n &&
        ((memcmp(h + i, "\xe3\x80\x82", 3) == 0) || (memcmp(h + i, "\xef\xbc\x8e", 3) == 0) ||
         (memcmp(h + i, "\xef\xbd\xa1", 3) == 0))) {
      sb_putc(&dots, '.');
      i += 2;
    } else {
      sb_putc(&dots, h[i]);
    }
  }
  if (dots.oom) return NET_URI_ERR_NOMEM;
  int rc = NET_URI_OK;
  size_t a = 0;
  for (size_t i = 0; i <= dots.len && rc == NET_URI_OK; i++) {
    if (i < dots.len && dots.p[i] != '.') continue;
    const char *l = dots.p + a;
    size_t ln = i - a;
    bool ascii = true;
    for (size_t k = 0; k < ln; k++)
      if ((unsigned char)l[k] >= 0x80) ascii = false;
    if (ascii && !(ln >= 4 && ci_equal(l, 4, "xn--", 4))) {
      for (size_t k = 0; k < ln; k++) sb_putc(out, lower(l[k]));
    } else {
      rc = idn_label(l, ln, out);
    }
    if (i < dots.len) sb_putc(out, '.');
    a = i + 1;
  }
  sb_free(&dots);
  return rc;
}

/*
 * Normalises a host as Gecko's BuildNormalizedSpec does and appends it to
 * `out` without brackets. `h` is the raw authority text, with brackets for
 * an IPv6 literal.
 */
static int host_normalize(const char *h, size_t n, sbuf *out, bool *ipv6) {
  *ipv6 = false;
  if (n == 0) return NET_URI_ERR_MALFORMED;
  if (h[0] == '[') {
    /* RFC 3986 §3.2.2 IP-literal; zone ids (RFC 6874) and IPvFuture are
     * refused: neither names a host we could connect to portably. */
    char a[INET6_ADDRSTRLEN + 1], canon[INET6_ADDRSTRLEN];
    unsigned char bin[16];
    size_t in = n - 2;
    if (n < 3 || h[n - 1] != ']' || in >= sizeof a) return NET_URI_ERR_MALFORMED;
    for (size_t i = 0; i < in; i++) {
      char c = h[1 + i];
      if (!(is_hex((unsigned char)c) || c == ':' || c == '.')) return NET_URI_ERR_MALFORMED;
      a[i] = lower(c);
    }
    a[in] = '\0';
    if (inet_pton(AF_INET6, a, bin) != 1 || !inet_ntop(AF_INET6, bin, canon, sizeof canon))
      return NET_URI_ERR_MALFORMED;
    sb_puts(out, canon);
    *ipv6 = true;
    return out->oom ? NET_URI_ERR_NOMEM : NET_URI_OK;
  }

  /* Percent-decode, except bytes that may not appear in a host: those stay
   * escaped (Gecko: esc_Host); NUL and space are refused outright. */
  sbuf dec = {0};
  bool needs_idn = false;
  int rc = NET_URI_OK;
  for (size_t i = 0; i < n && rc == NET_URI_OK; i++) {
    unsigned char c = (unsigned char)h[i];
    if (c == '%' && i + 2 < n && is_hex((unsigned char)h[i + 1]) && is_hex((unsigned char)h[i + 2])) {
      unsigned char d = (unsigned char)(hex_val((unsigned char)h[i + 1]) * 16 + hex_val((unsigned char)h[i + 2]));
      if (d == 0 || d == ' ') {
        rc = NET_URI_ERR_MALFORMED;
      } else if (host_forbidden(d) || d == '%') {
        sb_put(&dec, h + i, 3);
      } else {
        sb_putc(&dec, (char)d);
        if (d >= 0x80) needs_idn = true;
      }
      i += 2;
    } else if (host_forbidden(c)) {
      rc = NET_URI_ERR_MALFORMED;
    } else if (c == '%') {
      sb_puts(&dec, "%25"); /* a lone '%' must not start an escape on reparsing */
    } else {
      sb_putc(&dec, (char)c);
      if (c >= 0x80) needs_idn = true;
    }
  }
  if (rc == NET_URI_OK && dec.oom) rc = NET_URI_ERR_NOMEM;
  if (rc != NET_URI_OK) {
    sb_free(&dec);
    return rc;
  }
  for (size_t i = 0; i + 4 <= dec.len && !needs_idn; i++)
    if ((i == 0 || dec.p[i - 1] == '.') && ci_equal(dec.p + i, 4, "xn--", 4)) needs_idn = true;

  sbuf name = {0};
  if (needs_idn) {
    rc = idn_host(dec.p, dec.len, &name);
  } else {
    for (size_t i = 0; i < dec.len; i++) sb_putc(&name, lower(dec.p[i]));
  }
  sb_free(&dec);
  if (rc == NET_URI_OK && name.oom) rc = NET_URI_ERR_NOMEM;
  if (rc == NET_URI_OK) {
    /* IDNA output is checked again: mappings must not smuggle in a
     * delimiter. */
    for (size_t i = 0; i < name.len; i++)
      if (host_forbidden((unsigned char)name.p[i]) || (unsigned char)name.p[i] >= 0x80)
        rc = NET_URI_ERR_MALFORMED;
    if (name.len == 0) rc = NET_URI_ERR_MALFORMED;
  }
  if (rc == NET_URI_OK) {
    char v4[16];
    if (ipv4_normalize(name.p, name.len, v4))
      sb_puts(out, v4);
    else
      sb_put(out, name.p, name.len);
    if (out->oom) rc = NET_URI_ERR_NOMEM;
  }
  sb_free(&name);
  return rc;
}

/* RFC 3986 §3.2.3 port: digits; empty means none. */
static int port_parse(const char *p, size_t n, int32_t *port) {
  size_t i = 0;
  *port = -1;
  if (n == 0) return NET_URI_OK;
  for (size_t k = 0; k < n; k++)
    if (!is_digit((unsigned char)p[k])) return NET_URI_ERR_MALFORMED;
  while (i < n && p[i] == '0') i++;
  if (n - i > 5) return NET_URI_ERR_MALFORMED;
  int32_t v = 0;
  for (; i < n; i++) v = v * 10 + (p[i] - '0');
  if (v > 65535) return NET_URI_ERR_MALFORMED;
  *port = v;
  return NET_URI_OK;
}

/* ---- building the value ------------------------------------------------ */

typedef struct span {
  const char *p;
  size_t n;
  bool present;
} span;

/* Lays out the final spec in one allocation and records the offsets. The
 * parts are already normalised and escaped. */
static int uri_build(int scheme, span user, span pass, const char *host, size_t host_len,
                     bool ipv6, int32_t port, span path, span query, span ref, net_uri **out) {
  const struct scheme_info *si = &k_schemes[scheme];
  char portbuf[8] = "";
  size_t portlen = 0;
  if (port >= 0) portlen = (size_t)snprintf(portbuf, sizeof portbuf, ":%d", (int)port);
  if (user.n == 0) pass.present = false; /* Gecko keeps userinfo only with a username */
  size_t total = si->len + 3 + (user.n ? user.n + 1 + (pass.present ? pass.n + 1 : 0) : 0) +
                 host_len + (ipv6 ? 2 : 0) + portlen + path.n +
                 (query.present ? query.n + 1 : 0) + (ref.present ? ref.n + 1 : 0);
  if (total > NET_URI_MAX_LENGTH) return NET_URI_ERR_MALFORMED;
  net_uri *u = malloc(sizeof *u + total + 1);
  if (!u) return NET_URI_ERR_NOMEM;
  char *s = u->spec;
  size_t i = 0;
#define PUT(src, len)                                                           \
  do {                                                                          \
    if (len) memcpy(s + i, (src), (len));                                       \
    i += (len);                                                                 \
  } while (0)
  PUT(si->name, si->len);
  PUT("://", 3);
  u->scheme_len = si->len;
  u->user_pos = (uint32_t)i;
  u->user_len = (uint32_t)user.n;
  u->pass_pos = -1;
  u->pass_len = 0;
  if (user.n) {
    PUT(user.p, user.n);
    if (pass.present) {
      s[i++] = ':';
      u->pass_pos = (int32_t)i;
      u->pass_len = (uint32_t)pass.n;
      PUT(pass.p, pass.n);
    }
    s[i++] = '@';
  }
  u->hostport_pos = (uint32_t)i;
  if (ipv6) s[i++] = '[';
  u->host_pos = (uint32_t)i;
  u->host_len = (uint32_t)host_len;
  PUT(host, host_len);
  if (ipv6) s[i++] = ']';
  PUT(portbuf, portlen);
  u->hostport_len = (uint32_t)(i - u->hostport_pos);
  u->path_pos = (uint32_t)i;
  PUT(path.p, path.n);
  u->filepath_len = (uint32_t)path.n;
  u->query_pos = -1;
  u->query_len = 0;
  if (query.present) {
    s[i++] = '?';
    u->query_pos = (int32_t)i;
    u->query_len = (uint32_t)query.n;
    PUT(query.p, query.n);
  }
  u->ref_pos = -1;
  if (ref.present) {
    s[i++] = '#';
    u->ref_pos = (int32_t)i;
    PUT(ref.p, ref.n);
  }
#undef PUT
  s[i] = '\0';
  u->spec_len = (uint32_t)i;
  u->port = port;
  u->scheme = (uint8_t)scheme;
  u->ipv6 = ipv6;
  *out = u;
  return NET_URI_OK;
}

static int uriparser_err(int rc) {
  return rc == URI_ERROR_MALLOC ? NET_URI_ERR_NOMEM : NET_URI_ERR_MALFORMED;
}

/*
 * Canonicalizes an absolute URI string (already filtered). See the file
 * comment for the steps.
 */
static int canonicalize(const char *s, size_t n, net_uri **out) {
  size_t st, sl;
  if (net_uri_extract_scheme(s, n, &st, &sl) != NET_URI_OK || st != 0) return NET_URI_ERR_MALFORMED;
  int scheme = scheme_lookup(s, sl);
  if (scheme < 0) return NET_URI_ERR_UNKNOWN_SCHEME;

  size_t rn = n - sl - 1;
  char *r = malloc(rn + 1);
  if (!r) return NET_URI_ERR_NOMEM;
  memcpy(r, s + sl + 1, rn);
  r[rn] = '\0';
  backslashes_to_slashes(r, rn);

  /* Authority: Gecko's auth parser skips any number of slashes, so
   * "ws:host", "ws:/host" and "ws:///host" all name host. */
  size_t a = 0;
  while (a < rn && r[a] == '/') a++;
  size_t ae = a;
  while (ae < rn && r[ae] != '/' && r[ae] != '?' && r[ae] != '#') ae++;

  int rc = NET_URI_OK;
  sbuf user = {0}, pass = {0}, host = {0}, rest = {0}, cand = {0};
  bool has_pass = false, ipv6 = false;
  int32_t port = -1;
  UriUriA pu, ru;
  bool pu_live = false, ru_live = false;

  size_t at = ae;
  for (size_t i = a; i < ae; i++)
    if (r[i] == '@') at = i; /* the last '@' ends the userinfo */
  size_t hs = at < ae ? at + 1 : a;
  if (hs >= ae) {
    rc = NET_URI_ERR_MALFORMED; /* "ws://", "ws://user@" */
    goto done;
  }

  /* host[:port] */
  size_t he, ps = ae;
  if (r[hs] == '[') {
    const char *close = memchr(r + hs, ']', ae - hs);
    if (!close) {
      rc = NET_URI_ERR_MALFORMED;
      goto done;
    }
    he = (size_t)(close - r) + 1;
    if (he < ae) {
      if (r[he] != ':') {
        rc = NET_URI_ERR_MALFORMED;
        goto done;
      }
      ps = he + 1;
    }
  } else {
    const char *colon = memchr(r + hs, ':', ae - hs);
    he = colon ? (size_t)(colon - r) : ae;
    if (colon) ps = he + 1;
  }
  if ((rc = port_parse(r + ps, ae - ps, &port)) != NET_URI_OK) goto done;
  if (port == k_schemes[scheme].default_port) port = -1;
  if ((rc = host_normalize(r + hs, he - hs, &host, &ipv6)) != NET_URI_OK) goto done;

  if (at < ae) {
    const char *colon = memchr(r + a, ':', at - a);
    size_t ue = colon ? (size_t)(colon - r) : at;
    escape_into(&user, r + a, ue - a, ESC_USERNAME);
    if (colon) {
      has_pass = true;
      escape_into(&pass, colon + 1, at - ue - 1, ESC_PASSWORD);
    }
  }

  /* path ? query # fragment */
  {
    size_t i = ae, q = rn, f = rn;
    for (size_t k = ae; k < rn; k++)
      if (r[k] == '#') {
        f = k;
        break;
      }
    for (size_t k = ae; k < f; k++)
      if (r[k] == '?') {
        q = k;
        break;
      }
    size_t pe = q < f ? q : f;
    if (pe == i) sb_putc(&rest, '/');
    escape_into(&rest, r + i, pe - i, ESC_PATH);
    if (q < f) {
      sb_putc(&rest, '?');
      escape_into(&rest, r + q + 1, f - q - 1, ESC_QUERY);
    }
    if (f < rn) {
      sb_putc(&rest, '#');
      escape_into(&rest, r + f + 1, rn - f - 1, ESC_FRAGMENT);
    }
  }

  /* The candidate in RFC 3986 syntax: liburiparser validates it, and
   * resolving it against itself applies remove_dot_segments (§5.2.2: an
   * absolute reference keeps everything but its dot segments). */
  sb_put(&cand, k_schemes[scheme].name, k_schemes[scheme].len);
  sb_puts(&cand, "://");
  if (user.len) {
    sb_put(&cand, user.p, user.len);
    if (has_pass) {
      sb_putc(&cand, ':');
      sb_put(&cand, pass.p, pass.len);
    }
    sb_putc(&cand, '@');
  }
  if (ipv6) sb_putc(&cand, '[');
  sb_put(&cand, host.p, host.len);
  if (ipv6) sb_putc(&cand, ']');
  sb_put(&cand, rest.p, rest.len);
  if (user.oom || pass.oom || host.oom || rest.oom || cand.oom) {
    rc = NET_URI_ERR_NOMEM;
    goto done;
  }
  if (cand.len > NET_URI_MAX_LENGTH) {
    rc = NET_URI_ERR_MALFORMED;
    goto done;
  }
  const char *err = NULL;
  int urc = uriParseSingleUriExA(&pu, cand.p, cand.p + cand.len, &err);
  if (urc != URI_SUCCESS) {
    rc = uriparser_err(urc);
    goto done;
  }
  pu_live = true;
  if (pu.hostData.ipFuture.first) {
    rc = NET_URI_ERR_MALFORMED;
    goto done;
  }
  urc = uriAddBaseUriExA(&ru, &pu, &pu, URI_RESOLVE_STRICTLY);
  if (urc != URI_SUCCESS) {
    rc = uriparser_err(urc);
    goto done;
  }
  ru_live = true;

  {
    sbuf path = {0};
    for (const UriPathSegmentA *seg = ru.pathHead; seg; seg = seg->next) {
      sb_putc(&path, '/');
      sb_put(&path, seg->text.first, (size_t)(seg->text.afterLast - seg->text.first));
    }
    if (path.len == 0) sb_putc(&path, '/');
    span q = {ru.query.first, ru.query.first ? (size_t)(ru.query.afterLast - ru.query.first) : 0,
              ru.query.first != NULL};
    span f = {ru.fragment.first,
              ru.fragment.first ? (size_t)(ru.fragment.afterLast - ru.fragment.first) : 0,
              ru.fragment.first != NULL};
    if (path.oom) {
      rc = NET_URI_ERR_NOMEM;
    } else {
      rc = uri_build(scheme, (span){user.p, user.len, user.len > 0}, (span){pass.p, pass.len, has_pass},
                     host.p, host.len, ipv6, port, (span){path.p, path.len, true}, q, f, out);
    }
    sb_free(&path);
  }

done:
  if (ru_live) uriFreeUriMembersA(&ru);
  if (pu_live) uriFreeUriMembersA(&pu);
  sb_free(&user);
  sb_free(&pass);
  sb_free(&host);
  sb_free(&rest);
  sb_free(&cand);
  free(r);
  return rc;
}

/*
 * Resolves a relative reference (filtered, scheme prefix removed, '\'
 * already '/') against `base` into an absolute string in `abs`.
 */
static int resolve_relative(const net_uri *base, const char *rel, size_t n, sbuf *abs) {
  if (n >= 2 && rel[0] == '/' && rel[1] == '/') {
    /* Network-path reference: only the scheme comes from the base, and
     * canonicalize() does the rest of §5.2.2. */
    sb_put(abs, base->spec, base->scheme_len + 1);
    sb_put(abs, rel, n);
    return abs->oom ? NET_URI_ERR_NOMEM : NET_URI_OK;
  }
  sbuf ref = {0};
  size_t q = n, f = n;
  for (size_t k = 0; k < n; k++)
    if (rel[k] == '#') {
      f = k;
      break;
    }
  for (size_t k = 0; k < f; k++)
    if (rel[k] == '?') {
      q = k;
      break;
    }
  size_t pe = q < f ? q : f;
  /* RFC 3986 §4.2: a first segment with ':' would read as a scheme. */
  if (pe > 0 && rel[0] != '/') {
    const char *slash = memchr(rel, '/', pe);
    if (memchr(rel, ':', slash ? (size_t)(slash - rel) : pe)) sb_puts(&ref, "./");
  }
  escape_into(&ref, rel, pe, ESC_PATH);
  if (q < f) {
    sb_putc(&ref, '?');
    escape_into(&ref, rel + q + 1, f - q - 1, ESC_QUERY);
  }
  if (f < n) {
    sb_putc(&ref, '#');
    escape_into(&ref, rel + f + 1, n - f - 1, ESC_FRAGMENT);
  }
  if (ref.oom) {
    sb_free(&ref);
    return NET_URI_ERR_NOMEM;
  }
  if (!ref.p && !sb_reserve(&ref, 0)) return NET_URI_ERR_NOMEM; /* uriparser wants a pointer */

  UriUriA ru, bu, res;
  const char *err = NULL;
  int rc = NET_URI_OK;
  int urc = uriParseSingleUriExA(&ru, ref.p, ref.p + ref.len, &err);
  if (urc != URI_SUCCESS) {
    sb_free(&ref);
    return uriparser_err(urc);
  }
  urc = uriParseSingleUriExA(&bu, base->spec, base->spec + base->spec_len, &err);
  if (urc != URI_SUCCESS) {
    uriFreeUriMembersA(&ru);
    sb_free(&ref);
    return uriparser_err(urc);
  }
  urc = uriAddBaseUriExA(&res, &ru, &bu, URI_RESOLVE_STRICTLY);
  if (urc != URI_SUCCESS) {
    rc = uriparser_err(urc);
  } else {
    int need = 0;
    urc = uriToStringCharsRequiredA(&res, &need);
    if (urc == URI_SUCCESS && sb_reserve(abs, (size_t)need + 1)) {
      int written = 0;
      urc = uriToStringA(abs->p + abs->len, &res, need + 1, &written);
      if (urc == URI_SUCCESS) abs->len += (size_t)(written > 0 ? written - 1 : 0);
      abs->p[abs->len] = '\0';
    }
    if (urc != URI_SUCCESS)
      rc = uriparser_err(urc);
    else if (abs->oom)
      rc = NET_URI_ERR_NOMEM;
    uriFreeUriMembersA(&res);
  }
  uriFreeUriMembersA(&bu);
  uriFreeUriMembersA(&ru);
  sb_free(&ref);
  return rc;
}

static int parse_relative(const net_uri *base, const char *rel, size_t n, net_uri **out) {
  char *copy = malloc(n + 1);
  if (!copy) return NET_URI_ERR_NOMEM;
  memcpy(copy, rel, n);
  copy[n] = '\0';
  backslashes_to_slashes(copy, n);
  sbuf abs = {0};
  int rc = resolve_relative(base, copy, n, &abs);
  free(copy);
  if (rc == NET_URI_OK) rc = canonicalize(abs.p, abs.len, out);
  sb_free(&abs);
  return rc;
}

/* Parses filtered input: absolute, or relative to `base`. */
static int parse_filtered(const char *s, size_t n, const net_uri *base, net_uri **out) {
  size_t st, sl;
  if (net_uri_extract_scheme(s, n, &st, &sl) == NET_URI_OK) {
    const char *after = s + sl + 1;
    size_t an = n - sl - 1;
    bool slashes = an >= 2 && (after[0] == '/' || after[0] == '\\') &&
                   (after[1] == '/' || after[1] == '\\');
    /* Gecko (net_IsAbsoluteURL, nsStandardURL::Resolve): "ws:path" with
     * a ws base is the deprecated relative form. */
    if (base && !slashes && ci_equal(s, sl, base->spec, base->scheme_len))
      return parse_relative(base, after, an, out);
    return canonicalize(s, n, out);
  }
  if (!base) return NET_URI_ERR_MALFORMED;
  return parse_relative(base, s, n, out);
}

int net_uri_parse(const char *spec, size_t len, const net_uri *base, net_uri **out) {
  *out = NULL;
  if (!spec && len) return NET_URI_ERR_MALFORMED;
  if (len > NET_URI_MAX_LENGTH) return NET_URI_ERR_MALFORMED;
  char *f;
  size_t fn;
  int rc = filter(spec ? spec : "", len, &f, &fn);
  if (rc != NET_URI_OK) return rc;
  rc = parse_filtered(f, fn, base, out);
  free(f);
  return rc;
}

void net_uri_free(net_uri *uri) { free(uri); }

int net_uri_clone(const net_uri *uri, net_uri **out) {
  size_t sz = sizeof *uri + uri->spec_len + 1;
  *out = malloc(sz);
  if (!*out) return NET_URI_ERR_NOMEM;
  memcpy(*out, uri, sz);
  return NET_URI_OK;
}

/* ---- accessors --------------------------------------------------------- */

static net_uri_str part(const net_uri *u, size_t pos, size_t len) {
  return (net_uri_str){u->spec + pos, len};
}

const char *net_uri_spec(const net_uri *uri) { return uri->spec; }
size_t net_uri_spec_len(const net_uri *uri) { return uri->spec_len; }
net_uri_str net_uri_scheme(const net_uri *uri) { return part(uri, 0, uri->scheme_len); }
net_uri_str net_uri_prepath(const net_uri *uri) { return part(uri, 0, uri->path_pos); }

net_uri_str net_uri_userpass(const net_uri *uri) {
  size_t len = uri->user_len;
  if (uri->pass_pos >= 0) len += 1 + uri->pass_len;
  return part(uri, uri->user_pos, len);
}

net_uri_str net_uri_username(const net_uri *uri) { return part(uri, uri->user_pos, uri->user_len); }

net_uri_str net_uri_password(const net_uri *uri) {
  return uri->pass_pos < 0 ? part(uri, uri->user_pos, 0) : part(uri, (size_t)uri->pass_pos, uri->pass_len);
}

net_uri_str net_uri_hostport(const net_uri *uri) { return part(uri, uri->hostport_pos, uri->hostport_len); }
net_uri_str net_uri_host(const net_uri *uri) { return part(uri, uri->host_pos, uri->host_len); }
net_uri_str net_uri_path(const net_uri *uri) { return part(uri, uri->path_pos, uri->spec_len - uri->path_pos); }
net_uri_str net_uri_filepath(const net_uri *uri) { return part(uri, uri->path_pos, uri->filepath_len); }

net_uri_str net_uri_query(const net_uri *uri) {
  return uri->query_pos < 0 ? part(uri, uri->spec_len, 0) : part(uri, (size_t)uri->query_pos, uri->query_len);
}

net_uri_str net_uri_ref(const net_uri *uri) {
  return uri->ref_pos < 0 ? part(uri, uri->spec_len, 0)
                          : part(uri, (size_t)uri->ref_pos, uri->spec_len - (size_t)uri->ref_pos);
}

net_uri_str net_uri_spec_ignoring_ref(const net_uri *uri) {
  return part(uri, 0, uri->ref_pos < 0 ? uri->spec_len : (size_t)uri->ref_pos - 1);
}

net_uri_str net_uri_request_target(const net_uri *uri) {
  size_t end = uri->ref_pos < 0 ? uri->spec_len : (size_t)uri->ref_pos - 1;
  return part(uri, uri->path_pos, end - uri->path_pos);
}

bool net_uri_has_ref(const net_uri *uri) { return uri->ref_pos >= 0; }
bool net_uri_has_query(const net_uri *uri) { return uri->query_pos >= 0; }
bool net_uri_has_password(const net_uri *uri) { return uri->pass_pos >= 0; }
bool net_uri_host_is_ipv6(const net_uri *uri) { return uri->ipv6; }
int32_t net_uri_port(const net_uri *uri) { return uri->port; }
int32_t net_uri_default_port(const net_uri *uri) { return k_schemes[uri->scheme].default_port; }
int32_t net_uri_effective_port(const net_uri *uri) {
  return uri->port >= 0 ? uri->port : k_schemes[uri->scheme].default_port;
}
bool net_uri_is_secure(const net_uri *uri) { return k_schemes[uri->scheme].secure; }

bool net_uri_scheme_is(const net_uri *uri, const char *scheme) {
  return scheme && ci_equal(uri->spec, uri->scheme_len, scheme, strlen(scheme));
}

bool net_uri_equals(const net_uri *a, const net_uri *b) {
  return a->spec_len == b->spec_len && memcmp(a->spec, b->spec, a->spec_len) == 0;
}

bool net_uri_equals_except_ref(const net_uri *a, const net_uri *b) {
  net_uri_str x = net_uri_spec_ignoring_ref(a), y = net_uri_spec_ignoring_ref(b);
  return x.len == y.len && memcmp(x.data, y.data, x.len) == 0;
}

/* ---- resolve ------------------------------------------------------------ */

int net_uri_resolve(const net_uri *base, const char *rel, size_t len, char **out, size_t *out_len) {
  *out = NULL;
  if (!rel && len) return NET_URI_ERR_MALFORMED;
  if (len > NET_URI_MAX_LENGTH) return NET_URI_ERR_MALFORMED;
  char *f;
  size_t fn, st, sl;
  int rc = filter(rel ? rel : "", len, &f, &fn);
  if (rc != NET_URI_OK) return rc;
  if (net_uri_extract_scheme(f, fn, &st, &sl) == NET_URI_OK && scheme_lookup(f, sl) < 0) {
    /* Not ours to normalise: Gecko returns such an absolute URI as is. */
    *out = f;
    if (out_len) *out_len = fn;
    return NET_URI_OK;
  }
  net_uri *u;
  rc = parse_filtered(f, fn, base, &u);
  free(f);
  if (rc != NET_URI_OK) return rc;
  *out = malloc(u->spec_len + 1);
  if (!*out) {
    net_uri_free(u);
    return NET_URI_ERR_NOMEM;
  }
  memcpy(*out, u->spec, u->spec_len + 1);
  if (out_len) *out_len = u->spec_len;
  net_uri_free(u);
  return NET_URI_OK;
}

/* ---- setters -------------------------------------------------------------- */

/* Writes "scheme://[userinfo@]host[:port]" for `u` with overrides; NULL
 * scheme/userinfo/host keep u's. `userinfo` is already escaped. */
static void compose_prepath(sbuf *b, const net_uri *u, const char *scheme, size_t scheme_len,
                            const span *userinfo, const char *host, size_t host_len, int32_t port) {
  if (scheme)
    sb_put(b, scheme, scheme_len);
  else
    sb_put(b, u->spec, u->scheme_len);
  sb_puts(b, "://");
  if (userinfo) {
    if (userinfo->n) {
      sb_put(b, userinfo->p, userinfo->n);
      sb_putc(b, '@');
    }
  } else if (u->user_len) {
    net_uri_str up = net_uri_userpass(u);
    sb_put(b, up.data, up.len);
    sb_putc(b, '@');
  }
  if (host) {
    sb_put(b, host, host_len);
  } else {
    sb_put(b, u->spec + u->hostport_pos, u->ipv6 ? u->host_len + 2 : u->host_len);
  }
  if (port >= 0) {
    char pb[8];
    int pn = snprintf(pb, sizeof pb, ":%d", (int)port);
    sb_put(b, pb, (size_t)pn);
  }
}

/* Finishes a setter: parse the composed string without a base. */
static int finish(sbuf *b, bool filtered, net_uri **out) {
  int rc;
  if (b->oom) {
    rc = NET_URI_ERR_NOMEM;
  } else if (b->len > NET_URI_MAX_LENGTH) {
    rc = NET_URI_ERR_MALFORMED;
  } else if (filtered) {
    rc = net_uri_parse(b->p, b->len, NULL, out);
  } else {
    rc = canonicalize(b->p, b->len, out);
  }
  sb_free(b);
  return rc;
}

/* Gecko FindHostLimit: a host value ends at the first / \ ? #. */
static size_t host_limit(const char *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (v[i] == '/' || v[i] == '\\' || v[i] == '?' || v[i] == '#') return i;
  return n;
}

/* Checks a host value for a setter and returns it (possibly bracketed). */
static int host_value_ok(const char *v, size_t n) {
  if (n == 0) return NET_URI_ERR_INVALID;
  bool bracketed = v[0] == '[' && v[n - 1] == ']';
  for (size_t i = 0; i < n; i++) {
    if (v[i] == '@' || v[i] == '\0') return NET_URI_ERR_MALFORMED;
    if (!bracketed && (v[i] == ':' || v[i] == '[' || v[i] == ']')) return NET_URI_ERR_MALFORMED;
  }
  return NET_URI_OK;
}

/* Appends path-and-after with optional query/ref kept from `u`. */
static void put_query_ref(sbuf *b, const net_uri *u, bool query, bool ref) {
  if (query && u->query_pos >= 0) {
    sb_putc(b, '?');
    sb_put(b, u->spec + u->query_pos, u->query_len);
  }
  if (ref && u->ref_pos >= 0) {
    net_uri_str r = net_uri_ref(u);
    sb_putc(b, '#');
    sb_put(b, r.data, r.len);
  }
}

int net_uri_with_port(const net_uri *uri, int32_t port, net_uri **out) {
  *out = NULL;
  if (port < -1 || port > 65535) return NET_URI_ERR_MALFORMED;
  sbuf b = {0};
  compose_prepath(&b, uri, NULL, 0, NULL, NULL, 0, port);
  net_uri_str p = net_uri_path(uri);
  sb_put(&b, p.data, p.len);
  return finish(&b, false, out);
}

int net_uri_with(const net_uri *uri, net_uri_part which, const char *v, size_t n, net_uri **out) {
  *out = NULL;
  if (!v && n) return NET_URI_ERR_MALFORMED;
  if (!v) v = "";
  if (n > NET_URI_MAX_LENGTH) return NET_URI_ERR_MALFORMED;
  sbuf b = {0};
  net_uri_str path = net_uri_path(uri);

  switch (which) {
  case NET_URI_SPEC:
    return net_uri_parse(v, n, NULL, out);

  case NET_URI_SCHEME: {
    size_t st, sl;
    if (n == 0) return NET_URI_ERR_INVALID;
    /* net_IsValidScheme: the whole value must be a scheme. */
    char tmp[16];
    if (n + 1 > sizeof tmp) return NET_URI_ERR_INVALID;
    memcpy(tmp, v, n);
    tmp[n] = ':';
    if (net_uri_extract_scheme(tmp, n + 1, &st, &sl) != NET_URI_OK || st != 0 || sl != n)
      return NET_URI_ERR_INVALID;
    if (scheme_lookup(v, n) < 0) return NET_URI_ERR_UNKNOWN_SCHEME;
    compose_prepath(&b, uri, v, n, NULL, NULL, 0, uri->port);
    sb_put(&b, path.data, path.len);
    return finish(&b, false, out);
  }

  case NET_URI_USERPASS:
  case NET_URI_USERNAME:
  case NET_URI_PASSWORD: {
    sbuf ui = {0};
    if (which == NET_URI_USERPASS && n) {
      const char *colon = memchr(v, ':', n);
      size_t un = colon ? (size_t)(colon - v) : n;
      escape_into(&ui, v, un, ESC_USERNAME);
      if (ui.len && colon) {
        sb_putc(&ui, ':');
        escape_into(&ui, colon + 1, n - un - 1, ESC_PASSWORD);
      }
    } else if (which == NET_URI_USERNAME && n) {
      escape_into(&ui, v, n, ESC_USERNAME);
      if (uri->pass_pos >= 0) {
        net_uri_str pw = net_uri_password(uri);
        sb_putc(&ui, ':');
        sb_put(&ui, pw.data, pw.len);
      }
    } else if (which == NET_URI_PASSWORD) {
      if (uri->user_len == 0) return NET_URI_ERR_STATE;
      net_uri_str un = net_uri_username(uri);
      sb_put(&ui, un.data, un.len);
      if (n) {
        sb_putc(&ui, ':');
        escape_into(&ui, v, n, ESC_PASSWORD);
      }
    }
    if (ui.oom) {
      sb_free(&ui);
      return NET_URI_ERR_NOMEM;
    }
    span us = {ui.p, ui.len, true};
    compose_prepath(&b, uri, NULL, 0, &us, NULL, 0, uri->port);
    sb_free(&ui);
    sb_put(&b, path.data, path.len);
    return finish(&b, false, out);
  }

  case NET_URI_HOST: {
    size_t hn = host_limit(v, n);
    int rc = host_value_ok(v, hn);
    if (rc != NET_URI_OK) return rc;
    compose_prepath(&b, uri, NULL, 0, NULL, v, hn, uri->port);
    sb_put(&b, path.data, path.len);
    return finish(&b, false, out);
  }

  case NET_URI_HOSTPORT:
  case NET_URI_HOSTANDPORT: {
    /* Gecko SetHostPort keeps the port when none is given;
     * SetHostAndPort resets it to the default. */
    size_t hn = host_limit(v, n), he;
    const char *colon = NULL;
    if (hn && v[0] == '[') {
      const char *close = memchr(v, ']', hn);
      if (!close) return NET_URI_ERR_MALFORMED;
      he = (size_t)(close - v) + 1;
      if (he < hn) {
        if (v[he] != ':') return NET_URI_ERR_MALFORMED;
        colon = v + he;
      }
    } else {
      if (memchr(v, ']', hn)) return NET_URI_ERR_MALFORMED;
      colon = memchr(v, ':', hn);
      he = colon ? (size_t)(colon - v) : hn;
      if (colon && memchr(colon + 1, ':', hn - he - 1)) return NET_URI_ERR_MALFORMED;
    }
    int rc = host_value_ok(v, he);
    if (rc != NET_URI_OK) return rc;
    int32_t port = which == NET_URI_HOSTANDPORT ? -1 : uri->port;
    if (colon) {
      size_t pn = hn - he - 1;
      if (pn == 0) return NET_URI_ERR_MALFORMED;
      if ((rc = port_parse(colon + 1, pn, &port)) != NET_URI_OK) return rc;
    }
    compose_prepath(&b, uri, NULL, 0, NULL, v, he, port);
    sb_put(&b, path.data, path.len);
    return finish(&b, false, out);
  }

  case NET_URI_PATH:
    /* Gecko SetPath goes through SetSpec, so the value is filtered too. */
    compose_prepath(&b, uri, NULL, 0, NULL, NULL, 0, uri->port);
    if (n == 0 || v[0] != '/') sb_putc(&b, '/');
    sb_put(&b, v, n);
    return finish(&b, true, out);

  case NET_URI_FILEPATH:
    compose_prepath(&b, uri, NULL, 0, NULL, NULL, 0, uri->port);
    if (n == 0 || v[0] != '/') sb_putc(&b, '/');
    for (size_t i = 0; i < n; i++) {
      if (v[i] == '?' || v[i] == '#')
        sb_pct(&b, (unsigned char)v[i]);
      else
        sb_putc(&b, v[i]);
    }
    put_query_ref(&b, uri, true, true);
    return finish(&b, false, out);

  case NET_URI_QUERY: {
    net_uri_str fp = net_uri_filepath(uri);
    compose_prepath(&b, uri, NULL, 0, NULL, NULL, 0, uri->port);
    sb_put(&b, fp.data, fp.len);
    if (n) {
      if (v[0] == '?') v++, n--;
      sb_putc(&b, '?');
      for (size_t i = 0; i < n; i++) {
        if (v[i] == '#')
          sb_pct(&b, '#');
        else
          sb_putc(&b, v[i]);
      }
    }
    put_query_ref(&b, uri, false, true);
    return finish(&b, false, out);
  }

  case NET_URI_REF: {
    net_uri_str fp = net_uri_filepath(uri);
    compose_prepath(&b, uri, NULL, 0, NULL, NULL, 0, uri->port);
    sb_put(&b, fp.data, fp.len);
    put_query_ref(&b, uri, true, false);
    if (n) {
      if (v[0] == '#') v++, n--;
      sb_putc(&b, '#');
      sb_put(&b, v, n);
    }
    return finish(&b, false, out);
  }
  }
  return NET_URI_ERR_INVALID;
}

const char *net_uri_strerror(int err) {
  switch (err) {
  case NET_URI_OK: return "success";
  case NET_URI_ERR_MALFORMED: return "malformed URI";
  case NET_URI_ERR_UNKNOWN_SCHEME: return "unknown scheme";
  case NET_URI_ERR_NOMEM: return "out of memory";
  case NET_URI_ERR_INVALID: return "invalid value";
  case NET_URI_ERR_STATE: return "not possible in this state";
  default: return "unknown error";
  }
}
