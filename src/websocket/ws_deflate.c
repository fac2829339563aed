/*
 * ws_deflate.c — permessage-deflate negotiation (RFC 7692 §7.1) and the
 * zlib compressor/decompressor behind it (§7.2).
 */
#include "ws_deflate.h"

#include <limits.h>
#include <string.h>
#include <zlib.h>

/* ---- negotiation ------------------------------------------------------ */

const char *ws_pmd_offer(void) { return WS_PMD_OFFER; }

enum {
  WS_PMD_P_SERVER_NCT,
  WS_PMD_P_CLIENT_NCT,
  WS_PMD_P_SERVER_BITS,
  WS_PMD_P_CLIENT_BITS,
  WS_PMD_P_COUNT
};

static const char *const ws_pmd_param_names[WS_PMD_P_COUNT] = {
    "server_no_context_takeover", "client_no_context_takeover", "server_max_window_bits",
    "client_max_window_bits"};

/* One element's parameters, checked for syntax alone. bits: 0 = absent;
 * client_bits_bare: client_max_window_bits without a value (offers only). */
struct ws_pmd_elem {
  bool server_nct, client_nct, client_bits_present, client_bits_bare;
  uint8_t server_bits, client_bits;
};

/* §7.1.2.1/§7.1.2.2: a decimal integer 8..15 without leading zeros. */
static uint8_t ws_pmd_bits(const char *v) {
  if (!v)
    return 0;
  if (v[0] >= '8' && v[0] <= '9' && v[1] == '\0')
    return (uint8_t)(v[0] - '0');
  if (v[0] == '1' && v[1] >= '0' && v[1] <= '5' && v[2] == '\0')
    return (uint8_t)(10 + v[1] - '0');
  return 0;
}

/* Parses an element's parameters; false on an unknown or repeated
 * parameter or a bad value. `offer`: client_max_window_bits may be bare. */
static bool ws_pmd_parse_elem(const struct ws_extension *e, bool offer, struct ws_pmd_elem *out) {
  bool seen[WS_PMD_P_COUNT] = {false};
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < e->nparams; i++) {
    const struct ws_extension_param *prm = &e->params[i];
    int k = -1;
    for (int j = 0; j < WS_PMD_P_COUNT; j++)
      if (strcmp(prm->name, ws_pmd_param_names[j]) == 0)
        k = j;
    if (k < 0 || seen[k]) /* §7.1: unknown or repeated → decline / fail */
      return false;
    seen[k] = true;
    switch (k) {
    case WS_PMD_P_SERVER_NCT:
    case WS_PMD_P_CLIENT_NCT:
      if (prm->value) /* §7.1.1: these have no value */
        return false;
      if (k == WS_PMD_P_SERVER_NCT)
        out->server_nct = true;
      else
        out->client_nct = true;
      break;
    case WS_PMD_P_SERVER_BITS:
      if ((out->server_bits = ws_pmd_bits(prm->value)) == 0)
        return false;
      break;
    default: /* WS_PMD_P_CLIENT_BITS */
      out->client_bits_present = true;
      if (!prm->value && offer) {
        out->client_bits_bare = true;
      } else if ((out->client_bits = ws_pmd_bits(prm->value)) == 0) {
        return false;
      }
      break;
    }
  }
  return true;
}

/* Does the response `r` accept the offer `o`? (§7.1.1.1, §7.1.2.1, §7.1.2.2) */
static bool ws_pmd_accepts(const struct ws_pmd_elem *o, const struct ws_pmd_elem *r) {
  if (o->server_nct && !r->server_nct)
    return false;
  if (o->server_bits && (!r->server_bits || r->server_bits > o->server_bits))
    return false;
  if (r->client_bits_present && !o->client_bits_present)
    return false;
  return true;
}

int ws_pmd_negotiate(const struct ws_extension_list *offered,
                     const struct ws_extension *response, struct ws_pmd_params *out) {
  if (!response || strcmp(response->name, WS_PMD_NAME) != 0)
    return WS_ERR_INVALID_ARGUMENT;
  struct ws_pmd_elem r, o;
  if (!ws_pmd_parse_elem(response, false, &r))
    return WS_ERR_HANDSHAKE_PMD;
  for (size_t i = 0; offered && i < offered->count; i++) {
    const struct ws_extension *e = &offered->items[i];
    if (strcmp(e->name, WS_PMD_NAME) != 0 || !ws_pmd_parse_elem(e, true, &o) ||
        !ws_pmd_accepts(&o, &r))
      continue;
    out->server_no_context_takeover = r.server_nct;
    out->client_no_context_takeover = r.client_nct;
    out->server_max_window_bits = r.server_bits ? r.server_bits : 15;
    /* §7.1.2.2: an offered value is a promise to stay within it. */
    uint8_t cb = r.client_bits ? r.client_bits : 15;
    if (o.client_bits && o.client_bits < cb)
      cb = o.client_bits;
    out->client_max_window_bits = cb;
    return 0;
  }
  return WS_ERR_HANDSHAKE_PMD;
}

