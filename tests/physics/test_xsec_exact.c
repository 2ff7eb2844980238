/* Exact tree-level l N -> l N X (src/physics/xsec_exact.c) against independent numbers:
 * DMG4's exact-tree-level (ETL) total cross sections for Pb (tests/refdata, computed by
 * Gninenko, Kirpichnikov, Kirsanov, Krasnikov's method, PLB 782 (2018) 406, through DMG4's
 * K-factor table), the Weizsaecker-Williams limit where it holds, and physical properties. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "na64/physics.h"
#include "support/na64_test.h"

static double exact_sigma_ff(na64_lepton beam, na64_mediator med, double E0, double m, int ff, double prec,
                             double *abserr)
{
  na64_exact_process p;
  na64_exact_process_init(&p, beam, med, E0, m);
  p.ff = ff;
  double s = 0.0;
  na64_err err = {0};
  /* the deterministic Gauss rules, the library's default (VEGAS: test_xsec_exact_quad.c compares) */
  int st = na64_xsec_exact_quad(&p, prec, &s, abserr, &err);
  if (st) print_error("E0=%g m=%g: %s\n", E0, m, err.msg);
  assert_int_equal(st, NA64_OK);
  return s;
}

static double exact_sigma(na64_lepton beam, na64_mediator med, double E0, double m, double *abserr)
{
  return exact_sigma_ff(beam, med, E0, m, NA64_FF_ELASTIC, 0.01, abserr);
}

/* e- Pb -> e- Pb A', eps = 1e-4: DMG4 reference table (refdata/dmg4_sigma_total_Pb_eps1e-4.csv),
 * with the elastic + inelastic (quasi-elastic proton) form factor, which is what the ETL values
 * behind DMG4's K table contain (docs/physics.md 4b: with the elastic term alone the exact sigma is
 * 1.4-2.9% low and 6% low at 1 GeV, 20 GeV). Tolerance 3% (measured within 2.1% at m >= 2 MeV;
 * at 1 MeV DMG4's low-mass table, 1.5-2% ours over it). The Gauss rules of na64_xsec_exact_quad at
 * 0.3% (the library default is 1%; here the integration error is kept well below the 2% of the
 * physics comparison). */
static void test_dmg4_etl_table(void **state)
{
  (void)state;
  na64_test_csv csv;
  na64_test_load_refdata("dmg4_sigma_total_Pb_eps1e-4.csv", &csv);
  int cE = na64_test_csv_col(&csv, "E0_GeV"), cm = na64_test_csv_col(&csv, "mass_MeV"), cs = na64_test_csv_col(&csv, "sigma_pb");
  const double Es[] = {20, 100, 160}, ms[] = {1, 10, 100, 1000};
  int checked = 0;
  for (int r = 0; r < csv.nrows; ++r) {
    double E = csv.v[r * csv.ncols + cE], m = csv.v[r * csv.ncols + cm], ref = csv.v[r * csv.ncols + cs];
    int want = 0;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j) want |= (E == Es[i] && m == ms[j]);
    if (!want) continue;
    double e, s = exact_sigma_ff(NA64_LEPTON_E, NA64_MED_VECTOR, E, m * 1e-3, NA64_FF_ALL, 0.003, &e) * 1e-8; /* eps^2 */
    assert_true(e * 1e-8 < 0.003 * s);
    print_message("E0 = %3g GeV m = %4g MeV: exact %.4g pb, DMG4 %.4g pb, ratio %.4f\n", E, m, s, ref, s / ref);
    assert_rel(s, ref, 0.03);
    ++checked;
  }
  assert_int_equal(checked, 12);
  na64_test_csv_free(&csv);
}

/* The WW limit: at moderate x (far from x -> 1, where the WW t_min approximation fails; Liu,
 * Morrissey, Yu PRD 96 (2017) 036010, Sec. IV) the exact d sigma/dx with the full form factor
 * approaches the WW d sigma/dx of xsec.c (BEST App. A): we measure +5.1% at x = 0.5, m = 10 MeV
 * (tolerance 7%); at x -> 1 it falls well below WW. */
