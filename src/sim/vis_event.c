/*
 * Visible-mode detector response event by event (issue 12; docs/visible.md, "Event simulation").
 *
 * Beam: one electron of energy E0 (momentum spread, Gaussian spot and divergence of the card at z = 0,
 * the first counter, as in the invisible simulation) transported through the dipoles of the run
 * (sim_transport, fast_beam.c) to the WCAL: the WCAL and ECAL are placed on the deflected 100/150 GeV
 * trajectory (sql/setups/20_visible_2017.sql), so the nominal electron arrives on the setup's axis
 * (the line through the WCAL and ECAL centres) and the spread moves it by the dispersion; a card at
 * another energy than the run's has its dipoles scaled to it.
 * Signal: na64_vis_sampler (vis_signal.c) draws the A' energy, its production depth in the WCAL and
 * its decay position in the decay region; the A' flies along the beam (emission angle neglected,
 * vis_signal.c); the e+e- carry the decay kinematics (na64_vis_pair_decay).
 * WCAL: the electron deposits E0 - E_A' (the whole shower; the leak out of ~30 X0 is negligible, NA64
 * report), split over the readout sections by the mean longitudinal profile
 *     dE/dt = E b (b t)^(a-1) e^(-b t) / Gamma(a),  b = 0.5,  t_max = (a - 1)/b = ln(E/E_c) - 0.5
 * (PDG Review of Particle Physics, "Passage of particles through matter", eqs. 34.35-34.36, the
 * electron-induced shower), with E_c of the WCAL's W/Sc mix (physics/material.c); the energy beyond
 * the last section leaks towards V2. Each section's visible energy has the sampling fluctuation
 * N(0, a^2 E_k), so the sum has sigma/E = a/sqrt(E) with the card's a (0.18, NA64 report).
 * V2 and S4 (1 cm scintillator): a charged particle leaves a MIP, <dE/dx>_min = 2.052 MeV cm2/g x
 * 1.06 g/cm3 (PDG table of polystyrene-based scintillator), with the Moyal fluctuations of the fast
 * simulation (sim_mip_draw); V2 sees the charged particles and the interacting photons of the shower
 * that leaks past the WCAL's last layer (src/sim/vis_v2.c: fluctuating profile tail, a MIP per
 * charged particle; until 2026-12-06 the leaked energy times 1 cm / X0(Sc)); the A' crosses it unseen.
 * S4 sees the two tracks of the pair if they cross its face.
 * ECAL: each e+- showers through the fast simulation's ECAL response (na64_sim_ecal_electron:
 * Grindhammer-Peters profiles, lateral integration over the cells, sampling fluctuations), entering
 * at the extrapolation of its line; the two showers are simulated separately and added (as one
 * when they are closer than 2 mm at the ECAL face, pair_response), and the sampling fluctuations and
 * cell noise are drawn once on the sum (ecal_response). The showers' slices are summed at the corners
 * of the ECAL cells and the cells made once per event (sim_em_corners_add, sim_em_corner_cells: the
 * same cell energies as the per-slice integration, to rounding; the slices are coarser than those of
 * the invisible showers, each at its mean depth: docs/visible.md "Event simulation").
 * Straws: the two lines from the decay point go to the straw digitiser in vis_digi.c. Multiple
 * scattering is neglected: 0.1% X0 per straw plane gives theta0 = 13.6 MeV / p sqrt(1e-3) < 1e-5 rad
 * at p >= 40 GeV (PDG eq. 34.16), below the pair's opening angle by two orders.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "na64/sim.h"
#include "sim/ecal_shape.h"
#include "sim/fast_internal.h"
#include "sim/vis_bkg_internal.h"
#include "sim/vis_resp.h"
#include "sim/vis_v2.h"

#define MIP_DEDX 2.052e-3   /* GeV cm2/g, polystyrene scintillator (PDG) */
#define SC_DENSITY 1.06     /* g/cm3 */

typedef struct vis_counter {
  double z, half[2], centre[2], thickness;
  int present;
} vis_counter;

_Static_assert(VG_TAB_X >= NA64_VIS_WCAL_SECTIONS, "a table column per WCAL section");

