"""Render test results as text for people or JUnit XML for CI."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Callable

from leadlang.testing.runner import TestResult


def text(results: list[tuple[Path, list[TestResult]]], paint: Callable[[str, str], str] | None = None, deselected: int = 0) -> str:
    """One line per test, failures with their expectations; `paint` colours PASS and FAIL (see `leadlang.term`)."""
    style = paint or (lambda text, role: text)
    lines: list[str] = []
    passed = failed = 0
    for path, tests in results:
        for r in tests:
            if r.passed:
                passed += 1
                lines.append(f"{style('PASS', 'pass')} {path}: {r.name}")
                continue
            failed += 1
            lines.append(f"{style('FAIL', 'fail')} {path}:{r.span.line}: {r.name}")
            for f in r.failures:
                lines.append(f"  line {f.span.line}: {f.expected}")
                lines.append(f"    actual: {f.actual}")
            lines.append(f"  fired: {', '.join(r.fired_text()) or 'nothing'}")
    lines.append(f"{passed} passed, {failed} failed" + (f", {deselected} deselected" if deselected else ""))
    return "\n".join(lines)


def junit(results: list[tuple[Path, list[TestResult]]], coverage: dict | None = None) -> str:
    """JUnit XML; with `coverage` (path -> `Coverage`), each suite gets coverage properties."""
    suites = ET.Element("testsuites")
    for path, tests in results:
        suite = ET.SubElement(suites, "testsuite", name=str(path), tests=str(len(tests)), failures=str(sum(not r.passed for r in tests)))
        if coverage and path in coverage:
            c = coverage[path]
            props = ET.SubElement(suite, "properties")
            for name, value in (("coverage", f"{c.percent:.1f}"), ("coverage.covered", len(c.covered)), ("coverage.items", len(c.items))):
                ET.SubElement(props, "property", name=name, value=str(value))
            for i in c.missed:
                ET.SubElement(props, "property", name="coverage.missed", value=f"{i.where}: {i.kind} {i.name}")
        for r in tests:
            case = ET.SubElement(suite, "testcase", classname=str(path), name=r.name, file=str(path), line=str(r.span.line))
            for f in r.failures:
                node = ET.SubElement(case, "failure", message=f.expected)
                node.text = f"line {f.span.line}: {f.expected}\nactual: {f.actual}\nfired: {', '.join(r.fired_text()) or 'nothing'}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


SCHEMA = "leadlang.test/1"


def to_json(results: list[tuple[Path, list[TestResult]]], coverage: dict | None = None, deselected: int = 0, broken: int = 0) -> str:
    """The report as JSON (schema `leadlang.test/1`, docs/cli.md): every test run, each expectation with
    what it found, the rules that fired with their points; with `coverage`, each policy's figures."""
    import json

    policies = []
    for path, tests in results:
        entry: dict = {"path": str(path), "tests": [_test_json(r) for r in tests]}
        if coverage and path in coverage:
            c = coverage[path]
            entry["coverage"] = {
                "percent": round(c.percent, 1),
                "covered": len(c.covered),
                "items": len(c.items),
                "missed": [{"kind": i.kind, "name": i.name, "line": i.span.line} for i in c.missed],
            }
        policies.append(entry)
    every = [r for _, tests in results for r in tests]
    summary = {"tests": len(every), "passed": sum(r.passed for r in every), "failed": sum(not r.passed for r in every),
               "deselected": deselected, "policies_with_errors": broken}
    return json.dumps({"schema": SCHEMA, "summary": summary, "policies": policies}, indent=2, ensure_ascii=False)


def _test_json(r: TestResult) -> dict:
    return {
        "name": r.name,
        "line": r.span.line,
        "passed": r.passed,
        "expectations": [{"line": e.span.line, "text": e.expected, "passed": e.passed, "actual": e.actual} for e in r.expectations],
        "fired": [{"rule": name, "points": None if points is None else str(points)} for name, points in r.fired],
    }
