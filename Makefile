# zerobus-wrapper: every set-up step lives here, so a fresh clone needs only Go and Python.
SHELL := /bin/bash
GO ?= go
PYTHON ?= python3
VENV ?= .venv
GOTESTFLAGS ?= -race -count=1 -timeout 25m

.PHONY: all help demo test go-test go-vet go-vet-cross workflow-lint generate clean

all: test

## help: every target with the first sentence of its description (the `## target:` comments in this Makefile).
help:
	@awk 'function out() { if (name != "") { s = desc; if (match(s, /\. [A-Z`]/)) s = substr(s, 1, RSTART); \
	    printf "%-22s %s\n", name, s }; name = "" } \
	  /^## [a-z][a-z0-9-]*:/ { out(); name = $$2; sub(/:$$/, "", name); desc = $$0; sub(/^## [a-z0-9-]+: */, "", desc); next } \
	  /^## / && !/^## ----/ && name != "" { line = $$0; sub(/^## /, "", line); desc = desc " " line; next } \
	  { out() } END { out() }' $(firstword $(MAKEFILE_LIST))

## demo: the main job, against the embedded local Zerobus server: from Go, then from Python.
demo: py-build
	$(GO) run ./cmd/zerobus-demo
	$(VENV_BIN)/python examples/demo.py

## test: everything CI runs (Go vet/gofmt/race tests, the Python build, lint and tests, then the
## wheel built from the sdist, installed and used where Go is not on PATH).
test: go-vet workflow-lint go-test py-test py-wheel-test

## go-vet: go vet on every package, and gofmt -l on every Go file (fails naming the unformatted ones).
go-vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

## workflow-lint: actionlint (a Go tool pinned in go.mod) on every .github/workflows file; it runs
## shellcheck on the run: scripts when shellcheck is installed (it is on GitHub's runners).
workflow-lint:
	$(GO) tool actionlint

## go-test: every Go test with the race detector (GOTESTFLAGS, default -race -count=1 -timeout 25m).
go-test:
	$(GO) test $(GOTESTFLAGS) ./...

## go-vet-cross: type-check every package and test for Windows and macOS from any machine (catches
## unix-only or Linux-only calls; about 2 minutes each with a cold build cache, so not part of `make test`).
go-vet-cross:
	GOOS=windows GOARCH=amd64 $(GO) vet ./...
	GOOS=darwin GOARCH=arm64 $(GO) vet ./...

## generate: regenerate the committed protobuf code (pure Go, no protoc).
generate:
	$(GO) generate ./...

## clean: remove .venv, build/, dist/ and the egg-info.
clean:
	rm -rf $(VENV) build dist *.egg-info

## ---- Python package zerobus_py (py-*): a Go core compiled with gopy, see setup.py ----
ifeq ($(OS),Windows_NT)
VENV_BIN := $(VENV)/Scripts
else
VENV_BIN := $(VENV)/bin
endif
PYTEST_ARGS ?=

.PHONY: c-toolchain py-venv py-build py-lint py-test py-bench py-dist py-wheel-test

## c-toolchain: cgo (gopy) needs a C compiler and the Python headers; on Debian/Ubuntu missing ones are
## installed with apt-get (sudo when not root), elsewhere the message says what to install.
c-toolchain:
	@missing=""; \
	command -v "$${CC:-cc}" >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || missing="gcc libc6-dev"; \
	inc=$$($(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])'); \
	[ -f "$$inc/Python.h" ] || missing="$$missing python3-dev"; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	    echo "installing $$missing (C compiler / Python headers for cgo)"; \
	    $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "building the Python extension needs a C compiler and $$inc/Python.h: install $$missing"; exit 1; \
	  fi; \
	fi

