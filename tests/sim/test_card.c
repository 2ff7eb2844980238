/* Run cards: the shipped cards load; malformed cards fail with file:line:column and the reason;
 * unknown keys, wrong types, out-of-range values, duplicates, aliases and missing sections are
 * errors, never ignored. */
#include <stdio.h>
#include <string.h>

#include "na64/ana.h"
#include "na64/io.h"
#include "na64/sim.h"
#include "support/na64_test.h"

static int parse(const char *text, na64_sim_config *c, na64_err *err)
{
  na64_sim_config_default(c);
  return na64_sim_config_parse(text, strlen(text), "card.yaml", c, err);
}

/* The error must be NA64_EFORMAT (or code) and its message must contain `where` and `what`. */
static void expect_error(const char *text, int code, const char *where, const char *what)
{
  na64_sim_config c;
  na64_err err = {0, ""};
  int st = parse(text, &c, &err);
  if (st != code || !strstr(err.msg, where) || !strstr(err.msg, what))
    fail_msg("card:\n%s\nexpected %d with '%s' and '%s', got %d: %s", text, code, where, what, st, err.msg);
}

static void test_shipped_cards(void **state)
{
  (void)state;
  const char *cards[] = {"invisible_default", "invisible_2016", "invisible_2017", "invisible_2018"};
  const long runs[] = {2000, 2000, 2600, 3500};
  for (int i = 0; i < 4; ++i) {
    char path[512];
    snprintf(path, sizeof path, "%s/configs/%s.yaml", NA64_SOURCE_DIR, cards[i]);
    na64_sim_config c;
    na64_sim_config_default(&c);
    na64_err err = {0, ""};
    if (na64_sim_config_load(path, &c, &err) != NA64_OK) fail_msg("%s: %s", path, err.msg);
    assert_int_equal(c.run, runs[i]);
    assert_true(c.beam_energy == 100.0);          /* 100 GeV invisible runs (NA64 report) */
    assert_true(c.frac_pi == 1e-2);               /* pi/e <= 1e-2 */
    assert_true(c.ecal_stochastic == 0.10);       /* 10%/sqrt(E) */
    assert_true(fabs(c.aprime_mass - 16.7e-3) < 1e-15); /* MeV in the card, GeV inside */
    assert_int_equal(c.aprime_enabled, 1);
  }
}

static void test_minimal_and_values(void **state)
{
  (void)state;
  na64_sim_config c;
  na64_err err = {0, ""};
  assert_int_equal(parse("setup:\n  run: 3000\n", &c, &err), NA64_OK);
  assert_int_equal(c.run, 3000);
  assert_true(c.beam_energy == 100.0); /* defaults kept */
  assert_int_equal(parse("setup: {run: 1500}\nbeam:\n  energy: 150.5\n  admixture: {pi-: 0.002}\n"
                         "processes:\n  aprime: {enabled: yes, bias: 1e6}\naprime: {mass_MeV: 100, epsilon: 3e-5}\n",
                         &c, &err),
                   NA64_OK);
  assert_true(c.beam_energy == 150.5 && c.frac_pi == 0.002 && c.aprime_enabled == 1 && c.aprime_bias == 1e6);
  assert_true(fabs(c.aprime_mass - 0.1) < 1e-15 && c.aprime_eps == 3e-5);
}

