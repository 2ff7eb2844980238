/*
 * Routes into the visible-mode signal box of the four sources of the NA64 report's Table 2
 * (docs/visible.md, "Backgrounds (Table 2)"). Each function forces its process and returns the
 * event's weight per EOT: the process probability, the importance-sampling weight of its biased
 * step, and the detector probabilities that replace pure accept/reject steps (conditional Monte
 * Carlo); the calorimeter energies are smeared and cut as the selection (src/ana/vis_select.c) does.
 *
 * Physics inputs (PDG = Review of Particle Physics 2024):
 * - Bremsstrahlung, complete screening (PDG eq. 34.29): dN/(dt dy) = (4/3 - 4/3 y + y^2) / y per X0
 *   and radiated fraction y; for a muon scaled by (m_e/m_mu)^2 (Tsai, Rev. Mod. Phys. 46 (1974)
 *   815: the Bethe-Heitler cross section scales with the inverse mass squared; complete screening
 *   is an upper estimate for muons). At y -> 1 bremsstrahlung dominates the muon's energy transfer
 *   (pair production falls steeply with the transferred fraction: D.E. Groom, N.V. Mokhov,
 *   S.I. Striganov, At. Data Nucl. Data Tables 78 (2001) 183, the v dsigma/dv figures), so the
 *   muon route keeps bremsstrahlung only.
 * - Photon conversion probability in t X0: 1 - exp(-7/9 t) (Tsai, RMP 46 (1974) 815; PDG eq. 34.31);
 *   a photon crosses t X0 unconverted with exp(-7/9 t), converts in thin material with 7/9 t.
 * - Electron energy after t X0 (Bethe and Heitler, Proc. R. Soc. A 146 (1934) 83): the remaining
 *   fraction u has -ln u distributed as Gamma(t / ln 2, 1).
 * - Longitudinal shower profile (PDG eqs. 34.35-34.36, b = 0.5, t_max = ln(E/E_c) - 0.5) for the
 *   energy a shower leaks behind the WCAL; V2 sees the charged particles and interacting photons of
 *   that leak (src/sim/vis_v2.c, the model of the event simulation; until 2026-12-06 the leak times
 *   1 cm / X0(Sc)).
 * - K0_S: m = 0.497611 GeV, c tau = 2.6844 cm, BR(pi+ pi-) = 0.6920, BR(pi0 pi0) = 0.3069;
 *   K0_L: c tau = 1534 cm, BR(pi+ pi- pi0) = 0.1254, BR(3 pi0) = 0.1952; Lambda: m = 1.115683 GeV,
 *   c tau = 7.89 cm, BR(p pi-) = 0.641; BR(pi0 -> e+ e- gamma) = 0.01174; mu: c tau = 65863.8 cm (PDG).
 * - K0 interaction length relative to the nucleon's: that of pions, 1.218 (PDG pion and nuclear
 *   interaction lengths in Fe, as src/sim/fast_bkg.c). * - Decay kinematics (PDG "Kinematics", sections 49.4.2-49.4.3): a two-body decay is isotropic in
 *   the parent's rest frame with momentum p* = sqrt((M^2 - (m1 + m2)^2)(M^2 - (m1 - m2)^2)) / 2M; a
 *   three-body decay follows phase space (matrix element constant: the K -> 3 pi Dalitz-plot slopes,
 *   |g| <= 0.7 for K0_L -> pi+ pi- pi0 and h ~ -6e-3 for 3 pi0, PDG, shift the pi0 energy, not the
 *   opening angles' scale m_K / E), d Phi_3 ~ p*(M; m12, m3) p*(m12; m1, m2) dm12 dOmega dOmega*.
 *   pi0 -> gamma gamma isotropic; the Dalitz pi0 -> e+ e- gamma as gamma + gamma*, the e+ e- of the
 *   gamma* one shower: the Kroll-Wada spectrum (N.M. Kroll and W. Wada, Phys. Rev. 98 (1955) 1355)
 *   ~ 1 / m_ee puts most pairs at m_ee of a few MeV, an opening angle m_ee / E < 1 mrad at E > 5 GeV,
 *   millimetres at the ECAL, far below its 3.82 cm cells and Moliere radius.
 * - The ECAL deposits of the products: the fast simulation's e-m showers in the ECAL cells and the
 *   selection's lateral-shape chi2 (src/sim/fast_bkg_shape.c, the model of src/reco/calo.c), cut at
 *   the selection's shape_chi2_max. A charged hadron that fakes an e-m shower (hadron_em_fake) is
 *   showered as an electron of its energy (kinetic for the proton): the fake means just that.
 */
