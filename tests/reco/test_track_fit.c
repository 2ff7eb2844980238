/* na64_track_fit on generated tracks of known truth with multiple scattering (docs/reco.md §3,
 * docs/validation.md "Tracking with straws and multiple scattering").
 *
 * The generator is independent of the fit's covariance model: it propagates the track plane by
 * plane away from the magnet and kicks it at every plane by Gaussian angles (Highland, PDG RPP 2024
 * Eq. 34.15, evaluated here from the formula, log term on the total thickness as the PDG advises),
 * then smears: strip clusters with 75 um, straw radii with 100 um. Layout (cm from the magnet
 * entrance or exit): upstream Micromegas x/y pairs at 300 and 100 cm; downstream Micromegas pairs
 * at 100 and 300 cm and a straw station at 200 cm (x double layer staggered by half a 6 mm tube,
 * then y). Field integral 7 T m (NA64's two MBPL dipoles, Banerjee et al. PRD 97 (2018) 072002). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "na64/core.h"
#include "na64/reco.h"
#include "reco/track_fit_dense.h"
#include "support/na64_test.h"

#define NTRK 3000
#define SIG_STRIP 0.0075
#define SIG_R 0.01
#define PITCH 0.6
#define BL 7.0
#define X_MM 0.0015
#define X_STRAW 0.001

typedef struct plane_def {
  double z;       /* distance from the magnet (>0), cm */
  int view;       /* 0 x, 1 y */
  int straw;      /* straw layer: 0 no, 1 layer 0, 2 layer 1 (staggered) */
  double x_x0;
} plane_def;

static const plane_def up_planes[] = {{100, 0, 0, X_MM}, {101, 1, 0, X_MM}, {300, 0, 0, X_MM}, {301, 1, 0, X_MM}};
static const plane_def down_planes[] = {{100, 0, 0, X_MM},    {101, 1, 0, X_MM},    {200, 0, 1, X_STRAW},
                                        {201, 0, 2, X_STRAW}, {203, 1, 1, X_STRAW}, {204, 1, 2, X_STRAW},
                                        {300, 0, 0, X_MM},    {301, 1, 0, X_MM}};

typedef struct side_truth {
  int8_t side[16]; /* true straw side per measurement */
} side_truth;

static double gauss(na64_rng *r) { return na64_rng_gauss(r); }

/* Highland's theta0 written out independently of the library (PDG RPP 2024 Eq. 34.15, beta = 1). */
static double highland(double p, double x) { return 0.0136 / p * sqrt(x) * (1.0 + 0.038 * log(x)); }

/* One side: the track leaves the magnet at (x0, tx, y0, ty), dir = -1 upstream (z decreasing), +1
 * downstream; measurements in m (z global = dir * distance). Returns the count. */
static int gen_side(const plane_def *pl, int np, int dir, const double p0[4], double mom, int ms, na64_rng *rng,
                    na64_track_meas *m, side_truth *t)
{
  double total = 0.0;
  for (int i = 0; i < np; ++i) total += pl[i].x_x0;
  double th_tot = highland(mom, total);
  double x = p0[0], tx = p0[1], y = p0[2], ty = p0[3], zprev = 0.0;
  for (int i = 0; i < np; ++i) {
    double z = dir * pl[i].z;
    x += tx * (z - zprev), y += ty * (z - zprev), zprev = z;
    double cs = pl[i].view == 0, sn = pl[i].view == 1, u = pl[i].view ? y : x;
    na64_track_meas *q = &m[i];
    memset(q, 0, sizeof *q);
    q->z = z, q->cs = cs, q->sn = sn, q->x_x0 = pl[i].x_x0, q->plane = i;
    if (!pl[i].straw) {
      q->u = u + SIG_STRIP * gauss(rng), q->r = -1.0, q->sigma = SIG_STRIP;
    } else {
      double off = (pl[i].straw - 1) * 0.5 * PITCH, w = off + PITCH * floor((u - off) / PITCH + 0.5);
      q->u = w, q->r = fabs(fabs(u - w) + SIG_R * gauss(rng)), q->sigma = SIG_R;
      t->side[i] = u >= w ? 1 : -1;
    }
    if (ms) { /* the kick of this plane acts on the planes beyond it */
      double th = th_tot * sqrt(pl[i].x_x0 / total);
      tx += th * gauss(rng), ty += th * gauss(rng);
    }
  }
  return np;
}

