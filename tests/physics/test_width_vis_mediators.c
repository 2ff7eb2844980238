/* The X17 mediators of the visible mode (visscal, issue 12; docs/physics.md 2, docs/visible.md
 * "Scalar and axial X17"): the scalar S and the axial vector X decaying to e+e-, next to the vector
 * A' and the pseudoscalar a, with g = eps e.
 *
 *  - widths: na64_width_{scalar,axial,pseudoscalar}_ll and na64_width_mediator_ll against the
 *    two-body width computed here from the spin sums by explicit 4 x 4 Dirac matrices (traces taken
 *    numerically, the polarisation sum -g + k k/m^2 of a massive vector contracted numerically):
 *    an evaluation independent of the closed forms in decay.c; 1e-10;
 *  - the visible yield of the scalar and axial against the vector's (both exact): the production is
 *    a T(E) sigma^V-weighted mean of r(E) = sigma^X(E; E_X > ea_min)/sigma^V(E; E_X > ea_min) over the
 *    emitter energies E in (ea_min, E0], so it lies within the range of r(E) computed here with
 *    na64_xsec_exact_quad (0.3%) on the WCAL's elements (2%: the grids' accuracy, the quadrature, r
 *    between its nodes); for long-lived X (eps = 1e-6, decay length >> the region) the decay
 *    probability is L / l = L Gamma m / (p hbar c), so the yield per produced X is the width ratio
 *    Gamma_X/Gamma_V times the ratio of <1/E_X> over the two spectra; that ratio lies between 1 and its
 *    value for the primary electron at E0 (the shower's softer emitters pull both spectra together),
 *    computed here from the direct windowed cross sections (na64_xsec_exact_quad; 2% margin);
 *  - the sampler (na64_vis_sampler) of a thin tungsten dump (0.05 X0) with short-lived X decaying right
 *    behind it draws E_X with the exact d sigma/dx of the scalar: the fractions of the events in
 *    x bins against the direct exact cross section in those bins, differences of
 *    na64_xsec_exact_quad windows (3% relative + 3 binomial sigma: the
 *    beam electron's ~3% energy loss in 0.05 X0 softens the sampled spectrum slightly), and they
 *    differ from the vector's (the test can tell the two apart). */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "na64/physics.h"
#include "na64/sim.h"
#include "support/exact_tungsten.h"
#include "support/na64_test.h"

/* ---------- widths from explicit Dirac matrices ---------- */
typedef double complex mat4[4][4];

static void mat_mul(mat4 a, mat4 b, mat4 out)
{
  mat4 r;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      r[i][j] = 0;
      for (int k = 0; k < 4; ++k) r[i][j] += a[i][k] * b[k][j];
    }
  memcpy(out, r, sizeof r);
}

static double complex mat_trace(mat4 a) { return a[0][0] + a[1][1] + a[2][2] + a[3][3]; }

/* Dirac representation: gamma^0 = diag(1, 1, -1, -1), gamma^i = ((0, sigma_i), (-sigma_i, 0)), gamma5 = ((0, 1), (1, 0)) */
static mat4 G[4], G5, ONE;
static void gammas(void)
{
  const double complex s[3][2][2] = {{{0, 1}, {1, 0}}, {{0, -I}, {I, 0}}, {{1, 0}, {0, -1}}};
  memset(G, 0, sizeof G);
  memset(G5, 0, sizeof G5);
  memset(ONE, 0, sizeof ONE);
  for (int i = 0; i < 4; ++i) ONE[i][i] = 1;
  G[0][0][0] = G[0][1][1] = 1;
  G[0][2][2] = G[0][3][3] = -1;
  for (int k = 0; k < 3; ++k)
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) {
        G[k + 1][a][b + 2] = s[k][a][b];
        G[k + 1][a + 2][b] = -s[k][a][b];
      }
  for (int a = 0; a < 2; ++a) G5[a][a + 2] = G5[a + 2][a] = 1;
}

/* pslash + c for the four-vector p (upper index): gamma^0 p^0 - gamma^i p^i */
static void slash(const double p[4], double c, mat4 out)
{
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      out[i][j] = G[0][i][j] * p[0] - G[1][i][j] * p[1] - G[2][i][j] * p[2] - G[3][i][j] * p[3] + (i == j ? c : 0);
}

/* Gamma(X -> l+l-) at coupling g from sum |M|^2 = Tr[(p1slash + m) V (p2slash - m) Vbar] (averaged over
 * the 3 polarisations of a vector, contracted with -g_mu nu + k_mu k_nu/M^2), Gamma = <|M|^2> q/(8 pi M^2) */