#include <gsl/gsl_sf_gamma.h>
#include <math.h>

#include "sim/fast_internal.h"
#include "sim/vis_bkg_internal.h"
#include "sim/vis_v2.h"

#define CONV (7.0 / 9.0)      /* pair conversions per X0 (Tsai; PDG eq. 34.31) */
#define MARGIN 0.05           /* sampled energy fractions reach this far below the cuts: a deposit
                                 * 0.05 E0 beyond a cut is > 5 sigma of 0.18 / sqrt(E) away */
#define DALITZ 0.01174        /* BR(pi0 -> e+ e- gamma) (PDG) */
#define LAM_K 1.218           /* kaon / nucleon interaction length (as src/sim/fast_bkg.c) */
#define MU_CTAU 65863.8       /* cm (PDG) */
#define M_PI0 0.1349768       /* GeV (PDG) */

double vis_bkg_gamma_draw(na64_rng *rng, double a)
{
  if (a < 1.0) /* G(a) = G(a + 1) U^(1/a) (Marsaglia and Tsang, section 6) */
    return vis_bkg_gamma_draw(rng, a + 1.0) * pow(na64_rng_uniform(rng), 1.0 / a);
  double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double x = na64_rng_gauss(rng), v = 1.0 + c * x;
    if (v <= 0.0) continue;
    v = v * v * v;
    double u = na64_rng_uniform(rng);
    if (log(u) < 0.5 * x * x + d - d * v + d * log(v)) return d * v;
  }
}

double vis_bkg_michel_lab(double z) { return z < 0.0 || z > 1.0 ? 0.0 : 5.0 / 3.0 - 3.0 * z * z + 4.0 / 3.0 * z * z * z; }

double vis_bkg_michel_lab_above(double z)
{
  z = fmin(fmax(z, 0.0), 1.0);
  return 5.0 / 3.0 * (1.0 - z) - (1.0 - z * z * z) + (1.0 - z * z * z * z) / 3.0;
}

/* PDG eq. 34.29 per X0 */
static double brems(double y) { return (4.0 / 3.0 - 4.0 / 3.0 * y + y * y) / y; }

/* its integral over [a, 1] */
static double brems_above(double a)
{
  return -4.0 / 3.0 * log(a) - 4.0 / 3.0 * (1.0 - a) + 0.5 * (1.0 - a * a);
}

/* the lowest energy fraction (of E0) the ECAL side can carry and still pass E_WCAL <= wcal_max E0
 * and E_ECAL >= ecal_min E0 */
static double frac_lo(const vis_bkg *k)
{
  return fmax(0.0, fmax(1.0 - k->c->wcal_fraction_max, k->c->ecal_fraction_min) - MARGIN);
}

/* The energy cuts on the smeared energies (as na64_vis_select_event). */
static int energy_box(const vis_bkg *k, na64_rng *rng, double ew, double ee)
{
  const na64_vis_bkg_config *c = k->c;
  double w = ew + k->a_wcal * sqrt(fmax(ew, 0.0)) * na64_rng_gauss(rng);
  double e = ee + k->a_ecal * sqrt(fmax(ee, 0.0)) * na64_rng_gauss(rng);
  double var = k->a_wcal * k->a_wcal * fmax(w, 0.0) + k->a_ecal * k->a_ecal * fmax(e, 0.0) +
               (k->spread * k->E0) * (k->spread * k->E0);
  return fabs(w + e - k->E0) <= c->energy_sum_sigmas * sqrt(var) && w <= c->wcal_fraction_max * k->E0 &&
         e >= c->ecal_fraction_min * k->E0;
}

