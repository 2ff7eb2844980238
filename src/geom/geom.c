/* The setup of one run in memory, built from the validated conditions records (na64/cond.h).
 * Straw wires come from their surveyed positions (straw_wires); strips from the plane pitch,
 * strip k at u = (k - (n - 1) / 2) * pitch. Wire/strip centres in global coordinates:
 * centre + u * u_dir + dz * z_hat, with u_dir = (cos a, sin a, 0) (docs/conditions.md). */
#include "na64/geom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[NA64_DET_NKINDS] = {"straw", "micromegas", "gem",     "ecal",    "hcal",
                                                        "srd",   "veto",       "wcal",    "counter", "decay_volume"};

const char *na64_geom_kind_name(int kind)
{
  return (kind >= 0 && kind < NA64_DET_NKINDS) ? kind_names[kind] : "unknown";
}

static int kind_of(const char *s)
{
  for (int k = 0; k < NA64_DET_NKINDS; ++k)
    if (!strcmp(s, kind_names[k])) return k;
  return -1;
}

void na64_geom_free(na64_geom *g)
{
  if (!g) return;
  for (int i = 0; i < g->nplanes; ++i) {
    free(g->planes[i].wires);
    free(g->planes[i].daq_key);
    free(g->planes[i].t0);
    free(g->planes[i].rt_t);
    free(g->planes[i].rt_r);
  }
  free(g->planes);
  free(g->detectors);
  free(g->cells);
  free(g->magnets);
  free(g->materials);
  free(g->chanmap.slot);
  free(g->chanmap.src);
  free(g->chanmap.entries);
  free(g);
}

/* ---- look-ups ---- */

const na64_geom_detector *na64_geom_find_detector(const na64_geom *g, const char *name)
{
  if (!g || !name) return NULL;
  for (int i = 0; i < g->ndetectors; ++i)
    if (!strcmp(g->detectors[i].name, name)) return &g->detectors[i];
  return NULL;
}

int na64_geom_plane_index(const na64_geom *g, const char *name)
{
  if (!g || !name) return -1;
  for (int i = 0; i < g->nplanes; ++i)
    if (!strcmp(g->planes[i].name, name)) return i;
  return -1;
}

const na64_geom_plane *na64_geom_find_plane(const na64_geom *g, const char *name)
{
  int i = na64_geom_plane_index(g, name);
  return i < 0 ? NULL : &g->planes[i];
}

const na64_geom_magnet *na64_geom_find_magnet(const na64_geom *g, const char *name)
{
  if (!g || !name) return NULL;
  for (int i = 0; i < g->nmagnets; ++i)
    if (!strcmp(g->magnets[i].name, name)) return &g->magnets[i];
  return NULL;
}

static int material_index(const na64_geom *g, const char *name)
{
  if (!name || !name[0]) return -1;
  for (int i = 0; i < g->nmaterials; ++i)
    if (!strcmp(g->materials[i].name, name)) return i;
  return -1;
}

const na64_geom_material *na64_geom_find_material(const na64_geom *g, const char *name)
{
  int i = g ? material_index(g, name) : -1;
  return i < 0 ? NULL : &g->materials[i];
}

const na64_geom_cell *na64_geom_find_cell(const na64_geom *g, const char *detector, int module, int ix, int iy)
{
  const na64_geom_detector *d = na64_geom_find_detector(g, detector);
  if (!d || !d->ncells || module < 0 || ix < 0 || iy < 0 || module >= d->nmodules || ix >= d->nx || iy >= d->ny)
    return NULL;
  return &g->cells[d->first_cell + (module * d->ny + iy) * d->nx + ix];
}

const na64_geom_cell *na64_geom_cell_at(const na64_geom *g, const char *detector, double x, double y)
{
  const na64_geom_detector *d = na64_geom_find_detector(g, detector);
  if (!d) return NULL;
  for (int i = 0; i < d->ncells; ++i) {
    const na64_geom_cell *c = &g->cells[d->first_cell + i];
    if (fabs(x - c->centre[0]) <= c->size[0] / 2 && fabs(y - c->centre[1]) <= c->size[1] / 2) return c;
  }
  return NULL;
}

