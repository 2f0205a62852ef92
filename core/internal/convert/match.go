package convert

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// MatchFields matches the fields of one level of a batch (its columns, or
// the fields of one of its STRUCTs) to the fields the table declares at
// that level, by name: the exact spelling first, else the one batch field
// whose name equals the table field's ignoring case (Delta and Unity
// Catalog names are case-insensitive and case-preserving; CaseClashes
// refuses a batch holding two names that differ only in case, so the match
// is unambiguous). src[i] is the batch field matched to table field i, -1
// when the batch has none; extra lists, in batch order, the batch fields no
// table field matched. A batch field is matched at most once.
//
// It is the one matching rule of both transports: the protobuf plan lists
// the descriptor's fields in the table's order with the table's spelling
// and reads each from its matched batch field (Options.TableFields), and
// the Flight cast builds the table's columns and STRUCT layouts from the
// batch's by it. A batch already in the table's order and spelling is
// matched position by position without building a map.
func MatchFields(batch, table []arrow.Field) (src, extra []int) {
	src = make([]int, len(table))
	if InTableOrder(batch, table) {
		for i := range src {
			src[i] = i
		}
		return src, nil
	}
	byName := make(map[string]int, len(batch))
	for j := len(batch) - 1; j >= 0; j-- { // the first of a repeated name wins
		byName[batch[j].Name] = j
	}
	used := make([]bool, len(batch))
	for i, tf := range table {
		src[i] = -1
		if j, ok := byName[tf.Name]; ok && !used[j] {
			src[i], used[j] = j, true
		}
	}
	for i, tf := range table {
		if src[i] >= 0 {
			continue
		}
		want, found := strings.ToLower(tf.Name), -1
		for j, bf := range batch {
			if used[j] || strings.ToLower(bf.Name) != want {
				continue
			}
			if found >= 0 { // two candidates: no match (CaseClashes refuses the batch)
				found = -2
				break
			}
			found = j
		}
		if found >= 0 {
			src[i], used[found] = found, true
		}
	}
	for j, u := range used {
		if !u {
			extra = append(extra, j)
		}
	}
	return src, extra
}

// InTableOrder reports whether batch has exactly the table's fields of one
// level, in its order and spelling (MatchFields then matches field i to
// field i).
func InTableOrder(batch, table []arrow.Field) bool {
	return len(batch) == len(table) && sameNames(len(batch), func(i int) (string, string) { return batch[i].Name, table[i].Name })
}

// MatchStruct is MatchFields for the fields of a batch's STRUCT type and
// the table's, with src nil, and nothing allocated, when the batch's are
// already the table's in its order and spelling (arrow's
// StructType.Fields copies them): the Flight cast calls it for each
// STRUCT of each batch.
func MatchStruct(batch, table *arrow.StructType) (src, extra []int) {
	if batch.NumFields() == table.NumFields() &&
		sameNames(batch.NumFields(), func(i int) (string, string) { return batch.Field(i).Name, table.Field(i).Name }) {
		return nil, nil
	}
	return MatchFields(batch.Fields(), table.Fields())
}

// sameNames reports whether the n pairs of names that names gives are
// equal.
func sameNames(n int, names func(i int) (string, string)) bool {
	for i := range n {
		if a, b := names(i); a != b {
			return false
		}
	}
	return true
}

// TableLevels maps the path of every level of a table's schema (""
// for its columns, then each STRUCT column or field, ARRAY's STRUCT
// elements and MAP's STRUCT values by the paths Options.TableNullable uses:
// "addr", "items[]", "m.value") to the fields the table declares there, in
// its order, in the form Options.TableFields takes.
func TableLevels(s *arrow.Schema) map[string][]arrow.Field {
	m := map[string][]arrow.Field{}
	walkTable(s, func(prefix string, fs []arrow.Field) { m[prefix] = fs }, func(string, arrow.DataType, bool, bool) {})
	return m
}

// matchLevel returns the fields the descriptor lists for the batch fields
// fs of the level at prefix and, for each, the batch field it reads (-1: a
// nullable table field the batch lacks, always null). Where
// Options.TableFields gives the level and fs is not already in its order
// and spelling, they are the table's fields matched by MatchFields (the
// batch field's type under the table's name), in the table's order, then
// the batch fields the table lacks; a NOT NULL table field the batch lacks
// is left out (the service refuses the descriptor naming it). Otherwise fs
// as it is and from nil.
func (b *schemaBuilder) matchLevel(fs []arrow.Field, prefix string) (out []arrow.Field, from []int) {
	tfs, ok := b.opts.TableFields[prefix]
	if !ok || InTableOrder(fs, tfs) {
		return fs, nil
	}
	src, extra := MatchFields(fs, tfs)
	out = make([]arrow.Field, 0, len(tfs)+len(extra))
	from = make([]int, 0, len(tfs)+len(extra))
	for i, tf := range tfs {
		switch j := src[i]; {
		case j >= 0:
			f := fs[j]
			f.Name = tf.Name
			out, from = append(out, f), append(from, j)
		case tf.Nullable:
			out, from = append(out, tf), append(from, -1)
		}
	}
	for _, j := range extra {
		out, from = append(out, fs[j]), append(from, j)
	}
	return out, from
}

// variantsAsText is the table type dt with every VARIANT in it (also in
// STRUCT fields, ARRAY elements and MAP values) as large_utf8: the JSON
// text the protobuf path sends for a VARIANT, for a table field the batch
// lacks.
func variantsAsText(dt arrow.DataType) arrow.DataType {
	if protoarrow.IsVariantType(dt) {
		return arrow.BinaryTypes.LargeString
	}
	switch t := dt.(type) {
	case *arrow.StructType:
		fs := t.Fields()
		for i := range fs {
			fs[i].Type = variantsAsText(fs[i].Type)
		}
		return arrow.StructOf(fs...)
	case *arrow.MapType:
		k, v := t.KeyField(), t.ItemField()
		v.Type = variantsAsText(v.Type)
		m := arrow.MapOfFields(k, v)
		m.KeysSorted = t.KeysSorted
		return m
	case arrow.ListLikeType:
		e := t.ElemField()
		e.Type = variantsAsText(e.Type)
		return arrow.ListOfField(e)
	}
	return dt
}
