"""``n2n burst FRAMES... -o OUT``: several shots of one scene merged into one image."""

from __future__ import annotations

import argparse
import sys

from ..atomic import check_writable
from ..bursts.job import burst
from ..config import BurstConfig
from ..reports import dumps
from ._common import add_fields, config_from, write_report

HELP = "Merge a burst (several shots of one scene) into one image, fine-tuning on its own noise."
DESCRIPTION = """Merge a burst into one image: every frame is aligned to a reference frame (the
sharpest unless --reference), the model (auto: chosen from the reference's noise) is fine-tuned on the
burst itself (the mean of the other frames in, the reference as target: Noise2Noise on your camera's
noise), and the results are merged so that what moved keeps the reference's content. Frames that show
another scene are left out, and said so; a single frame is denoised alone. FRAMES are files, a folder or
a quoted glob; a folder of scene folders (DIR/SCENE/ or DIR/SCENE/frames/) gives one image per scene in
the folder OUT. The output has the frames' format and bit depth."""
EXAMPLE = """n2n burst shot1.jpg shot2.jpg shot3.jpg shot4.jpg -o merged.jpg
  n2n burst 'burst/*.png' -o merged.png --reference 0
  n2n burst scenes/ -o merged/          # scenes/SCENE/*.png: one image per scene"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("frames", nargs="+", help="frame files, a folder or a glob (or one folder of scene folders)")
    p.add_argument("-o", "--out", required=True, help="output image file, or folder (one image per scene)")
    add_fields(p, BurstConfig, everyday=("reference", "model", "weights", "steps", "lr", "seed"))
    p.add_argument("--overwrite", action="store_true", help="allow writing over a frame")
    p.add_argument(
        "--skip-existing", action="store_true", help="leave outputs that already exist (resume a set of scenes)"
    )
    p.add_argument(
        "--json",
        dest="json_out",
        metavar="FILE",
        help="write the report (alignment per frame, model, steps, seconds) to FILE ('-' = stdout)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    if args.json_out not in (None, "-"):
        check_writable(args.json_out)
    o = config_from(BurstConfig, args)
    report = burst(
        args.frames, args.out, o, overwrite=args.overwrite, skip_existing=args.skip_existing, progress=not args.quiet
    )
    if not args.quiet:
        for r in report["bursts"]:
            if r["error"] is None and not r.get("skipped"):
                used = f"{r['frames_used']} of {len(r['frames'])} frames"
                print(
                    f"n2n: burst: {r['output']}: {used}, reference {r['reference']}, {r['model']}, {r['method']}, {r['seconds']:.1f} s",
                    file=sys.stderr,
                )
    if args.json_out:
        write_report(args.json_out, dumps(report))
    if report["failed"] and len(report["bursts"]) == 1:  # its one line (a set of scenes said each already)
        print(f"n2n: error: {report['bursts'][0]['error'].splitlines()[0]}", file=sys.stderr)
    return 1 if report["failed"] else 0  # as n2n denoise: 1 when an input failed, 2 for bad usage
