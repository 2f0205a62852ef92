package zerobuslocal

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// CreateTableFromArrow registers table name with the columns a Delta table
// created from schema would have (see columnsFromArrow), as CreateTableColumns
// does. Errors name the column whose Arrow type has no Unity Catalog type.
func (s *Server) CreateTableFromArrow(name string, schema *arrow.Schema) error {
	if schema == nil {
		return fmt.Errorf("zerobuslocal: CreateTableFromArrow %q: nil schema", name)
	}
	cols, err := columnsFromArrow(schema)
	if err != nil {
		return fmt.Errorf("zerobuslocal: CreateTableFromArrow %q: %w", name, err)
	}
	return s.CreateTableColumns(name, cols)
}

// columnsFromArrow maps an Arrow schema to Unity Catalog columns: int8
// TINYINT, int16 and uint8 SMALLINT, int32 and uint16 INT, int64, uint32,
// uint64, time and duration BIGINT, float16/32 FLOAT, float64 DOUBLE, bool
// BOOLEAN, strings STRING, binaries BINARY, date32/64 DATE, timestamp with a
// zone TIMESTAMP, without TIMESTAMP_NTZ, decimal(p,s) DECIMAL(p,s), lists
// ARRAY, struct STRUCT (struct{metadata,value} of binaries: VARIANT), map MAP,
// dictionary its value type.
func columnsFromArrow(schema *arrow.Schema) ([]Column, error) {
	cols := make([]Column, 0, schema.NumFields())
	for _, f := range schema.Fields() {
		t, err := arrowColumnType(f.Name, f.Type, 0)
		if err != nil {
			return nil, err
		}
		cols = append(cols, Column{Name: f.Name, Type: t, Nullable: f.Nullable})
	}
	if err := checkColumns(cols); err != nil {
		return nil, err
	}
	return cols, nil
}

func arrowColumnType(path string, dt arrow.DataType, depth int) (ColumnType, error) {
	if depth > 32 {
		return ColumnType{}, fmt.Errorf("column %q nests deeper than 32 levels", path)
	}
	switch t := dt.(type) {
	case *arrow.Int8Type:
		return ColumnType{Name: TypeTinyint}, nil
	case *arrow.Int16Type, *arrow.Uint8Type:
		return ColumnType{Name: TypeSmallint}, nil
	case *arrow.Int32Type, *arrow.Uint16Type:
		return ColumnType{Name: TypeInt}, nil
	case *arrow.Int64Type, *arrow.Uint32Type, *arrow.Uint64Type, *arrow.Time32Type, *arrow.Time64Type, *arrow.DurationType:
		return ColumnType{Name: TypeBigint}, nil
	case *arrow.Float16Type, *arrow.Float32Type:
		return ColumnType{Name: TypeFloat}, nil
	case *arrow.Float64Type:
		return ColumnType{Name: TypeDouble}, nil
	case *arrow.BooleanType:
		return ColumnType{Name: TypeBoolean}, nil
	case *arrow.StringType, *arrow.LargeStringType, *arrow.StringViewType:
		return ColumnType{Name: TypeString}, nil
	case *arrow.BinaryType, *arrow.LargeBinaryType, *arrow.BinaryViewType, *arrow.FixedSizeBinaryType:
		return ColumnType{Name: TypeBinary}, nil
	case *arrow.Date32Type, *arrow.Date64Type:
		return ColumnType{Name: TypeDate}, nil
	case *arrow.TimestampType:
		if t.TimeZone == "" {
			return ColumnType{Name: TypeTimestampNTZ}, nil
		}
		return ColumnType{Name: TypeTimestamp}, nil
	case arrow.DecimalType:
		return ColumnType{Name: TypeDecimal, Precision: int(t.GetPrecision()), Scale: int(t.GetScale())}, nil
	case *arrow.DictionaryType:
		return arrowColumnType(path, t.ValueType, depth)
	case *arrow.MapType:
		k, err := arrowColumnType(path+".key", t.KeyType(), depth+1)
		if err != nil {
			return k, err
		}
		v, err := arrowColumnType(path+".value", t.ItemType(), depth+1)
		if err != nil {
			return v, err
		}
		return ColumnType{Name: TypeMap, Key: &k, Value: &v}, nil
	case arrow.ListLikeType:
		e, err := arrowColumnType(path+".element", t.Elem(), depth+1)
		if err != nil {
			return e, err
		}
		return ColumnType{Name: TypeArray, Element: &e}, nil
	case *arrow.StructType:
		if isVariantStruct(t) {
			return ColumnType{Name: TypeVariant}, nil
		}
		out := ColumnType{Name: TypeStruct}
		for _, f := range t.Fields() {
			ft, err := arrowColumnType(path+"."+f.Name, f.Type, depth+1)
			if err != nil {
				return ft, err
			}
			out.Fields = append(out.Fields, Column{Name: f.Name, Type: ft, Nullable: f.Nullable})
		}
		return out, nil
	default:
		return ColumnType{}, fmt.Errorf("column %q: Arrow type %s has no Unity Catalog column type", path, dt)
	}
}

