/* `na64 width`, `na64 xsec`, `na64 material`: the physics module from the command line. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "na64/io.h"
#include "na64/physics.h"

#define NOCHECK 1.0, 0.0, 0 /* no CLI range: the library validates physics values (exit 1) */

static const char *const dm_names[] = {"none", "dirac", "scalar", "pseudo-dirac"};

/* A physics refusal of the library (exit 1) names the command-line values it came from: the
 * library speaks GeV and its own names, the user typed --mass in MeV. 15 significant digits show
 * the values as typed (--eps 1.0000001, not %g's 1) and hide the last-bit rounding of MeV -> GeV
 * -> MeV. */
static int physics_fail(const char *cmd, na64_err *err, double mass_gev, double eps, double energy)
{
  na64_err_prefix(err, "--mass %.15g MeV, --eps %.15g, --energy %.15g GeV", mass_gev * 1e3, eps, energy);
  return cli_fail(cmd, err);
}

int cmd_width(int argc, char **argv)
{
  double mass = NAN, eps = NAN, alpha_d = 0.1, mchi = NAN, delta = 0.1, energy = 100.0;
  int dm = 0, fmt = FMT_TABLE;
  cli_opt opts[] = {
      {"--mass", OPT_DOUBLE, &mass, NOCHECK, NULL, 1, "A' mass, MeV", 0},
      {"--eps", OPT_DOUBLE, &eps, NOCHECK, NULL, 1, "kinetic mixing epsilon, (0, 1]", 0},
      {"--dm", OPT_CHOICE, &dm, NOCHECK, "none|dirac|scalar|pseudo-dirac", 0,
       "invisible decay to dark matter (default none: visible channels only)", 0},
      {"--alpha-d", OPT_DOUBLE, &alpha_d, NOCHECK, NULL, 0, "with --dm: dark coupling alpha_D (default 0.1)", 0},
      {"--mchi", OPT_DOUBLE, &mchi, NOCHECK, NULL, 0, "with --dm: dark-matter mass m_chi, MeV (default m_A'/3)", 0},
      {"--delta", OPT_DOUBLE, &delta, NOCHECK, NULL, 0, "with --dm pseudo-dirac: splitting (m2-m1)/m1 (default 0.1)", 0},
      {"--energy", OPT_DOUBLE, &energy, NOCHECK, NULL, 0, "A' lab energy for the decay length, GeV (default 100)", 0},
      {"--format", OPT_CHOICE, &fmt, NOCHECK, CLI_FORMAT_CHOICES, 0, "output format (default table)", 0},
  };
  int st = cli_parse("width", "A' partial widths (GeV), branching ratios, proper lifetime (ns), c tau and lab\n"
                     "decay length (cm) at the given energy. Masses in MeV, energies in GeV.",
                     argc, argv, opts, (int)(sizeof opts / sizeof opts[0]));
  if (st) return st < 0 ? CLI_EXIT_OK : st;
  /* the dark-sector parameters mean nothing for a visible-only A' */
  static const char *const dm_only[] = {"--alpha-d", "--mchi", "--delta"};
  for (int i = 0; i < 3; ++i)
    if (dm == 0 && cli_opt_seen(opts, CLI_NOPTS(opts), dm_only[i]))
      return cli_usage_error("width", "%s applies with --dm dirac|scalar|pseudo-dirac only", dm_only[i]);
  if (dm != 3 && cli_opt_seen(opts, CLI_NOPTS(opts), "--delta"))
    return cli_usage_error("width", "--delta applies with --dm pseudo-dirac only");
  na64_aprime a = {mass * 1e-3, eps, (na64_dm_type)dm, alpha_d, isnan(mchi) ? mass * 1e-3 / 3.0 : mchi * 1e-3, delta};
  na64_aprime_decay d;
  na64_err err = {0};
  double L = NAN;
  if (na64_aprime_decay_compute(&a, &d, &err) || na64_aprime_decay_length(&a, energy, &L, &err))
    return physics_fail("width", &err, mass * 1e-3, eps, energy);
  const char *names[] = {"mass_MeV", "eps", "dm", "width_ee_GeV", "width_mumu_GeV", "width_had_GeV",
                         "width_inv_GeV", "width_GeV", "br_ee", "br_mumu", "br_had", "br_inv",
                         "tau_ns", "ctau_cm", "energy_GeV", "decay_length_cm"};
  cli_table *t = cli_table_new(16, names);
  char c[16][48];
  double v[16] = {mass, eps, 0, d.width_ee, d.width_mumu, d.width_had, d.width_inv, d.width_total,
                  d.br_ee, d.br_mumu, d.br_had, d.br_inv, d.tau, d.ctau, energy, L};
  const char *cells[16];
  for (int i = 0; i < 16; ++i) {
    na64_num_format(c[i], sizeof c[i], "%.10g", v[i]);
    cells[i] = c[i];
  }
  cells[2] = dm_names[dm];
  cli_table_add_text_row(t, cells);
  cli_table_print(t, (cli_format)fmt, stdout);
  cli_table_free(t);
  return CLI_EXIT_OK;
}

