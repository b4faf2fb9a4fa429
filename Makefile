# pagelab: the two commands of the quick start.
#
#   make serve   build the web lab and serve it on http://127.0.0.1:8080
#   make test    run every test (formatting, lints, host and wasm tests, the
#                browser tests, both kernels under QEMU)
#
# Both install whatever is missing first (scripts/setup.sh) and skip what is
# already there.

PORT ?= 8080

.PHONY: serve test setup build bench perf kernels clean

serve:
	scripts/setup.sh serve
	web/build.sh --release
	@echo "pagelab: http://127.0.0.1:$(PORT)/  (Ctrl-C to stop)"
	python3 -m http.server $(PORT) --bind 127.0.0.1 --directory dist

test:
	scripts/setup.sh test
	scripts/test.sh

setup:
	scripts/setup.sh test

build:
	scripts/setup.sh serve
	web/build.sh --release

bench:
	cargo bench -p pagelab-core
	scripts/bench.sh

perf:
	scripts/setup.sh test
	scripts/perf.sh

kernels:
	kernel/build.sh

clean:
	cargo clean
	rm -rf dist e2e/artifacts
