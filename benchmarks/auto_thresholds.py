"""The thresholds that send an image to ``n2n-phone`` (``noise.profile``: ``HEAVY_SIGMA``,
``PHONE_SPATIAL``, ``PHONE_CHANNELS``, ``BEYOND_CAMERA``), scored on rows of ``benchmarks/auto_oracle.py run`` that hold
every shipped model's PSNR, and searched over a grid.

    python benchmarks/auto_thresholds.py docs/results/auto-oracle-calibration.jsonl

For each setting, ``auto``'s loss against the oracle (the best shipped model of each image) is the
mean over the noise families in ``--score`` (default camera, phone, isp, rawphone: the noise name
before the colon; those the threshold is between) of that family's mean loss. The best setting is the one with the least mean loss among those that lose no more than the
rule in force on ``--hold`` (default camera noise; a family the network was not built for must not
pay for another's gain). Prints the rule in force, the best setting and both rules' loss per noise.
Only the rows' recorded profiles and PSNRs are read: no model runs, so the grid costs seconds.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import defaultdict

import numpy as np

from noise2noise.noise import profile as P


def load(paths: list[str]) -> list[dict]:
    rows = [json.loads(line) for path in paths for line in open(path)]
    return [r for r in rows if "psnr" in r and all(m in r["psnr"] for m in (P.GAUSSIAN, P.PHOTO, P.PHONE))]


NAMES = ("HEAVY_SIGMA", "PHONE_SPATIAL", "PHONE_CHANNELS", "BEYOND_CAMERA")


class Rows:
    """The rows as arrays, so that a setting of the thresholds is scored in one pass: the part of
    ``noise.profile.choose`` that does not depend on them (too small or no noise: the photo model;
    white: the Gaussian model) is decided once, and ``is_phone`` is written out over arrays."""

    def __init__(self, rows: list[dict]) -> None:
        profiles = [P.NoiseProfile(**r["profile"]) for r in rows]
        self.sigma, self.spatial, self.channels = (
            np.array([getattr(p, k) for p in profiles]) for k in ("sigma", "spatial", "channels")
        )
        self.noises = sorted({r["noise"] for r in rows}, key=lambda n: (family(n), float(n.split(":")[1])))
        where = {n: i for i, n in enumerate(self.noises)}
        self.index = np.array([where[r["noise"]] for r in rows])
        best = np.array([max(r["psnr"].values()) for r in rows])
        self.loss = {m: best - np.array([r["psnr"][m] for r in rows]) for m in (P.GAUSSIAN, P.PHOTO, P.PHONE)}
        self.fixed = np.array([_fixed(p) for p in profiles], dtype=object)  # a model, or None: phone or photo
        self.rows = rows

    def choices(self, heavy: float, spatial: float, channels: float, beyond: float) -> np.ndarray:
        shaped = (self.spatial >= spatial) | (self.channels >= channels) | (self.sigma >= beyond)
        phone = (self.sigma >= heavy) & shaped & (self.spatial <= P.MAX_SPATIAL)
        return np.where(self.fixed != None, self.fixed, np.where(phone, P.PHONE, P.PHOTO))  # noqa: E711

    def losses(self, *values: float) -> dict[str, float]:
        """Mean loss against the oracle per noise (``camera:8``, ...) with the thresholds ``NAMES`` set."""
        pick = self.choices(*values)
        loss = np.select([pick == m for m in self.loss], list(self.loss.values()))
        total = np.bincount(self.index, loss, len(self.noises)) / np.bincount(self.index, minlength=len(self.noises))
        return dict(zip(self.noises, total.tolist()))


def _fixed(p: P.NoiseProfile) -> str | None:
    if p.blocks == 0 or p.sigma < P.NO_NOISE:
        return P.PHOTO
    return P.GAUSSIAN if P.is_white(p) else None


def family(noise: str) -> str:
    return noise.split(":")[0]


def score(per: dict[str, float], scored: list[str]) -> tuple[float, dict[str, float]]:
    """(mean over the scored families of their mean loss, every family's mean loss)."""
    fam: dict[str, list[float]] = defaultdict(list)
    for noise, v in per.items():
        fam[family(noise)].append(v)
    each = {k: float(np.mean(v)) for k, v in fam.items()}
    return float(np.mean([v for k, v in each.items() if k in scored])), each


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--hold", nargs="+", default=["camera"], help="noise families that may not lose more")
    ap.add_argument("--score", nargs="+", default=["camera", "phone", "isp", "rawphone"], help="families scored")
    a = ap.parse_args()
    rows = Rows(load(a.files))
    now = tuple(getattr(P, n) for n in NAMES)
    in_force = [P.choose(P.NoiseProfile(**r["profile"]))[0] for r in rows.rows]
    assert list(rows.choices(*now)) == in_force, "the array form of the rule differs from noise.profile.choose"
    base = rows.losses(*now)
    base_mean, base_fam = score(base, a.score)
    grid = itertools.product(
        np.arange(3, 10.01, 0.5) / 255,
        np.arange(0.30, 0.601, 0.025),
        [*np.arange(0.80, 0.971, 0.01), 1.01],
        [*np.arange(20, 40.1, 2) / 255, float("inf")],
    )
    best = None
    for s in grid:
        per = rows.losses(*s)
        mean, fam = score(per, a.score)
        if any(fam.get(h, 0) > base_fam.get(h, 0) + 1e-9 for h in a.hold):
            continue
        if best is None or mean < best[0] - 1e-9:
            best = (mean, s, per, fam)
    print(f"{len(rows.rows)} rows; families: " + ", ".join(f"{k} {v:.3f}" for k, v in base_fam.items()))
    fmt = "sigma {:.1f}/255, spatial {:.3f}, channels {:.2f}, beyond camera {:.0f}/255"
    print(f"in force: {fmt.format(now[0] * 255, now[1], now[2], now[3] * 255)}: mean loss {base_mean:.4f}")
    assert best is not None  # the rule in force always qualifies
    mean, s, per, fam = best
    print(f"best holding {', '.join(a.hold)}: {fmt.format(s[0] * 255, s[1], s[2], s[3] * 255)}: mean loss {mean:.4f}")
    print("| noise | loss in force | loss best |")
    print("|---|---:|---:|")
    for k in base:
        print(f"| {k} | {base[k]:.3f} | {per[k]:.3f} |")


if __name__ == "__main__":
    main()
