"""The interpreter's steps, each compiled into a closure over a `LeadState`: signals, scores
(rules -> sum -> clamp -> round), bands, criteria, the gates, classifications and actions."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Callable

from leadlang.interpret import values as V
from leadlang.syntax import ast as A

if TYPE_CHECKING:
    from leadlang.interpret.state import LeadState

_ZERO = Decimal(0)


class Steps:
    """`Interpreter`'s part compiling `policy.steps` and the actions (`_step`, `_actions`)."""

    def _step(self, step) -> Callable[[LeadState], None]:
        p, name = self.policy, step.name
        if step.kind == "signal":
            f = self._compile(p.signals[name].expr, event=False)

            def signal(s):
                s.values[name] = f(s)
            return signal
        if step.kind == "score":
            return self._score(p.scores[name])
        if step.kind == "band":
            bands, band = p.bands[name], p.band_column(name)

            def band_step(s):
                s.values[band] = band_of(bands, s.values[name])
            return band_step
        if step.kind == "criteria":
            return self._criteria(p.criteria[name])
        if step.kind == "disqualify":
            return self._disqualify()
        return self._classify(p.classifications[name])

    def _actions(self, target: str, actions) -> Callable[[LeadState], None]:
        """The settings of every action of the label a lead landed on, in file order."""
        acts = [(a.label, [(st.key, st.value.value) for st in a.settings]) for a in actions.actions]

        def act(s):
            label = s.values[target]
            for when, settings in acts:
                if when == label:
                    for key, value in settings:
                        s.values[key] = value
        return act

    def _score(self, sc) -> Callable[[LeadState], None]:
        name, clamp = sc.name, sc.clamp
        low, high = (clamp.low, clamp.high) if clamp is not None else (None, None)
        if isinstance(sc, A.DerivedScore):
            f = self._compile(sc.expr, event=False)

            def derived(s):
                value = f(s)
                total = V.to_decimal(0 if value is None else value)
                if clamp is not None:
                    total = min(max(total, low), high)
                s.values[name] = V.round2(total)
            return derived
        # a `when` rule: (its condition, its points); a `per` rule: (None, the closure computing its points)
        rules = [(r, r.id, (name, r.id), *((self._compile(r.expr, event=False), r.points) if r.kind == "when" else (None, self._rule_points(r))))
                 for r in sc.rules]
        round2, why = V.round2, self.explain
        # every rule's points (a literal, a product `number` made, or a cap) fit: the partial sums need only a range check
        fits = all(V.fits(r.points) and (r.cap is None or V.fits(r.cap)) for r in sc.rules)
        add = V.add_numbers if fits else V.ARITHMETIC["+"]
        # and none at all when every rule's points are at most a known size (`when` points, a cap) summing below 10^18
        most = [abs(r.points) if r.kind == "when" else abs(r.cap) if r.cap is not None else None for r in sc.rules]
        if fits and None not in most and V.total(most) < V.NUMBER_LIMIT:
            add = V.exact_add

        def points_score(s):
            total = _ZERO
            for r, rid, fired, when, got in rules:
                if when is None:
                    points = got(s)
                elif when(s) is True:
                    points = got
                else:
                    continue
                if points:
                    try:
                        total = add(total, points)
                    except V.OutOfRange as err:
                        raise self._out_of_range(r, self._key(s), err) from None
                    s.fired.add(fired)
                    if why:
                        s.explain.append({"component": name, "kind": "rule", "rule": rid, "points": round2(points)})
            if clamp is not None:
                total = min(max(total, low), high)
            s.values[name] = round2(total)
        return points_score

    def _rule_points(self, r: A.Rule) -> Callable[[LeadState], Decimal]:
        """A `per` rule's points: its value times its points, capped at its `max`; 0 when the value is missing."""
        f, points, cap = self._compile(r.expr, event=False), r.points, r.cap
        times, to_decimal, scale = V.ARITHMETIC["*"], V.to_decimal, V.scale if V.fits(points) else None

        def per(s):
            value = f(s)
            if value is None:
                return _ZERO
            try:  # a count times points that fit needs no rounding
                got = scale(points, value) if scale and type(value) is int else times(points, to_decimal(value))
            except V.OutOfRange as err:
                raise self._out_of_range(r, self._key(s), err) from None
            if cap is not None and abs(got) > cap:
                got = cap if got > 0 else -cap
            return got
        return per

    def _criteria(self, cr: A.Criteria) -> Callable[[LeadState], None]:
        name, met_name = cr.name, self.policy.met_column(cr.name)
        members = [((cr.name, m.id), m.id, self._compile(m.cond, event=False)) for m in cr.members]
        need = len(cr.members) if cr.required is None else cr.required
        why = self.explain

        def criteria(s):
            met = 0
            for key, mid, cond in members:
                # A member whose condition is unknown did not fire: it reads as false.
                truth = cond(s) is True
                s.members[key] = truth
                if truth:
                    met += 1
                    s.fired.add(key)
                    if why:
                        s.explain.append({"component": name, "kind": "member", "rule": mid, "points": None})
            s.values[name] = met >= need
            s.values[met_name] = met
        return criteria

    def _disqualify(self) -> Callable[[LeadState], None]:
        gates = [(g.id, self._compile(g.cond, event=False)) for g in self.policy.gates]
        why = self.explain

        def disqualify(s):
            reason = None
            for gid, cond in gates:
                if cond(s) is True:
                    s.fired.add(("disqualify", gid))
                    if why:
                        s.explain.append({"component": "disqualify", "kind": "gate", "rule": gid, "points": None})
                    if reason is None:
                        reason = gid
            s.values["disqualified"] = reason is not None
            s.values["disqualify_reason"] = reason
        return disqualify

    def _classify(self, c) -> Callable[[LeadState], None]:
        name = c.name
        if isinstance(c, A.Matrix):
            rows_band, cols_band = self.policy.band_column(c.rows_score), self.policy.band_column(c.cols_score)
            cells = {(row.band, col): cell for row in c.rows for col, cell in zip(c.columns, row.cells)}

            def matrix(s):
                v = s.values
                v[name] = "disqualified" if v["disqualified"] else cells[(v[rows_band], v[cols_band])]
            return matrix
        branches = [(i, b.label, self._compile(b.cond, event=False)) for i, b in enumerate(c.branches)]
        otherwise, last = c.otherwise, len(c.branches)

        def classify(s):
            for i, label, cond in branches:
                if cond(s) is True:
                    s.branches[name] = i
                    s.values[name] = label
                    return
            s.branches[name] = last
            s.values[name] = otherwise
        return classify


def band_of(bands: A.Bands, score: Decimal) -> str:
    for b in bands.bands:
        if b.threshold is None or score >= b.threshold:
            return b.label
    return bands.bands[-1].label
