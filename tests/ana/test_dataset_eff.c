/* `na64 limits --dataset SETUP:EOT[:SOURCE]` with measured efficiencies (issue 12,
 * src/ana/sensitivity_datasets.c): the combination with given efficiency tables against independent
 * computations, the interpolation against the formula, the combined background, the measurement on
 * the fly (seeded, independent of the threads) and the errors of bad run directories. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "na64/ana.h"
#include "support/na64_test.h"

#define DB NA64_BINARY_DIR "/conditions.db"

static void write_file(const char *dir, const char *name, const char *text)
{
  char path[2100];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* a report directory `name` holding a visible efficiency table and a card of run/energy */
static const char *rundir(const char *name, const char *eff_csv, long run, double energy, const char *bkg_csv)
{
  static char dir[1024];
  snprintf(dir, sizeof dir, "%s/%s", na64_test_tmpdir, name);
  mkdir(dir, 0777);
  write_file(dir, "efficiency.csv", eff_csv);
  char card[512];
  snprintf(card, sizeof card, "setup:\n  run: %ld\nbeam:\n  energy: %g\naprime:\n  decay: ee\n", run, energy);
  write_file(dir, "card.yaml", card);
  if (bkg_csv) write_file(dir, "background.csv", bkg_csv);
  return dir;
}

static na64_sens_options base_options(void)
{
  na64_sens_options o;
  na64_sens_options_default(&o);
  o.mode = NA64_SENS_VISIBLE;
  return o;
}

static void open_ok(const char *spec, na64_sens_dataset *ds)
{
  na64_sens_options o = base_options();
  na64_err err = {0, ""};
  int st = na64_sens_dataset_open(&o, DB, spec, 1, ds, NULL, 0, &err);
  if (st) fprintf(stderr, "%s\n", err.msg);
  assert_int_equal(st, NA64_OK);
}

static void curve(double m, na64_sens_curve *c)
{
  c->masses = malloc(sizeof(double));
  assert_non_null(c->masses);
  c->masses[0] = m;
  c->n = 1;
  c->pt = NULL;
}

/* One data set with efficiency 0.5 at every (m, eps) is the setup alone at half its EOT with
 * efficiency 1 above the sampler's threshold 0.1 E0 (the signal is EOT x eff x yield): the same edges
 * to the root finder's 1e-10 in ln eps (tolerance 1e-8). Background 0 in both. */
static void test_constant_efficiency_is_eot_times_eff(void **state)
{
  (void)state;
  const char *dir = rundir("half", "mass_MeV,eps,efficiency,efficiency_error\n"
                                   "10,1e-4,0.5,0.01\n10,3e-4,0.5,0.01\n10,9e-4,0.5,0.01\n"
                                   "20,1e-4,0.5,0.01\n20,3e-4,0.5,0.01\n20,9e-4,0.5,0.01\n",
                           2800, 100.0, NULL);
  char spec[1200];
  snprintf(spec, sizeof spec, "visible_2017:5.4e10:%s", dir);
  na64_sens_dataset ds;
  open_ok(spec, &ds);
  assert_int_equal(ds.eff.visible, 1);
  assert_int_equal(ds.eff.nmass, 2);
  na64_sens_options stats = base_options();
  stats.background = 0.0;
  na64_sens_curve a, b;
  curve(0.0167, &a);
  curve(0.0167, &b);
  assert_int_equal(na64_sens_curve_compute_datasets(&stats, 3u, &ds, 1, NULL, &a, NULL, NULL, NULL), NA64_OK);
  na64_sens_options o = ds.o;
  o.eot = 0.5 * 5.4e10;
  o.ea_min = NA64_VIS_EA_MIN_FRAC * 100.0;
  o.background = 0.0;
  assert_int_equal(na64_sens_curve_compute(&o, &b, NULL, NULL, NULL), NA64_OK);
  assert_true(isfinite(a.pt[0].eps_low) && isfinite(a.pt[0].eps_high));
  assert_rel(a.pt[0].eps_low, b.pt[0].eps_low, 1e-8);
  assert_rel(a.pt[0].eps_high, b.pt[0].eps_high, 1e-8);
  na64_sens_curve_release(&a);
  na64_sens_curve_release(&b);
  na64_sens_dataset_release(&ds);
}