/* S4 with n charged particles crossing it in the decay counter's window */
static int s4_window(const vis_bkg *k, na64_rng *rng, int n)
{
  double s = 0.0;
  for (int i = 0; i < n; ++i) s += sim_mip_draw(rng, k->mip, k->mip_width);
  return s >= k->c->s4_min_mips * k->mip && s <= k->c->s4_max_mips * k->mip;
}

static double beam_momentum(const vis_bkg *k, na64_rng *rng)
{
  return k->E0 * (1.0 + k->spread * na64_rng_gauss(rng));
}

/* Depth t in [0, T] drawn from the density proportional to exp(-kappa t) (kappa = 0: uniform;
 * kappa < 0 rises towards T); returns 1 / density. */
static double draw_depth(na64_rng *rng, double T, double kappa, double *t)
{
  double u = na64_rng_uniform(rng);
  if (fabs(kappa) * T < 1e-9) {
    *t = u * T;
    return T;
  }
  double norm = -expm1(-kappa * T); /* 1 - exp(-kappa T) */
  *t = -log1p(-u * norm) / kappa;
  return norm / (kappa * exp(-kappa * *t));
}

/* Energy an electron shower started at energy E leaks behind d X0 (the mean profile of vis_v2.h,
 * PDG eq. 34.35; its t_max floor of 0.5 X0 was 0 here before, which matters only below 1.65 E_c). */
static double shower_leak(const vis_bkg *k, double E, double d)
{
  if (E <= 0.0) return 0.0;
  vis_mean_profile p = vis_mean_profile_of(E, k->Ec);
  return E * gsl_sf_gamma_inc_Q(p.a, p.b * fmax(d, 0.0));
}

/* Punch-through: (i) the beam e- itself keeps >= frac_lo of E0 through the T X0 (Bethe-Heitler,
 * closed form), fires V2 (missed with the inefficiency) and crosses S4 as one MIP; (ii) at depth t1
 * (biased towards the front: density ~ exp(-(B - 1) t1), the electron's survival with its energy
 * falls faster than the photon's rises) the electron, with its Bethe-Heitler energy fraction u,
 * radiates a photon of fraction y >= frac_lo / u (uniform, weight PDG eq. 34.29) that crosses the
 * remaining T - t1 X0 unconverted; the rest of the electron showers in the WCAL and may leak into
 * V2; the photon fakes the pair by converting in V2 (missed) or in the material before S4. */
double vis_bkg_ev_punch(const vis_bkg *k, na64_rng *rng)
{
  const na64_vis_bkg_config *c = k->c;
  double p = beam_momentum(k, rng), f0 = frac_lo(k), w_e = 0.0;
  double pe = gsl_sf_gamma_inc_P(k->T / M_LN2, -log(fmax(f0, 1e-300)));
  if (pe > 0.0 && s4_window(k, rng, 1) && energy_box(k, rng, 0.0, p)) w_e = pe * c->veto_inefficiency;
  double t1, w = draw_depth(rng, k->T, k->B - 1.0, &t1);
  double u = exp(-vis_bkg_gamma_draw(rng, fmax(t1, 1e-12) / M_LN2));
  if (u <= f0) return w_e;
  double ylo = f0 / u, y = ylo + (1.0 - ylo) * na64_rng_uniform(rng);
  w *= brems(y) * (1.0 - ylo) * exp(-CONV * (k->T - t1));
  double Eg = y * u * p, Ee = (1.0 - y) * u * p, d = k->T - t1;
  double leak = shower_leak(k, Ee, d);
  vis_v2_model v2m; /* V2 sees the charged particles and photons of the leak (src/sim/vis_v2.c) */
  vis_v2_model_init(&v2m, k->Ec, k->mip, k->mip_width);
  int v2_leak = vis_v2_draw(&v2m, Ee, d, rng) >= c->v2_max_mips * k->mip;
  /* the pair: in V2 (V2 fires: missed) or in the material before S4 (V2 fires only by the leak) */
  w *= CONV * (k->t_v2 * c->veto_inefficiency + c->material_x0 * (v2_leak ? c->veto_inefficiency : 1.0));
  if (!(s4_window(k, rng, 2) && energy_box(k, rng, p - Eg - leak, Eg))) return w_e;
  return w_e + w;
}

