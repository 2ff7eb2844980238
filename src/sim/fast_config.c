/*
 * Run-card reading for the fast simulation: the defaults and the card schema (docs/simulation.md
 * lists every key with its meaning and source). Unknown keys are errors (na64_card_read).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "na64/io.h"
#include "na64/sim.h"

void na64_sim_config_default(na64_sim_config *c)
{
  memset(c, 0, sizeof *c);
  c->run = 2000; /* 2016 invisible run range of the default conditions database (sql/setups/02_runs.sql) */
  /* H4 beam: 100 GeV e- (NA64 invisible runs 2016-2018, refdata/na64-report-facts.md); spread,
   * spot and divergence are ESTIMATES of the H4 tune (docs/simulation.md) */
  c->beam_energy = 100.0;
  c->momentum_spread = 0.01;
  c->spot_x = c->spot_y = 0.3;
  c->divergence_x = c->divergence_y = 1.0e-4;
  /* hadron admixture: pi/e <= 1e-2 at 100 GeV (the NA64 report); K, p, mu ESTIMATES */
  c->frac_pi = 1.0e-2;
  c->frac_k = 1.0e-3;
  c->frac_p = 1.0e-3;
  c->frac_mu = 1.0e-3;
  c->tail_fraction = 1.0e-3;
  c->tail_ymin = 0.01;
  c->tail_ymax = 0.9;
  c->intensity = 0.0;    /* pile-up off unless the card sets the intensity */
  c->spill_length = 4.8; /* s, the SPS spill of the 2016-2018 runs (the NA64 report) */
  c->pileup_window = 40.0; /* ns, ESTIMATE: the in-time window of the calorimeter energies */
  c->aprime_enabled = 0;
  c->aprime_bias = 1.0;
  c->aprime_mass = 16.7e-3;
  c->aprime_eps = 1.0e-4;
  c->aprime_min_energy = 50.0; /* E_ECAL < 50 GeV signal box at 100 GeV (refdata section 3) */
  snprintf(c->aprime_decay, sizeof c->aprime_decay, "invisible");
  c->ecal_stochastic = 0.10; /* dE/E ~ 10%/sqrt(E) (the NA64 report, invisible-mode setup) */
  c->ecal_noise = 0.0;
  c->hcal_stochastic = 0.65; /* ESTIMATE: typical Fe/Sc hadron calorimeter (PDG Calorimetry review) */
  c->hcal_e_over_h = 1.3;    /* ESTIMATE: non-compensating Fe/Sc (PDG Calorimetry review, e/h 1.1-1.4) */
  c->ecal_e_over_h = 1.3;
  c->srd_stochastic = 0.15;  /* ESTIMATE: 1 mm Pb / 1 mm Sc sampling */
  c->veto_efficiency = 0.9999; /* ESTIMATE: "high-efficiency veto" (the NA64 report) */
  /* trigger: ECAL below 80 GeV, pre-shower above 0.3 GeV (ESTIMATE after NA64 PRD 97 (2018)
   * 072002, where the invisible-mode trigger required these in-time thresholds) */
  c->trigger_ecal_max = 80.0;
  c->trigger_ps_min = 0.3;
  for (int i = 0; i < NA64_SIM_BKG_NSOURCES; ++i) c->bkg_bias[i] = 1.0;
  /* survival biasing of the neutral crossing 30 lambda_I (exact weights; docs/simulation.md) */
  c->bkg_bias[NA64_SIM_BKG_HADRON] = c->bkg_bias[NA64_SIM_BKG_PHOTONUCLEAR] = c->bkg_bias[NA64_SIM_BKG_PILEUP] = 30.0;
  /* detector probabilities of the routes into the box (ESTIMATES; docs/simulation.md, "Table 1
   * backgrounds"): non-Gaussian tracker tail fraction, ECAL channel dropout per event, HCAL module
   * MIP inefficiency (as the veto's 1 - efficiency) */
  c->bkg_ineff[NA64_SIM_BKG_TAIL] = 1e-3;
  /* SRD tag of a decaying pi- or K- (no synchrotron radiation of its own): the SRD "suppresses the
   * hadron contamination by a further ~1e3" (NA64 report) */
  c->bkg_ineff[NA64_SIM_BKG_DECAY] = 1e-3;
  c->bkg_ineff[NA64_SIM_BKG_DETECTOR] = 1e-12;
  c->bkg_ineff[NA64_SIM_BKG_DIMUON] = 1e-4;
  /* the exact tree level (issue 14): since branch simexact its samplers cost no more than ETL in the
   * default `na64 run` (docs/performance.md "simexact"); `physics: {method: etl}` gives the cross
   * section of the published NA64 curves (DMG4 K factors) */
  c->xsec_method = NA64_XS_EXACT;
  c->aprime_mediator = NA64_MED_VECTOR;
}

