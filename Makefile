# Billfold's build entry points. The README's two commands call `demo` and
# `test`; everything they need is built or installed from here.

CARGO ?= cargo
export CARGO_TARGET_DIR ?= $(CURDIR)/target
BIN := $(CARGO_TARGET_DIR)/debug

.PHONY: all build test test-rust lint demo bench fmt clean tzdata
.PHONY: test-server bench-server bench-sync
.PHONY: bench-ledger bench-scan bench-tap qr-eval
.PHONY: bindings test-kotlin swift-check release-size-lib size bench-kotlin

all: build

build:
	$(CARGO) build --workspace --all-targets

## The whole test suite, as CI runs it.
test: test-rust test-server test-kotlin swift-check

## Time zones come from the system's database, as on phones.
tzdata:
	@scripts/need-tzdata.sh

test-rust: tzdata
	$(CARGO) test --workspace --exclude billfold-server

## The bank server's suite runs against SQLite and a throwaway PostgreSQL
## on loopback (installed with apt-get if missing, stopped afterwards).
test-server:
	scripts/with-postgres.sh $(CARGO) test -p billfold-server

## Formatting and lints, as required before each commit.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## The end-to-end customer journey.
demo: tzdata
	$(CARGO) build -p billfold-cli -p billfold-server
	BIN=$(BIN) scripts/demo.sh

## Criterion benchmarks for DESIGN's performance budgets.
bench: bench-kotlin bench-server
	$(CARGO) bench -p wallet-core

## Tap to pay through the Wallet alone: each APDU, and the whole
## transaction with its durable key-use commit, p50/p99 over 2000 taps, on
## disk and on tmpfs (also part of `bench`).
bench-tap:
	$(CARGO) bench -p wallet-core --bench tap

## The ledger's budgets alone (100k transactions; also part of `bench`).
bench-ledger:
	$(CARGO) bench -p wallet-core --bench ledger

## QR scanning (1920x1080 frame), payload parsing and code generation alone
## (also part of `bench`).
bench-scan:
	$(CARGO) bench -p wallet-core --bench scan

## QR decode rate on generated camera-like frames, against zxing-cpp's own
## single pass (scripts/qr-eval/README.md). Not part of `test` or `bench`.
qr-eval:
	scripts/qr-eval/run.sh

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean

## Server throughput and latency with many concurrent devices, and the
## wallet's end-to-end sync of 10,000 outbox operations to a real server
## process (budget 2 s), on SQLite and PostgreSQL (figures in
## server/README.md).
bench-server:
	scripts/with-postgres.sh $(CARGO) bench -p billfold-server

## The wallet's 10k-operation sync alone (also part of `bench`).
bench-sync:
	scripts/with-postgres.sh $(CARGO) bench -p billfold-server --bench wallet_sync

# ---------------------------------------------------------------------------
# Bindings (bindings/README.md): uniffi generates Kotlin and Swift from the
# unstripped library (uniffi reads its metadata from the symbol table), and
# only then is a copy stripped.

# billfold-lib links the uniffi crate (billfold-ffi) into the library the
# apps load (bindings/lib/lib.rs says why it is a package of its own).
FFI_LIB        := libbillfold.so
BINDGEN        := $(CARGO_TARGET_DIR)/debug/uniffi-bindgen
# Which cargo profile `make bindings` builds: debug for development and the
# Kotlin tests; `make bindings BINDINGS_PROFILE=release-size` for shipping.
BINDINGS_PROFILE ?= debug
BINDINGS_LIBDIR  := $(CARGO_TARGET_DIR)/$(if $(filter debug,$(BINDINGS_PROFILE)),debug,$(BINDINGS_PROFILE))
KOTLIN_JVM_OUT     := bindings/kotlin/src/main/kotlin
KOTLIN_ANDROID_OUT := bindings/kotlin-android/src/main/kotlin
SWIFT_OUT          := bindings/swift/Sources/BillfoldCore
SWIFT_HEADERS      := bindings/swift/Headers
MVN                := mvn -B -q
SWIFT_VENV         := bindings/.venv
SIZE_BUDGET_BYTES  := 4194304

