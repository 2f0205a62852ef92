package zerobuslocal

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// InspectPrefix is the path prefix of the inspection API served on the
// workspace URL next to the token endpoint:
//
//	GET    /zerobus-local/v1/tables                 JSON array of TableInfo
//	GET    /zerobus-local/v1/tables/{name}          one TableInfo
//	POST   /zerobus-local/v1/tables/{name}          create: {"descriptor_base64": "<serialized DescriptorProto>"}
//	                                                or {"columns": "id BIGINT NOT NULL, name STRING, ..."}
//	DELETE /zerobus-local/v1/tables/{name}          drop the table and its rows
//	GET    /zerobus-local/v1/tables/{name}/rows     JSON array of RowJSON
//	GET    /zerobus-local/v1/tables/{name}/arrow    Arrow IPC stream of all rows
//	GET    /zerobus-local/v1/stats                  Stats as JSON
//	POST   /zerobus-local/v1/faults                 inject: FaultJSON
//	DELETE /zerobus-local/v1/faults[?table=NAME]    clear faults
const InspectPrefix = "/zerobus-local/v1"

// TableInfo is the JSON shape of a table in the inspection API.
type TableInfo struct {
	Name        string          `json:"name"`
	RecordCount int             `json:"record_count"`
	RowsEvicted int64           `json:"rows_evicted"` // dropped by MaxStoredRows (oldest rows across all tables)
	HasSchema   bool            `json:"has_schema"`
	Descriptor  json.RawMessage `json:"descriptor,omitempty"` // protojson of the DescriptorProto
	Columns     []ColumnJSON    `json:"columns,omitempty"`    // the table model, as the Unity Catalog API serves it
}

// RowJSON is the JSON shape of a stored row in the inspection API. Record
// is the protojson form of the decoded message (proto field names, 64-bit
// integers as strings, unset optional fields omitted) or, for raw JSON
// tables, the JSON object as received.
type RowJSON struct {
	StreamID  string          `json:"stream_id"`
	Offset    int64           `json:"offset"`
	Index     int             `json:"index"`
	Seq       int64           `json:"seq"`
	JSON      bool            `json:"json"`
	Record    json.RawMessage `json:"record"`
	RawBase64 string          `json:"raw_base64,omitempty"` // protobuf bytes as received (PROTO rows)
}

// FaultJSON is the JSON shape of POST /zerobus-local/v1/faults; durations
// are Go duration strings ("250ms") and code is a gRPC code name
// ("UNAVAILABLE") or number.
type FaultJSON struct {
	Table         string          `json:"table"`
	Kind          FaultKind       `json:"kind"`
	AfterMessages int             `json:"after_messages"`
	After         string          `json:"after"`
	Code          json.RawMessage `json:"code"`
	Message       string          `json:"message"`
	Persistent    bool            `json:"persistent"`
	CloseAfter    string          `json:"close_after"`
	HTTPStatus    int             `json:"http_status"`
	Latency       string          `json:"latency"`
	Records       int             `json:"records"`
}