/* Two identical data sets with an eps-dependent efficiency are one with the EOT summed, and their
 * combined background is the sum, its error the quadrature sum (the same limit as one data set at
 * twice the EOT with b = 2 b1, db = sqrt(2) db1 given explicitly). */
static void test_two_identical_equal_summed_eot(void **state)
{
  (void)state;
  const char *eff = "mass_MeV,eps,efficiency,efficiency_error\n"
                    "16.7,8e-5,0.1,0.01\n16.7,2e-4,0.4,0.01\n16.7,5e-4,0.8,0.01\n";
  const char *bkg = "source,enabled,events,in_box,rate_per_eot,error_per_eot,bound90_per_eot,events_at_eot,error_at_eot,"
                    "table2_per_eot,table2_at_eot\ntotal,1,,,2e-12,1e-12,0,0,0,3e-13,0\n";
  char spec[2][1200];
  snprintf(spec[0], sizeof spec[0], "visible_2017:2.7e11:%s", rundir("a", eff, 2800, 100.0, bkg));
  snprintf(spec[1], sizeof spec[1], "visible_2017:5.4e11:%s", rundir("b", eff, 2801, 100.0, bkg));
  na64_sens_dataset two[2], one;
  open_ok(spec[0], &two[0]);
  open_ok(spec[0], &two[1]);
  open_ok(spec[1], &one);
  assert_rel(two[0].background, 2e-12 * 2.7e11, 1e-12);
  assert_rel(two[0].background_error, 1e-12 * 2.7e11, 1e-12);
  na64_sens_options stats = base_options();
  stats.observed = 2; /* with 0 observed the CLs limit does not depend on b (Read 2002) */
  na64_sens_curve a, b;
  curve(0.0167, &a);
  curve(0.0167, &b);
  assert_int_equal(na64_sens_curve_compute_datasets(&stats, 0u, two, 2, NULL, &a, NULL, NULL, NULL), NA64_OK);
  stats.background = 2 * 2e-12 * 2.7e11;
  stats.background_error = sqrt(2.0) * 1e-12 * 2.7e11;
  assert_int_equal(na64_sens_curve_compute_datasets(&stats, 3u, &one, 1, NULL, &b, NULL, NULL, NULL), NA64_OK);
  assert_true(isfinite(a.pt[0].eps_low));
  assert_rel(a.pt[0].s_up, b.pt[0].s_up, 1e-12);
  assert_rel(a.pt[0].eps_low, b.pt[0].eps_low, 1e-8);
  assert_rel(a.pt[0].eps_high, b.pt[0].eps_high, 1e-8);
  /* the background counts: with 2 observed, s_up for b = 1.08 +- 0.38 is below the background-free one */
  na64_cls_config cls;
  na64_cls_config_default(&cls);
  double s0;
  assert_int_equal(na64_stats_cls_limit(&cls, 2, &s0, NULL), NA64_OK);
  assert_true(a.pt[0].s_up < s0 - 0.1);
  na64_sens_curve_release(&a);
  na64_sens_curve_release(&b);
  na64_sens_dataset_release(&two[0]);
  na64_sens_dataset_release(&two[1]);
  na64_sens_dataset_release(&one);
}

/* The observed counts of the data sets add (one counting experiment): observed=1 twice is --observed
 * 2; with a run directory before it too; bad counts are errors */
