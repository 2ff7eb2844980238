/* Parts of the main job (issue 15): three parts merged in any order give bit for bit the
 * accumulators and the result of the serial job; the text form reads back exactly; merges of
 * overlapping, gapped or foreign parts are refused with the files named. Exact equality is the
 * requirement here (no tolerance): every sum is an integer or an na64_xsum. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"
#include "support/na64_test.h"

static const char card_text[] =
    "setup:\n  run: 2000\n"
    "processes:\n  aprime:\n    enabled: true\n    bias: 1.0e8\n    min_energy: 50.0\n"
    "aprime:\n  mass_MeV: 16.7\n  epsilon: 1.0e-4\n"
    "analysis:\n  eot: 2.84e11\n  events: 3000\n  signal_events: 400\n  seed: 5\n  threads: 2\n"
    "  masses_MeV: \"16.7\"\n  background_events: 1000\n";

static void write_text(const char *name, const char *text, char *path, size_t n)
{
  snprintf(path, n, "%s/%s", na64_test_tmpdir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* The accumulators of a and b are the same exact sums. */
static void assert_same_accum(const na64_select_accum *a, const na64_select_accum *b)
{
  char *ta = NULL, *tb = NULL;
  size_t la = 0, lb = 0;
  na64_err err = {0};
  na64_job_partial pa = {0}, pb = {0};
  pa.main = *a;
  pb.main = *b;
  assert_int_equal(na64_job_partial_format(&pa, &ta, &la, &err), NA64_OK);
  assert_int_equal(na64_job_partial_format(&pb, &tb, &lb, &err), NA64_OK);
  assert_int_equal(la, lb);
  assert_memory_equal(ta, tb, la);
  free(ta);
  free(tb);
}

/* The serial job and its three parts, run once for all tests (each run costs ~0.4 s of set-up). */
static char card[512];
static na64_job_partial whole, parts[3];

static void run_parts(const char *card_path, int n, na64_job_partial *out);

static int setup(void **state)
{
  if (na64_test_setup_tmpdir(state)) return -1;
  write_text("card.yaml", card_text, card, sizeof card);
  run_parts(card, 1, &whole);
  run_parts(card, 3, parts);
  return 0;
}

static int teardown(void **state)
{
  na64_job_partial_release(&whole);
  for (int k = 0; k < 3; ++k) na64_job_partial_release(&parts[k]);
  return na64_test_teardown_tmpdir(state);
}

static void run_parts(const char *card_path, int n, na64_job_partial *out)
{
  na64_err err = {0};
  for (int k = 0; k < n; ++k) {
    int st = na64_job_partial_run(card_path, k, n, &out[k], NULL, NULL, &err);
    if (st) fail_msg("part %d/%d: %s", k, n, err.msg);
  }
}

static void test_parts_merge_to_serial(void **state)
{
  (void)state;
  na64_err err = {0};
  na64_job_partial merged;
  /* a reversed order: the merge does not depend on it */
  na64_job_partial rev[3] = {parts[2], parts[0], parts[1]};
  const char *names[3] = {"p2", "p0", "p1"};
  int st = na64_job_partial_merge(rev, names, 3, &merged, &err);
  if (st) fail_msg("%s", err.msg);
  assert_true(merged.main_first == 0 && merged.main_count == 3000);
  assert_true(merged.signal_first == 0 && merged.signal_count == 400);
  assert_int_equal(merged.main.all.events[0], 3000);
  assert_same_accum(&merged.main, &whole.main);
  assert_same_accum(&merged.signal[0], &whole.signal[0]);
  /* the E_ECAL-E_HCAL plane of the report is part of the compared text: it must not be empty */
  uint64_t in_plane = 0;
  for (int i = 0; i < NA64_PLANE_NY; ++i)
    for (int j = 0; j < NA64_PLANE_NX; ++j) in_plane += whole.main.plane[i][j];
  assert_true(in_plane > 0);
  /* the finished results are identical doubles */
  na64_job_result *r1 = calloc(1, sizeof *r1), *r2 = calloc(1, sizeof *r2);
  assert_int_equal(na64_job_finish(&whole, 0, r1, &err), NA64_OK);
  st = na64_job_finish(&merged, 0, r2, &err);
  if (st) fail_msg("%s", err.msg);
  assert_true(r1->efficiency[0] == r2->efficiency[0] && r1->efficiency_error[0] == r2->efficiency_error[0]);
  assert_true(r1->result.background_per_eot_upper == r2->result.background_per_eot_upper);
  assert_int_equal(r1->limit.n, r2->limit.n);
  assert_memory_equal(r1->limit.pt, r2->limit.pt, (size_t)r1->limit.n * sizeof *r1->limit.pt);
  /* the Table 1 routes (issue 11): 1000 events per source split 333/333/334, merged exactly */
  assert_true(merged.bkg_first == 0 && merged.bkg_count == 1000 && merged.bkg_events == 1000);
  assert_int_equal(r2->bkg_n, NA64_SIM_BKG_NSOURCES);
  assert_memory_equal(r1->bkg, r2->bkg, sizeof r1->bkg);
  assert_true(r1->limit_background == r2->limit_background && r1->limit_background > 0);
  /* a part alone is not the job */
  na64_job_result_release(r2);
  assert_int_equal(na64_job_finish(&parts[1], 0, r2, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "merge every part"));
  na64_job_result_release(r1);
  na64_job_result_release(r2);
  free(r1);
  free(r2);
  na64_job_partial_release(&merged);
}

