/*
 * na64/daq.h — DATE raw data: event writer and reader, equipment blocks, and the payload codecs of
 * the NA64 detectors (F1-TDC words of the straw tubes, sampling-ADC waveforms of calorimeters and
 * counters, APV strip amplitudes of Micromegas/GEM).
 *
 * The byte layout of everything in this header is specified in docs/raw-format.md. The event and
 * equipment headers follow the DATE v3.14 event.h structures (eventHeaderStruct, 80 bytes;
 * equipmentHeaderStruct, 28 bytes; magic 0xDA1E5AFE); the payload words are this project's own
 * layout in the spirit of the COMPASS DaqDataDecoding chips (ChipF1, ChipSADC, ChipAPV).
 *
 * Events come as DATE event builders write them: plain events (equipment blocks right after the
 * header) or GDC super events (SUPER_EVENT attribute) whose payload is a sequence of LDC sub-events,
 * each a complete event header followed by that LDC's equipment blocks. The meaning of equipmentSize
 * depends on the eventVersion of the (sub-)event that holds the block: payload only up to version 3.1,
 * header included from 3.2 on (DATE event.h; ALICE AliRawReaderDate::GetEquipmentSize). The iterators
 * below hide both differences: decoders see equipment blocks whatever the nesting.
 *
 * Reading never trusts the file: an event whose outer header is sane (magic, sizes, followed by the
 * end of the data or by another magic) but whose inside is damaged is reported as one bad region of
 * exactly that event; after a damaged outer header the reader resynchronises on the next magic. Every
 * bad byte range is reported (offset, length, reason) and every intact event is still delivered.
 * Files may be compressed with zstd in independent frames; a damaged frame costs only its events.
 * Pipes, devices and zstd frames of any size are streamed through a bounded window.
 */
#ifndef NA64_DAQ_H
#define NA64_DAQ_H

#include <stddef.h>
#include <stdint.h>

#include "na64/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * DATE event and equipment headers
 * ------------------------------------------------------------------------------------------- */

#define NA64_DAQ_MAGIC 0xDA1E5AFEu         /* eventMagic as written in native byte order */
#define NA64_DAQ_MAGIC_SWAPPED 0xFE5A1EDAu /* the same magic read from a byte-swapped file */
#define NA64_DAQ_HEADER_SIZE 80u           /* EVENT_HEAD_BASE_SIZE of DATE v3.14 */
#define NA64_DAQ_EQUIPMENT_HEADER_SIZE 28u /* sizeof(equipmentHeaderStruct) */
#define NA64_DAQ_VERSION 0x0003000Eu       /* eventVersion: major 3 << 16 | minor 14 */
/* eventVersion up to this one: equipmentSize counts the payload only; later versions (3.2 on): the
 * whole block, its 28-byte header included (ALICE AliRawReaderDate::GetEquipmentSize). */
#define NA64_DAQ_VERSION_PAYLOAD_SIZES 0x00030001u
#define NA64_DAQ_VOID_ID 0xFFFFFFFFu /* VOID_ID of event.h: "unloaded" LDC/GDC id (the LDC id of a super event) */

/* System attributes: bits of eventTypeAttribute[2] (attribute number - 64, event.h ATTR_*). */
#define NA64_DAQ_ATTR_SWAPPED (1u << 2)          /* 66 ATTR_EVENT_SWAPPED (shown; the byte order is
                                                    decided from the magic) */
#define NA64_DAQ_ATTR_SUPER_EVENT (1u << 4)      /* 68 ATTR_SUPER_EVENT: payload = LDC sub-events */
#define NA64_DAQ_ATTR_DATA_TRUNCATED (1u << 30)  /* 94 ATTR_EVENT_DATA_TRUNCATED: payload truncated */
#define NA64_DAQ_ATTR_EVENT_ERROR (1u << 31)     /* 95 ATTR_EVENT_ERROR: invalid event content */

/* 1 if equipmentSize includes the equipment header in a (sub-)event of this eventVersion. */
static inline int na64_daq_version_sizes_include_header(uint32_t version)
{
  return version > NA64_DAQ_VERSION_PAYLOAD_SIZES;
}

