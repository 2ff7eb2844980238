/* Table 2 backgrounds of the visible mode: each source's rate per EOT in the visible signal box
 * with its statistical error (na64_vis_bkg_estimate), beside the NA64 report's Table 2 level, and
 * the CPU time to reach 30% statistical precision at that level (the time measured for N events
 * scaled to the N at which error = 0.3 x Table 2 level, error ~ 1/sqrt(N); a source without any
 * event in the box: the N at which 11 events of weight P(process) would make up the level) and at
 * its own estimate (t(30%own)). Settings: the card (default configs/visible_2017.yaml from the source tree, its
 * `backgrounds:` and `selection:` sections), the conditions database `conditions` of the card or
 * the default one.
 * Usage: bench_vis_bkg [events per source] [card.yaml] [conditions.db]   (default 200000). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "na64/ana.h"
#include "na64/sim.h"

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int load(const char *path, const char *db, na64_vis_config *vc, na64_vis_bkg_config *bc, na64_err *err)
{
  na64_vis_config_default(vc);
  na64_vis_bkg_config_default(bc);
  NA64_CALL(na64_vis_config_load(path, vc, err));
  if (db) snprintf(vc->conditions, sizeof vc->conditions, "%s", db);
  na64_card *card = NULL;
  NA64_CALL(na64_card_load(path, &card, err));
  na64_vis_select_config sel;
  na64_vis_select_config_default(&sel);
  int st = na64_vis_bkg_config_read(card, bc, err);
  if (st == NA64_OK) st = na64_vis_select_config_read(card, &sel, err);
  na64_card_free(card);
  na64_vis_select_box_to_bkg(&sel, bc); /* the signal box of the card's selection, as `na64 run` */
  return st;
}

int main(int argc, char **argv)
{
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
  const char *card = argc > 2 ? argv[2] : "configs/visible_2017.yaml";
  na64_vis_config vc;
  na64_vis_bkg_config bc;
  na64_err err = {0, ""};
  na64_vis_sim *s = NULL;
  if (load(card, argc > 3 ? argv[3] : NULL, &vc, &bc, &err) || na64_vis_sim_new(&vc, &s, &err)) {
    fprintf(stderr, "bench_vis_bkg: %s\n", err.msg);
    return 1;
  }
  bc.events = n > 0 ? n : 200000;
  printf("%-13s %10s %10s %9s %10s %8s %9s %12s %12s  %s\n", "source", "rate/EOT", "stat.err", "in box", "P(proc)",
         "Table2", "us/event", "t(30%) [s]", "t(30%own)[s]", "Table 2 row");
  double total = 0.0, var = 0.0;
  for (int i = 0; i < NA64_VIS_BKG_NSOURCES; ++i) {
    if (!bc.enabled[i]) continue;
    na64_vis_bkg_result r;
    double t0 = now();
    if (na64_vis_bkg_estimate(s, &bc, i, 11, &r, &err)) {
      fprintf(stderr, "bench_vis_bkg: %s: %s\n", na64_vis_bkg_name(i), err.msg);
      na64_vis_sim_free(s);
      return 1;
    }
    double t = now() - t0, target = 0.3 * r.table2;
    double t30 = r.error > 0.0 ? t * (r.error / target) * (r.error / target) : t / (double)r.events * 11.0 * r.process_prob / r.table2;
    double t30own = r.error > 0.0 ? t * (r.error / (0.3 * r.rate)) * (r.error / (0.3 * r.rate)) : NAN;
    total += r.rate;
    var += r.error * r.error;
    char rate[32];
    if (r.bound90 > 0.0)
      snprintf(rate, sizeof rate, "<%.2g", r.bound90);
    else
      snprintf(rate, sizeof rate, "%.3g", r.rate);
    printf("%-13s %10s %10.2g %9llu %10.3g %8.0e %9.3g %12.3g %12.3g  %s\n", na64_vis_bkg_name(i), rate, r.error,
           (unsigned long long)r.passed, r.process_prob, r.table2, 1e6 * t / (double)r.events, t30, t30own,
           na64_vis_bkg_table2_row(i));
  }
  printf("%-13s %10.3g %10.2g %9s %10s %8.0e\n", "total", total, sqrt(var), "", "", 3e-13);
  na64_vis_sim_free(s);
  return 0;
}
