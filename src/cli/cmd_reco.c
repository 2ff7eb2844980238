/* `na64 reco RAW --out EVENTS.h5`: raw DATE data to the HDF5 table `events` (docs/reco.md). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "na64/reco.h"

static const char reco_synopsis[] =
    "Reconstruct the physics events of the DATE raw-data file RAW (plain or .zst) with the geometry,\n"
    "channel maps and calibrations of each event's run from the conditions database: calorimeter\n"
    "energies (ECAL, pre-shower, HCAL per module, veto, SRD per module and time), shower centre and\n"
    "shape, and the incoming track (momentum from the deflection in the dipoles, angle, chi2/ndf).\n"
    "Writes one row per event to the HDF5 table 'events' of --out (every column: docs/reco.md).\n"
    "--truth: the truth table of `na64 sim --truth` of the same run; its weights are carried along.";

static void progress(uint64_t done, uint64_t total, void *user)
{
  (void)total;
  cli_progress_update(user, (double)done);
}

int cmd_reco(int argc, char **argv)
{
  const char *out = NULL, *truth = NULL, *db = NULL;
  long max_events = -1;
  cli_opt opts[] = {
      {"--out", OPT_STRING, &out, 1, 0, 0, NULL, 0, "the HDF5 file of the events table (required)", 0},
      {"--truth", OPT_STRING, &truth, 1, 0, 0, NULL, 0, "truth HDF5 file of na64 sim: carry the event weights", 0},
      {"--db", OPT_STRING, &db, 1, 0, 0, NULL, 0, "conditions database (default: $NA64_CONDITIONS_DB or the installed one)", 0},
      {"--events", OPT_INT, &max_events, 0, 1e15, 0, NULL, 0, "reconstruct at most this many physics events", 0},
  };
  cli_cmd cmd = {.name = "reco", .args = "RAW", .synopsis = reco_synopsis, .opts = opts, .nopts = CLI_NOPTS(opts),
                 .pos_min = 1, .pos_max = 1};
  int st = cli_parse_args(&cmd, argc, argv);
  if (st) return st < 0 ? CLI_EXIT_OK : st;
  if (!out) {
    fprintf(stderr, "na64 reco: --out EVENTS.h5 is required\n");
    return CLI_EXIT_USAGE;
  }
  static const char *const h5_exts[] = {".h5", ".hdf5", NULL};
  if ((st = cli_check_output("reco", "--out", out, h5_exts))) return st;
  na64_reco_job job;
  na64_reco_job_default(&job);
  job.raw_path = cmd.pos[0];
  job.out_path = out;
  job.truth_path = truth;
  job.db_path = db;
  job.max_events = max_events;
  struct stat sb;
  cli_progress pr;
  cli_progress_start(&pr, "reco", stat(job.raw_path, &sb) == 0 ? (double)sb.st_size : 0.0);
  job.progress = progress;
  job.progress_user = &pr;
  na64_reco_summary sum;
  na64_err err = {0, ""};
  st = na64_reco_file(&job, &sum, &err);
  cli_progress_finish(&pr, stat(job.raw_path, &sb) == 0 ? (double)sb.st_size : 0.0);
  if (st != NA64_OK) return cli_fail("reco", &err);
  printf("events %llu (runs %d-%d), without momentum fit %llu, decode errors %llu, saturated %llu\n",
         (unsigned long long)sum.events, sum.first_run, sum.last_run, (unsigned long long)sum.no_track,
         (unsigned long long)sum.decode_errors, (unsigned long long)sum.saturated);
  if (truth)
    printf("truth: %llu triggered rows, %llu events matched\n", (unsigned long long)sum.truth_rows,
           (unsigned long long)sum.truth_matched);
  if (sum.bad_regions) printf("damaged regions skipped: %llu\n", (unsigned long long)sum.bad_regions);
  printf("written %s\n", out);
  return CLI_EXIT_OK;
}
