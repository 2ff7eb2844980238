/*
 * Electromagnetic showers in the ECAL from the Grindhammer-Peters parametrisation:
 * G. Grindhammer, M. Rudowicz, S. Peters, NIM A290 (1990) 469, and G. Grindhammer, S. Peters,
 * "The parameterized simulation of electromagnetic showers in homogeneous and sampling
 * calorimeters", hep-ex/0001020 (the equation numbers below are of the latter; the same numbers
 * are the defaults of Geant4's GFlash).
 *
 * Longitudinal: dE/dt = E f(t), f the gamma distribution (beta t)^(alpha-1) beta e^(-beta t) /
 * Gamma(alpha), t in X0 from the shower start, with T = (alpha - 1)/beta the depth of the maximum.
 * Per shower (ln T, ln alpha) are drawn from a correlated 2-D Gaussian whose means, widths and
 * correlation depend on y = E/E_c (eqs. 5-7 homogeneous, eqs. 11-12 for sampling calorimeters:
 * <ln T_sam> = ln(exp<ln T_hom> + t1/F_S + t2 (1 - e-hat)), <ln alpha_sam> = ln(exp<ln alpha_hom>
 * + a1/F_S), sigma(ln T) = 1/(s1 + s2 ln y), sigma(ln alpha) = 1/(s3 + s4 ln y), rho = r1 + r2 ln y).
 * The energy of a depth interval is a difference of regularised incomplete gamma functions
 * (sim_gamma_p of src/sim/ecal_shape.c, with ln Gamma(alpha) once per shower).
 *
 * Radial: f(r) = p 2 r R_C^2/(r^2 + R_C^2)^2 + (1 - p) 2 r R_T^2/(r^2 + R_T^2)^2 (eq. 13), r in
 * Moliere radii, with R_C, R_T, p functions of tau = t/T, E and Z (eqs. 14-16) plus the sampling
 * corrections (eq. 17). The energy of a rectangular cell follows from the quadrant integral of the
 * 2-D density R^2/(pi (r^2 + R^2)^2),
 *   G(x, y) = [x/a atan(y/a) + y/b atan(x/b)] / (2 pi),  a = sqrt(x^2 + R^2), b = sqrt(y^2 + R^2),
 * tabulated in (x/R, y/R) (src/sim/ecal_shape.c: within 1e-4 of the energy per cell).
 *
 * Sampling fluctuations: sigma/E = a/sqrt(E) with a = 10% (NA64: "dE/E ~ 10%/sqrt(E)", the NA64
 * report), drawn per section and split among the cells with the exact conditional Gaussian.
 */
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "sim/ecal_shape.h"
#include "sim/fast_internal.h"
#include "sim/simd_switch.h"
#include "sim/vis_resp.h"

/* hep-ex/0001020 Table/eqs. for sampling calorimeters (the GFlash defaults) */
#define GP_T1 (-0.55)
#define GP_T2 (-0.69)
#define GP_A1 (-0.476)
/* (the widths and correlation, s1-s4, r1-r2: sim_gp_spread_at, fast_internal.h) */

typedef struct sim_shower {
  double E, t0;          /* energy, start depth (X0) */
  double x, y, dx, dy;   /* axis at the ECAL front face and slopes */
  double T, alpha, beta; /* drawn profile */
  double lg;             /* ln Gamma(alpha), for the incomplete gamma functions */
} sim_shower;

/* Mean of ln T and ln alpha of the sampling calorimeter (eqs. 5, 6, 11). */
static void gp_means(const na64_sim *s, double lny, double *mlnT, double *mlna)
{
  double Z = s->ecal_mat.Z_eff;
  double T_hom = sim_max_c(lny - 0.812, 0.1); /* <ln T_hom> = ln(ln y - 0.812) */
  double a_hom = 0.81 + (0.458 + 2.26 / Z) * lny;  /* <ln alpha_hom> = ln(0.81 + (0.458 + 2.26/Z) ln y) */
  *mlnT = log(sim_max_c(T_hom + GP_T1 / s->ecal_fs + GP_T2 * (1.0 - s->ecal_ehat), 0.1));
  *mlna = log(sim_max_c(a_hom + GP_A1 / s->ecal_fs, 1.1));
}

static void shower_draw(const na64_sim *s, sim_shower *sh, na64_rng *rng)
{
  double y = sh->E / s->ecal_mat.E_c, lny = log(sim_max_c(y, 1.0));
  double mlnT, mlna;
  gp_means(s, lny, &mlnT, &mlna);
  double z1 = na64_rng_gauss(rng), z2 = na64_rng_gauss(rng);
  const sim_gp_spread w = sim_gp_spread_at(lny); /* widths capped at 0.5 below ln y ~ 3 (E ~ 0.2 GeV here) */
  sh->T = sim_max_c(exp(mlnT + w.sT * (w.c1 * z1 + w.c2 * z2)), 0.1);
  sh->alpha = sim_max_c(exp(mlna + w.sa * (w.c1 * z1 - w.c2 * z2)), 1.1);
  sh->beta = (sh->alpha - 1.0) / sh->T;
  sh->lg = gsl_sf_lngamma(sh->alpha);
}

/* Fraction of the profile between shower depths a < b (X0, clipped at 0). */
static double long_frac(const sim_shower *sh, double a, double b)
{
  if (b <= 0.0) return 0.0;
  double pa = a > 0.0 ? sim_gamma_p(sh->alpha, sh->beta * a, sh->lg) : 0.0;
  double pb = isinf(b) ? 1.0 : sim_gamma_p(sh->alpha, sh->beta * b, sh->lg);
  return pb - pa;
}

