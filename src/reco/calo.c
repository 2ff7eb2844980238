/*
 * Calorimeter reconstruction: sampling-ADC waveforms -> amplitude and time -> energy per cell ->
 * ECAL (pre-shower, main, total, shower centre, shape chi2), HCAL per module, veto, SRD per module
 * and time (docs/reco.md §2).
 *
 * Pulse model: the one the fast simulation writes (src/sim/fast_digi.c): pedestal (even/odd ADC)
 * + A s(t - t_start) + noise, s(t) = (x/2)^2 exp(2 - x), x = t/tau, tau = 15 ns, maximum 1 at
 * x = 2, every channel of an event sharing t_start; the gain of the conditions database (GeV per
 * count) multiplies the pulse maximum A. For a known t_start the least-squares amplitude is linear,
 * A = sum s_i y_i / sum s_i^2 (y = sample - pedestal), which is unbiased for Gaussian noise; the
 * start time maximises (sum s_i y_i)^2 / sum s_i^2 (the chi2 minimum over A) on a 0.25 ns grid,
 * refined by a parabola through the three best points. Saturated samples (4095) are left out of
 * both sums, so a saturated pulse keeps an unbiased amplitude from its unsaturated samples.
 *
 * Shower centre: logarithmic weights w_i = max(0, W0 + ln(E_i/E)), W0 = 4 (T.C. Awes et al., NIM
 * A311 (1992) 130, the weighting of the PHENIX/ALICE/NA64 shashlik ECALs).
 * Shape: the Grindhammer-Peters radial profile (hep-ex/0001020 eqs. 13-17, the one the simulation
 * uses, src/sim/fast_ecal.c) averaged over the mean longitudinal profile of a shower of the beam
 * energy, integrated over a cell in closed form and tabulated against the cell's offset from the
 * shower centre; over the 3 x 3 cells around the hottest cell, chi2 = sum (E_i - E f_i)^2 / sigma_i^2
 * with sigma_i^2 = a^2 E f_i + (0.03 E f_i)^2 + noise^2 (a = 0.1 GeV^1/2 the NA64 sampling term;
 * 3% for the shower-to-shower fluctuations of the profile, an ESTIMATE), divided by ndf = n - 2.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sf_gamma.h>
#if defined(__SSE2__)
#include <emmintrin.h> /* the waveform peak and amplitude sums, 8 samples per instruction */
#endif

#include "na64/physics.h"
#include "reco/reco_internal.h"
#include "reco/shower_shape_model.h"
#if RECO_AVX
#include <immintrin.h> /* the start-time score on AVX (functions compiled for it, chosen at run time) */
#endif

#define SHAPE_MAX_MOVES 6 /* pattern-search moves per step: +-1.8 cm at the coarsest */

int reco_reserve(void **buf, size_t *cap, size_t n, size_t sz, na64_err *err)
{
  if (n <= *cap) return NA64_OK;
  size_t c = *cap ? *cap : 64;
  while (c < n) c *= 2;
  void *p = realloc(*buf, c * sz);
  if (!p) return na64_err_set(err, NA64_ENOMEM, "reco: out of memory (%zu elements)", c);
  *buf = p;
  *cap = c;
  return NA64_OK;
}

static double pulse_shape(double t)
{
  double x = t / RECO_TAU;
  return x > 0.0 ? 0.25 * x * x * exp(2.0 - x) : 0.0;
}

/* Quadrant integral of the normalised 2-D density R^2 / (pi (r^2 + R^2)^2):
 * G(x, y) = [x/a atan(y/a) + y/b atan(x/b)] / (2 pi), a = sqrt(x^2 + R^2), b = sqrt(y^2 + R^2). */
static double quad_g(double x, double y, double R)
{
  double a = sqrt(x * x + R * R), b = sqrt(y * y + R * R);
  return (x / a * atan(y / a) + y / b * atan(x / b)) / (2.0 * M_PI);
}

static double rect_fraction(double x0, double x1, double y0, double y1, double R)
{
  return quad_g(x1, y1, R) - quad_g(x0, y1, R) - quad_g(x1, y0, R) + quad_g(x0, y0, R);
}

typedef struct gp_slice {
  double w, p, rc, rt; /* longitudinal weight, core weight, core and tail radii (cm) */
} gp_slice;

#define GP_SLICES 24
#define GP_TAU_MAX 4.0

/* The Grindhammer-Peters shower of energy E in the ECAL sandwich (hep-ex/0001020; the same
 * equations and constants as src/sim/fast_ecal.c): mean longitudinal profile (eqs. 5, 6, 11: T and
 * alpha of the gamma distribution) cut into GP_SLICES slices of tau = t/T in [0, GP_TAU_MAX], each
 * with its radial parameters (eqs. 14-17). */
static int gp_slices(const na64_geom *g, const na64_geom_detector *d, double E, gp_slice *sl, na64_err *err)
{
  int k = d->nsections > 1 ? 1 : 0;
  const na64_geom_section *s = &d->sections[k];
  if (s->absorber < 0 || s->active < 0)
    return na64_err_set(err, NA64_EFORMAT, "ECAL section %s: needs absorber and active layers for the shower profile", s->name);
  na64_material abs, act, mat;
  NA64_CALL(na64_material_get(g->materials[s->absorber].name, &abs, err));
  NA64_CALL(na64_material_get(g->materials[s->active].name, &act, err));
  const na64_material *layers[2] = {&abs, &act};
  double t[2] = {s->absorber_thickness, s->active_thickness};
  NA64_CALL(na64_material_sandwich("ECAL", 2, layers, t, &mat, err));
  double ehat = 1.0 / (1.0 + 0.007 * (abs.Z_eff - act.Z_eff)), oe = 1.0 - ehat;
  double fs = mat.X0 / (t[0] + t[1]), Z = mat.Z_eff, lnE = log(E), lny = log(fmax(E / mat.E_c, 1.0));
  double T = fmax(fmax(lny - 0.812, 0.1) - 0.55 / fs - 0.69 * oe, 0.1);         /* eqs. 5, 11 */
  double alpha = fmax(0.81 + (0.458 + 2.26 / Z) * lny - 0.476 / fs, 1.1), beta = (alpha - 1.0) / T; /* eqs. 6, 11 */
  double prev = 0.0, sum = 0.0;
  for (int i = 0; i < GP_SLICES; ++i) {
    double tau_hi = GP_TAU_MAX * (i + 1) / GP_SLICES, tau = GP_TAU_MAX * (i + 0.5) / GP_SLICES;
    double P = gsl_sf_gamma_inc_P(alpha, beta * tau_hi * T);
    sl[i].w = P - prev;
    prev = P;
    sum += sl[i].w;
    double Rc = 0.0251 + 0.00319 * lnE + (0.1162 - 0.000381 * Z) * tau;
    double k1 = 0.659 - 0.00309 * Z, k2 = 0.645, k3 = -2.59, k4 = 0.3585 + 0.0421 * lnE;
    double Rt = k1 * (exp(k3 * (tau - k2)) + exp(k4 * (tau - k2)));
    double p1 = 2.632 - 0.00094 * Z, p2 = 0.401 + 0.00187 * Z, p3 = 1.313 - 0.0686 * lnE, q = (p2 - tau) / p3;
    double p = p1 * exp(q - exp(q));
    Rc += -0.0203 * oe + 0.0397 / fs * exp(-tau);
    Rt += -0.14 * oe - 0.495 / fs * exp(-tau);
    p += oe * (0.348 - 0.642 / fs * exp(-(tau - 1.0) * (tau - 1.0)));
    sl[i].p = fmin(fmax(p, 0.0), 1.0);
    sl[i].rc = fmax(Rc, 1e-3) * mat.R_M;
    sl[i].rt = fmax(Rt, 1e-3) * mat.R_M;
  }
  for (int i = 0; i < GP_SLICES; ++i) sl[i].w /= sum;
  return NA64_OK;
}

