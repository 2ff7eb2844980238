/*
 * Visible-mode signal event by event (issue 12): an A' produced in the WCAL shower, flying through
 * the rest of the WCAL and the gap, decaying to e+e- in the decay region, and the pair reaching the
 * straw stations behind it. Gives the acceptance and the decay-position distribution that the
 * track-length yield (physics/yield.c) integrates over.
 *
 * Production: the (depth, A' energy) table of na64_yield (ETL/WW cross section on the WCAL shower's
 * track lengths, docs/physics.md §6), sampled with probability W[k,a] x P_decay(k, a, eps), i.e. the
 * signal distribution itself (every event has weight N/EOT / nevents, the exact yield). The A' flies
 * along the beam: its emission angle ~ max(m, m_e)/E_A' (Bjorken, Essig, Schuster, Toro PRD 80
 * (2009) 075018, eq. 9) is below 4e-4 rad here, neglected against the pair's opening angle.
 * Decay in flight: distance d from the production point with density exp(-d/l)/l, l = (p/m) c tau
 * (physics/decay.c), truncated to the decay region [d1, d1 + L): d = d1 - l ln(1 + u (e^{-L/l} - 1)).
 * Decay A' -> e+e-: isotropic in the A' rest frame (the A' polarisation is neglected: either extreme
 * helicity moves the 2017 card's efficiencies by <= 0.0004 +- 0.0003, measured on paired events by
 * bench/bench_vis_polarisation.c; docs/validation.md "The spin-1 polarisation, bounded"), momentum
 * p* = sqrt(m^2/4 - m_e^2), boosted along z (PDG Review of Particle Physics, "Kinematics", eq. 49.5).
 * At E_A' = 50 GeV and m = 50 MeV the symmetric decay opens 2 atan(2 p* / p) = 2.0 mrad, the number
 * of the NA64 proposal (refdata na64-report-facts.md, "Visible-mode setup").
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "na64/sim.h"
#include "sim/fast_internal.h" /* sim_max_c, sim_min_c */


void na64_vis_acceptance_default(na64_vis_acceptance *a)
{
  /* a setup without its geometry at hand (the visible event simulation derives the first three from
   * the run's straw planes: src/sim/vis_event.c tracker_acceptance): ST01 2.1 cm behind the decay-region
   * end and ST03 100 cm further, as the 2017 rows were on 2026-12-06 (they are 6.1 cm since vis2018);
   * 20 x 20 cm2 straw chambers (JINR chambers, refdata na64-report-facts.md); two tracks resolved 2 straw
   * diameters (2 x 6 mm) apart */
  a->tracker_distance = 2.1;
  a->tracker_length = 100.0;
  a->half_aperture = 10.0;
  a->min_separation = 1.2;
  a->require_separation = 0;
}

int na64_vis_pair_decay(double m, double E, double cos_star, double phi, na64_vis_pair *out, na64_err *err)
{
  if (!(m > 2.0 * NA64_M_E) || !(E > m) || !(fabs(cos_star) <= 1.0) || !isfinite(phi))
    return na64_err_set(err, NA64_EINVAL, "A' decay: m = %g GeV, E = %g GeV, cos* = %g: need 2 m_e < m < E, |cos*| <= 1",
                        m, E, cos_star);
  double pstar = sqrt(0.25 * m * m - NA64_M_E * NA64_M_E), estar = 0.5 * m;
  double p = sqrt(E * E - m * m), gamma = E / m, bg = p / m;
  double pt = pstar * sqrt(sim_max_c(1.0 - cos_star * cos_star, 0.0)), pz = pstar * cos_star;
  for (int s = 0; s < 2; ++s) { /* s = 0: e- along +p*, s = 1: e+ along -p* */
    double sign = s ? -1.0 : 1.0;
    out->E[s] = gamma * estar + bg * sign * pz;
    out->p[s][0] = sign * pt * cos(phi);
    out->p[s][1] = sign * pt * sin(phi);
    out->p[s][2] = bg * estar + gamma * sign * pz;
  }
  double dot = 0.0, n0 = 0.0, n1 = 0.0;
  for (int i = 0; i < 3; ++i) {
    dot += out->p[0][i] * out->p[1][i];
    n0 += out->p[0][i] * out->p[0][i];
    n1 += out->p[1][i] * out->p[1][i];
  }
  out->opening = acos(sim_max_c(sim_min_c(dot / sqrt(n0 * n1), 1.0), -1.0));
  return NA64_OK;
}

