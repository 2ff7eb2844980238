/* Table 1 backgrounds of the fast simulation: each source's rate per EOT in the signal box with
 * its statistical error (na64_sim_bkg_estimate), beside the NA64 report's Table 1 level, and the
 * CPU time to reach 30% statistical precision at that level (the time measured for N events scaled
 * to the N at which error = 0.3 x Table 1 level, error ~ 1/sqrt(N); for a source without any event
 * in the box, the N at which 11 events of weight P(process) would make up the Table 1 level, and the
 * rate column shows the 90% CL bound 2.3 P(process)/N as "<bound"), and the time to reach 30% of
 * the estimate itself (t(30%own)). Settings: the built-in
 * defaults (configs/invisible_default.yaml without A'), pile-up intensity 5e6 per spill, or a run
 * card, whose sources with `enabled: true` are estimated (all if none is). Below the decay row: the
 * accidental SRD tag the decay route used (a muon's tag, and a part of a pi-/K-'s: docs/simulation.md).
 * Usage: bench_sim_bkg [events per source] [card.yaml]   (default 200000). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "na64/sim.h"

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
  uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000;
  na64_sim_config c;
  na64_sim_config_default(&c);
  c.intensity = 5e6;
  na64_err err = {0, ""};
  if (argc > 2 && na64_sim_config_load(argv[2], &c, &err)) {
    fprintf(stderr, "bench_sim_bkg: %s\n", err.msg);
    return 1;
  }
  c.aprime_enabled = 0;
  int any = 0;
  for (int i = 0; i < NA64_SIM_BKG_NSOURCES; ++i) any |= c.bkg_enabled[i];
  na64_sim *s = NULL;
  if (na64_sim_new(&c, &s, &err)) {
    fprintf(stderr, "bench_sim_bkg: %s\n", err.msg);
    return 1;
  }
  printf("%-13s %10s %10s %9s %10s %8s %9s %12s %12s  %s\n", "source", "rate/EOT", "stat.err", "in box", "P(proc)",
         "Table1", "us/event", "t(30%) [s]", "t(30%own)[s]", "Table 1 row");
  double total = 0.0, var = 0.0;
  for (int i = 0; i < NA64_SIM_BKG_NSOURCES; ++i) {
    if (any && !c.bkg_enabled[i]) continue;
    na64_sim_bkg_result r;
    double t0 = now();
    if (na64_sim_bkg_estimate(s, i, n, 11, &r, &err)) {
      fprintf(stderr, "bench_sim_bkg: %s: %s\n", na64_sim_bkg_name(i), err.msg);
      na64_sim_free(s);
      return 1;
    }
    double t = now() - t0, target = 0.3 * r.table1;
    /* error ~ 1/sqrt(N): N(30%) = N (err/target)^2. A source with no event in the box: the events
     * needed if its rate were at the Table 1 level with weights of the forced process probability
     * (11 events in the box for 30%): N = 11 P(proc) / level; the analytic source: its own time. */
    double t30 = r.error > 0.0                  ? t * (r.error / target) * (r.error / target)
                 : r.source == NA64_SIM_BKG_NUNU ? t
                                                 : t / (double)n * 11.0 * r.process_prob / r.table1;
    total += r.rate;
    var += r.error * r.error;
    char rate[32];
    if (r.bound90 > 0.0) /* no event in the box: the 90% CL bound of the biased sample */
      snprintf(rate, sizeof rate, "<%.2g", r.bound90);
    else
      snprintf(rate, sizeof rate, "%.3g", r.rate);
    /* the same for 30% of the estimate itself (none for a bound or the analytic source) */
    double t30own = r.error > 0.0 ? t * (r.error / (0.3 * r.rate)) * (r.error / (0.3 * r.rate)) : NAN;
    printf("%-13s %10s %10.2g %9llu %10.3g %8.0e %9.3g %12.3g %12.3g  %s\n", na64_sim_bkg_name(i), rate, r.error,
           (unsigned long long)r.passed, r.process_prob, r.table1, 1e6 * t / (double)n, t30, t30own,
           na64_sim_bkg_table1_row(i));
    if (i == NA64_SIM_BKG_DECAY) { /* what tags a muon (an in-time companion's SR); a hadron's knock-ons */
      printf("%-13s accidental SRD tag (a muon's; part of a pi-/K-'s) %.3g\n", "", r.srd_accidental);
      printf("%-13s knock-on SRD tag per g/cm2 pi %.3g K %.3g; x %.3g g/cm2 upstream %.3g %.3g; applied (momentum "
             "window) %.3g %.3g\n",
             "", r.srd_knockon_per_gcm2[0], r.srd_knockon_per_gcm2[1], r.srd_upstream_gcm2, r.srd_knockon[0],
             r.srd_knockon[1], r.srd_knockon_applied[0], r.srd_knockon_applied[1]);
    }
  }
  printf("%-13s %10.3g %10.2g %9s %10s %8.0e\n", "total", total, sqrt(var), "", "", 1e-12);
  na64_sim_free(s);
  return 0;
}