struct na64_vis_sim {
  na64_vis_config cfg;
  na64_sim *ecal;             /* the fast simulation of the same run: ECAL shower code only */
  const na64_geom *g;         /* = ecal->geom */
  na64_vis_sampler *sampler;  /* NULL if the card's (m, eps) gives no decay in the region */
  na64_beamdump dump;
  double signal_yield;
  double wcal_front, wcal_x0_cm, wcal_ec;
  double sec_hi[NA64_VIS_WCAL_SECTIONS]; /* the sections' back faces, X0 (contiguous from the front face) */
  int nsec;
  double dv_start;
  na64_vis_acceptance acc;    /* of the straws behind the decay volume (tracker_acceptance) */
  double field_scale;         /* E_run / E_card: the dipoles are tuned to the card's beam energy */
  double ecal_front;
  double sc_x0;
  vis_counter v2, s4;
  vis_v2_model v2m;           /* V2's model (vis_v2.c), made once */
  vis_gamma_table wcal_tab;   /* the sections' P(a, b t_hi[k]) of the mean profile on a grid in a (wcal_response) */
  double wcal_b;              /* the mean profile's b, that of the table */
};

static const na64_geom_detector *find_kind(const na64_geom *g, int kind)
{
  for (int i = 0; i < g->ndetectors; ++i)
    if (g->detectors[i].kind == kind) return &g->detectors[i];
  return NULL;
}

static void counter_of(const na64_geom *g, const char *name, vis_counter *c)
{
  const na64_geom_detector *d = na64_geom_find_detector(g, name);
  memset(c, 0, sizeof *c);
  if (!d) return;
  c->present = 1;
  c->z = d->centre[2];
  c->centre[0] = d->centre[0];
  c->centre[1] = d->centre[1];
  c->half[0] = 0.5 * d->size[0];
  c->half[1] = 0.5 * d->size[1];
  c->thickness = d->size[2];
}

/* WCAL, decay volume, counters and the axis from the geometry of the run */
/* The acceptance the sampler flags (in_aperture, separation) from the run's straw planes behind the decay
 * volume: the distance from its end to the first plane, the first-to-last lever arm, the smallest
 * half-width; the defaults of na64_vis_acceptance_default where the setup has no straws there. */
static void tracker_acceptance(const na64_geom *g, double dv_end, na64_vis_acceptance *a)
{
  na64_vis_acceptance_default(a);
  double z1 = HUGE_VAL, z2 = -HUGE_VAL, half = HUGE_VAL;
  for (int i = 0; i < g->nplanes; ++i) {
    const na64_geom_plane *p = &g->planes[i];
    if (p->kind != NA64_DET_STRAW || p->centre[2] < dv_end) continue;
    z1 = fmin(z1, p->centre[2]);
    z2 = fmax(z2, p->centre[2]);
    half = fmin(half, 0.5 * fmin(p->size_u, p->size_v));
  }
  if (!(z1 <= z2)) return;
  a->tracker_distance = z1 - dv_end;
  a->tracker_length = z2 - z1;
  a->half_aperture = half;
}