/* Longitudinal energies per section (full lateral containment); returns the energy behind the ECAL.
 * Two incomplete gamma functions per shower: P at the end of the pre-shower and of the ECAL. */
static double shower_sections(const na64_sim *s, const sim_shower *sh, double dep[2])
{
  double d0 = s->ecal_depth[0] - sh->t0, d1 = s->ecal_depth[0] + s->ecal_depth[1] - sh->t0;
  double p0 = d0 > 0.0 ? sim_gamma_p(sh->alpha, sh->beta * d0, sh->lg) : 0.0;
  double p1 = d1 > 0.0 ? sim_gamma_p(sh->alpha, sh->beta * d1, sh->lg) : 0.0;
  dep[0] += sh->E * p0;
  dep[1] += sh->E * (p1 - p0);
  return sh->E * (1.0 - p1);
}

/* e^x for the radial parameters (branch visresp: 6 per slice; glibc's exp costs ~50 instructions a
 * call with its wrapper, this ~35): x = (k + r/(ln 2/64)) ln 2/64 with k = round(64 x/ln 2), |r| <= ln 2/128, e^x =
 * 2^(k >> 6) 2^((k & 63)/64) e^r (the classic table method: P. T. P. Tang, ACM TOMS 15 (1989) 144), e^r
 * by its Taylor series to r^5 (remainder r^6/720 < 4e-17), ln 2/64 in two parts (the high one with
 * 36 bits, so k hi is exact), the 64 powers 2^(j/64) as hex floats (correctly rounded, from
 * Python's decimal module). Relative error <= ~2 ulp (tests/sim/test_ecal_slicing
 * test_exp_fast: <= 4.4e-16 against libm over -700..700); below -708 it gives 0 (e^x < 3e-308),
 * above 709 infinity, NaN for NaN. */
static const double exp2_64[64] = {
    0x1.0000000000000p+0, 0x1.02c9a3e778061p+0, 0x1.059b0d3158574p+0, 0x1.0874518759bc8p+0,
    0x1.0b5586cf9890fp+0, 0x1.0e3ec32d3d1a2p+0, 0x1.11301d0125b51p+0, 0x1.1429aaea92de0p+0,
    0x1.172b83c7d517bp+0, 0x1.1a35beb6fcb75p+0, 0x1.1d4873168b9aap+0, 0x1.2063b88628cd6p+0,
    0x1.2387a6e756238p+0, 0x1.26b4565e27cddp+0, 0x1.29e9df51fdee1p+0, 0x1.2d285a6e4030bp+0,
    0x1.306fe0a31b715p+0, 0x1.33c08b26416ffp+0, 0x1.371a7373aa9cbp+0, 0x1.3a7db34e59ff7p+0,
    0x1.3dea64c123422p+0, 0x1.4160a21f72e2ap+0, 0x1.44e086061892dp+0, 0x1.486a2b5c13cd0p+0,
    0x1.4bfdad5362a27p+0, 0x1.4f9b2769d2ca7p+0, 0x1.5342b569d4f82p+0, 0x1.56f4736b527dap+0,
    0x1.5ab07dd485429p+0, 0x1.5e76f15ad2148p+0, 0x1.6247eb03a5585p+0, 0x1.6623882552225p+0,
    0x1.6a09e667f3bcdp+0, 0x1.6dfb23c651a2fp+0, 0x1.71f75e8ec5f74p+0, 0x1.75feb564267c9p+0,
    0x1.7a11473eb0187p+0, 0x1.7e2f336cf4e62p+0, 0x1.82589994cce13p+0, 0x1.868d99b4492edp+0,
    0x1.8ace5422aa0dbp+0, 0x1.8f1ae99157736p+0, 0x1.93737b0cdc5e5p+0, 0x1.97d829fde4e50p+0,
    0x1.9c49182a3f090p+0, 0x1.a0c667b5de565p+0, 0x1.a5503b23e255dp+0, 0x1.a9e6b5579fdbfp+0,
    0x1.ae89f995ad3adp+0, 0x1.b33a2b84f15fbp+0, 0x1.b7f76f2fb5e47p+0, 0x1.bcc1e904bc1d2p+0,
    0x1.c199bdd85529cp+0, 0x1.c67f12e57d14bp+0, 0x1.cb720dcef9069p+0, 0x1.d072d4a07897cp+0,
    0x1.d5818dcfba487p+0, 0x1.da9e603db3285p+0, 0x1.dfc97337b9b5fp+0, 0x1.e502ee78b3ff6p+0,
    0x1.ea4afa2a490dap+0, 0x1.efa1bee615a27p+0, 0x1.f50765b6e4540p+0, 0x1.fa7c1819e90d8p+0
};
static inline double exp_fast(double x)
{
  if (!(x > -708.0 && x < 709.0)) return x != x ? x : x > 0.0 ? HUGE_VAL : 0.0;
  const double shift = 0x1.8p52; /* adding it rounds to an integer in the low mantissa bits */
  double kd = x * 0x1.71547652b82fep+6 + shift;
  uint64_t kb;
  memcpy(&kb, &kd, sizeof kb);
  kd -= shift;
  double r = (x - kd * 0x1.62e42fefa0000p-7) - kd * 0x1.cf79abc9e3b3ap-46;
  double pr = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0)))));
  int64_t k = (int64_t)(kb & 0xffffffffull) - (kb & 0x80000000ull ? 0x100000000ll : 0); /* low 32 bits, signed */
  uint64_t sb = (uint64_t)((k >> 6) + 1023) << 52;
  double sc;
  memcpy(&sc, &sb, sizeof sc);
  return exp2_64[k & 63] * pr * sc;
}

