/* The truth record of the fast simulation as HDF5 columns (na64/io.h tables). */
#include <stddef.h>

#include "na64/sim.h"

#define F64(m) {#m, offsetof(na64_sim_truth, m), NA64_H5_F64}
#define I32(m) {#m, offsetof(na64_sim_truth, m), NA64_H5_I32}

static const na64_h5_field truth_fields[] = {
    {"event", offsetof(na64_sim_truth, event), NA64_H5_U64},
    I32(particle), I32(process), I32(triggered), I32(daughter), I32(pileup),
    F64(weight), F64(energy), F64(x0), F64(y0), F64(dxdz0), F64(dydz0), F64(x), F64(y), F64(dxdz), F64(dydz), F64(decay_z), F64(daughter_energy),
    F64(emit_depth), F64(emit_energy), F64(aprime_energy), F64(aprime_theta),
    F64(true_ecal), F64(true_ps), F64(true_hcal), F64(true_veto), F64(true_srd),
    F64(ecal), F64(ps), F64(hcal), F64(veto), F64(srd), F64(srd_photons),
};

const na64_h5_field *na64_sim_truth_fields(int *n)
{
  if (n) *n = (int)(sizeof truth_fields / sizeof truth_fields[0]);
  return truth_fields;
}