/* eventType values of DATE event.h */
enum {
  NA64_DAQ_START_OF_RUN = 1,
  NA64_DAQ_END_OF_RUN = 2,
  NA64_DAQ_START_OF_RUN_FILES = 3,
  NA64_DAQ_END_OF_RUN_FILES = 4,
  NA64_DAQ_START_OF_BURST = 5,
  NA64_DAQ_END_OF_BURST = 6,
  NA64_DAQ_PHYSICS_EVENT = 7,
  NA64_DAQ_CALIBRATION_EVENT = 8,
  NA64_DAQ_EVENT_FORMAT_ERROR = 9,
  NA64_DAQ_START_OF_DATA = 10,
  NA64_DAQ_END_OF_DATA = 11,
  NA64_DAQ_SYSTEM_SOFTWARE_TRIGGER_EVENT = 12,
  NA64_DAQ_DETECTOR_SOFTWARE_TRIGGER_EVENT = 13,
  NA64_DAQ_SYNC_EVENT = 14,
  NA64_DAQ_N_EVENT_TYPES = 15 /* types 1..14 are known; 0 and >= 15 count as "unknown" */
};

/* The 80-byte event header, field for field in file order (20 32-bit words). */
typedef struct na64_daq_header {
  uint32_t size;                /* eventSize: whole event in bytes, header included */
  uint32_t magic;               /* eventMagic: NA64_DAQ_MAGIC */
  uint32_t head_size;           /* eventHeadSize: >= 80; bytes beyond 80 are a header extension */
  uint32_t version;             /* eventVersion: NA64_DAQ_VERSION */
  uint32_t type;                /* eventType: NA64_DAQ_PHYSICS_EVENT, ... */
  uint32_t run;                 /* eventRunNb */
  uint32_t id[2];               /* eventId: [0] number in run, [1] burst << 20 | number in burst */
  uint32_t trigger_pattern[4];  /* eventTriggerPattern */
  uint32_t detector_pattern;    /* eventDetectorPattern[1] */
  uint32_t type_attribute[3];   /* eventTypeAttribute */
  uint32_t ldc_id;              /* eventLdcId */
  uint32_t gdc_id;              /* eventGdcId */
  uint32_t time_sec;            /* eventTimestampSec (Unix time) */
  uint32_t time_usec;           /* eventTimestampUsec */
} na64_daq_header;

/* eventId[1] packs the burst (spill) number into 12 bits and the number in burst into 20 bits. */
#define NA64_DAQ_ID1(burst, nb_in_burst) ((((uint32_t)(burst)&0xFFFu) << 20) | ((uint32_t)(nb_in_burst)&0xFFFFFu))
static inline uint32_t na64_daq_header_burst(const na64_daq_header *h) { return (h->id[1] >> 20) & 0xFFFu; }
static inline uint32_t na64_daq_header_nb_in_burst(const na64_daq_header *h) { return h->id[1] & 0xFFFFFu; }

/* Name of an event type as used by `na64 dump --summary` ("physics", "start_of_burst", ...);
 * "unknown" for types outside 1..14. */
NA64_API const char *na64_daq_event_type_name(uint32_t type);

/* The 28-byte equipment header. `size` is equipmentSize as in the file: the payload bytes for
 * eventVersion <= 3.1, payload + 28 header bytes for later versions; use na64_daq_equipment.nwords. */
typedef struct na64_daq_equipment_header {
  uint32_t size;               /* equipmentSize (see above; writers set it from the event version) */
  uint32_t type;               /* equipmentType: NA64_DAQ_EQ_F1, NA64_DAQ_EQ_SADC, NA64_DAQ_EQ_APV, ... */
  uint32_t id;                 /* equipmentId: the DAQ source id of the module */
  uint32_t type_attribute[3];  /* [0] payload format version, [1] time unit (see the codecs), [2] 0 */
  uint32_t basic_element_size; /* equipmentBasicElementSize: 4 (32-bit words) */
} na64_daq_equipment_header;

