/*
 * Plots with PLplot (plplot.org): publication-style line plots with log axes, translucent bands and a
 * legend, written through the cairo drivers (pngcairo, svgcairo, pdfcairo). The figure is kept as
 * data until na64_plot_write so that one plot can be written in several formats.
 */
#include <locale.h>
#include <math.h>
#include <plplot/plplot.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/c_locale.h"
#include "na64/io.h"

#define MAX_ITEMS 32
#define MAX_NOTES 4

typedef struct {
  char label[128];
  int n, colour, style, band;
  double *x, *y, *y2;
} item;

struct na64_plot {
  char title[160], xlabel[96], ylabel[96];
  int logx, logy;
  double xmin, xmax, ymin, ymax;
  int nitems, nnotes;
  item items[MAX_ITEMS];
  char notes[MAX_NOTES][128];
};

/* Okabe & Ito colour-blind-safe palette (Okabe, Ito 2008, "Color Universal Design"), then greys */
static const int palette[][3] = {{0, 0, 0},       {230, 159, 0},   {86, 180, 233}, {0, 158, 115},
                                 {213, 94, 0},     {0, 114, 178},   {204, 121, 167}, {240, 228, 66},
                                 {120, 120, 120}};
enum { NPAL = sizeof palette / sizeof palette[0] };

int na64_plot_new(const char *title, const char *xlabel, const char *ylabel, int logx, int logy, double xmin,
                  double xmax, double ymin, double ymax, na64_plot **out, na64_err *err)
{
  if (!out || !(xmax > xmin) || !(ymax > ymin) || (logx && !(xmin > 0)) || (logy && !(ymin > 0)))
    return na64_err_set(err, NA64_EINVAL, "plot: invalid axis ranges x [%g, %g], y [%g, %g]", xmin, xmax, ymin, ymax);
  na64_plot *p = calloc(1, sizeof *p);
  if (!p) return na64_err_set(err, NA64_ENOMEM, "plot: out of memory");
  snprintf(p->title, sizeof p->title, "%s", title ? title : "");
  snprintf(p->xlabel, sizeof p->xlabel, "%s", xlabel ? xlabel : "");
  snprintf(p->ylabel, sizeof p->ylabel, "%s", ylabel ? ylabel : "");
  p->logx = logx;
  p->logy = logy;
  p->xmin = xmin;
  p->xmax = xmax;
  p->ymin = ymin;
  p->ymax = ymax;
  *out = p;
  return NA64_OK;
}

static double *copy(const double *v, int n)
{
  if (!v) return NULL;
  double *c = malloc((size_t)n * sizeof *c);
  if (c) memcpy(c, v, (size_t)n * sizeof *c);
  return c;
}

static int add_item(na64_plot *p, const char *label, const double *x, const double *y, const double *y2, int n,
                    int colour, int style, int band, na64_err *err)
{
  if (!p || !x || !y || n < 1) return na64_err_set(err, NA64_EINVAL, "plot: empty curve '%s'", label ? label : "");
  if (p->nitems == MAX_ITEMS) return na64_err_set(err, NA64_ERANGE, "plot: more than %d curves", MAX_ITEMS);
  item *it = &p->items[p->nitems];
  memset(it, 0, sizeof *it);
  snprintf(it->label, sizeof it->label, "%s", label ? label : "");
  it->n = n;
  it->colour = ((colour % NPAL) + NPAL) % NPAL;
  it->style = style;
  it->band = band;
  it->x = copy(x, n);
  it->y = copy(y, n);
  it->y2 = copy(y2, n);
  if (!it->x || !it->y || (y2 && !it->y2)) {
    free(it->x);
    free(it->y);
    free(it->y2);
    return na64_err_set(err, NA64_ENOMEM, "plot: out of memory");
  }
  p->nitems++;
  return NA64_OK;
}

int na64_plot_curve(na64_plot *p, const char *label, const double *x, const double *y, int n, int colour, int style,
                    na64_err *err)
{
  return add_item(p, label, x, y, NULL, n, colour, style, 0, err);
}

int na64_plot_band(na64_plot *p, const char *label, const double *x, const double *ylo, const double *yhi, int n,
                   int colour, na64_err *err)
{
  if (!ylo || !yhi) return na64_err_set(err, NA64_EINVAL, "plot: band '%s' needs both edges", label ? label : "");
  return add_item(p, label, x, ylo, yhi, n, colour, 0, 1, err);
}

int na64_plot_note(na64_plot *p, const char *text, na64_err *err)
{
  if (!p || !text) return na64_err_set(err, NA64_EINVAL, "plot: NULL note");
  if (p->nnotes == MAX_NOTES) return na64_err_set(err, NA64_ERANGE, "plot: more than %d notes", MAX_NOTES);
  snprintf(p->notes[p->nnotes++], sizeof p->notes[0], "%s", text);
  return NA64_OK;
}

