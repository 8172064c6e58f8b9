# Determinism (docs/c-api.md, "Determinism"): the same bits at the reference,
# AVX2 and AVX-512 levels and with any trainer thread count.
#
#   make test-determinism     the determinism tests with the active level forced to
#                             each promised level (part of `make test`)
#   make determinism-hashes   regenerate Tests/determinism/hashes.txt (after a
#                             deliberate change of the bits or of the case files)

.PHONY: test-determinism determinism-hashes

test-determinism:
	@for level in avx512 avx2 reference; do \
	    echo "determinism tests, RECUR_CPU=$$level"; \
	    RECUR_CPU=$$level $(SWIFT) test --filter 'DeterminismTests|DeterminismHashTests|ThreadTests' 2>&1 | grep -E 'error:|Executed [0-9]+ tests' | tail -4 || exit 1; \
	done

determinism-hashes:
	RECUR_WRITE_HASHES=1 $(SWIFT) test --filter DeterminismHashTests

FULL_TESTS += test-determinism