/* equipmentType values of this project (docs/raw-format.md §3). */
enum {
  NA64_DAQ_EQ_RAW = 0,  /* opaque 32-bit words */
  NA64_DAQ_EQ_F1 = 1,   /* F1-TDC words (straw tubes) */
  NA64_DAQ_EQ_SADC = 2, /* sampling-ADC waveforms (ECAL, HCAL, SRD, veto, counters) */
  NA64_DAQ_EQ_APV = 3   /* APV25 strip amplitudes (Micromegas, GEM) */
};
#define NA64_DAQ_PAYLOAD_FORMAT 1u /* type_attribute[0] of the blocks written by this version */

/* ---------------------------------------------------------------------------------------------
 * Events as delivered by the reader, and their equipment blocks
 * ------------------------------------------------------------------------------------------- */

#define NA64_DAQ_NO_FRAME UINT64_MAX

typedef struct na64_daq_event {
  na64_daq_header header; /* decoded, native byte order */
  const uint8_t *data;    /* the whole event (header + payload), native order, 4-byte aligned;
                             valid until the next call on the reader */
  size_t size;            /* == header.size */
  uint64_t offset;        /* byte offset of the event: in the file (plain files) or in the
                             decompressed data of its zstd frame (compressed files) */
  uint64_t frame_offset;  /* file offset of its zstd frame; NA64_DAQ_NO_FRAME for plain files */
  int swapped;            /* 1 if the event was byte-swapped in the file (and has been swapped back) */
  uint32_t nsubevents;    /* LDC sub-events of a super event; 0 for a plain event */
} na64_daq_event;

/* 1 if the event is a GDC super event (SUPER_EVENT attribute). */
static inline int na64_daq_event_is_super(const na64_daq_event *ev)
{
  return (ev->header.type_attribute[2] & NA64_DAQ_ATTR_SUPER_EVENT) != 0;
}

/* One LDC sub-event of a super event (or, for a plain event, the event itself). */
typedef struct na64_daq_subevent {
  na64_daq_header header; /* its own header: eventLdcId, eventHeadSize, eventVersion, ... */
  const uint8_t *data;    /* the sub-event (header + equipment blocks), inside the event's data */
  size_t size;            /* == header.size */
  size_t offset;          /* byte offset in the event */
  uint32_t index;         /* 0, 1, ... in the event */
} na64_daq_subevent;

typedef struct na64_daq_equipment {
  na64_daq_equipment_header header; /* as in the file (header.size: see na64_daq_equipment_header) */
  const uint32_t *words; /* payload, native order */
  size_t nwords;         /* payload words */
  uint32_t ldc_id;       /* eventLdcId of the (sub-)event holding the block */
  uint32_t subevent;     /* index of that LDC sub-event (0 in a plain event) */
  size_t offset;         /* byte offset of the block's header in the event */
} na64_daq_equipment;

/* Iterate the equipment blocks of an event, plain or super (all LDC sub-events in order): set
 * *cursor = 0, then call until it returns 0. Returns 1 and fills *eq for each block; 0 at the end or
 * if the next block would overrun its (sub-)event (events delivered by the reader have been checked,
 * so this only matters for hand-made ones). equipmentSize is read by the convention of the version of
 * the (sub-)event that holds the block. */
NA64_API int na64_daq_event_next_equipment(const na64_daq_event *ev, size_t *cursor, na64_daq_equipment *eq);
/* Iterate the LDC sub-events of a super event (a plain event yields itself once, index 0). Same
 * cursor protocol; 0 at the end or at a sub-event that would overrun the event. */
NA64_API int na64_daq_event_next_subevent(const na64_daq_event *ev, size_t *cursor, na64_daq_subevent *sub);
/* Iterate the equipment blocks of one sub-event (same cursor protocol). */
NA64_API int na64_daq_subevent_next_equipment(const na64_daq_subevent *sub, size_t *cursor,
                                              na64_daq_equipment *eq);

/* ---------------------------------------------------------------------------------------------
 * Reader
 * ------------------------------------------------------------------------------------------- */

