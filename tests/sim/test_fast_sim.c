/* Fast simulation: reproducibility (1 and 2 threads byte-identical, fast and full trigger paths
 * agree), exactness of the A' weights, synchrotron radiation against the closed-form formulas of
 * Jackson, the SRD for e- against pi-, the trigger logic, the HDF5 truth table read back with
 * h5py, and the command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/daq.h"
#include "na64/physics.h"
#include "na64/sim.h"
#include "support/na64_test.h"

#define DB NA64_BINARY_DIR "/conditions.db"

static na64_sim *make_sim(const char *extra)
{
  char text[2048];
  snprintf(text, sizeof text, "setup: {run: 2000, conditions: \"%s\"}\n%s", DB, extra ? extra : "");
  na64_sim_config c;
  na64_sim_config_default(&c);
  na64_err err = {0, ""};
  if (na64_sim_config_parse(text, strlen(text), "test.yaml", &c, &err)) fail_msg("card: %s", err.msg);
  na64_sim *s = NULL;
  if (na64_sim_new(&c, &s, &err)) fail_msg("sim: %s", err.msg);
  return s;
}

typedef struct collect {
  na64_sim_event *ev;
  size_t n, cap;
} collect;

static int collect_sink(const na64_sim_event *ev, void *user, na64_err *err)
{
  (void)err;
  collect *c = user;
  if (c->n == c->cap) {
    c->cap = c->cap ? 2 * c->cap : 1024;
    c->ev = realloc(c->ev, c->cap * sizeof *c->ev);
    assert_non_null(c->ev);
  }
  c->ev[c->n++] = *ev;
  return NA64_OK;
}

static const char *ap_card = "processes:\n  aprime: {enabled: true, bias: 1.0e9, min_energy: 50}\n"
                             "aprime: {mass_MeV: 16.7, epsilon: 1.0e-4}\n"
                             "beam:\n  admixture: {pi-: 0.02, K-: 0.01, p: 0.01, mu-: 0.01}\n  tail: {fraction: 0.01}\n"
                             "  intensity: 1.0e7\n";

static void test_threads_identical(void **state)
{
  (void)state;
  na64_sim *s = make_sim(ap_card);
  collect a = {0}, b = {0};
  na64_sim_summary sa, sb;
  na64_err err = {0, ""};
  na64_sim_run_opts o = {12345, 6000, 1, 1, collect_sink, &a, NULL, NULL, 0};
  assert_int_equal(na64_sim_run(s, &o, &sa, &err), NA64_OK);
  o.threads = 2;
  o.sink_user = &b;
  assert_int_equal(na64_sim_run(s, &o, &sb, &err), NA64_OK);
  assert_int_equal(a.n, 6000);
  assert_int_equal(b.n, a.n);
  for (size_t i = 0; i < a.n; ++i) { /* byte for byte, the NaN bit patterns included */
    assert_int_equal(a.ev[i].truth.event, i);
    if (memcmp(&a.ev[i], &b.ev[i], sizeof a.ev[i]) != 0) fail_msg("event %zu differs between 1 and 2 threads", i);
  }
  assert_true(sa.generated == sb.generated && sa.triggered == sb.triggered && sa.aprime_emitted == sb.aprime_emitted);
  assert_memory_equal(&sa, &sb, sizeof sa);
  /* the fast trigger path (keep_all = 0) keeps exactly the triggered events, identical to the full path */
  collect c = {0};
  o.keep_all = 0;
  o.threads = 2;
  o.sink_user = &c;
  assert_int_equal(na64_sim_run(s, &o, &sa, &err), NA64_OK);
  size_t j = 0;
  for (size_t i = 0; i < a.n; ++i) {
    if (!a.ev[i].truth.triggered) continue;
    assert_true(j < c.n);
    if (memcmp(&a.ev[i], &c.ev[j], sizeof a.ev[i]) != 0) fail_msg("triggered event %zu differs between paths", i);
    ++j;
  }
  assert_int_equal(j, c.n);
  assert_true(c.n > 50); /* A' events and hadrons trigger */
  free(a.ev);
  free(b.ev);
  free(c.ev);
  na64_sim_free(s);
}

