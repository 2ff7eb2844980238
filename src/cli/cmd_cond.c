/* `na64 cond`: the conditions database from the command line (docs/conditions.md).
 *
 *   na64 cond list [--run N]            detectors valid for run N (all records without --run)
 *   na64 cond show NAME [--run N]       a detector (its planes or cells), a plane (its wires) or a magnet
 *   na64 cond runs                      run ranges, setups and beams
 *   na64 cond export [FILE.sql]         every record as SQL text (stdout without FILE)
 *   na64 cond import FILE.sql...        add records from SQL text (all or nothing)
 *   na64 cond validate | migrate        check every record / upgrade the schema in place
 *   na64 cond build --out DB FILE.sql...  build a database from SQL text (used at build time)
 *
 * Every subcommand takes --db PATH (default: $NA64_CONDITIONS_DB, else the database built with or
 * installed next to this program). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "na64/cond.h"
#include "na64/geom.h"

#define MAXPOS 256

static void print_cond_usage(FILE *out)
{
  fprintf(out,
          "usage: na64 cond <list|show|runs|export|import|validate|migrate|build> [options]\n\n"
          "The conditions database: setup geometry, channel maps and calibrations of NA64, each record\n"
          "valid for an interval of runs (docs/conditions.md).\n\n"
          "  list [--run N]             detectors valid for run N (every detector record without --run)\n"
          "  show NAME [--run N]        a detector (planes or cells), a plane (wires) or a magnet\n"
          "  runs                       run ranges with setup, beam (GeV) and electrons on target\n"
          "  export [FILE.sql]          every record as SQL INSERT text (to stdout without FILE)\n"
          "  import FILE.sql...         add the records of SQL files; a bad file is rejected whole\n"
          "  validate                   check every record and the setup of every run range\n"
          "  migrate                    upgrade an older database file to the current schema in place\n"
          "  build --out DB FILE.sql... build a new database from SQL files (done at build time)\n\n"
          "Common option: --db PATH (default: $%s, else the conditions.db built with or installed\n"
          "next to this program). Units: cm, degrees, GeV, ns, T*m. 'na64 cond <sub> --help' for details.\n",
          NA64_COND_ENV);
}

static int open_db(const char *cmd, const char *path, int flags, na64_cond **db)
{
  na64_err err = {0, ""};
  if (na64_cond_open(path, flags, db, &err) != NA64_OK) return cli_fail(cmd, &err);
  return CLI_EXIT_OK;
}

static void fmt_run(char *buf, size_t n, int run)
{
  if (run == NA64_COND_RUN_OPEN) snprintf(buf, n, "open");
  else snprintf(buf, n, "%d", run);
}

static void fmt_num(char *buf, size_t n, double v)
{
  if (isnan(v)) buf[0] = '\0';
  else snprintf(buf, n, "%.6g", v);
}

/* ---- list ---- */

