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
NA64_API int na64_material_get(const char *name, na64_material *out, na64_err *err);
NA64_API int na64_material_count(void);
NA64_API const char *na64_material_name(int i);
/* A periodic layered sandwich of n materials with thicknesses t[i] (cm), combined by the PDG
 * rules for mixtures (mass-fraction weighted 1/X0, 1/lambda_I and E_c/X0). */
NA64_API int na64_material_sandwich(const char *name, int n, const na64_material *const layers[],
                           const double thickness_cm[], na64_material *out, na64_err *err);
/* Atoms of component i per cm^3. */
NA64_API double na64_material_atom_density(const na64_material *mat, int i);
/* Radiation length of an element by Tsai's formula (PDG eq. 34.26), g/cm^2. */
NA64_API double na64_x0_tsai(int Z, double A);

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
NA64_API int na64_aprime_check(const na64_aprime *model, na64_err *err);
/* Partial and total widths, branching ratios and lifetime. */
NA64_API int na64_aprime_decay_compute(const na64_aprime *model, na64_aprime_decay *out, na64_err *err);
/* Lab decay length L = (p/m) c tau of an A' of total energy E (GeV), cm. E <= m -> NA64_EPHYS. */
NA64_API int na64_aprime_decay_length(const na64_aprime *model, double energy, double *length_cm, na64_err *err);

/* Individual widths (GeV); zero below threshold. */
NA64_API double na64_width_ll(double m, double eps, double m_lepton);
NA64_API double na64_width_hadronic(double m, double eps);
NA64_API double na64_width_dirac(double m, double alpha_D, double m_chi);
NA64_API double na64_width_scalar(double m, double alpha_D, double m_chi);
/* Issue 12, pseudoscalar X17: Gamma(a -> l+l-) in GeV of a pseudoscalar with L = -i g a l-bar gamma5 l,
 * g^2 m/(8 pi) sqrt(1 - 4 m_l^2/m^2) (docs/visible.md "Pseudoscalar X17"); 0 below threshold. With
 * NA64's convention g = eps e (PRD 104 (2021) L111102) this is alpha eps^2 m/2 sqrt(1 - 4 m_l^2/m^2). */
NA64_API double na64_width_pseudoscalar_ll(double m, double g, double m_lepton);
/* visscal: Gamma(S -> l+l-) = g^2 m beta^3/(8 pi) of a scalar with L = -g S l-bar l and
 * Gamma(X -> l+l-) = g^2 m beta^3/(12 pi) of an axial vector with L = -g X_mu l-bar gamma^mu gamma5 l,
 * beta = sqrt(1 - 4 m_l^2/m^2), GeV; 0 below threshold (docs/physics.md 2). */
NA64_API double na64_width_scalar_ll(double m, double g, double m_lepton);
NA64_API double na64_width_axial_ll(double m, double g, double m_lepton);
NA64_API double na64_width_pseudo_dirac(double m, double alpha_D, double m1, double m2);
/* R(s) = sigma(e+e- -> hadrons)/sigma_pt(e+e- -> mu+mu-) at sqrt(s) (GeV), vector-meson-dominance
 * model with a perturbative continuum (see docs/physics.md for accuracy). */
NA64_API double na64_r_ratio(double sqrt_s);

/* y = eps^2 alpha_D (m_chi/m_A')^4 and its inverse (PRD 97 072002). */
NA64_API double na64_y_from_eps(double eps, double alpha_D, double m_chi, double m_aprime);
NA64_API double na64_eps_from_y(double y, double alpha_D, double m_chi, double m_aprime);

/* ================================ photon flux ================================ */

/* Tsai's atomic+nuclear form factors (Bjorken, Essig, Schuster, Toro PRD 80 (2009) 075018, App. A). */
NA64_API double na64_g2_elastic(double t, double Z, double A);
NA64_API double na64_g2_inelastic(double t, double Z);
enum { NA64_FF_ELASTIC = 1, NA64_FF_INELASTIC = 2, NA64_FF_ALL = 3 };
/* chi = int_{tmin}^{tmax} dt (t - tmin)/t^2 G2(t) (includes Z^2), by adaptive quadrature. */
NA64_API int na64_chi(double tmin, double tmax, double Z, double A, int which, double *chi, na64_err *err);
/* Closed form of the elastic chi (as in DMG4 DarkPhotons.cc). */
NA64_API double na64_chi_elastic_closed(double tmin, double tmax, double Z, double A);

