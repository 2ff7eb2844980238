/*
 * Visible-mode run cards (configs/visible_*.yaml, issue 12): the defaults and the schema of the
 * sections the simulation reads. The keys follow the invisible cards (src/sim/fast_config.c) where
 * they mean the same; docs/visible.md lists each key with its source. Unknown keys are errors.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "na64/io.h"
#include "na64/sim.h"

void na64_vis_config_default(na64_vis_config *c)
{
  memset(c, 0, sizeof *c);
  c->run = 2800; /* the 2017 visible run range (sql/setups/02_runs.sql) */
  c->beam_energy = 100.0; /* PRL 120 (2018) 231802 */
  /* beam tune: ESTIMATES as in the invisible cards (docs/simulation.md) */
  c->momentum_spread = 0.01;
  c->spot_x = c->spot_y = 0.3;
  c->divergence_x = c->divergence_y = 1.0e-4;
  c->aprime_mass = 16.7e-3;
  c->aprime_eps = 2.0e-4;
  snprintf(c->aprime_decay, sizeof c->aprime_decay, "ee");
  c->wcal_stochastic = 0.18; /* dE/E ~ 0.18/sqrt(E) of the W/Sc wall (NA64 report, visible-mode setup) */
  c->ecal_stochastic = 0.10; /* dE/E ~ 10%/sqrt(E) (NA64 report) */
  c->ecal_noise = 0.0;
  c->counter_mip_width = 0.15; /* ESTIMATE: Landau width of 1 cm of scintillator, as the invisible veto */
  c->mediator = NA64_MED_VECTOR;
  c->xsec_method = NA64_XS_EXACT; /* the exact tree level (exactgrid3: from the tungsten windowed grids, at the cost of
                                     ETL; docs/physics.md 4e), as the visible default of na64_sens_method */
}

#define KEY(name, type, dst, lo, hi) {name, type, dst, 0, lo, hi, 0, NULL, 0, NULL}

/* aprime.mediator: "vector" (the A'), or the X17 "scalar", "pseudoscalar" or "axial" coupled to electrons
 * with g = eps e (physics/yield.c; visscal: scalar and axial); the muon's "zprime" has no electron coupling */
static int mediator_of(const char *name, int *med, na64_err *err)
{
  if (!name[0] || strcmp(name, "vector") == 0) *med = NA64_MED_VECTOR;
  else if (strcmp(name, "scalar") == 0) *med = NA64_MED_SCALAR;
  else if (strcmp(name, "pseudoscalar") == 0) *med = NA64_MED_PSEUDOSCALAR;
  else if (strcmp(name, "axial") == 0) *med = NA64_MED_AXIAL;
  else return na64_err_set(err, NA64_EFORMAT, "aprime mediator '%s': the visible mode knows 'vector', 'scalar', "
                           "'pseudoscalar' and 'axial'", name);
  return NA64_OK;
}

/* physics.method: "exact" (default since exactgrid3: the exact tree-level d sigma/dx of the vector A'
 * in the signal's yield and sampler, issue 14; docs/visible.md "Run cards") or "etl", as the invisible
 * cards' key */
static int method_of(const char *name, int *method, na64_err *err)
{
  if (strcmp(name, "etl") == 0) *method = NA64_XS_ETL;
  else if (!name[0] || strcmp(name, "exact") == 0) *method = NA64_XS_EXACT;
  else return na64_err_set(err, NA64_EFORMAT, "physics.method: unknown value '%s' (etl or exact)", name);
  return NA64_OK;
}

static int config_check(const na64_vis_config *c, na64_err *err)
{
  if (strcmp(c->aprime_decay, "ee") != 0)
    return na64_err_set(err, NA64_EINVAL, "aprime.decay '%s': a visible card needs 'ee'", c->aprime_decay);
  if (!(c->aprime_mass > 2.0 * NA64_M_E))
    return na64_err_set(err, NA64_EPHYS, "aprime.mass_MeV %g is below the e+e- threshold %g MeV", c->aprime_mass * 1e3,
                        2e3 * NA64_M_E);
  if (!(c->aprime_mass < 0.1 * c->beam_energy))
    return na64_err_set(err, NA64_EPHYS, "aprime.mass_MeV %g must stay well below beam.energy %g GeV", c->aprime_mass * 1e3,
                        c->beam_energy);
  return NA64_OK;
}

