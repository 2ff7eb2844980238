/* The lateral integration of the ECAL showers (src/sim/ecal_shape.c, compiled into this test: its
 * functions are hidden in libna64).
 * - The closed-form quadrant integral G against a direct 2-D numerical integration of the density
 *   1/(pi (r^2 + 1)^2) (GSL adaptive quadrature, nested): agreement to 1e-9 (the quadrature's
 *   requested accuracy; the two are independent computations of the same integral).
 * - Its limits: the whole plane holds 1 (a quadrant 1/4), the half-line marginal v/(4 sqrt(v^2 + 1)).
 * - The table against the closed form at random cells of the NA64 ECAL (6 x 6 cells of 3.82 cm),
 *   R log-uniform in 0.05-10 cm (the core and tail radii of Grindhammer-Peters, 0.02-3 Moliere radii
 *   of 3.4 cm), the axis anywhere within 2 cm of the matrix: every cell fraction within 1e-4 of the
 *   closed form's, the tolerance of src/sim/ecal_shape.c (10x below the sampling fluctuation
 *   0.1 sqrt(E_cell) of a cell holding 1e-3 of a 1 GeV shower; see there), and the sum of a slice's
 *   absolute errors within 3e-4.
 * - sim_lateral_cells: the two-component mixture, the returned share equals the cells' sum, and a
 *   grid beyond its limits is refused.
 * - sim_lateral_corners_add: slices summed on one corner grid against the closed form and against
 *   sim_lateral_cells (see the test).
 * - sim_gamma_p against GSL's gsl_sf_gamma_inc_P (an independent implementation) over the shape
 *   parameters of the showers (alpha 1.1-40) and depths 0-300 X0 scaled: within 1e-13 absolute
 *   (both aim at double precision; the energy of a slice is a difference of two values); and the
 *   closed forms P(1, x) = 1 - e^-x, P(2, x) = 1 - (1 + x) e^-x. */
#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>

#include "sim/ecal_shape.h"
#include "support/na64_test.h"

typedef struct inner_args {
  double x;
} inner_args;

static double density(double y, void *p)
{
  double x = ((inner_args *)p)->x, r2 = x * x + y * y;
  return 1.0 / (M_PI * (r2 + 1.0) * (r2 + 1.0));
}

typedef struct outer_args {
  double v;
  gsl_integration_workspace *w;
} outer_args;

static double strip(double x, void *p)
{
  outer_args *o = p;
  inner_args a = {x};
  gsl_function f = {density, &a};
  double r, e;
  gsl_integration_qag(&f, 0.0, o->v, 1e-13, 1e-12, 1000, GSL_INTEG_GAUSS61, o->w, &r, &e);
  return r;
}

/* Integral of the density over [0, u] x [0, v], u, v >= 0, by nested quadrature. */
static double quadrant_numeric(double u, double v)
{
  gsl_integration_workspace *wi = gsl_integration_workspace_alloc(1000);
  gsl_integration_workspace *wo = gsl_integration_workspace_alloc(1000);
  outer_args o = {v, wi};
  gsl_function f = {strip, &o};
  double r, e;
  gsl_integration_qag(&f, 0.0, u, 1e-12, 1e-11, 1000, GSL_INTEG_GAUSS61, wo, &r, &e);
  gsl_integration_workspace_free(wi);
  gsl_integration_workspace_free(wo);
  return r;
}

static void test_closed_form_vs_quadrature(void **state)
{
  (void)state;
  static const double pts[][2] = {{0.1, 0.1}, {0.5, 2.0}, {1.0, 1.0}, {3.0, 0.2}, {10.0, 7.0}, {40.0, 0.01}};
  for (size_t k = 0; k < sizeof pts / sizeof pts[0]; ++k) {
    double u = pts[k][0], v = pts[k][1], num = quadrant_numeric(u, v);
    assert_true(fabs(sim_lateral_quadrant_exact(u, v) - num) < 1e-9);
    /* odd in each argument: the other quadrants of a centred density */
    assert_true(fabs(sim_lateral_quadrant_exact(-u, v) + num) < 1e-9);
    assert_true(fabs(sim_lateral_quadrant_exact(-u, -v) - num) < 1e-9);
  }
}