static int print_dsdx(na64_xsec_method method, const na64_material *mat, double E0, double m, double eps, int npts,
                      cli_format fmt)
{
  const char *names[] = {"x", "E_Aprime_GeV", "dsigma_dx_pb"};
  cli_table *t = cli_table_new(3, names);
  double xlo = m / E0;
  na64_err err = {0};
  for (int i = 0; i < npts; ++i) {
    double x = xlo + (1.0 - xlo) * (i + 0.5) / npts, d;
    if (na64_xsec_dsdx(method, x, E0, m, eps, mat->comp[0].Z, mat->comp[0].A, &d, &err)) {
      cli_table_free(t);
      return physics_fail("xsec", &err, m, eps, E0);
    }
    double row[3] = {x, x * E0, d};
    cli_table_add_row(t, row);
  }
  cli_table_print(t, fmt, stdout);
  cli_table_free(t);
  return CLI_EXIT_OK;
}

/* --method exact: the tree-level matrix-element calculation (na64_xsec_exact_*), any beam lepton
 * and mediator; --eps is the coupling (eps for vector, g otherwise). Pure element targets per
 * component: sigma_pb is the mean per atom, as for the other methods. The total at 1% by the
 * deterministic Gauss rules (na64_xsec_exact_quad, the default everywhere else too) or, with
 * --integrator vegas, by VEGAS (na64_xsec_exact_total, seed 1: the cross-check). */
static int xsec_exact(const na64_material *mat, double E0, double m, double coupling, int beam, int med, int dsdx,
                      int npts, int vegas, cli_format fmt)
{
  na64_err err = {0};
  na64_exact_process p;
  na64_exact_process_init(&p, (na64_lepton)beam, (na64_mediator)med, E0, m);
  p.coupling = coupling;
  p.Z = mat->comp[0].Z;
  p.A = mat->comp[0].A;
  if (dsdx) {
    const char *names[] = {"x", "E_X_GeV", "dsigma_dx_pb", "error_pb"};
    cli_table *t = cli_table_new(4, names);
    double xlo = m / E0;
    for (int i = 0; i < npts; ++i) {
      double x = xlo + (1.0 - xlo) * (i + 0.5) / npts, d, e;
      if (na64_xsec_exact_dsdx(&p, x, &d, &e, &err)) {
        cli_table_free(t);
        return physics_fail("xsec", &err, m, coupling, E0);
      }
      double row[4] = {x, x * E0, d, e};
      cli_table_add_row(t, row);
    }
    cli_table_print(t, fmt, stdout);
    cli_table_free(t);
    return CLI_EXIT_OK;
  }
  double macro = 0.0, atoms = 0.0, var = 0.0;
  for (int i = 0; i < mat->ncomp; ++i) {
    double s, e, n = na64_material_atom_density(mat, i);
    p.Z = mat->comp[i].Z;
    p.A = mat->comp[i].A;
    int st = vegas ? na64_xsec_exact_total(&p, 0.01, 1, &s, &e, &err) : na64_xsec_exact_quad(&p, 0.01, &s, &e, &err);
    if (st) return physics_fail("xsec", &err, m, coupling, E0);
    macro += n * s * 1e-36;
    var += pow(n * e * 1e-36, 2);
    atoms += n;
  }
  const char *names[] = {"target",    "beam",     "mediator", "energy_GeV", "mass_MeV", "coupling",
                         "method",    "integrator", "lambda_cm", "sigma_pb",  "error_pb"};
  char c[11][48];
  na64_num_format(c[3], 48, "%.10g", E0);
  na64_num_format(c[4], 48, "%.10g", m * 1e3);
  na64_num_format(c[5], 48, "%.10g", coupling);
  na64_num_format(c[8], 48, "%.10g", 1.0 / macro);
  na64_num_format(c[9], 48, "%.6g", macro / atoms * 1e36);
  na64_num_format(c[10], 48, "%.2g", sqrt(var) / atoms * 1e36);
  const char *cells[11] = {mat->name, na64_lepton_name((na64_lepton)beam), na64_mediator_name((na64_mediator)med),
                           c[3], c[4], c[5], "exact", vegas ? "vegas" : "gauss", c[8], c[9], c[10]};
  cli_table *t = cli_table_new(11, names);
  cli_table_add_text_row(t, cells);
  cli_table_print(t, fmt, stdout);
  cli_table_free(t);
  return CLI_EXIT_OK;
}

