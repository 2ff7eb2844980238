/* `na64 sim CARD`: the fast invisible-mode simulation (docs/simulation.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "na64/io.h"
#include "na64/sim.h"

static const char sim_synopsis[] =
    "Simulate N beam particles of the invisible-mode setup described by the run card CARD (YAML,\n"
    "see configs/ and docs/simulation.md): beam with admixture, tail, decays and pile-up, A' emission\n"
    "with biasing, ECAL/HCAL/veto/SRD, trigger.\n"
    "Energies in GeV, the A' mass in the card in MeV. Prints a summary; --out writes the triggered events\n"
    "as DATE raw data (calorimeter sampling-ADC waveforms, straw F1 and Micromegas/GEM APV hits);\n"
    "--truth writes the truth record of the triggered events (all events with --all) as an HDF5 table\n"
    "'truth'.";

typedef struct sink_ctx {
  na64_h5table *truth;
  na64_daq_writer *raw;
  na64_sim_digitizer *digi;
  uint64_t seed;
  uint32_t nraw;
} sink_ctx;

static int sink(const na64_sim_event *ev, void *user, na64_err *err)
{
  sink_ctx *c = user;
  if (c->truth) NA64_CALL(na64_h5table_append(c->truth, &ev->truth, 1, err));
  if (c->raw && ev->truth.triggered) /* the DAQ records triggered events only */
    NA64_CALL(na64_sim_digitize_write(c->digi, ev, c->seed, c->nraw++, c->raw, err));
  return NA64_OK;
}

static int open_raw(const char *path, const na64_sim *s, sink_ctx *c, na64_err *err)
{
  NA64_CALL(na64_sim_digitizer_new(s, &c->digi, err));
  NA64_CALL(na64_sim_raw_open(s, path, &c->raw, err));
  return na64_sim_write_run_mark(s, NA64_DAQ_START_OF_RUN, 0, c->raw, err);
}

static void progress(uint64_t done, uint64_t total, void *user)
{
  cli_progress_update(user, (double)done);
  (void)total;
}

static void print_summary(const na64_sim *s, const na64_sim_summary *m)
{
  printf("generated %llu, triggered %llu (weighted %.6g)\n", (unsigned long long)m->generated,
         (unsigned long long)m->triggered, m->triggered_weight);
  for (int p = 0; p < NA64_SIM_NPARTICLES; ++p)
    if (m->by_particle[p])
      printf("  %-4s generated %llu, triggered %llu\n", na64_sim_particle_name(p), (unsigned long long)m->by_particle[p],
             (unsigned long long)m->triggered_by_particle[p]);
  double pa = na64_sim_aprime_probability(s);
  if (pa > 0.0)
    printf("A' emissions %llu (true probability per EOT %.6g, bias %.6g)\n", (unsigned long long)m->aprime_emitted, pa,
           na64_sim_get_config(s)->aprime_bias);
}

static int run(const char *card, long nev, long seed, long threads, int all, const char *truth_path, const char *raw_path)
{
  na64_err err = {0};
  na64_sim_config cfg;
  na64_sim_config_default(&cfg);
  if (na64_sim_config_load(card, &cfg, &err)) return cli_fail("sim", &err);
  na64_sim *s = NULL;
  if (na64_sim_new(&cfg, &s, &err)) return cli_fail("sim", &err);
  sink_ctx ctx = {NULL, NULL, NULL, (uint64_t)seed, 0};
  int st = raw_path ? open_raw(raw_path, s, &ctx, &err) : NA64_OK;
  if (st == NA64_OK && truth_path) {
    int n = 0;
    const na64_h5_field *f = na64_sim_truth_fields(&n);
    st = na64_h5table_create(truth_path, "truth", sizeof(na64_sim_truth), f, n, &ctx.truth, &err);
    char buf[64];
    snprintf(buf, sizeof buf, "%ld", seed);
    if (st == NA64_OK) st = na64_h5table_attr(ctx.truth, "card", card, &err);
    if (st == NA64_OK) st = na64_h5table_attr(ctx.truth, "seed", buf, &err);
    if (st == NA64_OK) st = na64_h5table_attr(ctx.truth, "na64_version", na64_version(), &err);
  }
  cli_progress pr;
  cli_progress_start(&pr, "sim", (double)nev);
  na64_sim_run_opts o = {(uint64_t)seed, (uint64_t)nev, (int)threads, all, sink, &ctx, progress, &pr, 0};
  na64_sim_summary sum;
  if (st == NA64_OK) st = na64_sim_run(s, &o, &sum, &err);
  cli_progress_finish(&pr, (double)nev);
  if (ctx.truth) {
    if (st == NA64_OK) st = na64_h5table_close(ctx.truth, &err);
    else na64_h5table_abort(ctx.truth);
  }
  if (ctx.raw) {
    if (st == NA64_OK) st = na64_sim_write_run_mark(s, NA64_DAQ_END_OF_RUN, ctx.nraw, ctx.raw, &err);
    na64_err e2 = {0, ""};
    int st2 = na64_daq_writer_close(ctx.raw, &e2);
    if (st == NA64_OK && st2 != NA64_OK) {
      st = st2;
      err = e2;
    }
  }
  na64_sim_digitizer_free(ctx.digi);
  if (st == NA64_OK) print_summary(s, &sum);
  na64_sim_free(s);
  return st == NA64_OK ? CLI_EXIT_OK : cli_fail("sim", &err);
}

int cmd_sim(int argc, char **argv)
{
  long nev = 1000, seed = 1, threads = 1;
  int all = 0;
  const char *truth = NULL, *out = NULL;
  cli_opt opts[] = {
      {"--out", OPT_STRING, &out, 1, 0, 0, NULL, 0, "write the triggered events as DATE raw data (.zst: zstd frames)", 0},
      {"--events", OPT_INT, &nev, 1, 1e15, 0, NULL, 0, "number of beam particles (EOT) to simulate (default 1000)", 0},
      {"--seed", OPT_INT, &seed, 0, 9e18, 0, NULL, 0, "run seed: event i uses the random stream (seed, i) (default 1)", 0},
      {"--threads", OPT_INT, &threads, 1, 64, 0, NULL, 0, "worker threads; results do not depend on it (default 1)", 0},
      {"--truth", OPT_STRING, &truth, 1, 0, 0, NULL, 0, "write the truth record to this HDF5 file", 0},
      {"--all", OPT_FLAG, &all, 1, 0, 0, NULL, 0, "keep every event in the truth record, not only triggered ones", 0},
  };
  cli_cmd cmd = {.name = "sim", .args = "CARD", .synopsis = sim_synopsis, .opts = opts, .nopts = CLI_NOPTS(opts),
                 .pos_min = 1, .pos_max = 1};
  int st = cli_parse_args(&cmd, argc, argv);
  if (st) return st < 0 ? CLI_EXIT_OK : st;
  static const char *const raw_exts[] = {".dat", ".raw", ".zst", NULL};
  static const char *const h5_exts[] = {".h5", ".hdf5", NULL};
  if (out && (st = cli_check_output("sim", "--out", out, raw_exts))) return st;
  if (truth && (st = cli_check_output("sim", "--truth", truth, h5_exts))) return st;
  return run(cmd.pos[0], nev, seed, threads, all, truth, out);
}