/* ================================ production cross sections ================================ */

/* NA64_XS_EXACT: the exact tree-level cross section of xsec_exact.c (e- beam, vector, elastic +
 * quasi-elastic form factor): from the shipped grid of the element (na64_exact_grid_eval, within
 * 1%) where it covers (m, E0), otherwise at 1% by the Gauss rules of na64_xsec_exact_quad through
 * na64_xsec_exact_cached; its d sigma/dx is the IWW shape normalised to that total (as for ETL).
 * No 1 MeV-1 GeV / 10-200 GeV validity window. */
typedef enum { NA64_XS_WW = 0, NA64_XS_IWW = 1, NA64_XS_ETL = 2, NA64_XS_EXACT = 3 } na64_xsec_method;
NA64_API const char *na64_xsec_method_name(na64_xsec_method method);

/* Total cross section of e- + (Z, A) -> e- + (Z, A) + A' for beam energy E0 (GeV), A' mass m
 * (GeV) and mixing eps, per atom, in pb. Validity: 1 MeV <= m <= 1 GeV, 10 <= E0 <= 200 GeV;
 * outside -> NA64_ERANGE; kinematically closed (E0 <= m) -> NA64_EPHYS. */
NA64_API int na64_xsec_total(na64_xsec_method method, double E0, double m, double eps, double Z, double A,
                    double *sigma_pb, na64_err *err);
/* d sigma/dx (x = E_A'/E0) in pb, IWW with the electron mass kept (ETL: scaled by 1/K). */
NA64_API int na64_xsec_dsdx(na64_xsec_method method, double x, double E0, double m, double eps, double Z,
                   double A, double *dsdx_pb, na64_err *err);
/* d sigma/(dx d theta) in pb/rad, theta = A' emission angle (WW double differential). */
NA64_API int na64_xsec_dsdxdtheta(double x, double theta, double E0, double m, double eps, double Z,
                         double A, double *pb_per_rad, na64_err *err);
/* ETL/IWW correction: K = sigma_IWW/sigma_ETL from the DMG4 table (data/dmg4_kfactor.csv). */
NA64_API int na64_kfactor(double m, double E0, double *K, na64_err *err);
/* Macroscopic cross section sum_j n_j sigma_j of a material, 1/cm. */
NA64_API int na64_xsec_macroscopic(na64_xsec_method method, const na64_material *mat, double E0, double m,
                          double eps, double *inv_cm, na64_err *err);

/* Fast tabulation of the macroscopic cross section at eps = 1 on a log grid in energy, for the
 * simulation: build once per (material, mass), evaluate many times (multiply by eps^2). */
typedef struct na64_xsec_table na64_xsec_table;
NA64_API int na64_xsec_table_new(na64_xsec_method method, const na64_material *mat, double m, double Emin,
                        double Emax, int npoints, na64_xsec_table **out, na64_err *err);
NA64_API double na64_xsec_table_eval(const na64_xsec_table *table, double E); /* 1/cm at eps = 1; 0 below threshold */
NA64_API void na64_xsec_table_free(na64_xsec_table *table);

/* Sampling of the A' energy fraction x and emission angle theta from the WW double-differential
 * cross section by accept-reject against a tabulated envelope (explicit RNG). */
typedef struct na64_aprime_sampler na64_aprime_sampler;
NA64_API int na64_aprime_sampler_new(double E0, double m, double Z, double A, double xmin,
                            na64_aprime_sampler **out, na64_err *err);
NA64_API void na64_aprime_sample(na64_aprime_sampler *s, na64_rng *rng, double *x, double *theta);
/* acceptance fraction of the accept-reject loop so far (diagnostic) */
NA64_API double na64_aprime_sampler_efficiency(const na64_aprime_sampler *s);
/* number of draws where the density exceeded the envelope (should stay 0; DMG4's "Maximum violated") */
NA64_API unsigned long na64_aprime_sampler_violations(const na64_aprime_sampler *s);
NA64_API void na64_aprime_sampler_free(na64_aprime_sampler *s);

/* ================================ A' yield in a beam dump ================================ */