int na64_geom_wire_position(const na64_geom_plane *p, int wire, double pos[3], double dir[3])
{
  if (!p || !pos || wire < 0 || wire >= p->nwires) return NA64_ERANGE;
  memcpy(pos, p->wires[wire].pos, 3 * sizeof(double));
  if (dir) memcpy(dir, p->w_dir, 3 * sizeof(double));
  return NA64_OK;
}

double na64_geom_drift_radius(const na64_geom_plane *p, double t)
{
  if (!p || p->rt_n < 2 || isnan(t)) return NAN;
  const double *T = p->rt_t, *R = p->rt_r;
  int n = p->rt_n;
  if (t <= T[0]) return R[0];
  if (t >= T[n - 1]) return R[n - 1];
  int lo = 0, hi = n - 1; /* T[lo] < t < T[hi] */
  while (hi - lo > 1) {
    int mid = (lo + hi) / 2;
    if (T[mid] <= t) lo = mid;
    else hi = mid;
  }
  return R[lo] + (R[hi] - R[lo]) * (t - T[lo]) / (T[hi] - T[lo]);
}

double na64_geom_field_integral(const na64_geom *g)
{
  double s = 0;
  for (int i = 0; g && i < g->nmagnets; ++i) s += g->magnets[i].field_integral;
  return s;
}

/* ---- building ---- */

static int cmp_det_z(const void *a, const void *b)
{
  const na64_cond_detector *x = *(const na64_cond_detector *const *)a, *y = *(const na64_cond_detector *const *)b;
  if (x->z != y->z) return x->z < y->z ? -1 : 1;
  return strcmp(x->name, y->name);
}

static int cmp_plane_z(const void *a, const void *b)
{
  const na64_cond_plane *x = *(const na64_cond_plane *const *)a, *y = *(const na64_cond_plane *const *)b;
  if (x->z != y->z) return x->z < y->z ? -1 : 1;
  return strcmp(x->name, y->name);
}

static int cmp_magnet_z(const void *a, const void *b)
{
  const na64_geom_magnet *x = a, *y = b;
  if (x->centre[2] != y->centre[2]) return x->centre[2] < y->centre[2] ? -1 : 1;
  return strcmp(x->name, y->name);
}

static int detector_index(const na64_geom *g, const char *name)
{
  for (int i = 0; i < g->ndetectors; ++i)
    if (!strcmp(g->detectors[i].name, name)) return i;
  return -1;
}

static int build_detectors(na64_geom *g, const na64_cond_records *r, na64_err *err)
{
  size_t n = r->ndetectors;
  const na64_cond_detector **order = malloc((n ? n : 1) * sizeof *order);
  g->detectors = calloc(n ? n : 1, sizeof *g->detectors);
  if (!order || !g->detectors) {
    free(order);
    return na64_err_set(err, NA64_ENOMEM, "geometry: out of memory");
  }
  for (size_t i = 0; i < n; ++i) order[i] = &r->detectors[i];
  qsort(order, n, sizeof *order, cmp_det_z);
  for (size_t i = 0; i < n; ++i) {
    const na64_cond_detector *s = order[i];
    na64_geom_detector *d = &g->detectors[i];
    snprintf(d->name, sizeof d->name, "%s", s->name);
    d->kind = kind_of(s->kind);
    if (d->kind < 0) {
      free(order);
      return na64_err_set(err, NA64_EFORMAT, "detectors row id %lld (%s): kind = '%s' is unknown", (long long)s->iov.id,
                          s->name, s->kind);
    }
    d->centre[0] = s->x;
    d->centre[1] = s->y;
    d->centre[2] = s->z;
    d->size[0] = s->size_x;
    d->size[1] = s->size_y;
    d->size[2] = s->size_z;
    d->material = material_index(g, s->material);
    d->id = s->iov.id;
  }
  g->ndetectors = (int)n;
  free(order);
  return NA64_OK;
}

