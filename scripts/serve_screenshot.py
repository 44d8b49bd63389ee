"""The README's picture of the page: `n2n serve`'s page in headless Chromium after denoising a noisy
Kodak image (sigma 25), with the before/after slider at its middle.

    python scripts/serve_screenshot.py docs/figures/serve.png
"""

import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from noise2noise.serve.app import create_app  # noqa: E402
from noise2noise.serve.models import ModelPool  # noqa: E402
from serve_browser import browser, denoise_in_page, start_server  # noqa: E402

out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/figures/serve.png")
src = Path(__file__).resolve().parents[2] / "shared" / "data" / "test" / "Kodak24" / "kodim05.png"
clean = cv2.imread(str(src))
noisy = np.clip(clean + np.random.default_rng(0).normal(0, 25, clean.shape), 0, 255).astype(np.uint8)
with tempfile.TemporaryDirectory() as d:
    cv2.imwrite(str(Path(d) / "kodim05-noisy.png"), noisy)
    url, server = start_server(create_app(ModelPool()))
    driver = browser(1280, 960)
    try:
        denoise_in_page(driver, url, str(Path(d) / "kodim05-noisy.png"))
        driver.execute_script("document.getElementById('stage').scrollTo(120, 80)")
        driver.save_screenshot(str(out))
    finally:
        driver.quit()
        server.should_exit = True
print(f"wrote {out}")
