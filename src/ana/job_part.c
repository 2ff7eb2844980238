/*
 * Partial results of the main job (issue 15): the text form written by `na64 run --part K/N
 * --partial FILE` and by every MPI rank, read back by `na64 merge`, and the exact merge of parts
 * with its checks (same version, card, setup, seed and sample sizes; event ranges neither
 * overlapping nor leaving a gap). The format is specified in docs/scaling.md.
 *
 * The accumulators are written as integers: the event counts and the limbs of every na64_xsum
 * after carry propagation, so reading them back loses nothing and merging the parts gives bit for
 * bit the sums of the serial job whatever the order of the files.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"
#include "na64/io.h"

#define FORMAT_TAG "na64-job-partial"
#define FORMAT_VERSION 1

void na64_job_partial_release(na64_job_partial *p)
{
  if (!p) return;
  free(p->card_text);
  free(p->signal);
  p->card_text = NULL;
  p->signal = NULL;
  p->nmass = 0;
}

static int slurp(const char *path, char **text, size_t *len, na64_err *err)
{
  FILE *f = fopen(path, "rb");
  if (!f) return na64_err_set(err, NA64_EIO, "%s: cannot open: %s", path, strerror(errno));
  size_t cap = 4096, n = 0;
  char *b = malloc(cap + 1);
  size_t got;
  while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      char *nb = realloc(b, 2 * cap + 1);
      if (!nb) {
        free(b);
        b = NULL;
      }
      b = nb;
      cap *= 2;
    }
  }
  int bad = ferror(f);
  fclose(f);
  if (!b) return na64_err_set(err, NA64_ENOMEM, "%s: out of memory", path);
  if (bad) {
    free(b);
    return na64_err_set(err, NA64_EIO, "%s: read error", path);
  }
  b[n] = '\0';
  *text = b;
  *len = n;
  return NA64_OK;
}

int na64_job_partial_set_card(na64_job_partial *p, const char *card_path, na64_err *err)
{
  snprintf(p->version, sizeof p->version, "%s", na64_version());
  p->card_name[0] = '\0';
  p->card_text = NULL;
  p->card_len = 0;
  p->card_hash = 0;
  if (!card_path) return NA64_OK;
  if (strlen(card_path) >= sizeof p->card_name)
    return na64_err_set(err, NA64_EINVAL, "card path too long (%zu bytes): %.60s...", strlen(card_path), card_path);
  snprintf(p->card_name, sizeof p->card_name, "%s", card_path);
  NA64_CALL(slurp(card_path, &p->card_text, &p->card_len, err));
  p->card_hash = na64_fnv1a64(p->card_text, p->card_len);
  return NA64_OK;
}

/* ---- writing ---- */

static void put_xsum(FILE *f, const na64_xsum *x)
{
  na64_xsum c;
  na64_xsum_init(&c);
  na64_xsum_merge(&c, x); /* carries propagated: limbs 0..L-2 in [0, 2^32) */
  fprintf(f, "%d", c.bad);
  for (int i = 0; i < NA64_XSUM_LIMBS; ++i) fprintf(f, " %lld", (long long)c.limb[i]);
  fputc('\n', f);
}

static void put_cutflow(FILE *f, const na64_cutflow *c)
{
  for (int i = 0; i < NA64_CUTFLOW_ROWS; ++i) fprintf(f, "%s%llu", i ? " " : "", (unsigned long long)c->events[i]);
  fputc('\n', f);
  for (int i = 0; i < NA64_CUTFLOW_ROWS; ++i) put_xsum(f, &c->weighted[i]);
  for (int i = 0; i < NA64_CUTFLOW_ROWS; ++i) put_xsum(f, &c->weighted2[i]);
}

/* A histogram of counts (the E_ECAL-E_HCAL plane, the missing-energy spectrum) as its non-empty
 * bins only, "k" then k pairs "bin count": most of the plane's bins are empty. */
static void put_counts(FILE *f, const uint64_t *v, size_t n)
{
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) k += v[i] != 0;
  fprintf(f, "%zu", k);
  for (size_t i = 0; i < n; ++i)
    if (v[i]) fprintf(f, " %zu %llu", i, (unsigned long long)v[i]);
  fputc('\n', f);
}

static void put_accum(FILE *f, const na64_select_accum *a)
{
  put_cutflow(f, &a->all);
  put_cutflow(f, &a->signal);
  put_cutflow(f, &a->background);
  fprintf(f, "%llu\n", (unsigned long long)a->sideband_n);
  put_xsum(f, &a->sideband_w);
  put_xsum(f, &a->sideband_we);
  put_xsum(f, &a->sideband_w2);
  put_counts(f, &a->plane[0][0], (size_t)NA64_PLANE_NY * NA64_PLANE_NX);
  put_counts(f, a->emiss, NA64_EMISS_NBINS);
}

/* The Table 1 background routes' sums (src/ana/job_bkg.c, issue 11): "bkg_range events first
 * count", then per source "bkg <k>", its passed count and its two exact sums. */
static void put_bkg(FILE *f, const na64_job_partial *p)
{
  fprintf(f, "bkg_range %llu %llu %llu\n", (unsigned long long)p->bkg_events, (unsigned long long)p->bkg_first,
          (unsigned long long)p->bkg_count);
  for (int i = 0; i < NA64_SIM_BKG_NSOURCES; ++i) {
    fprintf(f, "bkg %d %llu\n", i, (unsigned long long)p->bkg[i].passed);
    put_xsum(f, &p->bkg[i].sum);
    put_xsum(f, &p->bkg[i].sum2);
  }
}