static void test_limits(void **state)
{
  (void)state;
  assert_true(fabs(sim_lateral_quadrant_exact(1e9, 1e9) - 0.25) < 1e-8);
  assert_true(fabs(sim_lateral_quadrant(1e9, 1e9) - 0.25) < 1e-8);
  for (double v = 0.1; v < 100.0; v *= 3.0) {
    double half = 0.25 * v / sqrt(v * v + 1.0); /* marginal of the density: 1/(2 (x^2 + 1)^(3/2)) */
    assert_true(fabs(sim_lateral_quadrant_exact(1e9, v) - half) < 1e-8);
    assert_true(fabs(sim_lateral_quadrant(1e12, v) - half) < 1e-4);
  }
  assert_true(sim_lateral_quadrant(0.0, 5.0) == 0.0);
  assert_true(isnan(sim_lateral_quadrant(NAN, 1.0))); /* propagated, never an index */
}

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static double uniform(void) /* xorshift64*: reproducible test points */
{
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (double)((rng_state * 0x2545F4914F6CDD1Dull) >> 11) * 0x1.0p-53;
}

static double cell_exact(double x1, double x2, double y1, double y2, double R)
{
  return sim_lateral_quadrant_exact(x2 / R, y2 / R) - sim_lateral_quadrant_exact(x1 / R, y2 / R) -
         sim_lateral_quadrant_exact(x2 / R, y1 / R) + sim_lateral_quadrant_exact(x1 / R, y1 / R);
}

static void test_table_accuracy(void **state)
{
  (void)state;
  const double pitch = 3.82;
  double worst = 0.0, worst_sum = 0.0;
  for (int k = 0; k < 3000; ++k) {
    double R = exp(log(0.05) + (log(10.0) - log(0.05)) * uniform());
    double xa = -2.0 + (6 * pitch + 4.0) * uniform(), ya = -2.0 + (6 * pitch + 4.0) * uniform();
    double ex[7], ey[7], f[36];
    for (int i = 0; i <= 6; ++i) {
      ex[i] = i * pitch - xa;
      ey[i] = i * pitch - ya;
    }
    double in = sim_lateral_cells(6, 6, ex, ey, 1.0, R, 1.0, f), sum_err = 0.0, sum = 0.0;
    for (int j = 0; j < 6; ++j)
      for (int i = 0; i < 6; ++i) {
        double e = fabs(f[j * 6 + i] - cell_exact(ex[i], ex[i + 1], ey[j], ey[j + 1], R));
        worst = fmax(worst, e);
        sum_err += e;
        sum += f[j * 6 + i];
      }
    worst_sum = fmax(worst_sum, sum_err);
    assert_true(fabs(in - sum) < 1e-12);
  }
  print_message("table vs closed form: largest cell error %.3g, largest slice sum %.3g\n", worst, worst_sum);
  assert_true(worst < 1e-4);
  assert_true(worst_sum < 3e-4);
}

static void test_mixture_and_limits(void **state)
{
  (void)state;
  double ex[3] = {-5.0, 0.5, 4.0}, ey[3] = {-3.0, -0.2, 6.0}, f[4], fc[4], ft[4];
  double p = 0.7, Rc = 0.3, Rt = 2.5;
  double in = sim_lateral_cells(2, 2, ex, ey, p, Rc, Rt, f);
  double inc = sim_lateral_cells(2, 2, ex, ey, 1.0, Rc, Rt, fc);
  double int_ = sim_lateral_cells(2, 2, ex, ey, 0.0, Rc, Rt, ft);
  for (int k = 0; k < 4; ++k) assert_true(fabs(f[k] - (p * fc[k] + (1.0 - p) * ft[k])) < 1e-12);
  assert_true(fabs(in - (p * inc + (1.0 - p) * int_)) < 1e-12);
  /* a grid much larger than both radii holds (nearly) everything: 1 - 1/(4 u^2) per side */
  double big[2] = {-1e4, 1e4};
  assert_true(fabs(sim_lateral_cells(1, 1, big, big, p, Rc, Rt, f) - 1.0) < 1e-6);
  double many[LAT_MAX_EDGES + 1];
  for (int i = 0; i <= LAT_MAX_EDGES; ++i) many[i] = i;
  double out[LAT_MAX_EDGES * 2];
  assert_true(sim_lateral_cells(LAT_MAX_EDGES, 1, many, many, p, Rc, Rt, out) == -1.0);
  assert_true(sim_lateral_cells(12, 12, many, many, p, Rc, Rt, out) == -1.0); /* 169 corners */
}

