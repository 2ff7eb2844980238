/* Loading of numeric tables (embedded CSV) with validation on load: finite values, positive
 * function values, strictly increasing axes, complete rectangular grids (refdata/software-notes.md
 * §6.5: DMG4's K-factor grid once shipped non-monotonic; we refuse such tables with a message). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "physics/internal.h"

typedef struct {
  double *v;
  int ncols, nrows, cap;
} rows_t;

static int parse_rows(const char *text, size_t len, const char *what, int ncols, rows_t *r, na64_err *err)
{
  memset(r, 0, sizeof *r);
  r->ncols = ncols;
  int lineno = 0, header_seen = 0;
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) eol = end;
    ++lineno;
    char line[512];
    size_t n = (size_t)(eol - p);
    if (n >= sizeof line) {
      free(r->v);
      return na64_err_set(err, NA64_EFORMAT, "%s:%d: line too long", what, lineno);
    }
    memcpy(line, p, n);
    line[n] = '\0';
    p = eol + 1;
    if (n && line[n - 1] == '\r') line[--n] = '\0';
    if (n == 0 || line[0] == '#') continue;
    if (!header_seen) {
      header_seen = 1;
      continue;
    }
    if (r->nrows == r->cap) {
      r->cap = r->cap ? 2 * r->cap : 64;
      double *nv = realloc(r->v, (size_t)r->cap * (size_t)ncols * sizeof *nv);
      if (!nv) {
        free(r->v);
        return na64_err_set(err, NA64_ENOMEM, "%s: out of memory", what);
      }
      r->v = nv;
    }
    char *q = line;
    for (int c = 0; c < ncols; ++c) {
      char *stop;
      double x = na64_num_parse(q, &stop);
      if (stop == q || !isfinite(x)) {
        free(r->v);
        return na64_err_set(err, NA64_EFORMAT, "%s:%d: column %d is not a finite number: '%s'", what, lineno,
                            c + 1, line);
      }
      r->v[r->nrows * ncols + c] = x;
      while (*stop == ' ' || *stop == '\t') ++stop;
      if (c + 1 < ncols) {
        if (*stop != ',') {
          free(r->v);
          return na64_err_set(err, NA64_EFORMAT, "%s:%d: expected %d columns: '%s'", what, lineno, ncols, line);
        }
        q = stop + 1;
      } else if (*stop != '\0') {
        free(r->v);
        return na64_err_set(err, NA64_EFORMAT, "%s:%d: trailing text: '%s'", what, lineno, line);
      }
    }
    r->nrows++;
  }
  if (r->nrows == 0) return na64_err_set(err, NA64_EFORMAT, "%s: no data rows", what);
  return NA64_OK;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Distinct sorted values of column c; fails on duplicates only if `unique` (1-D axes). */
static int axis_values(const rows_t *r, int c, double **out, int *n)
{
  double *v = malloc((size_t)r->nrows * sizeof *v);
  if (!v) return NA64_ENOMEM;
  for (int i = 0; i < r->nrows; ++i) v[i] = r->v[i * r->ncols + c];
  qsort(v, (size_t)r->nrows, sizeof *v, cmp_double);
  int k = 0;
  for (int i = 0; i < r->nrows; ++i)
    if (k == 0 || v[i] != v[k - 1]) v[k++] = v[i];
  *out = v;
  *n = k;
  return NA64_OK;
}

