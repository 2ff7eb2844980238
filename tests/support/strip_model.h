/* An independent Monte Carlo of the strip response model of docs/simulation.md "Strip response
 * (mmres)", written apart from src/sim/fast_digi.c (libm erf for every strip of the +-4 sigma window,
 * Box-Muller noise per strip, its own SplitMix64 numbers), for the tests of the simulated strips
 * (tests/sim/test_strip_resolution.c, tests/sim/test_strip_clusters.c):
 *   - charge q = 400 (1 + 0.15 lambda), lambda = -ln z^2 (Moyal), |z| >= 3.06e-4;
 *   - the centroid offset of the primary electrons (ion) and of the delta electron (Kanaya-Okayama
 *     range, K. Kanaya, S. Okayama, J. Phys. D 5 (1972) 43);
 *   - the cloud: a Gaussian of variance D_T^2 (L/2 + L_t) + s_R^2 over the strips floor(s0 - 4 sigma) ..
 *     ceil(s0 + 4 sigma), a strip's middle sample q f + 5 N(0, 1), rounded and clipped to 0..4095,
 *     kept at >= 15 counts (3 sigma) before the rounding.
 * Include after <math.h> and <stdint.h>. */
#ifndef NA64_TEST_STRIP_MODEL_H
#define NA64_TEST_STRIP_MODEL_H
#include <math.h>
#include <stdint.h>

typedef struct model {
  double pitch, L, lt, spread, e_mpv; /* cm, cm, cm, cm, keV */
} model;

/* One crossing of the model: strips lo..hi with their rounded middle samples a[k - lo] and whether
 * they pass the zero suppression fired[k - lo]; u0 the crossing's position in strips (uniform in the
 * strip around 0). */
typedef struct model_crossing {
  int lo, hi;
  double u0, a[64];
  int fired[64];
} model_crossing;

static uint64_t sm_state;
static double unif(void) /* SplitMix64 (Steele, Lea, Flood, OOPSLA 2014), 53 bits */
{
  uint64_t z = (sm_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return ((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}
static double gauss(void) /* Box-Muller */
{
  double u1 = unif(), u2 = unif();
  return sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
}

static void model_cross(const model *m, model_crossing *c)
{
  const double DT = 0.022, NT = 95.0, RHO = 1.714e-3, THETA = 0.5, MPV = 400.0, NOISE = 5.0;
  const double diff2 = DT * DT * (0.5 * m->L + m->lt);
  const double sig = sqrt(diff2 + m->spread * m->spread) / m->pitch; /* strips */
  const double ion = sqrt(diff2 * (1.0 + 1.0 / (1.0 + THETA)) / (NT * m->L)) / m->pitch;
  double z;
  do z = gauss();
  while (fabs(z) < 3.06e-4);
  double q = MPV * (1.0 + 0.15 * (-log(z * z)));
  c->u0 = unif() - 0.5;
  double s0 = c->u0 + ion * gauss();
  if (q > MPV) {
    double t = (q / MPV - 1.0) * m->e_mpv; /* keV */
    double range = 1e-4 * 0.0276 * 39.95 * pow(t, 1.67) / (pow(18.0, 0.889) * RHO); /* Kanaya-Okayama, cm */
    s0 += (q - MPV) / q * 0.5 * range / m->pitch * cos(2.0 * M_PI * unif());
  }
  c->lo = (int)floor(s0 - 4.0 * sig);
  c->hi = (int)ceil(s0 + 4.0 * sig);
  for (int k = c->lo; k <= c->hi; ++k) {
    double f = 0.5 * (erf((k + 0.5 - s0) / (M_SQRT2 * sig)) - erf((k - 0.5 - s0) / (M_SQRT2 * sig)));
    double x = q * f + NOISE * gauss(), v = floor(x + 0.5);
    c->a[k - c->lo] = v < 0 ? 0 : v > 4095 ? 4095 : v;
    c->fired[k - c->lo] = x >= 3.0 * NOISE; /* zero suppression at 3 sigma, before the rounding */
  }
}
#endif
