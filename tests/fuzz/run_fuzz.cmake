# The short fuzz run of `make test` (ctest test "fuzz/daq_reader", label "fuzz"): configure and build
# tests/fuzz with clang in ${BIN}, copy the seed corpus to a scratch corpus, run the harness for
# ${SECONDS} seconds. Fails if the fuzzer finds a crash, a sanitizer report or a broken invariant;
# the input that did it is left in ${BIN}/artifacts/. Prints NA64-FUZZ-SKIP (test skipped) only if
# no clang is installed (tools/debian-packages.txt lists clang and libclang-rt-14-dev).
# Usage: cmake -DSRC=<source dir> -DBIN=<scratch dir> -DSECONDS=<n> -P run_fuzz.cmake
if(DEFINED ENV{NA64_FUZZ_SECONDS})
  set(SECONDS $ENV{NA64_FUZZ_SECONDS})
endif()
if(NOT SECONDS)
  set(SECONDS 25)
endif()
find_program(CLANG NAMES clang clang-14 clang-15 clang-16)
if(NOT CLANG)
  message("NA64-FUZZ-SKIP: no clang found; install clang and libclang-rt-14-dev (make deps)")
  return()
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SRC}/tests/fuzz -B ${BIN} -DCMAKE_C_COMPILER=${CLANG}
                        -DNA64_SOURCE_DIR=${SRC} -DCMAKE_BUILD_TYPE=RelWithDebInfo
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc)
  message(FATAL_ERROR "configuring the fuzz build in ${BIN} with ${CLANG} failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BIN} --target fuzz_daq -j 2 RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the fuzz harness failed (is libclang-rt-14-dev, the libFuzzer runtime, installed?)")
endif()
file(REMOVE_RECURSE ${BIN}/corpus ${BIN}/artifacts)
file(MAKE_DIRECTORY ${BIN}/corpus ${BIN}/artifacts)
file(GLOB seeds ${SRC}/tests/fuzz/corpus/daq/*)
file(COPY ${seeds} DESTINATION ${BIN}/corpus)
message("fuzzing the DATE reader for ${SECONDS} s")
execute_process(COMMAND ${BIN}/fuzz_daq -max_total_time=${SECONDS} -timeout=20 -rss_limit_mb=2048
                        -max_len=65536 -print_final_stats=1 -artifact_prefix=${BIN}/artifacts/ ${BIN}/corpus
                RESULT_VARIABLE rc)
if(rc)
  file(GLOB found ${BIN}/artifacts/*)
  message(FATAL_ERROR "the fuzzer found a failure (exit ${rc}); reproduce with: ${BIN}/fuzz_daq ${found}")
endif()