static int list_run(const char *cmd, na64_cond *db, int run, cli_format fmt)
{
  na64_err err = {0, ""};
  na64_geom *g = NULL;
  if (na64_geom_load(db, run, &g, &err) != NA64_OK) return cli_fail(cmd, &err);
  if (fmt == FMT_TABLE) {
    char eot[32];
    if (isnan(g->eot)) snprintf(eot, sizeof eot, "unknown");
    else snprintf(eot, sizeof eot, "%.4g", g->eot);
    printf("# run %d: setup %s (%s mode, %d), %s beam %g GeV, run range %d-%d, EOT %s\n", run, g->setup, g->mode,
           g->year, g->beam_particle, g->beam_energy, g->first_run, g->last_run, eot);
  }
  static const char *const names[] = {"detector", "kind", "x_cm", "y_cm", "z_cm", "planes", "channels", "cells",
                                      "sections"};
  cli_table *t = cli_table_new(9, names);
  for (int i = 0; i < g->ndetectors; ++i) {
    const na64_geom_detector *d = &g->detectors[i];
    int nch = 0;
    for (int k = 0; k < g->nplanes; ++k)
      if (g->planes[k].detector == i) nch += g->planes[k].nwires;
    char x[32], y[32], z[32], np[16], ch[16], nc[16], ns[16];
    fmt_num(x, sizeof x, d->centre[0]);
    fmt_num(y, sizeof y, d->centre[1]);
    fmt_num(z, sizeof z, d->centre[2]);
    snprintf(np, sizeof np, "%d", d->nplanes);
    snprintf(ch, sizeof ch, "%d", nch);
    snprintf(nc, sizeof nc, "%d", d->ncells);
    snprintf(ns, sizeof ns, "%d", d->nsections);
    const char *cells[] = {d->name, na64_geom_kind_name(d->kind), x, y, z, np, ch, nc, ns};
    cli_table_add_text_row(t, cells);
  }
  cli_table_print(t, fmt, stdout);
  cli_table_free(t);
  if (fmt == FMT_TABLE) {
    printf("# magnets:");
    for (int i = 0; i < g->nmagnets; ++i)
      printf(" %s (z %g cm, %g T*m)", g->magnets[i].name, g->magnets[i].centre[2], g->magnets[i].field_integral);
    printf("; total field integral %g T*m\n", na64_geom_field_integral(g));
  }
  na64_geom_free(g);
  return CLI_EXIT_OK;
}

static int list_all(const char *cmd, na64_cond *db, cli_format fmt)
{
  na64_err err = {0, ""};
  na64_cond_records *r = NULL;
  if (na64_cond_fetch(db, NA64_COND_ALL_RUNS, &r, &err) != NA64_OK) return cli_fail(cmd, &err);
  static const char *const names[] = {"detector", "kind", "setup", "first_run", "last_run", "z_cm", "id"};
  cli_table *t = cli_table_new(7, names);
  for (size_t i = 0; i < r->ndetectors; ++i) {
    const na64_cond_detector *d = &r->detectors[i];
    char fr[16], lr[16], z[32], id[24];
    snprintf(fr, sizeof fr, "%d", d->iov.first_run);
    fmt_run(lr, sizeof lr, d->iov.last_run);
    fmt_num(z, sizeof z, d->z);
    snprintf(id, sizeof id, "%lld", (long long)d->iov.id);
    const char *cells[] = {d->name, d->kind, d->iov.setup[0] ? d->iov.setup : "*", fr, lr, z, id};
    cli_table_add_text_row(t, cells);
  }
  cli_table_print(t, fmt, stdout);
  cli_table_free(t);
  na64_cond_records_free(r);
  return CLI_EXIT_OK;
}

/* ---- show ---- */

static void show_planes(const na64_geom *g, int det, cli_format fmt)
{
  static const char *const names[] = {"plane", "x_cm", "y_cm", "z_cm", "angle_deg", "pitch_cm", "channels",
                                      "diameter_cm", "t0_records", "rt_points", "sigma_r_cm"};
  cli_table *t = cli_table_new(11, names);
  for (int i = 0; i < g->nplanes; ++i) {
    const na64_geom_plane *p = &g->planes[i];
    if (p->detector != det) continue;
    char v[10][32];
    fmt_num(v[0], 32, p->centre[0]);
    fmt_num(v[1], 32, p->centre[1]);
    fmt_num(v[2], 32, p->centre[2]);
    fmt_num(v[3], 32, p->angle * 180.0 / 3.14159265358979323846);
    fmt_num(v[4], 32, p->pitch);
    snprintf(v[5], 32, "%d", p->nwires);
    fmt_num(v[6], 32, p->diameter);
    snprintf(v[7], 32, "%d", p->nt0);
    snprintf(v[8], 32, "%d", p->rt_n);
    fmt_num(v[9], 32, p->rt_n ? p->sigma_r : NAN);
    const char *cells[] = {p->name, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]};
    cli_table_add_text_row(t, cells);
  }
  cli_table_print(t, fmt, stdout);
  cli_table_free(t);
}