static int read_card(const na64_card *card, const char *name, na64_vis_config *c, na64_err *err)
{
  double mass_mev = c->aprime_mass * 1e3;
  char mediator[32];
  snprintf(mediator, sizeof mediator, "%s", na64_mediator_name((na64_mediator)c->mediator));
  const na64_card_key setup[] = {
      KEY("run", NA64_CARD_INT, &c->run, 0, 1e9),
      {"conditions", NA64_CARD_STRING, c->conditions, sizeof c->conditions, 1, 0, 0, NULL, 0, NULL},
  };
  const na64_card_key beam[] = {
      KEY("energy", NA64_CARD_DOUBLE, &c->beam_energy, 10, 200),
      KEY("momentum_spread", NA64_CARD_DOUBLE, &c->momentum_spread, 0, 0.1),
      KEY("spot_x", NA64_CARD_DOUBLE, &c->spot_x, 0, 2),
      KEY("spot_y", NA64_CARD_DOUBLE, &c->spot_y, 0, 2),
      KEY("divergence_x", NA64_CARD_DOUBLE, &c->divergence_x, 0, 0.01),
      KEY("divergence_y", NA64_CARD_DOUBLE, &c->divergence_y, 0, 0.01),
  };
  const na64_card_key aprime[] = {
      KEY("mass_MeV", NA64_CARD_DOUBLE, &mass_mev, 1.03, 1000),
      KEY("epsilon", NA64_CARD_DOUBLE, &c->aprime_eps, 1e-8, 1),
      {"decay", NA64_CARD_STRING, c->aprime_decay, sizeof c->aprime_decay, 1, 0, 0, NULL, 0, NULL},
      {"mediator", NA64_CARD_STRING, mediator, sizeof mediator, 1, 0, 0, NULL, 0, NULL},
  };
  char method[16] = "";
  snprintf(method, sizeof method, "%s", c->xsec_method == NA64_XS_EXACT ? "exact" : "etl");
  const na64_card_key physics[] = {
      {"method", NA64_CARD_STRING, method, sizeof method, 1, 0, 0, NULL, 0, NULL},
  };
  const na64_card_key detector[] = {
      KEY("wcal_stochastic", NA64_CARD_DOUBLE, &c->wcal_stochastic, 0, 1),
      KEY("ecal_stochastic", NA64_CARD_DOUBLE, &c->ecal_stochastic, 0, 1),
      KEY("ecal_noise", NA64_CARD_DOUBLE, &c->ecal_noise, 0, 1),
      KEY("counter_mip_width", NA64_CARD_DOUBLE, &c->counter_mip_width, 0, 1),
  };
  const na64_card_key top[] = {
      {"setup", NA64_CARD_MAP, NULL, 0, 1, 0, 1, setup, 2, NULL},
      {"beam", NA64_CARD_MAP, NULL, 0, 1, 0, 0, beam, 6, NULL},
      {"aprime", NA64_CARD_MAP, NULL, 0, 1, 0, 1, aprime, 4, NULL},
      {"detector", NA64_CARD_MAP, NULL, 0, 1, 0, 0, detector, 4, NULL},
      {"physics", NA64_CARD_MAP, NULL, 0, 1, 0, 0, physics, 1, NULL},
      /* read by the visible selection and the job of `na64 run` (src/ana/vis_*.c) */
      {"selection", NA64_CARD_SECTION, NULL, 0, 1, 0, 0, NULL, 0, NULL},
      {"analysis", NA64_CARD_SECTION, NULL, 0, 1, 0, 0, NULL, 0, NULL},
      /* the Table 2 backgrounds (na64_vis_bkg_config_read, below) */
      {"backgrounds", NA64_CARD_SECTION, NULL, 0, 1, 0, 0, NULL, 0, NULL},
  };
  NA64_CALL(na64_card_read(card, NULL, top, (int)(sizeof top / sizeof top[0]), err));
  c->aprime_mass = mass_mev * 1e-3;
  int st = mediator_of(mediator, &c->mediator, err);
  if (st == NA64_OK) st = method_of(method, &c->xsec_method, err);
  if (st == NA64_OK) st = config_check(c, err);
  if (st) na64_err_prefix(err, "%s", name ? name : "<card>");
  return st;
}

int na64_card_is_visible(const na64_card *card)
{
  const na64_card_node *ap = na64_card_get(card, NULL, "aprime");
  if (!ap) return 0;
  char decay[16] = "", mediator[32] = "";
  double m, eps;
  const na64_card_key k[] = {
      KEY("mass_MeV", NA64_CARD_DOUBLE, &m, 1, 0),
      KEY("epsilon", NA64_CARD_DOUBLE, &eps, 1, 0),
      {"decay", NA64_CARD_STRING, decay, sizeof decay, 1, 0, 0, NULL, 0, NULL},
      {"mediator", NA64_CARD_STRING, mediator, sizeof mediator, 1, 0, 0, NULL, 0, NULL},
  };
  /* errors in the section are left to the card's own reader, which reports them */
  return na64_card_read(card, ap, k, 4, NULL) == NA64_OK && strcmp(decay, "ee") == 0;
}

