/* `na64 calib straw RAWFILE`: straw-tube calibration from a DATE raw-data file (docs/straw.md §2):
 * t0 per channel from the leading edge of its drift-time spectrum and r(t) per plane by the
 * integration method, written to the conditions database as new records valid for the runs of the
 * file (or the given range). Prints a summary per plane (and per channel with --channels) and what
 * was written. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "na64/cond.h"
#include "na64/daq.h"
#include "na64/geom.h"
#include "na64/reco.h"

static const char *calib_synopsis =
    "Calibrate the straw tubes from a DATE raw-data file (plain or zstd):\n"
    "  na64 calib straw RAWFILE [--run N] [--db PATH] [options]\n"
    "t0 of every channel (ns, time of a hit at zero drift distance relative to the trigger) from the\n"
    "leading edge of its drift-time spectrum, and r(t) of every plane (drift radius in cm against the\n"
    "drift time in ns after t0) by the integration method (uniform illumination). The results are\n"
    "written to the conditions database as new records valid for the runs of the file's physics events\n"
    "(or --run N, or --first-run/--last-run); they override older calibrations for those runs only.\n"
    "The runs of the file are those of its start-of-run records (else those with at least 1% of the\n"
    "events); physics events with another run number (a corrupted header) are skipped and reported.\n"
    "The geometry and channel map are those of the start-of-run (or majority) run. Times in ns, radii\n"
    "in cm (um in the summary columns marked _um). --dry-run makes every check of the real run.";


static void print_calib_usage(FILE *out)
{
  fprintf(out, "usage: na64 calib straw RAWFILE [--run N] [--db PATH] [options]\n\n%s\n\n"
               "'na64 calib straw --help' lists the options.\n",
          calib_synopsis);
}

static void on_region(const na64_daq_region *g, void *user)
{
  uint64_t *n = user;
  if ((*n)++ < 20)
    fprintf(stderr, "na64 calib straw: bad region at offset %llu, %llu bytes skipped: %s (%s)\n",
            (unsigned long long)g->offset, (unsigned long long)g->length, na64_daq_reason_name(g->reason), g->detail);
}

static void on_progress(uint64_t done, uint64_t total, void *user)
{
  cli_progress *p = user;
  p->total = (double)total;
  if (done >= total) cli_progress_finish(p, (double)done);
  else cli_progress_update(p, (double)done);
}

/* v with `digits` decimals, empty for NaN */
static void fmt_d(char *b, size_t n, double v, int digits)
{
  if (isnan(v)) b[0] = '\0';
  else na64_num_format(b, n, "%.*f", digits, v);
}

static void print_planes(const na64_straw_calib *cal, cli_format fmt)
{
  static const char *const names[] = {"plane",     "channels",  "calibrated", "fit",      "template",
                                      "hits",      "t0_mean_ns", "t0_rms_ns", "t0_min_ns", "t0_max_ns",
                                      "sigma_t_ns", "t_max_ns",  "rt_points", "sigma_r_um", "status"};
  cli_table *t = cli_table_new(15, names);
  for (int i = 0; i < na64_straw_calib_nplanes(cal); ++i) {
    const na64_straw_plane_calib *p = na64_straw_calib_plane(cal, i);
    char c[14][32];
    snprintf(c[0], 32, "%d", p->nwires);
    snprintf(c[1], 32, "%d", p->ncalibrated);
    snprintf(c[2], 32, "%d", p->nfit);
    snprintf(c[3], 32, "%d", p->ntemplate);
    snprintf(c[4], 32, "%llu", (unsigned long long)p->nhits);
    fmt_d(c[5], 32, p->t0_mean, 3);
    fmt_d(c[6], 32, p->t0_rms, 3);
    fmt_d(c[7], 32, p->t0_min, 3);
    fmt_d(c[8], 32, p->t0_max, 3);
    fmt_d(c[9], 32, p->sigma_t, 3);
    fmt_d(c[10], 32, p->status == NA64_OK ? p->t_max : NAN, 2);
    snprintf(c[11], 32, "%d", p->rt_n);
    fmt_d(c[12], 32, p->status == NA64_OK ? p->sigma_r * 1e4 : NAN, 1);
    const char *cells[15] = {p->name, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12],
                             p->status == NA64_OK ? (p->message[0] ? p->message : "ok") : p->message};
    cli_table_add_text_row(t, cells);
  }
  cli_table_print(t, fmt, stdout);
  cli_table_free(t);
}

