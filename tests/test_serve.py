"""`n2n serve`'s HTTP API through the framework's test client: the same pixels as `n2n denoise`,
and a JSON 4xx (never a 500 or a traceback) for every bad upload."""

import threading
import time

import cv2
import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")
from starlette.testclient import TestClient

from noise2noise.cli import main
from noise2noise.serve.app import create_app
from noise2noise.serve.models import ModelPool


@pytest.fixture
def client(tiny_weights):
    return TestClient(create_app(ModelPool(str(tiny_weights)), max_upload=1 << 20, queue=1))


def test_health_models_and_page(client, tiny_weights):
    assert client.get("/healthz").json()["status"] == "ok"
    d = client.get("/api/models").json()
    assert d["default"] == tiny_weights.stem and d["models"][0] == {
        "name": tiny_weights.stem,
        "default": True,
        "noise": "gaussian:25",
        "target": None,
    }
    page = client.get("/")
    assert page.status_code == 200 and "/api/denoise" in page.text and 'type="file"' in page.text


@pytest.mark.parametrize("ext", [".png", ".jpg", ".tif"])
def test_the_api_answers_what_n2n_denoise_writes(tmp_path, client, tiny_weights, photo, ext):
    cv2.imwrite(str(tmp_path / f"a{ext}"), photo)
    assert (
        main(
            [
                "denoise",
                str(tmp_path / f"a{ext}"),
                "-o",
                str(tmp_path / "out"),
                "--weights",
                str(tiny_weights),
                "--quiet",
            ]
        )
        == 0
    )
    with open(tmp_path / f"a{ext}", "rb") as f:
        r = client.post("/api/denoise", files={"image": (f"a{ext}", f.read())})
    assert r.status_code == 200, r.text
    assert r.content == (tmp_path / "out" / f"a{ext}").read_bytes()
    assert f'filename="a-denoised{ext}"' in r.headers["content-disposition"]


def test_sixteen_bits_and_strength(tmp_path, client, photo):
    p16 = photo.astype(np.uint16) * 257
    ok, png = cv2.imencode(".png", p16)
    r = client.post("/api/denoise", files={"image": ("x.png", png.tobytes())}, data={"strength": "0"})
    out = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_UNCHANGED)
    assert r.status_code == 200 and out.dtype == np.uint16 and np.array_equal(out, p16)  # strength 0: the input


def bad_uploads(photo):
    ok, png = cv2.imencode(".png", np.tile(photo, (4, 4, 1)))
    bomb = bytearray(png.tobytes())
    bomb[16:24] = (60000).to_bytes(4, "big") * 2
    return {
        "text": (("t.png", b"hello, not an image"), 400, "not a readable image"),
        "empty": (("e.png", b""), 400, "empty"),
        "truncated": (("t.png", png.tobytes()[:300]), 400, ""),
        "bomb": (("b.png", bytes(bomb)), 413, "too large"),
        "oversize": (("big.png", b"\x89PNG" + b"0" * (1 << 20)), 413, "limit"),
    }


def test_bad_uploads_get_json_4xx(client, photo):
    for label, (upload, status, words) in bad_uploads(photo).items():
        r = client.post("/api/denoise", files={"image": upload})
        assert r.status_code == status, (label, r.status_code, r.text)
        assert words in r.json()["error"], (label, r.json())
    ok, png = cv2.imencode(".png", photo)
    cases = [
        ({"data": {"image": "just text"}}, "multipart file field 'image'"),
        ({"files": {"image": ("a.png", png.tobytes())}, "data": {"model": "../../etc/passwd"}}, "unknown model"),
        ({"files": {"image": ("a.png", png.tobytes())}, "data": {"strength": "2"}}, "strength"),
        ({"files": {"image": ("a.png", png.tobytes())}, "data": {"strength": "lots"}}, "strength"),
        ({"files": {"image": ("a.png", png.tobytes())}, "data": {"job": "../x"}}, "job"),
        ({"files": {"image": ("a.png", png.tobytes())}, "data": {"ensemble": "3"}}, "ensemble"),
        ({"files": {"image": ("a.png", png.tobytes())}, "data": {"ensemble": "many"}}, "ensemble"),
    ]
    for kw, words in cases:
        r = client.post("/api/denoise", **kw)
        assert r.status_code == 400 and words in r.json()["error"], (kw.get("data"), r.text)
    assert client.get("/nowhere").json()["error"] and client.get("/api/denoise").status_code == 405


