"""Every committed example data set (`policies/*/data`) is what its seeded generators write, byte for
byte: `policies/<name>/generate.py`, then `policies/make_outcomes.py` for the examples with outcomes."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
GENERATORS = sorted(ROOT.glob("policies/*/generate.py"))
MAKE_OUTCOMES = ROOT / "policies" / "make_outcomes.py"


@pytest.mark.parametrize("script", GENERATORS, ids=lambda p: p.parent.name)
def test_regenerating_reproduces_the_committed_data(script, tmp_path, capsys):
    example, data = script.parent.name, tmp_path / "data"
    runpy.run_path(str(script))["main"](str(data))  # a fresh module: the generator's seed from the start
    outcomes = runpy.run_path(str(MAKE_OUTCOMES))
    if example in outcomes["POLICIES"]:
        model, size_field = outcomes["POLICIES"][example]
        outcomes["write"](example, model(tmp_path), size_field, data)  # reads tmp_path/data, as it reads the example's
    committed = script.parent / "data"
    written = sorted(p.name for p in data.iterdir())
    assert written == sorted(p.name for p in committed.iterdir()), "the generators write every data file"
    for name in written:
        assert (data / name).read_bytes() == (committed / name).read_bytes(), f"{example}/data/{name} differs from what its generator writes"