/* Weights: emitting events carry 1/B, the others (1 - P)/(1 - B P); E[w] = 1 exactly, and the
 * weighted emission rate is P. */
static void test_weights(void **state)
{
  (void)state;
  na64_sim *s = make_sim("processes:\n  aprime: {enabled: true, bias: 1.0e9}\nbeam:\n  admixture: {pi-: 0, K-: 0, p: 0, mu-: 0}\n"
                         "  tail: {fraction: 0}\n");
  double P = na64_sim_aprime_probability(s), B = 1e9;
  assert_true(P > 1e-12 && P < 1e-9 && B * P < 0.5);
  collect a = {0};
  na64_sim_summary sum;
  na64_err err = {0, ""};
  na64_sim_run_opts o = {7, 20000, 2, 1, collect_sink, &a, NULL, NULL, 0};
  assert_int_equal(na64_sim_run(s, &o, &sum, &err), NA64_OK);
  double wsum = 0.0, wem = 0.0;
  size_t nem = 0;
  for (size_t i = 0; i < a.n; ++i) {
    const na64_sim_truth *t = &a.ev[i].truth;
    wsum += t->weight;
    if (t->process == NA64_SIM_PROC_APRIME) {
      ++nem;
      wem += t->weight;
      assert_true(t->weight == 1.0 / B);
      assert_true(t->aprime_energy >= 50.0 && t->aprime_energy <= t->emit_energy);
      assert_true(t->emit_depth >= 0.0 && t->emit_depth <= 41.0);
    } else {
      assert_true(fabs(t->weight - (1.0 - P) / (1.0 - B * P)) < 1e-15);
    }
  }
  double n = (double)a.n, p = B * P;
  /* E[sum w] = n exactly; its spread is sqrt(n p (1-p)) (1/B + (1-P)/(1-p))... < 3 sqrt(n p) / (1 - p) */
  assert_true(fabs(wsum - n) < 4.0 * sqrt(n * p) / (1.0 - p) * (1.0 - P) + 1e-6);
  assert_true(fabs((double)nem - n * p) < 4.0 * sqrt(n * p));
  assert_rel(wem / n, P, 4.0 / sqrt(n * p));
  free(a.ev);
  na64_sim_free(s);
}

/* Synchrotron radiation: E_c = (3/2) hbar c gamma^3 / rho (Jackson eq. 14.85), N = 5 alpha gamma /
 * (2 sqrt 3) per radian and the energy loss (2/3) alpha hbar c gamma^4 theta / rho (Larmor; Jackson
 * sec. 14.2): the simulated photons must reproduce the count and the mean energy per particle. */
static void test_synchrotron(void **state)
{
  (void)state;
  na64_sim *s = make_sim(NULL);
  /* 100 GeV e- in 1.75 T: rho = 100 / (0.299792458 * 1.75) m = 190.6 m; gamma = 195695;
   * E_c = 1.5 * 1.9733e-16 GeV m * gamma^3 / rho = 11.6 MeV (hand computation) */
  double gamma = 100.0 / NA64_M_E;
  assert_rel(na64_sim_sr_critical_energy(gamma, 100.0, 1.75, 1.0), 1.5 * 1.973269804e-16 * pow(gamma, 3) / 190.6134, 1e-4);
  assert_rel(na64_sim_sr_critical_energy(gamma, 100.0, 1.75, 1.0), 0.011645, 2e-3);
  double theta = 0.299792458 * 7.0 / 100.0; /* 7 T m of the two dipoles (conditions database) */
  double rho_cm = 100.0 / (0.299792458e-2 * 1.75);
  double n_exp = 5.0 * NA64_ALPHA_EM * gamma / (2.0 * sqrt(3.0)) * theta;
  double e_exp = 2.0 / 3.0 * NA64_ALPHA_EM * NA64_HBARC * pow(gamma, 4) * theta / rho_cm;
  na64_rng rng;
  double nsum = 0, esum = 0;
  const int N = 10000;
  for (int i = 0; i < N; ++i) {
    na64_rng_init(&rng, 99, (uint64_t)i);
    double em = 0, esrd = 0, srd[NA64_SIM_MAX_SRD] = {0};
    nsum += na64_sim_synchrotron(s, NA64_M_E, -1.0, 100.0, 0.0, 0.0, &rng, &em, &esrd, srd);
    esum += em;
  }
  assert_rel(nsum / N, n_exp, 4.0 / sqrt(n_exp * N));
  /* per event: Poisson count times photon energies of relative spread 1.816 (<u^2>/<u>^2 - 1 from the
   * moments int xi^n K_{5/3}: Gradshteyn-Ryzhik 6.561.16), hence sqrt(1 + 1.816^2) / sqrt(n) */
  assert_rel(esum / N, e_exp, 4.0 * 2.073 / sqrt(n_exp * N));
  assert_rel(e_exp, 0.15, 0.05); /* ~150 MeV radiated by a 100 GeV e- in 7 T m */
  na64_sim_free(s);
}

