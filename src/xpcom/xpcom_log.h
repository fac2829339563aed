/*
 * xpcom_log.h — logging through NSPR log modules.
 *
 * Each file declares its module once and logs through it:
 *
 *   XPCOM_LOG_MODULE(gWsLog, "nsWebSocket");
 *   XPCOM_LOG(gWsLog, XPCOM_LOG_DEBUG, ("open %s", url));
 *
 * and a user enables it as with any NSPR module:
 *   NSPR_LOG_MODULES=nsWebSocket:5,timestamp  NSPR_LOG_FILE=/tmp/log
 *
 * Modules are created on first use, and one name always maps to one NSPR
 * module however many files declare it. The level test is done here rather
 * than with PR_LOG/PR_LOG_TEST, which compile to nothing unless DEBUG or
 * FORCE_PR_LOG was defined before <prlog.h> was first included: logging
 * therefore works in every build regardless of include order. The message
 * is written by PR_LogPrint (NSPR adds the thread and, if asked, the time).
 *
 * Any thread.
 */
#ifndef WSCHANNEL_XPCOM_LOG_H
#define WSCHANNEL_XPCOM_LOG_H

#include <prlog.h>

#include "nscore.h"

/* Levels (NSPR's numbering; 5 is what Gecko calls Verbose). */
#define XPCOM_LOG_ERROR 2
#define XPCOM_LOG_WARNING 3
#define XPCOM_LOG_DEBUG 4
#define XPCOM_LOG_VERBOSE 5

typedef struct xpcom_log_module {
  const char *name;        /* static string */
  PRLogModuleInfo *module; /* set on first use; read atomically */
} xpcom_log_module;

/* Declares a file-local lazily created module `var` named `name`. */
#define XPCOM_LOG_MODULE(var, name_) static xpcom_log_module var = {name_, NULL}

XPCOM_BEGIN_DECLS

/* The NSPR module for m, created on first call. NULL only if NSPR could
 * not allocate it (then nothing is logged). */
XPCOM_API(PRLogModuleInfo *) xpcom_log_get(xpcom_log_module *m);

XPCOM_END_DECLS

static inline PRLogModuleInfo *xpcom_log_module_info(xpcom_log_module *m)
{
  PRLogModuleInfo *info = __atomic_load_n(&m->module, __ATOMIC_ACQUIRE);
  return info ? info : xpcom_log_get(m);
}

/* True when `module` is enabled at `level` or more verbose. */
#define XPCOM_LOG_ENABLED(module_, lvl_)                                      \
  (xpcom_log_module_info(&(module_)) != NULL &&                               \
   xpcom_log_module_info(&(module_))->level >= (lvl_))

/* XPCOM_LOG(module, level, (fmt, ...)): the arguments are evaluated only
 * when the module is enabled at that level. */
#define XPCOM_LOG(module, lvl, args)                                          \
  do {                                                                        \
    PRLogModuleInfo *xpcom_log_m_ = xpcom_log_module_info(&(module));         \
    if (xpcom_log_m_ && xpcom_log_m_->level >= (lvl))                         \
      PR_LogPrint args;                                                       \
  } while (0)

#endif /* WSCHANNEL_XPCOM_LOG_H */
