# The guides: every code block of README.md and docs/*.md is compiled or run.
#
#   make test-docs   Tests/docs/check_docs.py (conventions in its opening comment)

.PHONY: test-docs

FULL_TESTS += test-docs

test-docs: lib
	$(PYTHON) Tests/docs/check_docs.py --testdata $(TESTDATA) --cc "$(CC)" --cxx "$(CXX)" --cflags "$(CFLAGS_STRICT)"