static void test_observed_counts_add(void **state)
{
  (void)state;
  const char *dir = rundir("obs", "mass_MeV,eps,efficiency,efficiency_error\n16.7,1e-4,0.5,0\n", 2800, 100.0, NULL);
  char spec[1200];
  snprintf(spec, sizeof spec, "visible_2017:5.4e10:%s:observed=1", dir);
  na64_sens_dataset ds[2], plain[2];
  open_ok(spec, &ds[0]);
  assert_int_equal(ds[0].observed, 1);
  assert_int_equal(ds[0].eff.nmass, 1); /* the directory was read */
  open_ok("visible_2018:3e10:observed=1", &ds[1]);
  assert_int_equal(ds[1].observed, 1);
  snprintf(spec, sizeof spec, "visible_2017:5.4e10:%s", dir);
  open_ok(spec, &plain[0]);
  open_ok("visible_2018:3e10", &plain[1]);
  assert_int_equal(plain[1].observed, 0);
  na64_sens_options stats = base_options();
  na64_sens_curve a, b;
  curve(0.0167, &a);
  curve(0.0167, &b);
  assert_int_equal(na64_sens_curve_compute_datasets(&stats, 0u, ds, 2, NULL, &a, NULL, NULL, NULL), NA64_OK);
  stats.observed = 2;
  assert_int_equal(na64_sens_curve_compute_datasets(&stats, 4u, plain, 2, NULL, &b, NULL, NULL, NULL), NA64_OK);
  assert_memory_equal(a.pt, b.pt, sizeof *a.pt);
  na64_cls_config cls;
  na64_cls_config_default(&cls);
  cls.b = ds[0].background + ds[1].background;
  double s2;
  assert_int_equal(na64_stats_cls_limit(&cls, 2, &s2, NULL), NA64_OK);
  assert_rel(a.pt[0].s_up, s2, 1e-12);
  for (int i = 0; i < 2; ++i) {
    na64_sens_dataset_release(&ds[i]);
    na64_sens_dataset_release(&plain[i]);
  }
  na64_sens_curve_release(&a);
  na64_sens_curve_release(&b);
}

/* eff(m, eps): linear in ln eps at each mass (constant outside the measured couplings), then linear
 * in ln m between the masses, the nearest beyond; computed here from the formula */
static void test_interpolation(void **state)
{
  (void)state;
  const char *dir = rundir("interp", "mass_MeV,eps,efficiency,efficiency_error\n"
                                     "10,1e-4,0.2,0\n10,1e-3,0.6,0\n"
                                     "40,1e-4,0.4,0\n40,2e-4,0.5,0\n40,1e-3,0.9,0\n",
                           2800, 100.0, NULL);
  na64_sens_eff_table t;
  assert_int_equal(na64_sens_eff_table_read(dir, &t, NULL), NA64_OK);
  const double eps = 4e-4, m = 0.020;
  double e10 = 0.2 + 0.4 * log(eps / 1e-4) / log(10.0);
  double e40 = 0.5 + 0.4 * log(eps / 2e-4) / log(5.0);
  double f = log(m / 0.010) / log(4.0);
  assert_rel(na64_sens_eff_table_at(&t, NA64_MED_VECTOR, m, eps), e10 + f * (e40 - e10), 1e-12);
  assert_rel(na64_sens_eff_table_at(&t, NA64_MED_VECTOR, 0.005, 1e-5), 0.2, 1e-15); /* below both ranges */
  assert_rel(na64_sens_eff_table_at(&t, NA64_MED_VECTOR, 0.1, 1e-2), 0.9, 1e-15);  /* above both */
  assert_true(na64_sens_eff_table_at(&t, NA64_MED_PSEUDOSCALAR, m, eps) == 0.0);   /* no x17.csv */
  na64_sens_eff_table_release(&t);
  /* ... so the pseudoscalar with this directory is an error naming it */
  char spec[1200];
  snprintf(spec, sizeof spec, "visible_2017:5.4e10:%s", dir);
  na64_sens_dataset ds;
  open_ok(spec, &ds);
  ds.o.mediator = NA64_MED_PSEUDOSCALAR;
  na64_sens_options stats = base_options();
  na64_sens_curve c;
  curve(0.0167, &c);
  na64_err err = {0, ""};
  assert_int_equal(na64_sens_curve_compute_datasets(&stats, 0u, &ds, 1, NULL, &c, NULL, NULL, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "has no x17.csv"));
  assert_non_null(strstr(err.msg, dir));
  /* the scalar (visscal): no table of its own in any run directory; the error names the scalar and
   * the way out, not the pseudoscalar's x17.csv (branch review) */
  ds.o.mediator = NA64_MED_SCALAR;
  err = (na64_err){0, ""};
  assert_int_equal(na64_sens_curve_compute_datasets(&stats, 0u, &ds, 1, NULL, &c, NULL, NULL, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "no efficiency table of the scalar"));
  assert_non_null(strstr(err.msg, dir));
  na64_sens_curve_release(&c);
  na64_sens_dataset_release(&ds);
}