static int build_planes(na64_geom *g, const na64_cond_records *r, na64_err *err)
{
  size_t n = r->nplanes;
  const na64_cond_plane **order = malloc((n ? n : 1) * sizeof *order);
  g->planes = calloc(n ? n : 1, sizeof *g->planes);
  if (!order || !g->planes) {
    free(order);
    return na64_err_set(err, NA64_ENOMEM, "geometry: out of memory");
  }
  for (size_t i = 0; i < n; ++i) order[i] = &r->planes[i];
  qsort(order, n, sizeof *order, cmp_plane_z);
  for (size_t i = 0; i < n; ++i) {
    const na64_cond_plane *s = order[i];
    na64_geom_plane *p = &g->planes[i];
    g->nplanes = (int)i + 1; /* so that na64_geom_free releases what is allocated so far */
    snprintf(p->name, sizeof p->name, "%s", s->name);
    p->detector = detector_index(g, s->detector); /* validated in cond: exists and is a tracker */
    p->kind = g->detectors[p->detector].kind;
    g->detectors[p->detector].nplanes++;
    p->centre[0] = s->x;
    p->centre[1] = s->y;
    p->centre[2] = s->z;
    p->angle = s->angle_deg * (3.14159265358979323846 / 180.0);
    double ca = cos(p->angle), sa = sin(p->angle);
    /* exact axes for the common orientations so that X/Y planes have no 1e-17 cross terms */
    if (fmod(fabs(s->angle_deg), 90.0) == 0.0) {
      ca = round(ca);
      sa = round(sa);
    }
    p->u_dir[0] = ca;
    p->u_dir[1] = sa;
    p->u_dir[2] = 0;
    p->w_dir[0] = -sa;
    p->w_dir[1] = ca;
    p->w_dir[2] = 0;
    p->pitch = s->pitch;
    p->size_u = s->size_u;
    p->size_v = s->size_v;
    p->nwires = s->nchannels;
    p->id = s->iov.id;
    p->wires = calloc((size_t)p->nwires, sizeof *p->wires);
    p->daq_key = malloc((size_t)p->nwires * sizeof *p->daq_key);
    p->t0 = calloc((size_t)p->nwires, sizeof *p->t0);
    if (!p->wires || !p->daq_key || !p->t0) {
      free(order);
      return na64_err_set(err, NA64_ENOMEM, "geometry: out of memory");
    }
    for (int w = 0; w < p->nwires; ++w) p->daq_key[w] = NA64_GEOM_NO_KEY;
    if (p->kind == NA64_DET_STRAW) {
      for (size_t k = 0; k < r->nstraw_layers; ++k)
        if (!strcmp(r->straw_layers[k].plane, p->name) && r->straw_layers[k].diameter > p->diameter)
          p->diameter = r->straw_layers[k].diameter;
      for (size_t k = 0; k < r->nstraw_wires; ++k) {
        const na64_cond_straw_wire *w = &r->straw_wires[k];
        if (strcmp(w->plane, p->name)) continue;
        na64_geom_wire *o = &p->wires[w->wire]; /* validated: 0 <= wire < nchannels, one record each */
        o->u = w->u;
        o->layer = w->layer;
        for (int a = 0; a < 3; ++a) o->pos[a] = p->centre[a] + w->u * p->u_dir[a];
        o->pos[2] += w->dz;
      }
    } else {
      for (int k = 0; k < p->nwires; ++k) {
        na64_geom_wire *o = &p->wires[k];
        o->u = (k - (p->nwires - 1) / 2.0) * p->pitch;
        for (int a = 0; a < 3; ++a) o->pos[a] = p->centre[a] + o->u * p->u_dir[a];
      }
    }
  }
  free(order);
  return NA64_OK;
}