typedef struct radial {
  double p, Rc, Rt; /* core weight, core and tail radii (cm) */
} radial;

/* The per-shower constants of eqs. 14-17 (Z, F_S, e-hat of the ECAL and ln E of the shower): the
 * same operations as when they were evaluated per slice, hoisted (the same bits). */
typedef struct radial_k {
  double rc0, rc1;    /* R_C = rc0 + rc1 tau (eq. 14) */
  double k1, k3, k4;  /* R_T = k1 (e^(k3 (tau - k2)) + e^(k4 (tau - k2))) (eq. 15) */
  double p1, p2, p3;  /* p = p1 e^(q - e^q), q = (p2 - tau)/p3 (eq. 16) */
  double crc, crc_e;  /* eq. 17: R_C += crc + crc_e e^-tau */
  double crt, crt_e;  /*          R_T += crt - crt_e e^-tau */
  double oe, cp, cp_e; /*          p += oe (cp - cp_e e^(-(tau - 1)^2)) */
  double rm;          /* the Moliere radius (cm) */
} radial_k;
#define RAD_K2 0.645

static radial_k radial_consts(const na64_sim *s, double lnE)
{
  double Z = s->ecal_mat.Z_eff, fs = s->ecal_fs, oe = 1.0 - s->ecal_ehat;
  radial_k k = {0.0251 + 0.00319 * lnE, 0.1162 - 0.000381 * Z,
                0.659 - 0.00309 * Z, -2.59, 0.3585 + 0.0421 * lnE,
                2.632 - 0.00094 * Z, 0.401 + 0.00187 * Z, 1.313 - 0.0686 * lnE,
                -0.0203 * oe, 0.0397 / fs, -0.14 * oe, 0.495 / fs,
                oe, 0.348, 0.642 / fs, s->ecal_rm};
  return k;
}

/* eqs. 14-17 at tau = t/T (constants of radial_consts). exp(-tau) once: the same value in both of
 * its terms. */
static radial radial_at(const radial_k *c, double tau)
{
  double et = exp_fast(-tau);
  double Rc = c->rc0 + c->rc1 * tau;
  double Rt = c->k1 * (exp_fast(c->k3 * (tau - RAD_K2)) + exp_fast(c->k4 * (tau - RAD_K2)));
  double q = (c->p2 - tau) / c->p3;
  double p = c->p1 * exp_fast(q - exp_fast(q));
  Rc += c->crc + c->crc_e * et;
  Rt += c->crt - c->crt_e * et;
  p += c->oe * (c->cp - c->cp_e * exp_fast(-(tau - 1.0) * (tau - 1.0)));
  /* clamps as fmin/fmax do for numbers (libm calls at -O2), NaN p to 0 as fmax(NaN, 0) */
  p = p > 0.0 ? (p < 1.0 ? p : 1.0) : 0.0;
  radial r = {p, (Rc > 1e-3 ? Rc : 1e-3) * c->rm, (Rt > 1e-3 ? Rt : 1e-3) * c->rm};
  return r;
}

/* eqs. 14-17 at tau = t/T for energy E (GeV), lnE = ln E. */
static radial radial_params(const na64_sim *s, double lnE, double tau)
{
  radial_k c = radial_consts(s, lnE);
  return radial_at(&c, tau);
}

/* The radial parameters of all the slices of a shower at once (branch radvec): 8 slices per
 * AVX-512 operation where the CPU has it (sim_simd_enabled), each lane doing radial_at's and
 * exp_fast's operations in the same order without contraction (-ffp-contract=off), hence the same
 * bits (tests/sim/test_ecal_slicing test_radial_simd compares them bit by bit); else 4 per AVX2
 * operation; otherwise the scalar loop. exp_fast's table lookup is a gather, 2^(k >> 6) is built from the integer k in the
 * lanes; the arguments outside (-708, 709) (and NaN) get exp_fast's special values. */
extern atomic_int sim_radial_use_avx512, sim_radial_use_avx2;
atomic_int sim_radial_use_avx512 = -1, sim_radial_use_avx2 = -1;
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define RAD_SIMD 1
/* The lanes written once (src/sim/radial_lanes.h), instantiated for 8 (AVX-512) and 4 (AVX2) */
#define RAD_N 8
#define RAD_TARGET __attribute__((target("avx512f")))
#define RAD_LOAD(p, n) ((rad_vd8)_mm512_maskz_loadu_pd((__mmask8)((1u << (n)) - 1u), (p)))
#define RAD_GATHER(i) ((rad_vd8)_mm512_i64gather_pd((__m512i)(i), exp2_64, 8))
#define RAD_ALL(m) (_mm512_test_epi64_mask((__m512i)(m), (__m512i)(m)) == 0xff)
#include "sim/radial_lanes.h"
#define RAD_N 4
#define RAD_TARGET __attribute__((target("avx2")))
#define RAD_LOAD(p, n) ((rad_vd4)_mm256_maskload_pd((p), (__m256i)((rad_vm4){0, 1, 2, 3} < (n))))
#define RAD_GATHER(i) ((rad_vd4)_mm256_i64gather_pd(exp2_64, (__m256i)(i), 8))
#define RAD_ALL(m) (_mm256_movemask_pd((__m256d)(m)) == 0xf)
#include "sim/radial_lanes.h"
/* __builtin_cpu_supports also asks the OS (review rv12): GCC 12's libgcc (cpuinfo.o,
 * get_available_features, read with objdump -d) reports avx/avx2 only if CPUID has OSXSAVE and
 * XCR0 & 0x6 == 0x6 (XMM, YMM state enabled), and avx512f only if moreover XCR0 & 0xe6 == 0xe6
 * (opmask, ZMM_Hi256, Hi16_ZMM state), so a kernel that does not save the AVX-512 registers makes
 * it 0 and the AVX2 or scalar path is taken. Defined with the lanes only: elsewhere nothing calls
 * them (an unused static function fails -Werror). */
