"""`n2n burst` on synthetic bursts, against its baselines, in one table.

    python benchmarks/burst_eval.py --set ../shared/data/test/Kodak24 --frames 2,4,8 --gain 8 --limit 6 \
        --out docs/results/burst-kodak24.jsonl
    python benchmarks/burst_eval.py table docs/results/burst-kodak24.jsonl
    python benchmarks/burst_eval.py make --set ../shared/data/test/CBSD68 --frames 4 --gain 8 --out bursts/
    n2n burst bursts/ -o merged/ --reference 0

`make` writes the same bursts as files, `OUT/NAME/frames/fK.png` (8-bit) with frame 0's clean image
as `OUT/NAME/clean.png`, so that `n2n burst` runs on them as a folder of scenes (`--reference 0`
to compare with `clean.png`).

Each clean image becomes a burst (`synthetic_bursts.make_burst`: shifts up to 16 px,
rotations up to 1 degree, one camera's noise at `--gain`, seeded by the image's index;
`--moving-object` pastes an object at another place in each frame). The methods, scored by PSNR
against the reference frame's clean image (frame 0; the cropped border of the motion is included):
the reference frame alone denoised by the default model; the plain mean of the aligned frames; that
mean denoised; the robust merge of the denoised frames without fine-tuning; the full method
(`n2n burst`: the model fine-tuned with the mean of the other frames as input and the reference
frame as target, then merged with the reference denoised). With a moving object, also the PSNR
inside the object's region of the reference frame. One JSON line per burst."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
from synthetic_bursts import make_burst

from noise2noise.auto import pick
from noise2noise.bursts.align import estimate, warp
from noise2noise.bursts.merge import BurstOptions, merge_burst
from noise2noise.data.folders import list_images
from noise2noise.denoiser import Denoiser
from noise2noise.deploy.bench import cpu_name
from noise2noise.evaluation.metrics import psnr
from noise2noise.images import Image, to_uint8


def bgr8(x: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(to_uint8(x), cv2.COLOR_RGB2BGR)


def score(out_bgr: np.ndarray, clean: np.ndarray, mask: np.ndarray | None) -> dict:
    ref = bgr8(clean)
    row = {"psnr": psnr(out_bgr, ref)}
    if mask is not None and mask.any():
        d = (out_bgr.astype(np.float64) - ref.astype(np.float64))[mask]
        row["object_psnr"] = float(10 * np.log10(255**2 / max((d**2).mean(), 1e-12)))
    return row


def one_burst(clean: np.ndarray, frames: int, a: argparse.Namespace, seed: int, den) -> dict:
    b = make_burst(clean, frames, a.gain, seed=seed, moving_object=a.moving_object)
    mask = b.object_masks[0] if a.moving_object else None
    images = [Image(bgr8(f)) for f in b.frames]
    names = [f"f{k}" for k in range(frames)]
    rows = {"reference alone": score(den(images[0].pixels), b.clean[0], mask)}
    floats = [f.pixels.astype(np.float32) / 255 for f in images]
    aligned = [floats[0]] + [warp(f, estimate(floats[0], f))[0] for f in floats[1:]]
    mean = np.mean(aligned, axis=0)
    rows["mean of aligned frames"] = score(to_uint8(mean), b.clean[0], mask)
    rows["mean, then denoised"] = score(den(to_uint8(mean)), b.clean[0], mask)
    quiet = dict(progress=False, log=lambda m: None)
    rows["merge, no fine-tuning"] = score(
        merge_burst(images, names, BurstOptions(reference=0, steps=0), **quiet).image.pixels, b.clean[0], mask
    )
    t = time.perf_counter()
    full = merge_burst(images, names, BurstOptions(reference=0, steps=a.steps), **quiet)
    rows["full (fine-tuned, merged)"] = {
        **score(full.image.pixels, b.clean[0], mask),
        "seconds": time.perf_counter() - t,
    }
    return {
        "frames": frames,
        "gain": a.gain,
        "moving_object": a.moving_object,
        "steps": a.steps,
        "methods": rows,
        "model": full.report["model"],
        "reference_choice": pick(np.ascontiguousarray(b.frames[0].transpose(2, 0, 1))[None]).model,
    }


def run(a: argparse.Namespace) -> None:
    den = Denoiser.from_weights()
    paths = list_images([a.set])[: a.limit]
    with open(a.out, "a") as f:
        for n in (int(v) for v in a.frames.split(",")):
            for i, p in enumerate(paths):
                clean = cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB).astype(np.float32) / 255
                row = {"set": Path(a.set).name, "name": p.name, **one_burst(clean, n, a, i, den), "cpu": cpu_name()}
                f.write(json.dumps(row) + "\n")
                f.flush()
                print(p.name, n, {k: round(v["psnr"], 2) for k, v in row["methods"].items()}, file=sys.stderr)


def table(a: argparse.Namespace) -> None:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for path in a.files:
        for line in open(path):
            r = json.loads(line)
            groups[(r["set"], r["gain"], r["moving_object"], r["frames"])].append(r)
    methods = list(next(iter(groups.values()))[0]["methods"])
    obj = any(k[2] for k in groups)
    print("| set | gain | frames | images | " + " | ".join(methods) + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(methods))
    for (s, gain, moving, n), rows in sorted(groups.items()):
        cells = []
        for m in methods:
            v = np.mean([r["methods"][m]["psnr"] for r in rows])
            o = [r["methods"][m].get("object_psnr") for r in rows]
            cells.append(f"{v:.2f}" + (f" ({np.mean([x for x in o if x is not None]):.2f})" if obj and moving else ""))
        print(f"| {s}{' + moving object' if moving else ''} | {gain} | {n} | {len(rows)} | " + " | ".join(cells) + " |")


def make(a: argparse.Namespace) -> None:
    for i, p in enumerate(list_images([a.set])[: a.limit]):
        clean = cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB).astype(np.float32) / 255
        b = make_burst(clean, a.frames, a.gain, seed=i, moving_object=a.moving_object)
        folder = Path(a.out) / p.stem / "frames"
        folder.mkdir(parents=True, exist_ok=True)
        for k, f in enumerate(b.frames):
            cv2.imwrite(str(folder / f"f{k}.png"), bgr8(f))
        cv2.imwrite(str(folder.parent / "clean.png"), bgr8(b.clean[0]))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "make":
        m = argparse.ArgumentParser(description="write synthetic bursts as OUT/NAME/frames/fK.png")
        m.add_argument("--set", default="../shared/data/test/Kodak24")
        m.add_argument("--frames", type=int, default=4)
        m.add_argument("--gain", type=float, default=8.0)
        m.add_argument("--limit", type=int, default=None)
        m.add_argument("--moving-object", action="store_true")
        m.add_argument("--out", required=True)
        make(m.parse_args(sys.argv[2:]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "table":
        t = argparse.ArgumentParser(description="the Markdown table of burst_eval.py JSON lines")
        t.add_argument("files", nargs="+")
        table(t.parse_args(sys.argv[2:]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="../shared/data/test/Kodak24")
    ap.add_argument("--frames", default="2,4,8")
    ap.add_argument("--gain", type=float, default=8.0, help="camera noise gain (camera:GAIN)")
    ap.add_argument("--steps", type=int, default=200, help="fine-tuning steps of the full method")
    ap.add_argument("--limit", type=int, default=6, help="the first N images of the set")
    ap.add_argument("--moving-object", action="store_true")
    ap.add_argument("--out", required=True, help="JSON lines file to append to")
    run(ap.parse_args())


if __name__ == "__main__":
    main()
