package pybind

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// LocalServer is an in-process zerobuslocal.Server for Python tests and
// demos. Safe for concurrent use.
type LocalServer struct {
	s *zerobuslocal.Server
}

// localOptions are the JSON keys StartLocalServer accepts.
type localOptions struct {
	Addr            string `json:"addr"`
	HTTPAddr        string `json:"http_addr"`
	ClientID        string `json:"client_id"`
	ClientSecret    string `json:"client_secret"`
	TokenLifetimeMs int64  `json:"token_lifetime_ms"`
	AllowAnyToken   bool   `json:"allow_any_token"`
	AutoCreate      *bool  `json:"auto_create_tables"`
	AckEvery        int    `json:"ack_every"`
	AckIntervalMs   int64  `json:"ack_interval_ms"`
	AckDelayMs      int64  `json:"ack_delay_ms"`
	AckJitterMs     int64  `json:"ack_jitter_ms"`
	MaxMessageBytes int    `json:"max_message_bytes"`
	TLS             bool   `json:"tls"`
	DataDir         string `json:"data_dir"`
}

func decodeStrict(what, text string, v any) error {
	if strings.TrimSpace(text) == "" {
		text = "{}"
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorOf(core.KindConfiguration, "zerobus: %s: %v", what, err)
	}
	return nil
}

// StartLocalServer starts a local Zerobus-compatible server on loopback
// ports. optionsJSON is an object with any of: addr, http_addr, client_id,
// client_secret, token_lifetime_ms, allow_any_token, auto_create_tables
// (default true), ack_every, ack_interval_ms, ack_delay_ms, ack_jitter_ms,
// max_message_bytes, tls, data_dir. Unknown keys are errors.
func StartLocalServer(optionsJSON string) (*LocalServer, error) {
	var o localOptions
	if err := decodeStrict("local server options", optionsJSON, &o); err != nil {
		return nil, err
	}
	opts := zerobuslocal.Options{
		Addr:              o.Addr,
		HTTPAddr:          o.HTTPAddr,
		ClientID:          o.ClientID,
		ClientSecret:      o.ClientSecret,
		TokenLifetime:     time.Duration(o.TokenLifetimeMs) * time.Millisecond,
		AllowAnyToken:     o.AllowAnyToken,
		DisableAutoCreate: o.AutoCreate != nil && !*o.AutoCreate,
		AckPolicy: zerobuslocal.AckPolicy{
			Every:    o.AckEvery,
			Interval: time.Duration(o.AckIntervalMs) * time.Millisecond,
			Delay:    time.Duration(o.AckDelayMs) * time.Millisecond,
			Jitter:   time.Duration(o.AckJitterMs) * time.Millisecond,
		},
		MaxMessageBytes: o.MaxMessageBytes,
		TLS:             o.TLS,
		DataDir:         o.DataDir,
	}
	s, err := zerobuslocal.Start(context.Background(), opts)
	if err != nil {
		return nil, errorOf(core.KindConnection, "zerobus: starting the local server: %v", err)
	}
	return &LocalServer{s: s}, nil
}

// Endpoint is the gRPC endpoint to put in the configuration ("http://127.0.0.1:PORT").
func (l *LocalServer) Endpoint() string { return l.s.Endpoint() }

// WorkspaceURL is the token endpoint's base URL (the unity_catalog_url).
func (l *LocalServer) WorkspaceURL() string { return l.s.WorkspaceURL() }

// ClientID is the client id the token endpoint accepts.
func (l *LocalServer) ClientID() string { return l.s.ClientID() }

// ClientSecret is the secret the token endpoint accepts.
func (l *LocalServer) ClientSecret() string { return l.s.ClientSecret() }

// CACertPEM is the CA certificate to trust in TLS mode (empty otherwise).
func (l *LocalServer) CACertPEM() string { return string(l.s.CACertPEM()) }

// TableIPC returns every row stored in table as an Arrow IPC stream of one
// batch, in arrival order, with the schema derived from the table's
// descriptor.
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

// faultSpec is the JSON form of zerobuslocal.Fault.
type faultSpec struct {
	Kind          string `json:"kind"`
	AfterMessages int    `json:"after_messages"`
	AfterMs       int64  `json:"after_ms"`
	Code          string `json:"code"`
	Message       string `json:"message"`
	Persistent    bool   `json:"persistent"`
	CloseAfterMs  int64  `json:"close_after_ms"`
	HTTPStatus    int    `json:"http_status"`
	LatencyMs     int64  `json:"latency_ms"`
}

// InjectFault arms a fault for table ("" = every table). faultJSON has
// kind (error, end_stream, drop_connection, stall_acks, close_signal,
// expire_token, token_error, token_latency) and optionally after_messages,
// after_ms, code (a gRPC code name such as "UNAVAILABLE"), message,
// persistent, close_after_ms, http_status, latency_ms.
func (l *LocalServer) InjectFault(table, faultJSON string) error {
	var f faultSpec
	if err := decodeStrict("fault", faultJSON, &f); err != nil {
		return err
	}
	fault := zerobuslocal.Fault{
		Kind:          zerobuslocal.FaultKind(f.Kind),
		AfterMessages: f.AfterMessages,
		After:         time.Duration(f.AfterMs) * time.Millisecond,
		Message:       f.Message,
		Persistent:    f.Persistent,
		CloseAfter:    time.Duration(f.CloseAfterMs) * time.Millisecond,
		HTTPStatus:    f.HTTPStatus,
		Latency:       time.Duration(f.LatencyMs) * time.Millisecond,
	}
	if f.Code != "" {
		var c codes.Code
		if err := c.UnmarshalJSON([]byte(fmt.Sprintf("%q", strings.ToUpper(f.Code)))); err != nil {
			return errorOf(core.KindConfiguration, "zerobus: fault code %q is not a gRPC code name (e.g. UNAVAILABLE)", f.Code)
		}
		fault.Code = c
	}
	l.s.InjectFault(table, fault)
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
