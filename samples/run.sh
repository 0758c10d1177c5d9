#!/usr/bin/env bash
# Packs the engine, then builds and runs two apps of a user from those packages (artifacts/packages):
# Consumer (JIT: trains on the embedded data, saves a model and an image) and Classify (the CPU core
# published with NativeAOT: classifies that image and must agree with Consumer). Prints Classify's size
# and start-up time. Needs a C toolchain for NativeAOT (clang or gcc, zlib): see .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 TERM=dumb
out=artifacts/samples
packages=artifacts/sample-packages   # its own package folder: a repack of the same version is never stale
rm -rf "$out" artifacts/packages "$packages"/engine.*
dotnet pack Engine.sln -c Release -o artifacts/packages --nologo -v q
mkdir -p "$out"

dotnet build samples/Consumer -c Release --packages "$packages" -o "$out/consumer" --nologo -v q
dotnet "$out/consumer/Consumer.dll" "$out/run" | tee "$out/consumer.txt"

dotnet publish samples/Classify -c Release -r linux-x64 --packages "$packages" -o "$out/classify" --nologo -v q 2>&1 | tee "$out/publish.txt"
if grep -E "warning (IL|CS)[0-9]+" "$out/publish.txt" | grep -E "Engine\.|samples/" ; then
  echo "samples: trim/AOT warnings from the engine's assemblies (above)"; exit 1
fi
binary="$out/classify/Classify"
start=$(date +%s%N)
"$binary" "$out/run/mlp.safetensors" "$out/run/test0.bmp" | tee "$out/classify.txt"
end=$(date +%s%N)
want=$(grep '^predicted:' "$out/consumer.txt"); got=$(grep '^predicted:' "$out/classify.txt")
if [ "$want" != "$got" ]; then echo "samples: Classify says '$got', Consumer '$want'"; exit 1; fi
size=$(stat -c %s "$binary")
echo "samples: Classify (NativeAOT, linux-x64) is $((size / 1024 / 1024)) MB ($size bytes), ran in $(((end - start) / 1000000)) ms end to end; it agrees with Consumer"
