/* `na64 dump FILE`: DATE raw-data events as a person reads them (headers, equipment blocks, every
 * payload word decoded), or `--summary`: one `key: value` line per count. Bad regions of a damaged
 * file go to stderr, one line each; they do not change the exit status (0), only a file that cannot
 * be opened does (1). Format: docs/raw-format.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "na64/daq.h"

static const char *dump_synopsis =
    "Print the events of a DATE raw-data file (plain or zstd-compressed): event headers, equipment\n"
    "blocks and every payload word decoded (F1 TDC times in TDC bins and ns relative to the trigger,\n"
    "SADC samples in ADC counts, APV amplitudes in ADC counts). With --summary, print counts only.\n"
    "Damaged regions are skipped and reported on stderr (offset in bytes and reason); exit status 0.\n"
    "Options and FILE may come in any order; -- ends the options (for a FILE starting with -).";

typedef struct dump_ctx {
  const char *path;
  uint64_t nregions;
} dump_ctx;

static void report_region(const na64_daq_region *g, void *user)
{
  dump_ctx *c = user;
  c->nregions++;
  if (g->frame_offset == NA64_DAQ_NO_FRAME)
    fprintf(stderr, "na64 dump: %s: bad region at offset %llu, %llu bytes skipped: %s (%s)\n", c->path,
            (unsigned long long)g->offset, (unsigned long long)g->length, na64_daq_reason_name(g->reason), g->detail);
  else
    fprintf(stderr,
            "na64 dump: %s: bad region at offset %llu of the zstd frame at file offset %llu, %llu bytes skipped: %s (%s)\n",
            c->path, (unsigned long long)g->offset, (unsigned long long)g->frame_offset,
            (unsigned long long)g->length, na64_daq_reason_name(g->reason), g->detail);
}

static void print_header(const na64_daq_event *ev, uint64_t index)
{
  const na64_daq_header *h = &ev->header;
  char when[64] = "?";
  time_t t = (time_t)h->time_sec;
  struct tm tmv;
  if (gmtime_r(&t, &tmv)) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tmv);
  printf("event %llu: %s (type %u), run %u, number in run %u, burst %u, number in burst %u\n",
         (unsigned long long)index, na64_daq_event_type_name(h->type), (unsigned)h->type, (unsigned)h->run,
         (unsigned)h->id[0], (unsigned)na64_daq_header_burst(h), (unsigned)na64_daq_header_nb_in_burst(h));
  if (ev->frame_offset == NA64_DAQ_NO_FRAME)
    printf("  at byte %llu, %u bytes (header %u), version %u.%u%s\n", (unsigned long long)ev->offset,
           (unsigned)h->size, (unsigned)h->head_size, (unsigned)(h->version >> 16), (unsigned)(h->version & 0xFFFF),
           ev->swapped ? ", byte-swapped in the file" : "");
  else
    printf("  at byte %llu of the zstd frame at file offset %llu, %u bytes (header %u), version %u.%u%s\n",
           (unsigned long long)ev->offset, (unsigned long long)ev->frame_offset, (unsigned)h->size,
           (unsigned)h->head_size, (unsigned)(h->version >> 16), (unsigned)(h->version & 0xFFFF),
           ev->swapped ? ", byte-swapped in the file" : "");
  printf("  trigger pattern %08x %08x %08x %08x, detector pattern %08x, attributes %08x %08x %08x\n",
         (unsigned)h->trigger_pattern[0], (unsigned)h->trigger_pattern[1], (unsigned)h->trigger_pattern[2],
         (unsigned)h->trigger_pattern[3], (unsigned)h->detector_pattern, (unsigned)h->type_attribute[0],
         (unsigned)h->type_attribute[1], (unsigned)h->type_attribute[2]);
  if (na64_daq_event_is_super(ev))
    printf("  super event of GDC %u with %u LDC sub-events, time %s.%06u UTC (%u s)\n", (unsigned)h->gdc_id,
           (unsigned)ev->nsubevents, when, (unsigned)h->time_usec, (unsigned)h->time_sec);
  else
    printf("  LDC %u, GDC %u, time %s.%06u UTC (%u s)\n", (unsigned)h->ldc_id, (unsigned)h->gdc_id, when,
           (unsigned)h->time_usec, (unsigned)h->time_sec);
}

/* The LDC level of a super event: one line per sub-event, before its equipment blocks. */
static void print_subevent(const na64_daq_subevent *s)
{
  const na64_daq_header *h = &s->header;
  printf("  LDC %u: sub-event %u at +%zu, %u bytes (header %u), version %u.%u, attributes %08x %08x %08x%s\n",
         (unsigned)h->ldc_id, (unsigned)s->index, s->offset, (unsigned)h->size, (unsigned)h->head_size,
         (unsigned)(h->version >> 16), (unsigned)(h->version & 0xFFFF), (unsigned)h->type_attribute[0],
         (unsigned)h->type_attribute[1], (unsigned)h->type_attribute[2],
         na64_daq_version_sizes_include_header(h->version) ? "" : ", equipment sizes exclude headers");
}

