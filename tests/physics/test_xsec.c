/* Cross sections against the DMG4 reference values, the chi/Z^2 table, and physical properties. */
#include <string.h>

#include "na64/physics.h"
#include "physics/internal.h"
#include "support/na64_test.h"

/* DMG4 regression reference (refdata/dmg4_sigma_total_Pb_eps1e-4.csv): every mass 1 MeV - 1 GeV at
 * every beam energy within 1% (issue 2). Our residual is ~0.08%, the alpha = 1/137 vs 1/137.036
 * difference noted in refdata, plus the DMG4 K interpolation clamp at 20 and 160 GeV. */
static void test_dmg4_reference_table(void **state)
{
  (void)state;
  na64_test_csv csv;
  na64_test_load_refdata("dmg4_sigma_total_Pb_eps1e-4.csv", &csv);
  int cE = na64_test_csv_col(&csv, "E0_GeV"), cm = na64_test_csv_col(&csv, "mass_MeV"),
      cs = na64_test_csv_col(&csv, "sigma_pb");
  int checked = 0;
  double worst = 0;
  for (int r = 0; r < csv.nrows; ++r) {
    double E = csv.v[r * csv.ncols + cE], m = csv.v[r * csv.ncols + cm], ref = csv.v[r * csv.ncols + cs];
    if (m < 1.0 || m > 1000.0) continue;
    double s;
    na64_err err = {0};
    int st = na64_xsec_total(NA64_XS_ETL, E, m * 1e-3, 1e-4, 82, 207, &s, &err);
    if (st) print_error("E=%g m=%g: %s\n", E, m, err.msg);
    assert_int_equal(st, NA64_OK);
    assert_rel(s, ref, 0.01);
    worst = fmax(worst, fabs(s / ref - 1));
    ++checked;
  }
  assert_int_equal(checked, 8 * 24); /* 8 energies x 24 masses */
  print_message("DMG4 reference: %d points, worst deviation %.3f%%\n", checked, 100 * worst);
  na64_test_csv_free(&csv);
  /* the DMG4 code comment: "Ref. value ETL MA=0.0167, E0=150: 3643 pb" (an older version; ours is
   * within 0.3%) */
  double s;
  assert_int_equal(na64_xsec_total(NA64_XS_ETL, 150, 0.0167, 1e-4, 82, 207, &s, NULL), NA64_OK);
  assert_rel(s, 3643, 0.01);
}

/* chi/Z^2 for Pb from refdata/physics-formulas.md §3 (elastic flux, IWW limits), within 1%; and the
 * closed form agrees with adaptive quadrature to 1e-6. */
static void test_chi_table(void **state)
{
  (void)state;
  const struct { double m_MeV, c100, c150; } ref[] = {
      {1, 6.824, 6.824}, {10, 11.387, 11.387}, {16.7, 12.336, 12.339}, {100, 12.230, 12.882}, {500, 6.011, 6.819}};
  for (size_t i = 0; i < sizeof ref / sizeof ref[0]; ++i) {
    double m = ref[i].m_MeV * 1e-3;
    assert_rel(na64_chi_iww(100, m, 82, 207, NA64_FF_ELASTIC) / (82.0 * 82.0), ref[i].c100, 0.01);
    assert_rel(na64_chi_iww(150, m, 82, 207, NA64_FF_ELASTIC) / (82.0 * 82.0), ref[i].c150, 0.01);
    double tmin = pow(m * m / 200.0, 2), tmax = m * m, numeric;
    assert_int_equal(na64_chi(tmin, tmax, 82, 207, NA64_FF_ELASTIC, &numeric, NULL), NA64_OK);
    assert_rel(numeric, na64_chi_elastic_closed(tmin, tmax, 82, 207), 1e-6);
    /* the inelastic part is ~1/Z of the elastic one: small and positive */
    double inel;
    assert_int_equal(na64_chi(tmin, tmax, 82, 207, NA64_FF_INELASTIC, &inel, NULL), NA64_OK);
    assert_true(inel > 0 && inel < 0.05 * numeric);
    /* the fixed 32-point rule used inside the WW integrals agrees with the adaptive one to 1e-6 */
    assert_rel(na64_chi_inelastic_fast(tmin, tmax, 82), inel, 1e-6);
  }
}

