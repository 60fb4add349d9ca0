#!/usr/bin/env bash
# GPU check of the onnx engine: on a machine with an NVIDIA GPU and onnxruntime-node's CUDA provider
# installed (README, "CUDA"), run the engine parity tests and the engines benchmark with the onnx
# engine on [cuda, cpu], and print both. Without the CUDA provider it says so and exits 1 (the same
# runs on [cpu] are part of `npm test` and `npm run bench`).
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
if ! node -e "import('./dist/src/experts/ort.js').then((m) => process.exit(m.cudaProviderInstalled() ? 0 : 1))"; then
  echo "gpu-check: the CUDA execution provider of onnxruntime-node is not installed;" >&2
  echo "  install it with: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node" >&2
  exit 1
fi
command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
export MUSKETEERS_PROVIDERS=cuda,cpu
echo "== parity: onnx engine on [cuda, cpu] against tfjs (cpu)"
node --test dist/test/rl/engine-parity.test.js
echo "== engines benchmark on [cuda, cpu]"
node dist/bench/run.js --only engines --out bench-results/gpu "$@"
