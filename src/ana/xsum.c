/*
 * Exact, order-independent summation of doubles: a fixed-point long accumulator (U. Kulisch,
 * "Computer Arithmetic and Validity", de Gruyter 2008; R.M. Neal, arXiv:1505.05571). Why: the cut
 * flow's weighted sums must not depend on the order of the events or on the number of threads
 * (issue 11), which plain or compensated (Neumaier) floating-point sums cannot promise.
 *
 * A double x = m 2^(e-53) with |m| < 2^53 is split into three 32-bit pieces added to limbs
 * i, i+1, i+2 (limb i counts 2^(32 i - 320)); the int64 limbs take 2^30 such additions before the
 * carries are propagated, so every addition is exact integer arithmetic.
 */
#include <math.h>
#include <string.h>

#include "na64/ana.h"

enum { XSUM_BIAS = 320, XSUM_FLUSH = 1u << 30 };

void na64_xsum_init(na64_xsum *s) { memset(s, 0, sizeof *s); }

/* Propagate carries so that limbs 0..L-2 lie in [0, 2^32); the top limb keeps the sign. */
static void xsum_normalize(na64_xsum *s)
{
  for (int i = 0; i < NA64_XSUM_LIMBS - 1; ++i) {
    int64_t c = s->limb[i] >> 32; /* floor division by 2^32 (arithmetic shift) */
    s->limb[i] -= c * ((int64_t)1 << 32);
    s->limb[i + 1] += c;
  }
  s->pending = 0;
}

void na64_xsum_add(na64_xsum *s, double x)
{
  if (x == 0.0) return;
  uint64_t bits;
  memcpy(&bits, &x, sizeof bits);
  const unsigned ex = (unsigned)(bits >> 52) & 0x7FFu;
  int p;
  int64_t sign;
  uint64_t u;
  if (ex != 0 && ex != 0x7FFu) {
    /* a normal double (IEEE 754 binary64) is (2^52 + fraction) 2^(ex - 1075): the m and e of the
     * general path below read from its fields (frexp and ldexp cost ~150 instructions, most of a
     * cut-flow fill) */
    p = (int)ex - 1075 + XSUM_BIAS;
    if (p < 0 || p + 53 >= 32 * NA64_XSUM_LIMBS) {
      s->bad = 1;
      return;
    }
    sign = (bits >> 63) ? -1 : 1;
    u = (bits & ((UINT64_C(1) << 52) - 1)) | (UINT64_C(1) << 52);
  } else { /* subnormal, infinite or NaN */
    int e = 0;
    double f = frexp(x, &e); /* x = f 2^e, 0.5 <= |f| < 1 */
    p = e - 53 + XSUM_BIAS;  /* bit position of the mantissa's lowest bit */
    if (!isfinite(x) || p < 0 || p + 53 >= 32 * NA64_XSUM_LIMBS) {
      s->bad = 1;
      return;
    }
    int64_t m = (int64_t)ldexp(f, 53); /* exact: |m| < 2^53 */
    sign = m < 0 ? -1 : 1;
    u = (uint64_t)(m < 0 ? -m : m);
  }
  int idx = p / 32, sh = p % 32;
  uint64_t low_bits = 32 - (unsigned)sh; /* bits of u that fit in limb idx */
  uint64_t part0 = (u & ((UINT64_C(1) << low_bits) - 1)) << sh;
  uint64_t rest = u >> low_bits;
  s->limb[idx] += sign * (int64_t)part0;
  s->limb[idx + 1] += sign * (int64_t)(rest & UINT64_C(0xFFFFFFFF));
  /* the third piece is 0 when idx + 2 is past the top limb (p <= 32 LIMBS - 54 leaves u < 2^53 at
   * most 31 bits for it there), and that limb does not exist: skip the zero */
  if (rest >> 32) s->limb[idx + 2] += sign * (int64_t)(rest >> 32);
  if (++s->pending >= XSUM_FLUSH) xsum_normalize(s);
}

void na64_xsum_merge(na64_xsum *s, const na64_xsum *t)
{
  na64_xsum c = *t;
  xsum_normalize(&c);
  xsum_normalize(s);
  for (int i = 0; i < NA64_XSUM_LIMBS; ++i) s->limb[i] += c.limb[i];
  s->bad |= t->bad;
  xsum_normalize(s);
}

double na64_xsum_value(const na64_xsum *s)
{
  if (s->bad) return NAN;
  na64_xsum c = *s;
  xsum_normalize(&c);
  /* From the top limb down in long double: the limbs are a unique representation of the exact
   * sum, so the result is the same whatever the order of the additions. */
  long double v = 0.0L;
  for (int i = NA64_XSUM_LIMBS - 1; i >= 0; --i)
    if (c.limb[i]) v += ldexpl((long double)c.limb[i], 32 * i - XSUM_BIAS);
  return (double)v;
}
