/* Visible-mode signal events per second on one core (issue 12 goal: >= 2e5 events/s/core): the
 * event generator of src/sim/vis_signal.c (A' from the yield table, decay in flight, e+e- pair,
 * straw acceptance) for the 2017 setup at 16.7 MeV, eps = 2e-4, after the one-off yield table. */
#include <stdio.h>
#include <time.h>

#include "na64/sim.h"

static double cpu(void)
{
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(void)
{
  na64_material wcal;
  na64_err err = {0, ""};
  if (na64_material_get("WCAL", &wcal, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  na64_beamdump d;
  na64_beamdump_init_visible(&d, &wcal, 100.0, 30.1, 30.0, 33.2, 88.0);
  na64_vis_acceptance acc;
  na64_vis_acceptance_default(&acc);
  na64_vis_signal_eff e;
  double t0 = cpu();
  if (na64_vis_signal_efficiency(&d, 0.0167, 2e-4, &acc, 1, 1, &e, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  double t_table = cpu() - t0;
  const int n = 2000000;
  t0 = cpu();
  if (na64_vis_signal_efficiency(&d, 0.0167, 2e-4, &acc, 1, n, &e, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  double t = cpu() - t0 - t_table;
  printf("visible signal: %d events in %.2f s CPU (+ %.3f s yield table): %.3g events/s/core (goal 2e5); "
         "acceptance %.3f, <z_decay> %.1f cm\n",
         n, t, t_table, n / t, e.acceptance, e.mean_decay_z);
  return 0;
}
