# C API tests (Tests/c), each one C file linked against the release library.
#
#   make test-c             test_api, test_trainer and test_alloc at this CPU's kernel level
#   make test-c-levels      test_api and test_trainer again at the lower levels (RECUR_CPU)
#   make test-concurrency   8 threads sharing one model, a trainer on a clone meanwhile

.PHONY: test-c test-c-levels test-concurrency

CHECK_TESTS += test-c
FULL_TESTS  += test-c-levels test-concurrency

# One rule for every C test program (json-c: the tests read the reference
# cases with it, independently of the library's own reader).
$(BUILD)/tests/%: Tests/c/%.c Tests/c/check.h Tests/c/cases.h include/recur.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_STRICT) -Iinclude $< -o $@ -L$(LIBDIR) -lrecur -ljson-c -pthread -lm $(RPATH)

# test_alloc interposes malloc to prove that step, run and trainer steps allocate nothing.
test-c: $(BUILD)/tests/test_api $(BUILD)/tests/test_trainer $(BUILD)/tests/test_alloc
	$(BUILD)/tests/test_api $(TESTDATA)
	$(BUILD)/tests/test_trainer $(TESTDATA)
	$(BUILD)/tests/test_alloc

test-c-levels: $(BUILD)/tests/test_api $(BUILD)/tests/test_trainer
	RECUR_CPU=sse2 $(BUILD)/tests/test_api $(TESTDATA) | tail -1
	RECUR_CPU=reference $(BUILD)/tests/test_api $(TESTDATA) | tail -1
	RECUR_CPU=reference $(BUILD)/tests/test_trainer $(TESTDATA) | tail -1

test-concurrency: $(BUILD)/tests/test_concurrency
	$(BUILD)/tests/test_concurrency $(TESTDATA)
