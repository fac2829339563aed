/*
 * fuzz_uri.c — the URI parser (net_uri_parse), reference resolution
 * (net_uri_resolve) and the setters (net_uri_with, net_uri_with_port).
 *
 * Input: byte 0 = mode (% 4):
 *   0  the rest is a spec, parsed without a base;
 *   1  byte 1 picks a fixed base (% 4), the rest is parsed relative to it
 *      and resolved against it;
 *   2  the rest is "BASE\nREL": BASE is parsed alone, REL against it;
 *   3  byte 1 picks a fixed base, byte 2 a part (% 13: the net_uri_part
 *      values, 12 = port from a u16), the rest is the new value.
 *
 * Oracles for every URI that parses: the spec is NUL-terminated, within
 * the length limit, is prePath + path, has a known scheme and a port in
 * range; all views point into the spec; the normal form is a fixed point
 * (parsing the spec again gives an equal URI with the same spec); clone
 * is equal; specIgnoringRef parses to a URI equal except for the ref;
 * resolving "" gives specIgnoringRef; net_uri_resolve agrees with
 * net_uri_parse relative to the same base; an unchanged input never
 * changes the base.
 */
#include "fuzz_input.h"
#include "net/net_uri.h"

static const char *const bases[4] = {
    "ws://user:pw@example.com:8080/a/b/c?q#r",
    "wss://example.com/",
    "http://[::1]/dir/file?x",
    "https://host.example/a;b/c/d?e#f",
};

static bool inside(const net_uri *u, net_uri_str v) {
  const char *spec = net_uri_spec(u);
  return v.len == 0 || (v.data >= spec && v.data + v.len <= spec + net_uri_spec_len(u));
}

static bool str_eq(net_uri_str a, const char *b, size_t blen) {
  return a.len == blen && (blen == 0 || memcmp(a.data, b, blen) == 0);
}

static void check_uri(const net_uri *u) {
  const char *spec = net_uri_spec(u);
  size_t len = net_uri_spec_len(u);
  FUZZ_CHECK(spec && strlen(spec) == len);
  FUZZ_CHECK(len <= NET_URI_MAX_LENGTH);

  net_uri_str parts[] = {net_uri_scheme(u),   net_uri_prepath(u),  net_uri_userpass(u),
                         net_uri_username(u), net_uri_password(u), net_uri_hostport(u),
                         net_uri_host(u),     net_uri_path(u),     net_uri_filepath(u),
                         net_uri_query(u),    net_uri_ref(u),      net_uri_spec_ignoring_ref(u),
                         net_uri_request_target(u)};
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
    FUZZ_CHECK(inside(u, parts[i]));

  net_uri_str pre = net_uri_prepath(u), path = net_uri_path(u);
  FUZZ_CHECK(pre.len + path.len == len);
  FUZZ_CHECK(pre.data == spec && path.data == spec + pre.len);
  FUZZ_CHECK(path.len >= 1 && path.data[0] == '/');
  FUZZ_CHECK(net_uri_host(u).len > 0);

  net_uri_str scheme = net_uri_scheme(u);
  int32_t def = net_uri_scheme_default_port(scheme.data, scheme.len);
  FUZZ_CHECK(def == 80 || def == 443);
  FUZZ_CHECK(net_uri_default_port(u) == def);
  FUZZ_CHECK(net_uri_is_secure(u) == (def == 443));
  int32_t port = net_uri_port(u);
  FUZZ_CHECK(port == -1 || (port >= 0 && port <= 65535 && port != def));
  FUZZ_CHECK(net_uri_effective_port(u) == (port == -1 ? def : port));

  net_uri_str target = net_uri_request_target(u);
  FUZZ_CHECK(target.data == path.data && target.len <= path.len);
  FUZZ_CHECK(memchr(target.data, '#', target.len) == NULL);
  FUZZ_CHECK(net_uri_has_ref(u) == (memchr(spec, '#', len) != NULL));
  if (!net_uri_has_password(u))
    FUZZ_CHECK(net_uri_password(u).len == 0);

  /* The normal form is a fixed point. */
  net_uri *again = NULL;
  int rv = net_uri_parse(spec, len, NULL, &again);
  if (rv != NET_URI_OK)
    fprintf(stderr, "normal form does not parse again: %s\n", spec);
  FUZZ_CHECK(rv == NET_URI_OK);
  if (strcmp(net_uri_spec(again), spec) != 0)
    fprintf(stderr, "normal form is not a fixed point:\n  %s\n  %s\n", spec, net_uri_spec(again));
  FUZZ_CHECK(strcmp(net_uri_spec(again), spec) == 0);
  FUZZ_CHECK(net_uri_equals(u, again) && net_uri_equals(again, u));
  net_uri_free(again);

  net_uri *copy = NULL;
  FUZZ_CHECK(net_uri_clone(u, &copy) == NET_URI_OK);
  FUZZ_CHECK(net_uri_equals(u, copy));
  net_uri_free(copy);

  net_uri_str noref = net_uri_spec_ignoring_ref(u);
  FUZZ_CHECK(noref.data == spec && noref.len <= len);
  net_uri *nr = NULL;
  FUZZ_CHECK(net_uri_parse(noref.data, noref.len, NULL, &nr) == NET_URI_OK);
  FUZZ_CHECK(net_uri_equals_except_ref(u, nr));
  FUZZ_CHECK(!net_uri_has_ref(nr));
  net_uri_free(nr);

  char *res = NULL;
  size_t rlen = 0;
  FUZZ_CHECK(net_uri_resolve(u, "", 0, &res, &rlen) == NET_URI_OK);
  FUZZ_CHECK(strlen(res) == rlen && str_eq(noref, res, rlen));
  free(res);
}