/* sigma scales as eps^2, is positive and finite, falls with mass; ETL < IWW above ~5 MeV where K > 1. */
static void test_properties(void **state)
{
  (void)state;
  const double masses[] = {0.001, 0.002, 0.005, 0.0167, 0.05, 0.1, 0.3, 1.0};
  for (int method = NA64_XS_IWW; method <= NA64_XS_ETL; ++method) {
    double prev = INFINITY;
    for (size_t i = 0; i < sizeof masses / sizeof masses[0]; ++i) {
      double s1, s2;
      assert_int_equal(na64_xsec_total(method, 100, masses[i], 1e-4, 82, 207.2, &s1, NULL), NA64_OK);
      assert_int_equal(na64_xsec_total(method, 100, masses[i], 3e-4, 82, 207.2, &s2, NULL), NA64_OK);
      assert_true(isfinite(s1) && s1 > 0);
      assert_rel(s2, 9 * s1, 1e-12);
      assert_true(s1 < prev);
      prev = s1;
    }
  }
  double iww, etl;
  na64_xsec_total(NA64_XS_IWW, 100, 0.1, 1e-4, 82, 207.2, &iww, NULL);
  na64_xsec_total(NA64_XS_ETL, 100, 0.1, 1e-4, 82, 207.2, &etl, NULL);
  assert_true(etl < iww / 1.5);
  /* cross section per atom ~ Z^2: W/Pb close to (74/82)^2 */
  double w, pb;
  na64_xsec_total(NA64_XS_ETL, 100, 0.0167, 1e-4, 74, 183.84, &w, NULL);
  na64_xsec_total(NA64_XS_ETL, 100, 0.0167, 1e-4, 82, 207.2, &pb, NULL);
  assert_rel(w / pb, pow(74.0 / 82.0, 2), 0.05);
}

/* The IWW d sigma/dx integrates to the analytic IWW total within the 3-5% that separates the two forms
 * (refdata/physics-formulas.md §4, the "(b) vs (c)" table); ETL d sigma/dx integrates to sigma_ETL. */
static void test_dsdx_normalisation(void **state)
{
  (void)state;
  const double E0 = 100, m = 0.0167;
  for (int method = NA64_XS_IWW; method <= NA64_XS_ETL; ++method) {
    double ylo = -log(1 - m / E0), yhi = log(2 * E0 * m / (NA64_M_E * NA64_M_E)) + 2, sum = 0;
    const int n = 20000;
    for (int i = 0; i < n; ++i) {
      double y = ylo + (yhi - ylo) * (i + 0.5) / n, x = 1 - exp(-y), d;
      assert_int_equal(na64_xsec_dsdx(method, x, E0, m, 1e-4, 82, 207, &d, NULL), NA64_OK);
      sum += d * (1 - x) * (yhi - ylo) / n;
    }
    double total;
    na64_xsec_total(method, E0, m, 1e-4, 82, 207, &total, NULL);
    assert_rel(sum, total, method == NA64_XS_IWW ? 0.05 : 0.002);
  }
}

/* WW is computed from the double-differential cross section with chi(x, theta); for light A' it must
 * be close to IWW (a few %), and at 100 MeV below IWW (the IWW overestimate that the ETL corrects). */
static void test_ww_total(void **state)
{
  (void)state;
  double ww, iww;
  assert_int_equal(na64_xsec_total(NA64_XS_WW, 100, 0.0167, 1e-4, 82, 207, &ww, NULL), NA64_OK);
  na64_xsec_total(NA64_XS_IWW, 100, 0.0167, 1e-4, 82, 207, &iww, NULL);
  assert_rel(ww, iww, 0.05);
  double ww100, iww100;
  na64_xsec_total(NA64_XS_WW, 100, 0.1, 1e-4, 82, 207, &ww100, NULL);
  na64_xsec_total(NA64_XS_IWW, 100, 0.1, 1e-4, 82, 207, &iww100, NULL);
  assert_true(ww100 < iww100 && ww100 > 0.5 * iww100);
  /* the double differential is positive and falls off in angle beyond theta ~ m/E0 */
  double d0, d1;
  assert_int_equal(na64_xsec_dsdxdtheta(0.9, 1e-5, 100, 0.0167, 1e-4, 82, 207, &d0, NULL), NA64_OK);
  assert_int_equal(na64_xsec_dsdxdtheta(0.9, 1e-2, 100, 0.0167, 1e-4, 82, 207, &d1, NULL), NA64_OK);
  assert_true(d0 > 0 && d1 >= 0 && d1 < d0 * 1e-2);
}

