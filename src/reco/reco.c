/*
 * The event reconstruction object and the per-event entry point (docs/reco.md): calorimeters
 * (calo.c) and tracking (track.c) of one raw DATE physics event into one na64_reco_event, the row
 * of the HDF5 table `events`.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "reco/reco_internal.h"

#define F64(m) {#m, offsetof(na64_reco_event, m), NA64_H5_F64}
#define I32(m) {#m, offsetof(na64_reco_event, m), NA64_H5_I32}
#define F64I(m, i) {#m "_" #i, offsetof(na64_reco_event, m) + (i) * sizeof(double), NA64_H5_F64}

static const na64_h5_field reco_fields[] = {
    I32(run), I32(spill), {"event", offsetof(na64_reco_event, event), NA64_H5_U64},
    F64(momentum), F64(theta), F64(track_chi2ndf), I32(ntracks_up), I32(ntracks_down),
    F64(srd_energy), F64I(srd_module, 0), F64I(srd_module, 1), F64I(srd_module, 2), F64(srd_time),
    F64(ecal_energy), F64(preshower_energy), F64(ecal_x), F64(ecal_y), F64(ecal_shape_chi2),
    F64(hcal_energy), F64I(hcal_module, 0), F64I(hcal_module, 1), F64I(hcal_module, 2), F64I(hcal_module, 3),
    F64(veto_energy), F64(weight), I32(simulated), I32(flags), I32(aprime),
};
_Static_assert(NA64_RECO_SRD_MODULES == 3 && NA64_RECO_HCAL_MODULES == 4, "update reco_fields");

const na64_h5_field *na64_reco_event_fields(int *nfields)
{
  if (nfields) *nfields = (int)(sizeof reco_fields / sizeof reco_fields[0]);
  return reco_fields;
}

int na64_reco_new(const na64_geom *g, na64_reco **out, na64_err *err)
{
  if (!g || !out) return na64_err_set(err, NA64_EINVAL, "na64_reco_new: NULL argument");
  *out = NULL;
  na64_reco *r = calloc(1, sizeof *r);
  if (!r) return na64_err_set(err, NA64_ENOMEM, "reco: out of memory");
  r->g = g;
  int st = reco_calo_setup(r, err);
  if (st == NA64_OK) st = reco_track_setup(r, err);
  if (st != NA64_OK) {
    na64_reco_free(r);
    return st;
  }
  *out = r;
  return NA64_OK;
}

void na64_reco_free(na64_reco *r)
{
  if (!r) return;
  free(r->rp);
  free(r->plane_slot);
  free(r->chan);
  free(r->strip_of);
  free(r->clusters);
  free(r->wf);
  free(r->eq);
  free(r->wfi);
  free(r->apv);
  free(r->strips);
  free(r->strips2);
  free(r->slot_at);
  free(r->cl);
  free(r->ecal_cell);
  free(r->frac);
  na64_straw_decoder_free(r->straw_dec);
  na64_straw_reco_free(r->straw_reco);
  na64_straw_digit_list_release(&r->digits);
  na64_straw_event_release(&r->sev);
  free(r);
}

const na64_geom *na64_reco_geom(const na64_reco *r) { return r ? r->g : NULL; }

const char *na64_reco_last_message(const na64_reco *r) { return r ? r->msg : ""; }

/* The equipment blocks of the event into r->eq: one walk of the sub-events for the calorimeter,
 * strip and straw passes, sub-event by sub-event (na64_daq_event_next_equipment would look for the
 * sub-event of its cursor from the start at every block). The same blocks and the same stops: at
 * the first sub-event that cannot be read, and after a sub-event whose last block overruns it. */
static int list_equipment(na64_reco *r, const na64_daq_event *ev, na64_err *err)
{
  size_t sc = 0;
  na64_daq_subevent sub;
  r->neq = 0;
  while (na64_daq_event_next_subevent(ev, &sc, &sub)) {
    size_t in = 0;
    for (;;) {
      NA64_CALL(reco_reserve((void **)&r->eq, &r->eq_cap, r->neq + 1, sizeof *r->eq, err));
      if (!na64_daq_subevent_next_equipment(&sub, &in, &r->eq[r->neq])) break;
      ++r->neq;
    }
    if ((in > sub.header.head_size ? in : sub.header.head_size) < sub.size) break; /* a block overruns */
  }
  return NA64_OK;
}

int na64_reco_process(na64_reco *r, const na64_daq_event *ev, na64_reco_event *out, na64_err *err)
{
  if (!r || !ev || !out) return na64_err_set(err, NA64_EINVAL, "na64_reco_process: NULL argument");
  memset(out, 0, sizeof *out);
  out->run = (int32_t)ev->header.run;
  out->event = ev->header.id[0];
  out->spill = (int32_t)(ev->header.id[1] >> 20);
  out->weight = 1.0;
  NA64_CALL(list_equipment(r, ev, err));
  NA64_CALL(reco_calo_event(r, out, err));
  return reco_track_event(r, ev, out, err);
}