static int find_index(const double *axis, int n, double x)
{
  int lo = 0, hi = n - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (axis[mid] == x) return mid;
    if (axis[mid] < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

int na64_grid2_parse(const char *text, size_t len, const char *what, na64_grid2 *g, na64_err *err)
{
  memset(g, 0, sizeof *g);
  rows_t r;
  NA64_CALL(parse_rows(text, len, what, 3, &r, err));
  int st = axis_values(&r, 0, &g->x, &g->nx);
  if (st == NA64_OK) st = axis_values(&r, 1, &g->y, &g->ny);
  if (st != NA64_OK) {
    free(r.v);
    na64_grid2_release(g);
    return na64_err_set(err, st, "%s: out of memory", what);
  }
  if (g->nx < 2 || g->ny < 2 || g->nx * g->ny != r.nrows) {
    int nr = r.nrows;
    free(r.v);
    int nx = g->nx, ny = g->ny;
    na64_grid2_release(g);
    return na64_err_set(err, NA64_EFORMAT, "%s: %d rows do not form a complete %d x %d grid", what, nr, nx, ny);
  }
  g->f = malloc((size_t)r.nrows * sizeof *g->f);
  if (!g->f) {
    free(r.v);
    na64_grid2_release(g);
    return na64_err_set(err, NA64_ENOMEM, "%s: out of memory", what);
  }
  for (int i = 0; i < r.nrows; ++i) g->f[i] = NAN;
  for (int i = 0; i < r.nrows; ++i) {
    const double x = r.v[i * 3], y = r.v[i * 3 + 1], f = r.v[i * 3 + 2];
    double *cell = &g->f[find_index(g->x, g->nx, x) * g->ny + find_index(g->y, g->ny, y)];
    if (!isnan(*cell) || !(f > 0.0)) {
      int dup = !isnan(*cell);
      free(r.v);
      na64_grid2_release(g);
      return na64_err_set(err, NA64_EFORMAT, "%s: data row %d (%g, %g): %s", what, i + 1, x, y,
                          dup ? "duplicate grid point" : "value must be positive");
    }
    *cell = f;
  }
  free(r.v);
  return NA64_OK;
}

void na64_grid2_release(na64_grid2 *g)
{
  free(g->x);
  free(g->y);
  free(g->f);
  memset(g, 0, sizeof *g);
}

/* index i with axis[i] <= x <= axis[i+1], x already clamped to [axis[0], axis[n-1]] */
static int bracket(const double *axis, int n, double x)
{
  int lo = 0, hi = n - 1;
  while (hi - lo > 1) {
    int mid = (lo + hi) / 2;
    if (axis[mid] <= x) lo = mid;
    else hi = mid;
  }
  return lo;
}

double na64_grid2_eval(const na64_grid2 *g, double x, double y)
{
  x = fmin(fmax(x, g->x[0]), g->x[g->nx - 1]);
  y = fmin(fmax(y, g->y[0]), g->y[g->ny - 1]);
  int i = bracket(g->x, g->nx, x), j = bracket(g->y, g->ny, y);
  double tx = (x - g->x[i]) / (g->x[i + 1] - g->x[i]);
  double ty = (y - g->y[j]) / (g->y[j + 1] - g->y[j]);
  const double *f = g->f;
  int ny = g->ny;
  return (1 - tx) * (1 - ty) * f[i * ny + j] + tx * (1 - ty) * f[(i + 1) * ny + j] +
         (1 - tx) * ty * f[i * ny + j + 1] + tx * ty * f[(i + 1) * ny + j + 1];
}

int na64_grid1_parse(const char *text, size_t len, const char *what, na64_grid1 *g, na64_err *err)
{
  memset(g, 0, sizeof *g);
  rows_t r;
  NA64_CALL(parse_rows(text, len, what, 2, &r, err));
  g->n = r.nrows;
  g->x = malloc((size_t)r.nrows * sizeof *g->x);
  g->f = malloc((size_t)r.nrows * sizeof *g->f);
  for (int i = 0; i < r.nrows; ++i) {
    g->x[i] = r.v[2 * i];
    g->f[i] = r.v[2 * i + 1];
    if ((i > 0 && !(g->x[i] > g->x[i - 1])) || !(g->f[i] > 0.0)) {
      double xi = g->x[i], fi = g->f[i];
      free(r.v);
      na64_grid1_release(g);
      return na64_err_set(err, NA64_EFORMAT, "%s: data row %d (%g, %g): %s", what, i + 1, xi, fi,
                          !(fi > 0.0) ? "value must be positive" : "x must be strictly increasing");
    }
  }
  free(r.v);
  return NA64_OK;
}

void na64_grid1_release(na64_grid1 *g)
{
  free(g->x);
  free(g->f);
  memset(g, 0, sizeof *g);
}
