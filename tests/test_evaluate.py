import json

import cv2
import numpy as np
import pytest

from conftest import DATA, REF
from noise2noise.cli import main


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def eval_args(data, weights, noise="gaussian:25") -> list:
    return ["eval", data, "--weights", weights, "--noise", noise]


@pytest.fixture
def clean_dir(tmp_path, photo):
    d = tmp_path / "clean_set"
    d.mkdir()
    for i in range(3):
        cv2.imwrite(str(d / f"im{i}.png"), np.roll(photo, 7 * i, axis=1))
    return d


def test_same_command_twice_gives_identical_json(tmp_path, clean_dir, tiny_weights, capsys):
    outs = []
    for k in range(2):
        j = tmp_path / f"r{k}.json"
        methods = "--method model --method noisy --quiet".split()
        code, _, err = run(
            capsys, *eval_args(clean_dir, tiny_weights), "--json", j, "--csv", tmp_path / "r.csv", *methods
        )
        assert code == 0, err
        outs.append(j.read_text())
    assert outs[0] == outs[1]
    d = json.loads(outs[0])
    assert set(d) >= {"summary", "images", "config"} and len(d["images"]) == 3
    assert {"psnr", "ssim", "noisy_psnr", "noisy_ssim"} <= set(d["summary"])
    assert d["methods"]["noisy"]["summary"]["psnr"] == pytest.approx(d["summary"]["noisy_psnr"])
    assert d["config"]["protocol"] == "float" and d["config"]["seed"] == 0


def test_protocols_differ_and_uint8_is_quantized(clean_dir, tiny_weights, capsys, tmp_path):
    res = {}
    for proto in ("float", "uint8"):
        args = eval_args(clean_dir, tiny_weights, "gaussian:50")
        code, _, _ = run(capsys, *args, "--protocol", proto, "--json", tmp_path / f"{proto}.json", "--quiet")
        res[proto] = json.loads((tmp_path / f"{proto}.json").read_text())["summary"]["psnr"]
    assert res["float"] != res["uint8"]


def _sidd_arrays(rng):
    gt = rng.integers(0, 256, (2, 3, 32, 32, 3), dtype=np.uint8)
    noisy = np.clip(gt.astype(int) + rng.integers(-20, 21, gt.shape), 0, 255).astype(np.uint8)
    return gt, noisy


def test_sidd_mat_v5_and_v73_and_medium_layout(tmp_path, tiny_weights, capsys):
    from scipy.io import savemat

    h5py = pytest.importorskip("h5py")
    gt, noisy = _sidd_arrays(np.random.default_rng(0))
    v5, v73 = tmp_path / "v5", tmp_path / "v73"
    v5.mkdir(), v73.mkdir()
    savemat(v5 / "ValidationGtBlocksSrgb.mat", {"ValidationGtBlocksSrgb": gt})
    savemat(v5 / "ValidationNoisyBlocksSrgb.mat", {"ValidationNoisyBlocksSrgb": noisy})
    for key, arr in (("ValidationGtBlocksSrgb", gt), ("ValidationNoisyBlocksSrgb", noisy)):
        with h5py.File(v73 / f"{key}.mat", "w", userblock_size=512) as f:
            f[key] = arr.transpose(4, 3, 2, 1, 0)  # MATLAB v7.3 stores column-major
        with open(v73 / f"{key}.mat", "r+b") as f:  # MATLAB's text header in the user block
            f.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: test HDF5 schema 1.00 .")
    reports = []
    for folder in (v5, v73):
        code, _, err = run(
            capsys,
            "eval",
            folder,
            "--weights",
            tiny_weights,
            "--method",
            "noisy",
            "--json",
            tmp_path / "s.json",
            "--quiet",
        )
        assert code == 0, err
        reports.append(json.loads((tmp_path / "s.json").read_text()))
    assert reports[0]["summary"] == reports[1]["summary"] and len(reports[0]["images"]) == 6
    expected = np.mean(
        [
            10
            * np.log10(
                255**2 / np.mean((gt.reshape(-1, 32, 32, 3)[i].astype(float) - noisy.reshape(-1, 32, 32, 3)[i]) ** 2)
            )
            for i in range(6)
        ]
    )
    assert reports[0]["summary"]["psnr"] == pytest.approx(expected)
    # the card's preset: GT blocks with synthetic Gaussian noise instead of the real noisy blocks
    code, _, err = run(
        capsys, "eval", v5, "--weights", tiny_weights, "--preset", "card", "--json", tmp_path / "c.json", "--quiet"
    )
    assert code == 0, err
    assert json.loads((tmp_path / "c.json").read_text())["config"]["noise"] == "gaussian:25"
    # SIDD-Medium layout
    med = tmp_path / "medium" / "0001_001_S6_00100_00060_3200_L"
    med.mkdir(parents=True)
    for i in range(2):
        cv2.imwrite(str(med / f"0001_GT_SRGB_01{i}.PNG"), gt[0, i])
        cv2.imwrite(str(med / f"0001_NOISY_SRGB_01{i}.PNG"), noisy[0, i])
    code, _, err = run(
        capsys, "eval", tmp_path / "medium", "--weights", tiny_weights, "--json", tmp_path / "m.json", "--quiet"
    )
    assert code == 0, err
    assert json.loads((tmp_path / "m.json").read_text())["config"]["kind"] == "sidd-medium"


