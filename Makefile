# Caiquan. `make run` serves the game on :8080; `make test` runs every test.
GO ?= go
BIN := bin
ACTOR_PROTO_DIR = $(shell $(GO) list -m -f '{{.Dir}}' github.com/asynkron/protoactor-go)/actor

.PHONY: all build sdk run test bench-check test-cluster test-chaos test-faults chaos test-deps etcd postgres nginx deploy-tools cluster cluster-stop proto vet clean static release

# A release's name: the tag on HEAD, else the commit, with -dirty for
# uncommitted changes. make release VERSION=v1.2.3 names it yourself.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
GOOS ?= linux
GOARCH ?= $(shell $(GO) env GOARCH)
OUT ?= $(BIN)/caiquan-$(VERSION)-$(GOOS)-$(GOARCH)
RELEASE_ARCHES := amd64 arm64

all: build

build: sdk
	$(GO) build -o $(BIN)/caiquan ./cmd/caiquan

# The npm package caiquan-sdk (sdk/): its ES module and mini-program builds,
# and the sample mini-program's miniprogram_npm/caiquan-sdk/ laid out as the
# mini-program tool's "Build npm" does (all gitignored). Needs Node.js; the
# server itself embeds sdk/caiquan.js and builds without it.
sdk:
	@if command -v node >/dev/null; then node sdk/build.js --miniprogram miniprogram; \
	else echo "make sdk: node not found; the SDK package and miniprogram/miniprogram_npm are not built (make test-deps installs Node.js)"; fi

# Guest players (POST /guest hands out uids and tokens; no WeChat) and
# scores in ./caiquan.db. The token secret is made once into DEV_SECRET
# (gitignored), so guests keep their uids across restarts. The 2016 client
# names its own uid: make run ARGS="-auth-mode anonymous" (docs/auth.md).
DEV_SECRET := caiquan.dev-secret
run: build $(DEV_SECRET)
	CAIQUAN_AUTH_SECRETS="$$(cat $(DEV_SECRET))" ./$(BIN)/caiquan -auth-mode guest $(ARGS)

$(DEV_SECRET):
	umask 077 && head -c 48 /dev/urandom | base64 -w0 > $@

# Vet, format check, then every test under the race detector. The end-to-end
# tests build the binary, start real server processes on loopback and install
# the npm packages they drive (socket.io-client) themselves. Last, the 60 s
# chaos run (root: it makes network namespaces).
test: test-deps vet
	$(GO) test -race -count=1 -timeout 15m ./...
	$(MAKE) bench-check
	$(MAKE) test-cluster
	$(MAKE) test-chaos

# Allocation budgets: each wire's encode and decode per message, one
# upgrade, one round through the actors, and a record's encode and one
# save of the embedded store, against the budgets committed in
# gateway/allocs_test.go, actors/allocs_test.go, store/record_allocs_test.go
# and store/pebble/allocs_test.go; and the peak memory
# of idle connections on the real server (e2e/idle_peak_test.go) and the
# memory limit's hold on it (e2e/memory_test.go). Counts
# and sizes, not times: they hold from machine to machine. Without -race,
# which allocates on its own.
bench-check:
	$(GO) test -count=1 -run 'AllocationBudget' ./gateway/ ./actors/ ./store/ ./store/pebble/
	$(GO) test -count=1 -run 'TestIdleConnectionPeakMemory|TestMemoryLimitRefusesNewConnections' ./e2e/

# protoactor-go's cluster layer races under -race (grpclog, its member
# list, the block list, the etcd provider's shutdown flag), so the tests
# that run it, in process or as server processes, are built without -race
# (cluster/process_test.go, e2e/cluster_*_test.go and
# admin/console_cluster_test.go have //go:build !race).
# Our own code in cluster/ still runs under -race in the step above.
# TestClusterRollingUpgrade builds the previous release from git (it needs
# the full history, not a shallow clone) into bin/previous-COMMIT/.
test-cluster: etcd postgres
	$(GO) test -count=1 -timeout 10m ./cluster/...
	$(GO) test -count=1 -timeout 20m -run '^TestCluster' ./e2e/ ./admin/

# A cluster on real addresses under faults (docs/chaos.md): three nodes,
# etcd and PostgreSQL in network namespaces of their own (root needed),
# CHAOS_PLAYERS players, a fault (kill, pause, partition, delay) every
# CHAOS_EVERY for CHAOS_FOR, then the checker. The last line reads
# "chaos: N rounds checked, M anomalies"; it fails on any anomaly, on a
# fault kind never injected, or on too few rounds. CHAOS_SEED repeats a
# run's fault schedule. The binary is built without -race (see
# test-cluster).
CHAOS_FOR ?= 5m
CHAOS_PLAYERS ?= 300
CHAOS_EVERY ?= 2s
CHAOS_ETCD ?= 3
chaos: build etcd postgres
	$(GO) build -o $(BIN)/caiquan-chaos ./cmd/caiquan-chaos
	./$(BIN)/caiquan-chaos -bin $(BIN)/caiquan -for $(CHAOS_FOR) -players $(CHAOS_PLAYERS) \
		-every $(CHAOS_EVERY) -etcd $(CHAOS_ETCD) $(if $(CHAOS_SEED),-seed $(CHAOS_SEED))