func isVariantStruct(t *arrow.StructType) bool {
	if t.NumFields() != 2 {
		return false
	}
	m, v := t.Field(0), t.Field(1)
	isBin := func(dt arrow.DataType) bool {
		return dt.ID() == arrow.BINARY || dt.ID() == arrow.LARGE_BINARY
	}
	return m.Name == "metadata" && v.Name == "value" && isBin(m.Type) && isBin(v.Type)
}

// arrowSchemaFromColumns is the Arrow schema a Flight stream to the table
// must send (the official clients' Unity Catalog -> Arrow table): STRING and
// DECIMAL large_utf8, BINARY large_binary, BIGINT int64, INT int32, SMALLINT
// int16, TINYINT int8, DOUBLE float64, FLOAT float32, BOOLEAN bool, DATE
// date32, TIMESTAMP timestamp[us, tz=UTC], TIMESTAMP_NTZ timestamp[us],
// VARIANT struct{metadata: large_binary, value: large_binary}, STRUCT struct,
// ARRAY list, MAP map. Field nullability follows the columns.
func arrowSchemaFromColumns(cols []Column) *arrow.Schema {
	return arrow.NewSchema(arrowFields(cols), nil)
}

func arrowFields(cols []Column) []arrow.Field {
	out := make([]arrow.Field, len(cols))
	for i, c := range cols {
		out[i] = arrow.Field{Name: c.Name, Type: arrowTypeOf(c.Type), Nullable: c.Nullable}
	}
	return out
}

func arrowTypeOf(t ColumnType) arrow.DataType {
	switch t.Name {
	case TypeTinyint:
		return arrow.PrimitiveTypes.Int8
	case TypeSmallint:
		return arrow.PrimitiveTypes.Int16
	case TypeInt:
		return arrow.PrimitiveTypes.Int32
	case TypeBigint:
		return arrow.PrimitiveTypes.Int64
	case TypeFloat:
		return arrow.PrimitiveTypes.Float32
	case TypeDouble:
		return arrow.PrimitiveTypes.Float64
	case TypeBoolean:
		return arrow.FixedWidthTypes.Boolean
	case TypeBinary:
		return arrow.BinaryTypes.LargeBinary
	case TypeDate:
		return arrow.FixedWidthTypes.Date32
	case TypeTimestamp:
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	case TypeTimestampNTZ:
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	case TypeVariant:
		return arrow.StructOf(
			arrow.Field{Name: "metadata", Type: arrow.BinaryTypes.LargeBinary},
			arrow.Field{Name: "value", Type: arrow.BinaryTypes.LargeBinary},
		)
	case TypeArray:
		return arrow.ListOf(arrowTypeOf(*t.Element))
	case TypeMap:
		return arrow.MapOf(arrowTypeOf(*t.Key), arrowTypeOf(*t.Value))
	case TypeStruct:
		return arrow.StructOf(arrowFields(t.Fields)...)
	default: // STRING, DECIMAL
		return arrow.BinaryTypes.LargeString
	}
}

// compareArrowSchema checks a Flight stream's schema against the table's:
// the same field names in the same order and count, and types equal to the
// expected ones (nullability and the names of list items / map entries are
// not compared; a nullable field may feed a NOT NULL column, whose nulls are
// then rejected per batch).
func compareArrowSchema(want, got *arrow.Schema) []schemaProblem {
	var out []schemaProblem
	compareArrowFields("", want.Fields(), got.Fields(), &out)
	return out
}

func compareArrowFields(path string, want, got []arrow.Field, out *[]schemaProblem) {
	add := func(cause, format string, args ...any) {
		*out = append(*out, schemaProblem{cause, fmt.Sprintf(format, args...)})
	}
	compareFieldNames(path, "Arrow", arrowFieldNames(want), func(i int) bool { return !want[i].Nullable }, arrowFieldNames(got), add,
		func(name string, wi, gi int) { compareArrowType(name, want[wi].Type, got[gi].Type, out) })
}

func arrowFieldNames(fs []arrow.Field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

func compareArrowType(name string, want, got arrow.DataType, out *[]schemaProblem) {
	mismatch := func() {
		*out = append(*out, schemaProblem{CauseTypeIncompatible, fmt.Sprintf("field %q has Arrow type %s, the table column needs %s", name, got, want)})
	}
	if want.ID() != got.ID() {
		mismatch()
		return
	}
	switch w := want.(type) {
	case *arrow.StructType:
		compareArrowFields(name+".", w.Fields(), got.(*arrow.StructType).Fields(), out)
	case *arrow.ListType:
		compareArrowType(name+".element", w.Elem(), got.(*arrow.ListType).Elem(), out)
	case *arrow.MapType:
		g := got.(*arrow.MapType)
		compareArrowType(name+".key", w.KeyType(), g.KeyType(), out)
		compareArrowType(name+".value", w.ItemType(), g.ItemType(), out)
	case *arrow.TimestampType:
		g := got.(*arrow.TimestampType)
		if g.Unit != w.Unit || (g.TimeZone == "") != (w.TimeZone == "") {
			mismatch()
		}
	}
}
