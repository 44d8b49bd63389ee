#!/usr/bin/env bash
# Train the shipped models on a GPU in one command of at most 9 minutes, all at once (a small
# U-Net leaves most of an H100/H200 idle, so the runs share it), each from the shipped weights:
#   n2n-gaussian, n2c-gaussian      Gaussian sigma 0-50, noisy and clean targets (fp32/TF32), same budget
#   n2n-gaussian-bf16               the noisy-target run again under bf16 autocast (the A/B for the
#                                   bf16 breakdown on nearly clean inputs seen on the CPU)
#   n2n-camera, n2c-camera          camera noise 60% + Gaussian 0-50 40% (the real-photo model and its
#                                   clean-target twin, same budget; noise drawn by CPU DataLoader workers)
# First all runs train 600 steps together (compiling included) with a constant rate; their measured
# speeds then size each run's iterations to the time left (twins get the smaller of their two), and the
# runs resume to that length. Writes to $OUT one NAME.tar per run (latest.safetensors = the weights'
# moving average, best.safetensors, log.csv, config.json), device_train.log and gpu_infer.json
# (benchmarks/gpu_infer.py: eager fp32 against fp16/bf16 inference): at most 8 files.
#
# Here, once:     python scripts/pack_train_data.py          # .devdata/train, <= 50 MiB, ignored by git
# On the device:  run(command="OUT=$OUT bash scripts/device_train.sh", carry=[".devdata"], timeout_s=600)
# Here, after:    tar -xf NAME.tar -C runs/NAME; python scripts/ship_model.py runs/NAME NAME
# The same script on this CPU, tiny (what a test runs, so that GPU time is never spent debugging):
#   OUT=/tmp/out DEVICE=cpu PROBE=4 MAX_ITER=16 BATCH=2 CROP=32 CAM_WORKERS=0 TOTAL_SECONDS=200 \
#   BENCH='--device cpu --configs fp32 --count 2 --repeats 1' bash scripts/device_train.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${OUT:?set OUT to the folder for the results}"
DEVICE=${DEVICE:-cuda}
DATA=${DATA:-.devdata/train}
BATCH=${BATCH:-32}
CROP=${CROP:-128}
TOTAL_SECONDS=${TOTAL_SECONDS:-440}   # training, start-up included; then <= 90 s of inference bench (the call allows 600)
JOBS=${JOBS:-"n2n-gaussian n2c-gaussian n2n-gaussian-bf16 n2n-camera n2c-camera"}
CAM_WORKERS=${CAM_WORKERS:-5}
PROBE=${PROBE:-600}   # steps of the shared probe; its last third (all runs compiled by then) gives the speed
EXTRA=${EXTRA:-}   # more `n2n train` options for every run (e.g. --lr 3e-4)
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
START=$(date +%s)
RUNS=$(mktemp -d)
mkdir -p "$OUT"
LOG="$OUT/device_train.log"
COMPILE=$([ "$DEVICE" = cpu ] && echo "" || echo "--compile")
W=src/noise2noise/weights

args() {  # the options of run $1 (the same for its first steps and its resumption)
  local name=$1 target noise prec=fp32 workers=0 val=gaussian:5,gaussian:25,gaussian:50
  target=$([ "${name:0:3}" = n2n ] && echo noisy || echo clean)
  case $name in
    *camera*) noise="camera@0.6,gaussian:0-50@0.4" workers=$CAM_WORKERS val=camera ;;
    *) noise="gaussian:0-50" ;;
  esac
  [ "${name%-bf16}" != "$name" ] && prec=bf16
  echo --data "$DATA" --noise "$noise" --target "$target" --batch "$BATCH" --crop "$CROP" --input-quantize 0.5 \
    --device "$DEVICE" --precision "$prec" --workers "$workers" --ema 0.999 --val-count 8 --val-noise "$val" \
    --init "$W/unet-gaussian-${name:0:3}.safetensors" --out "$RUNS/$name" --quiet $COMPILE ${EXTRA:-}
}
twin() { local n=${1%-bf16}; echo "${n/n2n/n2c} ${n/n2c/n2n}"; }   # the runs that share a budget