static void print_channels(const na64_straw_calib *cal, cli_format fmt)
{
  static const char *const cn[] = {"plane", "wire", "hits", "t0_ns", "t0_err_ns", "method"};
  cli_table *ct = cli_table_new(6, cn);
  for (int i = 0; i < na64_straw_calib_nplanes(cal); ++i) {
    const na64_straw_plane_calib *p = na64_straw_calib_plane(cal, i);
    for (int w = 0; w < p->nwires; ++w) {
      const na64_straw_channel_calib *ch = &p->channels[w];
      char c[4][32];
      snprintf(c[0], 32, "%d", w);
      snprintf(c[1], 32, "%llu", (unsigned long long)ch->nhits);
      fmt_d(c[2], 32, ch->t0, 3);
      fmt_d(c[3], 32, ch->t0_err, 3);
      const char *cells[6] = {p->name, c[0], c[1], c[2], c[3], na64_straw_t0_method_name(ch->method)};
      cli_table_add_text_row(ct, cells);
    }
  }
  if (fmt == FMT_TABLE) printf("\n");
  cli_table_print(ct, fmt, stdout);
  cli_table_free(ct);
}

/* What was skipped while reading (stderr, whatever the output format). */
static void print_skipped(const char *path, const na64_straw_calib_report *r)
{
  if (r->stray_events)
    fprintf(stderr, "na64 calib straw: %s: %llu physics events skipped whose run number is not a run of the file "
                    "(corrupted header?), the first with run %u\n",
            path, (unsigned long long)r->stray_events, (unsigned)r->first_stray_run);
  if (r->bad_events)
    fprintf(stderr, "na64 calib straw: %llu events with undecodable or unmapped F1 data (skipped hits: %llu unmapped, "
                    "%llu not straw, %llu flagged); first: %s\n",
            (unsigned long long)r->bad_events, (unsigned long long)r->decode.unmapped,
            (unsigned long long)r->decode.not_straw, (unsigned long long)r->decode.flagged, r->first_bad);
  if (r->bad_regions)
    fprintf(stderr, "na64 calib straw: %s: %llu bad regions skipped\n", path, (unsigned long long)r->bad_regions);
}

