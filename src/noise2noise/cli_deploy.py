"""``n2n export`` and ``n2n bench``: thin shells over ``export``/``quant`` and ``bench``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

EXPORT_EXAMPLE = ("n2n export -o model.onnx                                   # shipped model, fp32 ONNX\n"
                  "  n2n export --format openvino --precision int8 --method kl --calib ../shared/data/train/CBSD432 -o m.xml")  # fmt: skip


def add_commands(sub, make, add_model_args) -> None:
    p = sub.add_parser("export", help="Export to ONNX / OpenVINO in fp32, fp16, bf16 or int8, checked against torch.",
                       description="Export a checkpoint to ONNX or OpenVINO IR and check it against torch right away.",
                       epilog="examples:\n  " + EXPORT_EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("-o", "--out", required=True, help="output file (.onnx or .xml)")
    p.add_argument("--weights", help="checkpoint (default: the shipped model)")
    p.add_argument("--model", help="shipped model name")
    p.add_argument("--arch", choices=["unet", "unet-compact"], help="architecture of a legacy .pt")
    p.add_argument("--format", choices=["onnx", "openvino"], help="default: from the output's suffix")
    p.add_argument(
        "--precision", default="fp32", choices=["fp32", "fp16", "bf16", "int8"], help="(default: %(default)s)"
    )
    p.add_argument(
        "--method",
        default="kl",
        choices=["kl", "minmax", "percentile", "nncf"],
        help="int8 calibration (default: %(default)s)",
    )
    p.add_argument("--calib", help="folder of clean images; noisy versions are made with the model's noise")
    p.add_argument(
        "--calib-count", type=int, default=16, help="calibration images, 256x256 centre crops (default: %(default)s)"
    )
    p.add_argument("--calib-noise", help="noise for calibration (default: the model's training noise)")
    p.add_argument(
        "--max-drop",
        type=float,
        default=0.05,
        help="int8: keep the most sensitive layers float until the calibration PSNR drop is at most this (dB; default: %(default)s)",
    )
    p.add_argument(
        "--check-image",
        help="image for the post-export check (default: the first calibration image, else a synthetic one)",
    )

    p = sub.add_parser("bench", help="Latency per backend and precision, with eager fp32 torch in the same run.",
                       description="Latency per backend and precision, with eager fp32 PyTorch in the same run.",
                       epilog="example:\n  n2n bench --shape 1x3x256x256,1x3x512x768 --json bench.json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--weights")
    p.add_argument("--model")
    p.add_argument("--shape", default="1x3x256x256,1x3x512x768", help="comma-separated NxCxHxW (default: %(default)s)")
    p.add_argument(
        "--configs",
        default="torch-fp32,torch-fp32-cl,onnxruntime-fp32,openvino-fp32,openvino-bf16",
        help="comma-separated (default: %(default)s)",
    )
    p.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="NAME=PATH[@BACKEND]",
        help="also time an exported file under NAME, optionally in onnxruntime/openvino (repeatable)",
    )
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--json", dest="json_out", help="write rows as JSON to FILE ('-' = stdout)")


def _check_input(args, size: int = 256) -> np.ndarray:
    from .images import preprocess, read_image

    path = args.check_image
    if path is None and args.calib:
        from .data import find_images

        path = str(find_images([args.calib])[0])
    if path:
        x = preprocess(read_image(path).pixels)
        if x.shape[1] == 1:
            x = np.repeat(x, 3, axis=1)
        return np.ascontiguousarray(x[..., :size, :size])
    y, xx = np.mgrid[0:size, 0:size] / size
    img = np.stack([xx, y, (xx + y) / 2])[None].astype(np.float32)
    return img + np.random.default_rng(0).normal(0, 0.1, img.shape).astype(np.float32)


def cmd_export(args) -> int:
    from . import export as E
    from .backends import onnxruntime_runner, openvino_precision_supported, openvino_runner
    from .weights import DEFAULT_MODEL, load_weights, registry_path

    out = Path(args.out)
    fmt = args.format or ("openvino" if out.suffix == ".xml" else "onnx")
    if fmt == "onnx" and out.suffix != ".onnx" or fmt == "openvino" and out.suffix != ".xml":
        raise ValueError(f"{out}: an {fmt} export needs the suffix {'.onnx' if fmt == 'onnx' else '.xml'}")
    if args.precision == "int8" and args.method == "nncf" and fmt != "openvino":
        raise ValueError("int8 with nncf writes OpenVINO IR: use -o NAME.xml")
    if args.precision == "bf16" and fmt != "openvino":
        raise ValueError("bf16 is an OpenVINO inference precision: use -o NAME.xml")
    if args.precision == "bf16" and not openvino_precision_supported("bf16"):
        raise ValueError("this CPU has no native bf16 (AVX512-BF16/AMX), so a bf16 export would silently run fp32")
    if args.precision == "int8" and not args.calib:
        raise ValueError("int8 needs --calib FOLDER (clean images; the model's noise is added)")
    out.parent.mkdir(parents=True, exist_ok=True)
    ck = load_weights(args.weights if args.weights else registry_path(args.model or DEFAULT_MODEL), arch=args.arch)
    report: dict = {"source": ck.path, "format": fmt, "precision": args.precision}
    tmp_onnx = out.with_name(f".{out.stem}.fp32.onnx")
    try:
        E.export_onnx(ck.model, tmp_onnx, "fp32")
        if args.precision == "int8":
            from .data import find_images, load_rgb, to_float

            noise = args.calib_noise or ck.meta.get("noise") or "gaussian:25"
            imgs = [to_float(load_rgb(p)) for p in find_images([args.calib])[: args.calib_count]]
            batches, clean = E.calibration_batches(imgs, noise, args.calib_count)
            report.update(method=args.method, calibration_images=len(batches), calibration_noise=noise)
            if args.method == "nncf":
                E.export_int8_nncf(tmp_onnx, out, batches)
            else:
                from .quant import quantize_onnx

                target = out if fmt == "onnx" else out.with_name(f".{out.stem}.int8.onnx")
                q = quantize_onnx(tmp_onnx, target, batches, args.method, clean=clean, max_drop_db=args.max_drop,
                                  log=lambda m: print(m, file=sys.stderr))  # fmt: skip
                report.update(float_inputs=q["float_inputs"], calibration_drop_db=q.get("calibration_drop_db"),
                              quantized_inputs=len(q["ranges"]))  # fmt: skip
                if fmt == "openvino":
                    E.export_openvino(target, out)
                    target.unlink()
        elif fmt == "onnx":
            E.export_onnx(ck.model, out, args.precision)
        else:
            E.export_openvino(tmp_onnx, out, fp16_weights=args.precision == "fp16")
    finally:
        tmp_onnx.unlink(missing_ok=True)
    runner = (
        openvino_runner(out, "bf16" if args.precision == "bf16" else "fp32")
        if fmt == "openvino"
        else onnxruntime_runner(out)
    )
    diff = E.check_against_torch(ck.model, runner, _check_input(args))
    report["max_abs_diff_vs_torch"] = diff
    Path(str(out) + ".json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out} ({fmt}, {args.precision}); max |difference| vs torch fp32 on the check image: {diff:.2e}")
    if args.precision == "fp32" and diff > 1e-4:
        raise ValueError(f"{out}: fp32 export differs from torch by {diff:.2e} (> 1e-4)")
    return 0


def cmd_bench(args) -> int:
    from .bench import bench, parse_shapes

    files = {}
    for f in args.file:
        name, sep, path = f.partition("=")
        if not sep or not Path(path.partition("@")[0]).is_file():
            raise ValueError(f"--file takes NAME=PATH[@BACKEND] of an existing file, got {f!r}")
        files[name] = path
    configs = [c for c in args.configs.split(",") if c] + list(files)

    def show(r: dict) -> None:
        shape = "x".join(map(str, r["shape"]))
        if "error" in r:
            print(f"{r['config']:<20}{shape:>14}  unavailable: {r['error']}")
        else:
            g = f"{r['gflops_per_s']:.1f}" if r.get("gflops_per_s") else "-"
            print(f"{r['config']:<20}{shape:>14}{r['median_ms']:>10.1f} ms{r['p90_ms']:>10.1f} ms p90{r['images_per_s']:>8.2f} img/s"
                  f"{r['megapixels_per_s']:>8.2f} MP/s{g:>8} GFLOP/s{r['peak_rss_mb']:>8.0f} MB")  # fmt: skip

    rows = bench(
        configs, parse_shapes(args.shape), args.weights, args.model, files, args.warmup, args.repeats, log=show
    )
    for r in rows:
        if "speedup_vs_torch_fp32" in r:
            print(
                f"{r['config']:<20}{'x'.join(map(str, r['shape'])):>14}  {r['speedup_vs_torch_fp32']:.2f}x eager torch fp32"
            )
    if args.json_out:
        text = json.dumps(rows, indent=2)
        print(text) if args.json_out == "-" else Path(args.json_out).write_text(text + "\n")
    return 0


HANDLERS = {"export": cmd_export, "bench": cmd_bench}
