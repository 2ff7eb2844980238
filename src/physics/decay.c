/*
 * A' decays: partial widths, branching ratios, lifetime, lab decay length, and the y variable.
 *
 * Leptonic width: Gamma(A' -> l+l-) = (alpha eps^2 m/3)(1 + 2 m_l^2/m^2) sqrt(1 - 4 m_l^2/m^2)
 *   (Bjorken, Essig, Schuster, Toro, PRD 80 (2009) 075018, Sec. II; identical in DMG4 DarkPhotons.cc Width()).
 * Hadronic width: Gamma_had = (alpha eps^2 m/3) R(m^2), R = sigma(e+e- -> hadrons)/sigma_pt(e+e- -> mu+mu-)
 *   (same reference; Batell, Pospelov, Ritz PRD 79 (2009) 115008).
 * Invisible widths: DMG4 DarkPhotonsAnnihilation.cc (Bondi et al., CPC 269 (2021) 108129), see
 *   refdata/physics-formulas.md Sec. 1; Izaguirre, Krnjaic, Schuster, Toro PRD 91 (2015) 094026 (scalar,
 *   Dirac); Izaguirre, Krnjaic, Shuve PRD 93 (2016) 063523 (inelastic / pseudo-Dirac).
 */
#include <float.h>
#include <math.h>

#include "na64/physics.h"

static double sq(double x) { return x * x; }

double na64_width_ll(double m, double eps, double ml)
{
  if (!(m > 2.0 * ml)) return 0.0;
  double r = sq(ml / m);
  return NA64_ALPHA_EM * eps * eps * m / 3.0 * (1.0 + 2.0 * r) * sqrt(1.0 - 4.0 * r);
}

/* ---- R(s): vector-meson dominance below ~1.1 GeV plus the perturbative continuum ----
 * pi+ pi- through the rho: R = (1/4) beta_pi^3 |F_pi(s)|^2 (the P-wave pion pair; e.g. PDG review
 * "Muon anomalous magnetic moment"), with a Breit-Wigner form factor whose width runs with the
 * P-wave phase space, Gamma(s) = Gamma (M/sqrt s)(p(s)/p(M))^3 (Gounaris & Sakurai PRL 21 (1968) 244).
 * Its normalisation goes linearly in s from F(0) = 1 (charge) to the value at M^2 that reproduces the
 * measured peak, sigma_peak = 12 pi B_ee / M^2 with the PDG B(rho -> e+e-).
 * omega and phi: relativistic Breit-Wigners normalised to their e+e- widths,
 *   sigma_V(s) = (12 pi / M^2) B_ee M^2 Gamma^2 / ((s - M^2)^2 + M^2 Gamma^2).
 * Masses, widths and B_ee: PDG 2024. rho-omega interference and the 4 pi, eta pi pi, K K pi channels
 * are neglected: the model is good to ~30% between resonances, which is adequate for A' branching
 * ratios (docs/physics.md). */
typedef struct {
  double M, Gamma, Bee;
} vmeson;
static const vmeson rho = {0.77526, 0.1491, 4.72e-5};
static const vmeson narrow[] = {
    {0.78266, 0.00868, 7.38e-5},   /* omega(782) */
    {1.019461, 0.004249, 2.979e-4} /* phi(1020) */
};

static double pion_beta(double s) { return s > 4.0 * NA64_M_PI * NA64_M_PI ? sqrt(1.0 - 4.0 * NA64_M_PI * NA64_M_PI / s) : 0.0; }

static double sigma_pt(double s) { return 4.0 * M_PI * NA64_ALPHA_EM * NA64_ALPHA_EM / (3.0 * s); }

static double r_rho(double s)
{
  double M2 = rho.M * rho.M, b = pion_beta(s), bM = pion_beta(M2);
  if (!(b > 0.0)) return 0.0;
  double Gs = rho.Gamma * (rho.M / sqrt(s)) * pow(b * sqrt(s) / (bM * rho.M), 3);
  double bw2 = M2 * M2 / (sq(M2 - s) + M2 * Gs * Gs); /* |F|^2 of the plain Breit-Wigner */
  /* normalisation at the peak from B_ee: R_peak = (12 pi B_ee/M^2)/sigma_pt(M^2) */
  double r_peak = 12.0 * M_PI * rho.Bee / M2 / sigma_pt(M2);
  double k_peak = r_peak / (0.25 * bM * bM * bM * M2 / (rho.Gamma * rho.Gamma));
  double s0 = 4.0 * NA64_M_PI * NA64_M_PI;
  double k = 1.0 + (k_peak - 1.0) * fmin((s - s0) / (M2 - s0), 1.0);
  return 0.25 * b * b * b * bw2 * k;
}