## Kotlin (desktop JVM and Android flavours) and Swift, from the library.
bindings:
	$(CARGO) build -p uniffi-bindgen
	$(CARGO) build -p billfold-lib $(if $(filter debug,$(BINDINGS_PROFILE)),,--profile $(BINDINGS_PROFILE))
	rm -rf $(KOTLIN_JVM_OUT) $(KOTLIN_ANDROID_OUT) $(SWIFT_OUT)/BillfoldCore.swift $(SWIFT_HEADERS) $(CARGO_TARGET_DIR)/uniffi-swift
	$(BINDGEN) generate --no-format --config uniffi.toml --language kotlin \
		--out-dir $(KOTLIN_JVM_OUT) $(BINDINGS_LIBDIR)/$(FFI_LIB)
	$(BINDGEN) generate --no-format --config uniffi-android.toml --language kotlin \
		--out-dir $(KOTLIN_ANDROID_OUT) $(BINDINGS_LIBDIR)/$(FFI_LIB)
	scripts/kotlin_call_status.py $(KOTLIN_JVM_OUT)/app/billfold/core/billfold.kt \
		$(KOTLIN_ANDROID_OUT)/app/billfold/core/billfold.kt
	$(BINDGEN) generate --no-format --config uniffi.toml --language swift \
		--out-dir $(CARGO_TARGET_DIR)/uniffi-swift $(BINDINGS_LIBDIR)/$(FFI_LIB)
	mkdir -p $(SWIFT_OUT) $(SWIFT_HEADERS)
	mv $(CARGO_TARGET_DIR)/uniffi-swift/BillfoldCore.swift $(SWIFT_OUT)/
	mv $(CARGO_TARGET_DIR)/uniffi-swift/BillfoldCoreFFI.h $(SWIFT_HEADERS)/
	mv $(CARGO_TARGET_DIR)/uniffi-swift/BillfoldCoreFFI.modulemap $(SWIFT_HEADERS)/module.modulemap
	mkdir -p $(BINDINGS_LIBDIR)/stripped
	strip --strip-all -o $(BINDINGS_LIBDIR)/stripped/$(FFI_LIB) $(BINDINGS_LIBDIR)/$(FFI_LIB)
	@echo "bindings: Kotlin in $(KOTLIN_JVM_OUT) and $(KOTLIN_ANDROID_OUT), Swift in $(SWIFT_OUT); stripped copy in $(BINDINGS_LIBDIR)/stripped"

## JUnit tests of the Kotlin bindings against the real library (Maven).
test-kotlin: bindings tzdata
	@command -v mvn >/dev/null && command -v java >/dev/null || { \
		echo "test-kotlin needs Maven and a JDK 17+ (Debian: apt-get install maven openjdk-17-jdk-headless)"; exit 1; }
	$(CARGO) build -p billfold-server
	rm -rf bindings/kotlin/target/surefire-reports
	cd bindings/kotlin && $(MVN) test -Dcargo.target.dir=$(CARGO_TARGET_DIR)
	@python3 scripts/surefire_summary.py bindings/kotlin/target/surefire-reports

## Syntax check of every Swift file (no Swift toolchain here), and the
## checker's own tests, which prove it fails on a broken file.
swift-check: bindings $(SWIFT_VENV)/.installed
	$(SWIFT_VENV)/bin/python scripts/test_swift_check.py
	$(SWIFT_VENV)/bin/python scripts/swift_check.py

$(SWIFT_VENV)/.installed: scripts/swift-check-requirements.txt
	python3 -m venv $(SWIFT_VENV)
	$(SWIFT_VENV)/bin/pip install -q --disable-pip-version-check -r scripts/swift-check-requirements.txt
	touch $@

## The library that ships: release-size profile, and a stripped copy.
##
## billfold-lib, not billfold-ffi: cargo runs LTO only when every crate
## type of the package can take it, and billfold-ffi's plain `lib` (for
## the Rust tests) cannot; billfold-lib is only cdylib + staticlib, so
## mobile builds get LTO with a plain `cargo build` too. `cargo rustc`
## here only to pass a link flag to this one crate: on Linux (the x86_64
## stand-in for arm64) relative relocations are packed as RELR, which needs
## glibc 2.36 or later to load; Android builds pack them in the format its
## loader reads (.cargo/config.toml).
comma := ,
RELEASE_SIZE_RUSTC_ARGS := $(if $(filter Linux,$(shell uname -s)),-C link-arg=-Wl$(comma)-z$(comma)pack-relative-relocs)
release-size-lib:
	$(CARGO) rustc -p billfold-lib --profile release-size --lib -- $(RELEASE_SIZE_RUSTC_ARGS)
	@if nm -C $(CARGO_TARGET_DIR)/release-size/$(FFI_LIB) | grep -qE 'ZXing::(OneD|Aztec|DataMatrix|MaxiCode|Pdf417)::'; then \
		echo "zxing-cpp was built with every barcode format, before scripts/cmake-qr-only.sh applied;"; \
		echo "rerun its build script: rm -rf $(CARGO_TARGET_DIR)/*/.fingerprint/zxing-cpp-*, then make again"; exit 1; fi
	mkdir -p $(CARGO_TARGET_DIR)/release-size/stripped
	strip --strip-all -o $(CARGO_TARGET_DIR)/release-size/stripped/$(FFI_LIB) $(CARGO_TARGET_DIR)/release-size/$(FFI_LIB)

## The shipped library's size, stripped, against DESIGN's budget (4 MB).
size: release-size-lib
	@size=$$(stat -c %s $(CARGO_TARGET_DIR)/release-size/stripped/$(FFI_LIB)); \
	echo "stripped $(FFI_LIB) (release-size, $$(uname -m)): $$size bytes ($$((size / 1024)) KiB), budget $(SIZE_BUDGET_BYTES)"; \
	test $$size -le $(SIZE_BUDGET_BYTES) || { echo "over the size budget"; exit 1; }

## FFI call costs from Kotlin, against the release-size library. It needs
## that build, not its size verdict: `make size` reports the budget.
bench-kotlin: bindings release-size-lib
	cd bindings/kotlin && $(MVN) -Pbench verify -Dcargo.target.dir=$(CARGO_TARGET_DIR)
