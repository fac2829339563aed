/*
 * xpcshell.c — the script host: `xpcshell [options] [script [args…]]`,
 * in the manner of Gecko's xpcshell.
 *
 * Starts XPCOM (NS_InitXPCOM2) and the JavaScript bridge (jsbridge.h),
 * runs -f files and -e expressions in command-line order in one global,
 * then the script (with `arguments` = the rest of the command line), or an
 * interactive prompt on stdin when neither a script nor -f/-e was given
 * (or with -i). Then collects garbage and shuts XPCOM down; the bridge
 * tears the engine down during that shutdown, before the leak report.
 *
 * Exit status: the code given to quit(); otherwise 3 after an uncaught
 * exception or a promise rejection nothing handled (even if quit(0) came
 * later), 4 when a file cannot be read,
 * 2 for a usage error, 1 when XPCOM or the engine cannot start, and 1
 * when XPCOM_MEM_LEAK_LOG is set and the leak report finds leaks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsbridge.h"
#include "nsError.h"
#include "nsXPCOM.h"
#include "xpcom_object.h"

enum { EXIT_USAGE = 2, EXIT_RUNTIME_ERROR = 3, EXIT_FILE_NOT_FOUND = 4 };

typedef enum { ACT_FILE, ACT_EXPR, ACT_VERSION } action_kind;

typedef struct action {
  action_kind kind;
  const char *arg;
} action;

static void usage(FILE *out)
{
  fprintf(out,
          "usage: xpcshell [-v] [-i] [-r manifest]... [-f file]... [-e code]...\n"
          "                [script [args...]]\n"
          "  -f file      run file (in order with -e, in one global)\n"
          "  -e code      run code\n"
          "  -i           interactive prompt after the files and expressions\n"
          "  -r manifest  register a component manifest\n"
          "  -v           print the engine version\n"
          "  -g dir, -a dir, -s, -w, -W, -x, -C, -S, -m, -I, -p: accepted for\n"
          "               compatibility with Gecko's xpcshell, ignored\n"
          "Without a script and without -f/-e, reads statements from stdin.\n");
}

/* Reads statements line by line until they form a complete unit. */
static jsbridge_status interactive(jsbridge *b)
{
  bool tty = isatty(STDIN_FILENO);
  char *line = NULL;
  size_t cap = 0;
  char *buf = NULL;
  size_t len = 0;
  unsigned start = 1, lineno = 0;
  jsbridge_status worst = JSBRIDGE_OK;

  for (;;) {
    if (tty) {
      fputs(len ? "> " : "js> ", stdout);
      fflush(stdout);
    }
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0)
      break;
    lineno++;
    if (len == 0)
      start = lineno;
    char *nb = realloc(buf, len + (size_t)n + 1);
    if (!nb) {
      fprintf(stderr, "xpcshell: out of memory\n");
      break;
    }
    buf = nb;
    memcpy(buf + len, line, (size_t)n);
    len += (size_t)n;
    buf[len] = '\0';
    if (!jsbridge_is_compilable_unit(b, buf, len))
      continue;
    jsbridge_status st = jsbridge_run_string(b, buf, len, "typein", start, true);
    len = 0;
    if (st == JSBRIDGE_QUIT)
      break;
    if (st == JSBRIDGE_ERROR)
      worst = JSBRIDGE_ERROR;
  }
  if (len > 0 && !jsbridge_quit_requested(b, NULL)) {
    /* An unfinished statement at end of input: run it to report why. */
    if (jsbridge_run_string(b, buf, len, "typein", start, true) == JSBRIDGE_ERROR)
      worst = JSBRIDGE_ERROR;
  }
  if (tty)
    fputc('\n', stdout);
  free(line);
  free(buf);
  return worst;
}