double na64_r_ratio(double sqrt_s)
{
  if (!(sqrt_s > 2.0 * NA64_M_PI)) return 0.0; /* lightest hadronic final state: pi+ pi- (pi0 gamma neglected) */
  double s = sqrt_s * sqrt_s, r = r_rho(s);
  for (size_t i = 0; i < sizeof narrow / sizeof narrow[0]; ++i) {
    const vmeson *v = &narrow[i];
    double M2 = v->M * v->M;
    double sigma = 12.0 * M_PI / M2 * v->Bee * M2 * v->Gamma * v->Gamma / (sq(s - M2) + M2 * v->Gamma * v->Gamma);
    r += sigma / sigma_pt(s);
  }
  /* u, d, s quark continuum: R = N_c sum Q^2 (1 + alpha_s/pi) = 2 (1 + 0.3/pi), switched on smoothly
   * above the phi where the measured R is ~2 (PDG review "Plots of cross sections", R(s) figure). */
  return r + 2.0 * (1.0 + 0.3 / M_PI) / (1.0 + exp(-(sqrt_s - 1.15) / 0.05));
}

double na64_width_hadronic(double m, double eps)
{
  return NA64_ALPHA_EM * eps * eps * m / 3.0 * na64_r_ratio(m);
}

double na64_width_dirac(double m, double alpha_D, double mchi)
{
  if (!(m > 2.0 * mchi)) return 0.0;
  double r = sq(mchi / m);
  return alpha_D * m / 3.0 * (1.0 + 2.0 * r) * sqrt(1.0 - 4.0 * r);
}

double na64_width_scalar(double m, double alpha_D, double mchi)
{
  if (!(m > 2.0 * mchi)) return 0.0;
  return alpha_D * m / 12.0 * pow(1.0 - 4.0 * sq(mchi / m), 1.5);
}

/* Pseudoscalar a -> l+l- (issue 12): M = g u-bar(p1) gamma5 v(p2), summed over spins
 * sum |M|^2 = g^2 Tr[(p1slash + m_l) gamma5 (p2slash - m_l) gamma5] = 4 g^2 (p1.p2 + m_l^2) = 2 g^2 m^2 (its sign aside)
 * (independent of m_l: the gamma5 vertex has no beta^2 suppression, unlike the scalar's beta^3), and
 * Gamma = sum |M|^2 q / (8 pi m^2), q = (m/2) beta the lepton momentum, gives g^2 m beta/(8 pi), beta = sqrt(1 - 4 m_l^2/m^2)
 * (the two-body width of the PDG review "Kinematics"; with g = eps e, NA64's convention in PRD 104
 * (2021) L111102, it is alpha eps^2 m beta/2). */
double na64_width_pseudoscalar_ll(double m, double g, double ml)
{
  if (!(m > 2.0 * ml)) return 0.0;
  return g * g * m / (8.0 * M_PI) * sqrt(1.0 - 4.0 * sq(ml / m));
}

/* Scalar S -> l+l- (visscal, issue 12): M = g u-bar(p1) v(p2), summed over spins
 * sum |M|^2 = g^2 Tr[(p1slash + m_l)(p2slash - m_l)] = 4 g^2 (p1.p2 - m_l^2) = 2 g^2 m^2 beta^2, so with
 * Gamma = sum |M|^2 q/(8 pi m^2), q = (m/2) beta (the two-body width, PDG review "Kinematics"):
 * Gamma = g^2 m beta^3/(8 pi) (P-wave: beta^3), as quoted for electron-coupled scalars by e.g. Batell,
 * Freitas, Ismail, McKeen PRD 98 (2018) 055026 [RECALLED]. */
double na64_width_scalar_ll(double m, double g, double ml)
{
  if (!(m > 2.0 * ml)) return 0.0;
  double b2 = 1.0 - 4.0 * sq(ml / m);
  return g * g * m / (8.0 * M_PI) * b2 * sqrt(b2);
}