typedef struct fit_stats {
  double sum_pull2_tx, sum_chi2ndf, sum_dp, sum_dp2;
  int n, nfit, straw_total, straw_right, straw_used;
} fit_stats;

/* NTRK tracks at momentum mom through both sides; fit with or without the scattering term. */
static void run_tracks(double mom, int ms_gen, double fit_mom, fit_stats *s)
{
  memset(s, 0, sizeof *s);
  na64_rng rng;
  na64_rng_init(&rng, 77, (uint64_t)(mom * 10) + 1000u * (unsigned)ms_gen);
  const int nu = (int)(sizeof up_planes / sizeof up_planes[0]), nd = (int)(sizeof down_planes / sizeof down_planes[0]);
  for (int k = 0; k < NTRK; ++k) {
    na64_track_meas mu[16], md[16];
    side_truth tu = {{0}}, td = {{0}};
    double pin[4] = {0.5 * gauss(&rng), 1e-4 * gauss(&rng), 0.5 * gauss(&rng), 1e-4 * gauss(&rng)};
    double delta = 0.299792458 * BL / mom;
    /* downstream: at the magnet exit, the deflected slope; the beam position shifted by the bend */
    double pout[4] = {pin[0] + 0.2, pin[1] + delta, pin[2], pin[3]};
    gen_side(up_planes, nu, -1, pin, mom, ms_gen, &rng, mu, &tu);
    gen_side(down_planes, nd, +1, pout, mom, ms_gen, &rng, md, &td);
    na64_track_line lu, ld;
    na64_err err = {0, ""};
    s->n++;
    if (na64_track_fit(mu, nu, 0.0, fit_mom, 0.0, &lu, &err) != NA64_OK) continue;
    if (na64_track_fit(md, nd, 0.0, fit_mom, 0.0, &ld, &err) != NA64_OK) continue;
    s->nfit++;
    s->sum_pull2_tx += (lu.p[1] - pin[1]) * (lu.p[1] - pin[1]) / lu.cov[1][1];
    s->sum_chi2ndf += (lu.chi2 + ld.chi2) / (lu.ndf + ld.ndf);
    double p = 0.299792458 * BL / (ld.p[1] - lu.p[1]), dp = p / mom - 1.0;
    s->sum_dp += dp, s->sum_dp2 += dp * dp;
    for (int i = 0; i < nd; ++i) {
      if (md[i].r < 0.0) continue;
      s->straw_total++;
      if (md[i].used) s->straw_used++, s->straw_right += md[i].side == td.side[i];
    }
  }
}

static void test_highland(void **state)
{
  (void)state;
  /* 1 GeV through 1% X0: 13.6e-3 x 0.1 x (1 + 0.038 ln 0.01) = 1.1220e-3 rad (by hand) */
  assert_true(fabs(na64_highland_theta0(1.0, 1.0, 0.01) - 1.1220e-3) < 1e-6);
  assert_true(na64_highland_theta0(1.0, 1.0, 0.0) == 0.0);
}

static void test_scattering_dominated(void **state)
{
  (void)state;
  /* 10 GeV: theta ~ 1.4e-5 rad per 0.15% X0 plane, displacing the far planes by ~30 um per 2 m,
   * comparable with the 75 um clusters. With the scattering term the slope pull has unit RMS and
   * chi2/ndf is 1; the statistical error of both over 3000 tracks is ~2-3%, allow 10%. Without it,
   * the pulls must be visibly too wide (> 1.1): otherwise this test could not tell the two apart. */
  fit_stats with, without;
  run_tracks(10.0, 1, 10.0, &with);
  run_tracks(10.0, 1, 0.0, &without);
  double pull_w = sqrt(with.sum_pull2_tx / with.nfit), pull_wo = sqrt(without.sum_pull2_tx / without.nfit);
  double chi_w = with.sum_chi2ndf / with.nfit, chi_wo = without.sum_chi2ndf / without.nfit;
  printf("10 GeV: slope pull rms %.3f (MS in fit) %.3f (no MS); chi2/ndf %.3f / %.3f\n", pull_w, pull_wo, chi_w, chi_wo);
  assert_int_equal(with.nfit, NTRK);
  assert_true(fabs(pull_w - 1.0) < 0.1);
  assert_true(fabs(chi_w - 1.0) < 0.1);
  assert_true(pull_wo > 1.1);
}