/* psjoint: efficiency_pseudoscalar.csv (the pseudoscalar at every mass of the card) replaces the X17
 * row of x17.csv, interpolated as efficiency.csv (formula here); without it the X17 row serves every
 * mass (the behaviour before psjoint) */
static void test_pseudoscalar_masses(void **state)
{
  (void)state;
  const char *dir = rundir("psmasses", "mass_MeV,eps,efficiency,efficiency_error\n10,1e-4,0.2,0\n", 2800, 100.0, NULL);
  write_file(dir, "x17.csv", "coupling,mass_MeV,eps_low,eps_high,eps_low_eff1,eps_high_eff1,eff_low,eff_mid,eff_high,"
                             "published_low,published_high\n"
                             "pseudoscalar,16.7,nan,nan,nan,nan,0.7,0.7,0.7,0.00021,0.00032\n");
  na64_sens_eff_table t;
  assert_int_equal(na64_sens_eff_table_read(dir, &t, NULL), NA64_OK);
  assert_rel(na64_sens_eff_table_at(&t, NA64_MED_PSEUDOSCALAR, 0.005, 3e-4), 0.7, 1e-15); /* X17 row at any mass */
  na64_sens_eff_table_release(&t);
  write_file(dir, "efficiency_pseudoscalar.csv", "mass_MeV,eps,efficiency,efficiency_error\n"
                                                 "5,1e-4,0.1,0\n5,1e-3,0.5,0\n"
                                                 "16.7,2e-4,0.3,0\n16.7,3e-4,0.6,0\n");
  assert_int_equal(na64_sens_eff_table_read(dir, &t, NULL), NA64_OK);
  assert_int_equal(t.ps_nmass, 2);
  const double eps = 2.5e-4, m = 0.010;
  double e5 = 0.1 + 0.4 * log(eps / 1e-4) / log(10.0), e17 = 0.3 + 0.3 * log(eps / 2e-4) / log(1.5);
  double f = log(m / 0.005) / log(16.7 / 5.0);
  assert_rel(na64_sens_eff_table_at(&t, NA64_MED_PSEUDOSCALAR, m, eps), e5 + f * (e17 - e5), 1e-12);
  assert_rel(na64_sens_eff_table_at(&t, NA64_MED_PSEUDOSCALAR, 0.0167, 3e-4), 0.6, 1e-12);
  assert_rel(na64_sens_eff_table_at(&t, NA64_MED_VECTOR, 0.010, 1e-4), 0.2, 1e-15); /* the vector's own table */
  na64_sens_eff_table_release(&t);
}

static void open_fails(const char *spec, int want, const char *needle1, const char *needle2)
{
  na64_sens_options o = base_options();
  na64_sens_dataset ds;
  na64_err err = {0, ""};
  assert_int_equal(na64_sens_dataset_open(&o, DB, spec, 1, &ds, NULL, 0, &err), want);
  if (!strstr(err.msg, needle1) || !strstr(err.msg, needle2)) fprintf(stderr, "message: %s\n", err.msg);
  assert_non_null(strstr(err.msg, needle1));
  assert_non_null(strstr(err.msg, needle2));
  na64_sens_dataset_release(&ds);
}

