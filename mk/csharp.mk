# The C# binding, bindings/csharp (P/Invoke over librecur), built and run with
# Mono from Debian's packages (mono-mcs, mono-runtime; scripts/install-csharp-deps.sh).
#
#   make test-csharp   build bindings/csharp into $(BUILD)/csharp/Recur.dll (and once with
#                      RECUR_NO_SPAN, the array-only form), run bindings/csharp/tests/Tests.cs
#                      against the reference cases, build examples/csharp/Stream.cs and check
#                      what it prints, compile and run the blocks of docs/csharp.md
#
# With a prebuilt library instead of building one:
#   make test-csharp LIB=/path/to/lib/librecur.so LIBDIR=/path/to/lib
# A LIB given on the command line is used as it is: depending on it would let the
# Makefile's $(LIB) rule rebuild it with swift whenever Sources/ is newer.

.PHONY: test-csharp csharp-tools

FULL_TESTS += test-csharp

MCS  ?= mcs
MONO ?= mono
CSHARP_BUILD   := $(BUILD)/csharp
CSHARP_SOURCES := $(wildcard bindings/csharp/*.cs)
CSHARP_TESTS   := $(wildcard bindings/csharp/tests/*.cs)
# -unsafe: the binding pins arrays with `fixed`; -debug: line numbers in stack traces.
CSHARP_FLAGS   := -unsafe -warnaserror+ -debug -optimize+
CSHARP_LIB     := $(if $(filter command line,$(origin LIB)),,$(LIB))
# The library's directory first on the loader's path: DllImport("recur") finds librecur.so there.
CSHARP_ENV      = LD_LIBRARY_PATH=$(abspath $(LIBDIR))$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH}

csharp-tools:
	@command -v $(MCS) >/dev/null && command -v $(MONO) >/dev/null || { echo "error: the C# tests need Mono's '$(MCS)' and '$(MONO)': run scripts/install-csharp-deps.sh (on Debian/Ubuntu: apt-get install -y mono-mcs mono-runtime)" >&2; exit 1; }

$(CSHARP_BUILD)/Recur.dll: $(CSHARP_SOURCES) | csharp-tools
	@mkdir -p $(dir $@)
	$(MCS) -target:library $(CSHARP_FLAGS) -out:$@ $(CSHARP_SOURCES)

# The form for runtimes without Span<T> (older Unity profiles): compiled only.
$(CSHARP_BUILD)/nospan/Recur.dll: $(CSHARP_SOURCES) | csharp-tools
	@mkdir -p $(dir $@)
	$(MCS) -target:library $(CSHARP_FLAGS) -define:RECUR_NO_SPAN -out:$@ $(CSHARP_SOURCES)

$(CSHARP_BUILD)/Tests.exe: $(CSHARP_TESTS) $(CSHARP_BUILD)/Recur.dll
	$(MCS) $(CSHARP_FLAGS) -r:$(CSHARP_BUILD)/Recur.dll -out:$@ $(CSHARP_TESTS)

$(CSHARP_BUILD)/Stream.exe: examples/csharp/Stream.cs $(CSHARP_BUILD)/Recur.dll
	$(MCS) $(CSHARP_FLAGS) -r:$(CSHARP_BUILD)/Recur.dll -out:$@ $<

test-csharp: $(CSHARP_LIB) $(CSHARP_BUILD)/Tests.exe $(CSHARP_BUILD)/Stream.exe $(CSHARP_BUILD)/nospan/Recur.dll
	@test -f $(LIB) || { echo "error: no library at $(LIB): run 'make lib', or give LIB=... LIBDIR=..." >&2; exit 1; }
	$(CSHARP_ENV) $(MONO) --debug $(CSHARP_BUILD)/Tests.exe $(TESTDATA) include/recur.h examples/models
	$(CSHARP_ENV) bindings/csharp/tests/check_stream.sh $(MONO) --debug $(CSHARP_BUILD)/Stream.exe
	$(CSHARP_ENV) bindings/csharp/tests/check_docs.sh docs/csharp.md $(CSHARP_BUILD) $(MCS) $(MONO)
