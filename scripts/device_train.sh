#!/usr/bin/env bash
# Train the shipped Gaussian models (noisy and clean targets, same budget) on a lent GPU in one command
# of at most 9 minutes, from the shipped weights; writes 6 files to $OUT: for each model its
# latest.safetensors (the weights' moving average), log.csv and config.json.
#
# Here, once:     python scripts/pack_train_data.py          # .devdata/train, <= 50 MiB, ignored by git
# On the device:  run(command="OUT=$OUT bash scripts/device_train.sh", carry=[".devdata"], timeout_s=600)
# Here, after:    python scripts/ship_model.py RUN n2n-gaussian   (RUN: a folder with the 3 files)
# The same script on this CPU, tiny (what a test runs, so that a lent GPU is never spent debugging):
#                 OUT=/tmp/out DEVICE=cpu ITER=20 SECONDS_PER_MODEL=30 bash scripts/device_train.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${OUT:?set OUT to the folder for the results}"
DEVICE=${DEVICE:-cuda}
DATA=${DATA:-.devdata/train}
BATCH=${BATCH:-64}
SECONDS_PER_MODEL=${SECONDS_PER_MODEL:-210}   # two models + a probe + start-up within 9 minutes
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
RUNS=$(mktemp -d)
COMPILE=$([ "$DEVICE" = cpu ] && echo "" || echo "--compile")
common=(--data "$DATA" --noise gaussian:0-50 --batch "$BATCH" --crop 64 --input-quantize 0.5 --device "$DEVICE"
        --ema 0.999 --val-count 8 --quiet $COMPILE)
if [ -z "${ITER:-}" ]; then  # measure this machine: 300 steps (compiling included), then size the runs to the time
  "$PY" -m noise2noise.cli train "${common[@]}" --out "$RUNS/probe" --iterations 300 --val-every 300 --ckpt-every 300 > "$RUNS/probe.json"
  ITER=$("$PY" -c "import json,sys; s=json.load(open(sys.argv[1])); print(int(300 / s['seconds'] * $SECONDS_PER_MODEL * 0.85) // 100 * 100)" "$RUNS/probe.json")
  echo "device_train: probe $(cat "$RUNS/probe.json"); $ITER iterations per model"
fi
for target in noisy clean; do
  name=$([ "$target" = noisy ] && echo n2n || echo n2c)
  "$PY" -m noise2noise.cli train "${common[@]}" --target "$target" --out "$RUNS/$name" --iterations "$ITER" \
    --val-every $(( ITER / 4 > 0 ? ITER / 4 : 1 )) --ckpt-every $(( ITER / 4 > 0 ? ITER / 4 : 1 )) \
    --max-minutes $(( SECONDS_PER_MODEL / 60 + 1 )) --init "src/noise2noise/weights/unet-gaussian-$name.safetensors"
  mkdir -p "$OUT/$name-gaussian"
  cp "$RUNS/$name/latest.safetensors" "$RUNS/$name/log.csv" "$RUNS/$name/config.json" "$OUT/$name-gaussian/"
done
ls -l "$OUT"/*
