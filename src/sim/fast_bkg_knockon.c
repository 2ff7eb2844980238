/*
 * The SRD tag of a beam hadron by its knock-on (delta-ray) electrons (issues 10 and 11, branch
 * bkgcheck2): a pi- or K- of the beam knocks an electron of kinetic energy T out of the material in
 * front of the SRD's synchrotron-radiation source (the dipoles); the electron radiates in the field
 * and its photons can land in the SRD window, which then takes the hadron for an electron.
 *
 * - Material: the conditions geometry's detectors upstream of the first dipole, each with what the
 *   database records (material density x thickness: the scintillator of the counters, the gas of
 *   the trackers) plus what it does not record, per detector kind (ESTIMATES, docs/simulation.md,
 *   "Knock-on electrons"): the readout board, mesh and electrodes of a Micromegas, the foils and
 *   honeycomb of a triple GEM; a vacuum-pipe exit window; the air from the first detector to the
 *   field and in the dipoles' gaps (ESTIMATE: no vacuum vessel recorded).
 * - Spectrum of the knock-ons per g/cm2 (PDG Review of Particle Physics, "Passage of particles
 *   through matter", energetic knock-on electrons (delta rays), eq. 34.7 in the 2024 edition):
 *   d2N/dT dx = (1/2) K z^2 (Z/A) (1/beta^2) F(T) / T^2, F = 1 - beta^2 T / W_max for spin 0 (pi, K),
 *   K = 0.307075 MeV cm2/mol, W_max = 2 m_e beta^2 gamma^2 / (1 + 2 gamma m_e/M + (m_e/M)^2) (PDG
 *   eq. 34.4); Z/A = 0.54 (polystyrene 0.538, an upper value for air 0.499 and Ar/CO2).
 * - Direction: cos theta = (T/p_e)(p_max/W_max) (PDG, same section), random azimuth; only the
 *   x-projection enters the SR transport (as in na64_sim_synchrotron).
 * - P_win(T, z): the share of knock-on electrons of energy T produced at z whose synchrotron
 *   radiation through the dipoles (the simulation's own, sim_synchrotron_from) deposits 1-500 MeV
 *   in the SRD, counted over KO_NE electrons per node. The electron's own hits in the SRD are not
 *   simulated (one that reaches it showers far above the 500 MeV window).
 * - Momentum: the hadron leaves T in the knock-on; the spectrometer measures its bend in the field
 *   behind the knock-on point, 1/p_meas = f/E0 + (1 - f)/(E0 - T) with f the share of the field
 *   integral upstream of z, so the event passes the momentum window with bkg_p_momentum(p_meas),
 *   relative to the hadron's own bkg_p_momentum(E0) that the routes apply.
 *
 * tag_all = sum over upstream elements of t x integral dN/dT P_win dT (what the brief calls the
 * knock-on tag per g/cm2 times the material: no momentum cut) and tag_sel = sum over all elements
 * of t x integral dN/dT P_win P_mom(p_meas)/P_mom(E0) dT, the one the routes apply. Integrals:
 * trapezoids in ln T over KO_NT nodes from KO_TLO to W_max.
 */
#include <math.h>
#include <string.h>

#include "sim/fast_bkg_internal.h"

#define KO_K 0.307075e-3   /* GeV cm2/mol (PDG) */
#define KO_ZA 0.54         /* Z/A, mol/g (see above) */
#define KO_ME 0.51099895e-3 /* GeV (PDG) */
/* T_lo, GeV: below it the mean SR of an electron through the whole field is (T/100 GeV)^2 of a beam
 * electron's, < ~1.5 MeV, and none lands in the window (tests/sim/test_bkg_knockon.c: none below 5 GeV) */