static int build_cells(na64_geom *g, const na64_cond_records *r, na64_err *err)
{
  /* grid of each detector, then cells grouped in detector order */
  int total = 0;
  for (int i = 0; i < g->ndetectors; ++i) {
    na64_geom_detector *d = &g->detectors[i];
    for (size_t k = 0; k < r->ncalo_cells; ++k) {
      const na64_cond_calo_cell *c = &r->calo_cells[k];
      if (strcmp(c->detector, d->name)) continue;
      if (c->module + 1 > d->nmodules) d->nmodules = c->module + 1;
      if (c->ix + 1 > d->nx) d->nx = c->ix + 1;
      if (c->iy + 1 > d->ny) d->ny = c->iy + 1;
    }
    d->first_cell = total;
    d->ncells = d->nmodules * d->nx * d->ny; /* complete grid: validated in cond */
    total += d->ncells;
  }
  g->cells = calloc(total ? (size_t)total : 1, sizeof *g->cells);
  if (!g->cells) return na64_err_set(err, NA64_ENOMEM, "geometry: out of memory");
  g->ncells = total;
  for (int i = 0; i < total; ++i)
    for (int s = 0; s < NA64_GEOM_MAX_SECTIONS; ++s) g->cells[i].daq_key[s] = NA64_GEOM_NO_KEY;
  for (size_t k = 0; k < r->ncalo_cells; ++k) {
    const na64_cond_calo_cell *c = &r->calo_cells[k];
    int di = detector_index(g, c->detector);
    na64_geom_detector *d = &g->detectors[di];
    na64_geom_cell *o = &g->cells[d->first_cell + (c->module * d->ny + c->iy) * d->nx + c->ix];
    o->detector = di;
    o->module = c->module;
    o->ix = c->ix;
    o->iy = c->iy;
    o->centre[0] = c->x;
    o->centre[1] = c->y;
    o->centre[2] = c->z;
    o->size[0] = c->size_x;
    o->size[1] = c->size_y;
    o->size[2] = c->size_z;
    o->id = c->iov.id;
  }
  for (size_t k = 0; k < r->ncalo_sections; ++k) {
    const na64_cond_calo_section *s = &r->calo_sections[k];
    na64_geom_detector *d = &g->detectors[detector_index(g, s->detector)];
    if (s->section >= NA64_GEOM_MAX_SECTIONS)
      return na64_err_set(err, NA64_ERANGE, "calo_sections row id %lld (%s): section = %d, at most %d are supported",
                          (long long)s->iov.id, s->name, s->section, NA64_GEOM_MAX_SECTIONS);
    na64_geom_section *o = &d->sections[s->section];
    if (s->section + 1 > d->nsections) d->nsections = s->section + 1;
    snprintf(o->name, sizeof o->name, "%s", s->name);
    o->z_offset = s->z_offset;
    o->length = s->length;
    o->nlayers = s->nlayers;
    o->absorber = material_index(g, s->absorber);
    o->active = material_index(g, s->active);
    o->absorber_thickness = s->absorber_thickness;
    o->active_thickness = s->active_thickness;
    /* depth of a sandwich = sum over layers of thickness / X0 (lambda_I): additive for thin layers */
    const na64_geom_material *ab = o->absorber >= 0 ? &g->materials[o->absorber] : NULL;
    const na64_geom_material *ac = &g->materials[o->active];
    o->depth_x0 = o->nlayers * ((ab ? o->absorber_thickness / ab->x0 : 0) + o->active_thickness / ac->x0);
    o->depth_lambda = o->nlayers * ((ab ? o->absorber_thickness / ab->lambda_i : 0) + o->active_thickness / ac->lambda_i);
  }
  return NA64_OK;
}

static int build_calibrations(na64_geom *g, const na64_cond_records *r, na64_err *err)
{
  for (size_t k = 0; k < r->nstraw_t0; ++k) {
    const na64_cond_straw_t0 *t = &r->straw_t0[k];
    na64_geom_plane *p = &g->planes[na64_geom_plane_index(g, t->plane)];
    p->t0[t->wire] = t->t0;
    p->nt0++;
  }
  for (size_t k = 0; k < r->nstraw_rt; ++k) {
    const na64_cond_straw_rt *rt = &r->straw_rt[k];
    na64_geom_plane *p = &g->planes[na64_geom_plane_index(g, rt->plane)];
    p->rt_t = malloc((size_t)rt->npoints * sizeof(double));
    p->rt_r = malloc((size_t)rt->npoints * sizeof(double));
    if (!p->rt_t || !p->rt_r) return na64_err_set(err, NA64_ENOMEM, "geometry: out of memory");
    memcpy(p->rt_t, rt->t, (size_t)rt->npoints * sizeof(double));
    memcpy(p->rt_r, rt->r, (size_t)rt->npoints * sizeof(double));
    p->rt_n = rt->npoints;
    p->sigma_r = rt->sigma_r;
  }
  for (size_t k = 0; k < r->nstrip_res; ++k) { /* the strip planes' resolution and material */
    const na64_cond_strip_resolution *sr = &r->strip_res[k];
    na64_geom_plane *p = &g->planes[na64_geom_plane_index(g, sr->plane)];
    p->has_response = 1;
    p->sigma_u = sr->sigma;
    p->x_x0 = sr->x_x0;
  }
  for (size_t k = 0; k < r->ncalo_calib; ++k) {
    const na64_cond_calo_calib *c = &r->calo_calib[k];
    na64_geom_cell *cell = (na64_geom_cell *)na64_geom_find_cell(g, c->detector, c->module, c->ix, c->iy);
    cell->has_calib[c->section] = 1;
    cell->gain[c->section] = c->gain;
    cell->ped_even[c->section] = c->ped_even;
    cell->ped_odd[c->section] = c->ped_odd;
  }
  return NA64_OK;
}

