#!/usr/bin/env bash
# Runs bench/Compare (our engine vs libtorch, side by side in one process) from the repository root.
# TorchSharp-cpu's native library needs a newer libstdc++ than Debian 12 ships: libtorch-env.sh
# (in the shared folder beside the repository) prepares one once and prints the environment to use.
#   bench/compare.sh --quick          # about a minute or two
#   bench/compare.sh --quick --json   # last line of stdout: {"cases":[...]}
#   bench/compare.sh --cases sgemm_1024,add_16m
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Build first, WITHOUT the libtorch environment: with its libstdc++ preloaded, ld.so prints a
# harmless GLIBC_2.38 warning on stderr, and MSBuild reports that line from the compiler as an error.
# Build output goes to stderr, so stdout carries only the comparison (its last line with --json).
dotnet build bench/Compare/Compare.csproj -c Release -r linux-x64 -nologo -v quiet 1>&2

env_script="${ENGINE_LIBTORCH_ENV_SCRIPT:-}"
if [ -z "$env_script" ]; then
  for candidate in "$root/../shared/tools/libtorch-env.sh"; do
    if [ -f "$candidate" ]; then env_script="$candidate"; break; fi
  done
fi
if [ -n "$env_script" ]; then
  eval "$(bash "$env_script")"
else
  echo "compare.sh: libtorch-env.sh not found (set ENGINE_LIBTORCH_ENV_SCRIPT); trying without it" >&2
fi
exec dotnet run --no-build -c Release --project bench/Compare/Compare.csproj -r linux-x64 -- "$@"