static void test_ww_limit(void **state)
{
  (void)state;
  na64_exact_process p;
  na64_exact_process_init(&p, NA64_LEPTON_E, NA64_MED_VECTOR, 100.0, 0.01);
  p.ff = NA64_FF_ALL;
  double ex, e, ww;
  assert_int_equal(na64_xsec_exact_dsdx(&p, 0.5, &ex, &e, NULL), NA64_OK);
  assert_int_equal(na64_xsec_dsdx(NA64_XS_WW, 0.5, 100.0, 0.01, 1.0, 82, 207, &ww, NULL), NA64_OK);
  print_message("x = 0.5: exact %.5g, WW %.5g pb (ratio %.4f)\n", ex, ww, ex / ww);
  assert_true(e < 1e-3 * ex);
  assert_rel(ex, ww, 0.07);
  assert_int_equal(na64_xsec_exact_dsdx(&p, 0.9999, &ex, &e, NULL), NA64_OK);
  assert_int_equal(na64_xsec_dsdx(NA64_XS_WW, 0.9999, 100.0, 0.01, 1.0, 82, 207, &ww, NULL), NA64_OK);
  assert_true(ex < 0.8 * ww);
}

/* d sigma/dx dcos integrated over cos theta reproduces d sigma/dx (the two share only the t
 * integral), by a simple trapezoid in ln theta */
static void test_angular_consistency(void **state)
{
  (void)state;
  na64_exact_process p;
  na64_exact_process_init(&p, NA64_LEPTON_E, NA64_MED_VECTOR, 100.0, 0.1);
  double x = 0.9, dsdx, e;
  assert_int_equal(na64_xsec_exact_dsdx(&p, x, &dsdx, &e, NULL), NA64_OK);
  double sum = 0.0, prev = 0.0, prevth = 0.0;
  for (int i = 0; i <= 400; ++i) {
    double th = 1e-6 * pow(1e5, i / 400.0), f;
    assert_int_equal(na64_xsec_exact_dsdxdcos(&p, x, cos(th), &f, NULL, NULL), NA64_OK);
    double g = f * sin(th) * th; /* d/d ln theta */
    if (i) sum += 0.5 * (g + prev) * (log(th) - log(prevth));
    prev = g;
    prevth = th;
  }
  print_message("x = 0.9: int dcos %.5g vs d sigma/dx %.5g\n", sum, dsdx);
  assert_rel(sum, dsdx, 0.02);
}

/* Muon beam: sigma_mu < sigma_e, and the ratio for m_X >> m_mu follows the IWW logarithms
 * ln(m_X^2/m_mu^2)/ln(E0^2/m_X^2) (BEST eq. A16 with delta = max(m_l/m_X, m_X/E0)) within 30% at
 * m_X = 1 GeV, E0 = 160 GeV. At m_X = 10 MeV << m_mu it lies between (m_e/m_mu)^2 sigma_e and
 * sigma_e (the propagator scale is set by m_mu instead of m_X). Not yet compared with a published
 * muon number (docs/physics.md says so). */
static void test_muon_scaling(void **state)
{
  (void)state;
  double e, se = exact_sigma(NA64_LEPTON_E, NA64_MED_VECTOR, 160.0, 1.0, &e);
  double smu = exact_sigma(NA64_LEPTON_MU, NA64_MED_VECTOR, 160.0, 1.0, &e);
  double expect = log(1.0 / (NA64_M_MU * NA64_M_MU)) / log(160.0 * 160.0);
  print_message("m = 1 GeV: sigma_mu/sigma_e = %.4f (IWW logarithms %.4f)\n", smu / se, expect);
  assert_rel(smu / se, expect, 0.3);
  double se10 = exact_sigma(NA64_LEPTON_E, NA64_MED_VECTOR, 160.0, 0.01, &e);
  double smu10 = exact_sigma(NA64_LEPTON_MU, NA64_MED_VECTOR, 160.0, 0.01, &e);
  assert_true(smu10 < se10);
  assert_true(smu10 > se10 * pow(NA64_M_E / NA64_M_MU, 2));
  /* the L_mu - L_tau Z' with g' = eps e is the dark photon for a muon beam */
  na64_exact_process p;
  na64_exact_process_init(&p, NA64_LEPTON_MU, NA64_MED_ZPRIME, 160.0, 0.01);
  p.coupling = sqrt(4.0 * M_PI * NA64_ALPHA_EM);
  double sz;
  assert_int_equal(na64_xsec_exact_quad(&p, 0.01, &sz, &e, NULL), NA64_OK);
  assert_rel(sz, smu10, 1e-9);
}