/* Parses `rel` against `base` both ways and checks they agree. */
static void relative(const net_uri *base, const char *rel, size_t len) {
  char *before = strdup(net_uri_spec(base));
  FUZZ_CHECK(before != NULL);
  net_uri *u = NULL;
  int rv = net_uri_parse(rel, len, base, &u);
  FUZZ_CHECK(rv == NET_URI_OK || rv == NET_URI_ERR_MALFORMED || rv == NET_URI_ERR_UNKNOWN_SCHEME);
  FUZZ_CHECK((rv == NET_URI_OK) == (u != NULL));
  char *res = NULL;
  size_t rlen = 0;
  int rrv = net_uri_resolve(base, rel, len, &res, &rlen);
  if (rv == NET_URI_OK) {
    check_uri(u);
    FUZZ_CHECK(rrv == NET_URI_OK);
    FUZZ_CHECK(strcmp(res, net_uri_spec(u)) == 0 && rlen == net_uri_spec_len(u));
  } else if (rrv == NET_URI_OK) {
    /* Only an absolute URI of a scheme we do not handle is returned as is. */
    FUZZ_CHECK(rv == NET_URI_ERR_UNKNOWN_SCHEME);
    FUZZ_CHECK(res != NULL && res[rlen] == '\0'); /* may hold a NUL: returned as given */
  }
  free(res);
  net_uri_free(u);
  FUZZ_CHECK(strcmp(before, net_uri_spec(base)) == 0);
  free(before);
}

static void setter(const net_uri *base, unsigned part, const uint8_t *v, size_t len) {
  net_uri *u = NULL;
  int rv;
  if (part == 12) {
    struct fuzz_in in = {v, len};
    int32_t port = (int32_t)fuzz_u16(&in) - (fuzz_u8(&in) & 1 ? 2 : 0); /* -2..65533 */
    rv = net_uri_with_port(base, port, &u);
    if (port == -1 || (port >= 0 && port <= 65535))
      FUZZ_CHECK(rv == NET_URI_OK);
    if (rv == NET_URI_OK) {
      int32_t def = net_uri_default_port(base);
      FUZZ_CHECK(net_uri_port(u) == (port == def ? -1 : port));
    }
  } else {
    rv = net_uri_with(base, (net_uri_part)part, (const char *)v, len, &u);
  }
  FUZZ_CHECK(rv <= 0 && rv >= NET_URI_ERR_STATE);
  FUZZ_CHECK((rv == NET_URI_OK) == (u != NULL));
  if (u) {
    check_uri(u);
    net_uri_free(u);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fuzz_in in = {data, size};
  unsigned mode = fuzz_u8(&in) % 4;
  net_uri *base = NULL;
  const char *b = NULL;
  if (mode == 1 || mode == 3) {
    b = bases[fuzz_u8(&in) % 4];
    FUZZ_CHECK(net_uri_parse(b, strlen(b), NULL, &base) == NET_URI_OK);
  }
  unsigned part = mode == 3 ? fuzz_u8(&in) % 13 : 0;
  /* An exact copy: the parser must not read past `len` (no NUL is there). */
  uint8_t *rest = fuzz_dup(in.p, in.n);
  size_t len = in.n;
  const char *s = (const char *)rest;

  switch (mode) {
  case 0: {
    net_uri *u = NULL;
    int rv = net_uri_parse(s, len, NULL, &u);
    FUZZ_CHECK((rv == NET_URI_OK) == (u != NULL));
    if (u) {
      check_uri(u);
      net_uri_free(u);
    }
    break;
  }
  case 1:
    relative(base, s, len);
    break;
  case 2: {
    const char *nl = len ? memchr(s, '\n', len) : NULL;
    size_t blen = nl ? (size_t)(nl - s) : len;
    if (net_uri_parse(s, blen, NULL, &base) == NET_URI_OK) {
      check_uri(base);
      if (nl)
        relative(base, nl + 1, len - blen - 1);
    }
    break;
  }
  default:
    check_uri(base);
    setter(base, part, rest, len);
    break;
  }
  net_uri_free(base);
  free(rest);
  return 0;
}