static void test_malformed(void **state)
{
  (void)state;
  /* YAML syntax: an unclosed flow mapping; the position is libyaml's */
  expect_error("setup:\n  run: 2000\nbeam: {energy: 100\n", NA64_EFORMAT, "card.yaml:", "YAML syntax error");
  expect_error("setup:\n  run: 2000\n bad indentation: 1\n", NA64_EFORMAT, "card.yaml:3:", "YAML syntax error");
  /* unknown keys are errors, at the key's position */
  expect_error("setup:\n  run: 2000\nbeam:\n  energie: 100\n", NA64_EFORMAT, "card.yaml:4:3:", "unknown key 'energie'");
  expect_error("setup:\n  run: 2000\ncolour: blue\n", NA64_EFORMAT, "card.yaml:3:1:", "unknown key 'colour'");
  /* types and ranges, at the value's position */
  expect_error("setup:\n  run: 2000\nbeam:\n  energy: lots\n", NA64_EFORMAT, "card.yaml:4:11:", "needs a finite number");
  expect_error("setup:\n  run: 2000\nbeam:\n  energy: \"100\"\n", NA64_EFORMAT, "card.yaml:4:11:", "needs a finite number");
  expect_error("setup:\n  run: 2000\nbeam:\n  energy: 1e4\n", NA64_EFORMAT, "card.yaml:4:11:", "outside its allowed range");
  expect_error("setup:\n  run: 2000\nbeam:\n  energy: .nan\n", NA64_EFORMAT, "card.yaml:4:11:", "finite number");
  expect_error("setup:\n  run: 20.5\n", NA64_EFORMAT, "card.yaml:2:8:", "needs an integer");
  expect_error("setup:\n  run: 2000\nbeam: 100\n", NA64_EFORMAT, "card.yaml:3:7:", "needs a mapping");
  expect_error("setup:\n  run: [1, 2]\n", NA64_EFORMAT, "card.yaml:2:8:", "needs a single value");
  expect_error("setup:\n  run: 2000\nprocesses:\n  aprime:\n    enabled: maybe\n", NA64_EFORMAT, "card.yaml:5:14:",
               "true or false");
  /* decimal comma is never a number, whatever the locale */
  expect_error("setup:\n  run: 2000\nbeam:\n  energy: 100,5\n", NA64_EFORMAT, "card.yaml:4:11:", "finite number");
  /* structure */
  expect_error("setup:\n  run: 1\nsetup:\n  run: 2\n", NA64_EFORMAT, "card.yaml:3:1:", "duplicate key 'setup'");
  expect_error("beam:\n  energy: 100\n", NA64_EFORMAT, "card.yaml:1:1:", "missing required key 'setup'");
  expect_error("- 1\n- 2\n", NA64_EFORMAT, "card.yaml:1:1:", "must be a mapping");
  expect_error("", NA64_EFORMAT, "card.yaml:1:1:", "empty");
  expect_error("setup: &s {run: 1}\nbeam: *s\n", NA64_EFORMAT, "card.yaml:2:7:", "aliases");
  expect_error("setup: {run: 1}\n---\nsetup: {run: 2}\n", NA64_EFORMAT, "card.yaml:2:1:", "one YAML document");
  /* consistency checks after reading */
  expect_error("setup: {run: 1}\nbeam:\n  admixture: {pi-: 0.5, K-: 0.5, p: 0.1}\n", NA64_EINVAL, "card.yaml", "sum to");
  expect_error("setup: {run: 1}\naprime: {decay: visible}\n", NA64_EINVAL, "card.yaml", "only 'invisible'");
}

static void test_file_errors(void **state)
{
  (void)state;
  na64_sim_config c;
  na64_sim_config_default(&c);
  na64_err err = {0, ""};
  assert_int_equal(na64_sim_config_load("/nonexistent/card.yaml", &c, &err), NA64_EIO);
  assert_non_null(strstr(err.msg, "/nonexistent/card.yaml"));
  /* the generic reader: a schema of two keys, one required */
  na64_card *card = NULL;
  const char *text = "a: 1.5\nb: text\n";
  assert_int_equal(na64_card_parse(text, strlen(text), "x.yaml", &card, &err), NA64_OK);
  double a = 0;
  char b[4];
  const na64_card_key keys[] = {{"a", NA64_CARD_DOUBLE, &a, 0, 0, 1, 1, NULL, 0, NULL},
                                {"b", NA64_CARD_STRING, b, sizeof b, 1, 0, 0, NULL, 0, NULL}};
  assert_int_equal(na64_card_read(card, NULL, keys, 2, &err), NA64_EFORMAT); /* 1.5 outside [0, 1] */
  assert_non_null(strstr(err.msg, "x.yaml:1:4:"));
  na64_card_free(card);
  text = "a: 0.5\nb: toolong\n";
  assert_int_equal(na64_card_parse(text, strlen(text), "x.yaml", &card, &err), NA64_OK);
  assert_int_equal(na64_card_read(card, NULL, keys, 2, &err), NA64_EFORMAT);
  assert_non_null(strstr(err.msg, "x.yaml:2:4:"));
  na64_card_free(card);
}