/* Why a byte range was skipped. */
typedef enum na64_daq_reason {
  NA64_DAQ_BAD_MAGIC = 1,     /* no event magic where an event must start: garbage, wrong magic */
  NA64_DAQ_BAD_HEADER = 2,    /* magic found but eventHeadSize / eventSize impossible */
  NA64_DAQ_BAD_SIZE = 3,      /* eventSize disagrees with the data: an intact event starts inside
                                 the claimed extent (size field too large, or a truncated event) */
  NA64_DAQ_TRUNCATED = 4,     /* the event runs past the end of the file (or of its frame) */
  NA64_DAQ_BAD_EQUIPMENT = 5, /* the equipment blocks do not tile the payload exactly */
  NA64_DAQ_BAD_FRAME = 6,     /* compressed files: a zstd frame that cannot be decoded, or bytes
                                 between frames that are not a frame */
  NA64_DAQ_BAD_SUBEVENT = 7,  /* super event: the LDC sub-events do not tile the payload exactly, or
                                 one has an impossible header */
  NA64_DAQ_FLAGGED = 8        /* the event or one of its sub-events carries the truncated-payload (94)
                                 or event-error (95) attribute: its payload is not trusted */
} na64_daq_reason;
NA64_API const char *na64_daq_reason_name(int reason); /* "bad_magic", "bad_header", ... */

typedef struct na64_daq_region {
  uint64_t offset;       /* first skipped byte: file offset, or offset in the decompressed data of
                            the frame at frame_offset when frame_offset != NA64_DAQ_NO_FRAME */
  uint64_t length;       /* bytes skipped (in the same space as offset) */
  uint64_t frame_offset; /* NA64_DAQ_NO_FRAME for plain files and for whole damaged frames */
  int reason;            /* na64_daq_reason */
  char detail[160];      /* what was found there, e.g. "eventSize 1024 < eventHeadSize 80" */
} na64_daq_region;

typedef void (*na64_daq_region_fn)(const na64_daq_region *region, void *user);

typedef struct na64_daq_reader_options {
  size_t max_event_size;  /* events claiming more bytes are bad (0: 64 MiB) */
  size_t max_frame_size;  /* zstd frames up to this size are decoded whole (their checksum checked)
                             before their events are delivered; larger frames, of any size, are
                             streamed through a window of this size (0: 64 MiB) */
  size_t stream_window;   /* files, pipes and devices are read through a window of this many bytes,
                             grown only to hold one event and its successor's magic (0: 1 MiB);
                             small values let tests stream with little data */
  size_t max_regions;     /* regions kept for na64_daq_reader_regions (0: 10000; all are counted) */
  na64_daq_region_fn on_region; /* called for every bad region as it is found (may be NULL) */
  void *user;
} na64_daq_reader_options;

typedef struct na64_daq_reader_stats {
  uint64_t events;                               /* events delivered */
  uint64_t by_type[NA64_DAQ_N_EVENT_TYPES];      /* events per eventType (index 0: unknown types) */
  uint64_t swapped_events;                       /* delivered events that were byte-swapped */
  uint64_t regions;                              /* bad regions found */
  uint64_t bytes_read;                           /* file bytes consumed so far (== file size at EOF) */
  uint64_t bytes_skipped;                        /* bytes inside bad regions (each in its own space) */
  uint64_t bytes_decompressed;                   /* compressed files: bytes produced by good frames */
  uint64_t frames;                               /* compressed files: frames decoded */
  uint64_t bad_frames;                           /* compressed files: frames that failed */
  int compressed;                                /* 1 if the file is zstd-compressed */
  uint64_t super_events;                         /* delivered events that are super events */
  uint64_t ldc_subevents;                        /* LDC sub-events in the delivered super events */
  uint64_t buffer_peak;                          /* largest window allocated (streamed input and
                                                    decompressed frames): the reader's memory bound */
  int streamed;                                  /* 1 if read through the window (files, pipes), 0 in memory */
} na64_daq_reader_stats;

typedef struct na64_daq_reader na64_daq_reader;

/* Open a DATE file, plain or zstd-compressed (detected from the first four bytes). Whatever it is
 * (file, pipe, FIFO, device), it is read through a bounded window, never whole and never mapped (a
 * mapped file that shrinks under the reader would raise SIGBUS). opt may be NULL for the defaults.
 * Fails with NA64_EIO and a message naming the file if it cannot be opened. */
NA64_API int na64_daq_reader_open(const char *path, const na64_daq_reader_options *opt, na64_daq_reader **out,
                         na64_err *err);
