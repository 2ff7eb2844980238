-- na64 conditions database, schema version 5: the DATE LDC (local data concentrator) that reads each
-- DAQ source. The DATE event builder groups the equipment of an event by LDC: every physics event on
-- disk is a GDC super event of one sub-event per LDC (DATE event.h, ATTR_SUPER_EVENT), and the raw-data
-- writer takes that grouping from here (na64_daq_ldc_map_from_cond). NULL: not recorded (the writer
-- then uses its default LDC). Range 0..511: HOST_ID_MIN..HOST_ID_MAX of DATE event.h.
ALTER TABLE channel_map ADD COLUMN ldc_id INTEGER CHECK (ldc_id IS NULL OR ldc_id BETWEEN 0 AND 511);