/* Regressions of the card fuzzer (tests/fuzz/fuzz_card.c): every refusal names the card and the
 * key or its position, however the card is broken. */
static void test_fuzz_regressions(void **state)
{
  (void)state;
  /* non-UTF-8 bytes and deep nesting: libyaml's and our refusals, with the position */
  expect_error("setup:\n  run: 2000\nbeam:\n  energy: 1\xff" "0\n", NA64_EFORMAT, "card.yaml:", "UTF-8");
  char deep[400] = "setup: {run: 1}\nbeam: ";
  for (int i = 0; i < 40; ++i) strcat(deep, "[");
  for (int i = 0; i < 40; ++i) strcat(deep, "]");
  expect_error(deep, NA64_EFORMAT, "card.yaml:2:", "nesting deeper than 32");
  expect_error("setup: {run: 1e400}\n", NA64_EFORMAT, "card.yaml:1:14:", "finite number");
  expect_error("setup: {run: 99999999999999999999}\n", NA64_EFORMAT, "card.yaml:1:14:", "integer");
  /* checks across keys name the card keys (they were "A' mass ... minimum A' energy", "pile-up of ...") */
  expect_error("setup: {run: 1}\nprocesses: {aprime: {enabled: true, min_energy: 0}}\n", NA64_EPHYS, "card.yaml",
               "aprime.mass_MeV 16.7 must be below processes.aprime.min_energy");
  expect_error("setup: {run: 1}\nbeam: {intensity: 1e9, spill_length: 0.01}\n", NA64_EINVAL, "card.yaml",
               "beam.intensity");
  /* the selection's check names the card key, not the C expression (was "p_max = 1 is invalid
   * (isfinite(c->p_max) && ...)") */
  na64_select_config sel;
  na64_select_config_default(&sel);
  na64_err err = {0, ""};
  const char *t = "setup: {run: 1}\nselection: {momentum_min: 97, momentum_max: 1}\n";
  assert_int_equal(na64_select_config_parse(t, strlen(t), "card.yaml", &sel, &err), NA64_EINVAL);
  if (!strstr(err.msg, "card.yaml:2:12: selection.momentum_max = 1: must be finite and above momentum_min"))
    fail_msg("%s", err.msg);
  /* the visible selection's s4 window: at the key, with the card (was "selection: s4_min_mips ...") */
  t = "setup: {run: 1}\nselection:\n  s4_min_mips: 1.5\n  s4_max_mips: 0\n";
  na64_card *card = NULL;
  assert_int_equal(na64_card_parse(t, strlen(t), "v.yaml", &card, &err), NA64_OK);
  na64_vis_select_config vs;
  na64_vis_select_config_default(&vs);
  assert_int_equal(na64_vis_select_config_read(card, &vs, &err), NA64_EFORMAT);
  if (!strstr(err.msg, "v.yaml:4:16: selection.s4_min_mips 1.5 must be below s4_max_mips 0")) fail_msg("%s", err.msg);
  na64_card_free(card);
  /* a prefix spelt with its own ": " is not doubled (was "sim setup: : /usr/...: cannot open") */
  na64_err_set(&err, NA64_EIO, "cause");
  na64_err_prefix(&err, "sim setup: ");
  assert_string_equal(err.msg, "sim setup: cause");
  /* nor is a context the message starts with already (was "card.yaml: card.yaml:2:12: ...") */
  na64_err_set(&err, NA64_EINVAL, "card.yaml:2:12: bad");
  na64_err_prefix(&err, "%s: ", "card.yaml");
  assert_string_equal(err.msg, "card.yaml:2:12: bad");
  /* a directory given as the card */
  na64_sim_config c;
  na64_sim_config_default(&c);
  assert_int_equal(na64_sim_config_load(NA64_SOURCE_DIR "/configs", &c, &err), NA64_EIO);
  if (!strstr(err.msg, "/configs: is a directory")) fail_msg("%s", err.msg);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shipped_cards),
      cmocka_unit_test(test_minimal_and_values),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_file_errors),
      cmocka_unit_test(test_fuzz_regressions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