static int radial_have_avx512(void)
{
  return sim_simd_enabled(&sim_radial_use_avx512, __builtin_cpu_supports("avx512f"));
}
static int radial_have_avx2(void) { return sim_simd_enabled(&sim_radial_use_avx2, __builtin_cpu_supports("avx2")); }
#else
#define RAD_SIMD 0
#endif

/* out[j] = radial_params(s, lnE, tau[j]) for j < n. */
static void radial_params_n(const na64_sim *s, double lnE, const double *tau, int n, radial *out)
{
  radial_k c = radial_consts(s, lnE);
#if RAD_SIMD
  if (radial_have_avx512()) {
    for (int j = 0; j < n; j += 8) radial_at8(&c, tau + j, n - j < 8 ? n - j : 8, out + j);
    return;
  }
  if (radial_have_avx2()) { /* valgrind's CPU (no AVX-512) takes this one: callgrind counts it */
    for (int j = 0; j < n; j += 4) radial_at4(&c, tau + j, n - j < 4 ? n - j : 4, out + j);
    return;
  }
#endif
  for (int j = 0; j < n; ++j) out[j] = radial_at(&c, tau[j]);
}

/* Add energy E of a slice with axis at (xa, ya) to the cells; returns the part outside the matrix.
 * The cell fractions come from the tabulated quadrant integral (src/sim/ecal_shape.c: within 1e-4
 * of the closed form per cell; 34k instead of 120k instructions per shower). */
static double spread_slice(const na64_sim *s, double E, radial r, double xa, double ya, double *cells)
{
  const sim_grid *g = &s->ecal;
  double ex[LAT_MAX_EDGES], ey[LAT_MAX_EDGES], f[NA64_SIM_MAX_ECAL];
  for (int i = 0; i <= g->nx; ++i) ex[i] = g->x_lo + i * g->px - xa;
  for (int j = 0; j <= g->ny; ++j) ey[j] = g->y_lo + j * g->py - ya;
  double inside = sim_lateral_cells(g->nx, g->ny, ex, ey, r.p, r.Rc, r.Rt, f);
  const int nc = g->nx * g->ny;
  for (int k = 0; k < nc; ++k) cells[k] += E * f[k];
  return E * (1.0 - inside);
}

/* A slice of a shower: its energy, section, radial parameters and axis at its middle depth. */
typedef struct slice {
  double e, xa, ya;
  radial r;
  int k;
} slice;
#define MAX_SLICES 16

/* Slices at fixed fractions tau = t/T of the shower's own depth (finer before the maximum, where
 * the radial shape changes fastest), split at the section boundary and cut at the back of the
 * ECAL; the energy of each slice is exact. The radial parameters and the axis are those of the
 * slice's middle (fine slicing, SLICES_FINE: the invisible showers, na64_sim_em_shower) or of the
 * slice's mean depth under the profile (SLICES_COARSE: the visible pair's showers, half the slices;
 * branch visspeed2). The mean of x = beta (t - t0) over [xa, xb] is alpha - (pre_b - pre_a) /
 * (P_b - P_a), pre = x^alpha e^-x / Gamma(alpha), from int x f = alpha [P(alpha + 1, x)] and
 * P(alpha + 1, x) = P(alpha, x) - pre / alpha (A&S 6.5.21). Returns the number of slices
 * (<= MAX_SLICES), *behind the energy behind the ECAL. */
typedef enum { SLICES_FINE, SLICES_COARSE } slicing;
static const double tau_fine[] = {0.3, 0.6, 0.9, 1.2, 1.6, 2.1, 2.8, 4.0, 6.0};
#define NTAU_FINE ((int)(sizeof tau_fine / sizeof tau_fine[0]))
/* 4 edges with the mean depth (session 12, branch slice5: 5.0 slices per shower instead of 7.0, -9%
 * of the visible event's instructions: response 39.0k -> 32.2k; before, 6 edges 0.3, 0.7, 1.2, 1.8,
 * 2.8, 4.5); the section boundary of the coarse slicing takes the place of the nearer of the two tau
 * edges around it (branch visresp: no sliver slice). Against a converged integration (300 slices of
 * <= 0.13 X0, tests/sim/test_ecal_slicing, which prints them) the mean cells of 1, 5, 20, 60 GeV
 * showers differ by 0.012, 0.018, 0.065, 0.123 of their sampling fluctuation (6 edges: 0.004, 0.014,
 * 0.038, 0.080; the invisible showers' fine slicing 0.015, 0.055, 0.109, 0.185), the 3 x 3 shape chi2
 * by 0.0032-0.032 per cell (6 edges 0.0006-0.013; fine 0.0013-0.052), and the outer ring of cells
 * (~1% of the shower) holds 0.94-1.02 of the reference's energy (6 edges 0.96-1.01, fine 1.01-1.07).
 * Of the six 4-edge sets the test ranked at all four energies this one is the closest to the
 * reference at 60 GeV (0.123 against 0.131-0.161; docs/performance.md "slice5" lists every set tried). */
