# Included from cmake/na64_deps.cmake. The short libFuzzer run of the DATE reader is a ctest test
# labelled "fuzz" that builds tests/fuzz with clang in a sub-build, so it works with any main compiler.
# With -DNA64_FUZZ=ON (and CC=clang) the harness is also a target of the main build, linked to libna64.
set(NA64_FUZZ_SECONDS 25 CACHE STRING "length of the fuzz run in the tests, seconds")
if(NA64_BUILD_TESTS)
  add_test(NAME fuzz/daq_reader
           COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR} -DBIN=${CMAKE_BINARY_DIR}/fuzz-daq
                   -DSECONDS=${NA64_FUZZ_SECONDS} -P ${CMAKE_SOURCE_DIR}/tests/fuzz/run_fuzz.cmake)
  set_tests_properties(fuzz/daq_reader PROPERTIES LABELS "fuzz;daq" TIMEOUT 900
                       SKIP_REGULAR_EXPRESSION "NA64-FUZZ-SKIP")
endif()
if(NA64_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "NA64_FUZZ=ON needs clang as the C compiler (CC=clang)")
  endif()
  target_compile_options(na64 PRIVATE -fsanitize=fuzzer-no-link)
  add_executable(fuzz_daq ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_daq.c)
  target_compile_options(fuzz_daq PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_daq PRIVATE -fsanitize=fuzzer)
  target_link_libraries(fuzz_daq PRIVATE na64)
endif()