/* Axial vector X -> l+l- (visscal): M = g eps_mu u-bar(p1) gamma^mu gamma5 v(p2). The spin trace is
 * 4 [p1^mu p2^nu + p1^nu p2^mu - g^mu nu (p1.p2 - m_l^2)] (the vector's with +m_l^2); contracted with the
 * polarisation sum -g_mu nu + k_mu k_nu/m^2 (the current is not conserved: the k k term gives 2 m_l^2)
 * it is 4 g^2 (m^2 - 4 m_l^2) = 4 g^2 m^2 beta^2; averaged over 3 polarisations and with the two-body
 * phase space: Gamma = g^2 m beta^3/(12 pi) (as quoted by Kahn, Krnjaic, Mishra-Sharma, Tait JHEP 05
 * (2017) 002 [RECALLED]); for m >> m_l it is the vector's width at the same coupling. */
double na64_width_axial_ll(double m, double g, double ml)
{
  if (!(m > 2.0 * ml)) return 0.0;
  double b2 = 1.0 - 4.0 * sq(ml / m);
  return g * g * m / (12.0 * M_PI) * b2 * sqrt(b2);
}

/* The e+e- (l+l-) width of each mediator at coupling g (docs/physics.md 2): vector and Z' (the same
 * vertex: na64_width_ll at eps = g/e, alpha eps^2 m/3 (1 + 2r) beta = g^2 m/(12 pi) (1 + 2r) beta),
 * scalar, pseudoscalar, axial. */
double na64_width_mediator_ll(na64_mediator med, double m, double g, double ml)
{
  switch (med) {
  case NA64_MED_VECTOR:
  case NA64_MED_ZPRIME: return na64_width_ll(m, g / sqrt(4.0 * M_PI * NA64_ALPHA_EM), ml);
  case NA64_MED_SCALAR: return na64_width_scalar_ll(m, g, ml);
  case NA64_MED_PSEUDOSCALAR: return na64_width_pseudoscalar_ll(m, g, ml);
  case NA64_MED_AXIAL: return na64_width_axial_ll(m, g, ml);
  }
  return NAN;
}

/* A' -> chi1 chi2 with an off-diagonal vector coupling (DMG4 iBranchingType 2):
 * Gamma = alpha_D (2q/(3 m^2)) [3 m1 m2 + m^2 - (m1^2 + m2^2)/2 - (m1^2 - m2^2)^2/(2 m^2)],
 * q the chi momentum in the A' frame; reduces to the Dirac width for m1 = m2. */
double na64_width_pseudo_dirac(double m, double alpha_D, double m1, double m2)
{
  if (!(m > m1 + m2)) return 0.0;
  double m_2 = m * m;
  double E1 = (m_2 - m2 * m2 + m1 * m1) / (2.0 * m);
  double q = sqrt(fmax(E1 * E1 - m1 * m1, 0.0));
  double bracket = 3.0 * m1 * m2 + m_2 - 0.5 * (m1 * m1 + m2 * m2) - sq(m1 * m1 - m2 * m2) / (2.0 * m_2);
  return alpha_D * 2.0 * q / (3.0 * m_2) * bracket;
}

int na64_aprime_check(const na64_aprime *a, na64_err *err)
{
  if (!a) return na64_err_set(err, NA64_EINVAL, "A' model: NULL");
  if (!isfinite(a->mass) || !(a->mass > 0.0))
    return na64_err_set(err, NA64_EPHYS, "A' mass %g MeV is not positive", a->mass * 1e3);
  if (!isfinite(a->eps) || !(a->eps > 0.0) || a->eps > 1.0) {
    char e[32];
    na64_num_shortest(e, sizeof e, a->eps);
    return na64_err_set(err, NA64_EPHYS, "epsilon = %s is outside (0, 1]", e);
  }
  if (a->dm != NA64_DM_NONE) {
    if (a->dm != NA64_DM_DIRAC && a->dm != NA64_DM_SCALAR && a->dm != NA64_DM_PSEUDO_DIRAC)
      return na64_err_set(err, NA64_EINVAL, "unknown dark-matter type %d", (int)a->dm);
    if (!isfinite(a->alpha_D) || !(a->alpha_D > 0.0) || a->alpha_D > 1.0) {
      char e[32];
      na64_num_shortest(e, sizeof e, a->alpha_D);
      return na64_err_set(err, NA64_EPHYS, "alpha_D = %s is outside (0, 1] (perturbative coupling)", e);
    }
    if (!isfinite(a->m_chi) || !(a->m_chi > 0.0))
      return na64_err_set(err, NA64_EPHYS, "dark-matter mass m_chi = %g MeV is not positive", a->m_chi * 1e3);
    if (a->dm == NA64_DM_PSEUDO_DIRAC && (!isfinite(a->delta) || a->delta < 0.0))
      return na64_err_set(err, NA64_EPHYS, "pseudo-Dirac splitting delta = %g must be >= 0", a->delta);
  }
  return NA64_OK;
}

