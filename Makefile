# Recur: build the release library, run the demo, run the tests.
#
#   make              release library build/lib/librecur.so + include/recur.h
#   make demo         the above, then the demo in examples/c (installs json-c if missing)
#   make check        the quick tier (~3 min once the library is built): header checks,
#                     Swift tests at this CPU's kernel level, C API tests, Python tests
#   make test         everything, as CI runs it: the quick tier at every kernel level,
#                     plus examples, docs, install, C++, concurrency, sanitizers, fuzzing
#   make header       regenerate include/recur.h from the Swift sources
#   make deps         install json-c's development files if they are missing
#   make clean
#
# The rest lives in mk/, one file per concern (each lists its targets at the top):
#   mk/c-tests.mk     C API tests (Tests/c)            mk/examples.mk   C and Python examples
#   mk/python.mk      Python binding tests, the wheel  mk/docs.mk       every code block of the docs
#   mk/cpp.mk         the C++ wrapper                  mk/install.mk    install, pkg-config, standalone
#   mk/sanitizers.mk  ASan, TSan, valgrind             mk/fuzz.mk       libFuzzer
#   mk/bench.mk       benchmarks against the peers

# bash with pipefail: a failing test piped into `tail` still fails the target.
SHELL      := /bin/bash
.SHELLFLAGS := -o pipefail -c

SWIFT      ?= swift
CC         ?= cc
CLANG      ?= clang
CXX        ?= g++
PYTHON     ?= python3
# The reference cases and invalid documents (Tests/testdata/README.md).
TESTDATA   ?= Tests/testdata
BUILD      := build
LIBDIR     := $(BUILD)/lib
LIB        := $(LIBDIR)/librecur.so
CFLAGS_STRICT := -std=c99 -Wall -Wextra -Werror -pedantic
RPATH      := -Wl,-rpath,$(abspath $(LIBDIR))
SWIFT_SOURCES := $(shell find Sources -name '*.swift' -o -name '*.c' -o -name '*.h' -o -name '*.modulemap') Package.swift

# The version has one source: Sources/RecurCore/Version.swift.
VERSION_SOURCE := Sources/RecurCore/Version.swift
version_part    = $(shell sed -n 's/^ *public static let $(1) = \([0-9][0-9]*\)$$/\1/p' $(VERSION_SOURCE))
RECUR_MAJOR    := $(call version_part,major)
RECUR_MINOR    := $(call version_part,minor)
RECUR_PATCH    := $(call version_part,patch)
RECUR_VERSION  := $(RECUR_MAJOR).$(RECUR_MINOR).$(RECUR_PATCH)
RECUR_NUMBER   := $(shell echo $$(( $(RECUR_MAJOR) * 10000 + $(RECUR_MINOR) * 100 + $(RECUR_PATCH) )))

.PHONY: all lib header demo check test test-header test-swift test-swift-native deps tools clean version

# Test targets: mk/*.mk add theirs to CHECK_TESTS (the quick tier, also run by
# `make test`) or to FULL_TESTS (run by `make test` only), in file order.
CHECK_TESTS := test-header test-swift-native
FULL_TESTS  := test-swift
.DEFAULT_GOAL := all
include $(sort $(wildcard mk/*.mk))

all: lib

version:
	@echo $(RECUR_VERSION)

# What the build needs and a fresh machine may lack, named with the command
# that installs it.
tools:
	@command -v $(SWIFT) >/dev/null || { echo "error: no '$(SWIFT)' on PATH: install a Swift 6 toolchain (https://www.swift.org/install) and put its bin/ on PATH" >&2; exit 1; }
	@command -v $(PYTHON) >/dev/null || { echo "error: no '$(PYTHON)' on PATH (it generates the header): apt-get install python3" >&2; exit 1; }
	@test -f /usr/include/json-c/json.h || pkg-config --exists json-c 2>/dev/null || { echo "error: json-c's development files are missing: run 'make deps' (on Debian/Ubuntu: apt-get install libjson-c-dev)" >&2; exit 1; }

deps:
	@scripts/install-deps.sh

lib: $(LIB) include/recur.h

# SwiftPM compiles the package's C targets with $CC when it is set, passing
# clang's flags: a gcc there (CC=gcc make install, or the install check's
# CC=cc) fails the build, so the library's build does not inherit CC/CXX.
$(LIB): $(SWIFT_SOURCES) | tools
	env -u CC -u CXX $(SWIFT) build -c release --product recur
	@mkdir -p $(LIBDIR)
	# Copy then rename: a process that has the old library loaded keeps it intact.
	cp "$$($(SWIFT) build -c release --show-bin-path)/librecur.so" $(LIB).tmp && mv -f $(LIB).tmp $(LIB)
	ln -sf librecur.so $(LIBDIR)/librecur.so.0

include/recur.h: $(SWIFT_SOURCES) scripts/generate-header.py | tools
	$(PYTHON) scripts/generate-header.py

header: | tools
	$(PYTHON) scripts/generate-header.py

demo: deps lib $(BUILD)/examples/demo
	$(BUILD)/examples/demo examples/models/running_sum.json examples/models/tiny_lstm.json

check: $(CHECK_TESTS)
	@echo "make check: all quick tests passed"

test: $(filter-out test-swift-native,$(CHECK_TESTS)) $(FULL_TESTS)
	@echo "make test: all tests passed"

# The committed header equals a fresh generation, compiles cleanly as C99,
# with clang and as C++17, and declares exactly what the library exports.
test-header: lib
	scripts/check-header.sh $(LIB)

# Swift tests at this CPU's kernel level only (RECUR_TEST_LEVELS=native), then
# at every level it has plus the reference kernels.
test-swift-native: | tools
	RECUR_TEST_LEVELS=native $(SWIFT) test

test-swift: | tools
	$(SWIFT) test

clean:
	rm -rf $(BUILD) .build .build-portable