static void key_text(char *buf, size_t n, uint64_t key)
{
  if (key == NA64_GEOM_NO_KEY) {
    buf[0] = '\0';
    return;
  }
  uint32_t s, p, c, ch;
  na64_geom_key_unpack(key, &s, &p, &c, &ch);
  snprintf(buf, n, "%u/%u/%u/%u", s, p, c, ch);
}

static void show_cells(const na64_geom *g, const na64_geom_detector *d, cli_format fmt)
{
  if (fmt == FMT_TABLE)
    for (int s = 0; s < d->nsections; ++s) {
      const na64_geom_section *sec = &d->sections[s];
      printf("# section %d %s: z_offset %g cm, length %g cm, %d layers of %s%g cm %s + %g cm %s = %.3g X0, %.3g "
             "lambda_I\n",
             s, sec->name, sec->z_offset, sec->length, sec->nlayers, sec->absorber >= 0 ? "" : "",
             sec->absorber >= 0 ? sec->absorber_thickness : 0.0,
             sec->absorber >= 0 ? g->materials[sec->absorber].name : "(none)", sec->active_thickness,
             g->materials[sec->active].name, sec->depth_x0, sec->depth_lambda);
    }
  static const char *const names[] = {"module", "ix", "iy", "x_cm", "y_cm", "z_cm", "size_x_cm", "size_y_cm",
                                      "size_z_cm", "gain_GeV_per_count", "ped_even", "ped_odd", "daq_src/port/chip/ch"};
  cli_table *t = cli_table_new(13, names);
  for (int i = 0; i < d->ncells; ++i) {
    const na64_geom_cell *c = &g->cells[d->first_cell + i];
    char v[12][48];
    char gains[160] = "", peds_e[160] = "", peds_o[160] = "", keys[200] = "";
    snprintf(v[0], 48, "%d", c->module);
    snprintf(v[1], 48, "%d", c->ix);
    snprintf(v[2], 48, "%d", c->iy);
    fmt_num(v[3], 48, c->centre[0]);
    fmt_num(v[4], 48, c->centre[1]);
    fmt_num(v[5], 48, c->centre[2]);
    fmt_num(v[6], 48, c->size[0]);
    fmt_num(v[7], 48, c->size[1]);
    fmt_num(v[8], 48, c->size[2]);
    /* one value per section, separated by ';' */
    for (int s = 0; s < d->nsections; ++s) {
      char a[48], k[48];
      size_t l;
      fmt_num(a, sizeof a, c->has_calib[s] ? c->gain[s] : NAN);
      l = strlen(gains);
      snprintf(gains + l, sizeof gains - l, "%s%s", s ? ";" : "", a);
      fmt_num(a, sizeof a, c->has_calib[s] ? c->ped_even[s] : NAN);
      l = strlen(peds_e);
      snprintf(peds_e + l, sizeof peds_e - l, "%s%s", s ? ";" : "", a);
      fmt_num(a, sizeof a, c->has_calib[s] ? c->ped_odd[s] : NAN);
      l = strlen(peds_o);
      snprintf(peds_o + l, sizeof peds_o - l, "%s%s", s ? ";" : "", a);
      key_text(k, sizeof k, c->daq_key[s]);
      l = strlen(keys);
      snprintf(keys + l, sizeof keys - l, "%s%s", s ? ";" : "", k);
    }
    const char *cells[] = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], gains, peds_e, peds_o, keys};
    cli_table_add_text_row(t, cells);
  }
  cli_table_print(t, fmt, stdout);
  cli_table_free(t);
}

