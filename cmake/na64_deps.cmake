# Optional third-party libraries of later modules (SQLite, zstd, HDF5) are linked here so that
# module authors add one line, not a new mechanism.
# zstd: compressed DATE raw-data files (src/daq)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
target_link_libraries(na64 PRIVATE PkgConfig::ZSTD)
# DATE raw data: libFuzzer harness of the reader, short run labelled "fuzz" (tests/fuzz/fuzz.cmake).
include(${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz.cmake OPTIONAL)
