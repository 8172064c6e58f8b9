# Guides and Python examples (docs/README.md, examples/python/).
#
#   make test-docs              compile or run every code block of README.md and docs/*.md
#                               (Tests/docs/check_docs.py; conventions in its opening comment)
#   make test-examples-python   examples/python/from_pytorch (PyTorch -> Recur -> C; torch optional)
#                               and examples/python/gradients (the vanishing-gradient run, checked)
#   make examples-python-gradients   regenerate examples/python/gradients/{README.md,*.png,results.json}

.PHONY: test-docs test-examples-python examples-python-gradients

EXTRA_TESTS += test-docs test-examples-python

test-docs: lib
	$(PYTHON) Tests/docs/check_docs.py --testdata $(TESTDATA) --cc "$(CC)" --cxx "$(CXX)" --cflags "$(CFLAGS_STRICT)"

$(BUILD)/examples/python/run_model: examples/python/from_pytorch/run_model.c include/recur.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_STRICT) -Iinclude $< -o $@ -L$(LIBDIR) -lrecur $(RPATH)

test-examples-python: lib $(BUILD)/examples/python/run_model
	PYTHON=$(PYTHON) examples/python/run_tests.sh $(BUILD)/examples/python/run_model $(BUILD)/examples/python

examples-python-gradients: lib
	$(PYTHON) examples/python/gradients/gradients.py