/* The dump and the signal definition (docs/physics.md §6). */
typedef struct na64_beamdump {
  na64_material target;    /* the active dump: the ECAL (invisible mode) or the WCAL (visible mode) */
  double E0;               /* beam energy, GeV */
  double depth_X0;         /* dump thickness in X0; <= 0: thick (the whole shower; invisible mode) */
  double ea_min, ea_max;   /* accepted A' energies, GeV (invisible: E0 - E_ECAL,max .. E0) */
  int visible;             /* 0: invisible decay (BR = 1); 1: A' -> e+e- inside the decay region */
  double decay_start_cm;   /* visible: from the end of the dump to the start of the decay region */
  double decay_length_cm;  /* visible: length of the decay region */
  int annihilation;        /* invisible: add resonant e+e- -> A' of the shower positrons */
  na64_xsec_method method; /* production cross section (default ETL) */
  /* issue 14: the beam lepton (0 = NA64_LEPTON_E, 1 = NA64_LEPTON_MU) and the emitted boson
   * (na64_mediator, used with the muon beam; 0 = vector). Muon beam (invisible mode only): no
   * shower, the muon crosses depth_X0 of the target losing energy, and the signal is a scattered
   * muon with E' < E0 - ea_min (E_X > E(l) - (E0 - ea_min) at the production point); the
   * cross section is always the exact one (docs/physics.md section 4c). */
  int lepton;
  int mediator;
} na64_beamdump;
/* Invisible-mode defaults: thick ECAL, A' energy above E0 - ecal_max, ETL. */
NA64_API void na64_beamdump_init_invisible(na64_beamdump *d, const na64_material *ecal, double E0, double ecal_max);
/* Visible-mode dump: a WCAL of depth_X0 radiation lengths, A' energies in [ea_min, E0], decay region
 * from decay_start_cm behind the dump over decay_length_cm, ETL. */
NA64_API void na64_beamdump_init_visible(na64_beamdump *d, const na64_material *wcal, double E0, double depth_X0, double ea_min,
                            double decay_start_cm, double decay_length_cm);
NA64_API int na64_beamdump_check(const na64_beamdump *d, na64_err *err);

/* The published NA64 exclusion curves (embedded from data/published_*.csv with their provenance),
 * for drawing next to computed ones; never used in a calculation. Invisible mode: the upper limit
 * eps(m). Visible mode: the excluded band, its lower edge in (mass_MeV, eps) and its upper edge in
 * (mass_upper_MeV, eps_upper). Masses in MeV. */
typedef struct na64_published_curve {
  const char *label;      /* "NA64 PRL 123 (2019), 2.84e11 EOT" (static) */
  int visible;            /* 0: invisible mode, 1: visible mode (A' -> e+e-) */
  int n;
  double *mass_MeV, *eps; /* [n] */
  int n_upper;            /* visible: points of the upper edge; 0 otherwise */
  double *mass_upper_MeV, *eps_upper;
} na64_published_curve;
NA64_API int na64_published_count(void);
/* Curve i (0 <= i < na64_published_count()); release it with na64_published_release. */
NA64_API int na64_published_get(int i, na64_published_curve *c, na64_err *err);
NA64_API void na64_published_release(na64_published_curve *c);

/* Production tabulated once per (dump, mass); then the yield for any eps is a sum. */
typedef struct na64_yield na64_yield;
NA64_API int na64_yield_new(const na64_beamdump *d, double m, na64_yield **out, na64_err *err);
/* Expected A' signal per electron on target (before selection efficiency) for mixing eps. */
NA64_API double na64_yield_per_eot(const na64_yield *y, double eps);
/* A' produced per EOT in the accepted energy window at eps = 1 (no decay requirement, no annihilation). */
NA64_API double na64_yield_production(const na64_yield *y);
/* Resonant-annihilation part per EOT at eps = 1 (0 unless enabled and kinematically open). */
NA64_API double na64_yield_resonant(const na64_yield *y);
NA64_API void na64_yield_free(na64_yield *y);
/* Visible mode: the production table behind na64_yield_per_eot, for event generators (issue 12,
 * src/sim/vis_signal.c). Pointers into y (valid until na64_yield_free); NA64_EINVAL if y is not
 * visible. W[k * na + a]: A' per EOT at eps = 1 produced in depth bin k (centre tmid[k], X0) with
 * energy ea[a] (GeV); ell1[a]: lab decay length at eps = 1 (cm, scales as 1/eps^2); a decay at
 * distance d from the production point lies in the decay region when d1 <= d < d1 + d_len with
 * d1 = (L_X0 - tmid[k]) X0 + d_start. br_ee: the e+e- branching ratio. */
