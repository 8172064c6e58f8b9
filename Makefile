# Recur: build the release library, run the demo, run every test.
#
#   make            release library build/lib/librecur.so + include/recur.h
#   make demo       the above, then the demo in examples/c (installs json-c if missing)
#   make test       every test: header checks, Swift tests, C API tests, examples, Python
#   make header     regenerate include/recur.h from the Swift sources
#   make bench      Recur vs PyTorch and ONNX Runtime (benchmarks/README.md)
#   make clean

# bash with pipefail: a failing test piped into `tail` still fails the target.
SHELL      := /bin/bash
.SHELLFLAGS := -o pipefail -c

SWIFT      ?= swift
CC         ?= cc
CLANG      ?= clang
CXX        ?= g++
PYTHON     ?= python3
TESTDATA   ?= ../shared/testdata
BUILD      := build
LIBDIR     := $(BUILD)/lib
LIB        := $(LIBDIR)/librecur.so
CFLAGS_STRICT := -std=c99 -Wall -Wextra -Werror -pedantic
RPATH      := -Wl,-rpath,$(abspath $(LIBDIR))
SWIFT_SOURCES := $(shell find Sources -name '*.swift' -o -name '*.h' -o -name '*.modulemap') Package.swift

.PHONY: all lib header demo test test-swift test-c test-header test-python bench deps clean

# Further targets live in mk/*.mk; a file there may add its test target to
# EXTRA_TESTS, which `make test` runs after the others.
EXTRA_TESTS :=
.DEFAULT_GOAL := all
-include $(sort $(wildcard mk/*.mk))

all: lib

deps:
	@scripts/install-deps.sh

lib: $(LIB) include/recur.h

$(LIB): $(SWIFT_SOURCES)
	$(SWIFT) build -c release --product recur
	@mkdir -p $(LIBDIR)
	# Copy then rename: a process that has the old library loaded keeps it intact.
	cp "$$($(SWIFT) build -c release --show-bin-path)/librecur.so" $(LIB).tmp && mv -f $(LIB).tmp $(LIB)
	ln -sf librecur.so $(LIBDIR)/librecur.so.0

include/recur.h: $(SWIFT_SOURCES) scripts/generate-header.py
	$(PYTHON) scripts/generate-header.py

header:
	$(PYTHON) scripts/generate-header.py

$(BUILD)/examples/%: examples/c/%.c include/recur.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_STRICT) -Iinclude $< -o $@ -L$(LIBDIR) -lrecur $(RPATH)

demo: deps lib $(BUILD)/examples/demo
	$(BUILD)/examples/demo examples/models/running_sum.json examples/models/tiny_lstm.json

$(BUILD)/tests/test_api: Tests/c/test_api.c include/recur.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_STRICT) -Iinclude $< -o $@ -L$(LIBDIR) -lrecur -ljson-c -pthread $(RPATH)

$(BUILD)/tests/test_trainer: Tests/c/test_trainer.c include/recur.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_STRICT) -Iinclude $< -o $@ -L$(LIBDIR) -lrecur -ljson-c -pthread -lm $(RPATH)

# Interposes malloc to prove that step, run and trainer steps allocate nothing.
$(BUILD)/tests/test_alloc: Tests/c/test_alloc.c include/recur.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_STRICT) -Iinclude $< -o $@ -L$(LIBDIR) -lrecur $(RPATH)

test: test-header test-swift test-c test-python $(EXTRA_TESTS)
	@echo "all tests passed"

# The committed header equals a fresh generation, compiles cleanly as C99,
# with clang and as C++17, and declares exactly what the library exports.
test-header: lib
	scripts/check-header.sh $(LIB)

test-swift:
	$(SWIFT) test

EXAMPLES := $(BUILD)/examples/demo $(BUILD)/examples/minimal $(BUILD)/examples/finetune

test-c: $(BUILD)/tests/test_api $(BUILD)/tests/test_trainer $(BUILD)/tests/test_alloc $(EXAMPLES)
	$(BUILD)/tests/test_api $(TESTDATA)
	@# The reference cases again at the lower dispatch levels (RECUR_CPU).
	RECUR_CPU=sse2 $(BUILD)/tests/test_api $(TESTDATA) | tail -1
	RECUR_CPU=reference $(BUILD)/tests/test_api $(TESTDATA) | tail -1
	$(BUILD)/tests/test_trainer $(TESTDATA)
	$(BUILD)/tests/test_alloc
	Tests/c/test_examples.sh $(EXAMPLES)

# The Python binding over the built library (torch/keras tests run when those
# are installed: bindings/python/install_test_extras.sh).
test-python: lib
	bindings/python/run_tests.sh

BENCH_ARGS ?=

$(BUILD)/bench/bench: benchmarks/bench.c include/recur.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=c99 -Iinclude $< -o $@ -L$(LIBDIR) -lrecur $(RPATH)

$(BUILD)/bench/jsonc_parse: benchmarks/jsonc_parse.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=c99 $< -o $@ -ljson-c

bench: lib $(BUILD)/bench/bench $(BUILD)/bench/jsonc_parse
	$(PYTHON) benchmarks/compare.py $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) .build
