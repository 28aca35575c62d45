"""Screenshots of the example back-test report for docs/backtest.md (needs playwright and /usr/bin/chromium).

    python docs/img/backtest_screenshots.py
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
IMG = ROOT / "docs" / "img"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = {  # file -> element ids of the report, shot together
    "backtest-matrix.png": ["p1-summary", "p1-matrix-segment"],
    "backtest-segment.png": ["p1-group-segment"],
    "backtest-engagement.png": ["p1-charts-engagement", "p1-deciles-engagement"],
}

with tempfile.TemporaryDirectory() as tmp:
    report = Path(tmp) / "plg.html"
    subprocess.run([sys.executable, "-m", "leadlang", "backtest", "policies/plg/plg.lead", "--data", "policies/plg/data",
                    "--outcomes", "policies/plg/data/outcomes.csv", "--as-of", "2024-06-01", "--report", str(report)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1240, "height": 900}, device_scale_factor=1)
        page.goto(report.as_uri())
        for name, ids in SHOTS.items():
            boxes = [page.locator(f"#{i}").bounding_box() for i in ids]
            top, bottom = min(b["y"] for b in boxes), max(b["y"] + b["height"] for b in boxes)
            left, right = min(b["x"] for b in boxes), max(b["x"] + b["width"] for b in boxes)
            clip = {"x": left - 8, "y": top - 8, "width": right - left + 16, "height": bottom - top + 16}
            page.screenshot(path=str(IMG / name), clip=clip, full_page=True)
            print(IMG / name)
        browser.close()