typedef struct na64_yield_table {
  int nt, na;
  const double *W, *tmid, *ea, *ell1;
  double X0, L_X0, d_start, d_len, br_ee;
} na64_yield_table;
NA64_API int na64_yield_visible_table(const na64_yield *y, na64_yield_table *t, na64_err *err);

/* === electromagnetic cascade: track-length spectra === */
/* Differential track length dT/dE of the e-, e+ (and photons) of the electromagnetic shower of one
 * incident electron of energy E0, in a homogeneous material, from a 1-D (longitudinal) cascade
 * with Tsai's complete-screening bremsstrahlung and pair-production spectra (Tsai, Rev. Mod. Phys.
 * 46 (1974) 815, eqs. 3.83/3.84) and Rossi's Approximation B ionization loss (E_c per X0).
 * Deterministic solution on a logarithmic energy grid (docs/cascade.md). Used for the A' yield
 * N = N_EOT * n_atoms * int dE T(E) sigma(E) (refdata physics-formulas.md sec. 6). */
enum { /* which spectrum */
  NA64_TL_ELECTRON = 0, /* all e- (beam electron and secondaries) */
  NA64_TL_POSITRON = 1, /* e+ */
  NA64_TL_CHARGED = 2,  /* e- + e+ */
  NA64_TL_PHOTON = 3,   /* photons */
  NA64_TL_PRIMARY = 4   /* the beam electron alone */
};
enum { /* bremsstrahlung/pair spectra */
  NA64_CASCADE_SPECTRA_TSAI = 0,   /* complete screening with the (1/9) terms (Tsai eqs. 3.83/3.84) */
  NA64_CASCADE_SPECTRA_PDG = 1,    /* without them (PDG eqs. 34.29/34.31; Rossi's textbook case) */
  NA64_CASCADE_SPECTRA_TSAI_LOG = 2 /* brems (4/3)/(-ln(1-v)): the kernel under which the beam
                                       electron follows Tsai's I_e exactly (validation only) */
};
enum { /* ionization loss */
  NA64_CASCADE_ION_NONE = 0, /* Rossi Approximation A */
  NA64_CASCADE_ION_CONST = 1 /* Rossi Approximation B: E_c per X0 (material's E_c) */
};
typedef struct na64_cascade_options {
  int spectra;         /* NA64_CASCADE_SPECTRA_*, default TSAI */
  int ionization;      /* NA64_CASCADE_ION_*, default CONST */
  int cells_per_efold; /* energy cells per unit of ln E; 0: default (50 thick, 25 with depth) */
  double depth_step;   /* X0, first depth step of the depth-resolved solution (steps then grow
                          by 3% up to 5x); 0: default (0.05) */
  int richardson;      /* 1 (default): Richardson extrapolation from n and 2n cells (2nd order) */
} na64_cascade_options;
NA64_API void na64_cascade_options_default(na64_cascade_options *opts);

typedef struct na64_track_length na64_track_length;
/* Solve the cascade of one electron of energy E0 (GeV) for E_min <= E <= E0 (0 < E_min < E0).
 * depth_X0 <= 0: thick target (all depths); > 0: only the first depth_X0 radiation lengths, with
 * the depth dependence kept. nbins: energy cells between E_min and E0 (0: default resolution).
 * The material needs X0 > 0, E_c > 0 and its composition (Z of the components, or Z_eff). */
NA64_API int na64_track_length_new(const na64_material *mat, double E0, double E_min, double depth_X0,
                          int nbins, na64_track_length **out, na64_err *err);
/* Same with options (opts NULL: defaults; nbins taken from opts->cells_per_efold). */
NA64_API int na64_track_length_new_opts(const na64_material *mat, double E0, double E_min, double depth_X0,
                               const na64_cascade_options *opts, na64_track_length **out,
                               na64_err *err);
/* dT/dE in cm/GeV per incident electron over the whole solved depth (divide by
 * na64_track_length_x0() for X0/GeV); 0 outside [E_min, E0]. */
