# zerobus-wrapper: every set-up step lives here, so a fresh clone needs only Go and Python.
SHELL := /bin/bash
GO ?= go
PYTHON ?= python3
VENV ?= .venv
GOTESTFLAGS ?= -race -count=1 -timeout 15m

.PHONY: all demo test go-test go-vet generate check-generate clean

all: test

## demo: the main job, against the embedded local Zerobus server.
demo:
	$(GO) run ./cmd/zerobus-demo

## test: everything CI runs.
test: go-vet go-test

go-vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

go-test:
	$(GO) test $(GOTESTFLAGS) ./...

## generate: regenerate the committed protobuf code (pure Go, no protoc).
generate:
	$(GO) generate ./...

clean:
	rm -rf $(VENV) build dist *.egg-info