/* Scalar and pseudoscalar: for m_X >> m_e the lepton chirality no longer matters and the two
 * agree (Liu, Morrissey, Yu PRD 96 (2017) 036010 discuss the same limit); both positive. */
static void test_scalar_pseudoscalar(void **state)
{
  (void)state;
  double e, ss = exact_sigma(NA64_LEPTON_E, NA64_MED_SCALAR, 100.0, 0.1, &e);
  double sp = exact_sigma(NA64_LEPTON_E, NA64_MED_PSEUDOSCALAR, 100.0, 0.1, &e);
  assert_true(ss > 0 && sp > 0);
  assert_rel(ss, sp, 0.03);
}

/* Axial vector, coupling g (L = -g X_mu l-bar gamma^mu gamma5 l). For m_X >> m_e it equals the
 * vector with the same g (chirality irrelevant; measured 0.02%, tolerance 2% for the two 1%
 * quadrature errors). For a muon beam and m_X << m_mu the longitudinal mode is the pseudoscalar with
 * coupling 2 g m_mu/m_X (Goldstone equivalence, Kahn, Krnjaic, Mishra-Sharma, Tait JHEP 05 (2017)
 * 002): sigma_A ~ sigma_V + (2 m_mu/m_X)^2 sigma_P, measured +4.0% at m_X = 10 MeV, 160 GeV (the
 * remaining terms are O(m_X/m_mu)); tolerance 6%. The code uses the equivalence only in the
 * cancellation-free form eps_L.J_A = (eps_L - k/m_X).J_A - (2 m/m_X) M_P, which is exact. */
static void test_axial(void **state)
{
  (void)state;
  double e, g_e = sqrt(4.0 * M_PI * NA64_ALPHA_EM); /* vector coupling eps = 1 means g = e */
  double sa = exact_sigma(NA64_LEPTON_E, NA64_MED_AXIAL, 100.0, 0.1, &e);
  double sv = exact_sigma(NA64_LEPTON_E, NA64_MED_VECTOR, 100.0, 0.1, &e) / (g_e * g_e);
  print_message("e, 100 MeV: axial/vector = %.4f\n", sa / sv);
  assert_rel(sa, sv, 0.02);
  double m = 0.01, r = 2.0 * NA64_M_MU / m;
  double sa_mu = exact_sigma(NA64_LEPTON_MU, NA64_MED_AXIAL, 160.0, m, &e);
  double sv_mu = exact_sigma(NA64_LEPTON_MU, NA64_MED_VECTOR, 160.0, m, &e) / (g_e * g_e);
  double sp_mu = exact_sigma(NA64_LEPTON_MU, NA64_MED_PSEUDOSCALAR, 160.0, m, &e);
  print_message("mu, 10 MeV: axial %.4g, vector + (2m/mX)^2 pseudoscalar %.4g\n", sa_mu, sv_mu + r * r * sp_mu);
  assert_rel(sa_mu, sv_mu + r * r * sp_mu, 0.06);
  assert_string_equal(na64_mediator_name(NA64_MED_AXIAL), "axial");
}

/* The table builder: nodes reproduce the direct macroscopic cross section of Pb; between nodes
 * (20, 56.6, 160 GeV) the ln-sigma interpolation is within 3% of a direct evaluation at 100 GeV
 * (sigma(E) grows slowly, ~ ln E, at m = 100 MeV). */
static void test_table(void **state)
{
  (void)state;
  na64_material pb;
  assert_int_equal(na64_material_get("Pb", &pb, NULL), NA64_OK);
  na64_exact_process p;
  na64_exact_process_init(&p, NA64_LEPTON_E, NA64_MED_VECTOR, 100.0, 0.1);
  na64_exact_table *t = NULL;
  na64_err err = {0};
  assert_int_equal(na64_exact_table_new(&p, &pb, 20.0, 160.0, 3, 0.01, &t, &err), NA64_OK);
  assert_true(na64_exact_table_max_rel_error(t) < 0.01);
  double e, direct = exact_sigma(NA64_LEPTON_E, NA64_MED_VECTOR, 100.0, 0.1, &e);
  double n = na64_material_atom_density(&pb, 0);
  assert_rel(na64_exact_table_eval(t, 100.0), n * direct * 1e-36, 0.03);
  assert_true(na64_exact_table_eval(t, 0.05) == 0.0);
  na64_exact_table_free(t);
  assert_int_equal(na64_exact_table_new(&p, &pb, 0.05, 160.0, 3, 0.01, &t, &err), NA64_EINVAL);
}

