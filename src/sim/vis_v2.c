/*
 * V2 behind the WCAL: the part of an electron shower that leaks past the WCAL's last layer, as a 1 cm
 * plastic scintillator sees it (issue 12; docs/visible.md "V2 behind the WCAL (vis2018)").
 *
 * Profile (PDG Review of Particle Physics, "Passage of particles through matter", eqs. 34.35-34.36):
 *     dE/dt = E f(t),  f(t) = b (b t)^(a-1) e^(-b t) / Gamma(a),  b = 0.5,  t_max = (a - 1)/b = ln(E/E_c) - 0.5
 * (t in X0, electron-induced shower, E_c of the W/Sc mix as in vis_event.c).
 * Fluctuations: per shower, ln t_max and ln a are drawn from a correlated 2-D Gaussian around the PDG
 * means with the widths and correlation Grindhammer and Peters fitted for sampling calorimeters
 * (hep-ex/0001020 eqs. 8 and 12, the GFlash defaults, as src/sim/fast_ecal.c):
 *     sigma(ln T) = 1/(-2.5 + 1.25 ln y),  sigma(ln a) = 1/(-0.82 + 0.79 ln y),  rho = 0.784 - 0.023 ln y,
 * y = E/E_c, capped at 0.5 where the fits do not hold (ln y < ~3), as fast_ecal.c does. In the tail,
 * T ~ 20-40 X0 where f falls by e per 2 X0, these move the charged count by factors of a few, which is
 * what decides a veto at the level of one particle.
 * Charged particles crossing the back face at depth T: every X0 of a charged track deposits E_c (the
 * definition of the critical energy used for the profile; total track length E/E_c X0, PDG section
 * 34.5 on shower development), so the charged track length per unit depth at T, i.e. the number of
 * charged particles crossing the plane (tracks taken along the axis), is n_ch = E f(T) / E_c. Their
 * number is Poisson, each leaves a MIP in V2 (Moyal, sim_mip_draw: the tail electrons have MeV
 * energies and stop in or cross 1 cm of plastic, depositing about a MIP either way; ESTIMATE).
 * Photons: the leaked energy E Q(a, b T) is carried mostly by photons near the minimum of the
 * attenuation coefficient of tungsten, ~3 MeV (NIST XCOM [RECALLED]); ESTIMATE: all of it, in photons of
 * E_g = 3 MeV, so N_g = leak / E_g. A photon interacts in the counter with 1 - exp(-mu rho d),
 * mu/rho = 0.0363 cm2/g for polystyrene at 3 MeV (NIST XCOM [RECALLED], Compton dominated; rho d from
 * the counter's MIP signal and <dE/dx>_min = 2.052 MeV cm2/g, PDG), and gives a Compton electron of
 * kinetic energy uniform in [0, T_max], T_max = E_g 2k/(1 + 2k), k = E_g/m_e (kinematic edge; the
 * Klein-Nishina spectrum is flatter-than-uniform with an edge peak: ESTIMATE), at most a MIP.
 * So photons crossing V2 mostly do not deposit (3.8% interact), charged tail particles deposit MIPs.
 * The previous model (vis_event.c until 2026-12-06: V2 = leak x 1 cm / X0(Sc)) gave about 1/4 of
 * this model's mean charged count in MIPs, with no fluctuation.
 */
#include "sim/vis_v2.h"

#include <gsl/gsl_sf_gamma.h>
#include <math.h>

#include "sim/fast_internal.h"
#include "sim/vis_resp.h"

#define PROFILE_B 0.5          /* PDG eq. 34.36 */
#define MIP_DEDX 2.052e-3      /* GeV cm2/g, polystyrene scintillator (PDG) */
#define E_TAIL_GAMMA 3.0e-3    /* GeV: tail photons near the attenuation minimum of W (ESTIMATE) */
#define MU_RHO_SC 0.0363       /* cm2/g, polystyrene at 3 MeV (NIST XCOM, [RECALLED]) */
#define M_ELECTRON 0.51099895e-3
#define MAX_MIPS 64            /* MIP draws per shower; more particles scale the sum (V2 fires anyway) */

void vis_v2_model_init(vis_v2_model *m, double Ec, double mip, double mip_width)
{
  double k = E_TAIL_GAMMA / M_ELECTRON;
  m->Ec = Ec;
  m->mip = mip;
  m->mip_width = mip_width;
  m->p_gamma = -expm1(-MU_RHO_SC * mip / MIP_DEDX);
  m->t_compton = E_TAIL_GAMMA * 2.0 * k / (1.0 + 2.0 * k);
}