/* SRD: electrons leave tens of MeV, pions (gamma 716) essentially nothing (E_c ~ 1e-9 GeV). */
static void test_srd_e_vs_pi(void **state)
{
  (void)state;
  na64_sim *s = make_sim(NULL);
  na64_rng rng;
  double e_el = 0, e_pi = 0, n_pi = 0;
  const int N = 2000;
  for (int i = 0; i < N; ++i) {
    double em = 0, es = 0, srd[NA64_SIM_MAX_SRD] = {0};
    na64_rng_init(&rng, 5, (uint64_t)i);
    na64_sim_synchrotron(s, NA64_M_E, -1.0, 100.0, 0.0, 0.0, &rng, &em, &es, srd);
    e_el += es;
    em = es = 0;
    n_pi += na64_sim_synchrotron(s, NA64_M_PI, -1.0, 100.0, 0.0, 0.0, &rng, &em, &es, srd);
    e_pi += es;
  }
  e_el /= N;
  e_pi /= N;
  assert_true(e_el > 0.02 && e_el < 0.15); /* a large part of the ~150 MeV fan converts in the SRD */
  assert_true(e_pi < 1e-6);
  /* photons per pion: 5 alpha gamma_pi theta / (2 sqrt 3) = 0.16 (of ~keV energy) */
  assert_rel(n_pi / N, 5.0 * NA64_ALPHA_EM * (100.0 / NA64_M_PI) * 0.299792458 * 0.07 / (2.0 * sqrt(3.0)), 0.15);
  na64_sim_free(s);
}

/* The trigger: 100 GeV e- without A' never fire (ECAL above 80 GeV); A' events with E_A' > 50 GeV
 * always do when their pre-shower is above threshold; muons never (pre-shower ~ MIP < 0.3 GeV). */
static void test_trigger(void **state)
{
  (void)state;
  na64_sim *s = make_sim(ap_card);
  na64_sim_worker *w = NULL;
  na64_err err = {0, ""};
  assert_int_equal(na64_sim_worker_new(s, &w, &err), NA64_OK);
  na64_sim_event ev;
  int n_e = 0, n_ap = 0, n_mu = 0;
  for (uint64_t i = 0; i < 5000; ++i) {
    assert_int_equal(na64_sim_event_generate(w, 3, i, 1, &ev, &err), NA64_OK);
    const na64_sim_truth *t = &ev.truth;
    double sum = 0;
    for (int k = 0; k < 2; ++k)
      for (int c = 0; c < NA64_SIM_MAX_ECAL; ++c) sum += ev.ecal[k][c];
    assert_true(fabs(sum - t->ecal) < 1e-9 * (1 + fabs(t->ecal))); /* cells add up to the total */
    int expect = t->ecal < 80.0 && t->ps > 0.3 && fabs(t->x - 24.08) < 20; /* counters are 4 x 4 cm */
    if (t->particle == NA64_SIM_E && t->process == NA64_SIM_PROC_NONE && t->energy > 95.0) {
      ++n_e;
      assert_int_equal(t->triggered, 0);
    }
    if (t->process == NA64_SIM_PROC_APRIME) {
      ++n_ap;
      assert_int_equal(t->triggered, expect);
      if (t->pileup == 0) assert_true(t->true_ecal < t->energy - t->aprime_energy + 1e-9);
    }
    if (t->particle == NA64_SIM_MU && t->process != NA64_SIM_PROC_DECAY) {
      ++n_mu;
      assert_int_equal(t->triggered, 0);
      assert_true(t->hcal > 0.5 * 4); /* a MIP in each of the 4 modules: ~1.6 GeV visible each */
    }
  }
  assert_true(n_e > 4000 && n_ap > 100 && n_mu > 20);
  na64_sim_worker_free(w);
  na64_sim_free(s);
}