/* The head common to the partial-result files: format, version, the card (name, bytes, hash), setup. */
static void put_card(FILE *f, const char *tag, int format, const char *version, const char *card_name,
                     const char *card_text, size_t card_len, uint64_t card_hash, long run)
{
  fprintf(f, "%s %d\nversion %s\n", tag, format, version);
  fprintf(f, "card_name %zu\n", strlen(card_name));
  fputs(card_name, f);
  fprintf(f, "\ncard %zu\n", card_text ? card_len : 0);
  if (card_text) fwrite(card_text, 1, card_len, f);
  fprintf(f, "\ncard_hash %016llx\nrun %ld\n", (unsigned long long)card_hash, run);
}

int na64_job_partial_format(const na64_job_partial *p, char **text, size_t *len, na64_err *err)
{
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  if (!f) return na64_err_set(err, NA64_ENOMEM, "job partial: out of memory");
  put_card(f, FORMAT_TAG, FORMAT_VERSION, p->version, p->card_name, p->card_text, p->card_len, p->card_hash, p->run);
  fprintf(f, "seed %llu\nevents %llu\nsignal_events %llu\n", (unsigned long long)p->seed,
          (unsigned long long)p->events, (unsigned long long)p->signal_events);
  fprintf(f, "main_range %llu %llu\nsignal_range %llu %llu\nmasses %d\naccum main\n",
          (unsigned long long)p->main_first, (unsigned long long)p->main_count, (unsigned long long)p->signal_first,
          (unsigned long long)p->signal_count, p->nmass);
  put_accum(f, &p->main);
  for (int i = 0; i < p->nmass; ++i) {
    fprintf(f, "accum signal %d\n", i);
    put_accum(f, &p->signal[i]);
  }
  put_bkg(f, p);
  fputs("end\n", f);
  if (fclose(f) != 0 || !buf) {
    free(buf);
    return na64_err_set(err, NA64_ENOMEM, "job partial: out of memory");
  }
  *text = buf;
  *len = n;
  return NA64_OK;
}

int na64_job_partial_write(const na64_job_partial *p, const char *path, na64_err *err)
{
  char *text = NULL;
  size_t len = 0;
  NA64_CALL(na64_job_partial_format(p, &text, &len, err));
  int st = na64_outfile_write_all(path, 0, text, len, err);
  free(text);
  return st;
}

/* ---- reading ---- */

typedef struct cursor {
  const char *s, *name;
  size_t len, pos;
  int line;
} cursor;

static void skip_space(cursor *c)
{
  while (c->pos < c->len && (c->s[c->pos] == ' ' || c->s[c->pos] == '\n' || c->s[c->pos] == '\t')) {
    if (c->s[c->pos] == '\n') c->line++;
    c->pos++;
  }
}

/* The next whitespace-separated word into w (truncated to n - 1 bytes). */
static int word(cursor *c, char *w, size_t n, na64_err *err)
{
  skip_space(c);
  size_t k = 0;
  while (c->pos < c->len && c->s[c->pos] != ' ' && c->s[c->pos] != '\n' && c->s[c->pos] != '\t') {
    if (k + 1 < n) w[k++] = c->s[c->pos];
    c->pos++;
  }
  w[k] = '\0';
  if (k == 0) return na64_err_set(err, NA64_EFORMAT, "%s:%d: unexpected end of the partial-result file", c->name, c->line);
  return NA64_OK;
}

static int expect(cursor *c, const char *key, na64_err *err)
{
  char w[64];
  NA64_CALL(word(c, w, sizeof w, err));
  if (strcmp(w, key) != 0)
    return na64_err_set(err, NA64_EFORMAT, "%s:%d: expected '%s', found '%s'", c->name, c->line, key, w);
  return NA64_OK;
}

static int integer(cursor *c, int is_signed, int base, void *out, na64_err *err)
{
  char w[64], *end = NULL;
  NA64_CALL(word(c, w, sizeof w, err));
  errno = 0;
  if (is_signed) *(int64_t *)out = strtoll(w, &end, base);
  else if (w[0] == '-') end = w;
  else *(uint64_t *)out = strtoull(w, &end, base);
  if (errno || !end || *end)
    return na64_err_set(err, NA64_EFORMAT, "%s:%d: '%s' is not an integer", c->name, c->line, w);
  return NA64_OK;
}

static int u64(cursor *c, uint64_t *v, na64_err *err) { return integer(c, 0, 10, v, err); }

/* "<n>\n" then n raw bytes (malloc'ed into *out unless out is NULL and n fits dst). */
static int bytes(cursor *c, char **out, char *dst, size_t dst_size, size_t *nout, na64_err *err)
{
  uint64_t n = 0;
  NA64_CALL(u64(c, &n, err));
  if (c->pos >= c->len || c->s[c->pos] != '\n' || n > c->len - c->pos - 1)
    return na64_err_set(err, NA64_EFORMAT, "%s:%d: %llu bytes announced, the file is shorter", c->name, c->line,
                        (unsigned long long)n);
  c->pos++;
  c->line++;
  const char *src = c->s + c->pos;
  if (out) {
    *out = malloc((size_t)n + 1);
    if (!*out) return na64_err_set(err, NA64_ENOMEM, "%s: out of memory", c->name);
    memcpy(*out, src, (size_t)n);
    (*out)[n] = '\0';
  } else {
    if (n >= dst_size) return na64_err_set(err, NA64_EFORMAT, "%s:%d: name of %llu bytes too long", c->name, c->line,
                                           (unsigned long long)n);
    memcpy(dst, src, (size_t)n);
    dst[n] = '\0';
  }
  for (uint64_t i = 0; i < n; ++i)
    if (src[i] == '\n') c->line++;
  c->pos += (size_t)n;
  if (nout) *nout = (size_t)n;
  return NA64_OK;
}