static const char *driver_for(const char *path)
{
  const char *dot = strrchr(path, '.');
  if (!dot) return NULL;
  if (!strcasecmp(dot, ".png")) return "pngcairo";
  if (!strcasecmp(dot, ".svg")) return "svgcairo";
  if (!strcasecmp(dot, ".pdf")) return "pdfcairo";
  return NULL;
}

static double tx(const na64_plot *p, double x) { return p->logx ? log10(x) : x; }
static double ty(const na64_plot *p, double y) { return p->logy ? log10(y) : y; }
static int usable(const na64_plot *p, double x, double y)
{
  return isfinite(x) && isfinite(y) && (!p->logx || x > 0) && (!p->logy || y > 0);
}

static void set_colour(int c, double alpha)
{
  plscol0a(15, palette[c][0], palette[c][1], palette[c][2], alpha);
  plcol0(15);
}

static void set_style(int style)
{
  static PLINT dash_mark[1] = {1500}, dash_space[1] = {1000}, dot_mark[1] = {300}, dot_space[1] = {700};
  if (style == 1) plstyl(1, dash_mark, dash_space);
  else if (style == 2) plstyl(1, dot_mark, dot_space);
  else plstyl(0, NULL, NULL);
}

/* draw the segments of a curve between NaN/invalid points */
static void draw_curve(const na64_plot *p, const item *it, const double *y)
{
  PLFLT *bx = malloc((size_t)it->n * sizeof *bx), *by = malloc((size_t)it->n * sizeof *by);
  if (!bx || !by) {
    free(bx);
    free(by);
    return;
  }
  int k = 0;
  for (int i = 0; i <= it->n; ++i) {
    if (i < it->n && usable(p, it->x[i], y[i])) {
      bx[k] = tx(p, it->x[i]);
      by[k] = ty(p, y[i]);
      ++k;
      continue;
    }
    if (k > 1) plline(k, bx, by);
    k = 0;
  }
  free(bx);
  free(by);
}

/* fill each contiguous run where both edges exist; the outline closes the polygon with its first
 * point again, so a run covering all n points needs 2n + 1 slots (issue 9, item 1) */
static void draw_band(const na64_plot *p, const item *it)
{
  size_t cap = 2 * (size_t)it->n + 1;
  PLFLT *bx = malloc(cap * sizeof *bx), *by = malloc(cap * sizeof *by);
  if (!bx || !by) {
    free(bx);
    free(by);
    return;
  }
  int start = -1;
  for (int i = 0; i <= it->n; ++i) {
    int ok = i < it->n && usable(p, it->x[i], it->y[i]) && usable(p, it->x[i], it->y2[i]);
    if (ok && start < 0) start = i;
    if (!ok && start >= 0) {
      int k = 0;
      for (int j = start; j < i; ++j) {
        bx[k] = tx(p, it->x[j]);
        by[k++] = ty(p, it->y[j]);
      }
      for (int j = i - 1; j >= start; --j) {
        bx[k] = tx(p, it->x[j]);
        by[k++] = ty(p, it->y2[j]);
      }
      if (k > 2) {
        set_colour(it->colour, 0.35);
        plfill(k, bx, by);
        set_colour(it->colour, 1.0);
        bx[k] = bx[0];
        by[k] = by[0];
        plline(k + 1, bx, by);
      }
      start = -1;
    }
  }
  free(bx);
  free(by);
}

static void draw_legend(const na64_plot *p)
{
  PLINT opt[MAX_ITEMS], tcol[MAX_ITEMS], lcol[MAX_ITEMS], lsty[MAX_ITEMS], bcol[MAX_ITEMS], bpat[MAX_ITEMS];
  PLFLT lw[MAX_ITEMS], bscale[MAX_ITEMS], blw[MAX_ITEMS];
  const char *text[MAX_ITEMS];
  int n = 0;
  for (int i = 0; i < p->nitems; ++i) {
    const item *it = &p->items[i];
    if (!it->label[0]) continue;
    /* colour slots 1..MAX_ITEMS of cmap0 hold the legend colours */
    plscol0a(16 + n, palette[it->colour][0], palette[it->colour][1], palette[it->colour][2], it->band ? 0.35 : 1.0);
    opt[n] = it->band ? PL_LEGEND_COLOR_BOX : PL_LEGEND_LINE;
    tcol[n] = 1;
    lcol[n] = 16 + n;
    lsty[n] = it->style == 1 ? 2 : it->style == 2 ? 3 : 1;
    lw[n] = 2.0;
    bcol[n] = 16 + n;
    bpat[n] = 0;
    bscale[n] = 1.0;
    blw[n] = 1.0;
    text[n] = it->label;
    ++n;
  }
  if (n == 0) return;
  PLFLT w, h;
  plscol0a(15, 255, 255, 255, 0.85);
  pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, PL_POSITION_LEFT | PL_POSITION_TOP, 0.02, 0.02, 0.1,
           15, 1, 1, 0, 0, n, opt, 1.0, 0.75, 1.5, 0.0, tcol, text, bcol, bpat, bscale, blw, lcol, lsty, lw, NULL,
           NULL, NULL, NULL);
}

