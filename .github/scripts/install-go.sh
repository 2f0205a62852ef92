#!/usr/bin/env bash
# Install the Go toolchain named by go.mod's `go` line into DIR (default
# /usr/local/go): used inside cibuildwheel's manylinux containers, which have
# no Go. Usage: install-go.sh [DIR]
set -euo pipefail
dir=${1:-/usr/local/go}
root=$(cd "$(dirname "$0")/../.." && pwd)
version=$(awk '$1 == "go" { print $2; exit }' "$root/go.mod")
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "install-go.sh: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
url="https://go.dev/dl/go${version}.linux-${arch}.tar.gz"
echo "installing Go ${version} (${arch}) into ${dir} from ${url}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -fsSL --retry 3 -o "$tmp/go.tgz" "$url"
rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
tar -C "$tmp" -xzf "$tmp/go.tgz"
mv "$tmp/go" "$dir"
"$dir/bin/go" version
