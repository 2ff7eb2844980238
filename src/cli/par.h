/*
 * The command's parallel layer (issue 15; docs/scaling.md): the only place that calls MPI. Built
 * with MPI (CMake option NA64_MPI, NA64_HAVE_MPI defined) and launched by mpirun or srun, the
 * ranks are MPI's; otherwise (no MPI, or a plain start) there is one rank and every call is
 * trivial, so the same commands run serially. libna64 itself never calls MPI.
 */
#ifndef NA64_CLI_PAR_H
#define NA64_CLI_PAR_H
#include <stddef.h>

#include "na64/core.h"

/* Start MPI if the process was launched by an MPI starter (mpirun, srun); idempotent. */
void par_init(void);
/* End MPI if par_init started it. */
void par_finalize(void);
int par_rank(void);
int par_size(void);
/* 1 on every rank if `failed` is non-zero on any rank (collective). */
int par_any(int failed);
/* Every rank's bytes to rank 0, in rank order: there *bufs[r] (malloc'ed, NUL-terminated) and
 * (*lens)[r] for r < par_size(); elsewhere *bufs = NULL. 0 on success (collective). */
int par_gather(const char *buf, size_t len, char ***bufs, size_t **lens);

/* "rank 0" .. "rank n-1", the names of the gathered texts in merge messages: one malloc'ed block
 * (free() it), NULL if out of memory. */
const char **par_rank_names(int n);
/* Free what par_gather returned on rank 0 (n = par_size()). */
void par_gather_free(char **bufs, size_t *lens, int n);

/* "K/N" of --part (batch job arrays) with 0 <= K < N <= 1e6: 0, or -1 if malformed. */
int par_parse_part(const char *spec, int *k, int *n);

/* `na64 run` on every rank (src/cli/cmd_merge.c): each rank runs its part of the job, rank 0
 * merges the parts and fills res (other ranks leave it untouched). Collective. */
struct na64_job_result;
int run_job_ranks(const char *card, double eot, struct na64_job_result *res, na64_err *err);
/* The same, each rank also writing the rows of its events to report_dir/events.h5 (one rank) or
 * report_dir/events_rank<K>.h5 (several; `na64 select` takes the list). report_dir NULL: none. */
int run_job_ranks_events(const char *card, double eot, const char *report_dir, struct na64_job_result *res,
                         na64_err *err);
/* `na64 run --part K/N --partial FILE`: one part of a batch job array. Returns a CLI exit status. */
int run_job_part(const char *card, const char *spec, const char *out_path);
/* `na64 run CARD --scan SECTION.KEY=v1,v2,...`: the job once per value, variation i on rank i mod N,
 * gathered and written by rank 0 in the order of the values (src/cli/run_scan.c). CLI exit status. */
int run_scan(const char *card, const char *spec, double eot, const char *report);

/* The visible job (aprime.decay: ee; src/cli/vis_scale.c): `na64 run` on every rank, rank 0 merging
 * the ranks' cut flows into res (the other ranks' res holds only the job's setup). Collective. */
struct na64_vis_job_result;
int run_vis_ranks(const char *card, double eot, struct na64_vis_job_result *res, na64_err *err);
/* `na64 run VISIBLE-CARD --part K/N --partial FILE`. CLI exit status. */
int run_vis_part(const char *card, double eot, const char *spec, const char *out_path);
/* `na64 merge` of visible partial-result files into the report in `report`, or into one partial-result
 * file `partial` (non-NULL). CLI exit status. */
int merge_vis(char **files, int n, const char *report, double eot, const char *partial);
/* The ranks' partial results to rank 0 (src/cli/cmd_merge.c): st is this rank's status so far and
 * text (len bytes, freed here) its part. A failure on any rank fails every rank (the others print
 * their own errors); then rank 0 holds every rank's text in *texts, *lens (free each, and both),
 * the other ranks NULL. Collective. */
int gather_rank_texts(int st, char *text, size_t len, char ***texts, size_t **lens, na64_err *err);
/* *visible: the partial-result files are the visible job's; refuses (CLI exit status != 0, naming
 * the files) a mixture of visible and invisible parts. */
int merge_kind(char **files, int n, int *visible);
#endif
