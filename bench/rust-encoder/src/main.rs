//! CPU benchmark of the Arrow -> protobuf conversion of the original package,
//! `pixie79/arrow-zerobus-sdk-wrapper` 0.8.1 (Rust + PyO3), on the same data as
//! the Go converter's benchmark (`convert.ReferenceBatch`, read from an Arrow IPC
//! file written by `go test -tags rustbench`).
//!
//! The conversion below is a re-creation of the original's algorithm, not a copy
//! of its code (the crate declares "MIT OR Apache-2.0" in Cargo.toml but ships no
//! LICENSE file, and its conversion module depends on the crate's error type,
//! tracing and serialization helpers). Every function names the file and lines of
//! the original (commit 1d4a1e7, version 0.8.1) whose steps it reproduces, and
//! keeps the same per-row work: a fresh Vec per record, a HashMap lookup by field
//! name per column per row, a downcast per value, the `type_name` split into a Vec
//! and two HashMaps (with cloned String keys) built for every nested message of
//! every row, a separate buffer per nested message copied into its parent,
//! repeated scalars written unpacked (one tag per element), and the 4 MB record
//! size check. Only the branches the reference batch reaches are re-created; the
//! defensive fallbacks of conversion.rs steps 3 and 4 (lines 545-731) are not
//! reachable with a descriptor generated from the schema and are left out, as are
//! the types the reference batch does not use (Float32, UInt64, SInt32/64).
//!
//! Usage: rust-encoder-bench <reference.arrow> [--iters N] [--dump FILE]
//! Prints `cpu-ns/row <x>`: process CPU time (user + system) of N conversions of
//! the whole batch (after one warm-up) divided by N * rows, as the Go benchmark's
//! `cpu-ns/row` metric does.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::Arc;

use arrow::array::*;
use arrow::datatypes::{DataType, Schema};
use arrow::ipc::reader::FileReader;
use arrow::record_batch::RecordBatch;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FieldDescriptorProto};

/// Mirrors conversion.rs:31 (`MAX_RECORD_SIZE_BYTES`).
const MAX_RECORD_SIZE_BYTES: usize = 4_194_285;

/// Stands in for the original's `ZerobusError` (error.rs:13): an enum carrying a
/// formatted String, returned through every encode call.
#[derive(Debug)]
#[allow(dead_code)] // the message is built as the original builds it, then only counted
enum ZerobusError {
    Conversion(String),
}

/// Mirrors protobuf_serialization.rs:35-42 (`encode_varint`): one push per byte.
#[inline]
fn encode_varint(buffer: &mut Vec<u8>, mut value: u64) -> Result<(), ZerobusError> {
    while value >= 0x80 {
        buffer.push(((value & 0x7F) | 0x80) as u8);
        value >>= 7;
    }
    buffer.push((value & 0x7F) as u8);
    Ok(())
}

/// Mirrors protobuf_serialization.rs:17-24 (`encode_tag`).
#[inline]
fn encode_tag(buffer: &mut Vec<u8>, field_number: i32, wire_type: u32) -> Result<(), ZerobusError> {
    encode_varint(buffer, (((field_number as u32) << 3) | wire_type) as u64)
}

/// Mirrors conversion.rs:1120-1153 (`arrow_type_to_protobuf_type`), for the
/// types it maps.
fn arrow_type_to_protobuf_type(dt: &DataType) -> Result<Type, ZerobusError> {
    match dt {
        DataType::Int8 | DataType::Int16 | DataType::Int32 => Ok(Type::Int32),
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 => Ok(Type::Int32),
        DataType::Int64 | DataType::UInt64 => Ok(Type::Int64),
        DataType::Float32 => Ok(Type::Float),
        DataType::Float64 => Ok(Type::Double),
        DataType::Boolean => Ok(Type::Bool),
        DataType::Utf8 | DataType::LargeUtf8 => Ok(Type::String),
        DataType::Binary | DataType::LargeBinary => Ok(Type::Bytes),
        DataType::Timestamp(_, _) | DataType::Date64 => Ok(Type::Int64),
        DataType::Date32 => Ok(Type::Int32),
        DataType::List(f) | DataType::LargeList(f) => arrow_type_to_protobuf_type(f.data_type()),
        DataType::Struct(_) => Ok(Type::Message),
        other => Err(ZerobusError::Conversion(format!("Unsupported Arrow type: {other:?}"))),
    }
}

