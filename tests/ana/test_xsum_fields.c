/* na64_xsum_add (src/ana/xsum.c) reads a normal double's mantissa and exponent from its IEEE 754
 * fields; this test holds it to the C library's decomposition (frexp, ldexp), done here as the
 * accumulator did before: for doubles of every exponent (normal, subnormal, at and past both ends of
 * the accumulator's range), both signs, random mantissas, inf and NaN, the limbs, the bad flag and
 * the value must be identical. And to an independent exact sum: multiples of 2^-40 below 2^50 summed
 * in 128-bit integers, rounded once to double, must equal na64_xsum_value. No tolerance. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "na64/ana.h"
#include "support/na64_test.h"

static uint64_t next(uint64_t *s)
{
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  uint64_t z = *s;
  z = (z ^ (z >> 33)) * 0xff51afd7ed558ccdULL;
  return z ^ (z >> 33);
}

/* The accumulator's addition through frexp/ldexp (the reference). */
static void ref_add(na64_xsum *s, double x)
{
  enum { BIAS = 320 };
  if (x == 0.0) return;
  int e = 0;
  double f = frexp(x, &e);
  int p = e - 53 + BIAS;
  if (!isfinite(x) || p < 0 || p + 53 >= 32 * NA64_XSUM_LIMBS) {
    s->bad = 1;
    return;
  }
  int64_t m = (int64_t)ldexp(f, 53);
  int64_t sign = m < 0 ? -1 : 1;
  uint64_t u = (uint64_t)(m < 0 ? -m : m);
  int idx = p / 32, sh = p % 32;
  uint64_t low_bits = 32 - (unsigned)sh;
  uint64_t part0 = (u & ((UINT64_C(1) << low_bits) - 1)) << sh;
  uint64_t rest = u >> low_bits;
  s->limb[idx] += sign * (int64_t)part0;
  s->limb[idx + 1] += sign * (int64_t)(rest & UINT64_C(0xFFFFFFFF));
  if (rest >> 32) s->limb[idx + 2] += sign * (int64_t)(rest >> 32); /* 0 past the top limb */
  s->pending++;
}

static void test_fields_match_frexp(void **state)
{
  (void)state;
  uint64_t seed = 2026;
  for (int round = 0; round < 200; ++round) {
    na64_xsum a, b;
    na64_xsum_init(&a);
    na64_xsum_init(&b);
    for (int k = 0; k < 500; ++k) {
      double x;
      uint64_t r = next(&seed);
      switch (r % 8) {
      case 0: x = ldexp((double)(next(&seed) >> 11), -53 - (int)(next(&seed) % 1100)); break; /* tiny, subnormal, 0 */
      case 1: x = ldexp(1.0 + (double)(next(&seed) >> 12) * 0x1p-52, (int)(next(&seed) % 2100) - 1075); break;
      case 2: x = (r >> 8) % 2 ? INFINITY : NAN; break;
      case 3: { uint64_t bits = next(&seed); memcpy(&x, &bits, sizeof x); } break; /* any bit pattern */
      default: x = ldexp((double)(next(&seed) >> 11) * 0x1p-53, (int)(next(&seed) % 120) - 60); break; /* weights */
      }
      if (r & (1u << 20)) x = -x;
      if (round % 2 && !isfinite(x)) continue; /* half of the rounds keep finite sums */
      na64_xsum_add(&a, x);
      ref_add(&b, x);
      assert_int_equal(a.bad, b.bad);
      for (int i = 0; i < NA64_XSUM_LIMBS; ++i)
        if (a.limb[i] != b.limb[i]) fail_msg("round %d, addend %d (%a): limb %d differs", round, k, x, i);
    }
    double va = na64_xsum_value(&a), vb = na64_xsum_value(&b);
    assert_true(memcmp(&va, &vb, sizeof va) == 0 || (isnan(va) && isnan(vb)));
  }
}

static void test_exact_against_int128(void **state)
{
  (void)state;
  uint64_t seed = 11;
  for (int round = 0; round < 100; ++round) {
    na64_xsum s;
    na64_xsum_init(&s);
    __int128 exact = 0;
    for (int k = 0; k < 2000; ++k) {
      int64_t q = (int64_t)(next(&seed) >> 14) * ((next(&seed) & 1) ? 1 : -1); /* |q| < 2^50 */
      na64_xsum_add(&s, ldexp((double)q, -40));                               /* exact: q fits 53 bits */
      exact += q;
    }
    /* one rounding of the exact sum: (double) of the integer (correctly rounded), then the exact
     * scaling by 2^-40 */
    double want = ldexp((double)exact, -40);
    assert_true(na64_xsum_value(&s) == want);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fields_match_frexp),
      cmocka_unit_test(test_exact_against_int128),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