int cmd_calib(int argc, char **argv)
{
  if (argc < 2 || (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    print_calib_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
  }
  if (strcmp(argv[1], "straw")) {
    fprintf(stderr, "na64 calib: unknown detector '%s' (allowed: straw; see 'na64 calib --help')\n", argv[1]);
    return CLI_EXIT_USAGE;
  }
  na64_straw_calib_job job;
  na64_straw_calib_job_default(&job);
  long min_hits = (long)job.min_hits, min_hits_fit = (long)job.min_hits_fit;
  int fmt = FMT_TABLE, channels = 0;
  cli_opt opts[] = {
      {"--run", OPT_INT, &job.run, 0, 1e9, 0, NULL, 0,
       "use only the events of this run; the records are valid for this run", 0},
      {"--db", OPT_STRING, &job.db_path, 1, 0, 0, NULL, 0, "conditions database (default: $NA64_CONDITIONS_DB or the built one)", 0},
      {"--first-run", OPT_INT, &job.first_run, 0, 1e9, 0, NULL, 0, "first run of validity (default: first run of the events)", 0},
      {"--last-run", OPT_INT, &job.last_run, 0, 1e9, 0, NULL, 0, "last run of validity (default: last run of the events)", 0},
      {"--open-ended", OPT_FLAG, &job.open_ended, 1, 0, 0, NULL, 0, "valid from the first run on, with no last run", 0},
      {"--dry-run", OPT_FLAG, &job.dry_run, 1, 0, 0, NULL, 0, "compute, check and print, write nothing", 0},
      {"--channels", OPT_FLAG, &channels, 1, 0, 0, NULL, 0, "also print t0 (ns) of every channel", 0},
      {"--min-hits", OPT_INT, &min_hits, 3, 1e9, 0, NULL, 0, "hits a channel needs for a t0 (count)", 0},
      {"--min-hits-fit", OPT_INT, &min_hits_fit, 3, 1e12, 0, NULL, 0,
       "hits for a channel's own leading-edge fit; fewer: template shift (count)", 0},
      {"--events", OPT_INT, &job.max_events, 1, 1e15, 0, NULL, 0, "use at most this many physics events (count)", 0},
      {"--comment", OPT_STRING, &job.comment, 1, 0, 0, NULL, 0, "comment stored with the records", 0},
      {"--format", OPT_CHOICE, &fmt, 1, 0, 0, CLI_FORMAT_CHOICES, 0, "output format of the tables", 0},
  };
  const char *cmd = "calib straw";
  cli_cmd c = {.name = cmd, .args = "RAWFILE", .synopsis = calib_synopsis, .opts = opts, .nopts = CLI_NOPTS(opts),
               .pos_min = 1, .pos_max = 1};
  int st = cli_parse_args(&c, argc - 1, argv + 1);
  if (st) return st < 0 ? CLI_EXIT_OK : st;
  job.path = c.pos[0];
  job.min_hits = (size_t)min_hits;
  job.min_hits_fit = (size_t)min_hits_fit;
  if (job.open_ended && job.last_run >= 0) return cli_usage_error(cmd, "--open-ended and --last-run exclude each other");
  if (job.first_run >= 0 && job.last_run >= 0 && job.last_run < job.first_run)
    return cli_usage_error(cmd, "--last-run %ld is before --first-run %ld", job.last_run, job.first_run);

  uint64_t regions = 0;
  cli_progress prog;
  cli_progress_start(&prog, "na64 calib straw: events", 0);
  job.on_region = on_region;
  job.region_user = &regions;
  job.progress = on_progress;
  job.progress_user = &prog;
  na64_straw_calib_report rep;
  na64_err err = {0, ""};
  st = na64_straw_calib_run(&job, &rep, &err);
  print_skipped(job.path, &rep);
  if (rep.cal) {
    if (fmt == FMT_TABLE)
      printf("# %s: %llu physics events of runs %d-%d (setup %s), %llu straw hits, TDC bin %.4f ns\n", job.path,
             (unsigned long long)rep.events, rep.first, rep.last, rep.setup,
             (unsigned long long)na64_straw_calib_entries(rep.cal), rep.bin_ns > 0 ? rep.bin_ns : NA64_DAQ_F1_DEFAULT_BIN_NS);
    print_planes(rep.cal, (cli_format)fmt);
    if (channels) print_channels(rep.cal, (cli_format)fmt);
  }
  int rc = CLI_EXIT_OK;
  FILE *msg = fmt == FMT_TABLE ? stdout : stderr;
  char lastbuf[24];
  if (rep.iov_last == NA64_COND_RUN_OPEN) snprintf(lastbuf, sizeof lastbuf, "open");
  else snprintf(lastbuf, sizeof lastbuf, "%d", rep.iov_last);
  if (st != NA64_OK) {
    if (rep.nt0 || rep.nrt)
      fprintf(stderr, "na64 calib straw: %d t0 and %d r(t) records had been written before the error\n", rep.nt0,
              rep.nrt);
    rc = cli_fail(cmd, &err);
  } else if (job.dry_run) {
    fprintf(msg, "dry run: nothing written, every check passed (would be runs %d-%s in %s)\n", rep.iov_first, lastbuf,
            rep.db_path);
  } else {
    fprintf(msg, "wrote %d t0 records and %d r(t) tables (with sigma_r) to %s, valid for runs %d-%s\n", rep.nt0, rep.nrt,
            rep.db_path, rep.iov_first, lastbuf);
  }
  na64_straw_calib_report_release(&rep);
  return rc;
}
