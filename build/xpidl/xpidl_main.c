/*
 * xpidl_main.c — command line of the IDL compiler.
 *
 *   xpidl -m header  [-I dir]... [-o out.h]     file.idl
 *   xpidl -m typelib [-I dir]... [-o out_xpt.c] file.idl
 *   xpidl -m index   [-I dir]... [-o index.c]   file.idl...
 *
 * Exit status 0 on success, 1 on any error (diagnostics on stderr as
 * `file:line:col: error: ...`), 2 on a usage error. The output file is
 * written to a temporary name and renamed into place, so a failed run
 * never leaves a partial file behind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emit.h"

static void usage(FILE *f) {
  fputs("usage: xpidl -m header|typelib|index [-I dir]... [-o output] "
        "file.idl...\n"
        "  -m header   C/C++ header for one IDL file\n"
        "  -m typelib  C type information (xpt.h) for one IDL file\n"
        "  -m index    xpt_builtin_interfaces[] over all given files\n"
        "  -I dir      search dir for #include files (after the including\n"
        "              file's own directory)\n"
        "  -o file     output (default: standard output)\n",
        f);
}

/* Writes buf to path atomically (temp file in the same directory, then
 * rename). Returns false after printing an error. */
static bool write_output(const char *path, const xp_buf *buf) {
  const char *data = buf->data ? buf->data : "";
  if (!path) {
    if (fwrite(data, 1, buf->len, stdout) != buf->len || fflush(stdout)) {
      fprintf(stderr, "xpidl: error writing standard output: %s\n",
              strerror(errno));
      return false;
    }
    return true;
  }
  size_t n = strlen(path);
  char *tmp = xp_xmalloc(n + sizeof(".tmpXXXXXX"));
  memcpy(tmp, path, n);
  memcpy(tmp + n, ".tmpXXXXXX", sizeof(".tmpXXXXXX"));
  int fd = mkstemp(tmp);
  if (fd < 0) {
    fprintf(stderr, "xpidl: cannot create '%s': %s\n", tmp, strerror(errno));
    free(tmp);
    return false;
  }
  mode_t mask = umask(0);
  umask(mask);
  bool ok = fchmod(fd, 0666 & ~mask) == 0;
  FILE *f = ok ? fdopen(fd, "wb") : NULL;
  if (!f) {
    close(fd);
    ok = false;
  } else {
    ok = fwrite(data, 1, buf->len, f) == buf->len;
    ok = (fclose(f) == 0) && ok;
  }
  if (ok && rename(tmp, path) != 0)
    ok = false;
  if (!ok) {
    fprintf(stderr, "xpidl: cannot write '%s': %s\n", path, strerror(errno));
    unlink(tmp);
  }
  free(tmp);
  return ok;
}

typedef enum { MODE_NONE, MODE_HEADER, MODE_TYPELIB, MODE_INDEX } mode;

int main(int argc, char **argv) {
  mode m = MODE_NONE;
  const char *output = NULL;
  idl_ctx ctx;
  idl_ctx_init(&ctx);
  xp_vec inputs = {0}, files = {0};
  int status = 2;

  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
      usage(stdout);
      status = 0;
      goto done;
    }
    const char *val = NULL;
    if (arg[0] == '-' && arg[1] && strchr("mIo", arg[1])) {
      if (arg[2]) {
        val = arg + 2;
      } else if (i + 1 < argc) {
        val = argv[++i];
      } else {
        fprintf(stderr, "xpidl: option '%s' needs an argument\n", arg);
        goto usage_error;
      }
    }
    if (!val) {
      if (arg[0] == '-' && arg[1]) {
        fprintf(stderr, "xpidl: unknown option '%s'\n", arg);
        goto usage_error;
      }
      xp_vec_push(&ctx.arena, &inputs, (void *)arg);
    } else if (arg[1] == 'I') {
      idl_ctx_add_incdir(&ctx, val);
    } else if (arg[1] == 'o') {
      output = val;
    } else if (strcmp(val, "header") == 0) {
      m = MODE_HEADER;
    } else if (strcmp(val, "typelib") == 0) {
      m = MODE_TYPELIB;
    } else if (strcmp(val, "index") == 0) {
      m = MODE_INDEX;
    } else {
      fprintf(stderr, "xpidl: unknown mode '%s'\n", val);
      goto usage_error;
    }
  }
  if (m == MODE_NONE) {
    fputs("xpidl: no mode given (-m header|typelib|index)\n", stderr);
    goto usage_error;
  }
  if (inputs.len == 0 || (m != MODE_INDEX && inputs.len != 1)) {
    fputs(m == MODE_INDEX ? "xpidl: no input files\n"
                          : "xpidl: exactly one input file expected\n",
          stderr);
    goto usage_error;
  }

  status = 1;
  for (size_t i = 0; i < inputs.len; i++) {
    idl_file *f = idl_load(&ctx, inputs.items[i]);
    if (f)
      xp_vec_push(&ctx.arena, &files, f);
  }
  if (xp_error_count == 0) {
    xp_buf out = {0};
    if (m == MODE_HEADER)
      emit_header(&ctx, files.items[0], &out);
    else if (m == MODE_TYPELIB)
      emit_typelib(&ctx, files.items[0], &out);
    else
      emit_index(&ctx, (idl_file *const *)files.items, files.len, &out);
    if (write_output(output, &out))
      status = 0;
    xp_buf_free(&out);
  }
  goto done;

usage_error:
  usage(stderr);
done:
  idl_ctx_free(&ctx);
  return status;
}
