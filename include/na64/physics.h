/*
 * na64/physics.h — the dark-photon (A') model: constants, materials, decay widths, lifetimes,
 * effective photon flux, production cross sections e- Z -> e- Z A' (WW, IWW, ETL), fast tables
 * and the sampling of the emitted A' for the simulation.
 *
 * Units: GeV, cm, ns, radians; cross sections per atom in pb; macroscopic cross sections in 1/cm.
 * Every formula is cited where it is implemented (the src/physics sources) and in docs/physics.md.
 */
#ifndef NA64_PHYSICS_H
#define NA64_PHYSICS_H

#include "na64/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- constants: CODATA 2018 / PDG 2024 (R.L. Workman et al., PTEP 2022 083C01 and 2024 update) ---- */
#define NA64_ALPHA_EM (1.0 / 137.035999084) /* fine-structure constant */
#define NA64_M_E 0.51099895000e-3           /* electron mass, GeV */
#define NA64_M_MU 0.1056583755              /* muon mass, GeV */
#define NA64_M_PROTON 0.93827208816         /* proton mass, GeV */
#define NA64_M_PI 0.13957039                /* charged pion mass, GeV */
#define NA64_MU_PROTON 2.79284734463        /* proton magnetic moment, nuclear magnetons */
#define NA64_HBARC 1.973269804e-14          /* hbar c, GeV cm */
#define NA64_HBAR 6.582119569e-25           /* hbar, GeV s */
#define NA64_C_LIGHT 29.9792458             /* speed of light, cm/ns */
#define NA64_GEV2_PB 0.3893793721e9         /* (hbar c)^2: 1 GeV^-2 = 0.3893793721e9 pb */
#define NA64_AVOGADRO 6.02214076e23         /* 1/mol */
#define NA64_ES 21.2052e-3                  /* scale energy m_e sqrt(4 pi/alpha), GeV (PDG eq. 34.36) */

/* ================================ materials ================================ */

#define NA64_MAT_MAXCOMP 8
typedef struct na64_component {
  int Z;
  double A; /* g/mol */
  double w; /* mass fraction */
} na64_component;

typedef struct na64_material {
  char name[32];
  double density;   /* g/cm^3 */
  int ncomp;
  na64_component comp[NA64_MAT_MAXCOMP];
  double X0;        /* radiation length, cm */
  double lambda_I;  /* nuclear interaction length, cm */
  double R_M;       /* Moliere radius, cm */
  double E_c;       /* critical energy for electrons (Rossi definition), GeV */
  double Z_eff;     /* mass-fraction weighted Z (informational) */
  double A_eff;     /* mass-fraction weighted A (informational) */
} na64_material;

/* Built-in materials: "Pb", "W", "Fe", "Cu", "Al", "C", "Sc" (polystyrene scintillator), "Air",
 * and the NA64 sandwiches "ECAL" (Pb/Sc shashlik), "WCAL" (W/Sc), "HCAL" (Fe/Sc). Names are
 * case-insensitive. Unknown name -> NA64_ENOTFOUND with the list of known names. */
int na64_material_get(const char *name, na64_material *out, na64_err *err);
int na64_material_count(void);
const char *na64_material_name(int i);
/* A periodic layered sandwich of n materials with thicknesses t[i] (cm), combined by the PDG
 * rules for mixtures (mass-fraction weighted 1/X0, 1/lambda_I and E_c/X0). */
int na64_material_sandwich(const char *name, int n, const na64_material *const layers[],
                           const double thickness_cm[], na64_material *out, na64_err *err);
/* Atoms of component i per cm^3. */
double na64_material_atom_density(const na64_material *mat, int i);
/* Radiation length of an element by Tsai's formula (PDG eq. 34.26), g/cm^2. */
double na64_x0_tsai(int Z, double A);

/* ================================ A' decays ================================ */

typedef enum {
  NA64_DM_NONE = 0,       /* A' decays visibly only (e+e-, mu+mu-, hadrons) */
  NA64_DM_DIRAC = 1,      /* A' -> chi chi-bar, Dirac fermion */
  NA64_DM_SCALAR = 2,     /* A' -> chi chi*, complex scalar */
  NA64_DM_PSEUDO_DIRAC = 3 /* A' -> chi1 chi2, inelastic (pseudo-Dirac) with m2 = m1 (1 + delta) */
} na64_dm_type;

typedef struct na64_aprime {
  double mass;     /* m_A', GeV */
  double eps;      /* kinetic mixing epsilon, (0, 1] */
  na64_dm_type dm; /* dark-matter coupling, or none */
  double alpha_D;  /* dark coupling g_D^2/(4 pi) (ignored for NA64_DM_NONE) */
  double m_chi;    /* dark-matter mass (lighter state), GeV */
  double delta;    /* pseudo-Dirac relative splitting (m2 - m1)/m1 */
} na64_aprime;

typedef struct na64_aprime_decay {
  double width_ee, width_mumu, width_had, width_inv, width_total; /* GeV */
  double br_ee, br_mumu, br_had, br_inv;
  double tau;      /* proper lifetime, ns */
  double ctau;     /* c tau, cm */
} na64_aprime_decay;

/* Validate a model: mass > 0 and finite, 0 < eps <= 1, alpha_D in (0, 4pi) ..., with a message
 * naming the offending value. */