/// Mirrors conversion.rs:993-1117 (`generate_protobuf_descriptor[_internal]`):
/// fields numbered 1.. in schema order, lists repeated, structs as nested types
/// named `<Parent>_<field>` and referenced as `.<Parent>.<Parent>_<field>`.
fn generate_protobuf_descriptor(schema: &Schema, message_name: &str) -> Result<DescriptorProto, ZerobusError> {
    let mut fields = Vec::new();
    let mut nested_types = Vec::new();
    for (i, field) in schema.fields().iter().enumerate() {
        let is_repeated = matches!(field.data_type(), DataType::List(_) | DataType::LargeList(_));
        let field_type = arrow_type_to_protobuf_type(field.data_type())?;
        let type_name = if field_type == Type::Message {
            let sf = match field.data_type() {
                DataType::Struct(sf) => sf.clone(),
                DataType::List(f) | DataType::LargeList(f) => match f.data_type() {
                    DataType::Struct(sf) => sf.clone(),
                    _ => return Err(ZerobusError::Conversion("list of non-struct".into())),
                },
                _ => return Err(ZerobusError::Conversion("message but not struct".into())),
            };
            let nested_name = format!("{}_{}", message_name, field.name());
            nested_types.push(generate_protobuf_descriptor(&Schema::new(sf), &nested_name)?);
            Some(format!(".{message_name}.{nested_name}"))
        } else {
            None
        };
        fields.push(FieldDescriptorProto {
            name: Some(field.name().clone()),
            number: Some(i as i32 + 1),
            label: Some(if is_repeated { Label::Repeated } else { Label::Optional } as i32),
            r#type: Some(field_type as i32),
            type_name,
            ..Default::default()
        });
    }
    Ok(DescriptorProto {
        name: Some(message_name.to_string()),
        field: fields,
        nested_type: nested_types,
        ..Default::default()
    })
}

/// Mirrors conversion.rs:99-104 (`ProtobufConversionResult`).
struct ProtobufConversionResult {
    successful_bytes: Vec<(usize, Vec<u8>)>,
    failed_rows: Vec<(usize, ZerobusError)>,
}

/// Mirrors conversion.rs:120-248 (`record_batch_to_protobuf_bytes`): maps of
/// field and nested-type descriptors by name built once per batch, then for each
/// row a new Vec, for each column a lookup by name and
/// `encode_arrow_field_to_protobuf`, then the record size check.
fn record_batch_to_protobuf_bytes(batch: &RecordBatch, descriptor: &DescriptorProto) -> ProtobufConversionResult {
    let schema = batch.schema();
    let num_rows = batch.num_rows();
    let field_by_name: HashMap<String, &FieldDescriptorProto> =
        descriptor.field.iter().filter_map(|f| f.name.as_ref().map(|n| (n.clone(), f))).collect();
    let nested_types_by_name: HashMap<String, &DescriptorProto> =
        descriptor.nested_type.iter().filter_map(|nt| nt.name.as_ref().map(|n| (n.clone(), nt))).collect();
    let mut successful_bytes = Vec::new();
    let mut failed_rows = Vec::new();
    for row_idx in 0..num_rows {
        let mut row_buffer = Vec::new();
        let mut row_error: Option<ZerobusError> = None;
        for (field_idx, field) in schema.fields().iter().enumerate() {
            let array = batch.column(field_idx);
            if let Some(field_desc) = field_by_name.get(field.name()) {
                let field_number = field_desc.number.unwrap_or(0);
                if let Err(e) = encode_arrow_field_to_protobuf(
                    &mut row_buffer,
                    field_number,
                    field_desc,
                    array,
                    row_idx,
                    Some(&nested_types_by_name),
                ) {
                    row_error = Some(ZerobusError::Conversion(format!(
                        "Field encoding failed: field='{}', row={}, error={:?}",
                        field.name(),
                        row_idx,
                        e
                    )));
                    break;
                }
            }
        }
        if let Some(e) = row_error {
            failed_rows.push((row_idx, e));
        } else if row_buffer.len() > MAX_RECORD_SIZE_BYTES {
            failed_rows.push((row_idx, ZerobusError::Conversion(format!("Record size ({}) too large", row_buffer.len()))));
        } else {
            successful_bytes.push((row_idx, row_buffer));
        }
    }
    ProtobufConversionResult { successful_bytes, failed_rows }
}