static void test_momentum_and_straws(void **state)
{
  (void)state;
  fit_stats s;
  run_tracks(100.0, 1, 100.0, &s);
  double mean = s.sum_dp / s.nfit, rms = sqrt(fmax(s.sum_dp2 / s.nfit - mean * mean, 0.0));
  double lr = (double)s.straw_right / s.straw_used, used = (double)s.straw_used / s.straw_total;
  printf("100 GeV: efficiency %.4f, dp/p mean %.5f rms %.5f; straw hits used %.4f, left/right right %.4f\n",
         (double)s.nfit / s.n, mean, rms, used, lr);
  /* NA64 quotes dp/p ~ 1% at 100 GeV (Banerjee et al., PRD 97 (2018) 072002); this layout
   * expects ~0.4% (75 um on 2 m lever arms, 0.021 rad bend): require < 1%, bias < 0.1%
   * (statistical error of the mean 0.4%/sqrt(3000) ~ 1e-4). */
  assert_int_equal(s.nfit, NTRK);
  assert_true(fabs(mean) < 1e-3 && rms < 0.01);
  /* Left/right: the prediction at the straws is good to ~50 um against radii of 0-3 mm, so only
   * hits within ~2 sigma of the wire (r < ~0.2 mm, ~7% of them) can go wrong, and then only half
   * the time, yet with an error of 2r < 0.4 mm: require >= 95% right and >= 98% of the hits used. */
  assert_true(lr >= 0.95);
  assert_true(used >= 0.98);
}

static void test_failure_says_why(void **state)
{
  (void)state;
  na64_track_meas m[3] = {
      {100, 1, 0, 0.1, -1, SIG_STRIP, X_MM, 7, 0, 0},
      {101, 0, 1, 0.1, -1, SIG_STRIP, X_MM, 8, 0, 0},
      {300, 0, 1, 0.1, -1, SIG_STRIP, X_MM, 9, 0, 0},
  };
  na64_track_line l;
  na64_err err = {0, ""};
  assert_int_equal(na64_track_fit(m, 3, 0.0, 100.0, 0.0, &l, &err), NA64_ENOTFOUND);
  assert_non_null(strstr(err.msg, "1 x- and 2 y-measuring"));
  m[1].sigma = 0.0;
  assert_int_equal(na64_track_fit(m, 3, 0.0, 100.0, 0.0, &l, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "plane 8"));
  assert_int_equal(na64_track_fit(m, NA64_TRACK_MAX_MEAS + 1, 0.0, 100.0, 0.0, &l, &err), NA64_EINVAL);
}

/* 1-norm condition number of the correlation matrix of a fit's parameters: rounding errors of any
 * solver of the 4x4 normal equations are amplified by it (Golub & Van Loan, Matrix Computations, §2.6). */
static double correlation_condition(const na64_track_line *l)
{
  double R[4][4], Ri[4][4], n1 = 0.0, n2 = 0.0;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) R[r][c] = l->cov[r][c] / sqrt(l->cov[r][r] * l->cov[c][c]);
  if (!dense_invert4(R, Ri)) return HUGE_VAL;
  for (int c = 0; c < 4; ++c) {
    double a = 0.0, b = 0.0;
    for (int r = 0; r < 4; ++r) a += fabs(R[r][c]), b += fabs(Ri[r][c]);
    n1 = fmax(n1, a), n2 = fmax(n2, b);
  }
  return n1 * n2;
}

/* Disagreement between two fits of the same measurements, in units of the tolerance 1e-9 + 1e-14 x the
 * condition number (p in units of its error, cov and chi2 relative); *flags counts measurements whose
 * used/side differ. */
static double fit_difference(const na64_track_line *a, const na64_track_line *b, const na64_track_meas *ma,
                             const na64_track_meas *mb, int n, int *flags)
{
  double d = 0.0;
  for (int r = 0; r < 4; ++r) {
    d = fmax(d, fabs(a->p[r] - b->p[r]) / sqrt(b->cov[r][r]));
    for (int c = 0; c < 4; ++c) d = fmax(d, fabs(a->cov[r][c] - b->cov[r][c]) / sqrt(b->cov[r][r] * b->cov[c][c]));
  }
  d = fmax(d, fabs(a->chi2 - b->chi2) / fmax(1.0, b->chi2));
  *flags += a->ndf != b->ndf || a->nused != b->nused || a->nstraw != b->nstraw;
  for (int i = 0; i < n; ++i) *flags += ma[i].used != mb[i].used || ma[i].side != mb[i].side;
  return d / (1e-9 + 1e-14 * correlation_condition(b));
}

