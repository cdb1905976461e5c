# Kubernaut Context API — the two commands a new user needs:
#   make run    build and serve the combined server + web UI on http://127.0.0.1:8091
#               (embedded store under ./data, seeded with demo data on first start)
#   make test   install what the tests need and run every test suite
# Others: make check (the inner loop: fmt, clippy, cargo test), make watch (cargo leptos
# watch; installs cargo-leptos on first use), make image.
.PHONY: run test check tools build watch image lambda bench fmt lint clean

export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

ADDR ?= 127.0.0.1:8091
DATA_DIR ?= ./data
# The server binary `cargo xtask build` writes ($CARGO_TARGET_DIR, or target/).
BIN := $(or $(CARGO_TARGET_DIR),target)/debug/kubernaut-context

# The RUSTFLAGS `cargo xtask build` gives debug builds (cargo-leptos's): cargo test and
# clippy use them too, so `make run` after `make check` reuses their dependency builds.
# xtask itself is tested without them, as `cargo xtask` builds it.
DEBUG_RUSTFLAGS := $(strip $(RUSTFLAGS) --cfg erase_components)

# `cargo xtask build`: the server and the web app's site (target/site), as `cargo leptos
# build` would build them, with plain cargo (xtask/).
run: tools
	cargo xtask build
	@if [ ! -e "$(DATA_DIR)/.seeded" ]; then \
	  echo "==> first start: seeding demo history into $(DATA_DIR)"; \
	  $(BIN) seed-demo --data-dir "$(DATA_DIR)" && touch "$(DATA_DIR)/.seeded"; \
	fi
	LEPTOS_SITE_ROOT=target/site $(BIN) serve --addr $(ADDR) --data-dir $(DATA_DIR)

test:
	scripts/test.sh

# The inner loop: rustfmt check, clippy and every cargo test (the DynamoDB adapter's on
# moto), without the browser, HolmesGPT, Lambda, fuzz and validator phases of make test.
check:
	scripts/ensure-python.sh
	cargo fmt --all -- --check
	RUSTFLAGS="$(DEBUG_RUSTFLAGS)" cargo clippy --workspace --all-targets -- -D warnings
	RUSTFLAGS="$(DEBUG_RUSTFLAGS)" scripts/with-moto.sh cargo test --workspace --exclude xtask
	cargo test -p xtask

tools:
	scripts/ensure-tools.sh

build: tools
	cargo xtask build

# Rebuilds server + wasm on every change and restarts the server (cargo-leptos, installed
# here on first use: 26-34 min once on 2 cores).
watch:
	scripts/ensure-tools.sh watch
	cargo leptos watch

# The container image kubernaut-context-api:<version> (Containerfile; static musl binary
# + site, FROM scratch, built here with buildah without pulling a base image), then
# checked (scripts/test-image.sh). First build: 1 500 s of CPU (release server + wasm).
image:
	scripts/image-build.sh
	scripts/test-image.sh

lambda:
	scripts/lambda-build.sh

# Performance figures (not pass/fail; BENCH_QUICK=1 for a short run): docs/PERFORMANCE.md
bench:
	scripts/bench.sh

fmt:
	cargo fmt --all

# The browser build of the web app too (feature hydrate, wasm32), in the target
# directory `cargo xtask build` uses for it, so the two share their dependencies.
lint:
	cargo fmt --all -- --check
	RUSTFLAGS="$(DEBUG_RUSTFLAGS)" cargo clippy --workspace --all-targets -- -D warnings
	RUSTFLAGS="$(DEBUG_RUSTFLAGS)" cargo clippy -p app --no-default-features --features hydrate --target wasm32-unknown-unknown \
	  --target-dir $(or $(CARGO_TARGET_DIR),target)/front -- -D warnings

clean:
	cargo clean
