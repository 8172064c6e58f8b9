# Fuzzing: libFuzzer + ASan over the C API's parsers (Sources/RecurFuzz).
#
#   make fuzz            libFuzzer + ASan over recur_model_load_json and the trainer
#                        config parser for FUZZ_SECONDS (600); stops at the first finding
#                        (FUZZ_ARGS="-fork=1 -ignore_timeouts=1 -ignore_ooms=1" goes on
#                        past timeouts and out-of-memory; any libFuzzer flag works there)
#   make fuzz-short      FUZZ_SHORT_SECONDS (60) from the seeds alone: part of `make test`
#   make fuzz-run FUZZ_INPUT=file      run one input (a crash file) through the target
#   make fuzz-minimize FUZZ_INPUT=file shrink a crashing input (build/fuzz/minimized-*)
#
# The build lives in its own scratch path (.build-fuzz). The fuzz target is
# Sources/RecurFuzz (input format: Tests/fuzz/README.md); the seed corpus is
# Tests/fuzz/corpus, what the fuzzer finds goes to build/fuzz/corpus, crash
# files to build/fuzz/. Build helpers (san_build, logged): mk/sanitizers.mk.

.PHONY: fuzz fuzz-short fuzz-build fuzz-run fuzz-minimize

FULL_TESTS += fuzz-short

FUZZ_SECONDS       ?= 600
FUZZ_SHORT_SECONDS ?= 60
FUZZ_SHORT_SEED    ?= 1
FUZZ_ARGS          ?=
FUZZ_DIR   := $(BUILD)/fuzz
FUZZ_BIN   := .build-fuzz/release/RecurFuzz
FUZZ_SEEDS := Tests/fuzz/corpus
# -timeout: a model at the parameter limit takes a few seconds under ASan.
# -rss_limit_mb (also the largest single malloc): 2 GB; the largest model
# allowed is 2^28 parameters (1 GB).
FUZZ_FLAGS := -dict=Tests/fuzz/recur.dict -max_len=8192 -timeout=30 -rss_limit_mb=2048 \
              -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/
FUZZ_ENV   := SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=1

# Release: Swift's bounds and overflow checks stay in -O, and it runs ~4x
# faster than debug. RECUR_LIBFUZZER leaves out Runner.swift's main.
# Not `--sanitize=fuzzer --sanitize=address`: SwiftPM passes those as two
# -sanitize= options in a random order (a Set) and swiftc keeps only the last
# one, so about every other build had no ASan instrumentation at all (and
# rebuilt everything, the command lines having changed). SwiftPM is told
# about the fuzzer only (it then links without its own main); swiftc gets
# both in one option, last on its command line (compile and link).
FUZZ_BUILD_FLAGS := -c release --scratch-path .build-fuzz --product RecurFuzz --sanitize=fuzzer \
    -Xswiftc -sanitize=fuzzer,address \
    -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table -Xswiftc -DRECUR_LIBFUZZER

# ---- fuzzing -------------------------------------------------------------------------

fuzz-build:
	$(call san_build,$(FUZZ_DIR)/build.log,$(FUZZ_BUILD_FLAGS))

fuzz: fuzz-build
	@mkdir -p $(FUZZ_DIR)/corpus
	$(FUZZ_ENV) $(FUZZ_BIN) $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) $(FUZZ_ARGS) $(FUZZ_DIR)/corpus $(FUZZ_SEEDS)

# From the seeds alone (a fresh corpus) and a fixed seed of libFuzzer's
# generator: the same binary tries the same inputs first on every machine.
fuzz-short: fuzz-build
	@rm -rf $(FUZZ_DIR)/short-corpus && mkdir -p $(FUZZ_DIR)/short-corpus
	$(call logged,fuzz-short,$(FUZZ_ENV) $(FUZZ_BIN) $(FUZZ_FLAGS) -seed=$(FUZZ_SHORT_SEED) -max_total_time=$(FUZZ_SHORT_SECONDS) $(FUZZ_ARGS) $(FUZZ_DIR)/short-corpus $(FUZZ_SEEDS))
	@grep -E '^#[0-9]+[[:space:]]+DONE' $(SAN_LOGS)/fuzz-short.log

fuzz-run: fuzz-build
	$(FUZZ_ENV) $(FUZZ_BIN) $(FUZZ_FLAGS) $(FUZZ_INPUT)

fuzz-minimize: fuzz-build
	$(FUZZ_ENV) $(FUZZ_BIN) $(FUZZ_FLAGS) -minimize_crash=1 -runs=20000 \
	    -exact_artifact_path=$(FUZZ_DIR)/minimized-$(notdir $(FUZZ_INPUT)) $(FUZZ_INPUT)
