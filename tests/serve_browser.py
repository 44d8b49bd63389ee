"""Helpers for driving the page in headless Chromium (Debian's chromium + chromium-driver)."""

from __future__ import annotations

import base64
import shutil
import socket
import threading
import time

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(app) -> tuple[str, object]:
    """Run ``app`` under uvicorn on a free local port in a thread; returns (url, server)."""
    import httpx
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return url, server
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("the server did not start")


def browser(width: int = 1280, height: int = 900):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},{height}"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(DRIVER), options=opts)


def denoise_in_page(driver, url: str, path: str, timeout: float = 120, quality: str | None = None) -> bytes:
    """Open the page, pick ``path`` (with the quality menu set to the value ``quality`` when given),
    wait for the result and return the bytes the Download link holds."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return document.getElementById('model').options.length")
    )
    if quality is not None:
        from selenium.webdriver.support.ui import Select

        Select(driver.find_element(By.ID, "ensemble")).select_by_value(quality)
    driver.find_element(By.ID, "file").send_keys(path)
    WebDriverWait(driver, timeout).until(
        lambda d: (
            d.find_element(By.ID, "download").get_attribute("aria-disabled") is None
            or "Could not" in d.find_element(By.ID, "status").text
        )
    )
    status = driver.find_element(By.ID, "status").text
    assert "Could not" not in status, status
    script = """
        const done = arguments[arguments.length - 1];
        fetch(document.getElementById("download").href).then((r) => r.arrayBuffer()).then((b) => {
          const u = new Uint8Array(b); let s = "";
          for (let i = 0; i < u.length; i += 8192) s += String.fromCharCode.apply(null, u.subarray(i, i + 8192));
          done(btoa(s));
        });"""
    return base64.b64decode(driver.execute_async_script(script))