/* The same on bytes in memory, which must stay valid and unchanged until close. `name` is used in
 * messages (may be NULL). */
NA64_API int na64_daq_reader_open_memory(const void *data, size_t size, const char *name,
                                const na64_daq_reader_options *opt, na64_daq_reader **out, na64_err *err);
/* The next intact event. Returns NA64_OK, NA64_EEOF at the end of the data, or NA64_ENOMEM. Damage
 * is never an error: it is skipped, reported through the callback and the region list. */
NA64_API int na64_daq_reader_next_event(na64_daq_reader *r, na64_daq_event *ev, na64_err *err);
/* Continue at the first event (plain) or frame (compressed) that starts at or after file offset
 * `offset`; the bytes passed over are not reported as bad. Returns NA64_OK or NA64_EEOF (NA64_EINVAL
 * on a streamed input). Lets several workers share one file, each starting at its own offset. */
NA64_API int na64_daq_reader_seek(na64_daq_reader *r, uint64_t offset, na64_err *err);
/* Bad regions found so far (at most max_regions kept; stats.regions counts all). */
NA64_API const na64_daq_region *na64_daq_reader_regions(const na64_daq_reader *r, size_t *n);
NA64_API void na64_daq_reader_get_stats(const na64_daq_reader *r, na64_daq_reader_stats *stats);
NA64_API const char *na64_daq_reader_name(const na64_daq_reader *r);
NA64_API void na64_daq_reader_close(na64_daq_reader *r);

/* ---------------------------------------------------------------------------------------------
 * Writer
 * ------------------------------------------------------------------------------------------- */

/* Which LDC reads a DAQ source (equipmentId): the event builder's grouping of the equipment. */
typedef struct na64_daq_ldc_entry {
  uint32_t source_id;
  uint32_t ldc_id;
} na64_daq_ldc_entry;

typedef struct na64_daq_writer_options {
  int compress;        /* 1: zstd frames; 0: uncompressed DATE events */
  int level;           /* zstd level (0: 3) */
  size_t frame_bytes;  /* end a frame once it holds this many uncompressed bytes (0: 1 MiB) */
  size_t frame_events; /* ... or this many events (0: no limit) */
  int plain_events;    /* 1: plain events (blocks right after the event header), for tests; 0: GDC
                          super events of one LDC sub-event per LDC, as DATE event builders write */
  const na64_daq_ldc_entry *ldc_map; /* source id -> LDC id (copied at open); may be NULL */
  size_t nldc_map;
  uint32_t default_ldc; /* LDC of the sources missing from ldc_map */
} na64_daq_writer_options;

struct na64_cond_records;
/* The LDC grouping of the DAQ sources from the channel-map records of the conditions database (the
 * ldc_id column; records without one are skipped). *map is malloc'd (free() it), sorted by source id;
 * NA64_EFORMAT if one source is given two LDC ids. */
NA64_API int na64_daq_ldc_map_from_cond(const struct na64_cond_records *rec, na64_daq_ldc_entry **map, size_t *n,
                                        na64_err *err);

typedef struct na64_daq_writer na64_daq_writer;

/* Open a file for writing (truncated). opt may be NULL (plain). */
NA64_API int na64_daq_writer_open(const char *path, const na64_daq_writer_options *opt, na64_daq_writer **out,
                         na64_err *err);
/* Write into a growing memory buffer instead; get it with na64_daq_writer_close_memory. */
NA64_API int na64_daq_writer_open_memory(const na64_daq_writer_options *opt, na64_daq_writer **out, na64_err *err);

/* Build an event: begin (header fields copied; size, magic and head_size are set by the writer, and
 * version if it is 0), add equipment blocks (eh->size is set from nwords by the convention of the
 * version: header included from 3.2 on), end. Unless plain_events, end writes a super event: the GDC
 * header (SUPER_EVENT attribute, eventLdcId = NA64_DAQ_VOID_ID), then per LDC (ascending id) a
 * sub-event header (the event's fields with that eventLdcId) and its blocks in the order added. */
NA64_API int na64_daq_writer_begin_event(na64_daq_writer *w, const na64_daq_header *h, na64_err *err);
NA64_API int na64_daq_writer_add_equipment(na64_daq_writer *w, const na64_daq_equipment_header *eh,
                                  const uint32_t *words, size_t nwords, na64_err *err);
