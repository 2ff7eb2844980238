# Top-level entry points. `make run` and `make test` work on a fresh Debian 12 machine as root:
# they install the missing Debian packages (tools/debian-packages.txt), configure, build, then run.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
REPORT     ?= report
CMAKE_ARGS ?=

.PHONY: all deps configure build run test test-fast test-asan bench validate fuzz install clean

all: build

deps:
	@tools/install-deps.sh
	@tools/install-web.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNA64_WERROR=ON $(CMAKE_ARGS) >/dev/null

configure: deps $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# The main job: physics summary and reports of the default setup, written under $(REPORT)/.
run: build
	$(BUILD)/na64 run --report-dir $(REPORT)

# Every test: the full suite on the normal build, then every non-long label again under ASan+UBSan.
test: build test-asan
	ctest --test-dir $(BUILD) -LE long --output-on-failure -j $(JOBS)

test-fast: build
	ctest --test-dir $(BUILD) -LE long --output-on-failure -j $(JOBS)

$(ASAN_BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DNA64_SANITIZE=ON -DNA64_BUILD_BENCH=OFF -DNA64_WERROR=ON $(CMAKE_ARGS) >/dev/null

# Every label that runs our code (unit, e2e, validation, the CLI tests) under AddressSanitizer,
# UndefinedBehaviorSanitizer and LeakSanitizer; only the long validation is left out (`make validate`),
# and the fuzzer runs in the normal build (it needs clang's libFuzzer). Sizes reduced for speed:
# NA64_BITFLIP_COPIES (tests/cond/test_cond_integrity.c); the sanitized build is -O1 (CMakeLists.txt). The CLI binary the tests run is the
# sanitized one, so its leaks and overflows fail the tests too (exit code 23 for LeakSanitizer).
# (LSAN_OPTIONS with the suppressions of third-party caches, tests/lsan.supp, is set per test by CMake.)
ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 NA64_BITFLIP_COPIES=24
test-asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	$(ASAN_ENV) ctest --test-dir $(ASAN_BUILD) -LE "long|fuzz" --output-on-failure -j $(JOBS)

# Throughput figures (events/s, evaluations/s, MB/s); see docs/performance.md. Never timed tests.
# The benchmarks are not in the default build (CMake target `benches`): built here.
bench: build
	cmake --build $(BUILD) --target benches -j $(JOBS)
	@for b in $(BUILD)/bench_*; do echo "== $$b"; $$b || exit 1; done

# A longer libFuzzer run of the DATE reader than the 25 s of `make test` (tests/fuzz/run_fuzz.cmake).
FUZZ_SECONDS ?= 600
fuzz: build
	NA64_FUZZ_SECONDS=$(FUZZ_SECONDS) ctest --test-dir $(BUILD) -L fuzz --output-on-failure --timeout $$(($(FUZZ_SECONDS) + 600))

# Long physics validation against published numbers (not part of `make test`).
validate: build
	ctest --test-dir $(BUILD) -L "validation|long" --output-on-failure -V

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(REPORT)
