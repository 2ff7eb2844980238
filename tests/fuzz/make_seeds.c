/* Writes the seed corpus of the DATE fuzz harness into the directory argv[1]: a small run of plain
 * events (version 3.14 and 3.1, the two equipmentSize conventions), byte-swapped, zstd-framed, one with
 * damage, bare payload blocks, and the same run as GDC super events of 3 LDC sub-events: plain,
 * byte-swapped, zstd-framed, and damaged (a lying sub-event size, a truncated-payload attribute, the
 * last event cut). Deterministic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/daq.h"

static void put(const char *dir, const char *name, const void *buf, size_t n)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(buf, 1, n, f) != n) {
    fprintf(stderr, "make_seeds: cannot write %s\n", path);
    exit(1);
  }
  fclose(f);
}

static void *run(int compress, int super, uint32_t version, size_t *n)
{
  static const na64_daq_ldc_entry ldcs[3] = {{612, 2}, {700, 3}, {800, 1}};
  na64_daq_writer_options o = {.compress = compress, .frame_events = 3, .plain_events = !super, .ldc_map = ldcs,
                               .nldc_map = 3};
  na64_daq_writer *w;
  na64_err err;
  if (na64_daq_writer_open_memory(&o, &w, &err)) exit(1);
  const uint32_t types[] = {1, 5, 7, 7, 7, 6, 2};
  for (uint32_t i = 0; i < 7; ++i) {
    na64_daq_header h;
    memset(&h, 0, sizeof h);
    h.type = types[i];
    h.run = 3000;
    h.id[0] = i;
    h.id[1] = NA64_DAQ_ID1(1, i);
    h.time_sec = 1530000000u + i;
    h.version = version;
    if (na64_daq_writer_begin_event(w, &h, &err)) exit(1);
    if (h.type == 7) {
      uint32_t words[64];
      size_t nw;
      na64_daq_f1_hit f[5];
      memset(f, 0, sizeof f);
      for (int k = 0; k < 5; ++k) {
        f[k].port = (uint8_t)(k % 3);
        f[k].chip = (uint8_t)(k % 2);
        f[k].channel = (uint8_t)k;
        f[k].trigger_units = 1000;
        f[k].time_units = (uint16_t)(1000 + 37 * k);
      }
      na64_daq_equipment_header eh = na64_daq_f1_equipment(612, 0.1289);
      if (na64_daq_f1_encode(f, 5, i, words, 64, &nw, &err) || na64_daq_writer_add_equipment(w, &eh, words, nw, &err))
        exit(1);
      static na64_daq_sadc_waveform s;
      memset(&s, 0, sizeof s);
      s.channel = 4;
      s.nsamples = 8;
      s.has_pedestals = 1;
      s.pedestal_even = 200;
      s.pedestal_odd = 190.5;
      for (int k = 0; k < 8; ++k) s.samples[k] = (uint16_t)(200 + 100 * (k == 4));
      eh = na64_daq_sadc_equipment(700, 12.5);
      if (na64_daq_sadc_encode(&s, 1, words, 64, &nw, &err) || na64_daq_writer_add_equipment(w, &eh, words, nw, &err))
        exit(1);
      na64_daq_apv_hit a[2];
      memset(a, 0, sizeof a);
      a[0].chip = 1;
      a[0].channel = 17;
      a[0].amp[1] = 300;
      a[1].chip = 2;
      a[1].channel = 18;
      a[1].amp[2] = 400;
      eh = na64_daq_apv_equipment(800, 25.0);
      if (na64_daq_apv_encode(a, 2, i, words, 64, &nw, &err) || na64_daq_writer_add_equipment(w, &eh, words, nw, &err))
        exit(1);
    }
    if (na64_daq_writer_end_event(w, &err)) exit(1);
  }
  void *buf;
  if (na64_daq_writer_close_memory(w, &buf, n, &err)) exit(1);
  return buf;
}

/* Every 32-bit word byte-swapped: the file as a machine of the other byte order writes it. */
static uint8_t *swapped(const uint8_t *p, size_t n)
{
  uint8_t *s = malloc(n);
  if (!s) exit(1);
  for (size_t i = 0; i < n; i += 4) {
    s[i] = p[i + 3];
    s[i + 1] = p[i + 2];
    s[i + 2] = p[i + 1];
    s[i + 3] = p[i];
  }
  return s;
}

static uint32_t rd32(const uint8_t *p)
{
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

static void super_seeds(const char *dir)
{
  size_t n, nz;
  uint8_t *v = run(0, 0, 0x00030001u, &n); /* equipmentSize = payload only */
  put(dir, "plain_v31.dat", v, n);
  free(v);
  uint8_t *p = run(0, 1, 0, &n);
  put(dir, "super.dat", p, n);
  uint8_t *s = swapped(p, n);
  put(dir, "super_swapped.dat", s, n);
  free(s);
  uint8_t *z = run(1, 1, 0, &nz);
  put(dir, "super_framed.dat.zst", z, nz);
  free(z);
  /* damage: event 2's first sub-event claims 4 bytes more, event 3's second sub-event carries
   * ATTR_EVENT_DATA_TRUNCATED (bit 30 of eventTypeAttribute[2]), the last event is cut */
  size_t off[16], k = 0;
  for (size_t q = 0; q < n && k < 16; q += rd32(p + q)) off[k++] = q;
  uint8_t *e = p + off[2] + 80;
  uint32_t v32 = rd32(e) + 4;
  memcpy(e, &v32, 4);
  e = p + off[3] + 80;
  e += rd32(e);
  v32 = rd32(e + 60) | (1u << 30);
  memcpy(e + 60, &v32, 4);
  put(dir, "super_damaged.dat", p, n - 30);
  free(p);
}

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: make_seeds DIR\n");
    return 2;
  }
  size_t n;
  uint8_t *p = run(0, 0, 0, &n);
  put(argv[1], "plain.dat", p, n);
  uint8_t *s = swapped(p, n);
  put(argv[1], "swapped.dat", s, n);
  /* damage: garbage after the first event, a wrong magic in the 4th event, the last event cut */
  uint8_t *d = malloc(n + 16);
  uint32_t first;
  memcpy(&first, p, 4);
  memcpy(d, p, first);
  memset(d + first, 0x5A, 9);
  memcpy(d + first + 9, p + first, n - first);
  d[first + 9 + 80 + 5] ^= 0xFF;
  put(argv[1], "damaged.dat", d, n + 9 - 20);
  size_t nz;
  uint8_t *z = run(1, 0, 0, &nz);
  put(argv[1], "framed.dat.zst", z, nz);
  super_seeds(argv[1]);
  /* bare payload blocks: the words of the 3rd event's blocks */
  put(argv[1], "payload.bin", p + 2 * 80 + 80 + 28, 64);
  free(p);
  free(s);
  free(d);
  free(z);
  return 0;
}
