/* Fixed-binning histograms with ROOT's TH1D/TH2D semantics and their TBufferJSON form.
 * Sources: ROOT's TH1.h/TH2.h/TAxis.h (data members and their order, which TBufferJSON follows when
 * it streams an object member by member), TAxis::FindBin (x < xmin underflow, !(x < xmax) overflow,
 * so NaN overflows), TH1::Fill (fEntries counts every fill, the fTsum* statistics only fills inside
 * the axis ranges while fgStatOverflows is false, the default), TH1::GetBin (cell = ix + (nx+2) iy).
 * Defaults of the graphical attributes are those of TAttLine/TAttFill/TAttMarker/TAttAxis as a
 * TH1D created with gStyle's defaults writes them (fLineColor 602, fFillStyle 1001, axes 510 divs). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/io.h"

#define HIST_MAX_BINS 1000000
#define HIST_NAME_LEN 64
#define HIST_TITLE_LEN 256

typedef struct hist_axis {
  int n;
  double lo, hi;
  char title[HIST_TITLE_LEN];
} hist_axis;

struct na64_hist {
  int dim;
  char name[HIST_NAME_LEN];
  char title[HIST_TITLE_LEN];
  hist_axis ax[2];
  int ncells;
  double *w, *w2; /* [ncells] sum of weights and of squared weights */
  double entries;
  double s[7];    /* sumw, sumw2, sumwx, sumwx2, sumwy, sumwy2, sumwxy */
};

static int check_name(const char *name, na64_err *err)
{
  if (!name || !*name || strlen(name) >= HIST_NAME_LEN)
    return na64_err_set(err, NA64_EINVAL, "histogram name must have 1..%d characters", HIST_NAME_LEN - 1);
  for (const char *p = name; *p; ++p)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
          *p == '.'))
      return na64_err_set(err, NA64_EINVAL, "histogram name '%s': character '%c' not in [A-Za-z0-9_.-]", name, *p);
  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
    return na64_err_set(err, NA64_EINVAL, "histogram name '%s' is reserved", name);
  return 0;
}

static int check_axis(const char *name, const char *which, int n, double lo, double hi, na64_err *err)
{
  if (n < 1 || n > HIST_MAX_BINS)
    return na64_err_set(err, NA64_EINVAL, "histogram '%s': %s bins %d not in 1..%d", name, which, n, HIST_MAX_BINS);
  if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
    return na64_err_set(err, NA64_EINVAL, "histogram '%s': %s range [%g, %g] not finite and increasing", name, which, lo,
                        hi);
  return 0;
}

static int hist_alloc(int dim, const char *name, const char *title, const hist_axis ax[2], na64_hist **out,
                      na64_err *err)
{
  *out = NULL;
  na64_hist *h = calloc(1, sizeof *h);
  if (!h) return na64_err_set(err, NA64_ENOMEM, "histogram '%s': out of memory", name);
  h->dim = dim;
  snprintf(h->name, sizeof h->name, "%s", name);
  snprintf(h->title, sizeof h->title, "%s", title ? title : "");
  h->ax[0] = ax[0];
  h->ax[1] = ax[1];
  long long nc = (long long)(ax[0].n + 2) * (dim == 2 ? ax[1].n + 2 : 1);
  if (nc > 4LL * HIST_MAX_BINS) {
    free(h);
    return na64_err_set(err, NA64_EINVAL, "histogram '%s': %lld cells exceed %d", name, nc, 4 * HIST_MAX_BINS);
  }
  h->ncells = (int)nc;
  h->w = calloc((size_t)nc, sizeof *h->w);
  h->w2 = calloc((size_t)nc, sizeof *h->w2);
  if (!h->w || !h->w2) {
    na64_hist_free(h);
    return na64_err_set(err, NA64_ENOMEM, "histogram '%s': out of memory for %lld cells", name, nc);
  }
  *out = h;
  return 0;
}

