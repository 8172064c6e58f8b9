# Installing Recur, and the proof that the library stands alone (docs/install.md,
# docs/versioning.md).
#
#   make install           PREFIX=/usr/local (and DESTDIR=) : library, headers, recur.pc
#   make install-strip     the same with the library stripped (~40% smaller)
#   make uninstall         PREFIX= (and DESTDIR=) as given to install
#   make test-install      installs into a temporary PREFIX and builds against it with pkg-config (and CMake)
#   make test-standalone   readelf/nm checks; C and Python with the Swift toolchain hidden

.PHONY: test-standalone install install-strip uninstall test-install

FULL_TESTS += test-standalone test-install

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