/// Mirrors the nested-descriptor lookup repeated in conversion.rs:324-337 and
/// 457-470: `type_name` trimmed of its leading dot, split on '.', collected into
/// a Vec, and its last part looked up in the nested-type map.
fn find_nested<'a>(
    type_name: &str,
    nested_types: Option<&HashMap<String, &'a DescriptorProto>>,
) -> Option<&'a DescriptorProto> {
    let nested_map = nested_types?;
    let parts: Vec<&str> = type_name.trim_start_matches('.').split('.').collect();
    parts.last().and_then(|last| nested_map.get(*last).copied())
}

/// Mirrors the nested-message body repeated in conversion.rs:339-401 (one list
/// element) and 472-528 (a single struct): tag, a fresh nested buffer, the
/// nested field and nested-type maps rebuilt (String keys cloned), each struct
/// child encoded recursively at `idx`, then the length and a copy of the nested
/// buffer into the parent.
fn encode_nested_message(
    buffer: &mut Vec<u8>,
    field_number: i32,
    nested_desc: &DescriptorProto,
    struct_array: &StructArray,
    idx: usize,
) -> Result<(), ZerobusError> {
    encode_tag(buffer, field_number, 2)?;
    let mut nested_buffer = Vec::new();
    let nested_field_by_name: HashMap<String, &FieldDescriptorProto> =
        nested_desc.field.iter().filter_map(|f| f.name.as_ref().map(|n| (n.clone(), f))).collect();
    let nested_nested_types: HashMap<String, &DescriptorProto> =
        nested_desc.nested_type.iter().filter_map(|nt| nt.name.as_ref().map(|n| (n.clone(), nt))).collect();
    for (field_idx, field) in struct_array.fields().iter().enumerate() {
        let nested_array = struct_array.column(field_idx);
        if let Some(nfd) = nested_field_by_name.get(field.name()) {
            let n = nfd.number.unwrap_or(0);
            if let Err(e) =
                encode_arrow_field_to_protobuf(&mut nested_buffer, n, nfd, nested_array, idx, Some(&nested_nested_types))
            {
                return Err(ZerobusError::Conversion(format!(
                    "Nested field encoding failed: field='{}', row={}, error={:?}",
                    field.name(),
                    idx,
                    e
                )));
            }
        }
    }
    encode_varint(buffer, nested_buffer.len() as u64)?;
    buffer.extend_from_slice(&nested_buffer);
    Ok(())
}

/// Mirrors conversion.rs:265-731 (`encode_arrow_field_to_protobuf`): null check,
/// then step 1 (repeated: ListArray downcast, offsets, repeated messages or
/// per-element `encode_arrow_value_to_protobuf` of non-null elements), step 2
/// (type 11: nested message from a StructArray), else the primitive path.
fn encode_arrow_field_to_protobuf(
    buffer: &mut Vec<u8>,
    field_number: i32,
    field_desc: &FieldDescriptorProto,
    array: &Arc<dyn Array>,
    row_idx: usize,
    nested_types: Option<&HashMap<String, &DescriptorProto>>,
) -> Result<(), ZerobusError> {
    if array.is_null(row_idx) {
        return Ok(());
    }
    let protobuf_type = field_desc.r#type.unwrap_or(9);
    let is_repeated = field_desc.label == Some(Label::Repeated as i32);
    if is_repeated {
        if let Some(list_array) = array.as_any().downcast_ref::<ListArray>() {
            let offsets = list_array.value_offsets();
            let start = offsets[row_idx] as usize;
            let end = offsets[row_idx + 1] as usize;
            let values = list_array.values();
            if protobuf_type == 11 {
                let type_name = field_desc
                    .type_name
                    .as_ref()
                    .ok_or_else(|| ZerobusError::Conversion("Missing type_name".into()))?;
                let nested_desc = find_nested(type_name, nested_types)
                    .ok_or_else(|| ZerobusError::Conversion(format!("Nested type not found: {type_name}")))?;
                let struct_array = values
                    .as_any()
                    .downcast_ref::<StructArray>()
                    .ok_or_else(|| ZerobusError::Conversion("expected StructArray".into()))?;
                for i in start..end {
                    if !struct_array.is_null(i) {
                        encode_nested_message(buffer, field_number, nested_desc, struct_array, i)?;
                    }
                }
                return Ok(());
            }
            for i in start..end {
                if !values.is_null(i) {
                    encode_arrow_value_to_protobuf(buffer, field_number, field_desc, values, i)?;
                }
            }
            return Ok(());
        }
    }
    if protobuf_type == 11 {
        let type_name = field_desc
            .type_name
            .as_ref()
            .ok_or_else(|| ZerobusError::Conversion("Missing type_name".into()))?;
        let nested_desc = find_nested(type_name, nested_types)
            .ok_or_else(|| ZerobusError::Conversion(format!("Nested type not found: {type_name}")))?;
        let struct_array = array
            .as_any()
            .downcast_ref::<StructArray>()
            .ok_or_else(|| ZerobusError::Conversion("expected StructArray".into()))?;
        return encode_nested_message(buffer, field_number, nested_desc, struct_array, row_idx);
    }
    encode_arrow_value_to_protobuf(buffer, field_number, field_desc, array, row_idx)
}

