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

# The run-card mutation fuzzer (tests/fuzz/fuzz_card.c): deterministic, compiled with the main build,
# so it also runs under ASan+UBSan with leak checking (labels "unit;io", not "fuzz", which the
# sanitized `make test` leaves out). 400 mutants per card in `make test`; 20000 in `make validate`.
if(NA64_BUILD_TESTS)
  add_executable(fuzz_card ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_card.c)
  target_compile_options(fuzz_card PRIVATE ${NA64_WARNINGS} -Wno-missing-prototypes)
  target_compile_definitions(fuzz_card PRIVATE NA64_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  target_link_libraries(fuzz_card PRIVATE na64 m)
  add_test(NAME fuzz/card_mutants COMMAND fuzz_card 400)
  add_test(NAME fuzz/card_mutants_long COMMAND fuzz_card 20000 1000)
  set_tests_properties(fuzz/card_mutants PROPERTIES LABELS "unit;io" TIMEOUT 600)
  set_tests_properties(fuzz/card_mutants_long PROPERTIES LABELS "long;io" TIMEOUT 3600)
  if(NA64_SANITIZE)
    set_tests_properties(fuzz/card_mutants fuzz/card_mutants_long PROPERTIES ENVIRONMENT
      "LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan.supp:print_suppressions=0:exitcode=23")
  endif()
endif()