NA64_API double na64_track_length_eval(const na64_track_length *tl, int which, double E);
NA64_API double na64_track_length_electron(const na64_track_length *tl, double E);
NA64_API double na64_track_length_positron(const na64_track_length *tl, double E);
/* dT/dE (cm/GeV) accumulated within the first t_X0 radiation lengths (t_X0 clamped to
 * [0, depth_X0]); NAN for a thick-target object (it has no depth information). */
NA64_API double na64_track_length_eval_depth(const na64_track_length *tl, int which, double E, double t_X0);
/* Number of particles of kind `which` with E >= E_min crossing depth t_X0 (the longitudinal
 * profile); NAN for a thick-target object. */
NA64_API double na64_track_length_profile(const na64_track_length *tl, int which, double t_X0);
/* result = int_{Elo}^{Ehi} dE dT/dE(E) f(E) (cm times the unit of f), limits clipped to
 * [E_min, E0]; f == NULL means f = 1 (the track length in cm). Two Gauss-Legendre points per
 * energy cell. */
NA64_API int na64_track_length_fold(const na64_track_length *tl, double (*f)(double E, void *u), void *u,
                           double Elo, double Ehi, int which, double *result, na64_err *err);
/* result = int_0^depth dt int dE d2T/(dE dt) f(E, t_X0): the depth-weighted fold (e.g. the
 * probability that an A' produced at depth t escapes the rest of the dump). f is called at the
 * middle of each depth step, twice per energy cell and depth step. Needs depth_X0 > 0. */
NA64_API int na64_track_length_fold_depth(const na64_track_length *tl,
                                 double (*f)(double E, double t_X0, void *u), void *u, double Elo,
                                 double Ehi, int which, double *result, na64_err *err);
/* Binned track lengths for fast repeated folds (e.g. an epsilon scan of the visible mode):
 * out[it * nE + iE] = track length (cm) with E in [E_edges[iE], E_edges[iE+1]) accumulated between
 * depths t_edges[it] and t_edges[it+1] (X0). nt = 0 (t_edges NULL): the whole solved depth. */
NA64_API int na64_track_length_binned(const na64_track_length *tl, int which, int nE,
                             const double *E_edges, int nt, const double *t_edges, double *out,
                             na64_err *err);
/* Quadrature with the track length as weight function: n nodes E[i] (GeV) and weights w[i] (cm)
 * such that sum_i w[i] f(E[i]) ~ int_{Elo}^{Ehi} dE T(E) f(E) (restricted to depths t_from..t_to
 * X0; t_to < 0: the whole solved depth). Panels of equal width in ln E, the node at the panel's
 * track-length-weighted mean energy: exact for f linear within each panel, including the
 * integrable spike of the beam electron at E0 that point evaluations on a fixed grid miss. */
NA64_API int na64_track_length_nodes(const na64_track_length *tl, int which, double Elo, double Ehi,
                            double t_from, double t_to, int n, double *E, double *w, na64_err *err);
NA64_API double na64_track_length_x0(const na64_track_length *tl);    /* cm */
NA64_API double na64_track_length_e0(const na64_track_length *tl);    /* GeV */
NA64_API double na64_track_length_emin(const na64_track_length *tl);  /* GeV */
NA64_API double na64_track_length_depth(const na64_track_length *tl); /* X0; 0 for a thick target */
NA64_API int na64_track_length_ncells(const na64_track_length *tl);
/* Objects are reference counted: _free drops one reference (NULL is allowed). */
NA64_API void na64_track_length_free(na64_track_length *tl);
/* Cached solve, keyed by (material name, X0, E_c, composition, E0, E_min, depth, opts): a limit
 * scan solves the cascade once. Returns a new reference (release it with _free). Thread-safe
 * (one mutex; at most 32 entries, least recently used evicted). */
NA64_API int na64_track_length_get(const na64_material *mat, double E0, double E_min, double depth_X0,
                          const na64_cascade_options *opts, na64_track_length **out, na64_err *err);
NA64_API void na64_track_length_cache_clear(void);