/// Mirrors conversion.rs:734-979 (`encode_arrow_value_to_protobuf`): a match on
/// the descriptor's type, then a chain of downcasts to find the array type, and
/// one value written per call.
fn encode_arrow_value_to_protobuf(
    buffer: &mut Vec<u8>,
    field_number: i32,
    field_desc: &FieldDescriptorProto,
    array: &Arc<dyn Array>,
    row_idx: usize,
) -> Result<(), ZerobusError> {
    let any = array.as_any();
    match field_desc.r#type.unwrap_or(9) {
        1 => {
            let arr = any
                .downcast_ref::<Float64Array>()
                .ok_or_else(|| ZerobusError::Conversion("Expected Float64Array".into()))?;
            encode_tag(buffer, field_number, 1)?;
            buffer.extend_from_slice(&arr.value(row_idx).to_le_bytes());
            Ok(())
        }
        3 => {
            // conversion.rs:768-827: Int64, then Date64, then the four
            // timestamp units, tried in this order.
            let v = if let Some(a) = any.downcast_ref::<Int64Array>() {
                a.value(row_idx)
            } else if let Some(a) = any.downcast_ref::<Date64Array>() {
                a.value(row_idx)
            } else if let Some(a) = any.downcast_ref::<TimestampMicrosecondArray>() {
                a.value(row_idx)
            } else if let Some(a) = any.downcast_ref::<TimestampMillisecondArray>() {
                a.value(row_idx) * 1000
            } else if let Some(a) = any.downcast_ref::<TimestampSecondArray>() {
                a.value(row_idx) * 1_000_000
            } else if let Some(a) = any.downcast_ref::<TimestampNanosecondArray>() {
                a.value(row_idx) / 1000
            } else {
                return Err(ZerobusError::Conversion(format!(
                    "Expected Int64Array or TimestampArray for Int64 field, got: {:?}",
                    array.data_type()
                )));
            };
            encode_tag(buffer, field_number, 0)?;
            encode_varint(buffer, v as u64)
        }
        5 => {
            // conversion.rs:840-860: Int32, then Date32.
            let v = if let Some(a) = any.downcast_ref::<Int32Array>() {
                a.value(row_idx)
            } else if let Some(a) = any.downcast_ref::<Date32Array>() {
                a.value(row_idx)
            } else {
                return Err(ZerobusError::Conversion(format!(
                    "Expected Int32Array or Date32Array for Int32 field, got: {:?}",
                    array.data_type()
                )));
            };
            encode_tag(buffer, field_number, 0)?;
            encode_varint(buffer, v as u64)
        }
        8 => {
            let arr = any
                .downcast_ref::<BooleanArray>()
                .ok_or_else(|| ZerobusError::Conversion("Expected BooleanArray".into()))?;
            encode_tag(buffer, field_number, 0)?;
            encode_varint(buffer, if arr.value(row_idx) { 1 } else { 0 })
        }
        9 => {
            let arr = any
                .downcast_ref::<StringArray>()
                .ok_or_else(|| ZerobusError::Conversion("Expected StringArray".into()))?;
            encode_tag(buffer, field_number, 2)?;
            let bytes = arr.value(row_idx).as_bytes();
            encode_varint(buffer, bytes.len() as u64)?;
            buffer.extend_from_slice(bytes);
            Ok(())
        }
        12 => {
            let arr = any
                .downcast_ref::<BinaryArray>()
                .ok_or_else(|| ZerobusError::Conversion("Expected BinaryArray".into()))?;
            encode_tag(buffer, field_number, 2)?;
            let bytes = arr.value(row_idx);
            encode_varint(buffer, bytes.len() as u64)?;
            buffer.extend_from_slice(bytes);
            Ok(())
        }
        t => Err(ZerobusError::Conversion(format!("Unsupported Protobuf type: {t}"))),
    }
}