static int setup_geometry(na64_vis_sim *s, na64_err *err)
{
  const na64_geom *g = s->g;
  const na64_geom_detector *w = find_kind(g, NA64_DET_WCAL), *dv = find_kind(g, NA64_DET_DECAY_VOLUME);
  const na64_geom_detector *ec = find_kind(g, NA64_DET_ECAL);
  if (!w || !dv || !ec || w->nsections < 1 || w->nsections > NA64_VIS_WCAL_SECTIONS)
    return na64_err_set(err, NA64_EFORMAT, "run %d (setup %s): a visible setup needs a WCAL with 1-%d sections, a decay "
                        "volume and an ECAL", g->run, g->setup, NA64_VIS_WCAL_SECTIONS);
  s->wcal_front = w->centre[2] - 0.5 * w->size[2];
  double depth = 0.0;
  s->nsec = w->nsections;
  for (int k = 0; k < s->nsec; ++k) {
    depth += w->sections[k].depth_x0;
    s->sec_hi[k] = depth;
  }
  if (!(depth > 0.0)) return na64_err_set(err, NA64_EFORMAT, "setup %s: WCAL of %g X0", g->setup, depth);
  s->wcal_x0_cm = w->size[2] / depth;
  s->dv_start = dv->centre[2] - 0.5 * dv->size[2];
  tracker_acceptance(g, dv->centre[2] + 0.5 * dv->size[2], &s->acc);
  /* the beam line is tuned to the card's energy: a card at another energy than the run's scales the
   * fields by E_card / E_run, i.e. transports p E_run / E_card through the run's fields (the
   * reconstruction, which knows the run's fields only, then measures p E_run / E_card) */
  s->field_scale = g->beam_energy > 0.0 && s->cfg.beam_energy > 0.0 ? g->beam_energy / s->cfg.beam_energy : 1.0;
  double c[3];
  na64_sim_ecal_centre(s->ecal, c);
  s->ecal_front = c[2];
  counter_of(g, "V2", &s->v2);
  counter_of(g, "S4", &s->s4);
  na64_material sc;
  NA64_CALL(na64_material_get("Sc", &sc, err));
  s->sc_x0 = sc.X0;
  na64_material wm;
  NA64_CALL(na64_material_get("WCAL", &wm, err));
  s->wcal_ec = wm.E_c;
  /* the sections' P at the back faces as functions of the profile's shape a: its rate b does not
   * depend on E (vis_v2.h), the faces are the run's */
  double xk[NA64_VIS_WCAL_SECTIONS];
  s->wcal_b = vis_mean_profile_of(1.0, s->wcal_ec).b;
  for (int k = 0; k < s->nsec; ++k) xk[k] = s->wcal_b * s->sec_hi[k];
  vis_gamma_table_fill(&s->wcal_tab, xk, s->nsec);
  if (s->v2.present)
    vis_v2_model_init(&s->v2m, s->wcal_ec, MIP_DEDX * SC_DENSITY * s->v2.thickness, s->cfg.counter_mip_width);
  /* the signal: the dump of the track-length yield with this geometry (the same as
   * `na64 limits --mode visible` builds from the run, src/ana/sensitivity.c) */
  double E0 = s->cfg.beam_energy, wcal_end = w->centre[2] + 0.5 * w->size[2];
  /* X drawn above NA64_VIS_EA_MIN_FRAC E0 (include/na64/sim.h): below every E_ECAL the selection accepts */
  na64_beamdump_init_visible(&s->dump, &wm, E0, depth, NA64_VIS_EA_MIN_FRAC * E0, s->dv_start - wcal_end, dv->size[2]);
  s->dump.mediator = s->cfg.mediator; /* the vector A' or the pseudoscalar a (physics/yield.c) */
  s->dump.method = s->cfg.xsec_method; /* physics.method: ETL or the exact spectrum (physics/yield.c) */
  NA64_CALL(na64_vis_sampler_new(&s->dump, s->cfg.aprime_mass, s->cfg.aprime_eps, &s->sampler, err));
  s->signal_yield = na64_vis_sampler_yield(s->sampler);
  return NA64_OK;
}

int na64_vis_sim_new(const na64_vis_config *cfg, na64_vis_sim **out, na64_err *err)
{
  if (!cfg || !out) return na64_err_set(err, NA64_EINVAL, "na64_vis_sim_new: NULL argument");
  *out = NULL;
  na64_vis_sim *s = calloc(1, sizeof *s);
  if (!s) return na64_err_set(err, NA64_ENOMEM, "visible sim: out of memory");
  s->cfg = *cfg;
  na64_sim_config sc;
  na64_sim_config_default(&sc);
  sc.run = cfg->run;
  memcpy(sc.conditions, cfg->conditions, sizeof sc.conditions);
  sc.beam_energy = cfg->beam_energy;
  sc.ecal_stochastic = cfg->ecal_stochastic;
  sc.ecal_noise = cfg->ecal_noise;
  int st = sim_new_for_mode(&sc, 1, &s->ecal, err);
  if (st == NA64_OK && strcmp(s->ecal->geom->mode, "visible") != 0)
    st = na64_err_set(err, NA64_EINVAL, "run %ld is an %s-mode run: a visible card needs a visible-mode run", cfg->run,
                      s->ecal->geom->mode);
  if (st == NA64_OK) {
    s->g = s->ecal->geom;
    st = setup_geometry(s, err);
  }
  if (st != NA64_OK) {
    na64_err_prefix(err, "visible sim: ");
    na64_vis_sim_free(s);
    return st;
  }
  *out = s;
  return NA64_OK;
}

