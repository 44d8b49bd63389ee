"""The ``auto`` model against an oracle: per image, the model ``auto`` chose, the PSNR of each shipped
model it chooses from, and what a wrong choice cost.

    python benchmarks/auto_oracle.py run --set ../shared/data/test/Kodak24 --noise gaussian:25 --protocol uint8 \
        --out docs/results/auto-oracle.jsonl
    python benchmarks/auto_oracle.py run --set ../shared/data/pairs/PolyU --out docs/results/auto-oracle.jsonl
    python benchmarks/auto_oracle.py run --set ../shared/data/real/RNI15 --choice-only --out docs/results/auto-oracle.jsonl
    python benchmarks/auto_oracle.py table docs/results/auto-oracle.jsonl      # the Markdown table

``run`` appends one JSON line per image (noisy inputs exactly as ``n2n eval`` makes them: the same
seeds and protocols), each model run by the default path (``backend auto``: the shipped int8 model
on OpenVINO). Since ``auto`` runs the chosen model by that same path, its PSNR is the chosen model's.
``--choice-only`` records the choice alone (sets without clean images); ``--reuse OLD`` takes the
models' PSNRs from an earlier run and measures only the choice (after a change of the rule), and with
``--models M`` measures model M again (after M was retrained: ``--reuse F --models n2n-phone --replace --out F``
puts the new rows in place of the old in F)."""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from noise2noise.auto import CANDIDATES, pick
from noise2noise.config import NoiseConfig
from noise2noise.data.evalsets import open_evalset
from noise2noise.denoiser import Denoiser
from noise2noise.evaluation.core import noisy_inputs
from noise2noise.evaluation.metrics import psnr
from noise2noise.images import read_image, to_float, to_rgb, to_uint8


def group_of(row: dict) -> tuple[str, str, str]:
    return row["set"], row["noise"], row["protocol"]


def measure(a: argparse.Namespace):
    """The rows of ``a.set`` under ``a.noise``, one per image, as they are measured."""
    noise = NoiseConfig.parse(a.noise) if a.noise else None
    dens = {} if a.choice_only else {m: Denoiser.from_weights(model=m, tile=0) for m in CANDIDATES}
    again = a.models or ([] if a.reuse else list(CANDIDATES))  # measured even where --reuse has the image
    reuse = {}  # (set, noise, protocol, name) -> the PSNRs of an earlier run: the choice is measured again
    for line in open(a.reuse) if a.reuse else []:
        r = json.loads(line)
        reuse[(*group_of(r), r["name"])] = r.get("psnr")
    if a.choice_only:
        items = [(p.name, p) for p in sorted(Path(a.set).iterdir()) if p.is_file()]
    else:
        items = open_evalset(a.set, real=noise is None).items
    items = items[: a.limit] if a.limit else items
    for i, (name, load) in enumerate(items):
        if a.choice_only:
            x, clean = to_float(to_rgb(read_image(load).pixels)), None
        else:
            clean, real_noisy = load()
            x = noisy_inputs(clean, real_noisy, noise, a.protocol, i, a.seed)
        chw = np.ascontiguousarray(x.transpose(2, 0, 1))[None]
        t = time.perf_counter()
        c = pick(chw)
        row = {
            "set": Path(a.set).name,
            "noise": str(noise) if noise else "real",
            "protocol": a.protocol if noise else "real-8bit",
            "name": name,
            "model": c.model,
            "reason": c.reason,
            "profile": c.noise.as_dict(),
            "profile_seconds": round(time.perf_counter() - t, 4),
        }
        if clean is not None:
            known = reuse.get((*group_of(row), name))
            row["noisy_psnr"] = psnr(to_uint8(x), clean)
            runs = again if known else list(CANDIDATES)  # an image the earlier run lacks: every model
            row["psnr"] = {
                **(known or {}),
                **{m: psnr(to_uint8(dens[m].run_array(chw)[0].transpose(1, 2, 0)), clean) for m in runs},
            }
        print(name, c.model, row.get("psnr", ""), flush=True)
        yield row


