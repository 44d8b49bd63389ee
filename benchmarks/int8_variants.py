"""Calibration drops of int8 variants of a shipped U-Net: equalization settings and probe noises.

    python benchmarks/int8_variants.py [--model n2n-gaussian] [--probes gaussian:5,gaussian:2] \
        [--json docs/results/int8-variants.json]

For each variant, the same steps as `n2n export --precision int8` (the split graph, KL ranges on 16
CBSD432 crops with the model's noise), with every conv input int8 except the image-reading and
output convolutions, and again with ``dec_conv1b``'s input float: the PSNR drop against the float
graph on the calibration crops and on the same crops at each probe noise. The rows of the
calibration-drop table in ``docs/lab/int8.md`` ("Activation equalization before int8").
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import onnx

from noise2noise.data.folders import find_images, load_rgb
from noise2noise.deploy import quant
from noise2noise.deploy.convert import export_onnx
from noise2noise.deploy.equalize import CAP, POWER, equalize
from noise2noise.deploy.int8 import calibration_batches
from noise2noise.deploy.split import ImageSplitUNet
from noise2noise.images import to_float
from noise2noise.weights import load_checkpoint

# name -> (power, cap, producers equalized; None = all); power 0 = no equalization
VARIANTS = {
    "none": (0.0, 1.0, None),
    "dec_conv1b input only: full ratio": (1.0, 1e9, ["dec_conv1a"]),
    "full ratio: at most 16": (1.0, 16.0, None),
    "full ratio: at most 4": (1.0, 4.0, None),
    "sqrt: at most 4": (0.5, 4.0, None),
    "sqrt: at most 8 (adopted)": (POWER, CAP, None),
    "sqrt: at most 32": (0.5, 32.0, None),
    "power 0.33: at most 16": (0.33, 16.0, None),
    "power 0.75: at most 8": (0.75, 8.0, None),
}
DEC_CONV1B_INPUT = "/act_15/LeakyRelu_output_0"


def drops(fp32: Path, work: Path, sets: dict, clean, refs: dict, ranges: dict, keep: list[str]) -> dict:
    q = work / "q.onnx"
    quant.write_qdq(fp32, q, ranges, keep)
    return {k: round(refs[k] - quant._psnr_against(q, b, clean), 4) for k, b in sets.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="n2n-gaussian")
    ap.add_argument("--calib", default="../shared/data/train/CBSD432")
    ap.add_argument("--count", type=int, default=16)
    ap.add_argument("--probes", default="gaussian:5,gaussian:2")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated names from VARIANTS")
    ap.add_argument("--json")
    a = ap.parse_args()
    ck = load_checkpoint(None, a.model)
    imgs = [to_float(load_rgb(p)) for p in find_images([a.calib])[: a.count]]
    noise = ck.meta.get("noise") or "gaussian:25"
    batches, clean = calibration_batches(imgs, noise, a.count)
    sets = {noise: batches} | {p: calibration_batches(imgs, p, a.count)[0] for p in a.probes.split(",") if p}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in a.variants.split(","):
            power, cap, only = VARIANTS[name]
            fp32 = work / "fp32.onnx"
            model = ck.model if power == 0 else equalize(ck.model, batches, power, cap, only)
            export_onnx(ImageSplitUNet(model), fp32, "fp32")  # the split graph copies its module
            keep = quant.default_float(onnx.load(str(fp32)))
            col, targets = quant.calibrate(fp32, batches, keep)
            ranges = {t: col.range(t, "kl") for t in targets}
            refs = {k: quant._psnr_against(fp32, b, clean) for k, b in sets.items()}  # the float graph, once
            row = {
                "variant": name,
                "all_int8": drops(fp32, work, sets, clean, refs, ranges, keep),
                "dec_conv1b_float": drops(
                    fp32, work, sets, clean, refs, {t: r for t, r in ranges.items() if t != DEC_CONV1B_INPUT}, keep
                ),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    if a.json:
        Path(a.json).write_text(
            json.dumps({"model": a.model, "calibration_noise": noise, "rows": rows}, indent=2) + "\n"
        )


if __name__ == "__main__":
    main()
