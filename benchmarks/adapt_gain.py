"""What `n2n denoise --adapt` gains: PSNR of a model before and after adapting it to a set's noisy
images (no clean image is used for the adaptation; the clean ones only score the result).

    python benchmarks/adapt_gain.py --set ../shared/data/pairs/PolyU --steps 200 [--lr 1e-4] [--pd auto|1|2]
    python benchmarks/adapt_gain.py --set ../shared/data/test/Kodak24 --noise gaussian:25 --steps 200

A clean set gets its noise as `n2n eval --protocol uint8` makes it (the same seeds), written to 8-bit
files that are then adapted on. Both models are scored with `--precision fp32`. Without `--model`
the default, `auto`, is adapted (on a set of one kind of noise it chooses one model). Prints one JSON
line (base and adapted PSNR/SSIM, the stride `--adapt-pd auto` chose and the residual correlation it
chose by, whether the held-out check kept the original, and its scores before/after; `--force`
adapts regardless)."""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from noise2noise.data.evalsets import open_evalset
from noise2noise.evaluation.core import noisy_inputs
from noise2noise.evaluation.metrics import psnr, ssim
from noise2noise.images import Image, read_image, to_rgb, to_uint8, write_image
from noise2noise.noise.synthetic import NoiseConfig
from noise2noise.weights import load_weights

ap = argparse.ArgumentParser()
ap.add_argument("--set", required=True)
ap.add_argument("--noise")
ap.add_argument("--steps", type=int, default=200)
ap.add_argument("--lr", type=float, default=1e-4)
ap.add_argument("--pd", default="auto", help="--adapt-pd: a stride or auto")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--model")
ap.add_argument("--force", action="store_true", help="--adapt-force: the adapted model even where the check says no")
ap.add_argument(
    "--keep-noisy", metavar="DIR", help="a clean set: write its noisy 8-bit files here (kept) instead of a temp folder"
)
a = ap.parse_args()


def grouped_row(groups: dict, noisy_dir: Path, adapted_out: Path, d: Path, report: Path) -> dict:
    """``auto`` with several models: each model's verdict, and what the user gets, scored on the files
    both runs wrote (the plain run and the adapted one, both ``--precision fp32``) against the clean set;
    with each model's own change on the images it was chosen for (``gain_db``, what the set's mean
    gains from that model's adaptation alone, whatever the verdict: with ``--force`` every model's)."""
    base_out = d / "base"
    subprocess.run([*n2n, "denoise", str(noisy_dir), "-o", str(base_out), "--precision", "fp32", "--quiet"], check=True)
    clean = {Path(name).stem: x for name, x, _ in open_evalset(a.set, real=a.noise is None)}
    # an adapted model is reported as "<model>-adapted"
    files = json.loads(report.read_text())["files"]
    chosen = {Path(f["input"]).stem: f["model"].removesuffix("-adapted") for f in files}
    scores, per_image = {}, {}
    for label, folder in (("base", base_out), ("adapted", adapted_out)):
        ps, ss = [], []
        for stem, x in clean.items():
            out = to_rgb(read_image(next(folder.glob(stem + ".*"))).pixels)
            ps.append(psnr(out, x))
            ss.append(ssim(out, x))
        scores[label] = {"psnr": round(float(np.mean(ps)), 3), "ssim": round(float(np.mean(ss)), 4)}
        per_image[label] = dict(zip(clean, ps))
    gain = round(scores["adapted"]["psnr"] - scores["base"]["psnr"], 3)

    def own_gain(m: str) -> float:
        return round(
            sum(per_image["adapted"][k] - per_image["base"][k] for k in clean if chosen[k] == m) / len(clean), 3
        )

    return {
        "set": a.set,
        "model": "auto",
        "noise": a.noise or "real",
        "steps": a.steps,
        "lr": a.lr,
        "pd": a.pd,
        **scores,
        "scored": "written files, fp32",
        "groups": {
            m: {
                "kept_original": g["kept"],
                "check": g.get("check"),
                "held_out": [round(g["held_out_score_before"], 7), round(g["held_out_score_after"], 7)],
                "significance": round(g["held_out_significance"], 2),
                **({"sure_veto": round(g["sure_veto_significance"], 2)} if "sure_veto_significance" in g else {}),
                **({"sure_by_reading": _rounded(g["sure_significance"])} if g.get("sure_significance") else {}),
                **({"nearest_noise": g["pseudo_noise"][0]} if g.get("pseudo_noise") else {}),
                "images": sum(v == m for v in chosen.values()),
                "gain_db": own_gain(m),
            }
            for m, g in groups.items()
        },
        "kept_original": all(g["kept"] for g in groups.values()),
        "user_gain_db": gain,
    }


