/* Library-internal functions of src/ana shared between its files (not part of the public API). */
#ifndef NA64_ANA_INTERNAL_H
#define NA64_ANA_INTERNAL_H

#include <stdint.h>

#include "na64/ana.h"
#include "na64/sim.h"

/* The visible job's efficiency at coupling eps from the NA64_VIS_EFF_POINTS measured points
 * (e_eps[k], e[k]; NaN or eps <= 0: not measured): linear in ln eps between the measured points,
 * constant outside them, 0 without any (src/ana/vis_job.c; `na64 run` and `na64 limits --dataset`). */
double ana_vis_eff_interp(const double *e_eps, const double *e, double eps);

/* The visible job's measurement of the efficiency (src/ana/vis_job.c): `events` signal events of
 * the setup `sim` (its run, beam, detector) at mass m (GeV), coupling eps[k] and `mediator`, through
 * simulation, DATE, reconstruction and the selection `sel`, split among `threads` threads (the
 * result does not depend on it); sample k draws from seed + k. eff[k] = passed / events, err[k] its
 * binomial error; eps[k] NaN: not measured (eff and err NaN). */
int ana_vis_eff_measure(const na64_vis_config *sim, const na64_vis_select_config *sel, double m, int mediator,
                        const double eps[NA64_VIS_EFF_POINTS], uint64_t seed, uint64_t events, int threads,
                        double eff[NA64_VIS_EFF_POINTS], double err[NA64_VIS_EFF_POINTS], na64_err *e);

/* The invisible job's signal efficiency at mass m (GeV) (src/ana/job.c, as its efficiency scan):
 * `events` beam particles of the setup `sc` biased to emit an A' (seed + 1000003, events 0 ..
 * events - 1, `threads` threads), reconstructed and selected with `sel`. */
int ana_job_eff_measure(const na64_sim_config *sc, const na64_select_config *sel, double m, uint64_t seed,
                        uint64_t events, int threads, double *eff, double *eff_err, na64_err *err);

#endif