static const double tau_coarse[] = {0.35, 0.9, 1.6, 2.8};
#define NTAU_COARSE ((int)(sizeof tau_coarse / sizeof tau_coarse[0]))

/* The coarse edges are fixed fractions of T = (alpha - 1)/beta, so at the edge tau_i the argument of
 * the incomplete gamma function is x_i = beta tau_i T = (alpha - 1) tau_i: P(alpha, x_i) and
 * pre = x_i^alpha e^-x_i / Gamma(alpha) are functions of alpha alone (branch visresp). They are
 * tabulated in u = ln(alpha - 1) (smooth down to alpha = 1.1, where (alpha - 1)^alpha is not smooth in
 * alpha) at step h = 1/64 and interpolated by the 4-point Lagrange cubic (error ~ h^4 f^(4)/40;
 * tests/sim/test_ecal_slicing.c test_table_against_exact bounds it against the exact functions, far below the sampling
 * fluctuation 0.1 sqrt(E) of >= 3e-3 of a 1 GeV slice), instead of ~6 series or continued
 * fractions per shower. Outside the table: the exact functions. */
#define GT_H (1.0 / 64.0)
#define GT_U0 (-2.302585092994046 - 2.0 * GT_H) /* ln(0.1) - 2h: the stencil of alpha = 1.1 inside */
#define GT_N 448                                /* up to u = 4.67, alpha - 1 = 107 */
#define GT_V (2 * NTAU_COARSE)                  /* (P, pre) per edge */
static double gt_tab[GT_N][GT_V];
static pthread_once_t gt_once = PTHREAD_ONCE_INIT;
static atomic_int gt_ready; /* 1 once gt_tab is filled (checked before pthread_once, as ecal_shape.c) */

static void gt_fill(void)
{
  for (int k = 0; k < GT_N; ++k) {
    double a = 1.0 + exp(GT_U0 + k * GT_H), lg = gsl_sf_lngamma(a);
    for (int i = 0; i < NTAU_COARSE; ++i)
      gt_tab[k][2 * i] = sim_gamma_p_pre(a, (a - 1.0) * tau_coarse[i], lg, &gt_tab[k][2 * i + 1]);
  }
  atomic_store_explicit(&gt_ready, 1, memory_order_release);
}

/* P and pre at the coarse edges for alpha (v[2 i], v[2 i + 1]); 0 if alpha is outside the table. */
static int gamma_edges(double alpha, double v[GT_V])
{
  if (!atomic_load_explicit(&gt_ready, memory_order_acquire)) pthread_once(&gt_once, gt_fill);
  double s = (log(alpha - 1.0) - GT_U0) / GT_H;
  if (!(s >= 1.0 && s < GT_N - 2)) return 0; /* NaN too */
  int k = (int)s;
  double t = s - k, tm = t - 1.0, tp = t + 1.0, t2 = t - 2.0;
  double w0 = -t * tm * t2 / 6.0, w1 = tp * tm * t2 / 2.0, w2 = -tp * t * t2 / 2.0, w3 = tp * t * tm / 6.0;
  const double *a = gt_tab[k - 1], *b = gt_tab[k], *c = gt_tab[k + 1], *d = gt_tab[k + 2];
  for (int i = 0; i < GT_V; ++i) v[i] = w0 * a[i] + w1 * b[i] + w2 * c[i] + w3 * d[i];
  return 1;
}

static int shower_slices(const na64_sim *s, const sim_shower *sh, slicing how, slice *out, double *behind)
{
  const double *tau_edge = how == SLICES_FINE ? tau_fine : tau_coarse;
  const int ntau = how == SLICES_FINE ? NTAU_FINE : NTAU_COARSE;
  const double d0 = s->ecal_depth[0], d1 = d0 + s->ecal_depth[1];
  /* edge[j] and, where tabulated (the coarse tau edges), P and pre there (eP[j] NaN: computed) */
  double edge[MAX_SLICES], eP[MAX_SLICES], eq[MAX_SLICES], tv[GT_V];
  const int tab = how == SLICES_COARSE && gamma_edges(sh->alpha, tv);
  int n = 0, ns = 0;
  eP[n] = eq[n] = 0.0;
  edge[n++] = sh->t0;
  for (int i = 0; i < ntau; ++i) {
    double a = sh->t0 + tau_edge[i] * sh->T;
    if (edge[n - 1] < d0 && a > d0) { /* the section boundary */
      if (how == SLICES_COARSE && n > 1 && d0 - edge[n - 1] < a - d0) {
        eP[n - 1] = eq[n - 1] = NAN, edge[n - 1] = d0; /* the previous edge moves onto it */
      } else {
        eP[n] = eq[n] = NAN, edge[n++] = d0;
        if (how == SLICES_COARSE && a < d1) continue; /* the boundary replaces this edge */
      }
    }
    if (a >= d1) break;
    eP[n] = tab ? tv[2 * i] : NAN;
    eq[n] = tab ? tv[2 * i + 1] : NAN;
    edge[n++] = a;
  }
  if (edge[n - 1] < d0) eP[n] = eq[n] = NAN, edge[n++] = d0;
  eP[n] = eq[n] = NAN;
  edge[n++] = d1;
  double Pprev = 0.0, qprev = 0.0, tau[MAX_SLICES];
  for (int j = 0; j + 1 < n; ++j) {
    double a = edge[j], b = edge[j + 1];
    if (!(b > a)) continue;
    double q = eq[j + 1], Pb = eP[j + 1];
    if (isnan(Pb)) Pb = sim_gamma_p_pre(sh->alpha, sh->beta * (b - sh->t0), sh->lg, &q);
    double dP = Pb - Pprev, dq = q - qprev, e = sh->E * dP;
    Pprev = Pb;
    qprev = q;
    if (!(e > 1e-12 * sh->E)) continue;
    double tm = 0.5 * (a + b);
    if (how == SLICES_COARSE) { /* the mean depth, kept inside the slice against rounding */
      double xm = sh->alpha - dq / dP, t = sh->t0 + xm / sh->beta;
      tm = t > a && t < b ? t : tm;
    }
    double zc = tm * s->ecal_x0_cm; /* cm behind the front face */
    slice sl = {e, sh->x + sh->dx * zc, sh->y + sh->dy * zc, {0, 0, 0}, b <= d0 + 1e-12 ? 0 : 1};
    tau[ns] = (tm - sh->t0) / sh->T;
    out[ns++] = sl;
  }
  radial r[MAX_SLICES];
  radial_params_n(s, log(sh->E), tau, ns, r);
  for (int j = 0; j < ns; ++j) out[j].r = r[j];
  *behind = sh->E * (1.0 - Pprev);
  return ns;
}

