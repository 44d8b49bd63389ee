"""Where a denoise option lives: defined and validated once (``config.DenoiseConfig``, ``BurstConfig``),
the CLI generated from those fields, and every way in (``from_config``, ``from_weights``, ``n2n``)
building the same denoiser."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pytest

from noise2noise.bursts.merge import BurstOptions
from noise2noise.cli import build_parser, main
from noise2noise.cli._common import config_from
from noise2noise.config import MIN_TILE, BurstConfig, DenoiseConfig
from noise2noise.denoiser import Denoiser
from noise2noise.ensemble import Ensemble, Strength
from noise2noise.job import DenoiseOptions
from noise2noise.model import MULTIPLE


def flags(cmd: str) -> set[str]:
    sub = build_parser()._subparsers._group_actions[0].choices[cmd]
    return {s for a in sub._actions for s in a.option_strings}


def test_every_field_has_its_help_and_its_option():
    for cls, cmd in ((DenoiseConfig, "denoise"), (BurstConfig, "burst")):
        for f in dataclasses.fields(cls):
            assert f.metadata.get("help"), f"{cls.__name__}.{f.name} has no help"
            assert "--" + f.name.replace("_", "-") in flags(cmd), (cmd, f.name)
    assert {"--weights", "--model", "--backend", "--precision", "--ensemble"} <= flags("eval")


def test_the_cli_builds_the_config_a_python_user_builds():
    argv = ["denoise", "a.png", "-o", "out", "--model", "n2n-photo", "--tile", "256", "--overlap", "32"]
    argv += ["--strength", "0.5", "--ensemble", "2", "--resize", "64x48", "--precision", "fp32"]
    args = build_parser().parse_args(argv)
    want = DenoiseConfig(model="n2n-photo", tile=256, overlap=32, strength=0.5, ensemble=2, resize=(64, 48))
    assert config_from(DenoiseConfig, args) == dataclasses.replace(want, precision="fp32")
    args = build_parser().parse_args(["burst", "a.png", "b.png", "-o", "m.png", "--steps", "3", "--crop", "64"])
    assert config_from(BurstConfig, args) == BurstConfig(steps=3, crop=64)


@pytest.mark.parametrize(
    "bad, words",
    [
        (dict(tile=16), "--tile"),
        (dict(tile=64, overlap=64), "--overlap"),
        (dict(overlap=-1), "--overlap"),
        (dict(streams=1.5), "--streams"),
        (dict(strength=1.5), "--strength"),
        (dict(strength=float("nan")), "--strength"),
        (dict(ensemble=3), "--ensemble"),
        (dict(device="gpu"), "--device"),
        (dict(backend="tensorrt"), "--backend"),
        (dict(precision="int4"), "--precision"),
        (dict(arch="resnet"), "--arch"),
        (dict(resize=(0, 10)), "--resize"),
        (dict(model="auto", weights="w.safetensors"), "auto"),
        (dict(model="n2n-photo", weights="w.safetensors"), "not both"),
    ],
)
def test_a_bad_option_is_refused_when_the_config_is_made(bad, words):
    with pytest.raises(ValueError, match=words):
        DenoiseConfig(**bad)


def test_bad_burst_options_are_refused_when_made():
    for bad in (dict(steps=-1), dict(lr=0.0), dict(lr=float("inf")), dict(crop=16), dict(batch=0), dict(reference=-2)):
        with pytest.raises(ValueError):
            BurstConfig(**bad)
    assert BurstConfig(model="n2n-photo", precision="fp32").denoising() == DenoiseConfig(
        model="n2n-photo", precision="fp32"
    )


def test_options_are_keywords_and_the_old_names_still_work():
    with pytest.raises(TypeError):
        DenoiseConfig("w.safetensors")  # type: ignore[misc]
    assert DenoiseOptions is DenoiseConfig and BurstOptions is BurstConfig
    named = [p for p in inspect.signature(Denoiser.from_weights).parameters.values() if p.kind != p.VAR_KEYWORD]
    assert len(named) <= 4, named  # the short path; the rest through the config
    assert MIN_TILE == MULTIPLE


def test_a_bad_option_on_the_command_line_is_one_line_and_exit_2(tmp_path, capsys, photo):
    import cv2

    cv2.imwrite(str(tmp_path / "p.png"), photo)
    code = main(["denoise", str(tmp_path / "p.png"), "-o", str(tmp_path / "o"), "--tile", "16"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--tile" in err
    assert not (tmp_path / "o").exists()


def test_every_way_in_gives_the_same_output(tiny_weights, photo):
    cfg = DenoiseConfig(weights=str(tiny_weights), precision="fp32", tile=0, strength=0.8)
    a = Denoiser.from_config(cfg)(photo)
    b = Denoiser.from_weights(tiny_weights, precision="fp32", tile=0, strength=0.8)(photo)
    c = Denoiser.from_weights(config=cfg)(photo)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_with_options_shares_the_runner_and_keeps_the_model(tiny_weights, photo):
    den = Denoiser.from_weights(tiny_weights, precision="fp32", tile=0)
    half = den.with_options(strength=0.5)
    assert half.base.runner is den.runner and half.config.strength == 0.5 and den.config.strength == 1.0
    assert isinstance(half, Strength) and half.inner.config.strength == 0.5
    assert den.with_options(ensemble=2, strength=1.0).__class__ is Ensemble
    with pytest.raises(ValueError, match="precision"):
        den.with_options(precision="int8")  # a new runtime: from_config
    with pytest.raises(ValueError, match="--strength"):
        den.with_options(strength=2.0)  # still validated


def test_every_denoiser_honours_the_contract(tiny_weights):
    from noise2noise.inference import ImageDenoiser

    fixed = Denoiser.from_weights(tiny_weights, precision="fp32")
    for den in (fixed, fixed.with_options(ensemble=2), fixed.with_options(strength=0.5), Denoiser.from_weights()):
        assert isinstance(den, ImageDenoiser), type(den)
        assert isinstance(den.base, Denoiser) and den.base.model is not None  # the network at its core


def test_typed_results_give_the_reports_keys():
    from noise2noise.reports import BurstResult, FileResult, RunReport

    ok = FileResult("a.png", "out/a.png", {"model": "n2n-photo"}, 0.5)
    bad = FileResult("b.png", error="b.png: not an image")
    files = RunReport([ok, bad]).as_dict()
    assert files == {
        "files": [
            {"input": "a.png", "output": "out/a.png", "model": "n2n-photo", "seconds": 0.5, "error": None},
            {"input": "b.png", "output": None, "seconds": 0.0, "error": "b.png: not an image"},
        ],
        "failures": 1,
    }
    assert FileResult.from_dict(ok.as_dict()) == ok
    done = BurstResult("s", "m.png", ["1.png", "2.png"], {"frames_used": 2}, 1.5)
    skipped = BurstResult("t", "n.png", ["3.png"], skipped=True)
    bursts = RunReport([done, skipped], options={"steps": 3}, kind="bursts").as_dict()
    assert bursts["failures"] == bursts["failed"] == 0 and bursts["options"] == {"steps": 3}
    assert bursts["bursts"][0] == {
        "name": "s",
        "output": "m.png",
        "frames": ["1.png", "2.png"],
        "frames_used": 2,
        "error": None,
        "seconds": 1.5,
    }
    assert bursts["bursts"][1]["skipped"] is True and "seconds" not in bursts["bursts"][1]


def test_the_server_runs_its_models_with_the_config_it_was_given():
    from noise2noise.serve.models import ModelPool

    assert {"--backend", "--precision", "--tile", "--device"} <= flags("serve")
    args = build_parser().parse_args(["serve", "--model", "n2n-photo", "--precision", "fp32", "--tile", "512"])
    cfg = config_from(DenoiseConfig, args, weights=None, model=None)
    assert cfg == DenoiseConfig(precision="fp32", tile=512)
    den = ModelPool(None, "n2n-photo", cfg).get(None)
    assert den.meta["backend"] == "torch" and den.config.tile == 512
