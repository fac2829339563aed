/*
 * xpt_check.c — consistency of generated type information: linked with
 * every golden *_xpt.c and the index, it walks xpt_builtin_interfaces[]
 * and checks what the runtime relies on (src/xpcom/xpt.h): parents are
 * listed and precede their children's slots, method_base adds up,
 * argnum fields point at real parameters, interface types are named.
 */
#include <stdio.h>
#include <string.h>

#include "xpt.h"

static int failures;

#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "xpt_check: " __VA_ARGS__);                          \
      fputc('\n', stderr);                                                 \
      failures++;                                                          \
    }                                                                      \
  } while (0)

static const XPTInterfaceInfo *find(const char *name) {
  for (const XPTInterfaceInfo *const *p = xpt_builtin_interfaces; *p; p++)
    if (strcmp((*p)->name, name) == 0)
      return *p;
  return NULL;
}

static void check_type(const XPTInterfaceInfo *info,
                       const XPTMethodDescriptor *m,
                       const XPTTypeDescriptor *t) {
  switch (t->tag) {
  case XPT_TD_INTERFACE_TYPE:
    CHECK(t->iface && *t->iface, "%s.%s: interface type without a name",
          info->name, m->name);
    break;
  case XPT_TD_INTERFACE_IS_TYPE:
    CHECK(t->argnum < m->num_args &&
              m->params[t->argnum].type.tag == XPT_TD_PNSIID,
          "%s.%s: iid_is does not name an nsIID parameter", info->name,
          m->name);
    break;
  case XPT_TD_ARRAY:
    CHECK(t->element != NULL, "%s.%s: array without element type",
          info->name, m->name);
    /* fall through */
  case XPT_TD_PSTRING_SIZE_IS:
  case XPT_TD_PWSTRING_SIZE_IS:
    CHECK(t->argnum < m->num_args && t->argnum2 < m->num_args &&
              m->params[t->argnum].type.tag == XPT_TD_UINT32,
          "%s.%s: size_is does not name an unsigned long parameter",
          info->name, m->name);
    break;
  default:
    CHECK(t->tag <= XPT_TD_JSVAL, "%s.%s: bad tag %u", info->name, m->name,
          t->tag);
  }
}

int main(void) {
  int count = 0;
  for (const XPTInterfaceInfo *const *p = xpt_builtin_interfaces; *p; p++) {
    const XPTInterfaceInfo *info = *p;
    count++;
    if (!info->parent) {
      CHECK(strcmp(info->name, "nsISupports") == 0 && info->method_base == 0,
            "%s: no parent", info->name);
    } else {
      const XPTInterfaceInfo *parent = find(info->parent);
      CHECK(parent != NULL, "%s: parent %s not in the index", info->name,
            info->parent);
      if (parent)
        CHECK(info->method_base == parent->method_base + parent->num_methods,
              "%s: method_base %u != %u + %u", info->name, info->method_base,
              parent->method_base, parent->num_methods);
    }
    for (uint16_t i = 0; i < info->num_methods; i++) {
      const XPTMethodDescriptor *m = &info->methods[i];
      CHECK(m->name && *m->name, "%s: method %u has no name", info->name, i);
      CHECK((m->num_args == 0) == (m->params == NULL),
            "%s.%s: params/num_args mismatch", info->name, m->name);
      for (uint8_t j = 0; j < m->num_args; j++) {
        const XPTParamDescriptor *pd = &m->params[j];
        check_type(info, m, &pd->type);
        CHECK(pd->flags & (XPT_PD_IN | XPT_PD_OUT),
              "%s.%s: parameter %s neither in nor out", info->name, m->name,
              pd->name);
        CHECK(!(pd->flags & XPT_PD_RETVAL) || j + 1 == m->num_args,
              "%s.%s: retval not last", info->name, m->name);
      }
      if (!(m->flags & XPT_MD_NOTXPCOM))
        CHECK(m->result.type.tag == XPT_TD_UINT32,
              "%s.%s: result is not nsresult", info->name, m->name);
    }
    for (uint16_t i = 0; i < info->num_constants; i++)
      CHECK(info->constants[i].type.tag <= XPT_TD_UINT64,
            "%s: constant %s is not an integer", info->name,
            info->constants[i].name);
  }
  CHECK(count > 0, "empty index");
  printf("xpt_check: %d interfaces, %d problems\n", count, failures);
  return failures != 0;
}
