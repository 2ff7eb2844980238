/* `na64 xsec --method exact` (src/cli/cmd_physics.c, issue 14): the CSV row is parsed by column name
 * and compared with the library called directly, by the Gauss rules (the default) and by VEGAS
 * (--integrator vegas, seed 1): sigma_pb is the per-atom mean sum_i n_i sigma_i / sum_i n_i and
 * lambda_cm = 1/(sum_i n_i sigma_i), both recomputed here from na64_material_atom_density; the
 * two integrators agree within their errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/physics.h"
#include "support/na64_test.h"

static int run(const char *args, char **out)
{
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "'%s' %s 2>/dev/null", NA64_CLI_PATH, args);
  return na64_test_run(cmd, out);
}

/* The cell of column `name` in the first data row of a two-line CSV, copied to cell[len]. */
static void csv_cell(const char *out, const char *name, char *cell, size_t len)
{
  const char *row = strchr(out, '\n');
  assert_non_null(row);
  ++row;
  const char *h = out;
  size_t nlen = strlen(name);
  for (;;) {
    const char *end = h + strcspn(h, ",\n");
    if ((size_t)(end - h) == nlen && !strncmp(h, name, nlen)) break;
    assert_true(*end == ','); /* the column exists */
    h = end + 1;
    row += strcspn(row, ",\n");
    assert_true(*row == ',');
    ++row;
  }
  size_t n = strcspn(row, ",\n");
  assert_true(n < len);
  memcpy(cell, row, n);
  cell[n] = '\0';
}

static double csv_num(const char *out, const char *name)
{
  char cell[64];
  csv_cell(out, name, cell, sizeof cell);
  char *end;
  double v = strtod(cell, &end);
  assert_true(end != cell && *end == '\0');
  return v;
}

/* sigma (pb, per atom) and lambda (cm) of a material from the library, as the CLI defines them */
static void library_values(const char *target, const na64_exact_process *proto, int vegas, double *sigma, double *err,
                           double *lambda)
{
  na64_material mat;
  assert_int_equal(na64_material_get(target, &mat, NULL), NA64_OK);
  double macro = 0.0, atoms = 0.0, var = 0.0;
  for (int i = 0; i < mat.ncomp; ++i) {
    na64_exact_process p = *proto;
    p.Z = mat.comp[i].Z;
    p.A = mat.comp[i].A;
    double s, e, n = na64_material_atom_density(&mat, i);
    na64_err er = {0};
    int st = vegas ? na64_xsec_exact_total(&p, 0.01, 1, &s, &e, &er) : na64_xsec_exact_quad(&p, 0.01, &s, &e, &er);
    assert_int_equal(st, NA64_OK);
    macro += n * s * 1e-36;
    var += pow(n * e * 1e-36, 2);
    atoms += n;
  }
  *sigma = macro / atoms * 1e36;
  *err = sqrt(var) / atoms * 1e36;
  *lambda = 1.0 / macro;
}

/* e- vector on Pb and on the ECAL mixture, mu- Z' on Pb: the printed sigma (6 digits), its error
 * (2 digits) and lambda (10 digits) equal the library's to their printed precision. */
static void test_cli_gauss(void **state)
{
  (void)state;
  struct {
    const char *args, *target, *beam, *med;
    na64_lepton lepton;
    na64_mediator mediator;
    double E0, m, g;
  } cases[] = {
      {"--target Pb --energy 100 --mass 16.7 --eps 1e-2", "Pb", "e", "vector", NA64_LEPTON_E, NA64_MED_VECTOR, 100.0, 0.0167, 1e-2},
      {"--target ECAL --energy 100 --mass 100 --eps 1", "ECAL", "e", "vector", NA64_LEPTON_E, NA64_MED_VECTOR, 100.0, 0.1, 1.0},
      {"--target Pb --energy 160 --mass 50 --eps 1e-3 --beam mu --mediator zprime", "Pb", "mu", "zprime", NA64_LEPTON_MU,
       NA64_MED_ZPRIME, 160.0, 0.05, 1e-3},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; ++k) {
    char args[512], cell[64], *out;
    snprintf(args, sizeof args, "xsec --method exact %s --format csv", cases[k].args);
    assert_int_equal(run(args, &out), 0);
    csv_cell(out, "integrator", cell, sizeof cell);
    assert_string_equal(cell, "gauss");
    csv_cell(out, "beam", cell, sizeof cell);
    assert_string_equal(cell, cases[k].beam);
    csv_cell(out, "mediator", cell, sizeof cell);
    assert_string_equal(cell, cases[k].med);
    na64_exact_process p;
    na64_exact_process_init(&p, cases[k].lepton, cases[k].mediator, cases[k].E0, cases[k].m);
    p.coupling = cases[k].g;
    double s, e, lam;
    library_values(cases[k].target, &p, 0, &s, &e, &lam);
    print_message("%s: CLI sigma %s pb, library %.6g +- %.2g pb\n", cases[k].args, strstr(out, "\n") + 1, s, e);
    assert_rel(csv_num(out, "sigma_pb"), s, 1e-5);
    assert_rel(csv_num(out, "error_pb"), e, 0.05);
    assert_rel(csv_num(out, "lambda_cm"), lam, 1e-8);
    assert_true(csv_num(out, "error_pb") <= 0.01 * csv_num(out, "sigma_pb"));
    free(out);
  }
}

/* --integrator vegas: the library's VEGAS value (seed 1) to print precision, and within the two
 * quoted errors (plus 3 VEGAS errors) of the Gauss value of the default. */
static void test_cli_vegas(void **state)
{
  (void)state;
  char *out, *outg;
  assert_int_equal(run("xsec --method exact --target Pb --energy 100 --mass 16.7 --eps 1 --integrator vegas --format csv", &out), 0);
  assert_int_equal(run("xsec --method exact --target Pb --energy 100 --mass 16.7 --eps 1 --format csv", &outg), 0);
  char cell[64];
  csv_cell(out, "integrator", cell, sizeof cell);
  assert_string_equal(cell, "vegas");
  na64_exact_process p;
  na64_exact_process_init(&p, NA64_LEPTON_E, NA64_MED_VECTOR, 100.0, 0.0167);
  double s, e, lam;
  library_values("Pb", &p, 1, &s, &e, &lam);
  double v = csv_num(out, "sigma_pb"), ev = csv_num(out, "error_pb"), g = csv_num(outg, "sigma_pb"),
         eg = csv_num(outg, "error_pb");
  print_message("VEGAS %.6g +- %.2g pb (library %.6g), Gauss %.6g +- %.2g pb\n", v, ev, s, g, eg);
  assert_rel(v, s, 1e-5);
  assert_true(fabs(v - g) <= eg + 3.0 * ev);
  free(out);
  free(outg);
  /* an unknown integrator is a usage error */
  assert_int_not_equal(run("xsec --method exact --energy 100 --mass 16.7 --eps 1 --integrator simpson", &out), 0);
  free(out);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cli_gauss),
      cmocka_unit_test(test_cli_vegas),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
