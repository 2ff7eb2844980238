/* Throughput of the exact tree-level cross sections (src/physics/xsec_exact.c; docs/performance.md):
 * sigma per point (Gauss rules and VEGAS, 1%), d sigma/dx and d sigma/dx dcos per point, a table for one
 * material, and the (x, theta) sampler (table build, draws per second). One core, CPU time of the process (the machine is shared); prints figures, asserts
 * nothing about time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "na64/physics.h"

static double now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); /* CPU time: the machine is shared */
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* the yield of d at 16.7 MeV, computed and then again (remembered), with its CPU time */
static int time_yield(const na64_beamdump *d, const char *label, const char *unit)
{
  na64_err err = {0};
  for (int pass = 0; pass < 2; ++pass) {
    na64_yield *y;
    double t0 = now();
    if (na64_yield_new(d, 0.0167, &y, &err)) {
      fprintf(stderr, "%s\n", err.msg);
      return 1;
    }
    printf("%s (%s): %.3f s, %.4g %s\n", label, pass ? "remembered" : "computed", now() - t0, na64_yield_production(y), unit);
    na64_yield_free(y);
  }
  return 0;
}

/* the (x, theta) sampler of the exact cross section (issue 14): table build and draw rate */
static int bench_sampler(void)
{
  const double masses[] = {0.0167, 0.1, 1.0};
  for (int beam = 0; beam < 2; ++beam)
    for (int i = 0; i < 3; ++i) {
      na64_exact_process p;
      na64_exact_process_init(&p, (na64_lepton)beam, beam ? NA64_MED_ZPRIME : NA64_MED_VECTOR, beam ? 160.0 : 100.0,
                              masses[i]);
      p.ff = NA64_FF_ALL;
      na64_exact_sampler *s;
      na64_err err = {0};
      double t0 = now();
      if (na64_exact_sampler_new(&p, &s, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
      }
      double dt = now() - t0, rel = 0.0, tot = na64_exact_sampler_integral(s, 0.0, &rel);
      na64_rng rng;
      na64_rng_init(&rng, 1, 1);
      const int N = 1000000;
      double xs = 0.0;
      t0 = now();
      for (int k = 0; k < N; ++k) {
        double x, th;
        na64_exact_sample(s, &rng, 0.0, &x, &th);
        xs += x;
      }
      double dd = now() - t0;
      printf("sampler %s %g GeV, %s %g MeV: table %.2f s (sigma %.4g pb, quadrature %.1e), %.3g draws/s (<x> %.3f)\n",
             beam ? "mu" : "e", p.E0, na64_mediator_name(p.mediator), masses[i] * 1e3, dt, tot, rel, N / dd, xs / N);
      na64_exact_sampler_free(s);
    }
  return 0;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* sigma per point at 1% by the Gauss rules (the default) and by VEGAS, over 12 points (e- vector
 * at 100 GeV and mu- Z' at 160 GeV, Pb, 1 MeV-1 GeV): median and largest CPU time of each.
 * quad_only: the Gauss rules alone, each point repeated `reps` times (the minimum CPU time is kept;
 * `bench_xsec_exact quad` under callgrind counts the amplitudes: calls of amp2_sum). */
static int bench_quad(int quad_only, int reps)
{
  const double masses[] = {0.001, 0.01, 0.0167, 0.1, 0.3, 1.0};
  double tq[12], tv[12];
  int n = 0;
  for (int beam = 0; beam < 2; ++beam)
    for (int i = 0; i < 6; ++i, ++n) {
      na64_exact_process p;
      na64_exact_process_init(&p, (na64_lepton)beam, beam ? NA64_MED_ZPRIME : NA64_MED_VECTOR, beam ? 160.0 : 100.0, masses[i]);
      na64_err err = {0};
      double q = 0.0, eq = 0.0, v, ev, t0;
      tq[n] = 1e30;
      for (int r = 0; r < reps; ++r) {
        t0 = now();
        if (na64_xsec_exact_quad(&p, 0.01, &q, &eq, &err)) {
          fprintf(stderr, "%s\n", err.msg);
          return 1;
        }
        double dt = now() - t0;
        if (dt < tq[n]) tq[n] = dt;
      }
      if (quad_only) {
        printf("sigma %s %g GeV %s %g MeV: Gauss %.6g pb (est. %.1e) %.2f ms\n", beam ? "mu" : "e", p.E0,
               na64_mediator_name(p.mediator), masses[i] * 1e3, q, eq / q, 1e3 * tq[n]);
        continue;
      }
      t0 = now();
      if (na64_xsec_exact_total(&p, 0.01, 1, &v, &ev, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
      }
      tv[n] = now() - t0;
      printf("sigma %s %g GeV %s %g MeV: Gauss %.5g pb (est. %.1e) %.1f ms, VEGAS %.5g pb (%.1e) %.1f ms, ratio %.4f\n",
             beam ? "mu" : "e", p.E0, na64_mediator_name(p.mediator), masses[i] * 1e3, q, eq / q, 1e3 * tq[n], v, ev / v,
             1e3 * tv[n], q / v);
    }
  qsort(tq, 12, sizeof tq[0], cmp_double);
  if (quad_only) {
    printf("sigma per point at 1%%, 12 points: Gauss median %.2f ms (max %.2f)\n", 1e3 * 0.5 * (tq[5] + tq[6]), 1e3 * tq[11]);
    return 0;
  }
  qsort(tv, 12, sizeof tv[0], cmp_double);
  printf("sigma per point at 1%%, 12 points: Gauss median %.1f ms (max %.1f), VEGAS median %.1f ms (max %.1f)\n",
         1e3 * 0.5 * (tq[5] + tq[6]), 1e3 * tq[11], 1e3 * 0.5 * (tv[5] + tv[6]), 1e3 * tv[11]);
  /* a full table for one material, beam and mediator: Pb, 16 energies 10-160 GeV, at 1% */
  na64_material pb;
  na64_material_get("Pb", &pb, NULL);
  for (int beam = 0; beam < 2; ++beam) {
    na64_exact_process p;
    na64_exact_process_init(&p, (na64_lepton)beam, beam ? NA64_MED_ZPRIME : NA64_MED_VECTOR, 100.0, 0.0167);
    na64_exact_table *t;
    na64_err err = {0};
    double t0 = now();
    if (na64_exact_table_new(&p, &pb, 10.0, 160.0, 16, 0.01, &t, &err)) {
      fprintf(stderr, "%s\n", err.msg);
      return 1;
    }
    printf("table Pb, %s %s 16.7 MeV, 16 energies 10-160 GeV (Gauss, 1%%): %.2f s (max node error %.2g)\n", beam ? "mu" : "e",
           na64_mediator_name(p.mediator), now() - t0, na64_exact_table_max_rel_error(t));
    na64_exact_table_free(t);
  }
  return 0;
}

int main(int argc, char **argv)
{
  if (argc > 1 && !strcmp(argv[1], "quad")) return bench_quad(1, argc > 2 ? atoi(argv[2]) : 3);
  if (bench_quad(0, 1)) return 1;
  na64_err err = {0};
  const double masses[] = {0.001, 0.01, 0.1, 1.0};
  for (int beam = 0; beam < 2; ++beam)
    for (int i = 0; i < 4; ++i) {
      na64_exact_process p;
      na64_exact_process_init(&p, (na64_lepton)beam, NA64_MED_VECTOR, beam ? 160.0 : 100.0, masses[i]);
      double s, e, t0 = now();
      if (na64_xsec_exact_total(&p, 0.01, 1, &s, &e, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
      }
      double dt = now() - t0;
      t0 = now();
      double d, de, dc;
      if (na64_xsec_exact_dsdx(&p, 0.9, &d, &de, &err) || na64_xsec_exact_dsdxdcos(&p, 0.9, 1.0 - 1e-9, &dc, NULL, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
      }
      double dt2 = now() - t0;
      printf("%s beam %g GeV, vector m = %g MeV: sigma %.4g +- %.2g pb (eps 1) in %.3f s; dsdx(0.9) + dsdxdcos in %.3f s\n",
             beam ? "mu" : "e", p.E0, masses[i] * 1e3, s, e, dt, dt2);
    }
  na64_material ecal;
  na64_material_get("ECAL", &ecal, NULL);
  na64_exact_process p;
  na64_exact_process_init(&p, NA64_LEPTON_E, NA64_MED_VECTOR, 100.0, 0.0167);
  na64_exact_table *t;
  double t0 = now();
  if (na64_exact_table_new(&p, &ecal, 10.0, 150.0, 16, 0.01, &t, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  printf("table ECAL (%d elements), e- vector 16.7 MeV, 16 energies 10-150 GeV (Gauss, 1%%): %.2f s (max node error %.2g)\n", ecal.ncomp,
         now() - t0, na64_exact_table_max_rel_error(t));
  na64_exact_table_free(t);
  /* the production path (issue 14): an invisible-mode yield with --method exact (17 energies x 3
   * elements of the ECAL, each a 1% VEGAS total with its energy window) and a muon-beam yield
   * (4 depths x 3 elements), cold (computed) and again (remembered in memory) */
  na64_beamdump d;
  na64_beamdump_init_invisible(&d, &ecal, 100.0, 50.0);
  d.method = NA64_XS_EXACT;
  if (time_yield(&d, "yield e- 100 GeV ECAL, exact, 16.7 MeV", "per EOT at eps 1")) return 1;
  na64_beamdump_init_invisible(&d, &ecal, 160.0, 80.0);
  d.depth_X0 = 40.0;
  d.lepton = NA64_LEPTON_MU;
  d.mediator = NA64_MED_ZPRIME;
  if (time_yield(&d, "yield mu 160 GeV, 40 X0 ECAL, Z' 16.7 MeV", "per MOT at g 1")) return 1;
  return bench_sampler();
}