static void test_text_round_trip(void **state)
{
  (void)state;
  char path[512];
  na64_err err = {0};
  na64_job_partial q;
  snprintf(path, sizeof path, "%s/whole.part", na64_test_tmpdir);
  assert_int_equal(na64_job_partial_write(&whole, path, &err), NA64_OK);
  int st = na64_job_partial_read(path, &q, &err);
  if (st) fail_msg("%s", err.msg);
  assert_string_equal(q.card_name, card);
  assert_int_equal(q.card_len, strlen(card_text));
  assert_memory_equal(q.card_text, card_text, q.card_len);
  assert_true(q.card_hash == whole.card_hash && q.seed == 5 && q.events == 3000 && q.signal_events == 400);
  assert_same_accum(&q.main, &whole.main);
  assert_same_accum(&q.signal[0], &whole.signal[0]);
  assert_true(q.bkg_events == 1000 && q.bkg_first == 0 && q.bkg_count == 1000);
  for (int i = 0; i < NA64_SIM_BKG_NSOURCES; ++i) {
    assert_int_equal(q.bkg[i].passed, whole.bkg[i].passed);
    double x = na64_xsum_value(&q.bkg[i].sum), y = na64_xsum_value(&whole.bkg[i].sum);
    assert_memory_equal(&x, &y, sizeof x);
  }
  na64_job_partial_release(&q);
  /* a truncated file is refused with its name and line */
  char *text = NULL;
  size_t len = 0;
  assert_int_equal(na64_job_partial_format(&whole, &text, &len, &err), NA64_OK);
  assert_int_equal(na64_job_partial_parse(text, len / 2, "half.part", &q, &err), NA64_EFORMAT);
  assert_non_null(strstr(err.msg, "half.part:"));
  na64_job_partial_release(&q);
  free(text);
}

static void test_merge_refusals(void **state)
{
  (void)state;
  char card2[512];
  char *other = strdup(card_text);
  strstr(other, "seed: 5")[6] = '6'; /* another card (and seed) */
  write_text("other.yaml", other, card2, sizeof card2);
  free(other);
  na64_err err = {0};
  na64_job_partial foreign, merged;
  assert_int_equal(na64_job_partial_run(card2, 2, 3, &foreign, NULL, NULL, &err), NA64_OK);
  /* the same part twice: overlap, both files named */
  na64_job_partial dup[3] = {parts[0], parts[1], parts[1]};
  const char *names[3] = {"a.part", "b.part", "c.part"};
  assert_int_equal(na64_job_partial_merge(dup, names, 3, &merged, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "b.part"));
  assert_non_null(strstr(err.msg, "c.part"));
  assert_non_null(strstr(err.msg, "overlap"));
  na64_job_partial_release(&merged);
  /* a gap: parts 0 and 2 */
  na64_job_partial gap[2] = {parts[0], parts[2]};
  assert_int_equal(na64_job_partial_merge(gap, names, 2, &merged, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "missing"));
  na64_job_partial_release(&merged);
  /* another card */
  na64_job_partial mixed[3] = {parts[0], parts[1], foreign};
  assert_int_equal(na64_job_partial_merge(mixed, names, 3, &merged, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "different run cards"));
  assert_non_null(strstr(err.msg, "c.part"));
  na64_job_partial_release(&merged);
  na64_job_partial_release(&foreign);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parts_merge_to_serial),
      cmocka_unit_test(test_text_round_trip),
      cmocka_unit_test(test_merge_refusals),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
