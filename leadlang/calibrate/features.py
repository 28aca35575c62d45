"""The features calibrate fits on: per lead and per points score, one column per rule, from one DuckDB scoring pass.

A `when` rule's feature is 1 when its condition held, else 0; a `per` rule's is its value
after the cap (`+3 per visits, max 15` gives at most 5): the `value` of
`backtest.rules.contributions`, computed in the scoring query itself. The outcomes file is read
by `backtest`'s reader (`backtest.outcomes.register_outcomes`: the same formats, checks and
one-line errors), and the as-of time is backtest's: every event after it is ignored, so an
outcome cannot leak into a feature.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from leadlang.check.policy import Policy
from leadlang.diagnostics import DataError
from leadlang.syntax import ast as A


@dataclass
class Features:
    """Every lead of the data in key order: outcome, split, the scored columns and each points score's rule features."""

    keys: list[str]
    won: object  # numpy bool array
    holdout: object  # numpy bool array: never used for fitting
    columns: dict[str, object]  # output column -> numpy array (scores as float, labels as object)
    matrix: dict[str, object]  # points score -> numpy array leads x rules (the score's rules in order)
    scored: object = field(default=None, repr=False)  # the `backtest.rules.Contributions` they come from
    warnings: list[str] = field(default_factory=list)

    @property
    def train(self):
        return ~self.holdout


def in_holdout(keys: list[str], share: float, seed: int):
    """Each key's side of the split: a stable hash of `seed` and the key, so a lead stays on its side
    whatever the other leads, the file order or the machine."""
    import numpy as np

    salt = f"{seed}:".encode()
    cut = int(share * 2**64)
    return np.fromiter((int.from_bytes(hashlib.blake2b(salt + k.encode(), digest_size=8).digest(), "big") < cut for k in keys),
                       dtype=bool, count=len(keys))


def scored_columns(table, policy: Policy) -> dict[str, object]:
    """The score, band, classification and disqualified columns of a scored Arrow table as numpy arrays."""
    import numpy as np

    out = {}
    for o in policy.outputs:
        if o.role == "score":
            out[o.name] = np.array(table.column(o.name).cast("double").to_numpy(zero_copy_only=False), dtype=float)
        elif o.role in ("band", "classification", "disqualified"):
            out[o.name] = np.array(table.column(o.name).to_pylist(), dtype=object)
    return out


def load_features(policy: Policy, data_dir: Path, outcomes: Path, as_of: dt.datetime, holdout: float = 0.3, seed: int = 0) -> Features:
    """Score with every rule's contribution, read the outcomes and split: everything the fit and the report read."""
    import duckdb
    import numpy as np
    import pyarrow as pa

    from leadlang.backtest.outcomes import TABLE, register_outcomes
    from leadlang.backtest.rules import contributions

    if not Path(data_dir).is_dir():
        raise DataError(f"{data_dir}: no such data directory")
    con = duckdb.connect()
    try:
        register_outcomes(con, Path(outcomes), policy.key)
        c = contributions(policy, data_dir, as_of)
        keys = c.keys()
        con.register("__keys", pa.table({"key": keys, "ord": pa.array(range(len(keys)), pa.int64())}))
        won = np.zeros(len(keys), dtype=bool)
        for i, w in con.execute(f"SELECT k.ord, o.won FROM __keys AS k JOIN {TABLE} AS o ON k.key = o.key").fetchall():
            won[i] = bool(w)
        rows, unmatched = con.execute(f"SELECT count(*), count(*) FILTER (WHERE k.key IS NULL) FROM {TABLE} AS o LEFT JOIN __keys AS k ON o.key = k.key").fetchone()
    except duckdb.Error as err:
        raise DataError(f"calibrate could not read the outcomes: {str(err).splitlines()[0]}") from None
    finally:
        con.close()
    warnings = []
    if unmatched:
        warnings.append(f"{unmatched} of {rows} outcome rows have a {policy.key} that matches no lead in {data_dir}; they are not counted")
    matrix = {s: c.features(s)[1] for s, score in policy.scores.items() if isinstance(score, A.PointsScore)}
    return Features(keys=keys, won=won, holdout=in_holdout(keys, holdout, seed), columns=scored_columns(c.scored, policy),
                    matrix=matrix, scored=c, warnings=warnings)