/* Table of the depth-averaged cell fraction against the offset of the cell centre from the shower
 * centre (|dx|, |dy| up to two cells, 1 mm steps), for the beam energy of the run. */
static int lateral_profile(na64_reco *r, const na64_geom_detector *d, na64_err *err)
{
  const na64_geom_cell *c = &r->g->cells[d->first_cell];
  gp_slice sl[GP_SLICES];
  double E = r->g->beam_energy > 0.0 ? r->g->beam_energy : 100.0;
  NA64_CALL(gp_slices(r->g, d, E, sl, err));
  r->cell_x = c->size[0];
  r->cell_y = c->size[1];
  r->frac_step = 0.1;
  r->frac_inv = 1.0 / r->frac_step;
  r->frac_n = (int)ceil(2.0 * fmax(r->cell_x, r->cell_y) / r->frac_step) + 2;
  /* rows and columns frac_n, frac_n + 1 are zeros: the lookups beyond the table (shape_cols) */
  r->frac_w = r->frac_n + 2;
  r->frac = calloc((size_t)r->frac_w * (size_t)r->frac_w, sizeof *r->frac);
  if (!r->frac) return na64_err_set(err, NA64_ENOMEM, "reco: out of memory");
  double hx = 0.5 * r->cell_x, hy = 0.5 * r->cell_y;
  for (int i = 0; i < r->frac_n; ++i)
    for (int j = 0; j < r->frac_n; ++j) {
      double dx = i * r->frac_step, dy = j * r->frac_step, f = 0.0;
      for (int k = 0; k < GP_SLICES; ++k)
        f += sl[k].w * (sl[k].p * rect_fraction(dx - hx, dx + hx, dy - hy, dy + hy, sl[k].rc) +
                        (1.0 - sl[k].p) * rect_fraction(dx - hx, dx + hx, dy - hy, dy + hy, sl[k].rt));
      r->frac[(size_t)i * r->frac_w + j] = f;
    }
  return NA64_OK;
}

/* The calorimeter channels in the layout of the channel map's entries (r->chan): per channel the
 * cell and section (the checks of a lookup done once), the calibration, the detector kind and the
 * accumulator its energy goes to, so that a waveform costs one table read. */
static int chan_table(na64_reco *r, na64_err *err)
{
  const na64_geom *g = r->g;
  r->chan = calloc(g->chanmap.nentries + 1, sizeof *r->chan);
  if (!r->chan) return na64_err_set(err, NA64_ENOMEM, "reco: out of memory");
  for (size_t k = 0; k < g->chanmap.nentries; ++k) {
    const na64_geom_chan *e = &g->chanmap.entries[k];
    reco_chan *q = &r->chan[k];
    q->sum = -1, q->ecal = -1;
    if (e->cell < 0 || e->cell >= g->ncells || e->section < 0 || e->section >= NA64_GEOM_MAX_SECTIONS) continue;
    const na64_geom_cell *c = &g->cells[e->cell];
    const na64_geom_detector *d = &g->detectors[c->detector];
    int sec = e->section;
    q->cell = c, q->sec = sec, q->calib = c->has_calib[sec];
    q->pe = c->ped_even[sec], q->po = c->ped_odd[sec], q->gain = c->gain[sec];
    q->srd = d->kind == NA64_DET_SRD;
    switch (d->kind) {
    case NA64_DET_ECAL:
      q->sum = sec == 0 ? RS_PS : RS_MAIN;
      q->ecal = (long)(c - &g->cells[d->first_cell]);
      break;
    case NA64_DET_HCAL:
      if (c->module >= 0 && c->module < NA64_RECO_HCAL_MODULES) q->sum = RS_HCAL + c->module;
      break;
    case NA64_DET_SRD:
      if (c->module >= 0 && c->module < NA64_RECO_SRD_MODULES) q->sum = RS_SRD + c->module;
      break;
    case NA64_DET_VETO: q->sum = RS_VETO; break;
    default: break;
    }
  }
  return NA64_OK;
}

int reco_calo_setup(na64_reco *r, na64_err *err)
{
  const na64_geom *g = r->g;
#if RECO_AVX
  r->avx = __builtin_cpu_supports("avx") ? 1 : 0;
  r->avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
#endif
  r->ecal_det = r->hcal_det = r->srd_det = r->veto_det = -1;
  for (int i = 0; i < g->ndetectors; ++i) {
    int k = g->detectors[i].kind;
    if (k == NA64_DET_ECAL && r->ecal_det < 0) r->ecal_det = i;
    if (k == NA64_DET_HCAL && r->hcal_det < 0) r->hcal_det = i;
    if (k == NA64_DET_SRD && r->srd_det < 0) r->srd_det = i;
    if (k == NA64_DET_VETO && r->veto_det < 0) r->veto_det = i;
  }
  for (int j = 0; j < RECO_NT; ++j) {
    double t0 = RECO_T_INTIME - RECO_T_WINDOW + j * RECO_T_STEP;
    double ss = 0.0;
    for (int i = 0; i < RECO_NS_TAB; ++i) {
      r->tab[j][i] = pulse_shape(i * NA64_DAQ_SADC_DEFAULT_PERIOD_NS - t0);
      ss += r->tab[j][i] * r->tab[j][i];
    }
    r->tab_ss[j] = ss;
  }
  if (r->ecal_det >= 0) {
    const na64_geom_detector *d = &g->detectors[r->ecal_det];
    r->ecal_cx = d->centre[0];
    r->ecal_cy = d->centre[1];
    r->ecal_cell = calloc((size_t)d->ncells + 1, sizeof *r->ecal_cell);
    if (!r->ecal_cell) return na64_err_set(err, NA64_ENOMEM, "reco: out of memory");
    int st = lateral_profile(r, d, err); /* without materials: no shape chi2 (NaN), not an error */
    if (st == NA64_ENOMEM) return st;
    if (st != NA64_OK && err) na64_err_clear(err);
  }
  return chan_table(r, err);
}