static void test_validity_errors(void **state)
{
  (void)state;
  double s;
  na64_err err = {0};
  assert_int_equal(na64_xsec_total(NA64_XS_ETL, 100, 2.0, 1e-4, 82, 207, &s, &err), NA64_ERANGE);
  assert_non_null(strstr(err.msg, "2000"));
  assert_int_equal(na64_xsec_total(NA64_XS_ETL, 300, 0.01, 1e-4, 82, 207, &s, &err), NA64_ERANGE);
  assert_int_equal(na64_xsec_total(NA64_XS_ETL, 100, -0.01, 1e-4, 82, 207, &s, &err), NA64_EPHYS);
  assert_int_equal(na64_xsec_total(NA64_XS_ETL, 100, 0.01, 1.5, 82, 207, &s, &err), NA64_EPHYS);
  assert_int_equal(na64_xsec_total(NA64_XS_ETL, 100, 0.01, 0.0, 82, 207, &s, &err), NA64_EPHYS);
  assert_int_equal(na64_xsec_total(NA64_XS_ETL, NAN, 0.01, 1e-4, 82, 207, &s, &err), NA64_EPHYS);
  assert_int_equal(na64_xsec_dsdx(NA64_XS_IWW, 1.2, 100, 0.01, 1e-4, 82, 207, &s, &err), NA64_EINVAL);
}

/* Tables are validated on load: a non-monotonic axis (DMG4's 0.3/0.4 GeV typo would give duplicate
 * masses), a hole in the grid, a negative value or text are rejected with the row named. */
static void test_table_validation(void **state)
{
  (void)state;
  na64_grid2 g;
  na64_err err = {0};
  const char *good = "# c\nm,E,K\n1,20,0.6\n1,40,0.6\n2,20,0.8\n2,40,0.8\n";
  assert_int_equal(na64_grid2_parse(good, strlen(good), "good", &g, &err), NA64_OK);
  assert_rel(na64_grid2_eval(&g, 1.5, 30), 0.7, 1e-12);
  assert_rel(na64_grid2_eval(&g, 5, 100), 0.8, 1e-12); /* clamped */
  na64_grid2_release(&g);
  const char *dup = "m,E,K\n1,20,0.6\n1,20,0.6\n2,20,0.8\n2,40,0.8\n";
  assert_int_equal(na64_grid2_parse(dup, strlen(dup), "dup", &g, &err), NA64_EFORMAT);
  const char *hole = "m,E,K\n1,20,0.6\n1,40,0.6\n2,20,0.8\n";
  assert_int_equal(na64_grid2_parse(hole, strlen(hole), "hole", &g, &err), NA64_EFORMAT);
  const char *neg = "m,E,K\n1,20,0.6\n1,40,-0.6\n2,20,0.8\n2,40,0.8\n";
  assert_int_equal(na64_grid2_parse(neg, strlen(neg), "neg", &g, &err), NA64_EFORMAT);
  assert_non_null(strstr(err.msg, "positive"));
  const char *text = "m,E,K\n1,20,0.6\n1,abc,0.6\n";
  assert_int_equal(na64_grid2_parse(text, strlen(text), "text.csv", &g, &err), NA64_EFORMAT);
  assert_non_null(strstr(err.msg, "text.csv:3"));
  na64_grid1 g1;
  const char *nonmono = "m,s\n0.1,5\n0.3,4\n0.2,3\n";
  assert_int_equal(na64_grid1_parse(nonmono, strlen(nonmono), "lowmass", &g1, &err), NA64_EFORMAT);
  assert_non_null(strstr(err.msg, "increasing"));
  /* the embedded K table itself loads and reproduces its own grid points */
  double K;
  assert_int_equal(na64_kfactor(0.1, 100, &K, NULL), NA64_OK);
  assert_rel(K, 1.65122, 1e-9);
  assert_int_equal(na64_kfactor(0.03, 20, &K, NULL), NA64_OK);
  assert_rel(K, 1.54771, 1e-9);
}

/* Tabulated macroscopic cross sections reproduce direct evaluation to 0.5% between grid points. */
static void test_fast_table(void **state)
{
  (void)state;
  na64_material ecal;
  na64_material_get("ECAL", &ecal, NULL);
  na64_xsec_table *t;
  assert_int_equal(na64_xsec_table_new(NA64_XS_ETL, &ecal, 0.0167, 10, 200, 256, &t, NULL), NA64_OK);
  const double E[] = {10.3, 23.7, 55.5, 99.9, 150.1, 199.0};
  for (size_t i = 0; i < sizeof E / sizeof E[0]; ++i) {
    double direct;
    assert_int_equal(na64_xsec_macroscopic(NA64_XS_ETL, &ecal, E[i], 0.0167, 1.0, &direct, NULL), NA64_OK);
    assert_rel(na64_xsec_table_eval(t, E[i]), direct, 0.005);
  }
  assert_true(na64_xsec_table_eval(t, 5.0) == 0.0);
  na64_xsec_table_free(t);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dmg4_reference_table), cmocka_unit_test(test_chi_table),
      cmocka_unit_test(test_properties),           cmocka_unit_test(test_dsdx_normalisation),
      cmocka_unit_test(test_ww_total),             cmocka_unit_test(test_validity_errors),
      cmocka_unit_test(test_table_validation),     cmocka_unit_test(test_fast_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
