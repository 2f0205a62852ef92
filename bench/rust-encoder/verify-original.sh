#!/bin/sh
# Checks that src/main.rs re-creates the original's conversion faithfully: builds
# the original's own conversion code (src/wrapper/conversion.rs,
# protobuf_serialization.rs and error.rs of pixie79/arrow-zerobus-sdk-wrapper,
# copied at run time from a checkout you provide, never committed here) in a
# scratch crate under target/, with the same profile, then compares its output
# with the re-creation's (byte for byte) and times both, alternating, on the
# reference batch that `make bench-rust-encoder` wrote.
#
# Usage: bench/rust-encoder/verify-original.sh <checkout or git dir of the original> [rounds]
# (rounds 0: build and check only; `make bench-rust-encoder ORIGINAL=<dir>` does that and then times
# the original's code in every round too.)
set -eu
src=${1:?usage: verify-original.sh <checkout or git dir of pixie79/arrow-zerobus-sdk-wrapper> [rounds]}
rounds=${2:-8}
here=$(cd "$(dirname "$0")" && pwd)
data=$here/target/data
[ -f "$data/reference.arrow" ] || { echo "run make bench-rust-encoder first (it writes $data/reference.arrow)" >&2; exit 1; }
crate=$here/target/verify-original
mkdir -p "$crate/src/wrapper"
for f in src/error.rs src/wrapper/conversion.rs src/wrapper/protobuf_serialization.rs; do
  if [ -f "$src/$f" ]; then cp "$src/$f" "$crate/$f"; else git --git-dir="$src" show "HEAD:$f" >"$crate/$f"; fi
done
printf 'pub mod conversion;\npub mod protobuf_serialization;\n' >"$crate/src/wrapper/mod.rs"
cat >"$crate/Cargo.toml" <<'TOML'
[package]
name = "verify-original"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
arrow = { version = "57", default-features = false, features = ["ipc"] }
prost-types = "0.13"
libc = "0.2"
tracing = "0.1"
thiserror = "1.0"

[profile.release]
opt-level = 3
lto = true
codegen-units = 1
TOML
cat >"$crate/src/main.rs" <<'RS'
// The original's conversion functions, timed as bench/rust-encoder times its re-creation.
#![allow(dead_code)]
mod error;
mod wrapper;
use std::io::Write;
fn cpu_ns() -> u128 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own.
    assert_eq!(unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) }, 0);
    ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128
}
fn convert(b: &arrow::record_batch::RecordBatch) -> wrapper::conversion::ProtobufConversionResult {
    let d = wrapper::conversion::generate_protobuf_descriptor(b.schema().as_ref()).expect("descriptor");
    wrapper::conversion::record_batch_to_protobuf_bytes(b, &d)
}
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let iters: usize = a[2].parse().expect("iters");
    let r = arrow::ipc::reader::FileReader::try_new(std::fs::File::open(&a[1]).expect("open"), None).expect("ipc");
    let bs: Vec<_> = r.collect::<Result<_, _>>().expect("ipc");
    let b = arrow::compute::concat_batches(&bs[0].schema(), &bs).expect("concat");
    let warm = convert(&b);
    assert!(warm.failed_rows.is_empty(), "{} rows failed", warm.failed_rows.len());
    if let Some(path) = a.get(3) {
        let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
        for (row, rec) in &warm.successful_bytes {
            f.write_all(&(*row as u32).to_le_bytes()).unwrap();
            f.write_all(&(rec.len() as u32).to_le_bytes()).unwrap();
            f.write_all(rec).unwrap();
        }
        f.flush().unwrap();
    }
    drop(warm);
    let c0 = cpu_ns();
    for _ in 0..iters {
        let o = convert(std::hint::black_box(&b));
        std::hint::black_box(&o);
    }
    println!("cpu-ns/row {:.1}", (cpu_ns() - c0) as f64 / (iters * b.num_rows()) as f64);
}
RS
[ -f "$crate/Cargo.lock" ] || cp "$here/Cargo.lock" "$crate/Cargo.lock"
echo "== build (the original's conversion, its release profile)"
# The same target directory as the bench: the arrow build is shared.
CARGO_TARGET_DIR=$here/target cargo build --release --quiet --manifest-path "$crate/Cargo.toml"
orig=$here/target/release/verify-original
recr=$here/target/release/rust-encoder-bench
cargo build --release --quiet --manifest-path "$here/Cargo.toml"

"$orig" "$data/reference.arrow" 1 "$data/original_records.bin" >/dev/null
"$recr" "$data/reference.arrow" --iters 1 --dump "$data/rust_records.bin" >/dev/null
if cmp -s "$data/original_records.bin" "$data/rust_records.bin"; then
  echo "output: the re-creation's records are byte-identical to the original code's ($(wc -c <"$data/rust_records.bin") bytes)"
else
  echo "output: the re-creation's records DIFFER from the original code's" >&2; exit 1
fi
: >"$data/v_orig.txt"; : >"$data/v_recr.txt"
i=1
while [ "$i" -le "$rounds" ]; do
  o=$("$orig" "$data/reference.arrow" 20 | awk '{print $2}')
  c=$("$recr" "$data/reference.arrow" --iters 20 | awk '{for (i = 2; i <= NF; i++) if ($i == "cpu-ns/row") print $(i+1)}')
  echo "round $i: original code $o  re-creation $c (CPU ns per row)"
  echo "$o" >>"$data/v_orig.txt"; echo "$c" >>"$data/v_recr.txt"
  i=$((i + 1))
done
[ "$rounds" -gt 0 ] || exit 0
median() { sort -n "$1" | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo "median: original code $(median "$data/v_orig.txt")  re-creation $(median "$data/v_recr.txt")"
