/*
 * The lanes of exp_fast (Tang's table method) and radial_at (Grindhammer-Peters eqs. 14-17) of
 * src/sim/fast_ecal.c, written once for any vector width:
 * fast_ecal.c includes this file once per width (hence no include guard) after defining
 *   RAD_N          the number of double lanes (8: AVX-512, 4: AVX2),
 *   RAD_TARGET     the function attribute that enables that instruction set,
 *   RAD_LOAD(p, n) the lanes p[0..n) and zeros (a masked load: it reads no further than p[n - 1]),
 *   RAD_GATHER(i)  the lanes exp2_64[i] (a gather),
 *   RAD_ALL(m)     whether every lane of the compare mask m is true
 * (the three operations the vector extensions lack),
 * and gets exp_fast<N> and radial_at<N>. The arithmetic is GCC's vector extensions (operators lane
 * by lane, a scalar operand broadcast), so each lane does exp_fast's and radial_at's operations in
 * the same order; with -ffp-contract=off nothing is fused, hence the same bits as the scalar code
 * (tests/sim/test_ecal_slicing test_radial_simd compares them bit by bit). */

#define RAD_CAT_(a, b) a##b
#define RAD_CAT(a, b) RAD_CAT_(a, b)
#define RAD_VD RAD_CAT(rad_vd, RAD_N) /* doubles */
#define RAD_VU RAD_CAT(rad_vu, RAD_N) /* their bits */
#define RAD_VM RAD_CAT(rad_vm, RAD_N) /* compare masks: all ones true, 0 false */
#define RAD_SELECT RAD_CAT(rad_select, RAD_N)
#define RAD_EXP RAD_CAT(exp_fast, RAD_N)
typedef double RAD_VD __attribute__((vector_size(8 * RAD_N)));
typedef uint64_t RAD_VU __attribute__((vector_size(8 * RAD_N)));
typedef int64_t RAD_VM __attribute__((vector_size(8 * RAD_N)));

/* m ? a : b lane by lane (C has no ?: on vectors) */
RAD_TARGET __attribute__((always_inline)) static inline RAD_VD RAD_SELECT(RAD_VM m, RAD_VD a, RAD_VD b)
{
  return (RAD_VD)(((RAD_VU)m & (RAD_VU)a) | (~(RAD_VU)m & (RAD_VU)b));
}

/* exp_fast lane by lane. The integer k is the low bits of kd + shift; kb = k + 1023 * 64 is positive
 * for x > -708 (k > -65370), so its logical shift by 6 is (k >> 6) + 1023 and its low 6 bits are
 * k & 63 (AVX2 has no 64-bit arithmetic shift); the lanes outside (-708, 709) and NaN get
 * exp_fast's special values instead. */
RAD_TARGET __attribute__((always_inline)) static inline RAD_VD RAD_EXP(RAD_VD x)
{
  const RAD_VD zero = {0}, shift = zero + 0x1.8p52;
  RAD_VD kd = x * 0x1.71547652b82fep+6 + shift;
  RAD_VU kb = (RAD_VU)kd - (RAD_VU)shift + 1023 * 64;
  kd -= shift;
  RAD_VD r = (x - kd * 0x1.62e42fefa0000p-7) - kd * 0x1.cf79abc9e3b3ap-46;
  RAD_VD pr = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0)))));
  RAD_VD e = RAD_GATHER(kb & 63) * pr * (RAD_VD)((kb >> 6) << 52);
  RAD_VM in = (x > -708.0) & (x < 709.0);
  if (RAD_ALL(in)) return e;
  RAD_VD sp = RAD_SELECT(x > 0.0, zero + HUGE_VAL, zero);
  sp = RAD_SELECT(x != x, x, sp);
  return RAD_SELECT(in, e, sp);
}

/* radial_at lane by lane for tau_in[0..n), n <= RAD_N (eqs. 14-17, constants of radial_consts);
 * the clamps by compares: p > 0 false for NaN (p -> 0) as in radial_at. */
RAD_TARGET static void RAD_CAT(radial_at, RAD_N)(const radial_k *c, const double *tau_in, int n, radial *out)
{
  const RAD_VD zero = {0}, tau = RAD_LOAD(tau_in, n);
  RAD_VD et = RAD_EXP(zero - tau);
  RAD_VD Rc = c->rc0 + c->rc1 * tau, tk = tau - RAD_K2;
  RAD_VD Rt = c->k1 * (RAD_EXP(c->k3 * tk) + RAD_EXP(c->k4 * tk));
  RAD_VD q = (c->p2 - tau) / c->p3;
  RAD_VD p = c->p1 * RAD_EXP(q - RAD_EXP(q));
  Rc += c->crc + c->crc_e * et;
  Rt += c->crt - c->crt_e * et;
  RAD_VD t1 = tau - 1.0;
  p += c->oe * (c->cp - c->cp_e * RAD_EXP((zero - t1) * t1));
  p = RAD_SELECT(p > 0.0, RAD_SELECT(p < 1.0, p, zero + 1.0), zero);
  Rc = RAD_SELECT(Rc > 1e-3, Rc, zero + 1e-3) * c->rm;
  Rt = RAD_SELECT(Rt > 1e-3, Rt, zero + 1e-3) * c->rm;
  for (int j = 0; j < n; ++j) out[j] = (radial){p[j], Rc[j], Rt[j]};
}

#undef RAD_VD
#undef RAD_VU
#undef RAD_VM
#undef RAD_SELECT
#undef RAD_EXP
#undef RAD_N
#undef RAD_TARGET
#undef RAD_LOAD
#undef RAD_GATHER
#undef RAD_ALL