/* --method exact --grid DIR: the shipped grids of the exact total (na64_exact_grid_eval;
 * docs/physics.md 4d), one file per element DIR/exact_grid_e_vector_Z<Z>.csv, for every element of
 * the built-in materials (or of --target only), each node by na64_xsec_exact_quad to
 * NA64_EXACT_GRID_PREC; the header names the command, version, date and atomic weight. */
static int grid_element(const char *dir, int Z, double A, const char *date, na64_err *err)
{
  const double *ms, *Es;
  int nm, nE;
  na64_exact_grid_axes(&ms, &nm, &Es, &nE);
  size_t cap = 64 * (size_t)(nm * nE) + 1024, len = 0;
  char *buf = malloc(cap);
  if (!buf) return na64_err_set(err, NA64_ENOMEM, "grid: out of memory");
  len += (size_t)snprintf(buf + len, cap - len,
                          "# Exact tree-level total sigma(e- Z -> e- Z A') in pb at eps = 1: vector A', elastic + "
                          "quasi-elastic form factor, all x (src/physics/xsec_exact.c, na64_xsec_exact_quad to %g)\n"
                          "# Z = %d\n# A = %.10g\n# generated by: na64 xsec --method exact --grid DIR (na64 %s, %s)\n"
                          "mass_GeV,E0_GeV,sigma_pb\n",
                          NA64_EXACT_GRID_PREC, Z, A, na64_version(), date);
  int st = NA64_OK;
  for (int i = 0; st == NA64_OK && i < nm; ++i)
    for (int j = 0; st == NA64_OK && j < nE; ++j) {
      na64_exact_process p;
      na64_exact_process_init(&p, NA64_LEPTON_E, NA64_MED_VECTOR, Es[j], ms[i]);
      p.Z = Z;
      p.A = A;
      p.ff = NA64_FF_ALL;
      double s, e;
      st = na64_xsec_exact_quad(&p, NA64_EXACT_GRID_PREC, &s, &e, err);
      if (st == NA64_OK) len += (size_t)snprintf(buf + len, cap - len, "%.10g,%.10g,%.8g\n", ms[i], Es[j], s);
    }
  char name[64], path[4096];
  na64_exact_grid_name(Z, name, sizeof name);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (st == NA64_OK) st = na64_outfile_write_all(path, 0, buf, len, err);
  free(buf);
  return st;
}

