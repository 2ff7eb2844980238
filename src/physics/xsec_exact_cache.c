/*
 * Remembered exact tree-level cross sections (issue 14): na64_xsec_exact_quad (the deterministic
 * Gauss rules; VEGAS, na64_xsec_exact_total, stays the cross-check) costs ~5-30 ms per point at 1%,
 * and a limit curve needs thousands of points, so every value is
 * kept in memory (per process) and, when a persistent store is installed (na64_exact_store_set;
 * the cache directory of ana.h na64_exact_store_disk), on disk, keyed by every input.
 * Also the invisible branching fraction of the bosons in the muon-beam search.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "physics/internal.h"

#define EXACT_CODE_REV 3 /* bump whenever xsec_exact.c changes its results: old files then miss
                            (2: the Gauss rules of na64_xsec_exact_quad replace the seeded VEGAS;
                            3: the ladder of rule orders of branch exact1ms) */
#define NBUCKET 4096
#define KEYLEN 320

typedef struct entry {
  struct entry *next;
  char key[KEYLEN];
  double pb, abserr;
} entry;

static entry *buckets[NBUCKET];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static na64_exact_store store;
static int have_store;

void na64_exact_key(const na64_exact_process *p, double rel_prec, char *key, size_t len)
{
  /* the code version and the integration settings are part of the key: a new version recomputes */
  snprintf(key, len, "na64-exact v%s rev %d gauss beam %s mediator %s E0 %.17g m %.17g Z %.17g A %.17g ff %d xmin %.17g prec %.17g",
           na64_version(), EXACT_CODE_REV, na64_lepton_name(p->beam), na64_mediator_name(p->mediator), p->E0, p->m, p->Z,
           p->A, p->ff, p->x_min, rel_prec);
}

/* FNV-1a, 32 bit */
static unsigned hash(const char *s)
{
  unsigned h = 2166136261u;
  for (; *s; ++s) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

static int memory_find(const char *key, double *pb, double *abserr)
{
  for (const entry *e = buckets[hash(key) % NBUCKET]; e; e = e->next)
    if (!strcmp(e->key, key)) {
      *pb = e->pb;
      *abserr = e->abserr;
      return 1;
    }
  return 0;
}

static void memory_add(const char *key, double pb, double abserr)
{
  double a, b;
  if (memory_find(key, &a, &b)) return;
  entry *e = malloc(sizeof *e);
  if (!e) return; /* only a lost shortcut */
  snprintf(e->key, sizeof e->key, "%s", key);
  e->pb = pb;
  e->abserr = abserr;
  unsigned h = hash(key) % NBUCKET;
  e->next = buckets[h];
  buckets[h] = e;
}

void na64_exact_store_set(const na64_exact_store *s)
{
  pthread_mutex_lock(&lock);
  have_store = s && s->load && s->save;
  if (have_store) store = *s;
  pthread_mutex_unlock(&lock);
}

int na64_xsec_exact_cached(const na64_exact_process *p, double rel_prec, double *pb, double *abserr, na64_err *err)
{
  NA64_CALL(na64_exact_process_check(p, err));
  if (!(rel_prec > 0.0) || !(rel_prec < 1.0))
    return na64_err_set(err, NA64_EINVAL, "exact cross section: relative precision %g outside (0, 1)", rel_prec);
  char key[KEYLEN];
  na64_exact_key(p, rel_prec, key, sizeof key);
  double s = 0.0, e = 0.0;
  pthread_mutex_lock(&lock);
  int found = memory_find(key, &s, &e);
  na64_exact_store st = store;
  int use_store = have_store;
  pthread_mutex_unlock(&lock);
  if (!found && use_store && st.load(st.user, key, &s, &e) == 1 && isfinite(s) && s >= 0.0 && isfinite(e) && e >= 0.0)
    found = 2;
  if (!found) {
    NA64_CALL(na64_xsec_exact_quad(p, rel_prec, &s, &e, err));
    if (use_store) st.save(st.user, key, s, e);
  }
  if (found != 1) {
    pthread_mutex_lock(&lock);
    memory_add(key, s, e);
    pthread_mutex_unlock(&lock);
  }
  *pb = s;
  if (abserr) *abserr = e;
  return NA64_OK;
}

/* Z' (L_mu - L_tau) widths at tree level (Gninenko, Krasnikov, Matveev PRD 91 (2015) 095015;
 * Kirpichnikov et al. PRD 104 (2021) 076012): per left-handed neutrino flavour
 * Gamma(Z' -> nu nu-bar) = g^2 m/(24 pi) (mu and tau flavours), and
 * Gamma(Z' -> l+ l-) = g^2 m/(12 pi) (1 + 2 r) sqrt(1 - 4 r), r = m_l^2/m^2 (l = mu, tau).
 * The common factor g^2 m/(12 pi) is dropped. */
double na64_mediator_br_invisible(na64_mediator med, double m)
{
  if (med != NA64_MED_ZPRIME) return 1.0;
  double inv = 1.0, vis = 0.0; /* two neutrino flavours: 2 x 1/2 */
  const double ml[2] = {NA64_M_MU, 1.77686 /* tau mass, GeV (PDG 2024) */};
  for (int i = 0; i < 2; ++i) {
    double r = ml[i] * ml[i] / (m * m);
    if (r < 0.25) vis += (1.0 + 2.0 * r) * sqrt(1.0 - 4.0 * r);
  }
  return inv / (inv + vis);
}
