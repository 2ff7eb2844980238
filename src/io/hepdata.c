/*
 * HEPData YAML tables, written with libyaml's emitter (pyyaml.org/wiki/LibYAML) so that every
 * string is quoted and escaped as YAML requires (issue 8, item 1: "name: '$m_{A'}$'" written by hand
 * did not parse). Layout of the submission "data file" (hepdata.net/submission, "YAML data file";
 * github.com/HEPData/hepdata-submission, schemas/1.1.0/data_schema.json):
 *
 *   independent_variables:
 *   - header: {name: ..., units: ...}
 *     values:
 *     - {value: 1.5}
 *   dependent_variables:
 *   - header: {name: ..., units: ...}
 *     qualifiers:
 *     - {name: CL, value: 90%}
 *     values:
 *     - {value: 0.000123}
 *
 * Numbers are plain scalars printed with "%.10g" (the CSV outputs' precision) in the C locale
 * whatever the caller's locale (uselocale(3) on this thread only); NaN becomes '-', HEPData's marker
 * for a missing value. The file is written through na64_outfile: complete or not replaced.
 */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "core/c_locale.h"
#include "na64/io.h"

typedef struct emit {
  yaml_emitter_t em;
  yaml_event_t ev;
  int ok;
} emit;

static void put(emit *e)
{
  if (e->ok && !yaml_emitter_emit(&e->em, &e->ev)) e->ok = 0;
}

static void scalar(emit *e, const char *text, yaml_scalar_style_t style)
{
  if (!e->ok) return;
  if (!yaml_scalar_event_initialize(&e->ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text), 1, 1, style)) {
    e->ok = 0;
    return;
  }
  put(e);
}

static void map_begin(emit *e, int flow)
{
  if (!e->ok) return;
  if (!yaml_mapping_start_event_initialize(&e->ev, NULL, NULL, 1,
                                           flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE)) {
    e->ok = 0;
    return;
  }
  put(e);
}

static void map_end(emit *e)
{
  if (e->ok && yaml_mapping_end_event_initialize(&e->ev)) put(e);
  else e->ok = 0;
}

static void seq_begin(emit *e)
{
  if (!e->ok) return;
  if (!yaml_sequence_start_event_initialize(&e->ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE)) {
    e->ok = 0;
    return;
  }
  put(e);
}

static void seq_end(emit *e)
{
  if (e->ok && yaml_sequence_end_event_initialize(&e->ev)) put(e);
  else e->ok = 0;
}

/* key: 'string' -- text always quoted (a name like "1e10" or "yes" must stay text); libyaml escapes
 * quotes and falls back to double quotes where single quotes cannot hold the text */
static void pair_text(emit *e, const char *key, const char *value)
{
  scalar(e, key, YAML_PLAIN_SCALAR_STYLE);
  scalar(e, value ? value : "", YAML_SINGLE_QUOTED_SCALAR_STYLE);
}

static void write_header(emit *e, const na64_hepdata_var *v)
{
  scalar(e, "header", YAML_PLAIN_SCALAR_STYLE);
  map_begin(e, 1);
  pair_text(e, "name", v->name);
  if (v->units && v->units[0]) pair_text(e, "units", v->units);
  map_end(e);
}

static void write_values(emit *e, const double *values, int n)
{
  scalar(e, "values", YAML_PLAIN_SCALAR_STYLE);
  seq_begin(e);
  for (int i = 0; i < n; ++i) {
    map_begin(e, 1);
    scalar(e, "value", YAML_PLAIN_SCALAR_STYLE);
    if (isfinite(values[i])) {
      char num[40];
      snprintf(num, sizeof num, "%.10g", values[i]);
      scalar(e, num, YAML_PLAIN_SCALAR_STYLE);
    } else {
      scalar(e, "-", YAML_SINGLE_QUOTED_SCALAR_STYLE);
    }
    map_end(e);
  }
  seq_end(e);
}