/* One waveform after pedestal subtraction: y[i], mask[i] = 0 for saturated samples. */
typedef struct pulse {
  double y[NA64_DAQ_SADC_MAX_SAMPLES + 1];
  unsigned char ok[NA64_DAQ_SADC_MAX_SAMPLES + 1];
  int n;
  int saturated;
} pulse;

/* The pulse shape for start t0 (grid index j, or -1 off the grid) at n samples of `period`: the
 * table row when it applies, else computed into buf. */
static const double *shape_for(const na64_reco *r, int j, double t0, double period, int n, double *buf)
{
  if (j >= 0 && period == NA64_DAQ_SADC_DEFAULT_PERIOD_NS && n <= RECO_NS_TAB) return r->tab[j];
  for (int i = 0; i < n; ++i) buf[i] = pulse_shape(i * period - t0);
  return buf;
}

/* (sum s y)^2 / sum s^2 (signed: only positive pulses are fitted) and the amplitude sum s y / sum s^2. */
static double pulse_score(const double *sh, const pulse *p, double *amp)
{
  double sy = 0.0, ss = 0.0;
  for (int i = 0; i < p->n; ++i) {
    if (!p->ok[i]) continue;
    sy += sh[i] * p->y[i];
    ss += sh[i] * sh[i];
  }
  if (amp) *amp = ss > 0.0 ? sy / ss : NAN;
  return ss > 0.0 ? sy * fabs(sy) / ss : -HUGE_VAL;
}

_Static_assert(RECO_NS_TAB % 4 == 0, "score_at sums the table rows four samples at a time");

#if RECO_AVX
/* The four chains of score_at's sum in the four lanes of one AVX register: lane k adds
 * sh[i + k] y[i + k] for i = 0, 4, 8, ... in the same order, with the same IEEE multiplications and
 * additions (no fused multiply-add: only AVX is enabled here), then the same final additions, so the
 * sum is the portable one to the bit. Called only when the CPU has AVX (r->avx). */
__attribute__((target("avx"))) static double row_dot_avx(const double *sh, const double *y)
{
  __m256d s = _mm256_setzero_pd();
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 8 /* the whole row: no loop control */
#endif
  for (int i = 0; i < RECO_NS_TAB; i += 4) s = _mm256_add_pd(s, _mm256_mul_pd(_mm256_loadu_pd(sh + i), _mm256_loadu_pd(y + i)));
  double s4[4];
  _mm256_storeu_pd(s4, s);
  return (s4[0] + s4[1]) + (s4[2] + s4[3]);
}
#endif

#if RECO_AVX
/* row_dot_avx for the rows js[0..n) of r->tab against one y, y kept in registers: out[k] is the same
 * sum, to the bit, as row_dot_avx(r->tab[js[k]], y). */
__attribute__((target("avx"))) static void rows_dot_avx(const na64_reco *r, const int *js, int n, const double *y, double *out)
{
  _Static_assert(RECO_NS_TAB == 32, "rows_dot_avx keeps the 32 samples in eight registers");
  __m256d y0 = _mm256_loadu_pd(y), y1 = _mm256_loadu_pd(y + 4), y2 = _mm256_loadu_pd(y + 8), y3 = _mm256_loadu_pd(y + 12);
  __m256d y4 = _mm256_loadu_pd(y + 16), y5 = _mm256_loadu_pd(y + 20), y6 = _mm256_loadu_pd(y + 24), y7 = _mm256_loadu_pd(y + 28);
  for (int k = 0; k < n; ++k) {
    const double *sh = r->tab[js[k]];
    __m256d s = _mm256_add_pd(_mm256_setzero_pd(), _mm256_mul_pd(_mm256_loadu_pd(sh), y0));
    s = _mm256_add_pd(s, _mm256_mul_pd(_mm256_loadu_pd(sh + 4), y1));
    s = _mm256_add_pd(s, _mm256_mul_pd(_mm256_loadu_pd(sh + 8), y2));
    s = _mm256_add_pd(s, _mm256_mul_pd(_mm256_loadu_pd(sh + 12), y3));
    s = _mm256_add_pd(s, _mm256_mul_pd(_mm256_loadu_pd(sh + 16), y4));
    s = _mm256_add_pd(s, _mm256_mul_pd(_mm256_loadu_pd(sh + 20), y5));
    s = _mm256_add_pd(s, _mm256_mul_pd(_mm256_loadu_pd(sh + 24), y6));
    s = _mm256_add_pd(s, _mm256_mul_pd(_mm256_loadu_pd(sh + 28), y7));
    double s4[4];
    _mm256_storeu_pd(s4, s);
    out[k] = (s4[0] + s4[1]) + (s4[2] + s4[3]);
  }
}
#endif

/* sum sh[i] y[i] over RECO_NS_TAB samples in four chains (sample i in chain i mod 4). */
static double row_dot(const na64_reco *r, const double *sh, const double *y)
{
#if RECO_AVX
  if (r->avx) return row_dot_avx(sh, y);
#else
  (void)r;
#endif
  double s4[4] = {0.0, 0.0, 0.0, 0.0}; /* four independent chains of additions */
  for (int i = 0; i < RECO_NS_TAB; i += 4)
    for (int k = 0; k < 4; ++k) s4[k] += sh[i + k] * y[i + k];
  return (s4[0] + s4[1]) + (s4[2] + s4[3]);
}