static void print_block(const na64_daq_equipment *eq, int words)
{
  const na64_daq_equipment_header *e = &eq->header;
  printf("  equipment %s (type %u), source id %u: equipmentSize %u, %zu payload words, format %u, unit %u, element %u bytes\n",
         na64_daq_equipment_type_name(e->type), (unsigned)e->type, (unsigned)e->id, (unsigned)e->size, eq->nwords,
         (unsigned)e->type_attribute[0], (unsigned)e->type_attribute[1], (unsigned)e->basic_element_size);
  if (!words) return;
  na64_daq_describer d;
  na64_daq_describer_init(&d, e);
  char line[256];
  for (size_t i = 0; i < eq->nwords; ++i) {
    if (e->type == NA64_DAQ_EQ_F1 || e->type == NA64_DAQ_EQ_SADC || e->type == NA64_DAQ_EQ_APV) {
      na64_daq_describe_word(&d, eq->words[i], line, sizeof line);
      printf("    [%5zu] %08x  %s\n", i, (unsigned)eq->words[i], line);
    } else {
      printf("    [%5zu] %08x\n", i, (unsigned)eq->words[i]);
    }
  }
}

typedef struct counts {
  uint64_t blocks, f1_hits, sadc_waveforms, apv_hits, decode_errors;
} counts;

/* Decode every known block of the event to count hits and layout errors. */
static void count_event(const na64_daq_event *ev, long equipment, counts *c, na64_daq_f1_hit **fh,
                        na64_daq_sadc_waveform **sw, na64_daq_apv_hit **ah, size_t *cap)
{
  size_t cur = 0;
  na64_daq_equipment eq;
  long expected = (long)na64_daq_header_nb_in_burst(&ev->header);
  while (na64_daq_event_next_equipment(ev, &cur, &eq)) {
    if (equipment >= 0 && eq.header.id != (uint32_t)equipment) continue;
    c->blocks++;
    if (eq.nwords > *cap) {
      size_t nc = eq.nwords;
      na64_daq_f1_hit *a = realloc(*fh, nc * sizeof **fh);
      if (a) *fh = a;
      na64_daq_sadc_waveform *b = realloc(*sw, nc * sizeof **sw);
      if (b) *sw = b;
      na64_daq_apv_hit *x = realloc(*ah, nc * sizeof **ah);
      if (x) *ah = x;
      if (!a || !b || !x) continue;
      *cap = nc;
    }
    size_t n = 0;
    na64_daq_decode_stats st = {0};
    switch (eq.header.type) {
    case NA64_DAQ_EQ_F1:
      na64_daq_f1_decode(&eq, expected, *fh, *cap, &n, &st, NULL);
      c->f1_hits += n;
      break;
    case NA64_DAQ_EQ_SADC:
      na64_daq_sadc_decode(&eq, *sw, *cap, &n, &st, NULL);
      c->sadc_waveforms += n;
      break;
    case NA64_DAQ_EQ_APV:
      na64_daq_apv_decode(&eq, expected & 0xFFF, *ah, *cap, &n, &st, NULL);
      c->apv_hits += n;
      break;
    default: break;
    }
    c->decode_errors += st.errors;
  }
}