/* Random layouts: 4-40 planes on one or both sides of z_ref (a few at z_ref or at one z), x, y,
 * stereo (+-5 deg, 45 deg) strips and straw hits with and without a side guess, material 0-1% X0,
 * data from a line with scattering and noise. */
static int random_layout(na64_rng *rng, na64_track_meas *m, int both_sides)
{
  int n = 4 + (int)(37 * na64_rng_uniform(rng));
  static const double phi[] = {0.0, 90.0, 5.0, -5.0, 45.0};
  double p[4] = {gauss(rng), 0.01 * gauss(rng), gauss(rng), 0.01 * gauss(rng)};
  for (int i = 0; i < n; ++i) {
    na64_track_meas *q = &m[i];
    memset(q, 0, sizeof *q);
    double z = 20.0 + 400.0 * na64_rng_uniform(rng);
    if (both_sides && na64_rng_uniform(rng) < 0.5) z = -z;
    if (i > 0 && na64_rng_uniform(rng) < 0.15) z = m[i - 1].z;   /* a second layer at the same z */
    if (na64_rng_uniform(rng) < 0.03) z = 0.0;                  /* a plane at z_ref */
    double a = phi[(int)(5 * na64_rng_uniform(rng)) % 5] * M_PI / 180.0;
    q->z = z, q->cs = cos(a), q->sn = sin(a), q->plane = i;
    q->x_x0 = na64_rng_uniform(rng) < 0.1 ? 0.0 : 0.01 * na64_rng_uniform(rng);
    double u = (p[0] + p[1] * z + 0.02 * gauss(rng)) * q->cs + (p[2] + p[3] * z + 0.02 * gauss(rng)) * q->sn;
    if (na64_rng_uniform(rng) < 0.6) {
      q->sigma = 0.005 + 0.02 * na64_rng_uniform(rng), q->r = -1.0, q->u = u + q->sigma * gauss(rng);
    } else {
      double wire = PITCH * floor(u / PITCH + 0.5);
      q->sigma = SIG_R, q->u = wire, q->r = fabs(u - wire + SIG_R * gauss(rng));
      q->side = (int8_t)((int)(3 * na64_rng_uniform(rng)) % 3 - 1);
    }
  }
  return n;
}

/* The Kalman (information) filter of src/reco/track_fit.c against the dense generalised least
 * squares it replaced (tests/reco/track_fit_dense.h): the same estimator of a linear model, so they
 * must agree to rounding: p in units of its error, cov and chi2 relative, to 1e-9 + 1e-14 x the
 * condition number of the parameters' correlation matrix (the dense fit whitens with the Cholesky
 * factor of V, whose condition reaches ~1e6 with scattering; the filter sums information of
 * entries 1e4-1e10; both lose up to ~7 of 16 digits, and a nearly degenerate layout (two x planes
 * 1 cm apart, cond ~1e6-1e7) amplifies the rounding of either by its condition: observed
 * differences <= 1.5e-16 x cond). Momenta >= 1 GeV (the lowest the reconstruction uses): at a few
 * MeV the scattering (~1 rad) swamps the measurements and V's condition exceeds 1e10. Same straw
 * sides and used flags. */
