/* Two tracks and the vertex in the straws behind the visible-mode decay volume (src/reco/vertex.c,
 * issue 12), on generated e+e- pairs: lines from a decay point in the decay volume of the 2017
 * visible setup (run 2800 of the default conditions database), digitised by the straw digitiser
 * with the r(t) of the database, decoded and reconstructed to segments (docs/straw.md), then
 * na64_vertex_find. Measured: the two-track efficiency versus the opening angle and the vertex z
 * resolution, against the geometry's closed-form expectations stated at each assertion. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/reco.h"
#include "na64/sim.h"
#include "support/na64_test.h"

#define DB NA64_BINARY_DIR "/conditions.db"
#define AXIS 0.0209855 /* the setup's axis x = AXIS (z - 775 cm), sql/setups/20_visible_2017.sql */
#define DV_LO 1550.7
#define DV_HI 1638.7

typedef struct chain {
  na64_geom *g;
  na64_straw_digitizer *digi;
  na64_straw_decoder *dec;
  na64_straw_reco *reco;
  na64_straw_digi_event dev;
  na64_straw_event sev;
  na64_straw_digit *digits;
  size_t cap;
} chain;

static void chain_init(chain *c)
{
  memset(c, 0, sizeof *c);
  na64_err err = {0, ""};
  if (na64_geom_load_path(DB, 2800, &c->g, &err)) fail_msg("%s", err.msg);
  na64_straw_digi_options o;
  na64_straw_digi_options_default(&o);
  o.rt_from_conditions = 1;
  assert_int_equal(na64_straw_digitizer_new(c->g, &o, &c->digi, NULL), NA64_OK);
  assert_int_equal(na64_straw_decoder_new(c->g, NULL, &c->dec, NULL), NA64_OK);
  na64_straw_reco_options ro;
  na64_straw_reco_options_default(&ro);
  ro.slope_x = AXIS; /* the tracks follow the setup's axis */
  assert_int_equal(na64_straw_reco_new(c->g, &ro, &c->reco, NULL), NA64_OK);
  na64_straw_digi_event_init(&c->dev);
  na64_straw_event_init(&c->sev);
}

static void chain_free(chain *c)
{
  na64_straw_digi_event_release(&c->dev);
  na64_straw_event_release(&c->sev);
  na64_straw_reco_free(c->reco);
  na64_straw_decoder_free(c->dec);
  na64_straw_digitizer_free(c->digi);
  na64_geom_free(c->g);
  free(c->digits);
}

/* One pair of opening angle theta decaying at z_d, symmetric about the axis at azimuth phi. */
static void pair_event(chain *c, double theta, double z_d, double phi, na64_rng *rng, na64_vertex *v)
{
  na64_straw_track tr[2];
  for (int q = 0; q < 2; ++q) {
    double s = q ? -0.5 : 0.5;
    na64_straw_track t = {{AXIS * (z_d - 775.0), 0.0, z_d},
                          {AXIS + s * theta * cos(phi), s * theta * sin(phi), 1.0}, 0.0};
    tr[q] = t;
  }
  na64_err err = {0, ""};
  assert_int_equal(na64_straw_digitize(c->digi, tr, 2, rng, &c->dev, &err), NA64_OK);
  if (c->cap < c->dev.nhits + 1) {
    c->cap = 2 * (c->dev.nhits + 1);
    c->digits = realloc(c->digits, c->cap * sizeof *c->digits);
  }
  size_t nd = 0;
  na64_straw_decode(c->dec, c->dev.hits, c->dev.nhits, c->digits, c->cap, &nd, NULL, NULL);
  assert_int_equal(na64_straw_reco_event(c->reco, c->digits, nd, &c->sev, &err), NA64_OK);
  assert_int_equal(na64_vertex_find(c->g, &c->sev, NULL, v, &err), NA64_OK);
}

typedef struct scan_point {
  double eff, sigma68, pull68, opening_rel;
} scan_point;

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* half the width of the central 68% of the values: a Gaussian's sigma, robust to tails */
static double central68(double *v, int n)
{
  if (n < 10) return NAN;
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return 0.5 * (v[(int)(0.84 * n)] - v[(int)(0.16 * n)]);
}

