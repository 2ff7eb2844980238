/* The shipped windowed grids sigma(x > x_min) of the exact tree level (issue 14;
 * src/physics/xsec_exact_wgrid.c, data/exact_wgrid_*.csv, docs/physics.md 4e) against independent
 * direct computations by na64_xsec_exact_quad: regenerated nodes, interpolated values half-way
 * between nodes in (ln m, ln E0, ln(1 - x_min)) (where the interpolation error is largest), the
 * coverage rules, a damaged file (a clear error naming it; the lookup then does not cover), and
 * the use by the invisible-mode yield. Tolerance 1%: the precision the issue asks of the exact
 * computation (nodes to 0.5%, direct values to 0.2%; the measured interpolation error: docs/physics.md 4e,
 * tests/physics/test_exact_wgrid_long.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "physics/internal.h"
#include "support/na64_test.h"

#include "physics/exact_wgrid_cases.h"

static na64_exact_process proc(int k, double m, double E0, double x_min) { return case_proc(k, m, E0, x_min); }

static double direct(const na64_exact_process *p) { return case_direct(p, NA64_EXACT_GRID_PREC); }

static void compare(const char *what, const na64_exact_process *p)
{
  double g = 0.0;
  assert_int_equal(na64_exact_wgrid_eval(p, &g), 1);
  double d = direct(p);
  print_message("%s %s %s Z %2.0f m %.4g GeV E %.4g GeV x_min %.6g: grid %.6g pb, direct %.6g pb, ratio %.5f\n", what,
                na64_lepton_name(p->beam), na64_mediator_name(p->mediator), p->Z, p->m, p->E0, p->x_min, g, d, g / d);
  assert_true(fabs(g / d - 1.0) <= 0.01);
}

/* every grid is shipped and valid; one node of each (spread over the grid) regenerated */
static void test_nodes_regenerated(void **state)
{
  (void)state;
  const double *ms, *Es, *ws;
  int nm, nE, nw;
  na64_exact_grid_axes(&ms, &nm, &Es, &nE);
  na64_exact_wgrid_w_axis(&ws, &nw);
  assert_int_equal(nw, NA64_EXACT_WGRID_NW);
  for (int k = 0; k < NSHIP; ++k) {
    na64_err err = {0};
    /* the muon-beam vector has no file: the Z' grid times 4 pi alpha (xsec_exact_wgrid.c) */
    int file = !(shipped[k].beam == NA64_LEPTON_MU && shipped[k].med == NA64_MED_VECTOR);
    int st = na64_exact_wgrid_check(shipped[k].beam, shipped[k].med, shipped[k].Z, &err);
    if (st && file) print_error("%s\n", err.msg);
    assert_int_equal(st, file ? NA64_OK : NA64_ENOTFOUND);
    na64_exact_wgrid_axis(shipped[k].beam, shipped[k].med, shipped[k].Z, &ws, &nw, NULL);
    int last = case_last_cell(k) + 1; /* the last covered partial node */
    int i = (7 * k + 3) % nm, j = nE - 1 - (k % 5), w = 5 + (5 * k) % (last - 4); /* 5 ... last */
    if (shipped[k].beam == NA64_LEPTON_MU) w = 12 + k % 4; /* muon: around 1 - x_min = 0.5 (NA64mu) */
    na64_exact_process p = proc(k, ms[i], Es[j], case_x_min(k, ws[w], Es[j]));
    compare("node", &p);
  }
}

/* half-way between nodes in all three variables, where the setups need them (e-: 100 GeV beam,
 * emitters 50-100 GeV, 1 - x_min 1e-3 - 0.5, and below 50 GeV (the 30 GeV scan of the sensitivity
 * report, the low-energy shower); mu: 160 GeV, 1 - x_min ~ 0.5 and near the kinematic end) and at edges */
static void test_off_node(void **state)
{
  (void)state;
  const double *ms, *Es, *ws;
  int nm, nE, nw;
  na64_exact_grid_axes(&ms, &nm, &Es, &nE);
  const struct {
    int k, i, j, w;
  } pts[] = {{0, 0, 10, 3},  {0, 12, 11, 8}, {0, 18, 9, 9},  {0, 23, 14, 5}, {1, 6, 12, 7},  {2, 16, 12, 6},
             {3, 10, 13, 13}, {3, 20, 12, 4}, {4, 2, 14, 20}, {6, 14, 13, 13}, {5, 8, 11, 26},
             /* below 50 GeV (exactgrid3: measured there too) */
             {0, 9, 2, 4},   {0, 3, 5, 8},   {1, 14, 7, 2},  {2, 20, 4, 9},  {0, 17, 0, 6},
             /* tungsten (the visible mode) and the other electron mediators */
             {9, 9, 10, 14}, {9, 5, 6, 3},   {10, 9, 11, 17}, {10, 15, 4, 6}, {11, 9, 11, 7}, {12, 4, 9, 3},
             {14, 11, 10, 8}, {16, 6, 12, 5}, {17, 9, 11, 7}, {19, 13, 8, 4},
             /* tungsten scalar and axial (visscal) */
             {20, 9, 10, 14}, {20, 5, 6, 3}, {21, 9, 11, 17}, {21, 15, 4, 6}};
  for (size_t n = 0; n < sizeof pts / sizeof pts[0]; ++n) {
    int k = pts[n].k, i = pts[n].i, j = pts[n].j, w = pts[n].w;
    na64_exact_wgrid_axis(shipped[k].beam, shipped[k].med, shipped[k].Z, &ws, &nw, NULL);
    assert_true(w >= case_first_cell(k) && w <= case_last_cell(k));
    double m = sqrt(ms[i] * ms[i + 1]), E = sqrt(Es[j] * Es[j + 1]), x_min = case_x_min(k, case_mid(k, ws[w], ws[w + 1]), E);
    na64_exact_process p = proc(k, m, E, x_min);
    compare("cell centre", &p);
  }
}