#define KO_TLO 3.0
#define KO_NT 18           /* T nodes, log-spaced */
#define KO_NE 300          /* knock-on electrons per node */
#define KO_SLICE 10.0      /* cm: air slices inside the field */
#define KO_MAXEL 96
/* Inside the field, P_win(T, z) is simulated only where it can matter: where the hadron keeps its
 * momentum (P_mom(p_meas)/P_mom(E0) > KO_PM_MIN: below, the product is < 1e-6 of the upstream
 * integrand) and where the whole field gives SR in the window (P_win(T) upstream > 0: a part of the
 * field radiates less, with a lower critical energy). */
#define KO_PM_MIN 1e-6
/* Not recorded in the conditions database (ESTIMATES, areal densities in g/cm2 in the beam spot):
 * - Micromegas: a 1.6 mm FR4 readout board (1.85 g/cm3: 0.30) plus mesh, resistive layer, drift
 *   electrode (~0.05): 0.35;
 * - triple GEM (COMPASS type): five copper-clad polyimide foils (3 GEMs, drift, readout: 50 um
 *   polyimide 1.42 g/cm3 + 2 x 5 um Cu, ~15 mg/cm2 each) and two honeycomb/skin support panels
 *   (~40 mg/cm2 each): 0.15;
 * - the H4 vacuum-pipe exit window in front of the first counter: 0.2 mm of Mylar (1.39 g/cm3): 0.028. */
#define KO_MM_PASSIVE 0.35
#define KO_GEM_PASSIVE 0.15
#define KO_WINDOW 0.028
#define KO_AIR 1.205e-3 /* g/cm3, dry air at 20 C (PDG) if the database has no 'Air' */

typedef struct ko_elem {
  double z, t; /* cm, g/cm2 */
  int upstream;
} ko_elem;

/* The material elements in front of and inside the field, upstream first. Returns the count. */
static int ko_material(const na64_sim *s, ko_elem *el, double *up)
{
  const na64_geom *g = s->geom;
  int n = 0;
  *up = 0.0;
  if (s->nmag < 1 || !g) return 0;
  double z0 = s->mag[0].z_in, zend = s->mag[s->nmag - 1].z_out, zfirst = z0, thick = 0.0;
  const na64_geom_material *air = na64_geom_find_material(g, "Air");
  double rho_air = air ? air->density : KO_AIR;
  for (int i = 0; i < g->ndetectors && n < KO_MAXEL - 2; ++i) {
    const na64_geom_detector *d = &g->detectors[i];
    if (!(d->centre[2] + 0.5 * d->size[2] <= z0)) continue;
    double t = d->material >= 0 ? g->materials[d->material].density * d->size[2] : 0.0;
    t += d->kind == NA64_DET_MICROMEGAS ? KO_MM_PASSIVE : d->kind == NA64_DET_GEM ? KO_GEM_PASSIVE : 0.0;
    el[n++] = (ko_elem){d->centre[2], t, 1};
    zfirst = fmin(zfirst, d->centre[2] - 0.5 * d->size[2]);
    thick += d->size[2];
  }
  if (zfirst < z0) {
    el[n++] = (ko_elem){zfirst, KO_WINDOW, 1};
    el[n++] = (ko_elem){0.5 * (zfirst + z0), rho_air * fmax(0.0, z0 - zfirst - thick), 1};
  }
  for (double z = z0 + 0.5 * KO_SLICE; z < zend && n < KO_MAXEL; z += KO_SLICE)
    el[n++] = (ko_elem){z, rho_air * KO_SLICE, 0};
  for (int i = 0; i < n; ++i)
    if (el[i].upstream) *up += el[i].t;
  return n;
}

/* Share of the field integral upstream of z. */
static double field_share(const na64_sim *s, double z)
{
  double a = 0.0, all = 0.0;
  for (int i = 0; i < s->nmag; ++i) {
    double L = s->mag[i].z_out - s->mag[i].z_in, B = fabs(s->mag[i].field);
    all += B * L;
    a += B * fmin(L, fmax(0.0, z - s->mag[i].z_in));
  }
  return all > 0.0 ? a / all : 0.0;
}

