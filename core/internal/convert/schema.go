package convert

import (
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// NewPlan builds the protobuf descriptor for an Arrow schema and compiles the
// plan that encodes its record batches. Every column must map to protobuf
// (see the package documentation for the type mapping); otherwise NewPlan
// returns a *SchemaError listing every problem at once. It does not retain
// or release anything from schema beyond keeping the *arrow.Schema pointer.
func NewPlan(schema *arrow.Schema, opts Options) (*Plan, error) {
	if schema == nil {
		return nil, errors.New("convert: NewPlan: schema is nil")
	}
	opts = opts.withDefaults()
	b := &schemaBuilder{opts: opts}
	if r := checkName(opts.MessageName); r != "" {
		b.probs.add("", "", "Options.MessageName %q: %s (SanitizeMessageName makes a valid one)", opts.MessageName, r)
	}
	if n := schema.NumFields(); n == 0 {
		b.probs.add("", "", "the schema has no columns; Zerobus needs at least one")
	} else if n > MaxColumns {
		b.probs.add("", "", "the schema has %d columns, over the Zerobus limit of %d; split the table or drop columns", n, MaxColumns)
	}
	msg := &descriptorpb.DescriptorProto{Name: proto.String(opts.MessageName)}
	sc := &scope{full: "." + opts.MessageName, taken: map[string]bool{}}
	cols, from := b.fields(schema.Fields(), "", 0, msg, sc, true)
	b.probs.addCaseClashes(schema)
	if err := b.probs.err(); err != nil {
		return nil, err
	}
	md, err := buildMessageDescriptor(msg)
	if err != nil {
		// The builder only produces valid descriptors; reaching this is a bug.
		return nil, fmt.Errorf("convert: internal error: generated descriptor is invalid: %w", err)
	}
	p := newPlan(schema, msg, md, cols, opts)
	p.from = from
	return p, nil
}

// schemaBuilder turns Arrow fields into nodes and descriptor fields,
// collecting problems instead of stopping at the first.
type schemaBuilder struct {
	opts  Options
	probs problems
}

// typeCtx says where a type appears, to refuse shapes protobuf lacks.
type typeCtx uint8

const (
	ctxField typeCtx = iota
	ctxListElem
	ctxMapKey
	ctxMapValue
)

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// elemPath and valuePath are the paths of a list's elements and a map's
// values, under which the fields of their STRUCTs are named
// ("items[].sku", "m.value.x").
func elemPath(path string) string  { return path + "[]" }
func valuePath(path string) string { return path + ".value" }

// TableNullability maps the path of every column and STRUCT field of a
// table's schema (also inside ARRAY elements and MAP values) to its
// nullability, in the form Options.TableNullable takes.
func TableNullability(s *arrow.Schema) map[string]bool {
	m := map[string]bool{}
	walkTable(s, nil, func(path string, _ arrow.DataType, field, nullable bool) {
		if field {
			m[path] = nullable
		}
	})
	return m
}

// TableTypes maps each column of a table's schema to its Arrow type, and
// each STRUCT field, ARRAY element, MAP key ("m.key") and MAP value by the
// paths Options.TableNullable uses, in the form Options.TableType takes.
func TableTypes(s *arrow.Schema) map[string]arrow.DataType {
	m := make(map[string]arrow.DataType, s.NumFields())
	walkTable(s, nil, func(path string, dt arrow.DataType, _, _ bool) {
		m[path] = dt
		if mt, ok := UnwrapType(dt).(*arrow.MapType); ok && !protoarrow.IsVariantType(dt) {
			m[path+".key"] = mt.KeyType()
		}
	})
	return m
}

// TableVariants lists the paths of a table schema's VARIANT columns, STRUCT
// fields, ARRAY elements and MAP values (protoarrow.IsVariantType), in the
// form Options.TableVariant takes; nil when it has none.
func TableVariants(s *arrow.Schema) map[string]bool {
	var m map[string]bool
	walkTable(s, nil, func(path string, dt arrow.DataType, _, _ bool) {
		if protoarrow.IsVariantType(dt) {
			if m == nil {
				m = map[string]bool{}
			}
			m[path] = true
		}
	})
	return m
}

// walkTable calls visit for every column and STRUCT field of a table schema
// (field true, with its nullability) and every ARRAY element and MAP value
// (field false), by the paths Options.TableNullable uses. A VARIANT is
// visited, not its parts. level, when not nil, is called first with the
// fields of each level (the columns, then each STRUCT's fields) and the path
// of the level ("" for the columns).
func walkTable(s *arrow.Schema, level func(prefix string, fs []arrow.Field), visit func(path string, dt arrow.DataType, field, nullable bool)) {
	var walkType func(dt arrow.DataType, path string, depth int)
	walk := func(fs []arrow.Field, prefix string, depth int) {
		if level != nil {
			level(prefix, fs)
		}
		for _, f := range fs {
			path := joinPath(prefix, f.Name)
			visit(path, f.Type, true, f.Nullable)
			walkType(f.Type, path, depth)
		}
	}
	walkType = func(dt arrow.DataType, path string, depth int) {
		if depth > MaxNestingDepth || protoarrow.IsVariantType(dt) {
			return
		}
		switch t := UnwrapType(dt).(type) {
		case *arrow.StructType:
			walk(t.Fields(), path, depth+1)
		case *arrow.MapType:
			visit(valuePath(path), t.ItemType(), false, true)
			walkType(t.ItemType(), valuePath(path), depth+1)
		case arrow.ListLikeType:
			visit(elemPath(path), t.Elem(), false, true)
			walkType(t.Elem(), elemPath(path), depth+1)
		}
	}
	walk(s.Fields(), "", 0)
}

// fields adds one descriptor field per Arrow field to msg and returns their
// nodes (nil entries only when problems were recorded). Where
// Options.TableFields gives the level, the fields are first put in the
// table's order and spelling (matchLevel); from then says which batch
// field each node reads (nil: node k reads field k).
func (b *schemaBuilder) fields(fs []arrow.Field, prefix string, depth int, msg *descriptorpb.DescriptorProto, sc *scope, top bool) ([]*node, []int) {
	fs, from := b.matchLevel(fs, prefix)
	valid := make([]bool, len(fs))
	for i, f := range fs {
		path := joinPath(prefix, f.Name)
		if r := checkName(f.Name); r != "" {
			b.probs.add(path, f.Type.String(), "%s", r)
			continue
		}
		if sc.taken[f.Name] {
			b.probs.add(path, f.Type.String(), "duplicate column name %q; protobuf field names must be unique: rename one", f.Name)
			continue
		}
		sc.taken[f.Name] = true
		valid[i] = true
	}
	// Map entry messages must have exactly this name, so reserve them before
	// nested struct messages pick theirs.
	for i, f := range fs {
		if !valid[i] || UnwrapType(f.Type).ID() != arrow.MAP {
			continue
		}
		e := mapEntryName(f.Name)
		if sc.taken[e] {
			b.probs.add(joinPath(prefix, f.Name), f.Type.String(),
				"a map column needs a nested message named %q for its entries, which another column already uses; rename one of them", e)
			valid[i] = false
			continue
		}
		sc.taken[e] = true
	}
	nodes := make([]*node, len(fs))
	num := int32(0)
	for i, f := range fs {
		num = nextFieldNumber(num)
		if !valid[i] {
			continue
		}
		path := joinPath(prefix, f.Name)
		missing := from != nil && from[i] < 0
		dt := MarkedType(f) // a UUID named in the field's metadata
		if missing {
			dt = variantsAsText(dt)
		}
		n, typeName := b.typeNode(dt, messageNameFor(f.Name), f.Name, path, depth, msg, sc, ctxField)
		if n == nil {
			continue
		}
		n.allNull = n.allNull || missing // a nullable table field the batch lacks
		null := nullOmit
		if !f.Nullable && !b.opts.AllOptional {
			null = nullRequired
		}
		if nullable, ok := b.opts.TableNullable[path]; ok {
			null = nullOmit
			if !nullable {
				null = nullNotNull
			}
		}
		finish(n, f.Name, num, null)
		label := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
		switch {
		case isRepeated(n):
			label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED
		case top && null != nullOmit:
			label = descriptorpb.FieldDescriptorProto_LABEL_REQUIRED
		}
		msg.Field = append(msg.Field, fieldProto(f.Name, num, label, n.ptype, typeName))
		nodes[i] = n
	}
	return nodes, from
}

// typeNode compiles the conversion of Arrow type dt. hint is the base name
// for a nested message, fieldName the protobuf field name it belongs to;
// nested messages are declared in msg, whose names live in sc. It returns
// the node (nil after recording a problem) and, for message-typed fields,
// the fully qualified type name.
func (b *schemaBuilder) typeNode(dt arrow.DataType, hint, fieldName, path string, depth int, msg *descriptorpb.DescriptorProto, sc *scope, ctx typeCtx) (*node, string) {
	if depth > MaxNestingDepth {
		b.probs.add(path, dt.String(), "nesting is deeper than %d levels; flatten the type", MaxNestingDepth)
		return nil, ""
	}
	switch t := dt.(type) {
	case *arrow.DictionaryType:
		return b.wrap(dt, t.ValueType, hint, fieldName, path, depth, msg, sc, ctx)
	case *arrow.RunEndEncodedType:
		return b.wrap(dt, t.Encoded(), hint, fieldName, path, depth, msg, sc, ctx)
	case arrow.ExtensionType:
		if IsUUIDType(t) {
			if tt, ok := b.opts.TableType[path]; ok && isTableString(tt) && !b.opts.TableVariant[path] && !b.hasDecimal(path) {
				// UUIDs into STRING: their text (uuidTextEnc), on both
				// transports; into other columns their 16 bytes.
				n := &node{dt: t.StorageType(), ptype: descriptorpb.FieldDescriptorProto_TYPE_STRING, uuid: true}
				if IsUUIDMark(t) {
					return n, "" // the arrays are the storage's
				}
				return &node{dt: dt, ptype: n.ptype, inner: n}, ""
			}
			if ctx == ctxMapKey {
				// No protobuf map key holds 16 bytes, and "cast the key
				// column" (storage's refusal) is no step for UUIDs.
				b.probs.add(path, UUIDExtension+" ("+t.StorageType().String()+")", "%s", UUIDKeyReason)
				return nil, ""
			}
			if IsUUIDMark(t) {
				return b.typeNode(t.StorageType(), hint, fieldName, path, depth, msg, sc, ctx)
			}
		}
		return b.wrap(dt, t.StorageType(), hint, fieldName, path, depth, msg, sc, ctx)
	}
	if t, ok := tableTypeAt(b.opts.TableType, path); ok && dt.ID() == arrow.NULL && ctx != ctxMapKey {
		// A column or STRUCT field of nulls only (pandas' object column of
		// None, polars' Null, pyarrow's struct<x: null> from dicts whose x
		// is always None), or ARRAY elements or MAP values of the null
		// type: the table's type, every value null.
		t = variantsAsText(t) // VARIANT text, also inside STRUCTs, ARRAYs and MAPs
		n, typeName := b.typeNode(t, hint, fieldName, path, depth, msg, sc, ctx)
		if n != nil {
			n.allNull = true
		}
		return n, typeName
	}
	info, reason := classify(dt)
	switch info.class {
	case classUnsupported:
		b.probs.add(path, dt.String(), "%s", reason)
		return nil, ""
	case classStruct:
		if ctx == ctxMapKey {
			b.probs.add(path, dt.String(), "protobuf map keys must be integers, booleans or strings; cast the key or use a list of structs")
			return nil, ""
		}
		name := sc.unique(hint)
		sub := &descriptorpb.DescriptorProto{Name: proto.String(name)}
		msg.NestedType = append(msg.NestedType, sub)
		subScope := &scope{full: sc.full + "." + name, taken: map[string]bool{}}
		children, from := b.fields(dt.(*arrow.StructType).Fields(), path, depth+1, sub, subScope, false)
		return &node{dt: dt, ptype: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, fields: children, from: from}, subScope.full
	case classList:
		switch ctx {
		case ctxListElem:
			b.probs.add(path, dt.String(), "a list of lists has no protobuf equivalent (repeated fields cannot nest); wrap the inner list in a struct or flatten it")
			return nil, ""
		case ctxMapKey, ctxMapValue:
			b.probs.add(path, dt.String(), "protobuf map keys and values cannot be lists; wrap the list in a struct")
			return nil, ""
		}
		elem, typeName := b.typeNode(MarkedType(listElem(dt)), hint, fieldName, elemPath(path), depth+1, msg, sc, ctxListElem)
		if elem == nil {
			return nil, ""
		}
		return &node{dt: dt, ptype: elem.ptype, elem: elem}, typeName
	case classMap:
		if ctx != ctxField {
			b.probs.add(path, dt.String(), "a map inside a list or another map has no protobuf equivalent; wrap the map in a struct")
			return nil, ""
		}
		return b.mapNode(dt.(*arrow.MapType), hint, fieldName, path, depth, msg, sc)
	}
	if ctx == ctxMapKey && info.class != classSigned && info.class != classUnsigned && info.class != classBool && info.class != classString && info.class != classDecimal && !floatIntoTableInt(info.class, b.opts.TableType[path]) && !(info.class == classFloat && b.hasDecimal(path)) {
		b.probs.add(path, dt.String(), "protobuf map keys must be integers, booleans or strings; cast the key column")
		return nil, ""
	}
	n := &node{dt: dt, ptype: info.ptype, mul: info.mul, div: info.div, unit: info.unit, scale: info.scale,
		variant: info.class == classString && b.opts.TableVariant[path]}
	if d, ok := b.opts.TableDecimal[path]; ok && (info.class == classDecimal && !DecimalAlwaysFits(dt, d) || info.class == classString) {
		n.fit = &d // some values may not fit (or, given as strings, not be numbers): each is checked
	} else if ok && IsNumberIntoDecimal(dt) {
		n.fit, n.ptype = &d, descriptorpb.FieldDescriptorProto_TYPE_STRING // decimal text (number_decimal.go)
		return n, ""
	} else if ok && info.class != classDecimal {
		b.probs.add(path, dt.String(), "%s", DecimalRefusal(d))
		return nil, ""
	}
	if tt, ok := b.opts.TableType[path]; ok {
		if why := TimestampIntoTable(dt, tt); why != "" {
			// a zoned timestamp into TIMESTAMP_NTZ (timestamp_zone.go)
			b.probs.list = append(b.probs.list, Problem{Column: path, Type: dt.String(), Reason: why, Code: ZonedIntoNTZ})
			return nil, ""
		}
		n.narrowTo(tt)
	}
	return n, ""
}

// wrap compiles a dictionary, run-end encoded or extension type as its
// value (storage) type.
func (b *schemaBuilder) wrap(dt, value arrow.DataType, hint, fieldName, path string, depth int, msg *descriptorpb.DescriptorProto, sc *scope, ctx typeCtx) (*node, string) {
	inner, typeName := b.typeNode(value, hint, fieldName, path, depth, msg, sc, ctx)
	if inner == nil {
		return nil, ""
	}
	return &node{dt: dt, ptype: inner.ptype, inner: inner}, typeName
}

// mapNode compiles a map column: a repeated entry message named as protobuf
// requires, with key = 1 and value = 2.
func (b *schemaBuilder) mapNode(mt *arrow.MapType, hint, fieldName, path string, depth int, msg *descriptorpb.DescriptorProto, sc *scope) (*node, string) {
	key, _ := b.typeNode(MarkedType(mt.KeyField()), hint+"Key", "key", path+".key", depth+1, msg, sc, ctxMapKey)
	val, valType := b.typeNode(MarkedType(mt.ItemField()), hint+"Value", "value", valuePath(path), depth+1, msg, sc, ctxMapValue)
	if key == nil || val == nil {
		return nil, ""
	}
	finish(key, "key", 1, nullRequired)
	finish(val, "value", 2, nullMapValue)
	name := mapEntryName(fieldName) // reserved by fields
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
	entry := &descriptorpb.DescriptorProto{
		Name: proto.String(name),
		Field: []*descriptorpb.FieldDescriptorProto{
			fieldProto("key", 1, opt, key.ptype, ""),
			fieldProto("value", 2, opt, val.ptype, valType),
		},
		Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
	}
	msg.NestedType = append(msg.NestedType, entry)
	return &node{dt: mt, ptype: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, key: key, val: val}, sc.full + "." + name
}

// finish sets the field name, number and null handling on a node chain:
// wrappers share them with their value node, list elements share the
// number and fail on nulls.
func finish(n *node, name string, num int32, null nullMode) {
	for ; n != nil; n = n.inner {
		n.name, n.num, n.null = name, protowire.Number(num), null
		if n.elem != nil {
			finish(n.elem, "", num, nullElement)
		}
	}
}

// base returns the innermost node of a wrapper chain.
func (n *node) base() *node {
	for n.inner != nil {
		n = n.inner
	}
	return n
}

// isRepeated reports whether n encodes as a repeated field (list or map).
func isRepeated(n *node) bool {
	bn := n.base()
	return bn.elem != nil || bn.key != nil
}

func fieldProto(name string, num int32, label descriptorpb.FieldDescriptorProto_Label, t descriptorpb.FieldDescriptorProto_Type, typeName string) *descriptorpb.FieldDescriptorProto {
	fd := &descriptorpb.FieldDescriptorProto{
		Name:   proto.String(name),
		Number: proto.Int32(num),
		Label:  label.Enum(),
		Type:   t.Enum(),
	}
	if typeName != "" {
		fd.TypeName = proto.String(typeName)
	}
	return fd
}