/* Hadron and muon responses: a muon crossing the ECAL leaves the PDG minimum ionisation of its 150
 * layers (1.5 mm Pb: 1.122 MeV cm2/g x 11.35 g/cm3; 1.5 mm polystyrene: 2.052 x 1.06) seen through
 * e/mip = 1/(1 + 0.007 (82 - 5.61)) (Grindhammer-Peters); an interacting 100 GeV pion's visible
 * energy in ECAL + HCAL is E (f_em + (1 - f_em)/(e/h)), f_em = 1 - 100^(-0.17) (Groom), e/h = 1.3. */
static void test_hadron_muon_response(void **state)
{
  (void)state;
  na64_sim *s = make_sim("beam:\n  admixture: {pi-: 0.5, K-: 0, p: 0, mu-: 0.45}\n  tail: {fraction: 0}\n"
                         "  momentum_spread: 0\n");
  na64_sim_worker *w = NULL;
  na64_err err = {0, ""};
  assert_int_equal(na64_sim_worker_new(s, &w, &err), NA64_OK);
  double mu_ecal = 0, pi_tot = 0;
  long nmu = 0, npi = 0;
  for (uint64_t i = 0; i < 6000; ++i) {
    na64_sim_event ev;
    assert_int_equal(na64_sim_event_generate(w, 13, i, 1, &ev, &err), NA64_OK);
    const na64_sim_truth *t = &ev.truth;
    if (t->particle == NA64_SIM_MU && t->process == NA64_SIM_PROC_NONE) {
      mu_ecal += t->ecal;
      ++nmu;
    }
    if (t->particle == NA64_SIM_PI && t->process == NA64_SIM_PROC_HADRONIC) {
      pi_tot += t->ecal + t->hcal;
      ++npi;
    }
  }
  double ehat = 1.0 / (1.0 + 0.007 * (82.0 - 5.61));
  double mip = 150 * 1e-3 * (0.15 * 11.35 * 1.122 + 0.15 * 1.06 * 2.052) / ehat;
  double fem = 1.0 - pow(100.0, 0.83 - 1.0), resp = fem + (1.0 - fem) / 1.3;
  printf("muon ECAL %.4f GeV (expected %.4f); pion ECAL+HCAL %.3f of E (expected %.3f)\n", mu_ecal / nmu, mip,
         pi_tot / npi / 100.0, resp);
  assert_true(nmu > 2000 && npi > 500); /* the ECAL is 1.6 lambda_I: ~80% of the pions interact in it */
  assert_rel(mu_ecal / nmu, mip, 0.02);
  assert_rel(pi_tot / npi / 100.0, resp, 0.03); /* minus the MIP track before the interaction */
  na64_sim_worker_free(w);
  na64_sim_free(s);
}

/* In-time pile-up: the number of other beam particles is Poisson with mean intensity / spill x
 * window; their energies add to the event; the primary particle is the same with and without
 * pile-up (independent streams). */