/* sim_lateral_corners_add (the visible pair's one grid per event): three slices of random energy,
 * mixture and radii added on one 6 x 6 grid; the mixed differences of the summed corners against
 * the closed form of every slice's cells (independent: libm atan), each cell within 1e-4 times the
 * summed slice energy (the table's tolerance, above), and against sim_lateral_cells slice by slice
 * to rounding (1e-12: the same table values and interpolation, other order of the operations; the
 * corners read the quad copy of the table, sim_lateral_cells the table itself, so a misplaced quad
 * value would show here: one quad entry taken from the neighbouring row instead gave 3e-3). A NaN axis
 * gives NaN corners (never an index), a grid beyond the limits is refused. */
static void test_corners_accumulate(void **state)
{
  (void)state;
  const double pitch = 3.82;
  double worst = 0.0, worst_table = 0.0;
  for (int k = 0; k < 1000; ++k) {
    double g[49] = {0}, ref[36] = {0}, viat[36] = {0}, etot = 0.0;
    for (int sl = 0; sl < 3; ++sl) {
      double e = 0.1 + 50.0 * uniform(), p = uniform();
      double Rc = exp(log(0.05) + (log(2.0) - log(0.05)) * uniform()), Rt = exp(log(0.5) + (log(10.0) - log(0.5)) * uniform());
      double xa = -2.0 + (6 * pitch + 4.0) * uniform(), ya = -2.0 + (6 * pitch + 4.0) * uniform();
      double ex[7], ey[7], f[36];
      for (int i = 0; i <= 6; ++i) {
        ex[i] = i * pitch - xa;
        ey[i] = i * pitch - ya;
      }
      assert_int_equal(sim_lateral_corners_add(6, 6, ex, ey, e * p, Rc, e * (1.0 - p), Rt, g), 0);
      sim_lateral_cells(6, 6, ex, ey, p, Rc, Rt, f);
      for (int j = 0; j < 6; ++j)
        for (int i = 0; i < 6; ++i) {
          ref[j * 6 + i] += e * (p * cell_exact(ex[i], ex[i + 1], ey[j], ey[j + 1], Rc) +
                                 (1.0 - p) * cell_exact(ex[i], ex[i + 1], ey[j], ey[j + 1], Rt));
          viat[j * 6 + i] += e * f[j * 6 + i];
        }
      etot += e;
    }
    for (int j = 0; j < 6; ++j)
      for (int i = 0; i < 6; ++i) {
        const double *a = g + j * 7 + i;
        double c = a[8] - a[1] - a[7] + a[0];
        worst = fmax(worst, fabs(c - ref[j * 6 + i]) / etot);
        worst_table = fmax(worst_table, fabs(c - viat[j * 6 + i]) / etot);
      }
  }
  print_message("corner grid vs closed form: largest cell error %.3g of the energy; vs sim_lateral_cells %.3g\n", worst,
                worst_table);
  assert_true(worst < 1e-4);
  assert_true(worst_table < 1e-12);
  double g[49] = {0}, ex[7], ey[7];
  for (int i = 0; i <= 6; ++i) ex[i] = ey[i] = i * pitch - 10.0;
  ex[3] = NAN;
  assert_int_equal(sim_lateral_corners_add(6, 6, ex, ey, 1.0, 0.3, 1.0, 2.0, g), 0);
  assert_true(isnan(g[3]) && isfinite(g[2]));
  double many[LAT_MAX_EDGES + 1], big[LAT_MAX_CORNERS + 40];
  for (int i = 0; i <= LAT_MAX_EDGES; ++i) many[i] = i;
  assert_int_equal(sim_lateral_corners_add(12, 12, many, many, 1.0, 0.3, 1.0, 2.0, big), -1); /* 169 corners */
}

