# The examples of issue 7: a game loop with 500 LSTM agents, a model that
# adapts online to a drifting plant, a character-level model (docs/examples.md).
#
#   make examples-more        build build/examples/{agents,adapt,charrnn}
#   make test-examples-more   run them and check what they print (part of `make test`)

EXAMPLES_MORE := $(BUILD)/examples/agents $(BUILD)/examples/adapt $(BUILD)/examples/charrnn

# As the main Makefile's rule for single-file examples, plus libm (sqrt, exp,
# log, pow) and -O2 for the simulations around the library calls.
$(EXAMPLES_MORE): $(BUILD)/examples/%: examples/c/%.c include/recur.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_STRICT) -O2 -Iinclude $< -o $@ -L$(LIBDIR) -lrecur -lm $(RPATH)

.PHONY: examples-more test-examples-more

examples-more: $(EXAMPLES_MORE)

test-examples-more: $(EXAMPLES_MORE)
	Tests/c/test_examples_more.sh $(EXAMPLES_MORE)

EXTRA_TESTS += test-examples-more