static int get_xsum(cursor *c, na64_xsum *x, na64_err *err)
{
  na64_xsum_init(x);
  int64_t bad = 0;
  NA64_CALL(integer(c, 1, 10, &bad, err));
  x->bad = bad != 0;
  for (int i = 0; i < NA64_XSUM_LIMBS; ++i) {
    int64_t v = 0;
    NA64_CALL(integer(c, 1, 10, &v, err));
    /* normalised limbs only: anything else would let later additions overflow */
    if (i < NA64_XSUM_LIMBS - 1 && (v < 0 || v > (int64_t)UINT32_MAX))
      return na64_err_set(err, NA64_EFORMAT, "%s:%d: limb %d = %lld outside [0, 2^32)", c->name, c->line, i, (long long)v);
    x->limb[i] = v;
  }
  return NA64_OK;
}

static int get_cutflow(cursor *c, na64_cutflow *f, na64_err *err)
{
  for (int i = 0; i < NA64_CUTFLOW_ROWS; ++i) NA64_CALL(u64(c, &f->events[i], err));
  for (int i = 0; i < NA64_CUTFLOW_ROWS; ++i) NA64_CALL(get_xsum(c, &f->weighted[i], err));
  for (int i = 0; i < NA64_CUTFLOW_ROWS; ++i) NA64_CALL(get_xsum(c, &f->weighted2[i], err));
  return NA64_OK;
}

static int get_counts(cursor *c, uint64_t *v, size_t n, na64_err *err)
{
  uint64_t k, bin;
  NA64_CALL(u64(c, &k, err));
  if (k > n) return na64_err_set(err, NA64_EFORMAT, "%llu non-empty bins of a histogram of %zu", (unsigned long long)k, n);
  for (uint64_t j = 0; j < k; ++j) {
    NA64_CALL(u64(c, &bin, err));
    if (bin >= n) return na64_err_set(err, NA64_EFORMAT, "histogram bin %llu outside 0..%zu", (unsigned long long)bin, n - 1);
    NA64_CALL(u64(c, &v[bin], err));
  }
  return NA64_OK;
}

static int get_accum(cursor *c, na64_select_accum *a, na64_err *err)
{
  NA64_CALL(get_cutflow(c, &a->all, err));
  NA64_CALL(get_cutflow(c, &a->signal, err));
  NA64_CALL(get_cutflow(c, &a->background, err));
  NA64_CALL(u64(c, &a->sideband_n, err));
  NA64_CALL(get_xsum(c, &a->sideband_w, err));
  NA64_CALL(get_xsum(c, &a->sideband_we, err));
  NA64_CALL(get_xsum(c, &a->sideband_w2, err));
  NA64_CALL(get_counts(c, &a->plane[0][0], (size_t)NA64_PLANE_NY * NA64_PLANE_NX, err));
  return get_counts(c, a->emiss, NA64_EMISS_NBINS, err);
}

/* The fields put_card wrote; *card_text malloc'ed (NULL: built-in defaults). */
typedef struct card_head {
  char *version, *card_name;
  size_t version_size, card_name_size;
  char **card_text;
  size_t *card_len;
  uint64_t *card_hash;
  long *run;
} card_head;

static int get_card(cursor *c, const char *tag, int format, const card_head *h, na64_err *err)
{
  uint64_t v = 0;
  NA64_CALL(expect(c, tag, err));
  NA64_CALL(u64(c, &v, err));
  if (v != (uint64_t)format)
    return na64_err_set(err, NA64_EFORMAT, "%s:%d: format version %llu (this na64 reads %d)", c->name, c->line,
                        (unsigned long long)v, format);
  NA64_CALL(expect(c, "version", err));
  NA64_CALL(word(c, h->version, h->version_size, err));
  NA64_CALL(expect(c, "card_name", err));
  NA64_CALL(bytes(c, NULL, h->card_name, h->card_name_size, NULL, err));
  NA64_CALL(expect(c, "card", err));
  NA64_CALL(bytes(c, h->card_text, NULL, 0, h->card_len, err));
  if (*h->card_len == 0 && !h->card_name[0]) {
    free(*h->card_text);
    *h->card_text = NULL; /* built-in defaults */
  }
  NA64_CALL(expect(c, "card_hash", err));
  NA64_CALL(integer(c, 0, 16, h->card_hash, err));
  if (*h->card_text && na64_fnv1a64(*h->card_text, *h->card_len) != *h->card_hash)
    return na64_err_set(err, NA64_EFORMAT, "%s:%d: the card's bytes do not match its hash (damaged file)", c->name, c->line);
  int64_t run = 0;
  NA64_CALL(expect(c, "run", err));
  NA64_CALL(integer(c, 1, 10, &run, err));
  *h->run = (long)run;
  return NA64_OK;
}

