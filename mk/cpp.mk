# The header-only C++17 wrapper, bindings/cpp/recur.hpp.
#
#   make test-cpp   Tests/cpp/test_wrapper.cpp (g++ and clang++), its version checks, examples/cpp

.PHONY: test-cpp

FULL_TESTS += test-cpp

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