static void test_pileup(void **state)
{
  (void)state;
  /* 6e7 per 4.8 s spill in 40 ns: mean 0.5 */
  na64_sim *on = make_sim("beam:\n  admixture: {pi-: 0, K-: 0, p: 0, mu-: 0}\n  tail: {fraction: 0}\n  intensity: 6.0e7\n"
                          "  spill_length: 4.8\ntrigger: {pileup_window: 40}\n");
  na64_sim *off = make_sim("beam:\n  admixture: {pi-: 0, K-: 0, p: 0, mu-: 0}\n  tail: {fraction: 0}\n");
  na64_sim_worker *won = NULL, *woff = NULL;
  na64_err err = {0, ""};
  assert_int_equal(na64_sim_worker_new(on, &won, &err), NA64_OK);
  assert_int_equal(na64_sim_worker_new(off, &woff, &err), NA64_OK);
  const int N = 3000;
  long count[4] = {0};
  double e1 = 0.0, e0 = 0.0;
  long n1 = 0, n0 = 0;
  for (uint64_t i = 0; i < (uint64_t)N; ++i) {
    na64_sim_event a, b;
    assert_int_equal(na64_sim_event_generate(won, 2, i, 1, &a, &err), NA64_OK);
    assert_int_equal(na64_sim_event_generate(woff, 2, i, 1, &b, &err), NA64_OK);
    assert_true(a.truth.energy == b.truth.energy && a.truth.x == b.truth.x); /* the same primary */
    assert_int_equal(b.truth.pileup, 0);
    if (a.truth.pileup < 4) count[a.truth.pileup]++;
    if (a.truth.pileup == 1) {
      e1 += a.truth.ecal;
      ++n1;
    } else if (a.truth.pileup == 0) {
      assert_true(a.truth.ecal == b.truth.ecal);
      e0 += a.truth.ecal;
      ++n0;
    }
  }
  for (int k = 0; k < 3; ++k) { /* Poisson(0.5) */
    double pk = exp(-0.5) * pow(0.5, k) / tgamma(k + 1.0);
    assert_true(fabs(count[k] - N * pk) < 4.0 * sqrt(N * pk * (1 - pk)));
  }
  /* one in-time 100 GeV electron doubles the ECAL energy */
  assert_rel(e1 / n1, 2.0 * e0 / n0, 0.02);
  na64_sim_worker_free(won);
  na64_sim_worker_free(woff);
  na64_sim_free(on);
  na64_sim_free(off);
}

/* Decays in flight: the fraction of pi- and K- decaying before the ECAL face follows
 * 1 - exp(-z m/(p c tau)) (PDG c tau; K -> mu nu only, BR 63.56%), and the muon of the two-body
 * decay carries between r E and E, r = (m_mu/m_parent)^2, uniformly (isotropic decay, ultra-
 * relativistic limit: mean (1 + r) E / 2). */
static void test_decays(void **state)
{
  (void)state;
  na64_sim *s = make_sim("beam:\n  admixture: {pi-: 0.45, K-: 0.45, p: 0, mu-: 0}\n  tail: {fraction: 0}\n");
  na64_sim_worker *w = NULL;
  na64_err err = {0, ""};
  assert_int_equal(na64_sim_worker_new(s, &w, &err), NA64_OK);
  const double zecal = 1900.0; /* ECAL front face of the 2016-2018 setup (conditions database) */
  const double mass[3] = {0, NA64_M_PI, 0.493677}, ctau[3] = {0, 780.45, 371.09}, br[3] = {0, 0.99988, 0.6356};
  long n[3] = {0}, nd[3] = {0};
  double ufrac[3] = {0}, zsum = 0.0;
  for (uint64_t i = 0; i < 60000; ++i) {
    na64_sim_event ev;
    assert_int_equal(na64_sim_event_generate(w, 8, i, 0, &ev, &err), NA64_OK);
    const na64_sim_truth *t = &ev.truth;
    if (t->particle != NA64_SIM_PI && t->particle != NA64_SIM_K) continue;
    n[t->particle]++;
    if (t->process != NA64_SIM_PROC_DECAY) continue;
    nd[t->particle]++;
    assert_int_equal(t->daughter, NA64_SIM_MU);
    double r = pow(NA64_M_MU / mass[t->particle], 2), E = t->energy;
    assert_true(t->daughter_energy > r * E * 0.999 && t->daughter_energy < E * 1.0001);
    ufrac[t->particle] += (t->daughter_energy - r * E) / ((1.0 - r) * E);
    assert_true(t->decay_z > 0.0 && t->decay_z < zecal);
    zsum += t->decay_z;
  }
  long ntot = 0;
  for (int p = 1; p <= 2; ++p) {
    double pd = br[p] * (1.0 - exp(-zecal * mass[p] / (100.0 * ctau[p])));
    double sig = sqrt(n[p] * pd * (1.0 - pd));
    printf("%s: %ld of %ld decayed, expected %.1f +- %.1f\n", p == 1 ? "pi-" : "K-", nd[p], n[p], n[p] * pd, sig);
    assert_true(fabs((double)nd[p] - n[p] * pd) < 4.0 * sig);
    assert_true(nd[p] > 40);
    assert_true(fabs(ufrac[p] / nd[p] - 0.5) < 4.0 * sqrt(1.0 / 12.0 / nd[p])); /* uniform on [0, 1] */
    ntot += nd[p];
  }
  /* decay lengths (0.77 km, 0.075 km) >> 19 m: decay points nearly uniform along the path */
  assert_true(fabs(zsum / ntot - 0.5 * zecal) < 4.0 * zecal / sqrt(12.0 * ntot) + 10.0);
  na64_sim_worker_free(w);
  na64_sim_free(s);
}