static int get_header(cursor *c, na64_job_partial *p, na64_err *err)
{
  card_head h = {p->version, p->card_name, sizeof p->version, sizeof p->card_name, &p->card_text, &p->card_len,
                 &p->card_hash, &p->run};
  NA64_CALL(get_card(c, FORMAT_TAG, FORMAT_VERSION, &h, err));
  const char *keys[] = {"seed", "events", "signal_events"};
  uint64_t *dst[] = {&p->seed, &p->events, &p->signal_events};
  for (int i = 0; i < 3; ++i) {
    NA64_CALL(expect(c, keys[i], err));
    NA64_CALL(u64(c, dst[i], err));
  }
  NA64_CALL(expect(c, "main_range", err));
  NA64_CALL(u64(c, &p->main_first, err));
  NA64_CALL(u64(c, &p->main_count, err));
  NA64_CALL(expect(c, "signal_range", err));
  NA64_CALL(u64(c, &p->signal_first, err));
  NA64_CALL(u64(c, &p->signal_count, err));
  if (p->main_first > p->events || p->main_count > p->events - p->main_first || p->signal_first > p->signal_events ||
      p->signal_count > p->signal_events - p->signal_first)
    return na64_err_set(err, NA64_EFORMAT, "%s:%d: event ranges outside the samples", c->name, c->line);
  return NA64_OK;
}

static int get_bkg(cursor *c, na64_job_partial *p, na64_err *err)
{
  NA64_CALL(expect(c, "bkg_range", err));
  NA64_CALL(u64(c, &p->bkg_events, err));
  NA64_CALL(u64(c, &p->bkg_first, err));
  NA64_CALL(u64(c, &p->bkg_count, err));
  if (p->bkg_first > p->bkg_events || p->bkg_count > p->bkg_events - p->bkg_first)
    return na64_err_set(err, NA64_EFORMAT, "%s:%d: background-route range outside the samples", c->name, c->line);
  for (int i = 0; i < NA64_SIM_BKG_NSOURCES; ++i) {
    uint64_t k = 0;
    NA64_CALL(expect(c, "bkg", err));
    NA64_CALL(u64(c, &k, err));
    if (k != (uint64_t)i)
      return na64_err_set(err, NA64_EFORMAT, "%s:%d: background route %llu, expected %d", c->name, c->line,
                          (unsigned long long)k, i);
    NA64_CALL(u64(c, &p->bkg[i].passed, err));
    NA64_CALL(get_xsum(c, &p->bkg[i].sum, err));
    NA64_CALL(get_xsum(c, &p->bkg[i].sum2, err));
  }
  return NA64_OK;
}

int na64_job_partial_parse(const char *text, size_t len, const char *name, na64_job_partial *p, na64_err *err)
{
  memset(p, 0, sizeof *p);
  cursor c = {text, name ? name : "(partial)", len, 0, 1};
  NA64_CALL(get_header(&c, p, err));
  uint64_t nmass = 0;
  NA64_CALL(expect(&c, "masses", err));
  NA64_CALL(u64(&c, &nmass, err));
  if (nmass < 1 || nmass > 100000)
    return na64_err_set(err, NA64_EFORMAT, "%s:%d: %llu masses", c.name, c.line, (unsigned long long)nmass);
  p->nmass = (int)nmass;
  p->signal = calloc((size_t)nmass, sizeof *p->signal);
  if (!p->signal) return na64_err_set(err, NA64_ENOMEM, "%s: out of memory", c.name);
  NA64_CALL(expect(&c, "accum", err));
  NA64_CALL(expect(&c, "main", err));
  NA64_CALL(get_accum(&c, &p->main, err));
  for (int i = 0; i < p->nmass; ++i) {
    uint64_t k = 0;
    NA64_CALL(expect(&c, "accum", err));
    NA64_CALL(expect(&c, "signal", err));
    NA64_CALL(u64(&c, &k, err));
    if (k != (uint64_t)i) return na64_err_set(err, NA64_EFORMAT, "%s:%d: signal accumulator %llu, expected %d", c.name, c.line, (unsigned long long)k, i);
    NA64_CALL(get_accum(&c, &p->signal[i], err));
  }
  NA64_CALL(get_bkg(&c, p, err));
  return expect(&c, "end", err);
}

int na64_job_partial_read(const char *path, na64_job_partial *p, na64_err *err)
{
  memset(p, 0, sizeof *p);
  char *text = NULL;
  size_t len = 0;
  NA64_CALL(slurp(path, &text, &len, err));
  int st = na64_job_partial_parse(text, len, path, p, err);
  free(text);
  return st;
}

/* ---- merging ---- */

/* Parts a and b (files na, nb) belong to the same job. */
#define SAME_HEAD(a, b, na, nb, err)                                                                                   \
  same_head((a)->version, (b)->version, (a)->run, (b)->run, (a)->card_name, (b)->card_name, (a)->card_hash,            \
            (b)->card_hash, (a)->card_text == NULL, (b)->card_text == NULL, na, nb, err)

/* The heads of parts a and b (files na, nb): the same version, setup and card. */
static int same_head(const char *va, const char *vb, long ra, long rb, const char *ca, const char *cb, uint64_t ha,
                     uint64_t hb, int da, int db, const char *na, const char *nb, na64_err *err)
{
  if (strcmp(va, vb) != 0)
    return na64_err_set(err, NA64_EINVAL, "%s and %s: written by different na64 versions (%s, %s)", na, nb, va, vb);
  if (ra != rb) return na64_err_set(err, NA64_EINVAL, "%s and %s: different setups (run %ld, run %ld)", na, nb, ra, rb);
  if (ha != hb || da != db)
    return na64_err_set(err, NA64_EINVAL, "%s and %s: different run cards (%s, hash %016llx; %s, hash %016llx)", na, nb,
                        ca[0] ? ca : "defaults", (unsigned long long)ha, cb[0] ? cb : "defaults", (unsigned long long)hb);
  return NA64_OK;
}