echo "device_train: $(date -u) on $DEVICE; jobs: $JOBS" | tee "$LOG"
[ "$DEVICE" = cpu ] || nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee -a "$LOG" || true
for j in $JOBS; do  # 1) all runs, PROBE steps together at a constant rate
  # shellcheck disable=SC2046
  "$PY" -m noise2noise.cli train $(args "$j") --iterations "$PROBE" --rampup 0.3 --rampdown 0 \
    --val-every "$PROBE" --ckpt-every $((PROBE / 3 > 0 ? PROBE / 3 : 1)) > "$RUNS/$j.probe.json" 2> "$RUNS/$j.err" &
done
wait
ok=""
for j in $JOBS; do  # a run that failed is reported and left out; the others go on
  if [ -s "$RUNS/$j/log.csv" ]; then ok="$ok $j"; else echo "device_train: $j FAILED: $(tail -n 5 "$RUNS/$j.err")" | tee -a "$LOG"; fi
done
JOBS=$ok
LEFT=$(( TOTAL_SECONDS - ($(date +%s) - START) - 60 ))   # 60 s: compiling again, validating, packing
LEFT=$(( LEFT > 0 ? LEFT : 0 ))
declare -A RATE N
for j in $JOBS; do  # steps per second from the last log row (training only: no compiling, no validation)
  RATE[$j]=$("$PY" -c "import csv,sys; r=list(csv.DictReader(open(sys.argv[1])))[-1]; print(float(r['img_per_s'])/$BATCH)" "$RUNS/$j/log.csv")
  echo "device_train: $j probe $(cat "$RUNS/$j.probe.json"); ${RATE[$j]} steps/s" | tee -a "$LOG"
done
for j in $JOBS; do  # each run's length from the time left; twins (and the bf16 A/B) get the slower speed
  slow=${RATE[$j]}
  for t in $(twin "$j"); do [ -n "${RATE[$t]:-}" ] && slow=$("$PY" -c "print(min($slow, ${RATE[$t]}))"); done
  N[$j]=$("$PY" -c "print($PROBE + min(int($slow * $LEFT * 0.8) // 8 * 8, ${MAX_ITER:-10**9}))")
  echo "device_train: $j -> ${N[$j]} iterations (${LEFT} s left)" | tee -a "$LOG"
done
for j in $JOBS; do  # 2) resume each run to its length, with the paper's ramp-down at the end
  it=${N[$j]} every=$(( N[$j] / 8 > 0 ? N[$j] / 8 : 1 ))
  # shellcheck disable=SC2046
  timeout $((LEFT + 30)) "$PY" -m noise2noise.cli train $(args "$j") --iterations "$it" --rampup 0 \
    --val-every "$every" --ckpt-every "$every" > "$RUNS/$j.json" 2>> "$RUNS/$j.err" &
done
wait || true   # a run stopped by its timeout keeps its last checkpoint
for j in $JOBS; do
  echo "device_train: $j $(cat "$RUNS/$j.json" 2>/dev/null) $(tail -n 2 "$RUNS/$j/log.csv" | tr '\n' ' ')" | tee -a "$LOG"
  tail -n 5 "$RUNS/$j.err" >> "$LOG" || true
  files=(latest.safetensors log.csv config.json)
  [ -f "$RUNS/$j/best.safetensors" ] && files+=(best.safetensors)
  [ -f "$RUNS/$j/latest.safetensors" ] || continue
  tar -cf "$OUT/$j.tar" -C "$RUNS/$j" "${files[@]}"
done
echo "device_train: trained in $(( $(date +%s) - START )) s" | tee -a "$LOG"
# 3) GPU inference: eager fp32 against fp16/bf16 (+ torch.compile), speed and quality, into gpu_infer.json
BENCH=${BENCH:-"--device $DEVICE"}
# shellcheck disable=SC2086
timeout "${BENCH_SECONDS:-90}" "$PY" benchmarks/gpu_infer.py --images "$DATA" --out "$OUT/gpu_infer.json" $BENCH \
  >> "$LOG" 2>&1 || echo "device_train: gpu_infer did not finish" | tee -a "$LOG"
echo "device_train: done in $(( $(date +%s) - START )) s" | tee -a "$LOG"
ls -l "$OUT" | tee -a "$LOG"