/* Bad sources: a missing directory, a table of another setup, another beam energy, the other mode,
 * a malformed line; each message names the file and the value */
static void test_errors(void **state)
{
  (void)state;
  const char *good = "mass_MeV,eps,efficiency,efficiency_error\n16.7,1e-4,0.5,0\n";
  char spec[1200];
  open_fails("visible_2017:5.4e10:/nonexistent/rundir", NA64_EIO, "/nonexistent/rundir", "report directory");
  snprintf(spec, sizeof spec, "visible_2017:5.4e10:%s", rundir("other_setup", good, 4224, 150.0, NULL));
  open_fails(spec, NA64_EINVAL, "card.yaml: run 4224", "visible_2018");
  snprintf(spec, sizeof spec, "visible_2017:5.4e10:%s", rundir("other_energy", good, 2800, 150.0, NULL));
  open_fails(spec, NA64_EINVAL, "card.yaml: beam energy 150", "100 GeV");
  const char *inv = rundir("invisible", "mass_MeV,efficiency,error\n16.7,0.5,0.01\n", 2800, 100.0, NULL);
  write_file(inv, "card.yaml", "setup:\n  run: 2800\nbeam:\n  energy: 100\n"); /* an invisible card */
  snprintf(spec, sizeof spec, "visible_2017:5.4e10:%s", inv);
  open_fails(spec, NA64_EINVAL, "efficiency.csv is the invisible mode's table", "visible_2017");
  snprintf(spec, sizeof spec, "visible_2017:5.4e10:%s",
           rundir("bad_line", "mass_MeV,eps,efficiency,efficiency_error\n16.7,1e-4,x,0\n", 2800, 100.0, NULL));
  open_fails(spec, NA64_EFORMAT, "efficiency.csv:2", "'x'");
  snprintf(spec, sizeof spec, "visible_2017:5.4e10:%s",
           rundir("bad_eff", "mass_MeV,eps,efficiency,efficiency_error\n16.7,1e-4,1.5,0\n", 2800, 100.0, NULL));
  open_fails(spec, NA64_EFORMAT, "efficiency.csv:2", "1.5");
  open_fails("visible_2017:5.4e10:", NA64_EINVAL, "empty RUNDIR", "visible_2017");
  open_fails("visible_2017:5.4e10:observed=-1", NA64_EINVAL, "observed=-1", "0 <= N");
}

/* The measurement on the fly: the same seed gives the same bits, whatever the threads; another seed
 * other efficiencies; the measured efficiency lies in [0, 1] and narrows the efficiency-1 band */