/* the mean profile from ly = ln(E/Ec) */
vis_mean_profile vis_mean_profile_ly(double ly)
{
  double tmax = sim_max_c(ly - 0.5, 0.5), a = PROFILE_B * tmax + 1.0;
  vis_mean_profile m = {a, PROFILE_B};
  return m;
}

vis_mean_profile vis_mean_profile_of(double E, double Ec) { return vis_mean_profile_ly(log(E / Ec)); }

/* the profile density f(T) per X0 of shape a and rate b (lg = ln Gamma(a)) */
static double profile_density(double a, double b, double T, double lg)
{
  return b * exp((a - 1.0) * log(b * T) - b * T - lg);
}

double vis_v2_charged_mean(double E, double T, double Ec)
{
  if (!(E > 0.0) || !(T > 0.0) || !(Ec > 0.0)) return 0.0;
  vis_mean_profile p = vis_mean_profile_of(E, Ec);
  return E * profile_density(p.a, p.b, T, gsl_sf_lngamma(p.a)) / Ec;
}

/* Poisson of mean mu on the draw's own stream (sim_word_stream: the SplitMix64 words keyed by one
 * Philox word, as the ECAL cells' and the digitisation's noise): Knuth's exact method below a mean of
 * 30 (sim_stream_poisson_from, fast_internal.h), na64_rng_poisson (its exact rejection method) from 30 on.
 * Branch visevt: Knuth's method returns 0 when its first uniform u <= e^-mu, and e^-mu > 1 - mu for
 * every mu > 0 (convexity), so u <= 1 - mu gives 0 without the exponential. The test leaves a margin
 * for the roundings: fl(1 - mu) (1 - 2^-40) rounded is below (1 - mu)(1 - 2^-50), itself below the
 * computed exp(-mu) (libm's exp within 1 ulp, 2^-52 relative), so the count, and the words taken (one),
 * are those of the exponential's path; mu >= 1 never takes it (the bound is <= 0 < u). */
static inline unsigned long v2_poisson(sim_word_stream *st, na64_rng *rng, double mu)
{
  if (!(mu > 0.0)) return 0;
  if (mu >= 30.0) return na64_rng_poisson(rng, mu);
  const double p = sim_word_uniform(sim_stream_word(st));
  if (p <= (1.0 - mu) * (1.0 - 0x1.0p-40)) return 0;
  return sim_stream_poisson_from(st, p, exp(-mu));
}

/* Branch visevt: both Poisson counts of V2 decided 0 from upper bounds of their means, without ln Gamma(a)
 * and Q(a, x) (~0.45k instructions), when the words say so; the same counts and the same two words
 * as the exact path (v2_poisson's bound u <= fl(1 - mu)(1 - 2^-40) for each, with mu replaced by a
 * larger number: fl(1 - mu) is monotone in mu). The bounds, for the cfrac branch x >= a + 1 (a > 1):
 *   ln Gamma(a) > (a - 1/2) ln a - a + ln(2 pi)/2 (Binet's mu(a) > 0, A&S 6.1.41; > 1/(12 a + 1),
 *     far above vis_lngamma's 1e-10 error), so f(T)/b < exp((a - 1) ln x - x - that) = dens_hi;
 *   Q(a, x) <= x^a e^-x / Gamma(a) / (x - a + 1) (t^(a-1) <= x^(a-1) e^((a-1)(t-x)/x) in the integral
 *     of Gamma(a, x), for a >= 1, x > a - 1), above vis_gamma_q_pre's value (1e-10 relative);
 * each with a relative margin 1e-6 for the roundings. Means below 1e-280 are left to the exact path
 * (a mean that is 0 takes no word there), and so are means >= 1 (never decided by the bound). */
/* the two bounds (x >= a + 1, a >= 1; lx = ln x): hi[0] >= the charged count's mean, hi[1] >= the
 * tail photons' (tests/sim/test_vis_exact_draws test_v2_mean_bounds: against the exact path's values
 * and GSL's, a = 1.1-5000, x = a + 1 to 3 a + 700) */
static inline void v2_mean_bounds(const vis_v2_model *m, double E, double a, double b, double x, double lx,
                                  double hi[2])
{
  const double lg_lo = (a - 0.5) * log(a) - a + 0.91893853320467274178; /* ln(2 pi)/2 */
  const double dens_hi = exp((a - 1.0) * lx - x - lg_lo) * (1.0 + 1e-6);
  hi[0] = E * b * dens_hi / m->Ec;
  hi[1] = E * x * dens_hi / (x - a + 1.0) / E_TAIL_GAMMA * m->p_gamma * (1.0 + 1e-6);
}