## py-venv: .venv with the build and test tools (requirements-test.txt).
py-venv: c-toolchain $(VENV)/.py-deps
$(VENV)/.py-deps: requirements-test.txt requirements-build.txt
	@echo "py-venv: installing the build and test tools into $(VENV) (about a minute the first time)"
	$(PYTHON) -m venv $(VENV)
	$(VENV_BIN)/python -m pip install -q --upgrade pip
	$(VENV_BIN)/python -m pip install -q -r requirements-build.txt -r requirements-test.txt
	@touch $@

## py-build: compile the extension (gopy; needs Go >= 1.24 and a C compiler) and install zerobus_py into .venv.
## The first build compiles the whole Go core, gRPC and arrow-go with cgo (a few minutes, see the README);
## later builds reuse Go's build cache. A line every 15 s shows it is still working.
py-build: py-venv
	@echo "py-build: compiling the Go core into the Python extension (gopy + cgo)..."
	@start=$$SECONDS; ( while sleep 15 </dev/null >/dev/null 2>&1; do echo "py-build: still compiling, $$((SECONDS - start)) s"; done ) & ticker=$$!; \
	  $(VENV_BIN)/python -m pip install -q --no-build-isolation --force-reinstall --no-deps .; rc=$$?; \
	  kill $$ticker 2>/dev/null; wait $$ticker 2>/dev/null; \
	  if [ $$rc = 0 ]; then echo "py-build: built and installed in $$((SECONDS - start)) s"; fi; exit $$rc
	$(VENV_BIN)/python -I -c "import zerobus_py; print('zerobus_py', zerobus_py.__version__, 'native', zerobus_py.native_version())"

## py-lint: ruff (lint + format) and mypy --strict on zerobus_py.
py-lint: py-venv
	$(VENV_BIN)/ruff check zerobus_py arrow_zerobus_sdk_wrapper tests_py bench examples setup.py .github/scripts
	$(VENV_BIN)/ruff format --check zerobus_py arrow_zerobus_sdk_wrapper tests_py bench examples setup.py .github/scripts
	$(VENV_BIN)/mypy --strict zerobus_py arrow_zerobus_sdk_wrapper

## py-test: build, lint, then the pytest suite against the in-process local server (slow tests included; every
## script under bench/ runs at a tiny size in tests_py/test_s22_bench_scripts.py).
py-test: py-build py-lint java-runtime java-sdk-peer
	$(VENV_BIN)/pytest tests_py $(PYTEST_ARGS)

## py-bench: the 100k-row reference batch sent from Python (send_batch) and from Go (the SendReader loop) against
## the local server, alternating in one run: Python's extra cost over Go, and the per-call cost of a 1-row batch.
py-bench: py-build
	$(VENV_BIN)/python bench/bench_python.py

## bench-transports: the 100k-row reference batch over protobuf vs arrow_flight, from Go (local and null
## servers) and from Python (with the official SDK's create_arrow_stream), each side by side in one run.
.PHONY: bench-transports
bench-transports: py-build
	$(GO) test -run '^$$' -bench '^BenchmarkTransports$$' -benchtime 5x ./core/
	cd bench && ../$(VENV_BIN)/python bench_transports.py

## bench-debug: debug files on vs off (and off vs off: the noise floor) for the 100k-row reference batch, from Go
## against the null, local and paced servers and from Python against the local server, plus the disabled writer's
## per-call cost and the writer's direct I/O vs the page cache. Each part interleaves its cases in one run:
## Go SendBatch against the null, the local and the paced server (acks 20 ms after each request),
## wall and CPU ratios (BenchmarkDebugOverhead); the cost of a disabled debug writer per call (BenchmarkDisabled);
## the writer's direct I/O vs the page cache, CPU per GB and MB/s (BenchmarkWriterIO); Python send_batch against
## the local server (bench/bench_debug.py).
.PHONY: bench-debug
bench-debug: py-build
	$(GO) test -run '^$$' -bench '^BenchmarkDebugOverhead$$' -benchtime 16x ./core/
	$(GO) test -run '^$$' -bench '^BenchmarkDisabled$$' ./core/internal/debugfile/
	$(GO) test -run '^$$' -bench '^BenchmarkWriterIO$$' -benchtime 20x ./core/internal/debugfile/
	cd bench && ../$(VENV_BIN)/python bench_debug.py

