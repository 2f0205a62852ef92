// Package zerobuspb holds the Go code generated from zerobus.proto, the
// Zerobus ingest wire contract. Regenerate it with `go generate ./...`; the
// test in this package fails when the committed code is stale.
package zerobuspb

//go:generate go run ./internal/protogen -dir . zerobus.proto