/* outside the nodes, another atomic weight or form factor, no grid: not covered */
static void test_coverage(void **state)
{
  (void)state;
  double g = -1.0;
  na64_exact_process p = proc(0, 0.0167, 100.0, 0.5);
  assert_int_equal(na64_exact_wgrid_eval(&p, &g), 1);
  assert_true(g > 0.0);
  g = -1.0;
  p = proc(0, 0.0167, 100.0, 0.9999); /* 1 - x_min below the first node */
  assert_int_equal(na64_exact_wgrid_eval(&p, &g), 0);
  p = proc(0, 0.0167, 250.0, 0.5);
  assert_int_equal(na64_exact_wgrid_eval(&p, &g), 0);
  p = proc(0, 0.0167, 100.0, 0.5);
  p.A = 207.0;
  assert_int_equal(na64_exact_wgrid_eval(&p, &g), 0);
  p = proc(0, 0.0167, 100.0, 0.5);
  p.ff = NA64_FF_ELASTIC;
  assert_int_equal(na64_exact_wgrid_eval(&p, &g), 0);
  p = proc(0, 0.0167, 100.0, 0.5);
  p.Z = 26;
  p.A = 55.845;
  assert_int_equal(na64_exact_wgrid_eval(&p, &g), 0);
  p = proc(3, 0.1, 50.0, 0.5); /* muon grids start at 73.7 GeV */
  assert_int_equal(na64_exact_wgrid_eval(&p, &g), 0);
  p = proc(3, 0.1, 160.0, 0.8); /* muon: every window from s = 1e-4 to 1 - 1e-4 (exactgrid3) */
  assert_int_equal(na64_exact_wgrid_eval(&p, &g), 1);
  p = proc(3, 0.1, 160.0, 1.0 - NA64_M_MU / 160.0 - 1e-4); /* within 1.39e-3 of the kinematic end (s) */
  assert_int_equal(na64_exact_wgrid_eval(&p, &g), 0);
  g = -1.0;
  { /* the muon cannot keep its mass (1 - x_min < m_mu/E0): beyond the kinematic end, not covered */
    size_t len = 0;
    const char *text = na64_embedded_find("exact_wgrid_mu_zprime_Z82.csv", &len);
    na64_wgrid w;
    na64_err err = {0};
    assert_non_null(text);
    assert_int_equal(na64_wgrid_parse(text, len, "mu", &w, &err), NA64_OK);
    assert_int_equal(na64_wgrid_eval(&w, 0.1, 80.0, 0.9993, &g), 0);
    na64_wgrid_release(&w);
  }
  p = proc(0, 0.0167, 100.0, 0.3); /* between the partial windows (x_min >= 0.4) and the total */
  assert_int_equal(na64_exact_wgrid_eval(&p, &g), 0);
  assert_true(g == -1.0);
  p = proc(9, 0.0167, 100.0, 0.3); /* tungsten (the visible mode): partial windows down to x_min = 0.05 */
  assert_int_equal(na64_exact_wgrid_eval(&p, &g), 1);
  p = proc(9, 0.0167, 100.0, 0.03);
  assert_int_equal(na64_exact_wgrid_eval(&p, &g), 0);
  g = -1.0;
  /* the whole window: the total, as the totals grid of xsec_exact_grid.c (both to <= 0.5%) */
  p = proc(0, 0.05, 70.0, 0.0);
  double t = 0.0;
  assert_int_equal(na64_exact_wgrid_eval(&p, &g), 1);
  assert_int_equal(na64_exact_grid_eval(82, 207.2, 0.05, 70.0, &t), 1);
  print_message("total at 50 MeV, 70 GeV: windowed grid %.6g pb, totals grid %.6g pb\n", g, t);
  assert_true(fabs(g / t - 1.0) <= 0.01);
  na64_err err = {0};
  assert_int_equal(na64_exact_wgrid_check(NA64_LEPTON_E, NA64_MED_AXIAL, 26, &err), NA64_ENOTFOUND);
  assert_non_null(strstr(err.msg, "exact_wgrid_e_axial_Z26.csv"));
  char name[96];
  na64_exact_wgrid_name(NA64_LEPTON_MU, NA64_MED_ZPRIME, 82, name, sizeof name);
  assert_string_equal(name, "exact_wgrid_mu_zprime_Z82.csv");
}

