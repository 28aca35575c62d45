"""Render test results as text for people or JUnit XML for CI."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Callable

from leadlang.testing.runner import TestResult


def text(results: list[tuple[Path, list[TestResult]]], paint: Callable[[str, str], str] | None = None) -> str:
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
            lines.append(f"  fired: {', '.join(r.fired) if r.fired else 'nothing'}")
    lines.append(f"{passed} passed, {failed} failed")
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
                node.text = f"line {f.span.line}: {f.expected}\nactual: {f.actual}\nfired: {', '.join(r.fired) or 'nothing'}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")
