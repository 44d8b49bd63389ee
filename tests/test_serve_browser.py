"""The page in a real browser (headless Chromium): upload a Kodak image, wait, download, and get
exactly what `n2n denoise` writes for the same file."""

import cv2
import numpy as np
import pytest

pytest.importorskip("selenium")
pytest.importorskip("uvicorn")
from conftest import DATA
from noise2noise.cli import main
from noise2noise.serve.app import create_app
from noise2noise.serve.models import ModelPool
from serve_browser import CHROMIUM, DRIVER, browser, denoise_in_page, start_server

pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver")


@pytest.mark.slow
@pytest.mark.shared("data/test/Kodak24/kodim23.png")
def test_the_page_denoises_a_kodak_image_like_n2n_denoise(tmp_path):
    src = DATA / "test" / "Kodak24" / "kodim23.png"
    noisy = cv2.imread(str(src)).astype(np.float32) + np.random.default_rng(0).normal(0, 25, (512, 768, 3))
    cv2.imwrite(str(tmp_path / "kodim23.png"), np.clip(noisy, 0, 255).astype(np.uint8))
    assert main(["denoise", str(tmp_path / "kodim23.png"), "-o", str(tmp_path / "out"), "--quiet"]) == 0
    url, server = start_server(create_app(ModelPool()))
    driver = browser()
    try:
        got = denoise_in_page(driver, url, str(tmp_path / "kodim23.png"))
        info = driver.find_element("id", "info").text
    finally:
        driver.quit()
        server.should_exit = True
    assert "auto chose n2n-gaussian: white noise" in info  # the page says which model ran, and why
    expected = cv2.imread(str(tmp_path / "out" / "kodim23.png"))
    assert np.array_equal(cv2.imdecode(np.frombuffer(got, np.uint8), cv2.IMREAD_COLOR), expected)
    assert got == (tmp_path / "out" / "kodim23.png").read_bytes()


@pytest.mark.slow
@pytest.mark.shared("data/test/Kodak24/kodim05.png")
def test_the_quality_menu_runs_the_ensemble_of_n2n_denoise(tmp_path):
    src = DATA / "test" / "Kodak24" / "kodim05.png"
    clean = cv2.imread(str(src))[:192, :256]
    noisy = clean.astype(np.float32) + np.random.default_rng(1).normal(0, 25, clean.shape)
    cv2.imwrite(str(tmp_path / "k5.png"), np.clip(noisy, 0, 255).astype(np.uint8))
    out = tmp_path / "out"
    assert main(["denoise", str(tmp_path / "k5.png"), "-o", str(out), "--ensemble", "4", "--quiet"]) == 0
    url, server = start_server(create_app(ModelPool()))
    driver = browser()
    try:
        got = denoise_in_page(driver, url, str(tmp_path / "k5.png"), quality="4")
        info = driver.find_element("id", "info").text
    finally:
        driver.quit()
        server.should_exit = True
    assert got == (out / "k5.png").read_bytes() and "x4 views" in info
    assert main(["denoise", str(tmp_path / "k5.png"), "-o", str(tmp_path / "x1"), "--quiet"]) == 0
    assert got != (tmp_path / "x1" / "k5.png").read_bytes()  # the menu changed the result