def run(a: argparse.Namespace) -> None:
    if not a.replace:  # appended as measured
        with open(a.out, "a") as f:
            for row in measure(a):
                f.write(json.dumps(row) + "\n")
                f.flush()
        return
    rows = list(measure(a))
    group = group_of(rows[0]) if rows else None
    old = [json.loads(line) for line in open(a.out)] if Path(a.out).exists() else []
    same = [i for i, r in enumerate(old) if group_of(r) == group]
    at = same[0] if same else len(old)  # the new rows stand where the old ones stood
    kept = [r for r in old if group_of(r) != group]
    tmp = Path(a.out).with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in kept[:at] + rows + kept[at:]))
    os.replace(tmp, a.out)


def table(a: argparse.Namespace) -> None:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for path in a.files:
        for line in open(path):
            r = json.loads(line)
            groups[group_of(r)].append(r)
    names = " / ".join(CANDIDATES)
    print(
        f"| set | noise | protocol | images | auto chose {names} | auto | "
        + " | ".join(CANDIDATES)
        + " | oracle | loss vs oracle | worst wrong choice | worse than noisy |"
    )
    print("|---|---|---|---:|---:|---:|" + "---:|" * len(CANDIDATES) + "---:|---:|---:|---:|")
    for (s, noise, proto), rows in groups.items():
        picks = " / ".join(str(sum(r["model"] == m for r in rows)) for m in CANDIDATES)
        if "psnr" not in rows[0]:
            print(
                f"| {s} | {noise} | {proto} | {len(rows)} | {picks} | - | "
                + "- | " * len(CANDIDATES)
                + "- | - | - | - |"
            )
            continue
        have = [m for m in CANDIDATES if all(m in r["psnr"] for r in rows)]
        auto = np.array([r["psnr"].get(r["model"], np.nan) for r in rows])
        each = {m: np.array([r["psnr"][m] for r in rows]) for m in have}
        best = np.max(np.stack([each[m] for m in have]), axis=0)
        loss = best - auto
        worse = int(sum(a_ < r["noisy_psnr"] for a_, r in zip(auto, rows)))
        cells = " | ".join(f"{each[m].mean():.3f}" if m in each else "-" for m in CANDIDATES)
        print(
            f"| {s} | {noise} | {proto} | {len(rows)} | {picks} | {auto.mean():.3f} | {cells} "
            f"| {best.mean():.3f} | {loss.mean():.3f} | {loss.max():.3f} | {worse} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="measure one set under one noise; append JSON lines")
    r.add_argument("--set", required=True, help="clean images (with --noise), a pairs folder, or noisy images")
    r.add_argument("--noise", help="synthetic noise for a clean set, e.g. gaussian:25, camera:8")
    r.add_argument("--protocol", default="uint8", choices=("float", "uint8"), help="as n2n eval (default: uint8)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--limit", type=int, help="only the first N images")
    r.add_argument("--choice-only", action="store_true", help="no clean images: record the choice only")
    r.add_argument("--out", required=True, help="JSON lines file to append to")
    r.add_argument(
        "--reuse", help="JSON lines of an earlier run: take each image's PSNRs from it, measure the choice anew"
    )
    r.add_argument(
        "--models",
        nargs="+",
        choices=CANDIDATES,
        help="measure only these models (with --reuse: the others' PSNRs from the earlier run; after a retraining)",
    )
    r.add_argument(
        "--replace", action="store_true", help="the new rows take the place of this set's and noise's rows in --out"
    )
    t = sub.add_parser("table", help="the Markdown table of JSON lines files")
    t.add_argument("files", nargs="+")
    a = ap.parse_args()
    run(a) if a.cmd == "run" else table(a)


if __name__ == "__main__":
    main()
