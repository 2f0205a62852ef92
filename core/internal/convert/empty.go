package convert

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// EmptyData is zero-length array data of dt, built from its layout: every
// fixed-width buffer holds one zeroed element (a zero-length array's single
// offset, more than views and indices need), bitmaps one byte, value
// buffers nothing; children and dictionaries are empty in turn. It serves
// any type, where arrow-go's builders panic on some (a dictionary of large
// strings, a list view of one) and its MakeArrayOfNull gives a zero-length
// list of large_binary too short an offsets buffer for the IPC writer.
func EmptyData(dt arrow.DataType) arrow.ArrayData {
	if ext, ok := dt.(arrow.ExtensionType); ok {
		st := EmptyData(ext.StorageType())
		defer st.Release()
		return array.NewData(dt, 0, st.Buffers(), st.Children(), 0, 0)
	}
	layout := dt.Layout()
	bufs := make([]*memory.Buffer, len(layout.Buffers))
	for i, spec := range layout.Buffers {
		switch spec.Kind {
		case arrow.KindFixedWidth:
			bufs[i] = memory.NewBufferBytes(make([]byte, spec.ByteWidth))
		case arrow.KindBitmap:
			bufs[i] = memory.NewBufferBytes(make([]byte, 1))
		case arrow.KindVarWidth:
			bufs[i] = memory.NewBufferBytes(nil)
		}
	}
	var children []arrow.ArrayData
	if _, dict := dt.(*arrow.DictionaryType); !dict {
		if nt, ok := dt.(arrow.NestedType); ok {
			for _, f := range nt.Fields() {
				children = append(children, EmptyData(f.Type))
			}
		}
	}
	d := array.NewData(dt, 0, bufs, children, 0, 0)
	for _, c := range children {
		c.Release()
	}
	if dt, ok := dt.(*arrow.DictionaryType); ok {
		dict := EmptyData(dt.ValueType)
		d.SetDictionary(dict)
		dict.Release()
	}
	return d
}
