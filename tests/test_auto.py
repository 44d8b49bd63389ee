"""The ``auto`` model: the noise profile tells white noise from a camera's, the choice is
reproducible and visible (JSON of denoise and eval, the server's header), and the chosen model runs
by its usual path."""

import json

import cv2
import numpy as np
import pytest
from starlette.testclient import TestClient

from conftest import DATA
from noise2noise import Denoiser
from noise2noise.auto import AutoDenoiser, pick
from noise2noise.cli import main
from noise2noise.config import NoiseConfig
from noise2noise.images import to_uint8
from noise2noise.noise.profile import GAUSSIAN, HEAVY_SIGMA, PHONE, PHOTO, profile
from noise2noise.noise.synthetic import add_noise
from noise2noise.serve.app import create_app
from noise2noise.serve.models import ModelPool


def scene(h: int = 192, w: int = 256) -> np.ndarray:
    """A clean HWC RGB float image: smooth colour gradients and a few edges."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([0.2 + 0.5 * xx / w, 0.3 + 0.4 * yy / h, 0.6 - 0.3 * (xx + yy) / (h + w)], axis=2)
    img[h // 3 : h // 2, w // 4 : w // 2] = (0.8, 0.4, 0.2)
    return img


def chw(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(2, 0, 1))[None]


@pytest.mark.parametrize("sigma", [15, 25, 50])
def test_white_gaussian_noise_reads_white(sigma):
    noisy = scene() + np.random.default_rng(sigma).normal(0, sigma / 255, scene().shape).astype(np.float32)
    p = profile(chw(noisy))
    assert p.spatial > 0.95 and p.channels < 0.08 and abs(p.brightness - 1) < 0.1
    assert 0.8 * sigma / 255 < p.sigma < 1.1 * sigma / 255
    assert pick(chw(noisy)).model == GAUSSIAN
    # as an 8-bit file, too
    assert pick(chw(to_uint8(noisy) / np.float32(255))).model == GAUSSIAN


@pytest.mark.parametrize("gain", [4, 16, 64])
def test_camera_noise_reads_correlated(gain):
    noisy, _ = add_noise(scene(), NoiseConfig.parse(f"camera:{gain}"), np.random.default_rng(gain))
    p = profile(chw(noisy))
    assert p.spatial < 0.8 or p.channels > 0.3  # demosaicing correlates neighbours and channels
    assert pick(chw(noisy)).model == PHOTO


def test_noise_spread_over_channels_is_not_white():
    """The same noise in every channel (a grey sensor's, or luminance noise after chroma denoising):
    weak, a photograph's; strong, a phone's in low light (its chroma smoothed away)."""
    n = np.random.default_rng(0).normal(0, 1 / 255, scene().shape[:2]).astype(np.float32)
    assert pick(chw(scene() + 4 * n[..., None])).model == PHOTO
    assert pick(chw(scene() + 20 * n[..., None])).model == PHONE


@pytest.mark.parametrize("gain", [60, 150])
def test_strong_phone_noise_goes_to_the_phone_model_and_strong_raw_camera_noise_does_not(gain):
    from noise2noise.noise import phone

    rng = np.random.default_rng(gain)
    p = phone.PhoneParams.sample(rng, gain, gain)
    p = phone.PhoneParams(**{**p.__dict__, "demosaic": "mhc", "binning": 2, "luma_nr": 0.2, "sharpen": 1.0})
    noisy = phone.apply(scene(), p, rng)
    c = pick(chw(noisy))
    assert c.noise.sigma >= HEAVY_SIGMA and c.model == PHONE and "a phone leaves" in c.reason
    raw, _ = add_noise(scene(), NoiseConfig.parse(f"camera:{gain}"), np.random.default_rng(gain))
    assert pick(chw(raw)).model == PHOTO  # demosaiced and left alone: a camera's raw noise, however strong


def test_noise_past_any_camera_gain_goes_to_the_phone_model_whatever_its_shape():
    from noise2noise.noise.profile import BEYOND_CAMERA

    raw, _ = add_noise(scene(), NoiseConfig.parse("camera:120"), np.random.default_rng(1))
    assert pick(chw(raw)).model == PHOTO  # the photo model's strongest camera noise stays with it
    n = np.random.default_rng(2).normal(0, 1, scene().shape).astype(np.float32)
    smooth = cv2.GaussianBlur(n, (0, 0), 0.8)  # correlated over neighbours and coloured: a camera's shape
    unit = profile(chw(scene() + smooth * 0.1)).sigma / 0.1  # the level the profile reads per unit of it
    for level, model in ((0.7, PHOTO), (1.4, PHONE)):
        noisy = scene() + smooth * (level * BEYOND_CAMERA / unit)
        c = pick(chw(noisy))
        assert c.model == model, (level, c)
        assert (c.noise.sigma >= BEYOND_CAMERA) == (model == PHONE)
    assert "past a camera's" in c.reason


def test_a_clean_image_and_a_tiny_one_go_to_the_photo_model():
    assert pick(chw(scene())).model == PHOTO
    tiny = pick(chw(scene(20, 20)))
    assert tiny.model == PHOTO and tiny.noise.blocks == 0


def test_the_choice_depends_on_the_pixels_alone():
    noisy = scene() + np.random.default_rng(1).normal(0, 0.1, scene().shape).astype(np.float32)
    a, b = pick(chw(noisy)), pick(chw(noisy.copy()))
    assert a == b and a.as_dict()["model"] == GAUSSIAN
    grey = pick(chw(noisy.mean(axis=2, keepdims=True)))  # grey images: channels cannot be compared
    assert grey.noise.channels == 0.0 and grey.model == GAUSSIAN


def test_auto_is_the_default_and_runs_the_chosen_model_by_its_usual_path():
    auto = Denoiser.from_weights()
    assert isinstance(auto, AutoDenoiser) and auto.meta["name"] == "auto"
    rgb = to_uint8(scene() + np.random.default_rng(2).normal(0, 0.1, scene().shape))
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    out, choice = auto.denoise(bgr)
    assert choice.model == GAUSSIAN
    assert np.array_equal(out, Denoiser.from_weights(model=GAUSSIAN)(bgr))
    assert auto.meta["precision"] == Denoiser.from_weights(model=GAUSSIAN).meta["precision"]  # int8 where shipped
    assert np.array_equal(Denoiser.from_weights(model="auto")(bgr), out)


def test_denoise_json_names_the_model_of_each_file(tmp_path):
    rgb = scene()
    white = to_uint8(rgb + np.random.default_rng(3).normal(0, 0.1, rgb.shape))
    camera = to_uint8(add_noise(rgb, NoiseConfig.parse("camera:16"), np.random.default_rng(3))[0])
    for name, img in (("white.png", white), ("camera.png", camera)):
        cv2.imwrite(str(tmp_path / name), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    report = tmp_path / "r.json"
    args = [str(tmp_path / "white.png"), str(tmp_path / "camera.png"), "-o", str(tmp_path / "out")]
    assert main(["denoise", *args, "--json", str(report), "--quiet"]) == 0
    files = json.loads(report.read_text())["files"]
    assert [f["model"] for f in files] == [GAUSSIAN, PHOTO]
    assert all(f["error"] is None and f["noise"]["blocks"] > 0 and f["reason"] for f in files)
    # a forced model is named too, with no automatic reason
    assert main(["denoise", *args, "--json", str(report), "--quiet", "--overwrite", "--model", PHOTO]) == 0
    assert [f["model"] for f in json.loads(report.read_text())["files"]] == [PHOTO, PHOTO]


def test_eval_json_names_the_model_per_image(tmp_path):
    d = tmp_path / "clean"
    d.mkdir()
    cv2.imwrite(str(d / "a.png"), cv2.cvtColor(to_uint8(scene()), cv2.COLOR_RGB2BGR))
    out = tmp_path / "e.json"
    assert main(["eval", str(d), "--noise", "gaussian:25", "--json", str(out), "--quiet"]) == 0
    r = json.loads(out.read_text())
    assert r["images"][0]["model"] == GAUSSIAN and r["summary"]["models"] == {GAUSSIAN: 1}
    assert r["config"]["methods"][0].startswith("auto")


def test_server_offers_auto_first_and_answers_the_choice_in_a_header():
    client = TestClient(create_app(ModelPool(), queue=1))
    d = client.get("/api/models").json()
    assert d["default"] == "auto" and d["models"][0]["name"] == "auto" and d["models"][0]["default"]
    bgr = cv2.cvtColor(to_uint8(scene() + np.random.default_rng(4).normal(0, 0.1, scene().shape)), cv2.COLOR_RGB2BGR)
    ok, png = cv2.imencode(".png", bgr)
    r = client.post("/api/denoise", files={"image": ("a.png", png.tobytes())})
    assert r.status_code == 200 and r.headers["x-n2n-model"] == GAUSSIAN and "white" in r.headers["x-n2n-reason"]
    r = client.post("/api/denoise", files={"image": ("a.png", png.tobytes())}, data={"model": PHOTO})
    assert r.headers["x-n2n-model"] == PHOTO and "x-n2n-reason" not in r.headers


@pytest.mark.shared("data/test/Kodak24", "data/pairs/PolyU")
def test_a_mixed_folder_gets_each_image_right(tmp_path):
    """Half Gaussian-noisy Kodak photos (8-bit files), half PolyU's real camera photos."""
    kodak = sorted((DATA / "test" / "Kodak24").glob("*.png"))[:3]
    polyu = sorted((DATA / "pairs" / "PolyU" / "noisy").iterdir())[:3]
    for i, p in enumerate(kodak):
        clean = cv2.imread(str(p))
        noisy = clean + np.random.default_rng(i).normal(0, [15, 25, 50][i], clean.shape)
        cv2.imwrite(str(tmp_path / f"g{i}.png"), np.clip(np.round(noisy), 0, 255).astype(np.uint8))
    for p in polyu:
        (tmp_path / p.name).write_bytes(p.read_bytes())
    report = tmp_path / "r.json"
    assert main(["denoise", str(tmp_path), "-o", str(tmp_path / "out"), "--json", str(report), "--quiet"]) == 0
    models = {f["input"].rsplit("/", 1)[1]: f["model"] for f in json.loads(report.read_text())["files"]}
    assert models == {**{f"g{i}.png": GAUSSIAN for i in range(3)}, **{p.name: PHOTO for p in polyu}}