void na64_vis_sim_free(na64_vis_sim *s)
{
  if (!s) return;
  na64_vis_sampler_free(s->sampler);
  na64_sim_free(s->ecal);
  free(s);
}

const na64_vis_config *na64_vis_sim_config(const na64_vis_sim *s) { return &s->cfg; }
const na64_sim *sim_vis_fast(const na64_vis_sim *s) { return s->ecal; }
const na64_geom *na64_vis_sim_geom(const na64_vis_sim *s) { return s->g; }
double na64_vis_sim_signal_yield(const na64_vis_sim *s) { return s->signal_yield; }
void na64_vis_sim_beamdump(const na64_vis_sim *s, na64_beamdump *d) { *d = s->dump; }
const na64_sim *vis_sim_ecal(const na64_vis_sim *s) { return s->ecal; }

/* WCAL sections for a deposit E, ly = ln(E / E_c) (the leak past the last layer: V2, src/sim/vis_v2.c);
 * z: one N(0, 1) per section */
static void wcal_response(const na64_vis_sim *s, double E, double ly, const double *z, na64_vis_sim_event *ev)
{
  double a = s->cfg.wcal_stochastic, inside = 0.0;
  ev->true_wcal = 0.0;
  for (int k = 0; k < NA64_VIS_WCAL_SECTIONS; ++k) ev->wcal[k] = 0.0;
  if (!(E > 0.0)) return;
  /* the fraction of the mean profile (src/sim/vis_v2.h) in each section, P(a, b t_hi) - P(a, b t_lo):
   * the sections are contiguous from depth 0 (P = 0 there), so each boundary's P is needed once
   * (branch visresp), from the table (wcal_fractions; branch vissmear) */
  double P[NA64_VIS_WCAL_SECTIONS], P_lo = 0.0;
  vis_mean_profile m = vis_mean_profile_ly(ly);
  if (!(m.b == s->wcal_b && vis_gamma_table_p(&s->wcal_tab, m.a, P))) { /* a outside the table (E > 2e6 E_c) */
    double lg = vis_lngamma(m.a);
    for (int k = 0; k < s->nsec; ++k) P[k] = sim_gamma_p(m.a, m.b * s->sec_hi[k], lg);
  }
  for (int k = 0; k < s->nsec; ++k) {
    double Ek = E * (P[k] - P_lo);
    P_lo = P[k];
    inside += Ek;
    ev->wcal[k] = Ek + a * sqrt(Ek) * z[k];
  }
  ev->true_wcal = inside;
}

static double mip_energy(const na64_vis_sim *s, const vis_counter *c, na64_rng *rng)
{
  return sim_mip_draw(rng, MIP_DEDX * SC_DENSITY * c->thickness, s->cfg.counter_mip_width);
}

static int crosses(const vis_counter *c, const double p[3], const double sl[2])
{
  if (!c->present || c->z < p[2]) return 0;
  double x = p[0] + sl[0] * (c->z - p[2]), y = p[1] + sl[1] * (c->z - p[2]);
  return fabs(x - c->centre[0]) < c->half[0] && fabs(y - c->centre[1]) < c->half[1];
}

/* one ECAL shower of energy E entering at (x, y) with slopes (sx, sy): its slices' mean energies are
 * added to the event's corner grids g (sim_em_corners_add: the cells and section deposits follow
 * once per event, sim_em_corner_cells; the fluctuations come once per event too, ecal_response) */
static void ecal_shower(const na64_vis_sim *s, double E, double x, double y, double sx, double sy, na64_rng *rng,
                        double g[NA64_SIM_ECAL_SECTIONS][SIM_ECAL_CORNERS])
{
  sim_em_corners_add(s->ecal, E, x, y, sx, sy, rng, g);
}

/* The sampling fluctuations and the cell noise of the event's showers, drawn once on their sum: the
 * sum of independent N(0, a^2 E_i) per shower is N(0, a^2 sum E_i), and the noise belongs to the
 * cell, not to the shower; the cells become the event's ECAL energies. The cells below 3e-4 of their
 * section have no deviate of their own (sim_ecal_smear_sparse, fast_ecal.c: the section sums exact,
 * <= 0.3% of a section's variance not drawn cell by cell; branch vissmear). */