/* === exact tree-level production l N -> l N X (issue 14; docs/physics.md "Exact tree level") === */
/* The 2 -> 3 process with the full matrix element (both diagrams, spins and polarisations summed
 * numerically from explicit helicity spinors), lepton mass kept, the nucleus as a spin-0 current
 * (P_i + P_f)^mu with G2(t) = Tsai's elastic (+ inelastic) form factors, lab-frame phase space
 * integrated without small-angle expansion. Every value comes with an error estimate. */
typedef enum { NA64_LEPTON_E = 0, NA64_LEPTON_MU = 1 } na64_lepton;
typedef enum {
  NA64_MED_VECTOR = 0,      /* dark photon: L = -eps e A'_mu J^mu_em; coupling = eps */
  NA64_MED_ZPRIME = 1,      /* L_mu - L_tau Z': L = -g' Z'_mu mu-bar gamma^mu mu; coupling = g' (muon beam only) */
  NA64_MED_SCALAR = 2,      /* L = -g S l-bar l; coupling = g */
  NA64_MED_PSEUDOSCALAR = 3, /* L = -i g a l-bar gamma5 l; coupling = g */
  NA64_MED_AXIAL = 4         /* L = -g X_mu l-bar gamma^mu gamma5 l (every lepton); coupling = g */
} na64_mediator;
NA64_API const char *na64_mediator_name(na64_mediator med);
/* The l+l- width (GeV) of mediator med at coupling g (eps e for the vector A'): vector and Z'
 * g^2 m/(12 pi) (1 + 2 m_l^2/m^2) beta, scalar g^2 m beta^3/(8 pi), pseudoscalar g^2 m beta/(8 pi),
 * axial g^2 m beta^3/(12 pi); 0 below threshold, NaN for an unknown mediator. */
NA64_API double na64_width_mediator_ll(na64_mediator med, double m, double g, double m_lepton);
NA64_API const char *na64_lepton_name(na64_lepton lepton);

typedef struct na64_exact_process {
  na64_lepton beam;       /* incident lepton */
  na64_mediator mediator; /* emitted boson X */
  double E0;              /* beam energy, GeV */
  double m;               /* X mass, GeV */
  double coupling;        /* eps (vector) or g (others), see na64_mediator */
  double Z, A;            /* target nucleus */
  int ff;                 /* NA64_FF_ELASTIC, _INELASTIC or _ALL */
  double x_min;           /* count only X with x = E_X/E0 >= x_min (0: all; the total becomes the
                             cross section with E_X in [x_min E0, E0]) */
} na64_exact_process;
/* Fill with defaults: electron, vector, Pb (Z 82, A 207), elastic form factor, coupling 1. */
NA64_API void na64_exact_process_init(na64_exact_process *p, na64_lepton beam, na64_mediator med, double E0, double m);
NA64_API int na64_exact_process_check(const na64_exact_process *p, na64_err *err);

/* d sigma/(dx dcos theta_X) in pb (x = E_X/E0, theta_X the lab angle of X to the beam), by
 * adaptive quadrature over the momentum transfer t and its azimuth; *abserr its error estimate. */
NA64_API int na64_xsec_exact_dsdxdcos(const na64_exact_process *p, double x, double cos_theta, double *pb,
                                      double *abserr, na64_err *err);
/* d sigma/dx in pb (the above integrated over theta_X, adaptive). */
NA64_API int na64_xsec_exact_dsdx(const na64_exact_process *p, double x, double *pb, double *abserr, na64_err *err);
/* Total sigma in pb by VEGAS (gsl_monte) over (x, theta_X, t, phi) to relative precision rel_prec
 * (0: 1%), seeded with `seed` (the result is reproducible for a given seed). */
NA64_API int na64_xsec_exact_total(const na64_exact_process *p, double rel_prec, unsigned long seed, double *pb,
                                   double *abserr, na64_err *err);

/* Total sigma in pb by nested Gauss-Legendre rules over (x, theta_X, t, phi) with variable changes
 * that follow the peaks (deterministic: no seed; docs/physics.md "Exact tree level", speed):
 * rule orders are raised until two successive sets agree within rel_prec (0: 1%); *abserr is that
 * difference. NA64_ENUMERIC if the finest rules still disagree. */
NA64_API int na64_xsec_exact_quad(const na64_exact_process *p, double rel_prec, double *pb, double *abserr,
                                  na64_err *err);

