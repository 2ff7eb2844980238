/* The largest strip cluster of a plane in a raw event, for the tests of the strip response and the
 * track fit (tests/sim/test_strip_resolution.c, tests/reco/test_vis_momentum.c,
 * tests/reco/test_track_pulls.c): the APV blocks decoded, mapped through the run's channel map and
 * clustered by na64_strip_cluster_find, as the reconstruction does. Include after
 * support/na64_test.h, na64/daq.h and na64/reco.h (and support/vis_chain.h for vis_beam_events). */
#ifndef NA64_TEST_STRIP_RESIDUAL_H
#define NA64_TEST_STRIP_RESIDUAL_H
#include <math.h>
#include <string.h>

/* The number of clusters plane_cluster_u found in its last call. */
static int plane_cluster_count;

/* The strip clusters of plane `plane` in a raw event into cl[0..*nc) (cap 512); *nh the plane's hits. */
static inline void plane_clusters(const na64_geom *g, const na64_daq_event *ev, int plane, na64_strip_cluster cl[512],
                                  size_t *nc, size_t *nh_out)
{
  static na64_daq_apv_hit apv[4096];
  na64_strip_hit h[512];
  size_t nh = 0, cur = 0;
  na64_daq_equipment eq;
  while (na64_daq_event_next_equipment(ev, &cur, &eq)) {
    if (eq.header.type != NA64_DAQ_EQ_APV) continue;
    size_t got = 0;
    assert_int_equal(na64_daq_apv_decode(&eq, -1, apv, 4096, &got, NULL, NULL), NA64_OK);
    for (size_t k = 0; k < got && nh < 512; ++k) {
      const na64_geom_chan *c = na64_geom_chan_lookup(g, apv[k].source_id, 0, apv[k].chip, apv[k].channel);
      if (c && c->plane == plane) h[nh++] = (na64_strip_hit){plane, c->wire, apv[k].amp[1]};
    }
  }
  na64_strip_hits_sort(h, nh);
  *nc = 0;
  assert_int_equal(na64_strip_cluster_find(&g->planes[plane], h, nh, cl, 512, nc, NULL), NA64_OK);
  if (nh_out) *nh_out = nh;
}

/* The centroid u (cm, about the plane's centre) of the largest cluster of plane `plane`; NaN if none. */
static inline double plane_cluster_u(const na64_geom *g, const na64_daq_event *ev, int plane)
{
  na64_strip_cluster cl[512];
  size_t nc = 0;
  plane_clusters(g, ev, plane, cl, &nc, NULL);
  double best = 0.0, u = NAN;
  plane_cluster_count = (int)nc;
  for (size_t k = 0; k < nc; ++k)
    if (cl[k].q > best) best = cl[k].q, u = cl[k].u;
  return u;
}

/* The measured coordinate of a point (x, y) in plane pl's frame (u about its centre). */
static inline double plane_u_of(const na64_geom_plane *pl, double x, double y)
{
  return (x - pl->centre[0]) * pl->u_dir[0] + (y - pl->centre[1]) * pl->u_dir[1];
}

static inline int plane_index_of(const na64_geom *g, const char *name)
{
  for (int i = 0; i < g->nplanes; ++i)
    if (!strcmp(g->planes[i].name, name)) return i;
  fail_msg("no plane %s", name);
  return -1;
}

static inline int cmp_double_asc(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* half the width of the central 68% of q[0..n) (sorted in place) */
static inline double central68_of(double *q, int n)
{
  qsort(q, (size_t)n, sizeof *q, cmp_double_asc);
  return 0.5 * (q[(int)(0.84 * n)] - q[(int)(0.16 * n)]);
}

#ifdef NA64_TEST_VIS_CHAIN_H
/* n beam electrons of the visible chain (s, d) from the streams (seed, i) into truth[0..n), digitised
 * into one DATE buffer (*buf: free it) and a reader on it (*rd: close it). */
static inline void vis_beam_events(na64_vis_sim *s, na64_vis_digitizer *d, uint64_t seed, int n, na64_vis_sim_event *truth,
                                   void **buf, na64_daq_reader **rd)
{
  size_t len = 0;
  vis_chain_simulate(s, d, seed, n, 1, truth, buf, &len);
  assert_int_equal(na64_daq_reader_open_memory(*buf, len, "vis", NULL, rd, NULL), NA64_OK);
}
#endif
#endif