/* Leading-neutral decay channels: mass, c tau, BR (with the Dalitz decay making the pair where the
 * final state has only pi0), charged hadrons that must fake e-m showers, interaction length / the
 * nucleon's, which production key. */
typedef struct channel {
  double m, ctau, br;
  int nhad, kind; /* kind: 0 K0_S, 1 K0_L, 2 Lambda */
  double lam_rel;
  int nprod;        /* decay products: 2 or 3 of masses mp (pi0 decays to photons in the ECAL) */
  double mp[3];
} channel;
#define MPC NA64_M_PI
static const channel chans[] = {
    {0.497611, 2.6844, 0.6920, 2, 0, LAM_K, 2, {MPC, MPC, 0}},                  /* K0_S -> pi+ pi- */
    {0.497611, 2.6844, 0.3069 * 2.0 * DALITZ, 0, 0, LAM_K, 2, {M_PI0, M_PI0, 0}}, /* K0_S -> pi0 pi0, one Dalitz pi0 */
    {0.497611, 1534.0, 0.1254, 2, 1, LAM_K, 3, {MPC, MPC, M_PI0}},             /* K0_L -> pi+ pi- pi0 */
    {0.497611, 1534.0, 0.1952 * 3.0 * DALITZ, 0, 1, LAM_K, 3, {M_PI0, M_PI0, M_PI0}}, /* K0_L -> 3 pi0, one Dalitz pi0 */
    {1.115683, 7.89, 0.641, 2, 2, 1.0, 2, {NA64_M_PROTON, MPC, 0}},           /* Lambda -> p pi- */
};
#define NCHAN ((int)(sizeof chans / sizeof chans[0]))

static double per_interaction(const na64_vis_bkg_config *c, int kind)
{
  return kind == 0 ? c->k0s_per_interaction : kind == 1 ? c->k0l_per_interaction : c->lambda_per_interaction;
}

/* The neutral's x_F spectrum (src/sim/vis_bkg.c, header): two components, each N (k+1) (1 - |x|)^k,
 * the leading one at x > 0 only (N = per_interaction, k = xf_power_kaon or xf_power_lambda), the
 * central one mirrored to x < 0 (N = k0s_central / 2 per half, k = xf_power_central; none for the
 * Lambda); each one's integral above xlo >= 0 is N (1 - xlo)^(k+1). */
static double xf_power(const na64_vis_bkg_config *c, int kind) { return kind == 2 ? c->xf_power_lambda : c->xf_power_kaon; }
typedef struct xf_comp {
  double N, k;
  int mirrored;
} xf_comp;
static xf_comp xf_component(const na64_vis_bkg_config *c, int kind, int component)
{
  if (component == 0) return (xf_comp){per_interaction(c, kind), xf_power(c, kind), 0};
  return (xf_comp){kind == 2 ? 0.0 : 0.5 * c->k0s_central, c->xf_power_central, 1};
}
static double comp_above(xf_comp q, double xlo) { return q.N * pow(1.0 - xlo, q.k + 1.0); }
static double leading_above(const na64_vis_bkg_config *c, int kind, double xlo)
{
  return comp_above(xf_component(c, kind, 0), xlo);
}
static double central_above(const na64_vis_bkg_config *c, int kind, double xlo)
{
  return comp_above(xf_component(c, kind, 1), xlo);
}
static double xf_above(const na64_vis_bkg_config *c, int kind, double xlo)
{
  return leading_above(c, kind, xlo) + central_above(c, kind, xlo);
}

