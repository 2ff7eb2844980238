/* The published NA64 exclusion curves embedded from data/published_*.csv (include/na64/physics.h):
 * drawn next to our curves for comparison, never used in a calculation. The provenance of each
 * digitisation is in the comment lines of its file. */
#include <stdlib.h>
#include <string.h>

#include "na64/physics.h"
#include "physics/internal.h"

static const struct {
  int visible;
  const char *file, *file_upper, *label;
} published[] = {
    {0, "published_invisible_PRL118_2017_2p75e9.csv", NULL, "NA64 PRL 118 (2017), 2.75e9 EOT"},
    {0, "published_invisible_PRD97_2018_4p3e10.csv", NULL, "NA64 PRD 97 (2018), 4.3e10 EOT"},
    {0, "published_invisible_PRL123_2019_2p84e11.csv", NULL, "NA64 PRL 123 (2019), 2.84e11 EOT"},
    {1, "published_visible_PRL120_2018_5p4e10_lower.csv", "published_visible_PRL120_2018_5p4e10_upper.csv",
     "NA64 PRL 120 (2018), 5.4e10 EOT"},
};
enum { NPUBLISHED = sizeof published / sizeof published[0] };

int na64_published_count(void) { return NPUBLISHED; }

static int load(const char *name, na64_grid1 *g, na64_err *err)
{
  size_t len;
  const char *text = na64_embedded_find(name, &len);
  if (!text) return na64_err_set(err, NA64_ENOTFOUND, "embedded table %s missing", name);
  return na64_grid1_parse(text, len, name, g, err);
}

int na64_published_get(int i, na64_published_curve *c, na64_err *err)
{
  memset(c, 0, sizeof *c);
  if (i < 0 || i >= NPUBLISHED)
    return na64_err_set(err, NA64_EINVAL, "published curve %d: only 0..%d exist", i, NPUBLISHED - 1);
  c->label = published[i].label;
  c->visible = published[i].visible;
  na64_grid1 lo;
  NA64_CALL(load(published[i].file, &lo, err));
  c->n = lo.n;
  c->mass_MeV = lo.x;
  c->eps = lo.f;
  if (!published[i].file_upper) return NA64_OK;
  na64_grid1 hi;
  int st = load(published[i].file_upper, &hi, err);
  if (st != NA64_OK) {
    na64_published_release(c);
    return st;
  }
  c->n_upper = hi.n;
  c->mass_upper_MeV = hi.x;
  c->eps_upper = hi.f;
  return NA64_OK;
}

void na64_published_release(na64_published_curve *c)
{
  if (!c) return;
  free(c->mass_MeV);
  free(c->eps);
  free(c->mass_upper_MeV);
  free(c->eps_upper);
  memset(c, 0, sizeof *c);
}