#define KEY(name, type, dst, lo, hi) {name, type, dst, 0, lo, hi, 0, NULL, 0, NULL}

int na64_sim_config_check(const na64_sim_config *c, na64_err *err)
{
  if (!c) return na64_err_set(err, NA64_EINVAL, "sim config: NULL");
  double fr = c->frac_pi + c->frac_k + c->frac_p + c->frac_mu;
  if (!(fr < 1.0))
    return na64_err_set(err, NA64_EINVAL, "beam.admixture: the fractions sum to %g: must stay below 1", fr);
  if (!(c->tail_ymin < c->tail_ymax))
    return na64_err_set(err, NA64_EINVAL, "beam.tail: y_min = %g must be below y_max = %g", c->tail_ymin, c->tail_ymax);
  if (c->intensity / c->spill_length * c->pileup_window * 1e-9 > 1.0)
    return na64_err_set(err, NA64_EINVAL, "pile-up of %g particles per event (beam.intensity %g / beam.spill_length %g s x "
                        "trigger.pileup_window %g ns): beyond what the simulation handles (<= 1)",
                        c->intensity / c->spill_length * c->pileup_window * 1e-9, c->intensity, c->spill_length,
                        c->pileup_window);
  if (c->xsec_method != NA64_XS_ETL && c->xsec_method != NA64_XS_EXACT)
    return na64_err_set(err, NA64_EINVAL, "physics method %d: the simulation takes NA64_XS_ETL or NA64_XS_EXACT", c->xsec_method);
  if (c->aprime_mediator == NA64_MED_ZPRIME)
    return na64_err_set(err, NA64_EPHYS, "aprime.mediator zprime: the L_mu - L_tau Z' has no tree-level coupling to "
                        "electrons");
  if (c->aprime_mediator < NA64_MED_VECTOR || c->aprime_mediator > NA64_MED_AXIAL)
    return na64_err_set(err, NA64_EINVAL, "aprime.mediator %d: unknown", c->aprime_mediator);
  if (c->aprime_mediator != NA64_MED_VECTOR && c->xsec_method != NA64_XS_EXACT)
    return na64_err_set(err, NA64_EINVAL, "aprime.mediator %s needs physics: {method: exact} (ETL is the vector A')",
                        na64_mediator_name((na64_mediator)c->aprime_mediator));
  if (strcmp(c->aprime_decay, "invisible") != 0)
    return na64_err_set(err, NA64_EINVAL, "aprime.decay '%s': only 'invisible' is simulated so far", c->aprime_decay);
  if (c->aprime_enabled && !(c->aprime_mass < c->aprime_min_energy) )
    return na64_err_set(err, NA64_EPHYS, "aprime.mass_MeV %g must be below processes.aprime.min_energy %g GeV", c->aprime_mass * 1e3,
                        c->aprime_min_energy);
  if (c->aprime_enabled && !(c->aprime_min_energy < c->beam_energy))
    return na64_err_set(err, NA64_EPHYS, "processes.aprime.min_energy %g GeV must be below beam.energy %g GeV",
                        c->aprime_min_energy, c->beam_energy);
  return NA64_OK;
}

/* The `physics:` section: `method` names the cross section of the A' emission (etl: DMG4's
 * normalisation with the WW shape, the default; exact: the exact tree-level tables and sampler of
 * the physics module). Any other value is a card error naming the key. */
static int physics_method_set(const char *method, const char *name, na64_sim_config *c, na64_err *err)
{
  if (!method[0]) return NA64_OK; /* absent: keep the default */
  if (!strcmp(method, "etl")) c->xsec_method = NA64_XS_ETL;
  else if (!strcmp(method, "exact")) c->xsec_method = NA64_XS_EXACT;
  else
    return na64_err_set(err, NA64_EFORMAT, "%s: physics.method: unknown value '%s' (etl or exact)", name ? name : "<card>",
                        method);
  return NA64_OK;
}

/* `aprime.mediator`: vector (default), scalar, pseudoscalar, axial (zprime: the check refuses it) */
static int mediator_set(const char *med, const char *name, na64_sim_config *c, na64_err *err)
{
  if (!med[0]) return NA64_OK; /* absent: keep the default */
  for (int k = NA64_MED_VECTOR; k <= NA64_MED_AXIAL; ++k)
    if (!strcmp(med, na64_mediator_name((na64_mediator)k))) {
      c->aprime_mediator = k;
      return NA64_OK;
    }
  return na64_err_set(err, NA64_EFORMAT, "%s: aprime.mediator: unknown value '%s' (vector, scalar, pseudoscalar or axial)",
                      name ? name : "<card>", med);
}