/* DATE output: every triggered event becomes one physics event whose ECAL waveforms give back the
 * simulated ECAL energy (pulse maximum above pedestal times the gain of the conditions database),
 * and whose straw block holds the beam track's hits. */
typedef struct raw_ctx {
  na64_sim_digitizer *d;
  na64_daq_writer *w;
  collect c;
  uint32_t n;
} raw_ctx;

static int raw_sink(const na64_sim_event *ev, void *user, na64_err *err)
{
  raw_ctx *r = user;
  NA64_CALL(collect_sink(ev, &r->c, err));
  return na64_sim_digitize_write(r->d, ev, 42, r->n++, r->w, err);
}

static void test_raw_data(void **state)
{
  (void)state;
  na64_sim *s = make_sim(ap_card);
  na64_err err = {0, ""};
  raw_ctx r = {0};
  assert_int_equal(na64_sim_digitizer_new(s, &r.d, &err), NA64_OK);
  assert_int_equal(na64_daq_writer_open_memory(NULL, &r.w, &err), NA64_OK);
  na64_sim_summary sum;
  na64_sim_run_opts o = {42, 4000, 2, 0, raw_sink, &r, NULL, NULL, 0};
  assert_int_equal(na64_sim_run(s, &o, &sum, &err), NA64_OK);
  void *data = NULL;
  size_t size = 0;
  assert_int_equal(na64_daq_writer_close_memory(r.w, &data, &size, &err), NA64_OK);
  assert_true(r.c.n > 20 && r.c.n == sum.triggered);
  na64_daq_reader *rd = NULL;
  assert_int_equal(na64_daq_reader_open_memory(data, size, "sim", NULL, &rd, &err), NA64_OK);
  const na64_geom_detector *ecal = NULL;
  na64_geom *g = NULL;
  assert_int_equal(na64_geom_load_path(DB, 2000, &g, &err), NA64_OK);
  ecal = na64_geom_find_detector(g, "ECAL");
  assert_non_null(ecal);
  na64_daq_event ev;
  size_t k = 0, nstraw = 0, napv = 0, nclus = 0;
  static na64_daq_sadc_waveform wf[256];
  static na64_daq_apv_hit apv[4096];
  while (na64_daq_reader_next_event(rd, &ev, &err) == NA64_OK) {
    assert_true(k < r.c.n);
    assert_int_equal(ev.header.type, NA64_DAQ_PHYSICS_EVENT);
    assert_int_equal(ev.header.run, 2000);
    assert_int_equal(ev.header.id[0], k);
    size_t cur = 0;
    na64_daq_equipment eq;
    double e_ecal = 0.0;
    while (na64_daq_event_next_equipment(&ev, &cur, &eq)) {
      if (eq.header.type == NA64_DAQ_EQ_F1) nstraw++;
      if (eq.header.type == NA64_DAQ_EQ_APV) { /* strip clusters centred on the simulated track */
        size_t n = 0;
        assert_int_equal(na64_daq_apv_decode(&eq, (long)(k & 0xFFF), apv, 4096, &n, NULL, &err), NA64_OK);
        double su[64] = {0}, sw[64] = {0};
        for (size_t i = 0; i < n; ++i) {
          const na64_geom_chan *ch = na64_geom_chan_lookup(g, eq.header.id, 0, apv[i].chip, apv[i].channel);
          assert_non_null(ch);
          assert_true(ch->plane >= 0 && ch->plane < 64);
          su[ch->plane] += apv[i].amp[1] * g->planes[ch->plane].wires[ch->wire].u;
          sw[ch->plane] += apv[i].amp[1];
        }
        napv += n;
        const na64_sim_truth *t = &r.c.ev[k].truth;
        for (int pl = 0; pl < g->nplanes && pl < 64; ++pl) {
          if (!(sw[pl] > 0)) continue;
          const na64_geom_plane *P = &g->planes[pl];
          double z = P->centre[2], x, y;
          if (z < 600) x = t->x0 + t->dxdz0 * z, y = t->y0 + t->dydz0 * z;
          else x = t->x + t->dxdz * (z - 1900.0), y = t->y + t->dydz * (z - 1900.0);
          double u = (x - P->centre[0]) * P->u_dir[0] + (y - P->centre[1]) * P->u_dir[1];
          /* the digitiser scatters the track after every tracker plane (Highland, material per
           * plane kind: Micromegas 0.3%, GEM 0.4%, straw plane 0.1% X0): allow 5 sigma of it */
          double ms2 = 0.0;
          for (int q = 0; q < g->nplanes; ++q) {
            const na64_geom_plane *Q = &g->planes[q];
            double xq = Q->kind == NA64_DET_MICROMEGAS ? 0.003 : Q->kind == NA64_DET_GEM ? 0.004 : 0.001;
            double th = na64_sim_highland(t->energy, xq), dz = z - Q->centre[2];
            if (dz > 0.0) ms2 += th * th * dz * dz;
          }
          if (fabs(su[pl] / sw[pl] - u) > 2.0 * P->pitch + 5.0 * sqrt(ms2))
            fail_msg("event %zu plane %s: cluster at u = %g cm, track at %g cm", k, P->name, su[pl] / sw[pl], u);
          ++nclus;
        }
      }
      if (eq.header.type != NA64_DAQ_EQ_SADC || eq.header.id != 600) continue;
      size_t n = 0;
      assert_int_equal(na64_daq_sadc_decode(&eq, wf, 256, &n, NULL, &err), NA64_OK);
      assert_int_equal(n, 72); /* 6 x 6 cells x 2 sections */
      { /* the digitiser packs the payload itself (sim_sadc_write_event): its words must be exactly
         * those the library's SADC encoder writes for the decoded waveforms */
        uint32_t re[72 * 18];
        size_t nw = 0;
        assert_int_equal(na64_daq_sadc_encode(wf, n, re, 72 * 18, &nw, &err), NA64_OK);
        assert_int_equal(nw, eq.nwords);
        assert_memory_equal(re, eq.words, nw * sizeof *re);
      }
      for (size_t i = 0; i < n; ++i) {
        const na64_geom_chan *ch = na64_geom_chan_lookup(g, 600, wf[i].port, 0, wf[i].channel);
        assert_non_null(ch);
        /* the pulse peaks 110 ns into the window (docs/simulation.md): sample 9 at 112.5 ns sees
         * 99.3% of the maximum (1 ns jitter changes it by < 0.5%); unbiased by the noise */
        assert_int_equal(wf[i].nsamples, 32);
        double v = wf[i].samples[9] - wf[i].pedestal_odd;
        e_ecal += v / 0.993 * g->cells[ch->cell].gain[ch->section];
      }
    }
    /* noise: 1 count per sample, 0.18 GeV summed over the 36 main cells (gain 0.03 GeV/count);
     * 0.5 count rounding */
    const na64_sim_truth *t = &r.c.ev[k].truth;
    if (fabs(e_ecal - t->ecal) > 0.01 * t->ecal + 1.0) fail_msg("event %zu: ECAL %g from raw, %g simulated", k, e_ecal, t->ecal);
    ++k;
  }
  assert_int_equal(k, r.c.n);
  assert_true(nstraw >= k); /* one F1 block at least per event (the straw stations) */
  /* 12 strip planes (MM01-04, GM01-02, X and Y), efficiency 0.95 (11.4 +- 0.7 per event),
   * 4-6 strips above 3 sigma per cluster */
  printf("%zu events, %zu clusters, %zu strip hits\n", k, nclus, napv);
  assert_true(nclus > 11.0 * k && nclus <= 12 * k);
  assert_true(napv > 40 * k && napv < 80 * k);
  na64_daq_reader_close(rd);
  na64_geom_free(g);
  free(data);
  free(r.c.ev);
  na64_sim_digitizer_free(r.d);
  na64_sim_free(s);
}

