#!/usr/bin/env bash
# The one command to run on the GPU machine (no dotnet there; PyTorch with CUDA is), from the repository
# root, with bench/gpu/dist/gpucheck.tar.xz carried over (built by pack.sh):
#   bash bench/gpu/run.sh            # writes ours.json, torch.json and gpu-results.md to $OUT (or ./gpu-out)
set -uo pipefail
out="${OUT:-gpu-out}"
mkdir -p "$out" /tmp/gpucheck
tar -C /tmp/gpucheck -xJf bench/gpu/dist/gpucheck.tar.xz
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/nvidia-smi.txt"
/tmp/gpucheck/GpuCheck/GpuCheck --device cuda:0 --out "$out" 2>&1 | tee "$out/gpucheck.log"
status=${PIPESTATUS[0]}
python3 bench/gpu/torch_bench.py "$out/ours.json" "$out" 2>&1 | tee "$out/torch.log"
exit $status