static double score_at(const na64_reco *r, const pulse *p, int j, double period)
{
  if (!p->saturated && p->n == RECO_NS_TAB && period == NA64_DAQ_SADC_DEFAULT_PERIOD_NS) {
    /* every sample counts: the table row and its tabulated sum of squares */
    double sy = row_dot(r, r->tab[j], p->y), ss = r->tab_ss[j];
    return ss > 0.0 ? sy * fabs(sy) / ss : -HUGE_VAL;
  }
  double buf[NA64_DAQ_SADC_MAX_SAMPLES + 1];
  double t0 = RECO_T_INTIME - RECO_T_WINDOW + j * RECO_T_STEP;
  return pulse_score(shape_for(r, j, t0, period, p->n, buf), p, NULL);
}

/* The scores of one time fit by grid index, each computed once: the refinements and the parabola
 * come back to points already scored (the centre and ends of each finer scan, the parabola's
 * neighbours), 36 -> 28 template products per fit; the values are those computed, so the fit is
 * unchanged. */
typedef struct score_memo {
  const na64_reco *r;
  const pulse *p;
  double period;
  int batch;            /* the points of a scan scored together on AVX (the table rows apply) */
  unsigned char have[RECO_NT];
  double s[RECO_NT];
} score_memo;

static double memo_score(score_memo *m, int j)
{
  if (!m->have[j]) m->s[j] = score_at(m->r, m->p, j, m->period), m->have[j] = 1;
  return m->s[j];
}

/* Best grid index in [lo, hi] at stride `step` (hi itself always tried); its score in *bs. */
static int best_on_grid(score_memo *m, int lo, int hi, int step, double *bs)
{
#if RECO_AVX
  if (m->batch) { /* the scan's new points in one pass over their table rows (score_at's arithmetic) */
    int js[RECO_NT], n = 0;
    for (int j = lo;; j += step) {
      if (j > hi) j = hi;
      if (!m->have[j]) js[n++] = j, m->have[j] = 1;
      if (j == hi) break;
    }
    double sy[RECO_NT];
    rows_dot_avx(m->r, js, n, m->p->y, sy);
    for (int k = 0; k < n; ++k) {
      double ss = m->r->tab_ss[js[k]];
      m->s[js[k]] = ss > 0.0 ? sy[k] * fabs(sy[k]) / ss : -HUGE_VAL;
    }
  }
#endif
  int best = lo;
  *bs = -HUGE_VAL;
  for (int j = lo;; j += step) {
    if (j > hi) j = hi;
    double s = memo_score(m, j);
    if (s > *bs) *bs = s, best = j;
    if (j == hi) break;
  }
  return best;
}

/* Best start time in the in-time window: 4 ns scan, 1 ns and 0.25 ns refinements around the best
 * point (the score is smooth on the scale of the 15 ns pulse), then the vertex of the parabola
 * through the three best 0.25 ns grid points. */
static double fit_time(const na64_reco *r, const pulse *p, double period)
{
  const int fine = 1, mid = (int)(1.0 / RECO_T_STEP), coarse = 4 * mid;
  score_memo m;
  m.r = r, m.p = p, m.period = period;
  m.batch = RECO_AVX && r->avx && !p->saturated && p->n == RECO_NS_TAB && period == NA64_DAQ_SADC_DEFAULT_PERIOD_NS;
  memset(m.have, 0, sizeof m.have);
  double bs;
  int best = best_on_grid(&m, 0, RECO_NT - 1, coarse, &bs);
  int lo = best - coarse < 0 ? 0 : best - coarse, hi = best + coarse >= RECO_NT ? RECO_NT - 1 : best + coarse;
  best = best_on_grid(&m, lo, hi, mid, &bs);
  lo = best - mid < 0 ? 0 : best - mid, hi = best + mid >= RECO_NT ? RECO_NT - 1 : best + mid;
  best = best_on_grid(&m, lo, hi, fine, &bs);
  double t = RECO_T_INTIME - RECO_T_WINDOW + best * RECO_T_STEP;
  if (best > 0 && best < RECO_NT - 1) { /* vertex of the parabola through the three best grid points */
    double a = memo_score(&m, best - 1), c = memo_score(&m, best + 1), den = a - 2.0 * bs + c;
    if (den < 0.0) t += 0.5 * RECO_T_STEP * (a - c) / den;
  }
  return t;
}

static void pedestals(const na64_daq_sadc_waveform *w, const reco_chan *ch, double *pe, double *po)
{
  if (ch && ch->calib) *pe = ch->pe, *po = ch->po;
  else if (w->has_pedestals) *pe = w->pedestal_even, *po = w->pedestal_odd;
  else if (na64_daq_sadc_pedestals_from_front(w, w->nsamples < RECO_FRONT ? w->nsamples : RECO_FRONT, pe, po, NULL))
    *pe = *po = 0.0;
}

/* The waveform minus the pedestals pe (even samples) and po (odd). */
static void load_pulse(const na64_daq_sadc_waveform *w, double pe, double po, pulse *p)
{
  const int n = p->n = w->nsamples;
  int sat = 0;
  for (int i = 0; i < n; ++i) {
    p->ok[i] = w->samples[i] < RECO_ADC_MAX;
    sat |= !p->ok[i];
  }
  p->saturated = sat;
  for (int i = 0; i + 1 < n; i += 2) /* even samples from the even ADC, odd from the odd */
    p->y[i] = w->samples[i] - pe, p->y[i + 1] = w->samples[i + 1] - po;
  if (n & 1) p->y[n - 1] = w->samples[n - 1] - pe;
}

/* The event template in fixed point, shq[i] = round(s_i 2^30) (s_i in [0, 1]); pass 2 uses the
 * template shq 2^-30 throughout, which differs from s by < 5e-10: amplitudes are the least-squares
 * ones for that template, exact to ~1e-9 relative. */
#define TEMPLATE_ULP 0x1p-30
typedef struct template_q {
  uint32_t q[NA64_DAQ_SADC_MAX_SAMPLES + 1];   /* round(s_i 2^30) */
  int16_t hi[RECO_NS_TAB], lo[RECO_NS_TAB];    /* q = hi 2^15 + lo, for the usual length */
  int64_t sum;                                 /* sum of q over RECO_NS_TAB samples */
  int split;                                   /* 1: hi, lo, sum valid (every q < 2^30: hi < 2^15) */
} template_q;

static void template_fixed(const double *sh, int n, template_q *t, double *shd)
{
  t->split = n >= RECO_NS_TAB, t->sum = 0;
  for (int i = 0; i < n; ++i) {
    double v = sh[i] > 0.0 ? sh[i] : 0.0;
    t->q[i] = (uint32_t)(v * 0x1p30 + 0.5);
    shd[i] = t->q[i] * TEMPLATE_ULP;
    if (i >= RECO_NS_TAB) continue;
    t->split &= t->q[i] < (1u << 30);
    t->hi[i] = (int16_t)(t->q[i] >> 15), t->lo[i] = (int16_t)(t->q[i] & 0x7FFFu), t->sum += t->q[i];
  }
}

