"""Phone photos: every shipped model against the classical baselines on synthetic low-light phone
photos (``--noise phone:G``, ``phone.py``) of the test sets, at several strengths, and on PolyU.

    python benchmarks/phone_eval.py run --out docs/results/phone-eval.jsonl          # all sets and strengths
    python benchmarks/phone_eval.py run --methods baselines --out ...   # or models: the same rows in two runs
    python benchmarks/phone_eval.py run --methods auto --out docs/results/phone-eval.jsonl   # auto's rows again
    python benchmarks/phone_eval.py run --methods models --only auto n2n-phone --out ...      # after n2n-phone changed
    python benchmarks/phone_eval.py run --methods bm3d --sets Kodak24 --out ...               # BM3D: slow, by set
    python benchmarks/phone_eval.py run --sets Kodak24 --gains 32 --limit 4 --out /tmp/p.jsonl   # a quick look
    python benchmarks/phone_eval.py run --kind isp --sets Kodak24 McMaster --out docs/results/phone-eval-isp.jsonl
    python benchmarks/phone_eval.py run --kind rawphone --sets Kodak24 McMaster CBSD68 --out docs/results/phone-eval-rawphone.jsonl
    python benchmarks/phone_eval.py table docs/results/phone-eval.jsonl              # the Markdown tables

``run`` appends one JSON line per (set, noise, method), replacing a line measured earlier for the
same three, with the per-image PSNR/SSIM, from the library's ``evaluate`` (the same inputs, seeds and 8-bit protocol as ``n2n eval --protocol uint8``). Methods:
the noisy input, ``wavelet`` (BayesShrink), ``wavelet-visu`` (VisuShrink), ``nlm`` (all with the noise
level estimated from the image), and each shipped model by the default path (int8 on OpenVINO where
shipped). ``table`` prints the mean PSNR / SSIM per row, and for the default model its margin over the
better wavelet baseline on each image: on average, on its worst image, and how many images are below it."""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from noise2noise.auto import AUTO, CANDIDATES
from noise2noise.denoiser import Denoiser
from noise2noise.evaluation.core import build_methods, evaluate

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SETS = {"Kodak24": "test/Kodak24", "CBSD68": "test/CBSD68", "McMaster": "test/McMaster", "PolyU": "pairs/PolyU"}
GAINS = (8, 32, 100)  # about 30, 24 and 18 dB in (phone.py's levels)
BASELINES = ("noisy", "wavelet", "wavelet-visu", "nlm")


def key(row: dict) -> tuple[str, str, str]:
    return row["set"], row["noise"], row["method"]


def write_rows(out: Path, rows: list[dict]) -> None:
    """Append ``rows``; a row measured again replaces the earlier one (same set, noise and method)."""
    new = {key(r) for r in rows}
    old = [json.loads(line) for line in open(out)] if out.exists() else []
    kept = [r for r in old if key(r) not in new]
    out.write_text("".join(json.dumps(r) + "\n" for r in [*kept, *rows]))


def measure(
    path: str, noise: str | None, models: list[str], baselines: list[str], limit: int | None = None, quiet: bool = False
) -> dict[str, list[dict]]:
    """Each method's per-image rows on the set at ``path`` under ``noise`` (``None``: its real pairs),
    by the library's ``evaluate`` (``n2n eval --protocol uint8``'s inputs and seeds)."""
    specs = build_methods(baselines, noise, lambda: None, "")
    for m in models:
        specs += build_methods(["model"], noise, lambda m=m: Denoiser.from_weights(model=m, tile=0), m)
    results, _ = evaluate(path, specs, noise=noise, protocol="uint8", limit=limit, progress=not quiet)
    keep = ("name", "psnr", "ssim", "noisy_psnr", "model")
    return {r.method.split(" [")[0]: [{k: im[k] for k in keep if k in im} for im in r.images] for r in results}


def run(a: argparse.Namespace) -> None:
    models = {"all": [AUTO, *CANDIDATES], "models": [AUTO, *CANDIDATES], "auto": [AUTO]}.get(a.methods, [])
    models = [m for m in models if not a.only or m in a.only]
    baselines = list(BASELINES) if a.methods in ("all", "baselines") else ["bm3d"] if a.methods == "bm3d" else []
    for set_name in a.sets:
        path = str(Path(a.data) / SETS[set_name])
        noises = [None] if set_name == "PolyU" else [f"{a.kind}:{g:g}" for g in a.gains]
        for noise in noises:
            by = measure(path, noise, models, baselines, a.limit, a.quiet)
            label = noise or "real"
            write_rows(
                Path(a.out), [{"set": set_name, "noise": label, "method": m, "images": i} for m, i in by.items()]
            )
            print(f"{set_name} {label}: done", flush=True)


def table(a: argparse.Namespace) -> None:
    rows = [json.loads(line) for line in open(a.results)]
    groups: dict[tuple[str, str], dict[str, list[dict]]] = defaultdict(dict)
    for r in rows:
        groups[(r["set"], r["noise"])][r["method"]] = r["images"]
    seen = list(dict.fromkeys(r["method"] for r in rows))
    order = [*BASELINES, "bm3d", AUTO, *CANDIDATES]  # the columns in this order whatever the file's
    methods = [m for m in order if m in seen] + [m for m in seen if m not in order]
    print(
        "| set | noise | input | " + " | ".join(methods) + " | auto - best wavelet: mean / worst image, images below |"
    )
    print("|---|---|---:|" + "---:|" * len(methods) + "---:|")
    for (s, noise), by in groups.items():
        ref = next(iter(by.values()))
        cells = [f"{np.mean([i['noisy_psnr'] for i in ref]):.2f}"]
        for m in methods:
            ims = by.get(m)
            cells.append(
                f"{np.mean([i['psnr'] for i in ims]):.2f} / {np.mean([i['ssim'] for i in ims]):.3f}" if ims else ""
            )
        margin = ""
        if AUTO in by and "wavelet" in by:
            trio = list(zip(by[AUTO], by["wavelet"], by.get("wavelet-visu", by["wavelet"])))
            # auto less the better wavelet of each image, in PSNR and in SSIM
            d, ds = (np.array([a[k] - max(w[k], v[k]) for a, w, v in trio]) for k in ("psnr", "ssim"))
            below = int((d < 0).sum())
            margin = f"{d.mean():+.2f} dB / {d.min():+.2f} dB, {below} below; SSIM {ds.mean():+.3f} / {ds.min():+.3f}"
        print(f"| {s} | {noise} | " + " | ".join(cells) + f" | {margin} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--data", default=str(DATA))
    r.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    r.add_argument("--gains", nargs="+", type=float, default=list(GAINS))
    r.add_argument(
        "--kind",
        choices=("phone", "isp", "rawphone"),
        default="phone",
        help="phone: the phone noise of phone.py; isp: the same sensor through a nonlinear processor (isp.py); "
        "rawphone: the same sensor developed plainly, no noise reduction, sharpening or JPEG",
    )
    r.add_argument("--limit", type=int)
    r.add_argument(
        "--methods",
        default="all",
        choices=("all", "baselines", "models", "auto", "bm3d"),
        help="the baselines need no model: run them apart; auto alone after a change of its rule; "
        "bm3d apart (about 24 s per Kodak24 image on 2 cores)",
    )
    r.add_argument("--only", nargs="+", help="of the models, only these (e.g. after one of them was retrained)")
    r.add_argument("--out", required=True)
    r.add_argument("--quiet", action="store_true")
    t = sub.add_parser("table")
    t.add_argument("results")
    a = ap.parse_args()
    run(a) if a.cmd == "run" else table(a)


if __name__ == "__main__":
    main()
