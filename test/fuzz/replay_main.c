/*
 * replay_main.c — runs a fuzz target's LLVMFuzzerTestOneInput on every
 * file of its corpus, without libFuzzer, so `make check` replays the
 * corpora with any compiler (gcc, the ASan build, valgrind).
 *
 * Usage: replay_<target> [FILE|DIR]...
 * With no arguments it replays FUZZ_CORPUS_DIR (set at compile time to
 * test/fuzz/corpus/<target> in the source tree). Directories are read
 * non-recursively in name order, so runs are reproducible. Each file's
 * name is printed on stderr before it runs: a failing oracle aborts inside
 * the target (and a sanitizer exits), so the last line names the culprit.
 * Exit 0 when every input ran; 1 on an unreadable path or an empty corpus.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_input.h"

/* Targets that need one-time set-up define this; others leave it out. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads a whole file; returns false (and reports) on failure. */
static bool read_file(const char *path, uint8_t **out, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    return false;
  }
  uint8_t *buf = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    if (n == cap) {
      cap = cap ? cap * 2 : 4096;
      uint8_t *nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        fclose(f);
        fprintf(stderr, "replay: %s: out of memory\n", path);
        return false;
      }
      buf = nb;
    }
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (r == 0)
      break;
  }
  bool ok = !ferror(f);
  fclose(f);
  if (!ok) {
    fprintf(stderr, "replay: %s: read error\n", path);
    free(buf);
    return false;
  }
  *out = buf;
  *len = n;
  return true;
}

static bool run_file(const char *path, long *count) {
  uint8_t *buf;
  size_t len;
  if (!read_file(path, &buf, &len))
    return false;
  fprintf(stderr, "replaying %s (%zu bytes)\n", path, len);
  /* An exact-size copy, as libFuzzer gives, so reads past the end show. */
  uint8_t *exact = len ? malloc(len) : NULL;
  if (len && !exact) {
    free(buf);
    return false;
  }
  if (len)
    memcpy(exact, buf, len);
  free(buf);
  LLVMFuzzerTestOneInput(exact, len);
  free(exact);
  (*count)++;
  return true;
}

static bool run_path(const char *path, long *count) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    return false;
  }
  if (!S_ISDIR(st.st_mode))
    return run_file(path, count);

  DIR *d = opendir(path);
  if (!d) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    return false;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  bool ok = true;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue; /* ., .., and hidden files such as .gitattributes */
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **nn = realloc(names, cap * sizeof *names);
      if (!nn) {
        ok = false;
        break;
      }
      names = nn;
    }
    size_t plen = strlen(path) + 1 + strlen(e->d_name) + 1;
    names[n] = malloc(plen);
    if (!names[n]) {
      ok = false;
      break;
    }
    snprintf(names[n], plen, "%s/%s", path, e->d_name);
    n++;
  }
  closedir(d);
  if (ok && n)
    qsort(names, n, sizeof *names, cmp_names);
  for (size_t i = 0; ok && i < n; i++) {
    struct stat fst;
    if (stat(names[i], &fst) == 0 && S_ISREG(fst.st_mode))
      ok = run_file(names[i], count);
  }
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return ok;
}

int main(int argc, char **argv) {
  int first = 1;
  if (LLVMFuzzerInitialize)
    LLVMFuzzerInitialize(&argc, &argv);

  long count = 0;
  bool ok = true;
  if (first >= argc) {
#ifdef FUZZ_CORPUS_DIR
    ok = run_path(FUZZ_CORPUS_DIR, &count);
#else
    fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
    return 1;
#endif
  }
  for (int i = first; ok && i < argc; i++)
    ok = run_path(argv[i], &count);
  if (ok && count == 0) {
    fprintf(stderr, "replay: no inputs found\n");
    ok = false;
  }
  printf("%s: %ld input%s replayed%s\n", argv[0], count, count == 1 ? "" : "s",
         ok ? "" : " (stopped on an error)");
  return ok ? 0 : 1;
}