static void show_wires(const na64_geom_plane *p, cli_format fmt)
{
  if (fmt == FMT_TABLE) {
    printf("# plane %s: centre (%g, %g, %g) cm, angle %g deg, %d %s, pitch %g cm", p->name, p->centre[0],
           p->centre[1], p->centre[2], p->angle * 180.0 / 3.14159265358979323846, p->nwires,
           p->kind == NA64_DET_STRAW ? "wires" : "strips", p->pitch);
    if (p->kind == NA64_DET_STRAW) printf(", straw diameter %g cm", p->diameter);
    if (p->rt_n) {
      printf("\n# r(t):");
      for (int i = 0; i < p->rt_n; ++i) printf(" (%g ns, %g cm)", p->rt_t[i], p->rt_r[i]);
      printf("; sigma_r %g cm", p->sigma_r);
    }
    printf("\n");
  }
  static const char *const names[] = {"wire", "layer", "u_cm", "x_cm", "y_cm", "z_cm", "t0_ns", "daq_src/port/chip/ch"};
  cli_table *t = cli_table_new(8, names);
  for (int w = 0; w < p->nwires; ++w) {
    const na64_geom_wire *o = &p->wires[w];
    char v[7][48];
    snprintf(v[0], 48, "%d", w);
    snprintf(v[1], 48, "%d", o->layer);
    fmt_num(v[2], 48, o->u);
    fmt_num(v[3], 48, o->pos[0]);
    fmt_num(v[4], 48, o->pos[1]);
    fmt_num(v[5], 48, o->pos[2]);
    fmt_num(v[6], 48, p->nt0 ? p->t0[w] : NAN);
    char k[48];
    key_text(k, sizeof k, p->daq_key[w]);
    const char *cells[] = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], k};
    cli_table_add_text_row(t, cells);
  }
  cli_table_print(t, fmt, stdout);
  cli_table_free(t);
}