/* The shower's slices spread over the cells; returns the energy outside the matrix and behind it. */
static double shower_cells(const na64_sim *s, const sim_shower *sh, double cells[][NA64_SIM_MAX_ECAL], double dep[2])
{
  slice sl[MAX_SLICES];
  double behind, leak = 0.0;
  int n = shower_slices(s, sh, SLICES_FINE, sl, &behind);
  for (int j = 0; j < n; ++j) {
    double out = spread_slice(s, sl[j].e, sl[j].r, sl[j].xa, sl[j].ya, cells[sl[j].k]);
    dep[sl[j].k] += sl[j].e - out;
    leak += out;
  }
  return leak + behind;
}

_Static_assert(SIM_ECAL_CORNERS == LAT_MAX_CORNERS, "the corner grids of fast_internal.h");

/* out[i] = e[i] - a for i < n, two per SSE2 operation (the same subtraction in each lane; at -O2
 * GCC 12 leaves the loop scalar: 1.3k instructions per event, branch radvec). */
static void edges_from(int n, const double *e, double a, double *out)
{
  int i = 0;
#ifdef __SSE2__
  const __m128d av = _mm_set1_pd(a);
  for (; i + 2 <= n; i += 2) _mm_storeu_pd(out + i, _mm_sub_pd(_mm_loadu_pd(e + i), av));
#endif
  for (; i < n; ++i) out[i] = e[i] - a;
}

void sim_em_corners_add(const na64_sim *s, double E, double x, double y, double dxdz, double dydz, na64_rng *rng,
                        double g[NA64_SIM_ECAL_SECTIONS][SIM_ECAL_CORNERS])
{
  sim_shower sh = {E, 0.0, x, y, dxdz, dydz, 0, 0, 0, 0};
  shower_draw(s, &sh, rng);
  slice sl[MAX_SLICES];
  double behind, ex[LAT_MAX_EDGES], ey[LAT_MAX_EDGES];
  int n = shower_slices(s, &sh, SLICES_COARSE, sl, &behind);
  const sim_grid *gr = &s->ecal;
  double xe[LAT_MAX_EDGES], ye[LAT_MAX_EDGES]; /* the cell edges, once per shower (the same values) */
  for (int i = 0; i <= gr->nx; ++i) xe[i] = gr->x_lo + i * gr->px;
  for (int i = 0; i <= gr->ny; ++i) ye[i] = gr->y_lo + i * gr->py;
  for (int j = 0; j < n; ++j) {
    edges_from(gr->nx + 1, xe, sl[j].xa, ex);
    edges_from(gr->ny + 1, ye, sl[j].ya, ey);
    sim_lateral_corners_add(gr->nx, gr->ny, ex, ey, sl[j].e * sl[j].r.p, sl[j].r.Rc, sl[j].e * (1.0 - sl[j].r.p),
                            sl[j].r.Rt, g[sl[j].k]);
  }
}

void sim_em_corner_cells(const na64_sim *s, const double g[NA64_SIM_ECAL_SECTIONS][SIM_ECAL_CORNERS],
                         double cells[][NA64_SIM_MAX_ECAL], double dep[NA64_SIM_ECAL_SECTIONS])
{
  const int nx = s->ecal.nx, ny = s->ecal.ny, w = nx + 1;
  for (int k = 0; k < NA64_SIM_ECAL_SECTIONS; ++k) {
    const double *c = g[k];
    for (int j = 0; j < ny; ++j) {
      const double *a = c + j * w;
      double *out = cells[k] + j * nx;
      int i = 0;
#ifdef __SSE2__
      /* two cells per operation, each lane the scalar expression's operations in its order (same bits) */
      for (; i + 2 <= nx; i += 2) {
        __m128d d = _mm_sub_pd(_mm_loadu_pd(a + w + 1 + i), _mm_loadu_pd(a + 1 + i));
        d = _mm_add_pd(_mm_sub_pd(d, _mm_loadu_pd(a + w + i)), _mm_loadu_pd(a + i));
        _mm_storeu_pd(out + i, d);
      }
#endif
      for (; i < nx; ++i) out[i] = a[w + 1 + i] - a[1 + i] - a[w + i] + a[i];
    }
    dep[k] = c[ny * w + nx] - c[ny * w] - c[nx] + c[0]; /* the whole matrix (the differences telescope) */
  }
}

/* Fraction of a shower at its maximum (tau = 1) inside the whole matrix (the matrix as one cell):
 * the fast trigger estimate. */