/* The corner loop's AVX path (two corners per operation, chosen at run time; branch visresp; the
 * quad table's one load per corner component, branch latsimd) and its SSE2 loop do the same
 * multiplications and additions lane by lane: the grids must be equal to the bit. 20000 random
 * slices: every grid width 1-8 cells (2-9 corners per row: even and odd, so the pairs and the odd
 * last corner) with 1-8 rows within LAT_MAX_CORNERS, radii log-uniform over 0.02-20 cm (from the
 * table's far tail to its first nodes), the axis anywhere within 4 cm of the grid (negative
 * coordinates: signs folded into the weights), every 97th slice a NaN edge (row or column), each
 * slice added twice (the accumulation too). On a CPU without AVX both runs take the SSE2 loop (the
 * test then only checks determinism). */
extern atomic_int sim_lateral_use_avx;
static void test_corners_avx_same_bits(void **state)
{
  (void)state;
  for (int k = 0; k < 20000; ++k) {
    int nx = 1 + k % 8, ny = 1 + (k / 8) % 8;
    while ((nx + 1) * (ny + 1) > LAT_MAX_CORNERS) --ny;
    double ex[10], ey[10], ga[LAT_MAX_CORNERS] = {0}, gs[LAT_MAX_CORNERS] = {0};
    double xa = -4.0 + (nx * 3.82 + 8.0) * uniform(), ya = -4.0 + (ny * 3.82 + 8.0) * uniform();
    for (int i = 0; i <= nx; ++i) ex[i] = i * 3.82 - xa;
    for (int j = 0; j <= ny; ++j) ey[j] = j * 3.82 - ya;
    if (k % 97 == 7) ex[k % (nx + 1)] = NAN;
    if (k % 97 == 50) ey[k % (ny + 1)] = NAN;
    double wc = 10.0 * uniform(), wt = 10.0 * uniform();
    double Rc = exp(log(0.02) + (log(20.0) - log(0.02)) * uniform()), Rt = exp(log(0.02) + (log(20.0) - log(0.02)) * uniform());
    for (int rep = 0; rep < 2; ++rep) {
      sim_lateral_use_avx = 1;
      assert_int_equal(sim_lateral_corners_add(nx, ny, ex, ey, wc, Rc, wt, Rt, ga), 0);
      sim_lateral_use_avx = 0;
      assert_int_equal(sim_lateral_corners_add(nx, ny, ex, ey, wc, Rc, wt, Rt, gs), 0);
    }
    assert_memory_equal(ga, gs, sizeof ga);
  }
  sim_lateral_use_avx = -1;
}

static void test_gamma_p(void **state)
{
  (void)state;
  double worst = 0.0;
  for (double a = 1.1; a < 40.0; a *= 1.13) {
    double lg = gsl_sf_lngamma(a);
    for (double x = 1e-4; x < 300.0; x *= 1.21) {
      double d = fabs(sim_gamma_p(a, x, lg) - gsl_sf_gamma_inc_P(a, x));
      worst = fmax(worst, d);
    }
    assert_true(sim_gamma_p(a, 0.0, lg) == 0.0);
    assert_true(sim_gamma_p(a, -1.0, lg) == 0.0);
  }
  print_message("sim_gamma_p vs GSL: largest difference %.3g\n", worst);
  assert_true(worst < 1e-13);
  for (double x = 0.01; x < 50.0; x *= 1.7) {
    assert_true(fabs(sim_gamma_p(1.0, x, 0.0) - (1.0 - exp(-x))) < 1e-14);
    assert_true(fabs(sim_gamma_p(2.0, x, 0.0) - (1.0 - (1.0 + x) * exp(-x))) < 1e-14);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_closed_form_vs_quadrature),
    cmocka_unit_test(test_limits),
    cmocka_unit_test(test_table_accuracy),
    cmocka_unit_test(test_mixture_and_limits),
    cmocka_unit_test(test_corners_accumulate),
    cmocka_unit_test(test_corners_avx_same_bits),
    cmocka_unit_test(test_gamma_p),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