static void ecal_response(const na64_vis_sim *s, na64_rng *rng, const double dep[NA64_SIM_ECAL_SECTIONS],
                          na64_vis_sim_event *ev)
{
  double v[NA64_SIM_ECAL_SECTIONS];
  sim_ecal_smear_sparse(s->ecal, rng, ev->ecal, dep, v);
  for (int k = 0; k < NA64_SIM_ECAL_SECTIONS; ++k) ev->true_ecal += dep[k];
}

/* The pair: S4 and the ECAL. Two showers closer than PAIR_MERGE at the ECAL face are simulated as one
 * of the summed energy at their energy-weighted centre: 2 mm is 1/20 of the ECAL's Moliere radius
 * and of its 3.82 cm cells, so the cell energies are the same to < 1% (the profile's second moment
 * grows by (d/2)^2 / R_M^2 < 1e-3), and the sampling fluctuation a^2 (E1 + E2) is the same as that of
 * two independent showers; it halves the cost of the typical pair at 100 GeV (0.3 mrad x 4 m). */
#define PAIR_MERGE 0.2 /* cm */
static void pair_response(const na64_vis_sim *s, na64_rng *rng, na64_vis_sim_event *ev)
{
  double x[2], y[2], dz = s->ecal_front - ev->decay[2];
  for (int q = 0; q < 2; ++q) {
    if (crosses(&s->s4, ev->decay, ev->slope[q])) {
      ev->n_s4++;
      ev->s4 += mip_energy(s, &s->s4, rng);
    }
    x[q] = ev->decay[0] + ev->slope[q][0] * dz;
    y[q] = ev->decay[1] + ev->slope[q][1] * dz;
  }
  /* the grids' corners in use, (nx + 1)(ny + 1) = 49 of the 160 of the arrays for the 6 x 6 cells:
   * sim_em_corners_add and sim_em_corner_cells touch no other (g[j (nx + 1) + i], src/sim/ecal_shape.h),
   * so only these are zeroed (784 bytes instead of 2560; branch visevt) */
  double dep[NA64_SIM_ECAL_SECTIONS], g[NA64_SIM_ECAL_SECTIONS][SIM_ECAL_CORNERS];
  int nco = (s->ecal->ecal.nx + 1) * (s->ecal->ecal.ny + 1);
  if (nco > SIM_ECAL_CORNERS) nco = SIM_ECAL_CORNERS; /* (such a grid gets no shower: sim_lateral_corners_add) */
  for (int k = 0; k < NA64_SIM_ECAL_SECTIONS; ++k) memset(g[k], 0, sizeof g[k][0] * (size_t)nco);
  const double ddx = x[1] - x[0], ddy = y[1] - y[0];
  if (ddx * ddx + ddy * ddy < PAIR_MERGE * PAIR_MERGE) {
    double E = ev->e_energy[0] + ev->e_energy[1], f = ev->e_energy[1] / E;
    ecal_shower(s, E, x[0] + f * (x[1] - x[0]), y[0] + f * (y[1] - y[0]), ev->slope[0][0] + f * (ev->slope[1][0] - ev->slope[0][0]),
                ev->slope[0][1] + f * (ev->slope[1][1] - ev->slope[0][1]), rng, g);
  } else {
    for (int q = 0; q < 2; ++q) ecal_shower(s, ev->e_energy[q], x[q], y[q], ev->slope[q][0], ev->slope[q][1], rng, g);
  }
  /* the cells straight into the event's (zero since the event's memset; the smearing in place) */
  sim_em_corner_cells(s->ecal, (const double(*)[SIM_ECAL_CORNERS])g, ev->ecal, dep);
  ecal_response(s, rng, dep, ev);
}