static double containment_at_max(const na64_sim *s, const sim_shower *sh)
{
  radial r = radial_params(s, log(sh->E), 1.0);
  double zc = (sh->t0 + sh->T) * s->ecal_x0_cm;
  const sim_grid *g = &s->ecal;
  double ex[2], ey[2], f;
  ex[0] = g->x_lo - (sh->x + sh->dx * zc);
  ex[1] = ex[0] + g->nx * g->px;
  ey[0] = g->y_lo - (sh->y + sh->dy * zc);
  ey[1] = ey[0] + g->ny * g->py;
  return sim_lateral_cells(1, 1, ex, ey, r.p, r.Rc, r.Rt, &f);
}

double na64_sim_em_shower(const na64_sim *s, double E, double t0, double x, double y, double dxdz, double dydz,
                          na64_rng *rng, double cells[][NA64_SIM_MAX_ECAL], double dep[NA64_SIM_ECAL_SECTIONS],
                          double *tmax, double *alpha)
{
  sim_shower sh = {E, t0, x, y, dxdz, dydz, 0, 0, 0, 0};
  shower_draw(s, &sh, rng);
  if (tmax) *tmax = sh.T;
  if (alpha) *alpha = sh.alpha;
  return cells ? shower_cells(s, &sh, cells, dep) : shower_sections(s, &sh, dep);
}

/* The sampling fluctuations of one section's cells c[0..nc) of energy E whose sum fluctuates by Ns:
 * cell fluctuations n_i ~ N(0, a^2 E_i) conditioned on their sum being Ns, i.e. the regression
 * E_i/E (S - Ns) of each on the sum S subtracted (exact for independent Gaussians). Their N(0, 1)
 * come from a SplitMix64 stream keyed by one word of the event's stream (sim_noise_word, as the
 * digitisation's noise: 15 instructions a word against 50 for a Philox word of na64_rng_u64;
 * callgrind, docs/performance.md "rvsim") through the ziggurat (na64_rng_gauss_words: the words of
 * the cells first, then their deviates in one call; its rare rejections draw from rng).
 * cut = 0 (sim_ecal_smear): every cell with energy has its deviate, and the cells are those of the
 * exact conditional Gaussian. cut > 0 (sim_ecal_smear_sparse): only the cells above cut E have one
 * (see there); the others keep their mean and their share E_i/E of (S - Ns), so the section's sum
 * is still E + Ns exactly. */
static void smear_section(double a, int nc, double *c, double E, double Ns, double cut, na64_rng *rng)
{
  double n[NA64_SIM_MAX_ECAL], z[NA64_SIM_MAX_ECAL], S = 0.0;
  uint64_t w[NA64_SIM_MAX_ECAL];
  int idx[NA64_SIM_MAX_ECAL], m = 0;
  const uint64_t key = na64_rng_u64(rng);
  const double lo = cut * E;
  w[0] = 0; /* (GCC 12 may not see that the words passed, w[0..m), are all written) */
  for (int i = 0; i < nc; ++i) {
    n[i] = 0.0;
    if (c[i] > lo) {
      idx[m] = i;
      w[m] = sim_noise_word(key, (uint64_t)m + 1);
      ++m;
    }
  }
  na64_rng_gauss_words(rng, w, z, m);
  for (int j = 0; j < m; ++j) { /* in cell order: S is the same sum as over all cells (the others add 0) */
    const int i = idx[j];
    n[i] = a * sqrt(c[i]) * z[j];
    S += n[i];
  }
  if (cut > 0.0) {
    const double r = (S - Ns) / E;
    int i = 0;
#ifdef __SSE2__
    /* two cells per operation: each lane does the scalar loop's operations (same bits) */
    const __m128d rv = _mm_set1_pd(r);
    for (; i + 2 <= nc; i += 2) {
      __m128d cv = _mm_loadu_pd(c + i);
      _mm_storeu_pd(c + i, _mm_add_pd(cv, _mm_sub_pd(_mm_loadu_pd(n + i), _mm_mul_pd(cv, rv))));
    }
#endif
    for (; i < nc; ++i) c[i] += n[i] - c[i] * r;
  } else { /* the exact path's own expression (its bits since branch visspeed2) */
    for (int i = 0; i < nc; ++i) c[i] += n[i] - (c[i] / E) * (S - Ns);
  }
}

static void ecal_smear(const na64_sim *s, na64_rng *rng, double cells[][NA64_SIM_MAX_ECAL], const double dep[2],
                       double vis[2], int with_cells, double cut)
{
  const double a = s->cfg.ecal_stochastic;
  const int nc = s->ecal.nx * s->ecal.ny;
  /* N(0, 1) by the ziggurat (one stream word per draw, na64_rng_gauss_zig; branch visspeed2): the
   * 72 cell deviates were 13k instructions per event by the polar method */
  double zs[2] = {na64_rng_gauss_zig(rng), na64_rng_gauss_zig(rng)}; /* drawn first: fast and full paths agree */
  for (int k = 0; k < 2; ++k) {
    double E = fmax(dep[k], 0.0), Ns = a * sqrt(E) * zs[k];
    vis[k] = E + Ns;
    if (!with_cells || !(E > 0.0)) continue;
    smear_section(a, nc, cells[k], E, Ns, cut, rng);
  }
  if (with_cells && s->cfg.ecal_noise > 0.0)
    for (int k = 0; k < 2; ++k)
      for (int i = 0; i < nc; ++i) {
        double z = s->cfg.ecal_noise * na64_rng_gauss_zig(rng);
        cells[k][i] += z;
        vis[k] += z;
      }
}

