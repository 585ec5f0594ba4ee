#!/usr/bin/env bash
# The device check as one command for a lent GPU machine (see docs/gpu.md): installs the carried
# wheels, runs tests/test_gpu.py on the device, then `python -m benchmarks.gpu_check`, each step
# on its own with its log under $OUT (8 files at most come back: the logs, the summary, the
# verdicts, the benchmark's records and report).
#
#   OUT=/tmp/out benchmarks/gpu_check.sh            # BENCH_SECONDS=200, CHECK_ARGS=--no-bench
set -u
export PYTHONUNBUFFERED=1
cd "$(dirname "$0")/.."
OUT="${OUT:?OUT: the folder for the logs}"
mkdir -p "$OUT"
T0=$(date +%s)
{
  echo "== install"
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .wheels/*.whl
  echo "== machine"; nvidia-smi; uname -a; python3 -V
  ldconfig -p | grep -i -E "nvcuvid|nvidia-encode"  # NVDEC's and NVENC's driver libraries
} > "$OUT/setup.log" 2>&1
export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
{
  python3 -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__, \
'CUDA', torch.version.cuda, torch.cuda.is_available())"
  python3 -c "import loaders; [print(k, '-', v) for k, v in loaders.available().items()]"
  echo "setup took $(( $(date +%s) - T0 )) s"
} >> "$OUT/setup.log" 2>&1
echo "== tests/test_gpu.py on the device" > "$OUT/pytest.log"
VIDBENCH_CORPUS_DIR=$PWD/.gpu-check/corpus timeout 120 python3 -m pytest -q -p no:cacheprovider -rs tests/test_gpu.py \
  >> "$OUT/pytest.log" 2>&1
echo "pytest exit $? after $(( $(date +%s) - T0 )) s" >> "$OUT/pytest.log"
# shellcheck disable=SC2086 - CHECK_ARGS is a list of options
timeout 330 python3 -m benchmarks.gpu_check /tmp/gpu-check --bench-seconds "${BENCH_SECONDS:-200}" ${CHECK_ARGS:-} \
  > "$OUT/check.log" 2>&1
echo "gpu_check exit $? after $(( $(date +%s) - T0 )) s" >> "$OUT/check.log"
cp /tmp/gpu-check/summary.md /tmp/gpu-check/verify.json /tmp/gpu-check/bench.log "$OUT/" 2>/dev/null
cp /tmp/gpu-check/results/gpu-check/records.jsonl /tmp/gpu-check/results/gpu-check/report.html "$OUT/" 2>/dev/null
tail -n 8 "$OUT/setup.log" "$OUT/pytest.log"
tail -n 40 "$OUT/check.log"