/* sum q_i y_i over RECO_NS_TAB samples y_i < 2^12 (the decoder's 12-bit samples), exactly, as
 * 2^15 sum hi_i c_i + sum lo_i c_i + 2048 sum q_i with c_i = y_i - 2048: every product fits 16 x 16
 * bits and each sum stays below 32 x 2^15 x 2^11 = 2^31, so the compiler can use the 16-bit
 * multiply-add instructions (SSE2 pmaddwd: eight products per instruction). */
static int64_t dot_split(const template_q *t, const uint16_t *y)
{
#if defined(__SSE2__)
  /* the same integer sums by SSE2 pmaddwd (two products added per 32-bit lane): integer sums do not
   * depend on their order, and every partial sum keeps the bound above */
  const __m128i off = _mm_set1_epi16(2048);
  __m128i va = _mm_setzero_si128(), vb = _mm_setzero_si128();
  for (int i = 0; i < RECO_NS_TAB; i += 8) {
    __m128i c = _mm_sub_epi16(_mm_loadu_si128((const __m128i *)(const void *)(y + i)), off);
    va = _mm_add_epi32(va, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(const void *)(t->hi + i)), c));
    vb = _mm_add_epi32(vb, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(const void *)(t->lo + i)), c));
  }
  va = _mm_add_epi32(va, _mm_shuffle_epi32(va, 0x4E)); /* lanes + the swapped halves */
  vb = _mm_add_epi32(vb, _mm_shuffle_epi32(vb, 0x4E));
  va = _mm_add_epi32(va, _mm_shuffle_epi32(va, 0xB1)); /* + the neighbour: the sum in every lane */
  vb = _mm_add_epi32(vb, _mm_shuffle_epi32(vb, 0xB1));
  int32_t a = _mm_cvtsi128_si32(va), b = _mm_cvtsi128_si32(vb);
  return (int64_t)a * 32768 + b + 2048 * t->sum;
#else
  int32_t a = 0, b = 0;
  for (int i = 0; i < RECO_NS_TAB; ++i) {
    int16_t c = (int16_t)(y[i] - 2048);
    a += t->hi[i] * c;
    b += t->lo[i] * c;
  }
  return (int64_t)a * 32768 + b + 2048 * t->sum;
#endif
}

#if RECO_AVX
/* dot_split on AVX2 (sixteen 16-bit products per vpmaddwd): the same integer sums (exact, so their
 * order does not matter; every 32-bit lane sums fewer products than in the SSE2 form, within the
 * same bound). Called only when the CPU has AVX2 (r->avx2). */
__attribute__((target("avx2"))) static int64_t dot_split_avx2(const template_q *t, const uint16_t *y)
{
  _Static_assert(RECO_NS_TAB == 32, "dot_split_avx2 takes the samples in two halves of 16");
  const __m256i off = _mm256_set1_epi16(2048);
  __m256i c0 = _mm256_sub_epi16(_mm256_loadu_si256((const __m256i *)(const void *)y), off);
  __m256i c1 = _mm256_sub_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(y + 16)), off);
  __m256i va = _mm256_add_epi32(_mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(const void *)t->hi), c0),
                                _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(t->hi + 16)), c1));
  __m256i vb = _mm256_add_epi32(_mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(const void *)t->lo), c0),
                                _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(t->lo + 16)), c1));
  __m128i a4 = _mm_add_epi32(_mm256_castsi256_si128(va), _mm256_extracti128_si256(va, 1));
  __m128i b4 = _mm_add_epi32(_mm256_castsi256_si128(vb), _mm256_extracti128_si256(vb, 1));
  __m128i ab = _mm_hadd_epi32(a4, b4); /* a0+a1, a2+a3, b0+b1, b2+b3 */
  ab = _mm_hadd_epi32(ab, ab);          /* a, b, a, b */
  int32_t a = _mm_cvtsi128_si32(ab), b = _mm_extract_epi32(ab, 1);
  return (int64_t)a * 32768 + b + 2048 * t->sum;
}
#endif

/* Sums of the template over the even and odd samples and of its square, for n samples. */
typedef struct template_sums {
  int n;
  double even[NA64_DAQ_SADC_MAX_SAMPLES + 1], odd[NA64_DAQ_SADC_MAX_SAMPLES + 1], ss[NA64_DAQ_SADC_MAX_SAMPLES + 1];
} template_sums;

/* Cumulative sums for every waveform length up to n (waveforms of one event may differ). */
static void template_sums_of(const double *sh, int n, template_sums *t)
{
  double e = 0.0, o = 0.0, q = 0.0;
  t->n = n;
  t->even[0] = t->odd[0] = t->ss[0] = 0.0;
  for (int i = 0; i < n; ++i) {
    if (i & 1) o += sh[i];
    else e += sh[i];
    q += sh[i] * sh[i];
    t->even[i + 1] = e, t->odd[i + 1] = o, t->ss[i + 1] = q;
  }
}

/* The least-squares amplitude of an unsaturated waveform, sum s (y - ped) / sum s^2 with the pedestals
 * taken out of the sum: the same number as load_pulse + pulse_score (up to rounding), without the copy. */
static double amplitude_fast(const na64_reco *r, const template_q *tq, const template_sums *t, const na64_daq_sadc_waveform *w,
                             double pe, double po)
{
  /* the products of the fixed-point template and the 12-bit samples summed exactly in integers
   * (< 2^30 x 2^12 x 256 = 2^50): no conversion per sample, one chain of integer additions */
  uint64_t acc = 0;
  int n = w->nsamples < t->n ? w->nsamples : t->n;
  if (n == RECO_NS_TAB && tq->split) /* the usual length: the same integer in 16-bit pieces */
#if RECO_AVX
    acc = (uint64_t)(r->avx2 ? dot_split_avx2(tq, w->samples) : dot_split(tq, w->samples));
#else
    acc = (uint64_t)dot_split(tq, w->samples), (void)r;
#endif
  else
    for (int i = 0; i < n; ++i) acc += (uint64_t)tq->q[i] * w->samples[i];
  double sy = (double)(int64_t)acc * TEMPLATE_ULP, ss = t->ss[n]; /* acc < 2^50: the signed conversion is exact */
  return ss > 0.0 ? (sy - pe * t->even[n] - po * t->odd[n]) / ss : NAN;
}