void sim_ecal_smear(const na64_sim *s, na64_rng *rng, double cells[][NA64_SIM_MAX_ECAL], const double dep[2],
                    double vis[2], int with_cells)
{
  ecal_smear(s, rng, cells, dep, vis, with_cells, 0.0);
}

/* The visible pair's cells (vis_event.c; branch vissmear): a cell below SMEAR_CUT = 3e-4 of its
 * section's energy gets no deviate of its own, i.e. a cell whose own sampling sigma a sqrt(E_i) is
 * below sqrt(3e-4) = 1.7% of the section's a sqrt(E). The section's sum keeps its exact fluctuation;
 * what is lost is the skipped cells' own variance, sum E_i/E of the section's: with the 2017 card's
 * signal (2000 events) 0.19% (at most 0.32%) in the pre-shower, where 30 of the 36 cells are
 * skipped, and 0.15% (at most 0.30%) in the main section, 7 cells skipped; the drawn cells' variance
 * is a^2 E_i (1 - E_i E_skip / E^2), low by at most that fraction. A skipped cell's sigma is at most
 * a sqrt(3e-4 E): 12 MeV in a 48 GeV main section (0.4 of the 30 MeV of one ADC count of its
 * calibration, sql/setups/20_visible_2017.sql), 3.8 MeV in a 4.7 GeV pre-shower (2 MeV a count).
 * ~35 deviates per event instead of 72. The cut at 1e-3 (19 deviates) took 4% off the rms of the
 * outer ring of cells' energy (docs/performance.md "vissmear"); this one 0.8%. */
#define SMEAR_CUT 3e-4
void sim_ecal_smear_sparse(const na64_sim *s, na64_rng *rng, double cells[][NA64_SIM_MAX_ECAL], const double dep[2],
                           double vis[2])
{
  ecal_smear(s, rng, cells, dep, vis, 1, SMEAR_CUT);
}

/* ---- used by the event assembly (fast_event.c) ---- */

/* Returns 1 with the cells filled, or (full = 0 only) 0 if the fast decision rejected the event
 * for its pre-shower, -1 if for its ECAL energy. */
int sim_ecal_em(const na64_sim *s, const double *E, const double *t0, int nsh, double x, double y, double dx,
                double dy, na64_rng *rng, int full, double cells[][NA64_SIM_MAX_ECAL], double dep[2], double vis[2],
                double *leak);
int sim_ecal_em(const na64_sim *s, const double *E, const double *t0, int nsh, double x, double y, double dx,
                double dy, na64_rng *rng, int full, double cells[][NA64_SIM_MAX_ECAL], double dep[2], double vis[2],
                double *leak)
{
  sim_shower sh[2];
  double fast[2] = {0, 0}, lk = 0.0, fmin_lat = 1.0;
  for (int i = 0; i < nsh; ++i) {
    sh[i] = (sim_shower){E[i], t0[i], x, y, dx, dy, 0, 0, 0, 0};
    shower_draw(s, &sh[i], rng);
  }
  double vfast[2];
  /* the noise deviates are drawn by sim_ecal_smear in the same order in both paths */
  na64_rng saved = *rng;
  if (!full) {
    for (int i = 0; i < nsh; ++i) lk += shower_sections(s, &sh[i], fast);
    sim_ecal_smear(s, rng, NULL, fast, vfast, 0);
    /* Reject early only if the event is clearly above the ECAL threshold even with 10% less lateral
     * containment than at the shower maximum, or clearly below the pre-shower threshold (the
     * full computation can only lower the deposits). */
    double tot = (vfast[0] + vfast[1]) * 0.9;
    if (tot > s->cfg.trigger_ecal_max) /* the lateral estimate only when it can matter */
      for (int i = 0; i < nsh; ++i) fmin_lat = fmin(fmin_lat, containment_at_max(s, &sh[i]));
    tot *= fmin_lat;
    int high = tot > s->cfg.trigger_ecal_max;
    if (high || vfast[0] * 1.1 + 0.05 < s->cfg.trigger_ps_min) {
      dep[0] = fast[0];
      dep[1] = fast[1];
      vis[0] = vfast[0];
      vis[1] = vfast[1];
      *leak = lk;
      return high ? -1 : 0; /* -1: above the ECAL threshold whatever else comes in time */
    }
    *rng = saved;
  }
  lk = 0.0;
  double d1 = s->ecal_depth[0] + s->ecal_depth[1];
  for (int i = 0; i < nsh; ++i) {
    shower_cells(s, &sh[i], cells, dep); /* the lateral leakage is lost (no side detectors) */
    lk += sh[i].E * long_frac(&sh[i], d1 - sh[i].t0, INFINITY);
  }
  sim_ecal_smear(s, rng, cells, dep, vis, 1);
  *leak = lk; /* behind the ECAL: reaches the HCAL */
  return 1;
}

double na64_sim_ecal_electron(const na64_sim *s, double E, double x, double y, double dxdz, double dydz, na64_rng *rng,
                              double cells[][NA64_SIM_MAX_ECAL], double dep[2], double vis[2])
{
  double t0 = 0.0, leak = 0.0;
  sim_ecal_em(s, &E, &t0, 1, x, y, dxdz, dydz, rng, 1, cells, dep, vis, &leak);
  return leak;
}

void na64_sim_ecal_centre(const na64_sim *s, double c[3])
{
  c[0] = s->ecal.x_lo + 0.5 * s->ecal.nx * s->ecal.px;
  c[1] = s->ecal.y_lo + 0.5 * s->ecal.ny * s->ecal.py;
  c[2] = s->ecal.z_front;
}
