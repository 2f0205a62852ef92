package pybind

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// LocalOptionKeys is zerobuslocal.CheckedOptionKeys as a JSON array: the
// option keys whose problems StartLocalServer can report.
func LocalOptionKeys() string {
	b, _ := json.Marshal(zerobuslocal.CheckedOptionKeys())
	return string(b)
}

// LocalSecretOptions is zerobuslocal.SecretOptionKeys as a JSON array: the
// option keys tagged secret:"true" (client_secret, inspect_token), whose
// values the Python LocalServer never shows (repr, errors).
func LocalSecretOptions() (string, error) {
	b, err := json.Marshal(zerobuslocal.SecretOptionKeys())
	if err != nil {
		return "", errorOf(core.KindUnknown, "zerobus: local server secret options: %v", err)
	}
	return string(b), nil
}

// LocalServer is an in-process zerobuslocal.Server for Python tests and
// demos. Safe for concurrent use.
type LocalServer struct {
	s *zerobuslocal.Server
}

// StartLocalServer starts a local Zerobus-compatible server on loopback
// ports. optionsJSON is a zerobuslocal.Options in its JSON form
// (zerobuslocal.DecodeOptions: snake_case keys, durations in nanoseconds).
// Unknown keys are errors.
func StartLocalServer(optionsJSON string) (*LocalServer, error) {
	opts, err := zerobuslocal.DecodeOptions([]byte(optionsJSON))
	var s *zerobuslocal.Server
	if err == nil {
		s, err = zerobuslocal.Start(context.Background(), opts)
	}
	switch {
	case errors.Is(err, zerobuslocal.ErrInvalidOptions):
		return nil, errorOf(core.KindConfiguration, "zerobus: local server: %w", err) // Keys, KeyMessages: core.DetailsOf
	case err != nil:
		return nil, errorOf(core.KindConnection, "zerobus: starting the local server: %w", err) // a busy port: Keys (addr, http_addr)
	}
	return &LocalServer{s: s}, nil
}

// Endpoint is the gRPC endpoint to put in the configuration ("http://127.0.0.1:PORT").
func (l *LocalServer) Endpoint() string { return l.s.Endpoint() }

// WorkspaceURL is the token endpoint's base URL (the unity_catalog_url).
func (l *LocalServer) WorkspaceURL() string { return l.s.WorkspaceURL() }

// InspectURL is the base URL of the inspection API (WorkspaceURL followed by
// zerobuslocal.InspectPrefix).
func (l *LocalServer) InspectURL() string { return l.s.InspectURL() }

// ClientID is the client id the token endpoint accepts.
func (l *LocalServer) ClientID() string { return l.s.ClientID() }

// ClientSecret is the secret the token endpoint accepts.
func (l *LocalServer) ClientSecret() string { return l.s.ClientSecret() }

// CACertPEM is the CA certificate to trust in TLS mode (empty otherwise).
func (l *LocalServer) CACertPEM() string { return string(l.s.CACertPEM()) }

// TableIPC returns every row stored in table as an Arrow IPC stream of one
// batch, in arrival order, with the schema of zerobuslocal.Server.ArrowBatch:
// the table's descriptor's, with TIMESTAMP, TIMESTAMP_NTZ, DATE and DECIMAL
// columns typed for a table created with Unity Catalog columns.
func (l *LocalServer) TableIPC(table string) ([]byte, error) {
	rec, err := l.s.ArrowBatch(table, memory.DefaultAllocator)
	if err != nil {
		return nil, errorOf(core.KindUnknown, "zerobus: reading table %q from the local server: %v", table, err)
	}
	defer rec.Release()
	return writeIPC(rec.Schema(), rec)
}

// RecordCount is the number of rows stored in table (0 if unknown).
func (l *LocalServer) RecordCount(table string) int { return l.s.RecordCount(table) }

// TablesJSON lists the table names as a JSON array.
func (l *LocalServer) TablesJSON() string {
	b, _ := json.Marshal(l.s.Tables())
	return string(b)
}

// StatsJSON returns the server counters as a JSON object
// (streams_created, records_stored, ...).
func (l *LocalServer) StatsJSON() string {
	b, _ := json.Marshal(l.s.Stats())
	return string(b)
}

// InjectFault arms a fault for table ("" = every table). faultJSON is a
// zerobuslocal.Fault in its JSON form (kind, after_messages, after_ns, code
// as a gRPC code name, message, persistent, close_after_ns, http_status,
// latency_ns, records). Unknown keys are errors.
func (l *LocalServer) InjectFault(table, faultJSON string) error {
	f, err := zerobuslocal.DecodeFault([]byte(faultJSON))
	if err != nil {
		return errorOf(core.KindConfiguration, "zerobus: fault: %w", err) // Keys, KeyMessages: core.DetailsOf
	}
	if err := l.s.InjectFault(table, f); err != nil { // DecodeFault checked f: kept for a future rule
		return errorOf(core.KindConfiguration, "zerobus: fault: %w", err)
	}
	return nil
}

// ClearFaults removes the armed faults of table ("" = all).
func (l *LocalServer) ClearFaults(table string) { l.s.ClearFaults(table) }

// Close stops the server. Idempotent.
func (l *LocalServer) Close() error {
	if err := l.s.Close(); err != nil {
		return errorOf(core.KindUnknown, "zerobus: closing the local server: %v", err)
	}
	return nil
}