int na64_hist_new_1d(const char *name, const char *title, int nx, double xmin, double xmax, na64_hist **out,
                     na64_err *err)
{
  if (!out) return na64_err_set(err, NA64_EINVAL, "na64_hist_new_1d: out is NULL");
  *out = NULL;
  int st = check_name(name, err);
  if (st == 0) st = check_axis(name, "x", nx, xmin, xmax, err);
  if (st) return st;
  hist_axis ax[2] = {{nx, xmin, xmax, ""}, {1, 0.0, 1.0, ""}}; /* TH1 sets fYaxis to 1 bin on [0, 1] */
  return hist_alloc(1, name, title, ax, out, err);
}

int na64_hist_new_2d(const char *name, const char *title, int nx, double xmin, double xmax, int ny, double ymin,
                     double ymax, na64_hist **out, na64_err *err)
{
  if (!out) return na64_err_set(err, NA64_EINVAL, "na64_hist_new_2d: out is NULL");
  *out = NULL;
  int st = check_name(name, err);
  if (st == 0) st = check_axis(name, "x", nx, xmin, xmax, err);
  if (st == 0) st = check_axis(name, "y", ny, ymin, ymax, err);
  if (st) return st;
  hist_axis ax[2] = {{nx, xmin, xmax, ""}, {ny, ymin, ymax, ""}};
  return hist_alloc(2, name, title, ax, out, err);
}

void na64_hist_free(na64_hist *h)
{
  if (!h) return;
  free(h->w);
  free(h->w2);
  free(h);
}

/* TAxis::FindFixBin for fixed bins: 0 underflow, n + 1 overflow (and NaN). */
static int find_bin(const hist_axis *a, double x)
{
  if (x < a->lo) return 0;
  if (!(x < a->hi)) return a->n + 1;
  int b = 1 + (int)((double)a->n * (x - a->lo) / (a->hi - a->lo));
  return b > a->n ? a->n : b; /* rounding at the upper edge */
}

void na64_hist_fill(na64_hist *h, double x, double w)
{
  if (h && h->dim == 2) {
    na64_hist_fill2(h, x, 0.0, w);
    return;
  }
  if (!h || !isfinite(w)) return;
  int b = find_bin(&h->ax[0], x);
  h->w[b] += w;
  h->w2[b] += w * w;
  h->entries += 1.0;
  if (b == 0 || b == h->ax[0].n + 1) return;
  h->s[0] += w;
  h->s[1] += w * w;
  h->s[2] += w * x;
  h->s[3] += w * x * x;
}

void na64_hist_fill2(na64_hist *h, double x, double y, double w)
{
  if (!h || !isfinite(w)) return;
  if (h->dim == 1) {
    na64_hist_fill(h, x, w);
    return;
  }
  int bx = find_bin(&h->ax[0], x), by = find_bin(&h->ax[1], y);
  int c = bx + (h->ax[0].n + 2) * by;
  h->w[c] += w;
  h->w2[c] += w * w;
  h->entries += 1.0;
  if (bx == 0 || bx == h->ax[0].n + 1 || by == 0 || by == h->ax[1].n + 1) return;
  h->s[0] += w;
  h->s[1] += w * w;
  h->s[2] += w * x;
  h->s[3] += w * x * x;
  h->s[4] += w * y;
  h->s[5] += w * y * y;
  h->s[6] += w * x * y;
}

static int same_binning(const na64_hist *a, const na64_hist *b, const char *what, na64_err *err)
{
  if (!a || !b) return na64_err_set(err, NA64_EINVAL, "%s: NULL histogram", what);
  for (int i = 0; i < 2; ++i)
    if (a->dim != b->dim || a->ax[i].n != b->ax[i].n || a->ax[i].lo != b->ax[i].lo || a->ax[i].hi != b->ax[i].hi)
      return na64_err_set(err, NA64_EINVAL, "%s: histograms '%s' and '%s' differ in dimension or binning", what,
                          a->name, b->name);
  return 0;
}

