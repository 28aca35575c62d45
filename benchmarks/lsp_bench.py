"""How fast `leadlang lsp` answers a keystroke in a big policy with its diagnostics.

    python benchmarks/lsp_bench.py [--dir /tmp/leadlang-lsp] [--edits 20]

It prints figures and ratios; it never asserts a timing. It writes two policies of 300 rules
into `--dir` (30 scores of 10 rules with their signals and bands; one score of 300 rules), starts
`leadlang lsp` as a subprocess, drives it over stdio with pygls's client, opens each policy and
sends `--edits` keystrokes of three kinds, each an incremental `didChange` of one character:

* `valid`  a rule's points change (`+1` -> `+2`): the policy still checks;
* `typo`   a name in a rule loses a letter: the check's error (`E201`, `E204`) must come back;
* `fix`    the letter comes back: the error must clear.

The latency is the time from sending the change to the `publishDiagnostics` that answers it
(for `typo`: the first that holds the error; for `fix`: the first without it). The same-run
baseline is what a server that re-read the whole file would pay at each keystroke: `parse`
(whole file), `check` and `lint` timed in this process on the same text.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types as T
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from policy_size_bench import HEADER, rules  # noqa: E402


def scores(n_scores: int = 30, per: int = 10) -> str:
    """A policy of `n_scores` scores of `per` rules, each score with a signal and bands."""
    parts = [HEADER]
    for k in range(n_scores):
        parts.append(f'signal act{k} = count(product "login{k % 31}" in last {k % 60 + 1} days)')
        parts.append(f"score sc{k} clamp 0 to 100 {{")
        for j in range(per):
            parts.append(f'  r{j}: +{j + 1} when act{k} >= {j} and (employees between {j} and {j * 100 + 50} or country in ["US", "DE"])')
        parts.append("}")
        parts.append(f"bands sc{k} {{ high >= 60, mid >= 30, low otherwise }}\n")
    return "\n".join(parts) + "\n"


POLICIES = {"30 scores x 10 rules": ("scores300.lead", scores), "1 score x 300 rules": ("rules300.lead", lambda: rules(300))}


def baseline(text: str, path: str) -> dict[str, float]:
    """Seconds (best of 3) of a whole-file parse, a check and a lint of `text`, in this process."""
    from leadlang.check import check_module
    from leadlang.fs import WORK_TREE
    from leadlang.lint import lint
    from leadlang.syntax.parser import parse

    best: dict[str, float] = {}
    for _ in range(3):
        t0 = time.perf_counter()
        module = parse(text, path)
        t1 = time.perf_counter()
        policy = check_module(module, {path: text}, WORK_TREE)
        t2 = time.perf_counter()
        lint(policy)
        t3 = time.perf_counter()
        for k, v in (("parse", t1 - t0), ("check", t2 - t1), ("lint", t3 - t2)):
            best[k] = min(best.get(k, v), v)
    return best


class Bench:
    def __init__(self) -> None:
        self.client = LanguageClient("lsp-bench", "1")
        self.published: asyncio.Queue = asyncio.Queue()

        @self.client.feature(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def diagnostics(params: T.PublishDiagnosticsParams) -> None:
            self.published.put_nowait((time.perf_counter(), params))

        @self.client.feature(T.WINDOW_SHOW_MESSAGE)
        def show(params: T.ShowMessageParams) -> None:
            print("server says:", params.message, file=sys.stderr)

        @self.client.feature(T.WINDOW_LOG_MESSAGE)
        def log(params: T.LogMessageParams) -> None:
            print("server logs:", params.message, file=sys.stderr)

    async def start(self) -> None:
        await self.client.start_io(sys.executable, "-m", "leadlang", "lsp")
        await self.client.initialize_async(T.InitializeParams(capabilities=T.ClientCapabilities()))
        self.client.initialized(T.InitializedParams())

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()

    async def answer(self, uri: str, send, done) -> float:
        """Seconds from `send()` to the first publish for `uri` whose diagnostics satisfy `done`."""
        while not self.published.empty():
            self.published.get_nowait()
        start = time.perf_counter()
        send()
        while True:
            at, params = await asyncio.wait_for(self.published.get(), 120)
            if params.uri == uri and done(params.diagnostics):
                return at - start


def has_error(found) -> bool:
    """Whether the check found an error (E codes; lint's findings are L codes, some of them errors too)."""
    return any(str(d.code).startswith("E") for d in found)


async def run(directory: Path, edits: int) -> None:
    bench = Bench()
    await bench.start()
    try:
        for title, (name, make) in POLICIES.items():
            path = directory / name
            text = make()
            path.write_text(text, encoding="utf-8")
            uri = path.resolve().as_uri()
            base = baseline(text, str(path.resolve()))
            item = T.TextDocumentItem(uri=uri, language_id="lead", version=1, text=text)
            opened = await bench.answer(uri, lambda: bench.client.text_document_did_open(T.DidOpenTextDocumentParams(text_document=item)), lambda d: True)
            lines = text.split("\n")
            rule_lines = [i for i, line in enumerate(lines) if line.startswith("  r") and " when " in line]
            version = 1
            times: dict[str, list[float]] = {"valid": [], "typo": [], "fix": []}
            for n in range(edits):
                i = rule_lines[(n * 7919) % len(rule_lines)]
                line = lines[i]
                plus = line.index("+") + 1
                when = line.index(" when ") + 6  # the first letter of the name after `when`

                def change(start: int, end: int, new: str):
                    nonlocal version
                    version += 1
                    params = T.DidChangeTextDocumentParams(
                        text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=version),
                        content_changes=[T.TextDocumentContentChangePartial(
                            range=T.Range(start=T.Position(line=i, character=start), end=T.Position(line=i, character=end)), text=new)])
                    return lambda: bench.client.text_document_did_change(params)

                digit = line[plus]
                other = "2" if digit != "2" else "3"
                times["valid"].append(await bench.answer(uri, change(plus, plus + 1, other), lambda d: not has_error(d)))
                await bench.answer(uri, change(plus, plus + 1, digit), lambda d: not has_error(d))
                letter = line[when + 1]
                times["typo"].append(await bench.answer(uri, change(when + 1, when + 2, ""), has_error))
                times["fix"].append(await bench.answer(uri, change(when + 1, when + 1, letter), lambda d: not has_error(d)))
            print(f"{title}: {len(lines):,} lines, {len(text):,} bytes; open (parse, check, lint) {opened * 1000:.0f} ms")
            whole = base["parse"] + base["check"]
            print(f"  baseline in-process: whole-file parse {base['parse'] * 1000:.0f} ms, check {base['check'] * 1000:.0f} ms, "
                  f"lint {base['lint'] * 1000:.0f} ms (parse+check {whole * 1000:.0f} ms, +lint {(whole + base['lint']) * 1000:.0f} ms)")
            for kind, found in times.items():
                found.sort()
                median, p90 = statistics.median(found), found[int(0.9 * (len(found) - 1))]
                print(f"  keystroke {kind:5}: median {median * 1000:4.0f} ms, p90 {p90 * 1000:4.0f} ms, max {found[-1] * 1000:4.0f} ms"
                      f"  (x{median / whole:.2f} of a whole parse+check, x{median / (whole + base['lint']):.2f} of parse+check+lint)")
            bench.client.text_document_did_close(T.DidCloseTextDocumentParams(text_document=T.TextDocumentIdentifier(uri=uri)))
    finally:
        await bench.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/leadlang-lsp"))
    ap.add_argument("--edits", type=int, default=20)
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(run(args.dir, args.edits))


if __name__ == "__main__":
    main()
