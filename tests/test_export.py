"""Deployment: exported models match torch, int8 calibration is correct and stays within its drop."""

import json

import cv2
import numpy as np
import pytest

from conftest import DATA, REF
from noise2noise.cli import main
from noise2noise.deploy.quant import kl_threshold
from noise2noise.evaluation.metrics import psnr
from noise2noise.inference import run_padded
from noise2noise.runners import runner_for_file, torch_runner
from noise2noise.weights import load_weights

pytest.importorskip("onnxruntime")
pytest.importorskip("openvino")


def real_input(size=(192, 256), sigma=25, index=0):
    rgb = cv2.cvtColor(cv2.imread(str(DATA / "test" / "Kodak24" / f"kodim{index + 1:02d}.png")), cv2.COLOR_BGR2RGB)
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


@pytest.mark.shared(REF, "data/test/Kodak24")
@pytest.mark.parametrize("fmt", ["onnx", "xml"])
def test_fp32_exports_equal_torch_on_a_real_image(tmp_path, ref_ckpt, fmt, capsys):
    out = tmp_path / f"m.{fmt}"
    assert main(["export", "--weights", str(ref_ckpt), "-o", str(out)]) == 0
    x, _ = real_input()
    model = load_weights(ref_ckpt).model
    diff = np.abs(run_padded(runner_for_file(out), x) - run_padded(torch_runner(model), x)).max()
    assert diff < 1e-4
    assert json.loads((tmp_path / f"m.{fmt}.json").read_text())["max_abs_diff_vs_torch"] < 1e-4


@pytest.mark.slow
@pytest.mark.shared(REF, "data/test/Kodak24", "data/train/CBSD432")
def test_int8_methods_stay_within_their_drop(tmp_path, ref_ckpt, capsys):
    calib = DATA / "train" / "CBSD432"
    model = load_weights(ref_ckpt).model
    inputs = [real_input((128, 192), index=i) for i in range(3)]

    def score(runner):
        outs = [
            np.clip(np.round(run_padded(runner, x)[0].transpose(1, 2, 0) * 255), 0, 255).astype(np.uint8)
            for x, _ in inputs
        ]
        return np.mean([psnr(o, c) for o, (_, c) in zip(outs, inputs)])

    ref = score(torch_runner(model))
    drops = {}
    for method, suffix in (("kl", "onnx"), ("minmax", "onnx"), ("percentile", "onnx"), ("nncf", "xml")):
        if method == "nncf":
            pytest.importorskip("nncf")
        out = tmp_path / f"q_{method}.{suffix}"
        code = main(
            [
                "export",
                "--weights",
                str(ref_ckpt),
                "-o",
                str(out),
                "--precision",
                "int8",
                "--method",
                method,
                "--calib",
                str(calib),
                "--calib-count",
                "4",
                "--calib-noise",
                "gaussian:25",
            ]
        )
        assert code == 0, capsys.readouterr().err
        drops[method] = ref - score(runner_for_file(out))
    assert all(d <= 0.15 for d in drops.values()), drops


@pytest.mark.shared(REF, "data/test/Kodak24")
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


@pytest.mark.slow
def test_bench_json_on_a_tiny_shape(tmp_path, tiny_weights, capsys):
    out = tmp_path / "b.json"
    configs = "torch-fp32,onnxruntime-fp32,openvino-fp32,onnxruntime-bf16"
    argv = f"bench --shape 1x3x32x32 --repeats 2 --warmup 1 --configs {configs}".split()
    assert main([*argv, "--weights", str(tiny_weights), "--json", str(out)]) == 0
    rows = json.loads(out.read_text())
    assert [r["config"] for r in rows] == configs.split(",")
    assert "onnxruntime takes fp32 or fp16" in rows[-1]["error"]  # an unavailable config is a row, not a crash
    rows = rows[:-1]
    assert rows[0]["speedup_vs_torch_fp32"] == 1.0  # the baseline, measured in the same run
    from noise2noise.deploy.choose import resolve_backend

    default = "-".join(resolve_backend())
    assert [r["config"] for r in rows if r["default"]] == ([default] if default in configs else [])
    assert all(r["cpu"] for r in rows)
    for r in rows:
        assert r["median_ms"] > 0 and r["peak_rss_mb"] > 0
        assert r["speedup_vs_torch_fp32"] == pytest.approx(rows[0]["median_ms"] / r["median_ms"])


@pytest.mark.slow
def test_bench_times_a_file_named_in_configs_once(tmp_path, tiny_weights):
    from noise2noise.deploy.convert import export_onnx
    from noise2noise.weights import load_checkpoint

    f = export_onnx(load_checkpoint(str(tiny_weights)).model, tmp_path / "m.onnx")
    out = tmp_path / "b.json"
    argv = f"bench --shape 1x3x32x32 --repeats 1 --warmup 0 --configs torch-fp32,mine --file mine={f}@onnxruntime"
    assert main([*argv.split(), "--weights", str(tiny_weights), "--json", str(out)]) == 0
    assert [r["config"] for r in json.loads(out.read_text())] == ["torch-fp32", "mine"]


@pytest.mark.slow
def test_export_is_one_library_call_and_a_failed_check_leaves_nothing(tmp_path, tiny_weights, monkeypatch):
    import noise2noise
    from noise2noise.deploy import export as E

    report = noise2noise.export(weights=str(tiny_weights), out=str(tmp_path / "ok.onnx"))
    assert report["max_abs_diff_vs_torch"] < 1e-4 and (tmp_path / "ok.onnx.json").is_file()
    monkeypatch.setattr(E, "FP32_TOLERANCE", -1.0)  # any difference now fails the check
    for name in ("bad.onnx", "bad.xml"):
        with pytest.raises(ValueError, match="not written"):
            noise2noise.export(weights=str(tiny_weights), out=str(tmp_path / name))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.onnx", "ok.onnx.json"]  # no temp files either


def test_export_options_are_checked_before_anything_is_written(tmp_path, tiny_weights):
    import noise2noise

    with pytest.raises(ValueError, match="suffix"):
        noise2noise.export(weights=str(tiny_weights), out=str(tmp_path / "m.bin"))
    with pytest.raises(Exception, match="no such file"):
        noise2noise.export(weights=str(tiny_weights), out=str(tmp_path / "m.onnx"), check_image=str(tmp_path / "x.png"))
    assert list(tmp_path.iterdir()) == []


def test_calibration_takes_a_noise_mixture_one_noise_per_image():
    from noise2noise.deploy.int8 import calibration_batches

    flat = [np.full((64, 64, 3), 0.5, np.float32) for _ in range(40)]
    noisy, clean = calibration_batches(flat, "gaussian:30@0.5,gaussian:2@0.5", count=40, size=64)
    sigmas = np.array([np.std(n - c) * 255 for n, c in zip(noisy, clean, strict=True)])
    low, high = (np.abs(sigmas - 2) < 0.5).sum(), (np.abs(sigmas - 30) < 2).sum()
    assert low + high == 40 and 10 <= low <= 30  # each image one of the two, both drawn
    again, _ = calibration_batches(flat, "gaussian:30@0.5,gaussian:2@0.5", count=40, size=64)
    assert all(np.array_equal(a, b) for a, b in zip(noisy, again, strict=True))  # seeded
