# The portable build: the package without its x86-64 kernel levels (and
# without their -march flags), as it builds on arm64 or any CPU that is not
# x86-64. RECUR_PORTABLE=1 drops them (Package.swift); the fast level is
# then `portable` (Swift SIMD types with fused multiply-adds), which gives
# the reference kernels' bits. Built in .build-portable, beside the normal build.
#
#   make test-portable   the Swift tests, then the C API and Python tests
#                        against a portable release library, all at the portable level

.PHONY: test-portable

FULL_TESTS += test-portable

PORTABLE_SCRATCH := .build-portable
PORTABLE_LIBDIR  := $(BUILD)/portable

test-portable: $(BUILD)/tests/test_api $(BUILD)/tests/test_trainer | tools
	RECUR_PORTABLE=1 $(SWIFT) test --scratch-path $(PORTABLE_SCRATCH)
	RECUR_PORTABLE=1 $(SWIFT) build -c release --product recur --scratch-path $(PORTABLE_SCRATCH)
	@mkdir -p $(PORTABLE_LIBDIR)
	cp "$$(RECUR_PORTABLE=1 $(SWIFT) build -c release --scratch-path $(PORTABLE_SCRATCH) --show-bin-path)/librecur.so" $(PORTABLE_LIBDIR)/librecur.so
	@# The tests are linked with RUNPATH build/lib: LD_LIBRARY_PATH takes the portable library first.
	test "$$(LD_LIBRARY_PATH=$(abspath $(PORTABLE_LIBDIR)) $(PYTHON) -c 'import ctypes; l = ctypes.CDLL("librecur.so"); l.recur_cpu_kernels.restype = ctypes.c_char_p; print(l.recur_cpu_kernels().decode())')" = portable
	LD_LIBRARY_PATH=$(abspath $(PORTABLE_LIBDIR)) $(BUILD)/tests/test_api $(TESTDATA) | tail -1
	LD_LIBRARY_PATH=$(abspath $(PORTABLE_LIBDIR)) $(BUILD)/tests/test_trainer $(TESTDATA) | tail -1
	RECUR_LIBRARY=$(abspath $(PORTABLE_LIBDIR))/librecur.so RECUR_TESTDATA=$(abspath $(TESTDATA)) bindings/python/run_tests.sh -x -q