/* ---- the codec ---------------------------------------------------------- */

static const uint8_t ws_pmd_tail[4] = {0x00, 0x00, 0xff, 0xff};

/* zlib takes at most UINT_MAX bytes per call (uInt). */
#define WS_PMD_MAX_STEP ((size_t)UINT_MAX)

struct ws_pmd {
  struct ws_mem mem;
  struct ws_pmd_params params;

  /* receiving */
  z_stream inf;
  bool inf_ready;     /* inflateInit2 done */
  bool inf_ended;     /* Z_STREAM_END (BFINAL) seen in this message */
  bool inf_any;       /* this message had payload bytes */
  bool inf_pending;   /* the last inflate filled the output: more may follow */
  uint8_t tail_fed;   /* bytes of ws_pmd_tail consumed in this message */
  int inf_bits;

  /* sending */
  z_stream def;
  bool def_ready;
  bool def_off;       /* compression switched off (ws_pmd_deflate_abort) */
  bool def_flushing;  /* the Z_SYNC_FLUSH call has been made */
  int def_bits, def_level, def_strategy, def_mem_level;
};

static voidpf ws_pmd_zalloc(voidpf opaque, uInt items, uInt size) {
  const struct ws_mem *mem = opaque;
  if (size && items > SIZE_MAX / size)
    return Z_NULL;
  return ws_mem_malloc(mem, (size_t)items * size);
}

static void ws_pmd_zfree(voidpf opaque, voidpf ptr) { ws_mem_free(opaque, ptr); }

int ws_pmd_new(struct ws_pmd **out, const struct ws_pmd_params *params,
               const struct ws_mem *mem) {
  *out = NULL;
  if (!params || params->server_max_window_bits < 8 || params->server_max_window_bits > 15 ||
      params->client_max_window_bits < 8 || params->client_max_window_bits > 15)
    return WS_ERR_INVALID_ARGUMENT;
  if (!mem)
    mem = ws_mem_default();
  struct ws_pmd *p = ws_mem_malloc(mem, sizeof *p);
  if (!p)
    return WS_ERR_NOMEM;
  memset(p, 0, sizeof *p);
  p->mem = *mem;
  p->params = *params;
  p->inf_bits = params->server_max_window_bits < 9 ? 9 : params->server_max_window_bits;
  int w = params->client_max_window_bits;
  p->def_level = Z_DEFAULT_COMPRESSION;
  p->def_strategy = Z_DEFAULT_STRATEGY;
  if (w == 8) {
    /* See the header: raw deflate cannot do 8; Z_RLE's distance-1 matches
     * fit any window. */
    w = 9;
    p->def_strategy = Z_RLE;
  }
  p->def_bits = w;
  /* The hash table need not outgrow the window: memLevel 8 (zlib's
   * default) for 15, one less per halving, at least 1. */
  p->def_mem_level = w - 7 < 1 ? 1 : w - 7 > 8 ? 8 : w - 7;
  *out = p;
  return 0;
}

static void ws_pmd_inflate_free(struct ws_pmd *p) {
  if (p->inf_ready)
    inflateEnd(&p->inf);
  p->inf_ready = false;
}

static void ws_pmd_deflate_free(struct ws_pmd *p) {
  if (p->def_ready)
    deflateEnd(&p->def);
  p->def_ready = false;
}

void ws_pmd_del(struct ws_pmd *p) {
  if (!p)
    return;
  ws_pmd_inflate_free(p);
  ws_pmd_deflate_free(p);
  struct ws_mem mem = p->mem;
  ws_mem_free(&mem, p);
}

/* ---- inflate ---------------------------------------------------------- */

static int ws_pmd_inflate_init(struct ws_pmd *p) {
  if (p->inf_ready)
    return 0;
  memset(&p->inf, 0, sizeof p->inf);
  p->inf.zalloc = ws_pmd_zalloc;
  p->inf.zfree = ws_pmd_zfree;
  p->inf.opaque = &p->mem;
  int zr = inflateInit2(&p->inf, -p->inf_bits);
  if (zr == Z_MEM_ERROR)
    return WS_ERR_NOMEM;
  if (zr != Z_OK)
    return WS_ERR_INTERNAL;
  p->inf_ready = true;
  return 0;
}

