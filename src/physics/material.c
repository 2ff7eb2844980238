/*
 * Materials: bulk properties from the PDG "Atomic and Nuclear Properties of Materials" tables
 * (pdg.lbl.gov/AtomicNuclearProperties, R.L. Workman et al. (PDG), PTEP 2022 083C01 and updates),
 * combined for sandwiches by the PDG mixture rules (Review of Particle Physics, "Passage of particles
 * through matter", eqs. 34.28 (1/X0 = sum w_j/X_j) and 34.37 (1/R_M = (1/E_s) sum w_j E_cj/X_j)).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "na64/physics.h"

/* Standard atomic weights (IUPAC 2021, as used by PDG). */
enum { H = 1, C = 6, N = 7, O = 8, AL = 13, AR = 18, FE = 26, CU = 29, W = 74, PB = 82 };
static double atomic_weight(int Z)
{
  switch (Z) {
  case H: return 1.008;
  case C: return 12.011;
  case N: return 14.007;
  case O: return 15.999;
  case AL: return 26.9815385;
  case AR: return 39.948;
  case FE: return 55.845;
  case CU: return 63.546;
  case W: return 183.84;
  case PB: return 207.2;
  default: return 0.0;
  }
}

/* A pure substance or compound as tabulated by the PDG: density (g/cm^3), X0 and lambda_I
 * (g/cm^2), E_c for electrons (MeV), composition by mass fraction. */
typedef struct {
  const char *name;
  const char *alias;
  double density, X0_gcm2, lambda_gcm2, Ec_MeV;
  int ncomp;
  struct { int Z; double w; } comp[4];
} pdg_entry;

static const pdg_entry pdg_table[] = {
    {"Pb", "lead", 11.35, 6.37, 199.6, 7.43, 1, {{PB, 1.0}}},
    {"W", "tungsten", 19.30, 6.76, 191.9, 7.97, 1, {{W, 1.0}}},
    {"Fe", "iron", 7.874, 13.84, 132.1, 21.68, 1, {{FE, 1.0}}},
    {"Cu", "copper", 8.960, 12.86, 137.3, 19.42, 1, {{CU, 1.0}}},
    {"Al", "aluminium", 2.699, 24.01, 107.2, 42.70, 1, {{AL, 1.0}}},
    {"C", "graphite", 2.210, 42.70, 85.8, 81.74, 1, {{C, 1.0}}},
    /* polystyrene (C8H8)n, the base of plastic scintillator */
    {"Sc", "polystyrene", 1.060, 43.79, 77.07, 93.11, 2, {{C, 0.922582}, {H, 0.077418}}},
    /* dry air at 20 C, 1 atm */
    {"Air", "air", 1.20479e-3, 36.62, 90.1, 87.92, 4, {{N, 0.755267}, {O, 0.231781}, {AR, 0.012827}, {C, 0.000124}}},
};
static const int n_pdg = (int)(sizeof pdg_table / sizeof pdg_table[0]);

/* NA64 sampling calorimeters as periodic sandwiches (thicknesses per period, cm). These are
 * documented estimates (docs/physics.md): ECAL 150 x (1.5 mm Pb + 1.5 mm Sc) = 40.6 X0, consistent
 * with the ~40 X0 of the NA64 shashlik ECAL (refdata/na64-published-numbers.md, RECALLED H);
 * HCAL 25 mm Fe + 4 mm Sc per layer (~7.5 lambda_I per 48-layer module); WCAL 3 mm W + 2 mm Sc. */
typedef struct {
  const char *name;
  const char *absorber;
  double t_abs, t_sc;
} sandwich_entry;
static const sandwich_entry sandwich_table[] = {
    {"ECAL", "Pb", 0.15, 0.15},
    {"WCAL", "W", 0.30, 0.20},
    {"HCAL", "Fe", 2.50, 0.40},
};
static const int n_sandwich = (int)(sizeof sandwich_table / sizeof sandwich_table[0]);

int na64_material_count(void) { return n_pdg + n_sandwich; }

const char *na64_material_name(int i)
{
  if (i < 0) return NULL;
  if (i < n_pdg) return pdg_table[i].name;
  if (i < n_pdg + n_sandwich) return sandwich_table[i - n_pdg].name;
  return NULL;
}

/* Moliere radius from X0 and E_c (PDG eq. 34.36): R_M = X0 E_s / E_c. */
static double moliere_radius(double X0, double Ec) { return X0 * NA64_ES / Ec; }

static void set_effective_ZA(na64_material *m)
{
  m->Z_eff = m->A_eff = 0.0;
  for (int i = 0; i < m->ncomp; ++i) {
    m->Z_eff += m->comp[i].w * m->comp[i].Z;
    m->A_eff += m->comp[i].w * m->comp[i].A;
  }
}

static void fill_pdg(const pdg_entry *e, na64_material *m)
{
  memset(m, 0, sizeof *m);
  snprintf(m->name, sizeof m->name, "%s", e->name);
  m->density = e->density;
  m->ncomp = e->ncomp;
  for (int i = 0; i < e->ncomp; ++i) {
    m->comp[i].Z = e->comp[i].Z;
    m->comp[i].A = atomic_weight(e->comp[i].Z);
    m->comp[i].w = e->comp[i].w;
  }
  m->X0 = e->X0_gcm2 / e->density;
  m->lambda_I = e->lambda_gcm2 / e->density;
  m->E_c = e->Ec_MeV * 1e-3;
  m->R_M = moliere_radius(m->X0, m->E_c);
  set_effective_ZA(m);
}

