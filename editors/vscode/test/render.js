// Render a .lead file as VS Code's Dark Modern theme colours its TextMate tokens, as HTML, for the
// screenshots of docs/editors.md:
//
//   node test/render.js FILE FIRST_LINE LAST_LINE > out.html
//   chromium --headless --screenshot=out.png --window-size=W,H out.html
"use strict";

const { execFileSync } = require("child_process");
const fs = require("fs");
const path = require("path");

// The first rule whose scope prefix matches a token's innermost-first scopes gives its colour.
const THEME = [
  ["comment", "#6A9955"],
  ["string", "#CE9178"],
  ["constant.character.escape", "#D7BA7D"],
  ["constant.numeric", "#B5CEA8"],
  ["constant.other", "#B5CEA8"],
  ["constant.language", "#569CD6"],
  ["keyword.other.unit", "#569CD6"],
  ["keyword.operator.word", "#569CD6"],
  ["keyword.operator.logical", "#569CD6"],
  ["keyword.operator", "#D4D4D4"],
  ["keyword", "#C586C0"],
  ["storage", "#569CD6"],
  ["support.type", "#4EC9B0"],
  ["support.function", "#DCDCAA"],
  ["entity.name.type", "#4EC9B0"],
  ["entity.name.function", "#DCDCAA"],
  ["entity.name.tag", "#9CDCFE"],
  ["entity.name", "#4EC9B0"],
  ["variable.language", "#569CD6"],
  ["variable", "#9CDCFE"],
  ["invalid", "#F44747"],
];

function colour(scopes) {
  for (const scope of [...scopes].reverse()) {
    const hit = THEME.find(([prefix]) => scope === prefix || scope.startsWith(prefix + "."));
    if (hit) return hit[1];
  }
  return "#D4D4D4";
}

const escape = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

const [file, first, last] = process.argv.slice(2);
const request = JSON.stringify({ grammar: path.join(__dirname, "..", "syntaxes", "lead.tmLanguage.json"), files: [file] });
const tokens = JSON.parse(execFileSync(process.execPath, [path.join(__dirname, "tokenize.js")], { input: request }))[file];
const lines = fs.readFileSync(file, "utf8").split(/\r?\n/);
const from = Number(first || 1) - 1;
const to = Number(last || lines.length);
const rows = lines.slice(from, to).map((line, i) => {
  const n = from + i;
  const spans = tokens[n].map(([s, e, scopes]) => `<span style="color:${colour(scopes)}">${escape(line.slice(s, e))}</span>`);
  return `<div><i>${n + 1}</i>${spans.join("") || " "}</div>`;
});
process.stdout.write(`<!doctype html><meta charset="utf-8"><style>
body { margin: 0; background: #1F1F1F; color: #D4D4D4; font: 14px/20px "DejaVu Sans Mono", monospace; padding: 12px 0; }
div { white-space: pre; } i { display: inline-block; width: 4em; padding-right: 1.5em; text-align: right; color: #6E7681; font-style: normal; }
</style>
${rows.join("\n")}
`);