static void test_on_the_fly(void **state)
{
  (void)state;
  na64_sens_dataset ds[2];
  na64_sens_curve c[3];
  const int threads[3] = {1, 2, 1};
  const uint64_t seeds[3] = {5, 5, 6};
  for (int r = 0; r < 3; ++r) {
    open_ok("visible_2017:5.4e10", &ds[0]);
    open_ok("visible_2018:3e10", &ds[1]);
    na64_sens_options stats = base_options();
    na64_sens_measure how = {60, seeds[r], threads[r]};
    curve(0.0167, &c[r]);
    assert_int_equal(na64_sens_curve_compute_datasets(&stats, 0u, ds, 2, &how, &c[r], NULL, NULL, NULL), NA64_OK);
    for (int k = 0; k < NA64_VIS_EFF_POINTS; ++k) {
      double e = ds[0].eff.eff[0][k];
      assert_true(e >= 0.0 && e <= 1.0);
    }
    na64_sens_dataset_release(&ds[0]);
    na64_sens_dataset_release(&ds[1]);
  }
  assert_memory_equal(c[0].pt, c[1].pt, sizeof *c[0].pt);
  assert_true(memcmp(c[0].pt, c[2].pt, sizeof *c[0].pt) != 0);
  /* efficiency <= 1: inside the band of the same data sets at efficiency 1 (same threshold, background) */
  open_ok("visible_2017:5.4e10", &ds[0]);
  open_ok("visible_2018:3e10", &ds[1]);
  na64_sens_options stats = base_options();
  na64_sens_curve one;
  curve(0.0167, &one);
  for (int i = 0; i < 2; ++i) ds[i].o.ea_min = NA64_VIS_EA_MIN_FRAC * ds[i].o.energy;
  assert_int_equal(na64_sens_curve_compute_datasets(&stats, 0u, ds, 2, NULL, &one, NULL, NULL, NULL), NA64_OK);
  if (isfinite(c[0].pt[0].eps_low)) {
    assert_true(c[0].pt[0].eps_low >= one.pt[0].eps_low);
    assert_true(c[0].pt[0].eps_high <= one.pt[0].eps_high);
  }
  na64_sens_curve_release(&one);
  na64_sens_dataset_release(&ds[0]);
  na64_sens_dataset_release(&ds[1]);
  for (int r = 0; r < 3; ++r) na64_sens_curve_release(&c[r]);
}

/* The invisible mode: a run directory's efficiency per mass (constant 0.5 here) gives
 * eps_up = sqrt(s_up / (EOT eff Y)), i.e. the setup at half its EOT (tolerance 1e-12), and its `limit`
 * background row times the EOT; the measurement on the fly per mass is seeded and independent of
 * the threads */
static void test_invisible(void **state)
{
  (void)state;
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/inv_run", na64_test_tmpdir);
  mkdir(dir, 0777);
  write_file(dir, "efficiency.csv", "mass_MeV,efficiency,error\n1,0.5,0.01\n100,0.5,0.01\n");
  write_file(dir, "card.yaml", "setup:\n  run: 1000\nbeam:\n  energy: 100\n");
  write_file(dir, "background.csv", "method,events_in_sample,per_eot,per_eot_error,expected,expected_error,eot,"
                                    "table1_row,table1_per_eot,passed,bound90_per_eot,process_per_eot,in_limit\n"
                                    "limit,,1e-12,5e-13,0.1,0.05,1e11,\"simulated_routes\",,,,,0\n");
  char spec[1200];
  snprintf(spec, sizeof spec, "invisible_2016_2018:2.84e11:%s", dir);
  na64_sens_options base;
  na64_sens_options_default(&base);
  na64_sens_dataset ds;
  assert_int_equal(na64_sens_dataset_open(&base, DB, spec, 0, &ds, NULL, 0, NULL), NA64_OK);
  assert_int_equal(ds.eff.visible, 0);
  assert_rel(ds.background, 1e-12 * 2.84e11, 1e-12);
  assert_rel(ds.background_error, 5e-13 * 2.84e11, 1e-12);
  na64_sens_curve a, b;
  curve(0.0167, &a);
  curve(0.0167, &b);
  assert_int_equal(na64_sens_curve_compute_datasets(&base, 0u, &ds, 1, NULL, &a, NULL, NULL, NULL), NA64_OK);
  na64_sens_options o = ds.o;
  o.eot = 0.5 * 2.84e11;
  assert_int_equal(na64_sens_curve_compute(&o, &b, NULL, NULL, NULL), NA64_OK);
  assert_rel(a.pt[0].eps, b.pt[0].eps, 1e-12);
  na64_sens_dataset_release(&ds);
  /* on the fly: 1 and 2 threads, the same bits */
  na64_sens_curve c[2];
  for (int t = 0; t < 2; ++t) {
    assert_int_equal(na64_sens_dataset_open(&base, DB, "invisible_2016_2018:2.84e11", 0, &ds, NULL, 0, NULL), NA64_OK);
    na64_sens_measure how = {300, 3, t + 1};
    curve(0.0167, &c[t]);
    assert_int_equal(na64_sens_curve_compute_datasets(&base, 0u, &ds, 1, &how, &c[t], NULL, NULL, NULL), NA64_OK);
    assert_true(ds.eff.eff[0][0] > 0.0 && ds.eff.eff[0][0] <= 1.0);
    na64_sens_dataset_release(&ds);
  }
  assert_memory_equal(c[0].pt, c[1].pt, sizeof *c[0].pt);
  assert_true(c[0].pt[0].eps >= a.pt[0].eps * sqrt(0.5) * (1 - 1e-12)); /* efficiency <= 1 */
  for (int t = 0; t < 2; ++t) na64_sens_curve_release(&c[t]);
  na64_sens_curve_release(&a);
  na64_sens_curve_release(&b);
}