int main(int argc, char **argv)
{
  action *actions = calloc((size_t)argc + 1, sizeof *actions);
  const char **manifests = calloc((size_t)argc + 1, sizeof *manifests);
  size_t nactions = 0, nmanifests = 0;
  bool force_interactive = false;
  int script_index = -1;

  if (!actions || !manifests) {
    fprintf(stderr, "xpcshell: out of memory\n");
    return 1;
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || a[1] == '\0') {
      script_index = i;
      break;
    }
    if (strcmp(a, "--") == 0) {
      if (i + 1 < argc)
        script_index = i + 1;
      break;
    }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      free(actions);
      free(manifests);
      return 0;
    }
    if (strcmp(a, "-f") == 0 || strcmp(a, "-e") == 0 || strcmp(a, "-r") == 0 ||
        strcmp(a, "-g") == 0 || strcmp(a, "-a") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "xpcshell: %s needs an argument\n", a);
        usage(stderr);
        free(actions);
        free(manifests);
        return EXIT_USAGE;
      }
      const char *val = argv[++i];
      if (a[1] == 'f' || a[1] == 'e') {
        actions[nactions].kind = a[1] == 'f' ? ACT_FILE : ACT_EXPR;
        actions[nactions++].arg = val;
      } else if (a[1] == 'r') {
        manifests[nmanifests++] = val;
      }
      continue;
    }
    if (strcmp(a, "-v") == 0) {
      /* Gecko's -v took a JS version number: accept and ignore one. */
      if (i + 1 < argc && argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9')
        i++;
      actions[nactions].kind = ACT_VERSION;
      actions[nactions++].arg = NULL;
      continue;
    }
    if (strcmp(a, "-i") == 0) {
      force_interactive = true;
      continue;
    }
    if (strlen(a) == 2 && strchr("swWxCSmIpd", a[1]))
      continue;
    fprintf(stderr, "xpcshell: unknown option %s\n", a);
    usage(stderr);
    free(actions);
    free(manifests);
    return EXIT_USAGE;
  }

  nsIServiceManager *servMgr = NULL;
  nsresult rv = NS_InitXPCOM2(&servMgr, NULL, NULL);
  if (NS_FAILED(rv)) {
    fprintf(stderr, "xpcshell: NS_InitXPCOM2 failed: 0x%08x\n", rv);
    free(actions);
    free(manifests);
    return 1;
  }
  for (size_t i = 0; i < nmanifests; i++) {
    rv = XPCOM_RegisterManifest(manifests[i]);
    if (NS_FAILED(rv))
      fprintf(stderr, "xpcshell: cannot register manifest %s: 0x%08x\n", manifests[i], rv);
  }

  jsbridge *b = NULL;
  rv = jsbridge_create(&b);
  if (NS_FAILED(rv)) {
    fprintf(stderr, "xpcshell: cannot start the JavaScript engine: 0x%08x\n", rv);
    NS_ShutdownXPCOM(servMgr);
    free(actions);
    free(manifests);
    return 1;
  }
  if (script_index >= 0)
    jsbridge_set_arguments(b, argc - script_index - 1, argv + script_index + 1);

  bool error = false, not_found = false, quit = false;
  for (size_t i = 0; i < nactions && !quit; i++) {
    jsbridge_status st = JSBRIDGE_OK;
    switch (actions[i].kind) {
    case ACT_FILE:
      st = jsbridge_run_file(b, actions[i].arg);
      break;
    case ACT_EXPR:
      st = jsbridge_run_string(b, actions[i].arg, strlen(actions[i].arg), "-e", 1, false);
      break;
    case ACT_VERSION:
      printf("xpcshell (wschannel) %s\n", jsbridge_engine_version());
      fflush(stdout);
      break;
    }
    error |= st == JSBRIDGE_ERROR;
    not_found |= st == JSBRIDGE_NOT_FOUND;
    quit = st == JSBRIDGE_QUIT;
  }
  if (!quit && script_index >= 0) {
    jsbridge_status st = jsbridge_run_file(b, argv[script_index]);
    error |= st == JSBRIDGE_ERROR;
    not_found |= st == JSBRIDGE_NOT_FOUND;
    quit = st == JSBRIDGE_QUIT;
  }
  if (!quit && (force_interactive || (nactions == 0 && script_index < 0))) {
    jsbridge_status st = interactive(b);
    error |= st == JSBRIDGE_ERROR;
  }

  /* Rejections made by events after the last script. */
  if (jsbridge_report_unhandled_rejections(b) > 0)
    error = true;
  int code = 0;
  jsbridge_quit_requested(b, &code);
  if (code == 0 && error)
    code = EXIT_RUNTIME_ERROR;
  if (code == 0 && not_found)
    code = EXIT_FILE_NOT_FOUND;

  jsbridge_gc(b);
  NS_ShutdownXPCOM(servMgr);
  jsbridge_destroy(b);

  const char *leaklog = getenv("XPCOM_MEM_LEAK_LOG");
  if (code == 0 && leaklog && *leaklog && XPCOM_LeakReport(NULL) > 0)
    code = 1;
  free(actions);
  free(manifests);
  fflush(stdout);
  return code;
}