/* After a BFINAL block the stream is over, but with context takeover the
 * next message still refers to its window (§7.2.2): start a new stream
 * primed with the old window. */
static int ws_pmd_inflate_restart(struct ws_pmd *p) {
  uInt n = 0;
  if (inflateGetDictionary(&p->inf, NULL, &n) != Z_OK)
    return WS_ERR_INTERNAL;
  uint8_t *dict = NULL;
  if (n) {
    dict = ws_mem_malloc(&p->mem, n);
    if (!dict)
      return WS_ERR_NOMEM;
    inflateGetDictionary(&p->inf, dict, &n);
  }
  int zr = inflateReset(&p->inf);
  if (zr == Z_OK && n)
    zr = inflateSetDictionary(&p->inf, dict, n);
  ws_mem_free(&p->mem, dict);
  return zr == Z_OK ? 0 : WS_ERR_INTERNAL;
}

/* The message is complete: reset per-message state, drop or keep the
 * stream (§7.2.2: server_no_context_takeover lets us start empty). */
static int ws_pmd_inflate_message_end(struct ws_pmd *p) {
  bool ended = p->inf_ended;
  p->inf_ended = false;
  p->inf_any = false;
  p->inf_pending = false;
  p->tail_fed = 0;
  if (p->params.server_no_context_takeover) {
    ws_pmd_inflate_free(p);
    return 0;
  }
  return ended ? ws_pmd_inflate_restart(p) : 0;
}

int ws_pmd_inflate(struct ws_pmd *p, const uint8_t **in, size_t *in_len, bool last,
                   uint8_t *out, size_t out_cap, size_t *out_len) {
  *out_len = 0;
  if (*in_len)
    p->inf_any = true;
  if (last && !p->inf_any) {
    /* An empty payload: nothing to inflate (the tail alone is not a whole
     * block), so the message is empty and the window unchanged. */
    ws_pmd_inflate_message_end(p); /* cannot fail: no BFINAL seen */
    return WS_PMD_DONE;
  }
  int rv = ws_pmd_inflate_init(p);
  if (rv < 0)
    return rv;
  z_stream *z = &p->inf;
  for (;;) {
    const uint8_t *src = NULL;
    size_t avail = 0;
    bool tail = false;
    if (*in_len && p->inf_ended) {
      /* After the final block (§7.2.3.4) the stream is over; a sender
       * following §7.2.1 literally may still append an empty block: the
       * rest of the message is not DEFLATE data and is skipped. */
      *in += *in_len;
      *in_len = 0;
      continue;
    }
    if (*in_len) {
      src = *in;
      avail = *in_len < WS_PMD_MAX_STEP ? *in_len : WS_PMD_MAX_STEP;
    } else if (last && p->tail_fed < sizeof ws_pmd_tail && !p->inf_ended) {
      src = ws_pmd_tail + p->tail_fed;
      avail = sizeof ws_pmd_tail - p->tail_fed;
      tail = true;
    } else if (!p->inf_pending) {
      /* Everything is in and out. */
      if (!last)
        return WS_PMD_NEED_INPUT;
      /* The data must have ended on a block boundary (inflate's data_type
       * bit 128) or with the final block. */
      if (!p->inf_ended && !(z->data_type & 128))
        return WS_ERR_INVALID_DEFLATE;
      rv = ws_pmd_inflate_message_end(p);
      return rv < 0 ? rv : WS_PMD_DONE;
    } /* else: no input, but output is pending inside zlib */
    size_t room = out_cap - *out_len;
    if (room == 0)
      return WS_PMD_OUTPUT_FULL;
    z->next_in = (Bytef *)(uintptr_t)src; /* zlib does not write through next_in */
    z->avail_in = (uInt)avail;
    z->next_out = out + *out_len;
    z->avail_out = (uInt)(room < WS_PMD_MAX_STEP ? room : WS_PMD_MAX_STEP);
    uInt out_before = z->avail_out;
    int zr = inflate(z, Z_SYNC_FLUSH);
    size_t used = avail - z->avail_in;
    *out_len += out_before - z->avail_out;
    if (tail) {
      p->tail_fed = (uint8_t)(p->tail_fed + used);
    } else {
      *in += used;
      *in_len -= used;
    }
    /* zlib: inflate may hold more output only when it filled avail_out. */
    p->inf_pending = z->avail_out == 0;
    switch (zr) {
    case Z_OK:
    case Z_BUF_ERROR: /* no progress possible: out of input or room */
      break;
    case Z_STREAM_END:
      p->inf_ended = true;
      p->inf_pending = false;
      break;
    case Z_MEM_ERROR:
      return WS_ERR_NOMEM;
    default: /* Z_DATA_ERROR; Z_NEED_DICT cannot occur in raw deflate */
      return WS_ERR_INVALID_DEFLATE;
    }
    if (p->inf_pending)
      return WS_PMD_OUTPUT_FULL;
    if (z->avail_in && !p->inf_ended)
      return WS_ERR_INTERNAL; /* stopped with input and room: cannot happen */
  }
}

