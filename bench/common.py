"""What the benchmarks share: their Redis (IOC_BENCH_REDIS_URL, else a private redis-server), one core for
"per core" figures, the dashboard served in a thread, and a headless Chromium at a given viewport, signed in
through the real form."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import threading
import time
from typing import Any

from ioc.redis_conn import start_redis_server

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
BENCH_USER = "bench"  # the account the browser benchmarks sign in with


def bench_redis() -> tuple[str, subprocess.Popen[bytes] | None]:
    """The Redis to measure on: IOC_BENCH_REDIS_URL, else a private redis-server (returned, to stop after)."""
    url = os.environ.get("IOC_BENCH_REDIS_URL")
    if url:
        return url, None
    binary = shutil.which("redis-server")
    if not binary:
        raise SystemExit("error: needs redis-server on PATH or IOC_BENCH_REDIS_URL")
    process, url = start_redis_server(binary)
    return url, process


def stop(process: subprocess.Popen[bytes] | None) -> None:
    """Stop a server the benchmark started (nothing when it used IOC_BENCH_REDIS_URL)."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def one_core() -> None:
    """Pin this process (not the servers it started) to one core: figures "on one core"."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def chromium(width: int = 1920, height: int = 1080, profile: str | None = None) -> Any:
    """Debian's headless Chromium and its matching driver (nothing downloaded), the viewport exactly
    `width` x `height` (the window size would include the browser's own chrome)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-dev-shm-usage", f"--window-size={width},{height}", "--hide-scrollbars"]
    if profile:
        flags.append(f"--user-data-dir={profile}")
    for flag in flags:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    return driver


def sign_in(driver: Any, base: str, name: str, password: str, timeout: float = 20) -> None:
    """Sign in through the real form and wait to be let in."""
    from selenium.webdriver.common.by import By

    driver.get(base + "/login")
    driver.find_element(By.NAME, "username").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form.ioc-signin-form button[type=submit]").click()
    deadline = time.monotonic() + timeout
    while "/login" in driver.current_url:
        if time.monotonic() > deadline:
            raise SystemExit(f"error: {name} could not sign in at {base}")
        time.sleep(0.1)


def serve_dashboard(store: Any, settings: Any) -> tuple[str, Any, str]:
    """The dashboard on `store`, served in a thread on a free loopback port, with an operator account of its
    own: (base URL, the server to shut down, the operator's password)."""
    from werkzeug.serving import make_server

    from layouts.app import create_app

    app = create_app(store, settings, redis_kind="server", cookie_secure=False)
    password = secrets.token_urlsafe(16)
    app.server.extensions["ioc_security"].users.add(BENCH_USER, "operator", password, actor="bench")
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server, password
