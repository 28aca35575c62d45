// The client (extension.js) against stand-ins for the `vscode` API and vscode-languageclient: prints, as
// JSON, what it did — the server command it started for each setting, the commands it registered,
// and the request "Show compiled SQL" sent and the document it opened. Run by tests/test_textmate.py.
"use strict";

const Module = require("module");
const path = require("path");

const log = { started: [], registered: [], requests: [], opened: [], errors: [] };
let settings = {};
let refusal = null; // the server's error response, when set

const vscode = {
  workspace: {
    getConfiguration: () => ({ get: (key) => settings[key] }),
    workspaceFolders: [{ uri: { fsPath: "/work/project" } }],
    createFileSystemWatcher: (glob) => ({ glob }),
    onDidChangeConfiguration: () => ({ dispose() {} }),
    openTextDocument: async (options) => options,
  },
  window: {
    activeTextEditor: { document: { languageId: "lead", uri: { toString: () => "file:///work/project/plg.lead" } } },
    showQuickPick: async (items) => items.find((item) => item.label === "snowflake"),
    showTextDocument: async (doc, options) => log.opened.push({ doc, beside: options.viewColumn === "beside" }),
    showErrorMessage: (message) => log.errors.push(message),
    showInformationMessage: (message) => log.errors.push(message),
  },
  commands: {
    registerCommand: (name, handler) => {
      log.registered.push(name);
      vscode.handlers[name] = handler;
      return { dispose() {} };
    },
    executeCommand: (name, ...args) => vscode.handlers[name](...args),
  },
  handlers: {},
  ViewColumn: { Beside: "beside" },
};

class LanguageClient {
  constructor(id, name, server, options) {
    log.started.push({ command: server.command, args: server.args, cwd: server.options.cwd, selector: options.documentSelector });
    this.running = false;
  }
  async start() { this.running = true; }
  async stop() { this.running = false; }
  isRunning() { return this.running; }
  async sendRequest(type, params) {
    log.requests.push({ type: type.method, params });
    if (refusal) throw new Error(refusal);
    return "SELECT 1;\n";
  }
}
// the protocol's own request type, as vscode-languageclient/node re-exports it
const { ExecuteCommandRequest } = require("vscode-languageserver-protocol");
const languageclient = { LanguageClient, ExecuteCommandRequest };

const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === "vscode") return vscode;
  if (request === "vscode-languageclient/node") return languageclient;
  return load.call(this, request, ...rest);
};

(async () => {
  const extension = require(path.join(__dirname, "..", "extension.js"));
  const context = { subscriptions: [] };
  await extension.activate(context);                         // the defaults: `leadlang lsp`
  settings = { path: "/venv/bin/leadlang" };
  await vscode.commands.executeCommand("leadlang.restartServer");
  settings = { path: "/venv/bin/leadlang", serverCommand: ["python", "-m", "leadlang", "lsp"] };
  await vscode.commands.executeCommand("leadlang.restartServer");
  await vscode.commands.executeCommand("leadlang.showCompiledSql");
  refusal = "the policy does not compile: plg.lead:12:22: error[E201]: unknown name `employes`";
  await vscode.commands.executeCommand("leadlang.showCompiledSql");
  await extension.deactivate();
  process.stdout.write(JSON.stringify(log));
})().catch((err) => {
  process.stderr.write(`client.js: ${err.stack || err}\n`);
  process.exit(1);
});
