"""Write docs/results/README.md: every file in docs/results and the pages of docs/ that cite it.

    python benchmarks/results_index.py            # from the repository root

A file is cited when a page names it, or names a pattern that matches it (``training-log-cmp-*.csv``,
``gpu-run{1,2}-*.csv``). Files no page cites are listed last, so they can be given a home or removed."""

from __future__ import annotations

import argparse
import fnmatch
import re
from pathlib import Path

NAMES = re.compile(r"docs/results/([\w.{},*-]+)|`([\w.-]+\.(?:json|jsonl|csv|log|md))`")
TOPICS = {
    "adapt": "adapting to the images being denoised",
    "auto": "the auto model against an oracle",
    "burst": "bursts: n2n burst against its baselines, and its speed",
    "deploy": "the reference card's deployment table",
    "ensemble": "geometric self-ensemble",
    "gpu": "GPU training runs and GPU inference",
    "int8": "int8 export",
    "models": "figures of the shipped models",
    "phone": "phone photos in low light: every shipped model against the classical baselines",
    "selfsup": "single noisy images (Neighbor2Neighbor) against Noise2Noise",
    "speed": "speed: n2n bench and throughput",
    "targets": "noisy vs clean targets",
    "training": "training runs: logs, options, schedules, snapshots",
}


def expand(pattern: str) -> list[str]:
    """``a{1,2}-*.csv`` -> the glob patterns ``a1-*.csv``, ``a2-*.csv``."""
    m = re.search(r"\{([^}]*)\}", pattern)
    if not m:
        return [pattern]
    return [p for alt in m.group(1).split(",") for p in expand(pattern[: m.start()] + alt + pattern[m.end() :])]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default="docs/results")
    ap.add_argument("--docs", default="docs")
    a = ap.parse_args()
    results = sorted(p.name for p in Path(a.results).iterdir() if p.name != "README.md")
    cited: dict[str, set[str]] = {name: set() for name in results}
    for page in sorted(Path(a.docs).rglob("*.md")):
        if page.parent == Path(a.results):
            continue
        for m in NAMES.finditer(page.read_text()):
            for pattern in expand(m.group(1) or m.group(2)):
                for name in fnmatch.filter(results, pattern.rstrip(".,)")):
                    cited[name].add(page.relative_to(Path(a.docs)).as_posix())
    lines = [
        "# docs/results",
        "",
        "The numbers behind the tables of the docs, one file per run or table. Names are",
        "`TOPIC-WHAT[-SET][-VARIANT].EXT`; the topics:",
        "",
        *(f"- `{k}-`: {v}" for k, v in TOPICS.items()),
        "",
        "This index is written by `python benchmarks/results_index.py`.",
        "",
        "| file | cited by |",
        "|---|---|",
    ]
    for name in results:
        pages = ", ".join(f"[{p}](../{p})" for p in sorted(cited[name])) or "-"
        lines.append(f"| `{name}` | {pages} |")
    Path(a.results, "README.md").write_text("\n".join(lines) + "\n")
    orphans = [n for n in results if not cited[n]]
    print(f"{len(results)} files, {len(orphans)} cited by no page")


if __name__ == "__main__":
    main()
