# Hostile and careless input (issue 15), Tests/hostile/:
#
#   make test-hostile   test_oom: every input-sized allocation failing in turn, never an abort;
#                       test_hostile: document bombs, declared sizes, FIFOs, long names, training
#                       beyond float32 and fp16, messages, an address-space limit

.PHONY: test-hostile

FULL_TESTS += test-hostile

$(BUILD)/tests/test_oom $(BUILD)/tests/test_hostile: $(BUILD)/tests/%: Tests/hostile/%.c include/recur.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -Wall -Wextra -Werror -O1 -Iinclude $< -o $@ -L$(LIBDIR) -lrecur $(RPATH)

test-hostile: $(BUILD)/tests/test_oom $(BUILD)/tests/test_hostile
	@mkdir -p $(BUILD)/hostile
	SWIFT_BACKTRACE=enable=no $(BUILD)/tests/test_oom $(BUILD)/hostile
	SWIFT_BACKTRACE=enable=no $(BUILD)/tests/test_hostile $(BUILD)/hostile
	PYTHONPATH=bindings/python RECUR_LIBRARY=$(abspath $(LIB)) $(PYTHON) -m pytest -q Tests/hostile
