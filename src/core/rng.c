/*
 * Counter-based random streams: Philox4x64-10 of Random123 (Salmon, Moraes, Dror, Shaw,
 * "Parallel random numbers: as easy as 1, 2, 3", SC11). The key is (seed, stream): every event
 * (stream) of a run (seed) has its own independent sequence, so the numbers an event sees do not
 * depend on which thread or rank simulates it, nor in which order.
 */
#include "na64/core.h"

#include <math.h>
#include <string.h>
#include <Random123/philox.h>

#include "rng_ziggurat.h"

void na64_rng_init(na64_rng *rng, uint64_t seed, uint64_t stream)
{
  rng->key[0] = seed;
  rng->key[1] = stream;
  rng->ctr[0] = rng->ctr[1] = rng->ctr[2] = rng->ctr[3] = 0;
  rng->used = 4; /* force a block on first draw */
  rng->have_gauss = 0;
  rng->gauss = 0.0;
}

static void next_block(na64_rng *rng)
{
  philox4x64_ctr_t c = {{rng->ctr[0], rng->ctr[1], rng->ctr[2], rng->ctr[3]}};
  philox4x64_key_t k = {{rng->key[0], rng->key[1]}};
  philox4x64_ctr_t r = philox4x64_R(10, c, k);
  for (int i = 0; i < 4; ++i) rng->buf[i] = r.v[i];
  if (++rng->ctr[0] == 0) ++rng->ctr[1]; /* 2^128 blocks per stream */
  rng->used = 0;
}

/* The word and the uniform inline for this file's generators (the polar method, the ziggurat's rare
 * branches, the Poisson and exponential draws): the exported functions below are the same code, but
 * a call from the shared library to its own exported (interposable) symbol is not inlined; these save
 * the call and return of each draw (branch visevt). */
static inline uint64_t rng_u64(na64_rng *rng)
{
  if (rng->used >= 4) next_block(rng);
  return rng->buf[rng->used++];
}

/* 53 random bits, shifted by half a step: the result lies strictly inside (0, 1). */
static inline double rng_uniform(na64_rng *rng) { return ((double)(rng_u64(rng) >> 11) + 0.5) * 0x1.0p-53; }

uint64_t na64_rng_u64(na64_rng *rng) { return rng_u64(rng); }

double na64_rng_uniform(na64_rng *rng) { return rng_uniform(rng); }

double na64_rng_gauss(na64_rng *rng)
{
  /* Marsaglia polar method (Knuth TAOCP vol. 2, 3.4.1 C): exact, no trig. */
  if (rng->have_gauss) {
    rng->have_gauss = 0;
    return rng->gauss;
  }
  double u, v, s;
  do {
    u = 2.0 * rng_uniform(rng) - 1.0;
    v = 2.0 * rng_uniform(rng) - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  double f = sqrt(-2.0 * log(s) / s);
  rng->gauss = v * f;
  rng->have_gauss = 1;
  return u * f;
}

/* The rare branches of the ziggurat (about 1.2% of the draws with 256 layers): the tail beyond r by
 * Marsaglia's method (G. Marsaglia, Ann. Math. Stat. 34 (1963) 1464: x = -ln(u1) / r, accepted if
 * -2 ln(u2) > x^2, the draw r + x) and the wedges of layers 1..255 by rejection against f itself;
 * a rejected wedge point starts a fresh draw from the stream. */
static double zig_slow(na64_rng *rng, unsigned i, double x, int neg)
{
  for (;;) {
    if (i == 0) {
      double t, y;
      do {
        t = -log(rng_uniform(rng)) / ZIG_R;
        y = -log(rng_uniform(rng));
      } while (y + y < t * t);
      return neg ? -(ZIG_R + t) : ZIG_R + t;
    }
    if (zig_f[i] + rng_uniform(rng) * (zig_f[i + 1] - zig_f[i]) < exp(-0.5 * x * x)) return neg ? -x : x;
    uint64_t w = rng_u64(rng);
    i = (unsigned)(w & 0xFFu);
    neg = (int)((w >> 32) & 1u);
    x = ((double)(w >> 33) + 0.5) * 0x1.0p-31 * zig_x[i];
    if (x < zig_x[i + 1]) return neg ? -x : x;
  }
}

/* Ziggurat (Marsaglia and Tsang, J. Stat. Softw. 5 (2000) 8), 256 layers of equal area (tables from
 * tools/gen_ziggurat.py): the layer from bits 0-7 of w, the sign from bit 32, the abscissa from bits
 * 33-63 (31 bits, offset by half a step); exact, since every rejection is resolved against the
 * density. Bits 8-31 are not used, the caller may take them (24 bits) for a uniform of its own. */
double na64_rng_gauss_word(na64_rng *rng, uint64_t w)
{
  unsigned i = (unsigned)(w & 0xFFu);
  int neg = (int)((w >> 32) & 1u);
  double x = ((double)(w >> 33) + 0.5) * 0x1.0p-31 * zig_x[i];
  if (x < zig_x[i + 1]) return neg ? -x : x;
  return zig_slow(rng, i, x, neg);
}

double na64_rng_gauss_zig(na64_rng *rng) { return na64_rng_gauss_word(rng, rng_u64(rng)); }

/* The ziggurat of na64_rng_gauss_word on n words at once (the same values, in the same order, and the
 * same draws from rng on a rejection): the fast path inline in one loop, without a call per deviate
 * (branch vissmear: ~20 instead of ~34 instructions a deviate; the sign bit set directly, which is
 * what the negation does in IEEE 754). */
void na64_rng_gauss_words(na64_rng *rng, const uint64_t *w, double *z, int n)
{
  for (int k = 0; k < n; ++k) {
    const uint64_t v = w[k];
    const unsigned i = (unsigned)(v & 0xFFu);
    double x = ((double)(int64_t)(v >> 33) + 0.5) * 0x1.0p-31 * zig_x[i]; /* 31 bits: a signed conversion, exact */
    if (x < zig_x[i + 1]) {
      uint64_t b;
      memcpy(&b, &x, sizeof b);
      b |= (v >> 32 & 1u) << 63;
      memcpy(&z[k], &b, sizeof b);
    } else {
      z[k] = zig_slow(rng, i, x, (int)((v >> 32) & 1u));
    }
  }
}

double na64_rng_exponential(na64_rng *rng) { return -log(rng_uniform(rng)); }

unsigned long na64_rng_poisson(na64_rng *rng, double mean)
{
  if (!(mean > 0.0)) return 0;
  if (mean < 30.0) {
    /* Knuth's multiplication method: exact, O(mean). */
    double limit = exp(-mean), p = 1.0;
    unsigned long k = 0;
    for (;;) {
      p *= rng_uniform(rng);
      if (p <= limit) return k;
      ++k;
    }
  }
  /* PTRS transformed rejection (Hormann, Insurance: Math. Econ. 12 (1993) 39), exact for mean >= 10. */
  double slam = sqrt(mean), loglam = log(mean);
  double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
  double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2.0);
  for (;;) {
    double u = rng_uniform(rng) - 0.5, v = rng_uniform(rng);
    double us = 0.5 - fabs(u);
    double k = floor((2.0 * a / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return (unsigned long)k;
    if (k < 0.0 || (us < 0.013 && v > us)) continue;
    if (log(v) + log(invalpha) - log(a / (us * us) + b) <= -mean + k * loglam - lgamma(k + 1.0))
      return (unsigned long)k;
  }
}
