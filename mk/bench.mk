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

bench: lib $(BUILD)/bench/bench $(BUILD)/bench/jsonc_parse
	$(PYTHON) benchmarks/compare.py $(BENCH_ARGS)