# The 60 s chaos run that make test ends with: any anomaly, a fault kind
# never injected or fewer than 1,000 rounds checked fails it (docs/chaos.md).
test-chaos:
	$(MAKE) chaos CHAOS_FOR=60s

# One fault at a time on the same harness, each judged by the checker
# (e2e/fault_test.go; about three minutes, so not part of make test).
test-faults: etcd postgres
	$(GO) test -count=1 -timeout 10m -run '^TestFault' ./e2e/

# Node.js and npm run the Socket.IO v4 client and SDK tests; Chromium (with
# fonts for emoji and Chinese names) the browser demo's; PostgreSQL the
# store's (the tests start throwaway clusters on loopback). All from Debian.
test-deps: etcd postgres nginx deploy-tools
	command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq nodejs npm)
	test -x /usr/bin/chromium -a -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf -a -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc || (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-color-emoji fonts-wqy-microhei)

# nginx from Debian: the wss:// test puts it in front of the server as
# deploy/nginx/caiquan.conf does (its own config, on loopback).
nginx:
	command -v nginx >/dev/null || test -x /usr/sbin/nginx || (apt-get update -qq && apt-get install -y -qq nginx-light)

# The deploy/ tests: systemd-analyze verifies the unit, kubectl kustomize
# builds deploy/k8s, promtool checks and unit-tests the alert rules and the
# dashboard's queries (all from Debian; no container runtime needed).
deploy-tools:
	command -v systemd-analyze >/dev/null || (apt-get update -qq && apt-get install -y -qq systemd)
	command -v kubectl >/dev/null || (apt-get update -qq && apt-get install -y -qq kubectl)
	command -v promtool >/dev/null || (apt-get update -qq && apt-get install -y -qq prometheus)

# PostgreSQL from Debian: the store a cluster's nodes share.
postgres:
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq postgresql)

# etcd (the cluster's membership store) from Debian.
etcd:
	command -v etcd >/dev/null || (apt-get update -qq && apt-get install -y -qq etcd-server)

# etcd, PostgreSQL and three nodes on loopback, in the background, every
# connection between them TLS with certificates that `caiquan cert` makes
# in .cluster/certs; data and logs in .cluster/. make cluster-stop stops them.
cluster: build etcd postgres
	./scripts/cluster.sh start

cluster-stop:
	./scripts/cluster.sh stop

# protoc comes from Debian (protobuf-compiler); protoc-gen-go is pinned as a
# tool in go.mod, so every machine generates the same code.
proto:
	command -v protoc >/dev/null || (apt-get update -qq && apt-get install -y -qq protobuf-compiler)
	protoc --plugin=protoc-gen-go=$$($(GO) tool -n protoc-gen-go) \
		-I messages -I $(ACTOR_PROTO_DIR) \
		--go_out=messages --go_opt=paths=source_relative \
		messages/client.proto messages/internal.proto

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$'))" || (gofmt -l . ; exit 1)

clean:
	rm -rf $(BIN) dist

# One static binary (no cgo, so it runs on any Linux of its architecture,
# in a scratch or distroless image too) with the version and commit stamped
# in: caiquan -version prints them. deploy/Dockerfile builds with this target
# too, so an image and a release hold the same binary.
static:
	CGO_ENABLED=0 GOOS=$(GOOS) GOARCH=$(GOARCH) $(GO) build -trimpath -buildvcs=false \
		-ldflags '-s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)' \
		-o $(OUT) ./cmd/caiquan

# dist/: caiquan-VERSION-linux-{amd64,arm64} and their SHA256SUMS
# (check with: cd dist && sha256sum -c SHA256SUMS).
release:
	rm -rf dist && mkdir -p dist
	for arch in $(RELEASE_ARCHES); do \
		$(MAKE) --no-print-directory static GOOS=linux GOARCH=$$arch VERSION=$(VERSION) COMMIT=$(COMMIT) \
			OUT=dist/caiquan-$(VERSION)-linux-$$arch || exit 1; \
	done
	cd dist && sha256sum caiquan-* > SHA256SUMS

# Benchmarks: each codec's encode and decode, settlement, and one message's
# trip session → room → session through the actors. With LOAD=1 it then runs
# the load scenarios of the README's Performance section (about ten minutes;
# each starts its own server on loopback).
.PHONY: bench
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./gateway/ ./rules/ ./actors/ ./store/pebble/
	@if [ -n "$(LOAD)" ]; then BIN=$(BIN) GO=$(GO) ./cmd/caiquan-load/scenarios.sh; fi
