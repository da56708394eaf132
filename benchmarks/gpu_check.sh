#!/usr/bin/env bash
# The GPU path, measured: `bench` on CUDA, the studio's --self-test on CUDA, the studio stall
# benchmark on CUDA. One short script (a few minutes on a current GPU), for a machine with a CUDA
# GPU and a venv whose torch is a CUDA build (`make test TORCH=torch==2.13.0` on such a machine
# gets one from PyPI). Figures go to $OUT (default: ./gpu-check) and to stdout.
#
#   benchmarks/gpu_check.sh            # uses .venv/bin/python
#   PYTHON=/path/to/python OUT=/tmp/gpu benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${OUT:-gpu-check}
mkdir -p "$OUT"
export QT_QPA_PLATFORM=offscreen

if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
    echo "gpu_check: no CUDA device visible to $PY (torch $("$PY" -c 'import torch; print(torch.__version__)'))" >&2
    exit 2
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
"$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda,
          torch.cuda.get_device_name(0))' | tee -a "$OUT/gpu.txt"

status=0
echo "== bench on CUDA (methods interleaved, median of per-round ratios)"
if ! "$PY" -m sketchstudio.cli --device cuda bench --json --repeats 5 > "$OUT/bench_cuda.json"; then
    status=1
fi
"$PY" - "$OUT/bench_cuda.json" <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
print(f"device {data['device']}")
for row in data["rows"]:
    ran = f"  ({row['ran']})" if row.get("ran") else ""
    print(f"  {row['model']:<13} N={row['strokes']:<4} {row['method']:<24} "
          f"{row['median_ms']:>9.2f} ms  {row['peak_mb']} MB{ran}")
for r in data["ratios"]:
    print(f"  {r['model']:<13} N={r['strokes']:<4} {r['ratio']:<34} {r['median']:>8.2f}")
EOF

echo "== --self-test on CUDA"
SKETCHSTUDIO_DEVICE=cuda "$PY" -m sketchstudio.cli --self-test 2>&1 | tee "$OUT/self_test.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== studio stall benchmark on CUDA (live explanation after every stroke)"
"$PY" benchmarks/bench_studio_stall.py --device cuda 2>&1 | tee "$OUT/stall_cuda.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
exit $status