static int same_job(const na64_job_partial *a, const na64_job_partial *b, const char *na, const char *nb, na64_err *err)
{
  NA64_CALL(SAME_HEAD(a, b, na, nb, err));
  if (a->seed != b->seed || a->events != b->events || a->signal_events != b->signal_events || a->nmass != b->nmass)
    return na64_err_set(err, NA64_EINVAL, "%s and %s: different seeds or sample sizes (seed %llu/%llu, events %llu/%llu)",
                        na, nb, (unsigned long long)a->seed, (unsigned long long)b->seed, (unsigned long long)a->events,
                        (unsigned long long)b->events);
  return NA64_OK;
}

typedef struct range {
  uint64_t first, count;
  int part;
} range;

static int by_first(const void *x, const void *y)
{
  const range *a = x, *b = y;
  if (a->first != b->first) return a->first < b->first ? -1 : 1;
  return a->count < b->count ? -1 : a->count > b->count;
}

/* The ranges (sorted in place) are disjoint and leave no gap: their union is [*first, *first + *count). */
static int check_ranges(range *r, int n, const char *const *names, const char *what, uint64_t seed, uint64_t *first,
                        uint64_t *count, na64_err *err)
{
  qsort(r, (size_t)n, sizeof *r, by_first);
  uint64_t end = 0;
  int last = -1; /* the part that reaches `end` */
  for (int i = 0; i < n; ++i) {
    if (r[i].count == 0) continue; /* holds no event of this sample */
    if (last >= 0 && r[i].first < end)
      return na64_err_set(err, NA64_EINVAL,
                          "%s and %s overlap: both hold %s events %llu..%llu of seed %llu (a part given twice?)",
                          names[r[last].part], names[r[i].part], what, (unsigned long long)r[i].first,
                          (unsigned long long)((end < r[i].first + r[i].count ? end : r[i].first + r[i].count) - 1),
                          (unsigned long long)seed);
    if (last >= 0 && r[i].first > end)
      return na64_err_set(err, NA64_EINVAL, "%s events %llu..%llu are missing between %s and %s", what,
                          (unsigned long long)end, (unsigned long long)(r[i].first - 1), names[r[last].part],
                          names[r[i].part]);
    if (last < 0) *first = r[i].first;
    end = r[i].first + r[i].count;
    last = i;
  }
  if (last < 0) *first = 0;
  *count = last < 0 ? 0 : end - *first;
  return NA64_OK;
}

/* The background routes' ranges and exact sums of the parts (issue 11). */
static int merge_bkg(const na64_job_partial *parts, const char *const *names, int n, range *r, na64_job_partial *out,
                     na64_err *err)
{
  for (int i = 1; i < n; ++i)
    if (parts[i].bkg_events != parts[0].bkg_events)
      return na64_err_set(err, NA64_EINVAL, "%s and %s: different background-route samples (%llu, %llu events)",
                          names[0], names[i], (unsigned long long)parts[0].bkg_events,
                          (unsigned long long)parts[i].bkg_events);
  for (int i = 0; i < n; ++i) r[i] = (range){parts[i].bkg_first, parts[i].bkg_count, i};
  NA64_CALL(check_ranges(r, n, names, "background-route", out->seed + 2000003u, &out->bkg_first, &out->bkg_count, err));
  for (int k = 0; k < NA64_SIM_BKG_NSOURCES; ++k) {
    out->bkg[k].passed = 0;
    na64_xsum_init(&out->bkg[k].sum);
    na64_xsum_init(&out->bkg[k].sum2);
    for (int i = 0; i < n; ++i) {
      out->bkg[k].passed += parts[i].bkg[k].passed;
      na64_xsum_merge(&out->bkg[k].sum, &parts[i].bkg[k].sum);
      na64_xsum_merge(&out->bkg[k].sum2, &parts[i].bkg[k].sum2);
    }
  }
  return NA64_OK;
}

int na64_job_partial_merge(const na64_job_partial *parts, const char *const *names, int n, na64_job_partial *out,
                           na64_err *err)
{
  memset(out, 0, sizeof *out);
  if (!parts || !names || n < 1) return na64_err_set(err, NA64_EINVAL, "na64_job_partial_merge: no parts");
  for (int i = 1; i < n; ++i) NA64_CALL(same_job(&parts[0], &parts[i], names[0], names[i], err));
  range *r = malloc((size_t)n * sizeof *r);
  if (!r) return na64_err_set(err, NA64_ENOMEM, "merge: out of memory");
  *out = parts[0];
  out->card_text = NULL;
  out->signal = NULL;
  for (int i = 0; i < n; ++i) r[i] = (range){parts[i].main_first, parts[i].main_count, i};
  int st = check_ranges(r, n, names, "main-sample", out->seed, &out->main_first, &out->main_count, err);
  for (int i = 0; i < n; ++i) r[i] = (range){parts[i].signal_first, parts[i].signal_count, i};
  if (st == NA64_OK)
    st = check_ranges(r, n, names, "signal-sample", out->seed + 1000003u, &out->signal_first, &out->signal_count, err);
  if (st == NA64_OK) st = merge_bkg(parts, names, n, r, out, err);
  free(r);
  if (st) return st;
  if (parts[0].card_text) {
    out->card_text = malloc(parts[0].card_len + 1);
    if (!out->card_text) return na64_err_set(err, NA64_ENOMEM, "merge: out of memory");
    memcpy(out->card_text, parts[0].card_text, parts[0].card_len + 1);
  }
  out->signal = calloc((size_t)out->nmass, sizeof *out->signal);
  if (!out->signal) return na64_err_set(err, NA64_ENOMEM, "merge: out of memory");
  na64_select_accum_init(&out->main);
  for (int k = 0; k < out->nmass; ++k) na64_select_accum_init(&out->signal[k]);
  /* exact sums: the order of the parts does not matter */
  for (int i = 0; i < n; ++i) {
    na64_select_accum_merge(&out->main, &parts[i].main);
    for (int k = 0; k < out->nmass; ++k) na64_select_accum_merge(&out->signal[k], &parts[i].signal[k]);
  }
  return NA64_OK;
}