/* P_win(T, z): the knock-on electron's SR in the SRD window (see the head of the file). */
static double p_window(const na64_sim *s, double T, double Wmax, double z, na64_rng *rng)
{
  double x, dx;
  sim_transport_from(s, -1.0, s->cfg.beam_energy, 0.0, 0.0, 0.0, z, &x, &dx); /* the hadron at z */
  double pe = sqrt(T * T + 2.0 * KO_ME * T), pmax = sqrt(Wmax * Wmax + 2.0 * KO_ME * Wmax);
  double c = fmin(1.0, T / pe * pmax / Wmax), th = acos(c);
  int n = 0;
  for (int i = 0; i < KO_NE; ++i) {
    double emitted = 0.0, esrd = 0.0, srd[NA64_SIM_MAX_SRD] = {0};
    double slope = dx + tan(th) * cos(2.0 * M_PI * na64_rng_uniform(rng));
    sim_synchrotron_from(s, KO_ME, -1.0, pe, z, x, slope, rng, &emitted, &esrd, srd);
    n += esrd > SRD_MIN && esrd < SRD_MAX;
  }
  return n / (double)KO_NE;
}

void bkg_knockon_tag(bkg *k, uint64_t seed)
{
  const double mass[2] = {0.13957039, 0.493677}; /* PDG pi-, K- masses, GeV */
  const na64_sim *s = k->s;
  const double E0 = s->cfg.beam_energy, pm0 = bkg_p_momentum(E0, E0, 0.0);
  ko_elem el[KO_MAXEL];
  int nel = ko_material(s, el, &k->ko_upstream);
  for (int j = 0; j < 2; ++j) {
    double M = mass[j], gam = sqrt(E0 * E0 + M * M) / M, b2 = 1.0 - 1.0 / (gam * gam), r = KO_ME / M;
    double Wmax = 2.0 * KO_ME * b2 * gam * gam / (1.0 + 2.0 * gam * r + r * r); /* PDG eq. 34.4 */
    double pall = 0.0, psel = 0.0, pw_up[KO_NT] = {0};
    k->ko_per_gcm2[j] = 0.0;
    for (int e = 0; e < nel; ++e) {
      double f = field_share(s, el[e].z), sum_all = 0.0, sum_sel = 0.0;
      for (int a = 0; a < KO_NT; ++a) {
        double T = KO_TLO * pow(Wmax / KO_TLO, a / (KO_NT - 1.0));
        double dn = 0.5 * KO_K * KO_ZA / b2 * (1.0 - b2 * T / Wmax) / (T * T); /* per GeV per g/cm2 */
        double pmeas = 1.0 / (f / E0 + (1.0 - f) / (E0 - T)), pm = bkg_p_momentum(E0, pmeas, 0.0) / pm0;
        double pw = 0.0;
        if (el[e].upstream && e > 0 && el[e - 1].upstream) pw = pw_up[a]; /* the same field ahead */
        else if (el[e].upstream || (pm > KO_PM_MIN && pw_up[a] > 0.0)) {
          na64_rng rng;
          na64_rng_init(&rng, seed ^ 0xD1B54A32D192ED03ull, (uint64_t)((j * KO_MAXEL + e) * KO_NT + a));
          pw = p_window(s, T, Wmax, el[e].z, &rng);
        }
        if (el[e].upstream) pw_up[a] = pw;
        double wt = (a == 0 || a == KO_NT - 1 ? 0.5 : 1.0) * log(Wmax / KO_TLO) / (KO_NT - 1.0) * T;
        sum_all += wt * dn * pw;
        sum_sel += wt * dn * pw * pm;
      }
      if (el[e].upstream) {
        k->ko_per_gcm2[j] = sum_all;
        pall += el[e].t * sum_all;
      }
      psel += el[e].t * sum_sel;
    }
    k->ko_all[j] = pall;
    k->ko_sel[j] = psel;
  }
}
