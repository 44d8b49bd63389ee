"""``n2n export``: every option is a field of ``config.ExportConfig``; the work is ``deploy.export``."""

from __future__ import annotations

import argparse
import sys

from ..config import ExportConfig
from ..deploy.export import export
from ._common import add_fields, config_from

HELP = "Export to ONNX / OpenVINO in fp32, fp16, bf16 or int8, checked against torch."
EXAMPLE = """n2n export -o model.onnx                                   # shipped model, fp32 ONNX
  n2n export --format openvino --precision int8 --method kl --calib ../shared/data/train/CBSD432 -o m.xml"""


EVERYDAY = ("out", "weights", "model", "format", "precision", "method", "calib")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_fields(p, ExportConfig, EVERYDAY)


def run(args: argparse.Namespace) -> int:
    cfg = config_from(ExportConfig, args)
    report = export(cfg, log=lambda m: print(m, file=sys.stderr))
    diff = report["max_abs_diff_vs_torch"]
    print(
        f"wrote {cfg.out} ({report['format']}, {cfg.precision}); max |difference| vs torch fp32 on the check image: {diff:.2e}"
    )
    return 0
