/* Progress of long work on a terminal (events done, rate, time left); silent when not a tty. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_progress_start(cli_progress *p, const char *what, double total)
{
  p->what = what;
  p->total = total;
  p->start = p->last = now_s();
  p->tty = isatty(fileno(stderr));
}

void cli_progress_update(cli_progress *p, double done)
{
  if (!p->tty) return;
  double t = now_s();
  if (t - p->last < 0.25) return; /* at most four redraws a second */
  p->last = t;
  double rate = done / (t - p->start + 1e-12);
  double left = rate > 0 ? (p->total - done) / rate : 0.0;
  fprintf(stderr, "\r%s: %.0f/%.0f (%.1f%%)  %.3g/s  %.0f s left   ", p->what, done, p->total,
          p->total > 0 ? 100.0 * done / p->total : 0.0, rate, left);
  fflush(stderr);
}

void cli_progress_finish(cli_progress *p, double done)
{
  if (!p->tty) return;
  double t = now_s() - p->start;
  fprintf(stderr, "\r%s: %.0f done in %.2f s (%.3g/s)%20s\n", p->what, done, t, done / (t + 1e-12), "");
}