static double width_trace(na64_mediator med, double M, double g, double ml)
{
  gammas();
  double q = sqrt(0.25 * M * M - ml * ml), E = 0.5 * M;
  const double p1[4] = {E, 0.3 * q, -0.4 * q, sqrt(0.75) * q}, p2[4] = {E, -p1[1], -p1[2], -p1[3]};
  mat4 A, B, t;
  slash(p1, ml, A);  /* p1slash + m: the lepton */
  slash(p2, -ml, B); /* p2slash - m: the antilepton */
  double msq = 0.0;
  if (med == NA64_MED_SCALAR || med == NA64_MED_PSEUDOSCALAR) {
    mat4 V;
    if (med == NA64_MED_SCALAR) memcpy(V, ONE, sizeof V);
    else
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) V[i][j] = I * G5[i][j]; /* i gamma5, and its Dirac adjoint is i gamma5 */
    mat_mul(A, V, t);
    mat_mul(t, B, t);
    mat_mul(t, V, t);
    msq = creal(mat_trace(t));
  } else {
    const double gdiag[4] = {1, -1, -1, -1}, k_low[4] = {M, 0, 0, 0}; /* k = p1 + p2 at rest */
    for (int mu = 0; mu < 4; ++mu)
      for (int nu = 0; nu < 4; ++nu) {
        double P = (mu == nu ? -gdiag[mu] : 0.0) + k_low[mu] * k_low[nu] / (M * M);
        if (P == 0.0) continue;
        mat4 Vm, Vn; /* gamma^mu (gamma5): the axial's adjoint gamma0 (gamma^nu gamma5)^dagger gamma0 = gamma^nu gamma5 */
        memcpy(Vm, G[mu], sizeof Vm);
        memcpy(Vn, G[nu], sizeof Vn);
        if (med == NA64_MED_AXIAL) {
          mat_mul(Vm, G5, Vm);
          mat_mul(Vn, G5, Vn);
        }
        mat_mul(A, Vm, t);
        mat_mul(t, B, t);
        mat_mul(t, Vn, t);
        msq += P * creal(mat_trace(t));
      }
    msq /= 3.0;
  }
  return g * g * msq * q / (8.0 * M_PI * M * M);
}

static void test_widths(void **state)
{
  (void)state;
  const double g = sqrt(4.0 * M_PI * NA64_ALPHA_EM); /* eps = 1 */
  const double ms[] = {0.00105, 0.0025, 0.0167, 0.1, 0.5};
  const na64_mediator meds[] = {NA64_MED_VECTOR, NA64_MED_SCALAR, NA64_MED_PSEUDOSCALAR, NA64_MED_AXIAL};
  for (size_t i = 0; i < sizeof ms / sizeof ms[0]; ++i)
    for (size_t k = 0; k < 4; ++k) {
      double ref = width_trace(meds[k], ms[i], g, NA64_M_E), w = na64_width_mediator_ll(meds[k], ms[i], g, NA64_M_E);
      assert_rel(w, ref, 1e-10);
    }
  /* the named functions, and the vector's against the A' width of decay.c at eps = 1 */
  for (size_t i = 0; i < sizeof ms / sizeof ms[0]; ++i) {
    double m = ms[i];
    assert_rel(na64_width_scalar_ll(m, g, NA64_M_E), width_trace(NA64_MED_SCALAR, m, g, NA64_M_E), 1e-10);
    assert_rel(na64_width_axial_ll(m, g, NA64_M_E), width_trace(NA64_MED_AXIAL, m, g, NA64_M_E), 1e-10);
    assert_rel(na64_width_pseudoscalar_ll(m, g, NA64_M_E), width_trace(NA64_MED_PSEUDOSCALAR, m, g, NA64_M_E), 1e-10);
    assert_rel(na64_width_mediator_ll(NA64_MED_VECTOR, m, g, NA64_M_E), na64_width_ll(m, 1.0, NA64_M_E), 1e-12);
  }
  /* the muon's too (the trace knows nothing of the electron) */
  assert_rel(na64_width_axial_ll(0.5, 0.1, NA64_M_MU), width_trace(NA64_MED_AXIAL, 0.5, 0.1, NA64_M_MU), 1e-10);
  assert_true(na64_width_scalar_ll(0.001, g, NA64_M_E) == 0.0); /* below threshold */
  assert_true(na64_width_axial_ll(0.001, g, NA64_M_E) == 0.0);
  assert_true(isnan(na64_width_mediator_ll((na64_mediator)9, 0.0167, g, NA64_M_E)));
}

/* ---------- yields ---------- */
#define E0 100.0
#define EA_MIN 50.0
#define MASS 0.0167