double na64_vis_bkg_xf_density(const na64_vis_bkg_config *c, int kind, int component, double x)
{
  if (!(x > -1.0 && x < 1.0) || kind < 0 || kind > 2 || component < 0 || component > 1) return 0.0;
  const xf_comp q = xf_component(c, kind, component);
  return x > 0.0 || q.mirrored ? q.N * (q.k + 1.0) * pow(1.0 - fabs(x), q.k) : 0.0;
}

/* x_F above xlo from the two-component spectrum with one uniform u: the component by its share
 * above xlo (u rescaled to [0, 1) within it), then the inverse of (1 - x)^(k+1) exactly. A neutral
 * without a central component (Lambda) keeps u as it is: its draws are those of the one-form route. */
static double xf_draw(const na64_vis_bkg_config *c, int kind, double xlo, double u)
{
  double a = leading_above(c, kind, xlo), b = central_above(c, kind, xlo), k = xf_power(c, kind);
  if (b > 0.0) {
    if (u * (a + b) >= a) u = (u * (a + b) - a) / b, k = c->xf_power_central;
    else u = u * (a + b) / a;
  }
  return 1.0 - (1.0 - xlo) * pow(u, 1.0 / (k + 1.0));
}

/* the lowest x_F the hadron route samples: 0.05 below the ECAL side's lowest fraction */
static double hadron_xlo(const vis_bkg *k) { return fmax(0.0, frac_lo(k) - MARGIN); }

/* the depth (cm from the WCAL's front) within which the hadron must interact: the WCAL shower
 * starts in its first wcal_start_x0 X0 (the selection, NA64 report) */
static double hadron_start_depth(const vis_bkg *k) { return fmin(k->c->wcal_start_x0 * k->L / k->T, k->L); }

/* Probability of drawing channel j: the mixture (1 - 1/B) pi_j / sum(pi) + (1/B) / NCHAN of the
 * channels' expected shares pi_j = production above xlo x BR x fake^nhad (B = 1: uniform). */
static double channel_prob(const vis_bkg *k, int j)
{
  const na64_vis_bkg_config *c = k->c;
  double pi[NCHAN], sum = 0.0, xlo = hadron_xlo(k);
  for (int i = 0; i < NCHAN; ++i) {
    pi[i] = xf_above(c, chans[i].kind, xlo) * chans[i].br *
            pow(c->hadron_em_fake, chans[i].nhad);
    sum += pi[i];
  }
  double a = 1.0 / k->B;
  return sum > 0.0 ? (1.0 - a) * pi[j] / sum + a / NCHAN : 1.0 / NCHAN;
}

/* A four-momentum (GeV) along the setup axis (z). */
typedef struct p4 {
  double E, p[3];
} p4;

/* two-body momentum in the rest frame of M (PDG Kinematics eq. 49.17) */
static double pstar(double M, double m1, double m2)
{
  double a = (M * M - (m1 + m2) * (m1 + m2)) * (M * M - (m1 - m2) * (m1 - m2));
  return a > 0.0 ? sqrt(a) / (2.0 * M) : 0.0;
}

/* q (given in the rest frame of a parent of 4-momentum P) in the frame where the parent has P */
static void boost(p4 *q, const p4 *P)
{
  double b[3] = {P->p[0] / P->E, P->p[1] / P->E, P->p[2] / P->E}, b2 = b[0] * b[0] + b[1] * b[1] + b[2] * b[2];
  if (!(b2 > 0.0)) return;
  double g = 1.0 / sqrt(1.0 - b2), bp = b[0] * q->p[0] + b[1] * q->p[1] + b[2] * q->p[2], f = (g - 1.0) * bp / b2 + g * q->E;
  for (int i = 0; i < 3; ++i) q->p[i] += f * b[i];
  q->E = g * (q->E + bp);
}

