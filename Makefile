# Kubernaut Context API — the two commands a new user needs:
#   make run    build and serve the combined server + web UI on http://127.0.0.1:8091
#               (embedded store under ./data, seeded with demo data on first start)
#   make test   install what the tests need and run every test suite
.PHONY: run test tools build lambda bench fmt lint clean

export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

ADDR ?= 127.0.0.1:8091
DATA_DIR ?= ./data

run: tools
	cargo leptos build
	@if [ ! -e "$(DATA_DIR)/.seeded" ]; then \
	  echo "==> first start: seeding demo history into $(DATA_DIR)"; \
	  target/debug/kubernaut-context seed-demo --data-dir "$(DATA_DIR)" && touch "$(DATA_DIR)/.seeded"; \
	fi
	LEPTOS_SITE_ROOT=target/site target/debug/kubernaut-context serve --addr $(ADDR) --data-dir $(DATA_DIR)

test:
	scripts/test.sh

tools:
	scripts/ensure-tools.sh

build: tools
	cargo leptos build

lambda:
	scripts/lambda-build.sh

# Performance figures (not pass/fail; BENCH_QUICK=1 for a short run): docs/PERFORMANCE.md
bench:
	scripts/bench.sh

fmt:
	cargo fmt --all

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

clean:
	cargo clean
