"""Screenshots of a running dashboard's pages at control-room sizes, in headless Chromium.

    python3 scripts/look.py --url http://127.0.0.1:8050 --user operator --password ... \\
        --page / --size 1920x1080 --size 3840x2160 --out docs/screenshots

Signs in through the real form, opens each page at each size and saves <page>-<width>.png once the page's
live parts have drawn. Needs Debian's `chromium` and `chromedriver` (as the browser tests do).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import chromium, sign_in  # noqa: E402

SETTLE_SECONDS = 4.0  # two refresh ticks: the map, the tiles and the alerts have all drawn


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
        driver = chromium(width, height)
        try:
            sign_in(driver, url, args.user, args.password)
            for page in args.page or ["/"]:
                driver.get(url + page)
                time.sleep(SETTLE_SECONDS)
                # a path with a query ("/alerts?alert=A000001") makes a plain file name
                name = (re.sub(r"[^A-Za-z0-9]+", "-", page).strip("-") or "control-room") + f"-{width}{args.suffix}.png"
                driver.save_screenshot(str(args.out / name))
                print(args.out / name)
        finally:
            driver.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