def test_a_full_queue_answers_503_with_retry_after(tmp_path, tiny_weights, photo, monkeypatch):
    pool = ModelPool(str(tiny_weights))
    den = pool.get(None)
    real = den.runner

    def slow(x):
        time.sleep(1.0)
        return real(x)

    monkeypatch.setattr(den, "runner", slow)
    client = TestClient(create_app(pool, queue=1))
    ok, png = cv2.imencode(".png", photo)
    first = {}
    t = threading.Thread(
        target=lambda: first.update(r=client.post("/api/denoise", files={"image": ("a.png", png.tobytes())}))
    )
    t.start()
    deadline = time.time() + 5
    while client.get("/healthz").json()["waiting"] == 0 and time.time() < deadline:
        time.sleep(0.02)
    r = client.post("/api/denoise", files={"image": ("b.png", png.tobytes())})
    t.join()
    assert r.status_code == 503 and r.headers["retry-after"] == "2" and "busy" in r.json()["error"]
    assert first["r"].status_code == 200


def test_progress_of_a_job(client, photo):
    ok, png = cv2.imencode(".png", photo)
    assert (
        client.post("/api/denoise", files={"image": ("a.png", png.tobytes())}, data={"job": "abc123"}).status_code
        == 200
    )
    assert client.get("/api/progress/abc123").json() == {"state": "done", "done": 1, "total": 1}
    data = {"job": "x8", "ensemble": "8"}  # eight views of the image: eight network runs
    assert client.post("/api/denoise", files={"image": ("a.png", png.tobytes())}, data=data).status_code == 200
    assert client.get("/api/progress/x8").json() == {"state": "done", "done": 8, "total": 8}
    assert client.get("/api/progress/zzz").json() == {"state": "unknown"}


def test_a_burst_upload_answers_what_n2n_burst_writes(tmp_path, client, tiny_weights):
    from synthetic_bursts import make_burst

    from noise2noise.images import to_uint8

    rng = np.random.default_rng(3)
    scene = cv2.GaussianBlur(rng.uniform(0.3, 0.7, (224, 256, 3)).astype(np.float32), (0, 0), 4)
    for _ in range(8):  # edges to align on
        y, x = rng.integers(0, 180, 2)
        cv2.rectangle(scene, (int(x), int(y)), (int(x) + 40, int(y) + 30), tuple(rng.uniform(0, 1, 3).tolist()), -1)
    b = make_burst(scene, 3, gain=8, seed=1)
    files = []
    for k, f in enumerate(b.frames):
        cv2.imwrite(str(tmp_path / f"f{k}.png"), cv2.cvtColor(to_uint8(f), cv2.COLOR_RGB2BGR))
        files.append(("frames", (f"f{k}.png", (tmp_path / f"f{k}.png").read_bytes())))
    r = client.post("/api/burst", files=files, data={"steps": "0"})
    assert r.status_code == 200, r.text
    assert r.headers["X-N2N-Frames-Used"] == "3" and r.headers["X-N2N-Model"] == tiny_weights.stem
    out = tmp_path / "merged.png"
    assert (
        main(["burst", str(tmp_path), "-o", str(out), "--weights", str(tiny_weights), "--steps", "0", "--quiet"]) == 0
    )
    assert r.content == out.read_bytes()
    one = client.post("/api/burst", files=files[:1])
    assert one.status_code == 400 and "two or more" in one.json()["error"]
    assert client.post("/api/burst", files=files, data={"steps": "-3"}).status_code == 400


def test_a_burst_over_the_pixel_budget_of_a_request_is_refused_before_decoding(tmp_path, tiny_weights, photo):
    small = TestClient(create_app(ModelPool(str(tiny_weights)), max_upload=1 << 20, queue=1, burst_pixels=5000))
    ok, png = cv2.imencode(".png", photo)  # 40x48 = 1,920 pixels each: three frames are 5,760
    files = [("frames", (f"f{k}.png", png.tobytes())) for k in range(3)]
    r = small.post("/api/burst", files=files, data={"steps": "0"})
    assert r.status_code == 413 and "0.005 megapixels per burst" in r.json()["error"], r.text
    assert small.post("/api/burst", files=files[:2], data={"steps": "0"}).status_code != 413
