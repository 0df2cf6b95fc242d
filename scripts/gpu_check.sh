#!/usr/bin/env bash
# The GPU checks of docs/launcher.md ("Running on GPUs"), for a machine with at least one CUDA device.
# Each run is bounded by `timeout`; the first that is not certified stops the script with its exit code.
# Without a CUDA device (or with a CPU build of torch) it says so on one line and exits 2 before any run.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
IMPL="${IMPL:-reference_impl.adapter:Adapter}"
OUT="${OUT:-gpu-check}"
LIMIT_S="${LIMIT_S:-900}"
"$PYTHON" - <<'EOF' || exit 2
import sys

import torch

if not torch.cuda.is_available():
    build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
    sys.exit(
        f"gpu_check.sh: no CUDA device visible (torch {torch.__version__}, {build}): these checks need one GPU;"
        " on a CPU machine, tests/test_model_host.py checks which device each backend gets"
    )
EOF
run() {
    echo "== $*"
    timeout --kill-after=30 "$LIMIT_S" "$PYTHON" -m torch.distributed.run --standalone "$@"
}
run --nproc-per-node 1 -m harness certify --launcher env --backend nccl --profile ddp --impl "$IMPL" \
    --out "$OUT/nccl-ddp-ws1"
run --nproc-per-node 1 -m harness certify --launcher env --backend nccl --impl "$IMPL" --out "$OUT/nccl-all-ws1"
DDP_LIFECYCLE_MODEL_DEVICE=cuda run --nproc-per-node 1 \
    -m harness certify --launcher env --backend gloo --profile ddp --impl "$IMPL" --out "$OUT/gloo-cuda-ddp-ws1"
run --nproc-per-node 2 -m harness certify --launcher env --backend gloo --profile ddp --impl "$IMPL" \
    --out "$OUT/gloo-ddp-ws2"
echo "every GPU check certified; certificates in $OUT/"