int na64_vis_sim_event_generate(const na64_vis_sim *s, uint64_t seed, uint64_t event, int signal,
                                na64_vis_sim_event *ev, na64_err *err)
{
  if (!s || !ev) return na64_err_set(err, NA64_EINVAL, "na64_vis_sim_event_generate: NULL argument");
  if (signal && !(s->signal_yield > 0.0))
    return na64_err_set(err, NA64_EPHYS, "visible sim: no A' of %g MeV, eps %g decays in the decay region",
                        s->cfg.aprime_mass * 1e3, s->cfg.aprime_eps);
  memset(ev, 0, sizeof *ev);
  na64_rng rng;
  na64_rng_init(&rng, seed, event);
  const na64_vis_config *c = &s->cfg;
  ev->event = event;
  ev->signal = signal != 0;
  ev->weight = 1.0;
  /* the event's N(0, 1): 5 of the beam, one per WCAL section, by the ziggurat on a SplitMix64 stream
   * keyed by one word of the event's stream (as sim_ecal_smear's cells; na64_rng_gauss_words: ~35
   * instructions a deviate against ~140 by the polar method; branch vissmear) */
  enum { NZ = 5 + NA64_VIS_WCAL_SECTIONS };
  double z[NZ];
  uint64_t w[NZ];
  const uint64_t key = na64_rng_u64(&rng);
  for (int i = 0; i < NZ; ++i) w[i] = sim_noise_word(key, (uint64_t)i + 1);
  na64_rng_gauss_words(&rng, w, z, NZ);
  ev->beam_energy = c->beam_energy * (1.0 + c->momentum_spread * z[0]);
  /* the beam at z = 0 (spot and divergence of the card, as the invisible simulation draws them,
   * fast_event.c draw_beam), then through the dipoles to the WCAL front face (sim_transport: the
   * WCAL and ECAL sit on the deflected trajectory of the nominal energy, the setup's axis) */
  ev->beam_x0 = c->spot_x * z[1];
  ev->beam_y0 = c->spot_y * z[2];
  ev->beam_dxdz0 = c->divergence_x * z[3];
  ev->beam_dydz0 = c->divergence_y * z[4];
  double z0 = s->wcal_front, x0, sx, y0 = ev->beam_y0 + ev->beam_dydz0 * z0, sy = ev->beam_dydz0;
  sim_transport(s->ecal, -1.0, ev->beam_energy * s->field_scale, ev->beam_x0, ev->beam_dxdz0, z0, &x0, &sx);
  ev->beam_x = x0;
  ev->beam_y = y0;
  ev->beam_dxdz = sx;
  ev->beam_dydz = sy;
  ev->depth_x0 = ev->opening = NAN;
  ev->decay[0] = ev->decay[1] = ev->decay[2] = NAN;
  double deposit = ev->beam_energy;
  if (signal) {
    na64_vis_event a;
    na64_vis_sampler_event(s->sampler, &s->acc, &rng, &a);
    /* the sampler's energies are for E0: scale to this beam particle's energy */
    double f = ev->beam_energy / c->beam_energy;
    ev->aprime_energy = a.energy * f;
    ev->depth_x0 = a.depth_x0;
    ev->opening = a.opening;
    ev->decay[2] = s->dv_start + a.z_decay;
    double dz = ev->decay[2] - z0;
    ev->decay[0] = x0 + sx * dz;
    ev->decay[1] = y0 + sy * dz;
    for (int q = 0; q < 2; ++q) {
      ev->e_energy[q] = a.e_energy[q] * f;
      ev->slope[q][0] = sx + a.p[q][0] / a.p[q][2];
      ev->slope[q][1] = sy + a.p[q][1] / a.p[q][2];
    }
    deposit -= ev->aprime_energy;
  }
  /* ln(E/E_c) of the deposit once for the WCAL's mean profile and V2's (the same E_c: s->v2m.Ec =
   * s->wcal_ec; branch visevt, one libm log fewer) */
  const double ly = deposit > 0.0 ? log(deposit / s->wcal_ec) : 0.0;
  wcal_response(s, deposit, ly, z + 5, ev);
  if (s->v2.present) /* the shower's leak past the last layer as V2 sees it (src/sim/vis_v2.c) */
    ev->v2 = vis_v2_draw_ly(&s->v2m, deposit, ly, s->sec_hi[s->nsec - 1], &rng);
  if (signal) pair_response(s, &rng, ev);
  return NA64_OK;
}

/* the run's DATE file: the invisible digitisation's writer set-up (LDC map of the run), which
 * depends only on the run and the database of the card */
int na64_vis_raw_open(const na64_vis_sim *s, const char *path, na64_daq_writer **out, na64_err *err)
{
  if (!s) return na64_err_set(err, NA64_EINVAL, "na64_vis_raw_open: NULL argument");
  return na64_sim_raw_open(s->ecal, path, out, err);
}
