/*
 * The ECAL shower-shape model of the selection's `ecal_shape_chi2`, shared by the reconstruction
 * (src/reco/calo.c, from decoded waveforms) and the Table 1 background routes of the simulation
 * (src/sim/fast_bkg_shape.c, from simulated cells), so that both compute the same quantity with the
 * same constants. Not installed.
 */
#ifndef NA64_RECO_SHOWER_SHAPE_MODEL_H
#define NA64_RECO_SHOWER_SHAPE_MODEL_H

/* Log-weight cut-off of the shower centre of gravity, w_i = max(0, W0 + ln(E_i / E))
 * (T.C. Awes et al., NIM A311 (1992) 130; docs/reco.md section 2.4). */
#define SHAPE_LOG_W0 4.0
#define SHAPE_A 0.1      /* sampling term of a cell, GeV^1/2 (10%/sqrt(E), docs/reco.md) */
#define SHAPE_SYS 0.03   /* relative systematics of the expected cell fraction */
#define SHAPE_NOISE 0.02 /* GeV per cell: 0.6 counts x 0.03 GeV (docs/reco.md) */

/* Variance (GeV^2) of the energy of a cell that expects mu GeV: sampling, shape systematics, noise. */
static inline double shape_cell_variance(double mu)
{
  return SHAPE_A * SHAPE_A * (mu > 0.0 ? mu : 0.0) + SHAPE_SYS * SHAPE_SYS * mu * mu + SHAPE_NOISE * SHAPE_NOISE;
}

#endif