// httpHandler serves the workspace URL. Every request must name a loopback
// host (or one of Options.AllowedHosts) in its Host header, which defeats
// DNS rebinding (a web page whose name resolves to 127.0.0.1 still sends its
// own name). Mutating inspection requests must be application/json, which a
// cross-site form or "simple" fetch cannot send without a CORS preflight
// (that this server never grants); with Options.InspectToken the inspection
// API also needs "Authorization: Bearer <token>".
func (s *Server) httpHandler() http.Handler {
	mux := s.routes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.boundBody(w, r)
		if !s.hostAllowed(r.Host) {
			httpError(w, http.StatusForbidden, "host %q is not served here: use 127.0.0.1, localhost or a name in Options.AllowedHosts (zerobus local -allow-host)", r.Host)
			return
		}
		if strings.HasPrefix(r.URL.Path, InspectPrefix+"/") || r.URL.Path == InspectPrefix {
			if _, want := s.secrets(); want != "" {
				tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
				if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(want)) != 1 {
					w.Header().Set("WWW-Authenticate", `Bearer realm="zerobus-local inspection"`)
					httpError(w, http.StatusUnauthorized, "the inspection API needs \"Authorization: Bearer <inspect token>\"")
					return
				}
			}
			switch r.Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions:
			default:
				if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
					httpError(w, http.StatusUnsupportedMediaType, "%s %s needs Content-Type: application/json", r.Method, r.URL.Path)
					return
				}
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// hostAllowed reports whether a request's Host names this server: a
// loopback IP, localhost (or a *.localhost name) or Options.AllowedHosts.
func (s *Server) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return true
	}
	for _, a := range s.opts.AllowedHosts {
		if strings.EqualFold(strings.TrimSuffix(a, "."), host) {
			return true
		}
	}
	return false
}

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc(TokenPath, s.handleToken)
	mux.HandleFunc("GET "+UnityCatalogTablesPath+"{name}", s.handleUCTable)
	// Any other request under the Unity Catalog tables path is refused in
	// that API's error shape (the mux's own 404 and 405 are plain text).
	// (The path without its final slash too: not redirected to it.)
	ucBase := strings.TrimSuffix(UnityCatalogTablesPath, "/")
	for _, p := range []string{UnityCatalogTablesPath, ucBase} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			ucUnrouted(w, r, allowedMethods(mux, r, UnityCatalogTablesPath, ucBase))
		})
	}
	mux.HandleFunc("GET "+InspectPrefix+"/tables", func(w http.ResponseWriter, r *http.Request) {
		infos := []TableInfo{}
		for _, n := range s.Tables() {
			if ti, ok := s.tableInfo(n); ok {
				infos = append(infos, ti)
			}
		}
		writeJSON(w, http.StatusOK, infos)
	})
	// A table path with an empty name ("/tables/") is refused naming the
	// name, as any other invalid one (it matched no route: "not found").
	for _, method := range []string{"GET", "POST", "DELETE"} {
		mux.HandleFunc(method+" "+InspectPrefix+"/tables/{$}", func(w http.ResponseWriter, r *http.Request) {
			validTableNameIn(w, r)
		})
	}
	mux.HandleFunc("GET "+InspectPrefix+"/tables/{name}", func(w http.ResponseWriter, r *http.Request) {
		if !validTableNameIn(w, r) {
			return
		}
		ti, ok := s.tableInfo(r.PathValue("name"))
		if !ok {
			httpError(w, http.StatusNotFound, "no table %q", r.PathValue("name"))
			return
		}
		writeJSON(w, http.StatusOK, ti)
	})
	mux.HandleFunc("POST "+InspectPrefix+"/tables/{name}", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			DescriptorBase64 string `json:"descriptor_base64"`
			Columns          string `json:"columns"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<20)).Decode(&body); err != nil || (body.DescriptorBase64 == "") == (body.Columns == "") {
			httpError(w, http.StatusBadRequest, "body must be {\"descriptor_base64\": ...} or {\"columns\": \"id BIGINT NOT NULL, ...\"}: %v", err)
			return
		}
		var err error
		if body.Columns != "" {
			var cols []Column
			if cols, err = ParseColumns(body.Columns); err == nil {
				err = s.CreateTableColumns(r.PathValue("name"), cols)
			}
		} else {
			raw, derr := base64.StdEncoding.DecodeString(body.DescriptorBase64)
			if derr != nil {
				httpError(w, http.StatusBadRequest, "descriptor_base64: %v", derr)
				return
			}
			desc := new(descriptorpb.DescriptorProto)
			if derr := proto.Unmarshal(raw, desc); derr != nil {
				httpError(w, http.StatusBadRequest, "descriptor_base64 is not a serialized DescriptorProto: %v", derr)
				return
			}
			err = s.CreateTable(r.PathValue("name"), desc)
		}
		if err != nil {
			code := http.StatusBadRequest
			if errors.Is(err, ErrTableExists) {
				code = http.StatusConflict
			}
			httpError(w, code, "%v", err)
			return
		}
		ti, _ := s.tableInfo(r.PathValue("name"))
		writeJSON(w, http.StatusCreated, ti)
	})
	mux.HandleFunc("DELETE "+InspectPrefix+"/tables/{name}", func(w http.ResponseWriter, r *http.Request) {
		if !validTableNameIn(w, r) {
			return
		}
		if !s.DropTable(r.PathValue("name")) {
			httpError(w, http.StatusNotFound, "no table %q", r.PathValue("name"))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET "+InspectPrefix+"/tables/{name}/rows", func(w http.ResponseWriter, r *http.Request) {
		if !validTableNameIn(w, r) {
			return
		}
		name := r.PathValue("name")
		br, ok := s.rowRange(name)
		if !ok {
			httpError(w, http.StatusNotFound, "no table %q", name)
			return
		}
		// Streamed as the rows are decoded (writeRowsJSON): a row that
		// cannot be written after the status went out cuts the answer.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		if err := writeRowsJSON(w, br); err != nil {
			s.log.Warn("zerobuslocal: writing rows", "table", name, "err", err)
			panic(http.ErrAbortHandler)
		}
	})
	mux.HandleFunc("GET "+InspectPrefix+"/tables/{name}/arrow", func(w http.ResponseWriter, r *http.Request) {
		if !validTableNameIn(w, r) {
			return
		}
		name := r.PathValue("name")
		rec, err := s.ArrowBatch(name, memory.DefaultAllocator)
		if err != nil {
			code := http.StatusBadRequest
			if errors.Is(err, ErrNoTable) {
				code = http.StatusNotFound
			}
			httpError(w, code, "%v", err)
			return
		}
		defer rec.Release()
		w.Header().Set("Content-Type", "application/vnd.apache.arrow.stream")
		wr := ipc.NewWriter(w, ipc.WithSchema(rec.Schema()))
		if err := wr.Write(rec); err != nil {
			s.log.Warn("zerobuslocal: writing Arrow response", "table", name, "err", err)
		}
		_ = wr.Close()
	})
	mux.HandleFunc("GET "+InspectPrefix+"/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	mux.HandleFunc("POST "+InspectPrefix+"/faults", func(w http.ResponseWriter, r *http.Request) {
		var fj FaultJSON
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&fj); err != nil {
			httpError(w, http.StatusBadRequest, "bad fault JSON: %v", err)
			return
		}
		f, err := fj.fault()
		if err == nil {
			err = s.InjectFault(fj.Table, f)
		}
		if err != nil {
			httpError(w, http.StatusBadRequest, "%v", faultJSONError(err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE "+InspectPrefix+"/faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults(r.URL.Query().Get("table"))
		w.WriteHeader(http.StatusNoContent)
	})
	// Any other request under the prefix is refused in JSON naming its
	// method and path (the mux's own 404 and 405 are plain text naming
	// neither): 405 with Allow when the path is a route's for other
	// methods, else 404 listing the routes.
	mux.HandleFunc(InspectPrefix+"/", func(w http.ResponseWriter, r *http.Request) {
		if allow := allowedMethods(mux, r, InspectPrefix+"/"); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			httpError(w, http.StatusMethodNotAllowed, "%s %s: the method is not served on this path; use %s", r.Method, r.URL.Path, strings.Join(allow, " or "))
			return
		}
		httpError(w, http.StatusNotFound, "%s %s: no such inspection route; the API serves %s/tables, %s/tables/{name}, %s/tables/{name}/rows, %s/tables/{name}/arrow, %s/stats and %s/faults",
			r.Method, r.URL.Path, InspectPrefix, InspectPrefix, InspectPrefix, InspectPrefix, InspectPrefix, InspectPrefix)
	})
	return mux
}

// allowedMethods are the methods for which mux routes r's path to a handler
// other than the catch-all patterns (the methods to name in Allow).
func allowedMethods(mux *http.ServeMux, r *http.Request, catchAll ...string) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodDelete} {
		probe := *r
		probe.Method = m
		if _, p := mux.Handler(&probe); p != "" && !slices.Contains(catchAll, p) {
			allow = append(allow, m)
		}
	}
	return allow
}

// validTableNameIn reports whether the {name} of r's path (unescaped: a
// name holding "/" comes as one %2F-escaped segment) is a table name the
// server takes; if not, it answers 400 with checkTableName's words, naming
// it, as creating such a table does: a name that can never exist is an
// error, not "no table".
func validTableNameIn(w http.ResponseWriter, r *http.Request) bool {
	if err := checkTableName(r.PathValue("name")); err != nil {
		httpError(w, http.StatusBadRequest, "%v", err)
		return false
	}
	return true
}

// faultJSONError is err (from Fault.Check) naming each option by its key
// in FaultJSON ("after", "latency": durations as text) instead of Fault's
// JSON form ("after_ns").
func faultJSONError(err error) error {
	var oe *OptionsError
	if !errors.As(err, &oe) {
		return err
	}
	parts := make([]string, len(oe.Problems))
	for i, p := range oe.Problems {
		key := p.Key
		if f, ok := reflect.TypeFor[FaultJSON]().FieldByName(p.Field); ok {
			key = jsonKey(f)
		}
		parts[i] = fmt.Sprintf("%s is %s; %s", key, p.Value, p.Msg)
	}
	return fmt.Errorf("invalid fault: %s", strings.Join(parts, "; "))
}

func (fj FaultJSON) fault() (Fault, error) {
	f := Fault{Kind: fj.Kind, AfterMessages: fj.AfterMessages, Message: fj.Message, Persistent: fj.Persistent, HTTPStatus: fj.HTTPStatus, Records: fj.Records}
	if msg := fj.Kind.problem(); msg != "" {
		return f, fmt.Errorf("unknown fault kind %q: %s", fj.Kind, msg)
	}
	for _, d := range []struct {
		name string
		in   string
		out  *time.Duration
	}{{"after", fj.After, &f.After}, {"close_after", fj.CloseAfter, &f.CloseAfter}, {"latency", fj.Latency, &f.Latency}} {
		if d.in == "" {
			continue
		}
		v, err := time.ParseDuration(d.in)
		if err != nil {
			return f, fmt.Errorf("%s: %v", d.name, err)
		}
		*d.out = v
	}
	if len(fj.Code) > 0 {
		var n uint32
		if err := json.Unmarshal(fj.Code, &n); err == nil {
			f.Code = codes.Code(n)
		} else {
			var name string
			if err := json.Unmarshal(fj.Code, &name); err != nil {
				return f, fmt.Errorf("code: want a gRPC code name or number")
			}
			if err := f.Code.UnmarshalJSON([]byte(`"` + name + `"`)); err != nil {
				return f, fmt.Errorf("code: %v", err)
			}
		}
	}
	return f, nil
}

func (s *Server) tableInfo(name string) (TableInfo, bool) {
	desc, ok := s.TableDescriptor(name)
	if !ok {
		return TableInfo{}, false
	}
	ti := TableInfo{Name: name, RecordCount: s.RecordCount(name), RowsEvicted: s.EvictedCount(name), HasSchema: desc != nil}
	if cols, _ := s.TableColumns(name); cols != nil {
		ti.Columns = columnsJSON(cols)
	}
	if desc != nil {
		if b, err := (protojson.MarshalOptions{UseProtoNames: true}).Marshal(desc); err == nil {
			ti.Descriptor = b
		}
	}
	return ti, true
}

func rowJSON(row Row) (RowJSON, error) {
	rj := RowJSON{StreamID: row.StreamID, Offset: row.Offset, Index: row.Index, Seq: row.Seq, JSON: row.JSON}
	if !row.JSON {
		rj.RawBase64 = base64.StdEncoding.EncodeToString(row.Raw)
	}
	if row.Message == nil {
		rj.Record = json.RawMessage(row.Raw)
		return rj, nil
	}
	b, err := (protojson.MarshalOptions{UseProtoNames: true}).Marshal(row.Message)
	if err != nil {
		return rj, err
	}
	rj.Record = b
	return rj, nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func httpError(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, map[string]string{"error": fmt.Sprintf(format, args...)})
}
