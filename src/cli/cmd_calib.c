/* `na64 calib straw RAWFILE`: straw-tube calibration from a DATE raw-data file (docs/straw.md §2):
 * t0 per channel from the leading edge of its drift-time spectrum and r(t) per plane by the
 * integration method, written to the conditions database as new records valid for the runs of the
 * file (or the given range). Prints a summary per plane (and per channel with --channels) and what
 * was written. */
#include <limits.h>
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
    "The geometry and channel map are those of the first run. Times in ns, radii in cm (um in the\n"
    "summary columns marked _um). RAWFILE is the argument after 'straw' that is not an option.";

static void print_calib_usage(FILE *out)
{
  fprintf(out, "usage: na64 calib straw RAWFILE [--run N] [--db PATH] [options]\n\n%s\n\n"
               "'na64 calib straw --help' lists the options.\n",
          calib_synopsis);
}

static const char *const valued_opts[] = {"--run",    "--db",           "--first-run", "--last-run", "--format",
                                          "--min-hits", "--min-hits-fit", "--comment",   "--events",   NULL};

/* Options to rest[], the one positional argument to *file. */
static int split(int argc, char **argv, char **rest, int *nrest, const char **file)
{
  *nrest = 0;
  rest[(*nrest)++] = argv[0];
  *file = NULL;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if ((a[0] == '-' && a[1] == '-') || !strcmp(a, "-h")) {
      rest[(*nrest)++] = argv[i];
      if (!strchr(a, '='))
        for (const char *const *v = valued_opts; *v; ++v)
          if (!strcmp(a, *v) && i + 1 < argc) {
            rest[(*nrest)++] = argv[++i];
            break;
          }
      continue;
    }
    if (*file) {
      fprintf(stderr, "na64 calib straw: one RAWFILE expected, got '%s' and '%s'\n", *file, a);
      return CLI_EXIT_USAGE;
    }
    *file = a;
  }
  return CLI_EXIT_OK;
}

typedef struct region_count {
  const char *path;
  uint64_t n;
} region_count;

static void on_region(const na64_daq_region *g, void *user)
{
  region_count *c = user;
  if (c->n++ < 20)
    fprintf(stderr, "na64 calib straw: %s: bad region at offset %llu, %llu bytes skipped: %s (%s)\n", c->path,
            (unsigned long long)g->offset, (unsigned long long)g->length, na64_daq_reason_name(g->reason), g->detail);
}

/* Runs of the physics events (filtered by `run` >= 0) and the F1 TDC bin of the first F1 block. */
typedef struct file_scan {
  uint64_t events;
  int first, last;
  int *runs;
  size_t nruns, cap;
  double bin_ns;
} file_scan;

static int add_run(file_scan *s, int run)
{
  for (size_t i = 0; i < s->nruns; ++i)
    if (s->runs[i] == run) return 0;
  if (s->nruns == s->cap) {
    size_t nc = s->cap ? 2 * s->cap : 16;
    int *r = realloc(s->runs, nc * sizeof *r);
    if (!r) return -1;
    s->runs = r;
    s->cap = nc;
  }
  s->runs[s->nruns++] = run;
  return 0;
}

static int scan_file(const char *path, long run, long max_events, file_scan *s, na64_err *err)
{
  memset(s, 0, sizeof *s);
  s->first = INT_MAX;
  s->last = -1;
  na64_daq_reader *r = NULL;
  NA64_CALL(na64_daq_reader_open(path, NULL, &r, err));
  na64_daq_event ev;
  int st = NA64_OK;
  while ((max_events < 0 || (long)s->events < max_events) && (st = na64_daq_reader_next_event(r, &ev, err)) == NA64_OK) {
    if (ev.header.type != NA64_DAQ_PHYSICS_EVENT) continue;
    if (ev.header.run > INT_MAX - 1 || (run >= 0 && ev.header.run != (uint32_t)run)) continue;
    int rn = (int)ev.header.run;
    s->events++;
    if (rn < s->first) s->first = rn;
    if (rn > s->last) s->last = rn;
    if (add_run(s, rn)) {
      na64_daq_reader_close(r);
      return na64_err_set(err, NA64_ENOMEM, "out of memory");
    }
    if (s->bin_ns == 0) {
      size_t cur = 0;
      na64_daq_equipment eq;
      while (na64_daq_event_next_equipment(&ev, &cur, &eq))
        if (eq.header.type == NA64_DAQ_EQ_F1) {
          s->bin_ns = na64_daq_f1_bin_ns(&eq.header);
          break;
        }
    }
  }
  na64_daq_reader_close(r);
  if (st == NA64_ENOMEM) return st;
  return NA64_OK;
}