int na64_hist_merge(na64_hist *dst, const na64_hist *src, na64_err *err)
{
  int st = same_binning(dst, src, "na64_hist_merge", err);
  if (st) return st;
  for (int i = 0; i < dst->ncells; ++i) {
    dst->w[i] += src->w[i];
    dst->w2[i] += src->w2[i];
  }
  for (int i = 0; i < 7; ++i) dst->s[i] += src->s[i];
  dst->entries += src->entries;
  return 0;
}

/* dst -= src: exact for a later and an earlier state of one filled histogram (a window of the fills
 * between them: every sum is a sum over fills, so the difference is the sum over the fills between). */
int na64_hist_subtract(na64_hist *dst, const na64_hist *src, na64_err *err)
{
  int st = same_binning(dst, src, "na64_hist_subtract", err);
  if (st) return st;
  for (int i = 0; i < dst->ncells; ++i) {
    dst->w[i] -= src->w[i];
    dst->w2[i] -= src->w2[i];
  }
  for (int i = 0; i < 7; ++i) dst->s[i] -= src->s[i];
  dst->entries -= src->entries;
  return 0;
}

int na64_hist_copy(na64_hist *dst, const na64_hist *src, na64_err *err)
{
  int st = same_binning(dst, src, "na64_hist_copy", err);
  if (st) return st;
  memcpy(dst->w, src->w, (size_t)src->ncells * sizeof *src->w);
  memcpy(dst->w2, src->w2, (size_t)src->ncells * sizeof *src->w2);
  memcpy(dst->s, src->s, sizeof dst->s);
  dst->entries = src->entries;
  memcpy(dst->title, src->title, sizeof dst->title);
  dst->ax[0] = src->ax[0];
  dst->ax[1] = src->ax[1];
  return 0;
}

int na64_hist_clone(const na64_hist *src, na64_hist **out, na64_err *err)
{
  if (!src || !out) return na64_err_set(err, NA64_EINVAL, "na64_hist_clone: NULL argument");
  int st = hist_alloc(src->dim, src->name, src->title, src->ax, out, err);
  if (st == 0) st = na64_hist_copy(*out, src, err);
  return st;
}

void na64_hist_reset(na64_hist *h)
{
  if (!h) return;
  memset(h->w, 0, (size_t)h->ncells * sizeof *h->w);
  memset(h->w2, 0, (size_t)h->ncells * sizeof *h->w2);
  memset(h->s, 0, sizeof h->s);
  h->entries = 0;
}

int na64_hist_set_axis_titles(na64_hist *h, const char *xtitle, const char *ytitle, na64_err *err)
{
  if (!h) return na64_err_set(err, NA64_EINVAL, "na64_hist_set_axis_titles: NULL histogram");
  snprintf(h->ax[0].title, sizeof h->ax[0].title, "%s", xtitle ? xtitle : "");
  snprintf(h->ax[1].title, sizeof h->ax[1].title, "%s", ytitle ? ytitle : "");
  return 0;
}

int na64_hist_dim(const na64_hist *h) { return h ? h->dim : 0; }
const char *na64_hist_name(const na64_hist *h) { return h ? h->name : ""; }
int na64_hist_nbins(const na64_hist *h, int axis) { return h && axis >= 0 && axis < 2 ? h->ax[axis].n : 0; }
int na64_hist_ncells(const na64_hist *h) { return h ? h->ncells : 0; }
double na64_hist_cell(const na64_hist *h, int c) { return h && c >= 0 && c < h->ncells ? h->w[c] : NAN; }
double na64_hist_cell_sumw2(const na64_hist *h, int c) { return h && c >= 0 && c < h->ncells ? h->w2[c] : NAN; }
double na64_hist_entries(const na64_hist *h) { return h ? h->entries : NAN; }

void na64_hist_stats(const na64_hist *h, double stats[7])
{
  for (int i = 0; i < 7; ++i) stats[i] = h ? h->s[i] : NAN;
}

