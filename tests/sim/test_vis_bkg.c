/* The visible-mode backgrounds of the NA64 report's Table 2 (src/sim/vis_bkg*.c, issue 12).
 * - The weights are exact: with the signal box opened (every cut but the ECAL fraction always
 *   passed) the accidental, muon and hadron routes reproduce their closed forms (the accidental:
 *   rate x window x fractions x inefficiency; the muon: PDG eq. 34.29 bremsstrahlung x photon
 *   survival exp(-7/9 t) (Tsai RMP 46 (1974) 815) plus the decay probability x the boosted Michel
 *   spectrum; the hadron: a quadrature of the same physics over depth and x_F written here
 *   independently, with the counting-rule spectra (n = 1 kaons, n = 3 Lambda) and the WCAL shower
 *   starting in the first X0 or anywhere) within 4 sigma of the Monte Carlo error; and in the real box each source's
 *   plain (bias 1) and biased estimates agree within 4 sigma.
 * - Bad card values are errors naming the key.
 * Tolerances: 4 sigma of the statistical errors (a false alarm once in ~16000 runs; the streams are
 * fixed, so a pass is reproducible); the quadratures' own error is below 1e-3 (midpoint rule on a
 * 400 x 400 grid of smooth integrands). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "na64/sim.h"
#include "support/na64_test.h"

#define DB NA64_BINARY_DIR "/conditions.db"

static na64_vis_sim *make_sim(double spread)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/configs/visible_2017.yaml", NA64_SOURCE_DIR);
  na64_vis_config c;
  na64_vis_config_default(&c);
  na64_err err = {0, ""};
  if (na64_vis_config_load(path, &c, &err)) fail_msg("%s", err.msg);
  snprintf(c.conditions, sizeof c.conditions, "%s", DB);
  c.momentum_spread = spread;
  na64_vis_sim *s = NULL;
  if (na64_vis_sim_new(&c, &s, &err)) fail_msg("%s", err.msg);
  return s;
}

static na64_vis_bkg_result estimate(const na64_vis_sim *s, const na64_vis_bkg_config *c, int source)
{
  na64_vis_bkg_result r;
  na64_err err = {0, ""};
  if (na64_vis_bkg_estimate(s, c, source, 7, &r, &err)) fail_msg("%s", err.msg);
  return r;
}

/* |a - b| within 4 sigma of the combined error */
static void assert_within(double a, double ea, double b, double eb, const char *what)
{
  double d = fabs(a - b), tol = 4.0 * sqrt(ea * ea + eb * eb);
  print_message("%-22s %.6g +- %.2g  vs  %.6g +- %.2g\n", what, a, ea, b, eb);
  if (!(d <= tol)) fail_msg("%s: %.6g +- %.2g against %.6g +- %.2g (difference %.2g > 4 sigma %.2g)", what, a, ea, b, eb, d, tol);
}

static void test_names(void **state)
{
  (void)state;
  const char *n[] = {"punch_through", "hadron", "muon", "accidental"};
  const double t2[] = {1e-13, 2e-13, 1e-14, 1e-14}; /* NA64 report, Table 2 */
  for (int i = 0; i < NA64_VIS_BKG_NSOURCES; ++i) {
    assert_string_equal(na64_vis_bkg_name(i), n[i]);
    assert_rel(na64_vis_bkg_table2(i), t2[i], 1e-15);
    assert_non_null(na64_vis_bkg_table2_row(i));
  }
  assert_null(na64_vis_bkg_name(NA64_VIS_BKG_NSOURCES));
  assert_true(isnan(na64_vis_bkg_table2(-1)));
}

static int read_text(const char *text, na64_vis_bkg_config *c, na64_err *err)
{
  na64_card *card = NULL;
  NA64_CALL(na64_card_parse(text, strlen(text), "bkg.yaml", &card, err));
  int st = na64_vis_bkg_config_read(card, c, err);
  na64_card_free(card);
  return st;
}

