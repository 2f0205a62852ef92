package flightstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
)

// The Arrow types a table expects (protocol §9, Unity Catalog type → Arrow):
// STRING, DECIMAL → large_utf8; BINARY → large_binary; BIGINT → int64; INT →
// int32; SMALLINT → int16; TINYINT → int8; DOUBLE → float64; FLOAT →
// float32; BOOLEAN → bool; DATE → date32; TIMESTAMP → timestamp[us, UTC];
// TIMESTAMP_NTZ → timestamp[us]; VARIANT → struct{metadata, value:
// large_binary}; STRUCT → struct; ARRAY → list; MAP → map.

var (
	tsUTC = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	tsNTZ = &arrow.TimestampType{Unit: arrow.Microsecond}
)

func variantType() arrow.DataType {
	return arrow.StructOf(
		arrow.Field{Name: "metadata", Type: arrow.BinaryTypes.LargeBinary},
		arrow.Field{Name: "value", Type: arrow.BinaryTypes.LargeBinary},
	)
}

// CatalogError is a failed Unity Catalog table lookup.
type CatalogError struct {
	Table  string
	Status int // HTTP status, 0 for a transport or decoding failure
	Msg    string
	// Column is the column whose type has no Arrow mapping.
	Column string
	// answered: the catalog described the table, and it cannot be sent
	// over Flight.
	answered bool
}

// Answered reports a lookup the catalog answered with a table that cannot
// be sent over Flight (a column type without an Arrow mapping, no
// columns): not a connection problem, and the same answer comes again.
func (e *CatalogError) Answered() bool { return e.answered }

func (e *CatalogError) Error() string {
	if e.Answered() {
		return fmt.Sprintf("zerobus: Unity Catalog table %s: %s", e.Table, e.Msg)
	}
	if e.Status != 0 {
		return fmt.Sprintf("zerobus: Unity Catalog lookup of table %s: HTTP %d: %s", e.Table, e.Status, e.Msg)
	}
	return fmt.Sprintf("zerobus: Unity Catalog lookup of table %s: %s", e.Table, e.Msg)
}

// NotAllowed reports a lookup the workspace refused or could not answer
// for this table (401, 403, 404): the caller falls back to the canonical
// mapping.
func (e *CatalogError) NotAllowed() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden || e.Status == http.StatusNotFound
}

