/* The command's parallel layer: MPI when built with it and launched by an MPI starter (par.h). */
#include "cli/par.h"

#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int par_parse_part(const char *spec, int *k, int *n)
{
  char *end = NULL;
  errno = 0;
  long a = strtol(spec, &end, 10);
  if (errno || end == spec || *end != '/') return -1;
  const char *s2 = end + 1;
  long b = strtol(s2, &end, 10);
  if (errno || end == s2 || *end || b < 1 || b > 1000000 || a < 0 || a >= b) return -1;
  *k = (int)a;
  *n = (int)b;
  return 0;
}

/* One rank: a copy of its own bytes. */
static int gather_self(const char *buf, size_t len, char ***bufs, size_t **lens)
{
  char **b = malloc(sizeof *b);
  size_t *l = malloc(sizeof *l);
  char *c = malloc(len + 1);
  if (!b || !l || !c) {
    free(b), free(l), free(c);
    return -1;
  }
  memcpy(c, buf, len);
  c[len] = '\0';
  b[0] = c;
  l[0] = len;
  *bufs = b;
  *lens = l;
  return 0;
}

#ifdef NA64_HAVE_MPI
#include <mpi.h>

static int started, rank_, size_ = 1;

/* Open MPI's mpirun (OMPI_COMM_WORLD_SIZE), PMIx starters (PMIX_RANK) and PMI-1/2 ones such as
 * srun and MPICH's hydra (PMI_RANK, PMI_SIZE): only then is MPI started, so a plain `na64 run`
 * does not pay for (or depend on) MPI's singleton start-up. */
static int launched_by_mpi(void)
{
  const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; ++i)
    if (getenv(vars[i])) return 1;
  return 0;
}

void par_init(void)
{
  if (started || !launched_by_mpi()) return;
  if (MPI_Init(NULL, NULL) != MPI_SUCCESS) return;
  started = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

void par_finalize(void)
{
  if (started) MPI_Finalize();
  started = 0;
  rank_ = 0;
  size_ = 1;
}

int par_rank(void) { return rank_; }
int par_size(void) { return size_; }

int par_any(int failed)
{
  if (!started) return failed != 0;
  int in = failed != 0, out = 0;
  MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
  return out;
}

int par_gather(const char *buf, size_t len, char ***bufs, size_t **lens)
{
  *bufs = NULL;
  *lens = NULL;
  if (!started) return gather_self(buf, len, bufs, lens);
  if (len > INT32_MAX) return -1; /* MPI counts are int: a partial result is a few kB */
  int n = (int)len, *counts = NULL, *displs = NULL;
  char *all = NULL;
  if (rank_ == 0) {
    counts = calloc((size_t)size_, sizeof *counts);
    displs = calloc((size_t)size_, sizeof *displs);
  }
  MPI_Gather(&n, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
  long long total = 0;
  if (rank_ == 0) {
    for (int r = 0; r < size_; ++r) {
      displs[r] = (int)total;
      total += counts[r];
    }
    all = malloc((size_t)total + 1);
  }
  MPI_Gatherv(buf, n, MPI_CHAR, all, counts, displs, MPI_CHAR, 0, MPI_COMM_WORLD);
  int st = 0;
  if (rank_ == 0) {
    char **b = calloc((size_t)size_, sizeof *b);
    size_t *l = calloc((size_t)size_, sizeof *l);
    for (int r = 0; b && l && all && r < size_; ++r) {
      b[r] = malloc((size_t)counts[r] + 1);
      if (!b[r]) break;
      memcpy(b[r], all + displs[r], (size_t)counts[r]);
      b[r][counts[r]] = '\0';
      l[r] = (size_t)counts[r];
    }
    st = !b || !l || !all || !b[size_ - 1] ? -1 : 0;
    if (st && b)
      for (int r = 0; r < size_; ++r) free(b[r]);
    if (st) {
      free(b);
      free(l);
    } else {
      *bufs = b;
      *lens = l;
    }
  }
  free(all);
  free(counts);
  free(displs);
  return st;
}

#else /* without MPI: one rank */

void par_init(void) {}
void par_finalize(void) {}
int par_rank(void) { return 0; }
int par_size(void) { return 1; }
int par_any(int failed) { return failed != 0; }

int par_gather(const char *buf, size_t len, char ***bufs, size_t **lens)
{
  *bufs = NULL;
  *lens = NULL;
  return gather_self(buf, len, bufs, lens);
}
#endif

const char **par_rank_names(int n)
{
  enum { NAME_LEN = 24 }; /* "rank " and an int */
  size_t ptrs = (size_t)n * sizeof(const char *);
  const char **names = malloc(ptrs + (size_t)n * NAME_LEN);
  if (!names) return NULL;
  char *text = (char *)names + ptrs;
  for (int r = 0; r < n; ++r) {
    snprintf(text + (size_t)r * NAME_LEN, NAME_LEN, "rank %d", r);
    names[r] = text + (size_t)r * NAME_LEN;
  }
  return names;
}

void par_gather_free(char **bufs, size_t *lens, int n)
{
  if (bufs)
    for (int r = 0; r < n; ++r) free(bufs[r]);
  free(bufs);
  free(lens);
}
