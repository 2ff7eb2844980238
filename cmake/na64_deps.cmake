# Optional third-party libraries of later modules (SQLite, zstd, HDF5) are linked here so that
# module authors add one line, not a new mechanism.
