# Sanitizers and valgrind.
#
#   make test-asan       Swift tests and C tests under AddressSanitizer (+ LeakSanitizer for C)
#   make test-tsan       Swift thread tests and threaded C tests under ThreadSanitizer
#   make test-valgrind   C examples and C tests under valgrind memcheck (release library)
#
# Sanitizer builds live in their own scratch paths (.build-asan, .build-tsan),
# so they never disturb .build; their libraries are copied to
# build/{asan,tsan}/lib, their C programs go to build/{asan,tsan}/tests.
#
# C programs that load a sanitized Swift library must be linked by the clang
# of the Swift toolchain (the same compiler-rt runtime as swiftc's).
# Run sanitized Swift code with SWIFT_BACKTRACE=enable=no: swift-backtrace can
# otherwise hang for minutes on a crash.

.PHONY: test-asan test-tsan test-valgrind asan-lib tsan-lib

FULL_TESTS += test-asan test-tsan test-valgrind

SWIFT_TOOLCHAIN_BIN := $(patsubst %/,%,$(dir $(realpath $(shell command -v $(SWIFT) 2>/dev/null))))
SWIFT_RUNTIME_DIR   := $(abspath $(SWIFT_TOOLCHAIN_BIN)/../lib/swift/linux)
SAN_CC    ?= $(or $(wildcard $(SWIFT_TOOLCHAIN_BIN)/clang),clang)
SAN_CFLAGS := -std=c99 -g -O1 -fno-omit-frame-pointer -Iinclude
VALGRIND  ?= valgrind
comma     := ,

# A sanitized build prints ~100 harmless ld.gold warnings about the
# sanitizer runtime's symbols; keep them in a log and show the rest on failure.
# $(call san_build,LOG,SWIFT BUILD ARGUMENTS)
define san_build
	@mkdir -p $(dir $(1))
	@echo "$(SWIFT) build $(2)"
	@$(SWIFT) build $(2) > $(1) 2>&1 || { grep -v 'Cannot export local symbol' $(1); exit 1; }
	@grep -v 'Cannot export local symbol' $(1) | tail -n 1
endef

# Runs a command with its output in $(SAN_LOGS)/NAME.log; prints the log's
# last line, or its last 60 lines and the exit status on failure.
# $(call logged,NAME,COMMAND)
SAN_LOGS := $(BUILD)/sanitizer-logs
define logged
	@mkdir -p $(SAN_LOGS)
	@echo '$(2)'
	@$(2) > $(SAN_LOGS)/$(1).log 2>&1; status=$$?; \
	if [ $$status -eq 0 ]; then grep -v '^ *$$' $(SAN_LOGS)/$(1).log | tail -n 1; \
	else tail -n 60 $(SAN_LOGS)/$(1).log; echo "exit status $$status; whole output: $(SAN_LOGS)/$(1).log"; fi; \
	exit $$status
endef

# `swift test` through `logged`, showing XCTest's summary line.
# $(call swift_test,NAME,ENVIRONMENT,SWIFT TEST ARGUMENTS)
define swift_test
	@mkdir -p $(SAN_LOGS)
	@echo '$(2) $(SWIFT) test $(3)'
	@$(2) $(SWIFT) test $(3) > $(SAN_LOGS)/$(1).log 2>&1; status=$$?; \
	grep -v 'Cannot export local symbol' $(SAN_LOGS)/$(1).log | grep -E 'Executed [0-9]+ tests?' | tail -n 1; \
	if [ $$status -ne 0 ]; then grep -v 'Cannot export local symbol' $(SAN_LOGS)/$(1).log | grep -v '^Test Case .* (passed|started)' | tail -n 80; \
	echo "exit status $$status; whole output: $(SAN_LOGS)/$(1).log"; fi; \
	exit $$status
endef

# ---- C programs against a sanitized library --------------------------------------------
# $(call san_c,SANITIZER LIB DIR,CLANG FLAGS): the recipe of build/<san>/tests/<name>
# (the ld.bfd linker: gold prints a warning for each sanitizer symbol)
define san_c
	@mkdir -p $(dir $@)
	@rm -f $@
	$(SAN_CC) $(SAN_CFLAGS) $(2) -fuse-ld=bfd $< -o $@ -L$(1) -lrecur -ljson-c -pthread -lm -Wl,-rpath,$(abspath $(1))
endef

# ---- AddressSanitizer ---------------------------------------------------------------------
# Swift tests: leak detection off there (LeakSanitizer reports XCTest's own
# objects and a Foundation buffer of the tests' file reading, never Recur's);
# the C tests run with it on, through the C API. Then the fuzz target's
# oracles over the seed corpus (RecurFuzz as a plain program, debug + ASan).
# (test_alloc interposes malloc, which ASan owns: not run here.)

ASAN_LIBDIR := $(BUILD)/asan/lib
ASAN_TESTS  := $(BUILD)/asan/tests/test_api $(BUILD)/asan/tests/test_trainer \
               $(BUILD)/asan/tests/test_concurrency $(BUILD)/asan/tests/tsan_threads
ASAN_ENV    := SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=1:halt_on_error=1

asan-lib:
	$(call san_build,$(BUILD)/asan/build.log,--scratch-path .build-asan --sanitize=address --build-tests)
	@mkdir -p $(ASAN_LIBDIR)
	@cp .build-asan/debug/librecur.so $(ASAN_LIBDIR)/librecur.so.tmp && mv -f $(ASAN_LIBDIR)/librecur.so.tmp $(ASAN_LIBDIR)/librecur.so
	@ln -sf librecur.so $(ASAN_LIBDIR)/librecur.so.0

