"""Screenshots of a running dashboard's pages at control-room sizes, in headless Chromium.

    python3 scripts/look.py --url http://127.0.0.1:8050 --user operator --password ... \\
        --page / --size 1920x1080 --size 3840x2160 --out docs/screenshots

Signs in through the real form, opens each page at each size and saves <page>-<width>.png once the page's
live parts have drawn. Needs Debian's `chromium` and `chromedriver` (as the browser tests do).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

SETTLE_SECONDS = 4.0  # two refresh ticks: the map, the tiles and the alerts have all drawn
# Debian's packages: the driver matches the browser, and nothing is downloaded
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def browser(width: int, height: int) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 f"--window-size={width},{height}", "--hide-scrollbars"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    # the window size includes the browser's own chrome in headless mode; the viewport is what a screen shows
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    return driver


def sign_in(driver: webdriver.Chrome, url: str, user: str, password: str) -> None:
    driver.get(url + "/login")
    driver.find_element(By.NAME, "username").send_keys(user)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form.ioc-signin-form button[type=submit]").click()
    deadline = time.monotonic() + 20
    while "/login" in driver.current_url:
        if time.monotonic() > deadline:
            raise SystemExit(f"error: {user} could not sign in at {url}")
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8050")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--page", action="append", default=[], help="a path; repeat for several (default /)")
    parser.add_argument("--size", action="append", default=[], help="WIDTHxHEIGHT; repeat (default 1920x1080)")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--suffix", default="", help="added to each file name")
    args = parser.parse_args(argv)
    url = args.url.rstrip("/")
    args.out.mkdir(parents=True, exist_ok=True)
    for size in args.size or ["1920x1080"]:
        width, height = (int(part) for part in size.lower().split("x"))
        driver = browser(width, height)
        try:
            sign_in(driver, url, args.user, args.password)
            for page in args.page or ["/"]:
                driver.get(url + page)
                time.sleep(SETTLE_SECONDS)
                name = (page.strip("/").replace("/", "-") or "control-room") + f"-{width}{args.suffix}.png"
                driver.save_screenshot(str(args.out / name))
                print(args.out / name)
        finally:
            driver.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
