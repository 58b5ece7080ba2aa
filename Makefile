# Billfold's build entry points. The README's two commands call `demo` and
# `test`; everything they need is built or installed from here.

CARGO ?= cargo
export CARGO_TARGET_DIR ?= $(CURDIR)/target
BIN := $(CARGO_TARGET_DIR)/debug

.PHONY: all build test test-rust lint demo bench fmt clean

all: build

build:
	$(CARGO) build --workspace --all-targets

## The whole test suite, as CI runs it.
test: test-rust

test-rust:
	$(CARGO) test --workspace

## Formatting and lints, as required before each commit.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## The end-to-end customer journey.
demo:
	$(CARGO) build -p billfold-cli
	BIN=$(BIN) scripts/demo.sh

## Criterion benchmarks for DESIGN's performance budgets.
bench:
	$(CARGO) bench -p wallet-core

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
