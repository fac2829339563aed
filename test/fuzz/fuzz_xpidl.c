/*
 * fuzz_xpidl.c — the IDL compiler (build/xpidl): lexer, parser, resolver
 * and checks, and, for input that compiles, the header and typelib
 * emitters.
 *
 * The input is an IDL file. It is written to a private temporary
 * directory and loaded the way `xpidl -I idl/` loads a file, so it can
 * #include the tree's interfaces (nsISupports.idl and the rest, from
 * FUZZ_IDL_DIR). Inputs naming an absolute or parent-directory include are
 * skipped: a fuzzer-made `#include "/dev/zero"` would never finish.
 *
 * Oracles: the sanitizers, determinism (a second compilation of the same
 * input gives the same header and typelib), and that a file compiles
 * exactly when no error was reported. Diagnostics go to a discarded
 * stream while the compiler runs.
 */
#include <unistd.h>

#include "emit.h"
#include "fuzz_input.h"
#include "idl_resolve.h"

#ifndef FUZZ_IDL_DIR
#define FUZZ_IDL_DIR "idl"
#endif

static char tmpdir[64];
static char path[96];
static FILE *devnull;

static void cleanup(void) {
  unlink(path);
  rmdir(tmpdir);
  if (devnull)
    fclose(devnull);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/fuzz_xpidl.XXXXXX");
  FUZZ_CHECK(mkdtemp(tmpdir) != NULL);
  snprintf(path, sizeof path, "%s/nsIFuzz.idl", tmpdir);
  devnull = fopen("/dev/null", "w");
  FUZZ_CHECK(devnull != NULL);
  atexit(cleanup);
  return 0;
}

/* True when an #include could leave the include directories. */
static bool escapes(const uint8_t *d, size_t n) {
  static const char *const bad[] = {"\"/", "\"..", "/..", "<..", "</"};
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
      size_t bl = strlen(bad[k]);
      if (i + bl <= n && memcmp(d + i, bad[k], bl) == 0)
        return true;
    }
  return false;
}

struct result {
  bool ok;
  xp_buf header, typelib;
};

static void compile(struct result *r) {
  idl_ctx ctx;
  idl_ctx_init(&ctx);
  idl_ctx_add_incdir(&ctx, FUZZ_IDL_DIR);
  xp_error_count = 0;
  memset(r, 0, sizeof *r);
  /* glibc's stderr is an assignable variable: silence the diagnostics
   * without touching fd 2, where sanitizer reports go. */
  FILE *saved = stderr;
  stderr = devnull;
  idl_file *f = idl_load(&ctx, path);
  r->ok = f != NULL;
  if (f) {
    emit_header(&ctx, f, &r->header);
    emit_typelib(&ctx, f, &r->typelib);
  }
  int errors = xp_error_count;
  stderr = saved;
  FUZZ_CHECK(r->ok == (errors == 0));
  idl_ctx_free(&ctx);
}

static bool buf_equal(const xp_buf *a, const xp_buf *b) {
  return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!devnull)
    LLVMFuzzerInitialize(NULL, NULL);
  if (escapes(data, size) || size > 65536)
    return 0;
  FILE *f = fopen(path, "wb");
  FUZZ_CHECK(f != NULL);
  FUZZ_CHECK(size == 0 || fwrite(data, 1, size, f) == size);
  FUZZ_CHECK(fclose(f) == 0);

  struct result a, b;
  compile(&a);
  compile(&b);
  FUZZ_CHECK(a.ok == b.ok);
  FUZZ_CHECK(buf_equal(&a.header, &b.header));
  FUZZ_CHECK(buf_equal(&a.typelib, &b.typelib));
  xp_buf_free(&a.header);
  xp_buf_free(&a.typelib);
  xp_buf_free(&b.header);
  xp_buf_free(&b.typelib);
  return 0;
}
