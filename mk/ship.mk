# Shipping Recur (issue #6): the self-contained proof, install + pkg-config,
# the C++ wrapper's test and example, the concurrency test.
#
#   make test-standalone   readelf/nm checks; C and Python with the Swift toolchain hidden
#   make install           PREFIX=/usr/local (and DESTDIR=) : library, headers, recur.pc
#   make install-strip     the same with the library stripped (~40% smaller)
#   make uninstall         PREFIX= (and DESTDIR=) as given to install
#   make test-install      installs into a temporary PREFIX and builds against it with pkg-config (and CMake)
#   make test-cpp          bindings/cpp/recur.hpp: Tests/cpp/test_wrapper.cpp (g++ and clang++), examples/cpp
#   make test-concurrency  8 threads sharing one model, a trainer on a clone meanwhile
#
# See docs/install.md and docs/versioning.md.

.PHONY: test-standalone install install-strip uninstall test-install test-cpp test-concurrency

EXTRA_TESTS += test-standalone test-install test-cpp test-concurrency

# ---- version (from the generated header) -------------------------------------------
RECUR_VERSION := $(shell sed -n 's/^\#define RECUR_VERSION_STRING "\(.*\)"/\1/p' include/recur.h)
RECUR_MAJOR   := $(word 1,$(subst ., ,$(RECUR_VERSION)))

# ---- self-contained proof ---------------------------------------------------------------
test-standalone: lib $(BUILD)/examples/demo $(BUILD)/examples/minimal $(BUILD)/examples/finetune $(BUILD)/tests/test_api
	PYTHON=$(PYTHON) Tests/standalone/check.sh $(LIB) $(TESTDATA)

# ---- install ----------------------------------------------------------------------------
PREFIX            ?= /usr/local
DESTDIR           ?=
INSTALL_LIBDIR     ?= $(PREFIX)/lib
INSTALL_INCLUDEDIR ?= $(PREFIX)/include
INSTALL_PCDIR      ?= $(INSTALL_LIBDIR)/pkgconfig
INSTALL            ?= install

# In recur.pc, paths under PREFIX are written relative to ${prefix}
# (pkg-config --define-prefix can then relocate an installed tree).
pc_path = $(patsubst $(abspath $(PREFIX))/%,$${prefix}/%,$(abspath $(1)))

install: lib
	@test -n "$(RECUR_VERSION)" || { echo "install: no RECUR_VERSION_STRING in include/recur.h" >&2; exit 1; }
	$(INSTALL) -d "$(DESTDIR)$(INSTALL_LIBDIR)" "$(DESTDIR)$(INSTALL_INCLUDEDIR)" "$(DESTDIR)$(INSTALL_PCDIR)"
	$(INSTALL) -m 755 $(LIB) "$(DESTDIR)$(INSTALL_LIBDIR)/librecur.so.$(RECUR_VERSION).tmp"
	mv -f "$(DESTDIR)$(INSTALL_LIBDIR)/librecur.so.$(RECUR_VERSION).tmp" "$(DESTDIR)$(INSTALL_LIBDIR)/librecur.so.$(RECUR_VERSION)"
	ln -sfn librecur.so.$(RECUR_VERSION) "$(DESTDIR)$(INSTALL_LIBDIR)/librecur.so.$(RECUR_MAJOR)"
	ln -sfn librecur.so.$(RECUR_MAJOR) "$(DESTDIR)$(INSTALL_LIBDIR)/librecur.so"
	$(INSTALL) -m 644 include/recur.h bindings/cpp/recur.hpp "$(DESTDIR)$(INSTALL_INCLUDEDIR)/"
	printf '%s\n' \
	    'prefix=$(abspath $(PREFIX))' \
	    'exec_prefix=$${prefix}' \
	    'libdir=$(call pc_path,$(INSTALL_LIBDIR))' \
	    'includedir=$(call pc_path,$(INSTALL_INCLUDEDIR))' \
	    '' \
	    'Name: recur' \
	    'Description: Embeddable runtime for recurrent neural networks (RNN, LSTM, GRU); C API, header-only C++17 wrapper' \
	    'Version: $(RECUR_VERSION)' \
	    'Libs: -L$${libdir} -lrecur' \
	    'Cflags: -I$${includedir}' \
	    > "$(DESTDIR)$(INSTALL_PCDIR)/recur.pc"
	@echo "installed Recur $(RECUR_VERSION) into $(DESTDIR)$(PREFIX) (for a system directory, run ldconfig)"

