# The Swift API (module Recur, Sources/Recur): its tests run with `swift test`
# (Tests/RecurTests); this builds examples/swift, a package that depends on
# the checkout by path and does `import Recur`, and runs it.
#
#   make test-swift-example   build and run examples/swift (recur-stream), check what it prints

.PHONY: test-swift-example

FULL_TESTS += test-swift-example

# Its own scratch folder, started afresh when either manifest changes (SwiftPM
# keeps a path dependency's old target list otherwise).
SWIFT_EXAMPLE_SCRATCH := $(BUILD)/swift-example

$(SWIFT_EXAMPLE_SCRATCH)/.manifests: Package.swift examples/swift/Package.swift
	rm -rf $(SWIFT_EXAMPLE_SCRATCH)
	@mkdir -p $(SWIFT_EXAMPLE_SCRATCH)
	@touch $@

test-swift-example: $(SWIFT_EXAMPLE_SCRATCH)/.manifests | tools
	$(SWIFT) build --package-path examples/swift --scratch-path $(SWIFT_EXAMPLE_SCRATCH)/build
	@out=$$($(SWIFT_EXAMPLE_SCRATCH)/build/debug/recur-stream examples/models/tiny_lstm.json) || { echo "$$out"; exit 1; }; \
	echo "$$out"; \
	echo "$$out" | grep -q "run == steps, bit for bit" || { echo "test-swift-example: no 'run == steps, bit for bit'" >&2; exit 1; }; \
	echo "$$out" | grep -q "fine-tuning: loss" || { echo "test-swift-example: no fine-tuning line" >&2; exit 1; }; \
	echo "swift example: 2 passed, 0 failed"
