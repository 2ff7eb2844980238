/* The truth record of the visible-mode simulation (one row per na64_vis_sim_event) as HDF5 columns
 * (na64/io.h tables): `na64 sim` on a visible card writes it beside the DATE file (issue 12). */
#include <stddef.h>

#include "na64/sim.h"

#define EV na64_vis_sim_event
#define F64(name, m) {name, offsetof(EV, m), NA64_H5_F64}

static const na64_h5_field vis_truth_fields[] = {
    {"event", offsetof(EV, event), NA64_H5_U64},
    {"signal", offsetof(EV, signal), NA64_H5_I32},
    {"n_s4", offsetof(EV, n_s4), NA64_H5_I32},
    F64("weight", weight),
    F64("beam_energy", beam_energy),
    F64("beam_x0", beam_x0), F64("beam_y0", beam_y0), F64("beam_dxdz0", beam_dxdz0), F64("beam_dydz0", beam_dydz0),
    F64("beam_x", beam_x), F64("beam_y", beam_y), F64("beam_dxdz", beam_dxdz), F64("beam_dydz", beam_dydz),
    F64("aprime_energy", aprime_energy),
    F64("depth_x0", depth_x0),
    F64("decay_x", decay[0]), F64("decay_y", decay[1]), F64("decay_z", decay[2]),
    F64("opening", opening),
    F64("e_minus_energy", e_energy[0]), F64("e_plus_energy", e_energy[1]),
    F64("e_minus_dxdz", slope[0][0]), F64("e_minus_dydz", slope[0][1]),
    F64("e_plus_dxdz", slope[1][0]), F64("e_plus_dydz", slope[1][1]),
    F64("true_wcal", true_wcal),
    F64("wcal0", wcal[0]), F64("wcal1", wcal[1]), F64("wcal2", wcal[2]),
    F64("v2", v2), F64("s4", s4),
    F64("true_ecal", true_ecal),
};

const na64_h5_field *na64_vis_truth_fields(int *n)
{
  if (n) *n = (int)(sizeof vis_truth_fields / sizeof vis_truth_fields[0]);
  return vis_truth_fields;
}
