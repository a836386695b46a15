# gantrain — train GANs on the CPU.
#
#   make train   train the default DCGAN on MNIST (configs/dcgan.yaml)
#   make test    vet, tests (pure-Go and OpenBLAS builds), race detector
#   make emoji   the Twemoji colour data set, one folder per category, in data/emoji
#
# The matrix products run on gantrain's own GEMM (Go + AVX-512/AVX2
# assembly, no cgo): measured as fast as OpenBLAS at its best and faster
# than OpenBLAS as Debian's build runs here (docs/performance.md).
# make BLAS=openblas builds against OpenBLAS (apt-get install libopenblas-dev).

GO      ?= go
CONFIG  ?= configs/dcgan.yaml
BIN     := bin/gantrain
BLAS    ?=
TAGS    := $(if $(filter openblas,$(BLAS)),openblas,)
# Whether a program links against OpenBLAS: then make test tests that build too.
HAVE_OPENBLAS := $(shell printf 'int main(void){return 0;}' | $${CC:-cc} -x c - -lopenblas -o /dev/null >/dev/null 2>&1 && echo yes)
GOFLAGS_TAGS := $(if $(TAGS),-tags '$(TAGS)',)
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo devel)
# Packages that start goroutines: checked with the race detector.
RACE_PKGS := ./internal/parallel/... ./internal/data/... ./internal/kernels/... ./internal/nn/... ./internal/optim/... ./internal/train/... ./internal/blas/... ./internal/metrics/...

.PHONY: all build train smoke test vet race bench bench-gemm bench-compare deps fmt clean emoji

all: build

build:
	$(GO) build $(GOFLAGS_TAGS) -ldflags "-X main.Version=$(VERSION)" -o $(BIN) ./cmd/gantrain
	@$(BIN) version | tail -2

train: build
	$(BIN) train --config $(CONFIG)

# The acceptance smoke run of the first issue: 30 steps, then a sample grid.
smoke: build
	rm -rf runs/smoke
	$(BIN) train --config $(CONFIG) --set train.steps=30 --set output.dir=runs/smoke
	$(BIN) sample --run runs/smoke --n 64 --out runs/smoke/g.png

# The OpenBLAS pass tests the internal packages, where the build tag
# changes the matrix products; cmd/gantrain's tests (the command line, the
# exported train.py under PyTorch) are the same in both builds and run once.
test: vet
	CGO_ENABLED=0 $(GO) test -count=1 ./...
ifneq ($(HAVE_OPENBLAS),)
	$(GO) test -tags openblas -count=1 ./internal/...
endif
	$(GO) test $(GOFLAGS_TAGS) -race -short -count=1 $(RACE_PKGS)

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo 'gofmt: files need formatting'; exit 1; }
	$(GO) vet ./...
ifneq ($(HAVE_OPENBLAS),)
	$(GO) vet -tags openblas ./internal/blas/...
endif

bench: build
	$(GO) test $(GOFLAGS_TAGS) -run '^$$' -bench . -benchtime 20x ./internal/...

# A real colour data set: the 3,786 Twemoji images (64×64 RGBA PNG, CC-BY
# 4.0, https://github.com/twitter/twemoji) of the npm package
# emoji-datasource-twitter, one folder per category of its emoji.json.
# npm pack is the only network access.
EMOJI_VERSION := 16.0.0
emoji: data/emoji

data/emoji:
	rm -rf data/.emoji-pkg && mkdir -p data/.emoji-pkg
	cd data/.emoji-pkg && npm pack --silent emoji-datasource-twitter@$(EMOJI_VERSION)
	tar -xzf data/.emoji-pkg/emoji-datasource-twitter-$(EMOJI_VERSION).tgz -C data/.emoji-pkg
	node scripts/emoji-layout.js data/.emoji-pkg/package data/emoji
	rm -rf data/.emoji-pkg

# GFLOP/s of gantrain's GEMM kernels (and OpenBLAS, when installed) on the
# DCGAN's layer shapes, 1 and 2 threads, interleaved rounds (medians).
# OPENBLAS_CORETYPE pins OpenBLAS to older kernels on some machines: unset
# here, so that OpenBLAS runs its best kernels for this CPU.
bench-gemm:
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(GO) run $(if $(HAVE_OPENBLAS),-tags openblas,) ./internal/blas/gemmbench -threads 1,2 -rounds 11

# gantrain against its PyTorch peer (scripts/peer/, needs python3-torch) on
# the DCGAN, 1 and 2 threads, back to back; prints the ratios. PEER_SIZE=32
# or 64: the RGB pytorch/examples DCGAN of configs/emoji-dcgan.yaml.
PEER_SIZE ?= 28
bench-compare:
	scripts/peer/compare.sh 3 15 $(PEER_SIZE)

# Installs OpenBLAS (Debian/Ubuntu, as root).
deps:
	apt-get install -y --no-install-recommends libopenblas-dev

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