/* Largest dense table of one DAQ source (entries of 16 bytes): 1 Mi entries = 16 MiB. */
#define MAX_SOURCE_ENTRIES (1u << 20)

static int build_chanmap(na64_geom *g, const na64_cond_records *r, na64_err *err)
{
  na64_geom_chanmap *m = &g->chanmap;
  m->nmapped = r->nchannels;
  if (!r->nchannels) return NA64_OK;
  m->slot = calloc(65536, sizeof *m->slot);
  if (!m->slot) return na64_err_set(err, NA64_ENOMEM, "geometry: out of memory");
  /* records are sorted by (src_id, port, chip, channel): one pass finds each source's extent */
  size_t nsrc = 0;
  for (size_t k = 0; k < r->nchannels; ++k)
    if (k == 0 || r->channels[k].src_id != r->channels[k - 1].src_id) nsrc++;
  m->src = calloc(nsrc, sizeof *m->src);
  if (!m->src) return na64_err_set(err, NA64_ENOMEM, "geometry: out of memory");
  size_t total = 0;
  for (size_t k = 0; k < r->nchannels; ++k) {
    const na64_cond_channel *c = &r->channels[k];
    if (k == 0 || c->src_id != r->channels[k - 1].src_id) {
      m->src[m->nsrc].src_id = (uint32_t)c->src_id;
      m->slot[c->src_id] = (uint16_t)(m->nsrc + 1);
      m->nsrc++;
    }
    na64_geom_chansrc *s = &m->src[m->nsrc - 1];
    if ((uint32_t)c->port + 1 > s->nport) s->nport = (uint32_t)c->port + 1;
    if ((uint32_t)c->chip + 1 > s->nchip) s->nchip = (uint32_t)c->chip + 1;
    if ((uint32_t)c->channel + 1 > s->nchan) s->nchan = (uint32_t)c->channel + 1;
  }
  for (int i = 0; i < m->nsrc; ++i) {
    na64_geom_chansrc *s = &m->src[i];
    size_t size = (size_t)s->nport * s->nchip * s->nchan;
    if (size > MAX_SOURCE_ENTRIES)
      return na64_err_set(err, NA64_ERANGE,
                          "channel_map: source %u spans %u ports x %u chips x %u channels, more than %u entries",
                          s->src_id, s->nport, s->nchip, s->nchan, MAX_SOURCE_ENTRIES);
    s->offset = total;
    total += size;
  }
  m->entries = malloc(total * sizeof *m->entries);
  if (!m->entries) return na64_err_set(err, NA64_ENOMEM, "geometry: out of memory");
  m->nentries = total;
  for (size_t i = 0; i < total; ++i) m->entries[i] = (na64_geom_chan){-1, -1, -1, -1};
  for (size_t k = 0; k < r->nchannels; ++k) {
    const na64_cond_channel *c = &r->channels[k];
    const na64_geom_chansrc *s = &m->src[m->slot[c->src_id] - 1];
    na64_geom_chan *e = &m->entries[s->offset + ((size_t)c->port * s->nchip + (size_t)c->chip) * s->nchan + (size_t)c->channel];
    uint64_t key = na64_geom_key((uint32_t)c->src_id, (uint32_t)c->port, (uint32_t)c->chip, (uint32_t)c->channel);
    if (c->plane[0]) {
      e->plane = na64_geom_plane_index(g, c->plane);
      e->wire = c->wire;
      g->planes[e->plane].daq_key[c->wire] = key;
    } else {
      const na64_geom_cell *cell = na64_geom_find_cell(g, c->detector, c->module, c->ix, c->iy);
      e->cell = (int32_t)(cell - g->cells);
      e->section = c->section;
      g->cells[e->cell].daq_key[c->section] = key;
    }
  }
  return NA64_OK;
}