static int xsec_grid(const char *dir, const char *only)
{
  na64_err err = {0};
  char date[32];
  time_t now = time(NULL);
  struct tm tm;
  strftime(date, sizeof date, "%Y-%m-%d", gmtime_r(&now, &tm));
  int done[101] = {0};
  for (int k = 0; k < na64_material_count(); ++k) {
    na64_material mat;
    if (na64_material_get(only ? only : na64_material_name(k), &mat, &err)) return cli_fail("xsec", &err);
    for (int i = 0; i < mat.ncomp; ++i) {
      int Z = (int)lround(mat.comp[i].Z);
      if (Z < 1 || Z > 100 || done[Z]) continue;
      done[Z] = 1;
      if (grid_element(dir, Z, mat.comp[i].A, date, &err)) return cli_fail("xsec", &err);
      fprintf(stderr, "na64 xsec: grid for Z = %d written\n", Z);
    }
    if (only) break;
  }
  return CLI_EXIT_OK;
}

/* --method exact --grid DIR --window: the shipped windowed grids sigma(x > x_min)
 * (na64_exact_wgrid_eval; docs/physics.md 4e) of one beam and mediator, one file per element
 * DIR/exact_wgrid_<beam>_<mediator>_Z<Z>.csv for the elements of --target (default ECAL, the
 * active target of the invisible mode), each node by na64_xsec_exact_quad to NA64_EXACT_WGRID_PREC,
 * the (mass, E0) rows shared among `threads` worker threads (the values do not depend on it). */
typedef struct {
  na64_lepton beam;
  na64_mediator med;
  double Z, A;
  const double *ms, *Es, *ws;
  int nE, nw, nrows;
  double prec; /* node precision (na64_exact_wgrid_axis) */
  double *sig; /* [row * nw + k] */
  int next, st, loose;
  na64_err err;
  pthread_mutex_t lock;
} wgrid_job;

static void *wgrid_worker(void *arg)
{
  wgrid_job *j = arg;
  for (;;) {
    pthread_mutex_lock(&j->lock);
    int r = j->st == NA64_OK && j->next < j->nrows ? j->next++ : -1;
    pthread_mutex_unlock(&j->lock);
    if (r < 0) return NULL;
    na64_err err = {0};
    int st = NA64_OK;
    for (int k = 0; st == NA64_OK && k < j->nw; ++k) {
      na64_exact_process p;
      na64_exact_process_init(&p, j->beam, j->med, j->Es[r % j->nE], j->ms[r / j->nE]);
      p.Z = j->Z;
      p.A = j->A;
      p.ff = NA64_FF_ALL;
      /* the column: w = 1 - x_min; for the muon s = (1 - m_mu/E0 - x_min)/(1 - m_mu/E0)
       * (na64_exact_wgrid_axis) */
      double ml = j->beam == NA64_LEPTON_MU ? NA64_M_MU : 0.0;
      p.x_min = j->ws[k] >= 1.0 ? 0.0 : ml > 0.0 ? (1.0 - j->ws[k]) * (1.0 - ml / p.E0) : 1.0 - j->ws[k];
      double e = 0.0, *out = &j->sig[(size_t)r * (size_t)j->nw + (size_t)k];
      /* a node that the Gauss ladder cannot bring to 0.5% (a few, at 1 MeV with the light
       * elements) is taken at 1% or 2% and counted in the header */
      /* (and, since exactgrid3, at 5% or 10%: a few muon nodes on hydrogen within 1e-4 of the
       * kinematic end, where sigma is ~1e-10 of the total) */
      const double precs[5] = {j->prec, 0.01, 0.02, 0.05, 0.1};
      for (int q = 0; q < 5; ++q) {
        st = na64_xsec_exact_quad(&p, precs[q], out, &e, &err);
        if (st != NA64_ENUMERIC) break;
        if (q == 0) {
          pthread_mutex_lock(&j->lock);
          ++j->loose;
          pthread_mutex_unlock(&j->lock);
        }
      }
    }
    if (st != NA64_OK) {
      pthread_mutex_lock(&j->lock);
      if (j->st == NA64_OK) {
        j->st = st;
        j->err = err;
      }
      pthread_mutex_unlock(&j->lock);
    }
  }
}

