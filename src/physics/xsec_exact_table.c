/*
 * Tables for fast use built by the exact tree-level calculation (xsec_exact.c): the macroscopic
 * cross section sum_j n_j sigma_j(E) of any material for one beam lepton, mediator and X mass,
 * at coupling 1, on a logarithmic energy grid, interpolated linearly in ln sigma (sigma varies
 * slowly, as a power of E, above threshold). Every node is a Gauss-rule total (na64_xsec_exact_quad);
 * its relative error estimate is kept.
 */
#include <math.h>
#include <stdlib.h>

#include "physics/internal.h"

struct na64_exact_table {
  int n;
  double lnEmin, dln, m_threshold;
  double *ln_sigma; /* ln(1/cm) at coupling 1; -INFINITY where closed */
  double max_rel_err;
};

static int node(const na64_exact_process *proto, const na64_material *mat, double E, double rel_prec, double *inv_cm,
                double *rel_err, na64_err *err)
{
  double sum = 0.0, var = 0.0;
  for (int i = 0; i < mat->ncomp; ++i) {
    na64_exact_process p = *proto;
    p.E0 = E;
    p.coupling = 1.0;
    p.Z = mat->comp[i].Z;
    p.A = mat->comp[i].A;
    double s, e, n = na64_material_atom_density(mat, i);
    int st = na64_xsec_exact_quad(&p, rel_prec, &s, &e, err);
    if (st) {
      na64_err_prefix(err, "exact table for %s at E = %g GeV", mat->name, E);
      return st;
    }
    sum += n * s * 1e-36;
    var += pow(n * e * 1e-36, 2); /* the estimates are taken as independent */
  }
  *inv_cm = sum;
  *rel_err = sum > 0.0 ? sqrt(var) / sum : 0.0;
  return NA64_OK;
}

int na64_exact_table_new(const na64_exact_process *proto, const na64_material *mat, double Emin, double Emax,
                         int npoints, double rel_prec, na64_exact_table **out, na64_err *err)
{
  if (!proto || !mat || !out) return na64_err_set(err, NA64_EINVAL, "exact table: NULL argument");
  double ml = proto->beam == NA64_LEPTON_MU ? NA64_M_MU : NA64_M_E, thr = proto->m + ml;
  if (!(Emin > thr) || !(Emax > Emin) || !isfinite(Emax) || npoints < 2 || npoints > 100000)
    return na64_err_set(err, NA64_EINVAL,
                        "exact table: need m_X + m_l = %g < Emin = %g < Emax = %g GeV and 2..100000 points (got %d)", thr,
                        Emin, Emax, npoints);
  if (mat->ncomp < 1) return na64_err_set(err, NA64_EINVAL, "exact table: material %s has no components", mat->name);
  na64_exact_table *t = calloc(1, sizeof *t);
  if (!t || !(t->ln_sigma = malloc((size_t)npoints * sizeof *t->ln_sigma))) {
    free(t);
    return na64_err_set(err, NA64_ENOMEM, "exact table: out of memory");
  }
  t->n = npoints;
  t->lnEmin = log(Emin);
  t->dln = (log(Emax) - t->lnEmin) / (npoints - 1);
  t->m_threshold = thr;
  for (int i = 0; i < npoints; ++i) {
    double s, re;
    int st = node(proto, mat, exp(t->lnEmin + i * t->dln), rel_prec, &s, &re, err);
    if (st) {
      na64_exact_table_free(t);
      return st;
    }
    t->ln_sigma[i] = s > 0.0 ? log(s) : -INFINITY;
    t->max_rel_err = fmax(t->max_rel_err, re);
  }
  *out = t;
  return NA64_OK;
}

double na64_exact_table_eval(const na64_exact_table *t, double E)
{
  if (!t || !(E > t->m_threshold)) return 0.0;
  double u = (log(E) - t->lnEmin) / t->dln;
  if (u <= 0.0) return exp(t->ln_sigma[0]);
  if (u >= t->n - 1) return exp(t->ln_sigma[t->n - 1]);
  int i = (int)u;
  double f = u - i;
  return exp((1.0 - f) * t->ln_sigma[i] + f * t->ln_sigma[i + 1]);
}

double na64_exact_table_max_rel_error(const na64_exact_table *t) { return t ? t->max_rel_err : NAN; }

void na64_exact_table_free(na64_exact_table *t)
{
  if (!t) return;
  free(t->ln_sigma);
  free(t);
}