/* A real report directory of `na64 run` on a small visible card: one data set with it gives the
 * island the visible job drew from the same efficiencies (limit.csv, printed to 6 digits; the job's
 * own edge search - bisection on its grid - against the limit scan's Brent roots: tolerance 2e-5) */
static void test_run_directory_reproduces_the_job(void **state)
{
  (void)state;
  char card[1024], dir[1024], cmd[4096], *out = NULL;
  snprintf(card, sizeof card, "%s/small.yaml", na64_test_tmpdir);
  snprintf(dir, sizeof dir, "%s/small_run", na64_test_tmpdir);
  FILE *f = fopen(card, "w");
  assert_non_null(f);
  fprintf(f, "setup:\n  run: 2800\n  conditions: \"%s\"\nbeam:\n  energy: 100.0\n"
             "aprime:\n  mass_MeV: 16.7\n  epsilon: 2.0e-4\n  decay: ee\n"
             "analysis:\n  eot: 5.4e10\n  events: 101\n  signal_events: 203\n  seed: 7\n  threads: 1\n"
             "  masses_MeV: \"10\"\nbackgrounds:\n  events: 2000\n", DB);
  fclose(f);
  snprintf(cmd, sizeof cmd, "%s run %s --report-dir %s 2>/dev/null", NA64_CLI_PATH, card, dir);
  assert_int_equal(na64_test_run(cmd, &out), 0);
  free(out);
  char lim[1100], line[256];
  snprintf(lim, sizeof lim, "%s/limit.csv", dir);
  f = fopen(lim, "r");
  assert_non_null(f);
  double m, lo, hi;
  assert_non_null(fgets(line, sizeof line, f));
  assert_int_equal(fscanf(f, "%lf,%lf,%lf", &m, &lo, &hi), 3);
  fclose(f);
  char spec[1200];
  snprintf(spec, sizeof spec, "visible_2017:5.4e10:%s", dir);
  na64_sens_dataset ds;
  open_ok(spec, &ds);
  na64_sens_options stats = base_options();
  stats.background = 0.0;
  na64_sens_curve c;
  curve(m * 1e-3, &c);
  assert_int_equal(na64_sens_curve_compute_datasets(&stats, 3u, &ds, 1, NULL, &c, NULL, NULL, NULL), NA64_OK);
  assert_rel(c.pt[0].eps_low, lo, 2e-5);
  assert_rel(c.pt[0].eps_high, hi, 2e-5);
  na64_sens_curve_release(&c);
  na64_sens_dataset_release(&ds);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_constant_efficiency_is_eot_times_eff), cmocka_unit_test(test_two_identical_equal_summed_eot),
      cmocka_unit_test(test_observed_counts_add), cmocka_unit_test(test_interpolation), cmocka_unit_test(test_pseudoscalar_masses), cmocka_unit_test(test_errors), cmocka_unit_test(test_on_the_fly),
      cmocka_unit_test(test_invisible), cmocka_unit_test(test_run_directory_reproduces_the_job),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
