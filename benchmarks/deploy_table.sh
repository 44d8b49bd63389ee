#!/usr/bin/env bash
# The deployment table of the README: the shipped model exported at each precision, scored on
# Kodak24 and CBSD68 (gaussian:25, float protocol), and timed on a 768x512 image.
#   bash benchmarks/deploy_table.sh            (from the repository root, in the .venv)
#   BENCH=0 bash benchmarks/deploy_table.sh    (skip the timing run)
set -euo pipefail
OUT=${OUT:-docs/results}
EX=${EX:-.cache/export}
CAL=${CAL:-../shared/data/train/CBSD432}
mkdir -p "$OUT" "$EX"
n2n export -o $EX/fp32.onnx
n2n export -o $EX/fp16.onnx --precision fp16
n2n export -o $EX/int8-kl.onnx --precision int8 --method kl --calib $CAL --calib-count 16
n2n export -o $EX/int8-nncf.xml --precision int8 --method nncf --calib $CAL --calib-count 16
for set in Kodak24 CBSD68; do
  n2n eval ../shared/data/test/$set --noise gaussian:25 --protocol float --backend torch --precision fp32 \
    --json $OUT/deploy-$set-fp32.json --quiet --table $OUT/deploy-$set-fp32.md
  # fp16 ONNX in ONNX Runtime; both int8 models in OpenVINO (its int8 kernels)
  for spec in fp16.onnx:onnxruntime int8-kl.onnx:openvino int8-nncf.xml:openvino; do
    f=${spec%%:*}; be=${spec##*:}
    n2n eval ../shared/data/test/$set --noise gaussian:25 --protocol float --weights $EX/$f --backend $be \
      --json $OUT/deploy-$set-${f%.*}.json --quiet
  done
done
[ "${BENCH:-1}" = 0 ] && exit 0  # BENCH=0: quality only (timings depend on the architecture, not the weights)
n2n bench --shape 1x3x256x256,1x3x512x768 --file int8-kl=$EX/int8-kl.onnx@openvino --file int8-nncf=$EX/int8-nncf.xml \
  --file fp16-onnx=$EX/fp16.onnx --json $OUT/bench.json