static void test_errors(void **state)
{
  (void)state;
  na64_exact_process p;
  na64_exact_process_init(&p, NA64_LEPTON_E, NA64_MED_ZPRIME, 100.0, 0.01);
  na64_err err = {0};
  double s, e;
  assert_int_equal(na64_xsec_exact_total(&p, 0.01, 1, &s, &e, &err), NA64_EPHYS);
  assert_non_null(strstr(err.msg, "L_mu - L_tau"));
  na64_exact_process_init(&p, NA64_LEPTON_E, NA64_MED_VECTOR, 0.005, 0.01);
  assert_int_equal(na64_xsec_exact_total(&p, 0.01, 1, &s, &e, &err), NA64_EPHYS);
  na64_exact_process_init(&p, NA64_LEPTON_E, NA64_MED_VECTOR, 100.0, 0.01);
  assert_int_equal(na64_xsec_exact_dsdx(&p, 1.5, &s, &e, &err), NA64_EINVAL);
  assert_int_equal(na64_xsec_exact_dsdxdcos(&p, 0.5, 2.0, &s, &e, &err), NA64_EINVAL);
  p.Z = 0;
  assert_int_equal(na64_xsec_exact_dsdx(&p, 0.5, &s, &e, &err), NA64_EINVAL);
  assert_string_equal(na64_mediator_name(NA64_MED_PSEUDOSCALAR), "pseudoscalar");
}

/* The K factor K = sigma_IWW/sigma_exact against DMG4's K table (data/dmg4_kfactor.csv, the
 * table of Gninenko, Kirpichnikov, Kirsanov, Krasnikov PLB 782 (2018) 406 as shipped by DMG4):
 * the numerator is the IWW that DMG4 divides by K, (4/3) alpha^3 chi_el beta ln(1/delta^2)/m^2
 * with the ELASTIC flux only, the denominator our exact sigma with the elastic + inelastic form
 * factor (docs/physics.md 4b: the "IWW normalisation" difference was the elastic + inelastic IWW
 * of NA64_XS_IWW in the numerator, and the elastic-only exact sigma). Tolerance 3% (issue 14);
 * measured within 2.1% at all 184 points 2 MeV-1 GeV, 20-160 GeV (VEGAS 0.5%); here the Gauss rules
 * at 0.3%. */
static double iww_elastic(double E0, double m)
{
  double tmin = pow(m * m / (2.0 * E0), 2), tmax = m * m, chi = na64_chi_elastic_closed(tmin, tmax, 82, 207);
  double beta = sqrt(1.0 - m * m / (E0 * E0)), delta = fmax(NA64_M_E / m, m / E0), a = NA64_ALPHA_EM;
  return NA64_GEV2_PB * 4.0 / 3.0 * a * a * a * chi * beta * log(1.0 / (delta * delta)) / (m * m);
}

static void test_kfactor_table(void **state)
{
  (void)state;
  const double Es[] = {20, 100, 160}, ms[] = {0.002, 0.01, 0.1, 0.5, 1.0};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 5; ++j) {
      double e, s = exact_sigma_ff(NA64_LEPTON_E, NA64_MED_VECTOR, Es[i], ms[j], NA64_FF_ALL, 0.003, &e), K;
      assert_int_equal(na64_kfactor(ms[j], Es[i], &K, NULL), NA64_OK);
      double ours = iww_elastic(Es[i], ms[j]) / s;
      print_message("K at %g GeV, %g MeV: ours %.4f, DMG4 %.4f, ratio %.4f\n", Es[i], ms[j] * 1e3, ours, K, ours / K);
      assert_rel(ours, K, 0.03);
    }
}

/* The energy window x >= x_min: 0 gives the total (same seed, same value), a closed window 0, a
 * window from x_min = 0.5 a part of the total (at 16.7 MeV, 100 GeV, the exact spectrum is hard:
 * more than half of sigma lies above x = 0.5), x_min outside [0, 1) an error. */