static void write_document(emit *e, const na64_hepdata_var *indep, const na64_hepdata_var *dep, int ndep, int n,
                           const na64_hepdata_qualifier *qual, int nqual)
{
  if (yaml_stream_start_event_initialize(&e->ev, YAML_UTF8_ENCODING)) put(e);
  else e->ok = 0;
  if (e->ok && yaml_document_start_event_initialize(&e->ev, NULL, NULL, NULL, 1)) put(e);
  else e->ok = 0;
  map_begin(e, 0);
  scalar(e, "independent_variables", YAML_PLAIN_SCALAR_STYLE);
  seq_begin(e);
  map_begin(e, 0);
  write_header(e, indep);
  write_values(e, indep->values, n);
  map_end(e);
  seq_end(e);
  scalar(e, "dependent_variables", YAML_PLAIN_SCALAR_STYLE);
  seq_begin(e);
  for (int d = 0; d < ndep; ++d) {
    map_begin(e, 0);
    write_header(e, &dep[d]);
    if (nqual > 0) {
      scalar(e, "qualifiers", YAML_PLAIN_SCALAR_STYLE);
      seq_begin(e);
      for (int q = 0; q < nqual; ++q) {
        map_begin(e, 1);
        pair_text(e, "name", qual[q].name);
        pair_text(e, "value", qual[q].value);
        map_end(e);
      }
      seq_end(e);
    }
    write_values(e, dep[d].values, n);
    map_end(e);
  }
  seq_end(e);
  map_end(e);
  if (e->ok && yaml_document_end_event_initialize(&e->ev, 1)) put(e);
  else e->ok = 0;
  if (e->ok && yaml_stream_end_event_initialize(&e->ev)) put(e);
  else e->ok = 0;
}

int na64_hepdata_write(const char *path, const na64_hepdata_var *indep, const na64_hepdata_var *dep, int ndep, int n,
                       const na64_hepdata_qualifier *qual, int nqual, na64_err *err)
{
  if (!path || !indep || !dep || ndep < 1 || n < 0 || (n > 0 && !indep->values) || (nqual > 0 && !qual))
    return na64_err_set(err, NA64_EINVAL, "hepdata: invalid arguments");
  for (int d = 0; d < ndep; ++d)
    if (n > 0 && !dep[d].values) return na64_err_set(err, NA64_EINVAL, "hepdata: dependent variable %d has no values", d);
  na64_outfile *out = NULL;
  int st = na64_outfile_open(path, 0, &out, err);
  if (st != NA64_OK) {
    na64_err_prefix(err, "hepdata");
    return st;
  }
  emit e = {.ok = 1};
  if (!yaml_emitter_initialize(&e.em)) {
    na64_outfile_abort(out);
    return na64_err_set(err, NA64_ENOMEM, "hepdata: %s: cannot initialise the YAML emitter", path);
  }
  yaml_emitter_set_output_file(&e.em, na64_outfile_stream(out));
  yaml_emitter_set_unicode(&e.em, 1);
  yaml_emitter_set_width(&e.em, -1); /* no line folding inside long names */
  locale_t old = na64_c_locale_enter();
  write_document(&e, indep, dep, ndep, n, qual, nqual);
  if (e.ok && !yaml_emitter_flush(&e.em)) e.ok = 0;
  na64_c_locale_leave(old);
  char problem[160] = "";
  /* a failed write(2) leaves the stream's error flag set: commit then reports it with its errno */
  int write_failed = !e.ok && e.em.error == YAML_WRITER_ERROR && ferror(na64_outfile_stream(out));
  if (!e.ok && !write_failed) snprintf(problem, sizeof problem, "%s", e.em.problem ? e.em.problem : "YAML emitter error");
  yaml_emitter_delete(&e.em);
  if (problem[0]) {
    na64_outfile_abort(out);
    return na64_err_set(err, NA64_EIO, "hepdata: %s: %s: old file kept", path, problem);
  }
  st = na64_outfile_commit(out, err);
  if (st != NA64_OK) na64_err_prefix(err, "hepdata");
  return st;
}
