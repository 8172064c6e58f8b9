# Scale-out on Ray (examples/python/scale_out; docs/scaling.md).
#
#   make test-scale-out   on a local Ray cluster (ray.init(num_cpus=2)): score.py scores 100,000
#                         synthetic sensor logs with Ray Data map_batches at 1 and 2 workers and
#                         checks a sample against recur run in the driver (bit-identical);
#                         finetune.py fine-tunes one model per robot (64) as Ray tasks, saves
#                         each and checks they load and improved. About a minute on 2 cores.
#                         Needs ray[data]: bindings/python/install_test_extras.sh installs it
#                         (CI runs it); without it the target fails and says so.
#                         The measured numbers: build/examples/scale_out/score.json

.PHONY: test-scale-out

FULL_TESTS += test-scale-out

SCALE_OUT_DIR := $(BUILD)/examples/scale_out
# The package from the source tree and the library from build/lib, as for the other Python examples;
# Ray's local workers inherit this environment.
SCALE_OUT_ENV := PYTHONPATH=$(abspath bindings/python)$${PYTHONPATH:+:$$PYTHONPATH} \
                 RECUR_LIBRARY=$${RECUR_LIBRARY:-$(abspath $(LIB))}

test-scale-out: lib
	@$(PYTHON) -c "import ray, ray.data" 2>/dev/null || { echo "error: test-scale-out needs Ray, which '$(PYTHON)' cannot import: run bindings/python/install_test_extras.sh (or $(PYTHON) -m pip install \"ray[data]\")" >&2; exit 1; }
	@mkdir -p $(SCALE_OUT_DIR)
	$(SCALE_OUT_ENV) $(PYTHON) examples/python/scale_out/score.py --json $(SCALE_OUT_DIR)/score.json
	$(SCALE_OUT_ENV) $(PYTHON) examples/python/scale_out/finetune.py
