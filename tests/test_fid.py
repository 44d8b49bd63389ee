import json

import numpy as np
import pytest
import torch
from scipy import linalg

from noise2noise.cli import main
from noise2noise.evaluation.fid import frechet_distance


def test_frechet_distance_equals_a_direct_scipy_computation():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(50, 6)), rng.normal(0.5, 2.0, size=(60, 6))
    mu1, mu2, s1, s2 = a.mean(0), b.mean(0), np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    direct = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * np.real(linalg.sqrtm(s1 @ s2)))
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(direct, rel=1e-8)
    assert frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0, abs=1e-6)


class TinyFeatures(torch.nn.Module):
    def forward(self, x):
        return torch.cat([x.mean(dim=(2, 3)), x.std(dim=(2, 3))], dim=1)


def test_fid_in_eval_with_a_local_feature_file(tmp_path, tiny_weights, capsys):
    import cv2

    d = tmp_path / "set"
    d.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        cv2.imwrite(str(d / f"{i}.png"), (rng.random((40, 48, 3)) * 255).astype(np.uint8))
    torch.jit.script(TinyFeatures()).save(str(tmp_path / "feat.pt"))
    argv = ["eval", str(d), *"--method noisy --noise gaussian:25 --quiet".split()]
    code = main([*argv, "--fid-model", str(tmp_path / "feat.pt"), "--json", str(tmp_path / "r.json")])
    assert code == 0, capsys.readouterr().err
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["fid"] > 0
    code = main([*argv, "--fid-model", str(tmp_path / "none.pt")])
    err = capsys.readouterr().err
    assert code != 0 and "nothing is downloaded" in err and len(err.strip().splitlines()) == 1