/* ---- one accumulator alone (the reduction of `mpirun na64 select`, src/cli/cmd_select.c) ---- */

int na64_select_accum_format(const na64_select_accum *a, char **text, size_t *len, na64_err *err)
{
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  if (!f) return na64_err_set(err, NA64_ENOMEM, "accumulator: out of memory");
  fputs("accum\n", f);
  put_accum(f, a);
  fputs("end\n", f);
  if (fclose(f) != 0 || !buf) {
    free(buf);
    return na64_err_set(err, NA64_ENOMEM, "accumulator: out of memory");
  }
  *text = buf;
  *len = n;
  return NA64_OK;
}

int na64_select_accum_parse(const char *text, size_t len, const char *name, na64_select_accum *a, na64_err *err)
{
  na64_select_accum_init(a);
  cursor c = {text, name ? name : "(accumulator)", len, 0, 1};
  NA64_CALL(expect(&c, "accum", err));
  NA64_CALL(get_accum(&c, a, err));
  return expect(&c, "end", err);
}

/* A double written with %a (or any form strtod reads); finite only if `finite`. */
static int real(cursor *c, double *v, int finite, na64_err *err)
{
  char w[64], *end = NULL;
  NA64_CALL(word(c, w, sizeof w, err));
  errno = 0;
  *v = strtod(w, &end);
  if ((errno && errno != ERANGE) || !end || *end || (finite && !isfinite(*v)))
    return na64_err_set(err, NA64_EFORMAT, "%s:%d: '%s' is not a%s number", c->name, c->line, w, finite ? " finite" : "");
  return NA64_OK;
}

/* ---- one rank's share of `mpirun na64 select` (src/cli/cmd_select.c) ---- */

int na64_select_share_format(const na64_select_share *s, char **text, size_t *len, na64_err *err)
{
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  if (!f) return na64_err_set(err, NA64_ENOMEM, "selection share: out of memory");
  fputs("accum\n", f);
  put_accum(f, &s->a);
  fprintf(f, "end\ninfo %d %llu %llu %llu %llu %d\n", s->info.nfiles, (unsigned long long)s->info.rows,
          (unsigned long long)s->info.signal_rows, (unsigned long long)s->info.simulated_rows,
          (unsigned long long)s->info.untriggered, s->nwhole);
  for (int i = 0; i < s->nwhole; ++i) fprintf(f, "file %d %d %a\n", s->whole_idx[i], s->whole_has[i], s->whole_eot[i]);
  fputs("end\n", f);
  if (fclose(f) != 0 || !buf) {
    free(buf);
    return na64_err_set(err, NA64_ENOMEM, "selection share: out of memory");
  }
  *text = buf;
  *len = n;
  return NA64_OK;
}

void na64_select_share_release(na64_select_share *s)
{
  if (!s) return;
  free(s->whole_idx);
  free(s->whole_has);
  free(s->whole_eot);
  s->whole_idx = s->whole_has = NULL;
  s->whole_eot = NULL;
  s->nwhole = 0;
}

/* A non-negative int below `limit` (what names it in the message). */
static int small(cursor *c, int limit, const char *what, int *v, na64_err *err)
{
  uint64_t u = 0;
  NA64_CALL(u64(c, &u, err));
  if (u >= (uint64_t)limit)
    return na64_err_set(err, NA64_EFORMAT, "%s:%d: %s %llu (at most %d)", c->name, c->line, what, (unsigned long long)u,
                        limit - 1);
  *v = (int)u;
  return NA64_OK;
}

static int get_share_files(cursor *c, int nfiles, na64_select_share *s, na64_err *err)
{
  s->whole_idx = calloc((size_t)s->nwhole + 1, sizeof *s->whole_idx);
  s->whole_has = calloc((size_t)s->nwhole + 1, sizeof *s->whole_has);
  s->whole_eot = calloc((size_t)s->nwhole + 1, sizeof *s->whole_eot);
  if (!s->whole_idx || !s->whole_has || !s->whole_eot) return na64_err_set(err, NA64_ENOMEM, "%s: out of memory", c->name);
  for (int i = 0; i < s->nwhole; ++i) {
    NA64_CALL(expect(c, "file", err));
    NA64_CALL(small(c, nfiles, "file index", &s->whole_idx[i], err));
    NA64_CALL(small(c, 2, "EOT flag", &s->whole_has[i], err));
    NA64_CALL(real(c, &s->whole_eot[i], 0, err)); /* as the file records it */
  }
  return expect(c, "end", err);
}