static void known_names(char *buf, size_t n)
{
  buf[0] = '\0';
  for (int i = 0; i < na64_material_count(); ++i) {
    strncat(buf, i ? ", " : "", n - strlen(buf) - 1);
    strncat(buf, na64_material_name(i), n - strlen(buf) - 1);
  }
}

int na64_material_get(const char *name, na64_material *out, na64_err *err)
{
  if (!name || !out) return na64_err_set(err, NA64_EINVAL, "material: NULL argument");
  for (int i = 0; i < n_pdg; ++i)
    if (!strcasecmp(name, pdg_table[i].name) || !strcasecmp(name, pdg_table[i].alias)) {
      fill_pdg(&pdg_table[i], out);
      return NA64_OK;
    }
  for (int i = 0; i < n_sandwich; ++i)
    if (!strcasecmp(name, sandwich_table[i].name)) {
      na64_material abs, sc;
      na64_material_get(sandwich_table[i].absorber, &abs, NULL);
      na64_material_get("Sc", &sc, NULL);
      const na64_material *layers[2] = {&abs, &sc};
      const double t[2] = {sandwich_table[i].t_abs, sandwich_table[i].t_sc};
      return na64_material_sandwich(sandwich_table[i].name, 2, layers, t, out, err);
    }
  char list[256];
  known_names(list, sizeof list);
  return na64_err_set(err, NA64_ENOTFOUND, "unknown material '%s' (known: %s)", name, list);
}

static int add_component(na64_material *m, int Z, double A, double w, na64_err *err)
{
  for (int i = 0; i < m->ncomp; ++i)
    if (m->comp[i].Z == Z) {
      m->comp[i].w += w;
      return NA64_OK;
    }
  if (m->ncomp == NA64_MAT_MAXCOMP)
    return na64_err_set(err, NA64_ERANGE, "material %s: more than %d elements", m->name, NA64_MAT_MAXCOMP);
  m->comp[m->ncomp].Z = Z;
  m->comp[m->ncomp].A = A;
  m->comp[m->ncomp].w = w;
  m->ncomp++;
  return NA64_OK;
}

int na64_material_sandwich(const char *name, int n, const na64_material *const layers[],
                           const double thickness_cm[], na64_material *out, na64_err *err)
{
  if (!name || !layers || !thickness_cm || !out || n < 1)
    return na64_err_set(err, NA64_EINVAL, "sandwich: NULL argument or no layers");
  double total_t = 0.0, total_mass = 0.0;
  for (int i = 0; i < n; ++i) {
    if (!(thickness_cm[i] > 0.0) || !isfinite(thickness_cm[i]))
      return na64_err_set(err, NA64_EINVAL, "sandwich %s: layer %d thickness %g cm must be > 0", name, i,
                          thickness_cm[i]);
    total_t += thickness_cm[i];
    total_mass += thickness_cm[i] * layers[i]->density;
  }
  memset(out, 0, sizeof *out);
  snprintf(out->name, sizeof out->name, "%s", name);
  out->density = total_mass / total_t;
  double inv_X0 = 0.0, inv_lambda = 0.0, Ec_over_X0 = 0.0; /* per g/cm^2 */
  for (int i = 0; i < n; ++i) {
    const na64_material *L = layers[i];
    double w = thickness_cm[i] * L->density / total_mass; /* mass fraction of the layer */
    double X0_g = L->X0 * L->density, lambda_g = L->lambda_I * L->density;
    inv_X0 += w / X0_g;         /* PDG eq. 34.28 */
    inv_lambda += w / lambda_g; /* same rule for the nuclear interaction length */
    Ec_over_X0 += w * L->E_c / X0_g; /* PDG eq. 34.37 */
    for (int k = 0; k < L->ncomp; ++k) NA64_CALL(add_component(out, L->comp[k].Z, L->comp[k].A, w * L->comp[k].w, err));
  }
  double X0_g = 1.0 / inv_X0;
  double RM_g = NA64_ES / Ec_over_X0;
  out->X0 = X0_g / out->density;
  out->lambda_I = 1.0 / inv_lambda / out->density;
  out->R_M = RM_g / out->density;
  out->E_c = NA64_ES * X0_g / RM_g; /* effective critical energy consistent with R_M = X0 E_s/E_c */
  set_effective_ZA(out);
  return NA64_OK;
}

double na64_material_atom_density(const na64_material *mat, int i)
{
  if (!mat || i < 0 || i >= mat->ncomp) return 0.0;
  return mat->density * mat->comp[i].w * NA64_AVOGADRO / mat->comp[i].A;
}

/* Tsai's radiation length, PDG eq. 34.26 with L_rad, L'_rad of PDG Table 34.2 (Z <= 4) or the
 * Thomas-Fermi forms ln(184.15 Z^-1/3), ln(1194 Z^-2/3), and the Coulomb correction f(Z) of
 * PDG eq. 34.27. Result in g/cm^2. */
double na64_x0_tsai(int Z, double A)
{
  static const double Lrad_light[5] = {0, 5.31, 4.79, 4.74, 4.71};
  static const double Lprad_light[5] = {0, 6.144, 5.621, 5.805, 5.924};
  if (Z < 1) return NAN;
  double zd = (double)Z;
  double Lrad = Z <= 4 ? Lrad_light[Z] : log(184.15 * pow(zd, -1.0 / 3.0));
  double Lprad = Z <= 4 ? Lprad_light[Z] : log(1194.0 * pow(zd, -2.0 / 3.0));
  double a2 = pow(NA64_ALPHA_EM * zd, 2);
  double f = a2 * (1.0 / (1.0 + a2) + 0.20206 - 0.0369 * a2 + 0.0083 * a2 * a2 - 0.002 * a2 * a2 * a2);
  return 716.408 * A / (zd * zd * (Lrad - f) + zd * Lprad);
}
