# The Python binding (bindings/python).
#
#   make test-python   pytest over bindings/python/tests with the package from the
#                      source tree and build/lib/librecur.so (torch/keras tests run
#                      when those are installed: bindings/python/install_test_extras.sh)

.PHONY: test-python

CHECK_TESTS += test-python

test-python: lib
	RECUR_TESTDATA=$(abspath $(TESTDATA)) bindings/python/run_tests.sh