/* ---- deflate ---------------------------------------------------------- */

bool ws_pmd_want_compress(const struct ws_pmd *p, size_t len) {
  if (p->def_off || len == 0)
    return false;
  return p->params.client_no_context_takeover || len >= WS_PMD_MIN_COMPRESS;
}

bool ws_pmd_may_discard(const struct ws_pmd *p) { return p->params.client_no_context_takeover; }

int ws_pmd_deflate_begin(struct ws_pmd *p, size_t len, size_t *bound) {
  if (!p->def_ready) {
    memset(&p->def, 0, sizeof p->def);
    p->def.zalloc = ws_pmd_zalloc;
    p->def.zfree = ws_pmd_zfree;
    p->def.opaque = &p->mem;
    int zr = deflateInit2(&p->def, p->def_level, Z_DEFLATED, -p->def_bits, p->def_mem_level,
                          p->def_strategy);
    if (zr == Z_MEM_ERROR)
      return WS_ERR_NOMEM;
    if (zr != Z_OK)
      return WS_ERR_INTERNAL;
    p->def_ready = true;
  }
  p->def_flushing = false;
  /* deflateBound is for Z_FINISH; the sync flush adds an empty stored
   * block (at most 5 bytes with the bits before it). */
  uLong b = deflateBound(&p->def, (uLong)len);
  *bound = b > SIZE_MAX - 16 ? SIZE_MAX : (size_t)b + 16;
  return 0;
}

int ws_pmd_deflate(struct ws_pmd *p, const uint8_t **in, size_t *in_len, uint8_t *out,
                   size_t out_cap, size_t *out_len) {
  z_stream *z = &p->def;
  *out_len = 0;
  for (;;) {
    size_t room = out_cap - *out_len;
    if (room == 0)
      return WS_PMD_OUTPUT_FULL;
    size_t avail = *in_len < WS_PMD_MAX_STEP ? *in_len : WS_PMD_MAX_STEP;
    /* Flush only with the last of the input (RFC 7692 §7.2.1). */
    int flush = avail == *in_len ? Z_SYNC_FLUSH : Z_NO_FLUSH;
    z->next_in = (Bytef *)(uintptr_t)*in;
    z->avail_in = (uInt)avail;
    z->next_out = out + *out_len;
    z->avail_out = (uInt)(room < WS_PMD_MAX_STEP ? room : WS_PMD_MAX_STEP);
    uInt out_before = z->avail_out;
    int zr = deflate(z, flush);
    *out_len += out_before - z->avail_out;
    *in += avail - z->avail_in;
    *in_len -= avail - z->avail_in;
    if (zr != Z_OK && zr != Z_BUF_ERROR)
      return WS_ERR_INTERNAL;
    if (flush == Z_SYNC_FLUSH)
      p->def_flushing = true;
    /* zlib: with avail_out left after a flush call, the flush is complete. */
    if (p->def_flushing && *in_len == 0 && z->avail_out > 0)
      return WS_PMD_DONE;
    if (z->avail_out == 0)
      continue; /* the top of the loop reports OUTPUT_FULL when out is full */
    if (zr == Z_BUF_ERROR)
      return WS_ERR_INTERNAL; /* no progress with input and room: cannot happen */
  }
}

void ws_pmd_deflate_end(struct ws_pmd *p) {
  p->def_flushing = false;
  if (p->params.client_no_context_takeover)
    ws_pmd_deflate_free(p);
}

void ws_pmd_deflate_abort(struct ws_pmd *p) {
  p->def_flushing = false;
  ws_pmd_deflate_free(p);
  if (!p->params.client_no_context_takeover)
    p->def_off = true;
}