static int wgrid_element(const char *dir, na64_lepton beam, na64_mediator med, int Z, double A, const char *date,
                         int threads, na64_err *err)
{
  const double *ms, *Es, *ws;
  int nm, nE, nw;
  na64_exact_grid_axes(&ms, &nm, &Es, &nE);
  double prec = NA64_EXACT_WGRID_PREC;
  na64_exact_wgrid_axis(beam, med, Z, &ws, &nw, &prec);
  int j0 = 0;
  while (j0 < nE && Es[j0] < na64_exact_wgrid_emin(beam)) ++j0;
  wgrid_job j = {beam, med, Z, A, ms, Es + j0, ws, nE - j0, nw, nm * (nE - j0), prec, NULL, 0, NA64_OK, 0, {0}, PTHREAD_MUTEX_INITIALIZER};
  j.sig = calloc((size_t)j.nrows * (size_t)nw, sizeof *j.sig);
  size_t cap = (size_t)j.nrows * (size_t)(16 * nw + 48) + 2048, len = 0;
  char *buf = malloc(cap);
  if (!j.sig || !buf) {
    free(j.sig);
    free(buf);
    return na64_err_set(err, NA64_ENOMEM, "grid: out of memory");
  }
  pthread_t tid[16];
  int nt = threads < 1 ? 1 : threads > 16 ? 16 : threads, started = 0;
  for (int t = 1; t < nt; ++t)
    if (pthread_create(&tid[started], NULL, wgrid_worker, &j) == 0) ++started;
  wgrid_worker(&j);
  for (int t = 0; t < started; ++t) pthread_join(tid[t], NULL);
  int st = j.st;
  if (st != NA64_OK && err) *err = j.err;
  len += (size_t)snprintf(buf + len, cap - len,
                          "# Exact tree-level sigma(%s- Z -> %s- Z X; x = E_X/E0 > x_min) in pb at coupling 1: X = %s, "
                          "elastic + quasi-elastic form factor (src/physics/xsec_exact.c, na64_xsec_exact_quad to %g per node)\n"
                          "# nodes not reaching that precision, taken at 1%%, 2%%, 5%% or 10%%: %d\n"
                          "# columns w_<w>: w = 1 - x_min (w = 1: the total; the muon: s below); rows: mass outer, E0 inner\n"
                          "# Z = %d\n# A = %.10g\n# generated by: na64 xsec --method exact --grid DIR --window --beam %s "
                          "--mediator %s (na64 %s, %s)\n",
                          na64_lepton_name(beam), na64_lepton_name(beam), na64_mediator_name(med), prec,
                          j.loose, Z, A, na64_lepton_name(beam), na64_mediator_name(med), na64_version(), date);
  if (beam == NA64_LEPTON_MU) /* the s columns (na64_exact_wgrid_axis) */
    len += (size_t)snprintf(buf + len, cap - len, "# columns s_<s>: s = (1 - m_l/E0 - x_min)/(1 - m_l/E0)\n# m_l = %.10g\n",
                            NA64_M_MU);
  len += (size_t)snprintf(buf + len, cap - len, "mass_GeV,E0_GeV");
  for (int k = 0; k < nw; ++k) len += (size_t)snprintf(buf + len, cap - len, beam == NA64_LEPTON_MU ? ",s_%.6g" : ",w_%.6g", ws[k]);
  for (int r = 0; st == NA64_OK && r < j.nrows; ++r) {
    len += (size_t)snprintf(buf + len, cap - len, "\n%.10g,%.10g", ms[r / j.nE], j.Es[r % j.nE]);
    for (int k = 0; k < nw; ++k) len += (size_t)snprintf(buf + len, cap - len, ",%.6g", j.sig[(size_t)r * (size_t)nw + (size_t)k]);
  }
  len += (size_t)snprintf(buf + len, cap - len, "\n");
  char name[96], path[4096];
  na64_exact_wgrid_name(beam, med, Z, name, sizeof name);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (st == NA64_OK) st = na64_outfile_write_all(path, 0, buf, len, err);
  free(buf);
  free(j.sig);
  pthread_mutex_destroy(&j.lock);
  return st;
}

