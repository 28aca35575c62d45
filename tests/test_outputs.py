"""Outputs: written atomically, never over an input; faults, full disks, pipes and signals end in one line."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from leadlang import outputs
from leadlang.cli import main
from leadlang.data.sample import scaled
from leadlang.diagnostics import DataError

ROOT = Path(__file__).parent.parent
PLG = ROOT / "policies" / "plg"
AS_OF = "2024-06-01"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def cli(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "leadlang", *map(str, args)], env=ENV, capture_output=True, text=True, **kwargs)


@pytest.fixture
def plg(tmp_path) -> Path:
    """A copy of the plg policy and its data, free to be (not) overwritten."""
    shutil.copytree(PLG, tmp_path / "plg", ignore=shutil.ignore_patterns("README.md", "generate.py"))
    return tmp_path / "plg"


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if ".tmp" in p.name]


# -- never over an input -------------------------------------------------------------------------

def _overwrites(p: Path) -> list[tuple]:
    lead, data = p / "plg.lead", p / "data"
    score = ("score", lead, "--data", data, "--as-of", AS_OF)
    back = ("backtest", lead, "--data", data, "--outcomes", data / "outcomes.csv", "--as-of", AS_OF)
    return [
        (*score, "-o", data / "leads.csv"),
        (*score, "--engine", "python", "-o", data / "leads.csv"),
        (*score, "-o", p / "out.csv", "--explain", data / "product.csv"),
        ("compile", lead, "--dialect", "duckdb", "-o", lead),
        ("test", lead, "-o", lead),
        ("test", lead, "--format", "junit", "-o", lead),
        (*back, "--report", data / "outcomes.csv"),
        (*back, "--report", lead),
        ("diff", lead, lead, "--data", data, "--as-of", AS_OF, "-o", lead),
        ("diff", lead, lead, "--data", data, "--as-of", AS_OF, "-o", data / "marketing.csv"),
    ]


@pytest.mark.parametrize("case", range(10))
def test_no_command_writes_over_its_inputs(plg, case):
    args = _overwrites(plg)[case]
    before = _snapshot(plg)
    r = run(*args)
    target = args[-1]
    assert r.exit_code == 2, r.output
    assert r.stderr.strip().splitlines() == [f"error: {target}: is an input of this command; write the output to another file"]
    assert _snapshot(plg) == before


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_links_to_an_input_are_refused(plg, tmp_path, link):
    alias = tmp_path / "alias.csv"
    (os.symlink if link == "symlink" else os.link)(plg / "data" / "leads.csv", alias)
    before = _snapshot(plg)
    r = run("score", plg / "plg.lead", "--data", plg / "data", "--as-of", AS_OF, "-o", alias)
    assert r.exit_code == 2
    assert f"error: {alias}: is an input of this command (the same file as the input {plg / 'data' / 'leads.csv'})" in r.stderr
    assert _snapshot(plg) == before


def test_a_used_file_is_an_input(tmp_path):
    (tmp_path / "shared").mkdir()
    used = tmp_path / "shared" / "base.lead"
    used.write_text('leads from ref("stg_leads") key lead_id {\n  email string\n}\nsignal dom = domain(email)\n')
    main = tmp_path / "main.lead"
    main.write_text('policy p "P"\nuse "shared/base.lead"\nscore fit {\n  free: -10 when dom = "gmail.com"\n}\n')
    before = used.read_bytes()
    for args in [("compile", main, "--dialect", "duckdb", "-o", used), ("test", main, "-o", used)]:
        r = run(*args)
        assert r.exit_code == 2 and f"error: {used}: is an input of this command" in r.stderr, r.output
    assert used.read_bytes() == before


def test_two_outputs_of_one_command_must_differ(plg):
    out = plg / "x.csv"
    r = run("score", plg / "plg.lead", "--data", plg / "data", "--as-of", AS_OF, "-o", out, "--explain", out)
    assert r.exit_code == 2 and f"error: {out}: is also the other output ({out})" in r.stderr
    assert not out.exists()


def test_an_output_elsewhere_in_the_data_directory_is_fine(plg):
    r = run("score", plg / "plg.lead", "--data", plg / "data", "--as-of", AS_OF, "-o", plg / "data" / "scored.csv")
    assert r.exit_code == 0 and len((plg / "data" / "scored.csv").read_text().splitlines()) == 2001


# -- atomic --------------------------------------------------------------------------------------

def test_atomic_replaces_whole_or_not_at_all(tmp_path):
    target = tmp_path / "t.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with outputs.atomic_open(target) as f:
            f.write("new, partial")
            raise RuntimeError("stop")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["t.txt"]
    outputs.write_text(target, "new")
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["t.txt"]


def test_atomic_writes_through_a_symbolic_link(tmp_path):
    (tmp_path / "real.txt").write_text("old")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    outputs.write_text(tmp_path / "link.txt", "new")
    assert (tmp_path / "link.txt").is_symlink() and (tmp_path / "real.txt").read_text() == "new"


def test_atomic_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    target = tmp_path / "t.txt"
    target.write_text("old")
    target.chmod(0o640)
    outputs.write_text(target, "new")
    assert target.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_a_failed_write_leaves_the_old_file(plg, monkeypatch, suffix, engine):
    out = plg / f"out{suffix}"
    out.write_bytes(b"previous")

    def full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    r = run("score", plg / "plg.lead", "--data", plg / "data", "--as-of", AS_OF, "--engine", engine, "-o", out)
    assert r.exit_code == 2
    assert r.stderr.strip().splitlines() == [f"error: {out}: cannot write: No space left on device"]
    assert out.read_bytes() == b"previous" and not _leftovers(plg)


@pytest.mark.parametrize("where", ["missing", "file"])
def test_unwritable_targets(plg, where):
    parent = plg / "nope" if where == "missing" else plg / "plg.lead"
    reason = "No such file or directory" if where == "missing" else "Not a directory"
    lead = plg / "plg.lead"
    for args in [("score", lead, "--data", plg / "data", "--as-of", AS_OF, "-o", parent / "o.csv"),
                 ("score", lead, "--data", plg / "data", "--as-of", AS_OF, "-o", parent / "o.parquet"),
                 ("compile", lead, "--dialect", "duckdb", "-o", parent / "o.sql"),
                 ("test", lead, "-o", parent / "o.xml"),
                 ("diff", lead, lead, "--data", plg / "data", "--as-of", AS_OF, "-o", parent / "o.txt"),
                 ("backtest", lead, "--data", plg / "data", "--outcomes", plg / "data/outcomes.csv", "--as-of", AS_OF, "--report", parent / "r.html")]:
        r = run(*args)
        assert r.exit_code == 2, args
        assert r.stderr.strip().splitlines() == [f"error: {args[-1]}: cannot write: {reason}"], args


# -- faults: unreadable files, full disks, closed pipes ------------------------------------------

@pytest.mark.parametrize("command", ["score-duckdb", "score-python", "explain", "diff", "backtest"])
def test_an_unreadable_data_file_is_one_line(plg, monkeypatch, command):
    import builtins

    denied = plg / "data" / "leads.csv"
    real_open = builtins.open

    def guarded(file, *a, **k):  # tests run as root, where chmod 000 denies nothing
        if str(file) == str(denied):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *a, **k)

    monkeypatch.setattr(builtins, "open", guarded)
    lead, data = plg / "plg.lead", plg / "data"
    args = {"score-duckdb": ("score", lead, "--data", data, "--as-of", AS_OF),
            "score-python": ("score", lead, "--data", data, "--as-of", AS_OF, "--engine", "python"),
            "explain": ("explain", lead, "--data", data, "--lead", "L00001", "--as-of", AS_OF),
            "diff": ("diff", lead, lead, "--data", data, "--as-of", AS_OF),
            "backtest": ("backtest", lead, "--data", data, "--outcomes", data / "outcomes.csv", "--as-of", AS_OF)}[command]
    r = run(*args)
    assert r.exit_code == 2
    assert r.stderr.strip().splitlines() == [f"error: {denied}: Permission denied"]


def _stdout_commands(p: Path) -> list[list]:
    lead, data = p / "plg.lead", p / "data"
    return [
        ["check", "--format", "json", lead],
        ["check", lead],
        ["lint", lead],
        ["lint", "--format", "sarif", lead],
        ["explain", lead, "--data", data, "--lead", "L00001", "--as-of", AS_OF],
        ["backtest", lead, "--data", data, "--outcomes", data / "outcomes.csv", "--as-of", AS_OF],
        ["diff", lead, lead, "--data", data, "--as-of", AS_OF],
        ["test", lead],
        ["compile", lead, "--dialect", "duckdb"],
        ["score", lead, "--data", data, "--as-of", AS_OF],
        ["score", lead, "--data", data, "--as-of", AS_OF, "--engine", "python"],
    ]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_standard_output_to_a_full_disk(plg):
    for args in [*_stdout_commands(plg), ["fmt", "-"]]:
        with open("/dev/full", "w") as full, open(plg / "plg.lead") as stdin:
            r = subprocess.run([sys.executable, "-m", "leadlang", *map(str, args)], env=ENV, stdout=full, stdin=stdin,
                               stderr=subprocess.PIPE, text=True)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.strip().splitlines() == ["error: <stdout>: cannot write: No space left on device"], args


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_output_files_on_a_full_disk(plg):
    lead = plg / "plg.lead"
    for args in [("compile", lead, "--dialect", "duckdb", "-o", "/dev/full"), ("test", lead, "-o", "/dev/full"),
                 ("diff", lead, lead, "--data", plg / "data", "--as-of", AS_OF, "-o", "/dev/full")]:
        r = cli(*args)
        assert r.returncode == 2 and r.stderr.strip().splitlines() == ["error: /dev/full: cannot write: No space left on device"], args
    assert Path("/dev/full").is_char_device()


def test_a_closed_pipe_is_silent(plg):
    for args in _stdout_commands(plg)[4:]:
        p = subprocess.Popen([sys.executable, "-m", "leadlang", *map(str, args)], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        p.stdout.readline()
        p.stdout.close()  # `| head -1`
        err = p.stderr.read().decode()
        assert p.wait() == 0 and "Traceback" not in err and "Errno" not in err, (args, err)


# -- Ctrl-C and SIGTERM --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    return scaled(PLG / "data", tmp_path_factory.mktemp("big") / "data", 6)  # enough work for a signal to land mid-run


def _wait_for_handlers(p: subprocess.Popen) -> None:
    """Until leadlang has installed its SIGTERM handler (Python's own start-up is not leadlang's to clean up)."""
    status = Path(f"/proc/{p.pid}/status")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and p.poll() is None:
        caught = next((line.split()[1] for line in status.read_text().splitlines() if line.startswith("SigCgt:")), "0")
        if int(caught, 16) & (1 << (signal.SIGTERM - 1)):
            return
        time.sleep(0.01)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the caught signals from /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_a_signal_leaves_the_old_output_or_none(tmp_path, big, sig, engine):
    out = tmp_path / "out.csv"
    previous = b"lead_id\nprevious-complete-run\n"
    for delay in (0.0, 0.5, 1.5, 3.0):  # loading, the query, writing (depending on the machine)
        if delay > 1:
            out.write_bytes(previous)
        p = subprocess.Popen([sys.executable, "-m", "leadlang", "score", PLG / "plg.lead", "--data", big, "--as-of", AS_OF,
                              "--engine", engine, "-o", out], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_for_handlers(p)
        time.sleep(delay)
        p.send_signal(sig)
        _, err = p.communicate(timeout=120)
        if p.returncode in (0, -sig):  # finished first (a signal during Python's shutdown kills it): the file is complete
            assert out.exists() and len(out.read_text().splitlines()) == 1 + 6 * 2000, (p.returncode, err)
            assert not _leftovers(tmp_path)
            out.unlink(missing_ok=True)
            continue
        assert p.returncode == 128 + sig, err
        assert err.strip().splitlines() == ["interrupted"]
        assert (out.read_bytes() == previous) if delay > 1 else not out.exists()
        assert not _leftovers(tmp_path)
        out.unlink(missing_ok=True)


def test_concurrent_writers_leave_one_complete_output(tmp_path, big):
    out = tmp_path / "out.csv"
    days = ["2024-06-01", "2024-05-01"]
    expected = []
    for day in days:
        r = cli("score", PLG / "plg.lead", "--data", big, "--as-of", day, "-o", tmp_path / f"{day}.csv")
        assert r.returncode == 0, r.stderr
        expected.append((tmp_path / f"{day}.csv").read_bytes())
    procs = [subprocess.Popen([sys.executable, "-m", "leadlang", "score", PLG / "plg.lead", "--data", big, "--as-of", day, "-o", out],
                              env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for day in days]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    assert out.read_bytes() in expected
    assert not _leftovers(tmp_path)


def test_interrupt_in_process_is_exit_130(plg, monkeypatch):
    import leadlang.engine

    def stop(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(leadlang.engine, "_fetch", stop)
    monkeypatch.setattr(leadlang.engine, "_stream_lines", stop)  # CSV to standard output streams DuckDB's lines
    r = run("score", plg / "plg.lead", "--data", plg / "data", "--as-of", AS_OF)
    assert r.exit_code == 130 and r.stderr.strip() == "interrupted"


def test_refuse_names_both_files(tmp_path):
    a = tmp_path / "a.csv"
    a.write_text("x")
    outputs.reset()
    outputs.protect([a])
    try:
        with pytest.raises(DataError, match=f"{a}: is an input of this command"):
            outputs.write_text(a, "y")
    finally:
        outputs.reset()
    assert a.read_text() == "x"


def test_duckdb_reports_of_an_interrupted_query_become_the_interrupt():
    import duckdb

    from leadlang import interrupt

    for err in (RuntimeError("Query interrupted"), duckdb.InterruptException("INTERRUPT Error: Interrupted!")):
        with pytest.raises(KeyboardInterrupt):
            interrupt.reraise(err)
    # a data error that merely mentions the word is still a data error
    interrupt.reraise(duckdb.ConversionException("Could not convert string 'Query interrupted' to INT32"))