/* Largest even and odd samples of a waveform of RECO_NS_TAB samples, eight 16-bit lanes at a time
 * (the samples are 12-bit, so signed 16-bit lanes compare them exactly; even samples in the even
 * lanes): SSE2 pmaxsw, else the GCC/Clang vector extensions. */
_Static_assert(RECO_NS_TAB % 8 == 0, "peak_lanes takes the samples eight at a time");
#if defined(__SSE2__)
static void peak_lanes(const uint16_t *smp, unsigned *me, unsigned *mo)
{
  __m128i m = _mm_loadu_si128((const __m128i *)(const void *)smp);
  for (int i = 8; i < RECO_NS_TAB; i += 8) m = _mm_max_epi16(m, _mm_loadu_si128((const __m128i *)(const void *)(smp + i)));
  m = _mm_max_epi16(m, _mm_srli_si128(m, 8)); /* lanes 0-3 against 4-7 */
  m = _mm_max_epi16(m, _mm_srli_si128(m, 4)); /* lanes 0-1 against 2-3: lane 0 even, lane 1 odd */
  *me = (unsigned)_mm_extract_epi16(m, 0), *mo = (unsigned)_mm_extract_epi16(m, 1);
}
#else
typedef int16_t lanes16 __attribute__((vector_size(16)));
static void peak_lanes(const uint16_t *smp, unsigned *me, unsigned *mo)
{
  lanes16 m = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < RECO_NS_TAB; i += 8) {
    lanes16 v;
    memcpy(&v, smp + i, sizeof v);
    lanes16 gt = v > m;
    m = (v & gt) | (m & ~gt);
  }
  int16_t l[8];
  memcpy(l, &m, sizeof l);
  int16_t e0 = l[0] > l[2] ? l[0] : l[2], e1 = l[4] > l[6] ? l[4] : l[6];
  int16_t o0 = l[1] > l[3] ? l[1] : l[3], o1 = l[5] > l[7] ? l[5] : l[7];
  *me = (unsigned)(e0 > e1 ? e0 : e1), *mo = (unsigned)(o0 > o1 ? o0 : o1);
}
#endif

/* Largest sample above pedestal (the first pass needs only this); *sat if a sample saturated. */
static double peak_of(const na64_daq_sadc_waveform *w, double pe, double po, int *sat)
{
  unsigned me = 0, mo = 0;
  if (w->nsamples == RECO_NS_TAB) /* the usual length */
    peak_lanes(w->samples, &me, &mo);
  else
    for (int i = 0; i + 1 < w->nsamples; i += 2) {
      me = w->samples[i] > me ? w->samples[i] : me;
      mo = w->samples[i + 1] > mo ? w->samples[i + 1] : mo;
    }
  if (w->nsamples & 1) me = w->samples[w->nsamples - 1] > me ? w->samples[w->nsamples - 1] : me;
  *sat |= me >= RECO_ADC_MAX || mo >= RECO_ADC_MAX;
  double pk = me - pe > mo - po ? me - pe : mo - po; /* fmax without the libm call */
  return pk > 0.0 ? pk : 0.0;
}

/* Decode every SADC block of the event (r->eq) into r->wf; returns the count, or < 0 on allocation failure. */
static int decode_sadc(na64_reco *r, size_t *nwf, double *period, int *bad, na64_err *err)
{
  size_t n = 0;
  *period = NA64_DAQ_SADC_DEFAULT_PERIOD_NS;
  for (size_t q = 0; q < r->neq; ++q) {
    const na64_daq_equipment *eq = &r->eq[q];
    if (eq->header.type != NA64_DAQ_EQ_SADC) continue;
    size_t room = eq->nwords + 1, got = 0; /* at least one word per waveform */
    NA64_CALL(reco_reserve((void **)&r->wf, &r->wf_cap, n + room, sizeof *r->wf, err));
    na64_err e2; /* set by the callee on failure: only the empty message, not the whole buffer, cleared */
    e2.code = 0, e2.msg[0] = '\0';
    if (na64_daq_sadc_decode(eq, r->wf + n, r->wf_cap - n, &got, NULL, &e2) != NA64_OK) *bad = 1;
    double per = na64_daq_sadc_period_ns(&eq->header);
    if (per > 0.0) *period = per;
    n += got;
  }
  *nwf = n;
  return NA64_OK;
}

/* The cells of the shape chi2 (at most the 3 x 3 around the hottest one) with their centres grouped
 * into distinct x (columns) and distinct y (rows): an evaluation computes the table coordinate of
 * each column and row once (3 + 3 on the regular grid) instead of once per cell (9 + 9). */
typedef struct shape_cells {
  int n, ncol, nrow;
  int col[9], row[9];   /* column and row of cell k */
  double cx[9], cy[9];  /* the distinct centres */
  double e[9];          /* measured energy of cell k, GeV */
} shape_cells;

static int distinct_index(double *v, int *nv, double x)
{
  for (int k = 0; k < *nv; ++k)
    if (v[k] == x) return k;
  v[*nv] = x;
  return (*nv)++;
}

static void shape_cells_of(const na64_reco *r, const na64_geom_cell *cells, const int *idx, int n, shape_cells *sc)
{
  sc->n = n, sc->ncol = sc->nrow = 0;
  for (int k = 0; k < n; ++k) {
    const na64_geom_cell *c = &cells[idx[k]];
    sc->col[k] = distinct_index(sc->cx, &sc->ncol, c->centre[0]);
    sc->row[k] = distinct_index(sc->cy, &sc->nrow, c->centre[1]);
    sc->e[k] = r->ecal_cell[idx[k]];
  }
}

/* The table coordinates of the columns of sc for a shower centre at x (shape_cols) and of its rows
 * for y (shape_rows): they depend on one coordinate each, so the pattern search below computes
 * them once per lattice column and row of a step, not once per point. */
/* Beyond the table (|dx| or |dy| at or past its last interval) a cell expects 0: its column points at
 * the zero rows after the table, its row at the zero columns, with weights u = 0, ou = 1, so that the
 * interpolation sums products of weights in [0, 1] with zeros, +0, and mu = E * (+0) = E * 0.0 (E > 0,
 * ecal_shower): the value the former branch gave, without the branch per cell. */
typedef struct shape_axis {
  const double *fc[9]; /* columns: the table row of its |dx| (the zero row beyond the table) */
  int j[9];            /* rows: the table column of its |dy| (the zero column beyond the table) */
  double u[9], ou[9];  /* the interpolation weights t - i and 1 - (t - i) */
} shape_axis;