/* isotropic two-body decay of P (mass M) into masses m1, m2 */
static void two_body(na64_rng *rng, const p4 *P, double M, double m1, double m2, p4 *a, p4 *b)
{
  double ps = pstar(M, m1, m2), c = 2.0 * na64_rng_uniform(rng) - 1.0, sn = sqrt(fmax(0.0, 1.0 - c * c));
  double phi = 2.0 * M_PI * na64_rng_uniform(rng), u[3] = {sn * cos(phi), sn * sin(phi), c};
  *a = (p4){sqrt(ps * ps + m1 * m1), {ps * u[0], ps * u[1], ps * u[2]}};
  *b = (p4){sqrt(ps * ps + m2 * m2), {-ps * u[0], -ps * u[1], -ps * u[2]}};
  boost(a, P);
  boost(b, P);
}

/* three-body phase space: m12 by rejection from p*(M; m12, m3) p*(m12; m1, m2) (the first factor
 * falls, the second rises with m12: their maxima bound the product), then two two-body steps */
static void three_body(na64_rng *rng, const p4 *P, double M, const double m[3], p4 out[3])
{
  double lo = m[0] + m[1], hi = M - m[2], wmax = pstar(M, lo, m[2]) * pstar(hi, m[0], m[1]), m12;
  do m12 = lo + (hi - lo) * na64_rng_uniform(rng);
  while (na64_rng_uniform(rng) * wmax > pstar(M, m12, m[2]) * pstar(m12, m[0], m[1]));
  p4 q12;
  two_body(rng, P, M, m12, m[2], &q12, &out[2]);
  two_body(rng, &q12, m12, m[0], m[1], &out[0], &out[1]);
}

/* The ECAL objects of a decay of channel ch with lab energy En along z: charged hadrons (energy; the
 * proton's kinetic) and the photons of each pi0 (the Dalitz pi0's gamma* as one photon, header);
 * returns their number (<= 6). */
static int decay_products(na64_rng *rng, const channel *ch, double En, p4 out[6])
{
  p4 P = {En, {0.0, 0.0, sqrt(fmax(En * En - ch->m * ch->m, 0.0))}}, h[3];
  if (ch->nprod == 2) two_body(rng, &P, ch->m, ch->mp[0], ch->mp[1], &h[0], &h[1]);
  else three_body(rng, &P, ch->m, ch->mp, h);
  int n = 0;
  for (int i = 0; i < ch->nprod; ++i) {
    if (ch->mp[i] == M_PI0) {
      two_body(rng, &h[i], M_PI0, 0.0, 0.0, &out[n], &out[n + 1]);
      n += 2;
    } else {
      out[n] = h[i];
      if (ch->mp[i] == NA64_M_PROTON) out[n].E -= NA64_M_PROTON;
      ++n;
    }
  }
  return n;
}

/* The selection's shape cut on the ECAL showers of a decay at z (cm behind the WCAL) of channel ch
 * with lab energy En: the neutral flies along the setup axis and meets the ECAL face at a point
 * uniform over the central cell (the beam spot, ~1 cm, and the neutral's angle to the beam,
 * p_T / p ~ 0.3 GeV / 50 GeV over ~5 m, spread it over more than a cell); each product goes
 * straight from the decay point. Returns 1 if the chi2 passes (NaN: no shower, fails). */
static int products_pass_shape(const vis_bkg *k, na64_rng *rng, const channel *ch, double En, double z)
{
  p4 q[6];
  int n = decay_products(rng, ch, En, q);
  double D = k->zE - z, X = k->xE + k->cell * (na64_rng_uniform(rng) - 0.5), Y = k->yE + k->cell * (na64_rng_uniform(rng) - 0.5);
  bkg_em em[6];
  for (int i = 0; i < n; ++i) {
    double tx = q[i].p[0] / q[i].p[2], ty = q[i].p[1] / q[i].p[2];
    em[i] = (bkg_em){q[i].p[2] > 0.0 ? q[i].E : 0.0, X + tx * D, Y + ty * D, k->sx + tx, ty};
  }
  double cells[NA64_SIM_ECAL_SECTIONS][NA64_SIM_MAX_ECAL], vis[2];
  bkg_ecal_showers(k->ecal, rng, n, em, cells, vis);
  return bkg_shape_chi2(k->ecal, k->shape, (const double(*)[NA64_SIM_MAX_ECAL])cells) <= k->c->shape_chi2_max;
}

