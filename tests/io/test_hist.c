/* Histograms (src/io/hist.c): the TBufferJSON form is parsed by python3's json module and checked
 * member by member against bin contents and statistics that python recomputes independently from
 * the same list of (x, y, w) fills (ROOT's rules: TAxis::FindBin, cell = ix + (nx + 2) iy, fTsum*
 * from in-range fills only); merge is exact; the CSV is read back with python3's csv module. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/io.h"
#include "support/na64_test.h"

#define tmpdir na64_test_tmpdir

/* The checker: argv = json file, fills file (x y w per line), dim, nx, xlo, xhi [, ny, ylo, yhi].
 * Prints "ok" or raises. Tolerance 1e-12 relative on sums (order of summation may differ). */
static const char *const checker =
    "import sys, json, math\n"
    "h = json.load(open(sys.argv[1]))\n"
    "fills = [tuple(map(float, l.split())) for l in open(sys.argv[2]) if l.strip()]\n"
    "dim, nx, xlo, xhi = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])\n"
    "ny, ylo, yhi = (int(sys.argv[7]), float(sys.argv[8]), float(sys.argv[9])) if dim == 2 else (1, 0.0, 1.0)\n"
    "def fb(v, n, lo, hi):\n"
    "    if v < lo: return 0\n"
    "    if not v < hi: return n + 1\n"
    "    return min(n, 1 + int(n * (v - lo) / (hi - lo)))\n"
    "nc = (nx + 2) * (ny + 2 if dim == 2 else 1)\n"
    "arr = [0.0] * nc; w2 = [0.0] * nc; s = [0.0] * 7\n"
    "for x, y, w in fills:\n"
    "    bx = fb(x, nx, xlo, xhi); by = fb(y, ny, ylo, yhi) if dim == 2 else 0\n"
    "    c = bx + (nx + 2) * by; arr[c] += w; w2[c] += w * w\n"
    "    if bx in (0, nx + 1) or (dim == 2 and by in (0, ny + 1)): continue\n"
    "    s = [a + b for a, b in zip(s, [w, w*w, w*x, w*x*x, w*y, w*y*y, w*x*y])]\n"
    "def close(a, b): assert abs(a - b) <= 1e-12 * max(1.0, abs(b)), (a, b)\n"
    "assert h['_typename'] == ('TH2D' if dim == 2 else 'TH1D'), h['_typename']\n"
    "assert h['fName'] == 'h' and h['fTitle'] == 'a \"quoted\" title', (h['fName'], h['fTitle'])\n"
    "for k in ['fUniqueID','fBits','fLineColor','fLineStyle','fLineWidth','fFillColor','fFillStyle','fMarkerColor',\n"
    "          'fMarkerStyle','fMarkerSize','fBarOffset','fBarWidth','fMaximum','fMinimum','fNormFactor','fContour',\n"
    "          'fOption','fBufferSize','fBuffer','fBinStatErrOpt','fStatOverflows']: assert k in h, k\n"
    "assert h['fFunctions']['_typename'] == 'TList' and h['fFunctions']['arr'] == []\n"
    "assert h['fNcells'] == nc and len(h['fArray']) == nc and len(h['fSumw2']) == nc\n"
    "for name, key, n, lo, hi in [('xaxis','fXaxis',nx,xlo,xhi), ('yaxis','fYaxis',ny,ylo,yhi), ('zaxis','fZaxis',1,0.0,1.0)]:\n"
    "    a = h[key]\n"
    "    assert a['_typename'] == 'TAxis' and a['fName'] == name, a\n"
    "    assert a['fNbins'] == n and a['fXmin'] == lo and a['fXmax'] == hi, (key, a['fNbins'], a['fXmin'], a['fXmax'])\n"
    "    assert a['fXbins'] == [] and 'fFirst' in a and 'fLast' in a and 'fLabels' in a\n"
    "for c in range(nc): close(h['fArray'][c], arr[c]); close(h['fSumw2'][c], w2[c])\n"
    "assert h['fEntries'] == len(fills), (h['fEntries'], len(fills))\n"
    "keys = ['fTsumw','fTsumw2','fTsumwx','fTsumwx2'] + (['fTsumwy','fTsumwy2','fTsumwxy'] if dim == 2 else [])\n"
    "for k, v in zip(keys, s): close(h[k], v)\n"
    "if dim == 2: assert h['fScalefactor'] == 1\n"
    "else: assert 'fTsumwy' not in h\n"
    "print('ok')\n";