## py-dist: sdist + platform wheel in dist/ (python -m build: the wheel is built from the sdist);
## on Linux auditwheel gives the wheel its manylinux tag (the oldest glibc its symbols allow).
py-dist: py-venv
	rm -rf dist
	$(VENV_BIN)/python -m build --outdir dist .
	@if [ "$$(uname -s)" = Linux ]; then \
	  PATH="$(CURDIR)/$(VENV_BIN):$$PATH" $(VENV_BIN)/auditwheel repair -w dist/repaired dist/*-linux_*.whl && \
	  rm dist/*-linux_*.whl && mv dist/repaired/*.whl dist/ && rmdir dist/repaired; \
	fi

## py-wheel-test: install the wheel into a fresh venv with no Go on PATH, import it and send a batch.
py-wheel-test: py-dist
	bash tests_py/wheel_smoke.sh dist "$(PYTHON)" "$(VENV_BIN)/python"

## ---- fault matrix (issue 16) ----
FAULT_MATRIX_ROWS ?= 100000
SOAK ?= 10m
.PHONY: fault-matrix

## fault-matrix: every injectable fault x 1 and 16 senders at FAULT_MATRIX_ROWS rows per cell (default 100k),
## then a random-fault soak for SOAK (default 10m, as in `make fault-matrix SOAK=1m`); prints the tables
## quoted in the README. `make test` runs the same tests small (1,600 rows per cell, a 3 s soak).
fault-matrix:
	$(GO) test -count=1 -timeout 90m -run '^(TestFaultMatrix|TestFaultSoak)$$' -v ./tests_go \
	  -args -matrix.rows=$(FAULT_MATRIX_ROWS) -soak=$(SOAK) | grep --line-buffered -v '^=== RUN'

## ---- randomized round trip (session 10) ----
ROUNDTRIP_DURATION ?= 10m
.PHONY: roundtrip-long

## roundtrip-long: TestRoundTripRandom on random seeds for ROUNDTRIP_DURATION (default 10m): random tables
## and Arrow batches over both transports, stored rows compared with the input. `make test` runs a fixed
## seed list; replay a failing seed with `go test ./tests_go -run TestRoundTripRandom -roundtrip.seed=N -v`
## (the last line names the last seed started, the one to replay after a crash).
roundtrip-long:
	set -o pipefail; $(GO) test -count=1 -timeout 0 -run '^TestRoundTripRandom$$' -v ./tests_go \
	  -args -roundtrip.duration=$(ROUNDTRIP_DURATION) 2>&1 | awk '/^roundtrip: seed/ { last = $$0; next } \
	  /^(=== RUN| *--- PASS)/ { next } { print; fflush() } END { print "last " last " (a crash: replay it)" }'

## ---- Spark data source (issue 19) ----
.PHONY: java-runtime spark-bench

## java-runtime: PySpark (tests_py/test_spark.py) needs a Java 17+ runtime; on Debian/Ubuntu a missing or older
## one is installed with apt-get (sudo when not root), elsewhere the message says what to install.
java-runtime:
	@v=$$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1); \
	if [ -z "$$v" ] || [ "$$v" -lt 17 ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	    echo "installing openjdk-17-jre-headless (PySpark needs Java 17+; found: $${v:-none})"; \
	    $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; \
	  else \
	    echo "the Spark data source tests need a Java 17+ runtime (found: $${v:-none}): install one"; exit 1; \
	  fi; \
	fi

## spark-bench: rows/s of a Spark write (local[1], local[2]) vs one Python send of the same rows, against the
## local server (BENCH_ROWS, default 2,000,000); not part of `make test`.
BENCH_ROWS ?= 2000000
spark-bench: py-build java-runtime
	$(VENV_BIN)/python bench/bench_spark.py --rows $(BENCH_ROWS)

## ---- the official Java SDK against the local server (session 12) ----
.PHONY: java-sdk-peer
JAVA_SDK_PEER := tests_java/sdkpeer

## java-sdk-peer: compile tests_java/sdkpeer, a Java program driving the official Databricks Zerobus Java SDK (the
## version pinned in its pom.xml) that tests_py/test_official_java_sdk.py runs against the local server. Needs a JDK
## and Maven: on Debian/Ubuntu missing ones are installed with apt-get, as java-runtime does. The first build fetches
## the SDK and its dependencies from Maven Central into ~/.m2 (about a minute); later builds run offline (mvn -o).
java-sdk-peer: $(JAVA_SDK_PEER)/target/classpath.txt
$(JAVA_SDK_PEER)/target/classpath.txt: $(JAVA_SDK_PEER)/pom.xml $(wildcard $(JAVA_SDK_PEER)/src/main/java/zerobuslocal/sdkpeer/*.java)
	@missing=""; \
	command -v javac >/dev/null 2>&1 || missing="openjdk-17-jdk-headless"; \
	command -v mvn >/dev/null 2>&1 || missing="$${missing:+$$missing }maven"; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	    echo "installing $$missing (the official Java SDK test needs a JDK and Maven)"; \
	    $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "tests_py/test_official_java_sdk.py needs a JDK 11+ (javac) and Maven (mvn) on PATH: install $$missing"; exit 1; \
	  fi; \
	fi
	@cd $(JAVA_SDK_PEER) && if ! mvn -q -B -o compile >/dev/null 2>&1; then \
	  echo "java-sdk-peer: the offline build failed, building online (the first build fetches the Java SDK and its dependencies from Maven Central: about a minute)"; \
	  mvn -q -B compile; \
	fi
	@touch $@

## ---- local server memory (issue 22) ----
.PHONY: local-rss
LOCAL_RSS_MB ?= 1024

## local-rss: issue 22's check of the local server's memory. ~1 GB (LOCAL_RSS_MB) through a `zerobus local -max-rows 200000` process from the
## real Go client: 16 goroutines calling Wrapper.SendBatch with 50,000-row batches (~9 MB requests) over 8 tables
## (one Wrapper each, half Arrow Flight, half protobuf), then one table filled with 200,000 rows and read with
## GET .../rows. Checks the row counts, prints the server's peak RSS (VmHWM) and fails above 500 MB. Not in
## `make test`; a full-size run (give it the machine).
local-rss:
	$(GO) build -o .bin/zerobus-rss ./cmd/zerobus
	$(GO) run ./core/zerobuslocal/internal/rssload -server .bin/zerobus-rss -mb $(LOCAL_RSS_MB) -max-rows 200000 \
	  -tables 8 -senders 16 -batch-rows 50000 -max-rss-mb 500

## ---- client memory bounded by the window (issue 22, area mem) ----
.PHONY: go-rss py-rss-growth
RSS_MAX_WINDOWS ?= 0
RSS_TRANSPORT ?= protobuf

## go-rss: peak RSS growth (over the idle process) of 16 goroutines sending ~1.5 GB through one Wrapper to a
## null server in another process (10 ms acks); prints it in windows (64 MiB). Not in `make test`.
## RSS_MAX_WINDOWS=N fails above N windows (0: report only). RSS_TRANSPORT=arrow_flight: over Flight.
go-rss:
	ZEROBUS_RSS_GO=1 ZEROBUS_RSS_TRANSPORT=$(RSS_TRANSPORT) ZEROBUS_RSS_MAX=$(if $(filter 0,$(RSS_MAX_WINDOWS)),1000,$(RSS_MAX_WINDOWS)) \
	  $(GO) test -run '^TestPeakRSSManySenders$$' -v -count=1 ./core/

## py-rss-growth: peak RSS growth, in windows, of Python send_batch(reader) of 1.05 GB (the same in-memory batch
## repeated) to a `zerobus local` process (built from this checkout into .bin/). Not in `make test`.
py-rss-growth: py-build
	GO=$(GO) $(VENV_BIN)/python bench/bench_rss.py --growth --max-windows $(RSS_MAX_WINDOWS)

## py-bench-rss: peak RSS sending a >= 1 GB Parquet file (send_batch, python -m zerobus_py send, zerobus send),
## each in a fresh process, against reading it with pyarrow alone (README "Python → Go"). Not in `make test`:
## writing the file takes about a minute and each send several.
.PHONY: py-bench-rss
py-bench-rss: py-build
	GO=$(GO) $(VENV_BIN)/python bench/bench_rss.py

## ---- conversion vs the original Rust encoder (issue 22, area rust) ----
## bench-rust-encoder: CPU ns per row of the Go converter (Encode/plan/parallelism=1) and of a re-creation of the
## original arrow-zerobus-sdk-wrapper 0.8.1 Rust conversion (bench/rust-encoder, needs cargo + crates.io), the same
## 100k-row reference batch, rounds alternating in one run; checks every Rust record against ours and prints the
## ratio. ROUNDS=8 ITERS=20 by default; CPU=n pins both sides to core n; ORIGINAL=<checkout of the original> also
## times its own conversion code (bench/rust-encoder/verify-original.sh). Not in `make test`.
.PHONY: bench-rust-encoder
bench-rust-encoder:
	GO=$(GO) ROUNDS=$(or $(ROUNDS),8) ITERS=$(or $(ITERS),20) CPU=$(CPU) ORIGINAL=$(ORIGINAL) sh bench/rust-encoder/run.sh

## ---- randomized conformance: the official Python SDK against the local server (session 11) ----
## sdk-conformance-long: random tables and records through every record form of the official SDK for
## SDK_CONFORMANCE_SECONDS (default 300), each seed printed; SDK_CONFORMANCE_SEED=n replays one seed.
## The fixed-seed part runs in `make test` (tests_py/test_official_sdk_random.py).
.PHONY: sdk-conformance-long
SDK_CONFORMANCE_SECONDS ?= 300
sdk-conformance-long: py-build
	ZEROBUS_SDK_CONFORMANCE_SECONDS=$(SDK_CONFORMANCE_SECONDS) ZEROBUS_SDK_CONFORMANCE_SEED=$(SDK_CONFORMANCE_SEED) \
	  $(VENV_BIN)/pytest -x -s -q tests_py/test_official_sdk_random.py -k long

## ---- randomized round trip of Python inputs (session 11, area pyrandom) ----
## py-roundtrip-long: tests_py/test_random_inputs.py with random seeds for PY_ROUNDTRIP_SECONDS (default 300): random
## tables, pandas / polars / pyarrow / PyCapsule inputs of them, both transports, every stored field compared. Each
## seed is printed as it starts; replay one with ZEROBUS_PY_ROUNDTRIP_SEED=N .venv/bin/pytest
## tests_py/test_random_inputs.py -v. `make test` runs the fixed seeds only (a few seconds).
.PHONY: py-roundtrip-long
py-roundtrip-long: py-build
	ZEROBUS_PY_ROUNDTRIP_SECONDS=$(or $(PY_ROUNDTRIP_SECONDS),300) $(VENV_BIN)/pytest tests_py/test_random_inputs.py -k long -s $(PYTEST_ARGS)

## ---- the quick-start notebook, committed with its outputs (session 11, area polish) ----
## notebook: re-execute examples/quickstart.ipynb in place (nbclient, against the local server in the kernel) and
## normalise it (no timings or interpreter version, execution counts from 1), so it renders with its tables and
## plot where it is read; commit the result. tests_py/test_notebook.py checks the committed file and that a fresh
## run gives the same kinds of output per cell. Ports, latencies and the plot change from run to run.
.PHONY: notebook
notebook: py-build
	$(VENV_BIN)/python tests_py/test_notebook.py