/// Process CPU time (all threads, user + system) in nanoseconds.
fn process_cpu_ns() -> u128 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128
}

/// One conversion as the original's write path does it (wrapper/mod.rs:870 and
/// 911): the descriptor generated from the batch's schema, then the batch
/// converted.
fn convert(batch: &RecordBatch) -> ProtobufConversionResult {
    let desc = generate_protobuf_descriptor(batch.schema().as_ref(), "ZerobusMessage").expect("descriptor");
    record_batch_to_protobuf_bytes(batch, &desc)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut input = None;
    let mut iters = 20usize;
    let mut dump = None;
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--iters" => {
                i += 1;
                iters = args.get(i).and_then(|s| s.parse().ok()).filter(|&n| n > 0).unwrap_or_else(|| {
                    eprintln!("--iters needs a positive integer");
                    std::process::exit(2)
                });
            }
            "--dump" => {
                i += 1;
                dump = args.get(i).cloned();
            }
            a if input.is_none() && !a.starts_with('-') => input = Some(a.to_string()),
            a => {
                eprintln!("unknown argument {a:?}\nusage: rust-encoder-bench <reference.arrow> [--iters N] [--dump FILE]");
                std::process::exit(2)
            }
        }
        i += 1;
    }
    let Some(input) = input else {
        eprintln!("usage: rust-encoder-bench <reference.arrow> [--iters N] [--dump FILE]");
        std::process::exit(2)
    };
    let file = File::open(&input).unwrap_or_else(|e| {
        eprintln!("open {input}: {e}");
        std::process::exit(1)
    });
    let reader = FileReader::try_new(file, None).unwrap_or_else(|e| {
        eprintln!("read Arrow IPC file {input}: {e}");
        std::process::exit(1)
    });
    let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap_or_else(|e| {
        eprintln!("read Arrow IPC file {input}: {e}");
        std::process::exit(1)
    });
    let batch = arrow::compute::concat_batches(&batches[0].schema(), &batches).expect("concat");
    let rows = batch.num_rows();

    // Warm-up (the Go benchmark's first b.N=1 run plays the same role).
    let warm = convert(&batch);
    if !warm.failed_rows.is_empty() {
        eprintln!("{} rows failed, first: {:?}", warm.failed_rows.len(), warm.failed_rows[0]);
        std::process::exit(1)
    }
    let bytes: usize = warm.successful_bytes.iter().map(|(_, b)| b.len()).sum();
    if let Some(path) = dump {
        // Each record: row index (u32 LE), length (u32 LE), bytes.
        let mut w = BufWriter::new(File::create(&path).expect("create dump file"));
        for (row, rec) in &warm.successful_bytes {
            w.write_all(&(*row as u32).to_le_bytes()).unwrap();
            w.write_all(&(rec.len() as u32).to_le_bytes()).unwrap();
            w.write_all(rec).unwrap();
        }
        w.flush().unwrap();
    }
    drop(warm);

    let wall0 = std::time::Instant::now();
    let cpu0 = process_cpu_ns();
    for _ in 0..iters {
        let out = convert(std::hint::black_box(&batch));
        std::hint::black_box(&out);
    }
    let cpu = process_cpu_ns() - cpu0;
    let wall = wall0.elapsed();
    let n = (iters * rows) as f64;
    println!(
        "rust-original rows={rows} iters={iters} bytes/batch={bytes} wall-ns/row {:.1} cpu-ns/row {:.1}",
        wall.as_nanos() as f64 / n,
        cpu as f64 / n
    );
}
