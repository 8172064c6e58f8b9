# The Python binding (bindings/python; docs/python.md).
#
#   make test-python  pytest over bindings/python/tests with the package from the
#                     source tree and build/lib/librecur.so (torch/keras tests run
#                     when those are installed: bindings/python/install_test_extras.sh)
#   make wheel        build/wheel/recur-VERSION-py3-none-PLATFORM.whl: the package with
#                     build/lib/librecur.so inside (recur/lib/), the version from
#                     Sources/RecurCore/Version.swift, PLATFORM from the library's glibc
#                     needs (bindings/python/build_backend/recur_build.py; no downloads)
#   make test-wheel   installs it into a fresh venv (numpy from PyPI) and, with the Swift
#                     toolchain hidden and outside the checkout, loads and runs a model,
#                     checks python -m recur --version, then the error without numpy
#                     (bindings/python/check_wheel.sh)

.PHONY: test-python wheel test-wheel

CHECK_TESTS += test-python
FULL_TESTS  += test-wheel

WHEEL_DIR := $(BUILD)/wheel

test-python: lib
	RECUR_TESTDATA=$(abspath $(TESTDATA)) bindings/python/run_tests.sh

# pip builds with the package's own backend (pyproject.toml); --no-index: nothing to fetch.
wheel: lib
	@mkdir -p $(WHEEL_DIR)
	rm -f $(WHEEL_DIR)/recur-*.whl
	$(PYTHON) -m pip wheel -q --no-deps --no-index -w $(WHEEL_DIR) ./bindings/python
	@ls -l $(WHEEL_DIR)/recur-*.whl

test-wheel: wheel
	PYTHON=$(PYTHON) bindings/python/check_wheel.sh $(WHEEL_DIR)