/* PLplot's cairo drivers do not report write errors (a full disk leaves a truncated file): check
 * that the file is complete by its format's last bytes. PNG ends with the IEND chunk (PNG spec.
 * 11.2.5: length 0, "IEND", CRC ae 42 60 82); PDF with "%%EOF" (ISO 32000-1, 7.5.5) and an optional
 * end of line; SVG with the closing "</svg>" tag and white space. */
static int file_complete(const char *path, const char *dev)
{
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  unsigned char tail[16] = {0};
  long size = 0;
  size_t n = 0;
  if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0) {
    long from = size > (long)sizeof tail ? size - (long)sizeof tail : 0;
    if (fseek(f, from, SEEK_SET) == 0) n = fread(tail, 1, sizeof tail, f);
  }
  fclose(f);
  if (n == 0) return 0;
  while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r' || tail[n - 1] == ' ') && strcmp(dev, "pngcairo")) --n;
  static const unsigned char iend[8] = {'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
  if (!strcmp(dev, "pngcairo")) return n >= 8 && !memcmp(tail + n - 8, iend, 8);
  if (!strcmp(dev, "pdfcairo")) return n >= 5 && !memcmp(tail + n - 5, "%%EOF", 5);
  return n >= 6 && !memcmp(tail + n - 6, "</svg>", 6);
}

static void render(const na64_plot *p, const char *dev, const char *file)
{
  plsstrm(0);
  plsdev(dev);
  plsfnam(file);
  plsetopt("geometry", "1000x750");
  plscmap0n(16 + MAX_ITEMS); /* the default 16 colours plus one legend slot per item */
  plscol0(0, 255, 255, 255); /* white background, black ink */
  plscol0(1, 0, 0, 0);
  plinit();
  plcol0(1);
  plschr(0, 0.9);
  plwidth(1.0);
  PLINT axis = (p->logx ? 10 : 0) + (p->logy ? 20 : 0);
  plenv(tx(p, p->xmin), tx(p, p->xmax), ty(p, p->ymin), ty(p, p->ymax), 0, axis);
  pllab(p->xlabel, p->ylabel, p->title);
  for (int i = 0; i < p->nitems; ++i)
    if (p->items[i].band) draw_band(p, &p->items[i]);
  plwidth(2.0);
  for (int i = 0; i < p->nitems; ++i) {
    const item *it = &p->items[i];
    if (it->band) continue;
    set_colour(it->colour, 1.0);
    set_style(it->style);
    draw_curve(p, it, it->y);
  }
  set_style(0);
  plwidth(1.0);
  plcol0(1);
  draw_legend(p);
  for (int k = 0; k < p->nnotes; ++k) plmtex("b", -1.5 - 1.3 * (p->nnotes - 1 - k), 0.97, 1.0, p->notes[k]);
  plend1();
}

/* The plot goes to a temporary file beside `path` (na64_outfile, BY_NAME: PLplot opens files by
 * name), is checked complete, then renamed over `path`: a failure keeps the old plot. */
int na64_plot_write(const na64_plot *p, const char *path, na64_err *err)
{
  if (!p || !path) return na64_err_set(err, NA64_EINVAL, "plot: NULL argument");
  const char *dev = driver_for(path);
  if (!dev) return na64_err_set(err, NA64_EINVAL, "plot '%s': unknown file type (use .png, .svg or .pdf)", path);
  na64_outfile *out = NULL;
  int st = na64_outfile_open(path, NA64_OUTFILE_BY_NAME, &out, err);
  if (st != NA64_OK) {
    na64_err_prefix(err, "plot");
    return st;
  }
  /* axis labels in the C locale ("0.5", not "0,5") whatever the program's locale; this thread only */
  locale_t old = na64_c_locale_enter();
  render(p, dev, na64_outfile_path(out));
  na64_c_locale_leave(old);
  if (!na64_outfile_is_direct(out) && !file_complete(na64_outfile_path(out), dev)) {
    na64_outfile_abort(out);
    return na64_err_set(err, NA64_EIO, "plot: %s: the plotting library wrote an incomplete file (disk full or "
                        "file size limit?): old file kept", path);
  }
  st = na64_outfile_commit(out, err);
  if (st != NA64_OK) na64_err_prefix(err, "plot");
  return st;
}

void na64_plot_free(na64_plot *p)
{
  if (!p) return;
  for (int i = 0; i < p->nitems; ++i) {
    free(p->items[i].x);
    free(p->items[i].y);
    free(p->items[i].y2);
  }
  free(p);
}
