# The examples (docs/examples.md), built and checked.
#
#   make examples               build every C example into build/examples/
#   make test-examples          run the C examples and check what they print: demo, minimal,
#                               finetune (Tests/c/test_examples.sh); agents, adapt, charrnn
#                               (Tests/c/test_examples_apps.sh); tagger (checks itself)
#   make test-examples-python   examples/python/from_pytorch (PyTorch -> Recur -> C; torch optional)
#                               and examples/python/gradients (the vanishing-gradient run, checked)
#   make examples-python-gradients   regenerate examples/python/gradients/{README.md,*.png,results.json}

.PHONY: examples test-examples test-examples-python examples-python-gradients

FULL_TESTS += test-examples test-examples-python

C_EXAMPLES := $(patsubst examples/c/%.c,$(BUILD)/examples/%,$(wildcard examples/c/*.c))

# One rule for every C example (libm and -O2 for the simulations around the
# library calls in agents, adapt and charrnn).
$(BUILD)/examples/%: examples/c/%.c include/recur.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_STRICT) -O2 -Iinclude $< -o $@ -L$(LIBDIR) -lrecur -lm $(RPATH)

examples: $(C_EXAMPLES)

test-examples: $(C_EXAMPLES)
	Tests/c/test_examples.sh $(BUILD)/examples/demo $(BUILD)/examples/minimal $(BUILD)/examples/finetune
	Tests/c/test_examples_apps.sh $(BUILD)/examples/agents $(BUILD)/examples/adapt $(BUILD)/examples/charrnn
	@# tagger checks itself: the bidirectional tagger >= 97% and >= 20 points over the forward one.
	$(BUILD)/examples/tagger

$(BUILD)/examples/python/run_model: examples/python/from_pytorch/run_model.c include/recur.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_STRICT) -Iinclude $< -o $@ -L$(LIBDIR) -lrecur $(RPATH)

test-examples-python: lib $(BUILD)/examples/python/run_model
	PYTHON=$(PYTHON) examples/python/run_tests.sh $(BUILD)/examples/python/run_model $(BUILD)/examples/python

examples-python-gradients: lib
	$(PYTHON) examples/python/gradients/gradients.py