static scan_point scan(chain *c, double theta, int n, uint64_t seed)
{
  double *dz = malloc(sizeof(double) * (size_t)n), *pull = malloc(sizeof(double) * (size_t)n);
  int ok = 0;
  double orel = 0.0;
  for (int i = 0; i < n; ++i) {
    na64_rng rng;
    na64_rng_init(&rng, seed, (uint64_t)i);
    double z_d = DV_LO + (DV_HI - DV_LO) * na64_rng_uniform(&rng), phi = 2.0 * M_PI * na64_rng_uniform(&rng);
    na64_vertex v;
    pair_event(c, theta, z_d, phi, &rng, &v);
    if (!v.resolved || !isfinite(v.z)) continue;
    dz[ok] = v.z - z_d;
    pull[ok] = (v.z - z_d) / v.sigma_z;
    orel += v.opening / theta;
    ++ok;
  }
  scan_point p = {(double)ok / n, central68(dz, ok), central68(pull, ok), ok ? orel / ok : NAN};
  free(dz);
  free(pull);
  return p;
}

/* Efficiency and resolution versus the opening angle theta of a symmetric pair (random azimuth).
 * The separation at the first station (~255 cm behind the decay-volume centre) is theta x 255 cm:
 * at 0.5 mrad 1.3 mm, inside one 6 mm straw of ST01 and ST02, so a second track has its own hits
 * only in the 2 mm straws of ST03 and rarely three of them: fewer than half the pairs resolve. From
 * 2 mrad (the NA64 proposal's 50 MeV A' at 50 GeV; 5 mm at ST01) at least 90% do. The vertex z
 * resolution follows linear error propagation, sigma_z ~ sqrt(2) sigma_u(vertex) / theta_proj with
 * sigma_u(vertex) ~ 0.02-0.04 cm (0.01-0.02 cm hits over the 100 cm lever arm, extrapolated ~250
 * cm): 1-5 cm at 20 mrad and 1/theta (sigma_z(5 mrad) / sigma_z(20 mrad) = 4 within 25%: the
 * resolution is the straws', without scattering); the reported sigma_z describes the residuals
 * (central pull width 0.8-1.25 from 2 mrad on) and the measured opening angle is the true one within
 * 10% at 20 mrad. */
static void test_efficiency_resolution(void **state)
{
  (void)state;
  chain c;
  chain_init(&c);
  const double th[] = {0.5e-3, 1e-3, 2e-3, 5e-3, 10e-3, 20e-3};
  scan_point p[6];
  for (int k = 0; k < 6; ++k) {
    p[k] = scan(&c, th[k], 400, 11 + (uint64_t)k);
    printf("# opening %5.1f mrad: two-track efficiency %.3f, sigma_z(68%%) %.2f cm, pull(68%%) %.2f, opening/true %.3f\n",
           th[k] * 1e3, p[k].eff, p[k].sigma68, p[k].pull68, p[k].opening_rel);
  }
  assert_true(p[0].eff < 0.5);
  for (int k = 2; k < 6; ++k) {
    assert_true(p[k].eff >= 0.9);
    assert_true(p[k].pull68 > 0.8 && p[k].pull68 < 1.25);
  }
  assert_true(p[5].sigma68 > 1.0 && p[5].sigma68 < 5.0);
  assert_rel(p[3].sigma68 / p[5].sigma68, 4.0, 0.25);
  assert_rel(p[5].opening_rel, 1.0, 0.1);
  chain_free(&c);
}

/* One track (both lines through the same point with the same slope) is one track, never a vertex;
 * an empty event gives no track; bad options are refused. */
static void test_single_and_errors(void **state)
{
  (void)state;
  chain c;
  chain_init(&c);
  na64_rng rng;
  na64_rng_init(&rng, 99, 0);
  na64_vertex v;
  int resolved = 0;
  for (int i = 0; i < 50; ++i) {
    pair_event(&c, 0.0, 1600.0, 0.0, &rng, &v);
    resolved += v.resolved;
  }
  assert_true(resolved <= 2); /* noise hits (0.002 per channel) may rarely fake a second track */
  na64_straw_event empty;
  na64_straw_event_init(&empty);
  assert_int_equal(na64_vertex_find(c.g, &empty, NULL, &v, NULL), NA64_OK);
  assert_int_equal(v.ntracks[0] + v.ntracks[1], 0);
  assert_true(isnan(v.z));
  na64_vertex_options o;
  na64_vertex_options_default(&o);
  o.min_hits = 2;
  na64_err err = {0, ""};
  assert_int_equal(na64_vertex_find(c.g, &empty, &o, &v, &err), NA64_EINVAL);
  assert_int_equal(na64_vertex_find(NULL, &empty, NULL, &v, &err), NA64_EINVAL);
  chain_free(&c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_efficiency_resolution),
      cmocka_unit_test(test_single_and_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