/* the cards' section, and bad values named by their key */
static void test_card(void **state)
{
  (void)state;
  char path[1024];
  snprintf(path, sizeof path, "%s/configs/visible_2017.yaml", NA64_SOURCE_DIR);
  na64_card *card = NULL;
  na64_err err = {0, ""};
  assert_int_equal(na64_card_load(path, &card, &err), NA64_OK);
  na64_vis_bkg_config c;
  na64_vis_bkg_config_default(&c);
  assert_int_equal(na64_vis_bkg_config_read(card, &c, &err), NA64_OK);
  na64_card_free(card);
  assert_rel(c.hadron_fraction, 1e-2, 1e-12); /* pi/e <= 1e-2 (NA64 report) */
  for (int i = 0; i < NA64_VIS_BKG_NSOURCES; ++i) assert_true(c.enabled[i]);
  /* the whole card still loads (the section is known to the card's reader) */
  na64_vis_config vc;
  na64_vis_config_default(&vc);
  assert_int_equal(na64_vis_config_load(path, &vc, &err), NA64_OK);
  const struct {
    const char *text, *key;
  } bad[] = {
      {"backgrounds:\n  veto_inefficiency: 2\n", "veto_inefficiency"},
      {"backgrounds:\n  hadron: {enabled: true, bias: 0.5}\n", "bias"},
      {"backgrounds:\n  muon: {enabled: maybe}\n", "enabled"},
      {"backgrounds:\n  halo_fraction: -1.0e-4\n", "halo_fraction"},
      {"backgrounds:\n  colour: red\n", "colour"},
      {"backgrounds:\n  intensity: 1.0e9\n  window: 1000\n", "intensity"},
      {"backgrounds:\n  events: 0\n", "events"},
      {"backgrounds:\n  wcal_start_x0: 0\n", "wcal_start_x0"},
      {"backgrounds:\n  xf_power_kaon: -1\n", "xf_power_kaon"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    na64_vis_bkg_config_default(&c);
    err.msg[0] = 0;
    assert_int_not_equal(read_text(bad[i].text, &c, &err), NA64_OK);
    if (!strstr(err.msg, bad[i].key)) fail_msg("'%s': message '%s' does not name %s", bad[i].text, err.msg, bad[i].key);
  }
  na64_vis_bkg_config_default(&c);
  c.bias[NA64_VIS_BKG_MUON] = 0.0;
  assert_int_equal(na64_vis_bkg_config_check(&c, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "backgrounds.muon.bias"));
}

/* the box opened: no V2 threshold matters, S4 accepts 0-100 MIPs, the sum any value, E_WCAL up to
 * E0, no shape cut; only E_ECAL >= 0.3 E0 remains */
static void open_box(na64_vis_bkg_config *c)
{
  c->wcal_fraction_max = 1.0;
  c->ecal_fraction_min = 0.3;
  c->energy_sum_sigmas = 1e4;
  c->s4_min_mips = 0.0;
  c->s4_max_mips = 100.0;
  c->shape_chi2_max = INFINITY;
}

typedef struct geo {
  double E0, T, L, lam, z1, z2;
} geo;

static geo geometry(const na64_vis_sim *s)
{
  const na64_geom *g = na64_vis_sim_geom(s);
  geo r = {na64_vis_sim_config(s)->beam_energy, 0, 0, 0, 0, 0};
  const na64_geom_detector *w = NULL;
  for (int i = 0; i < g->ndetectors; ++i)
    if (g->detectors[i].kind == NA64_DET_WCAL) w = &g->detectors[i];
  assert_non_null(w);
  double nl = 0.0;
  for (int i = 0; i < w->nsections; ++i) r.T += w->sections[i].depth_x0, nl += w->sections[i].depth_lambda;
  r.L = w->size[2];
  r.lam = r.L / nl;
  const na64_geom_detector *v2 = na64_geom_find_detector(g, "V2"), *s4 = na64_geom_find_detector(g, "S4");
  assert_non_null(v2);
  assert_non_null(s4);
  double zend = w->centre[2] + 0.5 * w->size[2];
  r.z1 = v2->centre[2] + 0.5 * v2->size[2] - zend;
  r.z2 = s4->centre[2] - 0.5 * s4->size[2] - zend;
  return r;
}

/* the hadron route's physics as a double integral over x_F (the counting-rule spectrum
 * (n+1)(1 - x)^n) and the depth s of the interaction from the WCAL's front (the shower starting
 * in the first t X0: s <= t X0), for one decay channel */
/* the neutral's spectrum written here from src/sim/vis_bkg.c's formulas: fl (n+1) (1 - x)^n (leading)
 * + fc (mc+1)/2 (1 - x)^mc (the central component's forward half), x > 0 */
typedef struct spec {
  double fl, n, fc, mc;
} spec;

static double hadron_quad(const geo *G, const na64_vis_bkg_config *c, double m, double ctau, double lam_rel, spec f)
{
  const int N = 400;
  double xa = c->ecal_fraction_min, sum = 0.0, smax = fmin(c->wcal_start_x0 * G->L / G->T, G->L);
  for (int i = 0; i < N; ++i) {
    double x = xa + (1.0 - xa) * (i + 0.5) / N, En = x * G->E0;
    double ld = sqrt(En * En - m * m) / m * ctau, pdec = exp(-G->z1 / ld) - exp(-G->z2 / ld);
    for (int j = 0; j < N; ++j) {
      double sd = smax * (j + 0.5) / N, d = G->L - sd, q = exp(-d / G->lam);
      double dn = f.fl * (f.n + 1.0) * pow(1.0 - x, f.n) + 0.5 * f.fc * (f.mc + 1.0) * pow(1.0 - x, f.mc);
      sum += dn * exp(-sd / G->lam) / G->lam * exp(-d / (G->lam * lam_rel) - d / ld) *
             ((1.0 - q) + q * c->veto_inefficiency) * pdec;
    }
  }
  return sum * (1.0 - xa) / N * smax / N;
}

static void test_closed_forms(void **state)
{
  (void)state;
  na64_vis_sim *s = make_sim(0.0);
  geo G = geometry(s);
  assert_rel(G.T, 33.58, 0.01); /* WCAL of 39 layers of 3 mm W + 2 mm Sc: 33.6 X0 (sql/setups/20_visible_2017.sql, vis2018) */
  na64_vis_bkg_config c;
  na64_vis_bkg_config_default(&c);
  open_box(&c);
  c.events = 100000;
  /* accidentals: rate x window x fractions x V2 inefficiency, times the probability that the
   * low-energy electron's WCAL signal (energy v E0, v flat in [0, 1], sigma = 0.18 sqrt(E)) stays
   * below the open cut E0 */
  double acc = c.intensity / c.spill_length * c.window * 1e-9 * c.low_energy_fraction * c.halo_fraction * c.veto_inefficiency;
  double aw = na64_vis_sim_config(s)->wcal_stochastic, pin = 0.0;
  for (int i = 0; i < 20000; ++i) {
    double v = (i + 0.5) / 20000.0;
    pin += 0.5 * erfc(-(1.0 - v) * G.E0 / (M_SQRT2 * aw * sqrt(v * G.E0))) / 20000.0;
  }
  acc *= pin;
  for (int b = 0; b < 2; ++b) {
    c.bias[NA64_VIS_BKG_ACCIDENTAL] = b ? 3.0 : 1.0;
    na64_vis_bkg_result r = estimate(s, &c, NA64_VIS_BKG_ACCIDENTAL);
    assert_within(r.rate, r.error, acc, 1e-4 * acc, "accidental, open box");
  }
  /* muons: bremsstrahlung above 0.3 (PDG eq. 34.29 integrated) x (m_e/m_mu)^2 x the photon's
   * survival integrated over the emission depth, 9/7 (1 - exp(-7/9 T)); decay between V2 and S4 x the
   * boosted Michel spectrum above 0.3 (5/3 z - z^3 + z^4/3) */
  double a = 0.3, me = NA64_M_E / NA64_M_MU;
  double br = -4.0 / 3.0 * log(a) - 4.0 / 3.0 * (1.0 - a) + 0.5 * (1.0 - a * a);
  double mich = (5.0 / 3.0 - 1.0 + 1.0 / 3.0) - (5.0 / 3.0 * a - a * a * a + a * a * a * a / 3.0);
  double ld = sqrt(G.E0 * G.E0 - NA64_M_MU * NA64_M_MU) / NA64_M_MU * 65863.8;
  double mu = c.muon_fraction * c.srd_hadron * c.veto_inefficiency *
              (me * me * br * 9.0 / 7.0 * -expm1(-7.0 / 9.0 * G.T) + (exp(-G.z1 / ld) - exp(-G.z2 / ld)) * mich);
  for (int b = 0; b < 2; ++b) {
    c.bias[NA64_VIS_BKG_MUON] = b ? 3.0 : 1.0;
    na64_vis_bkg_result r = estimate(s, &c, NA64_VIS_BKG_MUON);
    assert_true(r.passed > 1000);
    assert_within(r.rate, r.error, mu, 1e-3 * mu, "muon, open box");
  }
  /* hadrons: the five channels (PDG masses, c tau, BR; one Dalitz pi0 = 0.01174 per pi0) */
  const double D = 0.01174;
  /* x_F spectra: leading (1 - x)^1 for pi -> K0 and (1 - x)^3 for pi -> Lambda (counting rules), and
   * the K0s' central (1 - |x|)^7 (k0spec) */
  const spec k0s = {c.k0s_per_interaction, 1, c.k0s_central, 7}, k0l = {c.k0l_per_interaction, 1, c.k0s_central, 7};
  const spec lam = {c.lambda_per_interaction, 3, 0, 0};
  const struct {
    double m, ctau, br;
    spec f;
    int nh;
    double lr;
  } ch[] = {{0.497611, 2.6844, 0.6920, k0s, 2, 1.218}, {0.497611, 2.6844, 0.3069 * 2 * D, k0s, 0, 1.218},
            {0.497611, 1534.0, 0.1254, k0l, 2, 1.218}, {0.497611, 1534.0, 0.1952 * 3 * D, k0l, 0, 1.218},
            {1.115683, 7.89, 0.641, lam, 2, 1.0}};
  /* twice: the shower starting in the first X0 (the default), and anywhere in the WCAL */
  for (int start = 0; start < 2; ++start) {
    c.wcal_start_x0 = start ? 1000.0 : 1.0;
    double had = 0.0;
    for (int j = 0; j < 5; ++j)
      had += ch[j].br * pow(c.hadron_em_fake, ch[j].nh) * hadron_quad(&G, &c, ch[j].m, ch[j].ctau, ch[j].lr, ch[j].f);
    had *= c.hadron_fraction * c.srd_hadron;
    for (int b = 0; b < 2; ++b) {
      c.bias[NA64_VIS_BKG_HADRON] = b ? 10.0 : 1.0;
      na64_vis_bkg_result r = estimate(s, &c, NA64_VIS_BKG_HADRON);
      assert_within(r.rate, r.error, had, 1e-3 * had, start ? "hadron, open, any depth" : "hadron, open box");
    }
  }
  c.wcal_start_x0 = 1.0;
  na64_vis_sim_free(s);
}

/* In the real box: the plain and the biased estimates of each source agree; a disabled source
 * gives 0; the same seed gives the same numbers (checked on 10000 events, twice: a third full
 * estimate of 100000 was a third of this test's time; the events still pass the box). */
static void test_bias_exact(void **state)
{
  (void)state;
  na64_vis_sim *s = make_sim(0.01);
  na64_vis_bkg_config c;
  na64_vis_bkg_config_default(&c);
  c.events = 100000;
  const double bias[NA64_VIS_BKG_NSOURCES] = {4.0, 10.0, 2.0, 3.0};
  for (int i = 0; i < NA64_VIS_BKG_NSOURCES; ++i) {
    c.bias[i] = 1.0;
    na64_vis_bkg_result r1 = estimate(s, &c, i);
    c.bias[i] = bias[i];
    na64_vis_bkg_result r2 = estimate(s, &c, i);
    assert_true(r1.passed > 100 && r2.passed > 100);
    assert_true(r1.rate > 0.0 && r2.error > 0.0);
    assert_within(r1.rate, r1.error, r2.rate, r2.error, na64_vis_bkg_name(i));
    c.events = 10000;
    na64_vis_bkg_result d1 = estimate(s, &c, i), d2 = estimate(s, &c, i);
    assert_true(d1.passed > 0);
    assert_true(d2.rate == d1.rate && d2.error == d1.error);
    c.events = 100000;
    c.enabled[i] = 0;
    na64_vis_bkg_result r3 = estimate(s, &c, i);
    assert_true(r3.rate == 0.0 && r3.events == 0);
    c.enabled[i] = 1;
  }
  na64_vis_sim_free(s);
}

/* The multi-shower rejection of the hadron route (the selection's lateral-shape cut on the ECAL
 * showers of the decay products), for K0_S -> pi0 pi0 alone (no charged channel: hadron_em_fake = 0;
 * no K0_L, no Lambda) in the open box: the route's pass fraction, rate(shape cut) / rate(no cut),
 * against an independent geometric estimate computed here from the kinematics: the weighted share
 * of decays whose four photons (the Dalitz pi0's e+ e- as one photon) all hit the ECAL face within
 * one cell pitch (3.82 cm) of their energy centroid in x and in y, i.e. inside the 3 x 3 cells the
 * chi2 sees, with x_F from (n + 1)(1 - x)^n above 0.3 (n = 1), the decay point from its density
 * exp(-z / l) on [z1, z2] and the weight exp(-z1 / l) - exp(-z2 / l) of each x_F (l = gamma beta c tau;
 * PDG K0_S: m = 0.497611 GeV, c tau = 2.6844 cm; m_pi0 = 0.1349768 GeV). Tolerance: a factor 2 below,
 * 3 above (at test_multi_shower's assertion); the geometric criterion is not the chi2 (a soft photon
 * outside the 3 x 3 cells costs little, and the fit of a centred shower to two showers half a cell
 * apart can fail), but an absent rejection
 * (ratio 1) or a rejection of everything (0) lies far outside; the ratio is well below 1/2 here. */
static void boost_to(double q[4], const double P[4])
{
  double pp = sqrt(P[1] * P[1] + P[2] * P[2] + P[3] * P[3]), g = P[0] / sqrt(P[0] * P[0] - pp * pp);
  if (!(pp > 0.0)) return;
  double n[3] = {P[1] / pp, P[2] / pp, P[3] / pp}, b = pp / P[0];
  double par = q[1] * n[0] + q[2] * n[1] + q[3] * n[2], par2 = g * (par + b * q[0]), E = g * (q[0] + b * par);
  for (int i = 0; i < 3; ++i) q[1 + i] += (par2 - par) * n[i];
  q[0] = E;
}

static void iso(na64_rng *r, double p, double m, double q[4])
{
  double c = 2.0 * na64_rng_uniform(r) - 1.0, s = sqrt(1.0 - c * c), f = 2.0 * M_PI * na64_rng_uniform(r);
  q[0] = sqrt(p * p + m * m);
  q[1] = p * s * cos(f);
  q[2] = p * s * sin(f);
  q[3] = p * c;
}

static double all_in_one_cell(const geo *G, double zE, double pitch)
{
  const double mK = 0.497611, ctau = 2.6844, mpi = 0.1349768, xa = 0.3;
  const double pk = sqrt(0.25 * mK * mK - mpi * mpi);
  na64_rng r;
  na64_rng_init(&r, 4242, 0);
  double sw = 0.0, sp = 0.0;
  for (int ev = 0; ev < 40000; ++ev) {
    double x = 1.0 - (1.0 - xa) * sqrt(na64_rng_uniform(&r)), E = x * G->E0; /* (1 - x)^2 inverted */
    double l = sqrt(E * E - mK * mK) / mK * ctau, w = exp(-G->z1 / l) - exp(-G->z2 / l);
    double z = -l * log(exp(-G->z1 / l) - na64_rng_uniform(&r) * w), D = zE - z;
    double K[4] = {E, 0.0, 0.0, sqrt(E * E - mK * mK)}, pi[2][4], gam[4][4];
    iso(&r, pk, mpi, pi[0]);
    for (int i = 0; i < 3; ++i) pi[1][1 + i] = -pi[0][1 + i];
    pi[1][0] = pi[0][0];
    for (int k = 0; k < 2; ++k) {
      boost_to(pi[k], K);
      iso(&r, 0.5 * mpi, 0.0, gam[2 * k]);
      for (int i = 0; i < 4; ++i) gam[2 * k + 1][i] = i ? -gam[2 * k][i] : gam[2 * k][0];
      boost_to(gam[2 * k], pi[k]);
      boost_to(gam[2 * k + 1], pi[k]);
    }
    double X[4], Y[4], cx = 0.0, cy = 0.0;
    for (int i = 0; i < 4; ++i) {
      X[i] = gam[i][1] / gam[i][3] * D;
      Y[i] = gam[i][2] / gam[i][3] * D;
      cx += gam[i][0] * X[i] / E;
      cy += gam[i][0] * Y[i] / E;
    }
    int in = 1;
    for (int i = 0; i < 4; ++i) in &= fabs(X[i] - cx) <= pitch && fabs(Y[i] - cy) <= pitch;
    sw += w;
    sp += w * in;
  }
  return sp / sw;
}

static void test_multi_shower(void **state)
{
  (void)state;
  na64_vis_sim *s = make_sim(0.0);
  geo G = geometry(s);
  const na64_geom *g = na64_vis_sim_geom(s);
  const na64_geom_detector *ec = NULL;
  for (int i = 0; i < g->ndetectors; ++i)
    if (g->detectors[i].kind == NA64_DET_ECAL) ec = &g->detectors[i];
  assert_non_null(ec);
  const na64_geom_detector *w = NULL;
  for (int i = 0; i < g->ndetectors; ++i)
    if (g->detectors[i].kind == NA64_DET_WCAL) w = &g->detectors[i];
  double zE = ec->centre[2] - 0.5 * ec->size[2] - (w->centre[2] + 0.5 * w->size[2]);
  na64_vis_bkg_config c;
  na64_vis_bkg_config_default(&c);
  open_box(&c);
  c.events = 20000;
  c.hadron_em_fake = 0.0;
  c.k0l_per_interaction = 0.0;
  c.lambda_per_interaction = 0.0;
  na64_vis_bkg_result off = estimate(s, &c, NA64_VIS_BKG_HADRON);
  c.shape_chi2_max = 9.0;
  na64_vis_bkg_result on = estimate(s, &c, NA64_VIS_BKG_HADRON);
  double ratio = on.rate / off.rate, geo_est = all_in_one_cell(&G, zE, 3.82);
  print_message("K0_S -> pi0 pi0 shape pass %.3g (%llu events in the box), all photons within one cell %.3g\n", ratio,
                (unsigned long long)on.passed, geo_est);
  assert_true(on.passed > 200);
  /* the chi2 passes 2.0 (decay region of psjoint, S4 at 1645.3 cm) and 2.4 (visfit2, S4 at 1624.8 cm)
   * times the geometric share: the share falls with the longer flight to the ECAL (0.0293 -> 0.0247), the
   * chi2's pass fraction does not (0.0586 -> 0.0589); so the upper bound is 3x (visfit2, 2026-12-07),
   * which still rejects an absent rejection (ratio 1, 40x the share) */
  assert_true(ratio > 0.5 * geo_est && ratio < 3.0 * geo_est);
  assert_true(ratio < 0.5);
  /* an infinite cut is no cut, a zero cut is an error */
  c.shape_chi2_max = 0.0;
  na64_vis_bkg_result r;
  na64_err err = {0, ""};
  assert_int_equal(na64_vis_bkg_estimate(s, &c, NA64_VIS_BKG_HADRON, 7, &r, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "shape_chi2_max"));
  na64_vis_sim_free(s);
}

/* integral of na64_vis_bkg_xf_density over [a, b] (midpoint rule, 20000 steps: the (1 - |x|)^7
 * component's relative error ~1e-8, far below the measurements' 6-17%) */
static double xf_integral(const na64_vis_bkg_config *c, int kind, int component, double a, double b)
{
  const int N = 20000;
  double s = 0.0;
  for (int i = 0; i < N; ++i) s += na64_vis_bkg_xf_density(c, kind, component, a + (b - a) * (i + 0.5) / N);
  return s * (b - a) / N;
}

/* The K0 spectrum's two components against the measurements they are normalised to (k0spec), for the
 * defaults and both visible cards:
 * - leading + central below x = 0.3 (both hemispheres): K0_S per inelastic pi- p at 205 GeV/c,
 *   sigma(K0_S, x < 0.3) / (sigma_tot - sigma_el) = 3.64 / (24.19 - 3.18) = 0.173, error
 *   0.61 / 21.01 = 0.029 (Phys. Rev. D 15 (1977) no. 11, OSTI 7219616); tolerance that error;
 * - leading at x_F > 0: the forward half of NA61/SHINE's p p Lambda at 158 GeV/c, 0.120 +- 0.006 +-
 *   0.010 (Eur. Phys. J. C 76 (2016) 198), 0.060 +- 0.0058 (the pairing pi -> K0_S alike p -> Lambda,
 *   Skubic et al. PRD 18 (1978) 3115); tolerance that error;
 * and what holds by construction of the physics: the central component symmetric in x_F, K0_L = K0_S
 * in each component, no central Lambda. */
static void check_k0_spectrum(const na64_vis_bkg_config *c, const char *what)
{
  double below = xf_integral(c, 0, 0, -1.0, 0.3) + xf_integral(c, 0, 1, -1.0, 0.3);
  double lead = xf_integral(c, 0, 0, 0.0, 1.0), cb = xf_integral(c, 0, 1, -1.0, 0.0), cf = xf_integral(c, 0, 1, 0.0, 1.0);
  double box = xf_integral(c, 0, 0, 0.75, 1.0) + xf_integral(c, 0, 1, 0.75, 1.0);
  print_message("%s: K0_S at x < 0.3 %.4f (measured 0.173 +- 0.029), leading at x > 0 %.4f (0.060 +- 0.0058), "
                "central %.4f + %.4f, all %.4f (p p, NA61/SHINE: 0.162 +- 0.011), above 0.75 %.3g\n",
                what, below, lead, cb, cf, below + xf_integral(c, 0, 0, 0.3, 1.0) + xf_integral(c, 0, 1, 0.3, 1.0), box);
  assert_true(fabs(below - 3.64 / (24.19 - 3.18)) <= 0.029);
  assert_true(fabs(lead - 0.060) <= 0.0058);
  assert_rel(cb, cf, 1e-9);
  for (double x = -0.95; x < 1.0; x += 0.1)
    for (int comp = 0; comp < 2; ++comp) {
      assert_rel(na64_vis_bkg_xf_density(c, 1, comp, x), na64_vis_bkg_xf_density(c, 0, comp, x), 1e-15);
      assert_true(na64_vis_bkg_xf_density(c, 2, 1, x) == 0.0);
    }
  assert_true(na64_vis_bkg_xf_density(c, 0, 0, -0.5) == 0.0 && na64_vis_bkg_xf_density(c, 0, 1, 1.0) == 0.0);
  /* a component or kind outside the enums is 0, not another component's density (rv12: component 2
   * gave the central one) */
  assert_true(na64_vis_bkg_xf_density(c, 0, 2, 0.1) == 0.0 && na64_vis_bkg_xf_density(c, 0, -1, 0.1) == 0.0);
  assert_true(na64_vis_bkg_xf_density(c, 3, 0, 0.1) == 0.0 && na64_vis_bkg_xf_density(c, -1, 1, 0.1) == 0.0);
}

static void test_k0_spectrum(void **state)
{
  (void)state;
  na64_vis_bkg_config c;
  na64_vis_bkg_config_default(&c);
  check_k0_spectrum(&c, "defaults");
  const char *cards[] = {"visible_2017", "visible_2018"};
  for (int i = 0; i < 2; ++i) {
    char path[1024];
    snprintf(path, sizeof path, "%s/configs/%s.yaml", NA64_SOURCE_DIR, cards[i]);
    na64_card *card = NULL;
    na64_err err = {0, ""};
    assert_int_equal(na64_card_load(path, &card, &err), NA64_OK);
    na64_vis_bkg_config_default(&c);
    assert_int_equal(na64_vis_bkg_config_read(card, &c, &err), NA64_OK);
    na64_card_free(card);
    check_k0_spectrum(&c, cards[i]);
  }
  /* the one-form spectrum of before (N = 0.087 spread as (1 - x)^1, no central part) fails the x < 0.3
   * measurement, as rv11 found: 0.087 x 0.51 = 0.044 */
  na64_vis_bkg_config_default(&c);
  c.k0s_per_interaction = 0.087;
  c.k0s_central = 0.0;
  assert_true(fabs(xf_integral(&c, 0, 0, -1.0, 0.3) - 3.64 / (24.19 - 3.18)) > 0.029);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_card),
      cmocka_unit_test(test_closed_forms),
      cmocka_unit_test(test_bias_exact),
      cmocka_unit_test(test_multi_shower),
      cmocka_unit_test(test_k0_spectrum),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