/* The visible widths scale as eps^2 (Gamma = alpha eps^2 m / 3 ...): for eps below ~1e-150 they
 * fall under the smallest normal double (DBL_MIN ~ 2.2e-308 GeV) and would read as "no open
 * channel" (issue 9, item 10: --eps 1e-160). Such an input is refused with the eps that still
 * works, instead of a meaningless result. */
static int check_underflow(double m, double eps, na64_err *err)
{
  double w1 = na64_width_ll(m, 1.0, NA64_M_E) + na64_width_ll(m, 1.0, NA64_M_MU) + na64_width_hadronic(m, 1.0);
  if (w1 > 0.0 && !(eps * eps * w1 >= DBL_MIN))
    return na64_err_set(err, NA64_ERANGE,
                        "epsilon = %g: the A' widths (%g GeV x eps^2) underflow double precision; epsilon must be at "
                        "least %.2g at m_A' = %g MeV",
                        eps, w1, sqrt(DBL_MIN / w1) * 1.0000001, m * 1e3);
  return NA64_OK;
}

int na64_aprime_decay_compute(const na64_aprime *a, na64_aprime_decay *d, na64_err *err)
{
  NA64_CALL(na64_aprime_check(a, err));
  double m = a->mass, eps = a->eps;
  NA64_CALL(check_underflow(m, eps, err));
  d->width_ee = na64_width_ll(m, eps, NA64_M_E);
  d->width_mumu = na64_width_ll(m, eps, NA64_M_MU);
  d->width_had = na64_width_hadronic(m, eps);
  switch (a->dm) {
  case NA64_DM_DIRAC: d->width_inv = na64_width_dirac(m, a->alpha_D, a->m_chi); break;
  case NA64_DM_SCALAR: d->width_inv = na64_width_scalar(m, a->alpha_D, a->m_chi); break;
  case NA64_DM_PSEUDO_DIRAC:
    d->width_inv = na64_width_pseudo_dirac(m, a->alpha_D, a->m_chi, a->m_chi * (1.0 + a->delta));
    break;
  case NA64_DM_NONE: d->width_inv = 0.0; break;
  }
  d->width_total = d->width_ee + d->width_mumu + d->width_had + d->width_inv;
  if (!(d->width_total > 0.0))
    return na64_err_set(err, NA64_EPHYS,
                        "A' of mass %g MeV has no open decay channel (below the e+e- threshold %.6g MeV)",
                        m * 1e3, 2e3 * NA64_M_E);
  d->br_ee = d->width_ee / d->width_total;
  d->br_mumu = d->width_mumu / d->width_total;
  d->br_had = d->width_had / d->width_total;
  d->br_inv = d->width_inv / d->width_total;
  d->tau = NA64_HBAR / d->width_total * 1e9; /* ns */
  d->ctau = NA64_HBARC / d->width_total;     /* cm */
  return NA64_OK;
}

int na64_aprime_decay_length(const na64_aprime *a, double E, double *L, na64_err *err)
{
  na64_aprime_decay d;
  NA64_CALL(na64_aprime_decay_compute(a, &d, err));
  if (!isfinite(E) || !(E > a->mass))
    return na64_err_set(err, NA64_EPHYS, "A' energy %g GeV must exceed its mass %g GeV", E, a->mass);
  double p = sqrt(E - a->mass) * sqrt(E + a->mass); /* no overflow of E^2 for E > 1e154 GeV */
  double len = p / a->mass * d.ctau;                /* L = beta gamma c tau */
  if (!isfinite(len))
    return na64_err_set(err, NA64_ERANGE,
                        "A' energy %g GeV: the decay length (beta gamma = %g times c tau = %g cm) overflows double "
                        "precision",
                        E, p / a->mass, d.ctau);
  *L = len;
  return NA64_OK;
}

double na64_y_from_eps(double eps, double alpha_D, double mchi, double m)
{
  return eps * eps * alpha_D * pow(mchi / m, 4);
}

double na64_eps_from_y(double y, double alpha_D, double mchi, double m)
{
  return sqrt(y / (alpha_D * pow(mchi / m, 4)));
}
