/* Throughput of the physics fast paths used by the simulation (docs/performance.md):
 * tabulated macroscopic cross-section evaluations per second and A' (x, theta) samples per second,
 * both on one core. Prints figures; asserts nothing about time. */
#include <stdio.h>
#include <time.h>

#include "na64/physics.h"

static double now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(void)
{
  na64_err err = {0};
  na64_material ecal;
  na64_material_get("ECAL", &ecal, NULL);
  double t0 = now();
  na64_xsec_table *tab;
  if (na64_xsec_table_new(NA64_XS_ETL, &ecal, 0.0167, 1.0, 200.0, 512, &tab, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  double t_build = now() - t0;
  const long n_eval = 50000000;
  double sum = 0, E = 1.5;
  t0 = now();
  for (long i = 0; i < n_eval; ++i) {
    sum += na64_xsec_table_eval(tab, E);
    E += 0.000003; /* walk across the table: 1.5 .. 151.5 GeV */
  }
  double t_eval = now() - t0;
  na64_xsec_table_free(tab);

  na64_aprime_sampler *s;
  t0 = now();
  if (na64_aprime_sampler_new(100.0, 0.0167, 82, 207.2, 0.0, &s, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  double t_sbuild = now() - t0;
  na64_rng rng;
  na64_rng_init(&rng, 1, 0);
  const long n_samp = 5000000;
  double xs = 0;
  t0 = now();
  for (long i = 0; i < n_samp; ++i) {
    double x, th;
    na64_aprime_sample(s, &rng, &x, &th);
    xs += x + th;
  }
  double t_samp = now() - t0;
  printf("xsec table build (ECAL, m = 16.7 MeV, 512 energies): %.3f s\n", t_build);
  printf("xsec table evaluations: %.3g /s/core  (checksum %.6g)\n", n_eval / t_eval, sum);
  printf("A' sampler build (100 GeV, 16.7 MeV): %.4f s\n", t_sbuild);
  printf("A' (x, theta) samples: %.3g /s/core  (acceptance %.3f, envelope violations %lu, checksum %.6g)\n",
         n_samp / t_samp, na64_aprime_sampler_efficiency(s), na64_aprime_sampler_violations(s), xs);
  na64_aprime_sampler_free(s);
  return 0;
}
