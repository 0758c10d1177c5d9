#!/usr/bin/env bash
# Publishes bench/GpuCheck self-contained for linux-x64 and packs it to bench/gpu/dist/gpucheck.tar.xz,
# small enough to carry to a GPU machine that has no dotnet (see run.sh for the command to run there).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
rm -rf bench/gpu/dist
dotnet publish bench/GpuCheck/GpuCheck.csproj -c Release -r linux-x64 --self-contained true \
  -p:PublishTrimmed=false -p:DebugType=none -p:ErrorOnDuplicatePublishOutputFiles=false -o bench/gpu/dist/GpuCheck -nologo -v quiet
tar -C bench/gpu/dist -cJf bench/gpu/dist/gpucheck.tar.xz GpuCheck
size=$(stat -c %s bench/gpu/dist/gpucheck.tar.xz)
echo "bench/gpu/dist/gpucheck.tar.xz: $((size / 1024 / 1024)) MiB ($size bytes)"
if [ "$size" -ge $((60 * 1024 * 1024)) ]; then echo "pack.sh: over 60 MiB, too big to carry" >&2; exit 1; fi