static void dump_of(na64_mediator med, na64_beamdump *d)
{
  na64_material wcal;
  assert_int_equal(na64_material_get("WCAL", &wcal, NULL), NA64_OK);
  na64_beamdump_init_visible(d, &wcal, E0, 30.1, EA_MIN, 35.4, 295.0);
  d->method = NA64_XS_EXACT;
  d->mediator = med;
}

/* sum_j n_j sigma_j(E; E_X > EA_MIN) in 1/cm at the coupling g = e (eps = 1) by the Gauss rules (0.3%) */
static double macro_quad(na64_mediator med, double E)
{
  na64_material wcal;
  assert_int_equal(na64_material_get("WCAL", &wcal, NULL), NA64_OK);
  double sum = 0.0;
  for (int j = 0; j < wcal.ncomp; ++j) {
    na64_exact_process p;
    na64_exact_process_init(&p, NA64_LEPTON_E, med, E, MASS);
    p.Z = wcal.comp[j].Z;
    p.A = wcal.comp[j].A;
    p.ff = NA64_FF_ALL;
    p.x_min = EA_MIN / E;
    double s = 0.0, e = 0.0;
    na64_err err = {0, ""};
    assert_int_equal(na64_xsec_exact_quad(&p, 0.003, &s, &e, &err), NA64_OK);
    sum += na64_material_atom_density(&wcal, j) * s * 1e-36;
  }
  return med == NA64_MED_VECTOR ? sum : sum * 4.0 * M_PI * NA64_ALPHA_EM; /* g = eps e */
}

/* sigma(E; x > x_min) on W (Z 74, A 183.84; the element whose shape the yield takes, yield.c
 * heaviest_component) by the direct quadrature na64_xsec_exact_quad to 5e-4 (a difference of two
 * windows then holds a bin to ~1e-3 of sigma: tests/physics/test_exact_wgrid_vis.c) */
static double window(na64_mediator med, double E, double x_min)
{
  na64_exact_process p;
  na64_test_exact_tungsten(&p, med, E, MASS);
  p.x_min = x_min;
  double s = 0.0, e = 0.0;
  na64_err err = {0, ""};
  if (na64_xsec_exact_quad(&p, 5e-4, &s, &e, &err)) fail_msg("%s", err.msg);
  return s;
}

/* <1/x> over x > a of d sigma/dx at E: int_a^1 f/x dx = S(a)/a - int_a^1 S(x)/x^2 dx (by parts, S(x) =
 * sigma(x' > x)), Simpson on 8 intervals (S/x^2 is smooth but for the last 1e-3 in x below the end) */
static double mean_inv_x(na64_mediator med, double E, double a)
{
  const int n = 8;
  double h = (1.0 - a) / n, sum = 0.0, Sa = 0.0;
  for (int k = 0; k <= n; ++k) {
    double x = a + k * h, S = k == n ? 0.0 : window(med, E, x);
    if (k == 0) Sa = S;
    sum += ((k == 0 || k == n) ? 1.0 : (k % 2 ? 4.0 : 2.0)) * S / (x * x);
  }
  return (Sa / a - sum * h / 3.0) / Sa;
}

static void test_yield_ratio(void **state)
{
  (void)state;
  const double Es[] = {E0, 75.0, 53.0};
  const na64_mediator meds[] = {NA64_MED_SCALAR, NA64_MED_AXIAL};
  const double eps = 1e-6, g = sqrt(4.0 * M_PI * NA64_ALPHA_EM);
  na64_beamdump d;
  na64_yield *yv = NULL;
  na64_err err = {0, ""};
  dump_of(NA64_MED_VECTOR, &d);
  assert_int_equal(na64_yield_new(&d, MASS, &yv, &err), NA64_OK);
  double pv = na64_yield_production(yv), dv = na64_yield_per_eot(yv, eps) / (eps * eps * pv);
  double sv[3], inv_v = mean_inv_x(NA64_MED_VECTOR, E0, EA_MIN / E0);
  for (int e = 0; e < 3; ++e) sv[e] = macro_quad(NA64_MED_VECTOR, Es[e]);
  for (int k = 0; k < 2; ++k) {
    na64_yield *y = NULL;
    dump_of(meds[k], &d);
    assert_int_equal(na64_yield_new(&d, MASS, &y, &err), NA64_OK);
    double px = na64_yield_production(y), rY = px / pv, rlo = INFINITY, rhi = 0.0;
    for (int e = 0; e < 3; ++e) {
      double r = macro_quad(meds[k], Es[e]) / sv[e];
      rlo = fmin(rlo, r);
      rhi = fmax(rhi, r);
    }
    /* long-lived: yield per produced X relative to the vector's = width ratio x <1/E> ratio */
    double dx = na64_yield_per_eot(y, eps) / (eps * eps * px);
    double wr = na64_width_mediator_ll(meds[k], MASS, g, NA64_M_E) / na64_width_ll(MASS, 1.0, NA64_M_E);
    double inv_x = mean_inv_x(meds[k], E0, EA_MIN / E0);
    double rd = dx / dv / wr, r1 = inv_x / inv_v;
    print_message("%-6s 16.7 MeV: production Y_X/Y_V = %.4f, r(E) in [%.4f, %.4f] at 53, 75, 100 GeV; decay factor / "
                  "width ratio %.4f = %.4f, <1/x> ratio of the primary at E0 %.4f\n", na64_mediator_name(meds[k]), rY,
                  rlo, rhi, dx / dv, rd, r1);
    assert_true(rY > rlo * 0.98 && rY < rhi * 1.02);
    assert_true(rd > fmin(1.0, r1) - 0.02 && rd < fmax(1.0, r1) + 0.02);
    na64_yield_free(y);
  }
  na64_yield_free(yv);
}