int na64_select_share_parse(const char *text, size_t len, const char *name, int nfiles, na64_select_share *s,
                            na64_err *err)
{
  memset(s, 0, sizeof *s);
  na64_select_accum_init(&s->a);
  cursor c = {text, name ? name : "(selection share)", len, 0, 1};
  NA64_CALL(expect(&c, "accum", err));
  NA64_CALL(get_accum(&c, &s->a, err));
  NA64_CALL(expect(&c, "end", err));
  NA64_CALL(expect(&c, "info", err));
  NA64_CALL(small(&c, nfiles + 1, "files", &s->info.nfiles, err));
  uint64_t *v[] = {&s->info.rows, &s->info.signal_rows, &s->info.simulated_rows, &s->info.untriggered};
  for (int i = 0; i < 4; ++i) NA64_CALL(u64(&c, v[i], err));
  NA64_CALL(small(&c, nfiles + 1, "whole files", &s->nwhole, err));
  return get_share_files(&c, nfiles, s, err);
}

/* ---- the visible job's parts (issue 15; src/ana/vis_job.c) ----
 * "na64-vis-partial 1", the card head of put_card, "eot" as a hexadecimal double (exact), "samples S",
 * then per sample "sample s seed size eps first count" (eps hexadecimal) and its cut flow's
 * NA64_VIS_NCUTS + 1 counts, then "end". */
#define VIS_TAG "na64-vis-partial"
#define VIS_VERSION 1
#define VIS_MAX_SAMPLES 300002 /* 2 + 3 x 1e5 masses, the bound of the main job's file */

void na64_vis_partial_release(na64_vis_partial *p)
{
  if (!p) return;
  free(p->card_text);
  free(p->sample);
  p->card_text = NULL;
  p->sample = NULL;
  p->nsample = 0;
}

int na64_vis_partial_set_card(na64_vis_partial *p, const char *card_path, na64_err *err)
{
  na64_job_partial j;
  memset(&j, 0, sizeof j);
  int st = na64_job_partial_set_card(&j, card_path, err);
  memcpy(p->version, j.version, sizeof p->version);
  memcpy(p->card_name, j.card_name, sizeof p->card_name);
  p->card_text = j.card_text; /* ownership moves to p */
  p->card_len = j.card_len;
  p->card_hash = j.card_hash;
  return st;
}

int na64_vis_partial_format(const na64_vis_partial *p, char **text, size_t *len, na64_err *err)
{
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  if (!f) return na64_err_set(err, NA64_ENOMEM, "visible partial: out of memory");
  put_card(f, VIS_TAG, VIS_VERSION, p->version, p->card_name, p->card_text, p->card_len, p->card_hash, p->run);
  fprintf(f, "eot %a\nsamples %d\n", p->eot, p->nsample);
  for (int s = 0; s < p->nsample; ++s) {
    const na64_vis_sample_part *q = &p->sample[s];
    fprintf(f, "sample %d %llu %llu %a %llu %llu\n", s, (unsigned long long)q->seed, (unsigned long long)q->size, q->eps,
            (unsigned long long)q->first, (unsigned long long)q->count);
    for (int i = 0; i <= NA64_VIS_NCUTS; ++i) fprintf(f, "%s%llu", i ? " " : "", (unsigned long long)q->flow.events[i]);
    fputc('\n', f);
  }
  fputs("end\n", f);
  if (fclose(f) != 0 || !buf) {
    free(buf);
    return na64_err_set(err, NA64_ENOMEM, "visible partial: out of memory");
  }
  *text = buf;
  *len = n;
  return NA64_OK;
}

int na64_vis_partial_write(const na64_vis_partial *p, const char *path, na64_err *err)
{
  char *text = NULL;
  size_t len = 0;
  NA64_CALL(na64_vis_partial_format(p, &text, &len, err));
  int st = na64_outfile_write_all(path, 0, text, len, err);
  free(text);
  return st;
}

static int get_sample(cursor *c, int s, na64_vis_sample_part *q, na64_err *err)
{
  uint64_t k = 0;
  NA64_CALL(expect(c, "sample", err));
  NA64_CALL(u64(c, &k, err));
  if (k != (uint64_t)s)
    return na64_err_set(err, NA64_EFORMAT, "%s:%d: sample %llu, expected %d", c->name, c->line, (unsigned long long)k, s);
  NA64_CALL(u64(c, &q->seed, err));
  NA64_CALL(u64(c, &q->size, err));
  NA64_CALL(real(c, &q->eps, 1, err));
  NA64_CALL(u64(c, &q->first, err));
  NA64_CALL(u64(c, &q->count, err));
  if (q->first > q->size || q->count > q->size - q->first)
    return na64_err_set(err, NA64_EFORMAT, "%s:%d: event range outside sample %d", c->name, c->line, s);
  for (int i = 0; i <= NA64_VIS_NCUTS; ++i) NA64_CALL(u64(c, &q->flow.events[i], err));
  if (q->flow.events[0] != q->count)
    return na64_err_set(err, NA64_EFORMAT, "%s:%d: sample %d holds %llu events but its cut flow counts %llu", c->name,
                        c->line, s, (unsigned long long)q->count, (unsigned long long)q->flow.events[0]);
  return NA64_OK;
}

