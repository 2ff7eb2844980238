# Optional third-party libraries of later modules (SQLite, zstd, HDF5) are linked here so that
# module authors add one line, not a new mechanism.
# zstd: compressed DATE raw-data files (src/daq)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
target_link_libraries(na64 PRIVATE PkgConfig::ZSTD)
# DATE raw data: libFuzzer harness of the reader, short run labelled "fuzz" (tests/fuzz/fuzz.cmake).
include(${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz.cmake OPTIONAL)
# SQLite: the conditions database (src/cond, src/geom). Schema migrations sql/migrations/*.sql are
# compiled into the library; the default database conditions.db is built from sql/setups/*.sql by
# `na64 cond build` at build time and installed to share/na64/ (docs/conditions.md).
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
target_link_libraries(na64 PRIVATE PkgConfig::SQLITE3)
file(GLOB NA64_SQL_MIGRATIONS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/sql/migrations/*.sql)
file(GLOB NA64_SQL_SETUPS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/sql/setups/*.sql)
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/generated/na64_cond_migrations.c
  COMMAND ${CMAKE_COMMAND} -DOUT=${CMAKE_BINARY_DIR}/generated/na64_cond_migrations.c
          -DSQL_DIR=${CMAKE_SOURCE_DIR}/sql/migrations -P ${CMAKE_SOURCE_DIR}/sql/embed_migrations.cmake
  DEPENDS ${NA64_SQL_MIGRATIONS} ${CMAKE_SOURCE_DIR}/sql/embed_migrations.cmake
  COMMENT "Embedding sql/migrations/*.sql into libna64")
target_sources(na64 PRIVATE ${CMAKE_BINARY_DIR}/generated/na64_cond_migrations.c)
# Only the install location is compiled in; an uninstalled build finds the conditions.db beside the
# library (src/cond/cond.c, na64_cond_default_path).
target_compile_definitions(na64 PRIVATE NA64_COND_INSTALL_DB="${CMAKE_INSTALL_FULL_DATADIR}/na64/conditions.db")
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/conditions.db
  COMMAND na64_cli cond build --force --out ${CMAKE_BINARY_DIR}/conditions.db ${NA64_SQL_SETUPS}
  DEPENDS na64_cli ${NA64_SQL_SETUPS} ${NA64_SQL_MIGRATIONS}
  COMMENT "Building the default conditions database from sql/setups/*.sql" VERBATIM)
add_custom_target(na64_conditions_db ALL DEPENDS ${CMAKE_BINARY_DIR}/conditions.db)
install(FILES ${CMAKE_BINARY_DIR}/conditions.db DESTINATION ${CMAKE_INSTALL_DATADIR}/na64)
# PLplot (cairo drivers): the limit plots of src/io
pkg_check_modules(PLPLOT REQUIRED IMPORTED_TARGET plplot)
target_link_libraries(na64 PRIVATE PkgConfig::PLPLOT)
# libyaml: run cards (src/io/card.c) and the HEPData YAML tables (emitter: valid, escaped YAML);
# HDF5: the simulation truth tables (src/io/h5table.c)
pkg_check_modules(YAML REQUIRED IMPORTED_TARGET yaml-0.1)
target_link_libraries(na64 PRIVATE PkgConfig::YAML)
pkg_check_modules(HDF5 REQUIRED IMPORTED_TARGET hdf5)
target_link_libraries(na64 PRIVATE PkgConfig::HDF5)
# libmicrohttpd (Debian libmicrohttpd-dev) and pthreads: the online monitor's HTTP server (src/mon)
pkg_check_modules(MICROHTTPD REQUIRED IMPORTED_TARGET libmicrohttpd)
find_package(Threads REQUIRED)
target_link_libraries(na64 PRIVATE PkgConfig::MICROHTTPD Threads::Threads)
# The monitor page (web/index.html) and JSROOT from the npm package (tools/install-web.sh), copied to
# ${CMAKE_BINARY_DIR}/web at build time; `na64 monitor` serves them from <dir of the executable>/web.
set(NA64_JSROOT_JS ${CMAKE_SOURCE_DIR}/web/node_modules/jsroot/build/jsroot.min.js)
if(EXISTS ${NA64_JSROOT_JS})
  add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/web/index.html ${CMAKE_BINARY_DIR}/web/jsroot.min.js
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/web
    COMMAND ${CMAKE_COMMAND} -E copy_if_different ${CMAKE_SOURCE_DIR}/web/index.html ${NA64_JSROOT_JS} ${CMAKE_BINARY_DIR}/web/
    DEPENDS ${CMAKE_SOURCE_DIR}/web/index.html ${NA64_JSROOT_JS}
    COMMENT "Monitor page: web/index.html + jsroot.min.js (npm) -> build/web")
  add_custom_target(na64_web ALL DEPENDS ${CMAKE_BINARY_DIR}/web/index.html ${CMAKE_BINARY_DIR}/web/jsroot.min.js)
else()
  message(STATUS "jsroot not installed in web/node_modules (make deps): the monitor serves a plain item list")
endif()