/* ---------- the sampler's spectrum ---------- */
static void test_sampler_spectrum(void **state)
{
  (void)state;
  static const double xb[] = {0.5, 0.7, 0.8, 0.9, 0.95, 1.0}; /* edges on the yield's 1.25 GeV energy bins */
  enum { NB = 5, N = 100000 };
  double frac[2][NB], ref[2][NB];
  const na64_mediator meds[2] = {NA64_MED_SCALAR, NA64_MED_VECTOR};
  na64_material wcal;
  assert_int_equal(na64_material_get("WCAL", &wcal, NULL), NA64_OK);
  for (int k = 0; k < 2; ++k) {
    na64_beamdump d;
    /* 0.005 X0 of WCAL, the decay region right behind it and long; eps = 1e-3: l ~ 3 cm at 50 GeV, so
     * every X decays in the region, nearly independently of its energy (exp(-0.005 cm / l) > 0.998) */
    na64_beamdump_init_visible(&d, &wcal, E0, 0.005, EA_MIN, 0.0, 1e4);
    d.method = NA64_XS_EXACT;
    d.mediator = meds[k];
    na64_vis_sampler *s = NULL;
    na64_err err = {0, ""};
    if (na64_vis_sampler_new(&d, MASS, 1e-3, &s, &err)) fail_msg("%s", err.msg);
    na64_vis_acceptance acc;
    na64_vis_acceptance_default(&acc);
    int cnt[NB] = {0};
    for (int i = 0; i < N; ++i) {
      na64_rng rng;
      na64_rng_init(&rng, 29, (uint64_t)i);
      na64_vis_event ev;
      na64_vis_sampler_event(s, &acc, &rng, &ev);
      double x = ev.energy / E0;
      for (int b = 0; b < NB; ++b)
        if (x >= xb[b] && x < xb[b + 1]) cnt[b]++;
    }
    na64_vis_sampler_free(s);
    /* the yield evaluates its emitters at the centres of 128 bins equal in ln E from EA_MIN to E0 (yield.c
     * build_tables): in a thin target all at the top one, Et = E0 (EA_MIN/E0)^(1/256), 0.27% below E0;
     * so the reference is d sigma/dx at Et over the same E_X bins (at E0 instead ~0.006 of the events
     * would cross the edge at 0.95) */
    const double Et = E0 * pow(EA_MIN / E0, 1.0 / 256.0);
    double S[NB + 1];
    for (int b = 0; b <= NB; ++b) S[b] = b == NB ? 0.0 : window(meds[k], Et, xb[b] * E0 / Et);
    for (int b = 0; b < NB; ++b) {
      frac[k][b] = (double)cnt[b] / N;
      ref[k][b] = (S[b] - S[b + 1]) / S[0];
    }
  }
  int differs = 0;
  for (int b = 0; b < NB; ++b) {
    double sig = sqrt(ref[0][b] * (1.0 - ref[0][b]) / N), tol = 0.03 * ref[0][b] + 3.0 * sig;
    print_message("x in [%.2f, %.2f): scalar sampled %.4f, exact d sigma/dx %.4f; vector sampled %.4f, exact %.4f\n",
                  xb[b], xb[b + 1], frac[0][b], ref[0][b], frac[1][b], ref[1][b]);
    assert_true(fabs(frac[0][b] - ref[0][b]) <= tol);
    differs |= fabs(ref[1][b] - ref[0][b]) > 2.0 * tol; /* the scalar's spectrum is not the vector's */
  }
  assert_true(differs);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_widths),
      cmocka_unit_test(test_yield_ratio),
      cmocka_unit_test(test_sampler_spectrum),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