/* The command: summary, HDF5 truth read back with h5py (Debian python3-h5py), bad usage. */
static void test_cli_h5(void **state)
{
  (void)state;
  char cmd[8192], card[512], h5[512];
  snprintf(card, sizeof card, "%s/card.yaml", na64_test_tmpdir);
  snprintf(h5, sizeof h5, "%s/truth.h5", na64_test_tmpdir);
  FILE *f = fopen(card, "w");
  assert_non_null(f);
  fprintf(f, "setup: {run: 2000, conditions: \"%s\"}\n%s", DB, ap_card);
  fclose(f);
  char *out = NULL;
  snprintf(cmd, sizeof cmd, "%s sim %s --events 3000 --seed 4 --threads 2 --truth %s --all", NA64_CLI_PATH, card, h5);
  assert_int_equal(na64_test_run(cmd, &out), 0);
  assert_non_null(strstr(out, "generated 3000"));
  free(out);
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 -c \"import h5py; d = h5py.File('%s')['truth'][:]; "
           "print(len(d), int((d['event'] == range(len(d))).all()), int(d['process'].max()), "
           "round(float(d['energy'].mean())))\"",
           h5);
  assert_int_equal(na64_test_run(cmd, &out), 0);
  assert_string_equal(out, "3000 1 4 100\n"); /* processes up to "decay"; 100 GeV mean energy */
  free(out);
  /* the raw data file is byte-identical for 1 and 2 threads */
  snprintf(cmd, sizeof cmd,
           "%s sim %s --events 3000 --seed 9 --threads 1 --out %s/a.dat > /dev/null && "
           "%s sim %s --events 3000 --seed 9 --threads 2 --out %s/b.dat > /dev/null && cmp %s/a.dat %s/b.dat && "
           "test -s %s/a.dat",
           NA64_CLI_PATH, card, na64_test_tmpdir, NA64_CLI_PATH, card, na64_test_tmpdir, na64_test_tmpdir,
           na64_test_tmpdir, na64_test_tmpdir);
  assert_int_equal(na64_test_run(cmd, &out), 0);
  free(out);
  /* the raw data are GDC super events of one sub-event per LDC of the channel map (APV, F1, SADC:
   * LDCs 1-3 in sql/setups), as the DATE event builder writes them */
  snprintf(cmd, sizeof cmd, "%s dump --summary %s/a.dat", NA64_CLI_PATH, na64_test_tmpdir);
  assert_int_equal(na64_test_run(cmd, &out), 0);
  const char *pe = strstr(out, "\nphysics: "), *se = strstr(out, "\nsuper_events: "), *ls = strstr(out, "\nldc_subevents: ");
  assert_non_null(pe);
  assert_non_null(se);
  assert_non_null(ls);
  long nphys = atol(pe + 10), nsuper = atol(se + 15), nldc = atol(ls + 16);
  assert_true(nphys > 0);
  /* plus the start- and end-of-run events, also super events with a (header-only) sub-event per LDC */
  assert_int_equal(nsuper, nphys + 2);
  assert_int_equal(nldc, 3 * (nphys + 2));
  assert_non_null(strstr(out, "\nstart_of_run: 1\n"));
  assert_non_null(strstr(out, "\nend_of_run: 1\n"));
  free(out);
  snprintf(cmd, sizeof cmd, "%s sim %s --events 0 2>&1", NA64_CLI_PATH, card);
  assert_int_equal(na64_test_run(cmd, &out), 2);
  free(out);
  snprintf(cmd, sizeof cmd, "%s sim --events 10 2>&1", NA64_CLI_PATH);
  assert_int_equal(na64_test_run(cmd, &out), 2);
  assert_non_null(strstr(out, "missing CARD"));
  free(out);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_threads_identical), cmocka_unit_test(test_weights),
      cmocka_unit_test(test_synchrotron),       cmocka_unit_test(test_srd_e_vs_pi),
      cmocka_unit_test(test_trigger),           cmocka_unit_test(test_hadron_muon_response),
      cmocka_unit_test(test_decays),            cmocka_unit_test(test_pileup),
      cmocka_unit_test(test_raw_data),
      cmocka_unit_test(test_cli_h5),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
