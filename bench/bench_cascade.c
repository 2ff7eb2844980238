/* Electromagnetic-cascade track-length spectra (docs/cascade.md, docs/performance.md "EM cascade"):
 * time to solve the cascade for the NA64 dumps (ECAL at 100 GeV, WCAL at 100 and 150 GeV, thick
 * and depth-resolved), point evaluations per second, folds per second with a cross-section-like
 * weight, and a cached look-up. One core, process CPU time (the machine is shared, so wall time
 * would measure the neighbours). Prints figures; asserts nothing about time. */
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "na64/physics.h"

static double now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* a smooth sigma(E)-like weight with a threshold: (E - 50)^2/E above 50 GeV */
static double weight(double E, void *u)
{
  (void)u;
  return E > 50.0 ? (E - 50.0) * (E - 50.0) / E : 0.0;
}

/* the probability that an A' made at depth t (X0) escapes the remaining (30 - t) X0 */
static double escape(double E, double t, void *u)
{
  double X0 = *(const double *)u, ell = 0.5 * E; /* decay length ~ E, cm */
  return weight(E, NULL) * exp(-(30.0 - t) * X0 / ell);
}

/* best of `rep` builds */
static double time_build(const na64_material *m, double E0, double Emin, double depth, int rep,
                         int *ncells)
{
  double best = 1e30;
  for (int r = 0; r < rep; ++r) {
    na64_track_length *tl = NULL;
    na64_err err;
    double t0 = now();
    if (na64_track_length_new_opts(m, E0, Emin, depth, NULL, &tl, &err) != NA64_OK) {
      fprintf(stderr, "%s\n", err.msg);
      return -1.0;
    }
    double t = now() - t0;
    if (t < best) best = t;
    *ncells = na64_track_length_ncells(tl);
    na64_track_length_free(tl);
  }
  return best;
}

int main(void)
{
  na64_material ecal, wcal;
  na64_err err;
  if (na64_material_get("ECAL", &ecal, &err) || na64_material_get("WCAL", &wcal, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  struct {
    const char *label;
    const na64_material *m;
    double E0, Emin, depth;
  } cases[] = {
      {"ECAL 100 GeV, thick, E >= 1 GeV", &ecal, 100.0, 1.0, 0.0},
      {"ECAL 100 GeV, thick, E >= 0.1 GeV", &ecal, 100.0, 0.1, 0.0},
      {"WCAL 100 GeV, thick, E >= 1 GeV", &wcal, 100.0, 1.0, 0.0},
      {"WCAL 150 GeV, thick, E >= 1 GeV", &wcal, 150.0, 1.0, 0.0},
      {"WCAL 100 GeV, first 30 X0 resolved, E >= 1 GeV", &wcal, 100.0, 1.0, 30.0},
      {"WCAL 150 GeV, first 30 X0 resolved, E >= 1 GeV", &wcal, 150.0, 1.0, 30.0},
  };
  int nc0;
  time_build(&ecal, 100.0, 1.0, 0.0, 1, &nc0); /* warm-up: page faults, GSL tables */
  printf("%-48s %8s %12s\n", "cascade solve (best of 5)", "cells", "time");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    int nc = 0;
    double t = time_build(cases[i].m, cases[i].E0, cases[i].Emin, cases[i].depth, 5, &nc);
    if (t < 0) return 1;
    printf("%-48s %8d %10.2f ms\n", cases[i].label, nc, 1e3 * t);
  }

  na64_track_length *tl, *tld;
  if (na64_track_length_new(&ecal, 100.0, 1.0, 0.0, 0, &tl, &err) != NA64_OK ||
      na64_track_length_new(&wcal, 100.0, 1.0, 30.0, 0, &tld, &err) != NA64_OK) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  const long n_eval = 2000000;
  double sum = 0.0, E = 1.0;
  double t0 = now();
  for (long i = 0; i < n_eval; ++i) {
    sum += na64_track_length_electron(tl, E) + na64_track_length_positron(tl, E);
    E += 99.0 / n_eval;
  }
  double t_eval = now() - t0;
  printf("point evaluations (e- and e+ at one energy each): %.3g /s/core (checksum %.6g)\n",
         2.0 * n_eval / t_eval, sum);

  const int n_fold = 2000;
  double fsum = 0.0, r;
  t0 = now();
  for (int i = 0; i < n_fold; ++i) {
    na64_track_length_fold(tl, weight, NULL, 50.0, 100.0, NA64_TL_ELECTRON, &r, &err);
    fsum += r;
  }
  double t_fold = now() - t0;
  printf("folds int dE T(E) sigma(E), 50..100 GeV (ECAL): %.3g /s/core, %.1f us each "
         "(60 masses: %.2f ms)\n",
         n_fold / t_fold, 1e6 * t_fold / n_fold, 60e3 * t_fold / n_fold);
  (void)fsum;

  double X0 = wcal.X0;
  const int n_fd = 20;
  t0 = now();
  for (int i = 0; i < n_fd; ++i)
    na64_track_length_fold_depth(tld, escape, &X0, 1.0, 100.0, NA64_TL_CHARGED, &r, &err);
  double t_fd = now() - t0;
  printf("depth folds int dt dE T(E,t) f(E,t) (WCAL 30 X0): %.2f ms each\n", 1e3 * t_fd / n_fd);

  /* binned table for an epsilon scan: 60 log energy bins x 60 depth bins */
  double Ee[61], te[61], tab[60 * 60];
  for (int i = 0; i <= 60; ++i) {
    Ee[i] = 1.0 * pow(100.0, i / 60.0);
    te[i] = 0.5 * i;
  }
  const int n_bin = 20;
  t0 = now();
  for (int i = 0; i < n_bin; ++i)
    na64_track_length_binned(tld, NA64_TL_CHARGED, 60, Ee, 60, te, tab, &err);
  double t_bin = now() - t0;
  printf("binned table 60 energies x 60 depths (WCAL 30 X0): %.2f ms\n", 1e3 * t_bin / n_bin);

  na64_track_length *c;
  na64_track_length_get(&ecal, 100.0, 1.0, 0.0, NULL, &c, &err); /* first: solves */
  na64_track_length_free(c);
  const int n_get = 100000;
  t0 = now();
  for (int i = 0; i < n_get; ++i) {
    na64_track_length_get(&ecal, 100.0, 1.0, 0.0, NULL, &c, &err);
    na64_track_length_free(c);
  }
  double t_get = now() - t0;
  printf("cached look-up na64_track_length_get: %.2f us\n", 1e6 * t_get / n_get);
  na64_track_length_cache_clear();
  na64_track_length_free(tl);
  na64_track_length_free(tld);
  return 0;
}