/* the signal weight of each (depth, energy) bin and its cumulative sum; returns the total (N/EOT) */
static double bin_weights(const na64_yield_table *t, double eps, double *cdf)
{
  double e2 = eps * eps, sum = 0.0;
  for (int k = 0; k < t->nt; ++k) {
    double d1 = (t->L_X0 - t->tmid[k]) * t->X0 + t->d_start;
    for (int a = 0; a < t->na; ++a) {
      double ell = t->ell1[a] / e2;
      sum += t->W[k * t->na + a] * (exp(-d1 / ell) - exp(-(d1 + t->d_len) / ell));
      cdf[k * t->na + a] = sum;
    }
  }
  return e2 * t->br_ee * sum;
}

/* The first bin i in [lo, hi] with cdf[i] >= target (cdf[hi] >= target, cdf non-decreasing), by bisection. */
static int bisect(const double *cdf, int lo, int hi, double target)
{
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (cdf[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* The guide table of the inversion (L. Devroye, "Non-Uniform Random Variate Generation", Springer 1986,
 * sec. III.2.4, the guide table method; branch visevt): guide[g] = the first bin with cdf >= t_g,
 * t_g = (g / G) cdf[n-1] rounded as the target u cdf[n-1] is, for g = 0..G, G a power of two. With
 * g = floor(u G) (exact), g/G <= u < (g+1)/G, and a correctly rounded product is monotone in its
 * factor, so t_g <= target <= t_(g+1): the bin is in [guide[g], guide[g+1]], the same bin as the
 * bisection of the whole table gives (~2 steps instead of ~12, most of them mispredicted branches). */
static int *guide_new(const double *cdf, int n, int *G_out)
{
  *G_out = 0;
  for (int i = 1; i < n; ++i)
    if (!(cdf[i] >= cdf[i - 1])) return NULL; /* not monotone (NaN): the plain bisection */
  int G = 1;
  while (G < n && G < (1 << 16)) G <<= 1;
  int *guide = malloc(sizeof *guide * (size_t)(G + 1));
  if (!guide) return NULL;
  const double T = cdf[n - 1];
  int i = 0;
  for (int g = 0; g <= G; ++g) {
    const double t = ((double)g / (double)G) * T;
    while (i < n - 1 && cdf[i] < t) ++i;
    guide[g] = i;
  }
  *G_out = G;
  return guide;
}

struct na64_vis_sampler {
  na64_yield *y;
  na64_yield_table t;
  double *cdf;
  double *em1; /* per A' energy bin: expm1(-L/ell), ell its decay length (made once; branch vissmear) */
  int *guide;  /* guide_new, G + 1 entries (NULL: bisection of the whole table) */
  int G;
  double m, eps, yield;
};

static int sample_bin(const na64_vis_sampler *s, int n, double u)
{
  const double target = u * s->cdf[n - 1];
  if (!s->guide) return bisect(s->cdf, 0, n - 1, target);
  const int g = (int)(u * (double)s->G); /* u < 1: g <= G - 1 */
  return bisect(s->cdf, s->guide[g], s->guide[g + 1], target);
}

int na64_vis_sampler_new(const na64_beamdump *d, double m, double eps, na64_vis_sampler **out, na64_err *err)
{
  if (!out) return na64_err_set(err, NA64_EINVAL, "na64_vis_sampler_new: NULL argument");
  *out = NULL;
  if (!d || !d->visible) return na64_err_set(err, NA64_EINVAL, "visible signal: the dump is not a visible-mode dump");
  if (!(eps > 0.0 && eps <= 1.0)) return na64_err_set(err, NA64_EINVAL, "visible signal: eps = %g must be in (0, 1]", eps);
  na64_vis_sampler *s = calloc(1, sizeof *s);
  if (!s) return na64_err_set(err, NA64_ENOMEM, "visible signal: out of memory");
  s->m = m;
  s->eps = eps;
  int st = na64_yield_new(d, m, &s->y, err);
  if (st == NA64_OK) st = na64_yield_visible_table(s->y, &s->t, err);
  if (st == NA64_OK && (!(s->cdf = malloc(sizeof *s->cdf * (size_t)(s->t.nt * s->t.na))) ||
                        !(s->em1 = malloc(sizeof *s->em1 * (size_t)s->t.na))))
    st = na64_err_set(err, NA64_ENOMEM, "visible signal: out of memory");
  if (st != NA64_OK) {
    na64_vis_sampler_free(s);
    return st;
  }
  s->yield = bin_weights(&s->t, eps, s->cdf);
  s->guide = guide_new(s->cdf, s->t.nt * s->t.na, &s->G); /* NULL: the slower bisection, same bins */
  for (int a = 0; a < s->t.na; ++a) s->em1[a] = expm1(-s->t.d_len / (s->t.ell1[a] / (eps * eps)));
  *out = s;
  return NA64_OK;
}

void na64_vis_sampler_free(na64_vis_sampler *s)
{
  if (!s) return;
  na64_yield_free(s->y);
  free(s->cdf);
  free(s->em1);
  free(s->guide);
  free(s);
}

double na64_vis_sampler_yield(const na64_vis_sampler *s)
{
  /* nothing decays in the region (below threshold or eps far off): no events can be drawn */
  return s && s->yield > 0.0 && s->cdf[s->t.nt * s->t.na - 1] > 0.0 ? s->yield : 0.0;
}

double na64_vis_sampler_wcal_depth(const na64_vis_sampler *s, double *x0_cm)
{
  if (x0_cm) *x0_cm = s->t.X0;
  return s->t.L_X0;
}

/* one signal event: production depth and A' energy, decay position in the decay region and the
 * pair at the straw stations */
void na64_vis_sampler_event(const na64_vis_sampler *s, const na64_vis_acceptance *acc, na64_rng *rng, na64_vis_event *ev)
{
  const na64_yield_table *t = &s->t;
  int bin = sample_bin(s, t->nt * t->na, na64_rng_uniform(rng));
  int a = bin % t->na, k = bin / t->na;
  double ell = t->ell1[a] / (s->eps * s->eps), L = t->d_len;
  ev->energy = t->ea[a];
  ev->depth_x0 = t->tmid[k];
  ev->z_decay = -ell * log1p(na64_rng_uniform(rng) * s->em1[a]); /* behind the decay-region start */
  if (!(ev->z_decay >= 0.0 && ev->z_decay < L)) ev->z_decay = fmin(fmax(ev->z_decay, 0.0), L);
  double cos_star = 2.0 * na64_rng_uniform(rng) - 1.0, phi = 2.0 * M_PI * na64_rng_uniform(rng);
  na64_vis_pair pair;
  na64_vis_pair_decay(s->m, ev->energy, cos_star, phi, &pair, NULL); /* arguments valid by construction */
  ev->opening = pair.opening;
  double s1 = (L - ev->z_decay) + acc->tracker_distance, s2 = s1 + acc->tracker_length;
  double x1[2][2], inside = 1;
  for (int q = 0; q < 2; ++q) {
    ev->e_energy[q] = pair.E[q];
    for (int c = 0; c < 3; ++c) ev->p[q][c] = pair.p[q][c];
    for (int c = 0; c < 2; ++c) {
      double slope = pair.p[q][c] / pair.p[q][2];
      x1[q][c] = slope * s1;
      if (fabs(slope * s2) >= acc->half_aperture) inside = 0;
    }
  }
  const double sx = x1[0][0] - x1[1][0], sy = x1[0][1] - x1[1][1];
  ev->separation = sqrt(sx * sx + sy * sy); /* cm: no overflow to guard against (hypot: ~50 instructions more) */
  ev->in_aperture = inside != 0;
}

int na64_vis_signal_efficiency(const na64_beamdump *d, double m, double eps, const na64_vis_acceptance *acc,
                               uint64_t seed, int nevents, na64_vis_signal_eff *out, na64_err *err)
{
  memset(out, 0, sizeof *out);
  if (!d || !d->visible) return na64_err_set(err, NA64_EINVAL, "visible signal: the dump is not a visible-mode dump");
  if (!(eps > 0.0 && eps <= 1.0)) return na64_err_set(err, NA64_EINVAL, "visible signal: eps = %g must be in (0, 1]", eps);
  if (nevents < 1) return na64_err_set(err, NA64_EINVAL, "visible signal: %d events, need >= 1", nevents);
  if (!acc || !(acc->tracker_distance >= 0.0) || !(acc->tracker_length >= 0.0) || !(acc->half_aperture > 0.0) ||
      !(acc->min_separation >= 0.0))
    return na64_err_set(err, NA64_EINVAL, "visible signal: tracker distances must be >= 0, the aperture > 0");
  na64_vis_sampler *s;
  NA64_CALL(na64_vis_sampler_new(d, m, eps, &s, err));
  out->yield_per_eot = s->yield;
  if (na64_vis_sampler_yield(s) > 0.0) {
    out->nevents = nevents;
    double nacc = 0, nsep = 0;
    for (int i = 0; i < nevents; ++i) {
      na64_rng rng;
      na64_rng_init(&rng, seed, (uint64_t)i); /* one stream per event: independent of the order */
      na64_vis_event ev;
      na64_vis_sampler_event(s, acc, &rng, &ev);
      int sep = ev.separation >= acc->min_separation;
      nsep += sep;
      nacc += ev.in_aperture && (sep || !acc->require_separation);
      out->mean_decay_z += ev.z_decay;
      out->mean_opening += ev.opening;
      out->mean_energy += ev.energy;
    }
    out->acceptance = nacc / nevents;
    out->separated = nsep / nevents;
    out->mean_decay_z /= nevents;
    out->mean_opening /= nevents;
    out->mean_energy /= nevents;
  }
  na64_vis_sampler_free(s);
  return NA64_OK;
}
