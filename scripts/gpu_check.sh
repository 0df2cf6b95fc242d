#!/usr/bin/env bash
# The GPU checks of docs/launcher.md ("Running on GPUs"), for a machine with at least one CUDA device.
# Each run is bounded by `timeout`; the first that is not certified stops the script with its exit code.
set -euo pipefail
cd "$(dirname "$0")/.."
IMPL="${IMPL:-reference_impl.adapter:Adapter}"
OUT="${OUT:-gpu-check}"
LIMIT_S="${LIMIT_S:-900}"
python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device: nothing to check')"
run() {
    echo "== $*"
    timeout --kill-after=30 "$LIMIT_S" "$@"
}
run torchrun --standalone --nproc-per-node 1 \
    -m harness certify --launcher env --backend nccl --profile ddp --impl "$IMPL" --out "$OUT/nccl-ddp-ws1"
run torchrun --standalone --nproc-per-node 1 \
    -m harness certify --launcher env --backend nccl --impl "$IMPL" --out "$OUT/nccl-all-ws1"
DDP_LIFECYCLE_MODEL_DEVICE=cuda run torchrun --standalone --nproc-per-node 1 \
    -m harness certify --launcher env --backend gloo --profile ddp --impl "$IMPL" --out "$OUT/gloo-cuda-ddp-ws1"
run torchrun --standalone --nproc-per-node 2 \
    -m harness certify --launcher env --backend gloo --profile ddp --impl "$IMPL" --out "$OUT/gloo-ddp-ws2"
echo "every GPU check certified; certificates in $OUT/"
