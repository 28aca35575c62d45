// Tokenize files with VS Code's own TextMate engine (vscode-textmate + vscode-oniguruma).
//
//   node test/tokenize.js < request.json > tokens.json
//
// The request is {"grammar": PATH, "files": [PATH, ...]}; the answer maps each file to its lines,
// each line a list of [start, end, scopes] tokens (offsets in UTF-16 code units of the line, as
// VS Code counts them). One process tokenizes every file, so the engine starts once.
"use strict";

const fs = require("fs");
const path = require("path");
const oniguruma = require("vscode-oniguruma");
const vsctm = require("vscode-textmate");

async function main() {
  const request = JSON.parse(fs.readFileSync(0, "utf8"));
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve("vscode-oniguruma")), "onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async () => vsctm.parseRawGrammar(fs.readFileSync(request.grammar, "utf8"), request.grammar),
  });
  const grammar = await registry.loadGrammar("source.lead");
  const answer = {};
  for (const file of request.files) {
    const text = fs.readFileSync(file, "utf8");
    let stack = vsctm.INITIAL;
    answer[file] = text.split(/\r?\n/).map((line) => {
      const result = grammar.tokenizeLine(line, stack);
      stack = result.ruleStack;
      return result.tokens.map((t, i) => [
        t.startIndex,
        Math.min(i + 1 < result.tokens.length ? result.tokens[i + 1].startIndex : line.length, line.length),
        t.scopes,
      ]).filter(([start, end]) => end > start);
    });
  }
  process.stdout.write(JSON.stringify(answer));
}

main().catch((err) => {
  process.stderr.write(`tokenize.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