/* v with `digits` decimals, empty for NaN */
static void fmt_d(char *b, size_t n, double v, int digits)
{
  if (isnan(v)) b[0] = '\0';
  else snprintf(b, n, "%.*f", digits, v);
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
  long run = -1, first = -1, last = -1, min_hits = 10, min_hits_fit = 200, max_events = -1;
  const char *db_path = NULL, *comment = NULL;
  int fmt = FMT_TABLE, dry = 0, channels = 0, open_ended = 0;
  cli_opt opts[] = {
      {"--run", OPT_INT, &run, 0, 1e9, 0, NULL, 0,
       "use only the events of this run; the records are valid for this run", 0},
      {"--db", OPT_STRING, &db_path, 1, 0, 0, NULL, 0, "conditions database (default: $NA64_CONDITIONS_DB or the built one)", 0},
      {"--first-run", OPT_INT, &first, 0, 1e9, 0, NULL, 0, "first run of validity (default: first run of the events)", 0},
      {"--last-run", OPT_INT, &last, 0, 1e9, 0, NULL, 0, "last run of validity (default: last run of the events)", 0},
      {"--open-ended", OPT_FLAG, &open_ended, 1, 0, 0, NULL, 0, "valid from the first run on, with no last run", 0},
      {"--dry-run", OPT_FLAG, &dry, 1, 0, 0, NULL, 0, "compute and print, write nothing", 0},
      {"--channels", OPT_FLAG, &channels, 1, 0, 0, NULL, 0, "also print t0 (ns) of every channel", 0},
      {"--min-hits", OPT_INT, &min_hits, 3, 1e9, 0, NULL, 0, "hits a channel needs for a t0 (count)", 0},
      {"--min-hits-fit", OPT_INT, &min_hits_fit, 3, 1e12, 0, NULL, 0,
       "hits for a channel's own leading-edge fit; fewer: template shift (count)", 0},
      {"--events", OPT_INT, &max_events, 1, 1e15, 0, NULL, 0, "use at most this many physics events (count)", 0},
      {"--comment", OPT_STRING, &comment, 1, 0, 0, NULL, 0, "comment stored with the records", 0},
      {"--format", OPT_CHOICE, &fmt, 1, 0, 0, CLI_FORMAT_CHOICES, 0, "output format of the tables", 0},
  };
  const int nopts = (int)(sizeof opts / sizeof opts[0]);
  char **rest = malloc(((size_t)argc + 1) * sizeof *rest);
  if (!rest) return CLI_EXIT_FAIL;
  int nrest;
  const char *path;
  int st = split(argc - 1, argv + 1, rest, &nrest, &path);
  if (st == CLI_EXIT_OK) st = cli_parse("calib straw", calib_synopsis, nrest, rest, opts, nopts);
  free(rest);
  if (st < 0) return CLI_EXIT_OK;
  if (st != CLI_EXIT_OK) return st;
  if (!path) {
    fprintf(stderr, "na64 calib straw: missing RAWFILE (see 'na64 calib straw --help')\n");
    return CLI_EXIT_USAGE;
  }
  if (open_ended && last >= 0) {
    fprintf(stderr, "na64 calib straw: --open-ended and --last-run exclude each other\n");
    return CLI_EXIT_USAGE;
  }
  if (first >= 0 && last >= 0 && last < first) {
    fprintf(stderr, "na64 calib straw: --last-run %ld is before --first-run %ld\n", last, first);
    return CLI_EXIT_USAGE;
  }
  const char *cmd = "calib straw";
  na64_err err = {0, ""};

  /* 1. which runs the file holds, and its TDC bin */
  file_scan fs;
  if (scan_file(path, run, max_events, &fs, &err) != NA64_OK) return cli_fail(cmd, &err);
  if (!fs.events) {
    free(fs.runs);
    if (run >= 0) na64_err_set(&err, NA64_ENOTFOUND, "%s: no physics event of run %ld", path, run);
    else na64_err_set(&err, NA64_ENOTFOUND, "%s: no physics event", path);
    return cli_fail(cmd, &err);
  }

  /* 2. the conditions of the first run; every run of the file must belong to the same setup */
  na64_cond *db = NULL;
  if (na64_cond_open(db_path, dry ? NA64_COND_READONLY : NA64_COND_READWRITE, &db, &err) != NA64_OK) {
    free(fs.runs);
    return cli_fail(cmd, &err);
  }
  int rc = CLI_EXIT_OK;
  na64_geom *g = NULL;
  na64_straw_decoder *dec = NULL;
  na64_straw_calib *cal = NULL;
  na64_daq_reader *rd = NULL;
  na64_straw_digit_list list;
  na64_straw_digit_list_init(&list);
  na64_cond_run_info ri0;
  if (na64_cond_get_run_info(db, fs.first, &ri0, &err) != NA64_OK) {
    rc = cli_fail(cmd, &err);
    goto out;
  }
  for (size_t i = 0; i < fs.nruns; ++i) {
    na64_cond_run_info ri;
    if (na64_cond_get_run_info(db, fs.runs[i], &ri, &err) != NA64_OK) {
      rc = cli_fail(cmd, &err);
      goto out;
    }
    if (strcmp(ri.iov.setup, ri0.iov.setup)) {
      na64_err_set(&err, NA64_EINVAL,
                   "%s holds runs of two setups: run %d (%s) and run %d (%s); calibrate them separately with --run",
                   path, fs.first, ri0.iov.setup, fs.runs[i], ri.iov.setup);
      rc = cli_fail(cmd, &err);
      goto out;
    }
  }
  if (na64_geom_load(db, fs.first, &g, &err) != NA64_OK) {
    rc = cli_fail(cmd, &err);
    goto out;
  }
  na64_straw_decode_options dopt;
  na64_straw_decode_options_default(&dopt);
  dopt.no_window = 1;
  na64_straw_calib_options copt;
  na64_straw_calib_options_default(&copt);
  if (fs.bin_ns > 0) copt.bin_ns = 4 * fs.bin_ns; /* a multiple of the TDC bin: no aliasing */
  copt.min_hits = (size_t)min_hits;
  copt.min_hits_fit = (size_t)min_hits_fit;
  if (na64_straw_decoder_new(g, &dopt, &dec, &err) != NA64_OK || na64_straw_calib_new(g, &copt, &cal, &err) != NA64_OK) {
    rc = cli_fail(cmd, &err);
    goto out;
  }

  /* 3. decode every physics event and histogram its straw times */
  region_count regions = {path, 0};
  na64_daq_reader_options ro = {.on_region = on_region, .user = &regions};
  if (na64_daq_reader_open(path, &ro, &rd, &err) != NA64_OK) {
    rc = cli_fail(cmd, &err);
    goto out;
  }
  cli_progress prog;
  cli_progress_start(&prog, "na64 calib straw: events", (double)fs.events);
  uint64_t used = 0, bad_events = 0;
  na64_straw_decode_stats dst;
  memset(&dst, 0, sizeof dst);
  na64_daq_event ev;
  na64_err first_bad = {0, ""};
  while (used < fs.events && (st = na64_daq_reader_next_event(rd, &ev, &err)) == NA64_OK) {
    if (ev.header.type != NA64_DAQ_PHYSICS_EVENT) continue;
    if (ev.header.run > INT_MAX - 1 || (run >= 0 && ev.header.run != (uint32_t)run)) continue;
    na64_err e2 = {0, ""};
    int ds = na64_straw_decode_event(dec, &ev, &list, &dst, &e2);
    if (ds == NA64_ENOMEM) {
      rc = cli_fail(cmd, &e2);
      goto out;
    }
    if (ds != NA64_OK && !bad_events++) first_bad = e2;
    na64_straw_calib_add(cal, list.digits, list.n, &err);
    if (++used % 4096 == 0) cli_progress_update(&prog, (double)used);
  }
  cli_progress_finish(&prog, (double)used);
  if (st == NA64_ENOMEM) {
    rc = cli_fail(cmd, &err);
    goto out;
  }
  if (bad_events)
    fprintf(stderr, "na64 calib straw: %llu events with undecodable or unmapped F1 data (skipped hits: %llu unmapped, "
                    "%llu not straw, %llu flagged); first: %s\n",
            (unsigned long long)bad_events, (unsigned long long)dst.unmapped, (unsigned long long)dst.not_straw,
            (unsigned long long)dst.flagged, first_bad.msg);
  if (regions.n) fprintf(stderr, "na64 calib straw: %s: %llu bad regions skipped\n", path, (unsigned long long)regions.n);

  /* 4. compute, print */
  int cst = na64_straw_calib_compute(cal, &err);
  if (fmt == FMT_TABLE)
    printf("# %s: %llu physics events of runs %d-%d (setup %s), %llu straw hits, TDC bin %.4f ns\n", path,
           (unsigned long long)used, fs.first, fs.last, ri0.iov.setup,
           (unsigned long long)na64_straw_calib_entries(cal), fs.bin_ns > 0 ? fs.bin_ns : NA64_DAQ_F1_DEFAULT_BIN_NS);
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
  cli_table_print(t, (cli_format)fmt, stdout);
  cli_table_free(t);
  if (channels) {
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
    cli_table_print(ct, (cli_format)fmt, stdout);
    cli_table_free(ct);
  }
  if (cst != NA64_OK) {
    rc = cli_fail(cmd, &err);
    goto out;
  }

  /* 5. write */
  int f = first >= 0 ? (int)first : (run >= 0 ? (int)run : fs.first);
  int l = open_ended ? NA64_COND_RUN_OPEN : last >= 0 ? (int)last : (run >= 0 ? (int)run : fs.last);
  if (l < f) {
    na64_err_set(&err, NA64_ERANGE, "interval of validity %d-%d is empty (give --first-run and --last-run)", f, l);
    rc = cli_fail(cmd, &err);
    goto out;
  }
  char lastbuf[24];
  if (l == NA64_COND_RUN_OPEN) snprintf(lastbuf, sizeof lastbuf, "open");
  else snprintf(lastbuf, sizeof lastbuf, "%d", l);
  FILE *msg = fmt == FMT_TABLE ? stdout : stderr;
  if (dry) {
    fprintf(msg, "dry run: nothing written (would be runs %d-%s in %s)\n", f, lastbuf, na64_cond_path(db));
    goto out;
  }
  char autocomment[NA64_COND_TEXT_LEN];
  if (!comment) {
    const char *base = strrchr(path, '/');
    snprintf(autocomment, sizeof autocomment, "na64 calib straw %.80s (%llu events)", base ? base + 1 : path,
             (unsigned long long)used);
    comment = autocomment;
  }
  int nt0 = 0, nrt = 0;
  if (na64_straw_calib_write(cal, db, f, l, comment, &nt0, &nrt, &err) != NA64_OK) {
    fprintf(stderr, "na64 calib straw: %d t0 and %d r(t) records had been written before the error\n", nt0, nrt);
    rc = cli_fail(cmd, &err);
    goto out;
  }
  fprintf(msg, "wrote %d t0 records and %d r(t) tables (with sigma_r) to %s, valid for runs %d-%s\n", nt0, nrt,
          na64_cond_path(db), f, lastbuf);

out:
  na64_daq_reader_close(rd);
  na64_straw_digit_list_release(&list);
  na64_straw_calib_free(cal);
  na64_straw_decoder_free(dec);
  na64_geom_free(g);
  na64_cond_close(db);
  free(fs.runs);
  return rc;
}