/* The same block built in place (no staging copy): reserve room for at most max_words payload words
 * of source source_id and get where to write them (valid until the next call on w), then commit the
 * block with its header (eh->id = source_id) and the nwords <= max_words words written. The bytes
 * are those add_equipment writes for the same words. One reservation at a time: reserve, add_equipment
 * or end_event while a reserved block awaits its commit fail with NA64_EINVAL (end_event then drops
 * the event). */
NA64_API int na64_daq_writer_reserve_equipment(na64_daq_writer *w, uint32_t source_id, size_t max_words,
                                               uint32_t **words, na64_err *err);
NA64_API int na64_daq_writer_commit_equipment(na64_daq_writer *w, const na64_daq_equipment_header *eh,
                                              size_t nwords, na64_err *err);
NA64_API int na64_daq_writer_end_event(na64_daq_writer *w, na64_err *err);
/* Write a complete event in native byte order (e.g. one delivered by a reader); it is checked
 * (magic, sizes, equipment tiling) and rejected with NA64_EFORMAT if malformed. */
NA64_API int na64_daq_writer_write_event(na64_daq_writer *w, const void *event, size_t size, na64_err *err);
/* End the current zstd frame (no-op for plain files) and push buffered bytes to the file. */
NA64_API int na64_daq_writer_flush(na64_daq_writer *w, na64_err *err);
/* Bytes written so far (file bytes, after compression), events and frames. */
NA64_API uint64_t na64_daq_writer_bytes(const na64_daq_writer *w);
NA64_API uint64_t na64_daq_writer_events(const na64_daq_writer *w);
NA64_API uint64_t na64_daq_writer_frames(const na64_daq_writer *w);
/* Flush, close and free. Returns the first error met (the writer is freed anyway). */
NA64_API int na64_daq_writer_close(na64_daq_writer *w, na64_err *err);
/* Memory writers: flush, hand over the buffer (free() it) and free the writer. */
NA64_API int na64_daq_writer_close_memory(na64_daq_writer *w, void **data, size_t *size, na64_err *err);

/* ---------------------------------------------------------------------------------------------
 * Payload codecs. Decoders are tolerant: words that break the layout are skipped and counted,
 * everything else is still decoded; they then return NA64_EFORMAT with a message naming the
 * source id, word index and value of the first problem (output and stats are valid anyway).
 * ------------------------------------------------------------------------------------------- */

typedef struct na64_daq_decode_stats {
  size_t words;          /* payload words examined */
  size_t items;          /* hits / waveforms produced */
  size_t errors;         /* layout violations (bad words, missing headers/trailers, count mismatches) */
  size_t first_error;    /* word index of the first violation */
  uint32_t first_word;   /* its value */
} na64_daq_decode_stats;

/* ---- F1 TDC (straw tubes) ---- */

#define NA64_DAQ_F1_DEFAULT_BIN_NS 0.1289 /* F1 normal-resolution bin (estimate, see docs/raw-format.md) */

enum {
  NA64_DAQ_F1_TRAILING = 1u << 0,       /* trailing-edge measurement (leading edge otherwise) */
  NA64_DAQ_F1_TBO = 1u << 1,            /* the chip header flagged a trigger-buffer overflow */
  NA64_DAQ_F1_CHIP_ERROR = 1u << 2,     /* the chip trailer flagged an error */
  NA64_DAQ_F1_EVENT_MISMATCH = 1u << 3, /* the chip header's event number != the event's */
  NA64_DAQ_F1_NO_HEADER = 1u << 4,      /* no matching chip header: trigger time unknown, time_ns = raw */
  NA64_DAQ_F1_BAD_TRAILER = 1u << 5     /* chip block not closed by a matching trailer / count differs */
};

/* One F1 hit. Encoders read port, chip, channel, flags & NA64_DAQ_F1_TRAILING, time_units and
 * trigger_units; decoders fill every field. */
