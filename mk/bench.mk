# Benchmarks: Recur against PyTorch and ONNX Runtime in one run (benchmarks/README.md).
#
#   make bench                      all workloads, written to benchmarks/results/
#   make bench BENCH_ARGS=--quick   fewer repetitions (any compare.py flag works there)

.PHONY: bench

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
