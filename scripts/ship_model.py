"""Copy a finished training run's final weights into the package as a shipped model.

    python scripts/ship_model.py runs/n2n-gaussian n2n-gaussian ["how the run began, e.g. its --init's history"]

Writes ``src/noise2noise/weights/<file>.safetensors`` (the run's latest weights, whose header
already carries the config, noise and training summary) and a ``.json`` card beside it with the
SHA-256, the run's resolved config and, when given, a note on its history (``lineage``): a run
started with ``--init`` from earlier weights records only that file's path."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from noise2noise.weights import REGISTRY, file_sha256, load_weights

run, name = Path(sys.argv[1]), sys.argv[2]
lineage = sys.argv[3] if len(sys.argv) > 3 else None
dst = Path(__file__).resolve().parents[1] / "src" / "noise2noise" / "weights" / REGISTRY[name]
src = run / "latest.safetensors"
ck = load_weights(src)
cfg = json.loads((run / "config.json").read_text())
if ck.meta["training"]["step"] != cfg["iterations"]:
    sys.exit(f"{run}: training is not finished ({ck.meta['training']['step']}/{cfg['iterations']})")
dst.parent.mkdir(parents=True, exist_ok=True)
shutil.copyfile(src, dst)
card = {
    "name": name,
    "file": dst.name,
    "sha256": file_sha256(dst),
    "arch": ck.config.arch,
    "noise": ck.meta["noise"],
    "training": ck.meta["training"],
    "run_config": {k: v for k, v in cfg.items() if k != "out"},
    **({"lineage": lineage} if lineage else {}),
    "license": "MIT (weights trained by this project on ../shared/data/train: ImageNet500 + CBSD432, research use)",
}
dst.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
print(f"shipped {name}: {dst} sha256 {card['sha256'][:16]}")