int na64_vis_partial_parse(const char *text, size_t len, const char *name, na64_vis_partial *p, na64_err *err)
{
  memset(p, 0, sizeof *p);
  cursor c = {text, name ? name : "(visible partial)", len, 0, 1};
  card_head h = {p->version, p->card_name, sizeof p->version, sizeof p->card_name, &p->card_text, &p->card_len,
                 &p->card_hash, &p->run};
  NA64_CALL(get_card(&c, VIS_TAG, VIS_VERSION, &h, err));
  uint64_t ns = 0;
  NA64_CALL(expect(&c, "eot", err));
  NA64_CALL(real(&c, &p->eot, 1, err));
  NA64_CALL(expect(&c, "samples", err));
  NA64_CALL(u64(&c, &ns, err));
  if (ns < 2 || ns > VIS_MAX_SAMPLES || (ns - 2) % NA64_VIS_EFF_POINTS)
    return na64_err_set(err, NA64_EFORMAT, "%s:%d: %llu samples (2 + %d per mass)", c.name, c.line,
                        (unsigned long long)ns, NA64_VIS_EFF_POINTS);
  p->sample = calloc((size_t)ns, sizeof *p->sample);
  if (!p->sample) return na64_err_set(err, NA64_ENOMEM, "%s: out of memory", c.name);
  p->nsample = (int)ns;
  for (int s = 0; s < p->nsample; ++s) NA64_CALL(get_sample(&c, s, &p->sample[s], err));
  return expect(&c, "end", err);
}

int na64_vis_partial_read(const char *path, na64_vis_partial *p, na64_err *err)
{
  memset(p, 0, sizeof *p);
  char *text = NULL;
  size_t len = 0;
  NA64_CALL(slurp(path, &text, &len, err));
  int st = na64_vis_partial_parse(text, len, path, p, err);
  free(text);
  return st;
}

int na64_partial_file_is_visible(const char *path)
{
  char head[sizeof VIS_TAG] = {0};
  FILE *f = path ? fopen(path, "rb") : NULL;
  if (!f) return 0;
  size_t n = fread(head, 1, sizeof head - 1, f);
  fclose(f);
  return n == sizeof head - 1 && memcmp(head, VIS_TAG, n) == 0;
}

/* Parts a and b (files na, nb) of the same visible job: head, EOT and the samples' definitions. */
static int same_vis_job(const na64_vis_partial *a, const na64_vis_partial *b, const char *na, const char *nb, na64_err *err)
{
  NA64_CALL(SAME_HEAD(a, b, na, nb, err));
  if (memcmp(&a->eot, &b->eot, sizeof a->eot) != 0)
    return na64_err_set(err, NA64_EINVAL, "%s and %s: run for different EOT (%.17g, %.17g: --eot sets the couplings of "
                        "the efficiency samples)", na, nb, a->eot, b->eot);
  if (a->nsample != b->nsample)
    return na64_err_set(err, NA64_EINVAL, "%s and %s: different numbers of samples (%d, %d)", na, nb, a->nsample, b->nsample);
  for (int s = 0; s < a->nsample; ++s) {
    const na64_vis_sample_part *x = &a->sample[s], *y = &b->sample[s];
    if (x->seed != y->seed || x->size != y->size || memcmp(&x->eps, &y->eps, sizeof x->eps) != 0)
      return na64_err_set(err, NA64_EINVAL, "%s and %s: sample %d differs (seed %llu/%llu, events %llu/%llu, eps %.17g/%.17g)",
                          na, nb, s, (unsigned long long)x->seed, (unsigned long long)y->seed,
                          (unsigned long long)x->size, (unsigned long long)y->size, x->eps, y->eps);
  }
  return NA64_OK;
}

static const char *vis_sample_what(int s)
{
  return s == 0 ? "beam-electron" : s == 1 ? "signal-sample" : "efficiency-sample";
}

int na64_vis_partial_merge(const na64_vis_partial *parts, const char *const *names, int n, na64_vis_partial *out,
                           na64_err *err)
{
  memset(out, 0, sizeof *out);
  if (!parts || !names || n < 1) return na64_err_set(err, NA64_EINVAL, "na64_vis_partial_merge: no parts");
  for (int i = 1; i < n; ++i) NA64_CALL(same_vis_job(&parts[0], &parts[i], names[0], names[i], err));
  range *r = malloc((size_t)n * sizeof *r);
  na64_vis_sample_part *smp = calloc((size_t)parts[0].nsample, sizeof *smp);
  char *card = malloc(parts[0].card_len + 1);
  int st = r && smp && card ? NA64_OK : na64_err_set(err, NA64_ENOMEM, "merge: out of memory");
  for (int s = 0; s < parts[0].nsample && st == NA64_OK; ++s) {
    smp[s] = parts[0].sample[s];
    for (int i = 0; i < n; ++i) r[i] = (range){parts[i].sample[s].first, parts[i].sample[s].count, i};
    st = check_ranges(r, n, names, vis_sample_what(s), smp[s].seed, &smp[s].first, &smp[s].count, err);
    memset(&smp[s].flow, 0, sizeof smp[s].flow);
    for (int i = 0; i < n; ++i) /* integer counts: any order gives the same sums */
      for (int k = 0; k <= NA64_VIS_NCUTS; ++k) smp[s].flow.events[k] += parts[i].sample[s].flow.events[k];
  }
  free(r);
  if (st != NA64_OK) {
    free(smp);
    free(card);
    return st;
  }
  *out = parts[0];
  if (parts[0].card_text) memcpy(card, parts[0].card_text, parts[0].card_len + 1);
  else {
    free(card);
    card = NULL;
  }
  out->card_text = card;
  out->sample = smp;
  return NA64_OK;
}
