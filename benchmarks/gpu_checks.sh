#!/usr/bin/env bash
# Issue 12's GPU figures in one run, for a session lent a GPU machine (device time is short):
#
#   bash benchmarks/gpu_checks.sh [DEVICE [SIZES]]      (default: cuda 1,4,16,64)
#
# from the repository root, with python3's torch seeing the GPU. It installs this checkout
# without its dependencies (first the wheels in .whl/, where the missing ones were carried:
# the lent H200 machine lacks gin-config; here `pip download --no-deps -d .whl
# gin-config==0.5.0`, `.whl/` in .git/info/exclude, and carry .whl), prints the device, runs
# a two-model pack of the quickstart on the device through dreproduce and prints the device its
# stages record, then the training throughput of packs of K models against K solo jobs
# (benchmarks/study_throughput.py: the README's target is 44,000 model-steps/s on one
# H100/H200; then the largest K again in bf16) and the bf16 and float32 step against the
# matmul rate (benchmarks/train_step.py). Each part's output is kept in $OUT (else
# ./gpu_checks); a part that fails is reported and the next one runs.
set -uo pipefail
device=${1:-cuda}
sizes=${2:-1,4,16,64}
seconds=${GPU_CHECK_SECONDS:-5}
out=${OUT:-gpu_checks}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:${PYTHONPATH:-}
fi
python3 -m pip install -q --no-index --no-deps --no-build-isolation -e . \
  > "$out/install.txt" 2>&1 || { cat "$out/install.txt"; exit 1; }

part() {  # part NAME COMMAND...: runs it, keeps its output, says how it ended
  local name=$1
  shift
  echo "== $name: $*"
  "$@" 2>&1 | tee "$out/$name.txt"
  echo "== $name: exit status ${PIPESTATUS[0]}"
}

part device python3 -c "import torch; print(torch.__version__, torch.cuda.is_available() and
  torch.cuda.get_device_name(), torch.get_num_threads(), 'CPU threads')"
# First the end-to-end run (correctness on the device), then the figures, longest last.
rm -rf "$out/pack"
part dreproduce_pack dreproduce --study=quickstart --model_nums=0-1 --pack=2 --metrics=mig \
  --device="$device" --output_directory="$out/pack/{model_num}" \
  --gin_bindings="model.training_steps = 200"
part stage_devices python3 -c "
import glob, json, sys
for step in ('model/results/json/train', 'postprocessed/*/results/json/postprocess',
             'metrics/*/*/results/json/evaluation', 'visualizations/results/json/visualize'):
  for path in sorted(glob.glob(sys.argv[1] + '/pack/*/' + step + '_results.json')):
    r = json.load(open(path))
    print(path[len(sys.argv[1]) + 6:], r.get('device'), r.get('precision', ''),
          '{:.1f} s'.format(r['elapsed_time']))" "$out"
rm -rf "$out/pack"
part study_throughput python3 benchmarks/study_throughput.py --device="$device" \
  --sizes="$sizes" --seconds="$seconds"
# 44,000 model-steps/s of 5.3 GFLOP are 232 TFLOP/s: beyond float32 without tensor cores.
part study_throughput_bf16 python3 benchmarks/study_throughput.py --device="$device" \
  --sizes="${sizes##*,}" --seconds="$seconds" --precision=bf16
part train_step python3 benchmarks/train_step.py --device="$device" --rounds=3 \
  --seconds="$seconds"
