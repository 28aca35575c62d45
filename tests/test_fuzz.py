"""The standing fuzz job: mutated policies and data files against check, fmt, lint, compile and score.

The mutators and properties are in `fuzz.py` (and docs/fuzz.md). Hypothesis draws the case seeds, so
CI (CI=true, the derandomized "ci" profile) runs the same cases every time; locally each run draws new
ones. More cases: `FUZZ_EXAMPLES=2000 pytest tests/test_fuzz.py`, or `python -m tests.fuzz --minutes 30`.
Every saved reproducer under tests/fuzz_corpus/ is replayed on every run.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzz

POLICY_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "80"))
DATA_EXAMPLES = int(os.environ.get("FUZZ_DATA_EXAMPLES", os.environ.get("FUZZ_EXAMPLES", "40")))
SEEDS = st.integers(min_value=0, max_value=2 ** 32 - 1)


@pytest.fixture(scope="module")
def fuzzer(tmp_path_factory):
    return fuzz.Fuzzer(tmp_path_factory.mktemp("fuzz"))


def _assert_clean(problems: list[str], case: str) -> None:
    for p in problems:
        category = fuzz.known(p)
        if category:
            warnings.warn(f"{case}: known problem ({category}): {p.splitlines()[0]}", stacklevel=2)
    real = [p for p in problems if not fuzz.known(p)]
    assert not real, f"{case} (reproduce: python -m tests.fuzz --replay {case}):\n" + "\n".join(real)


@settings(max_examples=POLICY_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=SEEDS)
def test_mutated_policies(fuzzer, seed):
    _assert_clean(fuzzer.run("policy", seed), f"policy:{seed}")


@settings(max_examples=DATA_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=SEEDS)
def test_mutated_data_files(fuzzer, seed):
    _assert_clean(fuzzer.run("data", seed), f"data:{seed}")


@pytest.mark.parametrize("case", fuzz.corpus_cases(), ids=lambda p: p.name)
def test_corpus_case(case: Path):
    """A reproducer saved by an earlier run: fixed ones stay fixed, known ones stay no worse."""
    _assert_clean(fuzz.replay(case), case.name)


def test_the_mutators_reach_every_command(fuzzer):
    """The job is only as good as its reach: mutants that check, that fail, and data that scores or fails."""
    from leadlang.check import load
    from leadlang.diagnostics import LeadError

    checked = failed = 0
    for seed in range(40):
        path, _ = fuzzer.policy_case(seed)
        try:
            load(path)
            checked += 1
        except LeadError:
            failed += 1
    assert checked >= 4 and failed >= 4, (checked, failed)
    formats = {suffix for seed in range(40) for suffix in {f.suffix for f in fuzzer.data_case(seed).data.iterdir()}}
    assert {".csv", ".jsonl", ".parquet"} <= formats


def test_a_hang_is_caught():
    import time

    with pytest.raises(fuzz.Hang):
        with fuzz.time_bound(1):
            time.sleep(3)