install-strip: install
	strip --strip-unneeded "$(DESTDIR)$(INSTALL_LIBDIR)/librecur.so.$(RECUR_VERSION)"

uninstall:
	rm -f "$(DESTDIR)$(INSTALL_LIBDIR)/librecur.so" "$(DESTDIR)$(INSTALL_LIBDIR)/librecur.so.$(RECUR_MAJOR)" \
	      "$(DESTDIR)$(INSTALL_LIBDIR)/librecur.so.$(RECUR_VERSION)" \
	      "$(DESTDIR)$(INSTALL_INCLUDEDIR)/recur.h" "$(DESTDIR)$(INSTALL_INCLUDEDIR)/recur.hpp" \
	      "$(DESTDIR)$(INSTALL_PCDIR)/recur.pc"

test-install: lib
	MAKE="$(MAKE)" CC="$(CC)" CXX="$(CXX)" Tests/install/check.sh

# ---- C++ wrapper -------------------------------------------------------------------------
CXXFLAGS_STRICT := -std=c++17 -Wall -Wextra -Werror -pedantic
CLANGXX ?= clang++
CPP_HEADERS := bindings/cpp/recur.hpp include/recur.h

$(BUILD)/tests/test_wrapper: Tests/cpp/test_wrapper.cpp $(CPP_HEADERS) $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS_STRICT) -Iinclude -Ibindings/cpp $< -o $@ -L$(LIBDIR) -lrecur -ljson-c $(RPATH)

# The same test built by clang++ (the Swift toolchain's).
$(BUILD)/tests/test_wrapper_clang: Tests/cpp/test_wrapper.cpp $(CPP_HEADERS) $(LIB)
	@mkdir -p $(dir $@)
	$(CLANGXX) $(CXXFLAGS_STRICT) -Iinclude -Ibindings/cpp $< -o $@ -L$(LIBDIR) -lrecur -ljson-c $(RPATH)

$(BUILD)/examples/cpp/%: examples/cpp/%.cpp $(CPP_HEADERS) $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS_STRICT) -Iinclude -Ibindings/cpp $< -o $@ -L$(LIBDIR) -lrecur $(RPATH)

# recur_version_number() stand-ins (LD_PRELOAD) for the wrapper's version check.
$(BUILD)/tests/fake_version_%.so: Tests/cpp/fake_version.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_STRICT) -shared -fPIC -DRECUR_FAKE_VERSION=$* $< -o $@

# A newer MINOR (same MAJOR), the next MAJOR, the MINOR before the header's.
RECUR_NUMBER  := $(shell sed -n 's/^\#define RECUR_VERSION_NUMBER \([0-9]*\)$$/\1/p' include/recur.h)
FAKE_VERSIONS := $(shell n=$(RECUR_NUMBER); echo $$((n / 10000 * 10000 + 9900)) $$((n / 10000 * 10000 + 10000)) $$(((n / 100 - 1) * 100)))

test-cpp: $(BUILD)/tests/test_wrapper $(BUILD)/tests/test_wrapper_clang $(BUILD)/examples/cpp/stream \
          $(foreach v,$(FAKE_VERSIONS),$(BUILD)/tests/fake_version_$(v).so)
	$(BUILD)/tests/test_wrapper $(TESTDATA)
	$(BUILD)/tests/test_wrapper_clang $(TESTDATA)
	@# A newer MINOR is accepted; another MAJOR, or an older MINOR, is refused.
	LD_PRELOAD=$(abspath $(BUILD))/tests/fake_version_$(word 1,$(FAKE_VERSIONS)).so $(BUILD)/tests/test_wrapper --version ok
	LD_PRELOAD=$(abspath $(BUILD))/tests/fake_version_$(word 2,$(FAKE_VERSIONS)).so $(BUILD)/tests/test_wrapper --version error
	LD_PRELOAD=$(abspath $(BUILD))/tests/fake_version_$(word 3,$(FAKE_VERSIONS)).so $(BUILD)/tests/test_wrapper --version error
	Tests/cpp/check_stream.sh $(BUILD)/examples/cpp/stream

# ---- concurrency -------------------------------------------------------------------------
$(BUILD)/tests/test_concurrency: Tests/c/test_concurrency.c include/recur.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_STRICT) -Iinclude $< -o $@ -L$(LIBDIR) -lrecur -ljson-c -pthread -lm $(RPATH)

test-concurrency: $(BUILD)/tests/test_concurrency
	$(BUILD)/tests/test_concurrency $(TESTDATA)