static void shape_cols(const na64_reco *r, const shape_cells *sc, double x, shape_axis *c)
{
  const int n = r->frac_n;
  for (int a = 0; a < sc->ncol; ++a) {
    double t = fabs(sc->cx[a] - x) * r->frac_inv;
    int i = (int)t;
    if (i < n - 1) c->u[a] = t - i, c->ou[a] = 1 - c->u[a], c->fc[a] = r->frac + (size_t)i * r->frac_w;
    else c->u[a] = 0.0, c->ou[a] = 1.0, c->fc[a] = r->frac + (size_t)n * r->frac_w;
  }
}

static void shape_rows(const na64_reco *r, const shape_cells *sc, double y, shape_axis *w)
{
  const int n = r->frac_n;
  for (int b = 0; b < sc->nrow; ++b) {
    double t = fabs(sc->cy[b] - y) * r->frac_inv;
    int j = (int)t;
    if (j < n - 1) w->j[b] = j, w->u[b] = t - j, w->ou[b] = 1 - w->u[b];
    else w->j[b] = n, w->u[b] = 0.0, w->ou[b] = 1.0;
  }
}

/* chi2 of the cells against the profile of a shower of energy E centred at the point whose columns
 * and rows are cx and cy (shape_cols, shape_rows), or, as soon as the partial sum reaches `limit`,
 * that partial sum (>= limit: the caller only asks whether the point beats limit, its best chi2 so
 * far, and a sum of non-negative terms only grows; NaN: no limit). The expected fraction of a cell
 * offset by (dx, dy) from the centre is bilinear in the table r->frac at (|dx|, |dy|), 0 beyond it.
 * The arithmetic per cell is the one of the former per-cell lookup (the same offsets, indices and
 * weights, summed in the same order), so the chi2 and the point the search ends at are unchanged to
 * the bit. */
static double shape_chi2(const na64_reco *r, const shape_cells *sc, double E, const shape_axis *cx, const shape_axis *cy,
                         double limit)
{
  const int w = r->frac_w;
  double chi2 = 0.0;
  for (int k = 0; k < sc->n; ++k) {
    int a = sc->col[k], b = sc->row[k];
    const double e = sc->e[k], *f0 = cx->fc[a] + cy->j[b], *f1 = f0 + w;
    const double u = cx->u[a], ou = cx->ou[a], v = cy->u[b], ov = cy->ou[b];
    const double mu = E * (ou * ov * f0[0] + u * ov * f1[0] + ou * v * f0[1] + u * v * f1[1]);
    chi2 += (e - mu) * (e - mu) / shape_cell_variance(mu);
    if (chi2 >= limit) break; /* the terms are >= 0: this point cannot beat `limit` any more */
  }
  return chi2;
}

/* Shower centre (log weights) and shape chi2 of the ECAL cells (both sections summed). */
static void ecal_shower(const na64_reco *r, double E, na64_reco_event *out)
{
  const na64_geom_detector *d = &r->g->detectors[r->ecal_det];
  const na64_geom_cell *cells = &r->g->cells[d->first_cell];
  int nc = d->nx * d->ny < d->ncells ? d->nx * d->ny : d->ncells, hot = -1;
  out->ecal_x = out->ecal_y = out->ecal_shape_chi2 = NAN;
  if (!(E > 0.0) || nc < 1) return;
  double sw = 0.0, sx = 0.0, sy = 0.0;
  /* w > 0 needs e > E exp(-W0): cells below (with a margin far above the rounding of log) skip the
   * logarithm, the others are weighted exactly as before */
  const double e_min = E * exp(-SHAPE_LOG_W0) * (1.0 - 1e-9);
  for (int i = 0; i < nc; ++i) {
    double e = r->ecal_cell[i];
    if (hot < 0 || e > r->ecal_cell[hot]) hot = i;
    if (!(e > e_min)) continue;
    double w = SHAPE_LOG_W0 + log(e / E);
    if (w <= 0.0) continue;
    sw += w;
    sx += w * cells[i].centre[0];
    sy += w * cells[i].centre[1];
  }
  if (!(sw > 0.0)) return;
  double x = sx / sw, y = sy / sw;
  out->ecal_x = x - r->ecal_cx;
  out->ecal_y = y - r->ecal_cy;
  if (!r->frac) return;
  /* the 3 x 3 cells around the hottest one */
  int idx[9], n = 0, hx = cells[hot].ix, hy = cells[hot].iy;
  for (int i = 0; i < nc && n < 9; ++i)
    if (abs(cells[i].ix - hx) <= 1 && abs(cells[i].iy - hy) <= 1) idx[n++] = i;
  if (n <= 2) return;
  /* chi2 minimised over the shower centre by a pattern search: from the log-weighted centre, move
   * to the best of the 3 x 3 points at distance `step` while one is better, then divide the step by
   * 3 (0.3, 0.1, 0.033 cm); ndf = n - 2 for the two coordinates */
  shape_cells sc;
  shape_cells_of(r, cells, idx, n, &sc);
  shape_axis ax, ay;
  shape_cols(r, &sc, x, &ax);
  shape_rows(r, &sc, y, &ay);
  double best = shape_chi2(r, &sc, E, &ax, &ay, NAN), bx = x, by = y;
  for (double step = 0.3; step > 0.03; step /= 3.0) {
    /* the points of one step lie on the lattice (x0 + a step, y0 + b step), |a|, |b| <= moves + 1:
     * each is evaluated once (after a move, three to five of the eight neighbours are known, and
     * a known point cannot beat the best: it was not better when evaluated, and best only falls),
     * and the table coordinates of each lattice column and row are computed once */
    enum { L = SHAPE_MAX_MOVES + 1, W = 2 * L + 1 };
    unsigned char known[W][W], have_col[W], have_row[W];
    shape_axis col[W], row[W];
    memset(known, 0, sizeof known);
    memset(have_col, 0, sizeof have_col);
    memset(have_row, 0, sizeof have_row);
    const double x0 = bx, y0 = by;
    int ca = 0, cb = 0;
    known[L][L] = 1;
    for (int moves = 0; moves < SHAPE_MAX_MOVES; ++moves) {
      int na = ca, nb = cb;
      for (int i = -1; i <= 1; ++i)
        for (int j = -1; j <= 1; ++j) {
          int a = ca + i, b = cb + j;
          if (known[a + L][b + L]) continue;
          if (!have_col[a + L]) shape_cols(r, &sc, x0 + a * step, &col[a + L]), have_col[a + L] = 1;
          if (!have_row[b + L]) shape_rows(r, &sc, y0 + b * step, &row[b + L]), have_row[b + L] = 1;
          double c2 = shape_chi2(r, &sc, E, &col[a + L], &row[b + L], best);
          known[a + L][b + L] = 1;
          if (c2 < best) best = c2, na = a, nb = b;
        }
      if (na == ca && nb == cb) break;
      ca = na, cb = nb;
    }
    bx = x0 + ca * step, by = y0 + cb * step;
  }
  out->ecal_shape_chi2 = best / (n - 2);
}

