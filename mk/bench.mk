# Benchmarks: Recur against PyTorch and ONNX Runtime in one run (benchmarks/README.md).
#
#   make bench                      all workloads, written to benchmarks/results/
#   make bench BENCH_ARGS=--quick   fewer repetitions (any compare.py flag works there)

.PHONY: bench bench-int8

BENCH_ARGS ?=

$(BUILD)/bench/bench: benchmarks/bench.c include/recur.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=c99 -Iinclude $< -o $@ -L$(LIBDIR) -lrecur $(RPATH)

$(BUILD)/bench/jsonc_parse: benchmarks/jsonc_parse.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=c99 $< -o $@ -ljson-c

# The stream yardstick: plain -O3, the AVX-512 / AVX2 paths chosen at run time.
$(BUILD)/bench/stream: benchmarks/stream.c
	@mkdir -p $(dir $@)
	$(CC) -O3 -std=c11 $< -o $@

bench: lib $(BUILD)/bench/bench $(BUILD)/bench/jsonc_parse $(BUILD)/bench/stream
	$(PYTHON) benchmarks/compare.py $(BENCH_ARGS)

# The int8 product's paths side by side (portable, AVX2, AVX-VNNI, AVX-512
# VNNI: those this CPU has), built from its C source as the library builds
# it (clang, -O2: SwiftPM's compiler; gcc keeps the AVX-512 path's sixteen
# sums in memory): docs/performance.md.
CLANG ?= clang
$(BUILD)/bench/int8_paths: benchmarks/int8_paths.c Sources/CRecurInt8/int8.c Sources/CRecurInt8/include/recur_int8.h
	@mkdir -p $(dir $@)
	$(CLANG) -O2 -std=c11 -ISources/CRecurInt8/include benchmarks/int8_paths.c Sources/CRecurInt8/int8.c -o $@ -lm

bench-int8: $(BUILD)/bench/int8_paths
	$(BUILD)/bench/int8_paths