static int show_run(const char *cmd, na64_cond *db, const char *name, int run, cli_format fmt)
{
  na64_err err = {0, ""};
  na64_geom *g = NULL;
  if (na64_geom_load(db, run, &g, &err) != NA64_OK) return cli_fail(cmd, &err);
  const na64_geom_detector *d = na64_geom_find_detector(g, name);
  const na64_geom_plane *p = na64_geom_find_plane(g, name);
  const na64_geom_magnet *m = na64_geom_find_magnet(g, name);
  int status = CLI_EXIT_OK;
  if (d) {
    if (fmt == FMT_TABLE) {
      printf("# %s: %s, centre (%g, %g, %g) cm, size %g x %g x %g cm", d->name, na64_geom_kind_name(d->kind),
             d->centre[0], d->centre[1], d->centre[2], d->size[0], d->size[1], d->size[2]);
      if (d->material >= 0) printf(", %s", g->materials[d->material].name);
      printf("; run %d, setup %s\n", run, g->setup);
    }
    if (d->nplanes) show_planes(g, (int)(d - g->detectors), fmt);
    else if (d->ncells) show_cells(g, d, fmt);
  } else if (p) {
    show_wires(p, fmt);
  } else if (m) {
    static const char *const names[] = {"magnet", "x_cm", "y_cm", "z_cm", "length_cm", "field_integral_Tm", "field_T",
                                        "aperture_x_cm", "aperture_y_cm"};
    cli_table *t = cli_table_new(9, names);
    char v[8][32];
    fmt_num(v[0], 32, m->centre[0]);
    fmt_num(v[1], 32, m->centre[1]);
    fmt_num(v[2], 32, m->centre[2]);
    fmt_num(v[3], 32, m->length);
    fmt_num(v[4], 32, m->field_integral);
    fmt_num(v[5], 32, m->field);
    fmt_num(v[6], 32, m->aperture[0]);
    fmt_num(v[7], 32, m->aperture[1]);
    const char *cells[] = {m->name, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
    cli_table_add_text_row(t, cells);
    cli_table_print(t, fmt, stdout);
    cli_table_free(t);
  } else {
    fprintf(stderr, "na64 %s: error: no detector, plane or magnet named '%s' is valid for run %d (setup %s); detectors:",
            cmd, name, run, g->setup);
    for (int i = 0; i < g->ndetectors; ++i) fprintf(stderr, " %s", g->detectors[i].name);
    fprintf(stderr, "\n");
    status = CLI_EXIT_FAIL;
  }
  na64_geom_free(g);
  return status;
}

static int show_all(const char *cmd, na64_cond *db, const char *name, cli_format fmt)
{
  na64_err err = {0, ""};
  na64_cond_records *r = NULL;
  if (na64_cond_fetch(db, NA64_COND_ALL_RUNS, &r, &err) != NA64_OK) return cli_fail(cmd, &err);
  static const char *const names[] = {"table", "id", "setup", "first_run", "last_run", "kind", "z_cm"};
  cli_table *t = cli_table_new(7, names);
  int found = 0;
#define ROW(tab, rec, kind, z)                                                                              \
  do {                                                                                                      \
    char id[24], fr[16], lr[16], zz[32];                                                                    \
    snprintf(id, sizeof id, "%lld", (long long)(rec)->iov.id);                                              \
    snprintf(fr, sizeof fr, "%d", (rec)->iov.first_run);                                                    \
    fmt_run(lr, sizeof lr, (rec)->iov.last_run);                                                            \
    fmt_num(zz, sizeof zz, z);                                                                              \
    const char *cells[] = {tab, id, (rec)->iov.setup[0] ? (rec)->iov.setup : "*", fr, lr, kind, zz};        \
    cli_table_add_text_row(t, cells);                                                                       \
    found++;                                                                                                \
  } while (0)
  for (size_t i = 0; i < r->ndetectors; ++i)
    if (!strcmp(r->detectors[i].name, name)) ROW("detectors", &r->detectors[i], r->detectors[i].kind, r->detectors[i].z);
  for (size_t i = 0; i < r->nplanes; ++i)
    if (!strcmp(r->planes[i].name, name)) ROW("planes", &r->planes[i], "plane", r->planes[i].z);
  for (size_t i = 0; i < r->nmagnets; ++i)
    if (!strcmp(r->magnets[i].name, name)) ROW("magnets", &r->magnets[i], "magnet", r->magnets[i].z);
#undef ROW
  int status = CLI_EXIT_OK;
  if (!found) {
    fprintf(stderr, "na64 %s: error: no detector, plane or magnet named '%s' in %s\n", cmd, name, na64_cond_path(db));
    status = CLI_EXIT_FAIL;
  } else {
    cli_table_print(t, fmt, stdout);
    if (fmt == FMT_TABLE) printf("# give --run N for the geometry, wires, cells and calibrations valid for run N\n");
  }
  cli_table_free(t);
  na64_cond_records_free(r);
  return status;
}

static int runs_table(const char *cmd, na64_cond *db, cli_format fmt)
{
  na64_err err = {0, ""};
  na64_cond_records *r = NULL;
  if (na64_cond_fetch(db, NA64_COND_ALL_RUNS, &r, &err) != NA64_OK) return cli_fail(cmd, &err);
  static const char *const names[] = {"first_run", "last_run", "setup", "mode", "year", "beam", "energy_GeV", "eot"};
  cli_table *t = cli_table_new(8, names);
  for (size_t i = 0; i < r->nruns; ++i) {
    const na64_cond_run_info *ri = &r->runs[i];
    char fr[16], lr[16], y[16], e[32], eot[32];
    snprintf(fr, sizeof fr, "%d", ri->iov.first_run);
    fmt_run(lr, sizeof lr, ri->iov.last_run);
    snprintf(y, sizeof y, "%d", ri->year);
    fmt_num(e, sizeof e, ri->beam_energy);
    fmt_num(eot, sizeof eot, ri->eot);
    const char *cells[] = {fr, lr, ri->iov.setup, ri->mode, y, ri->beam_particle, e, eot};
    cli_table_add_text_row(t, cells);
  }
  cli_table_print(t, fmt, stdout);
  cli_table_free(t);
  na64_cond_records_free(r);
  return CLI_EXIT_OK;
}

/* ---- dispatch ---- */

/* The synopsis, options (a selection of opts, rearranged in place) and positional arguments of
 * subcommand sub into c; non-zero for an unknown subcommand. */
static int cond_subcommand(const char *sub, cli_opt *opts, cli_cmd *c)
{
  c->nopts = 4;
  c->pos_min = c->pos_max = 0;
  c->args = NULL;
  if (!strcmp(sub, "list")) {
    c->synopsis = "na64 cond list [--run N]: the detectors valid for run N with their position (cm), planes,\n"
                  "channels, cells and readout sections; without --run, every detector record with its setup and\n"
                  "interval of validity.";
    c->nopts = 3;
  } else if (!strcmp(sub, "show")) {
    c->synopsis = "na64 cond show NAME [--run N]: with --run, a detector's planes (or its cells with gains in GeV\n"
                  "per ADC count, pedestals and DAQ channels), a plane's wires (global positions in cm, t0 in ns)\n"
                  "or a magnet (T*m); without --run, every record named NAME with its interval of validity.";
    c->nopts = 3;
    c->args = "NAME";
    c->pos_min = c->pos_max = 1;
  } else if (!strcmp(sub, "runs")) {
    c->synopsis = "na64 cond runs: run ranges with their setup, mode, year, beam particle, energy (GeV) and EOT.";
    opts[1] = opts[2];
    c->nopts = 2;
  } else if (!strcmp(sub, "export")) {
    c->synopsis = "na64 cond export [FILE.sql]: every record as INSERT statements (stdout without FILE).";
    c->nopts = 1;
    c->args = "[FILE.sql]";
    c->pos_max = 1;
  } else if (!strcmp(sub, "import")) {
    c->synopsis = "na64 cond import FILE.sql...: add the records of each file (INSERT statements only). A file\n"
                  "with any error is rejected whole with its line number and the database is left unchanged.";
    c->nopts = 1;
    c->args = "FILE.sql...";
    c->pos_min = 1;
    c->pos_max = MAXPOS;
    c->pos_input = "FILE.sql"; /* every file checked before the database is opened */
  } else if (!strcmp(sub, "validate")) {
    c->synopsis = "na64 cond validate: check every record and the setup of every run range.";
    c->nopts = 1;
  } else if (!strcmp(sub, "migrate")) {
    c->synopsis = "na64 cond migrate: upgrade the database file to the current schema version in place.";
    c->nopts = 1;
  } else if (!strcmp(sub, "build")) {
    c->synopsis = "na64 cond build --out DB [--force] [FILE.sql...]: create a new database DB from SQL files\n"
                  "imported in order (the schema is created first; no file: an empty database). An existing DB is\n"
                  "replaced only with --force. Used at build time for the default database.";
    opts[0] = opts[3];
    opts[0].required = 1;
    opts[1] = opts[4];
    c->nopts = 2;
    c->args = "[FILE.sql...]";
    c->pos_max = MAXPOS; /* no file: an empty database with the current schema */
  } else {
    return 1;
  }
  c->opts = opts;
  return 0;
}

/* Subcommand sub (not build) on the open database db; the exit status. */
static int cond_dispatch(const char *cmd, const char *sub, na64_cond *db, char **pos, int npos, long run, cli_format f)
{
  na64_err err = {0, ""};
  int st = CLI_EXIT_OK;
  if (!strcmp(sub, "list")) {
    st = run >= 0 ? list_run(cmd, db, (int)run, f) : list_all(cmd, db, f);
  } else if (!strcmp(sub, "show")) {
    st = run >= 0 ? show_run(cmd, db, pos[0], (int)run, f) : show_all(cmd, db, pos[0], f);
  } else if (!strcmp(sub, "runs")) {
    st = runs_table(cmd, db, f);
  } else if (!strcmp(sub, "export")) {
    int s = npos ? na64_cond_export_file(db, pos[0], &err) : na64_cond_export(db, stdout, &err);
    st = s == NA64_OK ? CLI_EXIT_OK : cli_fail(cmd, &err);
  } else if (!strcmp(sub, "import")) {
    for (int i = 0; i < npos && st == CLI_EXIT_OK; ++i) {
      if (na64_cond_import_file(db, pos[i], &err) != NA64_OK) st = cli_fail(cmd, &err);
      else fprintf(stderr, "na64 %s: imported %s into %s\n", cmd, pos[i], na64_cond_path(db));
    }
  } else if (!strcmp(sub, "validate")) {
    if (na64_cond_validate(db, &err) != NA64_OK) st = cli_fail(cmd, &err);
    else printf("%s: valid (schema version %d)\n", na64_cond_path(db), na64_cond_schema_version());
  } else if (!strcmp(sub, "migrate")) {
    int v = 0;
    if (na64_cond_user_version(db, &v, &err) != NA64_OK) st = cli_fail(cmd, &err);
    else printf("%s: schema version %d\n", na64_cond_path(db), v);
  }
  return st;
}

int cmd_cond(int argc, char **argv)
{
  if (argc < 2) {
    print_cond_usage(stderr);
    return CLI_EXIT_USAGE;
  }
  const char *sub = argv[1];
  if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
    print_cond_usage(stdout);
    return CLI_EXIT_OK;
  }
  char cmd[64];
  snprintf(cmd, sizeof cmd, "cond %s", sub);

  const char *db_path = NULL, *out_path = NULL;
  int force = 0;
  long run = -1;
  int fmt = FMT_TABLE;
  cli_opt opts[] = {
      {"--db", OPT_STRING, &db_path, 1, 0, 0, NULL, 0, "conditions database file (default: $" NA64_COND_ENV
                                                       " or the built/installed conditions.db)", 0},
      {"--run", OPT_INT, &run, 0, NA64_COND_RUN_OPEN - 1, 0, NULL, 0, "run number", 0},
      {"--format", OPT_CHOICE, &fmt, 1, 0, 0, CLI_FORMAT_CHOICES, 0, "output format", 0},
      {"--out", OPT_STRING, &out_path, 1, 0, 0, NULL, 0, "database file to create (build)", 0},
      {"--force", OPT_FLAG, &force, 0, 0, 0, NULL, 0, "replace an existing --out file (build)", 0},
  };
  cli_cmd c = {.name = cmd};
  if (cond_subcommand(sub, opts, &c)) {
    fprintf(stderr, "na64 cond: unknown subcommand '%s' (one of list, show, runs, export, import, validate, migrate, build)\n",
            sub);
    return CLI_EXIT_USAGE;
  }
  int st = cli_parse_args(&c, argc - 1, argv + 1);
  if (st) return st < 0 ? CLI_EXIT_OK : st;

  if (!strcmp(sub, "build")) {
    na64_err err = {0, ""};
    if (na64_cond_build(out_path, (const char *const *)c.pos, c.npos, force ? NA64_COND_BUILD_FORCE : 0, &err) != NA64_OK)
      return cli_fail(cmd, &err);
    return CLI_EXIT_OK;
  }
  int writes = !strcmp(sub, "import") || !strcmp(sub, "migrate");
  na64_cond *db = NULL;
  st = open_db(cmd, db_path, writes ? NA64_COND_READWRITE : NA64_COND_READONLY, &db);
  if (st != CLI_EXIT_OK) return st;
  st = cond_dispatch(cmd, sub, db, c.pos, c.npos, run, (cli_format)fmt);
  na64_cond_close(db);
  return st;
}