static void test_window(void **state)
{
  (void)state;
  na64_exact_process p;
  na64_exact_process_init(&p, NA64_LEPTON_E, NA64_MED_VECTOR, 100.0, 0.0167);
  double all, half, none, e;
  assert_int_equal(na64_xsec_exact_total(&p, 0.01, 3, &all, &e, NULL), NA64_OK);
  p.x_min = 0.5;
  assert_int_equal(na64_xsec_exact_total(&p, 0.01, 3, &half, &e, NULL), NA64_OK);
  p.x_min = 1.0 - 1e-7;
  assert_int_equal(na64_xsec_exact_total(&p, 0.01, 3, &none, &e, NULL), NA64_OK);
  assert_true(none == 0.0);
  assert_true(half > 0.5 * all && half < all);
  p.x_min = 1.0;
  na64_err err = {0};
  assert_int_equal(na64_xsec_exact_total(&p, 0.01, 3, &none, &e, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "x_min"));
}

/* na64_xsec_exact_cached: computed once, then from memory; a store sees one save per key and is
 * asked before computing; the value is the fixed-seed VEGAS total. */
static int loads, saves;
static char saved_key[512];
static int count_load(void *u, const char *key, double *pb, double *e)
{
  (void)u, (void)key, (void)pb, (void)e;
  ++loads;
  return 0;
}
static void count_save(void *u, const char *key, double pb, double e)
{
  (void)u, (void)pb, (void)e;
  snprintf(saved_key, sizeof saved_key, "%s", key);
  ++saves;
}
static void test_cached(void **state)
{
  (void)state;
  na64_exact_store st = {count_load, count_save, NULL};
  na64_exact_store_set(&st);
  na64_exact_process p;
  na64_exact_process_init(&p, NA64_LEPTON_MU, NA64_MED_ZPRIME, 160.0, 0.0333);
  double a, b, ea, eb;
  assert_int_equal(na64_xsec_exact_cached(&p, 0.02, &a, &ea, NULL), NA64_OK);
  assert_int_equal(na64_xsec_exact_cached(&p, 0.02, &b, &eb, NULL), NA64_OK);
  na64_exact_store_set(NULL);
  assert_true(a == b && ea == eb && a > 0.0 && ea < 0.02 * a);
  assert_int_equal(loads, 1);
  assert_int_equal(saves, 1);
  char key[512];
  na64_exact_key(&p, 0.02, key, sizeof key);
  assert_string_equal(key, saved_key);
  assert_non_null(strstr(key, "zprime"));
  assert_int_equal(na64_xsec_exact_cached(&p, 0.0, &a, &ea, NULL), NA64_EINVAL);
}

/* Z' (L_mu - L_tau) invisible fraction: 1 below the mu+mu- threshold; far above it (1 GeV)
 * Gamma(nu nu)/(Gamma(nu nu) + Gamma(mu mu)) -> 1/2 (two neutrino flavours of g^2 m/(24 pi) each
 * against g^2 m/(12 pi) for mu+mu-), here 1/(1 + (1 + 2r) sqrt(1 - 4r)) with r = (m_mu/1 GeV)^2. */
static void test_br_invisible(void **state)
{
  (void)state;
  assert_true(na64_mediator_br_invisible(NA64_MED_ZPRIME, 0.2) == 1.0);
  double r = pow(NA64_M_MU / 1.0, 2);
  assert_rel(na64_mediator_br_invisible(NA64_MED_ZPRIME, 1.0), 1.0 / (1.0 + (1.0 + 2.0 * r) * sqrt(1.0 - 4.0 * r)), 1e-12);
  assert_true(na64_mediator_br_invisible(NA64_MED_VECTOR, 1.0) == 1.0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dmg4_etl_table),   cmocka_unit_test(test_ww_limit),
      cmocka_unit_test(test_angular_consistency), cmocka_unit_test(test_muon_scaling),
      cmocka_unit_test(test_scalar_pseudoscalar), cmocka_unit_test(test_axial),  cmocka_unit_test(test_table),
      cmocka_unit_test(test_errors),          cmocka_unit_test(test_kfactor_table),
      cmocka_unit_test(test_window),          cmocka_unit_test(test_cached),
      cmocka_unit_test(test_br_invisible),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