/* Hadrons: a beam hadron (SRD tag 1e-3) starts its WCAL shower, i.e. interacts, within the first
 * wcal_start_x0 X0 (depth s drawn from its exact density exp(-s/lambda_I) / lambda_I on that
 * range, so the weight is the probability 1 - exp(-s_max/lambda_I): the WCAL's longitudinal e/pi
 * rejection); the fast neutral (channel j drawn with channel_prob: the bias; x_F drawn from its
 * two-component spectrum above xlo exactly, xf_draw, weight the spectrum's integral above xlo)
 * crosses the remaining d = L - s without interacting or decaying; the charged remainder (1 - x) p stays in the WCAL
 * unless its leading particle crosses the remaining d without interacting (then V2 fires: missed);
 * the neutral decays between V2 and S4; its charged hadrons fake e-m showers; the showers of its
 * decay products pass the selection's lateral-shape cut (products_pass_shape; the decay point drawn
 * from its density on [z1, z2], the weight already holds its probability). */
double vis_bkg_ev_hadron(const vis_bkg *k, na64_rng *rng)
{
  const na64_vis_bkg_config *c = k->c;
  double p = beam_momentum(k, rng), u = na64_rng_uniform(rng), qj = 0.0;
  int j = 0;
  for (; j < NCHAN - 1; ++j) {
    qj = channel_prob(k, j);
    if (u < qj) break;
    u -= qj;
  }
  if (j == NCHAN - 1) qj = channel_prob(k, j);
  const channel *ch = &chans[j];
  double xlo = hadron_xlo(k), x = xf_draw(c, ch->kind, xlo, na64_rng_uniform(rng));
  double smax = hadron_start_depth(k), s;
  draw_depth(rng, smax, 1.0 / k->lam, &s); /* the true density on [0, smax]: the weight is its norm */
  double w = -expm1(-smax / k->lam), d = k->L - s;
  double En = x * p, ldec = sqrt(fmax(En * En - ch->m * ch->m, 0.0)) / ch->m * ch->ctau;
  w *= xf_above(c, ch->kind, xlo) / qj;
  w *= exp(-d / (k->lam * ch->lam_rel) - d / ldec);                  /* the neutral leaves the WCAL */
  double q = exp(-d / k->lam);                                        /* the remainder reaches V2 */
  w *= (1.0 - q) + q * c->veto_inefficiency;
  w *= exp(-k->z1 / ldec) - exp(-k->z2 / ldec);                       /* decays between V2 and S4 */
  w *= ch->br * pow(c->hadron_em_fake, ch->nhad) * c->hadron_fraction * c->srd_hadron;
  if (!(w > 0.0 && s4_window(k, rng, 2) && energy_box(k, rng, (1.0 - x) * p, En))) return 0.0;
  if (k->shape) { /* the decay point on [z1, z2] from its density exp(-z / ldec) (draw_depth), the shape cut */
    double z;
    draw_depth(rng, k->z2 - k->z1, 1.0 / ldec, &z);
    if (!products_pass_shape(k, rng, ch, En, k->z1 + z)) return 0.0;
  }
  return w;
}

/* Muons (no synchrotron radiation: SRD tag 1e-3; the muon crosses V2: missed), one of two
 * processes drawn with probability 1/2: (a) a bremsstrahlung photon of fraction y (uniform in
 * [frac_lo - 0.05, 1]) at depth t1 (density ~ exp(-(B - 1) 7/9 (T - t1)), towards the back) that
 * crosses the remaining WCAL; the muon and the photon reach the ECAL, S4 sees the muon;
 * (b) mu -> e nu nu between V2 and S4 with the electron's lab fraction z (uniform in
 * [frac_lo - 0.05, 1], weight the boosted Michel spectrum), S4 seeing the electron. */