/* Read the card's sections over the values already in c. */
static int read_card(na64_card *card, const char *name, na64_sim_config *c, na64_err *err)
{
  double mass_mev = c->aprime_mass * 1e3;
  const na64_card_key setup[] = {
      KEY("run", NA64_CARD_INT, &c->run, 0, 1e9),
      {"conditions", NA64_CARD_STRING, c->conditions, sizeof c->conditions, 1, 0, 0, NULL, 0, NULL},
  };
  const na64_card_key admix[] = {
      KEY("pi-", NA64_CARD_DOUBLE, &c->frac_pi, 0, 0.5),
      KEY("K-", NA64_CARD_DOUBLE, &c->frac_k, 0, 0.5),
      KEY("p", NA64_CARD_DOUBLE, &c->frac_p, 0, 0.5),
      KEY("mu-", NA64_CARD_DOUBLE, &c->frac_mu, 0, 0.5),
  };
  const na64_card_key tail[] = {
      KEY("fraction", NA64_CARD_DOUBLE, &c->tail_fraction, 0, 0.5),
      KEY("y_min", NA64_CARD_DOUBLE, &c->tail_ymin, 1e-6, 0.999),
      KEY("y_max", NA64_CARD_DOUBLE, &c->tail_ymax, 1e-6, 0.999),
  };
  const na64_card_key beam[] = {
      KEY("energy", NA64_CARD_DOUBLE, &c->beam_energy, 10, 200),
      KEY("momentum_spread", NA64_CARD_DOUBLE, &c->momentum_spread, 0, 0.1),
      KEY("spot_x", NA64_CARD_DOUBLE, &c->spot_x, 0, 2),
      KEY("spot_y", NA64_CARD_DOUBLE, &c->spot_y, 0, 2),
      KEY("divergence_x", NA64_CARD_DOUBLE, &c->divergence_x, 0, 0.01),
      KEY("divergence_y", NA64_CARD_DOUBLE, &c->divergence_y, 0, 0.01),
      {"admixture", NA64_CARD_MAP, NULL, 0, 1, 0, 0, admix, 4, NULL},
      {"tail", NA64_CARD_MAP, NULL, 0, 1, 0, 0, tail, 3, NULL},
      KEY("intensity", NA64_CARD_DOUBLE, &c->intensity, 0, 1e9),
      KEY("spill_length", NA64_CARD_DOUBLE, &c->spill_length, 0.01, 100),
  };
  const na64_card_key ap_proc[] = {
      KEY("enabled", NA64_CARD_BOOL, &c->aprime_enabled, 1, 0),
      KEY("bias", NA64_CARD_DOUBLE, &c->aprime_bias, 1, 1e20),
      KEY("min_energy", NA64_CARD_DOUBLE, &c->aprime_min_energy, 0, 200),
  };
  const na64_card_key processes[] = {
      {"aprime", NA64_CARD_MAP, NULL, 0, 1, 0, 0, ap_proc, 3, NULL},
  };
  char mediator[16] = "";
  const na64_card_key aprime[] = {
      KEY("mass_MeV", NA64_CARD_DOUBLE, &mass_mev, 1, 1000),
      KEY("epsilon", NA64_CARD_DOUBLE, &c->aprime_eps, 1e-8, 1),
      {"decay", NA64_CARD_STRING, c->aprime_decay, sizeof c->aprime_decay, 1, 0, 0, NULL, 0, NULL},
      {"mediator", NA64_CARD_STRING, mediator, sizeof mediator, 1, 0, 0, NULL, 0, NULL},
  };
  const na64_card_key detector[] = {
      KEY("ecal_stochastic", NA64_CARD_DOUBLE, &c->ecal_stochastic, 0, 1),
      KEY("ecal_noise", NA64_CARD_DOUBLE, &c->ecal_noise, 0, 1),
      KEY("ecal_e_over_h", NA64_CARD_DOUBLE, &c->ecal_e_over_h, 0.5, 3),
      KEY("hcal_stochastic", NA64_CARD_DOUBLE, &c->hcal_stochastic, 0, 3),
      KEY("hcal_e_over_h", NA64_CARD_DOUBLE, &c->hcal_e_over_h, 0.5, 3),
      KEY("srd_stochastic", NA64_CARD_DOUBLE, &c->srd_stochastic, 0, 3),
      KEY("veto_efficiency", NA64_CARD_DOUBLE, &c->veto_efficiency, 0, 1),
  };
  const na64_card_key trigger[] = {
      KEY("ecal_max", NA64_CARD_DOUBLE, &c->trigger_ecal_max, 0, 1000),
      KEY("preshower_min", NA64_CARD_DOUBLE, &c->trigger_ps_min, 0, 1000),
      KEY("pileup_window", NA64_CARD_DOUBLE, &c->pileup_window, 0, 10000),
  };
  char method[16] = "";
  const na64_card_key physics[] = {
      {"method", NA64_CARD_STRING, method, sizeof method, 1, 0, 0, NULL, 0, NULL},
  };
  na64_card_key bkg_src[NA64_SIM_BKG_NSOURCES][4];
  na64_card_key bkg[NA64_SIM_BKG_NSOURCES];
  for (int i = 0; i < NA64_SIM_BKG_NSOURCES; ++i) {
    na64_card_key e = KEY("enabled", NA64_CARD_BOOL, &c->bkg_enabled[i], 1, 0);
    na64_card_key b = KEY("bias", NA64_CARD_DOUBLE, &c->bkg_bias[i], 1, 1e6);
    bkg_src[i][0] = e;
    bkg_src[i][1] = b;
    na64_card_key f = KEY("inefficiency", NA64_CARD_DOUBLE, &c->bkg_ineff[i], 0, 1);
    bkg_src[i][2] = f;
    na64_card_key w = KEY("crack", NA64_CARD_DOUBLE, &c->bkg_crack, 0, 3.0); /* detector only */
    bkg_src[i][3] = w;
    na64_card_key m = {na64_sim_bkg_name(i), NA64_CARD_MAP, NULL, 0, 1, 0, 0, bkg_src[i],
                       i == NA64_SIM_BKG_DETECTOR ? 4 : 3, NULL};
    bkg[i] = m;
  }
  const na64_card_key top[] = {
      {"backgrounds", NA64_CARD_MAP, NULL, 0, 1, 0, 0, bkg, NA64_SIM_BKG_NSOURCES, NULL},
      {"setup", NA64_CARD_MAP, NULL, 0, 1, 0, 1, setup, 2, NULL},
      {"beam", NA64_CARD_MAP, NULL, 0, 1, 0, 0, beam, 10, NULL},
      {"processes", NA64_CARD_MAP, NULL, 0, 1, 0, 0, processes, 1, NULL},
      {"aprime", NA64_CARD_MAP, NULL, 0, 1, 0, 0, aprime, 4, NULL},
      {"detector", NA64_CARD_MAP, NULL, 0, 1, 0, 0, detector, 7, NULL},
      {"trigger", NA64_CARD_MAP, NULL, 0, 1, 0, 0, trigger, 3, NULL},
      {"physics", NA64_CARD_MAP, NULL, 0, 1, 0, 0, physics, 1, NULL},
      /* read by the selection and the job of `na64 run` (na64_select_config_read, na64_job_config_read; src/ana) */
      {"selection", NA64_CARD_SECTION, NULL, 0, 1, 0, 0, NULL, 0, NULL},
      {"analysis", NA64_CARD_SECTION, NULL, 0, 1, 0, 0, NULL, 0, NULL},
  };
  int st = na64_card_read(card, NULL, top, (int)(sizeof top / sizeof top[0]), err);
  if (st) return st;
  NA64_CALL(physics_method_set(method, name, c, err));
  NA64_CALL(mediator_set(mediator, name, c, err));
  c->aprime_mass = mass_mev * 1e-3;
  st = na64_sim_config_check(c, err);
  if (st) na64_err_prefix(err, "%s: ", name ? name : "<card>");
  return st;
}

int na64_sim_config_parse(const char *text, size_t len, const char *name, na64_sim_config *c, na64_err *err)
{
  if (!c) return na64_err_set(err, NA64_EINVAL, "na64_sim_config_parse: NULL config");
  na64_card *card = NULL;
  NA64_CALL(na64_card_parse(text, len, name, &card, err));
  int st = read_card(card, name, c, err);
  na64_card_free(card);
  return st;
}

int na64_sim_config_load(const char *path, na64_sim_config *c, na64_err *err)
{
  if (!path || !c) return na64_err_set(err, NA64_EINVAL, "na64_sim_config_load: NULL argument");
  na64_card *card = NULL;
  NA64_CALL(na64_card_load(path, &card, err));
  int st = read_card(card, path, c, err);
  na64_card_free(card);
  return st;
}