/* The calorimeter channels of one DAQ source: its part of r->chan (port 0, chip 0) and dimensions. */
typedef struct chan_src {
  uint32_t id;           /* source id (UINT32_MAX before the first: not a source) */
  const reco_chan *base; /* NULL: the source is not in the map */
  size_t stride;         /* entries per port */
  uint32_t nport, nchan;
} chan_src;

/* The channel of waveform w (r->chan), or NULL if unmapped; cs caches the source of the previous
 * waveform (those of one block share it). */
static const reco_chan *chan_of(const na64_reco *r, const na64_daq_sadc_waveform *w, chan_src *cs)
{
  if (w->source_id != cs->id) {
    const na64_geom_chansrc *b = na64_geom_chan_source(r->g, w->source_id);
    cs->id = w->source_id;
    cs->base = b && b->nchip ? r->chan + b->offset : NULL;
    cs->stride = b ? (size_t)b->nchip * b->nchan : 0;
    cs->nport = b ? b->nport : 0, cs->nchan = b ? b->nchan : 0;
  }
  if (!cs->base || w->port >= cs->nport || w->channel >= cs->nchan) return NULL;
  const reco_chan *q = cs->base + w->port * cs->stride + w->channel;
  return q->cell ? q : NULL;
}

int reco_calo_event(na64_reco *r, na64_reco_event *out, na64_err *err)
{
  size_t nwf = 0;
  double period;
  int bad = 0;
  NA64_CALL(decode_sadc(r, &nwf, &period, &bad, err));
  if (bad) out->flags |= NA64_RECO_DECODE_ERROR;
  if (r->ecal_det >= 0) memset(r->ecal_cell, 0, (size_t)r->g->detectors[r->ecal_det].ncells * sizeof *r->ecal_cell);
  pulse p;
  /* pass 1: the event's pulse start from its largest calorimeter pulse; the SRD time from the
   * largest SRD pulse */
  size_t big = (size_t)-1, bigsrd = (size_t)-1;
  double bp = 0.0, bps = 0.0;
  int nmax = 1; /* the longest waveform: the template is computed for this many samples */
  NA64_CALL(reco_reserve((void **)&r->wfi, &r->wfi_cap, nwf + 1, sizeof *r->wfi, err));
  chan_src cs = {UINT32_MAX, NULL, 0, 0, 0}; /* no source: na64_geom_chan_source gives NULL for it */
  for (size_t k = 0; k < nwf; ++k) {
    const na64_daq_sadc_waveform *w = &r->wf[k];
    const reco_chan *ch = chan_of(r, w, &cs);
    reco_wfinfo *wi = &r->wfi[k];
    wi->ch = ch;
    if (w->nsamples > nmax) nmax = w->nsamples;
    if (!ch) continue;
    int sat = 0;
    pedestals(w, ch, &wi->pe, &wi->po);
    double pk = peak_of(w, wi->pe, wi->po, &sat);
    wi->saturated = sat;
    if (sat) out->flags |= NA64_RECO_SATURATED;
    if (ch->srd && pk > bps) bps = pk, bigsrd = k;
    if (!ch->srd && pk > bp) bp = pk, big = k;
  }
  double t0 = RECO_T_INTIME;
  if (big != (size_t)-1 && bp > 10.0) { /* 10 noise sigmas: a real pulse */
    load_pulse(&r->wf[big], r->wfi[big].pe, r->wfi[big].po, &p);
    t0 = fit_time(r, &p, period);
  }
  out->srd_time = NAN;
  if (bigsrd != (size_t)-1 && bps > 5.0) {
    load_pulse(&r->wf[bigsrd], r->wfi[bigsrd].pe, r->wfi[bigsrd].po, &p);
    out->srd_time = fit_time(r, &p, period) - RECO_T_INTIME;
  }
  /* pass 2: amplitudes at the event's start time, energies from the gains, summed per channel in
   * waveform order into the accumulator of its detector (RS_*) */
  double shbuf[NA64_DAQ_SADC_MAX_SAMPLES + 1];
  const double *sh0 = shape_for(r, -1, t0, period, nmax, shbuf); /* once per event */
  template_q tq;
  double sh[NA64_DAQ_SADC_MAX_SAMPLES + 1];
  template_fixed(sh0, nmax, &tq, sh);
  template_sums ts;
  template_sums_of(sh, nmax, &ts);
  double s[RS_N + 1];
  memset(s, 0, sizeof s);
  for (size_t k = 0; k < nwf; ++k) {
    const reco_wfinfo *wi = &r->wfi[k];
    const reco_chan *ch = wi->ch;
    if (!ch || !ch->calib) continue;
    double A = 0.0;
    if (!wi->saturated) A = amplitude_fast(r, &tq, &ts, &r->wf[k], wi->pe, wi->po);
    else {
      load_pulse(&r->wf[k], wi->pe, wi->po, &p);
      pulse_score(sh, &p, &A);
    }
    if (!isfinite(A)) continue;
    double E = A * ch->gain;
    if (ch->sum >= 0) s[ch->sum] += E;
    if (ch->ecal >= 0) r->ecal_cell[ch->ecal] += E;
  }
  out->preshower_energy = s[RS_PS];
  out->ecal_energy = s[RS_PS] + s[RS_MAIN];
  out->hcal_energy = out->srd_energy = 0.0;
  for (int m = 0; m < NA64_RECO_HCAL_MODULES; ++m) out->hcal_module[m] = s[RS_HCAL + m], out->hcal_energy += s[RS_HCAL + m];
  for (int m = 0; m < NA64_RECO_SRD_MODULES; ++m) out->srd_module[m] = s[RS_SRD + m], out->srd_energy += s[RS_SRD + m];
  out->veto_energy = s[RS_VETO];
  if (r->ecal_det >= 0) ecal_shower(r, out->ecal_energy, out);
  else out->ecal_x = out->ecal_y = out->ecal_shape_chi2 = NAN;
  return NA64_OK;
}