double vis_bkg_ev_muon(const vis_bkg *k, na64_rng *rng)
{
  const na64_vis_bkg_config *c = k->c;
  double p = beam_momentum(k, rng), lo = fmax(0.0, frac_lo(k) - MARGIN);
  double w = 2.0 * c->muon_fraction * c->srd_hadron * c->veto_inefficiency * (1.0 - lo);
  double r = na64_rng_uniform(rng), f = lo + (1.0 - lo) * na64_rng_uniform(rng);
  if (r < 0.5) {
    double t, wt = draw_depth(rng, k->T, (k->B - 1.0) * CONV, &t); /* t = T - t1 */
    double me = NA64_M_E / NA64_M_MU;
    w *= wt * me * me * brems(f) * exp(-CONV * t);
  } else {
    double ldec = sqrt(fmax(p * p - NA64_M_MU * NA64_M_MU, 0.0)) / NA64_M_MU * MU_CTAU;
    w *= (exp(-k->z1 / ldec) - exp(-k->z2 / ldec)) * vis_bkg_michel_lab(f);
  }
  if (!(s4_window(k, rng, 1) && energy_box(k, rng, 0.0, f * p))) return 0.0;
  return w;
}

/* Accidentals: the trigger particle a low-energy beam e- (energy v wcal_max E0, v flat in [0, 1],
 * drawn from the density ~ exp(-(B - 1) v): towards 0, where the energy sum can close; the weight
 * 1/density stays bounded) absorbed in the WCAL, with an in-time halo e- (window x rate
 * companions) missing the WCAL, crossing V2 (missed) and S4 (one MIP) and showering in the ECAL. */
double vis_bkg_ev_accidental(const vis_bkg *k, na64_rng *rng)
{
  const na64_vis_bkg_config *c = k->c;
  double v, w = draw_depth(rng, 1.0, k->B - 1.0, &v);
  w *= vis_bkg_process_prob(k, NA64_VIS_BKG_ACCIDENTAL) * c->veto_inefficiency;
  double ea = v * c->wcal_fraction_max * k->E0, p = beam_momentum(k, rng);
  if (!(s4_window(k, rng, 1) && energy_box(k, rng, ea, p))) return 0.0;
  return w;
}

double vis_bkg_process_prob(const vis_bkg *k, int source)
{
  const na64_vis_bkg_config *c = k->c;
  double f0 = frac_lo(k), lo = fmax(0.0, f0 - MARGIN), me = NA64_M_E / NA64_M_MU;
  switch (source) {
  case NA64_VIS_BKG_PUNCH: /* photons above f0 E0 per e- over the WCAL (energy loss neglected): a mean number
                            * that bounds the weights' scale, above 1 for thick WCALs */
    return f0 > 0.0 ? k->T * brems_above(f0) : 1.0;
  case NA64_VIS_BKG_HADRON: {
    double s = 0.0;
    for (int j = 0; j < NCHAN; ++j) s += xf_above(c, chans[j].kind, lo) * chans[j].br;
    return c->hadron_fraction * c->srd_hadron * -expm1(-hadron_start_depth(k) / k->lam) * s;
  }
  case NA64_VIS_BKG_MUON: {
    double ldec = k->E0 / NA64_M_MU * MU_CTAU;
    return c->muon_fraction * c->srd_hadron *
           (k->T * me * me * (lo > 0.0 ? brems_above(lo) : 1.0) + (k->z2 - k->z1) / ldec * vis_bkg_michel_lab_above(lo));
  }
  case NA64_VIS_BKG_ACCIDENTAL:
    return c->intensity / c->spill_length * c->window * 1e-9 * c->low_energy_fraction * c->halo_fraction;
  default:
    return 0.0;
  }
}
