#!/bin/sh
# Side-by-side CPU cost of Arrow -> protobuf conversion on one core: this
# project's Go converter (BenchmarkEncode/plan/parallelism=1, the README's
# conversion benchmark) against a re-creation of the original Rust encoder
# (pixie79/arrow-zerobus-sdk-wrapper 0.8.1, src/main.rs), both on the same
# 100,000-row convert.ReferenceBatch, release builds, in ONE run: ROUNDS
# rounds, each running both sides (order alternating), each side converting
# the batch ITERS times and reporting process CPU ns per row. Prints the
# medians and their ratio. Run with `make bench-rust-encoder`.
set -eu
ROUNDS=${ROUNDS:-8}
ITERS=${ITERS:-20}
# CPU=n pins both sides to core n (taskset), so Go's GC workers share the core.
pin=
if [ -n "${CPU:-}" ]; then pin="taskset -c $CPU"; fi
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/bench/rust-encoder/target/data
mkdir -p "$out"

echo "== build (Rust release, Go test binary)"
cargo build --release --quiet --manifest-path "$root/bench/rust-encoder/Cargo.toml"
rust=$root/bench/rust-encoder/target/release/rust-encoder-bench
(cd "$root" && ${GO:-go} test -tags rustbench -c -o "$out/convert.test" ./core/internal/convert/)
gotest() { (cd "$root/core/internal/convert" && ZEROBUS_RUST_BENCH_DIR=$out $pin "$out/convert.test" "$@"); }

echo "== input: convert.ReferenceBatch(100000 rows) -> $out/reference.arrow"
gotest -test.run '^TestRustBenchWriteInput$' >/dev/null
echo "== output check: every Rust record vs the Go encoder's record for the same row"
"$rust" "$out/reference.arrow" --iters 1 --dump "$out/rust_records.bin" >/dev/null
gotest -test.run '^TestRustBenchCompare$' | grep '^check:'

go_run() {
  gotest -test.run '^$' -test.bench '^BenchmarkEncode$/^plan$/^parallelism=1$' -test.benchtime "${ITERS}x" |
    awk '{for (i = 2; i <= NF; i++) if ($i == "cpu-ns/row") print $(i-1)}'
}
rust_run() {
  $pin "$rust" "$out/reference.arrow" --iters "$ITERS" | awk '{for (i = 2; i <= NF; i++) if ($i == "cpu-ns/row") print $(i+1)}'
}

# ORIGINAL=<checkout or git dir of the original>: also build the original's own
# conversion code (verify-original.sh) and time it in every round.
orig=
if [ -n "${ORIGINAL:-}" ]; then
  echo "== the original's own conversion code, from $ORIGINAL"
  sh "$root/bench/rust-encoder/verify-original.sh" "$ORIGINAL" 0
  orig=$root/bench/rust-encoder/target/release/verify-original
fi
orig_run() { $pin "$orig" "$out/reference.arrow" "$ITERS" | awk '{print $2}'; }

echo "== $ROUNDS rounds x $ITERS conversions${pin:+ ($pin)} of 100000 rows per side (process CPU ns per row)"
: >"$out/go.txt"
: >"$out/rust.txt"
: >"$out/orig.txt"
r=1
while [ "$r" -le "$ROUNDS" ]; do
  if [ $((r % 2)) -eq 1 ]; then
    g=$(go_run); s=$(rust_run)
  else
    s=$(rust_run); g=$(go_run)
  fi
  [ -n "$g" ] && [ -n "$s" ] || { echo "round $r: a side printed no cpu-ns/row" >&2; exit 1; }
  echo "$g" >>"$out/go.txt"
  echo "$s" >>"$out/rust.txt"
  line="round $r: go $g  rust-original $s  ratio $(echo "$s $g" | awk '{printf "%.2f", $1 / $2}')x"
  if [ -n "$orig" ]; then
    o=$(orig_run)
    echo "$o" >>"$out/orig.txt"
    line="$line  original's code $o  ratio $(echo "$o $g" | awk '{printf "%.2f", $1 / $2}')x"
  fi
  echo "$line"
  r=$((r + 1))
done

median() { sort -n "$1" | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
gm=$(median "$out/go.txt"); sm=$(median "$out/rust.txt")
gmin=$(sort -n "$out/go.txt" | head -1); smin=$(sort -n "$out/rust.txt" | head -1)
echo "== result (CPU ns per row; median of $ROUNDS runs, minimum)"
echo "go (this project):     median $gm  min $gmin"
echo "rust (original 0.8.1): median $sm  min $smin"
echo "$sm $gm $smin $gmin" | awk '{printf "ratio (original / ours): %.2fx at the median, %.2fx at the minimum\n", $1 / $2, $3 / $4}'
if [ -n "$orig" ]; then
  om=$(median "$out/orig.txt"); omin=$(sort -n "$out/orig.txt" | head -1)
  echo "original's own code:   median $om  min $omin"
  echo "$om $gm $omin $gmin" | awk '{printf "ratio (original code / ours): %.2fx at the median, %.2fx at the minimum\n", $1 / $2, $3 / $4}'
fi