def test_bad_eval_inputs(tmp_path, clean_dir, tiny_weights, photo, capsys):
    from scipy.io import savemat

    (tmp_path / "empty").mkdir()
    pairs = tmp_path / "pairs"
    (pairs / "noisy").mkdir(parents=True)
    (pairs / "clean").mkdir()
    cv2.imwrite(str(pairs / "noisy" / "a.png"), photo)
    cv2.imwrite(str(pairs / "clean" / "b.png"), photo)
    sizes = tmp_path / "sizes"
    (sizes / "noisy").mkdir(parents=True)
    (sizes / "clean").mkdir()
    cv2.imwrite(str(sizes / "noisy" / "a.png"), photo)
    cv2.imwrite(str(sizes / "clean" / "a.png"), photo[:20])
    savemat(tmp_path / "x.mat", {"something": np.zeros((2, 2))})
    (tmp_path / "t.png").write_text("text")
    cases = [
        (tmp_path / "empty", "no images"),
        (pairs, "names differ"),
        (sizes, "noisy is"),
        (tmp_path / "x.mat", "no array"),
        (clean_dir, "--noise"),
        (tmp_path / "t.png", "not a readable"),
    ]
    for data, msg in cases:
        extra = ["--noise", "gaussian:25"] if data == tmp_path / "t.png" else []
        code, _, err = run(capsys, "eval", data, "--weights", tiny_weights, "--quiet", *extra)
        assert code != 0 and msg in err and len(err.strip().splitlines()) == 1, (data, err)


def test_montage_is_written(tmp_path, clean_dir, tiny_weights, capsys):
    code, _, err = run(capsys, *eval_args(clean_dir, tiny_weights), "--montage", tmp_path / "m", "--quiet")
    assert code == 0, err
    pics = sorted((tmp_path / "m").glob("*.png"))
    assert len(pics) == 3 and cv2.imread(str(pics[0])).shape[1] == 3 * 40


@pytest.mark.slow
@pytest.mark.shared(REF, "data/test/Kodak24")
def test_reference_checkpoint_on_kodak24_through_n2n_eval(tmp_path, ref_ckpt, capsys):
    kodak = DATA / "test" / "Kodak24"
    code, _, err = run(
        capsys,
        "eval",
        kodak,
        "--weights",
        ref_ckpt,
        "--noise",
        "gaussian:25",
        "--protocol",
        "float",
        "--json",
        tmp_path / "k.json",
        "--quiet",
    )
    assert code == 0, err
    s = json.loads((tmp_path / "k.json").read_text())["summary"]
    assert abs(s["psnr"] - 31.50) <= 0.1 and abs(s["noisy_psnr"] - 20.44) <= 0.05, s


@pytest.mark.parametrize(
    ("method", "noise", "gain"),
    [
        ("nlm", "gaussian:25", 5),
        ("bm3d", "gaussian:25", 5),
        ("wavelet", "gaussian:25", 5),
        ("wavelet-visu", "gaussian:25", 5),
        ("wavelet", "phone:60", 1),  # the noise level estimated from the image
        ("wavelet-visu", "phone:60", 1),
    ],
)
def test_classic_baselines_beat_the_noisy_input(tmp_path, method, noise, gain, capsys):
    if method == "bm3d":
        pytest.importorskip("bm3d")
    d = tmp_path / "smooth"
    d.mkdir()
    y, x = np.mgrid[0:64, 0:64]
    cv2.imwrite(str(d / "a.png"), np.stack([x * 3, y * 3, (x + y) * 2], 2).astype(np.uint8))
    code, _, err = run(
        capsys, "eval", d, "--method", method, "--noise", noise, "--json", tmp_path / "b.json", "--quiet"
    )
    assert code == 0, err
    s = json.loads((tmp_path / "b.json").read_text())["summary"]
    assert s["psnr"] > s["noisy_psnr"] + gain


def test_the_top_level_summary_is_the_models_whatever_the_order_of_methods(tmp_path, capsys, tiny_weights):
    d = tmp_path / "set"
    d.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        cv2.imwrite(str(d / f"{i}.png"), rng.integers(0, 256, (40, 48, 3), dtype=np.uint8))
    args = ["eval", d, "--weights", tiny_weights, "--noise", "gaussian:25", "--json", tmp_path / "r.json", "--quiet"]
    code, _, err = run(capsys, *args, "--method", "noisy", "--method", "model")
    assert code == 0, err
    r = json.loads((tmp_path / "r.json").read_text())
    model = next(m for m in r["methods"] if m != "noisy")
    assert r["summary"] == r["methods"][model]["summary"] != r["methods"]["noisy"]["summary"]
    code, _, err = run(capsys, *args, "--method", "noisy")  # baselines alone: the first one's
    assert code == 0, err
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["summary"] == r["methods"]["noisy"]["summary"]


def test_eval_ensemble_is_named_in_the_report(tmp_path, clean_dir, tiny_weights, capsys):
    code, out, err = run(capsys, *eval_args(clean_dir, tiny_weights), "--ensemble", "4", "--quiet", "--json", "-")
    assert code == 0, err
    assert "ensemble x4" in out
    report = json.loads(out[out.index("\n{") :])  # the table, then the JSON
    assert report["config"]["ensemble"] == 4 and any("ensemble x4" in m for m in report["methods"])
    with pytest.raises(SystemExit):  # argparse: not one of 1, 2, 4, 8
        main([str(a) for a in eval_args(clean_dir, tiny_weights)] + ["--ensemble", "3"])
    assert "--ensemble" in capsys.readouterr().err