static void test_filter_equals_dense(void **state)
{
  (void)state;
  na64_rng rng;
  na64_rng_init(&rng, 11, 1);
  double worst = 0.0;
  int flags = 0, nfit = 0, nfail = 0, disagree = 0;
  for (int k = 0; k < 2000; ++k) {
    na64_track_meas a[NA64_TRACK_MAX_MEAS], b[NA64_TRACK_MAX_MEAS];
    int n = random_layout(&rng, a, k % 2), nn = n;
    memcpy(b, a, sizeof a);
    double zref = k % 3 ? 0.0 : 30.0 * gauss(&rng), mom = k % 5 ? 1.0 + 149.0 * na64_rng_uniform(&rng) : 0.0;
    na64_track_line la, lb;
    na64_err ea = {0, ""}, eb = {0, ""};
    int sa = na64_track_fit(a, nn, zref, mom, 0.0, &la, &ea), sb = dense_track_fit(b, nn, zref, mom, 0.0, &lb, &eb);
    disagree += sa != sb;
    if (sa != NA64_OK || sb != NA64_OK) {
      ++nfail;
      continue;
    }
    ++nfit;
    worst = fmax(worst, fit_difference(&la, &lb, a, b, n, &flags));
  }
  /* and the generated NA64-like tracks of the other tests, both sides */
  na64_rng_init(&rng, 12, 2);
  const int nd = (int)(sizeof down_planes / sizeof down_planes[0]);
  for (int k = 0; k < 1000; ++k) {
    na64_track_meas a[16], b[16];
    side_truth t = {{0}};
    double p0[4] = {0.5 * gauss(&rng), 0.021 + 1e-4 * gauss(&rng), 0.5 * gauss(&rng), 1e-4 * gauss(&rng)};
    gen_side(down_planes, nd, +1, p0, 100.0, 1, &rng, a, &t);
    memcpy(b, a, sizeof a);
    na64_track_line la, lb;
    na64_err e = {0, ""};
    assert_int_equal(na64_track_fit(a, nd, 0.0, 100.0, 0.0, &la, &e), NA64_OK);
    assert_int_equal(dense_track_fit(b, nd, 0.0, 100.0, 0.0, &lb, &e), NA64_OK);
    ++nfit;
    worst = fmax(worst, fit_difference(&la, &lb, a, b, nd, &flags));
  }
  printf("filter vs dense: %d fits, %d failed in both, largest difference / tolerance %.3f, flag differences %d\n", nfit, nfail,
         worst, flags);
  assert_int_equal(disagree, 0);
  assert_true(nfit > 2000);
  assert_true(worst < 1.0);
  assert_int_equal(flags, 0);
}

/* Momentum pulls (p - p_true) / sigma_p, sigma_p = |p| sigma_delta / |delta| from the covariances
 * of the two slopes, on NTRK tracks of 100 GeV with scattering and straws (the generator scatters
 * independently of the fit's model): mean 0 +- 0.05, RMS 1 +- 0.05 (statistical errors 0.018 and
 * 0.013 for 3000 tracks; the non-linearity of 1/delta shifts the mean by ~sigma_p/p ~ 0.004). */
static void test_momentum_pull(void **state)
{
  (void)state;
  na64_rng rng;
  na64_rng_init(&rng, 78, 5);
  const int nu = (int)(sizeof up_planes / sizeof up_planes[0]), nd = (int)(sizeof down_planes / sizeof down_planes[0]);
  double mom = 100.0, s1 = 0.0, s2 = 0.0;
  int nfit = 0;
  for (int k = 0; k < NTRK; ++k) {
    na64_track_meas mu[16], md[16];
    side_truth tu = {{0}}, td = {{0}};
    double pin[4] = {0.5 * gauss(&rng), 1e-4 * gauss(&rng), 0.5 * gauss(&rng), 1e-4 * gauss(&rng)};
    double pout[4] = {pin[0] + 0.2, pin[1] + 0.299792458 * BL / mom, pin[2], pin[3]};
    gen_side(up_planes, nu, -1, pin, mom, 1, &rng, mu, &tu);
    gen_side(down_planes, nd, +1, pout, mom, 1, &rng, md, &td);
    na64_track_line lu, ld;
    na64_err err = {0, ""};
    if (na64_track_fit(mu, nu, 0.0, mom, 0.0, &lu, &err) != NA64_OK || na64_track_fit(md, nd, 0.0, mom, 0.0, &ld, &err) != NA64_OK)
      continue;
    double delta = ld.p[1] - lu.p[1], p = 0.299792458 * BL / delta;
    double sp = fabs(p) * sqrt(ld.cov[1][1] + lu.cov[1][1]) / fabs(delta), pull = (p - mom) / sp;
    s1 += pull, s2 += pull * pull, ++nfit;
  }
  double mean = s1 / nfit, rms = sqrt(s2 / nfit - mean * mean);
  printf("100 GeV momentum pull: mean %.4f rms %.4f (%d tracks)\n", mean, rms, nfit);
  assert_int_equal(nfit, NTRK);
  assert_true(fabs(mean) < 0.05);
  assert_true(fabs(rms - 1.0) < 0.05);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_highland),
      cmocka_unit_test(test_scattering_dominated),
      cmocka_unit_test(test_momentum_and_straws),
      cmocka_unit_test(test_failure_says_why),
      cmocka_unit_test(test_filter_equals_dense),
      cmocka_unit_test(test_momentum_pull),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