static int build(na64_geom *g, const na64_cond_records *r, na64_err *err)
{
  const na64_cond_run_info *ri = &r->runs[0];
  g->run = r->run;
  snprintf(g->setup, sizeof g->setup, "%s", ri->iov.setup);
  snprintf(g->mode, sizeof g->mode, "%s", ri->mode);
  snprintf(g->beam_particle, sizeof g->beam_particle, "%s", ri->beam_particle);
  g->year = ri->year < 0 ? 0 : ri->year;
  g->beam_energy = ri->beam_energy;
  g->eot = ri->eot;
  g->first_run = ri->iov.first_run;
  g->last_run = ri->iov.last_run;

  g->materials = calloc(r->nmaterials ? r->nmaterials : 1, sizeof *g->materials);
  if (!g->materials) return na64_err_set(err, NA64_ENOMEM, "geometry: out of memory");
  for (size_t i = 0; i < r->nmaterials; ++i) {
    na64_geom_material *m = &g->materials[i];
    snprintf(m->name, sizeof m->name, "%s", r->materials[i].name);
    m->density = r->materials[i].density;
    m->x0 = r->materials[i].x0;
    m->lambda_i = r->materials[i].lambda_i;
  }
  g->nmaterials = (int)r->nmaterials;

  NA64_CALL(build_detectors(g, r, err));
  NA64_CALL(build_planes(g, r, err));
  NA64_CALL(build_cells(g, r, err));

  g->magnets = calloc(r->nmagnets ? r->nmagnets : 1, sizeof *g->magnets);
  if (!g->magnets) return na64_err_set(err, NA64_ENOMEM, "geometry: out of memory");
  for (size_t i = 0; i < r->nmagnets; ++i) {
    const na64_cond_magnet *s = &r->magnets[i];
    na64_geom_magnet *m = &g->magnets[i];
    snprintf(m->name, sizeof m->name, "%s", s->name);
    m->centre[0] = s->x;
    m->centre[1] = s->y;
    m->centre[2] = s->z;
    m->length = s->length;
    m->field_integral = s->field_integral;
    m->field = s->field_integral / (s->length / 100.0); /* T*m over the length in m */
    m->aperture[0] = s->aperture_x;
    m->aperture[1] = s->aperture_y;
  }
  g->nmagnets = (int)r->nmagnets;
  qsort(g->magnets, r->nmagnets, sizeof *g->magnets, cmp_magnet_z);

  NA64_CALL(build_calibrations(g, r, err));
  return build_chanmap(g, r, err);
}

int na64_geom_load(na64_cond *db, int run, na64_geom **out, na64_err *err)
{
  if (!db || !out) return na64_err_set(err, NA64_EINVAL, "na64_geom_load: NULL argument");
  *out = NULL;
  if (run < 0) return na64_err_set(err, NA64_EINVAL, "na64_geom_load: run = %d is negative", run);
  na64_cond_records *r = NULL;
  NA64_CALL(na64_cond_fetch(db, run, &r, err));
  na64_geom *g = calloc(1, sizeof *g);
  int st = g ? build(g, r, err) : na64_err_set(err, NA64_ENOMEM, "geometry: out of memory");
  na64_cond_records_free(r);
  if (st != NA64_OK) {
    na64_err_prefix(err, "geometry of run %d", run);
    na64_geom_free(g);
    return st;
  }
  *out = g;
  return NA64_OK;
}

int na64_geom_load_path(const char *path, int run, na64_geom **out, na64_err *err)
{
  if (!out) return na64_err_set(err, NA64_EINVAL, "na64_geom_load_path: NULL output");
  *out = NULL;
  na64_cond *db = NULL;
  NA64_CALL(na64_cond_open(path, NA64_COND_READONLY, &db, err));
  int st = na64_geom_load(db, run, out, err);
  na64_cond_close(db);
  return st;
}