/* The total of na64_xsec_exact_quad, remembered: first in memory (per process),
 * then in the store installed with na64_exact_store_set (e.g. files in a cache directory:
 * na64_exact_store_disk in ana.h), keyed by every input (na64_exact_key). Thread-safe. */
NA64_API int na64_xsec_exact_cached(const na64_exact_process *p, double rel_prec, double *pb, double *abserr,
                                    na64_err *err);
/* The key of a cached value: a text naming the code version and every input with 17 digits. */
NA64_API void na64_exact_key(const na64_exact_process *p, double rel_prec, char *key, size_t len);
typedef struct na64_exact_store {
  int (*load)(void *user, const char *key, double *pb, double *abserr); /* 1: found */
  void (*save)(void *user, const char *key, double pb, double abserr);  /* failures are ignored */
  void *user;
} na64_exact_store;
/* Install a persistent store (copied; NULL removes it). Not thread-safe against concurrent calls
 * of na64_xsec_exact_cached: install it before a computation starts. */
NA64_API void na64_exact_store_set(const na64_exact_store *store);
/* Invisible decay fraction of the boson in the muon-beam search: the L_mu - L_tau Z' decays to
 * nu nu-bar (mu and tau flavours) and above 2 m_mu also to mu+mu-; the other mediators are taken
 * to decay invisibly (BR 1, dark-sector decays as for the A'). */
NA64_API double na64_mediator_br_invisible(na64_mediator med, double m);

/* A table for fast use: the macroscopic cross section (1/cm at coupling 1; multiply by eps^2 or
 * g^2) of a material for proto's beam, mediator and mass (proto's E0, coupling, Z, A ignored), on
 * npoints energies log-spaced in [Emin, Emax], each node by na64_xsec_exact_quad to rel_prec.
 * Evaluation interpolates in ln sigma, clamps outside the grid, 0 below threshold. */
typedef struct na64_exact_table na64_exact_table;
NA64_API int na64_exact_table_new(const na64_exact_process *proto, const na64_material *mat, double Emin, double Emax,
                                  int npoints, double rel_prec, na64_exact_table **out, na64_err *err);
NA64_API double na64_exact_table_eval(const na64_exact_table *table, double E);
/* the largest relative error estimate of the table's nodes */
NA64_API double na64_exact_table_max_rel_error(const na64_exact_table *table);
NA64_API void na64_exact_table_free(na64_exact_table *table);

/* Grids shipped with the library (issue 14; docs/physics.md 4d): the exact total of
 * na64_xsec_exact_quad for the electron beam, vector mediator, elastic + quasi-elastic form factor
 * (NA64_FF_ALL), all x, at coupling 1, per element, on the nodes of na64_exact_grid_axes
 * (masses 1 MeV - 1 GeV, 8 per decade; energies 10 - 200 GeV, 16 log-spaced), each node to
 * NA64_EXACT_GRID_PREC; files data/exact_grid_e_vector_Z<Z>.csv (name: na64_exact_grid_name),
 * written by `na64 xsec --method exact --grid DIR`. */
#define NA64_EXACT_GRID_PREC 0.002
NA64_API void na64_exact_grid_axes(const double **mass, int *nm, const double **energy, int *nE);
NA64_API void na64_exact_grid_name(int Z, char *buf, size_t len);
/* sigma (pb at coupling 1) interpolated from the shipped grid of element Z with atomic weight A
 * (bicubic in ln sigma over (ln m, ln E0)): 1 if covered (grid present, same A, (m, E0) inside), else 0. */
NA64_API int na64_exact_grid_eval(double Z, double A, double m, double E0, double *pb);

/* Windowed grids shipped with the library (issue 14; docs/physics.md 4e): the exact cross section
 * sigma(l Z -> l Z X; x > x_min) of na64_xsec_exact_quad (NA64_FF_ALL, coupling 1) per beam,
 * mediator and element, on the masses and energies of na64_exact_grid_axes (for the muon beam only
 * the energies >= na64_exact_wgrid_emin) and on w = 1 - x_min (na64_exact_wgrid_w_axis: 4.6e-4 ...
 * 0.46, 3 per decade, 0.6, 0.8, and 1: the total), each node to NA64_EXACT_WGRID_PREC; files
 * data/exact_wgrid_<beam>_<mediator>_Z<Z>.csv (name: na64_exact_wgrid_name), written by
 * `na64 xsec --method exact --grid DIR --window`. */
