package core

import (
	"errors"

	"github.com/apache/arrow-go/v18/arrow"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/flightstream"
)

// mismatchError is the error every row of a batch fails with when its
// schema does not fit the table's, column by column (both transports): a
// *ConversionError (Row -1, Column set when one column is named) whose Err
// is the *SchemaMismatchError listing them.
func mismatchError(me *flightstream.MismatchError) *ConversionError {
	sm := &SchemaMismatchError{Table: me.Table, msg: me.Error()}
	for _, c := range me.Columns {
		sm.Columns = append(sm.Columns, ColumnMismatch{Column: c.Column, BatchType: c.CallerType, TableType: c.TableType, Reason: c.Reason, Code: c.Code})
	}
	ce := &ConversionError{Row: -1, Reason: me.Error(), Err: sm}
	if len(me.Columns) == 1 {
		ce.Column = me.Columns[0].Column
	}
	return ce
}

// protobufMismatch checks schema against the table's columns as the
// catalog gave them (table), before any stream opens, by the Flight cast's
// column-by-column rule (flightstream.PlanCast): a batch column the table
// lacks, a NOT NULL column the batch lacks, a column whose type does not
// go into the table's. plan is schema's protobuf plan made with the
// table's types. A column that rule refuses but whose protobuf field the
// table's column takes as it is (an int64 into a TIMESTAMP is its
// microseconds, a date32 into an INT its days: the service compares the
// field types only) is left to the server as before, so nothing protobuf
// sends is refused here. nil when nothing is refused.
func (w *Wrapper) protobufMismatch(schema, table *arrow.Schema, plan *convert.Plan, opts convert.Options) *ConversionError {
	_, err := flightstream.PlanCast(w.cfg.TableName, schema, table)
	var me *flightstream.MismatchError
	if !errors.As(err, &me) {
		return nil
	}
	tplan, err := convert.NewPlan(convert.TableAsSent(table), opts)
	if err != nil {
		return nil // the table's own descriptor cannot be derived: the server decides
	}
	got, want := plan.MessageDescriptor().Fields(), tplan.MessageDescriptor().Fields()
	kept := *me
	kept.Columns = nil
	for _, c := range me.Columns {
		if c.CallerType != "" && c.TableType != "" {
			g, w := got.ByName(protoreflect.Name(c.Column)), want.ByName(protoreflect.Name(c.Column))
			if g == nil || w == nil || sameFieldType(g, w, 0) {
				continue
			}
		}
		kept.Columns = append(kept.Columns, c)
	}
	if len(kept.Columns) == 0 {
		return nil
	}
	return mismatchError(&kept)
}

// sameFieldType reports whether the table's field w takes field g: the same
// column type (wire encodings of one type, int32 and sint32, alike),
// repeated or not alike, and for messages each field of g in w with the
// same type: a field of g that w lacks is a STRUCT field the table does not
// have, which the service refuses (FIELD_NOT_IN_TABLE); a field w has that
// g lacks is left to the server (a nullable one is stored as null).
func sameFieldType(g, w protoreflect.FieldDescriptor, depth int) bool {
	if depth > 2*convert.MaxNestingDepth || g.IsList() != w.IsList() || g.IsMap() != w.IsMap() {
		return false
	}
	if g.IsMap() {
		return sameFieldType(g.MapKey(), w.MapKey(), depth+1) && sameFieldType(g.MapValue(), w.MapValue(), depth+1)
	}
	if kindClass(g.Kind()) != kindClass(w.Kind()) {
		return false
	}
	if gm, wm := g.Message(), w.Message(); gm != nil && wm != nil {
		gf, wf := gm.Fields(), wm.Fields()
		for i := range gf.Len() {
			f := gf.Get(i)
			if t := wf.ByName(f.Name()); t == nil || !sameFieldType(f, t, depth+1) {
				return false
			}
		}
	}
	return true
}

// kindClass is the column type a protobuf kind writes (int32, sint32 and
// sfixed32 alike), as the service compares them.
func kindClass(k protoreflect.Kind) protoreflect.Kind {
	switch k {
	case protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.Int32Kind
	case protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.Int64Kind
	case protoreflect.Fixed32Kind:
		return protoreflect.Uint32Kind
	case protoreflect.Fixed64Kind:
		return protoreflect.Uint64Kind
	case protoreflect.GroupKind:
		return protoreflect.MessageKind
	}
	return k
}