static int xsec_wgrid(const char *dir, const char *target, int beam, int med, int threads)
{
  na64_err err = {0};
  char date[32];
  time_t now = time(NULL);
  struct tm tm;
  strftime(date, sizeof date, "%Y-%m-%d", gmtime_r(&now, &tm));
  na64_material mat;
  if (na64_material_get(target, &mat, &err)) return cli_fail("xsec", &err);
  for (int i = 0; i < mat.ncomp; ++i) {
    int Z = (int)lround(mat.comp[i].Z);
    if (wgrid_element(dir, (na64_lepton)beam, (na64_mediator)med, Z, mat.comp[i].A, date, threads, &err))
      return cli_fail("xsec", &err);
    fprintf(stderr, "na64 xsec: windowed grid for %s %s Z = %d written\n", na64_lepton_name((na64_lepton)beam),
            na64_mediator_name((na64_mediator)med), Z);
  }
  return CLI_EXIT_OK;
}

int cmd_xsec(int argc, char **argv)
{
  const char *target = "Pb", *grid = NULL;
  double energy = NAN, mass = NAN, eps = NAN;
  int method = NA64_XS_ETL, fmt = FMT_TABLE, dsdx = 0, beam = 0, med = 0, integrator = 0, window = 0;
  long npts = 50, threads = 1;
  cli_opt opts[] = {
      {"--target", OPT_STRING, &target, NOCHECK, NULL, 0, "target material (default Pb; see 'na64 material')", 0},
      {"--energy", OPT_DOUBLE, &energy, NOCHECK, NULL, 0, "beam energy E0, GeV (valid 10-200); required", 0},
      {"--mass", OPT_DOUBLE, &mass, NOCHECK, NULL, 0, "A' mass, MeV (valid 1-1000); required", 0},
      {"--eps", OPT_DOUBLE, &eps, NOCHECK, NULL, 0, "kinetic mixing epsilon, (0, 1]; required", 0},
      {"--method", OPT_CHOICE, &method, NOCHECK, "ww|iww|etl|exact", 0,
       "cross-section calculation (default etl; exact: tree-level matrix element, any lepton/mediator)", 0},
      {"--beam", OPT_CHOICE, &beam, NOCHECK, "e|mu", 0, "beam lepton for --method exact (default e)", 0},
      {"--mediator", OPT_CHOICE, &med, NOCHECK, "vector|zprime|scalar|pseudoscalar|axial", 0,
       "emitted boson for --method exact (default vector; --eps is then its coupling g)", 0},
      {"--integrator", OPT_CHOICE, &integrator, NOCHECK, "gauss|vegas", 0,
       "total of --method exact by the Gauss rules (default, deterministic) or by VEGAS (seed 1)", 0},
      {"--grid", OPT_STRING, &grid, NOCHECK, NULL, 0,
       "with --method exact: write the shipped grids of the exact total (e-, vector) into directory DIR "
       "instead, for every element of the built-in materials or of --target", 0},
      {"--window", OPT_FLAG, &window, NOCHECK, NULL, 0,
       "with --grid: write the windowed grids sigma(x > x_min) of --beam and --mediator for the elements of "
       "--target (default ECAL) instead", 0},
      {"--threads", OPT_INT, &threads, 1, 16, 0, NULL, 0, "worker threads with --grid --window (default 1)", 0},
      {"--dsdx", OPT_FLAG, &dsdx, NOCHECK, NULL, 0, "print d sigma/dx (pb) on a grid of x = E_A'/E0 instead", 0},
      {"--points", OPT_INT, &npts, 2, 100000, 0, NULL, 0, "number of x points with --dsdx (default 50)", 0},
      {"--format", OPT_CHOICE, &fmt, NOCHECK, CLI_FORMAT_CHOICES, 0, "output format (default table)", 0},
  };
  int st = cli_parse("xsec", "Cross section of e- Z -> e- Z A' per atom (pb) and the A' mean free path in the\n"
                     "target (cm). For mixtures sigma_pb is the mean per atom. Masses in MeV, energies in GeV.",
                     argc, argv, opts, (int)(sizeof opts / sizeof opts[0]));
  if (st) return st < 0 ? CLI_EXIT_OK : st;
  const int nopt = (int)(sizeof opts / sizeof opts[0]);
  if (grid) {
    if (method != NA64_XS_EXACT) return cli_usage_error("xsec", "--grid needs --method exact");
    if (window)
      return xsec_wgrid(grid, cli_opt_seen(opts, nopt, "--target") ? target : "ECAL", beam, med, (int)threads);
    return xsec_grid(grid, cli_opt_seen(opts, nopt, "--target") ? target : NULL);
  }
  static const char *const required[] = {"--energy", "--mass", "--eps"};
  for (int k = 0; k < 3; ++k)
    if (!cli_opt_seen(opts, nopt, required[k]))
      return cli_usage_error("xsec", "missing required argument %s", required[k]);
  na64_err err = {0};
  na64_material mat;
  if (na64_material_get(target, &mat, &err)) return cli_fail("xsec", &err);
  double m = mass * 1e-3;
  if (method == 3) return xsec_exact(&mat, energy, m, eps, beam, med, dsdx, (int)npts, integrator, (cli_format)fmt);
  if (dsdx) return print_dsdx((na64_xsec_method)method, &mat, energy, m, eps, (int)npts, (cli_format)fmt);
  double macro;
  if (na64_xsec_macroscopic((na64_xsec_method)method, &mat, energy, m, eps, &macro, &err))
    return physics_fail("xsec", &err, m, eps, energy);
  double atoms = 0.0;
  for (int i = 0; i < mat.ncomp; ++i) atoms += na64_material_atom_density(&mat, i);
  double sigma_pb = macro / atoms * 1e36;
  const char *names[] = {"target", "energy_GeV", "mass_MeV", "eps", "method", "lambda_cm", "sigma_pb"};
  char c[7][48];
  na64_num_format(c[1], 48, "%.10g", energy);
  na64_num_format(c[2], 48, "%.10g", mass);
  na64_num_format(c[3], 48, "%.10g", eps);
  na64_num_format(c[5], 48, "%.10g", 1.0 / macro);
  na64_num_format(c[6], 48, "%.10g", sigma_pb);
  const char *cells[7] = {mat.name, c[1], c[2], c[3], na64_xsec_method_name((na64_xsec_method)method), c[5], c[6]};
  cli_table *t = cli_table_new(7, names);
  cli_table_add_text_row(t, cells);
  cli_table_print(t, (cli_format)fmt, stdout);
  cli_table_free(t);
  return CLI_EXIT_OK;
}

