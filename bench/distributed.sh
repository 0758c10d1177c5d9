#!/usr/bin/env bash
# Gradient all-reduce per step and how much of it overlaps backward, for the MLP and LeNet, data-parallel over
# mpirun -np 2 (Open MPI) on this machine. Per step: the all-reduce of all gradients alone (blocking, nothing to
# hide behind), the time reductions were in flight while backward still ran, and the time SynchronizeGradients
# waited after backward (communication not hidden). Scaling needs more cores than these machines have: report,
# do not gate. Usage: bash bench/distributed.sh [STEPS] [BATCH_PER_RANK]
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-60}; batch=${2:-32}
export TERM=dumb ENGINE_NUM_THREADS=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
dotnet build tests/Engine.MpiProbe -c Release -o artifacts/mpiprobe --nologo -v q > /dev/null
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, ISA: $(grep -o -w -m1 'avx512f' /proc/cpuinfo || grep -o -w -m1 'avx2' /proc/cpuinfo)"
echo "mpirun -np 2, $steps steps of $batch samples per rank, 1 thread per rank"
printf '%-6s %10s %22s %24s %24s %10s\n' model params "all-reduce alone (ms)" "in flight in backward (ms)" "waited after backward (ms)" hidden
for model in mlp lenet; do
  line=$(mpirun --allow-run-as-root --oversubscribe -np 2 dotnet artifacts/mpiprobe/Engine.MpiProbe.dll "$out" "$steps" "$batch" -1 "$model" | grep '^bench ')
  set -- $line
  awk -v m="$2" -v p="$4" -v a="$6" -v f="$8" -v w="${10}" 'BEGIN { h = (f + w > 0) ? 100 * f / (f + w) : 0; printf "%-6s %10d %22.3f %24.3f %24.3f %9.0f%%\n", m, p, a, f, w, h }'
done
