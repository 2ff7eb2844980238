/* JSROOT (npm package jsroot, installed into web/ by `make deps`) reads our TH1D/TH2D JSON: parsed
 * with jsroot's parse(), every member that jsroot's own create('TH1D'/'TH2D'/'TAxis') template has is
 * present, and jsroot's getBin/getBinContent/getBinError (its implementation of ROOT's cell layout)
 * find the content and error we filled in every cell, under- and overflow included. Skipped (not
 * passed) when node or web/node_modules/jsroot is absent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "na64/io.h"
#include "support/na64_test.h"

#define tmpdir na64_test_tmpdir
#define NX 7
#define NY 5

static const char *const script =
    "import { parse, create } from 'jsroot';\n"
    "import { readFileSync } from 'fs';\n"
    "const [k1, k2] = process.argv.slice(-2);\n"
    "const h1 = parse(readFileSync(k1, 'utf8')), h2 = parse(readFileSync(k2, 'utf8'));\n"
    "const need = (ours, tmpl, what) => { for (const k of Object.keys(tmpl)) if (typeof tmpl[k] !== 'function' && !(k in ours)) throw new Error(what + ' lacks ' + k); };\n"
    "need(h1, create('TH1D'), 'TH1D'); need(h2, create('TH2D'), 'TH2D'); need(h1.fXaxis, create('TAxis'), 'TAxis');\n"
    "if (h1._typename !== 'TH1D' || h2._typename !== 'TH2D') throw new Error('typename');\n"
    "for (let ix = 0; ix <= " "7" " + 1; ++ix) {\n"
    "  if (h1.getBinContent(ix) !== 1 + ix) throw new Error('1-D bin ' + ix + ' = ' + h1.getBinContent(ix));\n"
    "  if (Math.abs(h1.getBinError(ix) - (1 + ix)) > 1e-12) throw new Error('1-D error ' + ix);\n"
    "  for (let iy = 0; iy <= " "5" " + 1; ++iy) {\n"
    "    const w = 1 + ix + 10 * iy;\n"
    "    if (h2.getBinContent(ix, iy) !== w) throw new Error('2-D bin ' + ix + ',' + iy + ' = ' + h2.getBinContent(ix, iy));\n"
    "    if (Math.abs(h2.getBinError(h2.getBin(ix, iy)) - w) > 1e-9 * w) throw new Error('2-D error ' + ix + ',' + iy);\n"
    "  }\n"
    "}\n"
    "if (Math.abs(h1.fXaxis.GetBinCenter(3) - (-1 + 2.5 * 0.5)) > 1e-12) throw new Error('bin centre ' + h1.fXaxis.GetBinCenter(3));\n"
    "console.log('ok', h1.fEntries, h2.fEntries);\n";

static void write_json(const na64_hist *h, const char *path)
{
  char *json;
  na64_err err;
  assert_int_equal(na64_hist_to_json(h, &json, NULL, &err), 0);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(json, f);
  fclose(f);
  free(json);
}

/* The x of bin ix (0 underflow, NX + 1 overflow) of an axis [-1, 2.5) with NX bins of 0.5. */
static double xof(int ix, int n, double lo, double width)
{
  return lo + width * ((double)ix - 0.5) + (ix == n + 1 ? 10 * width : 0) - (ix == 0 ? 10 * width : 0);
}

static void test_jsroot_reads_our_json(void **state)
{
  (void)state;
  char mod[512];
  snprintf(mod, sizeof mod, "%s/web/node_modules/jsroot/package.json", NA64_SOURCE_DIR);
  struct stat sb;
  if (stat(mod, &sb) != 0 || na64_test_run("node --version >/dev/null 2>&1", NULL) != 0) {
    print_message("jsroot not installed (make deps installs it into web/): skipped\n");
    skip();
  }
  na64_hist *h1, *h2;
  na64_err err;
  assert_int_equal(na64_hist_new_1d("h1", "one", NX, -1.0, 2.5, &h1, &err), 0);
  assert_int_equal(na64_hist_new_2d("h2", "two", NX, -1.0, 2.5, NY, 0.0, 5.0, &h2, &err), 0);
  for (int ix = 0; ix <= NX + 1; ++ix) {
    na64_hist_fill(h1, xof(ix, NX, -1.0, 0.5), 1.0 + ix); /* one fill per cell: error = weight */
    for (int iy = 0; iy <= NY + 1; ++iy)
      na64_hist_fill2(h2, xof(ix, NX, -1.0, 0.5), xof(iy, NY, 0.0, 1.0), 1.0 + ix + 10.0 * iy);
  }
  char p1[320], p2[320], js[320], cmd[1600];
  snprintf(p1, sizeof p1, "%s/h1.json", tmpdir);
  snprintf(p2, sizeof p2, "%s/h2.json", tmpdir);
  snprintf(js, sizeof js, "%s/check.mjs", tmpdir);
  write_json(h1, p1);
  write_json(h2, p2);
  FILE *f = fopen(js, "w");
  assert_non_null(f);
  fputs(script, f);
  fclose(f);
  /* --input-type=module with cwd web/ so that 'jsroot' resolves to web/node_modules */
  snprintf(cmd, sizeof cmd, "cd '%s/web' && node --input-type=module - '%s' '%s' < '%s' 2>&1", NA64_SOURCE_DIR, p1, p2, js);
  char *out = NULL;
  int st = na64_test_run(cmd, &out);
  if (st != 0 || strncmp(out, "ok 9 63", 7) != 0) fail_msg("jsroot check failed (%d): %s", st, out);
  free(out);
  na64_hist_free(h1);
  na64_hist_free(h2);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_jsroot_reads_our_json)};
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