int cmd_material(int argc, char **argv)
{
  const char *name = NULL;
  int fmt = FMT_TABLE;
  cli_opt opts[] = {
      {"--name", OPT_STRING, &name, NOCHECK, NULL, 0, "one material (default: all built-in materials)", 0},
      {"--format", OPT_CHOICE, &fmt, NOCHECK, CLI_FORMAT_CHOICES, 0, "output format (default table)", 0},
  };
  int st = cli_parse("material", "Material properties: density (g/cm^3), radiation length X0, nuclear interaction\n"
                     "length and Moliere radius (cm), critical energy (MeV); PDG values and mixture rules.",
                     argc, argv, opts, (int)(sizeof opts / sizeof opts[0]));
  if (st) return st < 0 ? CLI_EXIT_OK : st;
  const char *names[] = {"name", "density_g_cm3", "X0_cm", "lambda_I_cm", "R_M_cm", "E_c_MeV", "Z_eff", "A_eff"};
  cli_table *t = cli_table_new(8, names);
  na64_err err = {0};
  int n = name ? 1 : na64_material_count();
  for (int i = 0; i < n; ++i) {
    na64_material mat;
    if (na64_material_get(name ? name : na64_material_name(i), &mat, &err)) {
      cli_table_free(t);
      return cli_fail("material", &err);
    }
    char c[8][48];
    double v[8] = {0, mat.density, mat.X0, mat.lambda_I, mat.R_M, mat.E_c * 1e3, mat.Z_eff, mat.A_eff};
    const char *cells[8];
    for (int k = 1; k < 8; ++k) {
      na64_num_format(c[k], 48, "%.6g", v[k]);
      cells[k] = c[k];
    }
    cells[0] = mat.name;
    cli_table_add_text_row(t, cells);
  }
  cli_table_print(t, (cli_format)fmt, stdout);
  cli_table_free(t);
  return CLI_EXIT_OK;
}
