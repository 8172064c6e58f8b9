# The Rust crate, bindings/rust (docs/rust.md).
#
#   make test-rust   cargo test --offline in bindings/rust (reference cases, lengths, errors, the API,
#                    src/sys.rs against include/recur.h, docs/rust.md's Rust blocks against the
#                    code they copy, doc tests); its example
#                    bindings/rust/examples/stream.rs, checked as the C++ one is
#                    (Tests/cpp/check_stream.sh); and examples/rust, a crate of its own that depends
#                    on bindings/rust by path, built offline and run (it checks its numbers)
#
# Nothing is downloaded: the crate has no dependencies. Cargo builds into build/rust.

.PHONY: test-rust rust-tools

FULL_TESTS += test-rust

# cargo from PATH, else where rustup puts it.
ifeq ($(origin CARGO),undefined)
CARGO := $(or $(shell command -v cargo 2>/dev/null),$(wildcard $(HOME)/.cargo/bin/cargo),cargo)
endif
RUST_TARGET := $(abspath $(BUILD))/rust
# What build.rs and the tests read: the library to link (and rpath), the reference cases.
RUST_ENV := RECUR_LIB_DIR=$(abspath $(LIBDIR)) RECUR_TESTDATA=$(abspath $(TESTDATA)) CARGO_TARGET_DIR=$(RUST_TARGET)

rust-tools:
	@command -v $(CARGO) >/dev/null || { echo "error: no 'cargo' on PATH (nor in ~/.cargo/bin): install Rust (https://rustup.rs, or apt-get install cargo) or run make with CARGO=/path/to/cargo" >&2; exit 1; }

test-rust: $(LIB) | rust-tools
	$(RUST_ENV) $(CARGO) test --offline --manifest-path bindings/rust/Cargo.toml
	$(RUST_ENV) $(CARGO) build --offline --manifest-path bindings/rust/Cargo.toml --example stream
	Tests/cpp/check_stream.sh $(RUST_TARGET)/debug/examples/stream
	$(RUST_ENV) $(CARGO) run --offline --manifest-path examples/rust/Cargo.toml