int na64_vis_config_parse(const char *text, size_t len, const char *name, na64_vis_config *c, na64_err *err)
{
  if (!c) return na64_err_set(err, NA64_EINVAL, "na64_vis_config_parse: NULL config");
  na64_card *card = NULL;
  NA64_CALL(na64_card_parse(text, len, name, &card, err));
  int st = read_card(card, name, c, err);
  na64_card_free(card);
  return st;
}

int na64_vis_config_load(const char *path, na64_vis_config *c, na64_err *err)
{
  if (!path || !c) return na64_err_set(err, NA64_EINVAL, "na64_vis_config_load: NULL argument");
  na64_card *card = NULL;
  NA64_CALL(na64_card_load(path, &card, err));
  int st = read_card(card, path, c, err);
  na64_card_free(card);
  return st;
}

/* The `backgrounds:` section (the Table 2 sources, src/sim/vis_bkg.c): per source {enabled, bias},
 * the events per source and the inputs that are our estimates (docs/visible.md lists each). */
int na64_vis_bkg_config_read(const na64_card *card, na64_vis_bkg_config *c, na64_err *err)
{
  if (!card || !c) return na64_err_set(err, NA64_EINVAL, "na64_vis_bkg_config_read: NULL argument");
  const na64_card_node *sec = na64_card_get(card, NULL, "backgrounds");
  if (!sec) return NA64_OK;
  na64_card_key src[NA64_VIS_BKG_NSOURCES][2], per[NA64_VIS_BKG_NSOURCES];
  for (int i = 0; i < NA64_VIS_BKG_NSOURCES; ++i) {
    na64_card_key e = KEY("enabled", NA64_CARD_BOOL, &c->enabled[i], 0, 0), b = KEY("bias", NA64_CARD_DOUBLE, &c->bias[i], 1, 1e6);
    src[i][0] = e;
    src[i][1] = b;
    na64_card_key m = {na64_vis_bkg_name(i), NA64_CARD_MAP, NULL, 0, 1, 0, 0, src[i], 2, NULL};
    per[i] = m;
  }
  double events = (double)c->events;
  const na64_card_key keys[] = {
      per[0], per[1], per[2], per[3],
      KEY("events", NA64_CARD_DOUBLE, &events, 1, 1e12),
      KEY("hadron_fraction", NA64_CARD_DOUBLE, &c->hadron_fraction, 0, 0.5),
      KEY("muon_fraction", NA64_CARD_DOUBLE, &c->muon_fraction, 0, 0.5),
      KEY("srd_hadron", NA64_CARD_DOUBLE, &c->srd_hadron, 0, 1),
      KEY("veto_inefficiency", NA64_CARD_DOUBLE, &c->veto_inefficiency, 0, 1),
      KEY("material_x0", NA64_CARD_DOUBLE, &c->material_x0, 0, 0.1),
      KEY("k0s_per_interaction", NA64_CARD_DOUBLE, &c->k0s_per_interaction, 0, 1),
      KEY("k0l_per_interaction", NA64_CARD_DOUBLE, &c->k0l_per_interaction, 0, 1),
      KEY("lambda_per_interaction", NA64_CARD_DOUBLE, &c->lambda_per_interaction, 0, 1),
      KEY("hadron_em_fake", NA64_CARD_DOUBLE, &c->hadron_em_fake, 0, 1),
      KEY("xf_power_kaon", NA64_CARD_DOUBLE, &c->xf_power_kaon, 0, 20),
      KEY("xf_power_lambda", NA64_CARD_DOUBLE, &c->xf_power_lambda, 0, 20),
      KEY("k0s_central", NA64_CARD_DOUBLE, &c->k0s_central, 0, 1),
      KEY("xf_power_central", NA64_CARD_DOUBLE, &c->xf_power_central, 0, 40),
      KEY("wcal_start_x0", NA64_CARD_DOUBLE, &c->wcal_start_x0, 0.01, 1000),
      KEY("intensity", NA64_CARD_DOUBLE, &c->intensity, 0, 1e9),
      KEY("spill_length", NA64_CARD_DOUBLE, &c->spill_length, 0.01, 100),
      KEY("window", NA64_CARD_DOUBLE, &c->window, 0, 1e4),
      KEY("low_energy_fraction", NA64_CARD_DOUBLE, &c->low_energy_fraction, 0, 1),
      KEY("halo_fraction", NA64_CARD_DOUBLE, &c->halo_fraction, 0, 1),
  };
  NA64_CALL(na64_card_read(card, sec, keys, (int)(sizeof keys / sizeof keys[0]), err));
  c->events = (long)events;
  return na64_vis_bkg_config_check(c, err);
}