static void write_text(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* A deterministic set of fills covering under- and overflow, bin edges and NaN. */
static int make_fills(double *x, double *y, double *w, int cap)
{
  int n = 0;
  for (int i = 0; i < 997 && n < cap; ++i, ++n) {
    x[n] = -2.3 + 0.0173 * i * ((i % 7) ? 1.0 : -0.5); /* some below xmin */
    y[n] = 5.0 - 0.011 * i;
    w[n] = (i % 3 == 0) ? 1.0 : 0.25 + 0.5 * (i % 5);
  }
  double special[][3] = {{-1.0, 0.0, 2.0}, {1.0, 1.0, 1.0}, {0.5, -1.0, 3.0}, {99.0, 99.0, 0.5}};
  for (size_t k = 0; k < sizeof special / sizeof special[0]; ++k, ++n) {
    x[n] = special[k][0];
    y[n] = special[k][1];
    w[n] = special[k][2];
  }
  return n;
}

static void check_with_python(na64_hist *h, const double *x, const double *y, const double *w, int n, const char *args)
{
  char jpath[320], fpath[320], script[320], cmd[1400];
  snprintf(jpath, sizeof jpath, "%s/h.json", tmpdir);
  snprintf(fpath, sizeof fpath, "%s/fills.txt", tmpdir);
  snprintf(script, sizeof script, "%s/check.py", tmpdir);
  char *json = NULL;
  size_t len = 0;
  na64_err err;
  assert_int_equal(na64_hist_to_json(h, &json, &len, &err), 0);
  assert_int_equal(strlen(json), len);
  write_text(jpath, json);
  free(json);
  FILE *f = fopen(fpath, "w");
  assert_non_null(f);
  for (int i = 0; i < n; ++i) fprintf(f, "%.17g %.17g %.17g\n", x[i], y[i], w[i]);
  fclose(f);
  write_text(script, checker);
  snprintf(cmd, sizeof cmd, "python3 '%s' '%s' '%s' %s 2>&1", script, jpath, fpath, args);
  char *out = NULL;
  int st = na64_test_run(cmd, &out);
  if (st != 0 || strstr(out, "ok") == NULL) fail_msg("python check failed (%d): %s", st, out);
  free(out);
}

static void test_th1d_json(void **state)
{
  (void)state;
  double x[1100], y[1100], w[1100];
  int n = make_fills(x, y, w, 1000);
  na64_hist *h = NULL;
  na64_err err;
  assert_int_equal(na64_hist_new_1d("h", "a \"quoted\" title", 40, -1.0, 1.0, &h, &err), 0);
  for (int i = 0; i < n; ++i) na64_hist_fill(h, x[i], w[i]);
  na64_hist_fill(h, NAN, 1.0); /* NaN overflows (TAxis::FindBin) */
  x[n] = 1e300; /* the same fill for python: any value >= xmax overflows */
  y[n] = 0;
  w[n] = 1.0;
  check_with_python(h, x, y, w, n + 1, "1 40 -1 1");
  na64_hist_free(h);
}

static void test_th2d_json(void **state)
{
  (void)state;
  double x[1100], y[1100], w[1100];
  int n = make_fills(x, y, w, 1000);
  na64_hist *h = NULL;
  na64_err err;
  assert_int_equal(na64_hist_new_2d("h", "a \"quoted\" title", 12, -1.0, 1.0, 7, 0.0, 4.0, &h, &err), 0);
  for (int i = 0; i < n; ++i) na64_hist_fill2(h, x[i], y[i], w[i]);
  check_with_python(h, x, y, w, n, "2 12 -1 1 7 0 4");
  na64_hist_free(h);
}

/* Merging two halves equals filling once, exactly: weights are multiples of 1/4 and the x values are
 * multiples of 1/64 (exact binary fractions), so every sum is exact in any order. */
static void test_merge_exact(void **state)
{
  (void)state;
  na64_hist *a, *b, *all;
  na64_err err;
  assert_int_equal(na64_hist_new_2d("a", "", 10, -2, 2, 5, -1, 1, &a, &err), 0);
  assert_int_equal(na64_hist_new_2d("b", "", 10, -2, 2, 5, -1, 1, &b, &err), 0);
  assert_int_equal(na64_hist_new_2d("all", "", 10, -2, 2, 5, -1, 1, &all, &err), 0);
  for (int i = 0; i < 5000; ++i) {
    double x = (double)((i * 37) % 320 - 160) / 64.0, y = (double)((i * 11) % 160 - 80) / 64.0;
    double w = 0.25 * (1 + i % 6);
    na64_hist_fill2(i % 2 ? a : b, x, y, w);
    na64_hist_fill2(all, x, y, w);
  }
  assert_int_equal(na64_hist_merge(a, b, &err), 0);
  for (int c = 0; c < na64_hist_ncells(all); ++c) {
    assert_true(na64_hist_cell(a, c) == na64_hist_cell(all, c));
    assert_true(na64_hist_cell_sumw2(a, c) == na64_hist_cell_sumw2(all, c));
  }
  double sa[7], sall[7];
  na64_hist_stats(a, sa);
  na64_hist_stats(all, sall);
  for (int k = 0; k < 7; ++k) assert_true(sa[k] == sall[k]);
  assert_true(na64_hist_entries(a) == 5000.0);
  /* different binning is refused, reset empties */
  na64_hist *c1;
  assert_int_equal(na64_hist_new_1d("c", "", 10, -2, 2, &c1, &err), 0);
  assert_int_equal(na64_hist_merge(a, c1, &err), NA64_EINVAL);
  na64_hist_reset(a);
  assert_true(na64_hist_entries(a) == 0.0 && na64_hist_cell(a, 20) == 0.0);
  na64_hist_free(a);
  na64_hist_free(b);
  na64_hist_free(all);
  na64_hist_free(c1);
}

/* The monitor's windows: (cumulative now) - (copy taken earlier) = the fills made in between. The
 * weights are multiples of 1/4 so every sum is exact in binary and equality is exact. */
static void test_subtract_window(void **state)
{
  (void)state;
  na64_hist *live, *snap, *later, *other;
  na64_err err;
  assert_int_equal(na64_hist_new_2d("live", "", 8, -2, 2, 4, -1, 1, &live, &err), 0);
  assert_int_equal(na64_hist_new_2d("later", "", 8, -2, 2, 4, -1, 1, &later, &err), 0);
  for (int i = 0; i < 3000; ++i) {
    double x = (double)((i * 29) % 320 - 160) / 64.0, y = (double)((i * 13) % 160 - 80) / 64.0;
    double w = 0.25 * (1 + i % 5);
    if (i == 1000) assert_int_equal(na64_hist_clone(live, &snap, &err), 0);
    na64_hist_fill2(live, x, y, w);
    if (i >= 1000) na64_hist_fill2(later, x, y, w);
  }
  assert_int_equal(na64_hist_subtract(live, snap, &err), 0);
  for (int c = 0; c < na64_hist_ncells(later); ++c) {
    assert_true(na64_hist_cell(live, c) == na64_hist_cell(later, c));
    assert_true(na64_hist_cell_sumw2(live, c) == na64_hist_cell_sumw2(later, c));
  }
  assert_true(na64_hist_entries(live) == 2000.0);
  assert_int_equal(na64_hist_new_1d("other", "", 8, -2, 2, &other, &err), 0);
  assert_int_equal(na64_hist_subtract(live, other, &err), NA64_EINVAL);
  na64_hist_free(live);
  na64_hist_free(snap);
  na64_hist_free(later);
  na64_hist_free(other);
}

static void test_bad_arguments(void **state)
{
  (void)state;
  na64_hist *h = NULL;
  na64_err err;
  assert_int_equal(na64_hist_new_1d("../x", "", 10, 0, 1, &h, &err), NA64_EINVAL);
  assert_null(h);
  assert_int_equal(na64_hist_new_1d("x", "", 0, 0, 1, &h, &err), NA64_EINVAL);
  assert_int_equal(na64_hist_new_1d("x", "", 10, 1, 1, &h, &err), NA64_EINVAL);
  assert_int_equal(na64_hist_new_1d("x", "", 10, 0, INFINITY, &h, &err), NA64_EINVAL);
  assert_int_equal(na64_hist_new_2d("x", "", 10, 0, 1, 5, NAN, 1, &h, &err), NA64_EINVAL);
  assert_null(h);
}

/* CSV: python's csv module reads it back; the content column sums to sum of weights including under/overflow. */
static void test_csv(void **state)
{
  (void)state;
  na64_hist *h;
  na64_err err;
  assert_int_equal(na64_hist_new_1d("c", "", 4, 0, 2, &h, &err), 0);
  double xs[] = {-1, 0, 0.49, 0.5, 1.99, 2, 3};
  for (size_t i = 0; i < 7; ++i) na64_hist_fill(h, xs[i], 2.0);
  char path[320], cmd[800];
  snprintf(path, sizeof path, "%s/h.csv", tmpdir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  assert_int_equal(na64_hist_write_csv(h, f, &err), 0);
  fclose(f);
  snprintf(cmd, sizeof cmd,
           "python3 -c \"import csv,sys; r=list(csv.DictReader(open('%s'))); "
           "print(len(r), ' '.join(x['content'] for x in r), r[0]['x_low'], r[1]['x_high'])\"",
           path);
  char *out = NULL;
  assert_int_equal(na64_test_run(cmd, &out), 0);
  /* bins of width 0.5: underflow {-1}, [0,0.5) {0, 0.49}, [0.5,1) {0.5}, [1.5,2) {1.99}, overflow {2, 3} */
  assert_string_equal(out, "6 2 4 2 0 2 4 -inf 0.5\n");
  free(out);
  na64_hist_free(h);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_th1d_json),   cmocka_unit_test(test_th2d_json), cmocka_unit_test(test_merge_exact),
      cmocka_unit_test(test_subtract_window),
      cmocka_unit_test(test_bad_arguments), cmocka_unit_test(test_csv),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
