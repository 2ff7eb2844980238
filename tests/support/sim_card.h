/* The invisible setup of run 2000 (the build's conditions database) with extra card lines: the
 * simulation set-up shared by the sim and physics tests. Include after support/na64_test.h. */
#ifndef NA64_TEST_SIM_CARD_H
#define NA64_TEST_SIM_CARD_H
#include <stdio.h>
#include <string.h>

#include "na64/sim.h"

/* Parse "setup: {run: 2000, ...}" followed by `extra` (YAML lines, may be "") into c; `name` is the
 * card's file name in error messages */
static inline int na64_test_sim_parse(const char *extra, const char *name, na64_sim_config *c, na64_err *err)
{
  char text[2048];
  snprintf(text, sizeof text, "setup: {run: 2000, conditions: \"%s\"}\n%s", NA64_BINARY_DIR "/conditions.db", extra);
  na64_sim_config_default(c);
  return na64_sim_config_parse(text, strlen(text), name, c, err);
}

/* A simulation of that card; fails the test on any error */
static inline na64_sim *na64_test_sim_new(const char *extra, const char *name)
{
  na64_sim_config c;
  na64_err err = {0, ""};
  if (na64_test_sim_parse(extra, name, &c, &err)) fail_msg("card: %s", err.msg);
  na64_sim *s = NULL;
  if (na64_sim_new(&c, &s, &err)) fail_msg("sim: %s", err.msg);
  return s;
}

#endif
