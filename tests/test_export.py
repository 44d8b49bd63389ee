"""Deployment: exported models match torch, int8 calibration is correct and stays within its drop."""

import json

import cv2
import numpy as np
import pytest

from conftest import DATA, need
from noise2noise.cli import main
from noise2noise.inference import run_padded, torch_runner
from noise2noise.metrics import psnr
from noise2noise.quant import kl_threshold
from noise2noise.weights import load_weights

pytest.importorskip("onnxruntime")
pytest.importorskip("openvino")


def real_input(size=(192, 256), sigma=25, index=0):
    rgb = cv2.cvtColor(
        cv2.imread(str(need(DATA / "test" / "Kodak24" / f"kodim{index + 1:02d}.png"))), cv2.COLOR_BGR2RGB
    )
    rgb = rgb[: size[0], : size[1]]
    x = (rgb + np.random.default_rng(index).normal(0, sigma, rgb.shape)) / 255
    return x.astype(np.float32).transpose(2, 0, 1)[None], rgb


def test_kl_threshold_hand_computed_case():
    # histogram [8, 1, 1, 1] over edges 0..4, quantized into 2 levels. By hand:
    #   clip at 2: P = [8, 3]/11, Q = [8, 1]/9             -> KL = 0.0989
    #   clip at 3: P = [8, 1, 2]/11, Q = [4.5, 4.5, 1]/10  -> KL = 0.3125
    #   no clip:   P = [8, 1, 1, 1]/11, Q = [4.5, 4.5, 1, 1]/11 -> KL = 0.2817
    # so the threshold is the edge 2.0 (min-max would keep 4.0).
    assert kl_threshold(np.array([8.0, 1, 1, 1]), np.arange(5.0), levels=2, start=2) == pytest.approx(2.0)


def test_kl_threshold_on_fine_histograms():
    edges = np.linspace(0, 100, 2049)
    assert kl_threshold(np.ones(2048), edges, levels=255) == pytest.approx(100)  # flat: nothing to clip
    decaying = np.exp(-np.arange(2048) / 60.0) * 1e6  # a long thin tail: clipped well below the max
    assert 10 < kl_threshold(decaying, edges, levels=255) < 60


@pytest.mark.parametrize("fmt", ["onnx", "xml"])
def test_fp32_exports_equal_torch_on_a_real_image(tmp_path, ref_ckpt, fmt, capsys):
    out = tmp_path / f"m.{fmt}"
    assert main(["export", "--weights", str(ref_ckpt), "-o", str(out)]) == 0
    from noise2noise.backends import runner_for_file

    x, _ = real_input()
    model = load_weights(ref_ckpt).model
    diff = np.abs(run_padded(runner_for_file(out), x) - run_padded(torch_runner(model), x)).max()
    assert diff < 1e-4
    assert json.loads((tmp_path / f"m.{fmt}.json").read_text())["max_abs_diff_vs_torch"] < 1e-4


def test_int8_methods_stay_within_their_drop(tmp_path, ref_ckpt, capsys):
    calib = need(DATA / "train" / "CBSD432")
    model = load_weights(ref_ckpt).model
    inputs = [real_input((128, 192), index=i) for i in range(3)]

    def score(runner):
        outs = [
            np.clip(np.round(run_padded(runner, x)[0].transpose(1, 2, 0) * 255), 0, 255).astype(np.uint8)
            for x, _ in inputs
        ]
        return np.mean([psnr(o, c) for o, (_, c) in zip(outs, inputs)])

    ref = score(torch_runner(model))
    from noise2noise.backends import runner_for_file

    drops = {}
    for method, suffix in (("kl", "onnx"), ("minmax", "onnx"), ("percentile", "onnx"), ("nncf", "xml")):
        if method == "nncf":
            pytest.importorskip("nncf")
        out = tmp_path / f"q_{method}.{suffix}"
        code = main(["export", "--weights", str(ref_ckpt), "-o", str(out), "--precision", "int8", "--method", method,
                     "--calib", str(calib), "--calib-count", "4", "--calib-noise", "gaussian:25"])  # fmt: skip
        assert code == 0, capsys.readouterr().err
        drops[method] = ref - score(runner_for_file(out))
    assert all(d <= 0.15 for d in drops.values()), drops


def test_backends_through_denoise_match_torch(tmp_path, ref_ckpt, capsys):
    x, rgb = real_input((96, 128))
    cv2.imwrite(
        str(tmp_path / "n.png"),
        cv2.cvtColor(np.clip(np.round(x[0].transpose(1, 2, 0) * 255), 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR),
    )
    outs = {}
    for be in ("torch", "onnxruntime", "openvino"):
        code = main(
            [
                "denoise",
                str(tmp_path / "n.png"),
                "-o",
                str(tmp_path / be),
                "--weights",
                str(ref_ckpt),
                "--backend",
                be,
                "--quiet",
            ]
        )
        assert code == 0, capsys.readouterr().err
        outs[be] = cv2.imread(str(tmp_path / be / "n.png")).astype(int)
    assert np.abs(outs["onnxruntime"] - outs["torch"]).max() <= 1
    assert np.abs(outs["openvino"] - outs["torch"]).max() <= 1


def test_bench_json_on_a_tiny_shape(tmp_path, tiny_weights, capsys):
    out = tmp_path / "b.json"
    code = main(["bench", "--weights", str(tiny_weights), "--shape", "1x3x32x32", "--repeats", "2", "--warmup", "1",
                 "--configs", "torch-fp32,onnxruntime-fp32,openvino-fp32", "--json", str(out)])  # fmt: skip
    assert code == 0
    rows = json.loads(out.read_text())
    assert [r["config"] for r in rows] == ["torch-fp32", "onnxruntime-fp32", "openvino-fp32"]
    for r in rows:
        assert (
            r["median_ms"] > 0
            and r["p90_ms"] >= r["median_ms"]
            and r["peak_rss_mb"] > 0
            and "speedup_vs_torch_fp32" in r
        )