#define NA64_EXACT_WGRID_NW 13
#define NA64_EXACT_WGRID_PREC 0.005
NA64_API void na64_exact_wgrid_name(na64_lepton beam, na64_mediator med, int Z, char *buf, size_t len);
NA64_API void na64_exact_wgrid_w_axis(const double **w, int *nw);
NA64_API double na64_exact_wgrid_emin(na64_lepton beam);
/* The w axis and node precision of the grid of (beam, mediator, Z): na64_exact_wgrid_w_axis and
 * NA64_EXACT_WGRID_PREC, except the muon beam (the s axis below) and the visible-mode tungsten grids (electron beam, Z = 74: 22 nodes,
 * 4 per decade from 1e-4 to 0.56, then 0.7, 0.8, 0.9, 0.95, 0.98, 1, each to
 * NA64_EXACT_WGRID_PREC_FINE; the x-shape of the visible yield from differences of windows,
 * docs/physics.md 4e). Any pointer may be NULL. */
#define NA64_EXACT_WGRID_NW_FINE 22
#define NA64_EXACT_WGRID_PREC_FINE 0.001
/* The muon-beam grids: columns s = (1 - m_mu/E0 - x_min)/(1 - m_mu/E0) (the share of the kinematic
 * range above x_min), 29 nodes equal in logit s from 1e-4 to 1 - 1e-4, and the total (s = 1). */
#define NA64_EXACT_WGRID_NS_MU 30
NA64_API void na64_exact_wgrid_axis(na64_lepton beam, na64_mediator med, int Z, const double **w, int *nw,
                                    double *prec);
/* sigma (pb at coupling 1) of p (its beam, mediator, Z, A, E0, m, x_min; ff must be NA64_FF_ALL)
 * interpolated (tricubic in ln sigma over ln m, ln E0, ln(1 - x_min), for the muon logit s): 1 if
 * covered (grid shipped and valid, same A, inside the nodes, x_min <= m/E0 (the total) or a partial
 * window: x_min >= 0.4 (tungsten: x_min >= 0.05) and 1 - x_min >= 3 m_e/E0 for the electron, s from
 * 1.39e-3 to 1 - 1e-4 for the muon; no closed window in the stencil), else 0. The muon-beam vector is
 * served by the Z' grid times 4 pi alpha. NA64_EXACT_NO_GRIDS set in the environment: never covered. */
NA64_API int na64_exact_wgrid_eval(const na64_exact_process *p, double *pb);
/* NA64_OK if the grid of (beam, mediator, Z) is shipped and passed its checks; otherwise
 * NA64_ENOTFOUND or the parse error (NA64_EFORMAT, naming the file). */
NA64_API int na64_exact_wgrid_check(na64_lepton beam, na64_mediator med, int Z, na64_err *err);

/* (x, theta_X) drawn from the exact d sigma/(dx dcos theta) of p (its E0, Z, A, form factor;
 * x >= p->x_min): the density is tabulated once on ~30 x nodes times 17 theta nodes (each a t
 * integral to 1e-3; ~0.1 s; tables are remembered per process and shared: free drops a reference)
 * and drawn from the table by inversion, without rejection (docs/physics.md
 * 4b, sampler). Sampling is read-only: one sampler serves any number of threads. */
typedef struct na64_exact_sampler na64_exact_sampler;
NA64_API int na64_exact_sampler_new(const na64_exact_process *p, na64_exact_sampler **out, na64_err *err);
/* One (x, theta) with x >= xmin (0: the sampler's own lower limit); NA64_EPHYS if the table has
 * nothing above xmin. */
NA64_API int na64_exact_sample(const na64_exact_sampler *s, na64_rng *rng, double xmin, double *x, double *theta);
/* The table's d sigma/dx (pb) and its integral over x >= xmin (pb; *rel_err: the estimated
 * relative error of the theta quadrature), at the process's coupling. */
NA64_API double na64_exact_sampler_dsdx(const na64_exact_sampler *s, double x);
NA64_API double na64_exact_sampler_integral(const na64_exact_sampler *s, double xmin, double *rel_err);
NA64_API void na64_exact_sampler_free(na64_exact_sampler *s);

#ifdef __cplusplus
}
#endif
#endif /* NA64_PHYSICS_H */
