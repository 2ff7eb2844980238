/* Statistics (docs/statistics.md): CPU time of the Poisson limit, the CLs limit with no, one and
 * two integrated nuisance parameters, the expected bands, and Feldman-Cousins intervals (raw and
 * with the b-monotone correction). One core, process CPU time (the machine is shared), best of
 * a few repetitions. Prints figures; asserts nothing about time. */
#include <stdio.h>
#include <time.h>

#include "na64/ana.h"

static double now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef int (*job_fn)(void *arg, double *out);

/* best time per call over `rep` rounds of `inner` calls */
static double bench(job_fn f, void *arg, int inner, int rep, double *out)
{
  double best = 1e30;
  for (int r = 0; r < rep; ++r) {
    double t0 = now();
    for (int i = 0; i < inner; ++i)
      if (f(arg, out) != 0) return -1;
    double t = (now() - t0) / inner;
    if (t < best) best = t;
  }
  return best;
}

typedef struct {
  na64_cls_config cfg;
  int n;
  double b;
  int flags;
} job;

static int j_poisson(void *a, double *out)
{
  job *j = a;
  return na64_stats_poisson_upper(j->n, j->b, 0.9, out, NULL);
}
static int j_cls(void *a, double *out)
{
  job *j = a;
  return na64_stats_cls_limit(&j->cfg, j->n, out, NULL);
}
static int j_expected(void *a, double *out)
{
  job *j = a;
  double bands[5];
  int st = na64_stats_cls_expected(&j->cfg, bands, NULL);
  *out = bands[2];
  return st;
}
static int j_fc(void *a, double *out)
{
  job *j = a;
  double lo;
  return na64_stats_fc_interval_ex(j->n, j->b, 0.9, j->flags, &lo, out, NULL);
}

static void row(const char *what, job_fn f, job *j, int inner)
{
  double v = 0;
  double t = bench(f, j, inner, 3, &v);
  if (t < 0) {
    printf("%-58s FAILED\n", what);
    return;
  }
  printf("%-58s %10.3f ms   (result %.6g)\n", what, 1e3 * t, v);
}

int main(void)
{
  job j;
  na64_cls_config_default(&j.cfg);
  j.flags = NA64_FC_B_MONOTONE;
  printf("statistics benchmark (CPU time per call, best of 3)\n");

  j.n = 1;
  j.b = 0.53;
  row("Poisson upper limit, Bayes flat prior, n=1 b=0.53", j_poisson, &j, 20000);

  j.cfg.b = 0.53;
  j.n = 1;
  row("CLs limit, n=1, b=0.53 exact", j_cls, &j, 2000);
  j.cfg.db = 0.17;
  row("CLs limit, n=1, b=0.53+-0.17 (Gaussian)", j_cls, &j, 50);
  j.cfg.sig_rel = 0.10;
  row("CLs limit, n=1, b=0.53+-0.17, signal +-10% (2-D)", j_cls, &j, 5);
  j.cfg.b_prior = NA64_PRIOR_LOGNORMAL;
  j.cfg.sig_prior = NA64_PRIOR_LOGNORMAL;
  row("CLs limit, same, log-normal priors (2-D)", j_cls, &j, 5);
  j.cfg.b_prior = NA64_PRIOR_GAUSS;
  j.cfg.sig_prior = NA64_PRIOR_GAUSS;
  row("CLs expected bands (5 quantiles), same config", j_expected, &j, 3);
  j.cfg.b = 10.0;
  j.cfg.db = 3.0;
  j.n = 12;
  row("CLs limit, n=12, b=10+-3, signal +-10% (2-D)", j_cls, &j, 3);

  j.n = 0;
  j.b = 3.0;
  j.flags = NA64_FC_RAW;
  row("Feldman-Cousins raw, n0=0 b=3", j_fc, &j, 20);
  j.flags = NA64_FC_B_MONOTONE;
  row("Feldman-Cousins b-monotone (table convention), n0=0 b=3", j_fc, &j, 5);
  j.n = 10;
  j.b = 2.0;
  row("Feldman-Cousins b-monotone, n0=10 b=2", j_fc, &j, 5);
  j.n = 1000;
  j.b = 900.0;
  row("Feldman-Cousins b-monotone, n0=1000 b=900", j_fc, &j, 2);
  return 0;
}
