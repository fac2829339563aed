/*
 * test_net_uri.c — the pure URI module: normal forms, IPv6, IDN, default
 * ports, RFC 3986 §5.4 reference resolution with a ws base, equality,
 * clone, setters, and each malformed input's error. Run under ASan to
 * check that every path frees what it allocates.
 */
#include "net/net_uri.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* Compares a view with a C string, with a readable failure. */
#define ck_str(view, expected)                                                   \
  do {                                                                           \
    net_uri_str v_ = (view);                                                     \
    const char *e_ = (expected);                                                 \
    ck_assert_msg(v_.len == strlen(e_) && memcmp(v_.data, e_, v_.len) == 0,      \
                  "%s: got \"%.*s\", want \"%s\"", #view, (int)v_.len, v_.data, e_); \
  } while (0)

static net_uri *parse_ok(const char *spec, const net_uri *base) {
  net_uri *u = NULL;
  int rc = net_uri_parse(spec, strlen(spec), base, &u);
  ck_assert_msg(rc == NET_URI_OK, "parse \"%s\": %s", spec, net_uri_strerror(rc));
  ck_assert_ptr_nonnull(u);
  return u;
}

/* ---- normal forms ------------------------------------------------------ */

struct norm_case {
  const char *in;
  const char *spec, *host, *path, *prepath, *hostport, *ref;
  int32_t port;
};

static const struct norm_case norm_cases[] = {
  {"ws://example.com", "ws://example.com/", "example.com", "/", "ws://example.com", "example.com", "", -1},
  {"WS://Example.COM/Chat", "ws://example.com/Chat", "example.com", "/Chat", "ws://example.com", "example.com", "", -1},
  /* default ports elided, port attribute -1 */
  {"ws://h:80/", "ws://h/", "h", "/", "ws://h", "h", "", -1},
  {"wss://h:443/", "wss://h/", "h", "/", "wss://h", "h", "", -1},
  {"http://h:80/", "http://h/", "h", "/", "http://h", "h", "", -1},
  {"https://h:443/x", "https://h/x", "h", "/x", "https://h", "h", "", -1},
  {"wss://h:0443/", "wss://h/", "h", "/", "wss://h", "h", "", -1},
  {"ws://h:443/", "ws://h:443/", "h", "/", "ws://h:443", "h:443", "", 443},
  {"wss://h:80/", "wss://h:80/", "h", "/", "wss://h:80", "h:80", "", 80},
  {"ws://h:0/", "ws://h:0/", "h", "/", "ws://h:0", "h:0", "", 0},
  {"ws://h:65535/", "ws://h:65535/", "h", "/", "ws://h:65535", "h:65535", "", 65535},
  {"ws://h:/", "ws://h/", "h", "/", "ws://h", "h", "", -1},
  /* IPv6: brackets in spec/hostPort, not in host; RFC 5952 text */
  {"ws://[::1]/", "ws://[::1]/", "::1", "/", "ws://[::1]", "[::1]", "", -1},
  {"ws://[::1]:9001/x", "ws://[::1]:9001/x", "::1", "/x", "ws://[::1]:9001", "[::1]:9001", "", 9001},
  {"ws://[0:0:0:0:0:0:0:1]:80/", "ws://[::1]/", "::1", "/", "ws://[::1]", "[::1]", "", -1},
  {"ws://[2001:DB8::A]/", "ws://[2001:db8::a]/", "2001:db8::a", "/", "ws://[2001:db8::a]",
   "[2001:db8::a]", "", -1},
  {"ws://[::ffff:192.0.2.1]/", "ws://[::ffff:192.0.2.1]/", "::ffff:192.0.2.1", "/",
   "ws://[::ffff:192.0.2.1]", "[::ffff:192.0.2.1]", "", -1},
  /* IPv4 in dotted form, Gecko's NormalizeIPv4 */
  {"ws://192.0.2.1:8080/", "ws://192.0.2.1:8080/", "192.0.2.1", "/", "ws://192.0.2.1:8080",
   "192.0.2.1:8080", "", 8080},
  {"ws://127.1/", "ws://127.0.0.1/", "127.0.0.1", "/", "ws://127.0.0.1", "127.0.0.1", "", -1},
  {"ws://0x7f.0.0.1/", "ws://127.0.0.1/", "127.0.0.1", "/", "ws://127.0.0.1", "127.0.0.1", "", -1},
  {"ws://0177.0.0.1/", "ws://127.0.0.1/", "127.0.0.1", "/", "ws://127.0.0.1", "127.0.0.1", "", -1},
  {"ws://2130706433/", "ws://127.0.0.1/", "127.0.0.1", "/", "ws://127.0.0.1", "127.0.0.1", "", -1},
  {"ws://1.2.3.256/", "ws://1.2.3.256/", "1.2.3.256", "/", "ws://1.2.3.256", "1.2.3.256", "", -1},
  /* IDN → A-label (UTS #46 non-transitional, like Firefox) */
  {"ws://bücher.example/", "ws://xn--bcher-kva.example/", "xn--bcher-kva.example", "/",
   "ws://xn--bcher-kva.example", "xn--bcher-kva.example", "", -1},
  {"ws://BÜCHER.example:8080/", "ws://xn--bcher-kva.example:8080/", "xn--bcher-kva.example", "/",
   "ws://xn--bcher-kva.example:8080", "xn--bcher-kva.example:8080", "", 8080},
  {"ws://straße.de/", "ws://xn--strae-oqa.de/", "xn--strae-oqa.de", "/", "ws://xn--strae-oqa.de",
   "xn--strae-oqa.de", "", -1},
  {"ws://b%C3%BCcher.example/", "ws://xn--bcher-kva.example/", "xn--bcher-kva.example", "/",
   "ws://xn--bcher-kva.example", "xn--bcher-kva.example", "", -1},
  {"ws://XN--BCHER-KVA.example/", "ws://xn--bcher-kva.example/", "xn--bcher-kva.example", "/",
   "ws://xn--bcher-kva.example", "xn--bcher-kva.example", "", -1},
  {"ws://bücher\xe3\x80\x82" "example/", "ws://xn--bcher-kva.example/", "xn--bcher-kva.example",
   "/", "ws://xn--bcher-kva.example", "xn--bcher-kva.example", "", -1},
  /* paths: dot segments, escaping, backslashes, query and ref in path */
  {"ws://h/a/./b/../c", "ws://h/a/c", "h", "/a/c", "ws://h", "h", "", -1},
  {"ws://h/a/../../..", "ws://h/", "h", "/", "ws://h", "h", "", -1},
  {"ws://h/a b?c d#e f", "ws://h/a%20b?c%20d#e%20f", "h", "/a%20b?c%20d#e%20f", "ws://h", "h",
   "e%20f", -1},
  {"ws://h/ü", "ws://h/%C3%BC", "h", "/%C3%BC", "ws://h", "h", "", -1},
  {"ws://h/%7e%zz", "ws://h/%7e%25zz", "h", "/%7e%25zz", "ws://h", "h", "", -1},
  {"ws://h/<>\"`{|}^[]", "ws://h/%3C%3E%22%60%7B%7C%7D%5E%5B%5D", "h",
   "/%3C%3E%22%60%7B%7C%7D%5E%5B%5D", "ws://h", "h", "", -1},
  {"ws:\\\\h\\a\\b?c\\d", "ws://h/a/b?c%5Cd", "h", "/a/b?c%5Cd", "ws://h", "h", "", -1},
  {"ws://h/p?q/../x", "ws://h/p?q/../x", "h", "/p?q/../x", "ws://h", "h", "", -1},
  {"ws://h/?", "ws://h/?", "h", "/?", "ws://h", "h", "", -1},
  {"ws://h/#", "ws://h/#", "h", "/#", "ws://h", "h", "", -1},
  {"ws://h/a#b#c", "ws://h/a#b%23c", "h", "/a#b%23c", "ws://h", "h", "b%23c", -1},
  {"ws://h/chat#frag", "ws://h/chat#frag", "h", "/chat#frag", "ws://h", "h", "frag", -1},
  /* filtering: tab/CR/LF removed, outer whitespace stripped */
  {"  ws://h/\ta\r\nb  ", "ws://h/ab", "h", "/ab", "ws://h", "h", "", -1},
  /* Gecko's authority parser: any number of slashes */
  {"ws:h/x", "ws://h/x", "h", "/x", "ws://h", "h", "", -1},
  {"ws:///h/x", "ws://h/x", "h", "/x", "ws://h", "h", "", -1},
  /* userinfo kept in spec and prePath */
  {"ws://user:pass@h:81/x", "ws://user:pass@h:81/x", "h", "/x", "ws://user:pass@h:81", "h:81", "", 81},
  {"ws://user@h/", "ws://user@h/", "h", "/", "ws://user@h", "h", "", -1},
  {"ws://user:@h/", "ws://user:@h/", "h", "/", "ws://user:@h", "h", "", -1},
  {"ws://:pass@h/", "ws://h/", "h", "/", "ws://h", "h", "", -1},
  {"ws://a@b@h/", "ws://a%40b@h/", "h", "/", "ws://a%40b@h", "h", "", -1},
  {"ws://us er@h/", "ws://us%20er@h/", "h", "/", "ws://us%20er@h", "h", "", -1},
  {"ws://@h/", "ws://h/", "h", "/", "ws://h", "h", "", -1},
};

START_TEST(test_normal_forms) {
  const struct norm_case *c = &norm_cases[_i];
  net_uri *u = parse_ok(c->in, NULL);
  ck_assert_str_eq(net_uri_spec(u), c->spec);
  ck_assert_uint_eq(net_uri_spec_len(u), strlen(c->spec));
  ck_str(net_uri_host(u), c->host);
  ck_assert_int_eq(net_uri_port(u), c->port);
  ck_str(net_uri_path(u), c->path);
  ck_str(net_uri_prepath(u), c->prepath);
  ck_str(net_uri_hostport(u), c->hostport);
  ck_str(net_uri_ref(u), c->ref);
  /* asciiSpec is spec and asciiHost is host: everything is ASCII */
  for (size_t i = 0; i < net_uri_spec_len(u); i++)
    ck_assert_msg((unsigned char)net_uri_spec(u)[i] < 0x80, "non-ASCII in %s", c->spec);
  /* the normal form is a fixed point */
  net_uri *again = parse_ok(net_uri_spec(u), NULL);
  ck_assert_str_eq(net_uri_spec(again), c->spec);
  ck_assert(net_uri_equals(u, again));
  net_uri_free(again);
  net_uri_free(u);
}
END_TEST

START_TEST(test_components) {
  net_uri *u = parse_ok("wss://me:secret@Example.org:8443/a/b.c?x=1&y#top", NULL);
  ck_str(net_uri_scheme(u), "wss");
  ck_str(net_uri_userpass(u), "me:secret");
  ck_str(net_uri_username(u), "me");
  ck_str(net_uri_password(u), "secret");
  ck_str(net_uri_hostport(u), "example.org:8443");
  ck_str(net_uri_filepath(u), "/a/b.c");
  ck_str(net_uri_query(u), "x=1&y");
  ck_str(net_uri_ref(u), "top");
  ck_str(net_uri_path(u), "/a/b.c?x=1&y#top");
  ck_str(net_uri_request_target(u), "/a/b.c?x=1&y");
  ck_str(net_uri_spec_ignoring_ref(u), "wss://me:secret@example.org:8443/a/b.c?x=1&y");
  ck_assert(net_uri_has_ref(u));
  ck_assert(net_uri_has_query(u));
  ck_assert(net_uri_has_password(u));
  ck_assert(!net_uri_host_is_ipv6(u));
  ck_assert(net_uri_is_secure(u));
  ck_assert_int_eq(net_uri_port(u), 8443);
  ck_assert_int_eq(net_uri_effective_port(u), 8443);
  ck_assert_int_eq(net_uri_default_port(u), 443);
  ck_assert(net_uri_scheme_is(u, "WSS"));
  ck_assert(!net_uri_scheme_is(u, "ws"));
  ck_assert(!net_uri_scheme_is(u, NULL));
  net_uri_free(u);

  u = parse_ok("ws://[::1]/", NULL);
  ck_assert(net_uri_host_is_ipv6(u));
  ck_assert(!net_uri_is_secure(u));
  ck_assert(!net_uri_has_ref(u));
  ck_assert(!net_uri_has_query(u));
  ck_assert(!net_uri_has_password(u));
  ck_str(net_uri_userpass(u), "");
  ck_str(net_uri_username(u), "");
  ck_str(net_uri_password(u), "");
  ck_str(net_uri_query(u), "");
  ck_assert_int_eq(net_uri_effective_port(u), 80);
  net_uri_free(u);

  u = parse_ok("ws://h/#", NULL);
  ck_assert(net_uri_has_ref(u)); /* an empty ref is still a ref */
  ck_str(net_uri_spec_ignoring_ref(u), "ws://h/");
  net_uri_free(u);
}
END_TEST

/* ---- errors ----------------------------------------------------------------- */

struct err_case {
  const char *in;
  size_t len; /* 0: strlen */
  int rc;
};

static const struct err_case err_cases[] = {
  {"", 0, NET_URI_ERR_MALFORMED},
  {"   ", 0, NET_URI_ERR_MALFORMED},
  {"ws://", 0, NET_URI_ERR_MALFORMED},
  {"ws:", 0, NET_URI_ERR_MALFORMED},
  {"ws:///", 0, NET_URI_ERR_MALFORMED},
  {"ws://user@/", 0, NET_URI_ERR_MALFORMED},
  {"ws://:80/", 0, NET_URI_ERR_MALFORMED},
  {"ws://host:99999/", 0, NET_URI_ERR_MALFORMED},
  {"ws://host:65536/", 0, NET_URI_ERR_MALFORMED},
  {"ws://host:8a/", 0, NET_URI_ERR_MALFORMED},
  {"ws://host:-1/", 0, NET_URI_ERR_MALFORMED},
  {"ws://host:80:90/", 0, NET_URI_ERR_MALFORMED},
  {"ws://ho st/", 0, NET_URI_ERR_MALFORMED},
  {"ws://ho%20st/", 0, NET_URI_ERR_MALFORMED},
  {"ws://ho%00st/", 0, NET_URI_ERR_MALFORMED},
  {"ws://h\x01st/", 0, NET_URI_ERR_MALFORMED},
  {"ws://h\x7fst/", 0, NET_URI_ERR_MALFORMED},
  {"ws://h\0st/", 10, NET_URI_ERR_MALFORMED},
  {"ws://h*st/", 0, NET_URI_ERR_MALFORMED},
  {"ws://h<st/", 0, NET_URI_ERR_MALFORMED},
  {"ws://h|st/", 0, NET_URI_ERR_MALFORMED},
  {"ws://h\"st/", 0, NET_URI_ERR_MALFORMED},
  {"ws://[::1/", 0, NET_URI_ERR_MALFORMED},
  {"ws://::1/", 0, NET_URI_ERR_MALFORMED},
  {"ws://[::1]x/", 0, NET_URI_ERR_MALFORMED},
  {"ws://[::g]/", 0, NET_URI_ERR_MALFORMED},
  {"ws://[1:2:3:4:5:6:7:8:9]/", 0, NET_URI_ERR_MALFORMED},
  {"ws://[fe80::1%25eth0]/", 0, NET_URI_ERR_MALFORMED},
  {"ws://[fe80::1%eth0]/", 0, NET_URI_ERR_MALFORMED},
  {"ws://[v1.abc]/", 0, NET_URI_ERR_MALFORMED},
  {"ws://a]b/", 0, NET_URI_ERR_MALFORMED},
  {"ws://xn--zz.example/", 0, NET_URI_ERR_MALFORMED},   /* bad Punycode */
  {"ws://ab--c\xc3\xbc.example/", 0, NET_URI_ERR_MALFORMED}, /* IDNA2008: "--" at 3-4 */
  {"ws://\xff\xfe.example/", 0, NET_URI_ERR_MALFORMED},    /* not UTF-8 */
  {"ftp://example.com/", 0, NET_URI_ERR_UNKNOWN_SCHEME},
  {"javascript:alert(1)", 0, NET_URI_ERR_UNKNOWN_SCHEME},
  {"localhost:8080/", 0, NET_URI_ERR_UNKNOWN_SCHEME},
  {"foo", 0, NET_URI_ERR_MALFORMED},
  {"//host/x", 0, NET_URI_ERR_MALFORMED},
  {"/path", 0, NET_URI_ERR_MALFORMED},
  {"1ws://h/", 0, NET_URI_ERR_MALFORMED},
};

START_TEST(test_errors) {
  const struct err_case *c = &err_cases[_i];
  net_uri *u = (net_uri *)&u; /* must be reset to NULL */
  size_t len = c->len ? c->len : strlen(c->in);
  int rc = net_uri_parse(c->in, len, NULL, &u);
  ck_assert_msg(rc == c->rc, "\"%s\": got %d (%s), want %d", c->in, rc, net_uri_strerror(rc), c->rc);
  ck_assert_ptr_null(u);
}
END_TEST

START_TEST(test_overlong) {
  /* Gecko's network.standard-url.max-length: 1 MiB. */
  size_t n = NET_URI_MAX_LENGTH + 1;
  char *s = malloc(n + 1);
  ck_assert_ptr_nonnull(s);
  memcpy(s, "ws://h/", 7);
  memset(s + 7, 'a', n - 7);
  s[n] = '\0';
  net_uri *u = NULL;
  ck_assert_int_eq(net_uri_parse(s, n, NULL, &u), NET_URI_ERR_MALFORMED);
  ck_assert_ptr_null(u);
  /* just under the limit parses, but escaping that grows it past is refused */
  ck_assert_int_eq(net_uri_parse(s, n - 1, NULL, &u), NET_URI_OK);
  ck_assert_uint_eq(net_uri_spec_len(u), n - 1);
  net_uri_free(u);
  memset(s + 7, ' ', 1000);
  ck_assert_int_eq(net_uri_parse(s, n - 1, NULL, &u), NET_URI_ERR_MALFORMED);
  ck_assert_ptr_null(u);
  free(s);
  ck_assert_int_eq(net_uri_parse(NULL, 3, NULL, &u), NET_URI_ERR_MALFORMED);
  ck_assert_int_eq(net_uri_parse(NULL, 0, NULL, &u), NET_URI_ERR_MALFORMED);
}
END_TEST

/* ---- relative resolution: RFC 3986 §5.4 with a ws base -------------------- */

struct rel_case {
  const char *rel, *want;
};

#define BASE "ws://a/b/c/d;p?q"
static const struct rel_case rel_cases[] = {
  /* §5.4.1 normal examples ("g:h" has a scheme we do not handle) */
  {"g", "ws://a/b/c/g"},
  {"./g", "ws://a/b/c/g"},
  {"g/", "ws://a/b/c/g/"},
  {"/g", "ws://a/g"},
  {"//g", "ws://g/"},
  {"?y", "ws://a/b/c/d;p?y"},
  {"g?y", "ws://a/b/c/g?y"},
  {"#s", "ws://a/b/c/d;p?q#s"},
  {"g#s", "ws://a/b/c/g#s"},
  {"g?y#s", "ws://a/b/c/g?y#s"},
  {";x", "ws://a/b/c/;x"},
  {"g;x", "ws://a/b/c/g;x"},
  {"g;x?y#s", "ws://a/b/c/g;x?y#s"},
  {"", "ws://a/b/c/d;p?q"},
  {".", "ws://a/b/c/"},
  {"./", "ws://a/b/c/"},
  {"..", "ws://a/b/"},
  {"../", "ws://a/b/"},
  {"../g", "ws://a/b/g"},
  {"../..", "ws://a/"},
  {"../../", "ws://a/"},
  {"../../g", "ws://a/g"},
  /* §5.4.2 abnormal examples */
  {"../../../g", "ws://a/g"},
  {"../../../../g", "ws://a/g"},
  {"/./g", "ws://a/g"},
  {"/../g", "ws://a/g"},
  {"g.", "ws://a/b/c/g."},
  {".g", "ws://a/b/c/.g"},
  {"g..", "ws://a/b/c/g.."},
  {"..g", "ws://a/b/c/..g"},
  {"./../g", "ws://a/b/g"},
  {"./g/.", "ws://a/b/c/g/"},
  {"g/./h", "ws://a/b/c/g/h"},
  {"g/../h", "ws://a/b/c/h"},
  {"g;x=1/./y", "ws://a/b/c/g;x=1/y"},
  {"g;x=1/../y", "ws://a/b/c/y"},
  {"g?y/./x", "ws://a/b/c/g?y/./x"},
  {"g?y/../x", "ws://a/b/c/g?y/../x"},
  {"g#s/./x", "ws://a/b/c/g#s/./x"},
  {"g#s/../x", "ws://a/b/c/g#s/../x"},
  /* "ws:g" is relative to a ws base (Gecko, like RFC 3986's loophole) */
  {"ws:g", "ws://a/b/c/g"},
  {"WS:g", "ws://a/b/c/g"},
  /* absolute references and other schemes we handle */
  {"ws://other:81/x/../y", "ws://other:81/y"},
  {"wss:g", "wss://g/"},
  {"http://h/x", "http://h/x"},
  /* Gecko extras: spaces escaped, backslashes, a colon in the first segment */
  {"a b", "ws://a/b/c/a%20b"},
  {"\\g\\h", "ws://a/g/h"},
  {"//g\\x", "ws://g/x"},
  {"ws:a:b", "ws://a/b/c/a:b"},
  {"//bücher.example/", "ws://xn--bcher-kva.example/"},
};

START_TEST(test_resolve_rfc3986) {
  const struct rel_case *c = &rel_cases[_i];
  net_uri *base = parse_ok(BASE, NULL);
  net_uri *u = parse_ok(c->rel, base);
  ck_assert_msg(strcmp(net_uri_spec(u), c->want) == 0, "\"%s\": got %s, want %s", c->rel,
                net_uri_spec(u), c->want);
  char *r = NULL;
  size_t rlen = 0;
  ck_assert_int_eq(net_uri_resolve(base, c->rel, strlen(c->rel), &r, &rlen), NET_URI_OK);
  ck_assert_str_eq(r, c->want);
  ck_assert_uint_eq(rlen, strlen(c->want));
  free(r);
  net_uri_free(u);
  net_uri_free(base);
}
END_TEST

START_TEST(test_resolve_special) {
  net_uri *base = parse_ok("ws://a/b/c/d;p?q#f", NULL);
  char *r = NULL;
  /* empty: the base without its ref (Gecko Resolve) */
  ck_assert_int_eq(net_uri_resolve(base, "", 0, &r, NULL), NET_URI_OK);
  ck_assert_str_eq(r, "ws://a/b/c/d;p?q");
  free(r);
  /* a scheme we do not handle is returned as given (Gecko Resolve) */
  ck_assert_int_eq(net_uri_resolve(base, " g:h\n", 5, &r, NULL), NET_URI_OK);
  ck_assert_str_eq(r, "g:h");
  free(r);
  /* errors propagate and leave *out NULL */
  r = (char *)&r;
  ck_assert_int_eq(net_uri_resolve(base, "//ho st/", 8, &r, NULL), NET_URI_ERR_MALFORMED);
  ck_assert_ptr_null(r);
  net_uri *u = NULL;
  ck_assert_int_eq(net_uri_parse("g:h", 3, base, &u), NET_URI_ERR_UNKNOWN_SCHEME);
  ck_assert_ptr_null(u);
  ck_assert_int_eq(net_uri_parse("//:80/", 6, base, &u), NET_URI_ERR_MALFORMED);
  net_uri_free(base);
}
END_TEST

/* ---- equality and clone --------------------------------------------------- */

START_TEST(test_equals_clone) {
  net_uri *a = parse_ok("ws://Example.com:80/a/../b#x", NULL);
  net_uri *b = parse_ok("ws://example.com/b#x", NULL);
  net_uri *c = parse_ok("ws://example.com/b#y", NULL);
  net_uri *d = parse_ok("wss://example.com/b#x", NULL);
  net_uri *e = parse_ok("ws://example.com/b", NULL);
  ck_assert(net_uri_equals(a, b));
  ck_assert(!net_uri_equals(a, c));
  ck_assert(net_uri_equals_except_ref(a, c));
  ck_assert(net_uri_equals_except_ref(a, e));
  ck_assert(!net_uri_equals(a, e));
  ck_assert(!net_uri_equals(a, d));
  ck_assert(!net_uri_equals_except_ref(a, d));

  net_uri *k = NULL;
  ck_assert_int_eq(net_uri_clone(a, &k), NET_URI_OK);
  ck_assert_ptr_ne(k, a);
  ck_assert(net_uri_equals(a, k));
  ck_str(net_uri_host(k), "example.com");
  ck_str(net_uri_ref(k), "x");
  net_uri_free(a); /* the clone is independent */
  ck_assert_str_eq(net_uri_spec(k), "ws://example.com/b#x");
  net_uri_free(k);
  net_uri_free(b);
  net_uri_free(c);
  net_uri_free(d);
  net_uri_free(e);
  net_uri_free(NULL);
}
END_TEST

/* ---- setters ------------------------------------------------------------------ */

struct set_case {
  const char *from;
  net_uri_part part;
  const char *value;
  int rc;
  const char *want; /* spec after success */
};

static const struct set_case set_cases[] = {
  {"ws://h/p?q#r", NET_URI_SPEC, "wss://x:443/y", 0, "wss://x/y"},
  {"ws://h/p?q#r", NET_URI_SPEC, "not a uri", NET_URI_ERR_MALFORMED, NULL},
  {"ws://h/p", NET_URI_SCHEME, "WSS", 0, "wss://h/p"},
  {"ws://h:443/p", NET_URI_SCHEME, "wss", 0, "wss://h/p"},
  {"ws://h:81/p", NET_URI_SCHEME, "http", 0, "http://h:81/p"},
  {"ws://h/p", NET_URI_SCHEME, "", NET_URI_ERR_INVALID, NULL},
  {"ws://h/p", NET_URI_SCHEME, "w s", NET_URI_ERR_INVALID, NULL},
  {"ws://h/p", NET_URI_SCHEME, "ftp", NET_URI_ERR_UNKNOWN_SCHEME, NULL},
  {"ws://h/p", NET_URI_USERPASS, "u:p", 0, "ws://u:p@h/p"},
  {"ws://a:b@h/p", NET_URI_USERPASS, "", 0, "ws://h/p"},
  {"ws://h/p", NET_URI_USERPASS, ":p", 0, "ws://h/p"},
  {"ws://h/p", NET_URI_USERPASS, "a@b:c@d", 0, "ws://a%40b:c%40d@h/p"},
  {"ws://a:b@h/p", NET_URI_USERNAME, "x y", 0, "ws://x%20y:b@h/p"},
  {"ws://a:b@h/p", NET_URI_USERNAME, "x:y", 0, "ws://x%3Ay:b@h/p"},
  {"ws://a:b@h/p", NET_URI_USERNAME, "", 0, "ws://h/p"},
  {"ws://a@h/p", NET_URI_PASSWORD, "s:e", 0, "ws://a:s:e@h/p"},
  {"ws://a:b@h/p", NET_URI_PASSWORD, "", 0, "ws://a@h/p"},
  {"ws://h/p", NET_URI_PASSWORD, "x", NET_URI_ERR_STATE, NULL},
  {"ws://h:81/p", NET_URI_HOST, "Other.Example", 0, "ws://other.example:81/p"},
  {"ws://h/p", NET_URI_HOST, "bücher.example/ignored", 0, "ws://xn--bcher-kva.example/p"},
  {"ws://h/p", NET_URI_HOST, "[::1]", 0, "ws://[::1]/p"},
  {"ws://h/p", NET_URI_HOST, "::1", NET_URI_ERR_MALFORMED, NULL},
  {"ws://h/p", NET_URI_HOST, "a:80", NET_URI_ERR_MALFORMED, NULL},
  {"ws://h/p", NET_URI_HOST, "a b", NET_URI_ERR_MALFORMED, NULL},
  {"ws://h/p", NET_URI_HOST, "a@b", NET_URI_ERR_MALFORMED, NULL},
  {"ws://h/p", NET_URI_HOST, "", NET_URI_ERR_INVALID, NULL},
  {"ws://h/p", NET_URI_HOST, "/x", NET_URI_ERR_INVALID, NULL},
  {"ws://h:81/p", NET_URI_HOSTPORT, "x:82", 0, "ws://x:82/p"},
  {"ws://h:81/p", NET_URI_HOSTPORT, "x", 0, "ws://x:81/p"},
  {"ws://h:81/p", NET_URI_HOSTPORT, "x:80", 0, "ws://x/p"},
  {"ws://h/p", NET_URI_HOSTPORT, "[::1]:99", 0, "ws://[::1]:99/p"},
  {"ws://h/p", NET_URI_HOSTPORT, "[::1:99", NET_URI_ERR_MALFORMED, NULL},
  {"ws://h/p", NET_URI_HOSTPORT, "x:1:2", NET_URI_ERR_MALFORMED, NULL},
  {"ws://h/p", NET_URI_HOSTPORT, "x:", NET_URI_ERR_MALFORMED, NULL},
  {"ws://h/p", NET_URI_HOSTPORT, "x:70000", NET_URI_ERR_MALFORMED, NULL},
  {"ws://h:81/p", NET_URI_HOSTANDPORT, "x", 0, "ws://x/p"},
  {"ws://h:81/p", NET_URI_HOSTANDPORT, "x:82", 0, "ws://x:82/p"},
  {"ws://h/p?q#r", NET_URI_PATH, "a/../b c?d#e", 0, "ws://h/b%20c?d#e"},
  {"ws://h/p?q#r", NET_URI_PATH, "", 0, "ws://h/"},
  {"ws://h/p?q#r", NET_URI_PATH, "//x", 0, "ws://h//x"},
  {"ws://h/p?q#r", NET_URI_FILEPATH, "/a?b", 0, "ws://h/a%3Fb?q#r"},
  {"ws://h/p?q#r", NET_URI_FILEPATH, "", 0, "ws://h/?q#r"},
  {"ws://h/p?q#r", NET_URI_QUERY, "?x=1 2", 0, "ws://h/p?x=1%202#r"},
  {"ws://h/p?q#r", NET_URI_QUERY, "a#b", 0, "ws://h/p?a%23b#r"},
  {"ws://h/p?q#r", NET_URI_QUERY, "", 0, "ws://h/p#r"},
  {"ws://h/p?q#r", NET_URI_QUERY, "?", 0, "ws://h/p?#r"},
  {"ws://h/p?q#r", NET_URI_REF, "#new", 0, "ws://h/p?q#new"},
  {"ws://h/p?q", NET_URI_REF, "a b#c", 0, "ws://h/p?q#a%20b%23c"},
  {"ws://h/p?q#r", NET_URI_REF, "", 0, "ws://h/p?q"},
};

START_TEST(test_setters) {
  const struct set_case *c = &set_cases[_i];
  net_uri *u = parse_ok(c->from, NULL), *v = (net_uri *)&v;
  int rc = net_uri_with(u, c->part, c->value, strlen(c->value), &v);
  ck_assert_msg(rc == c->rc, "%s part %d \"%s\": got %d (%s)", c->from, (int)c->part, c->value, rc,
                net_uri_strerror(rc));
  if (rc == NET_URI_OK) {
    ck_assert_str_eq(net_uri_spec(v), c->want);
    net_uri_free(v);
  } else {
    ck_assert_ptr_null(v);
  }
  ck_assert_str_eq(net_uri_spec(u), net_uri_spec(u)); /* still alive and unchanged */
  net_uri_free(u);
}
END_TEST

START_TEST(test_set_port) {
  net_uri *u = parse_ok("ws://h:81/p", NULL), *v = NULL;
  ck_assert_int_eq(net_uri_with_port(u, 82, &v), NET_URI_OK);
  ck_assert_str_eq(net_uri_spec(v), "ws://h:82/p");
  net_uri_free(v);
  ck_assert_int_eq(net_uri_with_port(u, 80, &v), NET_URI_OK);
  ck_assert_str_eq(net_uri_spec(v), "ws://h/p");
  ck_assert_int_eq(net_uri_port(v), -1);
  net_uri_free(v);
  ck_assert_int_eq(net_uri_with_port(u, -1, &v), NET_URI_OK);
  ck_assert_str_eq(net_uri_spec(v), "ws://h/p");
  net_uri_free(v);
  ck_assert_int_eq(net_uri_with_port(u, 65536, &v), NET_URI_ERR_MALFORMED);
  ck_assert_ptr_null(v);
  ck_assert_int_eq(net_uri_with_port(u, -2, &v), NET_URI_ERR_MALFORMED);
  ck_assert_str_eq(net_uri_spec(u), "ws://h:81/p");
  net_uri_free(u);
}
END_TEST

START_TEST(test_schemes) {
  size_t st = 9, sl = 9;
  ck_assert_int_eq(net_uri_scheme_default_port("WSS", 3), 443);
  ck_assert_int_eq(net_uri_scheme_default_port("ws", 2), 80);
  ck_assert_int_eq(net_uri_scheme_default_port("https", 5), 443);
  ck_assert_int_eq(net_uri_scheme_default_port("ftp", 3), -1);
  ck_assert_int_eq(net_uri_scheme_default_port(NULL, 0), -1);
  ck_assert_int_eq(net_uri_extract_scheme(" \tHttp+X.y-z:foo", 16, &st, &sl), NET_URI_OK);
  ck_assert_uint_eq(st, 2);
  ck_assert_uint_eq(sl, 10);
  ck_assert_int_eq(net_uri_extract_scheme("1abc:x", 6, &st, &sl), NET_URI_ERR_MALFORMED);
  ck_assert_int_eq(net_uri_extract_scheme("abc", 3, &st, &sl), NET_URI_ERR_MALFORMED);
  ck_assert_int_eq(net_uri_extract_scheme("", 0, &st, &sl), NET_URI_ERR_MALFORMED);
  ck_assert_str_eq(net_uri_strerror(NET_URI_ERR_UNKNOWN_SCHEME), "unknown scheme");
  ck_assert_str_eq(net_uri_strerror(12345), "unknown error");
}
END_TEST

static Suite *uri_suite(void) {
  Suite *s = suite_create("net_uri");
  TCase *tc = tcase_create("parse");
  tcase_add_loop_test(tc, test_normal_forms, 0, (int)(sizeof norm_cases / sizeof norm_cases[0]));
  tcase_add_test(tc, test_components);
  tcase_add_loop_test(tc, test_errors, 0, (int)(sizeof err_cases / sizeof err_cases[0]));
  tcase_add_test(tc, test_overlong);
  suite_add_tcase(s, tc);
  tc = tcase_create("resolve");
  tcase_add_loop_test(tc, test_resolve_rfc3986, 0, (int)(sizeof rel_cases / sizeof rel_cases[0]));
  tcase_add_test(tc, test_resolve_special);
  tcase_add_test(tc, test_equals_clone);
  suite_add_tcase(s, tc);
  tc = tcase_create("set");
  tcase_add_loop_test(tc, test_setters, 0, (int)(sizeof set_cases / sizeof set_cases[0]));
  tcase_add_test(tc, test_set_port);
  tcase_add_test(tc, test_schemes);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(uri_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