int cmd_dump(int argc, char **argv)
{
  long max_events = -1, equipment = -1;
  int summary = 0, no_words = 0;
  cli_opt opts[] = {
      {"--events", OPT_INT, &max_events, 0, 1e15, 0, NULL, 0, "stop after this many events (count)", 0},
      {"--equipment", OPT_INT, &equipment, 0, 4294967295.0, 0, NULL, 0,
       "only equipment blocks with this equipmentId (DAQ source id), also in --summary", 0},
      {"--summary", OPT_FLAG, &summary, 1, 0, 0, NULL, 0,
       "print one `key: value` line per count (events by type, hits, bad regions, bytes)", 0},
      {"--no-words", OPT_FLAG, &no_words, 1, 0, 0, NULL, 0, "headers and equipment blocks only, no payload words", 0},
  };
  cli_cmd cmd = {.name = "dump", .args = "FILE", .synopsis = dump_synopsis, .opts = opts, .nopts = CLI_NOPTS(opts),
                 .pos_min = 1, .pos_max = 1};
  int st = cli_parse_args(&cmd, argc, argv);
  if (st) return st < 0 ? CLI_EXIT_OK : st;
  const char *path = cmd.pos[0];

  dump_ctx ctx = {path, 0};
  na64_daq_reader_options ro = {.on_region = report_region, .user = &ctx};
  na64_daq_reader *r;
  na64_err err;
  na64_err_clear(&err);
  if (na64_daq_reader_open(path, &ro, &r, &err) != NA64_OK) return cli_fail("dump", &err);

  counts c = {0};
  na64_daq_f1_hit *fh = NULL;
  na64_daq_sadc_waveform *sw = NULL;
  na64_daq_apv_hit *ah = NULL;
  size_t cap = 0;
  na64_daq_event ev;
  uint64_t n = 0;
  int rc = CLI_EXIT_OK;
  while (max_events < 0 || n < (uint64_t)max_events) {
    st = na64_daq_reader_next_event(r, &ev, &err);
    if (st == NA64_EEOF) break;
    if (st != NA64_OK) {
      rc = cli_fail("dump", &err);
      break;
    }
    if (summary) {
      count_event(&ev, equipment, &c, &fh, &sw, &ah, &cap);
    } else {
      print_header(&ev, n);
      size_t sc = 0;
      na64_daq_subevent sub;
      while (na64_daq_event_next_subevent(&ev, &sc, &sub)) {
        if (na64_daq_event_is_super(&ev)) print_subevent(&sub);
        size_t cur = 0;
        na64_daq_equipment eq;
        while (na64_daq_subevent_next_equipment(&sub, &cur, &eq))
          if (equipment < 0 || eq.header.id == (uint32_t)equipment) print_block(&eq, !no_words);
      }
    }
    ++n;
  }
  if (summary && rc == CLI_EXIT_OK) {
    na64_daq_reader_stats s;
    na64_daq_reader_get_stats(r, &s);
    printf("file: %s\n", path);
    printf("compressed: %d\n", s.compressed);
    printf("events: %llu\n", (unsigned long long)s.events);
    for (uint32_t t = 1; t < NA64_DAQ_N_EVENT_TYPES; ++t)
      printf("%s: %llu\n", na64_daq_event_type_name(t), (unsigned long long)s.by_type[t]);
    printf("unknown_type: %llu\n", (unsigned long long)s.by_type[0]);
    printf("swapped_events: %llu\n", (unsigned long long)s.swapped_events);
    printf("super_events: %llu\n", (unsigned long long)s.super_events);
    printf("ldc_subevents: %llu\n", (unsigned long long)s.ldc_subevents);
    printf("equipment_blocks: %llu\n", (unsigned long long)c.blocks);
    printf("f1_hits: %llu\n", (unsigned long long)c.f1_hits);
    printf("sadc_waveforms: %llu\n", (unsigned long long)c.sadc_waveforms);
    printf("apv_hits: %llu\n", (unsigned long long)c.apv_hits);
    printf("decode_errors: %llu\n", (unsigned long long)c.decode_errors);
    printf("bad_regions: %llu\n", (unsigned long long)s.regions);
    printf("bytes_read: %llu\n", (unsigned long long)s.bytes_read);
    printf("bytes_skipped: %llu\n", (unsigned long long)s.bytes_skipped);
    printf("bytes_decompressed: %llu\n", (unsigned long long)s.bytes_decompressed);
    printf("frames: %llu\n", (unsigned long long)s.frames);
    printf("bad_frames: %llu\n", (unsigned long long)s.bad_frames);
  }
  free(fh);
  free(sw);
  free(ah);
  na64_daq_reader_close(r);
  return rc;
}
