/* Shared by tests/physics/test_vis_island.c and test_vis_island_long.c: the largest expected signal
 * of a visible island over eps and the edges where it crosses a level. */
#ifndef NA64_TEST_VIS_ISLAND_H
#define NA64_TEST_VIS_ISLAND_H
#include <math.h>

typedef double (*vis_signal_fn)(const void *u, double eps); /* expected signal at eps */

/* max over eps in [1e-5, 1e-2]: a scan in ln eps, then golden section around the best point */
static double vis_signal_max(vis_signal_fn f, const void *u, double *eps_at)
{
  double best = -1, lb = 0;
  for (int i = 0; i <= 80; ++i) {
    double le = log(1e-5) + (log(1e-2) - log(1e-5)) * i / 80, n = f(u, exp(le));
    if (n > best) best = n, lb = le;
  }
  double a = lb - 0.1, b = lb + 0.1, g = 0.5 * (sqrt(5) - 1);
  for (int it = 0; it < 50; ++it) {
    double c = b - g * (b - a), d = a + g * (b - a);
    if (f(u, exp(c)) > f(u, exp(d))) b = d;
    else a = c;
  }
  if (eps_at) *eps_at = exp(0.5 * (a + b));
  return f(u, exp(0.5 * (a + b)));
}

/* the edges where the signal equals `level` on both sides of its maximum at eps_peak (bisection in ln eps) */
static void vis_signal_edges(vis_signal_fn f, const void *u, double eps_peak, double level, double *lo, double *hi)
{
  for (int side = 0; side < 2; ++side) {
    double p = log(eps_peak), q = side ? log(1e-1) : log(1e-6);
    for (int it = 0; it < 60; ++it) {
      double c = 0.5 * (p + q);
      if (f(u, exp(c)) >= level) p = c;
      else q = c;
    }
    *(side ? hi : lo) = exp(0.5 * (p + q));
  }
}
#endif