/* damaged copies of the shipped Pb grid: each refused with NA64_EFORMAT and a message naming the
 * file; the intact copy parses to the same values as the shipped lookup */
static void test_damaged(void **state)
{
  (void)state;
  size_t len = 0;
  const char *text = na64_embedded_find("exact_wgrid_e_vector_Z82.csv", &len);
  assert_non_null(text);
  char *copy = malloc(len + 1);
  assert_non_null(copy);
  na64_wgrid g;
  na64_err err = {0};
  memcpy(copy, text, len);
  copy[len] = '\0';
  assert_int_equal(na64_wgrid_parse(copy, len, "copy.csv", &g, &err), NA64_OK);
  double a = 0.0, b = 0.0;
  na64_exact_process p = proc(0, 0.0167, 80.0, 0.7);
  assert_int_equal(na64_wgrid_eval(&g, p.m, p.E0, p.x_min, &a), 1);
  assert_int_equal(na64_exact_wgrid_eval(&p, &b), 1);
  assert_true(a == b);
  na64_wgrid_release(&g);
  /* 1: truncated in the middle of the rows */
  size_t cut = len / 2;
  while (cut > 0 && copy[cut] != '\n') --cut;
  assert_int_equal(na64_wgrid_parse(copy, cut + 1, "trunc.csv", &g, &err), NA64_EFORMAT);
  print_message("truncated: %s\n", err.msg);
  assert_non_null(strstr(err.msg, "trunc.csv"));
  /* 2: a value replaced by text */
  char *row = strstr(copy, "\n0.001,");
  assert_non_null(row);
  char *val = strchr(row + 7, ',');
  memcpy(val + 1, "x", 1);
  err = (na64_err){0};
  assert_int_equal(na64_wgrid_parse(copy, len, "garbled.csv", &g, &err), NA64_EFORMAT);
  print_message("garbled: %s\n", err.msg);
  assert_non_null(strstr(err.msg, "garbled.csv"));
  memcpy(copy, text, len);
  /* 3: a negative value */
  val = strchr(strstr(copy, "\n0.001,") + 7, ',');
  memcpy(val + 1, "-", 1);
  err = (na64_err){0};
  assert_int_equal(na64_wgrid_parse(copy, len, "negative.csv", &g, &err), NA64_EFORMAT);
  assert_non_null(strstr(err.msg, "negative.csv"));
  memcpy(copy, text, len);
  /* 4: the header damaged */
  char *h = strstr(copy, "mass_GeV,E0_GeV,w_");
  assert_non_null(h);
  h[16] = 'v';
  err = (na64_err){0};
  assert_int_equal(na64_wgrid_parse(copy, len, "header.csv", &g, &err), NA64_EFORMAT);
  assert_non_null(strstr(err.msg, "header.csv"));
  free(copy);
}

/* the invisible-mode yield with the exact method takes the grid: the production at 16.7 MeV in
 * the ECAL at 100 GeV (E_ECAL < 50 GeV) agrees within 1% with the same yield whose cross sections
 * are all computed (an ECAL of atomic weights shifted by 1e-5: no grid covers it, the physics
 * differs by ~1e-5) */
static void test_yield_uses_grid(void **state)
{
  (void)state;
  na64_err err = {0};
  na64_material ecal;
  assert_int_equal(na64_material_get("ECAL", &ecal, &err), NA64_OK);
  na64_beamdump d;
  na64_beamdump_init_invisible(&d, &ecal, 100.0, 50.0);
  d.method = NA64_XS_EXACT;
  na64_yield *y1 = NULL, *y2 = NULL;
  assert_int_equal(na64_yield_new(&d, 0.0167, &y1, &err), NA64_OK);
  for (int j = 0; j < d.target.ncomp; ++j) d.target.comp[j].A *= 1.0 + 1e-5;
  assert_int_equal(na64_yield_new(&d, 0.0167, &y2, &err), NA64_OK);
  double a = na64_yield_production(y1), b = na64_yield_production(y2);
  print_message("yield per EOT at eps = 1: grid %.6g, computed %.6g, ratio %.5f\n", a, b, a / b);
  assert_true(a > 0.0 && fabs(a / b - 1.0) <= 0.01);
  na64_yield_free(y1);
  na64_yield_free(y2);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nodes_regenerated), cmocka_unit_test(test_off_node), cmocka_unit_test(test_coverage),
      cmocka_unit_test(test_damaged),           cmocka_unit_test(test_yield_uses_grid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
