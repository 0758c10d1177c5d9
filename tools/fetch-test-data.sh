#!/usr/bin/env bash
# Fetches, without root, the test data the suites can use beyond what the repository holds, into
# artifacts/test-data/, and says clearly what it could not get. Nothing here is needed for the tests to
# pass: without it the ONNX operator conformance tests (815) are one skip with the reason.
#   libonnx-testdata (ONNX's node tests, 27 MB): `apt-get download` needs no root; unpacked with dpkg-deb.
set -uo pipefail
cd "$(dirname "$0")/.."
dest=artifacts/test-data
mkdir -p "$dest"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
status=0

if [ -d /usr/share/libonnx-testdata/data/node ]; then
  echo "libonnx-testdata: installed system-wide; the tests read /usr/share/libonnx-testdata"
elif [ -d "$dest/usr/share/libonnx-testdata/data/node" ]; then
  echo "libonnx-testdata: already in $dest"
elif ! command -v apt-get > /dev/null || ! command -v dpkg-deb > /dev/null; then
  echo "libonnx-testdata: NOT fetched: this is not a Debian-like system (no apt-get/dpkg-deb)."
  echo "  Get ONNX's backend test data (onnx/backend/test/data/node in the onnx sources) and set ONNX_TESTDATA_DIR to it."
  status=1
elif (cd "$work" && apt-get download libonnx-testdata > "$work/log" 2>&1); then
  dpkg-deb -x "$work"/libonnx-testdata_*.deb "$dest"
  echo "libonnx-testdata: unpacked into $dest/usr/share/libonnx-testdata ($(du -sh "$dest/usr/share/libonnx-testdata" | cut -f1))"
else
  echo "libonnx-testdata: NOT fetched: apt-get download failed:"
  sed 's/^/  /' "$work/log"
  echo "  (run 'apt-get update' as root first if the package lists are empty, or install it: apt-get install libonnx-testdata)"
  status=1
fi
exit $status