static int v2_quiet_by_bounds(const vis_v2_model *m, double E, double a, double b, double x, double lx,
                              sim_word_stream *st)
{
  if (!(x >= a + 1.0)) return 0;
  double hi[2];
  v2_mean_bounds(m, E, a, b, x, lx, hi);
  const double nch_hi = hi[0], ng_hi = hi[1];
  if (!(nch_hi >= 1e-280 && nch_hi < 1.0 && ng_hi >= 1e-280 && ng_hi < 1.0)) return 0;
  if (!(sim_word_uniform(sim_stream_peek(st, 1)) <= (1.0 - nch_hi) * (1.0 - 0x1.0p-40))) return 0;
  if (!(sim_word_uniform(sim_stream_peek(st, 2)) <= (1.0 - ng_hi) * (1.0 - 0x1.0p-40))) return 0;
  st->k += 2;
  return 1;
}

/* Branch vissmear (the same model, cheaper): one ln(E/Ec) for the mean profile and the widths; the
 * two Gaussians by the ziggurat (na64_rng_gauss_words) and the Poisson and Compton uniforms on a
 * SplitMix64 stream keyed by one word of rng, instead of the polar method and Philox words; ln
 * Gamma(a) by Stirling's series (vis_lngamma, within ~1e-11 of gsl); the charged count's density
 * x^(a-1) e^-x / Gamma(a) (x = b T) computed once and the leak's Q(a, x) from it (vis_gamma_q_pre:
 * pre = x times it) instead of sim_gamma_p's own exp and log. */
double vis_v2_draw(const vis_v2_model *m, double E, double T, na64_rng *rng)
{
  if (!(E > 0.0) || !(T > 0.0)) return 0.0;
  return vis_v2_draw_ly(m, E, log(E / m->Ec), T, rng);
}

double vis_v2_draw_ly(const vis_v2_model *m, double E, double ly, double T, na64_rng *rng)
{
  if (!(E > 0.0) || !(T > 0.0)) return 0.0;
  const double lny = ly > 0.0 ? ly : 0.0;
  vis_mean_profile p0 = vis_mean_profile_ly(ly);
  double a0 = p0.a, t0 = (p0.a - 1.0) / p0.b;
  const sim_gp_spread gw = sim_gp_spread_at(lny); /* the ECAL showers' widths (fast_internal.h) */
  sim_word_stream st = {na64_rng_u64(rng), 2};
  uint64_t w[2] = {sim_noise_word(st.key, 1), sim_noise_word(st.key, 2)};
  double z[2];
  na64_rng_gauss_words(rng, w, z, 2);
  double tmax = t0 * exp(gw.sT * (gw.c1 * z[0] + gw.c2 * z[1])), a = sim_max_c(a0 * exp(gw.sa * (gw.c1 * z[0] - gw.c2 * z[1])), 1.1);
  double b = (a - 1.0) / tmax, x = b * T;
  const double lx = log(x);
  if (v2_quiet_by_bounds(m, E, a, b, x, lx, &st)) return 0.0; /* both counts 0 (the words taken): V2 sees 0 */
  double dens = exp((a - 1.0) * lx - x - vis_lngamma(a)); /* f(T) / b */
  double n_ch = E * b * dens / m->Ec;
  double leak = E * vis_gamma_q_pre(a, x, x * dens);
  unsigned long nc = v2_poisson(&st, rng, n_ch);
  unsigned long ng = v2_poisson(&st, rng, sim_max_c(leak, 0.0) / E_TAIL_GAMMA * m->p_gamma);
  double v = 0.0;
  unsigned long nd = nc < MAX_MIPS ? nc : MAX_MIPS;
  for (unsigned long i = 0; i < nd; ++i) v += sim_mip_draw(rng, m->mip, m->mip_width);
  if (nc > nd) v *= (double)nc / (double)nd;
  nd = ng < MAX_MIPS ? ng : MAX_MIPS;
  double vg = 0.0;
  for (unsigned long i = 0; i < nd; ++i) vg += sim_min_c(m->t_compton * sim_word_uniform(sim_stream_word(&st)), m->mip);
  if (ng > nd) vg *= (double)ng / (double)nd;
  return v + vg;
}