/* ------------------------------------------------------------------ JSON */

/* A number as JSON: shortest round-trip-safe form in the C locale; non-finite values (which JSON
 * cannot hold) as null. */
static void put_num(FILE *f, double v)
{
  char buf[40];
  if (!isfinite(v)) {
    fputs("null", f);
    return;
  }
  na64_num_format(buf, sizeof buf, "%.17g", v);
  fputs(buf, f);
}

static void put_str(FILE *f, const char *s)
{
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; ++p) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p < 0x20)
      fprintf(f, "\\u%04x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

static void put_key_num(FILE *f, const char *key, double v)
{
  fprintf(f, ",\"%s\":", key);
  put_num(f, v);
}

static void put_array(FILE *f, const double *a, int n)
{
  fputc('[', f);
  for (int i = 0; i < n; ++i) {
    if (i) fputc(',', f);
    put_num(f, a[i]);
  }
  fputc(']', f);
}

/* A TAxis: TNamed, TAttAxis, then its own members (TAxis.h order). */
static void put_axis(FILE *f, const char *name, const hist_axis *a)
{
  fputs("{\"_typename\":\"TAxis\",\"fUniqueID\":0,\"fBits\":0,\"fName\":", f);
  put_str(f, name);
  fputs(",\"fTitle\":", f);
  put_str(f, a->title);
  fputs(",\"fNdivisions\":510,\"fAxisColor\":1,\"fLabelColor\":1,\"fLabelFont\":42,\"fLabelOffset\":0.005,"
        "\"fLabelSize\":0.035,\"fTickLength\":0.03,\"fTitleOffset\":1,\"fTitleSize\":0.035,\"fTitleColor\":1,"
        "\"fTitleFont\":42",
        f);
  fprintf(f, ",\"fNbins\":%d", a->n);
  put_key_num(f, "fXmin", a->lo);
  put_key_num(f, "fXmax", a->hi);
  fputs(",\"fXbins\":[],\"fFirst\":0,\"fLast\":0,\"fBits2\":0,\"fTimeDisplay\":false,\"fTimeFormat\":\"\","
        "\"fLabels\":null,\"fModLabs\":null}",
        f);
}

/* TH1D/TH2D: TNamed, TAttLine, TAttFill, TAttMarker, the TH1 members, the TH2 members, TArrayD. */
static void put_hist(FILE *f, const na64_hist *h)
{
  static const hist_axis zaxis = {1, 0.0, 1.0, ""};
  fprintf(f, "{\"_typename\":\"%s\",\"fUniqueID\":0,\"fBits\":8,\"fName\":", h->dim == 2 ? "TH2D" : "TH1D");
  put_str(f, h->name);
  fputs(",\"fTitle\":", f);
  put_str(f, h->title);
  fputs(",\"fLineColor\":602,\"fLineStyle\":1,\"fLineWidth\":1,\"fFillColor\":0,\"fFillStyle\":1001,"
        "\"fMarkerColor\":1,\"fMarkerStyle\":1,\"fMarkerSize\":1",
        f);
  fprintf(f, ",\"fNcells\":%d,\"fXaxis\":", h->ncells);
  put_axis(f, "xaxis", &h->ax[0]);
  fputs(",\"fYaxis\":", f);
  put_axis(f, "yaxis", &h->ax[1]);
  fputs(",\"fZaxis\":", f);
  put_axis(f, "zaxis", &zaxis);
  fputs(",\"fBarOffset\":0,\"fBarWidth\":1000", f);
  put_key_num(f, "fEntries", h->entries);
  put_key_num(f, "fTsumw", h->s[0]);
  put_key_num(f, "fTsumw2", h->s[1]);
  put_key_num(f, "fTsumwx", h->s[2]);
  put_key_num(f, "fTsumwx2", h->s[3]);
  fputs(",\"fMaximum\":-1111,\"fMinimum\":-1111,\"fNormFactor\":0,\"fContour\":[],\"fSumw2\":", f);
  put_array(f, h->w2, h->ncells);
  fputs(",\"fOption\":\"\",\"fFunctions\":{\"_typename\":\"TList\",\"name\":\"TList\",\"arr\":[],\"opt\":[]},"
        "\"fBufferSize\":0,\"fBuffer\":[],\"fBinStatErrOpt\":0,\"fStatOverflows\":2",
        f);
  if (h->dim == 2) {
    put_key_num(f, "fScalefactor", 1.0);
    put_key_num(f, "fTsumwy", h->s[4]);
    put_key_num(f, "fTsumwy2", h->s[5]);
    put_key_num(f, "fTsumwxy", h->s[6]);
  }
  fputs(",\"fArray\":", f);
  put_array(f, h->w, h->ncells);
  fputc('}', f);
}

int na64_hist_to_json(const na64_hist *h, char **json, size_t *len, na64_err *err)
{
  if (!h || !json) return na64_err_set(err, NA64_EINVAL, "na64_hist_to_json: NULL argument");
  *json = NULL;
  size_t n = 0;
  FILE *f = open_memstream(json, &n);
  if (!f) return na64_err_set(err, NA64_ENOMEM, "histogram '%s': cannot open a memory stream for JSON", h->name);
  put_hist(f, h);
  if (fclose(f) != 0 || !*json) {
    free(*json);
    *json = NULL;
    return na64_err_set(err, NA64_ENOMEM, "histogram '%s': out of memory writing JSON", h->name);
  }
  if (len) *len = n;
  return 0;
}

/* ------------------------------------------------------------------ CSV */

static double edge(const hist_axis *a, int b, int upper)
{
  if (b == 0) return upper ? a->lo : -INFINITY;
  if (b == a->n + 1) return upper ? INFINITY : a->hi;
  return a->lo + (a->hi - a->lo) * (double)(b - 1 + upper) / (double)a->n;
}

static void put_csv_num(FILE *f, double v)
{
  char buf[40];
  if (isinf(v))
    snprintf(buf, sizeof buf, "%s", v < 0 ? "-inf" : "inf");
  else
    na64_num_format(buf, sizeof buf, "%.17g", v);
  fputs(buf, f);
}

int na64_hist_write_csv(const na64_hist *h, FILE *out, na64_err *err)
{
  if (!h || !out) return na64_err_set(err, NA64_EINVAL, "na64_hist_write_csv: NULL argument");
  int nx = h->ax[0].n, ny = h->dim == 2 ? h->ax[1].n : -1;
  fputs(h->dim == 2 ? "ix,iy,x_low,x_high,y_low,y_high,content,error\n" : "bin,x_low,x_high,content,error\n", out);
  for (int iy = 0; iy <= ny + 1; ++iy) {
    for (int ix = 0; ix <= nx + 1; ++ix) {
      int c = ix + (nx + 2) * (h->dim == 2 ? iy : 0);
      if (h->dim == 2) fprintf(out, "%d,%d,", ix, iy);
      else fprintf(out, "%d,", ix);
      put_csv_num(out, edge(&h->ax[0], ix, 0));
      fputc(',', out);
      put_csv_num(out, edge(&h->ax[0], ix, 1));
      fputc(',', out);
      if (h->dim == 2) {
        put_csv_num(out, edge(&h->ax[1], iy, 0));
        fputc(',', out);
        put_csv_num(out, edge(&h->ax[1], iy, 1));
        fputc(',', out);
      }
      put_csv_num(out, h->w[c]);
      fputc(',', out);
      put_csv_num(out, sqrt(h->w2[c]));
      fputc('\n', out);
    }
    if (h->dim == 1) break;
  }
  if (ferror(out)) return na64_err_set(err, NA64_EIO, "histogram '%s': CSV write failed", h->name);
  return 0;
}