typedef struct na64_daq_f1_hit {
  double time_ns;         /* (time - trigger) * bin: hit time relative to the trigger, ns */
  uint32_t source_id;     /* equipmentId of the block */
  int32_t rel_units;      /* time_units - trigger_units, wrapped into [-32768, 32767] TDC bins */
  uint16_t time_units;    /* raw hit time, TDC bins */
  uint16_t trigger_units; /* trigger time from the chip header, TDC bins */
  uint8_t port;           /* 0..15 */
  uint8_t chip;           /* 0..7 */
  uint8_t channel;        /* 0..7 */
  uint8_t flags;          /* NA64_DAQ_F1_* */
} na64_daq_f1_hit;

/* Equipment header of an F1 block of source `source_id` with TDC bin `bin_ns` (> 0, < 4 us). */
NA64_API na64_daq_equipment_header na64_daq_f1_equipment(uint32_t source_id, double bin_ns);
/* Bin width of a block (type_attribute[1] in femtoseconds); NA64_DAQ_F1_DEFAULT_BIN_NS if 0. */
NA64_API double na64_daq_f1_bin_ns(const na64_daq_equipment_header *eh);

/* Upper bound of the words na64_daq_f1_encode writes for n hits. */
#define NA64_DAQ_F1_MAX_WORDS(n) (3 * (size_t)(n))
/* Encode hits in any order: they are grouped by (port, chip), ascending, keeping their order within a
 * chip; each chip gets header (its trigger time, the low 6 bits of `event`), data words, trailer.
 * All hits of one chip must share trigger_units. */
NA64_API int na64_daq_f1_encode(const na64_daq_f1_hit *hits, size_t n, uint32_t event, uint32_t *out, size_t cap,
                       size_t *nwords, na64_err *err);
/* Decode an F1 block into hits[0..*nhits). At most one hit per word, so cap >= eq->nwords always
 * suffices (NA64_ERANGE if cap is reached first). expected_event >= 0: flag chips whose header event
 * number differs from expected_event & 63. stats may be NULL. */
NA64_API int na64_daq_f1_decode(const na64_daq_equipment *eq, long expected_event, na64_daq_f1_hit *hits, size_t cap,
                       size_t *nhits, na64_daq_decode_stats *stats, na64_err *err);

/* A growable list of hits, for decoding whole events. */
typedef struct na64_daq_f1_hit_list {
  na64_daq_f1_hit *hits;
  size_t n, cap;
} na64_daq_f1_hit_list;
NA64_API void na64_daq_f1_hit_list_init(na64_daq_f1_hit_list *l);
NA64_API void na64_daq_f1_hit_list_release(na64_daq_f1_hit_list *l);
/* Append the hits of every F1 block of the event (list->n is NOT reset), checking chip event numbers
 * against the event's number in burst. Returns NA64_OK, NA64_EFORMAT (some words bad, the rest decoded)
 * or NA64_ENOMEM. stats (may be NULL) accumulates over the blocks. */
NA64_API int na64_daq_f1_decode_event(const na64_daq_event *ev, na64_daq_f1_hit_list *list,
                             na64_daq_decode_stats *stats, na64_err *err);

/* ---- sampling ADC (MSADC-like: two interleaved ADCs, even and odd samples) ---- */

#define NA64_DAQ_SADC_MAX_SAMPLES 255
#define NA64_DAQ_SADC_DEFAULT_PERIOD_NS 12.5 /* 80 MS/s from two interleaved 40 MS/s ADCs (estimate) */

enum {
  NA64_DAQ_SADC_TRUNCATED = 1u << 0, /* fewer sample words than the header announced */
  NA64_DAQ_SADC_BAD_RESERVED = 1u << 1 /* reserved header bits were not zero */
};

typedef struct na64_daq_sadc_waveform {
  uint32_t source_id;
  uint8_t port;       /* 0..15 */
  uint8_t channel;    /* 0..63 */
  uint16_t nsamples;  /* 0..255 */
  uint16_t flags;     /* NA64_DAQ_SADC_* */
  uint16_t has_pedestals;  /* 1 if the module sent its even/odd pedestals */
  double pedestal_even;    /* ADC counts, resolution 1/8 (0 if absent) */
  double pedestal_odd;
  uint16_t samples[NA64_DAQ_SADC_MAX_SAMPLES + 1]; /* 12-bit ADC counts; sample 2k from the even ADC */
} na64_daq_sadc_waveform;

