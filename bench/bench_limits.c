/* Seconds per limit curve (docs/performance.md): one 60-mass invisible curve (targets: < 1 s with the
 * cascade cached) and the 60-mass visible island (< 2 s), on one core. Prints figures only. */
#include <stdio.h>
#include <math.h>
#include <time.h>

#include "na64/ana.h"

static double cpu(void)
{
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int curve(na64_limit_config *cfg, double lo, double hi, double *seconds)
{
  double m[60];
  na64_limit_point pt[60];
  for (int i = 0; i < 60; ++i) m[i] = lo * pow(hi / lo, i / 59.0);
  na64_err err = {0};
  double t0 = cpu();
  if (na64_limit_scan(cfg, m, 60, pt, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  *seconds = cpu() - t0;
  return 0;
}

int main(void)
{
  na64_limit_config cfg;
  na64_limit_config_default(&cfg, NULL);
  cfg.eot = 1e11;
  double cold, warm, vis_cold, vis_warm;
  na64_track_length_cache_clear();
  if (curve(&cfg, 1e-3, 1.0, &cold) || curve(&cfg, 1e-3, 1.0, &warm)) return 1;
  na64_material wcal;
  na64_material_get("WCAL", &wcal, NULL);
  na64_beamdump_init_visible(&cfg.dump, &wcal, 100, 30, 30, 7.5, 300);
  if (curve(&cfg, 1.1e-3, 30e-3, &vis_cold) || curve(&cfg, 1.1e-3, 30e-3, &vis_warm)) return 1;
  printf("invisible 60-mass curve: %.3f s (cascade solved in the call), %.3f s (cascade cached)\n", cold, warm);
  printf("visible 60-mass island:  %.3f s (cascade solved in the call), %.3f s (cascade cached)\n", vis_cold, vis_warm);
  return 0;
}
