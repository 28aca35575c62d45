"""The screenshot of docs/editors.md: the PLG example as VS Code's TextMate engine tokenizes it, coloured as
VS Code's Dark Modern theme colours those scopes (editors/vscode/test/render.js), shot by /usr/bin/chromium.
Needs node with editors/vscode's dev dependencies (`npm ci` there) and Pillow.

    python docs/img/editors_screenshots.py
"""

import subprocess
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
IMG = ROOT / "docs" / "img"
SHOTS = {  # file -> (policy, first line, last line, width)
    "editors-highlighting.png": ("policies/plg/plg.lead", 30, 87, 860),
}

with tempfile.TemporaryDirectory() as tmp:
    for name, (policy, first, last, width) in SHOTS.items():
        page, shot = Path(tmp) / "page.html", Path(tmp) / "shot.png"
        html = subprocess.run(["node", "editors/vscode/test/render.js", policy, str(first), str(last)],
                              cwd=ROOT, check=True, capture_output=True, text=True).stdout
        page.write_text(html, encoding="utf-8")
        height = (last - first + 1) * 20 + 24
        subprocess.run(["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--screenshot={shot}", f"--window-size={width},{height}", page.as_uri()],
                       check=True, capture_output=True)
        Image.open(shot).convert("RGB").quantize(colors=64).save(IMG / name, optimize=True)
        print(IMG / name)