NA64_API na64_daq_equipment_header na64_daq_sadc_equipment(uint32_t source_id, double period_ns);
NA64_API double na64_daq_sadc_period_ns(const na64_daq_equipment_header *eh);
/* Words needed for n waveforms. */
NA64_API size_t na64_daq_sadc_encoded_words(const na64_daq_sadc_waveform *w, size_t n);
NA64_API int na64_daq_sadc_encode(const na64_daq_sadc_waveform *w, size_t n, uint32_t *out, size_t cap, size_t *nwords,
                         na64_err *err);
/* At most one waveform per header word: cap >= eq->nwords suffices. */
NA64_API int na64_daq_sadc_decode(const na64_daq_equipment *eq, na64_daq_sadc_waveform *out, size_t cap, size_t *n,
                         na64_daq_decode_stats *stats, na64_err *err);
/* Even/odd pedestals as the means of the even and odd samples among the first nfront samples (the
 * na64sw "pedestals by front" method); NA64_EINVAL if nfront < 2 or > nsamples. */
NA64_API int na64_daq_sadc_pedestals_from_front(const na64_daq_sadc_waveform *w, int nfront, double *even,
                                                double *odd, na64_err *err);

/* ---- APV25 (Micromegas, GEM): three time samples per strip ---- */

#define NA64_DAQ_APV_DEFAULT_PERIOD_NS 25.0 /* APV25 samples at the 40 MHz LHC-like clock */

enum {
  NA64_DAQ_APV_INCOMPLETE = 1u << 0,    /* the second word of the hit is missing: amp[1], amp[2] = 0 */
  NA64_DAQ_APV_EVENT_MISMATCH = 1u << 1 /* the chip header's event number != the event's */
};

typedef struct na64_daq_apv_hit {
  uint32_t source_id;
  uint8_t chip;     /* 0..63 */
  uint8_t channel;  /* 0..127 */
  uint16_t flags;   /* NA64_DAQ_APV_* */
  uint16_t amp[3];  /* 12-bit amplitudes of the three time samples */
  uint16_t event;   /* event number from the chip header (12 bits) */
} na64_daq_apv_hit;

NA64_API na64_daq_equipment_header na64_daq_apv_equipment(uint32_t source_id, double period_ns);
#define NA64_DAQ_APV_MAX_WORDS(n) (3 * (size_t)(n))
/* Hits grouped by chip (ascending, order kept within a chip; at most 255 hits per chip); each chip
 * gets a header with `event` & 0xFFF and its hit count, then two words per hit. */
NA64_API int na64_daq_apv_encode(const na64_daq_apv_hit *hits, size_t n, uint32_t event, uint32_t *out, size_t cap,
                        size_t *nwords, na64_err *err);
NA64_API int na64_daq_apv_decode(const na64_daq_equipment *eq, long expected_event, na64_daq_apv_hit *hits, size_t cap,
                        size_t *nhits, na64_daq_decode_stats *stats, na64_err *err);

/* ---- human-readable words (for `na64 dump`) ---- */

/* Describe the payload words of a block one by one: init with the block, then call describe for
 * each word in order (the describer keeps the state needed, e.g. the F1 trigger time). */
typedef struct na64_daq_describer {
  uint32_t type;
  double unit_ns;
  int in_chip, port, chip;
  uint32_t trigger;
  int pending; /* SADC: sample words still expected; APV: 1 if the next word is a hit's 2nd word */
  int sample;  /* SADC: index of the next sample */
  int ped;     /* SADC: a pedestal word is expected */
} na64_daq_describer;
NA64_API void na64_daq_describer_init(na64_daq_describer *d, const na64_daq_equipment_header *eh);
/* Writes one line (no newline) such as "F1 data  port 3 chip 2 ch 5 t=12866 (+120 = +15.47 ns)". */
NA64_API void na64_daq_describe_word(na64_daq_describer *d, uint32_t word, char *buf, size_t len);
NA64_API const char *na64_daq_equipment_type_name(uint32_t type); /* "F1", "SADC", "APV", "raw" */

#ifdef __cplusplus
}
#endif
#endif /* NA64_DAQ_H */