int na64_aprime_check(const na64_aprime *model, na64_err *err);
/* Partial and total widths, branching ratios and lifetime. */
int na64_aprime_decay_compute(const na64_aprime *model, na64_aprime_decay *out, na64_err *err);
/* Lab decay length L = (p/m) c tau of an A' of total energy E (GeV), cm. E <= m -> NA64_EPHYS. */
int na64_aprime_decay_length(const na64_aprime *model, double energy, double *length_cm, na64_err *err);

/* Individual widths (GeV); zero below threshold. */
double na64_width_ll(double m, double eps, double m_lepton);
double na64_width_hadronic(double m, double eps);
double na64_width_dirac(double m, double alpha_D, double m_chi);
double na64_width_scalar(double m, double alpha_D, double m_chi);
double na64_width_pseudo_dirac(double m, double alpha_D, double m1, double m2);
/* R(s) = sigma(e+e- -> hadrons)/sigma_pt(e+e- -> mu+mu-) at sqrt(s) (GeV), vector-meson-dominance
 * model with a perturbative continuum (see docs/physics.md for accuracy). */
double na64_r_ratio(double sqrt_s);

/* y = eps^2 alpha_D (m_chi/m_A')^4 and its inverse (PRD 97 072002). */
double na64_y_from_eps(double eps, double alpha_D, double m_chi, double m_aprime);
double na64_eps_from_y(double y, double alpha_D, double m_chi, double m_aprime);

/* ================================ photon flux ================================ */

/* Tsai's atomic+nuclear form factors (Bjorken, Essig, Schuster, Toro PRD 80 (2009) 075018, App. A). */
double na64_g2_elastic(double t, double Z, double A);
double na64_g2_inelastic(double t, double Z);
enum { NA64_FF_ELASTIC = 1, NA64_FF_INELASTIC = 2, NA64_FF_ALL = 3 };
/* chi = int_{tmin}^{tmax} dt (t - tmin)/t^2 G2(t) (includes Z^2), by adaptive quadrature. */
int na64_chi(double tmin, double tmax, double Z, double A, int which, double *chi, na64_err *err);
/* Closed form of the elastic chi (as in DMG4 DarkPhotons.cc). */
double na64_chi_elastic_closed(double tmin, double tmax, double Z, double A);

/* ================================ production cross sections ================================ */

typedef enum { NA64_XS_WW = 0, NA64_XS_IWW = 1, NA64_XS_ETL = 2 } na64_xsec_method;
const char *na64_xsec_method_name(na64_xsec_method method);

/* Total cross section of e- + (Z, A) -> e- + (Z, A) + A' for beam energy E0 (GeV), A' mass m
 * (GeV) and mixing eps, per atom, in pb. Validity: 1 MeV <= m <= 1 GeV, 10 <= E0 <= 200 GeV;
 * outside -> NA64_ERANGE; kinematically closed (E0 <= m) -> NA64_EPHYS. */
int na64_xsec_total(na64_xsec_method method, double E0, double m, double eps, double Z, double A,
                    double *sigma_pb, na64_err *err);
/* d sigma/dx (x = E_A'/E0) in pb, IWW with the electron mass kept (ETL: scaled by 1/K). */
int na64_xsec_dsdx(na64_xsec_method method, double x, double E0, double m, double eps, double Z,
                   double A, double *dsdx_pb, na64_err *err);
/* d sigma/(dx d theta) in pb/rad, theta = A' emission angle (WW double differential). */
int na64_xsec_dsdxdtheta(double x, double theta, double E0, double m, double eps, double Z,
                         double A, double *pb_per_rad, na64_err *err);
/* ETL/IWW correction: K = sigma_IWW/sigma_ETL from the DMG4 table (data/dmg4_kfactor.csv). */
int na64_kfactor(double m, double E0, double *K, na64_err *err);
/* Macroscopic cross section sum_j n_j sigma_j of a material, 1/cm. */
int na64_xsec_macroscopic(na64_xsec_method method, const na64_material *mat, double E0, double m,
                          double eps, double *inv_cm, na64_err *err);

/* Fast tabulation of the macroscopic cross section at eps = 1 on a log grid in energy, for the
 * simulation: build once per (material, mass), evaluate many times (multiply by eps^2). */
typedef struct na64_xsec_table na64_xsec_table;
int na64_xsec_table_new(na64_xsec_method method, const na64_material *mat, double m, double Emin,
                        double Emax, int npoints, na64_xsec_table **out, na64_err *err);
double na64_xsec_table_eval(const na64_xsec_table *table, double E); /* 1/cm at eps = 1; 0 below threshold */
void na64_xsec_table_free(na64_xsec_table *table);

/* Sampling of the A' energy fraction x and emission angle theta from the WW double-differential
 * cross section by accept-reject against a tabulated envelope (explicit RNG). */
typedef struct na64_aprime_sampler na64_aprime_sampler;
int na64_aprime_sampler_new(double E0, double m, double Z, double A, double xmin,
                            na64_aprime_sampler **out, na64_err *err);
void na64_aprime_sample(na64_aprime_sampler *s, na64_rng *rng, double *x, double *theta);
/* acceptance fraction of the accept-reject loop so far (diagnostic) */
double na64_aprime_sampler_efficiency(const na64_aprime_sampler *s);
/* number of draws where the density exceeded the envelope (should stay 0; DMG4's "Maximum violated") */
unsigned long na64_aprime_sampler_violations(const na64_aprime_sampler *s);
void na64_aprime_sampler_free(na64_aprime_sampler *s);

#ifdef __cplusplus
}
#endif
#endif /* NA64_PHYSICS_H */