$(BUILD)/asan/tests/%: Tests/c/%.c include/recur.h asan-lib
	$(call san_c,$(ASAN_LIBDIR),-fsanitize=address)

test-asan: asan-lib $(ASAN_TESTS)
	$(call swift_test,asan-swift-test,SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0,--skip-build --scratch-path .build-asan --sanitize=address)
	$(call logged,asan-test_api,$(ASAN_ENV) $(BUILD)/asan/tests/test_api $(TESTDATA))
	$(call logged,asan-test_trainer,$(ASAN_ENV) $(BUILD)/asan/tests/test_trainer $(TESTDATA))
	$(call logged,asan-test_concurrency,$(ASAN_ENV) $(BUILD)/asan/tests/test_concurrency $(TESTDATA) 500)
	$(call logged,asan-tsan_threads,$(ASAN_ENV) $(BUILD)/asan/tests/tsan_threads)
	$(call logged,asan-fuzz-seeds,$(FUZZ_ENV) .build-asan/debug/RecurFuzz $(FUZZ_SEEDS))

# ---- ThreadSanitizer ----------------------------------------------------------------------
# TSan does not see 32-byte (AVX) loads and stores, so everything runs with
# RECUR_CPU=sse2 as well (16-byte vectors, all visible): the default kernels
# for their own code paths, SSE2 for the memory they touch.
# The toolchain's TSan runtime carries libdispatch interceptors: it needs
# libdispatch and libBlocksRuntime at link time.

TSAN_LIBDIR := $(BUILD)/tsan/lib
TSAN_TESTS  := $(BUILD)/tsan/tests/tsan_threads $(BUILD)/tsan/tests/test_concurrency $(BUILD)/tsan/tests/test_api
TSAN_ENV    := SWIFT_BACKTRACE=enable=no TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
# The Swift tests that start threads (all of them: `make test-tsan TSAN_SWIFT_TESTS=`,
# ~25 s more; the others run on one thread).
TSAN_SWIFT_TESTS ?= --filter ThreadTests

tsan-lib:
	$(call san_build,$(BUILD)/tsan/build.log,--scratch-path .build-tsan --sanitize=thread --build-tests)
	@mkdir -p $(TSAN_LIBDIR)
	@cp .build-tsan/debug/librecur.so $(TSAN_LIBDIR)/librecur.so.tmp && mv -f $(TSAN_LIBDIR)/librecur.so.tmp $(TSAN_LIBDIR)/librecur.so
	@ln -sf librecur.so $(TSAN_LIBDIR)/librecur.so.0

$(BUILD)/tsan/tests/%: Tests/c/%.c include/recur.h tsan-lib
	$(call san_c,$(TSAN_LIBDIR),-fsanitize=thread -L$(SWIFT_RUNTIME_DIR) -ldispatch -lBlocksRuntime -Wl$(comma)-rpath$(comma)$(SWIFT_RUNTIME_DIR))

test-tsan: tsan-lib $(TSAN_TESTS)
	$(call swift_test,tsan-swift-test,$(TSAN_ENV),--skip-build --scratch-path .build-tsan --sanitize=thread $(TSAN_SWIFT_TESTS))
	$(call swift_test,tsan-swift-test-sse2,$(TSAN_ENV) RECUR_CPU=sse2,--skip-build --scratch-path .build-tsan --sanitize=thread $(TSAN_SWIFT_TESTS))
	$(call logged,tsan-tsan_threads,$(TSAN_ENV) $(BUILD)/tsan/tests/tsan_threads)
	$(call logged,tsan-tsan_threads-sse2,$(TSAN_ENV) RECUR_CPU=sse2 $(BUILD)/tsan/tests/tsan_threads)
	$(call logged,tsan-test_concurrency-sse2,$(TSAN_ENV) RECUR_CPU=sse2 $(BUILD)/tsan/tests/test_concurrency $(TESTDATA) 200)
	$(call logged,tsan-test_api-sse2,$(TSAN_ENV) RECUR_CPU=sse2 $(BUILD)/tsan/tests/test_api $(TESTDATA))

# ---- valgrind -----------------------------------------------------------------------------
# The release library as shipped. "possibly lost" blocks are the Swift
# runtime's metadata caches (alive until exit): reported, not errors.

VALGRIND_FLAGS := -q --leak-check=full --show-leak-kinds=definite,indirect \
                  --errors-for-leak-kinds=definite,indirect --error-exitcode=1
VALGRIND_RUN   := $(VALGRIND) $(VALGRIND_FLAGS)

test-valgrind: lib $(BUILD)/examples/demo $(BUILD)/examples/minimal $(BUILD)/examples/finetune \
               $(BUILD)/tests/test_api $(BUILD)/tests/test_trainer
	$(call logged,valgrind-demo,$(VALGRIND_RUN) $(BUILD)/examples/demo examples/models/running_sum.json examples/models/tiny_lstm.json)
	$(call logged,valgrind-minimal,$(VALGRIND_RUN) $(BUILD)/examples/minimal)
	$(call logged,valgrind-finetune,$(VALGRIND_RUN) $(BUILD)/examples/finetune $(SAN_LOGS)/finetune-model.json)
	$(call logged,valgrind-test_api,$(VALGRIND_RUN) $(BUILD)/tests/test_api $(TESTDATA))
	$(call logged,valgrind-test_trainer,$(VALGRIND_RUN) $(BUILD)/tests/test_trainer $(TESTDATA))