// FetchTableSchema reads the table's columns from Unity Catalog (GET
// {workspace}/api/2.1/unity-catalog/tables/{name}) with the client's
// credentials and HTTP client, and returns the Arrow schema the table
// expects. Errors are *CatalogError, *stream.CertificateError,
// *stream.HostNotFoundError (or the
// credential error).
func FetchTableSchema(ctx context.Context, sc *stream.Client) (*arrow.Schema, error) {
	cfg := sc.Settings()
	table := cfg.TableName
	if cfg.WorkspaceURL == "" {
		return nil, &CatalogError{Table: table, Status: http.StatusNotFound, Msg: "no workspace URL is configured"}
	}
	// The read is a send's first request: a Zerobus endpoint (or proxy)
	// whose host does not exist fails it here, as it fails a protobuf
	// stream's creation (before its token request), not the token request
	// made for a workspace that is not the endpoint's.
	if err := sc.CheckRoute(ctx); err != nil {
		return nil, err
	}
	md, _, err := sc.Metadata(ctx)
	if err != nil {
		return nil, err
	}
	u := stream.WorkspaceBase(cfg.WorkspaceURL) + "/api/2.1/unity-catalog/tables/" + url.PathEscape(table)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &CatalogError{Table: table, Msg: err.Error()}
	}
	if v := md.Get("authorization"); len(v) > 0 {
		req.Header.Set("Authorization", v[0])
	}
	req.Header.Set("User-Agent", cfg.UserAgent)
	httpc := cfg.HTTPClient
	if httpc == nil {
		httpc = http.DefaultClient
	}
	resp, err := httpc.Do(req)
	if err != nil {
		proxyHost := ""
		if cfg.Proxy != nil {
			proxyHost = cfg.Proxy.Hostname()
		}
		if hn := stream.HTTPHostNotFound(err, req.URL.Hostname(), proxyHost); hn != nil {
			return nil, hn // not retryable, like the token request's
		}
		if ce := stream.HTTPCertFailure(err, req.URL.Hostname(), proxyHost); ce != nil {
			ce.CAFile = cfg.HTTPCAFile
			return nil, ce // not retryable, like the token request's
		}
		return nil, &CatalogError{Table: table, Msg: sc.Classify(err, "catalog").Error()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, &CatalogError{Table: table, Status: resp.StatusCode, Msg: "reading the response: " + err.Error()}
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Code    string `json:"error_code"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(body, &e)
		return nil, &CatalogError{Table: table, Status: resp.StatusCode, Msg: strings.TrimSpace(e.Code + " " + e.Message)}
	}
	var info struct {
		Columns []struct {
			Name     string `json:"name"`
			TypeJSON string `json:"type_json"`
			TypeText string `json:"type_text"`
			Nullable *bool  `json:"nullable"`
		} `json:"columns"`
	}
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, &CatalogError{Table: table, Status: resp.StatusCode, Msg: "decoding the table info: " + err.Error()}
	}
	fields := make([]arrow.Field, 0, len(info.Columns))
	budget := protoarrow.MaxColumnTypes
	for _, c := range info.Columns {
		var f struct {
			Type any `json:"type"`
		}
		if err := json.Unmarshal([]byte(c.TypeJSON), &f); err != nil || f.Type == nil {
			return nil, &CatalogError{Table: table, Status: resp.StatusCode, Column: c.Name, answered: true, Msg: fmt.Sprintf("column %q: type_json %.200q is not a Spark type", c.Name, c.TypeJSON)}
		}
		dt, err := sparkType(f.Type, &budget)
		if err != nil {
			return nil, &CatalogError{Table: table, Status: resp.StatusCode, Column: c.Name, answered: true, Msg: fmt.Sprintf("column %q (%s): %v", c.Name, c.TypeText, err)}
		}
		fields = append(fields, arrow.Field{Name: c.Name, Type: dt, Nullable: c.Nullable == nil || *c.Nullable, Metadata: decimalMeta(f.Type)})
	}
	if len(fields) == 0 {
		return nil, &CatalogError{Table: table, Status: resp.StatusCode, Msg: "the table has no columns", answered: true}
	}
	return arrow.NewSchema(fields, nil), nil
}

// sparkType maps a Spark JSON type to the Arrow type of §9. Each type it
// maps takes one from *budget; none left is an error (a catalog answer is
// at most 16 MiB, but that holds some 850,000 nameless STRUCT fields).
func sparkType(v any, budget *int) (arrow.DataType, error) {
	if *budget--; *budget < 0 {
		return nil, fmt.Errorf("the table's types map to more than %d column types (columns and nested fields)", protoarrow.MaxColumnTypes)
	}
	switch t := v.(type) {
	case string:
		name := strings.ToLower(t)
		switch {
		case name == "string" || strings.HasPrefix(name, "char") || strings.HasPrefix(name, "varchar") || strings.HasPrefix(name, "decimal"):
			return arrow.BinaryTypes.LargeString, nil
		case name == "binary":
			return arrow.BinaryTypes.LargeBinary, nil
		case name == "long" || name == "bigint":
			return arrow.PrimitiveTypes.Int64, nil
		case name == "integer" || name == "int":
			return arrow.PrimitiveTypes.Int32, nil
		case name == "short" || name == "smallint":
			return arrow.PrimitiveTypes.Int16, nil
		case name == "byte" || name == "tinyint":
			return arrow.PrimitiveTypes.Int8, nil
		case name == "double":
			return arrow.PrimitiveTypes.Float64, nil
		case name == "float" || name == "real":
			return arrow.PrimitiveTypes.Float32, nil
		case name == "boolean":
			return arrow.FixedWidthTypes.Boolean, nil
		case name == "date":
			return arrow.FixedWidthTypes.Date32, nil
		case name == "timestamp":
			return tsUTC, nil
		case name == "timestamp_ntz":
			return tsNTZ, nil
		case name == "variant":
			return variantType(), nil
		}
		return nil, fmt.Errorf("unsupported type %q", t)
	case map[string]any:
		switch t["type"] {
		case "array":
			et, err := sparkType(t["elementType"], budget)
			if err != nil {
				return nil, err
			}
			return arrow.ListOfField(arrow.Field{Name: "element", Type: et, Nullable: t["containsNull"] != false, Metadata: decimalMeta(t["elementType"])}), nil
		case "map":
			kt, err := sparkType(t["keyType"], budget)
			if err != nil {
				return nil, err
			}
			vt, err := sparkType(t["valueType"], budget)
			if err != nil {
				return nil, err
			}
			m := arrow.MapOf(kt, vt)
			if md := decimalMeta(t["valueType"]); md.Len() > 0 {
				item := m.ItemField()
				item.Metadata = md
				m = arrow.MapOfFields(m.KeyField(), item)
			}
			return m, nil
		case "struct":
			raw, _ := t["fields"].([]any)
			fields := make([]arrow.Field, 0, len(raw))
			for _, r := range raw {
				f, _ := r.(map[string]any)
				name, _ := f["name"].(string)
				ft, err := sparkType(f["type"], budget)
				if err != nil {
					return nil, fmt.Errorf("field %q: %w", name, err)
				}
				fields = append(fields, arrow.Field{Name: name, Type: ft, Nullable: f["nullable"] != false, Metadata: decimalMeta(f["type"])})
			}
			return arrow.StructOf(fields...), nil
		}
	}
	return nil, fmt.Errorf("unsupported type %v", v)
}

// CanonicalSchema is the schema a table created from s would expect: each
// caller type mapped to its Unity Catalog type (as the protobuf path maps
// it) and that type to its §9 Arrow type. Types without a Unity Catalog
// equivalent are reported per column.
func CanonicalSchema(s *arrow.Schema) (*arrow.Schema, error) {
	fields := make([]arrow.Field, len(s.Fields()))
	var errs []error
	for i, f := range s.Fields() {
		dt, err := canonicalType(f.Type)
		if err != nil {
			errs = append(errs, fmt.Errorf("column %q (%s): %w", f.Name, f.Type, err))
			continue
		}
		fields[i] = arrow.Field{Name: f.Name, Type: dt, Nullable: f.Nullable}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return arrow.NewSchema(fields, nil), nil
}

func canonicalType(dt arrow.DataType) (arrow.DataType, error) {
	switch t := dt.(type) {
	case *arrow.Int8Type:
		return arrow.PrimitiveTypes.Int8, nil
	case *arrow.Int16Type, *arrow.Uint8Type:
		return arrow.PrimitiveTypes.Int16, nil
	case *arrow.Int32Type, *arrow.Uint16Type:
		return arrow.PrimitiveTypes.Int32, nil
	case *arrow.Int64Type, *arrow.Uint32Type, *arrow.Uint64Type, *arrow.Time32Type, *arrow.Time64Type, *arrow.DurationType:
		// TIME and DURATION are BIGINT microseconds, as on the protobuf path.
		return arrow.PrimitiveTypes.Int64, nil
	case *arrow.Float16Type, *arrow.Float32Type:
		return arrow.PrimitiveTypes.Float32, nil
	case *arrow.Float64Type:
		return arrow.PrimitiveTypes.Float64, nil
	case *arrow.BooleanType:
		return arrow.FixedWidthTypes.Boolean, nil
	case *arrow.StringType, *arrow.LargeStringType, *arrow.StringViewType, *arrow.Decimal32Type, *arrow.Decimal64Type,
		*arrow.Decimal128Type, *arrow.Decimal256Type:
		return arrow.BinaryTypes.LargeString, nil
	case *arrow.BinaryType, *arrow.LargeBinaryType, *arrow.BinaryViewType, *arrow.FixedSizeBinaryType:
		return arrow.BinaryTypes.LargeBinary, nil
	case *arrow.Date32Type, *arrow.Date64Type:
		return arrow.FixedWidthTypes.Date32, nil
	case *arrow.TimestampType:
		if t.TimeZone != "" {
			return tsUTC, nil
		}
		return tsNTZ, nil
	case *arrow.DictionaryType:
		return canonicalType(t.ValueType)
	case *arrow.RunEndEncodedType:
		return canonicalType(t.Encoded())
	case arrow.ExtensionType:
		return canonicalType(t.StorageType())
	case *arrow.ListViewType:
		return canonicalType(arrow.ListOfField(t.ElemField()))
	case *arrow.LargeListViewType:
		return canonicalType(arrow.ListOfField(t.ElemField()))
	case *arrow.ListType:
		et, err := canonicalType(t.Elem())
		if err != nil {
			return nil, err
		}
		return arrow.ListOfField(arrow.Field{Name: "element", Type: et, Nullable: t.ElemField().Nullable}), nil
	case *arrow.FixedSizeListType:
		et, err := canonicalType(t.Elem())
		if err != nil {
			return nil, err
		}
		return arrow.ListOfField(arrow.Field{Name: "element", Type: et, Nullable: t.ElemField().Nullable}), nil
	case *arrow.LargeListType:
		et, err := canonicalType(t.Elem())
		if err != nil {
			return nil, err
		}
		return arrow.ListOfField(arrow.Field{Name: "element", Type: et, Nullable: t.ElemField().Nullable}), nil
	case *arrow.MapType:
		kt, err := canonicalType(t.KeyType())
		if err != nil {
			return nil, err
		}
		vt, err := canonicalType(t.ItemType())
		if err != nil {
			return nil, err
		}
		return arrow.MapOf(kt, vt), nil
	case *arrow.StructType:
		fields := make([]arrow.Field, t.NumFields())
		for i, f := range t.Fields() {
			ft, err := canonicalType(f.Type)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Name, err)
			}
			fields[i] = arrow.Field{Name: f.Name, Type: ft, Nullable: f.Nullable}
		}
		return arrow.StructOf(fields...), nil
	}
	return nil, fmt.Errorf("type %s has no Unity Catalog equivalent for Arrow Flight", dt)
}

// AllOptional returns s with every column and every STRUCT field, at any
// depth, nullable: the canonical schema under the protobuf path's
// AllOptional rule (a null there is sent as a null instead of failing its
// row). ARRAY elements and MAP values keep their nullability: a
// protobuf repeated field cannot hold a null either way.
func AllOptional(s *arrow.Schema) *arrow.Schema {
	fields := make([]arrow.Field, s.NumFields())
	for i, f := range s.Fields() {
		fields[i] = arrow.Field{Name: f.Name, Type: optionalType(f.Type), Nullable: true, Metadata: f.Metadata}
	}
	md := s.Metadata()
	return arrow.NewSchema(fields, &md)
}

func optionalType(dt arrow.DataType) arrow.DataType {
	switch t := dt.(type) {
	case *arrow.StructType:
		fields := make([]arrow.Field, t.NumFields())
		for i, f := range t.Fields() {
			fields[i] = arrow.Field{Name: f.Name, Type: optionalType(f.Type), Nullable: true, Metadata: f.Metadata}
		}
		return arrow.StructOf(fields...)
	case *arrow.ListType:
		ef := t.ElemField()
		ef.Type = optionalType(ef.Type)
		return arrow.ListOfField(ef)
	case *arrow.MapType:
		it := t.ItemField()
		it.Type = optionalType(it.Type)
		return arrow.MapOfFields(t.KeyField(), it)
	}
	return dt
}

// decimalMeta is the field metadata (convert.DecimalMeta) of a Spark
// "decimal(p,s)" type, so that both transports check decimal values
// against the table's precision and scale; empty for other types.
func decimalMeta(v any) arrow.Metadata {
	name, _ := v.(string)
	name = strings.ToLower(strings.ReplaceAll(name, " ", ""))
	var p, sc int
	switch {
	case name == "decimal":
		p, sc = 10, 0 // Spark's default
	case strings.HasPrefix(name, "decimal("):
		if _, err := fmt.Sscanf(name, "decimal(%d,%d)", &p, &sc); err != nil {
			return arrow.Metadata{}
		}
	default:
		return arrow.Metadata{}
	}
	return convert.DecimalMeta(p, sc)
}
