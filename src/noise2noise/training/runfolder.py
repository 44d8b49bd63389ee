"""A training run's folder: resumable state, weights, the resolved config, the log and the curve.

* ``state.pt``: model, optimizer, step, best validation PSNR and training seconds; tensors and
  numbers only, loaded with ``weights_only=True``;
* ``latest.safetensors`` / ``best.safetensors``: our weights format (config inside);
* ``snapshots/step-N.safetensors`` with ``keep_every``; ``config.json``; ``log.csv``; ``curve.png``.

Every file is written atomically, and a log row is written only after the checkpoint it reports,
so ``log.csv`` never records a step that ``state.pt`` did not reach.
"""

from __future__ import annotations

import csv
import json
import pickle
import shutil
from pathlib import Path

import torch

from ..atomic import check_writable, replacing, write_text
from ..config import ModelConfig
from ..reports import dumps
from ..weights import save_weights

LOG_COLUMNS = ("step", "loss", "val_psnr", "lr", "elapsed_s", "img_per_s", "val_levels", "grad_norm", "grad_norm_max")


def levels_cell(levels: dict[str, float]) -> str:
    """The ``val_levels`` cell of a log row: ``gaussian:5=39.4660 gaussian:50=27.5450``."""
    return " ".join(f"{k}={v:.4f}" for k, v in levels.items())


def parse_levels(cell: str | None) -> dict[str, float]:
    """A ``val_levels`` cell back to ``{noise: PSNR}`` (empty when the row has none)."""
    return {k: float(v) for k, v in (item.split("=") for item in (cell or "").split())}


class RunFolder:
    """The files of one run (written by rank 0 only; other ranks only read the state)."""

    def __init__(self, out: str | Path, writer: bool = True) -> None:
        self.root = Path(out)
        self.writer = writer
        self.state_path = self.root / "state.pt"
        self.log_path = self.root / "log.csv"
        if writer:
            check_writable(self.root, folder=True)
            self.root.mkdir(parents=True, exist_ok=True)

    def load_state(
        self, model: torch.nn.Module, opt: torch.optim.Optimizer, device: str, ema: torch.nn.Module | None = None
    ) -> tuple[int, float, float]:
        """Resume ``model``, ``opt`` (and the weights' moving average ``ema``) from ``state.pt`` if
        present; returns (step, best, seconds)."""
        if not self.state_path.exists():
            return 0, -float("inf"), 0.0
        start_over = "delete it (or choose another --out) to start over"
        try:
            st = torch.load(self.state_path, map_location=device, weights_only=True)
        except pickle.UnpicklingError:
            raise ValueError(f"{self.state_path}: refused: holds objects other than tensors; {start_over}") from None
        except Exception as e:  # truncated, empty or not a checkpoint at all
            msg = str(e).strip().splitlines()[0][:120] if str(e).strip() else type(e).__name__
            raise ValueError(f"{self.state_path}: unreadable training state ({msg}); {start_over}") from None
        try:
            model.load_state_dict(st["model"])
            opt.load_state_dict(st["optimizer"])
            if ema is not None:  # a run that starts averaging on resume starts from the current weights
                ema.load_state_dict(st.get("ema", st["model"]))
            return int(st["step"]), float(st["best"]), float(st.get("elapsed", 0.0))
        except (KeyError, TypeError, RuntimeError, ValueError):
            raise ValueError(
                f"{self.state_path}: holds another model or options (e.g. a different --arch); {start_over}"
            ) from None

    def write_config(self, cfg: dict, start: int) -> None:
        """Write the resolved config. A resume that changes options (e.g. a longer ``iterations``)
        records the step and the old -> new values under ``resumes``, so the folder says what was used."""
        path = self.root / "config.json"
        resumes: list = []
        if start and path.exists():
            old = json.loads(path.read_text())
            resumes = old.pop("resumes", [])
            changed = {k: [old.get(k), v] for k, v in cfg.items() if old.get(k) != v}
            if changed:
                resumes.append({"step": start, "changed": changed})
        write_text(path, dumps({**cfg, "resumes": resumes}))

    def save(self, state: dict, model: torch.nn.Module, mcfg: ModelConfig, meta: dict, keep_every: int = 0) -> None:
        """``latest.safetensors``, every ``keep_every`` steps a snapshot, and last the resumable
        state: a run killed anywhere in between resumes from the previous state and writes the
        weights and the snapshot again (state first could lose a snapshot for good)."""
        latest = self.root / "latest.safetensors"
        save_weights(latest, model, mcfg, meta)
        step = state["step"]
        if keep_every and step % keep_every == 0:  # for PSNR-vs-training-time curves on test sets
            (self.root / "snapshots").mkdir(exist_ok=True)
            with replacing(self.root / "snapshots" / f"step-{step:07d}.safetensors") as tmp:
                shutil.copyfile(latest, tmp)
        with replacing(self.state_path) as tmp:
            torch.save(state, tmp)

    def save_best(self, model: torch.nn.Module, mcfg: ModelConfig, meta: dict) -> None:
        save_weights(self.root / "best.safetensors", model, mcfg, meta)

    def log(self, row: dict) -> None:
        """Append one row to ``log.csv`` (the header first in a new file; a log begun by an older
        version keeps its own columns). ``val_levels`` (several validation noises) may be absent."""
        columns = LOG_COLUMNS
        if self.log_path.exists():
            with open(self.log_path, newline="") as f:
                columns = tuple(next(csv.reader(f), LOG_COLUMNS))
        with open(self.log_path, "a", newline="") as f:
            w = csv.writer(f)
            if f.tell() == 0:
                w.writerow(columns)
            w.writerow([row.get(k, "") for k in columns])

    def plot(self) -> None:
        """``curve.png``: training loss and validation PSNR against the iteration."""
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:  # optional: the CSV log has the same numbers
            return
        with open(self.log_path) as f:
            rows = list(csv.DictReader(f))
        if not rows:
            return
        step = [int(r["step"]) for r in rows]
        fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
        ax[0].plot(step, [float(r["loss"]) for r in rows])
        ax[0].set(xlabel="iteration", ylabel="training loss", yscale="log", title="loss")
        val = [(s, r) for s, r in zip(step, rows) if r["val_psnr"] not in ("", "nan")]
        xs, mean = [s for s, _ in val], [float(r["val_psnr"]) for _, r in val]
        levels = [parse_levels(r.get("val_levels")) for _, r in val]
        if val and all(levels):  # one curve per validation noise, and their mean
            for name in levels[-1]:
                pts = [(s, lv[name]) for s, lv in zip(xs, levels) if name in lv]
                ax[1].plot(*zip(*pts), marker="o", ms=3, label=name)
            ax[1].plot(xs, mean, "k--", lw=1, label="mean (kept best)")
            ax[1].legend(fontsize=7)
        elif val:
            ax[1].plot(xs, mean, marker="o")
        ax[1].set(xlabel="iteration", ylabel="PSNR (dB)", title="validation PSNR")
        for a in ax:
            a.grid(alpha=0.3)
        fig.tight_layout()
        with replacing(self.root / "curve.png", ".png") as tmp:
            fig.savefig(tmp, dpi=90)
        plt.close(fig)
