"""`leadlang check --watch` and `leadlang test --watch`: run, then again on each save, until Ctrl-C."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PLG = ROOT / "policies" / "plg" / "plg.lead"
WAIT = 120  # seconds to wait for an expected line on a loaded machine: a hang fails, nothing is timed


class Watcher:
    """`leadlang ARGS --watch` in a subprocess, its output lines read by a thread as they come."""

    def __init__(self, cwd: Path, *args: str):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "leadlang", *args, "--watch"], cwd=cwd, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(line) for line in self.proc.stdout], daemon=True).start()

    def until(self, text: str) -> list[str]:
        """The lines up to the first that contains `text` (fails after WAIT seconds)."""
        seen = []
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            seen.append(line)
            if text in line:
                return seen
        pytest.fail(f"no line with {text!r} within {WAIT} s; got {seen}")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=WAIT)


@pytest.fixture
def policy(tmp_path):
    shutil.copy(PLG, tmp_path / "plg.lead")
    return tmp_path / "plg.lead"


def _save(path: Path, text: str) -> None:
    time.sleep(0.5)  # past the watcher's start, so the change is an event
    path.write_text(text, encoding="utf-8")


def test_check_runs_again_on_each_save(policy):
    w = Watcher(policy.parent, "check", "plg.lead")
    try:
        assert any("1 policy checked, no errors" in line for line in w.until("[exit 0] watching"))
        good = policy.read_text(encoding="utf-8")
        _save(policy, good + "\nsignal broken = employes + 1\n")  # a misspelled field
        broken = w.until("[exit 1] watching")
        assert any("error[E2" in line for line in broken) and any("1 error in 1 policy" in line for line in broken)
        _save(policy, good)
        assert any("no errors" in line for line in w.until("[exit 0] watching"))
    finally:
        code = w.stop()
    assert code == 130


def test_test_runs_again_on_each_save(policy):
    w = Watcher(policy.parent, "test", "plg.lead", "-k", "competitor")
    try:
        assert any("1 passed, 0 failed, 5 deselected" in line for line in w.until("[exit 0] watching"))
        _save(policy, policy.read_text(encoding="utf-8").replace("expect engagement = 33.61", "expect engagement = 33.62", 1))
        assert any("0 passed, 1 failed" in line for line in w.until("[exit 1] watching"))
    finally:
        assert w.stop() == 130
