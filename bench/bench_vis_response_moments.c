/* The visible response's physics quantities over many events, to compare two builds of libna64 on the
 * same events (branch vissmear: the model approximations of the response's speed work are stated
 * against these numbers in docs/performance.md). Not a timing: the same seeds, the quantities'
 * means and rms with their statistical errors. usage: bench_vis_response_moments [CONDITIONS_DB]
 * [EVENTS] (default: the build's conditions.db, 20000); the 2017 card's defaults (16.7 MeV, eps 2e-4),
 * signal events then beam electrons. Run it with LD_LIBRARY_PATH set to each build's library. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "na64/sim.h"

typedef struct mom {
  double n, s, s2;
} mom;

static void add(mom *m, double x)
{
  m->n += 1.0;
  m->s += x;
  m->s2 += x * x;
}

static void put(const char *name, const mom *m)
{
  double mean = m->s / m->n, var = m->s2 / m->n - mean * mean, rms = sqrt(var > 0.0 ? var : 0.0);
  printf("  %-34s mean %12.6g +- %-10.3g rms %12.6g +- %.3g\n", name, mean, rms / sqrt(m->n), rms,
         rms / sqrt(2.0 * m->n));
}

int main(int argc, char **argv)
{
  const char *db = argc > 1 ? argv[1] : "conditions.db";
  int n = argc > 2 ? atoi(argv[2]) : 20000;
  na64_err err = {0, ""};
  na64_vis_config c;
  na64_vis_config_default(&c);
  snprintf(c.conditions, sizeof c.conditions, "%s", db);
  na64_vis_sim *s = NULL;
  if (na64_vis_sim_new(&c, &s, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  const double mip = 2.052e-3 * 1.06; /* a 1 cm counter's MIP, GeV */
  for (int signal = 1; signal >= 0; --signal) {
    mom wsum = {0}, wtrue = {0}, wk[NA64_VIS_WCAL_SECTIONS] = {{0}}, v2 = {0}, v2q = {0}, ebeam = {0}, bx = {0};
    mom ps = {0}, ec = {0}, hot = {0}, hotf = {0}, ring = {0}, edge = {0}, s4 = {0}, s4w = {0}, ea = {0}, dz = {0}, op = {0};
    for (int i = 0; i < n; ++i) {
      na64_vis_sim_event ev;
      if (na64_vis_sim_event_generate(s, 7, (uint64_t)i, signal, &ev, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
      }
      double w = 0.0;
      for (int k = 0; k < NA64_VIS_WCAL_SECTIONS; ++k) {
        w += ev.wcal[k];
        add(&wk[k], ev.wcal[k]);
      }
      add(&wsum, w);
      add(&wtrue, ev.true_wcal);
      add(&v2, ev.v2 / mip);
      add(&v2q, ev.v2 < 0.5 * mip);
      add(&ebeam, ev.beam_energy);
      add(&bx, ev.beam_x);
      if (!signal) continue;
      add(&s4, ev.s4 / mip);
      add(&s4w, ev.s4 >= 1.5 * mip && ev.s4 <= 3.0 * mip);
      add(&ea, ev.aprime_energy);
      add(&dz, ev.decay[2]);
      add(&op, ev.opening);
      double e0 = 0.0, e1 = 0.0, hmax = -1.0;
      int ih = 0;
      for (int k = 0; k < 36; ++k) {
        e0 += ev.ecal[0][k];
        e1 += ev.ecal[1][k];
        double t = ev.ecal[0][k] + ev.ecal[1][k];
        if (t > hmax) hmax = t, ih = k;
      }
      add(&ps, e0);
      add(&ec, e0 + e1);
      add(&hot, hmax);
      add(&hotf, hmax / (e0 + e1));
      /* the 8 neighbours of the hottest cell and the cells of the matrix's outer ring */
      int hx = ih % 6, hy = ih / 6;
      double r = 0.0, o = 0.0;
      for (int k = 0; k < 36; ++k) {
        int x = k % 6, y = k / 6;
        double t = ev.ecal[0][k] + ev.ecal[1][k];
        if (k != ih && abs(x - hx) <= 1 && abs(y - hy) <= 1) r += t;
        if (x == 0 || x == 5 || y == 0 || y == 5) o += t;
      }
      add(&ring, r);
      add(&edge, o);
    }
    printf("%s events: %d\n", signal ? "signal (A' -> e+e-)" : "beam e-", n);
    put("beam energy (GeV)", &ebeam);
    put("beam x at the WCAL (cm)", &bx);
    put("WCAL true (GeV)", &wtrue);
    put("WCAL visible sum (GeV)", &wsum);
    for (int k = 0; k < NA64_VIS_WCAL_SECTIONS; ++k) {
      char name[64];
      snprintf(name, sizeof name, "WCAL section %d (GeV)", k);
      put(name, &wk[k]);
    }
    put("V2 (MIPs)", &v2);
    put("V2 < 0.5 MIP (fraction)", &v2q);
    if (!signal) continue;
    put("A' energy (GeV)", &ea);
    put("decay z (cm)", &dz);
    put("opening (rad)", &op);
    put("S4 (MIPs)", &s4);
    put("S4 in 1.5-3 MIPs (fraction)", &s4w);
    put("ECAL pre-shower (GeV)", &ps);
    put("ECAL total (GeV)", &ec);
    put("ECAL hottest cell (GeV)", &hot);
    put("ECAL hottest cell / total", &hotf);
    put("ECAL 8 neighbours of hottest (GeV)", &ring);
    put("ECAL outer ring of cells (GeV)", &edge);
  }
  na64_vis_sim_free(s);
  return 0;
}