def _rounded(z: dict) -> dict:
    return {k: round(v, 2) for k, v in z.items()}


n2n = [sys.executable, "-m", "noise2noise.cli"]
with tempfile.TemporaryDirectory() as d:
    noisy_dir = Path(a.set) / "noisy"
    if a.noise:  # a clean set: the eval's 8-bit noisy images, as files
        noisy_dir = Path(a.keep_noisy or Path(d) / "noisy")
        noisy_dir.mkdir(parents=True, exist_ok=True)
        es, cfg = open_evalset(a.set, real=False), NoiseConfig.parse(a.noise)
        for i, (name, clean, _) in enumerate(es):
            x = noisy_inputs(clean, None, cfg, "uint8", i, 0)
            write_image(
                noisy_dir / Path(name).with_suffix(".png").name, Image(np.ascontiguousarray(to_uint8(x)[..., ::-1]))
            )
    weights = Path(d) / "adapted.safetensors"
    model = ["--model", a.model] if a.model else []
    adapt = [
        *n2n,
        "denoise",
        str(noisy_dir),
        "-o",
        str(Path(d) / "out"),
        "--adapt",
        str(a.steps),
        "--adapt-lr",
        str(a.lr),
        "--precision",
        "fp32",
    ]
    subprocess.run(
        [*adapt, "--adapt-pd", str(a.pd), "--seed", str(a.seed), "--save-adapted", str(weights), "--quiet", *model]
        + ["--json", str(Path(d) / "report.json")]
        + (["--adapt-force"] if a.force else []),
        check=True,
    )
    saved = sorted(Path(d).glob("adapted*.safetensors"))
    if saved != [weights]:  # auto chose several models: each adapted on its images, one file per model
        groups = {f.stem.removeprefix("adapted-"): load_weights(f).meta["adapted"] for f in saved}
        row = grouped_row(groups, noisy_dir, Path(d) / "out", Path(d), Path(d) / "report.json")
        print(json.dumps(row))
        sys.exit(0)
    adapted = load_weights(weights).meta["adapted"]
    scores = {}
    # both scored on the exact float path: by default a shipped model may run its int8 file and the
    # adapted one bf16, which would show as a gain or loss that adapting did not make
    for label, w in (("base", model), ("adapted", ["--weights", str(weights)])):
        noise = ["--noise", a.noise, "--protocol", "uint8"] if a.noise else []
        out = Path(d) / f"{label}.json"
        subprocess.run(
            [*n2n, "eval", a.set, *w, *noise, "--precision", "fp32", "--quiet", "--json", str(out)],
            check=True,
            capture_output=True,
        )
        s = json.loads(out.read_text())["summary"]
        scores[label] = {"psnr": round(s["psnr"], 3), "ssim": round(s["ssim"], 4)}
row = {
    "set": a.set,
    "model": a.model or "auto",
    "noise": a.noise or "real",
    "steps": a.steps,
    "lr": a.lr,
    "pd": a.pd,
    **scores,
}
row["pd_used"], row["residual_correlation"] = adapted["pd"], round(adapted["residual_correlation"], 3)
row["kept_original"] = adapted["kept"]  # the held-out check found the adapted model no better
row["held_out"] = [round(adapted["held_out_score_before"], 7), round(adapted["held_out_score_after"], 7)]
row["gain_db"] = round(scores["adapted"]["psnr"] - scores["base"]["psnr"], 3)
row["white_noise"] = adapted.get("white_noise")
row["check"], row["significance"] = adapted.get("check"), round(adapted["held_out_significance"], 2)
if "sure_veto_significance" in adapted:
    row["sure_veto"] = round(adapted["sure_veto_significance"], 2)
    row["sure_by_reading"] = _rounded(adapted.get("sure_significance") or {})
if adapted.get("pseudo_noise"):
    row["nearest_noise"] = adapted["pseudo_noise"][0]
# what `n2n denoise --adapt` gives the user: the adapted model, or the original where the check kept it
row["user_gain_db"] = 0.0 if adapted["kept"] else row["gain_db"]
print(json.dumps(row))
